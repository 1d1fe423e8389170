import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { loadKongDatabase } from '../script/kong-db.mjs'
import { type PostgresServer, startPostgres } from '../script/servers.mjs'
import { recordingRunner, runCli, visibleLog } from './support/action.js'
import { fingerprint } from './support/fingerprint.js'

/**
 * Backups kept in a folder store (a mounted disk): db-dump and files-backup store them as
 * <kind>/<source>/<time>-<id>/ with the manifest last, encrypted with age when recipients are given; db-restore,
 * files-restore and restore take them back by `latest` or a time, every object checked before use.
 */

const PASSWORD = 'St0re:p@ss/w0rd'
/** key-auth key of consumer 1, as script/kong-db.mjs writes it. */
const KEY_1 =
  createHash('md5').update('deckhand:key:1').digest('hex') +
  createHash('md5').update('deckhand:key2:1').digest('hex')

let pg: PostgresServer
let work: string
let key: string
let recipient: string
let otherKey: string
const { action, captured } = recordingRunner(() => work)

/** A new, empty database to restore into, by URL. */
async function fresh(name: string): Promise<string> {
  await pg.psql(`CREATE DATABASE ${name}`)
  return pg.url(name)
}

/** Tables a database holds: 0 for one nothing was restored into. */
async function tables(name: string): Promise<number> {
  return Number(await pg.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", name))
}

function ageKeygen(): { identity: string; recipient: string } {
  const identity = execFileSync('age-keygen', { stdio: ['ignore', 'pipe', 'ignore'] }).toString()
  const recipient = execFileSync('age-keygen', ['-y'], { input: identity }).toString().trim()
  return { identity, recipient }
}

/** Every file below dir, with its bytes. */
async function filesBelow(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile())
      out.set(join(entry.parentPath, entry.name), await readFile(join(entry.parentPath, entry.name)))
  }
  return out
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'deckhand-store-test-'))
  pg = await startPostgres({ user: 'kong', password: PASSWORD })
  await loadKongDatabase(pg, 'kong', { configEntities: 300 })
  const k = ageKeygen()
  key = k.identity
  recipient = k.recipient
  otherKey = ageKeygen().identity
}, 120_000)

