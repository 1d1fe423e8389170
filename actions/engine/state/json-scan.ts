/**
 * What JSON.parse does not tell: whether an object repeats a key (JSON.parse keeps the last value, so a
 * second `"key"` could hide a secret behind a harmless one), where a text that does not parse goes
 * wrong (V8's message may quote the text, which may be a secret), and on which line a value is. One
 * pass over the text each, without building values: these run on state files of tens of megabytes.
 */

export type PathPart = string | number

/** Why a JSON text is refused, at which offset. */
export interface JsonIssue {
  code: 'DUPLICATE_KEY' | 'JSON_SYNTAX' | 'TOO_DEEP'
  offset: number
}

const TAB = 0x09
const LF = 0x0a
const CR = 0x0d
const SPACE = 0x20
const QUOTE = 0x22
const COMMA = 0x2c
const COLON = 0x3a
const LBRACKET = 0x5b
const BACKSLASH = 0x5c
const RBRACKET = 0x5d
const LBRACE = 0x7b
const RBRACE = 0x7d

const OBJECT = 1
const ARRAY = 2

/** An object with more keys than this checks new keys against a set instead of one by one. */
const LINEAR_KEYS = 16
/**
 * Nesting deeper than this is refused: every later walk of the data (normalization, redaction, the YAML
 * writer) recurses, and a state file nests a few levels, a plugin's configuration a few more.
 */
export const MAX_JSON_DEPTH = 1000

function isSpace(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++
  return i
}

/**
 * Index after the closing quote of the string whose opening quote is at `i`; -1 when there is none.
 * Strict mode also refuses what JSON does not allow inside strings (raw control characters, unknown
 * escapes), to find where an invalid text goes wrong; otherwise the text is known to be valid.
 */
function stringEnd(text: string, i: number, strict: boolean): number {
  if (!strict) {
    for (let from = i + 1; ;) {
      const quote = text.indexOf('"', from)
      if (quote === -1) return -1
      let slashes = 0
      while (text.charCodeAt(quote - 1 - slashes) === BACKSLASH) slashes++
      if (slashes % 2 === 0) return quote + 1
      from = quote + 1
    }
  }
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j)
    if (c === QUOTE) return j + 1
    if (c < SPACE) return -1
    if (c === BACKSLASH) {
      const e = text[j + 1]
      if (e === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(j + 2, j + 6))) return -1
        j += 5
      } else if (e !== undefined && '"\\/bfnrt'.includes(e)) j++
      else return -1
    }
  }
  return -1
}

/** The end of a number or literal (`true`, `false`, `null`) at `i`; -1 when there is none. */
function scalarEnd(text: string, i: number, strict: boolean): number {
  if (strict) {
    SCALAR.lastIndex = i
    return SCALAR.test(text) ? SCALAR.lastIndex : -1
  }
  let j = i
  while (j < text.length) {
    const c = text.charCodeAt(j)
    if (c === COMMA || c === RBRACE || c === RBRACKET || isSpace(c)) break
    j++
  }
  return j
}
const SCALAR = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y

/**
 * Keys of the objects open at the moment, as ranges of the text (between the quotes), so that a new key
 * is compared with its siblings without a string being made for every key of the file.
 */
class OpenKeys {
  /** Start and end of each key, and 1 when it holds an escape; `count` of them are in use. */
  private starts = new Int32Array(64)
  private ends = new Int32Array(64)
  private escaped = new Uint8Array(64)
  private count = 0
  /** Per open object: where its keys start in the lists, and its set once it has many keys. */
  private readonly bases: number[] = []
  private readonly sets: (Set<string> | undefined)[] = []

  constructor(private readonly text: string) {}

  open(): void {
    this.bases.push(this.count)
    this.sets.push(undefined)
  }

  close(): void {
    this.count = this.bases.pop()!
    this.sets.pop()
  }

  /** Adds the key between `start` and `end` to the innermost object; false when it has it already. */
  add(start: number, end: number): boolean {
    const { text } = this
    let escaped = 0
    for (let i = start; i < end; i++) if (text.charCodeAt(i) === BACKSLASH) escaped = 1
    const depth = this.bases.length - 1
    const base = this.bases[depth]!
    const added = this.count
    if (added === this.starts.length) this.grow()
    this.starts[added] = start
    this.ends[added] = end
    this.escaped[added] = escaped
    this.count++
    let set = this.sets[depth]
    if (set === undefined && added - base >= LINEAR_KEYS) {
      set = new Set()
      for (let k = base; k < added; k++) set.add(this.key(k))
      this.sets[depth] = set
    }
    if (set !== undefined) {
      const key = this.key(added)
      if (set.has(key)) return false
      set.add(key)
      return true
    }
    for (let k = base; k < added; k++) if (this.same(k, added)) return false
    return true
  }

