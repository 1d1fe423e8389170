// tyk-sync 1.5.0's side of the conversation, statement by statement: clients/dashboard (apis.go, policies.go,
// assets.go, client.go), cli-publisher (dashboard.go, mock.go) and tyk-vcs/getter.go (the -p folder reader),
// with their output lines. Go map iteration is random; here it follows insertion order.

import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join, normalize } from 'node:path'

import { apiIds, NetError } from './dashboard.mjs'
import { decodeAsset, decodeDbApi, decodePolicy, GoJsonError, marshal, parseJson } from './gojson.mjs'

/** An error value a Go function returns; its message is what fmt prints. */
export class GoError extends Error {}

/** A Go runtime panic: main.mjs prints it as Go does and exits 2. */
export class GoPanic extends Error {}

export const USE_UPDATE_ERROR = 'Object seems to exist (same ID, API ID, Listen Path or Slug), use update()'
export const USE_CREATE_ERROR = 'Object does not exist, use create()'
export const USE_ASSET_UPDATE_ERROR = 'Object seems to exist (same ID) use update()'

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

// ongoingio/urljoin: the parts joined by single slashes.
function urljoin(...parts) {
  return parts
    .map((p, i) => (i === 0 ? p.replace(/\/+$/, '') : p.replace(/^\/+|\/+$/g, '')))
    .filter((p, i) => i === 0 || p !== '')
    .join('/')
}

// --- DBApiDefinition accessors (clients/objects/apidef.go) ---

export const isOAS = (d) => isObject(d.api_definition) && d.api_definition.is_oas === true
const tykExt = (d) =>
  isObject(d.oas) && isObject(d.oas['x-tyk-api-gateway']) ? d.oas['x-tyk-api-gateway'] : undefined
const extInfo = (d) => {
  const ext = tykExt(d)
  if (!ext) return undefined
  if (!isObject(ext.info)) ext.info = {}
  return ext.info
}

export function getAPIID(d) {
  if (isOAS(d)) return extInfo(d)?.id ?? ''
  return d.api_definition?.api_id ?? ''
}

export function setAPIID(d, id) {
  if (isOAS(d)) {
    const info = extInfo(d)
    if (info) info.id = id
    return
  }
  d.api_definition.api_id = id
}

export function getDBID(d) {
  if (isOAS(d)) {
    const info = extInfo(d)
    if (info) return info.dbId ?? ''
  }
  return d.api_definition?.id ?? ''
}

export function setDBID(d, id) {
  if (isOAS(d)) {
    const info = extInfo(d)
    if (info) info.dbId = id
    return
  }
  d.api_definition.id = id
}

function setOrgID(d, org) {
  if (isOAS(d)) {
    const info = extInfo(d)
    if (info) info.orgId = org
    return
  }
  d.api_definition.org_id = org
}

export function getAPIName(d) {
  if (isOAS(d)) return extInfo(d)?.name ?? ''
  return d.api_definition?.name ?? ''
}

function getListenPath(d) {
  if (isOAS(d)) return tykExt(d)?.server?.listenPath?.value ?? ''
  return d.api_definition?.proxy?.listen_path ?? ''
}

function getDomain(d) {
  if (isOAS(d)) {
    const name = tykExt(d)?.server?.customDomain?.name
    if (name !== undefined) return name
  }
  return d.api_definition?.domain ?? ''
}

const slugOf = (d) => d.api_definition?.slug ?? ''

// --- the Dashboard client (clients/dashboard) ---

export class Client {
  constructor(dashboard, url, secret, orgID, out) {
    Object.assign(this, { dashboard, url, secret, out, orgID: '', isCloud: url.includes('tyk.io') })
    this.givenOrg = orgID
  }

