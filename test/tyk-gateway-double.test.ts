// The Tyk Gateway stand-in itself: that its control API answers as Tyk 5.x does, over real HTTP, before the
// Tyk support of deckhand is tested against it. Unless a test says otherwise the gateway is v5.8.1 with
// policies.policy_path set, the configuration under which its Gateway API manages policies.
import { afterEach, describe, expect, test } from '@jest/globals'

import { startTykStandIn, type TykStandIn, type TykStandInOptions } from './support/tyk-gateway.js'

const SECRET = 'stand-in-secret-5f1c'
const AUTH = { 'x-tyk-authorization': SECRET }

const started: TykStandIn[] = []
afterEach(async () => {
  for (const gateway of started.splice(0)) await gateway.close()
})

const POLICY_PATH = '/opt/tyk-gateway/policies'

async function tyk(options: Partial<TykStandInOptions> = {}): Promise<TykStandIn> {
  const gateway = await startTykStandIn({ secret: SECRET, conf: { policyPath: POLICY_PATH }, ...options })
  started.push(gateway)
  return gateway
}

interface Answer {
  status: number
  headers: Headers
  text: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any
}

/** A request with the secret unless headers are given; a body object is sent as JSON, a string as is. */
async function call(
  gateway: TykStandIn,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = AUTH,
): Promise<Answer> {
  const res = await fetch(gateway.url + path, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await res.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, text, json }
}

/** Waits (without a deadline of its own: Jest's test timeout is the limit) until `count` reloads have run. */
async function reloaded(gateway: TykStandIn, count: number): Promise<void> {
  while (gateway.reloads < count) await new Promise((resolve) => setTimeout(resolve, 5))
}

const error = (message: string) => ({ status: 'error', message })
const HEX32 = /^[0-9a-f]{32}$/

const classic = (id: string, listenPath = `/${id}/`) => ({
  api_id: id,
  name: id,
  proxy: { listen_path: listenPath, target_url: 'http://upstream.internal' },
  active: true,
})

const oas = (id: string | undefined, listenPath = `/${id ?? 'new'}/`) => ({
  openapi: '3.0.3',
  info: { title: `OAS ${id}`, version: '1.0.0' },
  paths: {},
  'x-tyk-api-gateway': {
    info: { ...(id === undefined ? {} : { id }), name: `OAS ${id}`, state: { active: true } },
    upstream: { url: 'http://oas-upstream.internal' },
    server: { listenPath: { value: listenPath, strip: true } },
  },
})

const policy = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: `policy ${id}`,
  rate: 100,
  per: 60,
  access_rights: {},
  ...extra,
})

