import { extname } from 'node:path'

import { isObject, type JsonObject } from './entities.js'
import { parseState, type PathPart, StateReadError, type StateData } from './read.js'
import { looseTykObject } from '../tyk/objects.js'
import { redactTykObject } from '../tyk/redact.js'
import { DECK_MASK, EnvRef, MASK, redactContent } from './redact.js'
import { isAgeFile, isDecryptedBundle } from '../secrets/bundle.js'
import { PRIVATE_KEY_ARMOUR } from '../secrets/detectors.js'

/**
 * Finds secrets a file about to be committed still holds in plain text: in a deck state file, every
 * value the dump's redaction would have replaced; in any file, PEM private keys. Findings say where a
 * secret is, never what it is.
 */

export interface SecretFinding {
  /** As given by the caller (repository-relative path). */
  file: string
  /** 1-based line of the value (for a block scalar, the first line of its text). */
  line: number
  /** Where, for humans, never the value: e.g. `consumer alice / keyauth 1 / key`, or `PEM private key`. */
  location: string
  /** The file is a state file that does not parse, so nothing in it could be checked. */
  unreadable?: boolean
  /** What to do about it, where the usual advice (make it an environment reference) does not fit. */
  advice?: string
}

const STATE_EXTENSIONS = new Set(['.yaml', '.yml', '.json'])
/** Every private key's armour in a text. */
/** The value detectors' private-key armour, as a text scan: every block, with its position. */
const PRIVATE_KEYS = new RegExp(PRIVATE_KEY_ARMOUR.source, 'g')
const PRIVATE_KEY_LOCATION = 'PEM private key'

/**
 * Dispatches on the extension: state files get the redaction rules, an `.age` file (the secret bundle) must be
 * age-encrypted, any other file gets the private key scan. A decrypted secret bundle is refused by any name.
 */
export function scanFile(file: string, text: string): SecretFinding[] {
  const extension = extname(file).toLowerCase()
  if (extension === '.age') {
    if (isAgeFile(text)) return []
    return [
      {
        file,
        line: 1,
        location: 'a file named *.age that is not age-encrypted (no age-encryption.org/v1 header)',
        advice:
          'The file is named like an encrypted secret bundle but is not age-encrypted: it may hold the secrets in plain text. Let dump write secrets.age (age-recipients), or encrypt the file with age -r, before it is committed.',
      },
    ]
  }
  if (isDecryptedBundle(text)) {
    return [
      {
        file,
        line: 1,
        location: 'a decrypted secret bundle (deckhand-secrets/1)',
        advice:
          'The file is a decrypted secret bundle: every value in it is in plain text. Delete it; the encrypted secrets.age is what belongs in git.',
      },
    ]
  }
  return STATE_EXTENSIONS.has(extension) ? scanStateFile(file, text) : scanPrivateKeys(file, text)
}

/**
 * {@link scanFile} on a file read already: `state` is its data, undefined when it could not be read
 * (then only its private keys are looked for: that it is unreadable is reported elsewhere).
 */
export function scanReadFile(file: string, text: string, state: StateData | undefined): SecretFinding[] {
  return state && STATE_EXTENSIONS.has(extname(file).toLowerCase())
    ? scanState(file, text, state)
    : scanPrivateKeys(file, text)
}

/** Any file: PEM private key blocks, one finding per block, at the BEGIN line. */
export function scanPrivateKeys(file: string, text: string): SecretFinding[] {
  const findings: SecretFinding[] = []
  let line = 1
  let counted = 0
  for (const match of text.matchAll(PRIVATE_KEYS)) {
    line += lineBreaks(text, counted, match.index)
    counted = match.index
    findings.push({ file, line, location: PRIVATE_KEY_LOCATION })
  }
  return findings
}

/**
 * Secrets a deck state file (YAML or JSON) still holds in plain text, by the dump's redaction rules;
 * files that are not state files (not a mapping) are only scanned for private keys.
 */