  /** NewDashboardClient: returns [client, error]; the client is usable even when the error is set. */
  static open(dashboard, url, secret, orgID, out) {
    const c = new Client(dashboard, url, secret, orgID, out)
    if (orgID !== '') return [c, undefined]
    const fullPath = urljoin(url, '/api/users')
    try {
      const resp = c.send('GET', fullPath, { p: '-2' })
      if (resp.status !== 200) {
        return [c, new GoError(`Error getting users from dashboard: ${resp.text} for ${fullPath}`)]
      }
      const users = parseJson(resp.text).users ?? []
      if (users.length > 0) c.orgID = users[0].org_id ?? ''
    } catch (err) {
      return [c, asGoError(err)]
    }
    return [c, undefined]
  }

  send(method, url, params, body) {
    try {
      return this.dashboard.request(method, url, {
        params,
        auth: this.secret,
        body: body === undefined ? undefined : marshal(body),
      })
    } catch (err) {
      if (err instanceof NetError) throw new GoError(err.message)
      throw err
    }
  }

  fetchAPIs() {
    const fullPath = urljoin(this.url, '/api/apis')
    const resp = this.send('GET', fullPath, { p: '-2' })
    if (resp.status !== 200) throw new GoError(`API Returned error: ${resp.text} for ${fullPath}`)
    const body = decodeJson(resp.text)
    return (body.apis ?? []).map(decodeDbApi)
  }

  fetchAPI(apiID) {
    const fullPath = urljoin(this.url, '/api/apis', apiID)
    const resp = this.send('GET', fullPath, { p: '-2' })
    if (resp.status !== 200) throw new GoError(`API ${apiID} Returned error: ${resp.text} for ${fullPath}`)
    return decodeDbApi(decodeJson(resp.text))
  }

  fetchOASAPI(id) {
    const fullPath = urljoin(this.url, '/api/apis/oas', id, 'export')
    const resp = this.send('GET', fullPath)
    if (resp.status !== 200) throw new GoError(`API Returned error: ${resp.text} for ${fullPath}`)
    return decodeJson(resp.text)
  }

  fetchOASCategory(id) {
    const fullPath = urljoin(this.url, '/api/apis/oas', id, '/categories')
    const resp = this.send('GET', fullPath, { accept_additional_properties: 'true' })
    if (resp.status !== 200) {
      throw new GoError(`OAS Categories API Returned error: ${resp.text} (code: ${resp.status})`)
    }
    return decodeJson(resp.text).categories ?? null
  }

  updateOASCategory(d) {
    if (!isOAS(d)) throw new GoError('malformed input to update OAS API category')
    if (!tykExt(d)) {
      throw new GoError(
        'malformed input to update OAS API category, invalid OAS spec or x-tyk-api-gateway field',
      )
    }
    const fullPath = urljoin(this.url, '/api/apis/oas', extInfo(d).id ?? '', '/categories')
    const resp = this.send(
      'PUT',
      fullPath,
      { accept_additional_properties: 'true' },
      { categories: d.categories ?? null },
    )
    if (resp.status !== 200) {
      throw new GoError(`OAS Categories API Returned error: ${resp.text} (code: ${resp.status})`)
    }
    return resp
  }

  fixDBDef(d) {
    if (d.hook_references === null || d.hook_references === undefined) d.hook_references = []
    if (isOAS(d) && d.oas) {
      const dbID = getDBID(d)
      if (tykExt(d) && dbID !== '') extInfo(d).dbId = dbID
    }
  }

  identifiers(apis) {
    const apiids = new Map()
    const ids = new Map()
    const slugs = new Map()
    const paths = new Map()
    for (const d of apis) {
      apiids.set(getAPIID(d), d)
      ids.set(getDBID(d), d)
      slugs.set(slugOf(d), d)
      paths.set(`${getListenPath(d)}-${getDomain(d)}`, d)
    }
    return { apiids, ids, slugs, paths }
  }

