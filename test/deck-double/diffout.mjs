// What deck prints about changes: the JSON diff text of an update (Kong/gojsondiff's delta and
// ASCII formatter, as GDR's getDiff uses them) and the masking of DECK_* environment values
// (GDR pkg/diff/diff_helpers.go MaskEnvVarValue).

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)

function deepEqual(a, b) {
  if (a === b) return true
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]))
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a)
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]))
  }
  return false
}

const byteOrder = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))

// ---- deltas ----

function objectDeltas(left, right) {
  const deltas = []
  for (const key of Object.keys(left)) {
    if (!(key in right)) deltas.push({ type: 'deleted', pos: key, value: left[key] })
    else {
      const d = valueDelta(key, left[key], right[key])
      if (d) deltas.push(d)
    }
  }
  for (const key of Object.keys(right).sort(byteOrder)) {
    if (!(key in left)) deltas.push({ type: 'added', pos: key, value: right[key] })
  }
  return deltas
}

function valueDelta(pos, l, r) {
  if (isObject(l) && isObject(r)) {
    const inner = objectDeltas(l, r)
    return inner.length ? { type: 'object', pos, deltas: inner } : null
  }
  if (Array.isArray(l) && Array.isArray(r)) {
    const inner = arrayDeltas(l, r)
    return inner.length ? { type: 'array', pos, deltas: inner } : null
  }
  return deepEqual(l, r) ? null : { type: 'modified', pos, old: l, new: r }
}

// Elements kept in order (longest common subsequence); the rest are deleted (left index) or added
// (right index).
function arrayDeltas(left, right) {
  const n = left.length
  const m = right.length
  const lcs = Array.from({ length: n + 1 }, () => new Array(m + 1).fill(0))
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = deepEqual(left[i], right[j])
        ? lcs[i + 1][j + 1] + 1
        : Math.max(lcs[i + 1][j], lcs[i][j + 1])
    }
  }
  const deleted = []
  const added = []
  let i = 0
  let j = 0
  while (i < n || j < m) {
    if (i < n && j < m && deepEqual(left[i], right[j])) {
      i++
      j++
    } else if (j < m && (i >= n || lcs[i][j + 1] >= lcs[i + 1][j])) {
      added.push({ type: 'added', pos: j, value: right[j] })
      j++
    } else {
      deleted.push({ type: 'deleted', pos: i, value: left[i] })
      i++
    }
  }
  return [...deleted, ...added]
}

// ---- the ASCII formatter ----

