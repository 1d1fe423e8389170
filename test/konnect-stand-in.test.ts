import { afterEach, describe, expect, it } from '@jest/globals'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

import { type KonnectOptions, type KonnectStandIn, startKonnect } from './support/konnect.js'

const ADMIN = 'kpat_admin0000000000000000000000000000000000000000'
const CI = 'spat_ci000000000000000000000000000000000000000000000'

let konnect: KonnectStandIn | null = null

afterEach(async () => {
  await konnect?.stop()
  konnect = null
})

async function start(options: Partial<KonnectOptions> = {}): Promise<KonnectStandIn> {
  konnect = await startKonnect({ tokens: { [ADMIN]: {} }, ...options })
  return konnect
}

async function call(method: string, path: string, token: string | null = ADMIN, body?: unknown) {
  const headers: Record<string, string> = {}
  if (token) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(konnect!.url + path, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await res.text()
  // Bodies are checked field by field against the API's shapes.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: res.status, headers: res.headers, body: text === '' ? null : (JSON.parse(text) as any) }
}

describe('Konnect stand-in: control planes API v2', () => {
  it('creates a control plane (201) with the spec fields, and refuses a duplicate name (409)', async () => {
    await start()
    const created = await call('POST', '/v2/control-planes', ADMIN, {
      name: 'prod-eu',
      description: 'EU production',
      labels: { env: 'prod' },
    })
    expect(created.status).toBe(201)
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'prod-eu',
      description: 'EU production',
      labels: { env: 'prod' },
      config: {
        control_plane_endpoint: expect.stringMatching(/^https:\/\/[0-9a-f]{10}\.cp0\.konghq\.com$/),
        telemetry_endpoint: expect.stringMatching(/^https:\/\/[0-9a-f]{10}\.tp0\.konghq\.com$/),
        cluster_type: 'CLUSTER_TYPE_CONTROL_PLANE',
        auth_type: 'pinned_client_certs',
        cloud_gateway: false,
        proxy_urls: [],
      },
      created_at: expect.any(String),
      updated_at: expect.any(String),
    })
    const again = await call('POST', '/v2/control-planes', ADMIN, { name: 'prod-eu' })
    expect(again.status).toBe(409)
    expect(again.headers.get('content-type')).toBe('application/problem+json')
    expect(again.body).toEqual({
      status: 409,
      title: 'Conflict',
      instance: expect.stringMatching(/^konnect:trace:\d+$/),
      detail: 'Control Plane with provided name already exists.',
    })
    // The record and an empty entity fixture land in the shared directory.
    const records = JSON.parse(readFileSync(join(konnect!.dir, 'control-planes.json'), 'utf8'))
    expect(records.map((r: { name: string }) => r.name)).toEqual(['prod-eu'])
    expect(existsSync(join(konnect!.dir, 'control-planes', `${created.body.id}.yaml`))).toBe(true)
  })

  it('answers bad input with 400 problem+json and invalid_parameters', async () => {
    await start()
    const blank = await call('POST', '/v2/control-planes', ADMIN, { name: ' ' })
    expect(blank.status).toBe(400)
    expect(blank.body).toMatchObject({
      status: 400,
      title: 'Bad Request',
      detail: 'Request cannot be empty',
      invalid_parameters: [{ field: 'name', reason: 'cannot be blank' }],
    })
    const unknown = await call('POST', '/v2/control-planes', ADMIN, { name: 'ok', id: 'x' })
    expect(unknown.body).toMatchObject({
      detail: 'Request contains unknown property',
      invalid_parameters: [{ field: 'id', reason: 'property id should not exist' }],
    })
    const badType = await call('POST', '/v2/control-planes', ADMIN, { name: 'ok', cluster_type: 'nope' })
    expect(badType.status).toBe(400)
    expect(badType.body.invalid_parameters[0].field).toBe('cluster_type')
    const notJson = await call('POST', '/v2/control-planes', ADMIN, '{')
    expect(notJson.body.invalid_parameters).toEqual([{ field: 'body', reason: 'request format is invalid' }])
    expect((await call('GET', '/v2/control-planes/not-a-uuid')).body.detail).toBe(
      'Request contains invalid ID format',
    )
    expect(konnect!.controlPlanes()).toEqual([])
  })

  it('lists with filter[name][eq], page[size] and page[number], and meta.page', async () => {
    await start({
      controlPlanes: [
        { name: 'a', labels: { env: 'prod', team: 'x' } },
        { name: 'b', labels: { env: 'dev' }, cluster_type: 'CLUSTER_TYPE_K8S_INGRESS_CONTROLLER' },
        { name: 'c' },
      ],
    })
    const page2 = await call('GET', '/v2/control-planes?page[size]=2&page[number]=2')
    expect(page2.body.data.map((c: { name: string }) => c.name)).toEqual(['c'])
    expect(page2.body.meta).toEqual({ page: { number: 2, size: 2, total: 3 } })
    const byName = await call('GET', `/v2/control-planes?${encodeURIComponent('filter[name][eq]')}=b`)
    expect(byName.body.data.map((c: { name: string }) => c.name)).toEqual(['b'])
    expect(byName.body.meta.page.total).toBe(1)
    const names = async (query: string) =>
      (await call('GET', `/v2/control-planes?${query}`)).body.data.map((c: { name: string }) => c.name)
    expect(await names('labels=env:prod')).toEqual(['a'])
    expect(await names('labels=env')).toEqual(['a', 'b'])
    expect(
      await names(`${encodeURIComponent('filter[cluster_type][eq]')}=CLUSTER_TYPE_K8S_INGRESS_CONTROLLER`),
    ).toEqual(['b'])
    expect(await names(`${encodeURIComponent('filter[name][contains]')}=a`)).toEqual(['a'])
    const desc = await call('GET', `/v2/control-planes?sort=${encodeURIComponent('created_at desc')}`)
    expect(desc.body.data.map((c: { name: string }) => c.name)).toEqual(['c', 'b', 'a'])
    const bad = await call('GET', '/v2/control-planes?page[size]=0&sort=name')
    expect(bad.status).toBe(400)
    expect(bad.body.invalid_parameters.map((p: { field: string }) => p.field)).toEqual(['page[size]', 'sort'])
  })

  it('gets and deletes one control plane; 404 once gone', async () => {
    await start({ controlPlanes: [{ name: 'dev' }] })
    const [dev] = konnect!.controlPlanes()
    expect((await call('GET', `/v2/control-planes/${dev!.id}`)).body.name).toBe('dev')
    expect((await call('DELETE', `/v2/control-planes/${dev!.id}`)).status).toBe(204)
    const gone = await call('GET', `/v2/control-planes/${dev!.id}`)
    expect(gone.status).toBe(404)
    expect(gone.body.detail).toBe('The requested control plane was not found.')
    expect(existsSync(join(konnect!.dir, 'control-planes', `${dev!.id}.yaml`))).toBe(false)
  })

  it('lists the control planes deck reads at /konnect-api/api/runtime_groups, paginated as GDR reads them', async () => {
    await start({ controlPlanes: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] })
    const first = await call('GET', '/konnect-api/api/runtime_groups?page=2&size=2')
    expect(first.body).toMatchObject({ page: 2, pageCount: 2, data: [{ name: 'c' }] })
  })
})

