// The Kong Admin API stand-in itself: that it answers as Kong does, over real HTTP, before restore is tested
// against it.
import { afterEach, describe, expect, test } from '@jest/globals'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import { parse as parseYaml } from 'yaml'

import {
  EMPTY_CONFIG_HASH,
  keyringExportData,
  type KongStandIn,
  type KongStandInOptions,
  type ProxyRoute,
  startKongStandIn,
} from './support/kong-admin.js'

const started: KongStandIn[] = []
afterEach(async () => {
  for (const kong of started.splice(0)) await kong.stop()
})

async function kong(options: KongStandInOptions): Promise<KongStandIn> {
  const node = await startKongStandIn(options)
  started.push(node)
  return node
}

interface Answer {
  status: number
  headers: Headers
  text: string
  json: Record<string, unknown>
}

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init)
  const text = await res.text()
  let json: Record<string, unknown> = {}
  try {
    json = JSON.parse(text) as Record<string, unknown>
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, text, json }
}

const post = (url: string, body: string, contentType: string) =>
  call(url, { method: 'POST', body, headers: { 'Content-Type': contentType } })

/** Retries until the node accepts connections; the failures seen on the way. */
async function untilUp(url: string): Promise<{ answer: Answer; failures: number }> {
  let failures = 0
  for (;;) {
    try {
      return { answer: await call(url), failures }
    } catch {
      failures++
      if (failures > 400) throw new Error(`${url} never came up`)
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }
}

/** A GET with a Host header of our choosing (fetch always sends the URL's). */
function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => (body += chunk.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex')
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

const SHOP = `_format_version: "3.0"
services:
  - name: shop
    url: http://shop.internal:8080/v1
    routes:
      - name: cart
        paths: [/cart]
      - name: admin
        paths: [/admin]
        methods: [POST]
    plugins:
      - name: key-auth
        route: admin
consumers:
  - username: alice
    keyauth_credentials:
      - key: alice-key
`

describe('GET / and GET /status', () => {
  test('a database node: Kong 3.9.3 community, with a reachable database and no configuration hash', async () => {
    const node = await kong({ database: 'postgres' })
    const root = await call(`${node.adminUrl}/`)
    expect(root.status).toBe(200)
    expect(root.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(root.headers.get('server')).toBe('kong/3.9.3')
    expect(root.json).toMatchObject({
      version: '3.9.3',
      edition: 'community',
      tagline: 'Welcome to kong',
      node_id: node.nodeId,
      lua_version: expect.any(String),
      hostname: expect.any(String),
      plugins: { enabled_in_cluster: [] },
      configuration: {
        database: 'postgres',
        role: 'traditional',
        prefix: '/usr/local/kong',
        pg_password: '******',
      },
    })
    expect(node.nodeId).toMatch(UUID)
    const config = root.json.configuration as Record<string, unknown>
    expect(config.pg_host).toEqual(expect.any(String))
    expect(config.admin_listen).toEqual(expect.arrayContaining([expect.stringMatching(/:8001/)]))
    expect(config.proxy_listen).toEqual(expect.arrayContaining([expect.stringMatching(/:8000/)]))
    expect(
      (root.json.plugins as Record<string, Record<string, unknown>>).available_on_server?.['key-auth'],
    ).toEqual({
      version: '3.9.3',
      priority: 1250,
    })
    // cjson escapes slashes, as Kong's answers do.
    expect(root.text).toContain('"prefix":"\\/usr\\/local\\/kong"')

    const status = await call(`${node.adminUrl}/status`)
    expect(status.status).toBe(200)
    expect(status.json).toMatchObject({
      database: { reachable: true },
      server: { connections_accepted: expect.any(Number), total_requests: expect.any(Number) },
      memory: { workers_lua_vms: expect.any(Array), lua_shared_dicts: expect.any(Object) },
    })
    expect(status.json).not.toHaveProperty('configuration_hash')
    expect((await call(`${node.adminUrl}/status/ready`)).json).toEqual({ message: 'ready' })
  })

  test('a DB-less Enterprise node: no database, an empty configuration hash, not ready', async () => {
    const node = await kong({ database: 'off', edition: 'enterprise' })
    const root = await call(node.adminUrl)
    expect(root.headers.get('server')).toBe('kong/3.10.0.0-enterprise-edition')
    expect(root.json).toMatchObject({
      version: '3.10.0.0',
      edition: 'enterprise',
      configuration: { database: 'off' },
    })
    expect((root.json.configuration as Record<string, unknown>).pg_password).toBeUndefined()

    const status = await call(`${node.adminUrl}/status`)
    expect(status.json).not.toHaveProperty('database')
    expect(status.json.configuration_hash).toBe(EMPTY_CONFIG_HASH)
    expect(EMPTY_CONFIG_HASH).toBe('00000000000000000000000000000000')

    const ready = await call(`${node.adminUrl}/status/ready`)
    expect(ready.status).toBe(503)
    expect(ready.json).toEqual({ message: 'no configuration available (empty configuration present)' })
  })

  test('unknown paths are 404, a known path with another method 405, a trailing slash is the same path', async () => {
    const node = await kong({ database: 'off' })
    const missing = await call(`${node.adminUrl}/nothing/here`)
    expect(missing.status).toBe(404)
    expect(missing.json).toEqual({ message: 'Not found' })
    expect(missing.headers.get('server')).toBe('kong/3.9.3')
    expect((await call(`${node.adminUrl}/config`, { method: 'DELETE' })).json).toEqual({
      message: 'Method not allowed',
    })
    expect((await call(`${node.adminUrl}/status/`)).status).toBe(200)
    // Community Kong has no keyring.
    expect((await call(`${node.adminUrl}/keyring`)).status).toBe(404)
  })

  test('with an admin token, requests without the right Kong-Admin-Token are 401 (and logged)', async () => {
    const node = await kong({ database: 'postgres', edition: 'enterprise', adminToken: 's3cret' })
    for (const headers of [{}, { 'Kong-Admin-Token': 'wrong' }]) {
      const denied = await call(`${node.adminUrl}/status`, { headers })
      expect(denied.status).toBe(401)
      expect(denied.json).toEqual({ message: 'Invalid RBAC credentials' })
    }
    const allowed = await call(`${node.adminUrl}/`, { headers: { 'Kong-Admin-Token': 's3cret' } })
    expect(allowed.status).toBe(200)
    expect(node.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /status', 'GET /status', 'GET /'])
    expect(node.requests[2]?.headers['kong-admin-token']).toBe('s3cret')
  })
})

describe('booting', () => {
  test('a booting node resets connections, then answers', async () => {
    const node = await kong({ database: 'postgres', bootMs: 500 })
    await expect(fetch(`${node.adminUrl}/`)).rejects.toThrow()
    await expect(fetch(`${node.proxyUrl}/`)).rejects.toThrow()
    const { answer } = await untilUp(`${node.adminUrl}/status`)
    expect(answer.status).toBe(200)
    expect((await call(`${node.proxyUrl}/anything`)).status).toBe(404)
    // Reset connections never reached HTTP.
    expect(node.requests.map((r) => r.path)).toEqual(['/status'])
  })

  test('a node that never comes up resets every connection', async () => {
    const node = await kong({ database: 'off', neverUp: true })
    for (let i = 0; i < 3; i++) {
      await expect(fetch(`${node.adminUrl}/`)).rejects.toThrow()
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    await expect(fetch(`${node.proxyUrl}/`)).rejects.toThrow()
    expect(node.requests).toEqual([])
  })
})

describe('DB-less POST /config and GET /config', () => {
  test('loads YAML: 201 with the flattened entities, GET /config gives it back, the hash is the md5 of the text', async () => {
    const node = await kong({ database: 'off' })
    expect(node.currentConfig()).toBeNull()
    const loaded = await post(`${node.adminUrl}/config`, SHOP, 'text/yaml')
    expect(loaded.status).toBe(201)
    expect(node.configLoads).toBe(1)
    expect(node.currentConfig()).toEqual(parseYaml(SHOP))

    const entities = loaded.json as Record<string, Record<string, Record<string, unknown>>>
    expect(Object.keys(entities).sort()).toEqual([
      'consumers',
      'keyauth_credentials',
      'plugins',
      'routes',
      'services',
    ])
    const [service] = Object.values(entities.services ?? {})
    expect(service).toMatchObject({
      name: 'shop',
      protocol: 'http',
      host: 'shop.internal',
      port: 8080,
      path: '/v1',
    })
    expect(Object.keys(entities.services ?? {})).toEqual([service?.id])
    expect(service?.id).toMatch(UUID)
    const routes = Object.values(entities.routes ?? {})
    expect(routes.map((r) => r.name).sort()).toEqual(['admin', 'cart'])
    for (const route of routes) expect(route.service).toEqual({ id: service?.id })
    const [plugin] = Object.values(entities.plugins ?? {})
    const admin = routes.find((r) => r.name === 'admin')
    expect(plugin).toMatchObject({ name: 'key-auth', enabled: true, service: { id: service?.id } })
    expect(plugin?.route).toEqual({ id: admin?.id })

    const exported = await call(`${node.adminUrl}/config`)
    expect(exported.status).toBe(200)
    const doc = parseYaml(exported.json.config as string) as Record<string, Record<string, unknown>[]>
    expect(doc._format_version).toBe('3.0')
    expect(doc._transform).toBe(false)
    expect(doc.services?.map((s) => s.name)).toEqual(['shop'])
    expect(doc.routes?.map((r) => r.service)).toEqual([service?.id, service?.id])
    expect(doc.keyauth_credentials?.[0]).toMatchObject({ key: 'alice-key' })

    // What GET /config gives loads again, with the same ids.
    const reloaded = await post(
      `${node.adminUrl}/config`,
      exported.json.config as string,
      'application/x-yaml',
    )
    expect(reloaded.status).toBe(201)
    expect(Object.keys((reloaded.json as Record<string, object>).routes ?? {}).sort()).toEqual(
      Object.keys(entities.routes ?? {}).sort(),
    )

    const status = await call(`${node.adminUrl}/status`)
    expect(status.json.configuration_hash).toBe(md5(exported.json.config as string))
    expect((await call(`${node.adminUrl}/status/ready`)).status).toBe(200)
  })

  test('check_hash=1 answers 304 for the text already loaded, also sent as a form or JSON config field', async () => {
    const node = await kong({ database: 'off' })
    const form = new URLSearchParams({ config: SHOP }).toString()
    expect(
      (await post(`${node.adminUrl}/config?check_hash=1`, form, 'application/x-www-form-urlencoded')).status,
    ).toBe(201)
    const again = await post(`${node.adminUrl}/config?check_hash=1`, SHOP, 'text/yaml')
    expect(again.status).toBe(304)
    expect(again.text).toBe('')
    const asJson = await post(
      `${node.adminUrl}/config?check_hash=1`,
      JSON.stringify({ config: SHOP }),
      'application/json',
    )
    expect(asJson.status).toBe(304)
    const multipart = new FormData()
    // A file part goes as it is (string parts get CRLF line ends, which change the text and its hash).
    multipart.set('config', new Blob([SHOP]), 'kong.yaml')
    expect(
      (await call(`${node.adminUrl}/config?check_hash=1`, { method: 'POST', body: multipart })).status,
    ).toBe(304)
    // Without check_hash the same text loads again.
    expect((await post(`${node.adminUrl}/config`, SHOP, 'text/yaml')).status).toBe(201)
    expect(node.configLoads).toBe(2)
    expect((await call(`${node.adminUrl}/status`)).json.configuration_hash).toBe(md5(SHOP))
  })

  test('a JSON body holding the configuration itself loads, but has no text hash: never 304', async () => {
    const node = await kong({ database: 'off' })
    const body = JSON.stringify(parseYaml(SHOP))
    expect((await post(`${node.adminUrl}/config?check_hash=1`, body, 'application/json')).status).toBe(201)
    const first = (await call(`${node.adminUrl}/status`)).json.configuration_hash
    expect(first).toMatch(/^[0-9a-f]{32}$/)
    expect(first).not.toBe(EMPTY_CONFIG_HASH)
    expect(first).not.toBe(md5(body))
    expect((await post(`${node.adminUrl}/config?check_hash=1`, body, 'application/json')).status).toBe(201)
    expect(node.configLoads).toBe(2)
  })

  test('an empty configuration loads but leaves the hash empty and the node not ready', async () => {
    const node = await kong({ database: 'off' })
    expect((await post(`${node.adminUrl}/config`, '_format_version: "3.0"\n', 'text/yaml')).status).toBe(201)
    expect((await call(`${node.adminUrl}/status`)).json.configuration_hash).toBe(EMPTY_CONFIG_HASH)
    expect((await call(`${node.adminUrl}/status/ready`)).status).toBe(503)
  })

  test('_workspace, _info and other unknown top-level keys are rejected with 400, nothing loaded', async () => {
    const node = await kong({ database: 'off' })
    const rejected = await post(`${node.adminUrl}/config`, `_workspace: default\n${SHOP}`, 'text/yaml')
    expect(rejected.status).toBe(400)
    expect(rejected.json).toEqual({
      code: 14,
      name: 'invalid declarative configuration',
      message: 'declarative config is invalid: {_workspace="unknown field"}',
      fields: { _workspace: 'unknown field' },
    })
    const info = await post(
      `${node.adminUrl}/config`,
      JSON.stringify({ _format_version: '3.0', _info: { select_tags: ['a'] }, services: [] }),
      'application/json',
    )
    expect(info.status).toBe(400)
    expect(info.json.fields).toEqual({ _info: 'unknown field' })
    expect(node.configLoads).toBe(0)
    expect((await call(`${node.adminUrl}/config`)).json.config).not.toContain('services')
  })

  test('other invalid configurations: 400 with Kong error shapes', async () => {
    const node = await kong({ database: 'off' })
    const unparsable = await post(
      `${node.adminUrl}/config`,
      JSON.stringify({ config: 'bobby tables' }),
      'application/json',
    )
    expect(unparsable.status).toBe(400)
    expect(unparsable.json).toEqual({
      code: 14,
      name: 'invalid declarative configuration',
      message:
        'declarative config is invalid: {error="failed parsing declarative configuration: expected an object"}',
      fields: { error: 'failed parsing declarative configuration: expected an object' },
    })

    const noVersion = await post(`${node.adminUrl}/config`, 'services: []\n', 'text/yaml')
    expect(noVersion.json.fields).toEqual({ _format_version: 'required field missing' })

    const badService = await post(
      `${node.adminUrl}/config`,
      '_format_version: "3.0"\nservices:\n  - name: a\n    port: -12\n',
      'text/yaml',
    )
    expect(badService.json).toMatchObject({
      fields: { services: [{ host: 'required field missing', port: 'value should be between 0 and 65535' }] },
      message:
        'declarative config is invalid: {services={{host="required field missing",port="value should be between 0 and 65535"}}}',
    })

    const badReference = await post(
      `${node.adminUrl}/config`,
      '_format_version: "3.0"\nroutes:\n  - name: r\n    paths: [/r]\n    service: nowhere\n',
      'text/yaml',
    )
    expect(badReference.json.fields).toEqual({
      routes: { r: ["invalid reference 'service: nowhere' (no such entry in 'services')"] },
    })

    expect((await call(`${node.adminUrl}/config`, { method: 'POST' })).json).toEqual({
      message: 'expected a declarative configuration',
    })
    expect((await post(`${node.adminUrl}/config`, '{"_format', 'application/json')).json).toEqual({
      message: 'Cannot parse JSON body',
    })
    expect(node.configLoads).toBe(0)
  })

  test('flatten_errors=1 lists the errors per entity, what is left stays in fields', async () => {
    const node = await kong({ database: 'off' })
    const config = {
      _format_version: '3.0',
      extra: 1,
      services: [
        { name: 'svc', host: 'h', routes: [{ name: 'r', paths: ['/r'], plugins: [{ name: 'nope' }] }] },
      ],
    }
    const res = await post(
      `${node.adminUrl}/config?flatten_errors=1`,
      JSON.stringify(config),
      'application/json',
    )
    expect(res.status).toBe(400)
    expect(res.json).toMatchObject({
      code: 14,
      fields: { extra: 'unknown field' },
      message: 'declarative config is invalid: {extra="unknown field"}',
      flattened_errors: [
        {
          entity_type: 'plugin',
          entity_name: 'nope',
          entity: { name: 'nope' },
          errors: [
            {
              type: 'field',
              field: 'name',
              message: "plugin 'nope' not enabled; add it to the 'plugins' configuration property",
            },
          ],
        },
      ],
    })
  })

  test('a busy node answers 429 with Retry-After, then loads', async () => {
    const node = await kong({ database: 'off', busyConfigLoads: 2, retryAfterSeconds: 3 })
    for (let i = 0; i < 2; i++) {
      const busy = await post(`${node.adminUrl}/config`, SHOP, 'text/yaml')
      expect(busy.status).toBe(429)
      expect(busy.headers.get('retry-after')).toBe('3')
      expect(busy.json).toEqual({ message: 'Currently loading previous configuration' })
    }
    expect(node.configLoads).toBe(0)
    expect((await post(`${node.adminUrl}/config`, SHOP, 'text/yaml')).status).toBe(201)
    expect(node.configLoads).toBe(1)
  })

  test('a configuration too large for LMDB is 413 and the previous one stays', async () => {
    const small = '_format_version: "3.0"\nconsumers:\n  - username: a\n'
    const node = await kong({ database: 'off', maxConfigBytes: small.length })
    expect((await post(`${node.adminUrl}/config`, small, 'text/yaml')).status).toBe(201)
    const tooLarge = await post(`${node.adminUrl}/config`, SHOP, 'text/yaml')
    expect(tooLarge.status).toBe(413)
    expect(tooLarge.json).toEqual({
      message:
        'Configuration does not fit in LMDB database, consider raising the "lmdb_map_size" config for Kong',
    })
    expect(node.configLoads).toBe(1)
    expect((await call(`${node.adminUrl}/status`)).json.configuration_hash).toBe(md5(small))
  })

  test('a database node has no /config', async () => {
    const node = await kong({ database: 'postgres' })
    const message = {
      message: 'this endpoint is only available when Kong is configured to not use a database',
    }
    const got = await call(`${node.adminUrl}/config`)
    expect(got.status).toBe(400)
    expect(got.json).toEqual(message)
    const posted = await post(`${node.adminUrl}/config`, SHOP, 'text/yaml')
    expect(posted.status).toBe(400)
    expect(posted.json).toEqual(message)
    expect(node.configLoads).toBe(0)
  })
})

describe('Enterprise keyring', () => {
  test('imports an export and lists its keys, the active one too', async () => {
    const node = await kong({ database: 'postgres', edition: 'enterprise', keyring: true })
    // An empty keyring: a plain Lua table, so cjson writes an object, and no active key.
    expect((await call(`${node.adminUrl}/keyring`)).json).toEqual({ ids: {} })
    expect((await call(`${node.adminUrl}/keyring/active`)).status).toBe(500)

    const data = keyringExportData(['aaaa1111', 'bbbb2222'], 'bbbb2222')
    const form = new URLSearchParams({ data }).toString()
    const imported = await post(`${node.adminUrl}/keyring/import`, form, 'application/x-www-form-urlencoded')
    expect(imported.status).toBe(200)
    expect(imported.json).toEqual({ ids: ['aaaa1111', 'bbbb2222'], active: 'bbbb2222' })
    expect((await call(`${node.adminUrl}/keyring`)).json).toEqual({
      ids: ['aaaa1111', 'bbbb2222'],
      active: 'bbbb2222',
    })
    expect((await call(`${node.adminUrl}/keyring/active`)).json).toEqual({ id: 'bbbb2222' })

    // The whole export answer posted as JSON works too; a blob the stand-in cannot open brings one key.
    const opaque = Buffer.from('an encrypted export').toString('base64')
    const again = await post(
      `${node.adminUrl}/keyring/import`,
      JSON.stringify({ data: opaque }),
      'application/json',
    )
    expect(again.status).toBe(200)
    expect(again.json.active).toMatch(/^[0-9a-f]{8}$/)
    expect(again.json.ids).toHaveLength(3)
    expect(node.keyringImports).toEqual([data, opaque])

    // POST /keyring/export gives what an import takes.
    const exported = await call(`${node.adminUrl}/keyring/export`, { method: 'POST' })
    expect(exported.status).toBe(200)
    expect(exported.json.data).toEqual(expect.any(String))
  })

  test('an import without data, or not base64, is a 500, as the Lua error it is on Kong', async () => {
    const node = await kong({ database: 'postgres', edition: 'enterprise', keyring: true })
    for (const body of ['', 'data=not%20base64!']) {
      const res = await post(`${node.adminUrl}/keyring/import`, body, 'application/x-www-form-urlencoded')
      expect(res.status).toBe(500)
      expect(res.json).toEqual({ message: 'An unexpected error occurred' })
    }
    expect(node.keyringImports).toEqual([])
  })

  test('community Kong has no keyring endpoints; Enterprise without a keyring cannot import', async () => {
    const community = await kong({ database: 'postgres', keyring: true })
    const data = keyringExportData(['aaaa1111'])
    const form = new URLSearchParams({ data }).toString()
    expect((await call(`${community.adminUrl}/keyring`)).json).toEqual({ message: 'Not found' })
    const refused = await post(
      `${community.adminUrl}/keyring/import`,
      form,
      'application/x-www-form-urlencoded',
    )
    expect(refused.status).toBe(404)
    expect(refused.json).toEqual({ message: 'Not found' })

    const enterprise = await kong({ database: 'postgres', edition: 'enterprise' })
    expect((await call(`${enterprise.adminUrl}/keyring`)).json).toEqual({ ids: {} })
    expect(
      (await post(`${enterprise.adminUrl}/keyring/import`, form, 'application/x-www-form-urlencoded')).status,
    ).toBe(500)
    expect(enterprise.keyringImports).toEqual([])
  })
})

describe('proxy', () => {
  test('database mode: routes by path prefix, methods and hosts; key-auth; no match is 404', async () => {
    const routes: ProxyRoute[] = [
      { paths: ['/cart'] },
      { paths: ['/cart/checkout'], methods: ['POST'] },
      { paths: ['/private'], keyAuth: true },
      { paths: ['/partner'], keyAuth: true, apiKeys: ['good'] },
      { paths: ['/'], hosts: ['api.example.com'] },
    ]
    const node = await kong({ database: 'postgres', routes: () => routes })

    const cart = await call(`${node.proxyUrl}/cart/items?x=1`)
    expect(cart.status).toBe(200)
    expect(cart.json).toEqual({ route: '/cart' })
    expect((await call(`${node.proxyUrl}/cart/checkout`)).json).toEqual({ route: '/cart' })
    expect((await call(`${node.proxyUrl}/cart/checkout`, { method: 'POST' })).json).toEqual({
      route: '/cart/checkout',
    })

    const none = await call(`${node.proxyUrl}/nowhere`)
    expect(none.status).toBe(404)
    expect(none.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(none.headers.get('server')).toBe('kong/3.9.3')
    expect(none.json).toEqual({
      message: 'no Route matched with those values',
      request_id: expect.any(String),
    })
    const plain = await call(`${node.proxyUrl}/nowhere`, { headers: { Accept: 'text/plain' } })
    expect(plain.text).toMatch(/^no Route matched with those values\nrequest_id: [0-9a-f]{32}\n$/)

    const noKey = await call(`${node.proxyUrl}/private`)
    expect(noKey.status).toBe(401)
    expect(noKey.headers.get('www-authenticate')).toBe('Key')
    expect(noKey.json.message).toBe('No API key found in request')
    expect((await call(`${node.proxyUrl}/private`, { headers: { apikey: 'any' } })).status).toBe(200)
    expect((await call(`${node.proxyUrl}/private?apikey=any`)).status).toBe(200)
    const wrongKey = await call(`${node.proxyUrl}/partner`, { headers: { apikey: 'bad' } })
    expect(wrongKey.status).toBe(401)
    expect(wrongKey.json.message).toBe('Unauthorized')
    expect((await call(`${node.proxyUrl}/partner?apikey=good`)).status).toBe(200)

    expect(await getWithHost(`${node.proxyUrl}/other`, 'api.example.com')).toEqual({
      status: 200,
      body: JSON.stringify({ route: '/' }),
    })
    expect((await getWithHost(`${node.proxyUrl}/other`, 'else.example.com')).status).toBe(404)

    // Without cacheRoutes the database is read on every request.
    routes.push({ paths: ['/new'] })
    expect((await call(`${node.proxyUrl}/new`)).status).toBe(200)
  })

  test('cacheRoutes: a route added to the database is served only after a restart', async () => {
    const routes: ProxyRoute[] = [{ paths: ['/old'] }]
    let reads = 0
    const node = await kong({
      database: 'postgres',
      cacheRoutes: true,
      routes: async () => {
        reads++
        return routes
      },
    })
    expect(reads).toBe(1)
    routes.push({ paths: ['/restored'] })
    expect((await call(`${node.proxyUrl}/old`)).status).toBe(200)
    expect((await call(`${node.proxyUrl}/restored`)).status).toBe(404)
    expect(reads).toBe(1)
    await node.restart()
    expect(reads).toBe(2)
    expect((await call(`${node.proxyUrl}/restored`)).json).toEqual({ route: '/restored' })
  })

  test('DB-less: routes of the loaded configuration, key-auth against its credentials', async () => {
    const node = await kong({ database: 'off' })
    expect((await call(`${node.proxyUrl}/cart`)).status).toBe(404)
    expect((await post(`${node.adminUrl}/config`, SHOP, 'text/yaml')).status).toBe(201)

    expect((await call(`${node.proxyUrl}/cart/1`)).json).toEqual({ route: '/cart' })
    expect((await call(`${node.proxyUrl}/admin`)).status).toBe(404) // POST only
    const admin = `${node.proxyUrl}/admin`
    expect((await call(admin, { method: 'POST' })).json.message).toBe('No API key found in request')
    expect((await call(admin, { method: 'POST', headers: { apikey: 'nope' } })).json.message).toBe(
      'Unauthorized',
    )
    expect((await call(admin, { method: 'POST', headers: { apikey: 'alice-key' } })).json).toEqual({
      route: '/admin',
    })
    // A service-wide plugin covers every route of the service.
    const serviceWide = SHOP.replace('        route: admin\n', '')
    expect((await post(`${node.adminUrl}/config`, serviceWide, 'text/yaml')).status).toBe(201)
    expect((await call(`${node.proxyUrl}/cart`)).status).toBe(401)
  })
})

describe('restart and stop', () => {
  test('restart: a new node_id, an empty keyring, a DB-less node forgets its configuration', async () => {
    const node = await kong({ database: 'off', edition: 'enterprise', keyring: true, bootMs: 300 })
    await untilUp(node.adminUrl)
    const before = node.nodeId
    expect((await post(`${node.adminUrl}/config`, SHOP, 'text/yaml')).status).toBe(201)
    const data = keyringExportData(['aaaa1111'])
    await post(
      `${node.adminUrl}/keyring/import`,
      new URLSearchParams({ data }).toString(),
      'application/x-www-form-urlencoded',
    )
    expect((await call(`${node.adminUrl}/keyring`)).json).toEqual({ ids: ['aaaa1111'], active: 'aaaa1111' })

    await node.restart()
    expect(node.nodeId).not.toBe(before)
    expect(node.nodeId).toMatch(UUID)
    // It boots again.
    await expect(fetch(`${node.adminUrl}/`)).rejects.toThrow()
    const { answer } = await untilUp(`${node.adminUrl}/`)
    expect(answer.json.node_id).toBe(node.nodeId)

    expect((await call(`${node.adminUrl}/keyring`)).json).toEqual({ ids: {} })
    expect(node.currentConfig()).toBeNull()
    expect((await call(`${node.adminUrl}/status`)).json.configuration_hash).toBe(EMPTY_CONFIG_HASH)
    expect(parseYaml((await call(`${node.adminUrl}/config`)).json.config as string)).toEqual({
      _format_version: '3.0',
      _transform: false,
    })
    expect((await call(`${node.proxyUrl}/cart`)).status).toBe(404)
    // What happened before the restart stays on record.
    expect(node.configLoads).toBe(1)
    expect(node.keyringImports).toEqual([data])
  })

  test('stop closes both servers and may be called twice', async () => {
    const node = await startKongStandIn({ database: 'postgres' })
    expect((await call(node.adminUrl)).status).toBe(200)
    await node.stop()
    await node.stop()
    await expect(fetch(node.adminUrl)).rejects.toThrow()
    await expect(fetch(node.proxyUrl)).rejects.toThrow()
  })
})

describe('GET /schemas/...', () => {
  const fixture = (file: string) =>
    JSON.parse(readFileSync(new URL(`./fixtures/kong-schemas/${file}`, import.meta.url), 'utf8')) as unknown
  const httpLog = fixture('plugins/http-log.json')
  const hcv = fixture('vaults/hcv.json')
  const certificates = fixture('entities/certificates.json')
  const filter = { type: 'object', properties: { header: { type: 'string' } } }

  test('plugins, vaults, entities and filters: 200 with the schema as given, as Kong encodes it; recorded', async () => {
    const node = await kong({
      database: 'postgres',
      schemas: {
        plugins: { 'http-log': httpLog },
        vaults: { hcv },
        entities: { certificates },
        filters: { 'add-header': filter },
      },
    })
    const plugin = await call(`${node.adminUrl}/schemas/plugins/http-log`)
    expect(plugin.status).toBe(200)
    expect(plugin.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(plugin.headers.get('server')).toBe('kong/3.9.3')
    expect(plugin.json).toEqual(httpLog)
    // cjson escapes the slashes of the descriptions, as Kong's answers do.
    expect(plugin.text).toContain('https:\\/\\/example.com\\/path')
    const config = (plugin.json.fields as Record<string, { fields: Record<string, unknown>[] }>[])[1]?.config
    expect(config?.fields[0]).toMatchObject({
      http_endpoint: { type: 'string', required: true, encrypted: true, referenceable: true },
    })

    const vault = await call(`${node.adminUrl}/schemas/vaults/hcv`)
    expect([vault.status, vault.json]).toEqual([200, hcv])
    const entity = await call(`${node.adminUrl}/schemas/certificates`)
    expect([entity.status, entity.json]).toEqual([200, certificates])
    // A trailing slash is the same path, as elsewhere.
    expect((await call(`${node.adminUrl}/schemas/certificates/`)).json).toEqual(certificates)
    const wasm = await call(`${node.adminUrl}/schemas/filters/add-header`)
    expect([wasm.status, wasm.json]).toEqual([200, filter])

    expect(node.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /schemas/plugins/http-log',
      'GET /schemas/vaults/hcv',
      'GET /schemas/certificates',
      'GET /schemas/certificates/',
      'GET /schemas/filters/add-header',
    ])
  })

  test('unknown names: 404 in the words of kong/api/routes/kong.lua; no route: Not found; the name decoded', async () => {
    const node = await kong({
      database: 'off',
      schemas: { plugins: { 'http-log': httpLog }, entities: { certificates } },
    })
    const answers: Record<string, [number, unknown]> = {}
    for (const path of [
      '/schemas/plugins/acme-corp-signer',
      '/schemas/vaults/hcv',
      '/schemas/services',
      '/schemas/constructor',
      '/schemas/plugins',
      '/schemas/filters/add-header',
      '/schemas/plugins/acme%20corp',
      '/schemas/partials/redis-ee',
      '/schemas',
      '/schemas/plugins/http-log/extra',
    ]) {
      const answer = await call(`${node.adminUrl}${path}`)
      answers[path] = [answer.status, answer.json]
    }
    expect(answers).toEqual({
      '/schemas/plugins/acme-corp-signer': [404, { message: "No plugin named 'acme-corp-signer'" }],
      '/schemas/vaults/hcv': [404, { message: "No vault named 'hcv'" }],
      '/schemas/services': [404, { message: "No entity named 'services'" }],
      '/schemas/constructor': [404, { message: "No entity named 'constructor'" }],
      // /schemas/plugins is the {entity} route: the plugins entity's schema, not given here.
      '/schemas/plugins': [404, { message: "No entity named 'plugins'" }],
      '/schemas/filters/add-header': [404, { message: "Filter 'add-header' not found" }],
      '/schemas/plugins/acme%20corp': [404, { message: "No plugin named 'acme corp'" }],
      '/schemas/partials/redis-ee': [404, { message: 'Not found' }],
      '/schemas': [404, { message: 'Not found' }],
      '/schemas/plugins/http-log/extra': [404, { message: 'Not found' }],
    })
    expect(node.requests.map((r) => r.path)).toEqual(Object.keys(answers))
  })

  test('the schema routes take GET only; the /validate paths are known but not emulated: 405', async () => {
    const node = await kong({ database: 'postgres', schemas: { plugins: { 'http-log': httpLog } } })
    const notAllowed = { message: 'Method not allowed' }
    const post = await call(`${node.adminUrl}/schemas/plugins/http-log`, { method: 'POST' })
    expect([post.status, post.json]).toEqual([405, notAllowed])
    for (const path of [
      '/schemas/plugins/validate',
      '/schemas/vaults/validate',
      '/schemas/services/validate',
    ]) {
      const answer = await call(`${node.adminUrl}${path}`)
      expect([path, answer.status, answer.json]).toEqual([path, 405, notAllowed])
    }
  })

  test('with RBAC, schemas need the admin token too', async () => {
    const node = await kong({
      database: 'postgres',
      edition: 'enterprise',
      adminToken: 's3cret',
      schemas: { plugins: { 'http-log': httpLog } },
    })
    const denied = await call(`${node.adminUrl}/schemas/plugins/http-log`)
    expect([denied.status, denied.json]).toEqual([401, { message: 'Invalid RBAC credentials' }])
    const allowed = await call(`${node.adminUrl}/schemas/plugins/http-log`, {
      headers: { 'Kong-Admin-Token': 's3cret' },
    })
    expect([allowed.status, allowed.headers.get('server'), allowed.json]).toEqual([
      200,
      'kong/3.10.0.0-enterprise-edition',
      httpLog,
    ])
  })
})
