// The Kestra recipe, end to end with the bundled actions: Kestra's PostgreSQL database (db-dump, db-restore) and its
// internal storage directory (files-backup, files-restore), which holds the namespace files, the KV store and the
// execution files that pg_dump never sees. Both are lost, then restored in the order docs/kestra.md gives, and compared
// with what was there before, row for row and byte for byte.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

import { type PostgresServer, startPostgres } from '../script/servers.mjs'
import { ROOT, maskedValues, recordingRunner, visibleLog } from './support/action.js'
import { tree } from './support/tree.js'
import { fingerprint } from './support/fingerprint.js'

const SCHEMA = join(ROOT, 'test/fixtures/kestra-db/schema.sql')
const SEED = join(ROOT, 'test/fixtures/kestra-db/seed.sql')

// Characters that need escaping in a URL and in .pgpass.
const PASSWORD = 'kestra:k3st@/ra\\pw'

/** Kestra's tables, plus Flyway's history of its migrations. */
const TABLES = [
  'dashboards',
  'execution_queued',
  'executions',
  'executordelayed',
  'executorstate',
  'flow_topologies',
  'flows',
  'flyway_schema_history',
  'logs',
  'metrics',
  'multipleconditions',
  'queues',
  'service_instance',
  'settings',
  'sla_monitor',
  'subflow_executions',
  'templates',
  'triggers',
  'worker_job_running',
]

/** The tables whose rows grow with every execution, which a lean backup may leave out. */
const HIGH_CHURN = ['logs', 'metrics', 'queues']

/** A few kilobytes that are not text: zeros, every byte value, an Ion binary version marker in front. */
const BINARY = Buffer.concat([
  Buffer.from([0xe0, 0x01, 0x00, 0xea]),
  Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + (i >> 7)) & 0xff)),
  Buffer.alloc(512),
])

const STORAGE_DIR = 'app/storage'
const NS = 'main/company/team'
const EXECUTION_FILES = `${NS}/daily-etl/executions/5Gc4m9CzqNDRvBUvW1z2pA/tasks/extract/6Hj2QxWZn0lYb3Cgq4c1Aa`

/** Kestra's local internal storage (storage.local.basePath), relative to it, with modes. */
const STORAGE: Record<string, { content: string | Buffer; mode: number }> = {
  // Namespace files: what flows read with namespaceFiles or read().
  [`${NS}/_files/scripts/etl.py`]: {
    content:
      'import csv\n\nwith open("orders.csv", "w") as out:\n    csv.writer(out).writerow(["id", "total"])\n',
    mode: 0o644,
  },
  [`${NS}/_files/scripts/run.sh`]: { content: '#!/bin/sh\nexec python scripts/etl.py "$@"\n', mode: 0o755 },
  [`${NS}/_files/queries/orders.sql`]: {
    content: 'SELECT id, total FROM orders WHERE day = current_date - 1;\n',
    mode: 0o644,
  },
  // The KV store: one Ion file per key.
  [`${NS}/_kv/api_url.ion`]: {
    content: '{value:"https://api.internal.example",expirationDate:null}',
    mode: 0o644,
  },
  [`${NS}/_kv/retries.ion`]: { content: '{value:3,expirationDate:null}', mode: 0o644 },
  // A KV value that is a private key: files-backup takes it for one.
  [`${NS}/_kv/deploy_key.ion`]: {
    content:
      '{value:"-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\\n-----END OPENSSH PRIVATE KEY-----\\n"}',
    mode: 0o600,
  },
  // Execution files: a task's outputs, referenced from the executions table as kestra:///… URIs.
  [`${EXECUTION_FILES}/orders.csv`]: { content: 'id,total\n1,19.90\n2,4.50\n', mode: 0o644 },
  [`${EXECUTION_FILES}/orders.ion`]: { content: BINARY, mode: 0o644 },
}
const STORAGE_FILES = Object.keys(STORAGE).sort()
const KEY_FILE = `${STORAGE_DIR}/${NS}/_kv/deploy_key.ion`
/** Folders with nothing in them, with modes: one made in Kestra's editor and left empty, and a new namespace's. */
const EMPTY_DIRS: Record<string, number> = {
  [`${NS}/_files/drafts`]: 0o750,
  'main/company/marketing': 0o700,
}

