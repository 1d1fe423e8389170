// The reconciler behind `deck gateway diff|sync|apply`, after GDR: the current state as GDR's
// pkg/state builds it from what Kong returns (references filled in with names), the target state as
// pkg/file/builder.go builds it from the state files (ids taken from matching current entities,
// select tags merged, Kong defaults filled), and pkg/diff's events in GDR's order (duplicate
// deletes, creates and updates level by level, deletes in reverse level order; within a kind in id
// order, as go-memdb iterates).

import { createHash } from 'node:crypto'

import { DeckError } from './gostr.mjs'
import { CREDENTIALS, KIND_TYPES, LEVELS, kongPlain } from './kong.mjs'

export const KINDS = Object.keys(KIND_TYPES)

export function emptyModel() {
  return Object.fromEntries(KINDS.map((k) => [k, []]))
}

const FOREIGN = ['_service', '_route', '_consumer', '_consumer_group', '_upstream', '_certificate', '_set']
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)
const clone = (v) => (v === undefined ? undefined : structuredClone(v))

function strip(obj, ...keys) {
  const out = { ...obj }
  for (const k of keys) delete out[k]
  return out
}

const own = (e) => strip(e, ...FOREIGN, '_permissions')

// utils.Get*Reference: the id plus the name (username for consumers) when there is one.
function reference(entity, id, nameField) {
  if (!entity) return { id }
  const ref = { id: entity.id }
  if (entity[nameField] !== undefined && entity[nameField] !== null) ref[nameField] = entity[nameField]
  return ref
}

// ---- current state (dump.Get + state.Get) ----

/**
 * The current state from a fixture workspace already flattened and filtered (state.mjs
 * flattenWorkspace + selectEntities), in go-kong shape. warn(text) receives GDR's warnings.
 */
export function currentState(raw, warn = () => {}) {
  const st = emptyModel()
  const services = new Map(raw.services.map((s) => [s.id, s]))
  const routes = new Map(raw.routes.map((r) => [r.id, r]))
  const consumers = new Map(raw.consumers.map((c) => [c.id, c]))
  const groups = new Map(raw.consumerGroups.map((g) => [g.id, g]))
  const partials = new Map(raw.partials.map((p) => [p.id, p]))
  const ref = (map, id, nameField) => (id ? reference(map.get(id), id, nameField) : undefined)
  const withRefs = (obj, refs) => {
    for (const [k, v] of Object.entries(refs)) if (v !== undefined) obj[k] = v
    return obj
  }

  st.service = raw.services.map((s) => {
    const out = own(s)
    if (typeof out.client_certificate === 'string') out.client_certificate = { id: out.client_certificate }
    return clone(out)
  })
  st.route = raw.routes.map((r) => withRefs(clone(own(r)), { service: ref(services, r._service, 'name') }))
  st.consumer = raw.consumers.map((c) => clone(own(c)))
  st['consumer-group'] = raw.consumerGroups.map((g) => clone(own(g)))
  for (const m of raw.members) {
    const c = consumers.get(m.consumer)
    const g = groups.get(m.group)
    if (!c || !g) continue
    st['consumer-group-consumer'].push({
      consumer: clone(own(c)),
      consumer_group: clone(strip(own(g), 'created_at', 'updated_at')),
    })
  }
  for (const [kind, [collection]] of Object.entries(CREDENTIALS)) {
    for (const cred of raw.credentials[collection] ?? []) {
      const c = consumers.get(cred._consumer)
      if (!c) continue // state.Get drops credentials whose consumer it does not hold
      st[kind].push(withRefs(clone(own(cred)), { consumer: reference(c, c.id, 'username') }))
    }
  }
  st.plugin = raw.plugins.map((p) => {
    const out = withRefs(clone(own(p)), {
      service: ref(services, p._service, 'name'),
      route: ref(routes, p._route, 'name'),
      consumer: ref(consumers, p._consumer, 'username'),
      consumer_group: ref(groups, p._consumer_group, 'name'),
    })
    if (Array.isArray(out.partials)) {
      out.partials = out.partials
        .filter((link) => link && link.id)
        .map((link) => {
          const partial = partials.get(link.id)
          if (partial) return withRefs(reference(partial, partial.id, 'name'), { path: link.path })
          warn(
            `Warning: partial ${link.name ?? link.id} referenced in plugin ${p.name} not found in state.\n` +
              'Ensure valid `default_lookup_tags` are set before syncing.',
          )
          return link
        })
    }
    return out
  })
  st.upstream = raw.upstreams.map((u) => clone(own(u)))
  st.target = raw.targets.map((t) => withRefs(clone(own(t)), { upstream: { id: t._upstream } }))
  // dump.Get drops the snis Kong lists on certificates.
  st.certificate = raw.certificates.map((c) => clone(strip(own(c), 'snis')))
  st.sni = raw.snis.map((s) => withRefs(clone(own(s)), { certificate: { id: s._certificate } }))
  st['ca-certificate'] = raw.caCertificates.map((c) => clone(own(c)))
  st.vault = raw.vaults.map((v) => clone(own(v)))
  // state.Get zeroes partials' timestamps.
  st.partial = raw.partials.map((p) => clone(strip(own(p), 'created_at', 'updated_at')))
  st.key = raw.keys.map((k) => withRefs(clone(own(k)), { set: k._set ? { id: k._set } : undefined }))
  st['key-set'] = raw.keySets.map((s) => clone(own(s)))
  return st
}

