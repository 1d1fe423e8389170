import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'

import { childEnv, run } from '../../actions/engine/process.js'
import { runBundledAction } from '../support/action.js'
import { DOUBLE_DIR, doubleEnv } from '../support/deck-double.js'

/**
 * No child process inherits deckhand's secrets by accident: the action's inputs (secret ones among them),
 * deckhand's own settings (`DECKHAND_DATABASE_URL`, `DECKHAND_GITHUB_TOKEN`, `DECKHAND_KONG_ADMIN_TOKEN`
 * as the CLI reads them) and the runner's tokens stay in deckhand's process.
 */

const PRIVATE = {
  DECKHAND_DATABASE_URL: 'postgres://kong:db-Pa55w0rd@db.internal/kong',
  DECKHAND_GITHUB_TOKEN: 'ghs_' + 'Zx9Qw3Ek7Rt5Yu1Io0PaSd4Fg6Hj8Kl2Mn',
  DECKHAND_KONG_ADMIN_TOKEN: 'kong-admin-s3cret',
  ACTIONS_RUNTIME_TOKEN: 'runtime-t0ken',
  GITHUB_TOKEN: 'ghs_' + 'Qw3Ek7Rt5Yu1Io0PaSd4Fg6Hj8Kl2MnZx9',
}

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deckhand-env-'))
})
afterEach(() => rm(dir, { recursive: true, force: true }))

describe('child environments', () => {
  test('childEnv drops inputs, deckhand settings and runner tokens, and keeps what the child is given', () => {
    const env = childEnv(
      { PATH: '/usr/bin', HOME: '/root', 'INPUT_KONG-ADMIN-TOKEN': 'x', DECK_CERT: 'kept', ...PRIVATE },
      { PGPASSFILE: '/tmp/p', HOME: undefined },
    )
    expect(env).toEqual({ PATH: '/usr/bin', DECK_CERT: 'kept', PGPASSFILE: '/tmp/p' })
  })

  test('run() hands a real child none of them', async () => {
    const saved = { ...process.env }
    Object.assign(process.env, PRIVATE, { 'INPUT_KONG-ADMIN-TOKEN': 'input-s3cret' })
    try {
      const result = await run(process.execPath, ['-e', 'process.stdout.write(JSON.stringify(process.env))'])
      const seen = JSON.parse(result.stdout) as Record<string, string>
      for (const key of [...Object.keys(PRIVATE), 'INPUT_KONG-ADMIN-TOKEN']) expect(seen[key]).toBeUndefined()
      expect(seen.PATH).toBe(process.env.PATH)
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
    }
  })

  test('deck, run by the bundled dump action, sees neither the inputs nor deckhand settings', async () => {
    // A deck that records its environment, then is the deck double.
    const shim = join(dir, 'bin')
    await mkdir(shim)
    const record = join(dir, 'deck-env')
    await writeFile(
      join(shim, 'deck'),
      `#!/bin/sh\nenv > '${record}'.$$\nexec '${join(DOUBLE_DIR, 'deck')}' "$@"\n`,
    )
    await chmod(join(shim, 'deck'), 0o755)
    const env = doubleEnv({ log: join(dir, 'calls.jsonl') })
    env.PATH = `${shim}:${env.PATH}`
    const run = await runBundledAction(
      'dump',
      {
        'kong-addr': 'http://127.0.0.1:8001',
        'kong-admin-token': 'kong-admin-s3cret',
        'all-workspaces': 'true',
        'output-dir': join(dir, 'kong'),
      },
      {
        env: {
          ...env,
          DECKHAND_DATABASE_URL: PRIVATE.DECKHAND_DATABASE_URL,
          DECKHAND_GITHUB_TOKEN: PRIVATE.DECKHAND_GITHUB_TOKEN,
          ACTIONS_RUNTIME_TOKEN: PRIVATE.ACTIONS_RUNTIME_TOKEN,
        },
      },
    )
    expect(run.exitCode).toBe(0)
    const files = (await readdir(dir)).filter((f) => f.startsWith('deck-env.'))
    const seen = await Promise.all(
      files.map(async (f) =>
        Object.fromEntries(
          (await readFile(join(dir, f), 'utf8'))
            .split('\n')
            .filter((line) => line.includes('='))
            .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
        ),
      ),
    )
    expect(seen.length).toBeGreaterThanOrEqual(1)
    for (const childEnv of seen) {
      expect(Object.keys(childEnv).filter((k) => /^(INPUT_|DECKHAND_|ACTIONS_)/.test(k))).toEqual([])
    }
    // The admin token reaches deck (the runs that talk to Kong) only as deck's own variable.
    expect(seen.some((env) => env.DECK_KONG_ADMIN_TOKEN === 'kong-admin-s3cret')).toBe(true)
  })
})