afterAll(async () => {
  await pg?.stop()
  await rm(work, { recursive: true, force: true })
  // Nothing any step printed or reported holds a secret.
  const all = captured.map(visibleLog).join('\n')
  expect(all).not.toContain(PASSWORD)
  expect(all).not.toContain(KEY_1)
  expect(all).not.toContain(key.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY'))!)
})

describe('db-dump to a folder store and db-restore of latest', () => {
  it('encrypted: no plaintext in any object, restored with only the identity, identical content', async () => {
    const store = join(work, 'enc-store')
    const dumped = await action('db-dump', {
      'database-url': pg.url('kong'),
      compress: '0',
      profile: 'none',
      'output-dir': join(work, 'enc-local'),
      store,
      'age-recipients': `# the restore key\n${recipient}`,
    })
    expect(dumped.stderr).toBe('')
    expect(dumped.exitCode).toBe(0)
    expect(dumped.outputs.encrypted).toBe('true')
    expect(dumped.outputs.stored).toMatch(new RegExp(`^${store}/db/kong/\\d{8}T\\d{6}Z-[0-9a-f]{6}$`))
    expect(dumped.outputs['artifact-id']).toBe('')
    // The local, uncompressed dump holds the key; nothing in the store does, every object is age ciphertext.
    const local = await filesBelow(dumped.outputs.path!)
    expect([...local.values()].some((b) => b.includes(KEY_1))).toBe(true)
    const objects = await filesBelow(store)
    expect(objects.size).toBeGreaterThan(2)
    for (const [path, bytes] of objects) {
      expect(bytes.includes(KEY_1)).toBe(false)
      expect(bytes.includes(PASSWORD)).toBe(false)
      if (!path.endsWith('deckhand-backup.json'))
        expect(bytes.subarray(0, 21).toString()).toBe('age-encryption.org/v1')
      expect((await stat(path)).mode & 0o077).toBe(0)
    }
    const manifest = JSON.parse(
      (await readFile(join(dumped.outputs.stored!, 'deckhand-backup.json'))).toString('utf8'),
    )
    expect(manifest).toMatchObject({ kind: 'db', source: 'kong', encryption: { format: 'age' } })
    expect(manifest.encryption.recipients).toHaveLength(1)
    expect(manifest.encryption.recipients[0]).toMatch(/^age:[0-9a-f]{16}$/)

    const before = await fingerprint(pg, 'kong')
    const restored = await action('db-restore', {
      input: 'latest',
      store,
      'age-identity': key,
      'database-url': await fresh('restored_enc'),
      'mark-verified': 'true',
    })
    expect(restored.stderr).toBe('')
    expect(restored.exitCode).toBe(0)
    expect(restored.outputs.verified).toBe('true')
    expect(restored.outputs.backup).toBe(dumped.outputs.stored)
    expect(await fingerprint(pg, 'restored_enc')).toEqual(before)
    // The drill left its mark beside the backup, and nothing of the decrypted dump behind.
    const mark = JSON.parse(await readFile(join(dumped.outputs.stored!, 'deckhand-verified.json'), 'utf8'))
    expect(mark).toMatchObject({ format: 'deckhand-verified/1', database: 'restored_enc' })
  }, 120_000)

  it('a wrong identity is refused naming the recipients, before the database is touched', async () => {
    const store = join(work, 'enc-store')
    const run = await action('db-restore', {
      input: 'latest',
      store,
      'age-identity': otherKey,
      'database-url': await fresh('never_created'),
    })
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout + run.stderr).toMatch(
      /cannot be decrypted with the age identity given \(age:[0-9a-f]{16}\): it was encrypted to age:[0-9a-f]{16}/,
    )
    expect(await tables('never_created')).toBe(0)
  }, 60_000)

  it('without an identity an encrypted backup is refused with what to set', async () => {
    const run = await action('db-restore', {
      input: 'latest',
      store: join(work, 'enc-store'),
      'database-url': pg.url('never_created'),
    })
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout).toMatch(/is encrypted with age \(to age:[0-9a-f]{16}\): set age-identity/)
  }, 60_000)

  it('unencrypted: restored by latest; a backup cut short (no manifest) is never picked', async () => {
    const store = join(work, 'plain-store')
    const first = await action('db-dump', {
      'database-url': pg.url('kong'),
      'output-dir': join(work, 'plain-local'),
      store,
    })
    expect(first.exitCode).toBe(0)
    expect(first.outputs.encrypted).toBe('false')
    // A later backup whose manifest never arrived: its files, no deckhand-backup.json.
    const later = join(store, 'db', 'kong', '29990101T000000Z-abcdef')
    await rm(later, { recursive: true, force: true })
    execFileSync('cp', ['-r', first.outputs.stored!, later])
    await rm(join(later, 'deckhand-backup.json'))
    await pg.psql("UPDATE services SET name = name || '-changed' WHERE name IS NOT NULL", 'kong')
    const restored = await action('db-restore', {
      input: 'latest',
      store,
      'database-url': await fresh('restored_plain'),
    })
    expect(restored.exitCode).toBe(0)
    expect(restored.outputs.backup).toBe(first.outputs.stored)
    const list = await runCli(['backups', 'list', '--store', store, '--json'], {
      env: { PATH: process.env.PATH!, HOME: work },
    })
    expect(list.code).toBe(0)
    const rows = JSON.parse(list.stdout) as { name: string; complete: boolean }[]
    expect(rows.map((r) => [r.name, r.complete])).toEqual([
      [first.outputs['backup-name'], true],
      ['29990101T000000Z-abcdef', false],
    ])
    await pg.psql("UPDATE services SET name = replace(name, '-changed', '')", 'kong')
  }, 120_000)

  it('a damaged object is refused before the database is touched', async () => {
    const store = join(work, 'damaged-store')
    const dumped = await action('db-dump', {
      'database-url': pg.url('kong'),
      'output-dir': join(work, 'dmg-local'),
      store,
    })
    expect(dumped.exitCode).toBe(0)
    const objects = [...(await filesBelow(dumped.outputs.stored!)).keys()].filter((p) =>
      p.endsWith('.dat.gz'),
    )
    const victim = objects.sort()[0]!
    const bytes = await readFile(victim)
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff
    await writeFile(victim, bytes)
    const run = await action('db-restore', {
      input: 'latest',
      store,
      'database-url': await fresh('never_damaged'),
    })
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout).toMatch(
      /is damaged: its SHA-256 differs from the manifest's\. The backup was refused; nothing was restored/,
    )
    expect(await tables('never_damaged')).toBe(0)
  }, 120_000)

  it('db-restore given the folder db-dump wrote into restores the newest complete backup there, saying which', async () => {
    const out = join(work, 'many-local')
    const a = await action('db-dump', {
      'database-url': pg.url('kong'),
      'output-dir': out,
      'upload-artifact': 'false',
    })
    const b = await action('db-dump', {
      'database-url': pg.url('kong'),
      'output-dir': out,
      'upload-artifact': 'false',
    })
    expect([a.exitCode, b.exitCode]).toEqual([0, 0])
    const restored = await action('db-restore', {
      input: out,
      'database-url': await fresh('restored_newest'),
    })
    expect(restored.exitCode).toBe(0)
    expect(restored.outputs.backup).toBe(b.outputs.path)
    expect(restored.stdout + restored.summary).toContain(
      `restoring the newest complete one, ${b.outputs.path}`,
    )
  }, 120_000)
})

