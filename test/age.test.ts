import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { generateHybridIdentity, identityToRecipient } from 'age-encryption'

import {
  decryptBytes,
  decryptFile,
  encryptBytes,
  encryptFile,
  fingerprint,
  parseIdentities,
  parseRecipients,
  readStanzas,
} from '../actions/engine/age.js'
import { DeckhandError } from '../actions/engine/errors.js'
import { age, keygen, type KeyPair } from './support/age-tool.js'

let dir: string
let alice: KeyPair
let bob: KeyPair

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deckhand-age-'))
  alice = await keygen(dir, 'alice')
  bob = await keygen(dir, 'bob')
})
afterAll(() => rm(dir, { recursive: true, force: true }))

const thrown = async (promise: Promise<unknown>): Promise<DeckhandError> => {
  try {
    await promise
  } catch (err) {
    expect(err).toBeInstanceOf(DeckhandError)
    return err as DeckhandError
  }
  throw new Error('expected a DeckhandError')
}
const thrownSync = (f: () => unknown): DeckhandError => {
  try {
    f()
  } catch (err) {
    expect(err).toBeInstanceOf(DeckhandError)
    return err as DeckhandError
  }
  throw new Error('expected a DeckhandError')
}

describe('recipients', () => {
  test('are sorted and unique, comments and blank lines skipped, each named by its fingerprint', () => {
    const parsed = parseRecipients([`# ops team`, bob.recipient, '', `  ${alice.recipient}  `, bob.recipient])
    expect(parsed.map((r) => r.key)).toEqual([alice.recipient, bob.recipient].sort())
    for (const r of parsed) {
      expect(r.fingerprint).toMatch(/^age:[0-9a-f]{16}$/)
      expect(r.fingerprint).toBe(fingerprint(r.key))
    }
    expect(fingerprint(alice.recipient)).not.toBe(fingerprint(bob.recipient))
  })

  test('SSH keys, secret keys and junk are refused with what to give instead', () => {
    expect(
      thrownSync(() => parseRecipients(['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk user@host'])).message,
    ).toMatch(/SSH public keys are not supported.*age-keygen/)
    const secret = alice.secretKey
    const refused = thrownSync(() => parseRecipients([secret]))
    expect(refused.message).toMatch(/holds an age secret key: give the public key/)
    expect(refused.message).not.toContain(secret.slice(20))
    expect(thrownSync(() => parseRecipients(['not-a-key'])).message).toMatch(
      /"not-a-key" is not an age recipient/,
    )
    // A key with a broken checksum looks right but does not decode.
    const broken = alice.recipient.slice(0, -1) + (alice.recipient.endsWith('q') ? 'p' : 'q')
    expect(thrownSync(() => parseRecipients([broken])).message).toMatch(/is not a valid age recipient/)
  })
  test('post-quantum (age1pq1…) keys are accepted as well', async () => {
    const identity = await generateHybridIdentity()
    const recipient = await identityToRecipient(identity)
    const [parsed] = parseRecipients([recipient])
    expect(parsed!.key).toBe(recipient)
    const data = await encryptBytes('quantum\n', [parsed!])
    const opened = await decryptBytes(data, await parseIdentities(`${identity}\n`), 'pq.age')
    expect(Buffer.from(opened).toString()).toBe('quantum\n')
  })
})

describe('identities', () => {
  test("an age-keygen file's text gives its key and its recipient's fingerprint", async () => {
    const parsed = await parseIdentities(alice.text + bob.text)
    expect(parsed.keys).toHaveLength(2)
    expect(parsed.fingerprints).toEqual([fingerprint(alice.recipient), fingerprint(bob.recipient)])
  })

  test('a line that is no identity is named by its number, and nothing of the text is quoted', async () => {
    const key = alice.secretKey
    const typo = key.slice(0, -3) + 'xyz'
    const err = await thrown(parseIdentities(`# created: today\n${typo}\n`))
    expect(err.message).toMatch(/line 2 is not an age identity/)
    expect(err.message).not.toContain(typo.slice(16, 40))
    const checksum = key.slice(0, -1) + (key.endsWith('Q') ? 'P' : 'Q')
    const bad = await thrown(parseIdentities(checksum))
    expect(bad.message).toMatch(/line 1 is not a valid age identity/)
    expect(bad.message).not.toContain(checksum.slice(16, 40))
    expect((await thrown(parseIdentities('# nothing\n'))).message).toMatch(/holds no age identity/)
  })
})