// Go's %#v of a float64 (strconv 'g', shortest): exponent form from 1e+06 on.
function goFloat(v) {
  if (v === 0) return Object.is(v, -0) ? '-0' : '0'
  const [mantissa, e] = v.toExponential().split('e')
  const exp = Number(e)
  if (exp < -4 || exp >= 6)
    return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`
  return String(v)
}

class AsciiFormatter {
  constructor() {
    this.out = ''
    this.path = []
    this.size = []
    this.inArray = []
    this.line = null
  }

  push(name, size, array) {
    this.path.push(name)
    this.size.push(size)
    this.inArray.push(array)
  }

  pop() {
    this.path.pop()
    this.size.pop()
    this.inArray.pop()
  }

  newLine(marker) {
    this.line = { marker, indent: this.path.length, text: '' }
  }

  closeLine() {
    this.out += this.line.marker + '  '.repeat(this.line.indent) + this.line.text + '\n'
  }

  addLine(marker, text) {
    this.newLine(marker)
    this.line.text = text
    this.closeLine()
  }

  key(name) {
    if (!this.inArray[this.inArray.length - 1]) this.line.text += `"${name}": `
  }

  comma() {
    this.size[this.size.length - 1]--
    if (this.size[this.size.length - 1] > 0) this.line.text += ','
  }

  value(v) {
    if (typeof v === 'string') this.line.text += `"${v}"`
    else if (v === null || v === undefined) this.line.text += 'null'
    else if (typeof v === 'number') this.line.text += goFloat(v)
    else this.line.text += String(v)
  }

  recursive(name, value, marker) {
    if (isObject(value)) {
      this.newLine(marker)
      this.key(name)
      this.line.text += '{'
      this.closeLine()
      this.push(name, Object.keys(value).length, false)
      for (const k of Object.keys(value).sort(byteOrder)) this.recursive(k, value[k], marker)
      this.pop()
      this.newLine(marker)
      this.line.text += '}'
      this.comma()
      this.closeLine()
    } else if (Array.isArray(value)) {
      this.newLine(marker)
      this.key(name)
      this.line.text += '['
      this.closeLine()
      this.push('', value.length, true)
      for (const item of value) this.recursive('', item, marker)
      this.pop()
      this.newLine(marker)
      this.line.text += ']'
      this.comma()
      this.closeLine()
    } else {
      this.newLine(marker)
      this.key(name)
      this.value(value)
      this.comma()
      this.closeLine()
    }
  }

  item(value, deltas, pos) {
    const matched = deltas.filter((d) => d.pos === pos)
    if (!matched.length) return this.recursive(String(pos), value, ' ')
    for (const d of matched) {
      if (d.type === 'object' || d.type === 'array') {
        const array = d.type === 'array'
        this.newLine(' ')
        this.key(String(pos))
        this.line.text += array ? '[' : '{'
        this.closeLine()
        this.push(String(pos), array ? value.length : Object.keys(value).length, array)
        if (array) this.array(value, d.deltas)
        else this.object(value, d.deltas)
        this.pop()
        this.newLine(' ')
        this.line.text += array ? ']' : '}'
        this.comma()
        this.closeLine()
      } else if (d.type === 'added') {
        this.recursive(String(pos), d.value, '+')
        this.size[this.size.length - 1]++
      } else if (d.type === 'modified') {
        const saved = this.size[this.size.length - 1]
        this.recursive(String(pos), d.old, '-')
        this.size[this.size.length - 1] = saved
        this.recursive(String(pos), d.new, '+')
      } else this.recursive(String(pos), d.value, '-')
    }
  }

  object(obj, deltas) {
    for (const k of Object.keys(obj).sort(byteOrder)) this.item(obj[k], deltas, k)
    for (const d of deltas) if (d.type === 'added') this.recursive(d.pos, d.value, '+')
  }

  array(list, deltas) {
    list.forEach((v, i) => this.item(v, deltas, i))
    for (const d of deltas)
      if (d.type === 'added' && d.pos >= list.length) this.recursive(String(d.pos), d.value, '+')
  }
}

/** getDiff(old, new): both sides as decoded JSON objects, timestamps removed at the top level. */
export function diffText(oldObj, newObj) {
  const strip = (o) => {
    const out = { ...o }
    delete out.created_at
    delete out.updated_at
    return out
  }
  const left = strip(oldObj)
  const f = new AsciiFormatter()
  f.addLine(' ', '{')
  f.push('ROOT', Object.keys(left).length, false)
  f.object(left, objectDeltas(left, strip(newObj)))
  f.pop()
  f.addLine(' ', '}')
  return f.out
}

// ---- MaskEnvVarValue ----

const SPACE = '[\\t\\n\\f\\r ]'
const JSON_KEY = /"[^"]+"[\t\n\f\r ]*:/
const KV = new RegExp(
  `:${SPACE}*"((?:[^"\\\\]|\\\\.)*)"|` +
    `:${SPACE}+(-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)\\b|` +
    `:${SPACE}+([^\\t\\n\\f\\r "\\d{\\[\\]}\\-][^\\n,}\\]]*)`,
  'g',
)
const ARRAY_ELEMENT = new RegExp(`^([+\\- ]*${SPACE}+)"((?:[^"\\\\]|\\\\.)*)"`)
const MASKED = '[masked]'

const quoteMeta = (s) => s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&')

/**
 * Replaces the values of DECK_* environment variables in deck's diff or JSON output. env holds the
 * variables deck sees (the double's own DECK_DOUBLE_* switches are not deck's and are left out).
 */
export function maskEnvVarValues(text, env) {
  const values = Object.entries(env)
    .filter(([k]) => k.startsWith('DECK_') && !k.startsWith('DECK_DOUBLE_'))
    .map(([, v]) => v)
  const seen = new Set()
  const secrets = []
  for (const v of values) {
    if (v !== '' && !seen.has(v)) {
      seen.add(v)
      secrets.push(v)
    }
  }
  if (!secrets.length) return text
  secrets.sort((a, b) => b.length - a.length)
  const patterns = secrets.map((s) => new RegExp(`\\b${quoteMeta(s)}\\b`, 'g'))
  const mask = (s) => patterns.reduce((acc, re) => acc.replace(re, () => MASKED), s)
  const isJSON = JSON_KEY.test(text)
  return text
    .split('\n')
    .map((line) => {
      const result = line.replace(KV, (match, quoted, number, plain) => {
        if (quoted !== undefined && quoted !== '') {
          const masked = mask(quoted)
          if (masked !== quoted) return `${match.slice(0, match.length - quoted.length - 2)}"${masked}"`
        } else if (number !== undefined && number !== '') {
          if (seen.has(number)) return isJSON ? `: "${MASKED}"` : `: ${MASKED}`
        } else if (plain !== undefined && plain !== '') {
          const masked = mask(plain)
          if (masked !== plain) return `: ${masked}`
        }
        return match
      })
      if (result !== line) return result
      return line.replace(ARRAY_ELEMENT, (match, prefix, quoted) => {
        const masked = mask(quoted)
        if (masked === quoted) return match
        return `${prefix}"${masked}"${match.slice(prefix.length + quoted.length + 2)}`
      })
    })
    .join('\n')
}