let pg: PostgresServer
let work: string
let storage: string
/** The steps run in `work`; everything they printed is checked for the password at the end. */
const { action, captured } = recordingRunner(() => work)

async function loadKestra(database: string): Promise<void> {
  await pg.psql(`CREATE DATABASE ${database}`)
  await pg.psqlFile(SCHEMA, database)
  await pg.psqlFile(SEED, database)
}

/** What the schema defines beyond the tables: enum labels, functions, generated columns, indexes, triggers. */
async function schemaOf(database: string): Promise<Record<string, string>> {
  const queries: Record<string, string> = {
    enums: `SELECT string_agg(t.typname || '(' || labels || ')', ' ' ORDER BY t.typname)
      FROM pg_type t JOIN LATERAL (SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) AS labels
      FROM pg_enum WHERE enumtypid = t.oid) e ON true WHERE t.typtype = 'e'`,
    functions: `SELECT string_agg(p.oid::regprocedure::text || ' ' || p.provolatile::text, ' '
      ORDER BY p.oid::regprocedure::text)
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'`,
    generated: `SELECT string_agg(table_name || '.' || column_name || ' = ' || generation_expression, E'\\n'
      ORDER BY table_name, column_name) FROM information_schema.columns
      WHERE table_schema = 'public' AND is_generated = 'ALWAYS'`,
    indexes: `SELECT string_agg(indexdef, E'\\n' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public'`,
    triggers: `SELECT string_agg(tgname || ' ON ' || tgrelid::regclass, ' ' ORDER BY tgname)
      FROM pg_trigger WHERE NOT tgisinternal`,
  }
  const out: Record<string, string> = {}
  for (const [name, sql] of Object.entries(queries)) out[name] = await pg.psql(sql, database)
  return out
}

const offsetOf = (database: string) =>
  pg.psql(
    `INSERT INTO queues (type, key, value) VALUES ('io.kestra.core.models.executions.Execution', 'after-restore',
     '{"id": "after-restore"}') RETURNING "offset"`,
    database,
  )

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'deckhand-kestra-test-'))
  storage = join(work, STORAGE_DIR)
  pg = await startPostgres({ user: 'kestra', password: PASSWORD })
  await loadKestra('kestra')
  for (const [path, { content, mode }] of Object.entries(STORAGE)) {
    await mkdir(dirname(join(storage, path)), { recursive: true })
    await writeFile(join(storage, path), content)
    await chmod(join(storage, path), mode)
  }
  for (const [path, mode] of Object.entries(EMPTY_DIRS)) {
    await mkdir(join(storage, path), { recursive: true })
    await chmod(join(storage, path), mode)
  }
}, 120_000)

afterAll(async () => {
  await pg?.stop()
  await rm(work, { recursive: true, force: true })
})

