import { describe, expect, it } from '@jest/globals'
import { parse, stringify } from 'yaml'

import type { JsonObject } from '../actions/engine/state/entities.js'
import { normalizeContent } from '../actions/engine/state/normalize.js'
import { processContent } from '../actions/engine/state/pipeline.js'
import { redactContent } from '../actions/engine/state/redact.js'
import {
  type SecretFinding,
  scanFile,
  scanPrivateKeys,
  scanStateFile,
} from '../actions/engine/state/secret-scan.js'
import { toYaml } from '../actions/engine/state/yaml.js'
import { PEM_CERT, PEM_KEY, SAMPLE_SECRETS, sampleState } from './support/sample-state.js'

/** 1-based line of the `nth` (1-based) match of `needle` in `text`. */
function lineOf(text: string, needle: string | RegExp, nth = 1): number {
  const lines = text.split('\n')
  let seen = 0
  const index = lines.findIndex(
    (line) => (typeof needle === 'string' ? line.includes(needle) : needle.test(line)) && ++seen === nth,
  )
  if (index === -1) throw new Error(`${String(needle)} not found`)
  return index + 1
}

/** Expected findings from [location, needle in the value's first line, nth match] rows, sorted by line. */
function expected(text: string, rows: readonly (readonly [string, string | RegExp, number?])[]) {
  return rows
    .map(([location, needle, nth]) => ({ line: lineOf(text, needle, nth), location }))
    .sort((a, b) => a.line - b.line)
}

const where = (findings: SecretFinding[]) => findings.map(({ line, location }) => ({ line, location }))

/** The sample state normalized, as every layout below renders it (positions name keyauth credentials). */
const sample = () => normalizeContent(sampleState() as JsonObject)

const SAMPLE_ROWS = [
  ['certificate api.example.com / key', 'BEGIN PRIVATE KEY', 1],
  ['consumer bob / basicauth bob / password', '5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8'],
  ['consumer bob / hmacauth bob-hmac / secret', 'hmac-secret'],
  ['consumer bob / jwt iss-hs / secret', 'jwt-secret'],
  ['consumer bob / keyauth 1 / key', 'bob-key-1'],
  ['consumer bob / keyauth 2 / key', 'bob-key-2'],
  ['consumer bob / oauth2 cid / client_secret', 'csecret'],
  ['key pem-pair / pem / private_key', 'BEGIN PRIVATE KEY', 2],
  ['key public-only / jwk', /kid\\?":\\?"k2/],
  ['key signing / jwk', /\\?"private\\?"/],
  ['partial shared-redis / config / password', 'partial-pw'],
  ['plugin openid-connect / config / client_id / 1', 'oidc-client'],
  ['plugin openid-connect / config / client_secret / 1', 'oidc-1'],
  ['plugin openid-connect / config / client_secret / 2', 'oidc-2'],
  ['service orders / plugin aws-lambda / config / aws_key', 'AKIAFAKE'],
  ['service orders / plugin aws-lambda / config / aws_secret', 'aws-s3cret'],
  ['service orders / plugin http-log / config / headers / Authorization', 'Bearer tok'],
  ['service orders / plugin http-log / config / http_endpoint', 'https://logs'],
  ['service orders / plugin rate-limiting / config / redis / password', 'w#rd'],
  ['service orders / plugin request-transformer / config / add / headers / Authorization', 'dXNlcjpwdw=='],
  ['service orders / route orders-a / plugin session / config / secret', 'sess-secret'],
  ['vault hashi / config / token', 'hvs.FAKE'],
] as const