  createAPIs(defs) {
    const existing = this.fetchAPIs()
    const { apiids, ids, slugs, paths } = this.identifiers(existing)
    const retain = []
    defs.forEach((d, i) => {
      this.out(`Creating API ${i}: ${getAPIName(d)}\n`)
      if (apiids.has(getAPIID(d))) {
        this.out('Warning: API ID Exists\n')
        throw new GoError(USE_UPDATE_ERROR)
      } else if (ids.has(getDBID(d))) {
        this.out('Warning: Object ID Exists\n')
        throw new GoError(USE_UPDATE_ERROR)
      } else if (slugOf(d) !== '' && slugs.has(slugOf(d))) {
        this.out('Warning: Slug Exists\n')
        throw new GoError(USE_UPDATE_ERROR)
      } else if (paths.has(`${getListenPath(d)}-${getDomain(d)}`)) {
        this.out('Warning: Listen Path Exists\n')
        throw new GoError(USE_UPDATE_ERROR)
      }
      this.fixDBDef(d)
      let fullPath = urljoin(this.url, '/api/apis')
      let payload = null
      if (d.api_definition) {
        if (isOAS(d)) {
          fullPath = urljoin(this.url, '/api/apis/oas')
          payload = d.oas ?? null
        } else payload = encodeForDashboard(d)
      }
      const resp = this.send('POST', fullPath, { accept_additional_properties: 'true' }, payload)
      if (resp.status !== 200) throw new GoError(`API Returned error: ${resp.text} (code: ${resp.status})`)
      const status = decodeJson(resp.text)
      if (status.Status !== 'OK')
        throw new GoError(`API request completed, but with error: ${status.Message ?? ''}`)
      setDBID(d, status.Meta ?? '')
      if (getAPIID(d) !== '') retain.push(d)
      apiids.set(getAPIID(d), d)
      ids.set(getDBID(d), d)
      slugs.set(slugOf(d), d)
      paths.set(`${getListenPath(d)}-${getDomain(d)}`, d)
      if (isOAS(d) && (d.categories ?? []).length > 0) {
        const r = this.updateOASCategory(d)
        this.out(`OAS API Categories updated, ${r.text}`)
      }
      this.out(`--> Status: OK, ID:${getAPIID(d)}\n`)
    })
    this.updateAPIs(retain)
  }

  updateAPIs(defs) {
    const existing = this.fetchAPIs()
    const { apiids, ids, slugs, paths } = this.identifiers(existing)
    defs.forEach((d, i) => {
      this.out(`Updating API ${i}: ${getAPIName(d)}\n`)
      let found
      if ((found = apiids.get(getAPIID(d)))) setDBID(d, getDBID(found))
      else if ((found = ids.get(getDBID(d)))) {
        if (getAPIID(d) === '') setAPIID(d, getAPIID(found))
      } else if (
        (found = slugs.get(slugOf(d))) ||
        (found = paths.get(`${getListenPath(d)}-${getDomain(d)}`))
      ) {
        if (getAPIID(d) === '') setAPIID(d, getAPIID(found))
        if (getDBID(d) === '') setDBID(d, getDBID(found))
      } else throw new GoError(USE_CREATE_ERROR)
      this.fixDBDef(d)
      const oas = isOAS(d)
      const payload = oas ? (d.oas ?? null) : encodeForDashboard(d)
      const updatePath = urljoin(this.url, oas ? '/api/apis/oas' : '/api/apis', getDBID(d))
      const resp = this.send('PUT', updatePath, { accept_additional_properties: 'true' }, payload)
      if (resp.status !== 200) throw new GoError(`API Updating Returned error: ${resp.text}`)
      const status = decodeJson(resp.text)
      if (status.Status !== 'OK')
        throw new GoError(`API request completed, but with error: ${status.Message ?? ''}`)
      if (oas) {
        const r = this.updateOASCategory(d)
        this.out(`OAS API Categories updated, ${r.text}`)
      }
      apiids.set(getAPIID(d), d)
      ids.set(getDBID(d), d)
      slugs.set(slugOf(d), d)
      paths.set(`${getListenPath(d)}-${getDomain(d)}`, d)
      this.out(`--> Status: OK, ID:${getAPIID(d)}\n`)
    })
  }

