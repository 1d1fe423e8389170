// The Tyk Dashboard the double talks to, without a network: a store folder (TYK_SYNC_DOUBLE_STORE) answered
// as the Dashboard API answers the requests tyk-sync 1.5.0 makes, with the Authorization check, HTTP status
// codes and the Status/Message/Meta bodies tyk-sync reads. Writes go to the store at once, file by file, so a
// sync that fails half way leaves what a real Dashboard would hold.

import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { marshal, marshalIndent } from './gojson.mjs'

/** A failed HTTP round trip, with Go's *url.Error text (`Get "http://…": dial tcp …`). */
export class NetError extends Error {}

const KINDS = ['apis', 'policies', 'assets']
const NOT_AUTHORISED = { Status: 'Error', Message: 'Not authorised', Meta: null }

/** A new MongoDB ObjectId: four bytes of time, eight random. */
export function objectId() {
  const time = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, '0')
  return time + randomBytes(8).toString('hex')
}

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** A seeded shuffle (mulberry32), for TYK_SYNC_DOUBLE_SHUFFLE. */
function shuffled(items, seed) {
  let a = seed >>> 0
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

/** The ids tyk-sync reads from a stored API (DBApiDefinition.GetAPIID/GetDBID). */
export function apiIds(record) {
  const def = isObject(record.api_definition) ? record.api_definition : {}
  if (def.is_oas === true) {
    const info = record.oas?.['x-tyk-api-gateway']?.info ?? {}
    return { oas: true, apiId: info.id ?? '', dbId: info.dbId ?? '', name: info.name ?? '' }
  }
  return { oas: false, apiId: def.api_id ?? '', dbId: def.id ?? '', name: def.name ?? '' }
}

export class Dashboard {
  /**
   * @param env TYK_SYNC_DOUBLE_STORE: the folder (unset: no Dashboard anywhere); TYK_SYNC_DOUBLE_SECRET: the
   *   only valid Dashboard API key (unset: none is); TYK_SYNC_DOUBLE_SHUFFLE: a seed for the order of lists.
   */
  constructor(env) {
    this.store = env.TYK_SYNC_DOUBLE_STORE || undefined
    this.secret = env.TYK_SYNC_DOUBLE_SECRET || undefined
    this.seed = env.TYK_SYNC_DOUBLE_SHUFFLE ? Number(env.TYK_SYNC_DOUBLE_SHUFFLE) || 1 : undefined
    this.settings = this.store
      ? JSON.parse(readFileSync(join(this.store, 'dashboard.json'), 'utf8'))
      : undefined
    this.base = this.settings ? new URL(this.settings.url) : undefined
  }

  // --- the store ---

  list(kind) {
    const dir = join(this.store, kind)
    if (!existsSync(dir)) return []
    const names = readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .sort()
    const records = names.map((n) => ({ file: n, body: JSON.parse(readFileSync(join(dir, n), 'utf8')) }))
    return this.seed === undefined ? records : shuffled(records, this.seed)
  }

  find(kind, test) {
    return this.list(kind).find((r) => test(r.body))
  }

  save(kind, file, body) {
    const dir = join(this.store, kind)
    mkdirSync(dir, { recursive: true })
    const temp = join(dir, `.${file}.${randomBytes(4).toString('hex')}.tmp`)
    writeFileSync(temp, marshalIndent(body) + '\n')
    renameSync(temp, join(dir, file))
  }

  remove(kind, file) {
    rmSync(join(this.store, kind, file))
  }

  // --- HTTP ---

  /**
   * One request, as grequests makes it: `url` is the full address (urljoin of -d and the endpoint), `params`
   * the query, `auth` the Authorization header, `body` JSON text. Returns { status, text }.
   */
  request(method, url, { params, auth, body } = {}) {
    const query = params ? `?${new URLSearchParams(params).toString()}` : ''
    const op = method[0] + method.slice(1).toLowerCase()
    let target
    try {
      target = new URL(url + query)
    } catch {
      const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url)?.[1] ?? ''
      throw new NetError(`${op} "${url}${query}": unsupported protocol scheme "${scheme}"`)
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      throw new NetError(
        `${op} "${url}${query}": unsupported protocol scheme "${target.protocol.slice(0, -1)}"`,
      )
    }
    const port = target.port || (target.protocol === 'https:' ? '443' : '80')
    if (!this.base || target.host !== this.base.host || target.protocol !== this.base.protocol) {
      const host = target.hostname
      const numeric = /^[\d.]+$/.test(host) || host.startsWith('[') || host === 'localhost'
      const address = host === 'localhost' ? '127.0.0.1' : host
      throw new NetError(
        numeric
          ? `${op} "${url}${query}": dial tcp ${address}:${port}: connect: connection refused`
          : `${op} "${url}${query}": dial tcp: lookup ${host}: no such host`,
      )
    }
    const prefix = this.base.pathname.replace(/\/+$/, '')
    const path = target.pathname.startsWith(prefix) ? target.pathname.slice(prefix.length) : target.pathname
    if (auth === undefined || this.secret === undefined || auth !== this.secret) {
      return this.answer(401, NOT_AUTHORISED)
    }
    let parsed
    if (body !== undefined) {
      try {
        parsed = JSON.parse(body)
      } catch {
        return this.answer(400, { Status: 'Error', Message: 'Could not decode body', Meta: null })
      }
    }
    return this.route(method, path.replace(/\/+$/, '') || '/', parsed)
  }

  answer(status, value) {
    return { status, text: marshal(value) }
  }

  route(method, path, body) {
    const seg = path.split('/').filter(Boolean)
    const ok = (message, meta = null) => this.answer(200, { Status: 'OK', Message: message, Meta: meta })
    const notFound = (what) => this.answer(404, { Status: 'Error', Message: `${what} not found`, Meta: null })
    if (seg[0] !== 'api') return this.answer(404, { Status: 'Error', Message: 'Not Found', Meta: null })
    const [, resource, ...rest] = seg

    if (resource === 'users' && rest.length === 0 && method === 'GET') {
      const org = this.settings.org_id ?? ''
      return this.answer(200, { users: org ? [{ org_id: org, access_key: '' }] : [], pages: 1 })
    }

    if (resource === 'apis') {
      const records = () => this.list('apis')
      const byDbId = (id) => records().find((r) => apiIds(r.body).dbId === id)
      if (rest[0] === 'oas') {
        const [, id, sub] = rest
        if (method === 'POST' && !id) return this.createOas(body)
        if (!id) return notFound('API')
        const record = byDbId(id) ?? records().find((r) => apiIds(r.body).apiId === id)
        if (!record) return notFound('API')
        if (sub === 'categories') {
          if (method === 'GET') return this.answer(200, { categories: record.body.categories ?? [] })
          if (method === 'PUT') {
            const categories = Array.isArray(body?.categories) ? body.categories : []
            const next = { ...record.body }
            if (categories.length > 0) next.categories = categories
            else delete next.categories
            this.save('apis', record.file, next)
            return ok('categories updated')
          }
        }
        if (sub === 'export' && method === 'GET') return { status: 200, text: marshal(record.body.oas) }
        if (!sub && method === 'PUT') return this.updateOas(record, body)
        return this.answer(405, { Status: 'Error', Message: 'Method not allowed', Meta: null })
      }
      const [id] = rest
      if (!id && method === 'GET') return this.answer(200, { apis: records().map((r) => r.body), pages: 1 })
      if (!id && method === 'POST') return this.createClassic(body)
      const record =
        byDbId(id) ?? (method === 'GET' ? records().find((r) => apiIds(r.body).apiId === id) : undefined)
      if (!record) return notFound('API')
      if (method === 'GET') return this.answer(200, record.body)
      if (method === 'DELETE') {
        this.remove('apis', record.file)
        return ok('API deleted')
      }
      if (method === 'PUT') return this.updateClassic(record, body)
      return this.answer(405, { Status: 'Error', Message: 'Method not allowed', Meta: null })
    }

    if (resource === 'portal' && rest[0] === 'policies') {
      const id = rest[1]
      if (!id && method === 'GET')
        return this.answer(200, { Data: this.list('policies').map((r) => r.body), Pages: 0 })
      if (!id && method === 'POST') {
        const mid = objectId()
        this.save('policies', `${mid}.json`, { ...body, _id: mid })
        return ok(mid)
      }
      const record = this.find('policies', (p) => p._id === id)
      if (!record) return notFound('Policy')
      if (method === 'GET') return this.answer(200, record.body)
      if (method === 'DELETE') {
        this.remove('policies', record.file)
        return ok('Policy deleted')
      }
      if (method === 'PUT') {
        this.save('policies', record.file, { ...body, _id: id })
        return ok(id)
      }
    }

    if (resource === 'assets') {
      const id = rest[0]
      if (!id && method === 'GET')
        return { status: 200, text: marshal(this.list('assets').map((r) => r.body)) }
      if (!id && method === 'POST') {
        const dbId = objectId()
        this.save('assets', `${dbId}.json`, { ...body, _id: dbId })
        return this.answer(201, { Status: 'success', Message: 'asset created', Meta: dbId })
      }
      // GET and PUT address a template by its id, DELETE by its database id.
      const record =
        method === 'DELETE'
          ? this.find('assets', (a) => a._id === id)
          : this.find('assets', (a) => a.id === id)
      if (!record) return notFound('Asset')
      if (method === 'GET') return this.answer(200, record.body)
      if (method === 'DELETE') {
        this.remove('assets', record.file)
        return ok('asset deleted')
      }
      if (method === 'PUT') {
        this.save('assets', record.file, { ...body, _id: record.body._id })
        return this.answer(200, { Status: 'success', Message: 'asset updated', Meta: null })
      }
    }
    return this.answer(404, { Status: 'Error', Message: 'Not Found', Meta: null })
  }

  // A created API gets a new database id and, as tyk-sync's comment on CreateAPIs says, a new API id (tyk-sync
  // puts its own back with an update right after).
  createClassic(body) {
    if (!isObject(body) || !isObject(body.api_definition)) {
      return this.answer(400, { Status: 'Error', Message: 'Invalid API definition', Meta: null })
    }
    const dbId = objectId()
    const def = { ...body.api_definition, id: dbId, api_id: randomBytes(16).toString('hex') }
    if (this.settings.org_id && !def.org_id) def.org_id = this.settings.org_id
    this.save('apis', `${dbId}.json`, { ...body, api_definition: def })
    return this.answer(200, { Status: 'OK', Message: 'API created', Meta: dbId })
  }

  updateClassic(record, body) {
    if (!isObject(body) || !isObject(body.api_definition)) {
      return this.answer(400, { Status: 'Error', Message: 'Invalid API definition', Meta: null })
    }
    const dbId = apiIds(record.body).dbId
    this.save('apis', record.file, { ...body, api_definition: { ...body.api_definition, id: dbId } })
    return this.answer(200, { Status: 'OK', Message: 'Api updated', Meta: null })
  }

  createOas(oas) {
    const ext = oas?.['x-tyk-api-gateway']
    if (!isObject(oas) || !isObject(ext) || !isObject(ext.info)) {
      return this.answer(400, {
        Status: 'Error',
        Message: 'the payload should contain x-tyk-api-gateway',
        Meta: null,
      })
    }
    const dbId = objectId()
    const info = { ...ext.info, dbId, id: randomBytes(16).toString('hex') }
    if (this.settings.org_id && !info.orgId) info.orgId = this.settings.org_id
    const doc = { ...oas, 'x-tyk-api-gateway': { ...ext, info } }
    this.save('apis', `${dbId}.json`, {
      api_definition: {
        api_id: info.id,
        id: dbId,
        is_oas: true,
        name: info.name ?? '',
        org_id: info.orgId ?? '',
      },
      oas: doc,
      hook_references: [],
      is_site: false,
      sort_by: 0,
      user_group_owners: [],
      user_owners: [],
    })
    return this.answer(200, { Status: 'OK', Message: 'API created', Meta: dbId })
  }

  updateOas(record, oas) {
    const ext = oas?.['x-tyk-api-gateway']
    if (!isObject(oas) || !isObject(ext) || !isObject(ext.info)) {
      return this.answer(400, {
        Status: 'Error',
        Message: 'the payload should contain x-tyk-api-gateway',
        Meta: null,
      })
    }
    const dbId = apiIds(record.body).dbId
    const info = { ...ext.info, dbId }
    const doc = { ...oas, 'x-tyk-api-gateway': { ...ext, info } }
    this.save('apis', record.file, {
      ...record.body,
      api_definition: {
        ...record.body.api_definition,
        api_id: info.id ?? '',
        is_oas: true,
        name: info.name ?? '',
        org_id: info.orgId ?? '',
      },
      oas: doc,
    })
    return this.answer(200, { Status: 'OK', Message: 'Api updated', Meta: null })
  }
}

/** Every kind the store holds, for tests and the README. */
export const STORE_KINDS = KINDS
