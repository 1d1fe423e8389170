// Live schemas: Kong's jsonable schemas read into schema trees, and read from a node (the Admin API stand-in)
// once per process, a few at a time, without ever throwing.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { readFileSync } from 'node:fs'

import { DeckhandError } from '../actions/engine/errors.js'
import { type AdminResponse, KongAdmin, TransportError } from '../actions/engine/kong/admin.js'
import {
  clearLiveSchemaCache,
  LiveSchemas,
  readKongSchema,
  type SchemaSource,
  schemaNodeFromKong,
} from '../actions/engine/kong/schemas.js'
import { flaggedPaths } from '../actions/engine/secrets/schema-tree.js'
import { type KongStandIn, type KongStandInOptions, startKongStandIn } from './support/kong-admin.js'

const fixture = (file: string) =>
  JSON.parse(readFileSync(new URL(`./fixtures/kong-schemas/${file}`, import.meta.url), 'utf8')) as unknown

const FIXTURES: Record<string, Record<string, string>> = {
  'plugins/http-log.json': {
    'config.headers.*': 'referenceable',
    'config.http_endpoint': 'encrypted',
  },
  'plugins/loggly.json': { 'config.key': 'encrypted' },
  'plugins/acme.json': {
    'config.account_email': 'encrypted',
    'config.eab_hmac_key': 'encrypted',
    'config.eab_kid': 'encrypted',
    'config.storage_config.consul.token': 'referenceable',
    // The deprecated `auth` shows the value of `password` it was replaced with.
    'config.storage_config.redis.auth': 'encrypted',
    'config.storage_config.redis.password': 'encrypted',
    'config.storage_config.redis.username': 'referenceable',
    'config.storage_config.vault.token': 'referenceable',
  },
  'plugins/rate-limiting.json': {
    'config.redis.password': 'encrypted',
    'config.redis.username': 'referenceable',
    'config.redis_password': 'encrypted',
    'config.redis_username': 'referenceable',
  },
  'plugins/acme-corp-signer.json': {
    'config.signing_material': 'encrypted',
    'config.tenant_keys.*': 'encrypted',
    'config.upstreams.[].auth_blob': 'referenceable',
    'config.upstreams.[].url': 'referenceable',
  },
  'entities/certificates.json': {
    cert: 'referenceable',
    cert_alt: 'referenceable',
    key: 'encrypted',
    key_alt: 'encrypted',
  },
  'entities/keys.json': {
    jwk: 'encrypted',
    'pem.private_key': 'encrypted',
    'pem.public_key': 'referenceable',
  },
  'vaults/hcv.json': {
    'config.approle_role_id': 'referenceable',
    'config.approle_secret_id': 'encrypted',
    'config.token': 'encrypted',
  },
}

/** A record nested `depth` levels deep (the top-level field is level 1) whose innermost field is encrypted. */
function nested(depth: number): unknown {
  let data: Record<string, unknown> = { type: 'string', encrypted: true }
  for (let level = depth; level > 1; level--) data = { type: 'record', fields: [{ [`l${level}`]: data }] }
  return { fields: [{ l1: data }] }
}

