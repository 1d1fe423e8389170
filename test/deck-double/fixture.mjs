// What `deck gateway sync` does to the emulated Kong: each request applied to the flat entities of a
// fixture workspace (state.mjs flattenWorkspace form), with Kong's cascades, then the workspace
// written back into the fixture file in its own format (ids and timestamps kept), atomically.

import { createHash } from 'node:crypto'
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'

import { parseDocument } from 'yaml'

import { DeckError } from './gostr.mjs'
import { httpError } from './gateway.mjs'
import { CREDENTIALS, KIND_TYPES, kongPlain } from './kong.mjs'
import { CREDENTIAL_KINDS, FOREIGN_KEYS } from './state.mjs'

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)

const COLLECTION = {
  service: 'services',
  route: 'routes',
  plugin: 'plugins',
  consumer: 'consumers',
  'consumer-group': 'consumerGroups',
  upstream: 'upstreams',
  target: 'targets',
  certificate: 'certificates',
  sni: 'snis',
  'ca-certificate': 'caCertificates',
  vault: 'vaults',
  partial: 'partials',
  key: 'keys',
  'key-set': 'keySets',
}

function listOf(raw, kind) {
  if (kind in CREDENTIALS) return raw.credentials[CREDENTIALS[kind][0]]
  return raw[COLLECTION[kind]]
}

function setList(raw, kind, list) {
  if (kind in CREDENTIALS) raw.credentials[CREDENTIALS[kind][0]] = list
  else raw[COLLECTION[kind]] = list
}

// The go-kong shaped entity as the fixture stores it (the id first, then go-kong's fields; foreign
// keys as _service, _route, ...).
function toRaw(kind, obj) {
  const plain = kongPlain(KIND_TYPES[kind], obj)
  delete plain.SkipHash
  const out = { id: plain.id, ...plain }
  const fk = (field, key) => {
    if (isObject(out[field])) out[key] = out[field].id
    delete out[field]
  }
  if (kind === 'service' && isObject(out.client_certificate))
    out.client_certificate = out.client_certificate.id
  if (kind === 'route') fk('service', '_service')
  if (kind === 'plugin') {
    fk('service', '_service')
    fk('route', '_route')
    fk('consumer', '_consumer')
    fk('consumer_group', '_consumer_group')
  }
  if (kind in CREDENTIALS) fk('consumer', '_consumer')
  if (kind === 'target') fk('upstream', '_upstream')
  if (kind === 'sni') fk('certificate', '_certificate')
  if (kind === 'key') fk('set', '_set')
  return out
}

// Kong stores updated_at on these (credentials only have created_at).
const hasUpdatedAt = (kind) => !(kind in CREDENTIALS)

function stamp(kind, entity, old, now) {
  const t = kind === 'target' ? now / 1000 : Math.floor(now / 1000)
  entity.created_at = old?.created_at ?? t
  if (hasUpdatedAt(kind)) entity.updated_at = t
  else delete entity.updated_at
  return entity
}

// Kong's basic-auth plugin stores sha1(password .. consumer_id).
function hashPassword(entity) {
  if (typeof entity.password === 'string' && entity._consumer) {
    entity.password = createHash('sha1')
      .update(entity.password + entity._consumer)
      .digest('hex')
  }
}

/** A request Kong refuses: a DeckError-like failure carrying go-kong's message. */
export class KongRefusal extends Error {}

/**
 * Applies one event (reconcile.mjs computeEvents) to the flat fixture workspace raw, as the Admin API
 * would; throws KongRefusal for what Kong refuses on its own (deleting a service routes still use).
 */
export function applyEvent(raw, event, now = Date.now()) {
  const { op, kind, obj } = event
  if (kind === 'consumer-group-consumer') {
    const group = obj.consumer_group.id
    const consumer = obj.consumer.id
    raw.members = raw.members.filter((m) => !(m.group === group && m.consumer === consumer))
    if (op !== 'delete') raw.members.push({ group, consumer })
    return
  }
  const list = listOf(raw, kind)
  if (op === 'delete') {
    if (kind === 'service' && raw.routes.some((r) => r._service === obj.id)) {
      throw new KongRefusal(httpError(400, "an existing 'routes' entity references this 'services' entity"))
    }
    setList(
      raw,
      kind,
      list.filter((e) => e.id !== obj.id),
    )
    cascade(raw, kind, obj.id)
    return
  }
  const oldId = op === 'update' ? event.old.id : obj.id
  const at = list.findIndex((e) => e.id === oldId || e.id === obj.id)
  const entity = stamp(kind, toRaw(kind, obj), at >= 0 ? list[at] : undefined, now)
  if (kind === 'basic-auth') hashPassword(entity)
  if (at >= 0) list[at] = entity
  else list.push(entity)
}

// What Kong deletes along with an entity (foreign keys with on_delete = cascade).
function cascade(raw, kind, id) {
  const drop = (k, pred) =>
    setList(
      raw,
      k,
      listOf(raw, k).filter((e) => !pred(e)),
    )
  switch (kind) {
    case 'service':
      drop('plugin', (p) => p._service === id)
      break
    case 'route':
      drop('plugin', (p) => p._route === id)
      break
    case 'consumer':
      drop('plugin', (p) => p._consumer === id)
      for (const k of Object.keys(CREDENTIALS)) drop(k, (c) => c._consumer === id)
      raw.members = raw.members.filter((m) => m.consumer !== id)
      break
    case 'consumer-group':
      drop('plugin', (p) => p._consumer_group === id)
      raw.members = raw.members.filter((m) => m.group !== id)
      break
    case 'upstream':
      drop('target', (t) => t._upstream === id)
      break
    case 'certificate':
      drop('sni', (s) => s._certificate === id)
      break
    case 'key-set':
      drop('key', (k) => k._set === id)
      break
  }
}

