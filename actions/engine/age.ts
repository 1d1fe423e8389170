import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { open, rename, rm, writeFile } from 'node:fs/promises'
import { Readable, Writable } from 'node:stream'

import {
  Decrypter,
  Encrypter,
  identityToRecipient,
  type Identity,
  type Recipient,
  Stanza,
} from 'age-encryption'

import { DeckhandError, errorMessage } from './errors.js'
import { tempPathFor } from './fs-atomic.js'
import { forgetOnStop } from './shutdown.js'

/**
 * age file encryption (age-encryption.org/v1) through typage, age's own TypeScript implementation. Files it
 * writes decrypt with the `age` command-line tool and files `age -r` writes decrypt here. Recipients are public
 * keys (`age1…`, and the post-quantum `age1pq1…`); identities are the matching `AGE-SECRET-KEY-…` lines of an
 * age key file. X25519 recipients are anonymous in the file itself, so deckhand records their fingerprints
 * beside what it encrypts, to name them when an identity does not match.
 */

/** An age recipient, as given, with the fingerprint deckhand names it by. */
export interface AgeRecipient {
  key: string
  fingerprint: string
}

/** `age:` and the first 16 hex digits of the SHA-256 of the recipient string: short, public, stable. */
export function fingerprint(recipient: string): string {
  return `age:${createHash('sha256').update(recipient).digest('hex').slice(0, 16)}`
}

// X25519 (`age1…`) and hybrid post-quantum (`age1pq1…`: the HRP `age1pq`, then bech32's separator) recipients.
const RECIPIENT = /^age1(?:pq1)?[02-9ac-hj-np-z]{20,}$/
const SSH = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-\S+|sk-ssh-\S+)\s/

/**
 * The recipients of a list input: one per entry, blank entries and `#` comments skipped (the format of
 * `age -R` files, so a recipients file pastes in as it is). Each is sorted and unique, so the order a list
 * is given in changes nothing.
 */
export function parseRecipients(entries: readonly string[], input = 'age-recipients'): AgeRecipient[] {
  const keys = new Set<string>()
  for (const raw of entries) {
    const entry = raw.trim()
    if (entry === '' || entry.startsWith('#')) continue
    if (SSH.test(entry)) {
      throw new DeckhandError(
        `${input}: SSH public keys are not supported by the age implementation deckhand uses. ` +
          'Generate an age key pair with age-keygen (or convert the SSH key with ssh-to-age) and give its age1… public key.',
      )
    }
    if (/^AGE-SECRET-KEY-/i.test(entry)) {
      throw new DeckhandError(
        `${input} holds an age secret key: give the public key (age1…, printed by age-keygen -y), never the identity.`,
      )
    }
    if (!RECIPIENT.test(entry)) {
      throw new DeckhandError(
        `${input}: "${entry.slice(0, 24)}${entry.length > 24 ? '…' : ''}" is not an age recipient (a public key starting age1…).`,
      )
    }
    try {
      // Decodes and checks the key; no file is encrypted.
      new Encrypter().addRecipient(entry)
    } catch (err) {
      throw new DeckhandError(`${input}: ${entry} is not a valid age recipient (${errorMessage(err)}).`)
    }
    keys.add(entry)
  }
  return [...keys].sort().map((key) => ({ key, fingerprint: fingerprint(key) }))
}

/** The identities of an age key file's text, with their recipients' fingerprints; the text is a secret. */
export interface AgeIdentities {
  keys: string[]
  fingerprints: string[]
}

/**
 * The identities in the text of an age key file (what age-keygen writes: `#` comments and one
 * `AGE-SECRET-KEY-1…` line per key). Nothing of the text is ever quoted in an error.
 */
export async function parseIdentities(text: string, input = 'age-identity'): Promise<AgeIdentities> {
  const keys: string[] = []
  const fingerprints: string[] = []
  let line = 0
  for (const raw of text.split(/\r?\n/)) {
    line++
    const entry = raw.trim()
    if (entry === '' || entry.startsWith('#')) continue
    if (!/^AGE-SECRET-KEY-(PQ-)?1[02-9AC-HJ-NP-Z]+$/.test(entry)) {
      throw new DeckhandError(
        `${input}: line ${line} is not an age identity. Give the content of an age key file (AGE-SECRET-KEY-1… lines, as age-keygen writes).`,
      )
    }
    let recipient: string
    try {
      recipient = await identityToRecipient(entry)
    } catch {
      throw new DeckhandError(
        `${input}: line ${line} is not a valid age identity (its checksum does not match).`,
      )
    }
    keys.push(entry)
    fingerprints.push(fingerprint(recipient))
  }
  if (keys.length === 0)
    throw new DeckhandError(`${input} holds no age identity (AGE-SECRET-KEY-1… lines, as age-keygen writes).`)
  return { keys, fingerprints }
}

/** An extra stanza for the header: arguments and body, which age's own identities ignore (age spec, "Stanzas"). */
export interface ExtraStanza {
  args: string[]
  body: Uint8Array
}

function encrypter(recipients: readonly AgeRecipient[], extra?: ExtraStanza): Encrypter {
  if (recipients.length === 0) throw new DeckhandError('no age recipients to encrypt to')
  const e = new Encrypter()
  for (const r of recipients) e.addRecipient(r.key)
  if (extra) {
    // A recipient that wraps nothing: it only carries the stanza into the header, under the header's MAC.
    const carrier: Recipient = { wrapFileKey: () => [new Stanza(extra.args, extra.body)] }
    e.addRecipient(carrier)
  }
  return e
}

