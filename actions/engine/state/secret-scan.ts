import { extname } from 'node:path'
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  Scalar,
  type YAMLMap,
} from 'yaml'

import { isObject, type JsonObject } from './entities.js'
import { mayHaveAnchors, readStateText } from './read.js'
import { looseTykObject } from '../tyk/objects.js'
import { redactTykObject } from '../tyk/redact.js'
import { DECK_MASK, EnvRef, MASK, redactContent } from './redact.js'
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
}

const STATE_EXTENSIONS = new Set(['.yaml', '.yml', '.json'])
/** Every private key's armour in a text. */
/** The value detectors' private-key armour, as a text scan: every block, with its position. */
const PRIVATE_KEYS = new RegExp(PRIVATE_KEY_ARMOUR.source, 'g')
const PRIVATE_KEY_LOCATION = 'PEM private key'

/** Dispatches on the extension: state files get the redaction rules, any other file the private key scan. */
export function scanFile(file: string, text: string): SecretFinding[] {
  return STATE_EXTENSIONS.has(extname(file).toLowerCase())
    ? scanStateFile(file, text)
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
 * files that are not state files (not a mapping, unparsable) are only scanned for private keys.
 */
export function scanStateFile(file: string, text: string): SecretFinding[] {
  const state = readState(text)
  if (!state) {
    // A state file that does not parse cannot be checked field by field: it is a finding of its own, so
    // that the commit is refused rather than a secret let through unread.
    const broken = syntaxError(text)
    const keys = scanPrivateKeys(file, text)
    return broken ? [{ file, line: broken.line, location: broken.location, unreadable: true }, ...keys] : keys
  }
  const secrets = redactedValues(state).map(({ line, location }) => ({ file, line, location }))
  // A private key that redaction found (a certificate's key) starts with its armour, so it is reported
  // on its BEGIN line already.
  const reported = new Set(secrets.map((s) => s.line))
  const keys = scanPrivateKeys(file, text).filter((key) => !reported.has(key.line))
  return [...secrets, ...keys].sort((a, b) => a.line - b.line)
}

type PathPart = string | number

/** A state file as data, and where its values are in the text. */
interface StateText {
  content: JsonObject
  /** 1-based line each path's value starts on (for a block scalar, its first line of text). */
  lines(paths: readonly (readonly PathPart[])[]): (number | undefined)[]
}

/**
 * Reads a state file; undefined when the text is no mapping. The data comes from the fast reader; the
 * YAML document, which places findings on their lines, is only built when there are findings, and a
 * redacted dump has none. Text with anchors goes to the careful parser straight away.
 */
function readState(text: string): StateText | undefined {
  if (mayHaveAnchors(text)) return readYaml(text)
  let content: unknown
  try {
    content = readStateText(text)
  } catch {
    return undefined
  }
  if (!isObject(content)) return undefined
  return { content, lines: (paths) => readYaml(text)?.lines(paths) ?? paths.map(() => undefined) }
}

/**
 * Runs the dump's redaction on the data (freshly parsed, so in place) and places each value it
 * replaced on its line. Values deck already masked are left alone, as redaction leaves its own mask.
 */
function redactedValues(state: StateText): { line: number; location: string }[] {
  replaceDeckMasks(state.content)
  // A Tyk API or policy file: its own rules, on the same data (redacted in place).
  const tyk = looseTykObject(state.content, 'file')
  const redactions = tyk ? redactTykObject(tyk) : redactContent(state.content, { workspace: '' })
  if (redactions.length === 0) return []
  const locations = new Map(redactions.map((r) => [r.name, r.location]))
  const refs = envRefs(state.content)
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
function envRefs(content: JsonObject): { path: PathPart[]; ref: EnvRef }[] {
  const refs: { path: PathPart[]; ref: EnvRef }[] = []
  const path: PathPart[] = []
  // YAML aliases make one object reachable by several paths; it was redacted once, and is reported once.
  const visited = new Set<object>()
  const walk = (value: unknown): void => {
    if (typeof value !== 'object' || value === null) return
    if (value instanceof EnvRef) refs.push({ path: [...path], ref: value })
    else if (!visited.has(value)) {
      visited.add(value)
      const isList = Array.isArray(value)
      for (const key of Object.keys(value)) {
        path.push(isList ? Number(key) : key)
        walk((value as Record<string, unknown>)[key])
        path.pop()
      }
    }
  }
  walk(content)
  return refs
}

// Any YAML ---------------------------------------------------------------------------------------------

/** Where text that is meant to be YAML or JSON first fails to parse; undefined when it parses. */
function syntaxError(text: string): { line: number; location: string } | undefined {
  const counter = new LineCounter()
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, merge: true })
  const error = doc.errors[0]
  if (!error) return undefined
  return {
    line: counter.linePos(error.pos[0]).line,
    location: `not valid YAML or JSON (${error.code}): cannot be checked for secrets`,
  }
}

