import { EnvRef } from './redact.js'

/**
 * Writes JSON-shaped data (plus {@link EnvRef} values) as YAML in deck's own style: keys in
 * alphabetical order, two-space indent, sequences not indented under their key.
 *
 * Why not `yaml.stringify`: on a 100,000-entity dump it is over 20 times slower than JSON.stringify,
 * and dumps of large gateways are the point. This writer handles only what a state file holds
 * (objects, arrays, strings, numbers, booleans, null) and quotes conservatively, so that both YAML 1.2
 * (the `yaml` package) and YAML 1.1 (deck's go-yaml) read back exactly the input; the tests check that
 * round trip on generated data.
 */
export function toYaml(doc: Record<string, unknown>): string {
  const writer = new YamlWriter()
  const keys = Object.keys(doc)
  if (keys.length > 0) writer.map(doc, keys, 0, '')
  return writer.text()
}

/** Size at which the text written so far is set aside as one flat string. */
const CHUNK_SIZE = 16_384

/**
 * Appends with `+=`, which V8 does lazily (a rope of pieces) and which on large dumps is several times
 * faster than collecting pieces in arrays. Every block takes `first`, the text its first line starts
 * with in place of its indentation, so a sequence item's dash (or dashes, for nested sequences) is
 * written directly in front of the item's first key.
 */
class YamlWriter {
  /** The text written since the last chunk was set aside. */
  out = ''
  private readonly chunks: string[] = []
  private readonly layouts = new Layouts()

  text(): string {
    this.chunks.push(this.out)
    this.out = ''
    return this.chunks.join('')
  }

  /** Writes a map with at least one key. */
  map(obj: Record<string, unknown>, keys: string[], indent: number, first: string): void {
    const layout = this.layouts.of(keys)
    const { sorted, texts } = layout
    const lines = keyLines(layout, indent)
    // Only a first line that starts with dashes differs from the indented `key:` lines.
    let dashed = first !== indentation(indent)
    for (let i = 0; i < sorted.length; i++) {
      const value = obj[sorted[i]!]
      if (value === undefined) continue
      this.out += dashed ? first + texts[i]! : lines[i]!
      dashed = false
      this.value(value, indent)
      if (this.out.length > CHUNK_SIZE) this.flush()
    }
  }

  /**
   * Sets the current text aside as a chunk. Reading a character makes V8 flatten the rope into one
   * string, so its many small pieces die young instead of being kept, and copied by every garbage
   * collection, until the whole file is done: on large dumps that makes the writer much faster.
   */
  private flush(): void {
    this.out.charCodeAt(0)
    this.chunks.push(this.out)
    this.out = ''
  }

  /** Writes the value of a key or a sequence item whose indicator (`key:` or `-`) is already out. */
  value(value: unknown, indent: number): void {
    if (typeof value === 'string') this.string(value, indent)
    else if (typeof value !== 'object' || value === null) this.out += ' ' + otherScalar(value) + '\n'
    else if (Array.isArray(value)) {
      if (value.length === 0) this.out += ' []\n'
      else {
        this.out += '\n'
        this.seq(value, indent, indentation(indent))
      }
    } else if (value instanceof EnvRef) {
      const pad = indentation(indent + 2)
      this.out += ' ' + value.header() + '\n' + pad + value.template(indent + 2) + '\n'
    } else {
      const keys = Object.keys(value)
      if (keys.length === 0) this.out += ' {}\n'
      else {
        this.out += '\n'
        this.map(value as Record<string, unknown>, keys, indent + 2, indentation(indent + 2))
      }
    }
  }

  seq(list: unknown[], indent: number, first: string): void {
    const pad = indentation(indent)
    let prefix = first
    for (const item of list) {
      // A non-empty map or sequence starts on the dash's line, two columns deeper.
      if (typeof item === 'object' && item !== null && !(item instanceof EnvRef)) {
        const dash = prefix === pad ? dashIndentation(indent) : prefix + '- '
        if (Array.isArray(item)) {
          if (item.length > 0) {
            this.seq(item, indent + 2, dash)
            prefix = pad
            continue
          }
        } else {
          const keys = Object.keys(item)
          if (keys.length > 0) {
            this.map(item as Record<string, unknown>, keys, indent + 2, dash)
            prefix = pad
            continue
          }
        }
      }
      this.out += prefix + '-'
      prefix = pad
      this.value(item, indent)
    }
  }

  string(value: string, indent: number): void {
    // A plain-safe string has no line break and no template, so it is never a block literal.
    if (plainSafe(value)) this.out += ' ' + value + '\n'
    else if (isBlockLiteral(value)) this.blockLiteral(value, indent + 2)
    else this.out += ' ' + quote(value) + '\n'
  }

  blockLiteral(value: string, indent: number): void {
    let end = value.length
    while (end > 0 && value[end - 1] === '\n') end--
    const trailing = value.length - end
    this.out += trailing === 0 ? ' |-\n' : trailing === 1 ? ' |\n' : ' |+\n'
    const pad = indentation(indent)
    for (const line of value.slice(0, end).split('\n')) this.out += line === '' ? '\n' : pad + line + '\n'
    for (let i = 1; i < trailing; i++) this.out += '\n'
  }
}

