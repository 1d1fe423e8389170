import { randomBytes, randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'

/**
 * A local stand-in for Kong Konnect's API (one region, e.g. `https://us.api.konghq.com`) on 127.0.0.1, for the
 * tests of Konnect control planes. It follows the Control Planes API v2 (Kong/developer.konghq.com
 * `api-specs/konnect/control-planes/v2/openapi.yaml`, info.version 2.0.2) and the Control Planes Config API
 * (`api-specs/konnect/control-planes-config/v2/openapi.yaml`, info.version 3.15.0), plus the endpoint deck itself
 * reads to find a control plane (go-database-reconciler `pkg/konnect/runtime_group_service.go`, `list.go`):
 *
 * - `GET /v2/control-planes`: `page[size]` (1–100; absent: `defaultPageSize`), `page[number]` (from 1),
 *   `filter[name][eq|neq|contains]`, `filter[id][eq|oeq]`, `filter[cluster_type][eq|neq|oeq]` (oeq:
 *   comma-separated), `filter[cloud_gateway]`, `labels` (`key:value,key`), `sort` (`created_at [asc|desc]`) →
 *   200 `{data: [ControlPlane], meta: {page: {number, size, total}}}`, in creation order unless sorted, only the
 *   control planes the token may use. Any other query parameter: 400.
 * - `POST /v2/control-planes` `{name, description?, cluster_type?, auth_type?, cloud_gateway?, proxy_urls?,
 *   labels?}` → 201 ControlPlane (`config.cluster_type` default `CLUSTER_TYPE_CONTROL_PLANE`, `auth_type`
 *   `pinned_client_certs`, endpoints `https://<10 hex>.cp0.konghq.com` / `.tp0.konghq.com`); 400 for a body
 *   that is no JSON object, an unknown property, a blank or missing name, a name outside 2–256 characters, an
 *   enum value out of the spec's list; 409 for a name already taken. The creating token may then use it.
 * - `GET /v2/control-planes/{id}` → 200; `DELETE` → 204 (its entity fixture removed); 400 for an id that is no
 *   UUID, 404 unknown, 403 a control plane the token may not use.
 * - `GET /konnect-api/api/runtime_groups?page=&size=` (what deck lists): `{data: [ControlPlane], page,
 *   pageCount}` (size default 100 as GDR's ListOpt; page from 1).
 * - `/v2/control-planes/{id}/core-entities/...` (the control plane's Kong Admin API): `GET
 *   schemas/plugins/{name}` → 200 the schema the test gave (`{fields: [...]}`), 404 `{"message":"No plugin
 *   named '<name>'"}` (Kong's `kong/api/routes/plugins.lua` text); `GET plugin-schemas` and `GET
 *   plugin-schemas/{name}` (custom plugin schemas) → `{items: [...], page: {total_count}}` and `{item}`, 404
 *   `{"message":"Not Found"}`; `GET services` → `{data, next: null}` from the entity fixture, other `GET`s of
 *   a collection `{data: [], next: null}`; `PUT`/`POST`/`PATCH` → 200/201 echoing the body, `DELETE` → 204.
 *   Writes are answered, never applied: the entity fixture changes only through deck (the deck double).
 *
 * Authentication (`security` of both specs): `Authorization: Bearer <token>`, the tokens the test gives
 * (`kpat_` personal, `spat_` system account). Missing or unknown: 401. A token limited to some control planes
 * sees only those in lists and gets 403 on the others; `manage: false` gets 403 on create/delete, `write:
 * false` on core-entity writes. Error bodies: the v2 endpoints answer `application/problem+json` `{status,
 * title, instance: "konnect:trace:<n>", detail}` (+ `invalid_parameters` for 400) with the spec's example
 * texts; the core-entities and `/konnect-api` endpoints answer `{"message": "..."}` (the spec's
 * `KonnectCPLegacy*` errors: `Unauthorized`, `Forbidden`, `Not Found`).
 *
 * Rate limits (`rateLimit`): after `after` requests that match (all, or those `match` selects), the next
 * `times` matching ones are answered 429 with Kong's rate-limiting headers (`RateLimit-Limit`,
 * `RateLimit-Remaining: 0`, `RateLimit-Reset`, `Retry-After`: `retryAfterSeconds`; Kong docs
 * `app/_includes/plugins/rate-limiting/headers.md`) and `{"message":"API rate limit exceeded"}`, the text
 * deck's `cmd/common_konnect.go` recognises as Konnect's rate limit.
 *
 * State directory (`dir`, shared with the deck double through `DECK_DOUBLE_KONNECT_DIR`):
 * `control-planes.json` (the ControlPlane records, owned by the stand-in) and `control-planes/<id>.yaml`, each
 * control plane's entities in the deck double's gateway-fixture format (`workspaces.default`), which `deck
 * gateway sync` in Konnect mode rewrites.
 *
 * Paths are matched with repeated slashes merged, as nginx's default `merge_slashes on` does.
 *
 * Every request is recorded (method, path with query, whether an Authorization header came, status); tokens
 * never are.
 */

export interface KonnectToken {
  /** Names of the control planes this token may use; all when absent. */
  controlPlanes?: string[]
  /** May create and delete control planes (default true). */
  manage?: boolean
  /** May write core entities (default true). */
  write?: boolean
}

export interface KonnectControlPlaneSeed {
  name: string
  description?: string
  labels?: Record<string, string>
  cluster_type?: string
  /** The control plane's entities in deck file format, with ids (as `deck gateway dump --with-id`). */
  entities?: Record<string, unknown>
}

export interface KonnectRateLimit {
  /** Matching requests answered normally before the first 429. */
  after: number
  /** Matching requests answered 429 after those (default 1). */
  times?: number
  /** `Retry-After` (default 1). */
  retryAfterSeconds?: number
  /** Which requests count and get the 429 (default: all). */
  match?: (request: { method: string; path: string }) => boolean
}

export interface KonnectOptions {
  /** Tokens by value; each must start with `kpat_` or `spat_`. */
  tokens: Record<string, KonnectToken>
  controlPlanes?: KonnectControlPlaneSeed[]
  /** Plugin schemas by plugin name, as `GET .../core-entities/schemas/plugins/{name}` answers them. */
  pluginSchemas?: Record<string, unknown>
  /** Custom plugin schemas (Lua source) by name. */
  customPluginSchemas?: Record<string, string>
  rateLimit?: KonnectRateLimit
  /** Page size of lists when none is asked for (default 100). */
  defaultPageSize?: number
  /** State directory; a temporary one (removed by stop()) when absent. */
  dir?: string
}

export interface KonnectRequest {
  method: string
  /** Path with query string, as sent. */
  path: string
  /** Whether an Authorization header was present (its value is never recorded). */
  authorized: boolean
  status: number
}

export interface KonnectControlPlane {
  id: string
  name: string
  description: string
  labels: Record<string, string>
  config: {
    control_plane_endpoint: string
    telemetry_endpoint: string
    cluster_type: string
    auth_type: string
    cloud_gateway: boolean
    proxy_urls: unknown[]
  }
  created_at: string
  updated_at: string
}

export interface KonnectStandIn {
  /** The region's API root, e.g. `http://127.0.0.1:41234` (deck's `--konnect-addr`). */
  url: string
  /** The state directory (`DECK_DOUBLE_KONNECT_DIR`). */
  dir: string
  requests: KonnectRequest[]
  /** The control plane records, as stored. */
  controlPlanes(): KonnectControlPlane[]
  /** A control plane's entities (`workspaces.default` of its fixture), by name. */
  entities(name: string): Record<string, unknown>
  stop(): Promise<void>
}

const CLUSTER_TYPES = [
  'CLUSTER_TYPE_CONTROL_PLANE',
  'CLUSTER_TYPE_K8S_INGRESS_CONTROLLER',
  'CLUSTER_TYPE_CONTROL_PLANE_GROUP',
  'CLUSTER_TYPE_SERVERLESS',
  'CLUSTER_TYPE_KAFKA_NATIVE_EVENT_PROXY',
  'CLUSTER_TYPE_SERVERLESS_V1',
]
const AUTH_TYPES = ['pinned_client_certs', 'pki_client_certs']
const CREATE_FIELDS = [
  'name',
  'description',
  'cluster_type',
  'auth_type',
  'cloud_gateway',
  'proxy_urls',
  'labels',
]
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
// fetchKonnectKongVersion: deck takes Konnect for Kong 3.5.0.0; the fixture says the same.
const KONG_VERSION = '3.5.0.0'

// ControlPlaneFilterParameters: name eq/neq/contains, id eq/oeq, cluster_type eq/neq/oeq, cloud_gateway.
const FILTERS: Record<string, (cp: KonnectControlPlane, value: string) => boolean> = {
  'filter[name][eq]': (cp, v) => cp.name === v,
  'filter[name][neq]': (cp, v) => cp.name !== v,
  'filter[name][contains]': (cp, v) => cp.name.includes(v),
  'filter[id][eq]': (cp, v) => cp.id === v,
  'filter[id][oeq]': (cp, v) => v.split(',').includes(cp.id),
  'filter[cluster_type][eq]': (cp, v) => cp.config.cluster_type === v,
  'filter[cluster_type][neq]': (cp, v) => cp.config.cluster_type !== v,
  'filter[cluster_type][oeq]': (cp, v) => v.split(',').includes(cp.config.cluster_type),
  'filter[cloud_gateway]': (cp, v) => String(cp.config.cloud_gateway) === v,
}

// FilterByLabels: `key:value` (equal) or `key` (present), comma-separated, all must hold.
function matchesLabels(labels: Record<string, string>, query: string): boolean {
  return query.split(',').every((item) => {
    const at = item.indexOf(':')
    return at < 0 ? item in labels : labels[item.slice(0, at)] === item.slice(at + 1)
  })
}

// SortQuery, for the one attribute the spec allows (created_at): 1 ascending, -1 descending, null otherwise.
function sortOrder(query: string): number | null {
  const m = /^created_at(?: (asc|desc))?$/.exec(query.trim())
  return m ? (m[1] === 'desc' ? -1 : 1) : null
}

class Answer {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly contentType = 'application/json',
    readonly headers: Record<string, string> = {},
  ) {}
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthenticated',
  403: 'Permission denied',
  404: 'Not Found',
  409: 'Conflict',
}