describe('Kestra: database and internal storage lost, then restored', () => {
  let source: Record<string, string>
  let schema: Record<string, string>
  let maxOffset: number
  let backup: string
  let archive: string

  it('db-dump takes every table with its rows; files-backup takes the whole internal storage', async () => {
    source = await fingerprint(pg, 'kestra')
    schema = await schemaOf('kestra')
    expect(Object.keys(source)).toEqual(TABLES)
    for (const table of TABLES)
      expect([table, source[table]]).not.toEqual([table, expect.stringMatching(/^0:/)])
    maxOffset = Number(await pg.psql('SELECT max("offset") FROM queues', 'kestra'))

    const dumped = await action('db-dump', {
      'database-url': pg.url('kestra'),
      profile: 'none',
      format: 'custom',
      'output-dir': 'db-backup',
      'upload-artifact': 'false',
    })
    expect(dumped.stderr).toBe('')
    expect(dumped.exitCode).toBe(0)
    expect(visibleLog(dumped.stdout)).not.toContain('::warning')
    backup = dumped.outputs.path!
    const manifest = JSON.parse(await readFile(dumped.outputs.manifest!, 'utf8'))
    expect(manifest).toMatchObject({ engine: 'postgres', database: 'kestra' })
    // The source's session time zone, which the restore runs in (the test server's is UTC).
    expect(manifest.dump).toMatchObject({
      format: 'custom',
      profile: 'none',
      excludedTableData: [],
      timeZone: 'UTC',
    })
    const dumpedRows = Object.fromEntries(
      manifest.tables.map((t: { table: string; rows: number; data: boolean }) => [
        t.table,
        t.data ? t.rows : -1,
      ]),
    )
    expect(dumpedRows).toEqual(
      Object.fromEntries(TABLES.map((table) => [table, Number(source[table]!.split(':')[0])])),
    )

    archive = join(work, 'kestra-storage.tar.gz')
    const files = await action('files-backup', {
      root: work,
      paths: storage,
      output: archive,
      // Namespace files and KV values may hold keys: without this, they would be left out of the backup.
      'include-secrets': 'true',
      'upload-artifact': 'false',
    })
    expect(files.exitCode).toBe(0)
    expect(files.outputs.files).toBe(String(STORAGE_FILES.length))
    expect(files.outputs['secrets-excluded']).toBe('')
    // The empty folders are in the archive too, with their modes.
    const { directories } = JSON.parse(await readFile(files.outputs.manifest!, 'utf8'))
    expect(directories).toEqual(
      Object.entries(EMPTY_DIRS)
        .map(([path, mode]) => ({ path: `${STORAGE_DIR}/${path}`, mode: `0${mode.toString(8)}` }))
        .sort((a, b) => (a.path < b.path ? -1 : 1)),
    )
    expect(files.summary).toContain(`and ${Object.keys(EMPTY_DIRS).length} empty directory(ies) into`)
  })

  it('after the database is dropped and the storage wiped, db-restore then files-restore bring both back', async () => {
    // The disaster.
    await pg.psql('DROP DATABASE kestra')
    await rm(storage, { recursive: true, force: true })
    expect(await pg.psql(`SELECT count(*) FROM pg_database WHERE datname = 'kestra'`)).toBe('0')
    expect(await tree(storage)).toEqual([])

    // The order docs/kestra.md gives: the database first, into a fresh empty one, then the internal storage.
    await pg.psql('CREATE DATABASE kestra')
    const restored = await action('db-restore', { 'database-url': pg.url('kestra'), input: backup })
    expect(restored.stderr).toBe('')
    expect(restored.exitCode).toBe(0)
    expect(restored.outputs).toMatchObject({
      database: 'kestra',
      tables: String(TABLES.length),
      verified: 'true',
    })

    const files = await action('files-restore', { input: archive, target: work })
    expect(files.exitCode).toBe(0)
    expect(files.outputs).toEqual({
      files: String(STORAGE_FILES.length),
      unchanged: '0',
      verified: 'true',
    })
    expect(files.summary).toContain(
      `Created ${Object.keys(EMPTY_DIRS).length} empty directory(ies) of the backup; 0 already there.`,
    )
  })

  it('every table holds the same rows, and the schema is whole: enums, functions, generated columns, indexes', async () => {
    expect(await fingerprint(pg, 'kestra')).toEqual(source)
    expect(await schemaOf('kestra')).toEqual(schema)
  })

  it('the restored database works as Kestra uses it', async () => {
    // The queue's serial goes on after the restored offsets: no message reuses one.
    expect(await offsetOf('kestra')).toBe(String(maxOffset + 1))

    // Generated columns are computed for new rows, through the restored functions and enum types.
    await pg.psql(
      `INSERT INTO flows (key, value, source_code) VALUES ('main_company.team_after-restore_1',
       '{"id": "after-restore", "namespace": "company.team", "tenantId": "main", "revision": 1, "deleted": false}',
       'id: after-restore')`,
      'kestra',
    )
    expect(
      await pg.psql(
        `SELECT id || '|' || namespace || '|' || revision || '|' || deleted || '|' || tenant_id FROM flows
         WHERE key = 'main_company.team_after-restore_1'`,
        'kestra',
      ),
    ).toBe('after-restore|company.team|1|false|main')
    await pg.psql(
      `INSERT INTO executions (key, value) VALUES ('0zZ9yY8xX7wW6vV5uU4tT3', '{"id": "0zZ9yY8xX7wW6vV5uU4tT3",
       "namespace": "company.team", "flowId": "after-restore", "tenantId": "main", "deleted": false,
       "state": {"current": "SUCCESS", "startDate": "2025-06-03T02:00:00Z", "endDate": "2025-06-03T02:00:02.5Z",
       "duration": "PT2.5S"}}')`,
      'kestra',
    )
    expect(
      await pg.psql(
        `SELECT state_current || '|' || state_duration || '|' || start_date FROM executions
         WHERE key = '0zZ9yY8xX7wW6vV5uU4tT3'`,
        'kestra',
      ),
    ).toBe('SUCCESS|2500|2025-06-03 02:00:00')
    // A state Kestra does not know is refused by the enum, as before.
    await expect(
      pg.psql(
        `INSERT INTO executions (key, value) VALUES ('bad', '{"id": "bad", "namespace": "n", "flowId": "f",
         "deleted": false, "state": {"current": "EXPLODED", "startDate": "2025-06-03T02:00:00Z", "duration": "PT0S"}}')`,
        'kestra',
      ),
    ).rejects.toThrow(/invalid input value for enum state_type: "EXPLODED"/)

    // Full-text search (the UI's search box) finds the restored flows through the GIN index's function.
    expect(
      await pg.psql(
        `SELECT string_agg(DISTINCT id, ',' ORDER BY id) FROM flows
         WHERE NOT deleted AND fulltext @@ fulltext_search('daily etl')`,
        'kestra',
      ),
    ).toBe('daily-etl')
    // The updated triggers fire.
    expect(
      await pg.psql(
        `UPDATE dashboards SET value = value || '{"description": "edited"}' WHERE id = 'ops-overview'
         RETURNING updated > created`,
        'kestra',
      ),
    ).toBe('t')
  })

  it('every storage file has its bytes and mode again: namespace files, KV, execution files, empty folders', async () => {
    expect(await tree(storage)).toEqual(STORAGE_FILES)
    for (const path of STORAGE_FILES) {
      const { content, mode } = STORAGE[path]!
      const bytes = await readFile(join(storage, path))
      expect({ path, same: bytes.equals(Buffer.from(content)) }).toEqual({ path, same: true })
      expect({ path, mode: (await stat(join(storage, path))).mode & 0o7777 }).toEqual({ path, mode })
    }
    expect(await readFile(join(storage, NS, '_files/scripts/etl.py'), 'utf8')).toContain('import csv')
    expect(await readFile(join(storage, NS, '_kv/api_url.ion'), 'utf8')).toBe(
      '{value:"https://api.internal.example",expirationDate:null}',
    )
    expect((await readFile(join(storage, EXECUTION_FILES, 'orders.ion'))).equals(BINARY)).toBe(true)
    // Folders left empty come back, empty, with their modes.
    for (const [path, mode] of Object.entries(EMPTY_DIRS)) {
      expect({ path, entries: await readdir(join(storage, path)) }).toEqual({ path, entries: [] })
      expect({ path, mode: (await stat(join(storage, path))).mode & 0o7777 }).toEqual({ path, mode })
    }
  })

  it('db-restore refuses a database that already holds Kestra’s tables and changes nothing; clean replaces them', async () => {
    // A Kestra that came up on its own and moved on: its flows table has a revision the backup lacks.
    await loadKestra('kestra_live')
    await pg.psql(
      `INSERT INTO flows (key, value, source_code) VALUES ('main_company.team_daily-etl_3',
       '{"id": "daily-etl", "namespace": "company.team", "tenantId": "main", "revision": 3, "deleted": false}',
       'id: daily-etl')`,
      'kestra_live',
    )
    const live = await fingerprint(pg, 'kestra_live')
    const liveSchema = await schemaOf('kestra_live')

    const refused = await action('db-restore', { 'database-url': pg.url('kestra_live'), input: backup })
    expect(refused.exitCode).not.toBe(0)
    expect(visibleLog(refused.stdout)).toContain(
      'already holds tables: set clean to replace them, or restore into an empty database. Nothing was changed.',
    )
    expect(refused.outputs.verified).toBeUndefined()
    expect(await fingerprint(pg, 'kestra_live')).toEqual(live)
    expect(await schemaOf('kestra_live')).toEqual(liveSchema)

    // With create, a database of the backup's name that exists is refused the same way.
    const restored = await fingerprint(pg, 'kestra')
    const exists = await action('db-restore', {
      'database-url': pg.url('postgres'),
      input: backup,
      create: 'true',
    })
    expect(exists.exitCode).not.toBe(0)
    expect(visibleLog(exists.stdout)).toContain('Database kestra already exists')
    expect(visibleLog(exists.stdout)).toContain('Nothing was changed.')
    expect(await fingerprint(pg, 'kestra')).toEqual(restored)

    const replaced = await action('db-restore', {
      'database-url': pg.url('kestra_live'),
      input: backup,
      clean: 'true',
    })
    expect(replaced.exitCode).toBe(0)
    expect(replaced.outputs.verified).toBe('true')
    expect(await fingerprint(pg, 'kestra_live')).toEqual(source)
    expect(await schemaOf('kestra_live')).toEqual(schema)
  })
})

