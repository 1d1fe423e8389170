// What `deck file validate` checks after reading the files: GDR's state builder (pkg/file/builder.go)
// resolving references, then pkg/state's collections rejecting duplicates ("entity already exists").

import { randomUUID } from 'node:crypto'

import { DeckError } from './gostr.mjs'
import { CREDENTIAL_KINDS } from './state.mjs'

const NOT_FOUND = 'entity not found'
const EXISTS = 'entity already exists'

// An id/name index, like a memdb table with unique indexes.
class Table {
  constructor(...keys) {
    this.keys = keys
    this.rows = []
  }

  find(value) {
    if (value === undefined || value === null) return undefined
    return this.rows.find((r) => this.keys.some((k) => r[k] !== undefined && r[k] === value))
  }

  // AddIgnoringDuplicates: the builder keeps the first of two same-named entities.
  addQuiet(row) {
    if (!this.keys.some((k) => this.find(row[k]))) this.rows.push(row)
  }
}

const named = (value) =>
  value && typeof value === 'object' ? (value.id ?? value.name ?? value.username) : value

function nestedCheck(plugin, primary) {
  const errs = []
  if (primary === 'consumer' && plugin.consumer) {
    errs.push(
      `nesting consumer (${named(plugin.consumer)}) under consumer-scoped plugin (${plugin.name}) is not allowed`,
    )
  }
  if (primary === 'route' && plugin.route) {
    errs.push(
      `nesting route (${named(plugin.route)}) under route-scoped plugin (${plugin.name}) is not allowed`,
    )
  }
  if (primary === 'service' && plugin.service) {
    errs.push(
      `nesting service (${named(plugin.service)}) under service-scoped plugin (${plugin.name}) is not allowed`,
    )
  }
  // errors.Join separates with newlines.
  if (errs.length) throw new DeckError(`building state: ${errs.join('\n')}`)
}

function pluginConsole(p) {
  const parts = []
  if (p.service) parts.push(`service ${p.service.name ?? p.service.id}`)
  if (p.route) parts.push(`route ${p.route.name ?? p.route.id}`)
  if (p.consumer) parts.push(`consumer ${p.consumer.username ?? p.consumer.id}`)
  if (p.group) parts.push(`consumer-group ${p.group.name ?? p.group.id}`)
  return `${p.name} ` + (parts.length ? `for ${parts.join(' and ')}` : '(global)')
}

/**
 * Builds the target state the way `file.Get`, checkForRBACResources and `state.Get` do for validation;
 * throws DeckError with deck's message on a broken reference, mixed RBAC content or a duplicate entity.
 * Returns the flat state.
 */