  syncAPIs(defs) {
    const existing = this.fetchAPIs()
    const dash = new Map()
    const git = new Map()
    existing.forEach((api, i) => {
      if (!isOAS(api) && this.isCloud) {
        dash.set(slugOf(api), i)
        return
      }
      const id = parseId(getAPIID(api), getDBID(api))
      if (id !== '') dash.set(id, i)
    })
    defs.forEach((d, i) => {
      if (d.api_definition && !isOAS(d)) {
        if (this.isCloud) {
          git.set(slugOf(d), i)
          return
        }
      } else if (d.oas) {
        if (this.isCloud) {
          git.set(slugOf(d), i)
          return
        }
      } else return
      const id = parseId(getAPIID(d), getDBID(d))
      if (id !== '') git.set(id, i)
    })
    const updates = []
    const deletes = []
    const creates = []
    for (const [key, index] of git) {
      this.out(`Checking: ${key}\n`)
      if (!dash.has(key)) continue
      const api = defs[index]
      const current = existing[dash.get(key)]
      if (current.api_definition && !isOAS(current)) {
        setDBID(api, getDBID(current))
        setAPIID(api, getAPIID(current))
      } else if (current.oas) {
        if (!tykExt(current)) throw new GoError('invalid OAS doc, expected x-tyk-gateway field exists')
        setAPIID(api, getAPIID(current))
        setDBID(api, getDBID(current))
      }
      updates.push(api)
    }
    for (const [key, index] of dash) if (!git.has(key)) deletes.push(getDBID(existing[index]))
    for (const [key, index] of git) if (!dash.has(key)) creates.push(defs[index])

    this.out(`Deleting: ${deletes.length}\nUpdating: ${updates.length}\nCreating: ${creates.length}\n`)
    for (const dbID of deletes) {
      this.out(`SYNC Deleting: ${dbID}\n`)
      this.deleteAPI(dbID)
    }
    this.updateAPIs(updates)
    for (const d of updates) {
      this.out(`SYNC Updated ${isOAS(d) ? 'OAS' : 'Classic'} API Definition ${getDBID(d)}\n`)
    }
    this.createAPIs(creates)
    for (const d of creates) this.out(`SYNC Created: ${getAPIName(d)}\n`)
  }

  deleteAPI(id) {
    const resp = this.send('DELETE', urljoin(this.url, '/api/apis', id))
    if (resp.status !== 200) throw new GoError(`API Returned error: ${resp.text}`)
  }

  fetchPolicies() {
    const fullPath = urljoin(this.url, '/api/portal/policies')
    const resp = this.send('GET', fullPath, { p: '-2' })
    if (resp.status !== 200) throw new GoError(`API Returned error: ${resp.text}`)
    return (decodeJson(resp.text).Data ?? []).map(decodeGo(decodePolicy))
  }

  fetchPolicy(id) {
    const resp = this.send('GET', urljoin(this.url, '/api/portal/policies', id))
    if (resp.status !== 200) throw new GoError(`API Returned error: ${resp.text}`)
    return decodeGo(decodePolicy)(decodeJson(resp.text))
  }

  policyIdentifiers(pols) {
    const mids = new Map()
    const ids = new Map()
    for (const p of pols) {
      mids.set(p._id, p)
      ids.set(p.id, p)
    }
    return { mids, ids }
  }

  createPolicies(pols) {
    const { mids, ids } = this.policyIdentifiers(this.fetchPolicies())
    pols.forEach((pol, i) => {
      this.out(`Creating Policy ${i}: ${pol.name}\n`)
      if (mids.has(pol._id)) {
        this.out('Warning: Policy MID Exists\n')
        throw new GoError(USE_UPDATE_ERROR)
      } else if (ids.has(pol.id)) {
        this.out('Warning: Policy ID Exists\n')
        throw new GoError(USE_UPDATE_ERROR)
      }
      const resp = this.send('POST', urljoin(this.url, '/api/portal/policies'), undefined, pol)
      if (resp.status !== 200) throw new GoError(`API Returned error: ${resp.text}`)
      const status = decodeJson(resp.text)
      if (status.Status !== 'OK')
        throw new GoError(`API request completed, but with error: ${status.Message ?? ''}`)
      pol._id = objectIdHex(status.Message ?? '')
      mids.set(pol._id, pol)
      ids.set(pol.id, pol)
      this.out(`--> Status: OK, ID:${status.Meta ?? ''}\n`)
    })
  }

