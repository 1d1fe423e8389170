import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals'
import { createHash } from 'node:crypto'
import { chmod, mkdir, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { type ActionRun, runBundledAction, visibleLog } from '../support/action.js'
import { age, keygen, type KeyPair } from '../support/age-tool.js'
import {
  copyFixture,
  DOUBLE_DIR,
  doubleEnv,
  FIXTURE_SECRETS,
  type GatewayFixture,
  readCalls,
  workdir,
} from '../support/deck-double.js'

/**
 * The encrypted secret bundle (secrets.age) gives up nothing it should not, whatever it holds: a wrong identity
 * fails the step naming the identity's and the bundle's fingerprints, before deck runs or anything is sent; a
 * damaged bundle is named as damaged, and a dump replaces it rather than keeping it; a bundle over 64 MiB is
 * refused before it is read, and one holding names deck would not expand, deck's own settings (DECK_KONG_ADDR)
 * or values that are not strings is refused without quoting a value. Only the variables the state files
 * reference reach deck, in its own environment, and the age identity never does. Two dumps into one folder at
 * once leave a complete bundle that the next dump keeps consistent with SHA256SUMS.
 */

const KONG = 'http://127.0.0.1:8001'
const TOKEN = 'kong-admin-s3cret'
const connection = { 'kong-addr': KONG, 'kong-admin-token': TOKEN }

let keys: string
let alice: KeyPair
let mallory: KeyPair
let w: Awaited<ReturnType<typeof workdir>>
let out: string
let bundle: string

beforeAll(async () => {
  keys = (await workdir()).dir
  alice = await keygen(keys, 'alice')
  mallory = await keygen(keys, 'mallory')
})
afterAll(() => rm(keys, { recursive: true, force: true }))
beforeEach(async () => {
  w = await workdir()
  out = join(w.dir, 'kong')
  bundle = join(out, 'secrets.age')
})
afterEach(() => w.cleanup())

const env = (extra: Record<string, string> = {}) => ({ ...doubleEnv({ log: w.log }), ...extra })

async function dump(extra: Record<string, string> = {}): Promise<ActionRun> {
  return runBundledAction(
    'dump',
    {
      ...connection,
      'all-workspaces': 'true',
      'output-dir': out,
      'age-recipients': alice.recipient,
      ...extra,
    },
    { env: env() },
  )
}

/** The values the bundle holds, decrypted by the age tool. */
async function values(): Promise<Record<string, string>> {
  const run = await age(['-d', '-i', alice.file, bundle])
  expect(run.stderr).toBe('')
  return (JSON.parse(run.stdout.toString()) as { variables: Record<string, string> }).variables
}

/** A bundle of `text`, encrypted with the age tool (anyone with the public key can write one). */
async function plant(text: string): Promise<void> {
  await writeFile(bundle, (await age(['-r', alice.recipient], Buffer.from(text))).stdout)
}

const visible = (run: ActionRun) =>
  [visibleLog(run.stdout), run.stderr, run.summary, JSON.stringify(run.outputs)].join('\n')

/** An empty gateway to sync into, so that a sync that ran would change it. */
async function emptyGateway(): Promise<string> {
  const dir = join(w.dir, 'target')
  await mkdir(dir, { recursive: true })
  return copyFixture('enterprise.yaml', dir, (f: GatewayFixture) => {
    const workspaces = f.workspaces as Record<string, unknown>
    for (const ws of Object.keys(workspaces)) workspaces[ws] = {}
  })
}

function sync(gateway: string, extra: Record<string, string> = {}): Promise<ActionRun> {
  return runBundledAction(
    'sync',
    { ...connection, state: out, 'age-identity': alice.text, ...extra },
    { env: doubleEnv({ gateway, log: join(w.dir, 'sync-calls.jsonl') }) },
  )
}

describe('a wrong identity', () => {
  test('fails sync and validate naming both fingerprints, before deck runs; nothing is sent or shown', async () => {
    expect((await dump()).exitCode).toBe(0)
    const secrets = Object.values(await values())
    const gateway = await emptyGateway()
    const before = await readFile(gateway)
    const aliceFp = /\(age:[0-9a-f]{16}\)/.exec((await dump()).summary)![0].slice(1, -1)

    const run = await sync(gateway, { 'age-identity': mallory.text })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(
      new RegExp(
        `::error::${bundle} cannot be decrypted with the age identity given \\(age:[0-9a-f]{16}\\): it was encrypted to ${aliceFp}\\.`,
      ),
    )
    expect(await readCalls(join(w.dir, 'sync-calls.jsonl'))).toEqual([])
    expect((await readFile(gateway)).equals(before)).toBe(true)
    for (const secret of [...secrets, ...FIXTURE_SECRETS, mallory.secretKey])
      expect(visible(run)).not.toContain(secret)

    const validate = await runBundledAction(
      'validate',
      { state: out, 'age-identity': mallory.file },
      { env: env() },
    )
    expect(validate.exitCode).toBe(1)
    expect(validate.stdout).toContain(`it was encrypted to ${aliceFp}`)
  })
})

describe('a damaged bundle', () => {
  test('cut short or changed, it fails with what happened and nothing is sent', async () => {
    expect((await dump()).exitCode).toBe(0)
    const whole = await readFile(bundle)
    const gateway = await emptyGateway()
    const flipped = Buffer.from(whole)
    flipped.writeUInt8(flipped[flipped.length - 40]! ^ 0x01, flipped.length - 40)
    for (const damaged of [whole.subarray(0, whole.length - 100), flipped, whole.subarray(0, 30)]) {
      await writeFile(bundle, damaged)
      const run = await sync(gateway)
      expect(run.exitCode).toBe(1)
      expect(run.stdout).toMatch(
        new RegExp(
          `::error::${bundle} is not a readable age file.*(damaged or was changed|cut short or damaged)`,
        ),
      )
      expect(await readCalls(join(w.dir, 'sync-calls.jsonl'))).toEqual([])
    }
  })

  test('a dump does not keep a bundle SHA256SUMS no longer vouches for: it writes a complete one', async () => {
    expect((await dump()).exitCode).toBe(0)
    const expected = await values()
    const whole = await readFile(bundle)
    // Cut short after the header: its stamp still matches the values, the file is no longer whole.
    await writeFile(bundle, whole.subarray(0, whole.length - 50))
    const run = await dump()
    expect(run.exitCode).toBe(0)
    expect(run.summary).toContain('rewritten')
    expect(await values()).toEqual(expected)
    const sums = await readFile(join(out, 'SHA256SUMS'), 'utf8')
    expect(sums).toContain(
      `${createHash('sha256')
        .update(await readFile(bundle))
        .digest('hex')}  secrets.age`,
    )
  })
})

describe('hostile bundle content', () => {
  beforeEach(async () => {
    expect((await dump()).exitCode).toBe(0)
  })

  test('a bundle over 64 MiB is refused before it is read', async () => {
    await writeFile(bundle, '')
    await truncate(bundle, 64 * 2 ** 20 + 1)
    const run = await runBundledAction('validate', { state: out, 'age-identity': alice.text }, { env: env() })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toContain(
      `::error::${bundle} is ${64 * 2 ** 20 + 1} bytes, more than a secret bundle may be (${64 * 2 ** 20}); refused before reading.`,
    )
  })

  const refused: [string, Record<string, unknown>, RegExp][] = [
    ['a name deck would not expand', { PATH: '/evil:s3cret-1' }, /"PATH" is not a deck variable name/],
    [
      'a long name that is no deck variable',
      { [`deck-${'a'.repeat(5000)}`]: 's3cret-2' },
      /"deck-a{55}…" is not a deck variable name/,
    ],
    [
      'deck’s own address',
      { DECK_KONG_ADDR: 'http://s3cret-3.evil' },
      /DECK_KONG_ADDR, which deck reads as one of its own settings/,
    ],
    ['deck’s headers', { DECK_HEADERS: 'X-Leak:s3cret-4' }, /DECK_HEADERS, which deck reads/],
    [
      'a Konnect setting',
      { DECK_KONNECT_ADDR: 'https://s3cret-5.evil' },
      /DECK_KONNECT_ADDR, which deck reads/,
    ],
    [
      'a number',
      { DECK_DEFAULT_X: 4242424242 },
      /the value of DECK_DEFAULT_X is not a string \(it is a number\)/,
    ],
    [
      'an object',
      { DECK_DEFAULT_X: { nested: 's3cret-6' } },
      /the value of DECK_DEFAULT_X is not a string \(it is an object\)/,
    ],
  ]

  test('names deck would not expand, deck’s own settings and values that are not strings are refused, no value quoted, deck never run', async () => {
    const gateway = await emptyGateway()
    for (const [what, variables, expected] of refused) {
      await plant(JSON.stringify({ format: 'deckhand-secrets/1', variables }))
      const run = await sync(gateway)
      expect({ what, exit: run.exitCode }).toEqual({ what, exit: 1 })
      expect(run.stdout).toMatch(expected)
      expect(visible(run)).not.toMatch(/s3cret|4242424242/)
      expect(await readCalls(join(w.dir, 'sync-calls.jsonl'))).toEqual([])
    }
  })

  test('a bundle that is not JSON, or not a bundle, is named by position, never quoted', async () => {
    for (const [text, expected] of [
      ['DECK_A=s3cret-7\n', /is not a valid secret bundle \(decrypted\): invalid JSON at line 1, column 1/],
      ['{"variables": {"DECK_A": "s3cret-8"}}', /has format missing or unknown/],
      [`{"format": "deckhand-secrets/1", "variables": {"DECK_A": "s3cret-9",}}`, /invalid JSON at line 1/],
    ] as const) {
      await plant(text)
      const run = await runBundledAction(
        'validate',
        { state: out, 'age-identity': alice.text },
        { env: env() },
      )
      expect(run.exitCode).toBe(1)
      expect(run.stdout).toMatch(expected)
      expect(visible(run)).not.toContain('s3cret')
    }
  })
})

describe("deck's environment", () => {
  test('gets only the variables the files reference, never the identity or deckhand’s settings', async () => {
    expect((await dump({ 'all-workspaces': 'false', workspace: 'team-payments' })).exitCode).toBe(0)
    const referenced = await values()
    // A bundle that holds one more value than the files reference.
    const extra = 'DECK_TEAM_PAYMENTS_NOT_REFERENCED'
    await plant(
      JSON.stringify({
        format: 'deckhand-secrets/1',
        variables: { ...referenced, [extra]: 'unreferenced-s3cret' },
      }),
    )
    const shim = join(w.dir, 'bin')
    await mkdir(shim)
    const record = join(w.dir, 'deck-env')
    await writeFile(
      join(shim, 'deck'),
      `#!/bin/sh\nenv > '${record}'.$$\nexec '${join(DOUBLE_DIR, 'deck')}' "$@"\n`,
    )
    await chmod(join(shim, 'deck'), 0o755)
    const gateway = await emptyGateway()
    const base = doubleEnv({ gateway, log: join(w.dir, 'sync-calls.jsonl') })
    const run = await runBundledAction(
      'sync',
      { ...connection, state: out, 'age-identity': alice.file },
      { env: { ...base, PATH: `${shim}:${base.PATH}`, DECKHAND_AGE_IDENTITY: alice.text } },
    )
    expect(run.exitCode).toBe(0)
    const seen = await Promise.all(
      (await readdir(w.dir))
        .filter((f) => f.startsWith('deck-env.'))
        .map((f) => readFile(join(w.dir, f), 'utf8')),
    )
    expect(seen.length).toBeGreaterThanOrEqual(2)
    const syncEnv = seen.find((text) => Object.keys(referenced).every((name) => text.includes(`${name}=`)))
    expect(syncEnv).toBeDefined()
    for (const text of seen) {
      expect(text).not.toContain(extra)
      expect(text).not.toContain('unreferenced-s3cret')
      expect(text).not.toContain(alice.secretKey)
      expect(text).not.toMatch(/^(INPUT_|DECKHAND_)/m)
    }
  })
})

describe('two dumps into one folder at once', () => {
  test('both succeed, the bundle is complete, and the next dump leaves SHA256SUMS matching every file', async () => {
    const [a, b] = await Promise.all([dump(), dump()])
    expect([a.exitCode, b.exitCode]).toEqual([0, 0])
    const expected = await values()
    expect(Object.keys(expected).length).toBe(Number(a.outputs['secrets-redacted']))

    const third = await dump()
    expect(third.exitCode).toBe(0)
    const sums = (await readFile(join(out, 'SHA256SUMS'), 'utf8')).trim().split('\n')
    for (const line of sums) {
      const [digest, name] = line.split('  ')
      expect({
        name,
        digest: createHash('sha256')
          .update(await readFile(join(out, name!)))
          .digest('hex'),
      }).toEqual({ name, digest })
    }
    expect(await values()).toEqual(expected)
    // And from then on it is stable.
    const before = await readFile(bundle)
    expect((await dump()).outputs.changed).toBe('false')
    expect((await readFile(bundle)).equals(before)).toBe(true)
    expect((await readdir(out)).filter((f) => f.startsWith('.'))).toEqual([])
  })
})