describe('retention', () => {
  it('keep-last prunes older backups deckhand wrote, never the newest verified one nor files it did not write', async () => {
    const store = join(work, 'retention-store')
    const names: string[] = []
    for (let i = 0; i < 3; i++) {
      const run = await action('db-dump', {
        'database-url': pg.url('kong'),
        'output-dir': join(work, 'ret-local'),
        store,
      })
      expect(run.exitCode).toBe(0)
      names.push(run.outputs['backup-name']!)
    }
    // The oldest was verified by a drill, and someone keeps a note of their own in its folder.
    const oldest = join(store, 'db', 'kong', names[0]!)
    const restore = await action('db-restore', {
      input: names[0]!,
      store,
      'database-url': await fresh('drill'),
      'mark-verified': 'true',
    })
    expect(restore.exitCode).toBe(0)
    await writeFile(join(oldest, 'NOTES.txt'), 'mine')

    const pruned = await action('db-dump', {
      'database-url': pg.url('kong'),
      'output-dir': join(work, 'ret-local'),
      store,
      'keep-last': '1',
    })
    expect(pruned.exitCode).toBe(0)
    // Kept: the new one (last) and the oldest (newest verified); the two in between went.
    expect(pruned.outputs.pruned!.split('\n').sort()).toEqual([names[1], names[2]].sort())
    const left = (await readdir(join(store, 'db', 'kong'))).sort()
    expect(left).toEqual([names[0], pruned.outputs['backup-name']].sort())
    expect(await readFile(join(oldest, 'NOTES.txt'), 'utf8')).toBe('mine')

    // The CLI's prune: a dry run changes nothing; keep-last 1 removes nothing the rules above keep.
    const env = { PATH: process.env.PATH!, HOME: work }
    const dry = await runCli(
      ['backups', 'prune', '--store', store, '--kind', 'db', '--keep-last', '1', '--dry-run'],
      { env },
    )
    expect(dry.code).toBe(0)
    expect(dry.stdout).toContain('newest verified')
    expect((await readdir(join(store, 'db', 'kong'))).sort()).toEqual(left)
    const usage = await runCli(['backups', 'prune', '--store', store, '--kind', 'db'], { env })
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('prune needs at least one --keep-* rule')
  }, 180_000)
})

describe('files-backup to a store and files-restore of latest', () => {
  it('encrypted round trip with only the identity', async () => {
    const root = join(work, 'gateway-files')
    await rm(root, { recursive: true, force: true })
    execFileSync('mkdir', ['-p', join(root, 'etc/kong')])
    await writeFile(join(root, 'etc/kong/kong.conf'), `pg_password = ${PASSWORD}\n`)
    const store = join(work, 'files-store')
    const backed = await action('files-backup', {
      paths: 'etc/kong',
      root,
      output: join(work, 'files-out', 'gw.tar.gz'),
      store,
      'age-recipients': recipient,
    })
    expect(backed.stderr).toBe('')
    expect(backed.exitCode).toBe(0)
    expect(backed.outputs.stored).toContain(`${store}/files/files/`)
    for (const bytes of (await filesBelow(store)).values()) expect(bytes.includes(PASSWORD)).toBe(false)
    const target = join(work, 'files-restored')
    const restored = await action('files-restore', { input: 'latest', store, 'age-identity': key, target })
    expect(restored.stderr).toBe('')
    expect(restored.exitCode).toBe(0)
    expect(await readFile(join(target, 'etc/kong/kong.conf'), 'utf8')).toBe(`pg_password = ${PASSWORD}\n`)
  }, 60_000)

  it('names what to set when the store holds nothing of that kind', async () => {
    const run = await action('files-restore', {
      input: 'latest',
      store: join(work, 'empty-store'),
      target: join(work, 'x'),
    })
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout).toContain('holds no complete files backup')
  })
})