describe('interoperability with the age tool', () => {
  test('what deckhand encrypts, with an extra header stanza, age -d decrypts', async () => {
    const plain = `{"hello": "wörld"}\n`
    const data = await encryptBytes(plain, parseRecipients([alice.recipient]), {
      args: ['deckhand-stamp', 'c2FsdA', 'age:0123456789abcdef'],
      body: randomBytes(32),
    })
    const run = await age(['-d', '-i', alice.file], data)
    expect(run.stderr).toBe('')
    expect(run.stdout.toString('utf8')).toBe(plain)
    // The stanza is in the header for anyone to read, without a key.
    const stanzas = await readStanzas(data)
    expect(stanzas?.find((s) => s.args[0] === 'deckhand-stamp')?.args).toEqual([
      'deckhand-stamp',
      'c2FsdA',
      'age:0123456789abcdef',
    ])
  })

  test('what age -r and age -R encrypt, deckhand decrypts', async () => {
    const plain = Buffer.from('secret payload\n')
    const identities = await parseIdentities(alice.text)
    const byKey = await age(['-r', alice.recipient], plain)
    expect(Buffer.from(await decryptBytes(byKey.stdout, identities, 'x.age'))).toEqual(plain)
    const list = join(dir, 'recipients.txt')
    await writeFile(list, `# team\n${alice.recipient}\n`)
    const byFile = await age(['-R', list], plain)
    expect(Buffer.from(await decryptBytes(byFile.stdout, identities, 'x.age'))).toEqual(plain)
    // The recipients file's own format is what parseRecipients reads.
    expect(parseRecipients((await readFile(list, 'utf8')).split('\n')).map((r) => r.key)).toEqual([
      alice.recipient,
    ])
    expect(await readStanzas(byKey.stdout)).toHaveLength(1)
  })

  test('a file for two recipients opens with either identity, in deckhand and in age', async () => {
    const plain = 'for both\n'
    const data = await encryptBytes(plain, parseRecipients([alice.recipient, bob.recipient]))
    for (const key of [alice, bob]) {
      const identities = await parseIdentities(key.text)
      expect(Buffer.from(await decryptBytes(data, identities, 'x.age')).toString()).toBe(plain)
      expect((await age(['-d', '-i', key.file], data)).stdout.toString()).toBe(plain)
    }
    const both = await age(['-r', alice.recipient, '-r', bob.recipient], Buffer.from(plain))
    const identities = await parseIdentities(bob.text)
    expect(Buffer.from(await decryptBytes(both.stdout, identities, 'x.age')).toString()).toBe(plain)
  })
})

describe('failures', () => {
  test('a wrong identity is named, with the recipients the file was written to', async () => {
    const data = await encryptBytes('x', parseRecipients([alice.recipient]))
    const err = await thrown(
      decryptBytes(data, await parseIdentities(bob.text), 'kong/secrets.age', [fingerprint(alice.recipient)]),
    )
    expect(err.message).toContain(
      `kong/secrets.age cannot be decrypted with the age identity given (${fingerprint(bob.recipient)})`,
    )
    expect(err.message).toContain(`it was encrypted to ${fingerprint(alice.recipient)}`)
    const anonymous = await thrown(decryptBytes(data, await parseIdentities(bob.text), 'x.age'))
    expect(anonymous.message).toContain('it was encrypted to other recipients')
  })

  test('a file cut short or changed is named as damaged', async () => {
    const data = await encryptBytes('y'.repeat(100_000), parseRecipients([alice.recipient]))
    const identities = await parseIdentities(alice.text)
    for (const damaged of [data.subarray(0, data.length - 10), flip(data, data.length - 20)]) {
      expect((await thrown(decryptBytes(damaged, identities, 'kong/secrets.age'))).message).toMatch(
        /kong\/secrets\.age is not a readable age file .*damaged or was changed/,
      )
    }
    expect(await readStanzas(Buffer.from('{"format": "deckhand-secrets/1"}'))).toBeUndefined()
  })
})

describe('files, as streams', () => {
  // Up to 1 MiB a file is encrypted in one piece, beyond it streamed: both sides of the line, and an empty file.
  test.each([0, 1000, 2 ** 20, 2 ** 20 + 1])(
    'a file of %i bytes round-trips through age, 0600',
    async (size) => {
      const source = join(dir, `sized-${size}.bin`)
      const data = randomBytes(size)
      await writeFile(source, data)
      const sealed = join(dir, `sized-${size}.age`)
      await encryptFile(source, sealed, parseRecipients([alice.recipient]), false)
      expect((await stat(sealed)).mode & 0o777).toBe(0o600)
      expect((await age(['-d', '-i', alice.file, sealed])).stdout.equals(data)).toBe(true)
      expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([])
    },
  )

  test('a large file round-trips; the result is private and nothing temporary is left', async () => {
    const source = join(dir, 'big.bin')
    const data = randomBytes(3 * 2 ** 20 + 17)
    await writeFile(source, data)
    const sealed = join(dir, 'big.age')
    await encryptFile(source, sealed, parseRecipients([alice.recipient]))
    expect((await age(['-d', '-i', alice.file, sealed])).stdout.equals(data)).toBe(true)
    const opened = join(dir, 'big.out')
    await decryptFile(sealed, opened, await parseIdentities(alice.text), 'big.age')
    expect((await readFile(opened)).equals(data)).toBe(true)
    expect((await stat(opened)).mode & 0o777).toBe(0o600)
    // A wrong identity writes nothing at all.
    const nothing = join(dir, 'nothing.out')
    await thrown(decryptFile(sealed, nothing, await parseIdentities(bob.text), 'big.age'))
    expect(await stat(nothing).catch(() => undefined)).toBeUndefined()
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })
})

function flip(data: Uint8Array, at: number): Uint8Array {
  const copy = Uint8Array.from(data)
  copy[at] = copy[at]! ^ 0xff
  return copy
}