/** The kinds of secret the sample state leaves out. */
function moreSecrets(): Record<string, unknown> {
  return {
    _format_version: '3.0',
    certificates: [
      { cert: PEM_CERT, key: PEM_KEY, cert_alt: PEM_CERT, key_alt: PEM_KEY.replace('BKcw', 'ALTk') },
    ],
    filter_chains: [
      {
        name: 'chain',
        filters: [{ name: 'auth-filter', config: { api_key: 'filter-k3y', mode: 'strict' } }],
      },
    ],
    keys: [{ name: 'sym', kid: 's1', jwk: '{"kty":"oct","k":"sym-s3cret"}' }],
    licenses: [{ payload: 'license-payl0ad' }],
    plugins: [
      { name: 'openid-connect', config: { client_jwk: { d: 'jwk-d-value' }, refresh_token: 'rt-0ne' } },
      { name: 'request-transformer', config: { add: { headers: ['x-api-key: k-123-abc', 'Accept:json'] } } },
      { name: 'http-log', config: { headers: { Cookie: 'session=c00kie' } } },
      { name: 'custom', config: { db_passphrase: 'pp-phrase', secrets: ['s-a1', 's-b2'] } },
    ],
    upstreams: [
      {
        name: 'billing',
        healthchecks: { active: { headers: { authorization: ['Bearer hc-t0k'], 'X-Probe': ['p'] } } },
      },
    ],
    vaults: [{ prefix: 'aws-v', name: 'aws', config: { secret_access_key: 'aws-v-s3cret', region: 'eu' } }],
  }
}

const MORE_ROWS = [
  ['certificate 11e03c1e / key', 'BEGIN PRIVATE KEY', 1],
  ['certificate 11e03c1e / key_alt', 'BEGIN PRIVATE KEY', 2],
  ['filter_chain chain / filter auth-filter / api_key', 'filter-k3y'],
  ['key sym / jwk', 'sym-s3cret'],
  ['license 1 / payload', 'license-payl0ad'],
  ['plugin custom / config / db_passphrase', 'pp-phrase'],
  ['plugin custom / config / secrets / 1', 's-a1'],
  ['plugin custom / config / secrets / 2', 's-b2'],
  ['plugin http-log / config / headers / Cookie', 'c00kie'],
  ['plugin openid-connect / config / client_jwk / d', 'jwk-d-value'],
  ['plugin openid-connect / config / refresh_token', 'rt-0ne'],
  ['plugin request-transformer / config / add / headers / x-api-key', 'k-123-abc'],
  ['upstream billing / healthchecks / active / headers / authorization', 'hc-t0k'],
  ['vault aws-v / config / secret_access_key', 'aws-v-s3cret'],
] as const

const MORE_SECRETS = [
  'filter-k3y',
  'sym-s3cret',
  'license-payl0ad',
  'jwk-d-value',
  'rt-0ne',
  'k-123-abc',
  'c00kie',
  'pp-phrase',
  's-a1',
  's-b2',
  'hc-t0k',
  'aws-v-s3cret',
  'ALTkggSjAgEAAoIBAQC7',
]

/** One state in every layout the scanner reads: the dump's own YAML, other YAML, and JSON. */
function layouts(state: Record<string, unknown>): [string, string][] {
  return [
    ['dump.yaml', toYaml(state)],
    ['library.yaml', stringify(state)],
    ['commented.yml', `# edited by hand\n${toYaml(state)}`],
    ['state.json', JSON.stringify(state, null, 2)],
    ['tabs.json', JSON.stringify(state, null, '\t')],
  ]
}