describe('authentication and routing', () => {
  test('every /tyk/ path needs the secret: missing or wrong is 403', async () => {
    const gateway = await tyk({ apis: [classic('a')] })
    const forbidden = error('Attempted administrative access with invalid or missing key!')
    const wrong: Record<string, string>[] = [{}, { 'x-tyk-authorization': 'wrong' }]
    for (const headers of wrong) {
      for (const [method, path] of [
        ['GET', '/tyk/apis'],
        ['DELETE', '/tyk/apis/a'],
        ['GET', '/tyk/reload/group'],
        ['GET', '/tyk/nowhere'],
      ] as const) {
        const res = await call(gateway, method, path, undefined, headers)
        expect(res.status).toBe(403)
        expect(res.json).toEqual(forbidden)
      }
    }
    expect(gateway.files().apis.has('a')).toBe(true)
    expect(gateway.reloads).toBe(0)
  })

  test('GET /hello needs no secret', async () => {
    const gateway = await tyk()
    const res = await call(gateway, 'GET', '/hello', undefined, {})
    expect(res.status).toBe(200)
    expect(res.json).toEqual({
      status: 'pass',
      version: 'v5.8.1',
      description: 'Tyk GW',
      details: { redis: { status: 'pass', componentType: 'datastore', time: expect.any(String) } },
    })
    expect(new Date(res.json.details.redis.time as string).toISOString()).toBe(res.json.details.redis.time)
  })

  test('JSON and a newline, application/json; trailing slashes stripped; 405 and 404', async () => {
    const gateway = await tyk({ apis: [classic('a')] })
    const list = await call(gateway, 'GET', '/tyk/apis/')
    expect(list.status).toBe(200)
    expect(list.headers.get('content-type')).toBe('application/json')
    expect(list.text.endsWith('}]\n')).toBe(true)
    expect((await call(gateway, 'GET', '/tyk/apis/a//')).json.api_id).toBe('a')

    const notAllowed = await call(gateway, 'PATCH', '/tyk/apis')
    expect(notAllowed.status).toBe(405)
    expect(notAllowed.json).toEqual(error('Method not supported'))
    expect(notAllowed.text).toBe('{"status":"error","message":"Method not supported"}\n')
    expect((await call(gateway, 'POST', '/tyk/reload')).status).toBe(405)
    expect((await call(gateway, 'DELETE', '/hello', undefined, {})).status).toBe(405)

    expect((await call(gateway, 'GET', '/tyk/keys')).status).toBe(404)
    expect((await call(gateway, 'GET', '/elsewhere', undefined, {})).status).toBe(404)
  })

  test('like Go, the JSON escapes <, > and &', async () => {
    const gateway = await tyk({ apis: [{ ...classic('a'), name: 'R&D <internal>' }] })
    const res = await call(gateway, 'GET', '/tyk/apis/a')
    expect(res.text).toContain('"name":"R\\u0026D \\u003cinternal\\u003e"')
    expect(res.json.name).toBe('R&D <internal>')
  })

  test('the request log has method, path and whether the secret matched, never the secret', async () => {
    const gateway = await tyk()
    await call(gateway, 'GET', '/hello', undefined, {})
    await call(gateway, 'GET', '/tyk/apis', undefined, { 'x-tyk-authorization': 'wrong' })
    await call(gateway, 'POST', '/tyk/policies', policy('p'))
    await call(gateway, 'GET', '/tyk/reload?block=true')
    expect(gateway.requests).toEqual([
      { method: 'GET', path: '/hello', authorized: false },
      { method: 'GET', path: '/tyk/apis', authorized: false },
      { method: 'POST', path: '/tyk/policies', authorized: true },
      { method: 'GET', path: '/tyk/reload?block=true', authorized: true },
    ])
    expect(JSON.stringify(gateway.requests)).not.toContain(SECRET)
  })
})