describe('lean backups and the defaults a Kestra user meets', () => {
  it('exclude-table-data leaves out the rows of logs, metrics and queues; the restore has them empty', async () => {
    await loadKestra('kestra_lean_source')
    const full = await fingerprint(pg, 'kestra_lean_source')
    const dumped = await action('db-dump', {
      'database-url': pg.url('kestra_lean_source'),
      profile: 'none',
      'exclude-table-data': HIGH_CHURN.map((t) => `public.${t}`).join('\n'),
      format: 'directory',
      'output-dir': 'db-backup-lean',
      'upload-artifact': 'false',
    })
    expect(dumped.exitCode).toBe(0)
    const manifest = JSON.parse(await readFile(dumped.outputs.manifest!, 'utf8'))
    expect(manifest.dump.excludedTableData).toEqual(HIGH_CHURN.map((t) => `public.${t}`))
    expect(
      manifest.tables.filter((t: { data: boolean }) => !t.data).map((t: { table: string }) => t.table),
    ).toEqual(HIGH_CHURN)
    expect(dumped.summary).toMatch(/rows of 3 runtime table\(s\) left out \(logs, metrics, queues;/)

    await pg.psql('CREATE DATABASE kestra_lean')
    const restored = await action('db-restore', {
      'database-url': pg.url('kestra_lean'),
      input: dumped.outputs.path!,
    })
    expect(restored.exitCode).toBe(0)
    expect(restored.outputs.verified).toBe('true')
    const lean = await fingerprint(pg, 'kestra_lean')
    for (const table of TABLES)
      expect([table, lean[table]]).toEqual([table, HIGH_CHURN.includes(table) ? '0:' : full[table]])
    // pg_dump keeps the serial's value without the rows: offsets go on past the messages left out, none is reused.
    const max = Number(await pg.psql('SELECT max("offset") FROM queues', 'kestra_lean_source'))
    expect(await offsetOf('kestra_lean')).toBe(String(max + 1))
  })

  it('the default kong profile skips nothing on a Kestra database, and warns to use profile none', async () => {
    const dumped = await action('db-dump', {
      'database-url': pg.url('kestra_lean_source'),
      format: 'custom',
      'output-dir': 'db-backup-default',
      'upload-artifact': 'false',
    })
    expect(dumped.exitCode).toBe(0)
    expect(visibleLog(dumped.stdout)).toMatch(
      /::warning.*does not look like Kong's \(no schema_meta table\): the kong profile skipped nothing\. Use profile none/,
    )
    const manifest = JSON.parse(await readFile(dumped.outputs.manifest!, 'utf8'))
    expect(manifest.dump).toMatchObject({ profile: 'kong', excludedTableData: [] })
  })

  describe('time zones', () => {
    const startDates = `SELECT string_agg(start_date::text, ',' ORDER BY key) FROM executions`
    let backup: string

    beforeAll(async () => {
      // A server whose default is not the UTC Kestra wrote in.
      await pg.psql('CREATE DATABASE kestra_paris')
      await pg.psql(`ALTER DATABASE kestra_paris SET timezone = 'Europe/Paris'`)
      const dumped = await action('db-dump', {
        'database-url': pg.url('kestra_lean_source'),
        profile: 'none',
        format: 'custom',
        'output-dir': 'db-backup-tz',
        'upload-artifact': 'false',
      })
      expect(dumped.exitCode).toBe(0)
      backup = dumped.outputs.path!
    })

    it('a restore into a database whose default time zone is another runs in the dump’s: Kestra’s execution dates come back as they were', async () => {
      // executions.start_date and end_date are TIMESTAMP columns generated from the JSON's instants, so a restore
      // computes them again in its session's time zone: the one db-dump recorded, not the target's default.
      expect(await pg.psql('SHOW TimeZone', 'kestra_paris')).toBe('Europe/Paris')
      expect(JSON.parse(await readFile(join(backup, 'manifest.json'), 'utf8')).dump.timeZone).toBe('UTC')
      const restored = await action('db-restore', { 'database-url': pg.url('kestra_paris'), input: backup })
      expect(restored.exitCode).toBe(0)
      expect(restored.outputs.verified).toBe('true')
      expect(restored.summary).toContain(
        "Session time zone: UTC, the source's, recorded at dump time; the target's default is Europe/Paris.",
      )
      expect(await fingerprint(pg, 'kestra_paris')).toEqual(await fingerprint(pg, 'kestra_lean_source'))
    })

    it('a PGTZ in the environment wins over the recorded zone: in Europe/Paris the dates shift, verification fails, and the shifted copy does not replace the database', async () => {
      const shifted = await action(
        'db-restore',
        { 'database-url': pg.url('kestra_paris'), input: backup, clean: 'true' },
        { PGTZ: 'Europe/Paris' },
      )
      expect(shifted.exitCode).not.toBe(0)
      const log = visibleLog(shifted.stdout)
      expect(log).toContain('Session time zone: Europe/Paris, from PGTZ (the backup was dumped in UTC).')
      expect(log).toMatch(
        /::error::The restored copy differs from the backup's manifest in 1 table\(s\), so it did not replace kestra_paris\./,
      )
      expect(log).toMatch(/The restore ran in time zone Europe\/Paris \(PGTZ\), the dump in UTC/)
      expect(log).toContain(
        'public.executions: expected the dumped rows, found same count, different content',
      )
      expect(log).toContain('The database kestra_paris was not changed')
      // Still what the previous restore, in the recorded zone, put there.
      expect(await pg.psql(startDates, 'kestra_paris')).toBe(await pg.psql(startDates, 'kestra_lean_source'))
    })

    it('a backup whose manifest records no time zone (an older db-dump) restores in the target’s default, as before', async () => {
      const old = join(work, 'db-backup-tz-old')
      await cp(backup, old, { recursive: true })
      const manifest = JSON.parse(await readFile(join(old, 'manifest.json'), 'utf8'))
      delete manifest.dump.timeZone
      await writeFile(join(old, 'manifest.json'), JSON.stringify(manifest))

      const restored = await action('db-restore', {
        'database-url': pg.url('kestra_paris'),
        input: old,
        clean: 'true',
      })
      expect(restored.exitCode).not.toBe(0)
      const log = visibleLog(restored.stdout)
      expect(log).toContain(
        "Session time zone: Europe/Paris, the target's default: the backup records no time zone.",
      )
      expect(log).toMatch(
        /::error::The restored copy differs.*set PGTZ to the source's zone and restore again/,
      )
      expect(log).toContain('The database kestra_paris was not changed')
      expect(await pg.psql(startDates, 'kestra_paris')).toBe(await pg.psql(startDates, 'kestra_lean_source'))
    })
  })

  it('files-backup without include-secrets leaves out a KV value holding a private key, and names it', async () => {
    const run = await action('files-backup', {
      root: work,
      paths: storage,
      output: join(work, 'kestra-storage-default.tar.gz'),
      'upload-artifact': 'false',
    })
    expect(run.exitCode).toBe(0)
    expect(run.outputs['secrets-excluded']).toBe(KEY_FILE)
    expect(run.outputs.files).toBe(String(STORAGE_FILES.length - 1))
    expect(run.summary).toContain(KEY_FILE)
  })
})

describe('secrets', () => {
  it('the database password appears in no output, and every action asked the runner to mask it', () => {
    expect(captured.length).toBeGreaterThan(20)
    const visible = captured.map(visibleLog).join('\n')
    for (const secret of [PASSWORD, encodeURIComponent(PASSWORD)]) expect(visible).not.toContain(secret)
    expect(captured.some((text) => maskedValues(text).includes(PASSWORD))).toBe(true)
  })
})
