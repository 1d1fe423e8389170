import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { scryptSync } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'

import { parseIdentities, parseRecipients, readStanzas } from '../actions/engine/age.js'
import { DeckhandError } from '../actions/engine/errors.js'
import {
  bundlePlaintext,
  isAgeFile,
  isDecryptedBundle,
  openBundle,
  readBundle,
  sealBundle,
} from '../actions/engine/secrets/bundle.js'
import { DeckVariables } from '../actions/engine/secrets/variables.js'
import { processContent } from '../actions/engine/state/pipeline.js'
import { age, keygen, type KeyPair } from './support/age-tool.js'
import { renderDeckTemplate } from './support/deck-template.js'
import { PEM_CERT, PEM_KEY, sampleState } from './support/sample-state.js'

let dir: string
let alice: KeyPair
let bob: KeyPair
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deckhand-bundle-'))
  alice = await keygen(dir, 'alice')
  bob = await keygen(dir, 'bob')
})
afterAll(() => rm(dir, { recursive: true, force: true }))

const vars = (entries: Record<string, string>) => new Map(Object.entries(entries))

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (err) {
    expect(err).toBeInstanceOf(DeckhandError)
    return (err as Error).message
  }
  throw new Error('expected a DeckhandError')
}

describe('values captured during redaction', () => {
  test('substitute back exactly, as deck renders them: PEM keys, URL credentials, header lines, edge spaces', async () => {
    const state = sampleState() as Record<string, unknown> & { services: Record<string, unknown>[] }
    state.services.push(
      // Only the credentials of a URL become the reference: prefix and suffix stay in the file.
      { name: 'ledger', url: 'https://ledger:L3dg3r-pa55w0rd@ledger.internal:8443/v1' },
      {
        name: 'mail',
        host: 'mail.internal',
        plugins: [
          {
            name: 'request-transformer',
            config: { add: { headers: ['X-Api-Key:  spaced-K3y-0a9b8c7d6e ', 'X-Env:prod'] } },
          },
          {
            name: 'http-log',
            config: {
              http_endpoint: 'https://logs.internal',
              custom_fields_by_lua: {},
              headers: { Authorization: ['Bearer no-final-newline\nsecond-line'] },
            },
          },
        ],
      },
    )
    const original = parse(
      processContent(structuredClone(state), { workspace: 'payments', redact: false, source: 't' }).yaml,
    )
    const result = processContent(state, { workspace: 'payments', redact: true, source: 't' })
    // Every variable the file references has its value, and only those.
    expect([...result.secrets.keys()].sort()).toEqual(result.redactions.map((r) => r.name).sort())
    for (const value of ['L3dg3r-pa55w0rd', PEM_KEY]) expect(result.yaml).not.toContain(value)
    expect(JSON.stringify(result.redactions)).not.toContain('L3dg3r-pa55w0rd')

    // Through the bundle and back, as a restore gets them.
    const recipients = parseRecipients([alice.recipient])
    const sealed = await sealBundle(result.secrets, recipients)
    const opened = await openBundle(sealed.bytes, await parseIdentities(alice.text), 'secrets.age')
    const env = Object.fromEntries(opened.variables)
    expect(parse(renderDeckTemplate(result.yaml, env))).toEqual(original)
    // The URL's variable holds the credentials alone; the PEM key its whole text, final line break included.
    const url = [...opened.variables.entries()].find(([name]) => name.includes('LEDGER'))
    expect(url?.[1]).toBe('ledger:L3dg3r-pa55w0rd')
    expect([...opened.variables.values()]).toContain(PEM_KEY)
    expect(result.yaml).toContain('| indent ')
    expect(result.yaml).toContain(PEM_CERT.split('\n')[1])
  })
})

