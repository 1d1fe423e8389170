import {
  type Alias,
  type ErrorCode,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  Scalar,
  visit,
  type YAMLMap,
} from 'yaml'

import { lineColumn, type PathPart } from './json-scan.js'

/**
 * Reads YAML state files with the `yaml` package, limited: aliases (an alias bomb is refused, not
 * expanded), merge keys as deck's YAML reader resolves them, unique keys. Errors carry a code and a
 * position, never text of the file, which may be a secret.
 *
 * The `yaml` package builds a syntax tree and a document of nodes before the data, which takes some
 * seventy times the text in memory: a 50 MB file would need gigabytes. A large state file is therefore
 * read in pieces, each a small document of its own: its top-level entries, and the long entity lists
 * among them in runs of items. That is the same YAML only where nothing crosses a piece's boundary, so
 * pieces are taken only from text where nothing can: no anchors, directives or document markers, and
 * no line at the left margin but a top-level key, a `- ` item of a top-level list, a comment or a blank.
 * Anything else is read as one document.
 */

/** Uses of one anchor (times the aliases within it) beyond which the yaml package refuses a document. */
export const MAX_ALIAS_COUNT = 10_000
/**
 * Values a document with aliases may hold once they are expanded: one per character of its text, and
 * this many more.
 */
export const MAX_ALIAS_VALUES = 1_000_000
/**
 * Size of the pieces a large document is read in: small enough that what the yaml package builds for a
 * piece dies young; with pieces of 64 KiB and more, much of it outlived a young-generation collection and
 * a 10 MB file's peak memory grew by half.
 */
export const CHUNK_CHARS = 16 * 1024

/** Why a YAML text is refused: a code of the yaml package's, or one of these. */
export type YamlReadCode = ErrorCode | 'ALIAS_EXPANSION' | 'ALIAS_CYCLE' | 'MERGE_SOURCE' | 'TOO_DEEP'

export class YamlReadError extends Error {
  constructor(
    readonly code: YamlReadCode,
    /** 1-based line and column, where the yaml package gives them. */
    readonly line?: number,
    readonly col?: number,
  ) {
    super(code)
    this.name = 'YamlReadError'
  }
}

const OPTIONS = { merge: true, uniqueKeys: true, prettyErrors: false, logLevel: 'silent' } as const

export interface YamlData {
  data: unknown
  /** Aliases made values shared. */
  aliased: boolean
  /** How many documents the text was read as: 1, or its pieces. */
  pieces: number
  /** The 1-based line each path's value starts on (a block scalar: its first line of text). */
  lines(paths: readonly (readonly PathPart[])[]): (number | undefined)[]
}

/** Reads a YAML text as data; throws {@link YamlReadError}. */
export function readYaml(text: string, chunkChars = CHUNK_CHARS): YamlData {
  const plan = text.length > chunkChars ? planPieces(text, chunkChars) : undefined
  const data = plan ? readPieces(text, plan) : FALLBACK
  if (plan && data !== FALLBACK)
    return {
      data,
      aliased: false,
      pieces: countPieces(plan),
      lines: (paths) => locatePieces(text, plan, paths),
    }
  const whole = readDocument(text, { start: 0, end: text.length, line: 0 })
  return { ...whole, pieces: 1, lines: (paths) => locate(text, paths) }
}

function countPieces(entries: readonly Entry[]): number {
  let count = 0
  for (const entry of entries) count += entry.runs ? entry.runs.length + 1 : 1
  return count
}

