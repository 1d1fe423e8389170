import { randomBytes } from 'node:crypto'

import { describe, expect, it } from '@jest/globals'
import { parse } from 'yaml'

import catalogue from '../actions/engine/secrets/kong-catalogue.json' with { type: 'json' }
import { type SchemaFlag, isSecretFlag } from '../actions/engine/secrets/schema-tree.js'
import { scanStateFile } from '../actions/engine/state/secret-scan.js'
import type { JsonObject } from '../actions/engine/state/entities.js'
import { maskEntity, redactContent } from '../actions/engine/state/redact.js'
import { toYaml } from '../actions/engine/state/yaml.js'
import { renderDeckTemplate } from './support/deck-template.js'
import { PEM_CERT } from './support/sample-state.js'

/**
 * Driven by the catalogue itself: for every field it flags as secret, a state file with one planted value
 * there is redacted, the value appears nowhere in the file, the mask or the commit scan's findings, and
 * rendering the references back (as deck does) gives the original data.
 */

type Tables = Record<
  'plugins' | 'entities' | 'partials' | 'vaults',
  Record<string, Record<string, SchemaFlag>>
>
const tables = catalogue as unknown as Tables

/** A value no rule would take for a secret by its look: only the schema can find it. */
function plant(): string {
  return `planted-${randomBytes(6).toString('hex')}`
}

/** Builds the object a catalogue path describes, with `value` at its end. */
function build(parts: readonly string[], value: unknown): unknown {
  if (parts.length === 0) return value
  const [part, ...rest] = parts
  if (part === '[]') return [build(rest, value)]
  if (part === '*') return { 'X-Tenant': build(rest, value) }
  return { [part!]: build(rest, value) }
}

/** The name the secret rule judges: the last field name on the path (a list's or map's own). */
function fieldOf(path: string): string {
  return path
    .split('.')
    .filter((p) => p !== '[]' && p !== '*')
    .pop()!
}

interface Built {
  state: JsonObject
  entity: JsonObject
  collection: string
}

/** A state file holding one entity of `kind`/`name` with `path` set to `value`, and the entity itself. */
function stateWith(kind: keyof Tables, name: string, path: string, value: string): Built {
  const built = buildState(kind, name, path, value)
  return built as unknown as Built
}

function buildState(kind: keyof Tables, name: string, path: string, value: string) {
  const body = build(path.split('.'), value) as Record<string, unknown>
  switch (kind) {
    case 'plugins': {
      const entity = { name, ...body }
      return { state: { _format_version: '3.0', plugins: [entity] }, entity, collection: 'plugins' }
    }
    case 'partials': {
      const entity = { name: 'shared', type: name, ...body }
      return { state: { _format_version: '3.0', partials: [entity] }, entity, collection: 'partials' }
    }
    case 'vaults': {
      const entity = { name, prefix: 'secrets', ...body }
      return { state: { _format_version: '3.0', vaults: [entity] }, entity, collection: 'vaults' }
    }
    case 'entities': {
      if (name.endsWith('_credentials') || name === 'jwt_secrets') {
        const entity = { ...body }
        return {
          state: { _format_version: '3.0', consumers: [{ username: 'alice', [name]: [entity] }] },
          entity,
          collection: name,
        }
      }
      const extra: Record<string, unknown> = name === 'certificates' ? { cert: PEM_CERT } : { name: 'one' }
      const entity = { ...extra, ...body }
      return { state: { _format_version: '3.0', [name]: [entity] }, entity, collection: name }
    }
  }
}

/**
 * The catalogue's paths in three groups, by the documented rule: secrets (every encrypted field, and
 * referenceable ones not named like an identifier or a plain setting); name/value collections whose
 * entries are referenceable (header maps and `name:value` lists), judged entry by entry by the header
 * rule; and plain ones, kept. A path below a secret container is the container's case.
 */
