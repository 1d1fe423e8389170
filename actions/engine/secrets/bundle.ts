import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto'
import { lstat, readFile } from 'node:fs/promises'

import { armor } from 'age-encryption'

import {
  type AgeIdentities,
  type AgeRecipient,
  decryptBytes,
  encryptBytes,
  type ExtraStanza,
  readStanzas,
} from '../age.js'
import { DeckhandError } from '../errors.js'
import { parseJson } from '../json-file.js'

/**
 * The encrypted secret bundle: the values a redacted dump replaced with `${{ env "DECK_…" }}` references, kept
 * beside the state files as one age file (`secrets.age`), so that a restore needs one CI secret (the age
 * identity) instead of one per value.
 *
 * The plaintext is JSON, `{"format": "deckhand-secrets/1", "variables": {NAME: value, …}}` with the names
 * sorted, so that `age -d -i key.txt kong/secrets.age | jq` reads it, and a bundle written by hand (or by
 * `age -r`) from such a file is read here.
 *
 * **Byte-identical when unchanged.** age encryption is randomized (a fresh file key and ephemeral key every
 * time), and the dump job holds only public keys, so it cannot decrypt the previous bundle to compare. Instead
 * each bundle carries a stamp stanza in its age header, `deckhand-stamp <salt> <fingerprint>…`, whose body is
 * scrypt (N=2^15, r=8, p=1, 32 bytes; memory-hard) of the canonical plaintext and the sorted recipients, under
 * a random 16-byte salt of that bundle. A dump recomputes the stamp under the previous bundle's salt: equal, the
 * previous bytes are kept exactly (no drift commit); otherwise the values are encrypted anew with a fresh salt.
 * age's own identities ignore a stanza of a type they do not know, and the header's MAC covers it.
 *
 * What the stamp reveals: nothing that can be recovered from it. Someone who reads the bundle and guesses every
 * value of it exactly (all of them at once, and the recipients) can confirm that guess, at the cost of one
 * scrypt per guess: the same confirmation trying the values on the gateway gives. The per-bundle salt makes
 * every guess specific to one bundle (nothing precomputed helps, and equal bundles of two repositories do not
 * look equal). A plain hash (SHA-256 of the plaintext) would let the same guesses run billions of times a
 * second on a GPU, which matters for a bundle holding one short password; scrypt costs each guess 32 MiB of
 * memory and tens of milliseconds. A keyed stamp (HMAC) would be better still, but the dump job has no secret
 * key to use: it holds only the recipients' public keys, by design.
 */

/** The file a dump writes into its output-dir. */
export const BUNDLE_FILE = 'secrets.age'
export const BUNDLE_FORMAT = 'deckhand-secrets/1'
/** A bundle larger than this is refused before it is read: no gateway's secrets come near it. */
export const MAX_BUNDLE_BYTES = 64 * 2 ** 20
/** What a bundle's variables are called: what deck expands in `${{ env "…" }}` (deck reads only DECK_ ones). */
export const VARIABLE_NAME = /^DECK_[A-Z0-9_]+$/
/** The stanza type of the stamp. */
export const STAMP_TYPE = 'deckhand-stamp'

const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 2 ** 20 }
const SALT_BYTES = 16
const STAMP_BYTES = 32

/**
 * deck's own settings, read from `DECK_<FLAG>` variables (its global flags, through viper's AutomaticEnv, and
 * DECK_FORMAT): a bundle never holds one. A bundle is encrypted to public keys, so anyone who can change the
 * repository can write one; a value for DECK_KONG_ADDR or DECK_HEADERS would redirect deck, admin token and all.
 */