  private grow(): void {
    const size = this.starts.length * 2
    const starts = new Int32Array(size)
    const ends = new Int32Array(size)
    const escaped = new Uint8Array(size)
    starts.set(this.starts)
    ends.set(this.ends)
    escaped.set(this.escaped)
    this.starts = starts
    this.ends = ends
    this.escaped = escaped
  }

  private key(k: number): string {
    const raw = this.text.slice(this.starts[k]!, this.ends[k]!)
    return this.escaped[k] === 1 ? (JSON.parse(`"${raw}"`) as string) : raw
  }

  private same(a: number, b: number): boolean {
    if (this.escaped[a] === 1 || this.escaped[b] === 1) return this.key(a) === this.key(b)
    const sa = this.starts[a]!
    const sb = this.starts[b]!
    const length = this.ends[a]! - sa
    if (length !== this.ends[b]! - sb) return false
    const { text } = this
    for (let i = 0; i < length; i++) if (text.charCodeAt(sa + i) !== text.charCodeAt(sb + i)) return false
    return true
  }
}

/**
 * The first duplicate key of a JSON text, or (`strict`, for a text JSON.parse refused) the first place
 * where it is not JSON. Undefined when there is neither. Iterative, so nesting depth costs no stack.
 */
export function findJsonIssue(text: string, strict: boolean): JsonIssue | undefined {
  const kinds: number[] = []
  const keys = new OpenKeys(text)
  let issue: JsonIssue | undefined
  const fail = (code: JsonIssue['code'], offset: number): number => {
    issue = { code, offset: Math.min(offset, text.length) }
    return -1
  }
  /** Reads a key and its colon at `i`: the offset of its value, or -1 and the issue. */
  const key = (i: number): number => {
    if (text.charCodeAt(i) !== QUOTE) return fail('JSON_SYNTAX', i)
    const end = stringEnd(text, i, strict)
    if (end === -1) return fail('JSON_SYNTAX', i)
    if (!keys.add(i + 1, end - 1)) return fail('DUPLICATE_KEY', i)
    const colon = skipSpace(text, end)
    if (text.charCodeAt(colon) !== COLON) return fail('JSON_SYNTAX', colon)
    return skipSpace(text, colon + 1)
  }
  let i = skipSpace(text, text.charCodeAt(0) === 0xfeff ? 1 : 0)
  // Each turn reads one value (opening a container counts as reading it), then what follows it.
  for (;;) {
    const c = text.charCodeAt(i)
    if (c === LBRACE || c === LBRACKET) {
      i = skipSpace(text, i + 1)
      if (text.charCodeAt(i) === (c === LBRACE ? RBRACE : RBRACKET)) i++
      else {
        if (kinds.length >= MAX_JSON_DEPTH) return { code: 'TOO_DEEP', offset: i }
        kinds.push(c === LBRACE ? OBJECT : ARRAY)
        if (c === LBRACE) {
          keys.open()
          i = key(i)
          if (i === -1) return issue
        }
        continue
      }
    } else {
      const end = c === QUOTE ? stringEnd(text, i, strict) : scalarEnd(text, i, strict)
      if (end === -1 || end === i) return { code: 'JSON_SYNTAX', offset: Math.min(i, text.length) }
      i = end
    }
    // After a value: a comma and the next value (or key), or the end of containers.
    for (;;) {
      i = skipSpace(text, i)
      const kind = kinds.length === 0 ? 0 : kinds[kinds.length - 1]!
      if (kind === 0) return i < text.length ? { code: 'JSON_SYNTAX', offset: i } : undefined
      const d = text.charCodeAt(i)
      if (d === COMMA) {
        i = skipSpace(text, i + 1)
        if (kind === OBJECT) {
          i = key(i)
          if (i === -1) return issue
        }
        break
      }
      if (d !== (kind === OBJECT ? RBRACE : RBRACKET)) return { code: 'JSON_SYNTAX', offset: i }
      kinds.pop()
      if (kind === OBJECT) keys.close()
      i++
    }
  }
}

/**
 * Paths to look for, as a tree: one node per path prefix, its children by index or by key (a short list
 * searched in turn: a state file's objects are wanted by one or two of their keys).
 */