describe('reloads', () => {
  test('a created API is served only after a reload', async () => {
    const gateway = await tyk()
    const created = await call(gateway, 'POST', '/tyk/apis', classic('fresh'))
    expect(created.status).toBe(200)
    expect(created.json).toEqual({ key: 'fresh', status: 'ok', action: 'added' })
    expect(gateway.files().apis.get('fresh')).toEqual(classic('fresh'))

    expect((await call(gateway, 'GET', '/tyk/apis')).json).toEqual([])
    const missing = await call(gateway, 'GET', '/tyk/apis/fresh')
    expect(missing.status).toBe(404)
    expect(missing.json).toEqual(error('API not found'))
    // PUT and DELETE look at what is loaded, not at the files.
    const put = await call(gateway, 'PUT', '/tyk/apis/fresh', classic('fresh', '/other/'))
    expect(put.status).toBe(404)
    expect(put.json).toEqual(error('API not found'))
    expect((await call(gateway, 'DELETE', '/tyk/apis/fresh')).status).toBe(404)

    const reload = await call(gateway, 'GET', '/tyk/reload/group')
    expect(reload.status).toBe(200)
    expect(reload.json).toEqual({ status: 'ok', message: '' })
    await reloaded(gateway, 1)
    expect((await call(gateway, 'GET', '/tyk/apis')).json).toEqual([classic('fresh')])
    expect((await call(gateway, 'GET', '/tyk/apis/fresh')).json).toEqual(classic('fresh'))
    expect(gateway.loaded().apis).toEqual([classic('fresh')])
  })

  test('the reload answers before it happens; /tyk/reload?block=true only after', async () => {
    // A delay no test waits for: only reloadNow or a blocking reload make the write visible.
    const gateway = await tyk({ reloadDelayMs: 600_000 })
    await call(gateway, 'POST', '/tyk/policies', policy('p'))
    for (const path of ['/tyk/reload/group', '/tyk/reload']) {
      const res = await call(gateway, 'GET', path)
      expect(res.json).toEqual({ status: 'ok', message: '' })
      expect(gateway.reloads).toBe(0)
    }
    expect((await call(gateway, 'GET', '/tyk/policies')).json).toEqual([])
    gateway.reloadNow()
    expect(gateway.reloads).toBe(1)
    expect((await call(gateway, 'GET', '/tyk/policies')).json).toEqual([{ ...policy('p'), _id: '' }])

    const quick = await tyk()
    await call(quick, 'POST', '/tyk/policies', policy('q'))
    const blocking = await call(quick, 'GET', '/tyk/reload?block=true')
    expect(blocking.json).toEqual({ status: 'ok', message: '' })
    expect(quick.reloads).toBe(1)
    expect((await call(quick, 'GET', '/tyk/policies/q')).json.id).toBe('q')
  })

  test('failReload: /tyk/reload/group is a 500 and nothing is reloaded', async () => {
    const gateway = await tyk({ failReload: true })
    await call(gateway, 'POST', '/tyk/apis', classic('a'))
    const res = await call(gateway, 'GET', '/tyk/reload/group')
    expect(res.status).toBe(500)
    expect(res.json).toEqual(error('reload failed'))
    expect(gateway.reloads).toBe(0)
    expect(gateway.loaded().apis).toEqual([])
  })

  test('failNext fails the next matching request once, changing nothing', async () => {
    const gateway = await tyk()
    gateway.failNext('post', '/tyk/policies', 500, 'Failed to create file!')
    const failed = await call(gateway, 'POST', '/tyk/policies/', policy('p'))
    expect(failed.status).toBe(500)
    expect(failed.json).toEqual(error('Failed to create file!'))
    expect(gateway.files().policies.size).toBe(0)
    expect((await call(gateway, 'POST', '/tyk/policies', policy('p'))).status).toBe(200)
    expect(gateway.files().policies.has('p')).toBe(true)
  })
})