export function buildState(content, rbacResourcesOnly = false) {
  const services = new Table('id', 'name')
  const routes = new Table('id', 'name')
  const consumers = new Table('id', 'username')
  const groups = new Table('id', 'name')
  const raw = {
    services: [],
    routes: [],
    consumers: [],
    groups: [],
    plugins: [],
    creds: [],
    upstreams: [],
    targets: [],
  }
  const withId = (e) => ({ ...e, id: e.id ?? randomUUID() })

  const addPlugins = (list, scope, primary) => {
    for (const p of list ?? []) {
      nestedCheck(p, primary)
      raw.plugins.push({ ...withId(p), ...scope })
    }
  }
  const ingestRoute = (r, service) => {
    const route = withId(r)
    raw.routes.push({ ...route, _service: service })
    routes.addQuiet(route)
    addPlugins(r.plugins, { route: { id: route.id, name: route.name } }, 'route')
    return route
  }
  for (const s of content.services ?? []) {
    const svc = withId(s)
    raw.services.push(svc)
    services.addQuiet(svc)
    addPlugins(s.plugins, { service: { id: svc.id, name: svc.name } }, 'service')
    for (const r of s.routes ?? []) ingestRoute(r, svc.id)
  }
  for (const r of content.routes ?? []) {
    ingestRoute(r, undefined)
    if (r.service && typeof r.service === 'object' && !r.service.id && r.service.name) {
      if (!services.find(r.service.name)) {
        throw new DeckError(
          `building state: retrieve intermediate services (${r.service.name}): ${NOT_FOUND}`,
        )
      }
    }
  }
  for (const u of content.upstreams ?? []) {
    const up = withId(u)
    raw.upstreams.push(up)
    for (const t of u.targets ?? []) raw.targets.push({ ...withId(t), _upstream: up })
  }
  for (const g of content.consumer_groups ?? []) {
    const group = withId(g)
    raw.groups.push(group)
    groups.addQuiet(group)
    for (const p of g.plugins ?? [])
      raw.plugins.push({ ...withId(p), group: { id: group.id, name: group.name } })
  }
  for (const c of content.consumers ?? []) {
    const consumer = withId(c)
    raw.consumers.push(consumer)
    consumers.addQuiet(consumer)
    for (const g of c.groups ?? []) {
      if (!g.id && g.name && !groups.find(g.name)) {
        throw new DeckError(
          `building state: consumer-group '${g.name}' not found for consumer '${consumer.id}'`,
        )
      }
    }
    for (const [kind] of CREDENTIAL_KINDS) {
      for (const cred of c[kind] ?? []) raw.creds.push({ ...withId(cred), _kind: kind })
    }
    addPlugins(c.plugins, { consumer: { id: consumer.id, username: consumer.username } }, 'consumer')
  }
  for (const p of content.plugins ?? []) {
    const scope = {}
    const lookups = [
      ['consumer', consumers, 'consumer', (e) => ({ id: e.id, username: e.username })],
      ['service', services, 'service', (e) => ({ id: e.id, name: e.name })],
      ['route', routes, 'route', (e) => ({ id: e.id, name: e.name })],
      ['consumer_group', groups, 'group', (e) => ({ id: e.id, name: e.name })],
    ]
    for (const [field, table, key, ref] of lookups) {
      if (!p[field]) continue
      const hit = table.find(p[field])
      if (!hit) {
        const label = field === 'consumer_group' ? 'consumer-group' : field
        throw new DeckError(`building state: ${label} ${p[field]} for plugin ${p.name}: ${NOT_FOUND}`)
      }
      scope[key] = ref(hit)
    }
    const plugin = { ...withId(p) }
    for (const field of ['consumer', 'service', 'route', 'consumer_group']) delete plugin[field]
    raw.plugins.push({ ...plugin, ...scope })
  }

  checkRBAC(content, rbacResourcesOnly)

  // state.Get: unique indexes reject duplicates, in this order.
  const unique = (label, what, list, keys, consoleOf) => {
    const seen = []
    for (const e of list) {
      const clash = seen.some((s) => keys.some((k) => e[k] !== undefined && (s.id === e[k] || s[k] === e[k])))
      if (clash)
        throw new DeckError(`inserting ${label} into state: inserting ${what} ${consoleOf(e)}: ${EXISTS}`)
      seen.push(e)
    }
  }
  unique('service', 'service', raw.services, ['id', 'name'], (e) => e.name ?? e.id)
  unique('route', 'route', raw.routes, ['id', 'name'], (e) => e.name ?? e.id)
  const seenConsumers = []
  for (const c of raw.consumers) {
    const byName = seenConsumers.some(
      (s) => s.id === c.id || (c.username !== undefined && s.username === c.username),
    )
    if (byName)
      throw new DeckError(
        `inserting consumer into state: inserting consumer by username ${c.username ?? c.id}: ${EXISTS}`,
      )
    if (c.custom_id !== undefined && seenConsumers.some((s) => s.custom_id === c.custom_id)) {
      throw new DeckError(
        `inserting consumer into state: inserting consumer by custom_id ${c.username ?? c.id}: ${EXISTS}`,
      )
    }
    seenConsumers.push(c)
  }
  unique('consumer group', 'consumerGroup', raw.groups, ['id', 'name'], (e) => e.name ?? e.id)
  unique('upstream', 'upstream', raw.upstreams, ['id', 'name'], (e) => e.name ?? e.id)
  const seenTargets = []
  for (const t of raw.targets) {
    if (
      seenTargets.some((s) => s.id === t.id || (s._upstream.id === t._upstream.id && s.target === t.target))
    ) {
      throw new DeckError(
        `inserting target into state: inserting target ${t.target} for upstream ${t._upstream.name ?? t._upstream.id}: ${EXISTS}`,
      )
    }
    seenTargets.push(t)
  }
  unique('certificate', 'certificate', content.certificates ?? [], ['id'], (e) => e.id)
  const snis = (content.certificates ?? []).flatMap((c) =>
    (c.snis ?? []).map((s) => (typeof s === 'string' ? { name: s } : s)),
  )
  unique('sni', 'sni', snis, ['name'], (e) => e.name)
  unique('ca_certificate', 'ca-cert', content.ca_certificates ?? [], ['id'], (e) => e.id)
  unique('partial', 'partial', content.partials ?? [], ['id', 'name'], (e) => e.name ?? e.id)
  const seenPlugins = []
  const scopeKey = (p) =>
    [p.name, p.service?.id ?? '', p.route?.id ?? '', p.consumer?.id ?? '', p.group?.id ?? ''].join('\0')
  for (const p of raw.plugins) {
    if (seenPlugins.some((s) => s.id === p.id || scopeKey(s) === scopeKey(p))) {
      throw new DeckError(`inserting plugins into state: inserting plugin ${pluginConsole(p)}: ${EXISTS}`)
    }
    seenPlugins.push(p)
  }
  unique('vault', 'vault', content.vaults ?? [], ['id', 'prefix'], (e) => e.prefix ?? e.id)
  unique('key', 'key', content.keys ?? [], ['id', 'name'], (e) => e.name ?? e.id)
  unique('key-set', 'key-set', content.key_sets ?? [], ['id', 'name'], (e) => e.name ?? e.id)
  return raw
}

