import { describe, expect, test } from '@jest/globals'
import { parse } from 'yaml'

import { EnvRef } from '../actions/engine/state/redact.js'
import { toYaml } from '../actions/engine/state/yaml.js'
import { renderDeckTemplate } from './support/deck-template.js'

/** Parse as both YAML 1.2 (the yaml package's default) and YAML 1.1 (what deck's go-yaml speaks). */
function readBack(text: string): { v12: unknown; v11: unknown } {
  return { v12: parse(text), v11: parse(text, { version: '1.1' }) }
}

// Small deterministic PRNG so a failure is reproducible from the seed.
function prng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

const TRICKY = [
  '',
  ' ',
  'yes',
  'No',
  'ON',
  'off',
  'y',
  'N',
  'true',
  'False',
  'null',
  'Null',
  '~',
  '123',
  '0x1F',
  '1e3',
  '.inf',
  '-',
  '0777',
  '1:20',
  '2001-12-14',
  'a: b',
  'a:',
  'key #comment',
  '#hash',
  '@at',
  '`tick',
  '!tag',
  '&anchor',
  '*alias',
  '%percent',
  '[flow]',
  '{flow}',
  'comma, separated',
  '"quoted"',
  "'single'",
  'back\\slash',
  'tab\there',
  ' lead',
  'trail ',
  'multi\nline',
  'multi\nline\n',
  'multi\n\n',
  '\nleading newline',
  '  indented\nblock',
  'crlf\r\nline',
  'nel\u0085line',
  'ls\u2028ps\u2029',
  'bom\ufeff',
  'del\u007f',
  'c1\u0090',
  'emoji \u{1F600}',
  'ünïcödé',
  '/path/x',
  'http://example.com:8080/a',
  'rate-limiting',
  '_format_version',
  '${{ env "DECK_X" }}',
  '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
]

function randomValue(rand: () => number, depth: number): unknown {
  const r = rand()
  if (depth > 3 || r < 0.45) {
    const kind = Math.floor(rand() * 6)
    if (kind === 0) return TRICKY[Math.floor(rand() * TRICKY.length)]
    if (kind === 1) return Math.floor(rand() * 1e6) - 5e5
    if (kind === 2) return rand() * 100
    if (kind === 3) return rand() < 0.5
    if (kind === 4) return null
    return `word-${Math.floor(rand() * 1000)}`
  }
  if (r < 0.7) return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1))
  const obj: Record<string, unknown> = {}
  for (let i = Math.floor(rand() * 5); i > 0; i--) {
    obj[String(TRICKY[Math.floor(rand() * TRICKY.length)]) + (rand() < 0.5 ? '' : `k${i}`)] = randomValue(
      rand,
      depth + 1,
    )
  }
  return obj
}

