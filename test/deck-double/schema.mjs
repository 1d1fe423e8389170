// The Go types deck serialises a dump from (GDR pkg/file/types.go and go-kong's kong/*.go), as
// ordered field lists. JSON keeps this field order; null fields and empty lists/maps are omitted
// (omitempty); fields a type lacks are dropped, as Go's json.Unmarshal drops unknown fields.
//
// Field types: s = *string (kept when ""), sv = string (omitted when ""), i = int, f = float,
// b = *bool, bv = bool (omitted when false), ss / ii = lists of scalars, map = Go map (keys
// sorted, contents verbatim), hmap = map[string][]string, raw = JSON value kept verbatim,
// <kind> = nested struct pointer, [<kind>] = list of structs, !<kind> = struct value (always written).

const fields = (spec) =>
  spec
    .trim()
    .split(/\s+/)
    .map((item) => {
      const [name, type] = item.split(':')
      return { name, type }
    })

const TIMESTAMPS = 'created_at:i updated_at:i'

export const KINDS = {
  content: fields(`_format_version:sv _transform:b _info:info _workspace:sv _konnect:konnect
    services:[service] routes:[route] consumers:[consumer] consumer_groups:[consumerGroup] plugins:[plugin]
    filter_chains:[filterChain] upstreams:[upstream] certificates:[certificate] ca_certificates:[caCertificate]
    rbac_roles:[rbacRole] _plugin_configs:map service_packages:[raw] vaults:[vault] licenses:[raw]
    custom_entities:[customEntity] partials:[partial] keys:[key] key_sets:[keySet] cloned_plugins:[raw]
    custom_plugins:[raw]`),
  info: fields(`select_tags:ss default_lookup_tags:lookupTags defaults:!defaults consumer_group_policy_overrides:bv
    skip_hash_for_basic_auth:bv include_plugin_definitions:bv`),
  lookupTags: fields('consumer_groups:ss consumers:ss partials:ss routes:ss services:ss'),
  defaults: fields('service:raw route:raw upstream:raw target:raw'),
  konnect: fields('runtime_group_name:sv control_plane_name:sv'),
  service:
    fields(`client_certificate:s connect_timeout:i created_at:i host:s id:s name:s path:s port:i protocol:s
    read_timeout:i retries:i updated_at:i write_timeout:i tags:ss tls_sans:sans tls_verify:b tls_verify_depth:i
    ca_certificates:ss enabled:b routes:[route] plugins:[plugin] filter_chains:[filterChain] url:s`),
  sans: fields('dnsnames:ss uris:ss'),
  route:
    fields(`created_at:i expression:s hosts:ss headers:hmap id:s name:s methods:ss paths:ss path_handling:s
    preserve_host:b priority:i protocols:ss regex_priority:i service:raw strip_path:b updated_at:i snis:ss
    sources:[cidrPort] destinations:[cidrPort] tags:ss https_redirect_status_code:i request_buffering:b
    response_buffering:b plugins:[plugin] filter_chains:[filterChain]`),
  cidrPort: fields('ip:s port:i'),
  plugin: fields(`created_at:i id:s name:s instance_name:s config:map service:sv consumer:sv consumer_group:sv
    route:sv enabled:b run_on:s condition:s ordering:ordering protocols:ss tags:ss partials:[partialLink] _config:s`),
  ordering: fields('before:hmap after:hmap'),
  partialLink: fields(`id:s name:s type:s config:map ${TIMESTAMPS} tags:ss path:s`),
  consumer: fields(`id:s custom_id:s username:s created_at:i tags:ss plugins:[plugin]
    keyauth_credentials:[keyauth] hmacauth_credentials:[hmacauth] jwt_secrets:[jwt] basicauth_credentials:[basicauth]
    oauth2_credentials:[oauth2] acls:[acl] mtls_auth_credentials:[mtls] groups:[groupRef]`),
  groupRef: fields('id:s name:s created_at:i tags:ss'),
  consumerGroup: fields('id:s name:s created_at:i tags:ss consumers:[consumer] plugins:[groupPlugin]'),
  groupPlugin:
    fields(`id:s name:s created_at:i instance_name:s config:map consumer_group:groupRef _config:s tags:ss
    partials:[partialLink]`),
  keyauth: fields('consumer:raw created_at:i id:s key:s ttl:i tags:ss'),
  basicauth: fields('consumer:raw created_at:i id:s username:s password:s tags:ss'),
  hmacauth: fields('consumer:raw created_at:i id:s username:s secret:s tags:ss'),
  oauth2:
    fields(`consumer:raw created_at:i id:s name:s client_id:s client_secret:s client_type:s hash_secret:b
    redirect_uris:ss tags:ss`),
  jwt: fields('consumer:raw created_at:i id:s algorithm:s key:s rsa_public_key:s secret:s tags:ss'),
  mtls: fields('consumer:raw created_at:i id:s subject_name:s ca_certificate:caCertificate tags:ss'),
  acl: fields('consumer:raw created_at:i id:s group:s tags:ss'),
  upstream:
    fields(`id:s name:s host_header:s client_certificate:certRef algorithm:s slots:i healthchecks:healthchecks
    created_at:i hash_on:s hash_fallback:s hash_on_header:s hash_fallback_header:s hash_on_cookie:s
    hash_on_cookie_path:s hash_on_query_arg:s hash_fallback_query_arg:s hash_on_uri_capture:s
    hash_fallback_uri_capture:s use_srv_name:b sticky_sessions_cookie:s sticky_sessions_cookie_path:s tags:ss
    targets:[target]`),
  certRef: fields('id:s cert:s cert_alt:s key:s key_alt:s created_at:i snis:ss tags:ss'),
  healthchecks: fields('active:activeHealthcheck passive:passiveHealthcheck threshold:f'),
  activeHealthcheck:
    fields(`concurrency:i healthy:healthy http_path:s https_sni:s https_verify_certificate:b type:s
    timeout:i unhealthy:unhealthy headers:hmap`),
  passiveHealthcheck: fields('healthy:healthy type:s unhealthy:unhealthy'),
  healthy: fields('http_statuses:ii interval:i successes:i'),
  unhealthy: fields('http_failures:i http_statuses:ii tcp_failures:i timeouts:i interval:i'),
  target: fields('created_at:f id:s target:s upstream:raw weight:i tags:ss failover:b'),
  certificate: fields('id:s cert:s key:s created_at:i tags:ss snis:[sni]'),
  sni: fields('id:s name:s created_at:i certificate:certRef tags:ss'),
  caCertificate: fields('id:s cert:s cert_digest:s created_at:i tags:ss'),
  vault: fields(`id:s name:s description:s prefix:s config:map ${TIMESTAMPS} tags:ss`),
  partial: fields(`id:s name:s type:s config:map ${TIMESTAMPS} tags:ss`),
  key: fields(`id:s ${TIMESTAMPS} set:keySet name:s kid:s jwk:s pem:pem tags:ss`),
  keySet: fields(`id:s ${TIMESTAMPS} name:s tags:ss`),
  pem: fields('public_key:s private_key:s'),
  customEntity: fields('id:s type:s fields:map'),
  rbacRole: fields('created_at:i id:s name:s comment:s is_default:b endpoint_permissions:[rbacPermission]'),
  // FRBACEndpointPermission marshals through a map: its keys come out sorted.
  rbacPermission: fields('actions:ss comment:s created_at:i endpoint:s negative:b role:raw workspace:s'),
  filterChain: fields(
    'created_at:i updated_at:i id:s name:s enabled:b route:sv service:sv filters:[filter] tags:ss',
  ),
  filter: fields('name:s config:raw enabled:b'),
}

/** Field names of a kind, for stripping unknown fields. */
export function fieldNames(kind) {
  return KINDS[kind].map((f) => f.name)
}