// ---- target state (file.Get + state.Get) ----

// Kong's schema defaults the builder's defaulter fills into services, routes, upstreams and targets
// (GDR utils/constants.go plus what Kong 3.x /schemas/<entity> reports).
const SERVICE_DEFAULTS = {
  protocol: 'http',
  port: 80,
  connect_timeout: 60000,
  write_timeout: 60000,
  read_timeout: 60000,
  retries: 5,
  enabled: true,
}
const ROUTE_DEFAULTS = {
  protocols: ['http', 'https'],
  https_redirect_status_code: 426,
  regex_priority: 0,
  strip_path: true,
  preserve_host: false,
  request_buffering: true,
  response_buffering: true,
  path_handling: 'v0',
}
const UPSTREAM_DEFAULTS = {
  algorithm: 'round-robin',
  hash_on: 'none',
  hash_fallback: 'none',
  hash_on_cookie_path: '/',
  slots: 10000,
  use_srv_name: false,
  healthchecks: {
    threshold: 0,
    active: {
      type: 'http',
      timeout: 1,
      concurrency: 10,
      http_path: '/',
      https_verify_certificate: true,
      healthy: { interval: 0, successes: 0, http_statuses: [200, 302] },
      unhealthy: {
        interval: 0,
        http_failures: 0,
        tcp_failures: 0,
        timeouts: 0,
        http_statuses: [429, 404, 500, 501, 502, 503, 504, 505],
      },
    },
    passive: {
      type: 'http',
      healthy: {
        successes: 0,
        http_statuses: [
          200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308,
        ],
      },
      unhealthy: { http_failures: 0, tcp_failures: 0, timeouts: 0, http_statuses: [429, 500, 503] },
    },
  },
}
const TARGET_DEFAULTS = { weight: 100 }

// Plugins whose schema restricts protocols to HTTP (typedefs.protocols_http): their default is
// http/https instead of Kong's grpc, grpcs, http, https.
const HTTP_ONLY_PLUGINS = new Set([
  'aws-lambda',
  'azure-functions',
  'openid-connect',
  'session',
  'oauth2',
  'request-validator',
  'saml',
  'jwt-signer',
  'graphql-proxy-cache-advanced',
  'graphql-rate-limiting-advanced',
])