// BaseError of the v2 spec; texts from its examples.
function problem(
  status: number,
  detail: string,
  invalid?: { field: string; reason: string; rule?: string }[],
) {
  const body: Record<string, unknown> = {
    status,
    title: TITLES[status],
    instance: `konnect:trace:${BigInt('0x' + randomBytes(8).toString('hex')).toString()}`,
    detail,
  }
  if (invalid) body.invalid_parameters = invalid
  return new Answer(status, body, 'application/problem+json')
}

const legacy = (status: number, message: string) => new Answer(status, { message })

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/** Starts the stand-in; see the module comment for what it answers. */
export async function startKonnect(options: KonnectOptions): Promise<KonnectStandIn> {
  for (const token of Object.keys(options.tokens)) {
    if (!/^(kpat|spat)_/.test(token)) throw new Error(`Konnect tokens start with kpat_ or spat_: ${token}`)
  }
  const ownDir = options.dir === undefined
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'konnect-'))
  mkdirSync(join(dir, 'control-planes'), { recursive: true })
  const recordsFile = join(dir, 'control-planes.json')
  const fixtureFile = (id: string) => join(dir, 'control-planes', `${id}.yaml`)
  const tokens = new Map(Object.entries(options.tokens).map(([t, v]) => [t, { ...v }]))
  const defaultPageSize = options.defaultPageSize ?? 100
  const requests: KonnectRequest[] = []
  let url = ''
  let matched = 0
  let lastCreated = 0

  const load = (): KonnectControlPlane[] =>
    JSON.parse(readFileSync(recordsFile, 'utf8')) as KonnectControlPlane[]
  const save = (list: KonnectControlPlane[]) =>
    writeFileSync(recordsFile, JSON.stringify(list, null, 2) + '\n')
  const writeFixture = (cp: KonnectControlPlane, entities: Record<string, unknown>) =>
    writeFileSync(
      fixtureFile(cp.id),
      stringifyYaml({
        kongAddr: `${url}/v2/control-planes/${cp.id}/core-entities`,
        kongVersion: KONG_VERSION,
        edition: 'community',
        workspaces: { default: entities },
      }),
    )
  const record = (fields: Record<string, unknown>): KonnectControlPlane => {
    // Strictly increasing, so sorting by created_at is well defined.
    lastCreated = Math.max(Date.now(), lastCreated + 1)
    const now = new Date(lastCreated).toISOString()
    const host = randomBytes(5).toString('hex')
    return {
      id: randomUUID(),
      name: fields.name as string,
      description: (fields.description as string | undefined) ?? '',
      labels: (fields.labels as Record<string, string> | undefined) ?? {},
      config: {
        control_plane_endpoint: `https://${host}.cp0.konghq.com`,
        telemetry_endpoint: `https://${host}.tp0.konghq.com`,
        cluster_type: (fields.cluster_type as string | undefined) ?? 'CLUSTER_TYPE_CONTROL_PLANE',
        auth_type: (fields.auth_type as string | undefined) ?? 'pinned_client_certs',
        cloud_gateway: (fields.cloud_gateway as boolean | undefined) ?? false,
        proxy_urls: (fields.proxy_urls as unknown[] | undefined) ?? [],
      },
      created_at: now,
      updated_at: now,
    }
  }

  const server: Server = createServer((req, res) => {
    void handle(req, res)
  })
  const sockets = new Set<Socket>()
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  save([])
  for (const seed of options.controlPlanes ?? []) {
    const cp = record(seed as unknown as Record<string, unknown>)
    save([...load(), cp])
    writeFixture(cp, seed.entities ?? {})
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const method = req.method ?? 'GET'
    const path = req.url ?? '/'
    const auth = req.headers.authorization
    const body = await readBody(req)
    let answer: Answer
    try {
      answer = route(method, path, auth, body)
    } catch (err) {
      answer = new Answer(500, { message: String(err) })
    }
    requests.push({ method, path, authorized: auth !== undefined, status: answer.status })
    const headers: Record<string, string> = { ...answer.headers }
    if (answer.body === undefined) return res.writeHead(answer.status, headers).end()
    const text = JSON.stringify(answer.body)
    headers['content-type'] = answer.contentType
    res.writeHead(answer.status, headers).end(text)
  }

  function rateLimited(method: string, path: string): Answer | null {
    const limit = options.rateLimit
    if (!limit || (limit.match && !limit.match({ method, path }))) return null
    matched++
    const times = limit.times ?? 1
    if (matched <= limit.after || matched > limit.after + times) return null
    const retry = String(limit.retryAfterSeconds ?? 1)
    return new Answer(429, { message: 'API rate limit exceeded' }, 'application/json', {
      'RateLimit-Limit': String(limit.after),
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': retry,
      'Retry-After': retry,
    })
  }

  function route(method: string, rawPath: string, auth: string | undefined, body: string): Answer {
    const parsed = new URL('http://stand-in' + rawPath)
    // nginx in front of Konnect merges slashes (merge_slashes on, its default).
    const path = parsed.pathname.replace(/\/{2,}/g, '/').replace(/\/+$/, '')
    const limited = rateLimited(method, rawPath)
    if (limited) return limited
    const isLegacy =
      path.startsWith('/konnect-api/') || /^\/v2\/control-planes\/[^/]+\/core-entities/.test(path)
    const token = /^Bearer (.+)$/.exec(auth ?? '')?.[1]
    const grant = token === undefined ? undefined : tokens.get(token)
    if (!grant) {
      return isLegacy ? legacy(401, 'Unauthorized') : problem(401, 'A valid token is required')
    }
    const mayUse = (cp: KonnectControlPlane) => !grant.controlPlanes || grant.controlPlanes.includes(cp.name)
    const visible = () => load().filter(mayUse)

    if (path === '/konnect-api/api/runtime_groups' && method === 'GET') {
      const size = Number(parsed.searchParams.get('size') ?? defaultPageSize) || defaultPageSize
      const page = Number(parsed.searchParams.get('page') ?? 1) || 1
      const all = visible()
      return new Answer(200, {
        data: all.slice((page - 1) * size, page * size),
        page,
        pageCount: Math.max(1, Math.ceil(all.length / size)),
      })
    }
    if (path === '/v2/control-planes') {
      if (method === 'GET') return listControlPlanes(parsed.searchParams, visible())
      if (method === 'POST') {
        if (grant.manage === false) {
          return problem(403, 'Insufficient role-set to create control planes.')
        }
        return createControlPlane(body, grant)
      }
      return problem(404, 'Not Found')
    }
    const one = /^\/v2\/control-planes\/([^/]+)(\/core-entities(\/.*)?)?$/.exec(path)
    if (!one) return isLegacy ? legacy(404, 'Not Found') : problem(404, 'Not Found')
    const id = one[1] ?? ''
    const core = one[2]
    const rest = one[3] ?? ''
    if (!UUID.test(id)) {
      return core
        ? legacy(404, 'Not Found')
        : problem(400, 'Request contains invalid ID format', [{ field: 'id', reason: 'invalid ID format' }])
    }
    const cp = load().find((c) => c.id === id)
    if (!cp)
      return core ? legacy(404, 'Not Found') : problem(404, 'The requested control plane was not found.')
    if (!mayUse(cp)) {
      return core
        ? legacy(403, 'Forbidden')
        : problem(403, 'You do not have permission to perform this action')
    }
    if (core) return coreEntities(method, rest, cp, grant, body)
    if (method === 'GET') return new Answer(200, cp)
    if (method === 'DELETE') {
      if (grant.manage === false) return problem(403, 'You do not have permission to perform this action')
      save(load().filter((c) => c.id !== id))
      rmSync(fixtureFile(id), { force: true })
      return new Answer(204, undefined)
    }
    return problem(404, 'Not Found')
  }

  function listControlPlanes(query: URLSearchParams, all: KonnectControlPlane[]): Answer {
    let list = all
    const invalid: { field: string; reason: string; rule?: string }[] = []
    let size = defaultPageSize
    let number = 1
    for (const [key, value] of query) {
      if (key === 'page[size]') {
        size = Number(value)
        if (!Number.isInteger(size) || size < 1 || size > 100) {
          invalid.push({
            field: 'page[size]',
            rule: 'is_integer',
            reason: 'must be an integer between 1 and 100',
          })
        }
      } else if (key === 'page[number]') {
        number = Number(value)
        if (!Number.isInteger(number) || number < 1) {
          invalid.push({ field: 'page[number]', rule: 'is_integer', reason: 'must be a positive integer' })
        }
      } else if (key === 'labels') list = list.filter((c) => matchesLabels(c.labels, value))
      else if (key === 'sort') {
        const order = sortOrder(value)
        if (order === null)
          invalid.push({ field: 'sort', rule: 'invalid', reason: 'unsupported sort attribute' })
        else list = [...list].sort((a, b) => order * a.created_at.localeCompare(b.created_at))
      } else {
        const filter = FILTERS[key]
        if (filter) list = list.filter((c) => filter(c, value))
        else
          invalid.push({ field: key, rule: 'unknown_property', reason: 'is not a supported query parameter' })
      }
    }
    if (invalid.length) return problem(400, 'Invalid request parameters', invalid)
    return new Answer(200, {
      data: list.slice((number - 1) * size, number * size),
      meta: { page: { number, size, total: list.length } },
    })
  }

  function createControlPlane(text: string, grant: KonnectToken): Answer {
    let fields: unknown
    try {
      fields = JSON.parse(text)
    } catch {
      fields = undefined
    }
    if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) {
      return problem(400, 'Invalid request format', [{ field: 'body', reason: 'request format is invalid' }])
    }
    const f = fields as Record<string, unknown>
    const unknown = Object.keys(f).filter((k) => !CREATE_FIELDS.includes(k))
    if (unknown.length) {
      return problem(
        400,
        'Request contains unknown property',
        unknown.map((k) => ({ field: k, reason: `property ${k} should not exist` })),
      )
    }
    const name = f.name
    if (typeof name !== 'string' || name.trim() === '') {
      return problem(400, 'Request cannot be empty', [{ field: 'name', reason: 'cannot be blank' }])
    }
    const invalid: { field: string; reason: string; rule?: string }[] = []
    if (name.length < 2)
      invalid.push({ field: 'name', rule: 'min_length', reason: 'must have at least 2 characters' })
    if (name.length > 256)
      invalid.push({ field: 'name', rule: 'max_length', reason: 'must have at most 256 characters' })
    if (f.cluster_type !== undefined && !CLUSTER_TYPES.includes(f.cluster_type as string)) {
      invalid.push({
        field: 'cluster_type',
        rule: 'enum',
        reason: `must be one of ${CLUSTER_TYPES.join(', ')}`,
      })
    }
    if (f.auth_type !== undefined && !AUTH_TYPES.includes(f.auth_type as string)) {
      invalid.push({ field: 'auth_type', rule: 'enum', reason: `must be one of ${AUTH_TYPES.join(', ')}` })
    }
    if (invalid.length) return problem(400, 'Invalid request parameters', invalid)
    const all = load()
    if (all.some((c) => c.name === name))
      return problem(409, 'Control Plane with provided name already exists.')
    const cp = record(f)
    save([...all, cp])
    writeFixture(cp, {})
    if (grant.controlPlanes) grant.controlPlanes.push(cp.name)
    return new Answer(201, cp)
  }

  function coreEntities(
    method: string,
    rest: string,
    cp: KonnectControlPlane,
    grant: KonnectToken,
    body: string,
  ) {
    const plugin = /^\/schemas\/plugins\/([^/]+)$/.exec(rest)
    if (plugin && method === 'GET') {
      const name = decodeURIComponent(plugin[1] ?? '')
      const schema = options.pluginSchemas?.[name]
      return schema === undefined ? legacy(404, `No plugin named '${name}'`) : new Answer(200, schema)
    }
    const custom = /^\/plugin-schemas(?:\/([^/]+))?$/.exec(rest)
    if (custom && method === 'GET') {
      const item = (name: string) => ({ name, lua_schema: options.customPluginSchemas?.[name] })
      const names = Object.keys(options.customPluginSchemas ?? {})
      if (custom[1] === undefined)
        return new Answer(200, { items: names.map(item), page: { total_count: names.length } })
      const name = decodeURIComponent(custom[1])
      return names.includes(name) ? new Answer(200, { item: item(name) }) : legacy(404, 'Not Found')
    }
    if (method === 'GET') {
      if (rest === '/services') {
        const fixture = parseYaml(readFileSync(fixtureFile(cp.id), 'utf8')) as {
          workspaces?: { default?: { services?: Record<string, unknown>[] } }
        }
        const services = (fixture.workspaces?.default?.services ?? []).map((s) => {
          const { routes: _routes, plugins: _plugins, ...service } = s
          return service
        })
        return new Answer(200, { data: services, next: null })
      }
      return new Answer(200, { data: [], next: null })
    }
    if (grant.write === false) return legacy(403, 'Forbidden')
    if (method === 'DELETE') return new Answer(204, undefined)
    let echoed: unknown
    try {
      echoed = body === '' ? {} : JSON.parse(body)
    } catch {
      return legacy(400, 'Bad Request')
    }
    return new Answer(method === 'POST' ? 201 : 200, echoed)
  }

  return {
    url,
    dir,
    requests,
    controlPlanes: load,
    entities(name: string) {
      const cp = load().find((c) => c.name === name)
      if (!cp) throw new Error(`no control plane named ${name}`)
      const fixture = parseYaml(readFileSync(fixtureFile(cp.id), 'utf8')) as {
        workspaces?: { default?: Record<string, unknown> }
      }
      return fixture.workspaces?.default ?? {}
    },
    async stop() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      if (ownDir) rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Deletes a control plane as a person would, through the stand-in's API (DELETE /v2/control-planes/{id}). */
export async function deleteControlPlane(
  konnect: KonnectStandIn,
  token: string,
  name: string,
): Promise<void> {
  const plane = konnect.controlPlanes().find((c) => c.name === name)
  if (!plane) throw new Error(`no control plane named ${name}`)
  const res = await fetch(`${konnect.url}/v2/control-planes/${plane.id}`, {
    method: 'DELETE',
    headers: { Authorization: `Bearer ${token}` },
  })
  if (res.status !== 204) throw new Error(`DELETE of control plane ${name}: HTTP ${res.status}`)
}