describe('classic APIs', () => {
  test('the list holds every loaded API, OAS ones in classic form with is_oas', async () => {
    const gateway = await tyk({ apis: [classic('a')], oasApis: [oas('o', '/o/')] })
    const list = await call(gateway, 'GET', '/tyk/apis')
    expect(list.json).toHaveLength(2)
    expect(list.json).toEqual(
      expect.arrayContaining([
        classic('a'),
        {
          api_id: 'o',
          name: 'OAS o',
          is_oas: true,
          proxy: { listen_path: '/o/', target_url: 'http://oas-upstream.internal' },
          active: true,
          org_id: '',
        },
      ]),
    )
    expect((await call(gateway, 'GET', '/tyk/apis/o')).json).toMatchObject({ api_id: 'o', is_oas: true })
  })

  test('POST: malformed bodies, the listen path, a generated id, is_oas dropped, no duplicate check', async () => {
    const gateway = await tyk({ apis: [classic('a')] })
    for (const body of ['{"api_id":', '[]', '"text"', '{"api_id":7}', '']) {
      const res = await call(gateway, 'POST', '/tyk/apis', body)
      expect(res.status).toBe(400)
      expect(res.json).toEqual(error('Request malformed'))
    }
    for (const proxy of [undefined, {}, { listen_path: '' }, { listen_path: 5 }]) {
      const res = await call(gateway, 'POST', '/tyk/apis', { api_id: 'x', proxy })
      expect(res.status).toBe(400)
      expect(res.json).toEqual(error('Validation of API Definition failed. Reason: listen path is empty.'))
    }
    expect(gateway.files().apis.has('x')).toBe(false)

    const { api_id: _, ...withoutId } = classic('anon')
    const generated = await call(gateway, 'POST', '/tyk/apis', { ...withoutId, is_oas: true })
    expect(generated.json).toEqual({ key: expect.stringMatching(HEX32), status: 'ok', action: 'added' })
    const stored = gateway.files().apis.get(generated.json.key as string)
    expect(stored).toEqual({ ...withoutId, api_id: generated.json.key })
    expect(stored).not.toHaveProperty('is_oas')

    // An existing id is overwritten, and still "added"; the path id of POST /tyk/apis/{id} is ignored.
    const again = await call(gateway, 'POST', '/tyk/apis/ignored', classic('a', '/moved/'))
    expect(again.json).toEqual({ key: 'a', status: 'ok', action: 'added' })
    expect(gateway.files().apis.get('a')).toEqual(classic('a', '/moved/'))
    expect(gateway.files().apis.has('ignored')).toBe(false)
  })

  test('PUT: the ids must match, an OAS API is refused, then the file is replaced', async () => {
    const gateway = await tyk({ apis: [classic('a')], oasApis: [oas('o')] })
    const mismatch = error(
      'Request APIID does not match that in Definition! For Update operations these must match.',
    )
    for (const body of [classic('b'), { ...classic('a'), api_id: '' }, { proxy: { listen_path: '/a/' } }]) {
      const res = await call(gateway, 'PUT', '/tyk/apis/a', body)
      expect(res.status).toBe(400)
      expect(res.json).toEqual(mismatch)
    }
    const onOas = await call(gateway, 'PUT', '/tyk/apis/o', { ...classic('o'), is_oas: false })
    expect(onOas.status).toBe(400)
    expect(onOas.json).toEqual(
      error(
        'this API endpoint only supports Tyk Classic APIs; please use the appropriate Tyk OAS API endpoint',
      ),
    )
    expect((await call(gateway, 'PUT', '/tyk/apis/nope', classic('nope'))).json).toEqual(
      error('API not found'),
    )
    expect((await call(gateway, 'PUT', '/tyk/apis/a', 'not json')).json).toEqual(error('Request malformed'))

    const updated = await call(gateway, 'PUT', '/tyk/apis/a/', classic('a', '/v2/'))
    expect(updated.json).toEqual({ key: 'a', status: 'ok', action: 'modified' })
    expect(gateway.files().apis.get('a')).toEqual(classic('a', '/v2/'))
    // Still the old definition until a reload.
    expect((await call(gateway, 'GET', '/tyk/apis/a')).json).toEqual(classic('a'))
  })

  test('DELETE: 404 when not loaded, 500 when the file is already gone, both files of an OAS API', async () => {
    const gateway = await tyk({ apis: [classic('a')], oasApis: [oas('o')] })
    expect(await call(gateway, 'DELETE', '/tyk/apis/nope')).toMatchObject({
      status: 404,
      json: error('API not found'),
    })
    expect((await call(gateway, 'DELETE', '/tyk/apis/a')).json).toEqual({
      key: 'a',
      status: 'ok',
      action: 'deleted',
    })
    expect(gateway.files().apis.has('a')).toBe(false)
    // Still loaded, but its file is gone.
    expect(await call(gateway, 'DELETE', '/tyk/apis/a')).toMatchObject({
      status: 500,
      json: error('Delete failed'),
    })

    expect((await call(gateway, 'DELETE', '/tyk/apis/o')).json.action).toBe('deleted')
    expect(gateway.files().apis.has('o')).toBe(false)
    expect(gateway.files().oas.has('o')).toBe(false)

    await call(gateway, 'GET', '/tyk/reload?block=true')
    expect((await call(gateway, 'GET', '/tyk/apis')).json).toEqual([])
  })
})

