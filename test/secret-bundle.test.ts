import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals'
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { stringify } from 'yaml'

import { type ActionRun, maskedValues, runBundledAction, runCli, visibleLog } from './support/action.js'
import { age, keygen, type KeyPair } from './support/age-tool.js'
import {
  copyFixture,
  doubleEnv,
  FIXTURE_SECRETS,
  type GatewayFixture,
  readCalls,
  workdir,
} from './support/deck-double.js'
import { type S3StandIn, startS3StandIn } from './support/s3-stand-in.js'
import { type KongStandIn, startKongStandIn } from './support/kong-admin.js'
import { filesHolding } from './support/leftovers.js'

/**
 * The encrypted secret bundle through the bundled actions and the CLI, as a user runs them: dump writes
 * secrets.age beside the files; validate, diff, sync and restore fill the DECK_ variables from it with one
 * age identity; secrets list and rekey manage it.
 */

const KONG = 'http://127.0.0.1:8001'
const TOKEN = 'kong-admin-s3cret'
const connection = { 'kong-addr': KONG, 'kong-admin-token': TOKEN }

let keys: string
let alice: KeyPair
let bob: KeyPair
let w: Awaited<ReturnType<typeof workdir>>
let out: string
/** The gateway dumped: a private copy of the enterprise fixture. */
let source: string

beforeAll(async () => {
  keys = (await workdir()).dir
  alice = await keygen(keys, 'alice')
  bob = await keygen(keys, 'bob')
})
afterAll(() => rm(keys, { recursive: true, force: true }))
beforeEach(async () => {
  w = await workdir()
  out = join(w.dir, 'kong')
  source = await copyFixture('enterprise.yaml', w.dir)
})
afterEach(() => w.cleanup())

/** The runner's temporary directory inside the work directory: what the run leaves there is scanned too. */
const runnerEnv = (gateway = source, extra: Record<string, string> = {}) => ({
  ...doubleEnv({ gateway, log: w.log }),
  RUNNER_TEMP: join(w.dir, 'runner-temp'),
  ...extra,
})

function dump(inputs: Record<string, string> = {}, gateway = source, env: Record<string, string> = {}) {
  return runBundledAction(
    'dump',
    {
      ...connection,
      'all-workspaces': 'true',
      'output-dir': out,
      'age-recipients': alice.recipient,
      ...inputs,
    },
    { env: runnerEnv(gateway, env) },
  )
}

async function snapshot(dir: string): Promise<Record<string, Buffer>> {
  const files: Record<string, Buffer> = {}
  for (const name of (await readdir(dir)).sort()) files[name] = await readFile(join(dir, name))
  return files
}

/** The bundle's JSON, decrypted by the age tool. */
async function decrypted(key: KeyPair, file = join(out, 'secrets.age')): Promise<Record<string, string>> {
  const run = await age(['-d', '-i', key.file, file])
  expect(run.stderr).toBe('')
  const doc = JSON.parse(run.stdout.toString('utf8')) as { format: string; variables: Record<string, string> }
  expect(doc.format).toBe('deckhand-secrets/1')
  return doc.variables
}

/** What a user, a log or git sees of a run. */
const visible = (run: ActionRun) =>
  [visibleLog(run.stdout), run.stderr, run.summary, JSON.stringify(run.outputs)].join('\n')

function expectHidden(text: string, secrets: readonly string[]): void {
  for (const secret of secrets)
    expect({ secret, leaked: text.includes(secret) }).toEqual({ secret, leaked: false })
}

/** The fixture with every workspace emptied: a freshly bootstrapped gateway to restore into. */
async function emptyGateway(): Promise<string> {
  const dir = join(w.dir, 'target')
  await mkdir(dir, { recursive: true })
  return copyFixture('enterprise.yaml', dir, (f: GatewayFixture) => {
    const workspaces = f.workspaces as Record<string, unknown>
    for (const ws of Object.keys(workspaces)) workspaces[ws] = {}
  })
}