describe('scanStateFile: every secret the dump redacts, at its line', () => {
  for (const [file, text] of layouts(sample())) {
    it(`the sample state, ${file}`, () => {
      expect(where(scanStateFile(file, text))).toEqual(expected(text, SAMPLE_ROWS))
    })
  }

  for (const [file, text] of layouts(moreSecrets())) {
    it(`header lines and maps, health checks, filter chains, keys, licenses, ${file}`, () => {
      expect(where(scanStateFile(file, text))).toEqual(expected(text, MORE_ROWS))
    })
  }

  it('flow style, quoted, folded and literal scalars', () => {
    const text = [
      '_format_version: "3.0"',
      'consumers:',
      "  - {username: alice, keyauth_credentials: [{key: 'alice-k'}],",
      '     basicauth_credentials: [',
      '       {username: alice, password: "pw\\"1"}]}',
      'plugins:',
      '  - name: http-log',
      '    config:',
      '      headers: {Authorization: [Bearer x1], X-Trace: [t]}',
      '      custom_fields_by_lua:',
      '        token: >-',
      '          folded',
      '          value',
      '      password: |',
      '        literal-pw',
      '',
    ].join('\n')
    expect(where(scanStateFile('hand.yaml', text))).toEqual([
      { line: 3, location: 'consumer alice / keyauth 1 / key' },
      { line: 5, location: 'consumer alice / basicauth alice / password' },
      { line: 9, location: 'plugin http-log / config / headers / Authorization' },
      { line: 12, location: 'plugin http-log / config / custom_fields_by_lua / token' },
      { line: 15, location: 'plugin http-log / config / password' },
    ])
  })

  it('JSON: escaped keys, one-line files, and the file name as given', () => {
    const text =
      '{"_format_version": "3.0",\n"consumers": [{"username": "a",\n  "basicauth_credentials": [{"username": "a", "pass\\u0077ord": "pw-esc"}]}]}'
    expect(scanStateFile('gw/kong.json', text)).toEqual([
      { file: 'gw/kong.json', line: 3, location: 'consumer a / basicauth a / password' },
    ])
    const oneLine = JSON.stringify(sample())
    expect(scanStateFile('min.json', oneLine).map((f) => f.line)).toEqual(SAMPLE_ROWS.map(() => 1))
  })

  it('a hand edit in a dumped file is read as YAML reads it', () => {
    const dump = toYaml(sample())
    for (const edited of [
      dump.replace('token: hvs.FAKE', 'token: hvs.FAKE # rotate me'),
      dump.replace('port: 8080', 'port: 1e999'),
    ]) {
      expect(edited).not.toBe(dump)
      expect(where(scanStateFile('dump.yaml', edited))).toEqual(expected(edited, SAMPLE_ROWS))
    }
  })

  it('an aliased value is found where its anchor is, and a self-referencing alias is a finding of its own', () => {
    const text = 'shared: &pw s3cret\nvaults:\n- prefix: v\n  config: {token: *pw}\n'
    expect(where(scanStateFile('a.yaml', text))).toEqual([{ line: 1, location: 'vault v / config / token' }])
    const cyclic = `plugins: &loop\n- name: x\n  config: {nested: *loop}\n  key: |\n    ${PEM_KEY.trim().replace(/\n/g, '\n    ')}\n`
    // deck cannot read endless data either: the file is refused, not let through half read.
    expect(where(scanStateFile('b.yaml', cyclic))).toEqual([
      {
        line: 1,
        location:
          'a YAML alias refers to a value that contains it, which makes the data endless; it cannot be checked for secrets',
      },
      { line: 5, location: 'PEM private key' },
    ])
  })
})