describe('OAS APIs', () => {
  test('the list holds the loaded documents only, [] when none; GET one by id', async () => {
    const none = await tyk({ apis: [classic('a')] })
    const empty = await call(none, 'GET', '/tyk/apis/oas')
    expect(empty.text).toBe('[]\n')

    const gateway = await tyk({ apis: [classic('a')], oasApis: [oas('o'), oas('p')] })
    const list = await call(gateway, 'GET', '/tyk/apis/oas/')
    expect(list.json).toHaveLength(2)
    expect(list.json).toEqual(expect.arrayContaining([oas('o'), oas('p')]))
    expect((await call(gateway, 'GET', '/tyk/apis/oas/o')).json).toEqual(oas('o'))
    expect(gateway.loaded().oasApis).toHaveLength(2)
    expect(gateway.loaded().apis).toEqual([classic('a')])
  })

  test('GET of a classic API is a 400, of a missing one a 404', async () => {
    const gateway = await tyk({ apis: [classic('a')] })
    expect(await call(gateway, 'GET', '/tyk/apis/oas/a')).toMatchObject({
      status: 400,
      json: error('the requested API definition is in Tyk classic format, please use old api endpoint'),
    })
    expect(await call(gateway, 'GET', '/tyk/apis/oas/nope')).toMatchObject({
      status: 404,
      json: error('API not found'),
    })
  })

  test('POST: x-tyk-api-gateway required, a generated id, the API URL put first in servers', async () => {
    const gateway = await tyk()
    const { 'x-tyk-api-gateway': _, ...plain } = oas('o')
    expect(await call(gateway, 'POST', '/tyk/apis/oas', plain)).toMatchObject({
      status: 400,
      json: error('the payload should contain x-tyk-api-gateway'),
    })
    expect((await call(gateway, 'POST', '/tyk/apis/oas', '{')).json).toEqual(error('Request malformed'))

    const created = await call(gateway, 'POST', '/tyk/apis/oas', oas(undefined, '/fresh/'))
    expect(created.json).toEqual({ key: expect.stringMatching(HEX32), status: 'ok', action: 'added' })
    const id = created.json.key as string
    const doc = gateway.files().oas.get(id) as ReturnType<typeof oas> & { servers: unknown }
    expect(doc['x-tyk-api-gateway'].info.id).toBe(id)
    // gateway/util.go getAPIURL: tyk.conf's host (127.0.0.1 when unset) and listen_port, not the request's.
    expect(doc.servers).toEqual([{ url: 'http://127.0.0.1:8080/fresh/' }])
    expect(gateway.files().apis.get(id)).toMatchObject({ api_id: id, is_oas: true })

    const own = { ...oas('mine'), servers: [{ url: 'https://api.example.com/mine/' }] }
    expect((await call(gateway, 'POST', '/tyk/apis/oas', own)).json.key).toBe('mine')
    const stored = { ...own, servers: [{ url: 'http://127.0.0.1:8080/mine/' }, ...own.servers] }
    expect(gateway.files().oas.get('mine')).toEqual(stored)

    // Invisible until a reload, then in both lists.
    expect((await call(gateway, 'GET', '/tyk/apis/oas')).json).toEqual([])
    await call(gateway, 'GET', '/tyk/reload?block=true')
    expect((await call(gateway, 'GET', '/tyk/apis/oas/mine')).json).toEqual(stored)
    expect((await call(gateway, 'GET', '/tyk/apis')).json).toHaveLength(2)
  })

  test('PUT: 404 when not loaded, 400 for a classic API or another id, then both files replaced', async () => {
    const gateway = await tyk({ apis: [classic('a')], oasApis: [oas('o')] })
    expect(await call(gateway, 'PUT', '/tyk/apis/oas/nope', oas('nope'))).toMatchObject({
      status: 404,
      json: error('API not found'),
    })
    expect(await call(gateway, 'PUT', '/tyk/apis/oas/a', oas('a'))).toMatchObject({
      status: 400,
      json: error(
        'the supplied API definition is in OAS format, please use the Tyk classic format for this API',
      ),
    })
    const mismatch = error(
      'Request APIID does not match that in Definition! For Update operations these must match.',
    )
    for (const body of [oas('other'), oas(undefined)])
      expect(await call(gateway, 'PUT', '/tyk/apis/oas/o', body)).toMatchObject({
        status: 400,
        json: mismatch,
      })

    const changed = oas('o', '/o-v2/')
    expect((await call(gateway, 'PUT', '/tyk/apis/oas/o', changed)).json).toEqual({
      key: 'o',
      status: 'ok',
      action: 'modified',
    })
    expect(gateway.files().oas.get('o')).toMatchObject(changed)
    expect(gateway.files().apis.get('o')).toMatchObject({ proxy: { listen_path: '/o-v2/' } })
    expect((await call(gateway, 'GET', '/tyk/apis/oas/o')).json).toEqual(oas('o'))
  })

  test('DELETE /tyk/apis/oas/{id} deletes either kind', async () => {
    const gateway = await tyk({ apis: [classic('a')], oasApis: [oas('o')] })
    expect((await call(gateway, 'DELETE', '/tyk/apis/oas/a')).json.action).toBe('deleted')
    expect((await call(gateway, 'DELETE', '/tyk/apis/oas/o')).json.action).toBe('deleted')
    expect((await call(gateway, 'DELETE', '/tyk/apis/oas/o')).json).toEqual(error('Delete failed'))
    expect((await call(gateway, 'DELETE', '/tyk/apis/oas/nope')).status).toBe(404)
    expect(gateway.files()).toMatchObject({ apis: new Map(), oas: new Map(), mcp: new Map() })
  })
})