/** mergo.Merge without overwrite: fills unset fields (and empty string lists), recursing into objects. */
function fillDefaults(obj, defaults) {
  for (const [k, v] of Object.entries(defaults)) {
    const cur = obj[k]
    if (cur === undefined || cur === null) obj[k] = clone(v)
    else if (isObject(cur) && isObject(v)) fillDefaults(cur, v)
    else if (Array.isArray(cur) && cur.length === 0 && typeof v[0] === 'string') obj[k] = clone(v)
  }
  return obj
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

// The ID mirrored in each generated uuid: stable per entity so runs are reproducible.
function uuidFor(seed) {
  const h = createHash('sha1').update(seed).digest('hex')
  const variant = '89ab'[parseInt(h[16], 16) & 3]
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`
}

const empty = (s) => s === undefined || s === null || s === ''

// go-memdb's Get(key) on an id index, then on a secondary index.
function lookup(list, key, ...fields) {
  if (empty(key)) return undefined
  return list.find((e) => e.id === key) ?? list.find((e) => fields.some((f) => e[f] === key))
}

function expandIPv6(address) {
  let [head, tail] = address.includes('::') ? address.split('::') : [address, null]
  const h = head ? head.split(':') : []
  const t = tail ? tail.split(':') : []
  let groups = h
  if (tail !== null) groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t]
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return ''
  return groups.map((g) => g.toLowerCase().padStart(4, '0')).join(':')
}

// builder.go normalizeIPv6: [expanded-address]:port, port 8000 when none is given.
function normalizeIPv6(target) {
  let ip = target
  let port = '8000'
  const withPort = /^\[(.+)\]:(\d+)$/.exec(target)
  if (withPort) {
    ip = withPort[1]
    port = String(Number(withPort[2]))
  } else {
    const bracketed = /\[(\S+)\]$/.exec(target)
    if (bracketed) ip = bracketed[1]
  }
  const expanded = expandIPv6(ip)
  if (!expanded) {
    throw new DeckError(`building state: invalid ipv6 address${withPort ? ' and port' : ''} ${target}`)
  }
  return `[${expanded}]:${port}`
}

const OIDC_MESSAGE =
  'openid-connect plugin requires explicit non-empty config values for cache_tokens_salt ' +
  'to avoid regenerating session credentials during sync'
const RLA_MESSAGE =
  'a rate-limiting-advanced plugin with config.consumer_groups\n' +
  'and/or config.enforce_consumer_groups was found. Please use Consumer Groups scoped\n' +
  'Plugins when running against Kong Enterprise 3.4.0 and above.\n\n' +
  'Check https://docs.konghq.com/gateway/latest/kong-enterprise/consumer-groups/ for more information'

/**
 * Builds the target state from merged file content and the current state.
 * opts: { selectTags, kongVersion: [major, minor], partialApply, skipCaCerts, pluginConfigs,
 * fileDefaults (_info.defaults), diagnostic(code, message) (throws or warns), oidcCheck }
 */
export function targetState(content, current, opts) {
  return new Builder(content, current, opts).build()
}

class Builder {
  constructor(content, current, opts) {
    this.content = content
    this.current = current
    this.opts = opts
    this.tags = opts.selectTags ?? []
    this.out = emptyModel()
    this.groups = [] // rawState.ConsumerGroups: { group, consumers: [consumer objects] }
    this.used = new Set()
    const [major, minor] = opts.kongVersion
    this.groupScopedPlugins = (major > 3 || (major === 3 && minor >= 4)) && !opts.policyOverrides
    this.expressionsTrimmed = major < 3 || (major === 3 && minor < 7)
    // The intermediate state: what later entities may refer to.
    this.inter = { service: [], route: [], consumer: [], 'consumer-group': [], partial: [], 'key-set': [] }
    if (opts.partialApply) {
      for (const kind of Object.keys(this.inter)) this.inter[kind] = current[kind].map(clone)
    }
  }

  id(kind, ...parts) {
    let seed = [kind, ...parts].join('\0')
    let id = uuidFor(seed)
    for (let n = 1; this.used.has(id); n++) id = uuidFor(`${seed}\0${n}`)
    this.used.add(id)
    return id
  }

  // The defaulter: _info.defaults from the files first, then Kong's.
  defaults(obj, entity, kong) {
    const fromFile = this.opts.fileDefaults?.[entity]
    if (isObject(fromFile)) fillDefaults(obj, fromFile)
    return fillDefaults(obj, kong)
  }

  mergeTags(obj) {
    if (!this.tags.length) return obj
    const tags = [...(obj.tags ?? [])]
    for (const t of this.tags) if (!tags.includes(t)) tags.push(t)
    obj.tags = tags
    return obj
  }

  addInter(kind, obj, ...names) {
    const list = this.inter[kind]
    const clash = list.some((e) => e.id === obj.id || names.some((n) => !empty(obj[n]) && e[n] === obj[n]))
    if (!clash) list.push(obj)
  }

  build() {
    const c = this.content
    this.certificates(c.certificates ?? [])
    if (!this.opts.skipCaCerts) this.caCertificates(c.ca_certificates ?? [])
    this.partials(c.partials ?? [])
    for (const s of c.services ?? []) this.service(s)
    for (const r of c.routes ?? []) this.route(r)
    this.upstreams(c.upstreams ?? [])
    this.consumerGroups(c.consumer_groups ?? [])
    this.consumers(c.consumers ?? [])
    this.topLevelPlugins(c.plugins ?? [])
    this.keySets(c.key_sets ?? [])
    this.keys(c.keys ?? [])
    this.vaults(c.vaults ?? [])
    return this.finish()
  }

  certificates(list) {
    for (const file of list) {
      const c = clone(file)
      if (empty(c.id)) {
        const cur = this.current.certificate.find((x) => x.cert === c.cert && x.key === c.key)
        c.id = cur ? cur.id : this.id('certificate', c.cert, c.key)
      }
      this.mergeTags(c)
      const cert = { id: c.id, key: c.key, cert: c.cert, tags: c.tags, created_at: c.created_at }
      this.out.certificate.push(cert)
      for (const item of c.snis ?? []) {
        const sni = typeof item === 'string' ? { name: item } : clone(item)
        sni.certificate = { id: c.id }
        const cur = lookup(this.current.sni, sni.name, 'name')
        if (empty(sni.id)) sni.id = cur ? cur.id : this.id('sni', sni.name)
        this.mergeTags(sni)
        if (cur) sni.created_at = cur.created_at
        this.out.sni.push(sni)
      }
    }
  }

  caCertificates(list) {
    for (const file of list) {
      const c = clone(file)
      const cur = this.current['ca-certificate'].find((x) => x.id === c.cert || x.cert === c.cert)
      if (empty(c.id)) c.id = cur ? cur.id : this.id('ca-certificate', c.cert)
      this.mergeTags(c)
      if (cur) c.created_at = cur.created_at
      this.out['ca-certificate'].push(c)
    }
  }

  partials(list) {
    for (const file of list) {
      const p = clone(file)
      const cur = empty(p.name) ? undefined : lookup(this.current.partial, p.name, 'name')
      if (empty(p.id)) p.id = cur?.id ?? this.id('partial', p.name ?? '')
      this.mergeTags(p)
      delete p.created_at
      delete p.updated_at
      this.addInter('partial', p, 'name')
      this.out.partial.push(p)
    }
  }

  service(file) {
    const s = clone(file)
    const nestedRoutes = s.routes ?? []
    const nestedPlugins = s.plugins ?? []
    delete s.routes
    delete s.plugins
    delete s.filter_chains
    if (typeof s.client_certificate === 'string' && s.client_certificate !== '') {
      s.client_certificate = { id: s.client_certificate }
    }
    if (!empty(s.url)) this.unwrapURL(s)
    delete s.url
    const cur = empty(s.name) ? undefined : lookup(this.current.service, s.name, 'name')
    if (empty(s.id)) s.id = cur?.id ?? this.id('service', s.name ?? JSON.stringify(file))
    this.mergeTags(s)
    this.defaults(s, 'service', SERVICE_DEFAULTS)
    if (s.tls_sans && !s.tls_sans.dnsnames?.length && !s.tls_sans.uris?.length) delete s.tls_sans
    if (cur) s.created_at = cur.created_at
    this.out.service.push(s)
    this.addInter('service', s, 'name')
    const ref = reference(s, s.id, 'name')
    this.plugins(nestedPlugins.map((p) => ({ ...clone(p), service: { ...ref } })))
    nestedRoutes.forEach((r, i) => this.route({ ...r, service: { ...ref } }, `${s.id}/${i}`))
  }

  unwrapURL(s) {
    const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/.exec(s.url)
    if (!m) throw new DeckError(`invalid url: ${s.url}`)
    const explicit = { protocol: s.protocol, host: s.host, port: s.port, path: s.path }
    s.protocol = m[1]
    s.port = m[1] === 'https' ? 443 : 80
    const [host, port] = m[2].replace(/^.*@/, '').split(':')
    if (host) s.host = host
    if (port && /^\d+$/.test(port)) s.port = Number(port)
    if (m[3]) s.path = m[3].replace(/ /g, '%20')
    for (const [k, v] of Object.entries(explicit)) if (v !== undefined && v !== null) s[k] = v
  }

  route(file, hint) {
    const r = clone(file)
    const nestedPlugins = r.plugins ?? []
    delete r.plugins
    delete r.filter_chains
    const cur = empty(r.name) ? undefined : lookup(this.current.route, r.name, 'name')
    if (empty(r.id)) r.id = cur?.id ?? this.id('route', r.name ?? hint ?? JSON.stringify(file))
    this.mergeTags(r)
    if ((r.protocols ?? []).some((p) => p === 'grpc' || p === 'grpcs')) {
      if (r.strip_path === true) {
        throw new DeckError(
          "building state: schema violation (strip_path: cannot set 'strip_path' when 'protocols' is 'grpc' or 'grpcs')",
        )
      }
      r.strip_path = false
    }
    const hasExpression = r.expression !== undefined && r.expression !== null
    this.defaults(r, 'route', ROUTE_DEFAULTS)
    if (cur) r.created_at = cur.created_at
    if (hasExpression) {
      if (this.expressionsTrimmed) {
        delete r.path_handling
        delete r.regex_priority
      }
      if (r.priority === undefined || r.priority === null) r.priority = 0
    }
    this.out.route.push(r)
    this.addInter('route', r, 'name')
    const ref = reference(r, r.id, 'name')
    this.plugins(nestedPlugins.map((p) => ({ ...clone(p), route: { ...ref } })))
    if (isObject(r.service) && empty(r.service.id) && !empty(r.service.name)) {
      const s = lookup(this.inter.service, r.service.name, 'name')
      if (!s) {
        throw new DeckError(
          `building state: retrieve intermediate services (${r.service.name}): entity not found`,
        )
      }
      r.service = { id: s.id }
    }
  }

  upstreams(list) {
    for (const file of list) {
      const u = clone(file)
      const targets = u.targets ?? []
      delete u.targets
      const cur = lookup(this.current.upstream, u.name, 'name')
      if (empty(u.id)) u.id = cur?.id ?? this.id('upstream', u.name)
      this.mergeTags(u)
      this.defaults(u, 'upstream', UPSTREAM_DEFAULTS)
      if (cur) u.created_at = cur.created_at
      this.out.upstream.push(u)
      for (const fileTarget of targets) {
        const t = clone(fileTarget)
        t.upstream = { id: u.id }
        if (typeof t.target === 'string' && t.target.split(':').length > 2) t.target = normalizeIPv6(t.target)
        if (empty(t.id)) {
          const curTarget = this.current.target.find(
            (x) => x.upstream?.id === u.id && (x.id === t.target || x.target === t.target),
          )
          t.id = curTarget?.id ?? this.id('target', u.id, t.target)
        }
        this.mergeTags(t)
        this.defaults(t, 'target', TARGET_DEFAULTS)
        this.out.target.push(t)
      }
    }
  }

  consumerGroups(list) {
    for (const file of list) {
      const g = clone(file)
      const plugins = g.plugins ?? []
      const members = g.consumers ?? []
      delete g.plugins
      delete g.consumers
      const cur = lookup(this.current['consumer-group'], g.name, 'name')
      if (empty(g.id)) g.id = cur?.id ?? this.id('consumer-group', g.name)
      this.mergeTags(g)
      this.addInter('consumer-group', g, 'name')
      if (!this.groupScopedPlugins && plugins.length) {
        throw new DeckError(
          'deck double: consumer-group plugins of Kong < 3.4 or with --consumer-group-policy-overrides are not emulated',
        )
      }
      // ingestConsumerGroupScopedPlugins keeps only these fields.
      this.plugins(
        plugins.map((p) => ({
          id: p.id,
          name: p.name,
          config: clone(p.config),
          instance_name: p.instance_name,
          consumer_group: { id: g.id },
          partials: clone(p.partials),
          tags: clone(p.tags),
          _config: p._config,
        })),
      )
      if (cur) g.created_at = cur.created_at
      const entry = { group: g, consumers: [] }
      for (const member of members) {
        if (!member) continue
        entry.consumers.push(this.groupMember(g, typeof member === 'string' ? { username: member } : member))
      }
      const at = this.groups.findIndex((x) => x.group.id === g.id)
      if (at >= 0) this.groups[at] = entry
      else this.groups.push(entry)
      this.out['consumer-group'].push(g)
    }
  }

  findCurrentConsumer(c) {
    let cur
    if (!empty(c.username)) cur = lookup(this.current.consumer, c.username, 'username')
    if (!cur && !empty(c.custom_id)) cur = this.current.consumer.find((x) => x.custom_id === c.custom_id)
    return cur
  }

  // ingestConsumerGroupConsumer (without default_lookup_tags).
  groupMember(group, file) {
    const c = clone(file)
    const cur = this.findCurrentConsumer(c)
    if (empty(c.id)) c.id = cur?.id ?? this.id('consumer', c.username ?? '', c.custom_id ?? '')
    this.mergeTags(c)
    if (cur) c.created_at = cur.created_at
    this.addConsumer(c)
    this.addInter('consumer', c, 'username')
    this.memberships = this.memberships ?? []
    this.memberships.push({ group: group.id, consumer: c })
    return c
  }

  addConsumer(c) {
    if (this.out.consumer.some((x) => x.id === c.id)) return
    this.out.consumer.push(c)
  }

  consumers(list) {
    for (const file of list) {
      const c = clone(file)
      const nested = {
        plugins: c.plugins ?? [],
        groups: c.groups ?? [],
        creds: Object.fromEntries(Object.values(CREDENTIALS).map(([coll]) => [coll, c[coll] ?? []])),
      }
      for (const key of ['plugins', 'groups', ...Object.values(CREDENTIALS).map(([coll]) => coll)])
        delete c[key]
      const cur = this.findCurrentConsumer(c)
      if (empty(c.id)) c.id = cur?.id ?? this.id('consumer', c.username ?? '', c.custom_id ?? '')
      this.mergeTags(c)
      if (cur) c.created_at = cur.created_at
      const already = (this.memberships ?? []).find(
        (m) =>
          (!empty(c.username) && m.consumer.username === c.username) ||
          (!empty(c.custom_id) && m.consumer.custom_id === c.custom_id),
      )
      if (already) c.id = already.consumer.id
      else {
        this.addConsumer(c)
        this.addInter('consumer', c, 'username')
      }
      for (const group of nested.groups) {
        let groupId
        if (!empty(group.id)) groupId = group.id
        else if (!empty(group.name)) {
          const g = lookup(this.inter['consumer-group'], group.name, 'name')
          if (!g) {
            throw new DeckError(
              `building state: consumer-group '${group.name}' not found for consumer '${c.id}'`,
            )
          }
          groupId = g.id
        }
        const exists = (this.memberships ?? []).some(
          (m) => m.group === groupId && (m.consumer.id === c.id || m.consumer.username === c.id),
        )
        if (exists) continue
        const entry = this.groups.find(
          (x) =>
            (!empty(group.id) && x.group.id === group.id) ||
            (!empty(group.name) && x.group.name === group.name),
        )
        if (!entry) {
          throw new DeckError(
            `building state: consumer-group '${group.name ?? group.id}' not found for consumer '${c.id}'`,
          )
        }
        entry.consumers.push(c)
      }
      const ref = reference(c, c.id, 'username')
      this.plugins(nested.plugins.map((p) => ({ ...clone(p), consumer: { ...ref } })))
      for (const [kind, [coll, key]] of Object.entries(CREDENTIALS)) {
        for (const fileCred of nested.creds[coll]) {
          const cred = clone(fileCred)
          cred.consumer = { ...ref }
          this.credential(kind, cred, key)
        }
      }
    }
  }

  credential(kind, cred, key) {
    let existing
    if (kind === 'acl-group') {
      existing = this.current[kind].find(
        (x) => x.consumer?.id === cred.consumer.id && (x.id === cred.group || x.group === cred.group),
      )
    } else if (key) existing = lookup(this.current[kind], cred[key], key)
    if (kind !== 'mtls-auth' && empty(cred.id)) {
      cred.id = existing?.id ?? this.id(kind, cred.consumer.id, key ? (cred[key] ?? '') : '')
    }
    this.mergeTags(cred)
    if (existing && kind !== 'acl-group') cred.created_at = existing.created_at
    if (kind === 'mtls-auth' && empty(cred.id))
      cred.id = this.id(kind, cred.consumer.id, cred.subject_name ?? '')
    this.out[kind].push(cred)
  }

  topLevelPlugins(list) {
    const resolved = []
    for (const file of list) {
      const p = clone(file)
      const refOf = (v) => (isObject(v) ? (v.id ?? v.name ?? v.username) : v)
      const checks = [
        ['consumer', 'consumer', 'consumer', 'username', (k) => lookup(this.inter.consumer, k, 'username')],
        ['service', 'service', 'service', 'name', (k) => lookup(this.inter.service, k, 'name')],
        ['route', 'route', 'route', 'name', (k) => lookup(this.inter.route, k, 'name')],
        [
          'consumer_group',
          'consumer-group',
          'consumer_group',
          'name',
          (k) => lookup(this.inter['consumer-group'], k, 'name'),
        ],
      ]
      for (const [field, label, target, nameField, find] of checks) {
        if (p[field] === undefined || p[field] === null) continue
        const key = refOf(p[field])
        if (empty(key)) {
          delete p[field]
          continue
        }
        const hit = find(key)
        if (!hit)
          throw new DeckError(`building state: ${label} ${key} for plugin ${p.name}: entity not found`)
        p[target] = reference(hit, hit.id, nameField)
      }
      resolved.push(p)
    }
    this.plugins(resolved)
  }

  // pluginRelations: the ids of a plugin's scope, looked up in the current, then the intermediate state.
  relation(ref, kind, nameField) {
    if (!ref || empty(ref.id)) return ''
    const hit = lookup(this.current[kind], ref.id, nameField) ?? lookup(this.inter[kind], ref.id, nameField)
    if (hit) return hit.id
    return UUID.test(ref.id) ? ref.id : ''
  }

  plugins(list) {
    for (const p of list) {
      if (p.instance_name === undefined) delete p.instance_name
      if (p.partials === undefined) delete p.partials
      if (p.tags === undefined) delete p.tags
      if (p._config === undefined) delete p._config
      const scope = [
        this.relation(p.service, 'service', 'name'),
        this.relation(p.route, 'route', 'name'),
        this.relation(p.consumer, 'consumer', 'username'),
        this.relation(p.consumer_group, 'consumer-group', 'name'),
      ]
      const cur = this.current.plugin.find(
        (x) =>
          x.name === p.name &&
          (x.service?.id ?? '') === scope[0] &&
          (x.route?.id ?? '') === scope[1] &&
          (x.consumer?.id ?? '') === scope[2] &&
          (x.consumer_group?.id ?? '') === scope[3],
      )
      if (empty(p.id)) p.id = cur?.id ?? this.id('plugin', p.name, ...scope)
      if (p.partials !== undefined && p.partials !== null) p.partials = this.linkedPartials(p)
      if (!isObject(p.config)) p.config = {}
      if (!empty(p._config)) {
        const source = this.opts.pluginConfigs?.[p._config]
        if (!source)
          throw new DeckError(`building state: _plugin_config ${JSON.stringify(p._config)} not found`)
        mergePluginConfig(p.config, clone(source))
      }
      delete p._config
      this.validatePlugin(p)
      this.mergeTags(p)
      if (cur) {
        p.created_at = cur.created_at
        for (const link of p.partials ?? []) {
          if (empty(link.path)) {
            const match = (cur.partials ?? []).find((x) => x.id === link.id)
            if (match && !empty(match.path)) link.path = match.path
          }
        }
      }
      // What kong.FillPluginsDefaults adds before GDR compares and prints a plugin.
      if (p.enabled === undefined || p.enabled === null) p.enabled = true
      if (!Array.isArray(p.protocols) || p.protocols.length === 0) {
        p.protocols = HTTP_ONLY_PLUGINS.has(p.name) ? ['http', 'https'] : ['grpc', 'grpcs', 'http', 'https']
      }
      this.out.plugin.push(p)
    }
  }

  linkedPartials(p) {
    return p.partials.map((link) => {
      if (!isObject(link) || (empty(link.id) && empty(link.name))) {
        throw new DeckError(
          `building state: partial for plugin ${p.name}: either partial ID or name is required`,
        )
      }
      const key = empty(link.id) ? link.name : link.id
      const hit = lookup(this.inter.partial, key, 'name')
      if (!hit) {
        throw new DeckError(
          `building state: partial ${link.name ?? link.id} for plugin ${p.name}: entity not found`,
        )
      }
      const out = reference(hit, hit.id, 'name')
      if (link.path !== undefined) out.path = link.path
      return out
    })
  }

  validatePlugin(p) {
    const config = p.config ?? {}
    if (this.groupScopedPlugins && p.name === 'rate-limiting-advanced') {
      const groups = config.consumer_groups
      if ((Array.isArray(groups) && groups.length > 0) || config.enforce_consumer_groups === true) {
        this.opts.diagnostic('rla-consumer-groups-deprecated', RLA_MESSAGE)
      }
    }
    if (this.opts.oidcCheck && p.name === 'openid-connect') {
      const salt = config.cache_tokens_salt
      if (salt === undefined || salt === null || salt === '') {
        this.opts.diagnostic('oidc-missing-required-config', OIDC_MESSAGE)
      }
    }
  }

  keySets(list) {
    for (const file of list) {
      const s = clone(file)
      if (empty(s.id))
        s.id = lookup(this.current['key-set'], s.name, 'name')?.id ?? this.id('key-set', s.name)
      this.mergeTags(s)
      this.out['key-set'].push(s)
      this.addInter('key-set', s, 'name')
    }
  }

  keys(list) {
    for (const file of list) {
      const k = clone(file)
      if (empty(k.id)) k.id = lookup(this.current.key, k.name, 'name')?.id ?? this.id('key', k.name)
      this.mergeTags(k)
      if (isObject(k.set) && empty(k.set.id) && !empty(k.set.name)) {
        const s = lookup(this.inter['key-set'], k.set.name, 'name')
        if (!s) {
          throw new DeckError(
            `building state: retrieve intermediate key-set (${k.set.name}): entity not found`,
          )
        }
        k.set = { id: s.id }
      } else if (isObject(k.set)) k.set = { id: k.set.id }
      this.out.key.push(k)
    }
  }

  vaults(list) {
    for (const file of list) {
      const v = clone(file)
      const cur = lookup(this.current.vault, v.prefix, 'prefix')
      if (empty(v.id)) v.id = cur?.id ?? this.id('vault', v.prefix)
      this.mergeTags(v)
      if (cur) v.created_at = cur.created_at
      this.out.vault.push(v)
    }
  }

  // state.Get: references get the names of what they point to; memberships become entities.
  finish() {
    const st = this.out
    const byId = (kind) => new Map(st[kind].map((e) => [e.id, e]))
    const services = byId('service')
    const routes = byId('route')
    const groups = byId('consumer-group')
    const partials = byId('partial')
    const consumerOf = (id) =>
      st.consumer.find((c) => c.id === id) ?? st.consumer.find((c) => !empty(c.username) && c.username === id)
    for (const r of st.route) {
      if (r.service?.id && services.has(r.service.id))
        r.service = reference(services.get(r.service.id), r.service.id, 'name')
    }
    for (const p of st.plugin) {
      if (p.service?.id && services.has(p.service.id))
        p.service = reference(services.get(p.service.id), p.service.id, 'name')
      if (p.route?.id && routes.has(p.route.id))
        p.route = reference(routes.get(p.route.id), p.route.id, 'name')
      if (p.consumer?.id) {
        const c = consumerOf(p.consumer.id)
        if (c) p.consumer = reference(c, c.id, 'username')
      }
      if (p.consumer_group?.id && groups.has(p.consumer_group.id)) {
        p.consumer_group = reference(groups.get(p.consumer_group.id), p.consumer_group.id, 'name')
      }
      if (Array.isArray(p.partials)) {
        p.partials = p.partials.map((link) => {
          const hit = partials.get(link.id)
          if (!hit) return link
          const out = reference(hit, hit.id, 'name')
          if (link.path !== undefined) out.path = link.path
          return out
        })
      }
    }
    for (const kind of Object.keys(CREDENTIALS)) {
      st[kind] = st[kind].filter((cred) => {
        const c = consumerOf(cred.consumer?.id)
        if (c) cred.consumer = reference(c, c.id, 'username')
        return Boolean(c)
      })
    }
    for (const { group, consumers } of this.groups) {
      const g = strip(group, 'created_at', 'updated_at')
      for (const c of consumers) {
        const key = `${c.id}\0${group.id}`
        if (st['consumer-group-consumer'].some((m) => `${m.consumer.id}\0${m.consumer_group.id}` === key)) {
          throw new DeckError(
            `inserting consumer group consumer into state: inserting consumerGroupConsumer ${c.username ?? c.custom_id}: entity already exists`,
          )
        }
        st['consumer-group-consumer'].push({ consumer: clone(c), consumer_group: clone(g) })
      }
    }
    checkDuplicateIds(st)
    return st
  }
}

// mergePluginConfig: src fills keys dst lacks, recursing into maps.
function mergePluginConfig(dst, src) {
  for (const [k, v] of Object.entries(src)) {
    if (!(k in dst)) dst[k] = v
    else if (isObject(dst[k]) && isObject(v)) mergePluginConfig(dst[k], v)
  }
}

const LABELS = {
  service: ['service', 'service'],
  route: ['route', 'route'],
  consumer: ['consumer', 'consumer'],
  plugin: ['plugins', 'plugin'],
  upstream: ['upstream', 'upstream'],
  certificate: ['certificate', 'certificate'],
  vault: ['vault', 'vault'],
}

// state.Get rejects two entities of a kind sharing an id (names are checked by validate.mjs first).
function checkDuplicateIds(st) {
  for (const [kind, [table, what]] of Object.entries(LABELS)) {
    const seen = new Set()
    for (const e of st[kind]) {
      if (seen.has(e.id)) {
        const name = kind === 'consumer' ? (e.username ?? e.id) : (e.name ?? e.prefix ?? e.id)
        throw new DeckError(`inserting ${table} into state: inserting ${what} ${name}: entity already exists`)
      }
      seen.add(e.id)
    }
  }
}

// ---- diff (pkg/diff, pkg/types) ----

function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(value ?? null)
}

// EqualWithOpts(other, ignoreID=false, ignoreTS=true): what GDR compares for an update.
function comparable(kind, obj) {
  const p = kongPlain(KIND_TYPES[kind], obj)
  delete p.created_at
  delete p.updated_at
  if (p.tags) p.tags = [...p.tags].sort()
  for (const f of ['service', 'route', 'consumer_group']) if (isObject(p[f])) delete p[f].name
  if (kind === 'consumer-group-consumer') {
    for (const side of [p.consumer, p.consumer_group]) {
      if (!side) continue
      delete side.created_at
      if (side.tags) side.tags = [...side.tags].sort()
    }
  } else if (isObject(p.consumer)) delete p.consumer.username
  if (kind === 'plugin' && p.protocols) p.protocols = [...p.protocols].sort()
  if (kind === 'service' && p.ca_certificates) p.ca_certificates = [...p.ca_certificates].sort()
  if (kind === 'ca-certificate') delete p.cert_digest
  if (kind === 'basic-auth') delete p.password
  return canonical(p)
}

/** Whether GDR sees a difference between the current and the target entity. */
export function differs(kind, current, target) {
  return comparable(kind, current) !== comparable(kind, target)
}

const goLess = (a, b) => Buffer.compare(Buffer.from(a ?? ''), Buffer.from(b ?? ''))

// The key go-memdb's "all" index iterates in (the primary id index).
function primaryKey(kind, e) {
  if (kind === 'consumer-group-consumer') return `${e.consumer?.id ?? ''}\0${e.consumer_group?.id ?? ''}`
  return e.id ?? ''
}

function sorted(kind, list) {
  return [...list].sort((a, b) => goLess(primaryKey(kind, a), primaryKey(kind, b)))
}

const scopeOf = (p) => [
  p.service?.id ?? '',
  p.route?.id ?? '',
  p.consumer?.id ?? '',
  p.consumer_group?.id ?? '',
]
const sameScope = (a, b) => a.name === b.name && scopeOf(a).every((x, i) => x === scopeOf(b)[i])

function memberKey(m) {
  return m.consumer.id ?? m.consumer.username ?? m.consumer.custom_id
}

function memberMatch(list, m) {
  const key = memberKey(m)
  return list.find(
    (x) =>
      x.consumer_group?.id === m.consumer_group?.id &&
      (x.consumer.id === key || x.consumer.username === key || x.consumer.custom_id === key),
  )
}

// The current entity a target entity is compared with (each differ's createUpdate lookup).
function currentMatch(kind, cur, t) {
  const list = cur[kind]
  switch (kind) {
    case 'plugin':
      return list.find((x) => sameScope(x, t))
    case 'consumer':
      return lookup(list, t.id, 'username')
    case 'consumer-group':
      return lookup(list, t.name, 'name')
    case 'consumer-group-consumer':
      return memberMatch(list, t)
    case 'upstream':
      return lookup(list, t.name, 'name')
    case 'vault':
      return lookup(list, t.prefix, 'prefix')
    case 'partial':
      return empty(t.name) ? lookup(list, t.id) : lookup(list, t.name, 'name')
    case 'target':
      return list.find((x) => x.upstream?.id === t.upstream?.id && (x.id === t.id || x.target === t.id))
    case 'acl-group':
      return list.find((x) => x.consumer?.id === t.consumer?.id && (x.id === t.id || x.group === t.id))
    case 'service':
    case 'route':
    case 'sni':
      return lookup(list, t.id, 'name')
    default:
      return lookup(list, t.id)
  }
}

// Whether a current entity survives in the target (each differ's delete lookup).
function targetHas(kind, target, c) {
  const list = target[kind]
  switch (kind) {
    case 'plugin':
      return list.some((x) => sameScope(x, c))
    case 'consumer':
      return Boolean(lookup(list, c.id, 'username'))
    case 'consumer-group-consumer':
      return Boolean(memberMatch(list, c))
    case 'target':
      return list.some((x) => x.upstream?.id === c.upstream?.id && (x.id === c.id || x.target === c.id))
    case 'acl-group':
      return list.some((x) => x.consumer?.id === c.consumer?.id && (x.id === c.id || x.group === c.id))
    case 'service':
    case 'route':
    case 'sni':
      return Boolean(lookup(list, c.id, 'name'))
    default:
      return Boolean(lookup(list, c.id))
  }
}

// The Identifier() processDeleteDuplicates dedups on.
const identifier = (kind, e) => (kind === 'consumer' ? (e.username ?? e.id) : (e.name ?? e.id))

function duplicateDeletes(cur, target) {
  const byLevel = { route: [], service: [], consumer: [] }
  for (const t of sorted('route', target.route)) {
    if (empty(t.name)) continue
    const c = lookup(cur.route, t.name, 'name')
    if (c && c.id !== t.id) byLevel.route.push({ op: 'delete', kind: 'route', obj: c })
  }
  for (const t of sorted('service', target.service)) {
    if (empty(t.name)) continue
    const c = lookup(cur.service, t.name, 'name')
    if (!c || c.id === t.id) continue
    for (const r of sorted(
      'route',
      cur.route.filter((x) => x.service?.id === c.id),
    )) {
      byLevel.route.push({ op: 'delete', kind: 'route', obj: r })
    }
    byLevel.service.push({ op: 'delete', kind: 'service', obj: c })
  }
  for (const t of sorted('consumer', target.consumer)) {
    let c
    const key = t.username ?? t.id
    if (!empty(key)) c = lookup(cur.consumer, key, 'username')
    if (!c && !empty(t.custom_id)) c = cur.consumer.find((x) => x.custom_id === t.custom_id)
    if (c && c.id !== t.id) byLevel.consumer.push({ op: 'delete', kind: 'consumer', obj: c })
  }
  const seen = new Set()
  const events = []
  for (const e of [...byLevel.route, ...byLevel.service, ...byLevel.consumer]) {
    const key = `${e.kind}-${identifier(e.kind, e.obj)}`
    if (seen.has(key)) continue
    seen.add(key)
    events.push(e)
  }
  return events
}

/**
 * GDR's Syncer.diff() (pkg/diff/diff.go): the events that take the current state to the target state, in
 * the order they are queued. Events: { op: 'create' | 'update' | 'delete', kind, obj, old, stage }. The
 * producer waits for every event of a stage to finish before it queues the next stage: one stage per
 * level for duplicate deletes (processDeleteDuplicates), one per entity kind for creates and updates
 * (createUpdate) and for deletes (delete). Each kind here is alone on its level.
 */
export function computeEvents(current, target, { noDeletes = false } = {}) {
  const cur = Object.fromEntries(KINDS.map((k) => [k, [...current[k]]]))
  const events = []
  if (!noDeletes) {
    for (const e of duplicateDeletes(cur, target)) {
      events.push({ ...e, stage: `duplicates:${e.kind}` })
      // The post-processor removes what was deleted from the current state.
      cur[e.kind] = cur[e.kind].filter((x) => x !== e.obj)
    }
  }
  for (const level of LEVELS) {
    for (const kind of level) {
      for (const t of sorted(kind, target[kind])) {
        const c = currentMatch(kind, cur, t)
        if (!c) events.push({ op: 'create', kind, obj: t, stage: `createUpdate:${kind}` })
        else if (differs(kind, c, t))
          events.push({ op: 'update', kind, obj: t, old: c, stage: `createUpdate:${kind}` })
      }
    }
  }
  if (!noDeletes) {
    for (const level of [...LEVELS].reverse()) {
      for (const kind of level) {
        for (const c of sorted(kind, cur[kind])) {
          if (!targetHas(kind, target, c))
            events.push({ op: 'delete', kind, obj: c, stage: `delete:${kind}` })
        }
      }
    }
  }
  return events
}