/** deck's checkForRBACResources. */
export function checkRBAC(content, rbacResourcesOnly) {
  const proxy = [
    'services',
    'routes',
    'plugins',
    'filter_chains',
    'upstreams',
    'certificates',
    'ca_certificates',
    'consumers',
  ]
  const hasProxy = proxy.some((k) => (content[k] ?? []).length > 0)
  const hasRBAC = (content.rbac_roles ?? []).length > 0
  if (!hasProxy || !hasRBAC) return
  const common =
    'At a time, state file(s) must entirely consist of either proxy configuration or RBAC configuration.'
  if (rbacResourcesOnly) {
    throw new DeckError(
      `when --rbac-resources-only is used, state file(s) cannot contain any resources other than RBAC resources. ${common}`,
    )
  }
  throw new DeckError(
    `state file(s) contains RBAC resources. Please use --rbac-resources-only flag to manage these resources. ${common}`,
  )
}

// deck's validate.EntityMap: the collections online validation sends to /schemas/<type>/validate.
export const ONLINE_COLLECTIONS = [
  ['ACLGroups', 'acls'],
  ['BasicAuths', 'basicauth_credentials'],
  ['CACertificates', 'ca_certificates'],
  ['Certificates', 'certificates'],
  ['Consumers', 'consumers'],
  ['HMACAuths', 'hmacauth_credentials'],
  ['JWTAuths', 'jwt_secrets'],
  ['KeyAuths', 'keyauth_credentials'],
  ['Oauth2Creds', 'oauth2_credentials'],
  ['Partials', 'partials'],
  ['Plugins', 'plugins'],
  ['Routes', 'routes'],
  ['SNIs', 'snis'],
  ['Services', 'services'],
  ['Targets', 'targets'],
  ['Upstreams', 'upstreams'],
  ['Vaults', 'vaults'],
]

/** The entities online validation posts, per collection, with the name or id deck reports. */
export function onlineEntities(content, raw) {
  const list = {
    services: raw.services,
    routes: raw.routes,
    consumers: raw.consumers,
    plugins: raw.plugins,
    upstreams: raw.upstreams,
    targets: raw.targets,
    certificates: content.certificates ?? [],
    snis: (content.certificates ?? []).flatMap((c) => c.snis ?? []),
    ca_certificates: content.ca_certificates ?? [],
    partials: content.partials ?? [],
    vaults: content.vaults ?? [],
  }
  for (const [kind] of CREDENTIAL_KINDS) list[kind] = raw.creds.filter((c) => c._kind === kind)
  return list
}