/** Indentation is cached up to this width: deeper than any state file, and keeps the caches small. */
const MAX_CACHED_INDENT = 64
const indentations: string[] = []
const dashIndentations: string[] = []

function indentation(width: number): string {
  if (width > MAX_CACHED_INDENT) return ' '.repeat(width)
  return (indentations[width] ??= ' '.repeat(width))
}

/** Indentation followed by a sequence dash, for an item that is a map or sequence itself. */
function dashIndentation(width: number): string {
  if (width > MAX_CACHED_INDENT) return ' '.repeat(width) + '- '
  return (dashIndentations[width] ??= ' '.repeat(width) + '- ')
}

/** How a map with a given list of keys is written: its keys in code unit order, and each as `key:`. */
interface Layout {
  /** The keys as Object.keys lists them. */
  keys: string[]
  sorted: string[]
  /** Each sorted key as written: `key:`. */
  texts: string[]
  /** The same, indented, by indentation: built once per depth the layout is written at. */
  lines: string[][]
}

function keyLines(layout: Layout, indent: number): string[] {
  const pad = indentation(indent)
  if (indent > MAX_CACHED_INDENT) return layout.texts.map((text) => pad + text)
  return (layout.lines[indent] ??= layout.texts.map((text) => pad + text))
}

const MAX_LAYOUTS_PER_KEY = 32

/**
 * Layouts by first key, each list checked key by key. A state file has few distinct key lists (every
 * service has much the same keys), so finding the list again is much cheaper than sorting it and
 * quoting each key for every entity; keys from JSON.parse are interned, so comparing them is cheap.
 * Lists sharing a first key are bounded, so odd files cannot make the search slow.
 */
class Layouts {
  private readonly byFirstKey = new Map<string, Layout[]>()

  of(keys: string[]): Layout {
    const candidates = this.byFirstKey.get(keys[0]!)
    if (candidates === undefined) {
      const layout = newLayout(keys)
      this.byFirstKey.set(keys[0]!, [layout])
      return layout
    }
    for (const layout of candidates) if (sameKeys(layout.keys, keys)) return layout
    const layout = newLayout(keys)
    if (candidates.length < MAX_LAYOUTS_PER_KEY) candidates.push(layout)
    return layout
  }
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function newLayout(keys: string[]): Layout {
  const sorted = [...keys].sort()
  const texts = sorted.map((key) => (plainSafe(key) ? key : quote(key)) + ':')
  return { keys, sorted, texts, lines: [] }
}

/** Characters YAML can hold unescaped that are also not line breaks in YAML 1.1 (NEL, LS, PS are). */
const PRINTABLE_LINES = /^[\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]*$/
/** Outside double quotes, escape what YAML does not allow raw or would read as a line break. */
const NEEDS_ESCAPE = /[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/g

/**
 * Multi-line text (PEM, scripts) reads best as a literal block; anything unusual falls back to quotes.
 * Text holding a deck template must be a block too: deck renders templates before YAML parsing, and
 * Go's template parser cannot read the `\"` a double-quoted scalar would need.
 */
function isBlockLiteral(value: string): boolean {
  if (!(value.includes('\n') || value.includes('${{')) || !PRINTABLE_LINES.test(value)) return false
  if (value.trim() === '') return false
  // Leading whitespace would be taken for indentation; trailing blanks on lines are kept as they are.
  return value.split('\n').every((line) => !/^[ \t]/.test(line))
}

/** Plain scalars that YAML 1.1 or 1.2 would read as something other than a string. */
const RESERVED = new Set(['y', 'n', 'yes', 'no', 'true', 'false', 'on', 'off', 'null'])

/**
 * Which ASCII characters a plain scalar may hold: `[A-Za-z_/]` first, then `[A-Za-z0-9_./@+:-]`.
 * Checked with a table rather than a regular expression because it runs for every string in the file.
 */
const PLAIN_FIRST = 1
const PLAIN_REST = 2
const PLAIN_CHARS = new Uint8Array(128)
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c)
  if (/[A-Za-z_/]/.test(ch)) PLAIN_CHARS[c]! |= PLAIN_FIRST
  if (/[A-Za-z0-9_./@+:-]/.test(ch)) PLAIN_CHARS[c]! |= PLAIN_REST
}

function isPlainChar(code: number, where: number): boolean {
  return code < 128 && (PLAIN_CHARS[code]! & where) !== 0
}

function plainSafe(value: string): boolean {
  const length = value.length
  if (length === 0 || !isPlainChar(value.charCodeAt(0), PLAIN_FIRST)) return false
  for (let i = 1; i < length; i++) if (!isPlainChar(value.charCodeAt(i), PLAIN_REST)) return false
  // Only ASCII gets here, so the reserved words (at most five letters) are checked on short values only.
  return value.charCodeAt(length - 1) !== 0x3a && !(length <= 5 && RESERVED.has(value.toLowerCase()))
}

function quote(value: string): string {
  return JSON.stringify(value).replace(
    NEEDS_ESCAPE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

/** A scalar other than a string: those are written by the writer, as plain, quoted or block text. */
function otherScalar(value: unknown): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`cannot write ${value} as YAML`)
      return String(value)
    case 'boolean':
      return value ? 'true' : 'false'
    default:
      throw new TypeError(`cannot write a ${typeof value} as YAML`)
  }
}