const DECK_SETTINGS = new Set(
  [
    'config',
    'verbose',
    'no-color',
    'analytics',
    'kong-addr',
    'headers',
    'tls-skip-verify',
    'tls-server-name',
    'ca-cert',
    'ca-cert-file',
    'skip-workspace-crud',
    'kong-cookie-jar-path',
    'timeout',
    'tls-client-cert',
    'tls-client-cert-file',
    'tls-client-key',
    'tls-client-key-file',
    'kong-admin-token',
    'skip-defaults-fill',
    // Not a flag's, but read from the environment all the same (deck 1.62 and newer: the dump's format).
    'format',
  ].map((flag) => `DECK_${flag.toUpperCase().replace(/-/g, '_')}`),
)

/** Whether deck reads the variable as one of its own settings rather than as a template value. */
export function isDeckSetting(name: string): boolean {
  return DECK_SETTINGS.has(name) || name.startsWith('DECK_KONNECT_')
}

/** The canonical plaintext: JSON, names sorted, one final line break. */
export function bundlePlaintext(variables: ReadonlyMap<string, string>): string {
  const sorted: Record<string, string> = {}
  for (const name of [...variables.keys()].sort()) sorted[name] = variables.get(name)!
  return `${JSON.stringify({ format: BUNDLE_FORMAT, variables: sorted }, null, 2)}\n`
}

function scrypt(input: Buffer, salt: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCallback(input, salt, STAMP_BYTES, SCRYPT, (err, key) => (err ? reject(err) : resolve(key))),
  )
}

/** The stamp of a plaintext for a set of recipients under `salt` (see the module's comment). */
export function computeStamp(
  plaintext: string,
  recipients: readonly AgeRecipient[],
  salt: Uint8Array,
): Promise<Buffer> {
  // Recipients never hold a line break: the input is unambiguous.
  const keys = recipients.map((r) => r.key).sort()
  return scrypt(Buffer.from(`${STAMP_TYPE}/1\n${keys.join('\n')}\n\n${plaintext}`, 'utf8'), salt)
}

/** The stamp stanza of a bundle's header, when it has one: its salt and the fingerprints it names. */
interface Stamp {
  salt: Buffer
  fingerprints: string[]
  body: Uint8Array
}

function stampOf(stanzas: readonly ExtraStanza[] | undefined): Stamp | undefined {
  const stanza = stanzas?.find((s) => s.args[0] === STAMP_TYPE)
  if (!stanza || stanza.args.length < 2) return undefined
  const salt = Buffer.from(stanza.args[1]!, 'base64')
  if (salt.length !== SALT_BYTES || stanza.body.length !== STAMP_BYTES) return undefined
  return { salt, fingerprints: stanza.args.slice(2), body: stanza.body }
}

export interface SealedBundle {
  bytes: Uint8Array
  /** True when `previous` already held exactly these values for exactly these recipients, and is returned. */
  unchanged: boolean
}

/**
 * Encrypts the variables to the recipients, or returns `previous` as it is when its stamp shows that it holds
 * exactly these values for exactly these recipients. `previous` must be a bundle deckhand wrote (the caller
 * checks it against the dump's manifest): the stamp says nothing of whether the rest of the file is intact.
 */
