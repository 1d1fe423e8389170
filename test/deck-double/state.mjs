// From a gateway fixture workspace (deck file format, as `deck gateway dump --with-id` prints it) to
// the content deck writes: flattened to Kong's entities, filtered the way GDR's pkg/dump queries Kong
// (select tags, skip flags), rebuilt into state (pkg/state/builder.go) and written like
// pkg/file/writer.go KongStateToContent: sorted, timestamps dropped, IDs dropped for named entities.

import { createHash } from 'node:crypto'

import { DeckError } from './gostr.mjs'

export const CREDENTIAL_KINDS = [
  ['keyauth_credentials', 'key'],
  ['hmacauth_credentials', 'username'],
  ['jwt_secrets', 'key'],
  ['basicauth_credentials', 'username'],
  ['oauth2_credentials', 'client_id'],
  ['acls', 'group'],
  ['mtls_auth_credentials', null],
]

const NESTED = new Set([
  'routes',
  'plugins',
  'filter_chains',
  'targets',
  'snis',
  'groups',
  'consumers',
  'endpoint_permissions',
])
for (const [kind] of CREDENTIAL_KINDS) NESTED.add(kind)

function own(obj) {
  const out = {}
  for (const [k, v] of Object.entries(obj ?? {})) if (!NESTED.has(k)) out[k] = v
  return out
}

// Fixtures should carry ids like a --with-id dump; a missing one gets a stable UUID-shaped id.
function ensureId(obj, kind, hint) {
  if (obj.id) return obj
  const h = createHash('sha1').update(`${kind}\0${hint}`).digest('hex')
  return {
    ...obj,
    id: `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`,
  }
}

const refOf = (value) =>
  value && typeof value === 'object' ? (value.id ?? value.name ?? value.username) : value