describe('sealing', () => {
  const values = vars({ DECK_B: 'two', DECK_A: 'one\nline two\n' })

  test('the plaintext is JSON with the names sorted, which age -d and jq read', async () => {
    expect(bundlePlaintext(values)).toBe(
      '{\n  "format": "deckhand-secrets/1",\n  "variables": {\n    "DECK_A": "one\\nline two\\n",\n    "DECK_B": "two"\n  }\n}\n',
    )
    const sealed = await sealBundle(values, parseRecipients([alice.recipient]))
    const run = await age(['-d', '-i', alice.file], sealed.bytes)
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout.toString('utf8'))).toEqual({
      format: 'deckhand-secrets/1',
      variables: { DECK_A: 'one\nline two\n', DECK_B: 'two' },
    })
  })

  test('unchanged values for unchanged recipients keep the previous bytes; anything else encrypts anew', async () => {
    const recipients = parseRecipients([alice.recipient])
    const first = await sealBundle(values, recipients)
    expect(first.unchanged).toBe(false)
    const again = await sealBundle(
      vars({ DECK_A: 'one\nline two\n', DECK_B: 'two' }),
      recipients,
      first.bytes,
    )
    expect(again).toEqual({ bytes: first.bytes, unchanged: true })

    const changed = await sealBundle(
      vars({ DECK_A: 'one\nline two\n', DECK_B: 'TWO' }),
      recipients,
      first.bytes,
    )
    expect(changed.unchanged).toBe(false)
    expect(Buffer.from(changed.bytes).equals(Buffer.from(first.bytes))).toBe(false)
    const added = await sealBundle(
      vars({ DECK_A: 'one\nline two\n', DECK_B: 'two', DECK_C: 'x' }),
      recipients,
      first.bytes,
    )
    expect(added.unchanged).toBe(false)

    const rekeyed = await sealBundle(values, parseRecipients([bob.recipient]), first.bytes)
    expect(rekeyed.unchanged).toBe(false)
    expect((await age(['-d', '-i', bob.file], rekeyed.bytes)).code).toBe(0)
    expect((await age(['-d', '-i', alice.file], rekeyed.bytes)).code).not.toBe(0)
    // Fresh salt each time: two bundles of the same values do not look alike.
    const stamps = await Promise.all([first, changed].map(async (s) => (await readStanzas(s.bytes))!))
    const salts = stamps.map((st) => st.find((s) => s.args[0] === 'deckhand-stamp')!.args[1])
    expect(salts[0]).not.toBe(salts[1])
  })

  test('the stamp is scrypt (N=2^15, r=8, p=1) of the recipients and the plaintext under its salt', async () => {
    const recipients = parseRecipients([bob.recipient, alice.recipient])
    const sealed = await sealBundle(values, recipients)
    const stanza = (await readStanzas(sealed.bytes))!.find((s) => s.args[0] === 'deckhand-stamp')!
    const [, salt, ...fingerprints] = stanza.args
    expect(fingerprints).toEqual(recipients.map((r) => r.fingerprint))
    expect(Buffer.from(salt!, 'base64')).toHaveLength(16)
    const input = `deckhand-stamp/1\n${recipients
      .map((r) => r.key)
      .sort()
      .join('\n')}\n\n${bundlePlaintext(values)}`
    const expected = scryptSync(input, Buffer.from(salt!, 'base64'), 32, {
      N: 2 ** 15,
      r: 8,
      p: 1,
      maxmem: 64 * 2 ** 20,
    })
    expect(Buffer.from(stanza.body).equals(expected)).toBe(true)
    // Nothing of a value is in the header.
    expect(Buffer.from(sealed.bytes).toString('latin1')).not.toContain('line two')
  })

  test('names deck would not expand, or reads as its own settings, are refused', async () => {
    const recipients = parseRecipients([alice.recipient])
    expect(await failure(sealBundle(vars({ 'deck-lower': 'x' }), recipients))).toMatch(
      /"deck-lower" is not a deck variable name/,
    )
    expect(await failure(sealBundle(vars({ DECK_KONG_ADDR: 'http://evil' }), recipients))).toMatch(
      /DECK_KONG_ADDR, which deck reads as one of its own settings/,
    )
  })
})

