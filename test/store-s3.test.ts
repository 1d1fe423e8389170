import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { loadKongDatabase } from '../script/kong-db.mjs'
import { type PostgresServer, startPostgres } from '../script/servers.mjs'
import { recordingRunner, runCli, visibleLog } from './support/action.js'
import { fingerprint } from './support/fingerprint.js'
import { type S3StandIn, startS3StandIn } from './support/s3-stand-in.js'

/**
 * Backups kept in S3, through the unmodified AWS SDK against a stand-in that follows S3's REST contract (no
 * real S3 implementation installs here): credentials from the SDK's chain only, every object sent with its
 * SHA-256 and checked again on the way back, the bucket's default encryption asked for, its Object Lock
 * retention set on each object, large files in parts, and actionable errors for missing credentials and
 * permissions with nothing written.
 */

const PASSWORD = 'S3:p@ss/w0rd-db'
const KEY_1 =
  createHash('md5').update('deckhand:key:1').digest('hex') +
  createHash('md5').update('deckhand:key2:1').digest('hex')
const KMS_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'

let pg: PostgresServer
let s3: S3StandIn
let work: string
let identity: string
let recipient: string
const { action, captured } = recordingRunner(() => work)

/** What the runner's environment holds after aws-actions/configure-aws-credentials: keys, region, no IMDS. */
function awsEnv(key = s3.keys[0]!): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: key.accessKeyId,
    AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
    AWS_REGION: s3.region,
    AWS_EC2_METADATA_DISABLED: 'true',
  }
}

async function fresh(name: string): Promise<string> {
  await pg.psql(`CREATE DATABASE ${name}`)
  return pg.url(name)
}
async function tables(name: string): Promise<number> {
  return Number(await pg.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", name))
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'deckhand-s3-test-'))
  pg = await startPostgres({ user: 'kong', password: PASSWORD })
  await loadKongDatabase(pg, 'kong', { configEntities: 300 })
  s3 = await startS3StandIn({
    buckets: [
      // The Pulumi component's bucket: versioned, KMS by default and by policy, Object Lock.
      {
        name: 'kong-backups',
        versioning: true,
        encryption: { algorithm: 'aws:kms', kmsKeyId: KMS_KEY },
        requireKms: true,
        objectLock: { mode: 'GOVERNANCE', days: 30 },
      },
      { name: 'plain-bucket' },
    ],
    keys: [
      { accessKeyId: 'AKIADECKHANDALL00001', secretAccessKey: randomBytes(20).toString('base64') },
      {
        accessKeyId: 'AKIADECKHANDREAD0001',
        secretAccessKey: randomBytes(20).toString('base64'),
        allow: { 'plain-bucket': ['s3:GetObject', 's3:ListBucket'] },
      },
    ],
  })
  identity = execFileSync('age-keygen', { stdio: ['ignore', 'pipe', 'ignore'] }).toString()
  recipient = execFileSync('age-keygen', ['-y'], { input: identity }).toString().trim()
}, 120_000)

afterAll(async () => {
  await s3?.stop()
  await pg?.stop()
  await rm(work, { recursive: true, force: true })
  const all = captured.map(visibleLog).join('\n')
  for (const secret of [PASSWORD, KEY_1, ...s3.keys.map((k) => k.secretAccessKey)])
    expect(all).not.toContain(secret)
  expect(s3.internalErrors).toEqual([])
})