describe('Konnect stand-in: authentication', () => {
  it('answers 401 without or with an unknown token, in each endpoint family’s error shape', async () => {
    await start({ controlPlanes: [{ name: 'dev' }] })
    const none = await call('GET', '/v2/control-planes', null)
    expect(none.status).toBe(401)
    expect(none.body).toMatchObject({
      status: 401,
      title: 'Unauthenticated',
      detail: 'A valid token is required',
    })
    const wrong = await call('GET', '/konnect-api/api/runtime_groups', 'kpat_wrong')
    expect(wrong).toMatchObject({ status: 401, body: { message: 'Unauthorized' } })
    expect(konnect!.requests.map((r) => r.authorized)).toEqual([false, true])
    // The token itself is never recorded.
    expect(JSON.stringify(konnect!.requests)).not.toContain('kpat_')
  })

  it('limits a token to its control planes (403 elsewhere, absent from lists) and to its operations', async () => {
    await start({
      tokens: { [ADMIN]: {}, [CI]: { controlPlanes: ['dev'], manage: false, write: false } },
      controlPlanes: [{ name: 'dev' }, { name: 'prod' }],
    })
    const list = await call('GET', '/v2/control-planes', CI)
    expect(list.body.data.map((c: { name: string }) => c.name)).toEqual(['dev'])
    const prod = konnect!.controlPlanes().find((c) => c.name === 'prod')!
    const denied = await call('GET', `/v2/control-planes/${prod.id}`, CI)
    expect(denied).toMatchObject({ status: 403, body: { title: 'Permission denied' } })
    expect((await call('POST', '/v2/control-planes', CI, { name: 'x' })).body.detail).toBe(
      'Insufficient role-set to create control planes.',
    )
    const dev = konnect!.controlPlanes().find((c) => c.name === 'dev')!
    const write = await call('PUT', `/v2/control-planes/${dev.id}/core-entities/services/1`, CI, {})
    expect(write).toMatchObject({ status: 403, body: { message: 'Forbidden' } })
    expect(
      (await call('PUT', `/v2/control-planes/${dev.id}/core-entities/services/1`, ADMIN, {})).status,
    ).toBe(200)
  })
})

