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