describe('toYaml', () => {
  test('writes deck style: sorted keys, unindented sequences, block literals for PEM', () => {
    const text = toYaml({
      services: [{ name: 'orders', routes: [{ paths: ['/orders'], name: 'r1' }], port: 80 }],
      _format_version: '3.0',
      certificates: [{ cert: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', tags: [] }],
    })
    expect(text).toBe(
      [
        '_format_version: "3.0"',
        'certificates:',
        '- cert: |',
        '    -----BEGIN CERTIFICATE-----',
        '    MIIB',
        '    -----END CERTIFICATE-----',
        '  tags: []',
        'services:',
        '- name: orders',
        '  port: 80',
        '  routes:',
        '  - name: r1',
        '    paths:',
        '    - /orders',
        '',
      ].join('\n'),
    )
  })

  test('nested sequences keep every dash', () => {
    const doc = { a: [[1, [2, { b: 3 }]], [{ c: [4] }]] }
    expect(readBack(toYaml(doc)).v12).toEqual(doc)
  })

  test.each(TRICKY)('string %j reads back unchanged in YAML 1.1 and 1.2', (value) => {
    const doc = { value, list: [value], [value || 'empty']: 1 }
    const { v12, v11 } = readBack(toYaml(doc))
    expect(v12).toEqual(doc)
    expect(v11).toEqual(doc)
  })

  test('2,000 generated documents read back unchanged', () => {
    const rand = prng(20261121)
    for (let i = 0; i < 2000; i++) {
      const doc = { root: randomValue(rand, 0), n: i }
      const text = toYaml(doc)
      const { v12, v11 } = readBack(text)
      expect({ i, v: v12 }).toEqual({ i, v: doc })
      expect({ i, v: v11 }).toEqual({ i, v: doc })
    }
  })

  test('writes deck templates as block literals so Go templates never see escaped quotes', () => {
    const text = toYaml({ key: '${{ env "DECK_X" }}', headers: ['Authorization:${{ env "DECK_Y" }}'] })
    expect(text).not.toContain('\\"')
    expect(text).toContain('key: |-\n  ${{ env "DECK_X" }}\n')
    expect(parse(text)).toEqual({
      key: '${{ env "DECK_X" }}',
      headers: ['Authorization:${{ env "DECK_Y" }}'],
    })
  })

  test.each([
    ['plain-key-123', 'plain-key-123'],
    ['123', '123'],
    ['true', 'true'],
    ['p@ss: #w"o\'rd\\', 'p@ss: #w"o\'rd\\'],
    [' leading space', ' leading space'],
    ['\tleading tab', '\tleading tab'],
    ['line one\n  indented two', 'line one\n  indented two'],
    ['pem\nbody\n', 'pem\nbody\n'],
    // deck's indent re-indents every line break, so several final line breaks render as one.
    ['pem\n\n', 'pem\n'],
  ])('a reference to %j renders back through deck templating (YAML 1.1 and 1.2)', (value, expected) => {
    const doc = {
      top: new EnvRef('DECK_A', value),
      list: [new EnvRef('DECK_A', value)],
      deep: { m: [{ k: new EnvRef('DECK_A', value) }] },
    }
    const text = toYaml(doc)
    expect(text).not.toContain(value.trim() || '\u0000')
    const rendered = renderDeckTemplate(text, { DECK_A: value })
    const want = { top: expected, list: [expected], deep: { m: [{ k: expected }] } }
    expect(parse(rendered)).toEqual(want)
    expect(parse(rendered, { version: '1.1' })).toEqual(want)
  })

  test('refuses values that are not JSON', () => {
    expect(() => toYaml({ x: Number.NaN })).toThrow(/NaN/)
    expect(() => toYaml({ x: () => 1 })).toThrow(/function/)
  })
})

/**
 * The writer as first written: straightforward and slow. The optimized writer must produce exactly the
 * same bytes, which the round-trip tests alone would not notice (they compare parsed values).
 */
function referenceYaml(doc: Record<string, unknown>): string {
  const out: string[] = []
  const writeMap = (obj: Record<string, unknown>, indent: number, into: string[]): void => {
    const pad = ' '.repeat(indent)
    for (const key of Object.keys(obj).sort()) {
      const value = obj[key]
      if (value === undefined) continue
      into.push(pad, referenceScalar(key), ':')
      writeValue(value, indent, into)
    }
  }
  const writeValue = (value: unknown, indent: number, into: string[]): void => {
    if (value instanceof EnvRef) {
      into.push(' ', value.header(), '\n', ' '.repeat(indent + 2), value.template(indent + 2), '\n')
    } else if (Array.isArray(value)) {
      if (value.length === 0) into.push(' []\n')
      else {
        into.push('\n')
        writeSeq(value, indent, into)
      }
    } else if (typeof value === 'object' && value !== null) {
      if (Object.keys(value).length === 0) into.push(' {}\n')
      else {
        into.push('\n')
        writeMap(value as Record<string, unknown>, indent + 2, into)
      }
    } else if (typeof value === 'string' && referenceIsBlock(value)) {
      let end = value.length
      while (end > 0 && value[end - 1] === '\n') end--
      const trailing = value.length - end
      into.push(trailing === 0 ? ' |-\n' : trailing === 1 ? ' |\n' : ' |+\n')
      const pad = ' '.repeat(indent + 2)
      for (const line of value.slice(0, end).split('\n')) into.push(line === '' ? '\n' : `${pad}${line}\n`)
      for (let i = 1; i < trailing; i++) into.push('\n')
    } else {
      into.push(' ', referenceScalar(value), '\n')
    }
  }
  const writeSeq = (list: unknown[], indent: number, into: string[]): void => {
    const pad = ' '.repeat(indent)
    for (const item of list) {
      if (typeof item === 'object' && item !== null && !(item instanceof EnvRef)) {
        const keys = Array.isArray(item) ? item : Object.keys(item)
        if (keys.length > 0) {
          const nested: string[] = []
          if (Array.isArray(item)) writeSeq(item, indent + 2, nested)
          else writeMap(item as Record<string, unknown>, indent + 2, nested)
          nested[0] = `${pad}- ${nested[0]!.slice(indent + 2)}`
          into.push(...nested)
          continue
        }
      }
      into.push(pad, '-')
      writeValue(item, indent, into)
    }
  }
  writeMap(doc, 0, out)
  return out.join('')
}

function referenceIsBlock(value: string): boolean {
  const printable = /^[\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]*$/
  if (!(value.includes('\n') || value.includes('${{')) || !printable.test(value)) return false
  if (value.trim() === '') return false
  return value.split('\n').every((line) => !/^[ \t]/.test(line))
}

function referenceScalar(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'number') return String(value)
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  const text = value as string
  const reserved = ['y', 'n', 'yes', 'no', 'true', 'false', 'on', 'off', 'null']
  if (
    /^[A-Za-z_/][A-Za-z0-9_./@+:-]*$/.test(text) &&
    !text.endsWith(':') &&
    !reserved.includes(text.toLowerCase())
  )
    return text
  return JSON.stringify(text).replace(
    /[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

describe('toYaml matches the reference writer byte for byte', () => {
  test('on generated documents, with references and keys in any order', () => {
    const rand = prng(20260611)
    const withRefs = (value: unknown, depth: number): unknown => {
      if (Array.isArray(value)) return value.map((v) => withRefs(v, depth + 1))
      if (typeof value === 'object' && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withRefs(v, depth + 1)]))
      }
      if (typeof value === 'string' && rand() < 0.2)
        return new EnvRef('DECK_X', value, rand() < 0.3 ? 'H:' : '')
      return value
    }
    for (let i = 0; i < 3000; i++) {
      const doc = { root: withRefs(randomValue(rand, 0), 0), n: i, [`k${i % 7}`]: [{ b: 1, a: [[], {}] }] }
      expect({ i, text: toYaml(doc) }).toEqual({ i, text: referenceYaml(doc) })
    }
  })

  test('on repeated entity shapes and deep nesting', () => {
    const services = Array.from({ length: 50 }, (_, i) => ({
      name: `svc-${i}`,
      port: 8080 + i,
      host: `h${i}`,
      routes: [{ paths: [`/p${i}`], name: `r${i}`, hosts: i % 2 ? [] : ['a.example.com'] }],
      tags: i % 3 ? ['a', 'b'] : [],
    }))
    let deep: unknown = { leaf: 'x\ny', ref: new EnvRef('DECK_D', ' pem\n') }
    for (let d = 0; d < 60; d++) deep = d % 3 === 0 ? [deep, d] : d % 3 === 1 ? [[deep]] : { z: deep, a: d }
    for (const doc of [{ services }, { deep }, {}, { only: undefined }]) {
      expect(toYaml(doc)).toBe(referenceYaml(doc))
    }
  })
})