  updatePolicies(pols) {
    const { mids, ids } = this.policyIdentifiers(this.fetchPolicies())
    pols.forEach((pol, i) => {
      this.out(`Updating Policy ${i}: ${pol.name}\n`)
      if (pol._id === '' && pol.id === '')
        throw new GoError("--> Can't update policy without an ID or explicit (legacy) ID")
      if (ids.has(pol.id)) {
        this.out('--> Found policy using explicit ID, substituting remote ID for update\n')
        pol._id = ids.get(pol.id)._id
      } else if (!mids.has(pol._id)) throw new GoError(USE_CREATE_ERROR)
      const resp = this.send('PUT', urljoin(this.url, '/api/portal/policies', pol._id), undefined, pol)
      if (resp.status !== 200) throw new GoError(`API Returned error: ${resp.text}`)
      const status = decodeJson(resp.text)
      if (status.Status !== 'OK')
        throw new GoError(`API request completed, but with error: ${status.Message ?? ''}`)
      mids.set(pol._id, pol)
      ids.set(pol.id, pol)
      this.out(`--> Status: OK, ID:${status.Meta ?? ''}\n`)
    })
  }

  syncPolicies(pols) {
    const existing = this.fetchPolicies()
    const dash = new Map()
    const git = new Map()
    existing.forEach((p, i) => dash.set(p.id !== '' ? p.id : p._id, i))
    pols.forEach((p, i) => git.set(p.id !== '' ? p.id : p._id !== '' ? p._id : `temp-pol-${randomUUID()}`, i))
    const updates = []
    const deletes = []
    const creates = []
    for (const [key, index] of git) {
      if (!dash.has(key)) continue
      const p = pols[index]
      p._id = existing[dash.get(key)]._id
      updates.push(p)
    }
    for (const [key, i] of dash) if (!git.has(key)) deletes.push(existing[i]._id)
    for (const [key, index] of git) if (!dash.has(key)) creates.push(pols[index])

    this.out(`Deleting policies: ${deletes.length}\nUpdating policies: ${updates.length}\n`)
    this.out(`Creating policies: ${creates.length}\n`)
    for (const id of deletes) {
      this.out(`SYNC Deleting Policy: ${id}\n`)
      const resp = this.send('DELETE', urljoin(this.url, '/api/portal/policies', id))
      if (resp.status !== 200) throw new GoError(`API Returned error: ${resp.text}`)
    }
    this.updatePolicies(updates)
    for (const p of updates) this.out(`SYNC Updated Policy: ${p.name}\n`)
    this.createPolicies(creates)
    for (const p of creates) this.out(`SYNC Created Policy: ${p.name}\n`)
  }

  fetchAssets() {
    const fullPath = urljoin(this.url, '/api/assets')
    const resp = this.send('GET', fullPath)
    if (resp.status !== 200) throw new GoError(`API Returned error: ${resp.text} for ${fullPath}`)
    const list = decodeJson(resp.text)
    return (Array.isArray(list) ? list : []).map(decodeGo(decodeAsset))
  }

  fetchAsset(id) {
    const fullPath = urljoin(this.url, '/api/assets', id)
    const resp = this.send('GET', fullPath)
    if (resp.status !== 200) throw new GoError(`API ${id} Returned error: ${resp.text} for ${fullPath}`)
    return decodeGo(decodeAsset)(decodeJson(resp.text))
  }