export async function sealBundle(
  variables: ReadonlyMap<string, string>,
  recipients: readonly AgeRecipient[],
  previous?: Uint8Array,
): Promise<SealedBundle> {
  if (recipients.length === 0) throw new DeckhandError('no age recipients to encrypt the secret bundle to')
  for (const name of variables.keys()) checkName(name, 'the secret bundle')
  const plaintext = bundlePlaintext(variables)
  const fingerprints = recipients.map((r) => r.fingerprint)
  const stamp = previous ? stampOf(await readStanzas(previous)) : undefined
  if (stamp && sameList(stamp.fingerprints, fingerprints)) {
    const again = await computeStamp(plaintext, recipients, stamp.salt)
    if (timingSafeEqual(again, stamp.body)) return { bytes: previous!, unchanged: true }
  }
  const salt = randomBytes(SALT_BYTES)
  const body = await computeStamp(plaintext, recipients, salt)
  const bytes = await encryptBytes(plaintext, recipients, {
    args: [STAMP_TYPE, salt.toString('base64').replace(/=+$/, ''), ...fingerprints],
    body,
  })
  return { bytes, unchanged: false }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

function checkName(name: string, where: string): void {
  if (!VARIABLE_NAME.test(name)) {
    const shown = name.length > 60 ? `${name.slice(0, 60)}…` : name
    throw new DeckhandError(
      `${where}: ${JSON.stringify(shown)} is not a deck variable name (DECK_ followed by A-Z, 0-9 and _).`,
    )
  }
  if (isDeckSetting(name)) {
    throw new DeckhandError(
      `${where} holds ${name}, which deck reads as one of its own settings, not a value of the state files: ` +
        'deckhand never writes it into a bundle. Refused: a bundle can be written by anyone who has its public keys.',
    )
  }
}

/** What a bundle holds, once opened. */
export interface OpenedBundle {
  variables: Map<string, string>
  /** Fingerprints of the recipients, from the stamp; undefined for a bundle without one (written by `age`). */
  recipients?: string[]
}

/** The raw age file of a bundle's bytes: the armored form (`age -a`) decoded, anything else as it is. */
function unarmor(data: Uint8Array, file: string): Uint8Array {
  const head = Buffer.from(data.subarray(0, 64)).toString('latin1').trimStart()
  if (!head.startsWith('-----BEGIN AGE ENCRYPTED FILE-----')) return data
  try {
    return armor.decode(Buffer.from(data).toString('latin1'))
  } catch {
    throw new DeckhandError(`${file} is not a readable age file: its ASCII armor is damaged.`)
  }
}

/** The recipients' fingerprints a bundle names in its stamp, read without any identity. */
export async function bundleRecipients(data: Uint8Array): Promise<string[] | undefined> {
  return stampOf(await readStanzas(data))?.fingerprints
}

/**
 * Decrypts a bundle with the identities and checks what it holds: the deckhand-secrets/1 format, names deck
 * expands (never one of deck's own settings), string values. Errors name the file and, at most, a variable;
 * never a value.
 */
export async function openBundle(
  data: Uint8Array,
  identities: AgeIdentities,
  file: string,
): Promise<OpenedBundle> {
  const raw = unarmor(data, file)
  const stanzas = await readStanzas(raw)
  if (!stanzas) {
    if (Buffer.from(raw.subarray(0, AGE_HEADER.length)).toString('latin1') === AGE_HEADER)
      throw new DeckhandError(`${file} is not a readable age file: its header is cut short or damaged.`)
    throw new DeckhandError(
      `${file} is not an age file (it does not start with the age-encryption.org/v1 header): a secret bundle is what dump writes with age-recipients, or a JSON file encrypted with age -r.`,
    )
  }
  const recipients = stampOf(stanzas)?.fingerprints
  const plain = await decryptBytes(raw, identities, file, recipients)
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(plain)
  } catch {
    throw new DeckhandError(
      `${file} decrypts to something that is not UTF-8 text: it is not a secret bundle.`,
    )
  }
  const doc = parseJson(text, file, 'secret bundle (decrypted)')
  return { variables: bundleVariables(doc, file), recipients }
}

/** The variables of a decrypted bundle's JSON, checked. */
function bundleVariables(doc: unknown, file: string): Map<string, string> {
  const what = `${file} (decrypted)`
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new DeckhandError(
      `${what} is not a secret bundle: expected a JSON object with "format" and "variables".`,
    )
  const { format, variables } = doc as { format?: unknown; variables?: unknown }
  if (format !== BUNDLE_FORMAT) {
    const shown =
      typeof format === 'string' && /^[\w./-]{1,40}$/.test(format) ? ` ${JSON.stringify(format)}` : ''
    throw new DeckhandError(
      `${what} has format${shown || ' missing or unknown'}: this deckhand reads "${BUNDLE_FORMAT}" bundles.`,
    )
  }
  if (typeof variables !== 'object' || variables === null || Array.isArray(variables))
    throw new DeckhandError(`${what}: "variables" must be an object of DECK_ names and their string values.`)
  const values = new Map<string, string>()
  for (const [name, value] of Object.entries(variables)) {
    checkName(name, what)
    if (typeof value !== 'string')
      throw new DeckhandError(`${what}: the value of ${name} is not a string (it is ${describeType(value)}).`)
    values.set(name, value)
  }
  return values
}