/** Flattens one workspace of a fixture into Kong's collections with foreign keys (_service, ...). */
export function flattenWorkspace(content) {
  const c = content ?? {}
  const raw = emptyState()
  const pluginOf = (p, scope, i) =>
    raw.plugins.push({ ...ensureId(own(p), 'plugin', `${JSON.stringify(scope)}${p.name}${i}`), ...scope })
  const routeOf = (r, serviceId, i) => {
    const route = { ...ensureId(own(r), 'route', r.name ?? `${serviceId}/${i}`), _service: serviceId }
    raw.routes.push(route)
    ;(r.plugins ?? []).forEach((p, j) => pluginOf(p, { _route: route.id }, j))
  }
  ;(c.services ?? []).forEach((s, i) => {
    const svc = ensureId(own(s), 'service', s.name ?? i)
    raw.services.push(svc)
    ;(s.routes ?? []).forEach((r, j) => routeOf(r, svc.id, j))
    ;(s.plugins ?? []).forEach((p, j) => pluginOf(p, { _service: svc.id }, j))
  })
  ;(c.routes ?? []).forEach((r, i) => routeOf(r, null, i))
  ;(c.consumer_groups ?? []).forEach((g, i) => {
    const group = ensureId(own(g), 'consumer_group', g.name ?? i)
    raw.consumerGroups.push(group)
    ;(g.plugins ?? []).forEach((p, j) => pluginOf(p, { _consumer_group: group.id }, j))
    for (const member of g.consumers ?? []) raw.members.push({ group: group.id, consumer: refOf(member) })
  })
  ;(c.consumers ?? []).forEach((cons, i) => {
    const consumer = ensureId(own(cons), 'consumer', cons.username ?? cons.custom_id ?? i)
    raw.consumers.push(consumer)
    ;(cons.plugins ?? []).forEach((p, j) => pluginOf(p, { _consumer: consumer.id }, j))
    for (const [kind, key] of CREDENTIAL_KINDS) {
      ;(cons[kind] ?? []).forEach((cred, j) => {
        raw.credentials[kind].push({
          ...ensureId(own(cred), kind, `${consumer.id}/${key ? cred[key] : j}`),
          _consumer: consumer.id,
        })
      })
    }
    for (const g of cons.groups ?? []) raw.members.push({ group: refOf(g), consumer: consumer.id })
  })
  ;(c.plugins ?? []).forEach((p, i) => {
    const scope = {}
    for (const [field, key] of [
      ['service', '_service'],
      ['route', '_route'],
      ['consumer', '_consumer'],
      ['consumer_group', '_consumer_group'],
    ]) {
      if (p[field]) scope[key] = refOf(p[field])
    }
    const plugin = { ...p }
    for (const field of ['service', 'route', 'consumer', 'consumer_group']) delete plugin[field]
    pluginOf(plugin, scope, i)
  })
  ;(c.upstreams ?? []).forEach((u, i) => {
    const upstream = ensureId(own(u), 'upstream', u.name ?? i)
    raw.upstreams.push(upstream)
    ;(u.targets ?? []).forEach((t) =>
      raw.targets.push({
        ...ensureId(own(t), 'target', `${upstream.id}/${t.target}`),
        _upstream: upstream.id,
      }),
    )
  })
  ;(c.certificates ?? []).forEach((cert, i) => {
    const certificate = ensureId(own(cert), 'certificate', cert.cert ?? i)
    raw.certificates.push(certificate)
    for (const sni of cert.snis ?? []) {
      const obj = typeof sni === 'string' ? { name: sni } : own(sni)
      raw.snis.push({ ...ensureId(obj, 'sni', obj.name), _certificate: certificate.id })
    }
  })
  ;(c.ca_certificates ?? []).forEach((ca, i) =>
    raw.caCertificates.push(ensureId(own(ca), 'ca_certificate', ca.cert ?? i)),
  )
  ;(c.vaults ?? []).forEach((v, i) => raw.vaults.push(ensureId(own(v), 'vault', v.prefix ?? i)))
  ;(c.partials ?? []).forEach((p, i) => raw.partials.push(ensureId(own(p), 'partial', p.name ?? i)))
  ;(c.key_sets ?? []).forEach((s, i) => raw.keySets.push(ensureId(own(s), 'key_set', s.name ?? i)))
  ;(c.keys ?? []).forEach((k, i) => {
    const key = ensureId(own(k), 'key', k.name ?? i)
    if (k.set) {
      const set = raw.keySets.find((s) => s.id === refOf(k.set) || s.name === refOf(k.set))
      key._set = set?.id ?? refOf(k.set)
    }
    delete key.set
    raw.keys.push(key)
  })
  ;(c.custom_entities ?? []).forEach((e, i) =>
    raw.customEntities.push(ensureId({ ...e }, 'custom_entity', i)),
  )
  ;(c.rbac_roles ?? []).forEach((r, i) => {
    const role = ensureId(own(r), 'rbac_role', r.name ?? i)
    role._permissions = (r.endpoint_permissions ?? []).map((p) => ({ ...p }))
    raw.rbacRoles.push(role)
  })
  // Resolve references given by name (top-level plugins, consumer groups) to ids.
  const resolve = (list, id, ...names) => {
    if (id === undefined || id === null) return id
    const hit = list.find((e) => e.id === id || names.some((n) => e[n] !== undefined && e[n] === id))
    return hit ? hit.id : id
  }
  for (const p of raw.plugins) {
    if (p._service) p._service = resolve(raw.services, p._service, 'name')
    if (p._route) p._route = resolve(raw.routes, p._route, 'name')
    if (p._consumer) p._consumer = resolve(raw.consumers, p._consumer, 'username', 'custom_id')
    if (p._consumer_group) p._consumer_group = resolve(raw.consumerGroups, p._consumer_group, 'name')
  }
  for (const m of raw.members) {
    m.group = resolve(raw.consumerGroups, m.group, 'name')
    m.consumer = resolve(raw.consumers, m.consumer, 'username', 'custom_id')
  }
  raw.members = raw.members.filter(
    (m, i, all) => all.findIndex((x) => x.group === m.group && x.consumer === m.consumer) === i,
  )
  return raw
}

const hasTags = (entity, tags) => tags.every((t) => (entity.tags ?? []).includes(t))