/** Plaintext deck files of a gateway (redact-secrets: false), for comparing two gateways value by value. */
async function plainDump(gateway: string, dir: string): Promise<Record<string, string>> {
  const run = await runBundledAction(
    'dump',
    { ...connection, 'all-workspaces': 'true', 'output-dir': dir, 'redact-secrets': 'false' },
    { env: doubleEnv({ gateway, log: join(w.dir, 'plain-calls.jsonl') }) },
  )
  expect(run.exitCode).toBe(0)
  const files: Record<string, string> = {}
  // Kong stores basic-auth passwords hashed with the consumer's id, so a synced copy cannot match them.
  for (const name of await readdir(dir))
    if (name.endsWith('.yaml'))
      files[name] = (await readFile(join(dir, name), 'utf8')).replace(
        /password: "[0-9a-f]{40}"/g,
        'password: hashed',
      )
  return files
}

describe('dump with age-recipients', () => {
  test('writes secrets.age with every redacted value, listed in SHA256SUMS; age -d reads it as JSON', async () => {
    const run = await dump()
    expect(run.exitCode).toBe(0)
    expect(run.outputs['secrets-bundle']).toBe(join(out, 'secrets.age'))
    const files = await snapshot(out)
    expect(Object.keys(files)).toEqual([
      'SHA256SUMS',
      'default.yaml',
      'required-env.txt',
      'sandbox.yaml',
      'secrets.age',
      'team-payments.yaml',
    ])
    const manifest = files.SHA256SUMS!.toString().trim().split('\n')
    expect(manifest).toContain(
      `${createHash('sha256').update(files['secrets.age']!).digest('hex')}  secrets.age`,
    )
    expect(files['secrets.age']!.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n')

    const variables = await decrypted(alice)
    const required = run.outputs['required-env']!.split('\n')
    expect(Object.keys(variables)).toEqual(required)
    expect(Object.keys(variables).length).toBe(Number(run.outputs['secrets-redacted']))
    // Every secret of the gateway is in the bundle, whole or as the part a reference stands for.
    const values = Object.values(variables).join('\n')
    for (const secret of FIXTURE_SECRETS)
      expect({ secret, inBundle: values.includes(secret) }).toEqual({ secret, inBundle: true })
    expect(files['required-env.txt']!.toString()).toMatch(
      /^# .*or give age-identity: secrets\.age holds their values\./,
    )

    const fingerprint = /age:[0-9a-f]{16}/.exec(run.summary)?.[0]
    expect(run.summary).toContain(
      `${Object.keys(variables).length} value(s) encrypted to 1 recipient(s) (${fingerprint}); rewritten.`,
    )
    // No value anywhere but in the ciphertext: not in the output, the summary, or any file the run left.
    expectHidden(visible(run), [...FIXTURE_SECRETS, ...Object.values(variables), TOKEN])
    expect(
      await filesHolding(w.dir, [...FIXTURE_SECRETS, TOKEN], ['enterprise.yaml', 'deck-calls.jsonl']),
    ).toEqual([])
  })

  test('an unchanged gateway keeps the bundle byte for byte: same SHA256SUMS, changed=false', async () => {
    expect((await dump()).exitCode).toBe(0)
    const before = await snapshot(out)
    // deck answering in another order changes nothing either.
    const again = await runBundledAction(
      'dump',
      { ...connection, 'all-workspaces': 'true', 'output-dir': out, 'age-recipients': alice.recipient },
      { env: { ...runnerEnv(), DECK_DOUBLE_SHUFFLE: '1' } },
    )
    expect(again.exitCode).toBe(0)
    expect(again.outputs.changed).toBe('false')
    expect(await snapshot(out)).toEqual(before)
    expect(again.summary).toContain('unchanged, kept byte for byte')
  })

  test('one changed secret writes a new bundle holding the new value', async () => {
    expect((await dump()).exitCode).toBe(0)
    const before = await snapshot(out)
    const rotated = 'alice-R0tated-K3y-55e1'
    const changed = await copyFixture('enterprise.yaml', w.dir, (f: GatewayFixture) => {
      const text = JSON.stringify(f).replace('alice-K3y-6f4b2a9c', rotated)
      Object.assign(f, JSON.parse(text))
    })
    const run = await dump({}, changed)
    expect(run.exitCode).toBe(0)
    expect(run.outputs.changed).toBe('true')
    const after = await snapshot(out)
    expect(after['secrets.age']!.equals(before['secrets.age']!)).toBe(false)
    // The state files themselves did not change: only the value behind a reference did.
    expect(after['default.yaml']).toEqual(before['default.yaml'])
    expect(Object.values(await decrypted(alice))).toContain(rotated)
    expect(run.summary).toContain('rewritten')
    expectHidden(visible(run), [rotated])
  })

  test('changed recipients give a new bundle that only the new key opens', async () => {
    expect((await dump()).exitCode).toBe(0)
    const run = await dump({ 'age-recipients': bob.recipient })
    expect(run.exitCode).toBe(0)
    expect(run.outputs.changed).toBe('true')
    expect(Object.keys(await decrypted(bob)).length).toBeGreaterThan(10)
    const refused = await age(['-d', '-i', alice.file, join(out, 'secrets.age')])
    expect(refused.code).not.toBe(0)
  })

  test('without age-recipients the summary points to it, and a bundle left by an earlier dump is removed', async () => {
    expect((await dump()).exitCode).toBe(0)
    const run = await dump({ 'age-recipients': '' })
    expect(run.exitCode).toBe(0)
    expect(run.outputs['secrets-bundle']).toBe('')
    expect(run.summary).toContain('Hint: set age-recipients')
    expect(run.stdout).toMatch(/::warning::Removed secrets\.age: age-recipients is not set/)
    expect(await readdir(out)).not.toContain('secrets.age')
    expect((await readFile(join(out, 'SHA256SUMS'), 'utf8')).includes('secrets.age')).toBe(false)
  })

  test('workspaces whose names differ only in punctuation cannot share a variable with two values', async () => {
    // team_payments sanitizes to the same variable names as team-payments.
    const clashing = await copyFixture('enterprise.yaml', w.dir, (f: GatewayFixture) => {
      ;(f.workspaces as Record<string, unknown>).team_payments = {
        consumers: [
          {
            id: '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0',
            username: 'merchant-portal',
            keyauth_credentials: [
              { id: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d', key: 'other-merchant-K3y-9f8e' },
            ],
          },
        ],
      }
    })
    const name = 'DECK_TEAM_PAYMENTS_CONSUMER_MERCHANT_PORTAL_KEYAUTH_1_KEY'
    const refused = await dump({}, clashing)
    expect(refused.exitCode).toBe(1)
    expect(refused.stdout).toContain(
      `::error::1 variable(s) stand for different values in two workspaces whose names differ only in punctuation: ${name} (workspaces team-payments and team_payments).`,
    )
    expect(refused.stdout).toContain('dump those workspaces in separate steps, into separate output-dirs')
    expect(await readdir(out).catch(() => [])).toEqual([])
    expectHidden(visible(refused), ['other-merchant-K3y-9f8e', 'merchant-K3y-0a1b2c3d4e'])
    // Without a bundle the dump goes on, and says what deck would make of it.
    const warned = await dump({ 'age-recipients': '' }, clashing)
    expect(warned.exitCode).toBe(0)
    expect(warned.stdout).toMatch(/::warning::1 variable\(s\) stand for different values/)
  })

  test('age-recipients with redact-secrets: false, or a bad key, is refused before deck runs', async () => {
    const unredacted = await dump({ 'redact-secrets': 'false' })
    expect(unredacted.exitCode).toBe(1)
    expect(unredacted.stdout).toMatch(/::error::age-recipients needs redact-secrets: true/)
    const secretKey = await dump({ 'age-recipients': alice.secretKey })
    expect(secretKey.exitCode).toBe(1)
    expect(secretKey.stdout).toContain('age-recipients holds an age secret key: give the public key')
    expect(visible(secretKey)).not.toContain(alice.secretKey.slice(15))
    expect(await readCalls(w.log)).toEqual([])
    expect(await readdir(out).catch(() => [])).toEqual([])
  })
})

describe('sync, diff and validate with the bundle', () => {
  test('round trip: a fresh gateway synced with age-identity alone receives every value exactly', async () => {
    expect((await dump()).exitCode).toBe(0)
    const variables = await decrypted(alice)
    const target = await emptyGateway()
    const run = await runBundledAction(
      'sync',
      { ...connection, state: out, 'age-identity': alice.text, 'plan-file': join(w.dir, 'plan.json') },
      { env: runnerEnv(target) },
    )
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(Number(run.outputs.creating)).toBeGreaterThan(20)
    expect(run.summary).toContain(
      `${Object.keys(variables).length} variable(s) from the secret bundle ${join(out, 'secrets.age')}, 0 overridden by the environment.`,
    )
    // deck got each value in its own environment, exactly, and never on its command line.
    const syncs = (await readCalls(w.log)).filter((c) => c.argv.includes('sync'))
    // One per workspace with anything to create (sandbox is empty).
    expect(syncs.length).toBe(2)
    for (const call of syncs) {
      for (const [name, value] of Object.entries(call.env))
        if (name in variables) expect({ name, same: value === variables[name] }).toEqual({ name, same: true })
      expectHidden(call.argv.join(' '), Object.values(variables))
    }
    const given = new Set(syncs.flatMap((c) => Object.keys(c.env)))
    for (const name of Object.keys(variables)) expect(given.has(name)).toBe(true)
    // The restored gateway holds what the dumped one did, value for value (PEM keys and all).
    expect(await plainDump(target, join(w.dir, 'after'))).toEqual(
      await plainDump(source, join(w.dir, 'before')),
    )

    // Every value was masked, none shows, and no file the runs left holds one.
    const masked = maskedValues(run.stdout)
    for (const value of Object.values(variables).filter((v) => !v.includes('\n')))
      expect(masked).toContain(value.trim())
    expectHidden(visible(run), [...FIXTURE_SECRETS, ...Object.values(variables), alice.secretKey])
    const skip = ['enterprise.yaml', 'target/enterprise.yaml', 'deck-calls.jsonl', 'plain-calls.jsonl']
    const leftovers = (await filesHolding(w.dir, [...FIXTURE_SECRETS, alice.secretKey], skip)).filter(
      (f) => !f.startsWith('before/') && !f.startsWith('after/'),
    )
    expect(leftovers).toEqual([])

    const diff = await runBundledAction(
      'diff',
      { ...connection, state: out, 'age-identity': alice.file },
      { env: runnerEnv(target) },
    )
    expect(diff.exitCode).toBe(0)
    expect(diff.outputs['has-changes']).toBe('false')
  })

  test('a variable set in the environment wins over the bundle', async () => {
    expect((await dump()).exitCode).toBe(0)
    const target = await emptyGateway()
    const name = 'DECK_DEFAULT_CONSUMER_ALICE_KEYAUTH_1_KEY'
    const run = await runBundledAction(
      'sync',
      { ...connection, state: out, 'age-identity': alice.text },
      { env: runnerEnv(target, { [name]: 'from-the-env-K3y-77' }) },
    )
    expect(run.exitCode).toBe(0)
    expect(run.summary).toContain(`1 overridden by the environment (${name})`)
    const sync = (await readCalls(w.log)).find((c) => c.argv.includes('sync') && name in c.env)!
    expect(sync.env[name]).toBe('from-the-env-K3y-77')
    const restored = await plainDump(target, join(w.dir, 'after'))
    expect(restored['default.yaml']).toContain('from-the-env-K3y-77')
    expect(restored['default.yaml']).not.toContain('alice-K3y-6f4b2a9c')
  })

  test('without an identity, the unset variables are named and the message says to set age-identity', async () => {
    expect((await dump()).exitCode).toBe(0)
    const run = await runBundledAction('validate', { state: out }, { env: runnerEnv() })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(
      /are not set: DECK_.*secrets\.age holds encrypted values: set age-identity \(the content of the age key file, or its path\)/,
    )
    const opened = await runBundledAction(
      'validate',
      { state: out, 'age-identity': alice.text },
      { env: runnerEnv() },
    )
    expect(opened.exitCode).toBe(0)
    expect(opened.outputs.valid).toBe('true')
  })

  test('a JSON file encrypted with age -r or age -R is read by validate and sync', async () => {
    expect((await dump()).exitCode).toBe(0)
    const variables = await decrypted(alice)
    const json = Buffer.from(JSON.stringify({ format: 'deckhand-secrets/1', variables }))
    const list = join(w.dir, 'recipients.txt')
    await writeFile(list, `# ops\n${bob.recipient}\n`)
    for (const flags of [
      ['-r', bob.recipient],
      ['-R', list],
    ]) {
      await writeFile(join(out, 'secrets.age'), (await age(flags, json)).stdout)
      const run = await runBundledAction(
        'validate',
        { state: out, 'age-identity': bob.text },
        { env: runnerEnv() },
      )
      expect(run.exitCode).toBe(0)
      expect(run.stdout).toContain(
        `Opened ${join(out, 'secrets.age')}: ${Object.keys(variables).length} variable(s).`,
      )
    }
    const target = await emptyGateway()
    const sync = await runBundledAction(
      'sync',
      { ...connection, state: out, 'age-identity': bob.text },
      { env: runnerEnv(target) },
    )
    expect(sync.exitCode).toBe(0)
    expect(await plainDump(target, join(w.dir, 'after'))).toEqual(
      await plainDump(source, join(w.dir, 'before')),
    )
  })
})

describe('restore with the bundle', () => {
  let kong: KongStandIn | undefined
  afterEach(async () => {
    await kong?.stop()
    kong = undefined
  })

  test('restores a fresh gateway declaratively with age-identity as the only secret of the values', async () => {
    expect((await dump({ 'all-workspaces': 'false', workspace: 'default' })).exitCode).toBe(0)
    const variables = await decrypted(alice)
    kong = await startKongStandIn({ database: 'postgres' })
    const target = join(w.dir, 'target.yaml')
    await writeFile(
      target,
      stringify({
        kongAddr: kong.adminUrl,
        kongVersion: '3.10.0.0',
        edition: 'enterprise',
        workspaces: { default: {} },
      }),
    )
    const run = await runBundledAction(
      'restore',
      {
        strategy: 'declarative',
        'kong-addr': kong.adminUrl,
        'kong-admin-token': TOKEN,
        state: out,
        'age-identity': alice.text,
        'wait-timeout': '20',
        'report-file': join(w.dir, 'restore-report.json'),
      },
      { env: runnerEnv(target) },
    )
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(run.outputs.verified).toBe('true')
    expect(run.summary).toContain(`${Object.keys(variables).length} variable(s) from the secret bundle`)
    const syncs = (await readCalls(w.log)).filter((c) => c.argv.includes('sync'))
    for (const [name, value] of Object.entries(variables)) expect(syncs[0]!.env[name]).toBe(value)
    expectHidden(visible(run) + (await readFile(join(w.dir, 'restore-report.json'), 'utf8')), [
      ...FIXTURE_SECRETS,
      ...Object.values(variables),
    ])
  })
})

describe('dump and bundle through a backup store, restored with the identity alone', () => {
  let kong: KongStandIn | undefined
  let s3: S3StandIn | undefined
  afterEach(async () => {
    await kong?.stop()
    await s3?.stop()
    kong = undefined
    s3 = undefined
  })

  test.each(['folder', 's3'] as const)(
    '%s store: the state and its bundle stored encrypted, then restore state: latest with age-identity',
    async (kind) => {
      let store = join(w.dir, 'store')
      let storeEnv: Record<string, string> = {}
      const storeInputs: Record<string, string> = {}
      if (kind === 's3') {
        s3 = await startS3StandIn({ buckets: [{ name: 'kong-backups', versioning: true }] })
        store = 's3://kong-backups/kong'
        storeInputs['store-endpoint'] = s3.endpoint
        storeEnv = {
          AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
          AWS_REGION: s3.region,
          AWS_EC2_METADATA_DISABLED: 'true',
        }
      }
      const dumped = await dump(
        { 'all-workspaces': 'false', workspace: 'default', store, ...storeInputs },
        source,
        storeEnv,
      )
      expect(dumped.stderr).toBe('')
      expect(dumped.exitCode).toBe(0)
      expect(dumped.outputs.encrypted).toBe('true')
      const variables = await decrypted(alice)
      // Every stored object is ciphertext: no value, and no state file in the clear.
      const stored =
        kind === 's3'
          ? s3!.objects('kong-backups').map((o) => o.read())
          : await Promise.all(
              (await readdir(store, { recursive: true, withFileTypes: true }))
                .filter((e) => e.isFile())
                .map((e) => readFile(join(e.parentPath, e.name))),
            )
      expect(stored.length).toBeGreaterThan(3)
      for (const bytes of stored) expectHidden(bytes.toString('latin1'), Object.values(variables))
      // The checkout is gone: only the store and the identity are left.
      await rm(out, { recursive: true, force: true })

      kong = await startKongStandIn({ database: 'postgres' })
      const target = join(w.dir, 'target.yaml')
      await writeFile(
        target,
        stringify({
          kongAddr: kong.adminUrl,
          kongVersion: '3.10.0.0',
          edition: 'enterprise',
          workspaces: { default: {} },
        }),
      )
      const run = await runBundledAction(
        'restore',
        {
          strategy: 'declarative',
          'kong-addr': kong.adminUrl,
          'kong-admin-token': TOKEN,
          state: 'latest',
          store,
          ...storeInputs,
          'age-identity': alice.text,
          'wait-timeout': '20',
          'report-file': join(w.dir, 'restore-report.json'),
        },
        { env: runnerEnv(target, storeEnv) },
      )
      expect(run.stderr).toBe('')
      expect(run.exitCode).toBe(0)
      expect(run.outputs.verified).toBe('true')
      const syncs = (await readCalls(w.log)).filter((c) => c.argv.includes('sync'))
      for (const [name, value] of Object.entries(variables)) expect(syncs[0]!.env[name]).toBe(value)
      expectHidden(visible(run) + visible(dumped), [...FIXTURE_SECRETS, ...Object.values(variables)])
    },
    60_000,
  )
})

describe('deckhand secrets (CLI)', () => {
  const env = (extra: Record<string, string> = {}) => ({
    PATH: process.env.PATH ?? '',
    HOME: w.dir,
    ...extra,
  })

  test('list prints the names, and the recipients on stderr; the key comes from a file or the environment', async () => {
    expect((await dump({ 'age-recipients': `${alice.recipient}\n${bob.recipient}` })).exitCode).toBe(0)
    const variables = await decrypted(bob)
    const bundle = join(out, 'secrets.age')
    const byFile = await runCli(['secrets', 'list', '--bundle', bundle, '--age-identity-file', alice.file], {
      env: env(),
    })
    expect(byFile.code).toBe(0)
    expect(byFile.stdout).toBe(
      Object.keys(variables)
        .map((n) => `${n}\n`)
        .join(''),
    )
    expect(byFile.stderr).toMatch(
      new RegExp(
        `${bundle}: ${Object.keys(variables).length} variable\\(s\\), encrypted to age:[0-9a-f]{16}, age:[0-9a-f]{16}\\n`,
      ),
    )
    const byEnv = await runCli(['secrets', 'list'], {
      env: env({ DECKHAND_AGE_IDENTITY: bob.text }),
      cwd: w.dir,
    })
    expect(byEnv.code).toBe(0)
    expect(byEnv.stdout).toBe(byFile.stdout)
    expectHidden(byFile.stdout + byFile.stderr + byEnv.stdout + byEnv.stderr, Object.values(variables))
  })

  test('rekey encrypts to new recipients in place and updates SHA256SUMS; the next dump keeps it', async () => {
    expect((await dump()).exitCode).toBe(0)
    const variables = await decrypted(alice)
    const bundle = join(out, 'secrets.age')
    const run = await runCli(['secrets', 'rekey', '--bundle', bundle, '--age-recipients', bob.recipient], {
      env: env({ DECKHAND_AGE_IDENTITY: alice.file }),
    })
    expect(run.stderr).toMatch(
      /variable\(s\) encrypted anew to age:[0-9a-f]{16} \(before: age:[0-9a-f]{16}\); .*SHA256SUMS updated\./,
    )
    expect(run.code).toBe(0)
    expect(await decrypted(bob)).toEqual(variables)
    expect((await age(['-d', '-i', alice.file, bundle])).code).not.toBe(0)
    const sums = await readFile(join(out, 'SHA256SUMS'), 'utf8')
    expect(sums).toContain(
      `${createHash('sha256')
        .update(await readFile(bundle))
        .digest('hex')}  secrets.age`,
    )
    expect((await readdir(out)).filter((f) => f.startsWith('.'))).toEqual([])

    // A dump to the new recipient finds nothing changed.
    const before = await snapshot(out)
    const again = await dump({ 'age-recipients': bob.recipient })
    expect(again.exitCode).toBe(0)
    expect(again.outputs.changed).toBe('false')
    expect(await snapshot(out)).toEqual(before)
  })

  test('usage errors exit 2, failures exit 1, and the key is never taken on the command line', async () => {
    expect((await dump()).exitCode).toBe(0)
    const bundle = join(out, 'secrets.age')
    const noKey = await runCli(['secrets', 'list', '--bundle', bundle], { env: env() })
    expect(noKey.code).toBe(2)
    expect(noKey.stderr).toContain('the bundle needs its age identity')
    const onArgv = await runCli(['secrets', 'list', '--bundle', bundle, '--age-identity', alice.secretKey], {
      env: env(),
    })
    expect(onArgv.code).toBe(2)
    expect(onArgv.stderr).toContain('--age-identity would put the key in the process list')
    expect(onArgv.stderr).not.toContain(alice.secretKey)
    const noRecipients = await runCli(['secrets', 'rekey', '--bundle', bundle], {
      env: env({ DECKHAND_AGE_IDENTITY: alice.file }),
    })
    expect(noRecipients.code).toBe(2)
    expect((await runCli(['secrets', 'shred'], { env: env() })).code).toBe(2)
    expect((await runCli(['secrets', 'list', '--bogus'], { env: env() })).code).toBe(2)

    const wrongKey = await runCli(['secrets', 'list', '--bundle', bundle, '--age-identity-file', bob.file], {
      env: env(),
    })
    expect(wrongKey.code).toBe(1)
    expect(wrongKey.stderr).toMatch(
      /cannot be decrypted with the age identity given \(age:[0-9a-f]{16}\): it was encrypted to age:/,
    )
    const missing = await runCli(['secrets', 'list', '--bundle', join(w.dir, 'nope.age')], {
      env: env({ DECKHAND_AGE_IDENTITY: alice.text }),
    })
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('nope.age does not exist')
    const badRecipient = await runCli(
      ['secrets', 'rekey', '--bundle', bundle, '--age-recipients', 'age1nope'],
      {
        env: env({ DECKHAND_AGE_IDENTITY: alice.file }),
      },
    )
    expect(badRecipient.code).toBe(1)

    const help = await runCli(['--help'], { env: env() })
    expect(help.stdout).toMatch(/secrets list +Print the names/)
    expect(help.stdout).toMatch(/secrets rekey +Re-encrypt the secret bundle/)
  })
})