describe('scanStateFile: what is no finding', () => {
  it('a redacted dump, however written', () => {
    const dump = processContent(sampleState(), { workspace: 'payments', redact: true, source: 'test' }).yaml
    expect(scanStateFile('payments.yaml', dump)).toEqual([])
    const more = moreSecrets() as JsonObject
    redactContent(more, { workspace: 'w' })
    const moreDump = toYaml(more)
    expect(scanStateFile('w.yaml', moreDump)).toEqual([])
    // The same references read back and written by other writers.
    expect(scanStateFile('library.yaml', stringify(parse(dump)))).toEqual([])
    expect(scanStateFile('payments.json', JSON.stringify(parse(moreDump), null, 2))).toEqual([])
  })

  it('references, masks and empty values', () => {
    const text = toYaml({
      _format_version: '3.0',
      consumers: [
        {
          username: 'alice',
          keyauth_credentials: [{ key: '{vault://env/ALICE_KEY}' }, { key: '  {vault://aws/k/key}  ' }],
          basicauth_credentials: [{ username: 'alice', password: '[masked]' }],
          hmacauth_credentials: [{ username: 'alice-h', secret: '[redacted]' }],
          jwt_secrets: [{ key: 'iss', secret: '' }],
        },
      ],
      plugins: [
        {
          name: 'request-transformer',
          config: {
            add: {
              headers: ['Authorization: [masked]', 'Cookie:[redacted]', 'X-Api-Key:${{ env "DECK_K" }}'],
            },
            password: '${{ env "DECK_PW" }}',
            token: null,
          },
        },
      ],
    })
    expect(scanStateFile('refs.yaml', text)).toEqual([])
  })

  it('certificates and public keys', () => {
    const text = toYaml({
      _format_version: '3.0',
      ca_certificates: [{ cert: PEM_CERT }],
      consumers: [
        {
          username: 'c',
          jwt_secrets: [
            { key: 'iss', rsa_public_key: '-----BEGIN PUBLIC KEY-----\nX\n-----END PUBLIC KEY-----\n' },
          ],
        },
      ],
    })
    expect(scanStateFile('certs.yaml', text)).toEqual([])
  })
})

describe('private keys', () => {
  const KEYS = [
    PEM_KEY,
    '-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n',
    '-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n',
    '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----\n',
    '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIF\n-----END ENCRYPTED PRIVATE KEY-----\n',
    '-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOY\n-----END PGP PRIVATE KEY BLOCK-----\n',
  ]

  it('in any file, one finding per block, at its BEGIN line', () => {
    const text = `# Setup\n\nUse this key:\n\n${KEYS.join('\nand\n')}`
    const findings = scanFile('docs/README.txt', text)
    expect(findings).toEqual(
      KEYS.map((_, i) => ({
        file: 'docs/README.txt',
        line: lineOf(text, 'PRIVATE KEY', 2 * i + 1),
        location: 'PEM private key',
      })),
    )
    expect(findings[0]!.line).toBe(5)
    expect(scanPrivateKeys('a.pem', PEM_KEY)).toEqual([
      { file: 'a.pem', line: 1, location: 'PEM private key' },
    ])
  })

  it('certificates and public keys are no finding', () => {
    const text = `${PEM_CERT}\n-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n`
    expect(scanFile('chain.crt', text)).toEqual([])
  })

  it('in a state file, outside any field redaction knows, or in a comment', () => {
    const misplaced = PEM_KEY.trim().replace(/\n/g, '\n      ')
    const text = [
      '_format_version: "3.0"',
      `# ${PEM_KEY.split('\n')[0]}`,
      'consumers:',
      '- username: c',
      '  jwt_secrets:',
      '  - key: iss',
      '    rsa_public_key: |',
      `      ${misplaced}`,
      '',
    ].join('\n')
    // The key in a field no schema marks is found by its value, and named by where it is.
    expect(where(scanStateFile('c.yaml', text))).toEqual([
      { line: 2, location: 'PEM private key' },
      { line: 8, location: 'consumer c / jwt iss / rsa_public_key' },
    ])
  })

  it('files that are no state file are scanned for private keys only', () => {
    const key = `  ${PEM_KEY.trim().replace(/\n/g, '\n  ')}`
    expect(where(scanStateFile('list.yaml', `- password: hunter2\n- |\n${key}\n`))).toEqual([
      { line: 3, location: 'PEM private key' },
    ])
    expect(scanStateFile('list.json', '[{"password": "hunter2"}]')).toEqual([])
    expect(scanFile('notes.txt', 'consumers:\n- username: a\n  keyauth_credentials:\n  - key: k\n')).toEqual(
      [],
    )
  })
})

