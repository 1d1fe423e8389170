import { DeckhandError } from '../errors.js'
import { isObject, type Json, type JsonObject } from '../state/entities.js'

/**
 * What deckhand keeps of a Tyk gateway: API definitions, classic and Tyk OAS, MCP proxies (Tyk 5.12+) and
 * policies. Each is one JSON file named as tyk-sync names them (`api-<api_id>.json`, `oas-<id>.json`,
 * `policy-<id>.json`; `mcp-<id>.json`, which tyk-sync does not know),
 * holding the object as the Gateway API takes it, with its keys sorted and what the gateway stamps on
 * its own left out, so that an unchanged gateway dumps to the same bytes.
 */

export type TykFormat = 'classic' | 'oas' | 'mcp' | 'policy'

/** The entity kinds of reports and drift: an API (any format, MCP proxies included) or a policy. */
export type TykKind = 'api' | 'policy'

export interface TykObject {
  format: TykFormat
  /** api_id, the OAS `x-tyk-api-gateway.info.id`, or the policy id. */
  id: string
  name: string
  body: JsonObject
}

/**
 * Where reports put Tyk objects beside Kong's workspaces (drift, plans): not a possible Kong workspace
 * name, so the two never mix.
 */
export const TYK_SCOPE = 'Tyk'

export const TYK_KIND: Readonly<Record<TykFormat, TykKind>> = {
  classic: 'api',
  oas: 'api',
  mcp: 'api',
  policy: 'policy',
}

const FILE_PREFIX: Readonly<Record<TykFormat, string>> = {
  classic: 'api-',
  oas: 'oas-',
  mcp: 'mcp-',
  policy: 'policy-',
}

/** Whether a format is an OpenAPI document with Tyk's extension: a Tyk OAS API or an MCP proxy. */
export function isOasLike(format: TykFormat): format is 'oas' | 'mcp' {
  return format === 'oas' || format === 'mcp'
}

/**
 * Middleware only an MCP proxy has (apidef/oas/middleware.go, Tyk v5.12.0): its document is otherwise an OAS
 * one, and the gateway tells the two apart by the endpoint it came through (/tyk/mcps) and the classic
 * definition's `application_protocol: mcp`, which the document does not carry.
 */
const MCP_MIDDLEWARE = ['mcpTools', 'mcpResources', 'mcpPrompts']

/** The manifest tyk-sync reads a directory by (tyk-vcs/spec.go); written beside the objects. */
export const TYK_SPEC_FILE = '.tyk.json'

/**
 * Which of the four a JSON object is, by its shape; undefined for anything else. An OAS document is an MCP
 * proxy when its file's name says so (`mcp-<id>.json`, as deckhand writes it) or it has MCP middleware.
 */
export function formatOf(value: unknown, fileName?: string): TykFormat | undefined {
  if (!isObject(value)) return undefined
  if (isOasDocument(value) || (isObject(value.oas) && isOasDocument(value.oas))) {
    const doc = isOasDocument(value) ? value : (value.oas as JsonObject)
    const middleware = (doc['x-tyk-api-gateway'] as JsonObject).middleware
    const named = fileName !== undefined && /^mcp-.+\.json$/.test(fileName)
    return named || (isObject(middleware) && MCP_MIDDLEWARE.some((m) => m in middleware)) ? 'mcp' : 'oas'
  }
  if (isClassicDefinition(value) || isClassicDefinition(value.api_definition)) return 'classic'
  if (isObject(value.access_rights) && !('api_id' in value)) return 'policy'
  return undefined
}

function isOasDocument(value: JsonObject): boolean {
  return typeof value.openapi === 'string' && isObject(value['x-tyk-api-gateway'])
}

function isClassicDefinition(value: Json | undefined): boolean {
  return isObject(value) && typeof value.api_id === 'string' && isObject(value.proxy)
}

/**
 * The API definition inside an object. tyk-sync keeps Dashboard APIs wrapped, with the Dashboard's own
 * fields beside the definition (`{"api_definition": …}`, `{"oas": …}`); the Gateway API has them bare.
 */
export function definitionOf(body: JsonObject, format: TykFormat): JsonObject {
  if (format === 'classic' && isObject(body.api_definition)) return body.api_definition
  if (isOasLike(format) && isObject(body.oas)) return body.oas
  return body
}