  createAssets(assets) {
    const ids = new Map(this.fetchAssets().map((a) => [a.id, a]))
    assets.forEach((a, i) => {
      this.out(`Creating Assets ${i}: ${a.name}\n`)
      if (ids.has(a.id)) {
        this.out('Warning: Asset ID already exists\n')
        throw new GoError(USE_ASSET_UPDATE_ERROR)
      }
      const resp = this.send('POST', urljoin(this.url, '/api/assets'), undefined, a)
      if (resp.status !== 201) throw new GoError(`API Returned error: ${resp.text} (code: ${resp.status})`)
      const status = decodeJson(resp.text)
      if (status.Status !== 'success')
        throw new GoError(`API request completed, but with error: ${status.Message ?? ''}`)
      a._id = status.Meta ?? ''
      ids.set(a.id, a)
      this.out(`--> Status: OK, ID:${a.id}\n`)
    })
  }

  updateAssets(assets) {
    const ids = new Map(this.fetchAssets().map((a) => [a.id, a]))
    assets.forEach((a, i) => {
      this.out(`Updating Asset ${i}: ${a.name}\n`)
      const found = ids.get(a.id)
      if (!found) throw new GoError(USE_ASSET_UPDATE_ERROR)
      a.id = found.id
      a._id = found._id
      const resp = this.send('PUT', urljoin(this.url, '/api/assets', a.id), undefined, a)
      if (resp.status !== 200) throw new GoError(`Assets Updating Returned error: ${resp.text}`)
      const status = decodeJson(resp.text)
      if (status.Status !== 'success')
        throw new GoError(`Assets request completed, but with error: ${status.Message ?? ''}`)
      this.out(`--> Status: OK, ID:${a.id}\n`)
    })
  }

  syncAssets(assets) {
    const existing = this.fetchAssets()
    const dash = new Map()
    const git = new Map()
    existing.forEach((a, i) => dash.set(a.id, i))
    assets.forEach((a, i) => git.set(a.id !== '' ? a.id : a._id !== '' ? a._id : `temp-${randomUUID()}`, i))
    const updates = []
    const deletes = []
    const creates = []
    for (const [key, index] of git) {
      this.out(`Checking: ${key}\n`)
      if (!dash.has(key)) continue
      const a = assets[index]
      a._id = existing[dash.get(key)]._id
      a.id = existing[dash.get(key)].id
      updates.push(a)
    }
    for (const [key, i] of dash) if (!git.has(key)) deletes.push(existing[i]._id)
    for (const [key, index] of git) if (!dash.has(key)) creates.push(assets[index])
    this.out(`Deleting: ${deletes.length}\nUpdating: ${updates.length}\nCreating: ${creates.length}\n`)
    for (const id of deletes) {
      this.out(`SYNC Deleting: ${id}\n`)
      const resp = this.send('DELETE', urljoin(this.url, '/api/assets', id))
      if (resp.status !== 200) throw new GoError(`API Returned error: ${resp.text}`)
    }
    this.updateAssets(updates)
    for (const a of updates) this.out(`SYNC Updated: ${a._id}\n`)
    this.createAssets(creates)
    for (const a of creates) this.out(`SYNC Created: ${a.name}\n`)
  }
}

function parseId(apiID, dbID) {
  if (apiID !== '') return apiID
  if (dbID !== '') return dbID
  return `temp-${randomUUID()}`
}

/** mgo's bson.ObjectIdHex: panics on anything but 24 hex digits. */
function objectIdHex(s) {
  if (!/^[0-9a-fA-F]{24}$/.test(s)) throw new GoPanic(`invalid input to ObjectIdHex: "${s}"`)
  return s.toLowerCase()
}

function decodeJson(text) {
  try {
    return parseJson(text)
  } catch (err) {
    throw asGoError(err)
  }
}

function decodeGo(decoder) {
  return (value) => {
    try {
      return decoder(value)
    } catch (err) {
      throw asGoError(err)
    }
  }
}

function asGoError(err) {
  if (err instanceof GoError || err instanceof GoPanic) return err
  if (err instanceof GoJsonError || err instanceof NetError) return new GoError(err.message)
  throw err
}