function decrypter(identities: AgeIdentities): Decrypter {
  const d = new Decrypter()
  for (const key of identities.keys) d.addIdentity(key)
  return d
}

/** What to say when no identity opens a file: which keys were tried, and which the file was written to. */
function noMatch(what: string, identities: AgeIdentities, recipients?: readonly string[]): DeckhandError {
  return new DeckhandError(
    `${what} cannot be decrypted with the age identity given (${identities.fingerprints.join(', ')})` +
      (recipients && recipients.length > 0
        ? `: it was encrypted to ${recipients.join(', ')}.`
        : ': it was encrypted to other recipients.') +
      ' Give the identity of one of its recipients (age-identity).',
  )
}

function decryptFailure(
  err: unknown,
  what: string,
  identities: AgeIdentities,
  recipients?: readonly string[],
) {
  const message = errorMessage(err)
  if (/no identity matched/.test(message)) return noMatch(what, identities, recipients)
  return new DeckhandError(
    `${what} is not a readable age file (${message}): it is damaged or was changed.`,
    [],
    {
      cause: err,
    },
  )
}

export async function encryptBytes(
  data: Uint8Array | string,
  recipients: readonly AgeRecipient[],
  extra?: ExtraStanza,
): Promise<Uint8Array> {
  return encrypter(recipients, extra).encrypt(data)
}

export async function decryptBytes(
  data: Uint8Array,
  identities: AgeIdentities,
  what: string,
  recipients?: readonly string[],
): Promise<Uint8Array> {
  try {
    return await decrypter(identities).decrypt(data)
  } catch (err) {
    throw decryptFailure(err, what, identities, recipients)
  }
}

/**
 * The header stanzas of an age file, read without any identity: what a dump compares with when it holds only
 * public keys. Undefined when the bytes are not an age file. Nothing here is authenticated (the header's MAC
 * needs the file key).
 */
export async function readStanzas(data: Uint8Array): Promise<ExtraStanza[] | undefined> {
  let seen: Stanza[] | undefined
  const capture: Identity = {
    unwrapFileKey(stanzas) {
      seen = stanzas
      return null
    },
  }
  const d = new Decrypter()
  d.addIdentity(capture)
  await d.decrypt(data).catch(() => undefined)
  return seen?.map((s) => ({ args: s.args, body: s.body }))
}

/**
 * Encrypts the file at `source` into `target` as a stream (memory does not grow with the file). `target` is
 * written to a temporary name beside it and renamed in when complete, 0600 from its first byte.
 */
export async function encryptFile(
  source: string,
  target: string,
  recipients: readonly AgeRecipient[],
  /** false when the caller flushes the target itself (a store's own temporary file). */
  durable = true,
): Promise<void> {
  const handle = await open(source, 'r')
  let whole: Buffer | undefined
  try {
    // A small file (most of a directory-format dump: one per table) in one piece: the web-stream plumbing costs
    // more than its encryption. Memory stays bounded by SMALL_FILE_BYTES.
    if ((await handle.stat()).size <= SMALL_FILE_BYTES) whole = await handle.readFile()
  } finally {
    await handle.close()
  }
  if (whole) {
    const sealed = await encrypter(recipients).encrypt(whole)
    await writeOut(target, durable, (temp) => writeFile(temp, sealed, { flag: 'r+' }))
    return
  }
  const input = Readable.toWeb(createReadStream(source)) as ReadableStream<Uint8Array>
  await writeStream(await encrypter(recipients).encrypt(input), target, durable)
}

/** Files up to this size are encrypted in memory rather than streamed. */
const SMALL_FILE_BYTES = 1024 * 1024

/** Decrypts the age file at `source` into `target`, streaming, atomically; `what` names it in errors. */
export async function decryptFile(
  source: string,
  target: string,
  identities: AgeIdentities,
  what: string,
  recipients?: readonly string[],
): Promise<void> {
  const input = Readable.toWeb(createReadStream(source)) as ReadableStream<Uint8Array>
  let output: ReadableStream<Uint8Array>
  try {
    output = await decrypter(identities).decrypt(input)
  } catch (err) {
    throw decryptFailure(err, what, identities, recipients)
  }
  try {
    await writeStream(output, target)
  } catch (err) {
    if (err instanceof DeckhandError) throw err
    // A chunk that fails authentication: the file was cut short or changed after it was written.
    throw decryptFailure(err, what, identities, recipients)
  }
}

async function writeStream(
  stream: ReadableStream<Uint8Array>,
  target: string,
  durable = true,
): Promise<void> {
  await writeOut(target, durable, (temp) =>
    stream.pipeTo(Writable.toWeb(createWriteStream(temp, { flags: 'r+' }))),
  )
}

/** `write` fills a new 0600 temporary file beside target, which is flushed (when durable) and renamed in. */
async function writeOut(
  target: string,
  durable: boolean,
  write: (temp: string) => Promise<void>,
): Promise<void> {
  const temp = tempPathFor(target)
  try {
    await (await open(temp, 'wx', 0o600)).close()
    await write(temp)
    if (durable) {
      const handle = await open(temp, 'r+')
      await handle.sync().finally(() => handle.close())
    }
    await rename(temp, target)
  } finally {
    await rm(temp, { force: true })
    forgetOnStop(temp)
  }
}