describe('policies', () => {
  test('list ([] when none) and GET one come from memory', async () => {
    const none = await tyk()
    expect((await call(none, 'GET', '/tyk/policies')).text).toBe('[]\n')

    const gateway = await tyk({ policies: [policy('gold'), policy('silver', { _id: '' })] })
    const list = await call(gateway, 'GET', '/tyk/policies')
    expect(list.json).toHaveLength(2)
    expect(list.json).toEqual(expect.arrayContaining([{ ...policy('gold'), _id: '' }]))
    expect((await call(gateway, 'GET', '/tyk/policies/silver')).json.id).toBe('silver')
    expect(await call(gateway, 'GET', '/tyk/policies/bronze')).toMatchObject({
      status: 404,
      json: error('Policy not found'),
    })
  })

  test('POST: malformed bodies and _id; v5.8.1 writes even a policy without an id', async () => {
    const gateway = await tyk()
    for (const body of ['{', '[]', { ...policy('p'), _id: 'not-an-object-id' }, { ...policy('p'), _id: 12 }])
      expect(await call(gateway, 'POST', '/tyk/policies', body)).toMatchObject({
        status: 400,
        json: error('Request malformed'),
      })
    expect(gateway.files().policies.size).toBe(0)
    // gateway/api.go handleAddOrUpdatePolicy, Tyk v5.8.1: no id check at all, the file is ".json".
    expect((await call(gateway, 'POST', '/tyk/policies', { name: 'no id' })).json).toEqual({
      key: '',
      status: 'ok',
      action: 'added',
    })
    expect(gateway.files().policies.get('')).toEqual({ name: 'no id', id: '', _id: '' })

    const stamped = policy('v1.gold_~-', { last_updated: '1700000000' })
    expect((await call(gateway, 'POST', '/tyk/policies', stamped)).json.key).toBe('v1.gold_~-')
    expect(gateway.files().policies.get('v1.gold_~-')).toEqual({ ...stamped, _id: '' })
    // No duplicate check.
    expect((await call(gateway, 'POST', '/tyk/policies', stamped)).json.action).toBe('added')
  })

  test('POST on v5.13.0: the id or its _id fallback, and allowed characters', async () => {
    const gateway = await tyk({ version: 'v5.13.0' })
    expect(await call(gateway, 'POST', '/tyk/policies', { name: 'no id', _id: null })).toMatchObject({
      status: 400,
      json: error('Unable to create policy without id.'),
    })
    for (const id of ['a/b', 'with space', 'żuk'])
      expect(await call(gateway, 'POST', '/tyk/policies', policy(id))).toMatchObject({
        status: 400,
        json: error('Invalid Policy ID: Allowed characters: a-z, A-Z, 0-9, ., _, -, ~'),
      })
    expect(gateway.files().policies.size).toBe(0)

    const mongoId = '5f8d0d55b54764421b7156c9'
    expect((await call(gateway, 'POST', '/tyk/policies', { name: 'legacy', _id: mongoId })).json).toEqual({
      key: mongoId,
      status: 'ok',
      action: 'added',
    })
    expect(gateway.files().policies.get(mongoId)).toEqual({ name: 'legacy', _id: mongoId, id: mongoId })
  })

  test('PUT compares the ids only; DELETE looks at the file and is a 500 when it is missing', async () => {
    const gateway = await tyk({ policies: [policy('gold')] })
    const mismatch = error(
      'Request ID does not match that in policy! For Update operations these must match.',
    )
    for (const body of [policy('silver'), policy(''), { name: 'no id' }])
      expect(await call(gateway, 'PUT', '/tyk/policies/gold', body)).toMatchObject({
        status: 400,
        json: mismatch,
      })

    // A policy that does not exist is written all the same.
    expect((await call(gateway, 'PUT', '/tyk/policies/new', policy('new'))).json).toEqual({
      key: 'new',
      status: 'ok',
      action: 'modified',
    })
    expect(gateway.files().policies.get('new')).toEqual({ ...policy('new'), _id: '' })

    expect((await call(gateway, 'DELETE', '/tyk/policies/new')).json).toEqual({
      key: 'new',
      status: 'ok',
      action: 'deleted',
    })
    for (const id of ['new', 'never'])
      expect(await call(gateway, 'DELETE', `/tyk/policies/${id}`)).toMatchObject({
        status: 500,
        json: error('Delete failed'),
      })
    expect((await call(gateway, 'DELETE', '/tyk/policies/gold')).status).toBe(200)
    // Still loaded until a reload.
    expect((await call(gateway, 'GET', '/tyk/policies/gold')).status).toBe(200)
    gateway.reloadNow()
    expect((await call(gateway, 'GET', '/tyk/policies/gold')).status).toBe(404)
  })
})

