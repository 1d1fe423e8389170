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
  const out: string[] = []
  writeMap(doc, 0, out)
  return out.join('')
}

function writeMap(obj: Record<string, unknown>, indent: number, out: string[]): void {
  const pad = ' '.repeat(indent)
  for (const key of Object.keys(obj).sort()) {
    const value = obj[key]
    if (value === undefined) continue
    out.push(pad, scalarKey(key), ':')
    writeValue(value, indent, out)
  }
}

/** Writes the value of a key or a sequence item whose indicator (`key:` or `-`) is already out. */
function writeValue(value: unknown, indent: number, out: string[]): void {
  if (value instanceof EnvRef) {
    out.push(' ', value.header(), '\n', ' '.repeat(indent + 2), value.template(indent + 2), '\n')
  } else if (Array.isArray(value)) {
    if (value.length === 0) out.push(' []\n')
    else {
      out.push('\n')
      writeSeq(value, indent, out)
    }
  } else if (typeof value === 'object' && value !== null) {
    if (Object.keys(value).length === 0) out.push(' {}\n')
    else {
      out.push('\n')
      writeMap(value as Record<string, unknown>, indent + 2, out)
    }
  } else if (typeof value === 'string' && isBlockLiteral(value)) {
    writeBlockLiteral(value, indent + 2, out)
  } else {
    out.push(' ', scalar(value), '\n')
  }
}

function writeSeq(list: unknown[], indent: number, out: string[]): void {
  const pad = ' '.repeat(indent)
  for (const item of list) {
    if (typeof item === 'object' && item !== null && !(item instanceof EnvRef)) {
      const keys = Array.isArray(item) ? item : Object.keys(item)
      if (keys.length > 0) {
        // Write the nested block two columns deeper, then put the dash into its first line's indent.
        const nested: string[] = []
        if (Array.isArray(item)) writeSeq(item, indent + 2, nested)
        else writeMap(item as Record<string, unknown>, indent + 2, nested)
        nested[0] = `${pad}- ${nested[0]!.slice(indent + 2)}`
        out.push(...nested)
        continue
      }
    }
    out.push(pad, '-')
    writeValue(item, indent, out)
  }
}

function writeBlockLiteral(value: string, indent: number, out: string[]): void {
  let end = value.length
  while (end > 0 && value[end - 1] === '\n') end--
  const trailing = value.length - end
  out.push(trailing === 0 ? ' |-\n' : trailing === 1 ? ' |\n' : ' |+\n')
  const pad = ' '.repeat(indent)
  for (const line of value.slice(0, end).split('\n')) out.push(line === '' ? '\n' : `${pad}${line}\n`)
  for (let i = 1; i < trailing; i++) out.push('\n')
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
const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./@+:-]*$/

function plainSafe(value: string): boolean {
  return PLAIN.test(value) && !value.endsWith(':') && !RESERVED.has(value.toLowerCase())
}

function quote(value: string): string {
  return JSON.stringify(value).replace(
    NEEDS_ESCAPE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

function scalarKey(key: string): string {
  return plainSafe(key) ? key : quote(key)
}

function scalar(value: unknown): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'string':
      return plainSafe(value) ? value : quote(value)
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`cannot write ${value} as YAML`)
      return String(value)
    case 'boolean':
      return value ? 'true' : 'false'
    default:
      throw new TypeError(`cannot write a ${typeof value} as YAML`)
  }
}
