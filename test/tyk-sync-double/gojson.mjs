// Go's encoding/json as tyk-sync uses it: json.MarshalIndent(v, "", "  ") output, and decoding into the Go
// structs of tyk-sync 1.5.0 clients/objects (Policy, AccessDefinition, DBAssets), so that fields the structs do
// not have are dropped, missing ones get Go's zero values, map keys come out sorted and wrong types fail
// with Go's error text. API definitions (apidef.APIDefinition, kin-openapi's OAS) are far larger structs and
// are passed through as they are.

const escapeGo = (text) =>
  text.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

/** json.MarshalIndent(v, "", "  "): two-space indent, <, > and & escaped as Go escapes them, no final newline. */
export function marshalIndent(value) {
  return escapeGo(JSON.stringify(value, null, 2))
}

/** json.Marshal(v): compact. */
export function marshal(value) {
  return escapeGo(JSON.stringify(value))
}

/** An error json.Unmarshal returns, with its text. */
export class GoJsonError extends Error {}

/** Go's text for a JSON syntax error, approximately (json.SyntaxError). */
export function parseJson(text) {
  try {
    return JSON.parse(text)
  } catch (err) {
    const m = /Unexpected token '?(.)'?/.exec(err.message)
    if (text.trim() === '') throw new GoJsonError('unexpected end of JSON input')
    throw new GoJsonError(
      m ? `invalid character '${m[1]}' looking for beginning of value` : 'unexpected end of JSON input',
    )
  }
}

function jsonKind(v) {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'object') return 'object'
  if (typeof v === 'boolean') return 'bool'
  return typeof v
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)

// Field types: 'string', 'float64', 'int', 'int64', 'bool', 'time', 'objectId', 'any', ['slice', t],
// ['map', t], ['struct', name, fields], ['ptr', t]. Fields: [jsonName, type].
const T = {
  slice: (t) => ['slice', t],
  map: (t) => ['map', t],
  ptr: (t) => ['ptr', t],
  struct: (name, fields) => ['struct', name, fields],
}

const API_LIMIT = T.struct('APILimit', [
  ['rate', 'float64'],
  ['per', 'float64'],
  ['throttle_interval', 'float64'],
  ['throttle_retry_limit', 'int'],
  ['max_query_depth', 'int'],
  ['quota_max', 'int64'],
  ['quota_renews', 'int64'],
  ['quota_remaining', 'int64'],
  ['quota_renewal_rate', 'int64'],
  ['set_by_policy', 'bool'],
])

const ACCESS_DEFINITION = T.struct('AccessDefinition', [
  ['api_name', 'string'],
  ['api_id', 'string'],
  ['versions', T.slice('string')],
  [
    'allowed_urls',
    T.slice(
      T.struct('AccessSpec', [
        ['url', 'string'],
        ['methods', T.slice('string')],
      ]),
    ),
  ],
  [
    'restricted_types',
    T.slice(
      T.struct('Type', [
        ['name', 'string'],
        ['fields', T.slice('string')],
      ]),
    ),
  ],
  ['limit', T.ptr(API_LIMIT)],
  [
    'field_access_rights',
    T.slice(
      T.struct('FieldAccessDefinition', [
        ['type_name', 'string'],
        ['field_name', 'string'],
        ['limits', T.struct('FieldLimits', [['max_query_depth', 'int']])],
      ]),
    ),
  ],
  ['allowance_scope', 'string'],
])

/** objects.Policy of tyk-sync 1.5.0 (clients/objects/policies.go), in field order. */
export const POLICY = T.struct('Policy', [
  ['_id', 'objectId'],
  ['id', 'string'],
  ['name', 'string'],
  ['org_id', 'string'],
  ['rate', 'float64'],
  ['per', 'float64'],
  ['quota_max', 'int64'],
  ['quota_renewal_rate', 'int64'],
  ['throttle_interval', 'float64'],
  ['throttle_retry_limit', 'int'],
  ['max_query_depth', 'int'],
  ['access_rights', T.map(ACCESS_DEFINITION)],
  ['hmac_enabled', 'bool'],
  ['active', 'bool'],
  ['is_inactive', 'bool'],
  ['date_created', 'time'],
  ['tags', T.slice('string')],
  ['key_expires_in', 'int64'],
  [
    'partitions',
    T.struct('', [
      ['quota', 'bool'],
      ['rate_limit', 'bool'],
      ['complexity', 'bool'],
      ['acl', 'bool'],
      ['per_api', 'bool'],
    ]),
  ],
  ['last_updated', 'string'],
  ['meta_data', T.map('any')],
])

