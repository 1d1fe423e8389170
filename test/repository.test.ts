import { describe, expect, test } from '@jest/globals'
import { execFile } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { parse } from 'yaml'

import { COMMANDS } from '../actions/spec.js'
import { ROOT } from './support/action.js'

const exec = promisify(execFile)

interface InputMetadata {
  required?: boolean
  default?: unknown
}

/**
 * The metadata file of a deckhand action a step uses: the published ones (deckhand/deckhand@v1,
 * deckhand/deckhand/actions/<name>@v1) and the checkout's (./, ./actions/<name>). Undefined for other actions.
 */
function deckhandAction(uses: string): string | undefined {
  const match =
    /^deckhand\/deckhand(?:\/actions\/([a-z-]+))?@/.exec(uses) ??
    /^\.\/(?:actions\/([a-z-]+)\/?)?$/.exec(uses)
  if (!match) return undefined
  return match[1] ? join('actions', match[1], 'action.yml') : 'action.yml'
}

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

  test('action.yml files and the generated docs match their sources', async () => {
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

  test("the root action describes a shared input by every command's meaning of it", async () => {
    const action = parse(await readFile(join(ROOT, 'action.yml'), 'utf8'))
    // commit's mode (push or pull request) and upgrade's (dual-cluster, in-place, rolling) are different inputs.
    const mode: string = action.inputs.mode.description
    expect(mode).toContain(`commit: ${COMMANDS.commit!.inputs.mode!.description}`)
    expect(mode).toContain(`upgrade: ${COMMANDS.upgrade!.inputs.mode!.description}`)
    // One meaning shared by every command that has the input stays as it is.
    expect(action.inputs['kong-admin-token'].description).toBe(
      COMMANDS.dump!.inputs['kong-admin-token']!.description,
    )
  })

  test('workflows use only inputs and outputs the actions declare, and every required input', async () => {
    // Workflows beside example programs (examples/pulumi-dr/) too; Pulumi.yaml files are not workflows. This
    // repository's own workflows run the actions from the checkout (uses: ./actions/<name>, ./ the root one).
    const examples = (await readdir(join(ROOT, 'examples'), { recursive: true }))
      .filter((f) => f.endsWith('.yml'))
      .map((f) => join('examples', f))
    const own = (await readdir(join(ROOT, '.github', 'workflows')))
      .filter((f) => f.endsWith('.yml'))
      .map((f) => join('.github', 'workflows', f))
    const files = [...examples, ...own]
    expect(files).toEqual(
      expect.arrayContaining([
        join('examples', 'dr-rebuild.yml'),
        join('examples', 'nightly-backup.yml'),
        join('.github', 'workflows', 'e2e.yml'),
      ]),
    )
    const used = new Set<string>()
    for (const name of files) {
      const text = await readFile(join(ROOT, name), 'utf8')
      const workflow = parse(text)
      for (const [jobId, job] of Object.entries(workflow.jobs) as [
        string,
        { steps?: { id?: string; uses?: string; with?: Record<string, unknown> }[] },
      ][]) {
        const outputsOf = new Map<string, string[]>()
        for (const step of job.steps ?? []) {
          const file = deckhandAction(step.uses ?? '')
          if (!file) continue
          used.add(`${name} ${file}`)
          const action = parse(await readFile(join(ROOT, file), 'utf8'))
          const where = { name, job: jobId, step: step.id ?? step.uses }
          for (const input of Object.keys(step.with ?? {}))
            expect({ ...where, input, known: input in action.inputs }).toEqual({
              ...where,
              input,
              known: true,
            })
          for (const [input, spec] of Object.entries(action.inputs) as [string, InputMetadata][]) {
            if (spec.required !== true || spec.default !== undefined) continue
            expect({ ...where, input, given: input in (step.with ?? {}) }).toEqual({
              ...where,
              input,
              given: true,
            })
          }
          if (step.id) outputsOf.set(step.id, Object.keys(action.outputs))
        }
        // Outputs read anywhere in the job's text; the ids of other jobs' steps are not in outputsOf.
        const jobText = JSON.stringify(job)
        for (const [, id, output] of jobText.matchAll(/steps\.([a-z0-9_-]+)\.outputs\.([a-z0-9-]+)/g)) {
          if (outputsOf.has(id!))
            expect({ name, job: jobId, id, output, known: outputsOf.get(id!)!.includes(output!) }).toEqual({
              name,
              job: jobId,
              id,
              output,
              known: true,
            })
        }
      }
    }
    // The local references resolve too: e2e.yml runs the actions from the checkout.
    expect([...used]).toEqual(
      expect.arrayContaining([
        `${join('.github', 'workflows', 'e2e.yml')} ${join('actions', 'restore', 'action.yml')}`,
        `${join('examples', 'dr-rebuild.yml')} ${join('actions', 'restore', 'action.yml')}`,
      ]),
    )
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