describe('schemaNodeFromKong', () => {
  test.each(Object.entries(FIXTURES))('%s: exactly the flagged fields', (file, expected) => {
    expect(flaggedPaths(schemaNodeFromKong(fixture(file)))).toEqual(expected)
  })

  test('records nest fields, arrays of records elements, maps values; unflagged branches are left out', () => {
    const acme = schemaNodeFromKong(fixture('plugins/acme.json'))
    expect(acme.fields?.config?.fields?.storage_config?.fields?.redis?.fields?.password).toEqual({
      flag: 'encrypted',
    })
    expect(Object.keys(acme.fields ?? {})).toEqual(['config'])
    expect(Object.keys(acme.fields?.config?.fields?.storage_config?.fields ?? {})).toEqual([
      'redis',
      'consul',
      'vault',
    ])

    const signer = schemaNodeFromKong(fixture('plugins/acme-corp-signer.json'))
    expect(signer).toEqual({
      fields: {
        config: {
          fields: {
            signing_material: { flag: 'encrypted' },
            upstreams: {
              elements: { fields: { url: { flag: 'referenceable' }, auth_blob: { flag: 'referenceable' } } },
            },
            tenant_keys: { values: { flag: 'encrypted' } },
          },
        },
      },
    })
    expect(schemaNodeFromKong(fixture('plugins/http-log.json')).fields?.config?.fields?.headers).toEqual({
      values: { flag: 'referenceable' },
    })
  })

  test('a flag on a container stays on it; encrypted wins over referenceable; no flag at all gives {}', () => {
    const node = schemaNodeFromKong({
      fields: [
        {
          blob: {
            type: 'map',
            encrypted: true,
            referenceable: true,
            keys: { type: 'string' },
            values: { type: 'record', fields: [{ inner: { type: 'string', referenceable: true } }] },
          },
        },
        { plain: { type: 'string', referenceable: false, encrypted: 'true' } },
      ],
    })
    expect(node).toEqual({
      fields: { blob: { flag: 'encrypted', values: { fields: { inner: { flag: 'referenceable' } } } } },
    })
    expect(schemaNodeFromKong({ entity_checks: [], fields: [] })).toEqual({})
    expect(schemaNodeFromKong({ fields: [{ name: { type: 'string' } }] })).toEqual({})
  })

  test('anything but an object with a fields list is a DeckhandError, nothing else', () => {
    for (const value of [
      null,
      undefined,
      'schema',
      42,
      [],
      [{ a: {} }],
      {},
      { fields: {} },
      { fields: 'x' },
    ]) {
      expect(() => schemaNodeFromKong(value)).toThrow(DeckhandError)
      expect(() => schemaNodeFromKong(value)).toThrow(
        /^Not a Kong schema: expected an object with a "fields" list/,
      )
    }
    // A value built to break the walk is a DeckhandError as well.
    const hostile = {
      fields: [
        {
          get boom(): never {
            throw new Error('getter')
          },
        },
      ],
    }
    expect(() => schemaNodeFromKong(hostile)).toThrow(DeckhandError)
  })

  test('malformed parts are skipped, the rest is read', () => {
    const node = schemaNodeFromKong({
      fields: [
        null,
        3,
        'field',
        [],
        { scalar: 'string' },
        { empty: null },
        { odd: { type: 'record', fields: 'none', elements: [], values: 5 } },
        // Several keys in one entry: each is read as a field.
        { a: { type: 'string', encrypted: true }, b: { type: 'string', referenceable: true } },
        {
          list: {
            type: 'array',
            elements: { type: 'record', fields: [null, { secret: { encrypted: true } }] },
          },
        },
        {
          rec: {
            type: 'record',
            fields: [{ x: { referenceable: true } }],
            shorthand_fields: [
              null,
              { gone: { deprecation: { replaced_with: [{ path: ['missing'] }] } } },
              { junk: { deprecation: { replaced_with: [{ path: [1, 2] }, 'x', null] } } },
              { old_x: { translate_backwards: ['x'] } },
            ],
          },
        },
      ],
    })
    expect(flaggedPaths(node)).toEqual({
      a: 'encrypted',
      b: 'referenceable',
      'list.[].secret': 'encrypted',
      'rec.old_x': 'referenceable',
      'rec.x': 'referenceable',
    })
  })

  test('names an object has already (__proto__, constructor) are left out and said so; nothing is polluted', () => {
    const read = readKongSchema(
      JSON.parse(
        '{"fields":[{"__proto__":{"type":"string","encrypted":true}},{"constructor":{"type":"string","encrypted":true}},{"ok":{"type":"string","encrypted":true}}]}',
      ),
    )
    expect(flaggedPaths(read.node)).toEqual({ ok: 'encrypted' })
    expect(Object.getPrototypeOf(read.node.fields)).toBe(Object.prototype)
    expect(read.ignored).toEqual([
      'a field named "__proto__" in the schema: not a usable field name',
      'a field named "constructor" in the schema: not a usable field name',
    ])
    expect(({} as Record<string, unknown>).flag).toBeUndefined()
  })

  test('depth is capped at 32 levels: deeper parts are left out and said so', () => {
    expect(flaggedPaths(schemaNodeFromKong(nested(32)))).toEqual({
      [Array.from({ length: 32 }, (_, i) => `l${i + 1}`).join('.')]: 'encrypted',
    })
    const deep = readKongSchema(nested(33))
    expect(deep.node).toEqual({})
    expect(deep.ignored).toEqual([
      `${Array.from({ length: 33 }, (_, i) => `l${i + 1}`).join('.')}: nested deeper than 32 levels, not read`,
    ])
    // A list of elements counts as a level too.
    const list = readKongSchema(
      { fields: [{ a: { type: 'array', elements: { type: 'string', encrypted: true } } }] },
      {
        maxDepth: 1,
      },
    )
    expect([list.node, list.ignored]).toEqual([{}, ['a.[]: nested deeper than 1 levels, not read']])
  })

  test('at most 20,000 fields are read: the rest are left out and said so', () => {
    const many = { fields: Array.from({ length: 25_000 }, (_, i) => ({ [`f${i}`]: { encrypted: true } })) }
    const read = readKongSchema(many)
    const paths = Object.keys(flaggedPaths(read.node))
    expect(paths).toHaveLength(20_000)
    expect(paths).toContain('f19999')
    expect(paths).not.toContain('f20000')
    expect(read.ignored).toEqual(['more than 20000 fields: the rest were not read'])
    expect(Object.keys(schemaNodeFromKong(many, { maxFields: 10 }).fields ?? {})).toHaveLength(10)
  })
})