/** Reads one object's identity; errors name what is missing, for the file or answer `source`. */
export function tykObject(body: JsonObject, source: string, format = formatOf(body)): TykObject {
  if (!format) {
    throw new DeckhandError(
      `${source} is neither a Tyk API definition (classic or OAS) nor a policy: expected api_id and proxy, ` +
        'openapi and x-tyk-api-gateway, or access_rights',
    )
  }
  let id: Json | undefined
  let name: Json | undefined
  const definition = definitionOf(body, format)
  if (isOasLike(format)) {
    const info = (definition['x-tyk-api-gateway'] as JsonObject).info
    id = isObject(info) ? info.id : undefined
    name = isObject(info) ? info.name : undefined
  } else if (format === 'classic') {
    id = definition.api_id
    name = definition.name
  } else {
    // Policies made through the Gateway API carry `id`; `_id` is the Dashboard's database id.
    id = typeof body.id === 'string' && body.id !== '' ? body.id : body._id
    name = body.name
  }
  if (typeof id !== 'string' || id === '') {
    const field = isOasLike(format) ? 'x-tyk-api-gateway.info.id' : format === 'classic' ? 'api_id' : 'id'
    throw new DeckhandError(`${source} has no ${field}: every ${TYK_KIND[format]} needs a stable id`)
  }
  return { format, id, name: typeof name === 'string' && name !== '' ? name : id, body }
}

/** Like {@link tykObject}, for readers that must not fail (reports, scans): a missing id reads as `fallback`. */
export function looseTykObject(body: JsonObject, fallback: string): TykObject | undefined {
  const format = formatOf(body)
  if (!format) return undefined
  try {
    return tykObject(body, fallback, format)
  } catch {
    return { format, id: fallback, name: fallback, body }
  }
}

/** The file an object is kept in. Ids become file names, so anything that could leave the folder is refused. */
export function fileNameOf(object: Pick<TykObject, 'format' | 'id'>): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(object.id) || object.id.includes('..')) {
    throw new DeckhandError(
      `${TYK_KIND[object.format]} id "${object.id}" cannot be used in a file name: use letters, digits, ".", "_" or "-"`,
    )
  }
  return `${FILE_PREFIX[object.format]}${object.id}.json`
}

/** How reports and drift call an object: its name and its id, since names need not be unique. */
export function displayName(object: Pick<TykObject, 'id' | 'name'>): string {
  return object.name === object.id ? object.id : `${object.name} (${object.id})`
}

/**
 * The object as kept: keys sorted at every level (list order is meaningful), without the database ids a
 * Dashboard gives what it stores (a wrapped API's `api_definition.id`, an OAS API's `info.dbId`, a policy's
 * `_id`): another Dashboard gives other ones, so files that kept them would never match a rebuilt one,
 * and tyk-sync finds an object by its API or policy id anyway. A policy always carries its id (the
 * Gateway API matches the body's id with the path's).
 */
export function normalize(object: TykObject): TykObject {
  const body = structuredClone(object.body)
  if (object.format === 'policy') {
    delete body._id
    if (typeof body.id !== 'string' || body.id === '') body.id = object.id
  } else if (object.format === 'classic') {
    if (isObject(body.api_definition)) delete body.api_definition.id
  } else {
    const definition = definitionOf(body, object.format)
    const info = oasInfo(definition)
    if (info) delete info.dbId
    withoutTykServers(definition)
  }
  return { ...object, body: sortKeys(body) as JsonObject }
}

/**
 * Leaves out of an OAS document's `servers` those the gateway puts there itself, which name the gateway that
 * wrote them (its host and port) and so never match another, nor a file without them:
 *
 * - Tyk v5.8 (gateway/api.go handleAddApi → apidef/oas/oas.go AddServers) puts the API's URL first on create,
 *   and on update replaces the first server when it is the one it had put there (UpdateServers);
 * - Tyk v5.11+ (apidef/oas/servers_regeneration.go RegenerateServers) does so on create and update alike:
 *   the API's URL and then its bare listen path, or the custom domain's URL alone, before the other servers.
 *
 * That URL is `<scheme>://<host><listen path>`, the host the custom domain or tyk.conf's (which deckhand does
 * not know), so a first server on the API's listen path is taken as the gateway's, and a relative one right
 * after it too. Compared as Tyk compares them (normalizeServerURL: path cleaned, no trailing slash). Versioned
 * APIs' servers (v5.11+, the version in the path or query) are left as they are.
 */
export function withoutTykServers(definition: JsonObject): void {
  const servers = definition.servers
  const extension = definition['x-tyk-api-gateway']
  if (!Array.isArray(servers) || !isObject(extension)) return
  const server = isObject(extension.server) ? extension.server : {}
  const listenPath = isObject(server.listenPath) ? server.listenPath.value : undefined
  if (typeof listenPath !== 'string' || listenPath === '') return
  const path = cleanPath(listenPath)
  const domain =
    isObject(server.customDomain) && server.customDomain.enabled === true
      ? server.customDomain.name
      : undefined
  const urlOf = (entry: Json | undefined) =>
    isObject(entry) && typeof entry.url === 'string' ? entry.url : ''
  let drop = 0
  const first = parseServerUrl(urlOf(servers[0]))
  if (
    first &&
    first.path === path &&
    /^https?:$/.test(first.protocol) &&
    (typeof domain !== 'string' || domain === '' || first.host === domain)
  ) {
    drop = 1
    const second = urlOf(servers[1])
    if (typeof domain !== 'string' || domain === '')
      if (second.startsWith('/') && cleanPath(second) === path) drop = 2
  }
  if (drop === 0) return
  const rest = servers.slice(drop)
  if (rest.length > 0) definition.servers = rest
  else delete definition.servers
}

