// Serialising a dump exactly as deck does: Go's json.MarshalIndent(content, "", "  ") for JSON, and
// sigs.k8s.io/yaml (JSON, then go.yaml.in/yaml/v2's Marshal: sorted keys, YAML 1.1 quoting, 80-column
// folding of long scalars) for YAML.

import { KINDS } from './schema.mjs'

const isPlainObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Map)

// Go sorts map keys by their UTF-8 bytes.
const byteOrder = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))

/** A Go map[string]any: keys sorted, nested objects likewise. */
export function goMap(value) {
  if (Array.isArray(value)) return value.map(goMap)
  if (value instanceof Map) return value
  if (isPlainObject(value)) {
    return new Map(
      Object.keys(value)
        .sort(byteOrder)
        .map((k) => [k, goMap(value[k])]),
    )
  }
  return value === undefined ? null : value
}

const isEmpty = (v) =>
  v === null ||
  v === undefined ||
  (Array.isArray(v) && v.length === 0) ||
  (isPlainObject(v) && Object.keys(v).length === 0)

/** Builds the ordered tree Go would marshal for a value of the given kind (see schema.mjs). */
export function goStruct(kind, obj) {
  const out = new Map()
  for (const { name, type } of KINDS[kind]) {
    const v = obj?.[name]
    if (type.startsWith('!')) {
      out.set(name, goStruct(type.slice(1), v ?? {}))
      continue
    }
    if (v === null || v === undefined) continue
    if (type === 'sv' && v === '') continue
    if (type === 'bv' && !v) continue
    if (['ss', 'ii', 'map', 'hmap'].includes(type) || type.startsWith('[')) {
      if (isEmpty(v)) continue
    }
    if (type.startsWith('['))
      out.set(
        name,
        v.map((item) => goStruct(type.slice(1, -1), item)),
      )
    else if (type in KINDS) out.set(name, goStruct(type, v))
    else if (type === 'map' || type === 'hmap' || type === 'raw') out.set(name, goMap(v))
    else if (type === 'ss' || type === 'ii') out.set(name, [...v])
    else out.set(name, v)
  }
  return out
}

/** Reorders every mapping and entity list with a seeded generator (DECK_DOUBLE_SHUFFLE). */
export function shuffleTree(tree, seed) {
  let state = [...String(seed)].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 2166136261) || 1
  const random = () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 4294967296
  }
  const shuffle = (items) => {
    const a = [...items]
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      ;[a[i], a[j]] = [a[j], a[i]]
    }
    return a
  }
  const walk = (v) => {
    if (v instanceof Map) return new Map(shuffle([...v.entries()].map(([k, x]) => [k, walk(x)])))
    // Lists of objects are entity lists; lists of scalars (tags, paths, methods) are data.
    if (Array.isArray(v)) return v.some((x) => x instanceof Map) ? shuffle(v.map(walk)) : v.map(walk)
    return v
  }
  return walk(tree)
}

// ---- JSON (encoding/json) ----

/** encoding/json's string encoding (HTML-safe escapes, invalid surrogates replaced). */
export function jsonString(s) {
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (
      c >= 0xd800 &&
      c <= 0xdbff &&
      i + 1 < s.length &&
      s.charCodeAt(i + 1) >= 0xdc00 &&
      s.charCodeAt(i + 1) <= 0xdfff
    ) {
      out += s[i] + s[i + 1]
      i++
      continue
    }
    if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd'
    else if (c === 0x22) out += '\\"'
    else if (c === 0x5c) out += '\\\\'
    else if (c === 0x0a) out += '\\n'
    else if (c === 0x0d) out += '\\r'
    else if (c === 0x09) out += '\\t'
    else if (c === 0x08) out += '\\b'
    else if (c === 0x0c) out += '\\f'
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) {
      out += '\\u' + c.toString(16).padStart(4, '0')
    } else out += s[i]
  }
  return out + '"'
}