/** What GDR's dump.Get fetches from Kong for the given dump.Config. */
export function selectEntities(raw, opts) {
  const tags = opts.selectTags ?? []
  const keep = (list) => (tags.length ? list.filter((e) => hasTags(e, tags)) : [...list])
  if (opts.rbacResourcesOnly) {
    if (opts.skipConsumers)
      throw new DeckError('dump: config: SkipConsumer cannot be set when RBACResourcesOnly is set')
    if (tags.length)
      throw new DeckError('dump: config: SelectorTags cannot be set when RBACResourcesOnly is set')
    return { ...emptyState(), rbacRoles: raw.rbacRoles }
  }
  const out = {
    services: keep(raw.services),
    routes: keep(raw.routes),
    plugins: keep(raw.plugins),
    upstreams: keep(raw.upstreams),
    certificates: keep(raw.certificates),
    snis: keep(raw.snis),
    caCertificates: opts.skipCaCertificates ? [] : keep(raw.caCertificates),
    vaults: keep(raw.vaults),
    partials: keep(raw.partials),
    keys: keep(raw.keys),
    keySets: keep(raw.keySets),
    // Custom entities cannot be tagged: deck skips them when select tags are given.
    customEntities: tags.length ? [] : [...raw.customEntities],
    rbacRoles: [],
    consumers: [],
    consumerGroups: [],
    members: [],
    credentials: Object.fromEntries(CREDENTIAL_KINDS.map(([kind]) => [kind, []])),
  }
  // Targets are listed per (selected) upstream.
  const upstreamIds = new Set(out.upstreams.map((u) => u.id))
  out.targets = keep(raw.targets).filter((t) => upstreamIds.has(t._upstream))
  if (opts.skipConsumers) {
    out.plugins = out.plugins.filter((p) => !p._consumer && !p._consumer_group)
    return out
  }
  out.consumers = keep(raw.consumers)
  out.consumerGroups = keep(raw.consumerGroups)
  for (const [kind] of CREDENTIAL_KINDS) {
    // mTLS credentials are never filtered by tags (GDR pkg/dump/dump.go).
    out.credentials[kind] =
      kind === 'mtls_auth_credentials' ? [...raw.credentials[kind]] : keep(raw.credentials[kind])
  }
  if (!opts.skipConsumersWithConsumerGroups) {
    const groupIds = new Set(out.consumerGroups.map((g) => g.id))
    const consumers = new Map(raw.consumers.map((c) => [c.id, c]))
    out.members = raw.members.filter(
      (m) => groupIds.has(m.group) && consumers.has(m.consumer) && hasTags(consumers.get(m.consumer), tags),
    )
  }
  return out
}

function emptyState() {
  return {
    services: [],
    routes: [],
    plugins: [],
    upstreams: [],
    targets: [],
    certificates: [],
    snis: [],
    caCertificates: [],
    vaults: [],
    partials: [],
    keys: [],
    keySets: [],
    customEntities: [],
    rbacRoles: [],
    consumers: [],
    consumerGroups: [],
    members: [],
    credentials: Object.fromEntries(CREDENTIAL_KINDS.map(([kind]) => [kind, []])),
  }
}

// ---- writer (GDR pkg/file/writer.go) ----

const goCompare = (a, b) => Buffer.compare(Buffer.from(a ?? ''), Buffer.from(b ?? ''))

// deck sorts by a key (name, username, ...) with ties in id order (memdb iterates by id).
function sortBy(list, key) {
  return [...list].sort((a, b) => goCompare(key(a), key(b)) || goCompare(a.__id ?? a.id, b.__id ?? b.id))
}

const TIMESTAMP_FIELDS = ['created_at', 'updated_at']
/** The flat state's links between entities (not Kong fields). */
export const FOREIGN_KEYS = [
  '_service',
  '_route',
  '_consumer',
  '_consumer_group',
  '_upstream',
  '_certificate',
  '_set',
  '_permissions',
]

function clean(entity, altName, withId) {
  const out = {}
  for (const [k, v] of Object.entries(entity)) {
    if (FOREIGN_KEYS.includes(k) || TIMESTAMP_FIELDS.includes(k)) continue
    out[k] = v
  }
  // utils.ZeroOutID: the id goes unless --with-id or the entity has no alternative name.
  if (!withId && altName !== undefined && altName !== null && altName !== '') delete out.id
  Object.defineProperty(out, '__id', { value: entity.id, enumerable: false })
  return out
}

const pluginKey = (p) =>
  (p.name ?? '') + (p.consumer ?? '') + (p.route ?? '') + (p.service ?? '') + (p.consumer_group ?? '')
const sortPlugins = (list) => sortBy(list, (p) => (p.name !== undefined ? pluginKey(p) : p.id))
const named = (field) => (e) => e[field] ?? e.id

function notFound(what, id, plugin) {
  return new DeckError(
    `unable to get ${what} ${id} for plugin ${plugin.name} [${plugin.id}]: entity not found`,
  )
}