function describeType(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

/**
 * A bundle file's bytes: refused from its size before it is read, and when it is not a regular file (a link
 * could make it anything).
 */
export async function readBundleBytes(file: string): Promise<Uint8Array> {
  const info = await lstat(file).catch((err: NodeJS.ErrnoException) => {
    throw new DeckhandError(
      err.code === 'ENOENT' ? `${file} does not exist.` : `${file} cannot be read (${err.code ?? 'error'}).`,
    )
  })
  if (!info.isFile())
    throw new DeckhandError(`${file} is not a regular file: a secret bundle is one age file.`)
  if (info.size > MAX_BUNDLE_BYTES) {
    throw new DeckhandError(
      `${file} is ${info.size} bytes, more than a secret bundle may be (${MAX_BUNDLE_BYTES}); refused before reading.`,
    )
  }
  return readFile(file)
}

/** {@link readBundleBytes} and {@link openBundle}. */
export async function readBundle(file: string, identities: AgeIdentities): Promise<OpenedBundle> {
  return openBundle(await readBundleBytes(file), identities, file)
}

const AGE_HEADER = 'age-encryption.org/v1\n'
const STANZA_ARG = /^[\x21-\x7e]+$/
const BASE64_LINE = /^[A-Za-z0-9+/]{0,64}$/

/**
 * Whether a text (a file read as UTF-8 or Latin-1: the header is ASCII) is an age-encrypted file: the
 * age-encryption.org/v1 header, stanzas, the MAC line and a payload after it; or the same in age's ASCII
 * armor. What the commit's scan asks of a file named *.age before letting it through.
 */
export function isAgeFile(text: string): boolean {
  const trimmed = text.trimStart()
  if (trimmed.startsWith('-----BEGIN AGE ENCRYPTED FILE-----')) {
    try {
      return isAgeFile(Buffer.from(armor.decode(trimmed)).toString('latin1'))
    } catch {
      return false
    }
  }
  if (!text.startsWith(AGE_HEADER)) return false
  let at = AGE_HEADER.length
  let stanzas = 0
  for (;;) {
    const end = text.indexOf('\n', at)
    if (end === -1) return false
    const line = text.slice(at, end)
    at = end + 1
    if (line.startsWith('--- ')) {
      // The MAC (32 bytes, 43 base64 characters), then the payload: a nonce and at least one sealed chunk's tag,
      // 32 bytes (fewer characters when the bytes were read as UTF-8, which joins some of them).
      return stanzas > 0 && /^[A-Za-z0-9+/]{43}$/.test(line.slice(4)) && text.length - at >= 16
    }
    const args = line.split(' ')
    if (args.shift() !== '->' || args.length === 0 || !args.every((a) => STANZA_ARG.test(a))) return false
    stanzas++
    // Body lines: full ones of 64 characters, ending with a shorter one.
    for (;;) {
      const next = text.indexOf('\n', at)
      if (next === -1) return false
      const body = text.slice(at, next)
      at = next + 1
      if (!BASE64_LINE.test(body)) return false
      if (body.length < 64) break
    }
  }
}

/** Whether a text is a decrypted secret bundle: every value of it in plain text. */
export function isDecryptedBundle(text: string): boolean {
  return text.includes(BUNDLE_FORMAT) && /"format"\s*:\s*"deckhand-secrets\/1"/.test(text)
}
