import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { chmod, copyFile, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { KONG_RUNTIME_TABLES, loadKongDatabase } from '../script/kong-db.mjs'
import {
  type PostgresServer,
  type RedisServer,
  startPostgres,
  startRedis,
  startRedisFromRdb,
} from '../script/servers.mjs'
import { sessionTimeZone } from '../actions/engine/postgres/time-zone.js'
import { ROOT, maskedValues, recordingRunner, visibleLog } from './support/action.js'
import { startArtifactService } from './support/artifact-service.js'
import { fingerprint } from './support/fingerprint.js'

// Characters that need escaping in a URL and in .pgpass: the password must survive both, and never show.
const PASSWORD = 'Kong:p@ss/w\\rd'
const REDIS_PASSWORD = 'tyk-redis-secret-93'

let pg: PostgresServer
let work: string
/** The steps run in `work`; everything they printed is checked for the passwords at the end. */
const { action, captured } = recordingRunner(() => work)

/** A backup folder's mode, and every path below it that its group or others could read or enter. */
async function modes(folder: string): Promise<{ folder: number; others: string[] }> {
  const others: string[] = []
  for (const entry of await readdir(folder, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name)
    if ((await stat(path)).mode & 0o077) others.push(path)
  }
  return { folder: (await stat(folder)).mode & 0o777, others }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'deckhand-db-test-'))
  pg = await startPostgres({ user: 'kong', password: PASSWORD })
  await loadKongDatabase(pg, 'kong', { runtimeRows: 3000 })
  await loadKongDatabase(pg, 'other', {})
}, 120_000)

afterAll(async () => {
  await pg?.stop()
  await rm(work, { recursive: true, force: true })
})

describe('db-dump and db-restore round trips on a Kong database', () => {
  const formats = ['directory', 'custom', 'tar', 'plain'] as const
  it.each(formats)('%s format: dump, restore into a fresh database, same content', async (format) => {
    const source = await fingerprint(pg, 'kong')
    const dumped = await action('db-dump', {
      'database-url': pg.url('kong'),
      format,
      'output-dir': `backups-${format}`,
      'upload-artifact': 'false',
    })
    expect(dumped.stderr).toBe('')
    expect(dumped.exitCode).toBe(0)
    const folder = dumped.outputs.path!
    // The dump holds credentials: nobody but its owner reads it.
    expect(await modes(folder)).toEqual({ folder: 0o700, others: [] })
    const manifest = JSON.parse(await readFile(dumped.outputs.manifest!, 'utf8'))
    expect(manifest).toMatchObject({ format: 'deckhand-db/1', engine: 'postgres', database: 'kong' })
    expect(manifest.dump).toMatchObject({ format, profile: 'kong', consistentSnapshot: true })
    expect(manifest.dump.excludedTableData).toEqual(
      expect.arrayContaining(KONG_RUNTIME_TABLES.map((t) => `public.${t}`)),
    )
    expect(manifest.dump.excludedTableData).not.toContain('public.oauth2_tokens')
    expect(Number(dumped.outputs['size-bytes'])).toBe(manifest.totals.sizeBytes)
    expect(Number(dumped.outputs.tables)).toBe(manifest.tables.length)
    // Every table's rows as dumped: configuration tables exactly as in the source.
    for (const t of manifest.tables) {
      const expected = source[t.table]!.split(':')[0]
      expect([t.table, t.rows]).toEqual([t.table, t.data ? Number(expected) : 0])
    }
    expect(dumped.summary).toContain('Rows per table')
    expect(dumped.summary).toMatch(/rows of \d+ runtime table\(s\) left out/)

    const target = `restored_${format}`
    await pg.psql(`CREATE DATABASE ${target}`)
    const restored = await action('db-restore', { 'database-url': pg.url(target), input: folder })
    expect(restored.stderr).toBe('')
    expect(restored.exitCode).toBe(0)
    expect(restored.outputs).toMatchObject({ database: target, verified: 'true' })
    expect(Number(restored.outputs.tables)).toBe(manifest.tables.length)

    const copy = await fingerprint(pg, target)
    for (const [table, value] of Object.entries(source)) {
      const runtime = KONG_RUNTIME_TABLES.some((r) => table === r)
      expect([table, copy[table]]).toEqual([table, runtime ? '0:' : value])
    }
    // Kong's tags trigger came back with the schema: a new tagged service shows up in tags.
    await pg.psql(
      `INSERT INTO services (id, name, host, port, protocol, tags, ws_id)
       SELECT '00000000-0000-4000-8000-00000000abcd', 'after-restore', 'example.com', 80, 'http', ARRAY['dr-check'], id FROM workspaces LIMIT 1`,
      target,
    )
    expect(await pg.psql(`SELECT count(*) FROM tags WHERE 'dr-check' = ANY(tags)`, target)).toBe('1')
  })

  it('profile none keeps the runtime rows; create rebuilds a dropped database', async () => {
    const dumped = await action('db-dump', {
      'database-url': pg.url('kong'),
      profile: 'none',
      format: 'custom',
      'output-dir': 'backups-none',
      'upload-artifact': 'false',
    })
    expect(dumped.exitCode).toBe(0)
    const source = await fingerprint(pg, 'kong')
    const manifest = JSON.parse(await readFile(dumped.outputs.manifest!, 'utf8'))
    expect(manifest.dump.excludedTableData).toEqual([])
    expect(manifest.tables.every((t: { data: boolean }) => t.data)).toBe(true)

    // The disaster: a copy of kong is dumped, then dropped; create brings it back under its own name.
    await pg.psql('CREATE DATABASE kong_dr TEMPLATE kong')
    const copyDump = await action('db-dump', {
      'database-url': pg.url('kong_dr'),
      profile: 'none',
      format: 'directory',
      jobs: '2',
      'output-dir': 'backups-dr',
      'upload-artifact': 'false',
    })
    expect(copyDump.exitCode).toBe(0)
    await pg.psql('DROP DATABASE kong_dr')
    const restored = await action('db-restore', {
      'database-url': pg.url('postgres'),
      input: copyDump.outputs.manifest!,
      create: 'true',
    })
    expect(restored.exitCode).toBe(0)
    expect(restored.outputs).toMatchObject({ database: 'kong_dr', verified: 'true' })
    expect(await fingerprint(pg, 'kong_dr')).toEqual(source)
  })
})

