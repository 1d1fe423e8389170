import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import { loadKongDatabase } from '../../script/kong-db.mjs'
import { type PostgresServer, startPostgres } from '../../script/servers.mjs'
import { freshName, previousName, splitSettingList } from '../../actions/engine/postgres/databases.js'
import { dbnameConninfo } from '../../actions/engine/postgres/commands.js'
import { CLI, runCli } from '../support/action.js'
import { fingerprint } from '../support/fingerprint.js'

/**
 * A restore that replaces a database never loses it: the backup goes into a new database beside it, and
 * only a complete, verified restore is swapped in. Whatever goes wrong before that (a role the dump names
 * that the server lacks, rows that differ from the manifest, the process killed), the database stays as it
 * was, with any jobs value and with create.
 */

const PASSWORD = 'swap:p@ss/w\\rd'
// Quotes, spaces, capitals and multi-byte characters, 60 bytes long: the names derived from it must be quoted
// and shortened to PostgreSQL's 63 bytes.
const WEIRD = `Kong "prod" ü€ ${'x'.repeat(60 - Buffer.byteLength('Kong "prod" ü€ '))}`

let pg: PostgresServer
let work: string
/** db-dump backups of `kong`: exact (profile none), and one whose dump names a role the server no longer has. */
let good: string
let ghost: string
let bulky: string

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`

function deckhand(
  command: string,
  args: string[],
  database: string,
  user = { name: 'kong', password: PASSWORD },
) {
  const url = `postgres://${encodeURIComponent(user.name)}:${encodeURIComponent(user.password)}@127.0.0.1:${pg.port}/${encodeURIComponent(database)}`
  return runCli([command, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: work, DECKHAND_DATABASE_URL: url },
  })
}

async function dump(database: string, dir: string): Promise<string> {
  const run = await deckhand(
    'db-dump',
    ['--format', 'directory', '--profile', 'none', '--output-dir', join(work, dir), '--json'],
    database,
  )
  expect(run.stderr).not.toContain('deckhand:')
  expect(run.code).toBe(0)
  return JSON.parse(run.stdout).path as string
}

/** A copy of kong with data of its own (a table more, a row changed), so that it differs from every backup. */
async function populated(name: string, owner = 'kong'): Promise<Record<string, string>> {
  await pg.psql(`CREATE DATABASE ${ident(name)} TEMPLATE kong OWNER ${ident(owner)}`)
  await pg.psql(
    "CREATE TABLE sentinel (v text); INSERT INTO sentinel VALUES ('the data a failed restore must not lose'); UPDATE workspaces SET comment = 'the target''s own'",
    name,
  )
  return fingerprint(pg, name)
}

/** Databases named like a restore's replacement (`<target>_deckhand_<8 hex>`). */
async function replacements(): Promise<string[]> {
  const names = await pg.psql(
    "SELECT coalesce(string_agg(datname, ',' ORDER BY datname), '') FROM pg_database WHERE datname ~ '_deckhand_[0-9a-f]{8}$'",
  )
  return names ? names.split(',') : []
}

async function exists(database: string): Promise<boolean> {
  return (
    (await pg.psql(`SELECT count(*) FROM pg_database WHERE datname = '${database.replace(/'/g, "''")}'`)) ===
    '1'
  )
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'deckhand-swap-'))
  pg = await startPostgres({ user: 'kong', password: PASSWORD })
  await loadKongDatabase(pg, 'kong', {})
  good = await dump('kong', 'good')

  // A dump with a table owned by a role that is then dropped: its restore fails halfway (ALTER … OWNER TO).
  await pg.psql('CREATE ROLE ghost; CREATE DATABASE ghostly TEMPLATE kong')
  await pg.psql('CREATE TABLE haunted (id int); ALTER TABLE haunted OWNER TO ghost', 'ghostly')
  ghost = await dump('ghostly', 'ghost')
  await pg.psql('ALTER TABLE haunted OWNER TO kong', 'ghostly')
  await pg.psql('DROP ROLE ghost')
  await pg.psql(
    "CREATE TABLE sentinel (v text); INSERT INTO sentinel VALUES ('ghostly, as it was')",
    'ghostly',
  )

  // Enough rows that the restore takes a while: time to kill it halfway.
  await pg.psql('CREATE DATABASE bulky TEMPLATE kong')
  await pg.psql(
    'CREATE TABLE bulk AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 500000) g',
    'bulky',
  )
  bulky = await dump('bulky', 'bulky')
}, 240_000)

afterAll(async () => {
  await pg?.stop()
  await rm(work, { recursive: true, force: true })
})

