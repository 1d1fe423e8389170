import { describe, expect, test } from '@jest/globals'
import { createHash } from 'node:crypto'
import { parse } from 'yaml'

import { countEntities } from '../actions/engine/state/entities.js'
import { findEnvReferences, missingEnv } from '../actions/engine/state/env-refs.js'
import { normalizeContent } from '../actions/engine/state/normalize.js'
import { processContent } from '../actions/engine/state/pipeline.js'
import { EnvNamer } from '../actions/engine/state/redact.js'
import { renderDeckTemplate } from './support/deck-template.js'
import { PEM_KEY, SAMPLE_SECRETS, sampleState } from './support/sample-state.js'

function shuffled<T>(list: T[], seed: number): T[] {
  const out = [...list]
  let s = seed
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 16807) % 2147483647
    const j = s % (i + 1)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

/** Reverses key order and shuffles every array of objects: same configuration, different bytes from deck. */
function scramble(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => scramble(v, seed + 1))
    return items.every((v) => typeof v === 'object' && v !== null) ? shuffled(items, seed) : items
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, scramble(v, seed + 7)]),
    )
  }
  return value
}

const opts = { workspace: 'payments', redact: true, source: 'test' }

describe('normalize', () => {
  test('the same configuration in any order gives byte-identical YAML', () => {
    const reference = processContent(sampleState(), opts).yaml
    for (const seed of [1, 2, 3, 42, 1234]) {
      expect(processContent(scramble(sampleState(), seed), opts).yaml).toBe(reference)
    }
  })

  test('drops timestamps and sorts entities by identity', () => {
    const doc = normalizeContent(sampleState() as never)
    const text = JSON.stringify(doc)
    expect(text).not.toContain('created_at')
    expect(text).not.toContain('updated_at')
    const routes = (doc.services as { routes: { name: string }[] }[])[0]!.routes
    expect(routes.map((r) => r.name)).toEqual(['orders-a', 'orders-b'])
    expect((doc.consumers as { username: string }[]).map((c) => c.username)).toEqual(['alice', 'bob'])
  })

  test('counts nested entities under their own kind', () => {
    expect(countEntities(sampleState() as never)).toMatchObject({
      services: 1,
      routes: 2,
      plugins: 6,
      consumers: 2,
      keyauth_credentials: 3,
      jwt_secrets: 2,
      certificates: 1,
      snis: 1,
    })
  })
})

describe('redact', () => {
  const result = processContent(sampleState(), opts)

  test('no secret value survives', () => {
    for (const secret of SAMPLE_SECRETS) expect(result.yaml).not.toContain(secret)
  })

  test('public parts, vault references and non-secret fields stay', () => {
    expect(result.yaml).toContain('{vault://env/ALICE_KEY}')
    expect(result.yaml).toContain('BEGIN CERTIFICATE')
    expect(result.yaml).toContain('BEGIN PUBLIC KEY')
    expect(result.yaml).toContain('kid: k2')
    expect(result.yaml).toContain('X-Env:prod')
    expect(result.yaml).toContain('cookie_name: x')
  })

  test('headers an upstream sends with its active health checks are redacted like plugin headers', () => {
    const content = {
      _format_version: '3.0',
      upstreams: [
        {
          name: 'billing.internal',
          healthchecks: {
            active: {
              http_path: '/health',
              headers: { Authorization: ['Bearer hc-T0ken-5521'], 'X-Probe': ['deckhand'] },
            },
          },
        },
      ],
    }
    const result = processContent(content, opts)
    expect(result.yaml).not.toContain('hc-T0ken-5521')
    expect(result.yaml).toContain('deckhand')
    expect(result.redactions.map((r) => r.name)).toEqual([
      'DECK_PAYMENTS_UPSTREAM_BILLING_INTERNAL_HEALTHCHECKS_ACTIVE_HEADERS_AUTHORIZATION_1',
    ])
  })

  test('names are stable, prefixed DECK_ and derived from the entity', () => {
    const names = result.redactions.map((r) => r.name)
    expect(new Set(names).size).toBe(names.length)
    for (const name of names) expect(name).toMatch(/^DECK_[A-Z0-9_]+$/)
    expect(names).toEqual(
      expect.arrayContaining([
        'DECK_PAYMENTS_SERVICE_ORDERS_PLUGIN_RATE_LIMITING_CONFIG_REDIS_PASSWORD',
        'DECK_PAYMENTS_CONSUMER_BOB_HMACAUTH_BOB_HMAC_SECRET',
        'DECK_PAYMENTS_CERTIFICATE_API_EXAMPLE_COM_KEY',
        'DECK_PAYMENTS_CONSUMER_BOB_BASICAUTH_BOB_PASSWORD',
        'DECK_PAYMENTS_VAULT_HASHI_CONFIG_TOKEN',
        // OAuth2 credentials are named by their unique client_id; plugins by name and scope together.
        'DECK_PAYMENTS_CONSUMER_BOB_OAUTH2_CID_CLIENT_SECRET',
        'DECK_PAYMENTS_SERVICE_ORDERS_ROUTE_ORDERS_A_PLUGIN_SESSION_CONFIG_SECRET',
      ]),
    )
    expect(
      processContent(scramble(sampleState(), 9), opts)
        .redactions.map((r) => r.name)
        .sort(),
    ).toEqual([...names].sort())
  })

  test('rendering the references the way deck does gives back exactly the original configuration', () => {
    // Build the environment a user would set from the original values, then render and parse like deck.
    const original = parse(processContent(sampleState(), { ...opts, redact: false }).yaml)
    const env: Record<string, string> = {}
    const rendered = (text: string) => parse(renderDeckTemplate(text, env))
    // Recover each variable's value by aligning the redacted document with the original one.
    const redacted = parse(result.yaml)
    const collect = (a: unknown, b: unknown): void => {
      if (typeof a === 'string' && typeof b === 'string') {
        const m = /^(.*)\$\{\{ env "([A-Z0-9_]+)"(?: \| indent \d+)? \}\}\n?$/s.exec(a)
        if (m) env[m[2]!] = b.slice(m[1]!.length)
      } else if (a && b && typeof a === 'object' && typeof b === 'object') {
        for (const k of Object.keys(a)) collect((a as never)[k], (b as never)[k])
      }
    }
    collect(redacted, original)
    expect(Object.keys(env).sort()).toEqual(result.redactions.map((r) => r.name).sort())
    expect(env[Object.keys(env).find((k) => k.endsWith('CERTIFICATE_API_EXAMPLE_COM_KEY'))!]).toBe(PEM_KEY)
    expect(rendered(result.yaml)).toEqual(original)
  })

  test('the list of references matches what the file references', () => {
    const refs = findEnvReferences(result.yaml)
    expect([...new Set(refs.map((r) => r.name))].sort()).toEqual(result.redactions.map((r) => r.name).sort())
    expect(missingEnv(refs, {})).toHaveLength(result.redactions.length)
  })
})