describe('faults', () => {
  let previous: { folder: string; files: Record<string, string> }

  beforeAll(async () => {
    const dumped = await action('db-dump', {
      'database-url': pg.url('kong'),
      format: 'custom',
      'output-dir': 'faults',
      'upload-artifact': 'false',
    })
    expect(dumped.exitCode).toBe(0)
    previous = { folder: dumped.outputs.path!, files: await snapshot(dumped.outputs.path!) }
  })

  async function snapshot(dir: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {}
    for (const name of await readdir(dir)) out[name] = (await readFile(join(dir, name))).toString('base64')
    return out
  }

  async function expectOnlyPrevious(): Promise<void> {
    expect(await readdir(join(work, 'faults'))).toEqual([previous.folder.split('/').pop()])
    expect(await snapshot(previous.folder)).toEqual(previous.files)
  }

  it('pg_dump killed mid-way: no manifest, no partial folder, the previous backup untouched', async () => {
    const real = pg.binDir
    const bin = await mkdtemp(join(work, 'bin-'))
    for (const tool of ['psql', 'pg_restore']) await symlink(join(real, tool), join(bin, tool))
    // Starts the real pg_dump and kills it (and itself) with SIGKILL: a runner that lost its process.
    await writeFile(
      join(bin, 'pg_dump'),
      `#!/bin/sh\nif [ "$1" = "--version" ]; then exec "${real}/pg_dump" "$@"; fi\n"${real}/pg_dump" "$@" &\npid=$!\nsleep 0.1\nkill -9 $pid 2>/dev/null\nwait $pid\nkill -9 $$\n`,
    )
    await chmod(join(bin, 'pg_dump'), 0o755)
    const run = await action('db-dump', {
      'database-url': pg.url('kong'),
      format: 'custom',
      'output-dir': 'faults',
      'postgres-bin': bin,
      'upload-artifact': 'false',
    })
    expect(run.exitCode).not.toBe(0)
    expect(visibleLog(run.stdout)).toMatch(
      /pg_dump was killed \(SIGKILL\).*incomplete dump was removed; earlier backups are untouched/,
    )
    expect(run.outputs.manifest).toBeUndefined()
    await expectOnlyPrevious()
  })

  it('wrong password, unreachable host, unwritable output-dir: clear errors, nothing written', async () => {
    const wrong = await action('db-dump', {
      'database-url': `postgres://kong:not-the-password@127.0.0.1:${pg.port}/kong`,
      'output-dir': 'faults',
      'upload-artifact': 'false',
    })
    expect(wrong.exitCode).not.toBe(0)
    expect(visibleLog(wrong.stdout)).toContain('refused the credentials')
    expect(visibleLog(wrong.stdout)).not.toContain('not-the-password')

    const closed = await action('db-dump', {
      'database-url': `postgres://kong:x@127.0.0.1:1/kong?connect_timeout=3`,
      'output-dir': 'faults',
      'upload-artifact': 'false',
    })
    expect(closed.exitCode).not.toBe(0)
    expect(visibleLog(closed.stdout)).toContain('cannot reach PostgreSQL at kong@127.0.0.1:1/kong')

    await writeFile(join(work, 'a-file'), 'not a directory')
    const unwritable = await action('db-dump', {
      'database-url': pg.url('kong'),
      'output-dir': 'a-file/backups',
      'upload-artifact': 'false',
    })
    expect(unwritable.exitCode).not.toBe(0)
    expect(visibleLog(unwritable.stdout)).toContain(
      'Input output-dir: cannot write a-file/backups: one of its parent directories is a file.',
    )
    await expectOnlyPrevious()
  })

  /** A database holding one sentinel row: a refused restore must leave it exactly so. */
  async function sentinel(name: string): Promise<void> {
    await pg.psql(`CREATE DATABASE ${name}`)
    await pg.psql('CREATE TABLE sentinel (v text); INSERT INTO sentinel VALUES ($$still here$$)', name)
  }
  const untouched = async (name: string) =>
    expect(
      await pg.psql('SELECT string_agg(tablename, $$,$$) FROM pg_tables WHERE schemaname = $$public$$', name),
    ).toBe('sentinel')

  it('a corrupted dump is refused before the database is touched', async () => {
    const copy = join(work, 'corrupt')
    await copyDir(previous.folder, copy)
    const dump = join(copy, 'kong.dump')
    const bytes = await readFile(dump)
    const middle = bytes.length >> 1
    bytes.writeUInt8(bytes.readUInt8(middle) ^ 0xff, middle)
    await writeFile(dump, bytes)
    await sentinel('corrupt_target')
    const run = await action('db-restore', {
      'database-url': pg.url('corrupt_target'),
      input: copy,
      clean: 'true',
    })
    expect(run.exitCode).not.toBe(0)
    expect(visibleLog(run.stdout)).toContain('does not match its manifest: refusing to restore it')
    expect(visibleLog(run.stdout)).toContain('kong.dump: sha256 differs from the manifest')
    await untouched('corrupt_target')
  })

  it("another database's manifest, or none, is refused", async () => {
    const other = await action('db-dump', {
      'database-url': pg.url('other'),
      format: 'custom',
      'output-dir': 'other',
      'upload-artifact': 'false',
    })
    expect(other.exitCode).toBe(0)
    const copy = join(work, 'swapped')
    await copyDir(previous.folder, copy)
    await copyFile(other.outputs.manifest!, join(copy, 'manifest.json'))
    await sentinel('swap_target')
    const swapped = await action('db-restore', {
      'database-url': pg.url('swap_target'),
      input: copy,
      clean: 'true',
    })
    expect(swapped.exitCode).not.toBe(0)
    expect(visibleLog(swapped.stdout)).toMatch(/kong\.dump: not in the manifest[\s\S]*other\.dump: missing/)
    await untouched('swap_target')

    await rm(join(copy, 'manifest.json'))
    const bare = await action('db-restore', { 'database-url': pg.url('swap_target'), input: copy })
    expect(bare.exitCode).not.toBe(0)
    expect(visibleLog(bare.stdout)).toContain('a dump without its manifest is incomplete')
    await untouched('swap_target')
  })

  it('a database that already holds tables is refused without clean', async () => {
    await sentinel('busy_target')
    const run = await action('db-restore', { 'database-url': pg.url('busy_target'), input: previous.folder })
    expect(run.exitCode).not.toBe(0)
    expect(visibleLog(run.stdout)).toContain('already holds tables: set clean to replace them')
    await untouched('busy_target')
  })

  it('a restore whose rows differ from the manifest fails the step and names the table', async () => {
    const copy = join(work, 'edited')
    await copyDir(previous.folder, copy)
    const manifest = JSON.parse(await readFile(join(copy, 'manifest.json'), 'utf8'))
    const services = manifest.tables.find((t: { table: string }) => t.table === 'services')
    services.rows += 1
    await writeFile(join(copy, 'manifest.json'), JSON.stringify(manifest))
    await pg.psql('CREATE DATABASE edited_target')
    const run = await action('db-restore', { 'database-url': pg.url('edited_target'), input: copy })
    expect(run.exitCode).not.toBe(0)
    expect(run.outputs.verified).toBe('false')
    expect(run.summary).toContain('Differences from the manifest')
    expect(run.summary).toContain(`public.services`)
    expect(visibleLog(run.stdout)).toContain(
      `::error ::public.services: expected ${services.rows} rows, found ${services.rows - 1} rows`,
    )
  })
})