describe('db-restore with clean into a database that holds data', () => {
  test('jobs 2, a dump naming a role the server lacks: the target keeps its tables and rows, and the error says so', async () => {
    const before = await populated('target_role')
    const run = await deckhand('db-restore', ['--input', ghost, '--clean', '--jobs', '2'], 'target_role')
    expect(run.code).toBe(1)
    // The data first: what matters most when the restore fails.
    expect(await fingerprint(pg, 'target_role')).toEqual(before)
    expect(run.stderr).toContain('role "ghost" does not exist')
    expect(run.stderr).toContain('set --no-owner to restore everything as the connecting user')
    expect(run.stderr).toMatch(
      /The database target_role was not changed: the backup was restored into a new database, target_role_deckhand_[0-9a-f]{8}, which was dropped\./,
    )
    expect(await replacements()).toEqual([])
  })

  test('create with clean, failing: the existing database is still there, unchanged', async () => {
    const before = await fingerprint(pg, 'ghostly')
    const run = await deckhand('db-restore', ['--input', ghost, '--create', '--clean'], 'postgres')
    expect(run.code).toBe(1)
    expect(await fingerprint(pg, 'ghostly')).toEqual(before)
    expect(run.stderr).toContain('role "ghost" does not exist')
    expect(run.stderr).toContain('The database ghostly was not changed')
    expect(await replacements()).toEqual([])
  })

  test('rows that differ from the manifest: the restored copy is not swapped in', async () => {
    const copy = join(work, 'edited')
    execFileSync('cp', ['-a', good, copy])
    const manifest = JSON.parse(await readFile(join(copy, 'manifest.json'), 'utf8'))
    const services = manifest.tables.find((t: { table: string }) => t.table === 'services')
    services.rows += 1
    await writeFile(join(copy, 'manifest.json'), JSON.stringify(manifest))

    const before = await populated('target_verify')
    const run = await deckhand('db-restore', ['--input', copy, '--clean'], 'target_verify')
    expect(run.code).toBe(1)
    expect(await fingerprint(pg, 'target_verify')).toEqual(before)
    expect(run.stderr).toContain(
      "The restored copy differs from the backup's manifest in 1 table(s), so it did not replace target_verify.",
    )
    expect(run.stderr).toContain(
      `public.services: expected ${services.rows} rows, found ${services.rows - 1} rows`,
    )
    expect(run.stderr).toContain('The database target_verify was not changed')
    expect(await replacements()).toEqual([])
  })

  test('success with jobs 2: the data is replaced, sessions on the old database are ended, the replaced database is kept or dropped', async () => {
    const expected = await fingerprint(pg, 'kong')
    await pg.psql(`CREATE ROLE reader LOGIN`)
    const before = await populated(WEIRD)
    // What the database carries besides its tables comes along: privileges, settings, comment.
    await pg.psql(
      `ALTER DATABASE ${ident(WEIRD)} SET search_path = "$user", public, "Odd schema";
       ALTER DATABASE ${ident(WEIRD)} SET work_mem = '7MB';
       COMMENT ON DATABASE ${ident(WEIRD)} IS 'the gateway''s database';
       REVOKE ALL ON DATABASE ${ident(WEIRD)} FROM PUBLIC;
       GRANT CONNECT ON DATABASE ${ident(WEIRD)} TO reader`,
    )
    const properties = `SELECT d.datacl::text || ' ' || coalesce(shobj_description(d.oid, 'pg_database'), '') || ' ' ||
        (SELECT s.setconfig::text FROM pg_db_role_setting s WHERE s.setdatabase = d.oid AND s.setrole = 0)
      FROM pg_database d WHERE d.datname = '${WEIRD.replace(/'/g, "''")}'`
    const propertiesBefore = await pg.psql(properties)
    // A client connected to the database being replaced (Kong, say): the swap ends its session.
    const client: ChildProcess = spawn('psql', ['-X', '-c', 'SELECT pg_sleep(120)'], {
      env: { ...process.env, ...pg.env(WEIRD) },
      stdio: 'ignore',
    })
    const clientExit = new Promise<number | null>((done) => client.on('exit', (code) => done(code)))
    while (
      (await pg.psql(
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid()",
      )) !== '1'
    )
      await sleep(50)

    const run = await deckhand('db-restore', ['--input', good, '--clean', '--jobs', '2', '--json'], WEIRD)
    expect(run.stderr).not.toContain('deckhand:')
    expect(run.code).toBe(0)
    const outputs = JSON.parse(run.stdout)
    expect(outputs).toMatchObject({ database: WEIRD, verified: 'true' })
    const previous = outputs['previous-database'] as string
    expect(previous).toMatch(/_deckhand_previous_\d{8}T\d{6}Z$/)
    expect(Buffer.byteLength(previous)).toBeLessThanOrEqual(63)
    expect(previous.startsWith('Kong "prod" ü€ x')).toBe(true)
    expect(run.stderr).toMatch(/ending 1 session\(s\) connected to the one it replaced/)
    expect(await clientExit).not.toBe(0)

    expect(await fingerprint(pg, WEIRD)).toEqual(expected)
    expect(await fingerprint(pg, previous)).toEqual(before)
    expect(await pg.psql(properties)).toBe(propertiesBefore)
    expect(await replacements()).toEqual([])

    // keep-previous false: the replaced database goes once the new one is in place.
    const again = await deckhand(
      'db-restore',
      ['--input', good, '--clean', '--jobs', '2', '--keep-previous=false', '--json'],
      WEIRD,
    )
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout)['previous-database']).toBe('')
    expect(
      await pg.psql(
        'SELECT count(*) FROM pg_database WHERE datname LIKE \'Kong "prod"%\\_deckhand\\_previous\\_%\'',
      ),
    ).toBe('1')
    expect(await exists(previous)).toBe(true)
    expect(await fingerprint(pg, WEIRD)).toEqual(expected)
  })

  test('a role without CREATEDB is refused before anything is touched, with what to do', async () => {
    await pg.psql(
      "CREATE ROLE plain_owner LOGIN PASSWORD 'owner-pw'; CREATE ROLE stranger LOGIN CREATEDB PASSWORD 'stranger-pw'",
    )
    const before = await populated('target_rights', 'plain_owner')
    const refused = await deckhand(
      'db-restore',
      ['--input', good, '--clean', '--no-owner'],
      'target_rights',
      {
        name: 'plain_owner',
        password: 'owner-pw',
      },
    )
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(
      'Replacing target_rights needs the CREATEDB privilege, which plain_owner lacks',
    )
    expect(refused.stderr).toContain(
      'Grant it (ALTER ROLE "plain_owner" CREATEDB, as a superuser), or restore without clean into an empty database. Nothing was changed.',
    )
    // CREATEDB, but not the owner: renaming the database is the owner's right.
    const stranger = await deckhand(
      'db-restore',
      ['--input', good, '--clean', '--no-owner'],
      'target_rights',
      {
        name: 'stranger',
        password: 'stranger-pw',
      },
    )
    expect(stranger.code).toBe(1)
    expect(stranger.stderr).toContain('Replacing target_rights renames it, which only its owner plain_owner')
    expect(stranger.stderr).toContain('Nothing was changed.')
    expect(await fingerprint(pg, 'target_rights')).toEqual(before)
    expect(await replacements()).toEqual([])
  })

  test('the process killed mid-restore: the target is intact, and the next restore drops what the killed one left', async () => {
    const before = await populated('target_kill')
    // Its own process group, killed as a runner kills a cancelled job: deckhand and pg_restore alike. What
    // SIGKILL leaves in the temporary folder (the pgpass file) stays in the test's folder.
    const child = spawn(process.execPath, [CLI, 'db-restore', '--input', bulky, '--clean', '--jobs', '2'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: work,
        TMPDIR: work,
        DECKHAND_DATABASE_URL: `postgres://kong:${encodeURIComponent(PASSWORD)}@127.0.0.1:${pg.port}/target_kill`,
      },
      stdio: 'ignore',
      detached: true,
    })
    const exited = new Promise<NodeJS.Signals | null>((done) =>
      child.on('exit', (_code, signal) => done(signal)),
    )
    const deadline = Date.now() + 60_000
    for (;;) {
      const copying = await pg.psql(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_restore' AND query ILIKE 'COPY%bulk%'",
      )
      if (copying !== '0') break
      if (Date.now() > deadline) throw new Error('pg_restore never started copying the rows')
      await sleep(20)
    }
    process.kill(-child.pid!, 'SIGKILL')
    expect(await exited).toBe('SIGKILL')

    expect(await fingerprint(pg, 'target_kill')).toEqual(before)
    const left = await replacements()
    expect(left).toEqual([expect.stringMatching(/^target_kill_deckhand_[0-9a-f]{8}$/)])

    const next = await deckhand(
      'db-restore',
      ['--input', good, '--clean', '--keep-previous=false'],
      'target_kill',
    )
    expect(next.code).toBe(0)
    // The CLI wraps its report at 100 columns.
    expect(next.stdout.replace(/\s+/g, ' ')).toContain(
      `Dropped ${left[0]}, which an earlier restore of target_kill left behind when it was stopped before it finished.`,
    )
    expect(await replacements()).toEqual([])
    expect(await fingerprint(pg, 'target_kill')).toEqual(await fingerprint(pg, 'kong'))
  }, 120_000)
})

describe('names and values the swap writes', () => {
  test('names derived from a long multi-byte name stay within 63 bytes and never split a character', () => {
    const long = 'é'.repeat(40) // 80 bytes
    for (const name of [freshName(long), previousName(long, '20261206T101500Z', 99)]) {
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63)
      expect(name).not.toContain('\uFFFD')
      expect(Buffer.from(name).toString('utf8')).toBe(name)
    }
    expect(freshName(long)).toMatch(/^(?:é)+_deckhand_[0-9a-f]{8}$/)
    expect(previousName('kong', '20261206T101500Z')).toBe('kong_deckhand_previous_20261206T101500Z')
    expect(previousName('kong', '20261206T101500Z', 2)).toBe('kong_deckhand_previous_20261206T101500Z_2')
  })

  test('a list setting splits as PostgreSQL stores it; a database name is passed to pg_restore as a name', () => {
    expect(splitSettingList('"$user", public, "Odd ""schema"""')).toEqual(['$user', 'public', 'Odd "schema"'])
    expect(dbnameConninfo("a=b 'c'\\d")).toBe("dbname='a=b \\'c\\'\\\\d'")
  })
})