describe('db-dump to S3 and db-restore of latest', () => {
  it('encrypted into a KMS, Object Lock bucket: SHA-256 on every object, restored with only the identity', async () => {
    const store = 's3://kong-backups/nightly'
    const dumped = await action(
      'db-dump',
      {
        'database-url': pg.url('kong'),
        compress: '0',
        profile: 'none',
        'output-dir': join(work, 'enc'),
        store,
        'store-endpoint': s3.endpoint,
        'age-recipients': recipient,
      },
      awsEnv(),
    )
    expect(dumped.stderr).toBe('')
    expect(dumped.exitCode).toBe(0)
    expect(dumped.outputs.stored).toMatch(
      /^s3:\/\/kong-backups\/nightly\/db\/kong\/\d{8}T\d{6}Z-[0-9a-f]{6}$/,
    )
    expect(dumped.summary).toContain('encrypted with age to age:')

    const objects = s3.objects('kong-backups').filter((o) => !o.deleteMarker)
    expect(objects.length).toBeGreaterThan(3)
    for (const o of objects) {
      // Sent with its SHA-256 (checked by S3 on arrival), encrypted as the bucket dictates, locked for 30 days.
      expect(o.checksum?.algorithm).toBe('SHA256')
      expect(o.encryption).toMatchObject({ algorithm: 'aws:kms', kmsKeyId: KMS_KEY })
      expect(o.retention?.mode).toBe('GOVERNANCE')
      expect(o.retention!.retainUntil.getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000)
      const bytes = o.read()
      expect(bytes.includes(KEY_1)).toBe(false)
      if (!o.key.endsWith('deckhand-backup.json'))
        expect(bytes.subarray(0, 21).toString()).toBe('age-encryption.org/v1')
    }
    // deckhand asked for the bucket's settings itself (a policy requiring the header is met).
    const writes = s3.requests.filter((r) => r.method === 'PUT' && r.key?.startsWith('nightly/db/'))
    for (const r of writes) {
      expect(r.headers['x-amz-server-side-encryption']).toBe('aws:kms')
      expect(r.headers['x-amz-object-lock-mode']).toBe('GOVERNANCE')
    }
    // The manifest arrived after every other object.
    const puts = s3.requests.filter(
      (r) => r.method === 'PUT' && r.status === 200 && r.key?.startsWith('nightly/db/'),
    )
    expect(puts[puts.length - 1]!.key).toMatch(/deckhand-backup\.json$/)

    const before = await fingerprint(pg, 'kong')
    const restored = await action(
      'db-restore',
      {
        input: 'latest',
        store,
        'store-endpoint': s3.endpoint,
        'age-identity': identity,
        'database-url': await fresh('from_s3_enc'),
        'mark-verified': 'true',
      },
      awsEnv(),
    )
    expect(restored.stderr).toBe('')
    expect(restored.exitCode).toBe(0)
    expect(restored.outputs.backup).toBe(dumped.outputs.stored)
    expect(await fingerprint(pg, 'from_s3_enc')).toEqual(before)
    expect(s3.objects('kong-backups').some((o) => o.key.endsWith('/deckhand-verified.json'))).toBe(true)
  }, 120_000)

  it('unencrypted, with a warning; a damaged object is refused before the database is touched', async () => {
    const store = 's3://plain-bucket/kong'
    const dumped = await action(
      'db-dump',
      {
        'database-url': pg.url('kong'),
        'output-dir': join(work, 'plain'),
        store,
        'store-endpoint': s3.endpoint,
      },
      awsEnv(),
    )
    expect(dumped.exitCode).toBe(0)
    expect(dumped.outputs.encrypted).toBe('false')
    expect(dumped.stdout).toContain('unencrypted: set age-recipients')
    const restored = await action(
      'db-restore',
      { input: 'latest', store, 'store-endpoint': s3.endpoint, 'database-url': await fresh('from_s3_plain') },
      awsEnv(),
    )
    expect(restored.exitCode).toBe(0)

    const victim = s3.objects('plain-bucket').find((o) => o.key.endsWith('.dat.gz'))!
    s3.corrupt('plain-bucket', victim.key)
    const refused = await action(
      'db-restore',
      {
        input: 'latest',
        store,
        'store-endpoint': s3.endpoint,
        'database-url': await fresh('from_s3_damaged'),
      },
      awsEnv(),
    )
    expect(refused.exitCode).not.toBe(0)
    expect(refused.stdout).toMatch(/damaged/)
    expect(await tables('from_s3_damaged')).toBe(0)
  }, 120_000)
})