describe('random order', () => {
  test('lists come in a new order each time, always holding the same set', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `id${i}`)
    const gateway = await tyk({
      apis: ids.map((id) => classic(id)),
      oasApis: ids.map((id) => oas(`oas-${id}`)),
      policies: ids.map((id) => policy(id)),
    })
    for (const [path, key] of [
      ['/tyk/apis', (item: { api_id: string }) => item.api_id],
      ['/tyk/apis/oas', (item: ReturnType<typeof oas>) => item['x-tyk-api-gateway'].info.id],
      ['/tyk/policies', (item: { id: string }) => item.id],
    ] as const) {
      let differed = false
      for (let i = 0; i < 10 && !differed; i++) {
        const first = ((await call(gateway, 'GET', path)).json as never[]).map(key)
        const second = ((await call(gateway, 'GET', path)).json as never[]).map(key)
        expect([...first].sort()).toEqual([...second].sort())
        expect(new Set(first).size).toBe(path === '/tyk/apis' ? 40 : 20)
        differed = first.join() !== second.join()
      }
      expect(differed).toBe(true)
    }
  })
})

describe('close', () => {
  test('close may be called twice, and also drops a pending reload', async () => {
    const gateway = await tyk({ reloadDelayMs: 600_000 })
    expect((await call(gateway, 'GET', '/tyk/reload/group')).status).toBe(200)
    await gateway.close()
    await gateway.close()
    expect(gateway.reloads).toBe(0)
    await expect(fetch(`${gateway.url}/hello`)).rejects.toThrow()
  })
})