export function scanStateFile(file: string, text: string): SecretFinding[] {
  let state: StateData
  try {
    state = parseState(text, file)
  } catch (err) {
    if (!(err instanceof StateReadError)) throw err
    // A state file that cannot be read cannot be checked field by field: it is a finding of its own, so
    // that the commit is refused rather than a secret let through unread.
    const finding = { file, line: err.line ?? 1, location: `${err.reason}; it cannot be checked for secrets` }
    return [{ ...finding, unreadable: true }, ...scanPrivateKeys(file, text)]
  }
  return scanState(file, text, state)
}

/**
 * The findings of {@link scanStateFile} in a file already read (`state`, whose data is redacted in place
 * by the scan).
 */
export function scanState(file: string, text: string, state: StateData): SecretFinding[] {
  if (!isObject(state.data)) return scanPrivateKeys(file, text)
  const secrets = redactedValues(state.data, state, text).map(({ line, location }) => ({
    file,
    line,
    location,
  }))
  // A private key that redaction found (a certificate's key) starts with its armour, so it is reported
  // on its BEGIN line already.
  const reported = new Set(secrets.map((s) => s.line))
  for (const key of scanPrivateKeys(file, text)) if (!reported.has(key.line)) secrets.push(key)
  return secrets.sort((a, b) => a.line - b.line)
}

/**
 * Runs the dump's redaction on the data (freshly parsed, so in place) and places each value it
 * replaced on its line. Values deck already masked are left alone, as redaction leaves its own mask.
 */
function redactedValues(
  content: JsonObject,
  state: StateData,
  text: string,
): { line: number; location: string }[] {
  if (text.includes(DECK_MASK)) replaceDeckMasks(content)
  // A Tyk API or policy file: its own rules, on the same data (redacted in place).
  const tyk = looseTykObject(content, 'file')
  const redactions = tyk ? redactTykObject(tyk) : redactContent(content, { workspace: '', names: false })
  if (redactions.length === 0) return []
  const locations = new Map(redactions.map((r) => [r.name, r.location]))
  const refs = envRefs(content, state.aliased)
  const lines = state.lines(refs.map((r) => r.path))
  return refs.map(({ ref }, i) => ({ line: lines[i] ?? 1, location: locations.get(ref.name) ?? '' }))
}

/**
 * Rewrites deck's `[masked]` (a whole value, or a header line's value) to the mask redaction skips. An
 * object shared through YAML aliases is rewritten once per path, which is harmless.
 */
function replaceDeckMasks(value: unknown): void {
  if (typeof value !== 'object' || value === null) return
  const holder = value as Record<string, unknown>
  for (const key of Object.keys(holder)) {
    const v = holder[key]
    if (typeof v !== 'string') replaceDeckMasks(v)
    else if (v.includes(DECK_MASK)) {
      const colon = v.indexOf(':')
      if (v.trim() === DECK_MASK) holder[key] = MASK
      else if (colon > 0 && v.slice(colon + 1).trim() === DECK_MASK)
        holder[key] = `${v.slice(0, colon + 1)}${MASK}`
    }
  }
}

/** Every {@link EnvRef} the redaction put into `content`, with its path from the root. */
function envRefs(content: JsonObject, aliased: boolean): { path: PathPart[]; ref: EnvRef }[] {
  const refs: { path: PathPart[]; ref: EnvRef }[] = []
  const path: PathPart[] = []
  // YAML aliases make one object reachable by several paths; it was redacted once, and is reported once.
  const visited = aliased ? new Set<object>() : undefined
  const walk = (value: unknown): void => {
    if (typeof value !== 'object' || value === null) return
    if (value instanceof EnvRef) refs.push({ path: [...path], ref: value })
    else if (visited?.has(value) !== true) {
      visited?.add(value)
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          path.push(i)
          walk(value[i])
          path.pop()
        }
      } else {
        for (const key in value) {
          path.push(key)
          walk((value as Record<string, unknown>)[key])
          path.pop()
        }
      }
    }
  }
  walk(content)
  return refs
}

// Text -------------------------------------------------------------------------------------------------

function lineBreaks(text: string, from: number, to: number): number {
  let count = 0
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) count++
  return count
}