/** objects.DBAssets (clients/objects/assets.go): an API template. */
export const ASSET = T.struct('DBAssets', [
  ['_id', 'objectId'],
  ['id', 'string'],
  ['name', 'string'],
  ['org_id', 'string'],
  ['description', 'string'],
  ['kind', 'string'],
  ['data', 'raw'],
  ['last_updated', 'time'],
])

const ZERO_TIME = '0001-01-01T00:00:00Z'
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

function goTypeName(type) {
  if (typeof type === 'string') {
    return (
      { time: 'time.Time', objectId: 'bson.ObjectId', any: 'interface {}', raw: 'objects.JSONRawMessage' }[
        type
      ] ?? type
    )
  }
  if (type[0] === 'slice') return `[]${goTypeName(type[1])}`
  if (type[0] === 'map') return `map[string]${goTypeName(type[1])}`
  if (type[0] === 'ptr') return `*${goTypeName(type[1])}`
  return type[1] ? `objects.${type[1]}` : 'struct { ... }'
}

function zero(type) {
  if (typeof type === 'string') {
    return {
      string: '',
      float64: 0,
      int: 0,
      int64: 0,
      bool: false,
      time: ZERO_TIME,
      objectId: '',
      any: null,
      raw: null,
    }[type]
  }
  if (type[0] === 'struct') return Object.fromEntries(type[2].map(([name, t]) => [name, zero(t)]))
  return null
}

function sortDeep(v) {
  if (Array.isArray(v)) return v.map(sortDeep)
  if (!isObject(v)) return v
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortDeep(v[k])]),
  )
}

function mismatch(value, type, ctx, numberText) {
  const what = numberText ?? jsonKind(value)
  if (ctx.path.length === 0)
    return new GoJsonError(`json: cannot unmarshal ${what} into Go value of type ${goTypeName(type)}`)
  return new GoJsonError(
    `json: cannot unmarshal ${what} into Go struct field ${ctx.struct}.${ctx.path.join('.')} of type ${goTypeName(type)}`,
  )
}