describe('Konnect stand-in: control plane config API', () => {
  it('serves the plugin schemas the test gives and 404s unknown plugins with Kong’s text', async () => {
    const schema = { fields: [{ config: { type: 'record', fields: [] } }] }
    await start({ controlPlanes: [{ name: 'dev' }], pluginSchemas: { 'rate-limiting': schema } })
    const [dev] = konnect!.controlPlanes()
    const base = `/v2/control-planes/${dev!.id}/core-entities`
    expect(await call('GET', `${base}/schemas/plugins/rate-limiting`)).toMatchObject({
      status: 200,
      body: schema,
    })
    expect(await call('GET', `${base}/schemas/plugins/nope`)).toMatchObject({
      status: 404,
      body: { message: "No plugin named 'nope'" },
    })
    expect(
      await call(
        'GET',
        `/v2/control-planes/${'0'.repeat(8)}-0000-0000-0000-000000000000/core-entities/services`,
      ),
    ).toMatchObject({
      status: 404,
      body: { message: 'Not Found' },
    })
  })

  it('lists services from the control plane’s entity fixture and echoes writes without applying them', async () => {
    await start({
      controlPlanes: [
        { name: 'dev', entities: { services: [{ id: 's1', name: 'billing', host: 'b', routes: [] }] } },
      ],
    })
    const [dev] = konnect!.controlPlanes()
    const base = `/v2/control-planes/${dev!.id}/core-entities`
    expect((await call('GET', `${base}/services?size=1000`)).body).toEqual({
      data: [{ id: 's1', name: 'billing', host: 'b' }],
      next: null,
    })
    expect((await call('DELETE', `${base}/services/s1`)).status).toBe(204)
    expect(konnect!.entities('dev')).toEqual({
      services: [{ id: 's1', name: 'billing', host: 'b', routes: [] }],
    })
  })
})

describe('Konnect stand-in: rate limits', () => {
  it('answers 429 with the rate-limit headers after `after` matching requests, `times` times', async () => {
    await start({
      controlPlanes: [{ name: 'dev' }],
      rateLimit: { after: 1, times: 2, retryAfterSeconds: 3, match: ({ method }) => method === 'PUT' },
    })
    const [dev] = konnect!.controlPlanes()
    const put = () => call('PUT', `/v2/control-planes/${dev!.id}/core-entities/services/x`, ADMIN, {})
    const statuses: number[] = []
    let limited = null
    for (let i = 0; i < 4; i++) {
      const res = await put()
      statuses.push(res.status)
      if (res.status === 429) limited = res
      expect((await call('GET', '/v2/control-planes')).status).toBe(200)
    }
    expect(statuses).toEqual([200, 429, 429, 200])
    expect(limited!.body).toEqual({ message: 'API rate limit exceeded' })
    expect(limited!.headers.get('retry-after')).toBe('3')
    expect(limited!.headers.get('ratelimit-remaining')).toBe('0')
    expect(limited!.headers.get('ratelimit-reset')).toBe('3')
    expect(limited!.headers.get('ratelimit-limit')).toBe('1')
  })
})