describe('artifacts', () => {
  it('db-dump uploads the backup; db-restore takes the artifact name and restores it', async () => {
    const service = await startArtifactService()
    try {
      const dumped = await action(
        'db-dump',
        {
          'database-url': pg.url('kong'),
          format: 'custom',
          'output-dir': 'artifact',
          'artifact-name': 'kong-db',
        },
        service.env(),
      )
      expect(dumped.exitCode).toBe(0)
      expect(dumped.outputs['artifact-id']).toMatch(/^\d+$/)
      const [stored] = service.artifacts()
      expect(stored?.name).toBe('kong-db')
      expect(Object.keys(stored!.files).sort()).toEqual(['kong.dump', 'manifest.json'])
      expect(stored!.files['manifest.json']!.equals(await readFile(dumped.outputs.manifest!))).toBe(true)

      await pg.psql('CREATE DATABASE from_artifact')
      const restored = await action(
        'db-restore',
        { 'database-url': pg.url('from_artifact'), input: 'kong-db' },
        service.env(),
      )
      expect(restored.exitCode).toBe(0)
      expect(visibleLog(restored.stdout)).toContain('Downloaded artifact kong-db')
      expect(restored.outputs.verified).toBe('true')
    } finally {
      await service.close()
    }
  })

  it('on GitHub Enterprise Server the backup stays on disk and the step says so', async () => {
    const run = await action(
      'db-dump',
      { 'database-url': pg.url('kong'), format: 'custom', 'output-dir': 'ghes' },
      {
        GITHUB_SERVER_URL: 'https://github.example.com',
        ACTIONS_RUNTIME_TOKEN: 'x',
        ACTIONS_RESULTS_URL: 'http://127.0.0.1:9',
      },
    )
    expect(run.exitCode).toBe(0)
    expect(visibleLog(run.stdout)).toMatch(
      /::warning::Not uploaded as an artifact: github\.example\.com looks like GitHub Enterprise Server.*The backup stays at/,
    )
    expect(run.outputs['artifact-id']).toBe('')
    expect(await readFile(run.outputs.manifest!, 'utf8')).toContain('deckhand-db/1')
  })
})