/** Whether YAML text may use anchors: then it is read as one document, with alias limits. */
export function mayHaveAnchors(text: string): boolean {
  return /(^|[\s[{,:-])&[^\s]/.test(text)
}

// One document -----------------------------------------------------------------------------------------

/** A part of the text read as a document of its own; `line` is the number of lines before it. */
interface Piece {
  start: number
  end: number
  line: number
}

function parse(text: string, piece: Piece, counter?: LineCounter) {
  const source = piece.start === 0 && piece.end === text.length ? text : text.slice(piece.start, piece.end)
  let doc
  try {
    doc = parseDocument(source, counter ? { ...OPTIONS, lineCounter: counter } : OPTIONS)
  } catch (err) {
    // The parser recurses into nested collections: deep enough nesting exhausts the stack.
    if (err instanceof RangeError) throw new YamlReadError('TOO_DEEP')
    throw err
  }
  const error = doc.errors[0]
  if (error) {
    const { line, col } = lineColumn(source, error.pos[0])
    throw new YamlReadError(error.code, line + piece.line, col)
  }
  return { doc, source }
}

function readDocument(text: string, piece: Piece): { data: unknown; aliased: boolean } {
  const { doc, source } = parse(text, piece)
  let aliased = false
  let data: unknown
  try {
    data = doc.toJS({
      maxAliasCount: MAX_ALIAS_COUNT,
      onAnchor: (_value, count) => {
        if (count > 0) aliased = true
      },
    })
  } catch (err) {
    const message = err instanceof Error ? err.message : ''
    if (err instanceof RangeError) throw new YamlReadError('TOO_DEEP')
    if (/^Merge sources/.test(message)) throw new YamlReadError('MERGE_SOURCE')
    if (err instanceof ReferenceError) throw new YamlReadError('ALIAS_EXPANSION')
    throw err
  }
  // Aliases share the value they name: the data is a graph, which every later walk expands.
  if (aliased) checkExpansion(data, MAX_ALIAS_VALUES + source.length)
  return { data, aliased }
}

/**
 * Counts the values of the data as a walk sees them, aliases expanded, up to `limit`; an alias within
 * its own anchor makes the data endless. Shared values are counted at every place they are reached.
 */
function checkExpansion(root: unknown, limit: number): void {
  let count = 0
  const open = new Set<object>()
  const walk = (value: unknown): void => {
    if (++count > limit) throw new YamlReadError('ALIAS_EXPANSION')
    if (typeof value !== 'object' || value === null) return
    if (open.has(value)) throw new YamlReadError('ALIAS_CYCLE')
    open.add(value)
    if (Array.isArray(value)) for (const item of value) walk(item)
    else for (const key of Object.keys(value)) walk((value as Record<string, unknown>)[key])
    open.delete(value)
  }
  try {
    walk(root)
  } catch (err) {
    if (err instanceof RangeError) throw new YamlReadError('TOO_DEEP')
    throw err
  }
}

// Pieces -----------------------------------------------------------------------------------------------

/** One top-level entry: read whole, or (a long list) as its first line and runs of its items. */
interface Entry extends Piece {
  /** The key, once read. */
  key?: string
  head?: Piece
  runs?: Run[]
}

/** Consecutive items of a top-level list: from its `first`, `count` of them. */
interface Run extends Piece {
  first: number
  count: number
}

const TAB = 0x09
const LF = 0x0a
const CR = 0x0d
const SPACE = 0x20
const HASH = 0x23
const DASH = 0x2d

/** Characters that may not start a line at the left margin of a text read in pieces. */
const NOT_A_KEY = new Set('?:!&*|>[]{},@`%<-.\t'.split('').map((c) => c.charCodeAt(0)))

function isSeparator(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB || Number.isNaN(c)
}

function isBlank(c: number): boolean {
  return c === LF || c === CR || Number.isNaN(c)
}

/** The top-level entries of a text that can be read in pieces; undefined when it cannot. */
function planPieces(text: string, chunkChars: number): Entry[] | undefined {
  if (mayHaveAnchors(text)) return undefined
  const entries: Entry[] = []
  let entry: Entry | undefined
  /** Items of the current entry's list: their offsets and lines. */
  let itemStarts: number[] = []
  let itemLines: number[] = []
  /** The indentation of the current entry's items; -1 before its first content line, -2 not a list. */
  let itemIndent = -1
  const close = (end: number) => {
    if (!entry) return
    entry.end = end
    if (itemIndent >= 0 && end - entry.start > chunkChars) {
      entry.head = { start: entry.start, end: itemStarts[0]!, line: entry.line }
      entry.runs = runs(itemStarts, itemLines, end, chunkChars)
    }
    entries.push(entry)
  }
  let line = 0
  for (let pos = 0; pos < text.length; line++) {
    const newline = text.indexOf('\n', pos)
    const next = newline === -1 ? text.length : newline + 1
    let indent = 0
    while (text.charCodeAt(pos + indent) === SPACE) indent++
    const c = text.charCodeAt(pos + indent)
    const item = c === DASH && isSeparator(text.charCodeAt(pos + indent + 1))
    if (isBlank(c) || c === HASH) {
      // Blank lines and comments belong to no value.
    } else if (indent === 0 && !item) {
      // A top-level key starts a new entry.
      if (NOT_A_KEY.has(c)) return undefined
      close(pos)
      entry = { start: pos, end: pos, line }
      itemStarts = []
      itemLines = []
      itemIndent = -1
    } else if (!entry) {
      return undefined
    } else if (itemIndent === -1) {
      // The entry's first content line: a list item, or anything else (then it is read whole).
      itemIndent = item ? indent : -2
      if (item) {
        itemStarts.push(pos)
        itemLines.push(line)
      }
    } else if (itemIndent >= 0) {
      if (item && indent === itemIndent) {
        itemStarts.push(pos)
        itemLines.push(line)
      } else if (indent <= itemIndent) itemIndent = -2
    }
    pos = next
  }
  close(text.length)
  return entries.length > 0 ? entries : undefined
}

/** Items grouped into runs of about `chunkChars` characters. */
function runs(starts: readonly number[], lines: readonly number[], end: number, chunkChars: number): Run[] {
  const out: Run[] = []
  let first = 0
  for (let i = 1; i <= starts.length; i++) {
    const runEnd = i === starts.length ? end : starts[i]!
    if (i === starts.length || runEnd - starts[first]! >= chunkChars) {
      out.push({ start: starts[first]!, end: runEnd, line: lines[first]!, first, count: i - first })
      first = i
    }
  }
  return out
}

/** Marks a text the pieces did not read as planned: it is read as one document instead. */
const FALLBACK = Symbol('fallback')

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function readPieces(text: string, entries: Entry[]): unknown {
  const content: Record<string, unknown> = {}
  const seen = new Set<string>()
  for (const entry of entries) {
    // Each entry is a mapping of one key: its head (`services:`, the list's items aside) or all of it.
    const head = readDocument(text, entry.head ?? entry).data
    const keys = isPlainObject(head) ? Object.keys(head) : []
    if (keys.length !== 1) return FALLBACK
    const key = keys[0]!
    let value = (head as Record<string, unknown>)[key]
    if (entry.runs) {
      if (value !== null) return FALLBACK
      const list: unknown[] = []
      for (const run of entry.runs) {
        const items = readDocument(text, run).data
        if (!Array.isArray(items) || items.length !== run.count) return FALLBACK
        for (const item of items) list.push(item)
      }
      value = list
    }
    if (seen.has(key)) throw new YamlReadError('DUPLICATE_KEY', entry.line + 1, 1)
    seen.add(key)
    entry.key = key
    // As the yaml package does: a key such as __proto__ becomes a property, never the prototype.
    if (key in content)
      Object.defineProperty(content, key, { value, writable: true, enumerable: true, configurable: true })
    else content[key] = value
  }
  return content
}

/** Lines of paths in a text read in pieces: each piece a path leads into is parsed again, once. */
function locatePieces(
  text: string,
  entries: readonly Entry[],
  paths: readonly (readonly PathPart[])[],
): (number | undefined)[] {
  const lines: (number | undefined)[] = paths.map(() => undefined)
  const byKey = new Map(entries.map((entry) => [entry.key, entry]))
  const wanted = new Map<Piece, { indices: number[]; paths: PathPart[][] }>()
  paths.forEach((path, index) => {
    const entry = byKey.get(String(path[0]))
    if (!entry) return
    let piece: Piece = entry
    let local: PathPart[] = [...path]
    if (entry.runs) {
      const item = path[1]
      if (typeof item !== 'number') {
        if (path.length === 1) lines[index] = entry.line + 1
        return
      }
      const run = runOf(entry.runs, item)
      if (!run) return
      piece = run
      local = [item - run.first, ...path.slice(2)]
    }
    let group = wanted.get(piece)
    if (!group) wanted.set(piece, (group = { indices: [], paths: [] }))
    group.indices.push(index)
    group.paths.push(local)
  })
  for (const [piece, group] of wanted) {
    const found = locate(text, group.paths, piece)
    group.indices.forEach((index, i) => (lines[index] = found[i]))
  }
  return lines
}

/** The run holding an item, by binary search: a long list has many runs, and a scan many findings. */
function runOf(runs: readonly Run[], item: number): Run | undefined {
  let low = 0
  let high = runs.length - 1
  while (low <= high) {
    const mid = (low + high) >> 1
    const run = runs[mid]!
    if (item < run.first) high = mid - 1
    else if (item >= run.first + run.count) low = mid + 1
    else return run
  }
  return undefined
}

// Positions --------------------------------------------------------------------------------------------

/** Lines of paths within one document: the whole text, or one piece of it. */
function locate(
  text: string,
  paths: readonly (readonly PathPart[])[],
  piece: Piece = { start: 0, end: text.length, line: 0 },
): (number | undefined)[] {
  const counter = new LineCounter()
  const { doc, source } = parse(text, piece, counter)
  let targets: Map<Alias, Node> | undefined
  const resolve = (node: unknown): unknown => {
    if (!isAlias(node)) return node
    targets ??= aliasTargets(doc)
    return targets.get(node)
  }
  return paths.map((path) => {
    let node: unknown = doc.contents
    for (const part of path) {
      node = resolve(node)
      if (isSeq(node)) node = typeof part === 'number' ? node.items[part] : undefined
      else if (isMap(node)) node = mapValue(node, String(part), resolve, 0)
      else return undefined
    }
    node = resolve(node)
    return node ? counter.linePos(valueStart(node as Node, source)).line + piece.line : undefined
  })
}

/** The node each alias names: the last node before it with that anchor, as the yaml package resolves it. */
function aliasTargets(doc: ReturnType<typeof parseDocument>): Map<Alias, Node> {
  const targets = new Map<Alias, Node>()
  const latest = new Map<string, Node>()
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) {
        const target = latest.get(node.source)
        if (target) targets.set(node, target)
      } else if (node.anchor) latest.set(node.anchor, node)
    },
  })
  return targets
}

/**
 * A map's value for a key, also when a merge key (`<<: *creds`) brought it in: then the node it came from,
 * where its text is. Merged maps are searched in order, as YAML gives the first one precedence.
 */
function mapValue(map: YAMLMap, key: string, resolve: (node: unknown) => unknown, depth: number): unknown {
  const own = map.items.find((pair) => keyText(pair.key) === key)
  if (own) return own.value
  if (depth > 16) return undefined
  for (const pair of map.items) {
    // With merge keys on, yaml gives the `<<` key the value Symbol(<<) and keeps `<<` as its source.
    if (!isScalar(pair.key) || pair.key.source !== '<<') continue
    const sources = resolve(pair.value)
    for (const source of isSeq(sources) ? sources.items : [sources]) {
      const merged = resolve(source)
      if (!isMap(merged)) continue
      const found = mapValue(merged, key, resolve, depth + 1)
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