interface Wanted {
  /** Indices (into the caller's list) of the paths that end here. */
  ends?: number[]
  items?: (Wanted | undefined)[]
  keys?: string[]
  byKey?: Wanted[]
}

function wantedTree(paths: readonly (readonly PathPart[])[]): Wanted {
  const root: Wanted = {}
  paths.forEach((path, index) => {
    let node = root
    for (const part of path) {
      let child: Wanted | undefined
      if (typeof part === 'number') {
        node.items ??= []
        child = node.items[part] ??= {}
      } else {
        const keys = (node.keys ??= [])
        const byKey = (node.byKey ??= [])
        const at = keys.indexOf(part)
        if (at === -1) {
          keys.push(part)
          byKey.push((child = {}))
        } else child = byKey[at]!
      }
      node = child
    }
    ;(node.ends ??= []).push(index)
  })
  return root
}

/**
 * The 1-based line each path's value starts on in a valid JSON text (undefined for a path it does not
 * have). Array elements are numbers in a path, object keys strings.
 *
 * Paths listed in the order of the text (as a walk of the parsed data lists them) are found in one pass
 * that compares each key in place with the next wanted path, making nothing. The others (an object with
 * keys that look like numbers, which JavaScript lists first) are left to a second pass with a tree.
 */
export function locateJson(text: string, paths: readonly (readonly PathPart[])[]): (number | undefined)[] {
  const lines: (number | undefined)[] = new Array<number | undefined>(paths.length).fill(undefined)
  const missed = locateInOrder(text, paths, lines)
  if (missed.length > 0) {
    const found = locateByTree(
      text,
      missed.map((index) => paths[index]!),
    )
    missed.forEach((index, k) => (lines[index] = found[k]))
  }
  return lines
}

/** The pass of {@link locateJson} for paths in the text's order; returns the indices of paths it missed. */
function locateInOrder(
  text: string,
  paths: readonly (readonly PathPart[])[],
  lines: (number | undefined)[],
): number[] {
  const missed: number[] = []
  if (paths.length === 0) return missed
  // The current position: by depth, the container's kind and the element's index or the key's range.
  const kinds: number[] = []
  const indices: number[] = []
  const keyStarts: number[] = []
  const keyEnds: number[] = []
  let next = 0
  /** How many leading parts of the current position equal those of paths[next]. */
  let matched = 0
  let line = 1
  const skip = (i: number): number => {
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (c === LF) line++
      else if (!isSpace(c)) break
    }
    return i
  }
  const partMatches = (d: number): boolean => {
    const want = paths[next]![d]
    if (kinds[d] === ARRAY) return want === indices[d]
    if (typeof want !== 'string') return false
    const start = keyStarts[d]!
    const end = keyEnds[d]!
    if (want.length === end - start && text.startsWith(want, start)) return true
    for (let j = start; j < end; j++)
      if (text.charCodeAt(j) === BACKSLASH) return JSON.parse(`"${text.slice(start, end)}"`) === want
    return false
  }
  const advance = (): void => {
    next++
    matched = 0
    if (next === paths.length) return
    const path = paths[next]!
    while (matched < kinds.length && matched < path.length && partMatches(matched)) matched++
  }
  /** A value starts at the current position: the wanted paths that end here are found. */
  const atValue = (): void => {
    const depth = kinds.length
    while (next < paths.length && matched === depth && paths[next]!.length === depth) {
      lines[next] = line
      advance()
    }
  }
  /** The element or key at depth `d` is done: a wanted path below it was not there. */
  const leave = (d: number): void => {
    while (next < paths.length && matched > d) {
      missed.push(next)
      advance()
    }
  }
  /** The element or key at depth `d` was just set. */
  const enter = (d: number): void => {
    if (next < paths.length && matched === d && paths[next]!.length > d && partMatches(d)) matched = d + 1
  }
  /** Reads the key at `i` as the part at depth `d`: the offset of its value. */
  const readKey = (i: number, d: number): number => {
    const end = stringEnd(text, i, false)
    keyStarts[d] = i + 1
    keyEnds[d] = end - 1
    enter(d)
    return skip(skip(end) + 1)
  }
  let i = skip(text.charCodeAt(0) === 0xfeff ? 1 : 0)
  while (next < paths.length && i < text.length) {
    atValue()
    const c = text.charCodeAt(i)
    if (c === LBRACE || c === LBRACKET) {
      i = skip(i + 1)
      if (text.charCodeAt(i) === (c === LBRACE ? RBRACE : RBRACKET)) i++
      else {
        const d = kinds.length
        kinds.push(c === LBRACE ? OBJECT : ARRAY)
        if (c === LBRACE) i = readKey(i, d)
        else {
          indices[d] = 0
          enter(d)
        }
        continue
      }
    } else if (c === QUOTE) i = stringEnd(text, i, false)
    else i = scalarEnd(text, i, false)
    for (;;) {
      i = skip(i)
      if (kinds.length === 0 || i >= text.length) break
      const d = kinds.length - 1
      leave(d)
      if (text.charCodeAt(i) === COMMA) {
        i = skip(i + 1)
        if (kinds[d] === OBJECT) i = readKey(i, d)
        else {
          indices[d]!++
          enter(d)
        }
        break
      }
      kinds.pop()
      i++
    }
  }
  for (; next < paths.length; next++) missed.push(next)
  return missed
}