describe('state files the scan cannot take at face value', () => {
  it('a state file that does not parse is a finding of its own (it cannot be checked), at its first error', () => {
    const key = `  ${PEM_KEY.trim().replace(/\n/g, '\n  ')}`
    expect(where(scanStateFile('broken.yaml', `password: [unclosed\nkey: |\n${key}\n`))).toEqual([
      {
        line: 2,
        location: 'not valid YAML: the indentation is wrong (BAD_INDENT); it cannot be checked for secrets',
      },
      { line: 3, location: 'PEM private key' },
    ])
    const findings = scanStateFile(
      'kong/default.yaml',
      'consumers:\n- keyauth_credentials:\n  - key: "open-quote\n',
    )
    expect(findings).toHaveLength(1)
    expect(findings[0]!.location).toMatch(/cannot be checked for secrets/)
    expect(JSON.stringify(findings)).not.toContain('open-quote')
  })

  it('a secret reached through a YAML merge key is found, as deck reads the file', () => {
    const text = [
      '_format_version: "3.0"',
      'vaults:',
      '- name: hcv',
      '  prefix: primary',
      '  config: &hcv',
      '    host: vault.internal',
      '    token: hvs-merged-T0ken',
      '- name: hcv',
      '  prefix: dr',
      '  config:',
      '    <<: *hcv',
      '    host: vault-dr.internal',
      '',
    ].join('\n')
    // Both vaults hold the token; the merged one is placed where its text is.
    const findings = where(scanStateFile('kong/default.yaml', text))
    expect(findings).toHaveLength(2)
    expect(findings).toEqual(
      expect.arrayContaining([
        { line: 7, location: 'vault primary / config / token' },
        { line: 7, location: 'vault dr / config / token' },
      ]),
    )
  })
})

describe('scanFile', () => {
  it('scans .yaml, .yml and .json files (any case) as state files', () => {
    const text = toYaml(sample())
    for (const file of ['a.yaml', 'b.yml', 'C.YAML']) {
      expect(scanFile(file, text)).toHaveLength(SAMPLE_ROWS.length)
    }
    expect(scanFile('d.JSON', JSON.stringify(sample()))).toHaveLength(SAMPLE_ROWS.length)
    // Two private keys, both values of fields redaction knows: each reported once.
    expect(scanFile('e.txt', text)).toHaveLength(2)
  })

  it('never returns a secret value', () => {
    for (const state of [sample(), moreSecrets()]) {
      for (const [file, text] of layouts(state)) {
        const returned = JSON.stringify(scanFile(file, text))
        for (const secret of [...SAMPLE_SECRETS, ...MORE_SECRETS, 'BEGIN PRIVATE', 'MIIEvQ']) {
          expect(returned).not.toContain(secret)
        }
      }
    }
  })
})

describe('large files', () => {
  /** 50,000 entities: services with a route and a plugin with a password, consumers with a key. */
  function gateway(): Record<string, unknown> {
    const services = []
    const consumers = []
    for (let i = 0; i < 10_000; i++) {
      services.push({
        name: `svc-${i}`,
        host: `svc-${i}.internal`,
        port: 8080,
        tags: ['team-a'],
        routes: [{ name: `svc-${i}-r`, paths: [`/api/${i}`], strip_path: true }],
        plugins: [
          { name: 'rate-limiting', config: { minute: 100, redis: { host: 'r', password: `pw-${i}` } } },
        ],
      })
      consumers.push({ username: `user-${i}`, keyauth_credentials: [{ key: `key-${i}` }] })
    }
    return { _format_version: '3.0', services, consumers }
  }

  it('are scanned whole, in every layout', () => {
    const state = gateway()
    const dump = processContent(state, { workspace: 'default', redact: false, source: 'test' }).yaml
    const json = JSON.stringify(state, null, 2)
    for (const [file, text] of [
      ['default.yaml', dump],
      ['default.json', json],
    ] as const) {
      const findings = scanStateFile(file, text)
      expect(findings).toHaveLength(20_000)
      expect(findings.every((f, i) => i === 0 || findings[i - 1]!.line < f.line)).toBe(true)
      expect(findings[0]!.line).toBe(lineOf(text, file.endsWith('.json') ? 'pw-0"' : 'key-0'))
    }
  })
})
