// The database half of `npm run bench`: db-dump and db-restore against raw pg_dump and pg_restore doing the same
// work on the same throwaway server, in the same run. Set BENCH_DB=0 to skip, BENCH_DB_ROWS / BENCH_DB_CONFIG to
// change the size.
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { generateX25519Identity, identityToRecipient } from 'age-encryption'
import { KONG_RUNTIME_TABLES, loadKongDatabase } from './kong-db.mjs'
import { startPostgres } from './servers.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const RUNTIME_ROWS = Number(process.env.BENCH_DB_ROWS ?? 1_000_000)
const CONFIG_ENTITIES = Number(process.env.BENCH_DB_CONFIG ?? 50_000)

/** Runs a program to completion: its stdout, or an error with everything it printed. */
export function exec(program, args, env = {}, cwd = undefined) {
  return new Promise((resolve, reject) => {
    const p = spawn(program, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    p.stdout.on('data', (d) => (out += d))
    p.stderr.on('data', (d) => (err += d))
    p.on('error', reject)
    p.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${program} ${args[0]} exited ${code}: ${err}${out}`)),
    )
  })
}

/** Runs a bundled action as the runner does and returns its outputs. */
async function runAction(name, inputs, dir) {
  const output = join(dir, `output-${Math.random().toString(36).slice(2)}`)
  await writeFile(output, '')
  const env = { GITHUB_OUTPUT: output, RUNNER_TEMP: dir }
  for (const [key, value] of Object.entries(inputs)) env[`INPUT_${key.toUpperCase()}`] = value
  await exec(process.execPath, [join(root, 'dist', name, 'index.js')], env).catch((err) => {
    throw new Error(`${name}: ${err.message}`)
  })
  const outputs = {}
  const text = await readFile(output, 'utf8')
  for (const match of text.matchAll(/^([^<\n]+)<<(ghadelimiter_[^\n]+)\n([\s\S]*?)\n\2$/gm))
    outputs[match[1]] = match[3]
  await rm(output)
  return outputs
}

async function sizeOf(path) {
  const s = await stat(path)
  if (!s.isDirectory()) return s.size
  let total = 0
  for (const entry of await readdir(path)) total += await sizeOf(join(path, entry))
  return total
}

/** Best (lowest) wall time of `runs` runs; `prepare` runs untimed before each. */
async function best(runs, fn, prepare = async () => undefined) {
  let min = Infinity
  let last
  for (let i = 0; i < runs; i++) {
    await prepare()
    const t = performance.now()
    last = await fn()
    min = Math.min(min, performance.now() - t)
  }
  return { ms: min, last }
}

const ms = (value) => `${(value / 1000).toFixed(2)} s`
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`
const ratio = (a, b) => `${(a / b).toFixed(2)}x`

export async function benchDatabase({ runs = 3 } = {}) {
  const pg = await startPostgres({ user: 'kong' })
  const dir = await mkdtemp(join(tmpdir(), 'deckhand-bench-db-'))
  try {
    const loadStart = performance.now()
    const loaded = await loadKongDatabase(pg, 'kong', {
      configEntities: CONFIG_ENTITIES,
      runtimeRows: RUNTIME_ROWS,
    })
    await pg.psql('VACUUM ANALYZE', 'kong')
    const loadMs = performance.now() - loadStart
    const config = Number(
      await pg.psql(
        "SELECT sum(n_live_tup) FROM pg_stat_user_tables WHERE relname NOT IN ('cluster_events', 'ratelimiting_metrics', 'response_ratelimiting_metrics', 'clustering_data_planes', 'clustering_rpc_requests', 'locks', 'oauth2_authorization_codes', 'tags')",
        'kong',
      ),
    )
    const env = pg.env('kong')
    const bin = pg.binDir
    const url = pg.url('kong')
    const raw = join(dir, 'raw')
    const clear = (path) => () => rm(path, { recursive: true, force: true })

    const rawDump = {}
    const actionDump = {}
    for (const jobs of [1, 2]) {
      rawDump[jobs] = await best(
        runs,
        () => exec(join(bin, 'pg_dump'), ['-Fd', `-j${jobs}`, '-f', raw], env),
        clear(raw),
      )
      actionDump[jobs] = await best(
        runs,
        () =>
          runAction(
            'db-dump',
            {
              'database-url': url,
              profile: 'none',
              jobs: String(jobs),
              'output-dir': join(dir, `full-${jobs}`),
            },
            dir,
          ),
        clear(join(dir, `full-${jobs}`)),
      )
    }
    const kongDump = await best(
      runs,
      () =>
        runAction(
          'db-dump',
          { 'database-url': url, profile: 'kong', jobs: '2', 'output-dir': join(dir, 'kong') },
          dir,
        ),
      clear(join(dir, 'kong')),
    )
    // The profile's own effect, without deckhand: pg_dump leaving out the same tables' rows.
    const rawKong = await best(
      runs,
      () =>
        exec(
          join(bin, 'pg_dump'),
          [
            '-Fd',
            '-j2',
            '-f',
            join(dir, 'raw-kong'),
            ...KONG_RUNTIME_TABLES.map((t) => `--exclude-table-data=public.${t}`),
          ],
          env,
        ),
      clear(join(dir, 'raw-kong')),
    )
    // The same dump kept in a folder store (a mounted disk), as it is and encrypted with age (client-side),
    // taken in turns so that both see the same machine.
    const recipient = await identityToRecipient(await generateX25519Identity())
    const storeDir = join(dir, 'store')
    const storedDump = (extra) => async () => {
      await clear(join(dir, 'kong-s'))()
      await clear(storeDir)()
      const t = performance.now()
      const outputs = await runAction(
        'db-dump',
        {
          'database-url': url,
          profile: 'kong',
          jobs: '2',
          'output-dir': join(dir, 'kong-s'),
          store: storeDir,
          ...extra,
        },
        dir,
      )
      return { ms: performance.now() - t, last: outputs }
    }
    const stored = { ms: Infinity }
    const encrypted = { ms: Infinity }
    for (let i = 0; i < runs; i++) {
      for (const [into, run] of [
        [stored, storedDump({})],
        [encrypted, storedDump({ 'age-recipients': recipient })],
      ]) {
        const r = await run()
        if (r.ms < into.ms) Object.assign(into, r)
      }
    }
    if (encrypted.last.encrypted !== 'true') throw new Error('db-dump did not encrypt')
    const fullSize = await sizeOf(raw)
    const actionFullSize = Number(actionDump[2].last['size-bytes'])
    const kongSize = Number(kongDump.last['size-bytes'])

    // Restores into a new database each time; creating and dropping it is not timed.
    const fresh = (name) => async () => {
      await pg.psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await pg.psql(`CREATE DATABASE ${name}`)
    }
    const rawRestore = await best(
      runs,
      () => exec(join(bin, 'pg_restore'), ['-j2', '-d', 'raw_restore', raw], pg.env('raw_restore')),
      fresh('raw_restore'),
    )
    const actionRestore = await best(
      runs,
      () =>
        runAction(
          'db-restore',
          { 'database-url': pg.url('action_restore'), input: actionDump[2].last.path, jobs: '2' },
          dir,
        ),
      fresh('action_restore'),
    )
    if (actionRestore.last.verified !== 'true') throw new Error('db-restore did not verify')
    const kongRestore = await best(
      runs,
      () =>
        runAction(
          'db-restore',
          { 'database-url': pg.url('kong_restore'), input: kongDump.last.path, jobs: '2' },
          dir,
        ),
      fresh('kong_restore'),
    )

    return [
      `Database: a generated Kong 3.x-shaped PostgreSQL ${(await pg.psql('SHOW server_version')).split(' ')[0]} database of ${loaded.rows.toLocaleString('en')} rows ` +
        `(${config.toLocaleString('en')} in configuration tables, the rest in rate-limiting counters, cluster events and other runtime tables; ` +
        `loaded in ${ms(loadMs)}), on a throwaway server on loopback; best of ${runs} runs. The actions run as the runner runs them (node dist/<name>/index.js), start-up included.`,
      '',
      '| measurement | deckhand | floor | ratio | target |',
      '|---|---|---|---|---|',
      `| db-dump, directory format, profile none, 2 jobs (snapshot counts + checksums + pg_restore --list + sha256 + manifest) | ${ms(actionDump[2].ms)} | ${ms(rawDump[2].ms)} (pg_dump -Fd -j2) | ${ratio(actionDump[2].ms, rawDump[2].ms)} | at most 1.05x |`,
      `| db-dump, same, 1 job | ${ms(actionDump[1].ms)} | ${ms(rawDump[1].ms)} (pg_dump -Fd -j1) | ${ratio(actionDump[1].ms, rawDump[1].ms)} | at most 1.05x |`,
      `| db-restore of that dump, 2 jobs (checksums before, row counts and checksums after) | ${ms(actionRestore.ms)} | ${ms(rawRestore.ms)} (pg_restore -j2) | ${ratio(actionRestore.ms, rawRestore.ms)} | at most 1.05x |`,
      `| db-dump, profile kong, 2 jobs: time | ${ms(kongDump.ms)} | ${ms(actionDump[2].ms)} (profile none) | ${ratio(actionDump[2].ms, kongDump.ms)} faster | at least 5x |`,
      `| raw pg_dump -Fd -j2 leaving out the same runtime rows (the profile without deckhand) | ${ms(rawKong.ms)} | ${ms(rawDump[2].ms)} (pg_dump -Fd -j2, everything) | ${ratio(rawDump[2].ms, rawKong.ms)} faster | |`,
      `| db-dump, profile kong: size | ${mib(kongSize)} | ${mib(actionFullSize)} (profile none) | ${ratio(actionFullSize, kongSize)} smaller | at least 5x |`,
      `| db-dump, profile kong, 2 jobs, kept in a folder store (copied, checked, manifest last) | ${ms(stored.ms)} | ${ms(rawKong.ms)} (pg_dump -Fd -j2, same rows) | ${ratio(stored.ms, rawKong.ms)} | |`,
      `| the same, encrypted with age to one recipient before it is stored | ${ms(encrypted.ms)} | ${ms(stored.ms)} (stored unencrypted) | ${ratio(encrypted.ms, stored.ms)} | at most 1.10x |`,
      `| encrypted store against raw pg_dump | ${ms(encrypted.ms)} | ${ms(rawKong.ms)} (pg_dump -Fd -j2, same rows) | ${ratio(encrypted.ms, rawKong.ms)} | |`,
      `| db-restore of the kong-profile dump | ${ms(kongRestore.ms)} | ${ms(actionRestore.ms)} (full dump) | ${ratio(actionRestore.ms, kongRestore.ms)} faster | |`,
      `| -j 1 against -j 2: db-dump (profile none) | ${ms(actionDump[1].ms)} | ${ms(actionDump[2].ms)} (-j 2) | ${ratio(actionDump[1].ms, actionDump[2].ms)} | |`,
      '',
      `Raw pg_dump -Fd of the whole database: ${mib(fullSize)}.`,
    ]
  } finally {
    await pg.stop()
    await rm(dir, { recursive: true, force: true })
  }
}