/**
 * KongStateToContent. opts: { workspace, selectTags, withId, formatVersion, policyOverrides,
 * basicAuthIdRule, warn }.
 * Warnings go to opts.warn as they arise (before a later error, as in deck). Returns the content.
 */
export function writeContent(state, opts) {
  const withId = opts.withId
  const content = { _format_version: opts.formatVersion, _workspace: opts.workspace ?? '' }
  if (opts.controlPlaneName) content._konnect = { control_plane_name: opts.controlPlaneName }
  if (opts.selectTags?.length) content._info = { select_tags: opts.selectTags }
  if (opts.policyOverrides)
    content._info = { ...(content._info ?? {}), consumer_group_policy_overrides: true }
  const basicAuths = state.credentials.basicauth_credentials
  let ids = withId
  if (opts.basicAuthIdRule !== 'none' && basicAuths.length > 0) {
    opts.warn?.('Warning: basic-auth credentials detected, IDs will be exported')
    if (opts.basicAuthIdRule === 'force') ids = true
  }

  const services = new Map(state.services.map((s) => [s.id, s]))
  const routes = new Map(state.routes.map((r) => [r.id, r]))
  const consumers = state.consumers
  const groups = new Map(state.consumerGroups.map((g) => [g.id, g]))
  const findConsumer = (ref) => consumers.find((c) => c.id === ref || (c.username && c.username === ref))
  const plugins = [...state.plugins].sort((a, b) => goCompare(a.id, b.id))
  const scoped = (p) => ({
    service: p._service,
    route: p._route,
    consumer: p._consumer,
    group: p._consumer_group,
  })
  const onlyScope = (p, scope) => {
    const s = scoped(p)
    return Object.entries(s).every(([k, v]) => (k === scope ? Boolean(v) : !v))
  }
  const nestedPlugins = (scope, id) =>
    sortPlugins(
      plugins.filter((p) => onlyScope(p, scope) && scoped(p)[scope] === id).map((p) => clean(p, p.name, ids)),
    )

  const routeOut = (r) => {
    const out = clean(r, r.name, ids)
    const ps = nestedPlugins('route', r.id)
    if (ps.length) out.plugins = ps
    return out
  }
  const serviceList = state.services.map((s) => {
    const out = clean(s, s.name, ids)
    if (out.client_certificate && typeof out.client_certificate === 'object')
      out.client_certificate = out.client_certificate.id
    const ps = nestedPlugins('service', s.id)
    if (ps.length) out.plugins = ps
    const rs = sortBy(state.routes.filter((r) => r._service === s.id).map(routeOut), named('name'))
    if (rs.length) out.routes = rs
    return out
  })
  content.services = sortBy(serviceList, named('name'))
  content.routes = sortBy(state.routes.filter((r) => !r._service).map(routeOut), named('name'))

  // Plugins scoped to none or several entities are top-level, with references by name.
  const topLevel = []
  for (const p of plugins) {
    const s = scoped(p)
    const refs = {}
    if (s.consumer) {
      const c = findConsumer(s.consumer)
      if (!c) throw notFound('consumer', s.consumer, p)
      refs.consumer = c.username || s.consumer
    }
    if (s.service) {
      const svc = services.get(s.service)
      if (!svc) throw notFound('service', s.service, p)
      refs.service = svc.name || s.service
    }
    if (s.route) {
      const r = routes.get(s.route)
      if (!r) throw notFound('route', s.route, p)
      refs.route = r.name || s.route
    }
    if (s.group) {
      const g = groups.get(s.group)
      if (!g) throw notFound('consumer-group', s.group, p)
      refs.consumer_group = g.name || s.group
    }
    const associations = Object.keys(refs).length
    if (associations === 0 || associations > 1) topLevel.push(Object.assign(clean(p, p.name, ids), refs))
  }
  content.plugins = sortPlugins(topLevel)

  content.upstreams = sortBy(
    state.upstreams.map((u) => {
      const out = clean(u, u.name, ids)
      const ts = sortBy(
        state.targets.filter((t) => t._upstream === u.id).map((t) => clean(t, t.target, ids)),
        named('target'),
      )
      if (ts.length) out.targets = ts
      return out
    }),
    named('name'),
  )

  content.certificates = sortBy(
    state.certificates.map((c) => {
      // FCertificate carries only id, cert, key, tags and snis (cert_alt/key_alt are not written).
      const out = { id: c.id, cert: c.cert, key: c.key, tags: c.tags }
      Object.defineProperty(out, '__id', { value: c.id, enumerable: false })
      const snis = state.snis
        .filter((s) => s._certificate === c.id)
        .map((s) => clean(s, s.name, ids))
        .sort((a, b) => goCompare(a.name, b.name))
      if (snis.length) out.snis = snis
      return out
    }),
    named('cert'),
  )
  content.ca_certificates = sortBy(
    state.caCertificates.map((c) => clean(c, null, true)),
    named('cert'),
  )

  content.consumers = sortBy(
    consumers.map((c) => {
      const out = clean(c, c.username, ids)
      const ps = nestedPlugins('consumer', c.id)
      if (ps.length) out.plugins = ps
      for (const [kind, key] of CREDENTIAL_KINDS) {
        const creds = state.credentials[kind]
          .filter((cred) => cred._consumer === c.id)
          .map((cred) => clean(cred, key ? cred[key] : null, key ? ids : true))
        const sorted = sortBy(creds, (cred) => (key ? (cred[key] ?? '') : (cred.subject_name ?? '')))
        if (sorted.length) out[kind] = sorted
      }
      const memberOf = state.members
        .filter((m) => m.consumer === c.id && groups.has(m.group))
        .map((m) => {
          const g = groups.get(m.group)
          return clean({ id: g.id, name: g.name, tags: g.tags }, g.name, ids)
        })
      const sortedGroups = sortBy(memberOf, (g) => g.name ?? '')
      if (sortedGroups.length) out.groups = sortedGroups
      return out
    }),
    named('username'),
  )
  content.rbac_roles = sortBy(state.rbacRoles, () => '').map((r) => {
    const out = clean(r, r.name, ids)
    const eps = r._permissions.map((p) => {
      const ep = { ...p }
      delete ep.role
      delete ep.created_at
      return ep
    })
    eps.sort((a, b) => goCompare(a.endpoint, b.endpoint))
    if (eps.length) out.endpoint_permissions = eps
    return out
  })

  content.vaults = sortBy(
    state.vaults.map((v) => clean(v, v.prefix, ids)),
    named('prefix'),
  )

  content.consumer_groups = sortBy(
    state.consumerGroups.map((g) => {
      const out = clean(g, g.name, ids)
      // In default mode consumer-group-scoped plugins are written as ConsumerGroupPlugin.
      const ps = plugins
        .filter((p) => onlyScope(p, 'group') && p._consumer_group === g.id)
        .map((p) => {
          const cgp = {
            id: p.id,
            name: p.name,
            instance_name: p.instance_name,
            config: p.config,
            tags: p.tags,
            partials: p.partials,
          }
          return clean(cgp, p.name, ids)
        })
        .sort((a, b) => goCompare(a.name, b.name) || goCompare(a.__id, b.__id))
      if (ps.length) out.plugins = ps
      return out
    }),
    named('name'),
  )

  content.custom_entities = sortBy(
    state.customEntities.map((e) => ({ ...e })),
    (e) => e.id,
  )
  content.partials = sortBy(
    state.partials.map((p) => clean(p, null, true)),
    named('name'),
  )
  const keySets = new Map(state.keySets.map((s) => [s.id, s]))
  content.keys = sortBy(
    state.keys.map((k) => {
      const out = clean(k, k.name, ids)
      if (k._set) {
        const set = keySets.get(k._set)
        // writer.go dereferences the key-set it failed to find: deck panics.
        if (!set) throw new GoPanic('runtime error: invalid memory address or nil pointer dereference')
        out.set = clean(set, set.name, ids)
      }
      return out
    }),
    named('name'),
  )
  content.key_sets = sortBy(
    state.keySets.map((s) => clean(s, s.name, ids)),
    named('name'),
  )
  return content
}

/** A Go panic: deck prints "panic: ..." and exits 2. */
export class GoPanic extends Error {}

/** writer.go getFormatVersion: "3.0" from Kong 3.0 on, "1.1" before. */
export function formatVersionFor(kongVersion) {
  const m = /^(\d+)\.(\d+)/.exec(kongVersion)
  if (!m) throw new DeckError('get format version: parsing Kong version: unknown Kong version')
  return Number(m[1]) >= 3 ? '3.0' : '1.1'
}