function jsonValue(v, indent, unit) {
  if (v === null || v === undefined) return 'null'
  if (typeof v === 'boolean') return String(v)
  if (typeof v === 'number') return String(v)
  if (typeof v === 'string') return jsonString(v)
  const inner = indent + unit
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]'
    return '[\n' + v.map((x) => inner + jsonValue(x, inner, unit)).join(',\n') + '\n' + indent + ']'
  }
  if (v instanceof Map) {
    if (v.size === 0) return '{}'
    const items = [...v.entries()].map(([k, x]) => `${inner}${jsonString(k)}: ${jsonValue(x, inner, unit)}`)
    return '{\n' + items.join(',\n') + '\n' + indent + '}'
  }
  return jsonValue(goMap(v), indent, unit)
}

/** json.MarshalIndent(v, "", "  "): no trailing newline. */
export function toGoJSON(tree) {
  return jsonValue(tree, '', '  ')
}

/** json.MarshalIndent(v, "", unit), e.g. the tab deck's --json-output uses: no trailing newline. */
export function toGoJSONIndent(tree, unit) {
  return jsonValue(tree, '', unit)
}

// ---- YAML (go.yaml.in/yaml/v2 via sigs.k8s.io/yaml) ----

// yaml.v2's keyList.Less: letters before other characters, digit runs compared as numbers.
function yamlKeyLess(a, b) {
  const ar = [...a]
  const br = [...b]
  const isLetter = (c) => /\p{L}/u.test(c)
  const isDigit = (c) => c >= '0' && c <= '9'
  for (let i = 0; i < ar.length && i < br.length; i++) {
    if (ar[i] === br[i]) continue
    const al = isLetter(ar[i])
    const bl = isLetter(br[i])
    if (al && bl) return ar[i].codePointAt(0) < br[i].codePointAt(0)
    if (al || bl) return bl
    let an = 0n
    let bn = 0n
    if (ar[i] === '0' || br[i] === '0') {
      for (let j = i - 1; j >= 0 && isDigit(ar[j]); j--) {
        if (ar[j] !== '0') {
          an = 1n
          bn = 1n
          break
        }
      }
    }
    let ai = i
    let bi = i
    for (; ai < ar.length && isDigit(ar[ai]); ai++) an = an * 10n + BigInt(ar[ai])
    for (; bi < br.length && isDigit(br[bi]); bi++) bn = bn * 10n + BigInt(br[bi])
    if (an !== bn) return an < bn
    if (ai !== bi) return ai < bi
    return ar[i].codePointAt(0) < br[i].codePointAt(0)
  }
  return ar.length < br.length
}

const yamlKeyCompare = (a, b) => (yamlKeyLess(a, b) ? -1 : yamlKeyLess(b, a) ? 1 : 0)