describe('files-backup to S3', () => {
  it('a large archive goes up in parts, and comes back whole', async () => {
    const root = join(work, 'files-large')
    await mkdir(join(root, 'etc/kong'), { recursive: true })
    const blob = randomBytes(40 * 1024 * 1024)
    await writeFile(join(root, 'etc/kong/blob.bin'), blob)
    const store = 's3://plain-bucket/files-test'
    const backed = await action(
      'files-backup',
      {
        paths: 'etc/kong',
        root,
        output: join(work, 'large.tar.gz'),
        store,
        'store-endpoint': s3.endpoint,
        'age-recipients': recipient,
      },
      awsEnv(),
    )
    expect(backed.exitCode).toBe(0)
    expect(
      s3.requests.some((r) => r.operation === 'CreateMultipartUpload' && r.key?.startsWith('files-test/')),
    ).toBe(true)
    const target = join(work, 'files-large-restored')
    const restored = await action(
      'files-restore',
      { input: 'latest', store, 'store-endpoint': s3.endpoint, 'age-identity': identity, target },
      awsEnv(),
    )
    expect(restored.exitCode).toBe(0)
    expect((await readFile(join(target, 'etc/kong/blob.bin'))).equals(blob)).toBe(true)
  }, 120_000)

  it('an upload cut short leaves no manifest: the earlier backup stays latest', async () => {
    const root = join(work, 'files-cut')
    await mkdir(join(root, 'etc/kong'), { recursive: true })
    await writeFile(join(root, 'etc/kong/kong.conf'), '# first\n')
    const store = 's3://plain-bucket/cut'
    const inputs = {
      paths: 'etc/kong',
      root,
      output: join(work, 'cut.tar.gz'),
      store,
      'store-endpoint': s3.endpoint,
    }
    expect((await action('files-backup', inputs, awsEnv())).exitCode).toBe(0)
    await writeFile(join(root, 'etc/kong/kong.conf'), '# second\n')
    await writeFile(join(root, 'etc/kong/blob.bin'), randomBytes(2 * 1024 * 1024))
    const cut = s3.interruptAfter({ method: 'PUT', keyPattern: /^cut\/.*\.tar\.gz$/, bytes: 64 * 1024 })
    const failed = await action('files-backup', inputs, awsEnv())
    cut.clear()
    expect(cut.count).toBeGreaterThan(0)
    expect(failed.exitCode).not.toBe(0)
    const target = join(work, 'cut-restored')
    const restored = await action(
      'files-restore',
      { input: 'latest', store, 'store-endpoint': s3.endpoint, target },
      awsEnv(),
    )
    expect(restored.exitCode).toBe(0)
    expect(await readFile(join(target, 'etc/kong/kong.conf'), 'utf8')).toBe('# first\n')
  }, 120_000)
})

describe('credentials and permissions', () => {
  const inputs = () => ({
    paths: 'etc',
    root: join(work, 'perm'),
    output: join(work, 'perm.tar.gz'),
    store: 's3://plain-bucket/perm',
    'store-endpoint': s3.endpoint,
  })
  beforeAll(async () => {
    await mkdir(join(work, 'perm', 'etc'), { recursive: true })
    await writeFile(join(work, 'perm', 'etc', 'kong.conf'), '# perm\n')
  })
  const stored = () => s3.objects('plain-bucket').filter((o) => o.key.startsWith('perm/')).length

  it('no credentials: says how to provide them, writes nothing', async () => {
    const run = await action('files-backup', inputs(), {
      AWS_REGION: s3.region,
      AWS_EC2_METADATA_DISABLED: 'true',
    })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toContain('no AWS credentials found')
    expect(run.stdout).toContain('aws-actions/configure-aws-credentials')
    expect(stored()).toBe(0)
  }, 60_000)

  it('a role without s3:PutObject: names the permission, writes nothing', async () => {
    const run = await action('files-backup', inputs(), awsEnv(s3.keys[1]))
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(/access denied to s3:PutObject/)
    expect(stored()).toBe(0)
  }, 60_000)

  it('refused credentials are named as such', async () => {
    const run = await action('files-backup', inputs(), {
      ...awsEnv(),
      AWS_SECRET_ACCESS_KEY: randomBytes(20).toString('base64'),
    })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toContain('the AWS credentials were refused (SignatureDoesNotMatch)')
    expect(stored()).toBe(0)
  }, 60_000)
})

describe('retention and listing in a locked bucket', () => {
  it('keep-last prunes through delete markers (the locked versions stay), and backups list shows what is left', async () => {
    const store = 's3://kong-backups/retention'
    const names: string[] = []
    for (let i = 0; i < 3; i++) {
      const run = await action(
        'db-dump',
        {
          'database-url': pg.url('kong'),
          'output-dir': join(work, 'ret'),
          store,
          'store-endpoint': s3.endpoint,
          'age-recipients': recipient,
          'keep-last': '2',
        },
        awsEnv(),
      )
      expect(run.exitCode).toBe(0)
      names.push(run.outputs['backup-name']!)
    }
    const list = await runCli(
      ['backups', 'list', '--store', store, '--store-endpoint', s3.endpoint, '--json'],
      { env: { PATH: process.env.PATH!, HOME: work, ...awsEnv() } },
    )
    expect(list.code).toBe(0)
    const rows = JSON.parse(list.stdout) as { name: string; encrypted: boolean; complete: boolean }[]
    expect(rows.map((r) => r.name)).toEqual(names.slice(1))
    expect(rows.every((r) => r.encrypted && r.complete)).toBe(true)
    // Object Lock: the pruned backup's versions are still there, behind delete markers.
    const pruned = s3.objects('kong-backups').filter((o) => o.key.includes(`/${names[0]}/`))
    expect(pruned.some((o) => o.deleteMarker)).toBe(true)
    expect(pruned.some((o) => !o.deleteMarker && o.key.endsWith('deckhand-backup.json'))).toBe(true)
  }, 180_000)
})