// ---------------------------------------------------------------------------------------------------------

const started: KongStandIn[] = []
beforeEach(() => clearLiveSchemaCache())
afterEach(async () => {
  for (const node of started.splice(0)) await node.stop()
})

const SCHEMAS = {
  plugins: {
    'http-log': fixture('plugins/http-log.json'),
    'acme-corp-signer': fixture('plugins/acme-corp-signer.json'),
  },
  vaults: { hcv: fixture('vaults/hcv.json') },
  entities: { certificates: fixture('entities/certificates.json') },
}

async function kong(
  options: Partial<KongStandInOptions> = {},
): Promise<{ node: KongStandIn; admin: KongAdmin }> {
  const node = await startKongStandIn({ database: 'postgres', schemas: SCHEMAS, ...options })
  started.push(node)
  return { node, admin: await KongAdmin.open(node.adminUrl, { kongAddr: node.adminUrl }) }
}

const count = (node: KongStandIn, path: string) => node.requests.filter((r) => r.path === path).length

/** A source answering from a table of paths; `version` is what `GET /` says. */
function stub(
  address: string,
  version: string,
  answer: (path: string) => Promise<AdminResponse> | AdminResponse,
): SchemaSource & { paths: string[] } {
  const paths: string[] = []
  return {
    address,
    paths,
    request: async (_method, path) => {
      paths.push(path)
      if (path === '/') return { status: 200, headers: {}, body: JSON.stringify({ version }) }
      return answer(path)
    },
  }
}