// Go's strconv.FormatFloat(f, 'g', -1, 64), as yaml.v2 writes floats.
function goFloat(v) {
  if (Number.isInteger(v) && Math.abs(v) < 1e21) return String(v)
  const [mantissa, e] = v.toExponential().split('e')
  const exp = Number(e)
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? '-' : '+'
    return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`
  }
  return String(v)
}

const RESOLVED_WORDS = new Set(
  (
    'y Y yes Yes YES true True TRUE on On ON n N no No NO false False FALSE off Off OFF ~ null Null NULL ' +
    '.nan .NaN .NAN .inf .Inf .INF +.inf +.Inf +.INF -.inf -.Inf -.INF <<'
  ).split(' '),
)

// Whether yaml.v2's resolve() would read the plain scalar as something other than a string.
function resolvesToNonString(s) {
  if (s === '' || RESOLVED_WORDS.has(s)) return true
  const hint = s[0]
  if (hint === '.') return /^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(s)
  if (!/[-+0-9]/.test(hint)) return false
  if (/^\d{4}-\d{1,2}-\d{1,2}([Tt ]\d{1,2}:\d{1,2}:\d{1,2}(\.\d*)?(Z|[-+]\d{1,2}(:\d{2})?)?)?$/.test(s))
    return true
  const plain = s.replace(/_/g, '')
  if (/^[-+]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[0-9]+)$/.test(plain)) return true
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(plain)) return true
  return false
}

const isBase60Float = (s) => /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/.test(s)

// libyaml's is_printable on a code point.
const isPrintable = (cp) =>
  cp === 0x0a ||
  (cp >= 0x20 && cp <= 0x7e) ||
  (cp >= 0xa0 && cp <= 0xd7ff) ||
  (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff)
const isBreak = (c) => c === '\r' || c === '\n' || c === '\u0085' || c === '\u2028' || c === '\u2029'
const isBlank = (c) => c === ' ' || c === '\t'
const isBlankz = (c) => c === undefined || isBlank(c) || isBreak(c) || c === '\0'

// yaml_emitter_analyze_scalar.
function analyze(chars) {
  const r = { multiline: false, flowPlain: false, blockPlain: true, singleQuoted: true, block: false }
  if (chars.length === 0) return r
  let blockIndicators = false
  let flowIndicators = false
  let lineBreaks = false
  let special = false
  let leadingSpace = false
  let leadingBreak = false
  let trailingSpace = false
  let trailingBreak = false
  let breakSpace = false
  let spaceBreak = false
  let prevSpace = false
  let prevBreak = false
  const head = chars.slice(0, 3).join('')
  if (head === '---' || head === '...') blockIndicators = flowIndicators = true
  let precededByWhitespace = true
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]
    const followedByWhitespace = i + 1 >= chars.length || isBlank(chars[i + 1])
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(c)) flowIndicators = blockIndicators = true
      else if (c === '?' || c === ':') {
        flowIndicators = true
        if (followedByWhitespace) blockIndicators = true
      } else if (c === '-' && followedByWhitespace) flowIndicators = blockIndicators = true
    } else if (',?[]{}'.includes(c)) flowIndicators = true
    else if (c === ':') {
      flowIndicators = true
      if (followedByWhitespace) blockIndicators = true
    } else if (c === '#' && precededByWhitespace) flowIndicators = blockIndicators = true
    if (!isPrintable(c.codePointAt(0))) special = true
    if (c === ' ') {
      if (i === 0) leadingSpace = true
      if (i === chars.length - 1) trailingSpace = true
      if (prevBreak) breakSpace = true
      prevSpace = true
      prevBreak = false
    } else if (isBreak(c)) {
      lineBreaks = true
      if (i === 0) leadingBreak = true
      if (i === chars.length - 1) trailingBreak = true
      if (prevSpace) spaceBreak = true
      prevSpace = false
      prevBreak = true
    } else {
      prevSpace = prevBreak = false
    }
    precededByWhitespace = isBlankz(c)
  }
  r.multiline = lineBreaks
  r.flowPlain = r.blockPlain = r.singleQuoted = r.block = true
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) r.flowPlain = r.blockPlain = false
  if (trailingSpace) r.block = false
  if (breakSpace) r.flowPlain = r.blockPlain = r.singleQuoted = false
  if (spaceBreak || special) r.flowPlain = r.blockPlain = r.singleQuoted = r.block = false
  if (lineBreaks) r.flowPlain = r.blockPlain = false
  if (flowIndicators) r.flowPlain = false
  if (blockIndicators) r.blockPlain = false
  return r
}

const BEST_WIDTH = 80
const BEST_INDENT = 2

/** A port of the block-style parts of libyaml's emitter as go-yaml v2 configures it. */
class Emitter {
  constructor(sortKeys) {
    this.out = ''
    this.column = 0
    this.indent = -1
    this.indents = []
    this.whitespace = true
    this.indention = true
    this.openEnded = false
    this.sortKeys = sortKeys
  }

  put(s) {
    this.out += s
    this.column += [...s].length
  }

  putBreak() {
    this.out += '\n'
    this.column = 0
  }

  increaseIndent(flow, indentless) {
    this.indents.push(this.indent)
    if (this.indent < 0) this.indent = flow ? BEST_INDENT : 0
    else if (!indentless) this.indent += BEST_INDENT
  }

  popIndent() {
    this.indent = this.indents.pop()
  }

  writeIndent() {
    const indent = Math.max(this.indent, 0)
    if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace))
      this.putBreak()
    while (this.column < indent) this.put(' ')
    this.whitespace = true
    this.indention = true
  }

  indicator(text, needWhitespace, isWhitespace, isIndention) {
    if (needWhitespace && !this.whitespace) this.put(' ')
    this.put(text)
    this.whitespace = isWhitespace
    this.indention = this.indention && isIndention
    this.openEnded = false
  }

  node(v, ctx) {
    if (v instanceof Map) {
      if (v.size === 0) return this.emptyFlow('{}')
      return this.mapping(v, ctx)
    }
    if (Array.isArray(v)) {
      if (v.length === 0) return this.emptyFlow('[]')
      return this.sequence(v, ctx)
    }
    return this.scalar(v, ctx)
  }

  emptyFlow(text) {
    this.indicator(text[0], true, true, false)
    this.indicator(text[1], false, false, false)
  }

  mapping(map, ctx) {
    this.increaseIndent(false, false)
    let entries = [...map.entries()]
    if (this.sortKeys) entries = entries.sort(([a], [b]) => yamlKeyCompare(a, b))
    for (const [k, v] of entries) {
      this.writeIndent()
      const key = [...String(k)]
      const simple = !key.some(isBreak) && Buffer.byteLength(String(k)) <= 128
      if (simple) {
        this.scalar(String(k), { simpleKey: true, mapping: true })
        this.indicator(':', false, false, false)
      } else {
        this.indicator('?', true, false, true)
        this.scalar(String(k), { mapping: true })
        this.writeIndent()
        this.indicator(':', true, false, true)
      }
      this.node(v, { mapping: true, root: false })
    }
    this.popIndent()
    void ctx
  }

  sequence(items, ctx) {
    this.increaseIndent(false, Boolean(ctx.mapping) && !this.indention)
    for (const item of items) {
      this.writeIndent()
      this.indicator('-', true, false, true)
      this.node(item, { sequence: true })
    }
    this.popIndent()
  }

  scalar(v, ctx) {
    let text
    let style
    if (v === null || v === undefined) [text, style] = ['null', 'plain']
    else if (typeof v === 'boolean') [text, style] = [String(v), 'plain']
    else if (typeof v === 'number') [text, style] = [goFloat(v), 'plain']
    else {
      text = String(v)
      const canUsePlain = !resolvesToNonString(text) && !isBase60Float(text)
      style = text.includes('\n') ? 'literal' : canUsePlain ? 'plain' : 'double'
    }
    const chars = [...text]
    const a = analyze(chars)
    if (ctx.simpleKey && a.multiline) style = 'double'
    if (style === 'plain') {
      if (!a.blockPlain) style = 'single'
      if (chars.length === 0 && ctx.simpleKey) style = 'single'
    }
    if (style === 'single' && !a.singleQuoted) style = 'double'
    if (style === 'literal' && (!a.block || ctx.simpleKey)) style = 'double'
    this.increaseIndent(true, false)
    const allowBreaks = !ctx.simpleKey
    if (style === 'plain') this.plain(chars, allowBreaks, ctx)
    else if (style === 'single') this.single(chars, allowBreaks)
    else if (style === 'double') this.double(chars, allowBreaks)
    else this.literal(chars)
    this.popIndent()
  }

  plain(chars, allowBreaks, ctx) {
    if (!this.whitespace) this.put(' ')
    let spaces = false
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]
      if (c === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && chars[i + 1] !== ' ') this.writeIndent()
        else this.put(c)
        spaces = true
      } else {
        this.put(c)
        this.indention = false
        spaces = false
      }
    }
    this.whitespace = false
    this.indention = false
    if (ctx.root) this.openEnded = true
  }

  single(chars, allowBreaks) {
    this.indicator("'", true, false, false)
    let spaces = false
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]
      if (c === ' ') {
        if (
          allowBreaks &&
          !spaces &&
          this.column > BEST_WIDTH &&
          i > 0 &&
          i < chars.length - 1 &&
          chars[i + 1] !== ' '
        ) {
          this.writeIndent()
        } else this.put(c)
        spaces = true
      } else {
        if (c === "'") this.put("'")
        this.put(c)
        this.indention = false
        spaces = false
      }
    }
    this.indicator("'", false, false, false)
    this.whitespace = false
    this.indention = false
  }

  double(chars, allowBreaks) {
    const escapes = {
      0x00: '0',
      0x07: 'a',
      0x08: 'b',
      0x09: 't',
      0x0a: 'n',
      0x0b: 'v',
      0x0c: 'f',
      0x0d: 'r',
      0x1b: 'e',
      0x22: '"',
      0x5c: '\\',
      0x85: 'N',
      0xa0: '_',
      0x2028: 'L',
      0x2029: 'P',
    }
    this.indicator('"', true, false, false)
    let spaces = false
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]
      const cp = c.codePointAt(0)
      if (!isPrintable(cp) || cp === 0xfeff || isBreak(c) || c === '"' || c === '\\') {
        let esc = escapes[cp]
        if (esc === undefined) {
          const [letter, width] = cp <= 0xff ? ['x', 2] : cp <= 0xffff ? ['u', 4] : ['U', 8]
          esc = letter + cp.toString(16).toUpperCase().padStart(width, '0')
        }
        this.put('\\' + esc)
        spaces = false
      } else if (c === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i > 0 && i < chars.length - 1) {
          this.writeIndent()
          if (chars[i + 1] === ' ') this.put('\\')
        } else this.put(c)
        spaces = true
      } else {
        this.put(c)
        spaces = false
      }
    }
    this.indicator('"', false, false, false)
    this.whitespace = false
    this.indention = false
  }

  literal(chars) {
    this.indicator('|', true, false, false)
    if (chars[0] === ' ' || isBreak(chars[0] ?? '')) this.indicator(String(BEST_INDENT), false, false, false)
    this.openEnded = false
    const last = chars.length - 1
    let chomp = ''
    if (chars.length === 0 || !isBreak(chars[last])) chomp = '-'
    else if (last === 0 || isBreak(chars[last - 1])) {
      chomp = '+'
      this.openEnded = true
    }
    if (chomp) {
      const open = this.openEnded
      this.indicator(chomp, false, false, false)
      this.openEnded = open
    }
    this.putBreak()
    this.indention = true
    this.whitespace = true
    let breaks = true
    for (const c of chars) {
      if (isBreak(c)) {
        this.putBreak()
        this.indention = true
        breaks = true
      } else {
        if (breaks) this.writeIndent()
        this.put(c)
        this.indention = false
        breaks = false
      }
    }
  }

  document(tree) {
    this.node(tree, { root: true })
    // Implicit document end: finish the last line; an open-ended block scalar gets "...".
    this.writeIndent()
    if (this.openEnded) {
      this.indicator('...', true, false, false)
      this.writeIndent()
    }
    return this.out
  }
}

/** sigs.k8s.io/yaml's Marshal output for a tree built by goStruct (sortKeys false keeps tree order). */
export function toGoYAML(tree, { sortKeys = true } = {}) {
  return new Emitter(sortKeys).document(tree)
}

/** json.Marshal(v) of a decoded document value: compact, map keys sorted. */
export function toGoJSONCompact(value) {
  const v = goMap(value)
  const enc = (x) => {
    if (x === null || x === undefined) return 'null'
    if (Array.isArray(x)) return '[' + x.map(enc).join(',') + ']'
    if (x instanceof Map)
      return '{' + [...x.entries()].map(([k, y]) => `${jsonString(k)}:${enc(y)}`).join(',') + '}'
    if (typeof x === 'string') return jsonString(x)
    return String(x)
  }
  return enc(v)
}
