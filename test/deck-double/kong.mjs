// The entities deck's reconciler works on, as go-kong (kong/*.go) defines them and GDR's pkg/state
// wraps them: struct field order and omitempty pointers for --json-output bodies, the event kinds
// (GDR pkg/types/core.go), the names events print (pkg/state/types.go Console()) and the order in
// which kinds are processed (pkg/diff/order.go dependencyOrder).

import { goMap } from './encode.mjs'

// Field types: s / i / f / b = pointers (omitted only when unset), ss / ii = slices (omitted when
// empty), map / hmap = maps (omitted when empty, keys sorted), <type> = nested struct pointer,
// [<type>] = slice of struct pointers, null! = a field without omitempty that the double never sets.
const T = (spec) =>
  spec
    .trim()
    .split(/\s+/)
    .map((item) => {
      const [name, type = 's'] = item.split(':')
      return { name, type }
    })

export const KONG_TYPES = {
  service: T(`client_certificate:certificate connect_timeout:i created_at:i enabled:b host id name path
    port:i protocol read_timeout:i retries:i updated_at:i url write_timeout:i tags:ss tls_sans:sans
    tls_verify:b tls_verify_depth:i ca_certificates:ss`),
  sans: T('dnsnames:ss uris:ss'),
  route: T(`created_at:i expression hosts:ss headers:hmap id name methods:ss paths:ss path_handling
    preserve_host:b priority:i protocols:ss regex_priority:i service:service strip_path:b updated_at:i
    snis:ss sources:[cidrPort] destinations:[cidrPort] tags:ss https_redirect_status_code:i
    request_buffering:b response_buffering:b`),
  cidrPort: T('ip port:i'),
  plugin: T(`created_at:i id name instance_name route:route service:service consumer:consumer
    consumer_group:consumerGroup config:map enabled:b run_on condition ordering:ordering protocols:ss
    tags:ss partials:[partialLink]`),
  ordering: T('before:hmap after:hmap'),
  // PartialLink embeds *Partial: its fields come first, then path.
  partialLink: T('id name type config:map created_at:i updated_at:i tags:ss path'),
  consumer: T('id custom_id username created_at:i tags:ss'),
  consumerGroup: T('id name created_at:i tags:ss'),
  consumerGroupConsumer: T('consumer:consumer consumer_group:consumerGroup created_at:i'),
  keyauth: T('consumer:consumer created_at:i id key ttl:i tags:ss'),
  // state.BasicAuth adds SkipHash (no json tag, no omitempty) after the embedded kong.BasicAuth.
  basicauth: T('consumer:consumer created_at:i id username password tags:ss SkipHash:null!'),
  hmacauth: T('consumer:consumer created_at:i id username secret tags:ss'),
  jwt: T('consumer:consumer created_at:i id algorithm key rsa_public_key secret tags:ss'),
  oauth2: T(`consumer:consumer created_at:i id name client_id client_secret client_type hash_secret:b
    redirect_uris:ss tags:ss`),
  acl: T('consumer:consumer created_at:i id group tags:ss'),
  mtls: T('consumer:consumer created_at:i id subject_name ca_certificate:caCertificate tags:ss'),
  upstream: T(`id name host_header client_certificate:certificate algorithm slots:i
    healthchecks:healthcheck created_at:i hash_on hash_fallback hash_on_header hash_fallback_header
    hash_on_cookie hash_on_cookie_path hash_on_query_arg hash_fallback_query_arg hash_on_uri_capture
    hash_fallback_uri_capture use_srv_name:b sticky_sessions_cookie sticky_sessions_cookie_path tags:ss`),
  healthcheck: T('active:activeHealthcheck passive:passiveHealthcheck threshold:f'),
  activeHealthcheck: T(`concurrency:i healthy:healthy http_path https_sni https_verify_certificate:b type
    timeout:i unhealthy:unhealthy headers:hmap`),
  passiveHealthcheck: T('healthy:healthy type unhealthy:unhealthy'),
  healthy: T('http_statuses:ii interval:i successes:i'),
  unhealthy: T('http_failures:i http_statuses:ii tcp_failures:i timeouts:i interval:i'),
  target: T('created_at:f id target upstream:upstream weight:i tags:ss failover:b'),
  certificate: T('id cert cert_alt key key_alt created_at:i snis:ss tags:ss'),
  sni: T('id name created_at:i certificate:certificate tags:ss'),
  caCertificate: T('id cert cert_digest created_at:i tags:ss'),
  vault: T('id name description prefix config:map created_at:i updated_at:i tags:ss'),
  partial: T('id name type config:map created_at:i updated_at:i tags:ss'),
  key: T('id created_at:i updated_at:i set:keySet name kid jwk pem:pem tags:ss'),
  keySet: T('id created_at:i updated_at:i name tags:ss'),
  pem: T('public_key private_key'),
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)

/** The ordered tree encoding/json writes for a go-kong value of the given type. */
export function kongStruct(type, obj) {
  const out = new Map()
  for (const { name, type: t } of KONG_TYPES[type]) {
    const v = obj?.[name]
    if (t === 'null!') {
      out.set(name, null)
      continue
    }
    if (v === null || v === undefined) continue
    if (t === 'ss' || t === 'ii' || t.startsWith('[')) {
      if (!Array.isArray(v) || v.length === 0) continue
      out.set(name, t.startsWith('[') ? v.map((x) => kongStruct(t.slice(1, -1), x)) : [...v])
    } else if (t === 'map' || t === 'hmap') {
      if (!isObject(v) || Object.keys(v).length === 0) continue
      out.set(name, goMap(v))
    } else if (t in KONG_TYPES) out.set(name, kongStruct(t, v))
    else out.set(name, v)
  }
  return out
}