/** {@link locateJson} for paths in any order: a tree of the wanted paths, looked up at every key. */
function locateByTree(text: string, paths: readonly (readonly PathPart[])[]): (number | undefined)[] {
  const lines: (number | undefined)[] = paths.map(() => undefined)
  let missing = paths.length
  const kinds: number[] = []
  /** The wanted node of each open container (undefined off the wanted paths) and its next index. */
  const nodes: (Wanted | undefined)[] = []
  const indices: number[] = []
  let line = 1
  const skip = (i: number): number => {
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (c === LF) line++
      else if (!isSpace(c)) break
    }
    return i
  }
  /** What is wanted of the value of the key at `i`, set by {@link readKey}. */
  let wanted: Wanted | undefined
  /** Reads the key at `i` and its colon: the offset of its value. */
  const readKey = (i: number): number => {
    const end = stringEnd(text, i, false)
    const parent = nodes[nodes.length - 1]
    wanted = parent?.keys === undefined ? undefined : wantedKey(parent, i + 1, end - 1)
    return skip(skip(end) + 1)
  }
  /** The child of `parent` for the key between `start` and `end`, compared in place. */
  const wantedKey = (parent: Wanted, start: number, end: number): Wanted | undefined => {
    const keys = parent.keys!
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!
      if (key.length === end - start && text.startsWith(key, start)) return parent.byKey![k]
    }
    for (let j = start; j < end; j++) {
      // An escaped key may still be one of them.
      if (text.charCodeAt(j) === BACKSLASH) {
        const at = keys.indexOf(JSON.parse(`"${text.slice(start, end)}"`) as string)
        return at === -1 ? undefined : parent.byKey![at]
      }
    }
    return undefined
  }
  let i = skip(text.charCodeAt(0) === 0xfeff ? 1 : 0)
  let node: Wanted | undefined = wantedTree(paths)
  while (missing > 0 && i < text.length) {
    // `node` is what is wanted of the value at `i`.
    if (node !== undefined) {
      if (node.ends !== undefined) {
        for (const index of node.ends) lines[index] = line
        missing -= node.ends.length
      }
      if (node.keys === undefined && node.items === undefined) node = undefined
    }
    const c = text.charCodeAt(i)
    if (c === LBRACE || c === LBRACKET) {
      i = skip(i + 1)
      if (text.charCodeAt(i) === (c === LBRACE ? RBRACE : RBRACKET)) i++
      else {
        kinds.push(c === LBRACE ? OBJECT : ARRAY)
        nodes.push(node)
        indices.push(0)
        if (c === LBRACE) {
          i = readKey(i)
          node = wanted
        } else node = node?.items?.[0]
        continue
      }
    } else if (c === QUOTE) i = stringEnd(text, i, false)
    else i = scalarEnd(text, i, false)
    for (;;) {
      i = skip(i)
      if (kinds.length === 0 || i >= text.length) return lines
      const kind = kinds[kinds.length - 1]
      if (text.charCodeAt(i) === COMMA) {
        i = skip(i + 1)
        if (kind === OBJECT) {
          i = readKey(i)
          node = wanted
        } else node = nodes[nodes.length - 1]?.items?.[++indices[indices.length - 1]!]
        break
      }
      kinds.pop()
      nodes.pop()
      indices.pop()
      i++
    }
  }
  return lines
}

/** 1-based line and column of an offset. */
export function lineColumn(text: string, offset: number): { line: number; col: number } {
  let line = 1
  let start = 0
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++
    start = i + 1
  }
  return { line, col: offset - start + 1 }
}
