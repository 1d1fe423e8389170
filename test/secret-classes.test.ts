import { describe, expect, it } from '@jest/globals'
import { parse } from 'yaml'

import type { JsonObject } from '../actions/engine/state/entities.js'
import { EnvRef, maskEntity, redactContent } from '../actions/engine/state/redact.js'
import { scanStateFile } from '../actions/engine/state/secret-scan.js'
import { toYaml } from '../actions/engine/state/yaml.js'
import { renderDeckTemplate } from './support/deck-template.js'
import { PEM_KEY } from './support/sample-state.js'

/**
 * The classes of secret that name rules alone let through: each is redacted in a dump, masked in a plan,
 * refused by the commit scan, and renders back to the exact original. Values are built at run time so
 * that this file itself holds nothing a scanner would take for a secret.
 */

const token = (seed: string) => `${seed}Zx9Qw3Ek7Rt5Yu1Io0Pa`
const AWS_KEY_ID = 'AKIA' + 'Q3EXAMPLE7TESTKEY1'.slice(0, 16)
const JWT =
  Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url') +
  '.' +
  Buffer.from('{"sub":"svc"}').toString('base64url') +
  '.' +
  token('sig')
const GCP_SA = JSON.stringify({
  type: 'service_account',
  project_id: 'p',
  private_key_id: 'k',
  private_key: PEM_KEY,
  client_email: 'svc@p.iam.gserviceaccount.com',
})

interface Case {
  what: string
  /** Plugins of the state file. */
  plugins?: JsonObject[]
  upstreams?: JsonObject[]
  /** Values that must leave the file. */
  secrets: string[]
  /** Text that must stay (names of headers, hosts, plain settings). */
  kept: string[]
}

const CASES: Case[] = [
  {
    what: 'header maps by any name, and vendor key headers',
    plugins: [
      {
        name: 'http-log',
        config: {
          http_endpoint: 'https://logs.example.com/ingest',
          headers: {
            'DD-API-KEY': token('dd'),
            'X-Honeycomb-Team': token('hc'),
            'X-Splunk-Token': token('sp'),
            'Content-Type': 'application/json',
          },
        },
      },
      {
        name: 'openid-connect',
        config: {
          issuer: 'https://idp.example.com',
          token_headers_names: ['X-Tenant', 'Authorization'],
          token_headers_values: ['acme', `Bearer ${token('oi')}`],
          token_post_args_names: ['audience', 'client_assertion'],
          token_post_args_values: ['api', token('ca')],
          custom_introspection_headers: { 'X-Api-Key': token('ci') },
        },
      },
      {
        name: 'request-callout',
        config: { upstream: { headers: { custom: { 'X-Vendor-Token': token('rc'), 'X-Trace': 'on' } } } },
      },
    ],
    secrets: [
      token('dd'),
      token('hc'),
      token('sp'),
      'https://logs.example.com/ingest',
      token('oi'),
      token('ca'),
      token('ci'),
      token('rc'),
    ],
    kept: [
      'Content-Type',
      'application/json',
      'X-Tenant',
      'acme',
      'audience',
      'X-Trace',
      'https://idp.example.com',
    ],
  },
  {
    what: '`name:value` lines outside headers (request-transformer body and querystring)',
    plugins: [
      {
        name: 'request-transformer',
        config: {
          add: {
            body: [`client_secret:${token('bs')}`, 'mode:fast'],
            querystring: [`api_key:${token('qs')}`],
          },
          replace: { body: [`grant:${token('rb')}`], headers: ['X-Env:prod'] },
        },
      },
    ],
    secrets: [token('bs'), token('qs'), token('rb')],
    kept: ['client_secret:', 'api_key:', 'grant:', 'mode:fast', 'X-Env:prod'],
  },
  {
    what: 'private JWK members in objects of a list (openid-connect client_jwk)',
    plugins: [
      {
        name: 'openid-connect',
        config: {
          issuer: 'https://idp.example.com',
          client_jwk: [
            { kty: 'RSA', kid: 'c1', n: 'pub-n', e: 'AQAB', d: token('d'), p: token('p'), q: token('q') },
          ],
        },
      },
    ],
    secrets: [token('d'), token('p'), token('q')],
    kept: ['pub-n', 'AQAB', 'kid: c1'],
  },
  {
    what: 'values that are secrets whatever their field: keys, JWTs, AWS keys, service accounts, URL credentials',
    plugins: [
      {
        name: 'in-house-plugin',
        config: {
          signer: PEM_KEY,
          upstream_assertion: JWT,
          bucket_credential_id: AWS_KEY_ID,
          workload_identity: GCP_SA,
          mirror: 'https://deploy:' + token('pw') + '@mirror.example.com/repo',
          endpoint: 'https://mirror.example.com/repo',
        },
      },
    ],
    secrets: ['BEGIN PRIVATE KEY', JWT, AWS_KEY_ID, 'service_account', token('pw')],
    kept: ['@mirror.example.com/repo', 'https://mirror.example.com/repo', 'in-house-plugin'],
  },
  {
    what: 'upstream health-check headers beyond the known names',
    upstreams: [
      {
        name: 'ledger',
        healthchecks: {
          active: { headers: { 'X-Health-Token': [token('hk')], 'X-Probe': ['1'] }, http_path: '/health' },
        },
      },
    ],
    secrets: [token('hk')],
    kept: ['X-Health-Token', 'X-Probe', '/health'],
  },
  {
    what: "nested blocks Kong's Enterprise plugins repeat (Redis cloud authentication, LLM auth)",
    plugins: [
      {
        name: 'rate-limiting-advanced',
        config: {
          limit: [10],
          window_size: [60],
          redis: {
            host: 'redis.internal',
            cloud_authentication: {
              auth_provider: 'aws',
              aws_region: 'eu-west-1',
              aws_access_key_id: 'plain-looking-id',
              aws_secret_access_key: 'plain-looking-secret',
            },
          },
        },
      },
      {
        name: 'ai-proxy',
        config: {
          auth: {
            header_name: 'x-api-key',
            header_value: 'plain-looking-llm-key',
            gcp_service_account_json: '{}',
          },
          model: { provider: 'mistral', name: 'mistral-large' },
        },
      },
    ],
    secrets: ['plain-looking-id', 'plain-looking-secret', 'plain-looking-llm-key'],
    kept: ['redis.internal', 'eu-west-1', 'aws', 'header_name: x-api-key', 'mistral'],
  },
]