/** json.Marshal of a classic DBApiDefinition, as tyk-sync sends it (`oas` only when set). */
export function encodeForDashboard(d) {
  const out = {}
  if (d.api_definition) out.api_definition = d.api_definition
  if (d.oas) out.oas = d.oas
  if ((d.categories ?? []).length > 0) out.categories = d.categories
  out.hook_references = d.hook_references ?? null
  out.is_site = d.is_site ?? false
  out.sort_by = d.sort_by ?? 0
  out.user_group_owners = d.user_group_owners ?? null
  out.user_owners = d.user_owners ?? null
  return out
}

// --- publishers (cli-publisher) ---

export class DashboardPublisher {
  constructor(dashboard, { secret, hostname, orgOverride, allowUnsafeOAS }, out) {
    Object.assign(this, { dashboard, secret, hostname, orgOverride, allowUnsafeOAS, out })
  }

  name() {
    return 'Dashboard Publisher'
  }

  client() {
    const [c, err] = Client.open(this.dashboard, this.hostname, this.secret, this.orgOverride, this.out)
    if (err) throw err
    if (this.orgOverride === '') this.orgOverride = c.orgID
    return c
  }

  enforce(items, set) {
    if (this.orgOverride !== '') {
      this.out('org override detected, setting.\n')
      for (const item of items) set(item, this.orgOverride)
    }
  }

  createAPIs(defs) {
    if (defs.length === 0) return
    const c = this.client()
    this.enforce(defs, setOrgID)
    c.createAPIs(defs)
  }

  updateAPIs(defs) {
    const c = this.client()
    this.enforce(defs, setOrgID)
    c.updateAPIs(defs)
  }

  syncAPIs(defs) {
    const c = this.client()
    if (this.orgOverride !== '') {
      // Definitions without api_definition stay zero values (skipped by SyncAPIs).
      const fixed = defs.map((d) => {
        if (!d.api_definition) return { hook_references: null }
        setOrgID(d, this.orgOverride)
        return d
      })
      return c.syncAPIs(fixed)
    }
    return c.syncAPIs(defs)
  }

  createPolicies(pols) {
    if (pols.length === 0) return
    const c = this.client()
    this.enforce(pols, (p, org) => (p.org_id = org))
    c.createPolicies(pols)
  }

  updatePolicies(pols) {
    const c = this.client()
    this.enforce(pols, (p, org) => (p.org_id = org))
    c.updatePolicies(pols)
  }

  syncPolicies(pols) {
    const c = this.client()
    if (this.orgOverride !== '') for (const p of pols) p.org_id = this.orgOverride
    c.syncPolicies(pols)
  }

  createAssets(assets) {
    if (assets.length === 0) return
    const c = this.client()
    this.enforce(assets, (a, org) => (a.org_id = org))
    c.createAssets(assets)
  }

  updateAssets(assets) {
    const c = this.client()
    this.enforce(assets, (a, org) => (a.org_id = org))
    c.updateAssets(assets)
  }

  syncAssets(assets) {
    const c = this.client()
    if (this.orgOverride !== '') for (const a of assets) a.org_id = this.orgOverride
    c.syncAssets(assets)
  }

  reload() {
    this.out('Dashboard does not require explicit reload. Skipping Reload.\n')
  }
}

export class MockPublisher {
  constructor(out) {
    this.out = out
  }

  name() {
    return 'Mock Publisher'
  }

  createAPIs(defs) {
    for (const d of defs) {
      const p = d.api_definition?.proxy ?? {}
      this.out(`Creating API ID: mock (on: ${p.listen_path ?? ''} to: ${p.target_url ?? ''})\n`)
    }
  }

  updateAPIs(defs) {
    for (const d of defs) {
      const p = d.api_definition?.proxy ?? {}
      this.out(
        `Updating API ID: ${d.api_definition?.api_id ?? ''} (on: ${p.listen_path ?? ''} to: ${p.target_url ?? ''})\n`,
      )
    }
  }

  syncAPIs() {}
  createPolicies() {}
  updatePolicies() {}
  syncPolicies() {}
  createAssets() {}
  updateAssets() {}
  syncAssets() {}
  reload() {}
}

// --- the -p folder (tyk-vcs/getter.go FSGetter) ---