describe('LiveSchemas', () => {
  test('reads each schema once, however often asked and by however many LiveSchemas', async () => {
    const { node, admin } = await kong()
    const first = new LiveSchemas(admin)
    const [a, b] = await Promise.all([first.plugin('http-log'), first.plugin('http-log')])
    expect(flaggedPaths(a!)).toEqual(FIXTURES['plugins/http-log.json'])
    expect(b).toEqual(a)
    expect(await first.version()).toBe('3.9.3')

    const second = new LiveSchemas(admin)
    expect(flaggedPaths((await second.plugin('http-log'))!)).toEqual(FIXTURES['plugins/http-log.json'])
    expect(flaggedPaths((await second.vault('hcv'))!)).toEqual(FIXTURES['vaults/hcv.json'])
    expect(flaggedPaths((await second.entity('certificates'))!)).toEqual(
      FIXTURES['entities/certificates.json'],
    )
    expect(flaggedPaths((await first.entity('certificates'))!)).toEqual(
      FIXTURES['entities/certificates.json'],
    )

    expect(count(node, '/schemas/plugins/http-log')).toBe(1)
    expect(count(node, '/schemas/vaults/hcv')).toBe(1)
    expect(count(node, '/schemas/certificates')).toBe(1)
    // The version is read once by each.
    expect(count(node, '/')).toBe(2)
    expect([first.problems, second.problems]).toEqual([[], []])

    // Each caller gets its own copy: changing one changes nothing cached.
    a!.fields!.config!.flag = 'encrypted'
    expect((await first.plugin('http-log'))?.fields?.config?.flag).toBeUndefined()
  })

  test('a custom plugin is read like any other; names are URL-encoded in the path', async () => {
    const { node, admin } = await kong()
    const live = new LiveSchemas(admin)
    expect(flaggedPaths((await live.plugin('acme-corp-signer'))!)).toEqual(
      FIXTURES['plugins/acme-corp-signer.json'],
    )
    expect(await live.plugin('acme corp/signer?x')).toBeUndefined()
    expect(node.requests.map((r) => r.path)).toEqual([
      '/',
      '/schemas/plugins/acme-corp-signer',
      '/schemas/plugins/acme%20corp%2Fsigner%3Fx',
    ])
    expect(live.problems).toEqual([
      `The gateway has no schema for plugin "acme corp/signer?x" (GET ${node.adminUrl}/schemas/plugins/acme%20corp%2Fsigner%3Fx: HTTP 404 (No plugin named 'acme corp/signer?x'))`,
    ])
  })

  test('404: undefined and one problem per LiveSchemas, and the node is not asked again', async () => {
    const { node, admin } = await kong()
    const live = new LiveSchemas(admin)
    expect(await live.plugin('acme')).toBeUndefined()
    expect(await live.vault('aws')).toBeUndefined()
    expect(await live.entity('keys')).toBeUndefined()
    expect(await live.plugin('acme')).toBeUndefined()
    expect(live.problems).toEqual([
      `The gateway has no schema for plugin "acme" (GET ${node.adminUrl}/schemas/plugins/acme: HTTP 404 (No plugin named 'acme'))`,
      `The gateway has no schema for vault backend "aws" (GET ${node.adminUrl}/schemas/vaults/aws: HTTP 404 (No vault named 'aws'))`,
      `The gateway has no schema for entity "keys" (GET ${node.adminUrl}/schemas/keys: HTTP 404 (No entity named 'keys'))`,
    ])
    const other = new LiveSchemas(admin)
    expect(await other.plugin('acme')).toBeUndefined()
    expect(other.problems).toHaveLength(1)
    expect(count(node, '/schemas/plugins/acme')).toBe(1)
    // Names Kong cannot have are not asked for.
    expect(await other.plugin('')).toBeUndefined()
    expect(await other.plugin('..')).toBeUndefined()
    expect(node.requests.filter((r) => r.path.startsWith('/schemas')).map((r) => r.path)).toEqual([
      '/schemas/plugins/acme',
      '/schemas/vaults/aws',
      '/schemas/keys',
    ])
    expect(other.problems.slice(1)).toEqual([
      'No schema asked for plugin "": not a name Kong has',
      'No schema asked for plugin "..": not a name Kong has',
    ])
  })

  test('a malformed answer: undefined and a problem, never a throw', async () => {
    const { node, admin } = await kong({
      schemas: { plugins: { broken: { fields: 'none' }, listed: [1, 2] }, vaults: { odd: 'text' } },
    })
    const live = new LiveSchemas(admin)
    expect(await live.plugin('broken')).toBeUndefined()
    expect(await live.plugin('listed')).toBeUndefined()
    expect(await live.vault('odd')).toBeUndefined()
    expect(live.problems).toEqual([
      `No schema for plugin "broken": GET ${node.adminUrl}/schemas/plugins/broken: Not a Kong schema: expected an object with a "fields" list, got object`,
      `No schema for plugin "listed": GET ${node.adminUrl}/schemas/plugins/listed: Not a Kong schema: expected an object with a "fields" list, got a list`,
      `No schema for vault backend "odd": GET ${node.adminUrl}/schemas/vaults/odd: Not a Kong schema: expected an object with a "fields" list, got string`,
    ])

    const html = new LiveSchemas(
      stub('http://html.test', '3.9.3', () => ({ status: 200, headers: {}, body: '<html>Login</html>' })),
    )
    expect(await html.plugin('http-log')).toBeUndefined()
    expect(html.problems).toEqual([
      'No schema for plugin "http-log": GET http://html.test/schemas/plugins/http-log answered with something other than JSON',
    ])
  })

  test('a schema read in part is returned, and what was left out is a problem; own limits are not shared', async () => {
    const { node, admin } = await kong({ schemas: { plugins: { deep: nested(40) } } })
    const live = new LiveSchemas(admin, { limits: { maxDepth: 2 } })
    expect(await live.plugin('deep')).toEqual({})
    expect(live.problems).toEqual([
      'The schema of plugin "deep" was read in part: l1.l2.l3: nested deeper than 2 levels, not read',
    ])
    // A LiveSchemas with the usual limits reads it again, for itself.
    const usual = new LiveSchemas(admin)
    expect(await usual.plugin('deep')).toEqual({})
    expect(usual.problems).toEqual([
      `The schema of plugin "deep" was read in part: ${Array.from({ length: 33 }, (_, i) => `l${i + 1}`).join('.')}: nested deeper than 32 levels, not read`,
    ])
    expect(count(node, '/schemas/plugins/deep')).toBe(2)
  })

  test('no answer, or a passing error: undefined and a problem, kept by this LiveSchemas only', async () => {
    let calls = 0
    const flaky = stub('http://flaky.test', '3.9.3', () => {
      calls++
      if (calls === 1) throw new TransportError('connect ECONNREFUSED')
      if (calls === 2) return { status: 503, headers: {}, body: '{"message":"overloaded"}' }
      return { status: 200, headers: {}, body: JSON.stringify(fixture('plugins/loggly.json')) }
    })
    const first = new LiveSchemas(flaky)
    expect(await first.plugin('loggly')).toBeUndefined()
    expect(await first.plugin('loggly')).toBeUndefined()
    expect(first.problems).toEqual([
      'No schema for plugin "loggly": GET http://flaky.test/schemas/plugins/loggly got no answer (connect ECONNREFUSED)',
    ])
    const second = new LiveSchemas(flaky)
    expect(await second.plugin('loggly')).toBeUndefined()
    expect(second.problems).toEqual([
      'No schema for plugin "loggly": GET http://flaky.test/schemas/plugins/loggly answered HTTP 503 (overloaded)',
    ])
    const third = new LiveSchemas(flaky)
    expect(flaggedPaths((await third.plugin('loggly'))!)).toEqual(FIXTURES['plugins/loggly.json'])
    expect(calls).toBe(3)
  })

  test('a node whose GET / fails: nothing is read, one problem', async () => {
    const { node, admin } = await kong({ edition: 'enterprise', adminToken: 's3cret' })
    const live = new LiveSchemas(admin)
    await live.prefetch({ plugins: ['http-log', 'acme-corp-signer'], vaults: ['hcv'] })
    expect(await live.entity('certificates')).toBeUndefined()
    expect(live.problems).toEqual([
      `Live schemas not read: GET ${node.adminUrl}/ answered HTTP 401 (Invalid RBAC credentials)`,
    ])
    expect(node.requests.map((r) => r.path)).toEqual(['/'])

    const quiet = new LiveSchemas(
      stub('http://quiet.test', '', () => ({ status: 500, headers: {}, body: '' })),
    )
    expect(await quiet.plugin('x')).toBeUndefined()
    expect(quiet.problems).toEqual([
      'Live schemas not read: GET http://quiet.test/ did not say which Kong version it is',
    ])
  })

  test('the process-wide cache is keyed by address and Kong version', async () => {
    const answer = () => ({ status: 200, headers: {}, body: JSON.stringify(fixture('plugins/loggly.json')) })
    const old = stub('http://gw.test', '3.8.1', answer)
    const upgraded = stub('http://gw.test', '3.9.3', answer)
    const again = stub('http://gw.test', '3.9.3', answer)
    const elsewhere = stub('http://other.test', '3.9.3', answer)
    for (const source of [old, upgraded, again, elsewhere]) {
      expect(flaggedPaths((await new LiveSchemas(source).plugin('loggly'))!)).toEqual(
        FIXTURES['plugins/loggly.json'],
      )
    }
    expect([old.paths, upgraded.paths, again.paths, elsewhere.paths]).toEqual([
      ['/', '/schemas/plugins/loggly'],
      ['/', '/schemas/plugins/loggly'],
      ['/'],
      ['/', '/schemas/plugins/loggly'],
    ])
  })

  test('prefetch: at most 8 requests at once, each schema once', async () => {
    const plugins = Object.fromEntries(
      Array.from({ length: 30 }, (_, i) => [`p${i}`, SCHEMAS.plugins['http-log']]),
    )
    const { node, admin } = await kong({ schemas: { ...SCHEMAS, plugins } })
    const measure = (source: KongAdmin) => {
      const seen = { inFlight: 0, most: 0 }
      const slow: SchemaSource = {
        address: source.address,
        request: async (method, path) => {
          seen.inFlight++
          seen.most = Math.max(seen.most, seen.inFlight)
          try {
            await new Promise((resolve) => setTimeout(resolve, 20))
            return await source.request(method, path)
          } finally {
            seen.inFlight--
          }
        },
      }
      return { seen, slow }
    }

    const { seen, slow } = measure(admin)
    const live = new LiveSchemas(slow)
    const names = Object.keys(plugins)
    await live.prefetch({ plugins: [...names, ...names], vaults: ['hcv'], entities: ['certificates'] })
    expect(seen.most).toBe(8)
    for (const name of names) expect(count(node, `/schemas/plugins/${name}`)).toBe(1)
    expect(count(node, '/schemas/vaults/hcv')).toBe(1)
    expect(count(node, '/schemas/certificates')).toBe(1)
    const asked = node.requests.length
    expect(flaggedPaths((await live.plugin('p7'))!)).toEqual(FIXTURES['plugins/http-log.json'])
    expect(node.requests.length).toBe(asked)
    expect(live.problems).toEqual([])

    // Asked one by one all at once, the bound holds too; and it can be set.
    clearLiveSchemaCache()
    const three = measure(admin)
    const narrow = new LiveSchemas(three.slow, { concurrency: 3 })
    await Promise.all(names.map((name) => narrow.plugin(name)))
    expect(three.seen.most).toBe(3)
    // A concurrency that is no number is the default.
    clearLiveSchemaCache()
    const odd = measure(admin)
    await new LiveSchemas(odd.slow, { concurrency: Number.NaN }).prefetch({ plugins: names })
    expect(odd.seen.most).toBe(8)
  })
})