function cleanPath(path: string): string {
  const segments: string[] = []
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') segments.pop()
    else segments.push(part)
  }
  return '/' + segments.join('/')
}

function parseServerUrl(value: string): { protocol: string; host: string; path: string } | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return undefined
  try {
    const url = new URL(value)
    return { protocol: url.protocol, host: url.host, path: cleanPath(decodeURI(url.pathname)) }
  } catch {
    return undefined
  }
}

/** An OAS definition's `x-tyk-api-gateway.info`, where Tyk keeps its ids. */
function oasInfo(definition: JsonObject): JsonObject | undefined {
  const extension = definition['x-tyk-api-gateway']
  return isObject(extension) && isObject(extension.info) ? extension.info : undefined
}

/**
 * What a Tyk Dashboard's copy of an object is compared on. tyk-sync stamps the organisation of its key's
 * user on everything it writes, so org ids are the Dashboard's, as are a policy's creation and update
 * times; and a file may hold a bare definition, which tyk-sync wraps in the Dashboard's own fields, so
 * those count only when the file has them too. Returns the current and desired views, in that order.
 */
export function dashboardViews(current: TykObject, desired: TykObject): [JsonObject, JsonObject] {
  const bare = desired.format !== 'policy' && definitionOf(desired.body, desired.format) === desired.body
  const view = (object: TykObject): JsonObject => {
    const body = structuredClone(bare ? definitionOf(object.body, object.format) : object.body)
    const definition = definitionOf(body, object.format)
    if (isOasLike(object.format)) {
      const info = oasInfo(definition)
      if (info) delete info.orgId
    } else delete definition.org_id
    if (object.format === 'policy') {
      delete body.date_created
      delete body.last_updated
    }
    return body
  }
  return [view(current), view(desired)]
}

/**
 * Tyk reads every object into a Go struct and keeps what that struct writes back, so a field a file
 * leaves out comes back with its zero value ("", 0, false, null, an empty list or map, Go's zero time),
 * and one the struct marks omitempty is left out when zero. A zero-valued field of `side` that `other`
 * lacks therefore means the same as an absent one and is dropped; a field held with a real value stays,
 * and is a change.
 */
export function withoutZeroFill(side: JsonObject, other: JsonObject): JsonObject {
  const out: JsonObject = {}
  for (const [key, value] of Object.entries(side)) {
    const counterpart = other[key]
    if (counterpart === undefined) {
      if (!isGoZero(value)) out[key] = value
    } else out[key] = isObject(value) && isObject(counterpart) ? withoutZeroFill(value, counterpart) : value
  }
  return out
}

const GO_ZERO_TIME = '0001-01-01T00:00:00Z'

function isGoZero(value: Json): boolean {
  if (value === null || value === '' || value === 0 || value === false || value === GO_ZERO_TIME) return true
  if (Array.isArray(value)) return value.length === 0
  return isObject(value) && Object.values(value).every(isGoZero)
}

function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (!isObject(value)) return value
  const sorted: JsonObject = {}
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys(value[key]!)
  return sorted
}

/** An object's file text: two-space JSON with a final line break, the same bytes for the same object. */
export function renderObject(body: unknown): string {
  return JSON.stringify(body, null, 2) + '\n'
}

/** Identifies an object across the files and the gateway: an API is one id whatever its format. */
export function objectKey(object: Pick<TykObject, 'format' | 'id'>): string {
  return `${TYK_KIND[object.format]}\u0000${object.id}`
}

/**
 * tyk-sync's `.tyk.json` for a set of objects (tyk-vcs/spec.go), so the folder also feeds
 * `tyk-sync sync -p`, which reads only the files it lists: a `files` entry per API, a `policies` entry
 * per policy. MCP proxies are left out: tyk-sync 1.5.0 would send them to the Dashboard as OAS APIs.
 */
export function tykSpec(
  objects: readonly TykObject[],
  /** tyk-sync's templates, listed so that its sync keeps them. */
  assets: readonly { file: string; id: string }[] = [],
): string {
  const apis = objects.filter((o) => o.format === 'classic' || o.format === 'oas')
  const policies = objects.filter((o) => o.format === 'policy')
  return renderObject({
    type: 'apidef',
    files: apis.map((o) => ({ file: fileNameOf(o), api_id: o.id })),
    policies: policies.map((o) => ({ file: fileNameOf(o), id: o.id })),
    ...(assets.length > 0 ? { assets } : {}),
  })
}

/** Objects in file-name order: the order of the manifest, the plan and the report. */
export function sortObjects<T extends Pick<TykObject, 'format' | 'id'>>(objects: readonly T[]): T[] {
  return [...objects].sort((a, b) => {
    const x = fileNameOf(a)
    const y = fileNameOf(b)
    return x < y ? -1 : x > y ? 1 : 0
  })
}
