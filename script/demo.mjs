// npm run demo: the disaster-recovery drill, end to end, on this machine.
// Starts a throwaway PostgreSQL, loads a Kong-shaped database, backs it up with `deckhand db-dump`, drops the
// database (the disaster), brings it back with `deckhand db-restore --create`, and prints what happened.
// Needs the PostgreSQL server and client (script/setup.sh installs them); leaves nothing running.
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { loadKongDatabase } from './kong-db.mjs'
import { startPostgres, stopAll } from './servers.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const cli = join(root, 'dist/cli/index.js')
const CONFIG_ENTITIES = Number(process.env.DEMO_CONFIG_ENTITIES ?? 5_000)
const RUNTIME_ROWS = Number(process.env.DEMO_RUNTIME_ROWS ?? 200_000)

/** What a user of the gateway would look at: its entities, counted. */
const ENTITY_COUNTS =
  "SELECT (SELECT count(*) FROM services) || ' services, ' || (SELECT count(*) FROM routes) || ' routes, ' || (SELECT count(*) FROM consumers) || ' consumers, ' || (SELECT count(*) FROM keyauth_credentials) || ' key-auth credentials'"

const step = (text) => process.stdout.write(`\n== ${text}\n`)

/** Runs the deckhand CLI as a user would; the database URL (with its password) goes through the environment. */
function deckhand(args, databaseUrl) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    execFile(
      process.execPath,
      [cli, ...args, '--json'],
      { env: { ...process.env, DECKHAND_DATABASE_URL: databaseUrl }, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        process.stdout.write(stderr.trimEnd().replace(/^/gm, '   ') + '\n')
        if (err) return reject(new Error(`deckhand ${args[0]} failed (exit ${err.code})`))
        resolve({ outputs: JSON.parse(stdout), ms: performance.now() - started })
      },
    )
  })
}

const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`
const secs = (ms) => `${(ms / 1000).toFixed(2)} s`
const n = (value) => Number(value).toLocaleString('en-US')

const work = await mkdtemp(join(tmpdir(), 'deckhand-demo-'))
let failed
const interrupt = () => {
  stopAll().finally(() => process.exit(130))
}
process.once('SIGINT', interrupt)
process.once('SIGTERM', interrupt)
try {
  step('Starting a throwaway PostgreSQL on 127.0.0.1')
  const pg = await startPostgres({ user: 'kong' })
  console.log(`   PostgreSQL on port ${pg.port}, data in a temporary directory`)

  step(
    `Loading a Kong database: ${n(CONFIG_ENTITIES)} configuration entities, ${n(RUNTIME_ROWS)} runtime rows`,
  )
  const loaded = await loadKongDatabase(pg, 'kong', {
    configEntities: CONFIG_ENTITIES,
    runtimeRows: RUNTIME_ROWS,
  })
  const before = await pg.psql(ENTITY_COUNTS, 'kong')
  console.log(`   ${n(loaded.rows)} rows in ${loaded.tables} tables: ${before}`)

  step('Backing up: deckhand db-dump (directory format, kong profile)')
  const dump = await deckhand(['db-dump', '--output-dir', join(work, 'backups')], pg.url('kong'))

  step('The disaster: DROP DATABASE kong')
  await pg.psql('DROP DATABASE kong WITH (FORCE)')
  console.log(
    `   databases left: ${await pg.psql("SELECT string_agg(datname, ', ') FROM pg_database WHERE NOT datistemplate")}`,
  )

  step('Restoring: deckhand db-restore --create (checksums first, row counts and checksums after)')
  const restore = await deckhand(['db-restore', '--input', dump.outputs.path, '--create'], pg.url('postgres'))
  const after = await pg.psql(ENTITY_COUNTS, 'kong')
  failed = restore.outputs.verified !== 'true' || after !== before

  step('Report')
  const rows = [
    ['database', `${n(loaded.rows)} rows, ${loaded.tables} tables`],
    ['backup', `${mib(Number(dump.outputs['size-bytes']))} in ${dump.outputs.path}`],
    [
      'db-dump',
      `${secs(Number(dump.outputs['duration-ms']))} (${n(dump.outputs.rows)} rows dumped; runtime rows skipped)`,
    ],
    ['db-restore', `${secs(Number(restore.outputs['duration-ms']))}`],
    ['rows checked', `${n(restore.outputs.rows)} in ${restore.outputs.tables} tables against the manifest`],
    ['configuration', after === before ? `identical: ${after}` : `DIFFERENT: ${after} (was ${before})`],
    ['result', failed ? 'FAILED' : 'restored and verified'],
  ]
  for (const [key, value] of rows) console.log(`   ${key.padEnd(14)} ${value}`)
} catch (err) {
  failed = true
  console.error(`\ndemo failed: ${err.message}`)
} finally {
  await stopAll()
  await rm(work, { recursive: true, force: true })
}
process.exitCode = failed ? 1 : 0