/** A plain copy of what json.Marshal followed by json.Unmarshal into map[string]any gives. */
export function kongPlain(type, obj) {
  const plain = (v) => {
    if (v instanceof Map) return Object.fromEntries([...v.entries()].map(([k, x]) => [k, plain(x)]))
    if (Array.isArray(v)) return v.map(plain)
    return v
  }
  return plain(kongStruct(type, obj))
}

// ---- event kinds ----

/** GDR's entity kinds the double reconciles, with their go-kong type. */
export const KIND_TYPES = {
  service: 'service',
  route: 'route',
  plugin: 'plugin',
  certificate: 'certificate',
  sni: 'sni',
  'ca-certificate': 'caCertificate',
  upstream: 'upstream',
  target: 'target',
  consumer: 'consumer',
  'consumer-group': 'consumerGroup',
  'consumer-group-consumer': 'consumerGroupConsumer',
  'acl-group': 'acl',
  'basic-auth': 'basicauth',
  'key-auth': 'keyauth',
  'hmac-auth': 'hmacauth',
  'jwt-auth': 'jwt',
  'oauth2-cred': 'oauth2',
  'mtls-auth': 'mtls',
  vault: 'vault',
  partial: 'partial',
  key: 'key',
  'key-set': 'keySet',
}

/** dependencyOrder, restricted to the kinds the double handles (same relative order). */
export const LEVELS = [
  ['certificate', 'ca-certificate', 'consumer', 'vault', 'partial', 'key-set'],
  [
    'consumer-group',
    'sni',
    'service',
    'upstream',
    'key',
    'key-auth',
    'hmac-auth',
    'jwt-auth',
    'basic-auth',
    'oauth2-cred',
    'acl-group',
    'mtls-auth',
  ],
  ['route', 'target', 'consumer-group-consumer'],
  ['plugin'],
]

/** Credential kinds: event kind → [deck file collection, the field GDR looks them up by]. */
export const CREDENTIALS = {
  'key-auth': ['keyauth_credentials', 'key'],
  'hmac-auth': ['hmacauth_credentials', 'username'],
  'jwt-auth': ['jwt_secrets', 'key'],
  'basic-auth': ['basicauth_credentials', 'username'],
  'oauth2-cred': ['oauth2_credentials', 'client_id'],
  'acl-group': ['acls', 'group'],
  'mtls-auth': ['mtls_auth_credentials', null],
}

// ---- Console() ----

const friendly = (obj, ...fields) => {
  for (const f of fields) if (obj?.[f] !== undefined && obj?.[f] !== null) return String(obj[f])
  return ''
}

// stripKey: the last 5 bytes of a key-auth key.
function stripKey(key) {
  const bytes = Buffer.from(String(key ?? ''))
  return bytes.length <= 5 ? String(key ?? '') : bytes.subarray(bytes.length - 5).toString()
}

function forConsumer(consumer) {
  const name = consumer ? friendly(consumer, 'username', 'id') : ''
  return name ? ` for consumer ${name}` : ''
}

function pluginConsole(p) {
  const res = `${p.name} `
  const parts = []
  if (p.service) parts.push(`service ${friendly(p.service, 'name', 'id')}`)
  if (p.route) parts.push(`route ${friendly(p.route, 'name', 'id')}`)
  if (p.consumer) parts.push(`consumer ${friendly(p.consumer, 'username', 'id')}`)
  if (p.consumer_group) parts.push(`consumer-group ${friendly(p.consumer_group, 'name', 'id')}`)
  return parts.length ? `${res}for ${parts.join(' and ')}` : `${res}(global)`
}

const CONSOLE = {
  service: (o) => friendly(o, 'name', 'id'),
  route: (o) => friendly(o, 'name', 'id'),
  plugin: pluginConsole,
  certificate: (o) => friendly(o, 'id', 'cert'),
  sni: (o) => friendly(o, 'name', 'id'),
  'ca-certificate': (o) => friendly(o, 'id', 'cert'),
  upstream: (o) => friendly(o, 'name', 'id'),
  target: (o) =>
    friendly(o, 'target', 'id') + (o.upstream ? ` for upstream ${friendly(o.upstream, 'name', 'id')}` : ''),
  consumer: (o) => friendly(o, 'username', 'id'),
  'consumer-group': (o) => friendly(o, 'name', 'id'),
  'consumer-group-consumer': (o) => friendly(o.consumer, 'username', 'custom_id'),
  'acl-group': (o) => `${o.group}${forConsumer(o.consumer)}`,
  'basic-auth': (o) => `${o.username}${forConsumer(o.consumer)}`,
  'key-auth': (o) => `${stripKey(o.key)}${forConsumer(o.consumer)}`,
  'hmac-auth': (o) => `${o.username}${forConsumer(o.consumer)}`,
  'jwt-auth': (o) => `${o.key}${forConsumer(o.consumer)}`,
  'oauth2-cred': (o) => `${o.name}${forConsumer(o.consumer)}`,
  'mtls-auth': (o) => `${o.subject_name}${forConsumer(o.consumer)}`,
  vault: (o) => friendly(o, 'prefix', 'id'),
  partial: (o) => friendly(o, 'name', 'id'),
  key: (o) => friendly(o, 'name', 'id'),
  'key-set': (o) => friendly(o, 'name', 'id'),
}

/** The name an event of this kind prints (GDR's Console()). */
export function consoleName(kind, obj) {
  return CONSOLE[kind](obj)
}