describe('findEnvReferences', () => {
  test('finds both quoting styles with line numbers and skips comment lines', () => {
    const text =
      'a: 1\nkey: ${{ env "DECK_A" }}\n# old: ${{ env "DECK_OLD" }}\nb: |-\n  ${{ env `DECK_B` | indent 2 }}\n'
    expect(findEnvReferences(text)).toEqual([
      { name: 'DECK_A', line: 2 },
      { name: 'DECK_B', line: 5 },
    ])
    expect(missingEnv(findEnvReferences(text), { DECK_A: 'x' })).toEqual(['DECK_B'])
  })
})

/** The naming rule as first written, part by part: EnvNamer must give exactly the same names. */
class ReferenceNamer {
  private readonly byName = new Map<string, string>()
  private readonly issued = new Map<string, number>()

  constructor(private readonly workspace: string) {}

  name(parts: readonly string[]): string {
    const sanitize = (part: string) =>
      part
        .toUpperCase()
        .replace(/[^A-Z0-9]+/g, '_')
        .replace(/^_+|_+$/g, '')
    const path = [this.workspace, ...parts].join('\u0000')
    const seen = this.issued.get(path) ?? 0
    this.issued.set(path, seen + 1)
    const raw = seen === 0 ? path : `${path}\u0000${seen}`
    const base = `DECK_${[this.workspace, ...parts].map(sanitize).filter(Boolean).join('_')}`
    const owner = this.byName.get(base)
    if (owner === undefined || owner === raw) {
      this.byName.set(base, raw)
      return base
    }
    const unique = `${base}_${createHash('sha256').update(raw).digest('hex').slice(0, 6).toUpperCase()}`
    this.byName.set(unique, raw)
    return unique
  }
}

describe('EnvNamer', () => {
  test('gives the names of the part-by-part rule, repeats and collisions included', () => {
    let s = 20260611
    const rand = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32
    // Separators, case mappings that change length or land in A-Z (ß, ı, ſ, ﬀ), surrogates, empty parts.
    const atoms = [
      'a',
      'B',
      '-',
      '_',
      ' ',
      '\u0000',
      'ß',
      'ı',
      'ſ',
      'İ',
      'ﬀ',
      'é',
      '\ud83d',
      '😀',
      '1',
      '.',
      'x-y',
      '',
    ]
    const part = () =>
      Array.from({ length: Math.floor(rand() * 4) }, () => atoms[Math.floor(rand() * atoms.length)]).join('')
    for (let run = 0; run < 300; run++) {
      const workspace = rand() < 0.3 ? part() : 'default'
      const namer = new EnvNamer(workspace)
      const reference = new ReferenceNamer(workspace)
      const pool = Array.from({ length: 6 }, () => Array.from({ length: Math.floor(rand() * 4) }, part))
      for (let i = 0; i < 30; i++) {
        const parts = rand() < 0.5 ? pool[Math.floor(rand() * pool.length)]! : Array.from({ length: 2 }, part)
        expect({ run, i, name: namer.name(parts) }).toEqual({ run, i, name: reference.name(parts) })
      }
    }
  })
})
