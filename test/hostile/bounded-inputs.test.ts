import { createServer } from 'node:net'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'

import { DeckhandError } from '../../actions/engine/errors.js'
import { Inputs } from '../../actions/engine/jobs/inputs.js'
import { COMMANDS } from '../../actions/spec.js'
import { copyFixture, DOUBLE_DIR, doubleEnv, readCalls } from '../support/deck-double.js'
import { runJob } from '../support/jobs.js'

/**
 * Numbers and paths from the command line reach deck, pg_dump and the file system only once they are known
 * to fit: `--timeout 99999999999999999999999` used to reach deck as `--timeout 1e+23`, and a plan-file naming
 * a directory failed only after the sync had changed the gateway.
 */

let dir: string
let gateway: string
let log: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deckhand-bounds-'))
  gateway = await copyFixture('enterprise.yaml', dir)
  log = join(dir, 'calls.jsonl')
})
afterEach(() => rm(dir, { recursive: true, force: true }))

const HUGE = '99999999999999999999999'
const connection = {
  'kong-addr': 'http://127.0.0.1:8001',
  'kong-admin-token': 'kong-admin-s3cret',
  'deck-path': join(DOUBLE_DIR, 'deck'),
}

/** Every integer input of every command. */
const integerInputs = Object.values(COMMANDS).flatMap((command) =>
  Object.entries(command.inputs)
    .filter(([, spec]) => spec.type === 'integer')
    .map(([name]) => [command.name, name] as const),
)

describe('numeric inputs', () => {
  test('every integer input names its range', () => {
    expect(integerInputs.length).toBeGreaterThan(10)
    for (const [command, name] of integerInputs) {
      const spec = COMMANDS[command]!.inputs[name]!
      expect([command, name, typeof spec.max]).toEqual([command, name, 'number'])
      expect(Number.isSafeInteger(spec.max)).toBe(true)
    }
  })

  test.each(integerInputs)(
    '%s %s refuses values past its range, with the name and range',
    (command, name) => {
      const spec = COMMANDS[command]!.inputs[name]!
      for (const value of [HUGE, String(spec.max! + 1), '1e3', '-1', '0x10', '2.5', '9007199254740993']) {
        let err: unknown
        try {
          new Inputs(COMMANDS[command]!.inputs, (input) => (input === name ? value : undefined))
        } catch (e) {
          err = e
        }
        expect(err).toBeInstanceOf(DeckhandError)
        expect((err as Error).message).toContain(`Input ${name} must be a whole number from `)
        expect((err as Error).message).toContain(` to ${spec.max}`)
      }
      const inputs = new Inputs(COMMANDS[command]!.inputs, (input) =>
        input === name ? String(spec.max) : undefined,
      )
      expect(
        name === 'max-deletes' || name === 'push-retries' ? inputs.count(name) : inputs.integer(name),
      ).toBe(spec.max)
    },
  )

  test('diff --timeout 99999999999999999999999 fails before deck runs', async () => {
    const state = join(dir, 'kong.yaml')
    await writeFile(state, '_format_version: "3.0"\nservices: []\n')
    const run = await runJob('diff', { ...connection, state, timeout: HUGE }, doubleEnv({ gateway, log }))
    expect(run.error).toBeInstanceOf(DeckhandError)
    expect((run.error as Error).message).toBe(
      `Input timeout must be a whole number from 1 to 3600 (seconds), got "${HUGE}"`,
    )
    expect(await readCalls(log)).toEqual([])
  })
})

describe('output paths', () => {
  test('a plan-file in a directory yet to be made is written there (the checks leave nothing behind)', async () => {
    const state = join(dir, 'kong.yaml')
    await writeFile(state, '_format_version: "3.0"\n_workspace: sandbox\nservices: []\n')
    const planFile = join(dir, 'out', 'plans', 'plan.json')
    const run = await runJob(
      'diff',
      { ...connection, state, 'plan-file': planFile },
      doubleEnv({ gateway, log }),
    )
    expect(run.error).toBeUndefined()
    expect(run.result!.outputs.plan).toBe(planFile)
    expect(await readdir(join(dir, 'out', 'plans'))).toEqual(['plan.json'])
    expect((await readdir(dir)).filter((f) => f.startsWith('.'))).toEqual([])
    expect((await readCalls(log)).some((c) => c.argv.includes('diff'))).toBe(true)
  })

  test('sync with a plan-file naming a directory is refused before anything is sent', async () => {
    const state = join(dir, 'kong.yaml')
    await writeFile(
      state,
      '_format_version: "3.0"\n_workspace: sandbox\nservices:\n- name: new-svc\n  host: new.internal\n',
    )
    const planDir = join(dir, 'plans')
    await mkdir(planDir)
    const before = await readFile(gateway, 'utf8')
    const run = await runJob(
      'sync',
      { ...connection, state, 'plan-file': planDir },
      doubleEnv({ gateway, log }),
    )
    expect(run.error).toBeInstanceOf(DeckhandError)
    expect((run.error as Error).message).toBe(
      `Input plan-file: ${planDir} is a directory; name a file to write, e.g. ${join(planDir, 'plan.json')}.`,
    )
    expect(await readCalls(log)).toEqual([])
    expect(await readFile(gateway, 'utf8')).toBe(before)
    expect(await readdir(planDir)).toEqual([])
    expect((await readdir(dir)).sort()).toEqual(['enterprise.yaml', 'kong.yaml', 'plans'])
  })

  test('diff with a plan-file under a regular file is refused before deck runs', async () => {
    const state = join(dir, 'kong.yaml')
    await writeFile(state, '_format_version: "3.0"\nservices: []\n')
    const blocker = join(dir, 'not-a-dir')
    await writeFile(blocker, 'x')
    const run = await runJob(
      'diff',
      { ...connection, state, 'plan-file': join(blocker, 'plan.json') },
      doubleEnv({ gateway, log }),
    )
    expect(run.error).toBeInstanceOf(DeckhandError)
    expect((run.error as Error).message).toMatch(/^Input plan-file: cannot write .*not-a-dir\/plan\.json/)
    expect(await readCalls(log)).toEqual([])
  })

  test('restore with an unwritable report-file is refused before the gateway is contacted', async () => {
    // A listener that records connections: nothing may reach it.
    let connections = 0
    const server = createServer((socket) => {
      connections++
      socket.destroy()
    })
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    const port = (server.address() as { port: number }).port
    try {
      const run = await runJob(
        'restore',
        {
          'kong-addr': `http://127.0.0.1:${port}`,
          state: join(dir, 'kong'),
          'wait-timeout': '1',
          'report-file': dir,
        },
        {},
      )
      expect(run.error).toBeInstanceOf(DeckhandError)
      expect((run.error as Error).message).toBe(
        `Input report-file: ${dir} is a directory; name a file to write, e.g. ${join(dir, 'restore-report.json')}.`,
      )
      expect(connections).toBe(0)
    } finally {
      await new Promise((done) => server.close(done))
    }
  })

  test('db-dump with an output-dir that is a file is refused before the database is contacted', async () => {
    const file = join(dir, 'backups')
    await writeFile(file, 'not a directory')
    const run = await runJob(
      'db-dump',
      {
        'database-url': 'postgres://kong:pw@127.0.0.1:1/kong',
        'output-dir': file,
        'upload-artifact': 'false',
      },
      {},
    )
    expect(run.error).toBeInstanceOf(DeckhandError)
    expect((run.error as Error).message).toBe(
      `Input output-dir: ${file} is a file, not a directory; name a directory to write into.`,
    )
    expect(await readFile(file, 'utf8')).toBe('not a directory')
  })
})