function openFile(base, file) {
  const path = normalize(join(base, file))
  try {
    return readFileSync(path)
  } catch (err) {
    const why =
      err.code === 'ENOENT'
        ? 'no such file or directory'
        : err.code === 'EISDIR'
          ? 'is a directory'
          : err.message
    throw new GoError(`open ${path}: ${why}`)
  }
}

function specEntries(spec, key) {
  const list = spec[key]
  if (list === undefined || list === null) return []
  if (!Array.isArray(list)) {
    throw new GoError(
      `json: cannot unmarshal ${typeof list === 'object' ? 'object' : typeof list} into Go struct field TykSourceSpec.${key} of type []tyk_vcs.${key === 'files' ? 'APIInfo' : key === 'policies' ? 'PolicyInfo' : 'AssetsInfo'}`,
    )
  }
  return list.map((e) => (isObject(e) ? e : {}))
}

/** FetchTykSpec, FetchAPIDef, FetchPolicies and FetchAssets of a folder; prints their Fetched lines. */
export function readFolder(base, out) {
  let raw
  try {
    raw = openFile(base, '.tyk.json')
  } catch (err) {
    out('.tyk.json\n')
    throw err
  }
  const spec = decodeJson(raw.toString('utf8'))
  if (!isObject(spec))
    throw new GoError('json: cannot unmarshal array into Go value of type tyk_vcs.TykSourceSpec')
  if (spec.type === 'oas')
    throw new GoError('tyk-sync double: "type": "oas" (swagger import) is not emulated')
  if (spec.type !== 'apidef') throw new GoError("Type must be 'apidef or 'oas'")

  const defs = []
  let classic = 0
  let oas = 0
  for (const info of specEntries(spec, 'files')) {
    if (!info.file) continue
    const text = openFile(base, info.file).toString('utf8')
    let d
    let firstError
    try {
      d = decodeDbApi(parseJson(text))
    } catch (err) {
      firstError = asGoError(err)
      d = { hook_references: null, is_site: false, sort_by: 0, user_group_owners: null, user_owners: null }
    }
    if (firstError || (!isOAS(d) && !d.api_definition)) {
      // A bare definition: unmarshalled again as apidef.APIDefinition.
      let bare
      try {
        bare = parseJson(text)
      } catch {
        throw firstError
      }
      if (!isObject(bare))
        throw firstError ?? new GoError('json: cannot unmarshal into Go value of type objects.APIDefinition')
      d.api_definition = bare
    }
    if (d.oas) {
      oas++
      d.api_definition = { is_oas: true }
    } else classic++
    if (info.api_id) setAPIID(d, info.api_id)
    if (info.db_id) setDBID(d, objectIdHex(info.db_id))
    if (info.org_id) setOrgID(d, info.org_id)
    defs.push(d)
  }
  out(`Fetched ${classic} classic API Definitions\nFetched ${oas} OAS API Definitions\n`)

  const pols = []
  for (const info of specEntries(spec, 'policies')) {
    let raw
    try {
      raw = openFile(base, info.file ?? '')
    } catch (err) {
      out(`${info.file ?? ''}\n`)
      throw err
    }
    const pol = decodeGo(decodePolicy)(decodeJson(raw.toString('utf8')))
    if (info.id) pol.id = info.id
    if (pol.org_id === '') throw new GoError('Policies must include an org ID')
    pols.push(pol)
  }
  out(`Fetched ${pols.length} policies\n`)

  const assets = []
  for (const info of specEntries(spec, 'assets')) {
    let raw
    try {
      raw = openFile(base, info.file ?? '')
    } catch (err) {
      out(`${info.file ?? ''}\n`)
      throw err
    }
    const asset = decodeGo(decodeAsset)(decodeJson(raw.toString('utf8')))
    if (info.id) asset.id = info.id
    if (asset.org_id === '') throw new GoError('Assets must include an org ID')
    assets.push(asset)
  }
  out(`Fetched ${assets.length} assets\n`)
  return { defs, pols, assets }
}

export { apiIds }