describe('the session time zone of a restore', () => {
  it('is the recorded one, handed to the tools as PGTZ, unless the user set PGTZ or TimeZone in the options', () => {
    expect(sessionTimeZone('UTC', {})).toEqual({ zone: 'UTC', source: 'backup', env: { PGTZ: 'UTC' } })
    expect(sessionTimeZone('UTC', { PGTZ: 'Asia/Tokyo', PGOPTIONS: '-c timezone=UTC' })).toEqual({
      zone: 'Asia/Tokyo',
      source: 'PGTZ',
      env: {},
    })
    // libpq sends PGTZ after the options, so a PGTZ set here would override the user's option.
    for (const options of [
      '-c statement_timeout=0 -c TimeZone=America/New_York',
      '--timezone=America/New_York',
    ])
      expect(sessionTimeZone('UTC', { PGOPTIONS: options })).toEqual({
        zone: 'America/New_York',
        source: 'PGOPTIONS',
        env: {},
      })
    expect(sessionTimeZone('UTC', { PGTZ: '', PGOPTIONS: '-c statement_timeout=0' }).source).toBe('backup')
    // An older backup: the target's default, as before.
    expect(sessionTimeZone(undefined, {})).toEqual({ source: 'server', env: {} })
  })
})

describe('the CLI', () => {
  it('dumps with PG* variables and prints the outputs as JSON', async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
      (done) =>
        execFile(
          process.execPath,
          [
            join(ROOT, 'dist/cli/index.js'),
            'db-dump',
            '--format',
            'custom',
            '--output-dir',
            join(work, 'cli'),
            '--json',
          ],
          { env: { PATH: process.env.PATH, HOME: work, ...pg.env('kong') } },
          (err, stdout, stderr) =>
            done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
    )
    captured.push(stdout, stderr)
    expect(stderr).toContain('Dumping kong@127.0.0.1')
    expect(code).toBe(0)
    const outputs = JSON.parse(stdout)
    expect(outputs.path).toContain(join(work, 'cli', 'kong-'))
    expect(Number(outputs.rows)).toBeGreaterThan(0)
    expect(outputs['artifact-id']).toBe('')
  })
})