function readYaml(text: string): StateText | undefined {
  const counter = new LineCounter()
  // Merge keys (`<<: *creds`) as deck's YAML reader resolves them: a secret reached through one is a secret.
  const doc = parseDocument(text, {
    lineCounter: counter,
    prettyErrors: false,
    uniqueKeys: true,
    merge: true,
  })
  if (doc.errors.length > 0 || !isMap(doc.contents)) return undefined
  let aliased = false
  let content: unknown
  try {
    content = doc.toJS({ onAnchor: (_value, count) => (aliased ||= count > 0) })
  } catch {
    // Too many aliases (yaml's guard against alias bombs): deck would not read this file either.
    return undefined
  }
  // A self-referencing alias makes the data cyclic, which neither deck nor the redaction walk can read.
  if (!isObject(content) || (aliased && isCyclic(content))) return undefined
  const lineOf = (path: readonly PathPart[]): number | undefined => {
    const node = nodeAt(doc, path)
    return node ? counter.linePos(valueStart(node, text)).line : undefined
  }
  return { content, lines: (paths) => paths.map(lineOf) }
}

/** The node at a path of the data, through aliases; map keys compare as the data has them, as strings. */
function nodeAt(doc: Document, path: readonly PathPart[]): Node | undefined {
  let node: unknown = doc.contents
  for (const part of path) {
    if (isAlias(node)) node = node.resolve(doc)
    if (isSeq(node)) node = node.items[part as number]
    else if (isMap(node)) node = mapValue(doc, node, String(part))
    else return undefined
  }
  if (isAlias(node)) node = node.resolve(doc)
  return node as Node | undefined
}

/**
 * A map's value for a key, also when a merge key (`<<: *creds`) brought it in: then the node it came from,
 * where its text is. Merged maps are searched in order, as YAML gives the first one precedence.
 */
function mapValue(doc: Document, map: YAMLMap, key: string, depth = 0): unknown {
  const own = map.items.find((pair) => keyText(pair.key) === key)
  if (own) return own.value
  if (depth > 16) return undefined
  for (const pair of map.items) {
    // With merge keys on, yaml gives the `<<` key the value Symbol(<<) and keeps `<<` as its source.
    if (!isScalar(pair.key) || (pair.key as Scalar).source !== '<<') continue
    let sources: unknown = pair.value
    if (isAlias(sources)) sources = sources.resolve(doc)
    for (let source of isSeq(sources) ? sources.items : [sources]) {
      if (isAlias(source)) source = source.resolve(doc)
      if (!isMap(source)) continue
      const found = mapValue(doc, source, key, depth + 1)
      if (found !== undefined) return found
    }
  }
  return undefined
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key)
}

/** Where a value's text starts: a block scalar's range starts at its `|` or `>` header, on the key's line. */
function valueStart(node: Node, text: string): number {
  const start = node.range?.[0] ?? 0
  if (!isScalar(node) || (node.type !== Scalar.BLOCK_LITERAL && node.type !== Scalar.BLOCK_FOLDED))
    return start
  const lineEnd = text.indexOf('\n', start)
  return lineEnd === -1 ? start : lineEnd + 1
}

/** Whether an object contains itself, which only a YAML alias inside its own anchor can make. */
function isCyclic(root: object): boolean {
  const open = new Set<object>()
  const done = new Set<object>()
  const visit = (value: unknown): boolean => {
    if (typeof value !== 'object' || value === null || done.has(value)) return false
    if (open.has(value)) return true
    open.add(value)
    for (const child of Object.values(value)) if (visit(child)) return true
    open.delete(value)
    done.add(value)
    return false
  }
  return visit(root)
}

// Text -------------------------------------------------------------------------------------------------

function lineBreaks(text: string, from: number, to: number): number {
  let count = 0
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) count++
  return count
}