describe('opening', () => {
  test('a JSON file encrypted by age -r, or armored with age -a, is read; its recipients are unknown', async () => {
    const json = Buffer.from(
      JSON.stringify({ format: 'deckhand-secrets/1', variables: { DECK_X: 'x-value' } }),
    )
    const identities = await parseIdentities(alice.text)
    for (const flags of [
      ['-r', alice.recipient],
      ['-a', '-r', alice.recipient],
    ]) {
      const file = join(dir, `plain-age${flags.length}.age`)
      await writeFile(file, (await age(flags, json)).stdout)
      const opened = await readBundle(file, identities)
      expect(opened).toEqual({ variables: vars({ DECK_X: 'x-value' }), recipients: undefined })
    }
  })

  test('a bundle deckhand wrote names its recipients, so a wrong identity is told which keys would open it', async () => {
    const sealed = await sealBundle(vars({ DECK_X: 'x-value' }), parseRecipients([alice.recipient]))
    const message = await failure(
      openBundle(sealed.bytes, await parseIdentities(bob.text), 'kong/secrets.age'),
    )
    expect(message).toContain(parseRecipients([bob.recipient])[0]!.fingerprint)
    expect(message).toContain(`encrypted to ${parseRecipients([alice.recipient])[0]!.fingerprint}`)
  })

  test('content that is no bundle is refused by the file, never quoting a value', async () => {
    const identities = await parseIdentities(alice.text)
    const sealedJson = async (text: string) => (await age(['-r', alice.recipient], Buffer.from(text))).stdout
    const cases: [string, RegExp][] = [
      [
        'not json s3cret-in-text',
        /is not a valid secret bundle \(decrypted\): invalid JSON at line 1, column 1/,
      ],
      ['[1, 2]', /is not a secret bundle: expected a JSON object/],
      ['{"format": "deckhand-secrets/9", "variables": {}}', /has format "deckhand-secrets\/9"/],
      ['{"format": "deckhand-secrets/1", "variables": []}', /"variables" must be an object/],
      [
        '{"format": "deckhand-secrets/1", "variables": {"DECK_N": 42}}',
        /the value of DECK_N is not a string \(it is a number\)/,
      ],
      [
        '{"format": "deckhand-secrets/1", "variables": {"PATH": "s3cret-path"}}',
        /"PATH" is not a deck variable name/,
      ],
      [
        '{"format": "deckhand-secrets/1", "variables": {"DECK_HEADERS": "s3cret-h"}}',
        /DECK_HEADERS, which deck reads/,
      ],
    ]
    for (const [text, expected] of cases) {
      const message = await failure(openBundle(await sealedJson(text), identities, 'kong/secrets.age'))
      expect(message).toMatch(expected)
      expect(message).not.toMatch(/s3cret|42/)
    }
    expect(await failure(openBundle(Buffer.from('{"format": 1}'), identities, 'kong/secrets.age'))).toMatch(
      /kong\/secrets\.age is not an age file/,
    )
  })

  test('isAgeFile tells an age file from anything named like one', async () => {
    const sealed = await sealBundle(vars({ DECK_X: 'x' }), parseRecipients([alice.recipient]))
    const text = Buffer.from(sealed.bytes).toString('utf8')
    expect(isAgeFile(text)).toBe(true)
    expect(isAgeFile(Buffer.from(sealed.bytes).toString('latin1'))).toBe(true)
    const armored = (await age(['-a', '-r', alice.recipient], Buffer.from('x'))).stdout.toString()
    expect(isAgeFile(armored)).toBe(true)
    const json = bundlePlaintext(vars({ DECK_X: 'x' }))
    expect(isAgeFile(json)).toBe(false)
    expect(isDecryptedBundle(json)).toBe(true)
    expect(isAgeFile(`age-encryption.org/v1\n${json}`)).toBe(false)
    expect(isAgeFile(text.slice(0, text.indexOf('\n---')))).toBe(false)
  })
})

describe('variables for deck', () => {
  test('the environment wins; deck gets only referenced bundle values the environment does not set', async () => {
    const sealed = await sealBundle(
      vars({ DECK_A: 'bundle-a', DECK_B: 'bundle-b', DECK_C: 'bundle-c' }),
      parseRecipients([alice.recipient]),
    )
    const file = join(dir, 'secrets.age')
    await writeFile(file, sealed.bytes)
    const masked: string[] = []
    const variables = await DeckVariables.load({
      bundles: [file],
      identities: await parseIdentities(alice.text),
      env: { DECK_B: 'env-b', PATH: '/bin' },
      secret: (v) => masked.push(v),
    })
    expect(masked.sort()).toEqual(['bundle-a', 'bundle-b', 'bundle-c'])
    expect(variables.view()).toMatchObject({ DECK_A: 'bundle-a', DECK_B: 'env-b', DECK_C: 'bundle-c' })
    expect(variables.forDeck(['DECK_A', 'DECK_B'])).toEqual({ DECK_A: 'bundle-a' })
    expect(variables.overridden()).toEqual(['DECK_B'])
    expect(variables.describe()).toBe(
      `3 variable(s) from the secret bundle ${file}, 1 overridden by the environment (DECK_B).`,
    )
  })

  test('two bundles that disagree on a variable are refused', async () => {
    const recipients = parseRecipients([alice.recipient])
    const files = [join(dir, 'one.age'), join(dir, 'two.age')]
    await writeFile(files[0]!, (await sealBundle(vars({ DECK_A: 'first' }), recipients)).bytes)
    await writeFile(files[1]!, (await sealBundle(vars({ DECK_A: 'second' }), recipients)).bytes)
    const message = await failure(
      DeckVariables.load({
        bundles: files,
        identities: await parseIdentities(alice.text),
        env: {},
        secret: () => undefined,
      }),
    )
    expect(message).toContain(`DECK_A has different values in ${files[0]} and ${files[1]}`)
    expect(message).not.toMatch(/first|second/)
  })
})