function bare(e) {
  const out = {}
  for (const [k, v] of Object.entries(e)) if (!FOREIGN_KEYS.includes(k)) out[k] = v
  return out
}

const nonEmpty = (obj, key, list) => {
  if (list.length) obj[key] = list
  return obj
}

/** The fixture form of a flat workspace: deck file format with ids and timestamps, nested like a dump. */
export function nestWorkspace(raw) {
  const serviceIds = new Set(raw.services.map((s) => s.id))
  const routeIds = new Set(raw.routes.map((r) => r.id))
  const consumerIds = new Set(raw.consumers.map((c) => c.id))
  const groupIds = new Set(raw.consumerGroups.map((g) => g.id))
  const scopes = (p) => ['_service', '_route', '_consumer', '_consumer_group'].filter((k) => p[k])
  const nestedUnder = (p, key, ids) => {
    const s = scopes(p)
    return s.length === 1 && s[0] === key && ids.has(p[key])
  }
  const pluginsOf = (key, ids, id) =>
    raw.plugins.filter((p) => nestedUnder(p, key, ids) && p[key] === id).map(bare)
  const routeOut = (r) => nonEmpty(bare(r), 'plugins', pluginsOf('_route', routeIds, r.id))

  const out = {}
  const put = (key, list) => {
    if (list.length) out[key] = list
  }
  put(
    'services',
    raw.services.map((s) => {
      const svc = bare(s)
      nonEmpty(svc, 'routes', raw.routes.filter((r) => r._service === s.id).map(routeOut))
      return nonEmpty(svc, 'plugins', pluginsOf('_service', serviceIds, s.id))
    }),
  )
  put(
    'routes',
    raw.routes
      .filter((r) => !r._service || !serviceIds.has(r._service))
      .map((r) => (r._service ? { ...routeOut(r), service: { id: r._service } } : routeOut(r))),
  )
  const groupsById = new Map(raw.consumerGroups.map((g) => [g.id, g]))
  put(
    'consumers',
    raw.consumers.map((c) => {
      const consumer = bare(c)
      for (const [collection] of CREDENTIAL_KINDS) {
        nonEmpty(
          consumer,
          collection,
          raw.credentials[collection].filter((cred) => cred._consumer === c.id).map(bare),
        )
      }
      nonEmpty(
        consumer,
        'groups',
        raw.members
          .filter((m) => m.consumer === c.id && groupsById.has(m.group))
          .map((m) => ({ id: m.group, name: groupsById.get(m.group).name })),
      )
      return nonEmpty(consumer, 'plugins', pluginsOf('_consumer', consumerIds, c.id))
    }),
  )
  put(
    'consumer_groups',
    raw.consumerGroups.map((g) => nonEmpty(bare(g), 'plugins', pluginsOf('_consumer_group', groupIds, g.id))),
  )
  put(
    'plugins',
    raw.plugins
      .filter((p) => {
        const s = scopes(p)
        if (s.length !== 1) return true
        const ids = {
          _service: serviceIds,
          _route: routeIds,
          _consumer: consumerIds,
          _consumer_group: groupIds,
        }
        return !ids[s[0]].has(p[s[0]])
      })
      .map((p) => {
        const plugin = bare(p)
        if (p._service) plugin.service = p._service
        if (p._route) plugin.route = p._route
        if (p._consumer) plugin.consumer = p._consumer
        if (p._consumer_group) plugin.consumer_group = p._consumer_group
        return plugin
      }),
  )
  put(
    'upstreams',
    raw.upstreams.map((u) =>
      nonEmpty(bare(u), 'targets', raw.targets.filter((t) => t._upstream === u.id).map(bare)),
    ),
  )
  put(
    'certificates',
    raw.certificates.map((c) =>
      nonEmpty(bare(c), 'snis', raw.snis.filter((s) => s._certificate === c.id).map(bare)),
    ),
  )
  put('ca_certificates', raw.caCertificates.map(bare))
  put('vaults', raw.vaults.map(bare))
  put('partials', raw.partials.map(bare))
  put('key_sets', raw.keySets.map(bare))
  put(
    'keys',
    raw.keys.map((k) => (k._set ? { ...bare(k), set: { id: k._set } } : bare(k))),
  )
  put('custom_entities', raw.customEntities.map(bare))
  put(
    'rbac_roles',
    raw.rbacRoles.map((r) => nonEmpty(bare(r), 'endpoint_permissions', r._permissions ?? [])),
  )
  return out
}

/**
 * Writes one workspace (fixture form, or {} for a new empty one) into the gateway fixture file,
 * keeping everything else in it, through a temporary file renamed over the original.
 */
export function saveWorkspace(gateway, workspace, content) {
  const path = gateway.path
  let doc
  try {
    doc = parseDocument(readFileSync(path, 'utf8'), { version: '1.2' })
  } catch (err) {
    throw new DeckError(`deck double: cannot read gateway fixture ${path}: ${err.message}`)
  }
  if (!doc.has('workspaces')) doc.set('workspaces', doc.createNode({ default: {} }))
  doc.setIn(['workspaces', workspace], doc.createNode(content))
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`)
  try {
    writeFileSync(tmp, doc.toString({ indentSeq: false, lineWidth: 0 }))
    renameSync(tmp, path)
  } catch (err) {
    rmSync(tmp, { force: true })
    throw new DeckError(`deck double: cannot write gateway fixture ${path}: ${err.message}`)
  }
}