describe('Redis', () => {
  let redis: RedisServer
  beforeAll(async () => {
    redis = await startRedis({ password: REDIS_PASSWORD })
    await redis.cli(['MSET', 'apikey-1', '{"org_id":"a"}', 'quota-1', '42'])
    await redis.cli(['-n', '2', 'SET', 'oauth-client', 'secret-value'])
  })
  afterAll(async () => redis?.stop())

  it('dumps with redis-cli --rdb; a server started from the file has the same keys', async () => {
    const run = await action('db-dump', {
      engine: 'redis',
      'database-url': redis.url(),
      'output-dir': 'redis',
      'upload-artifact': 'false',
    })
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ tables: '2', rows: '3' })
    const manifest = JSON.parse(await readFile(run.outputs.manifest!, 'utf8'))
    expect(manifest).toMatchObject({
      engine: 'redis',
      database: 'db0,db2',
      dump: { path: 'dump.rdb', format: 'rdb' },
    })
    expect(await modes(run.outputs.path!)).toEqual({ folder: 0o700, others: [] })
    const copy = await startRedisFromRdb(join(run.outputs.path!, 'dump.rdb'), { password: REDIS_PASSWORD })
    try {
      expect(await copy.cli(['GET', 'quota-1'])).toBe('42')
      expect(await copy.cli(['-n', '2', 'GET', 'oauth-client'])).toBe('secret-value')
      expect(await copy.cli(['DBSIZE'])).toBe('2')
    } finally {
      await copy.stop()
    }
  })

  it('a wrong password is a clear error and writes nothing', async () => {
    const run = await action('db-dump', {
      engine: 'redis',
      'database-url': `redis://:wrong-one@127.0.0.1:${redis.port}`,
      'output-dir': 'redis-wrong',
      'upload-artifact': 'false',
    })
    expect(run.exitCode).not.toBe(0)
    expect(visibleLog(run.stdout)).toContain('refused the credentials')
    expect(await readdir(join(work, 'redis-wrong')).catch(() => [])).toEqual([])
  })
})

describe('secrets', () => {
  it('no password appears in any output, and every action asked the runner to mask it', () => {
    expect(captured.length).toBeGreaterThan(20)
    const all = captured.join('\n')
    for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), REDIS_PASSWORD]) {
      const visible = all
        .split('\n')
        .filter((line) => !line.startsWith('::add-mask::'))
        .join('\n')
      expect(visible).not.toContain(secret)
    }
    expect(captured.some((text) => maskedValues(text).includes(PASSWORD))).toBe(true)
  })
})

async function copyDir(from: string, to: string): Promise<void> {
  await execFileAsync('cp', ['-a', from, to])
}

function execFileAsync(cmd: string, args: string[]): Promise<void> {
  return new Promise((done, fail) => execFile(cmd, args, (err) => (err ? fail(err) : done())))
}