/** Go's json.Unmarshal of `value` into a new `type` (or into `into`, a decoded value of that type). */
function decode(value, type, ctx, into) {
  if (value === null) {
    // null leaves values alone, and makes slices, maps and pointers nil.
    if (typeof type === 'string' || type[0] === 'struct') return into ?? zero(type)
    return null
  }
  if (typeof type === 'string') {
    switch (type) {
      case 'string':
        if (typeof value !== 'string') throw mismatch(value, type, ctx)
        return value
      case 'bool':
        if (typeof value !== 'boolean') throw mismatch(value, type, ctx)
        return value
      case 'float64':
        if (typeof value !== 'number') throw mismatch(value, type, ctx)
        return value
      case 'int':
      case 'int64':
        if (typeof value !== 'number') throw mismatch(value, type, ctx)
        if (!Number.isInteger(value)) throw mismatch(value, type, ctx, `number ${value}`)
        return value
      case 'any':
        return sortDeep(value)
      case 'raw':
        return value
      case 'time': {
        if (typeof value !== 'string') throw new GoJsonError('Time.UnmarshalJSON: input is not a JSON string')
        const m = RFC3339.exec(value)
        if (!m) {
          throw new GoJsonError(
            `parsing time "${value}" as "2006-01-02T15:04:05Z07:00": cannot parse "${value}" as "2006"`,
          )
        }
        // Go prints RFC3339Nano: trailing zeros of the fraction dropped, Z for UTC.
        const fraction = (m[7] ?? '').replace(/0+$/, '')
        const zone = m[8] === 'z' || m[8] === '+00:00' || m[8] === 'Z' ? 'Z' : m[8]
        return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${fraction === '.' ? '' : fraction}${zone}`
      }
      case 'objectId':
        if (value === '') return ''
        if (isObject(value) && typeof value.$oid === 'string') value = value.$oid
        if (typeof value !== 'string' || !/^[0-9a-fA-F]{24}$/.test(value)) {
          throw new GoJsonError(`invalid ObjectId in JSON: ${JSON.stringify(value)}`)
        }
        return value.toLowerCase()
    }
  }
  const kind = type[0]
  if (kind === 'ptr') return decode(value, type[1], ctx, into ?? undefined)
  if (kind === 'slice') {
    if (!Array.isArray(value)) throw mismatch(value, type, ctx)
    return value.map((item) => decode(item, type[1], ctx))
  }
  if (kind === 'map') {
    if (!isObject(value)) throw mismatch(value, type, ctx)
    const out = {}
    for (const key of Object.keys(value).sort()) out[key] = decode(value[key], type[1], ctx)
    return out
  }
  // struct: keys matched exactly, else case-insensitively, as encoding/json does; unknown keys dropped.
  if (!isObject(value)) throw mismatch(value, type, ctx)
  const out = into ? { ...into } : zero(type)
  for (const key of Object.keys(value)) {
    const field =
      type[2].find(([name]) => name === key) ??
      type[2].find(([name]) => name.toLowerCase() === key.toLowerCase())
    if (!field) continue
    const inner = { struct: type[1] || ctx.struct, path: [...ctx.path, field[0]] }
    out[field[0]] = decode(value[key], field[1], inner, out[field[0]])
  }
  return out
}

/** A policy as tyk-sync holds it after json.Unmarshal into objects.Policy (throws GoJsonError). */
export function decodePolicy(value) {
  if (!isObject(value)) throw mismatch(value, POLICY, { struct: 'Policy', path: [] })
  return decode(value, POLICY, { struct: 'Policy', path: [] })
}

/** A template as tyk-sync holds it after json.Unmarshal into objects.DBAssets. */
export function decodeAsset(value) {
  if (!isObject(value)) throw mismatch(value, ASSET, { struct: 'DBAssets', path: [] })
  return decode(value, ASSET, { struct: 'DBAssets', path: [] })
}

const DB_API_FIELDS = [
  'api_definition',
  'oas',
  'categories',
  'hook_references',
  'is_site',
  'sort_by',
  'user_group_owners',
  'user_owners',
]

/**
 * objects.DBApiDefinition after json.Unmarshal: the wrapper fields checked, the definitions kept as they are.
 * Unknown wrapper fields are dropped; `api_definition`/`oas` stay undefined when absent or null.
 */
export function decodeDbApi(value) {
  const ctx = (path) => ({ struct: 'DBApiDefinition', path: [path] })
  if (!isObject(value))
    throw mismatch(value, ['struct', 'DBApiDefinition', []], { struct: 'DBApiDefinition', path: [] })
  const out = {
    hook_references: null,
    is_site: false,
    sort_by: 0,
    user_group_owners: null,
    user_owners: null,
  }
  for (const key of Object.keys(value)) {
    const name =
      DB_API_FIELDS.find((n) => n === key) ?? DB_API_FIELDS.find((n) => n.toLowerCase() === key.toLowerCase())
    if (!name) continue
    const v = value[key]
    switch (name) {
      case 'api_definition':
        if (v !== null && !isObject(v)) throw mismatch(v, ['struct', 'APIDefinition', []], ctx(name))
        out.api_definition = v ?? undefined
        break
      case 'oas':
        if (v !== null && !isObject(v))
          throw new GoJsonError(
            `json: cannot unmarshal ${jsonKind(v)} into Go value of type map[string]interface {}`,
          )
        out.oas = v ?? undefined
        break
      case 'categories':
        out.categories = decode(v, T.slice('string'), ctx(name))
        break
      case 'hook_references':
        if (v !== null && !Array.isArray(v)) throw mismatch(v, T.slice('any'), ctx(name))
        out.hook_references = v
        break
      case 'is_site':
        out.is_site = decode(v, 'bool', ctx(name), out.is_site)
        break
      case 'sort_by':
        out.sort_by = decode(v, 'int', ctx(name), out.sort_by)
        break
      default:
        out[name] = decode(v, T.slice('objectId'), ctx(name))
    }
  }
  return out
}

/** json.Marshal of a DBApiDefinition: its field order, `oas` and `categories` left out when empty. */
export function encodeDbApi(api) {
  const out = {}
  if (api.api_definition) out.api_definition = api.api_definition
  if (api.oas) out.oas = api.oas
  if (api.categories && api.categories.length > 0) out.categories = api.categories
  out.hook_references = api.hook_references ?? null
  out.is_site = api.is_site ?? false
  out.sort_by = api.sort_by ?? 0
  out.user_group_owners = api.user_group_owners ?? null
  out.user_owners = api.user_owners ?? null
  return out
}