const cases: [keyof Tables, string, string][] = []
const entries: [keyof Tables, string, string][] = []
const plain: [keyof Tables, string, string][] = []
for (const kind of ['plugins', 'entities', 'partials', 'vaults'] as const) {
  for (const [name, paths] of Object.entries(tables[kind])) {
    const secret = (path: string) => isSecretFlag(paths[path], fieldOf(path))
    for (const [path, flag] of Object.entries(paths)) {
      const parts = path.split('.')
      const underSecret = parts.some((_, i) => i > 0 && secret(parts.slice(0, i).join('.')))
      if (underSecret) continue
      const collection = flag === 'referenceable' && ['[]', '*'].includes(parts[parts.length - 1]!)
      if (!secret(path)) plain.push([kind, name, path])
      else if (collection) entries.push([kind, name, path])
      else cases.push([kind, name, path])
    }
  }
}

describe('every secret field of the catalogue', () => {
  it('covers what Kong publishes', () => {
    // A catalogue that lost its sources would make every test below vacuous.
    expect(Object.keys(tables.plugins).length).toBeGreaterThan(50)
    expect(cases.length).toBeGreaterThan(500)
    expect(tables.plugins['http-log']?.['config.http_endpoint']).toBe('encrypted')
    expect(tables.entities.certificates?.key).toBe('encrypted')
  })

  it.each(cases)('%s %s %s is redacted, masked, scanned and renders back', (kind, name, path) => {
    const value = plant()
    const { state, entity, collection } = stateWith(kind, name, path, value)
    const original = structuredClone(state)
    const unredacted = toYaml(structuredClone(state))
    const masked = structuredClone(entity)

    const redactions = redactContent(state, { workspace: 'default' })
    expect(redactions.length).toBeGreaterThanOrEqual(1)
    const yaml = toYaml(state)
    expect(yaml).not.toContain(value)
    expect(JSON.stringify(redactions)).not.toContain(value)

    const env = Object.fromEntries(redactions.map((r) => [r.name, value]))
    expect(parse(renderDeckTemplate(yaml, env))).toEqual(original)

    const found = new Set<string>()
    maskEntity(masked, collection, found)
    expect(JSON.stringify(masked)).not.toContain(value)
    expect(found.has(value)).toBe(true)

    const findings = scanStateFile('kong/default.yaml', unredacted)
    expect(findings.length).toBeGreaterThanOrEqual(1)
    const line = unredacted.split('\n').findIndex((l) => l.includes(value)) + 1
    expect(findings.map((f) => f.line)).toContain(line)
    expect(JSON.stringify(findings)).not.toContain(value)
  })
})

describe('referenceable fields that are identifiers or plain settings', () => {
  it('are kept as they are', () => {
    expect(plain.length).toBeGreaterThan(50)
    for (const [kind, name, path] of plain) {
      const value = `kept-${fieldOf(path)}`
      const { state } = stateWith(kind, name, path, value)
      redactContent(state, { workspace: 'default' })
      expect([kind, name, path, toYaml(state).includes(value)]).toEqual([kind, name, path, true])
    }
  })
})

describe('name/value collections whose entries Kong makes referenceable', () => {
  it.each(entries)('%s %s %s: credential entries are redacted, plain ones kept', (kind, name, path) => {
    const secret = plant()
    const list = path.endsWith('[]')
    // A header line or a map entry named like a credential, beside a plain one.
    const at = path.split('.').slice(0, -1).join('.')
    const collection = list
      ? [`X-Api-Key:${secret}`, 'X-Tenant:acme']
      : { 'X-Api-Key': secret, 'X-Tenant': 'acme' }
    const built = build(at.split('.'), collection) as Record<string, unknown>
    const state = stateWith(kind, name, 'config.placeholder', 'x').state
    const entity = (state[kind === 'entities' ? name : kind] as JsonObject[])[0]!
    delete (entity.config as JsonObject).placeholder
    Object.assign(entity, built)
    const original = structuredClone(state)
    const redactions = redactContent(state, { workspace: 'default' })
    const yaml = toYaml(state)
    expect(yaml).not.toContain(secret)
    expect(yaml).toContain('acme')
    expect(redactions).toHaveLength(1)
    const env = Object.fromEntries(redactions.map((r) => [r.name, secret]))
    expect(parse(renderDeckTemplate(yaml, env))).toEqual(original)
  })
})
