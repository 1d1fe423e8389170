import { type ChildProcess, spawn } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals'

import { loadKongDatabase } from '../../script/kong-db.mjs'
import { type PostgresServer, startPostgres } from '../../script/servers.mjs'
import { ROOT } from '../support/action.js'
import { DOUBLE_DIR, doubleEnv } from '../support/deck-double.js'

/**
 * A stop (SIGINT from a terminal or a cancelled workflow, SIGTERM from a CI timeout) sent to the real
 * deckhand process: the programs it started stop with it, and what it wrote to its temporary folder
 * (deck's config file with header values, the pgpass file) is gone when it has exited.
 */

const HEADER_SECRET = 'X-Api-Key: hdr-Sup3rS3cret'

let dir: string
let temp: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deckhand-signals-'))
  temp = join(dir, 'tmp')
  await mkdir(temp)
})
afterEach(() => rm(dir, { recursive: true, force: true }))

/** Alive and not a zombie (a reparented child may wait a moment for its reaper). */
async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

function startCli(args: string[], env: Record<string, string>): ChildProcess & { ended: Promise<Ended> } {
  const child = spawn(process.execPath, [join(ROOT, 'dist/cli/index.js'), ...args], {
    env: { HOME: dir, TMPDIR: temp, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  child.stdout!.resume()
  const ended = new Promise<Ended>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  )
  return Object.assign(child, { ended })
}

interface Ended {
  code: number | null
  signal: NodeJS.Signals | null
  stderr: string
}

/** Processes whose environment points into the temporary folder: deckhand's children (PGPASSFILE). */
async function childrenUsingTemp(): Promise<number[]> {
  const pids: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '')
    if (environ.includes(`PGPASSFILE=${temp}/`) && (await alive(Number(entry)))) pids.push(Number(entry))
  }
  return pids
}

/** Everything under the temporary folder, recursively (what a stop left behind). */
async function leftovers(): Promise<string[]> {
  const found: string[] = []
  for (const entry of await readdir(temp, { recursive: true })) found.push(String(entry))
  return found
}

describe.each(['SIGTERM', 'SIGINT'] as const)('%s while deck runs', (signal) => {
  test('deck is stopped and its private config file (header values) removed', async () => {
    // A deck that records its pid, then hangs as the double does when told to.
    const pidFile = join(dir, 'deck.pid')
    const shim = join(dir, 'bin')
    await mkdir(shim)
    await writeFile(
      join(shim, 'deck'),
      `#!/bin/sh\ncase "$*" in *version*) ;; *) echo $$ > '${pidFile}' ;; esac\nexec '${join(DOUBLE_DIR, 'deck')}' "$@"\n`,
    )
    await chmod(join(shim, 'deck'), 0o755)
    const env = doubleEnv({ log: join(dir, 'calls.jsonl'), fail: 'hang' })
    const cli = startCli(
      [
        'dump',
        '--kong-addr',
        'http://127.0.0.1:9',
        '--deck-path',
        join(shim, 'deck'),
        '--output-dir',
        join(dir, 'kong'),
      ],
      { ...env, DECKHAND_HEADERS: HEADER_SECRET },
    )
    await waitFor('deck to start', async () => (await readFile(pidFile, 'utf8').catch(() => '')) !== '')
    const deckPid = Number((await readFile(pidFile, 'utf8')).trim())
    // deck's config file is there while deck runs: the thing a stop must not leave behind.
    const during = await leftovers()
    expect(during.some((p) => p.endsWith('deck.yaml'))).toBe(true)

    const sent = Date.now()
    cli.kill(signal)
    const ended = await cli.ended
    expect(Date.now() - sent).toBeLessThan(10_000)
    expect(ended.signal).toBe(signal)
    expect(ended.stderr).toContain(`stopped by ${signal}`)
    expect(ended.stderr).not.toContain('hdr-Sup3rS3cret')
    await waitFor('deck to exit', async () => !(await alive(deckPid)), 5000)
    expect(await leftovers()).toEqual([])
    // No half-written dump either.
    expect(await readdir(join(dir, 'kong')).catch(() => [])).toEqual([])
  }, 40_000)
})

describe('a stop during db-dump, on a real PostgreSQL', () => {
  let pg: PostgresServer
  beforeAll(async () => {
    pg = await startPostgres({ user: 'kong', password: 'pg-Pa55word' })
    await loadKongDatabase(pg, 'kong')
  }, 120_000)
  afterAll(() => pg?.stop())

  test('pg_dump and psql leave the database, and the pgpass file is removed', async () => {
    // A session holding a lock makes deckhand's own queries wait: the run is mid-way when stopped.
    const locker = spawn(join(pg.binDir, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1'], {
      env: { ...process.env, ...pg.env('kong'), PGAPPNAME: 'locker' },
      stdio: ['pipe', 'ignore', 'inherit'],
    })
    locker.stdin!.write('BEGIN; LOCK TABLE services IN ACCESS EXCLUSIVE MODE;\n')
    try {
      const others = async (): Promise<number> =>
        Number(
          await pg.psql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = 'kong' AND backend_type = 'client backend'" +
              " AND pid <> pg_backend_pid() AND application_name <> 'locker'",
          ),
        )
      await waitFor(
        'the lock',
        async () =>
          (await pg.psql(
            "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND relation = 'services'::regclass",
            'kong',
          )) === '1',
      )
      const before = await others()
      const out = join(dir, 'db-backup')
      const cli = startCli(['db-dump', '--output-dir', out, '--postgres-bin', pg.binDir, '--jobs', '2'], {
        PATH: process.env.PATH ?? '',
        DECKHAND_DATABASE_URL: pg.url('kong'),
      })
      // pg_dump and the row counts both wait on the lock: the incomplete backup folder exists by then.
      await waitFor(
        'deckhand to wait on the lock',
        async () => Number(await pg.psql('SELECT count(*) FROM pg_locks WHERE NOT granted', 'kong')) > 0,
      )
      expect((await readdir(out)).some((name) => name.includes('.partial-'))).toBe(true)
      expect((await leftovers()).some((p) => /pgpass/i.test(p))).toBe(true)
      expect((await childrenUsingTemp()).length).toBeGreaterThan(0)

      cli.kill('SIGTERM')
      const ended = await cli.ended
      expect(ended.signal).toBe('SIGTERM')
      expect(await leftovers()).toEqual([])
      await waitFor('psql and pg_dump to exit', async () => (await childrenUsingTemp()).length === 0, 5000)
      // A backend waiting on a lock notices its client is gone when the wait ends: then it goes too.
      locker.stdin!.write('ROLLBACK;\n')
      await waitFor('deckhand sessions to end', async () => (await others()) === before, 10_000)
      // Whatever was started is no backup, and its incomplete folder (credentials in it) is gone too.
      expect(await readdir(out).catch(() => [])).toEqual([])
    } finally {
      locker.stdin!.end('ROLLBACK;\n')
      await new Promise((resolve) => locker.on('close', resolve))
    }
  }, 60_000)
})
