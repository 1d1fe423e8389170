import { describe, expect, test } from '@jest/globals'
import { execFile } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { parse } from 'yaml'

import { COMMANDS } from '../actions/spec.js'
import { ROOT } from './support/action.js'

const exec = promisify(execFile)

async function sources(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await sources(path)))
    else if (entry.name.endsWith('.ts')) out.push(path)
  }
  return out
}

describe('repository', () => {
  test('dist/ is what npm run package builds from the sources', async () => {
    await expect(
      exec(process.execPath, [join(ROOT, 'script/build.mjs'), '--check'], { cwd: ROOT }),
    ).resolves.toBeDefined()
  })

  test('action.yml files and README tables are generated from actions/spec.ts', async () => {
    await expect(
      exec(process.execPath, [join(ROOT, 'script/docs.mjs'), '--check'], { cwd: ROOT }),
    ).resolves.toBeDefined()
  })

  test.each(Object.keys(COMMANDS))(
    'actions/%s/action.yml declares exactly the spec and runs node24 from dist',
    async (name) => {
      const action = parse(await readFile(join(ROOT, 'actions', name, 'action.yml'), 'utf8'))
      expect(Object.keys(action.inputs).sort()).toEqual(Object.keys(COMMANDS[name]!.inputs).sort())
      expect(Object.keys(action.outputs).sort()).toEqual(Object.keys(COMMANDS[name]!.outputs).sort())
      expect(action.runs).toEqual({ using: 'node24', main: `../../dist/${name}/index.js` })
      await expect(readFile(join(ROOT, 'actions', name, action.runs.main))).resolves.toBeDefined()
    },
  )

  test('the root action takes command plus every input of every command', async () => {
    const action = parse(await readFile(join(ROOT, 'action.yml'), 'utf8'))
    expect(action.inputs.command.required).toBe(true)
    for (const spec of Object.values(COMMANDS)) {
      for (const input of Object.keys(spec.inputs)) expect(action.inputs).toHaveProperty([input])
    }
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/main/index.js' })
  })

  test('example workflows use only inputs and outputs the actions declare', async () => {
    const dir = join(ROOT, 'examples')
    // Workflows beside example programs (examples/pulumi-dr/) too; Pulumi.yaml files are not workflows.
    const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.yml'))
    expect(files.length).toBeGreaterThan(0)
    for (const name of files) {
      const text = await readFile(join(dir, name), 'utf8')
      const workflow = parse(text)
      for (const job of Object.values(workflow.jobs) as {
        steps: { id?: string; uses?: string; with?: object }[]
      }[]) {
        const outputsOf = new Map<string, string[]>()
        for (const step of job.steps) {
          const match = /^deckhand\/deckhand(?:\/actions\/([a-z-]+))?@/.exec(step.uses ?? '')
          if (!match) continue
          const action = parse(
            await readFile(join(ROOT, match[1] ? `actions/${match[1]}/action.yml` : 'action.yml'), 'utf8'),
          )
          for (const input of Object.keys(step.with ?? {}))
            expect({ name, input, known: input in action.inputs }).toEqual({ name, input, known: true })
          if (step.id) outputsOf.set(step.id, Object.keys(action.outputs))
        }
        for (const [, id, output] of text.matchAll(/steps\.([a-z0-9_-]+)\.outputs\.([a-z0-9-]+)/g)) {
          if (outputsOf.has(id!))
            expect({ name, output, known: outputsOf.get(id!)!.includes(output!) }).toEqual({
              name,
              output,
              known: true,
            })
        }
      }
    }
  })

  test('the engine imports nothing from @actions, and the CLI bundle carries none of it', async () => {
    for (const file of await sources(join(ROOT, 'actions', 'engine'))) {
      expect({ file, imports: /from '@actions\//.test(await readFile(file, 'utf8')) }).toEqual({
        file,
        imports: false,
      })
    }
    const cli = await readFile(join(ROOT, 'dist', 'cli', 'index.js'), 'utf8')
    expect(cli).not.toMatch(/::set-output|GITHUB_STEP_SUMMARY|@actions\/core/)
  })
})