describe.each(CASES)('$what', ({ plugins, upstreams, secrets, kept }) => {
  const state = (): JsonObject => ({
    _format_version: '3.0',
    ...(plugins ? { plugins: structuredClone(plugins) } : {}),
    ...(upstreams ? { upstreams: structuredClone(upstreams) } : {}),
  })

  it('a dump holds none of them, keeps the rest, and renders back to the original', () => {
    const content = state()
    const redactions = redactContent(content, { workspace: 'default' })
    const yaml = toYaml(content)
    for (const secret of secrets) expect(yaml).not.toContain(secret)
    for (const text of kept) expect(yaml).toContain(text)
    // Each variable set to the value it replaced: rendering gives the original back.
    const original = state()
    const env = originalValues(original, content)
    expect(Object.keys(env).sort()).toEqual(redactions.map((r) => r.name).sort())
    expect(parse(renderDeckTemplate(yaml, env))).toEqual(original)
  })

  it('a plan masks them', () => {
    for (const entity of [
      ...((state().plugins as JsonObject[] | undefined) ?? []),
      ...((state().upstreams as JsonObject[] | undefined) ?? []),
    ]) {
      const collection = entity.healthchecks ? 'upstreams' : 'plugins'
      maskEntity(entity, collection, new Set())
      const shown = JSON.stringify(entity)
      for (const secret of secrets) expect(shown).not.toContain(secret)
    }
  })

  it('the commit scan refuses the plain file, naming lines and never values', () => {
    const text = toYaml(state())
    const findings = scanStateFile('kong/default.yaml', text)
    expect(findings.length).toBeGreaterThanOrEqual(1)
    expect(JSON.stringify(findings)).not.toMatch(
      new RegExp(secrets.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')),
    )
    const lines = text.split('\n')
    for (const secret of secrets) {
      const first = secret.split('\n')[0]!
      const line = lines.findIndex((l) => l.includes(first)) + 1
      if (line > 0) expect(findings.map((f) => f.line)).toContain(line)
    }
  })
})

/**
 * The environment that renders a redacted file back: each reference's value read from the original at the
 * place the reference took (the two trees have the same shape, references standing where values stood).
 */
function originalValues(original: unknown, redacted: unknown): Record<string, string> {
  const env: Record<string, string> = {}
  const walk = (a: unknown, b: unknown): void => {
    if (b instanceof EnvRef) {
      const whole = String(a)
      env[b.name] = whole.slice(b.prefix.length, whole.length - b.suffix.length)
      return
    }
    if (a !== null && typeof a === 'object' && b !== null && typeof b === 'object') {
      for (const key of Object.keys(b))
        walk((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])
    }
  }
  walk(original, redacted)
  return env
}