describe('tyk.conf and releases', () => {
  const RECORD = '/opt/tyk-gateway/policies/policies.json'

  test('policy_path unset: writes go to the working directory and are never loaded; deletes are 500', async () => {
    const gateway = await tyk({ conf: { policyRecordName: RECORD }, policyRecord: { gold: policy('gold') } })
    expect((await call(gateway, 'POST', '/tyk/policies', policy('silver'))).json.action).toBe('added')
    expect(gateway.files().cwd.has('silver')).toBe(true)
    await call(gateway, 'GET', '/tyk/reload?block=true')
    expect(((await call(gateway, 'GET', '/tyk/policies')).json as { id: string }[]).map((p) => p.id)).toEqual(
      ['gold'],
    )
    expect(await call(gateway, 'DELETE', '/tyk/policies/gold')).toMatchObject({
      status: 500,
      json: error('Delete failed'),
    })
  })

  test('policies.json entries without id: listed with "id": "" before v5.12.0, with their key after', async () => {
    const entry = { name: 'Default', rate: 1000, per: 1, access_rights: {} }
    const old = await tyk({ conf: { policyRecordName: RECORD }, policyRecord: { default: entry } })
    expect((await call(old, 'GET', '/tyk/policies')).json).toEqual([{ ...entry, id: '', _id: '' }])
    expect((await call(old, 'GET', '/tyk/policies/default')).status).toBe(404)
    const recent = await tyk({
      version: 'v5.12.0',
      conf: { policyRecordName: RECORD },
      policyRecord: { default: entry },
    })
    expect((await call(recent, 'GET', '/tyk/policies')).json).toEqual([{ ...entry, id: 'default', _id: '' }])
  })

  test('app_path files of any name are loaded; writes and deletes use <api_id>.json', async () => {
    const gateway = await tyk({
      appFiles: { 'petstore.json': { ...classic('pets'), is_oas: true }, 'petstore-oas.json': oas('pets') },
    })
    expect((await call(gateway, 'GET', '/tyk/apis/oas/pets')).json).toEqual(oas('pets'))
    expect(await call(gateway, 'DELETE', '/tyk/apis/oas/pets')).toMatchObject({
      status: 500,
      json: error('Delete failed'),
    })
  })

  test('servers on update: v5.8.1 replaces only the first it put there, v5.11.0 regenerates', async () => {
    const own = { url: 'https://pets.example.com/v1' }
    const old = await tyk({ oasApis: [{ ...oas('o'), servers: [{ url: 'http://127.0.0.1:8080/o/' }, own] }] })
    await call(old, 'PUT', '/tyk/apis/oas/o', { ...oas('o'), servers: [own] })
    expect(old.files().oas.get('o')!.servers).toEqual([own])
    const recent = await tyk({ version: 'v5.11.0', oasApis: [oas('o')] })
    await call(recent, 'PUT', '/tyk/apis/oas/o', { ...oas('o'), servers: [own] })
    expect(recent.files().oas.get('o')!.servers).toEqual([
      { url: 'http://127.0.0.1:8080/o' },
      { url: '/o' },
      own,
    ])
  })

  test('env:// and secrets:// are resolved on load, in answers, never in the files', async () => {
    const gateway = await tyk({
      apis: [
        { ...classic('a'), proxy: { listen_path: '/a/', target_url: 'secrets://UP' }, name: 'env://NAME' },
      ],
      conf: { policyPath: POLICY_PATH, env: { NAME: 'resolved "name"' }, secrets: { UP: 'http://up:1' } },
    })
    expect((await call(gateway, 'GET', '/tyk/apis/a')).json).toMatchObject({
      name: 'resolved "name"',
      proxy: { target_url: 'http://up:1' },
    })
    expect(gateway.files().apis.get('a')).toMatchObject({ name: 'env://NAME' })
  })

  test('MCP proxies: /tyk/mcps from v5.12.0 only, left out of the OAS and classic lists', async () => {
    expect((await call(await tyk(), 'GET', '/tyk/mcps')).status).toBe(404)
    const gateway = await tyk({ version: 'v5.12.0', oasApis: [oas('o')], mcps: [oas('m')] })
    expect(((await call(gateway, 'GET', '/tyk/mcps')).json as unknown[]).length).toBe(1)
    expect(((await call(gateway, 'GET', '/tyk/apis/oas')).json as unknown[]).length).toBe(1)
    expect(((await call(gateway, 'GET', '/tyk/apis')).json as unknown[]).length).toBe(1)
    expect(((await call(gateway, 'GET', '/tyk/apis?include_types=mcp')).json as unknown[]).length).toBe(2)
    expect(await call(gateway, 'DELETE', '/tyk/mcps/o')).toMatchObject({
      status: 404,
      json: error('API is not an MCP Proxy'),
    })
    expect((await call(gateway, 'DELETE', '/tyk/mcps/m')).json.action).toBe('deleted')
    expect(gateway.files().mcp.size).toBe(0)
  })
})
