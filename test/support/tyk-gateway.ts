import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A local stand-in for the control API of one open-source Tyk Gateway (5.x), on 127.0.0.1 only, answering as
 * Tyk's `gateway/api.go` and `gateway/server.go` do for the endpoints deckhand uses:
 *
 * - `GET /hello` (no secret) → the health check
 * - `GET|POST /tyk/apis`, `GET|POST|PUT|DELETE /tyk/apis/{id}` → Tyk Classic API definitions
 * - `GET|POST /tyk/apis/oas`, `GET|PUT|DELETE /tyk/apis/oas/{id}` → Tyk OAS API definitions
 * - `GET|POST /tyk/policies`, `GET|POST|PUT|DELETE /tyk/policies/{id}` → policies
 * - `GET /tyk/reload` (`?block=true` waits), `GET /tyk/reload/group` → reloads
 *
 * Like the real gateway it has two layers. Writes go to "disk" at once: the app_path files `<id>.json` (every
 * API, OAS ones in their classic form with `is_oas: true`) and `<id>-oas.json` (the OAS document), and the
 * policy_path files `<id>.json`. What the gateway answers GETs with, and what PUT and DELETE of an API check
 * for existence, is "memory", replaced from disk only by a reload. Reloads run in the background: requests
 * that arrive while one is pending join it, as Tyk's reload queue batches them.
 *
 * Every answer is JSON followed by "\n" (Go's json.Encoder), `Content-Type: application/json`; errors are
 * `{"status":"error","message":...}`. Lists come in a new random order each time, as Go map iteration gives.
 *
 * Not modelled: PATCH of OAS APIs (405 here), API versioning, the OAS schema validation (only the
 * `x-tyk-api-gateway` presence check), keys, certificates and the rest of the control API (404 here).
 */
export interface TykStandIn {
  /** Control API root, e.g. `http://127.0.0.1:41234`. */
  url: string
  /** Closes the server, its connections and a pending reload. Safe to call more than once. */
  close(): Promise<void>
  /** Every request that reached HTTP, in order (also those answered 403). Header values are never kept. */
  requests: TykRequest[]
  /** Reloads performed so far (the initial load not counted). */
  readonly reloads: number
  /**
   * What the gateway has loaded (copies): `apis` the classic APIs, `oasApis` the OAS documents, `policies` the
   * policies.
   */
  loaded(): { apis: TykObject[]; oasApis: TykObject[]; policies: TykObject[] }
  /**
   * What is on disk (copies), keyed by id: `apis` the `<id>.json` files (OAS APIs' classic forms included),
   * `oas` the `<id>-oas.json` files, `policies` the policy files.
   */
  files(): { apis: Map<string, TykObject>; oas: Map<string, TykObject>; policies: Map<string, TykObject> }
  /** Reloads now, synchronously (counted in `reloads`); a pending background reload still happens. */
  reloadNow(): void
  /**
   * The next request with this method whose path (trailing slashes stripped, no query) starts with pathPrefix,
   * after the secret check, answers `status` `{"status":"error","message":message}` and changes nothing.
   * Failures queue: each one is used once.
   */
  failNext(method: string, pathPrefix: string, status: number, message: string): void
}

export interface TykRequest {
  method: string
  /** Path and query as sent, e.g. `/tyk/reload?block=true`. */
  path: string
  /** The request carried `x-tyk-authorization` equal to the secret. */
  authorized: boolean
}

export interface TykStandInOptions {
  /** The gateway's `secret`: every `/tyk/` path needs it in `x-tyk-authorization`. */
  secret: string
  /** Classic API definitions (each with `api_id`), on disk and loaded at start. */
  apis?: object[]
  /** Tyk OAS documents (each with `x-tyk-api-gateway.info.id`), on disk and loaded at start. */
  oasApis?: object[]
  /** Policies (each with `id`), on disk and loaded at start. */
  policies?: object[]
  /** Between a reload request and the reload. Default 30. */
  reloadDelayMs?: number
  /** `GET /tyk/reload/group` answers 500 `reload failed` and reloads nothing. */
  failReload?: boolean
}

export type TykObject = Record<string, unknown>

export const TYK_VERSION = 'v5.8.1'

/** Messages of the Tyk sources (`apidef/errors.go`, `gateway/api.go`, `internal/identifier`). */
const MESSAGES = {
  forbidden: 'Attempted administrative access with invalid or missing key!',
  methodNotSupported: 'Method not supported',
  notFound: 'Not found',
  malformed: 'Request malformed',
  apiNotFound: 'API not found',
  listenPathEmpty: 'Validation of API Definition failed. Reason: listen path is empty.',
  classicExpected:
    'this API endpoint only supports Tyk Classic APIs; please use the appropriate Tyk OAS API endpoint',
  apiIdMismatch: 'Request APIID does not match that in Definition! For Update operations these must match.',
  deleteFailed: 'Delete failed',
  oasGetForClassic: 'the requested API definition is in Tyk classic format, please use old api endpoint',
  noTykExtension: 'the payload should contain x-tyk-api-gateway',
  notMigrated: 'the supplied API definition is in OAS format, please use the Tyk classic format for this API',
  policyNotFound: 'Policy not found',
  policyWithoutId: 'Unable to create policy without id.',
  invalidPolicyId: 'Invalid Policy ID: Allowed characters: a-z, A-Z, 0-9, ., _, -, ~',
  policyIdMismatch: 'Request ID does not match that in policy! For Update operations these must match.',
  reloadFailed: 'reload failed',
} as const

const POLICY_ID = /^[a-zA-Z0-9.\-_~]+$/
/** A policy's `_id` is a bson ObjectID: its JSON decoding accepts only an empty string or 24 hex digits. */
const OBJECT_ID = /^[0-9a-fA-F]{24}$/

type Reply = [status: number, body: unknown]
type Handler = (id: string, raw: Buffer, url: URL) => Reply | Promise<Reply>

/** A loaded API: its classic definition, and for an OAS API its document. */
interface LoadedApi {
  classic: TykObject
  oas?: TykObject
}

export async function startTykStandIn(options: TykStandInOptions): Promise<TykStandIn> {
  const reloadDelayMs = options.reloadDelayMs ?? 30
  const requests: TykRequest[] = []
  const failures: { method: string; pathPrefix: string; status: number; message: string }[] = []
  let reloads = 0
  let closed = false
  let url = ''

  const disk = {
    apis: new Map<string, TykObject>(),
    oas: new Map<string, TykObject>(),
    policies: new Map<string, TykObject>(),
  }
  let memory = { apis: new Map<string, LoadedApi>(), policies: new Map<string, TykObject>() }

  for (const api of options.apis ?? []) {
    const def = clone(api as TykObject)
    if (typeof def.api_id !== 'string' || def.api_id === '') throw new Error('every api needs an api_id')
    disk.apis.set(def.api_id, def)
  }
  for (const doc of options.oasApis ?? []) {
    const copy = clone(doc as TykObject)
    const id = oasId(copy)
    if (!id) throw new Error('every OAS API needs x-tyk-api-gateway.info.id')
    disk.oas.set(id, copy)
    disk.apis.set(id, classicForm(copy))
  }
  for (const policy of options.policies ?? []) {
    const copy = clone(policy as TykObject)
    if (typeof copy.id !== 'string' || copy.id === '') throw new Error('every policy needs an id')
    copy._id ??= ''
    disk.policies.set(copy.id, copy)
  }

  /** Replaces memory with what the files hold, as Tyk's loadGlobalApps does. */
  function load(): void {
    const apis = new Map<string, LoadedApi>()
    for (const [id, def] of disk.apis) {
      if (def.is_oas !== true) apis.set(id, { classic: clone(def) })
      else {
        // Tyk skips (and logs) an OAS API whose -oas.json file is missing.
        const doc = disk.oas.get(id)
        if (doc) apis.set(id, { classic: clone(def), oas: clone(doc) })
      }
    }
    const policies = new Map([...disk.policies].map(([id, policy]) => [id, clone(policy)]))
    memory = { apis, policies }
  }
  load()

  function reloadNow(): void {
    load()
    reloads++
  }

  let pending: { timer: NodeJS.Timeout; done: Promise<void>; resolve: () => void } | null = null
  /** Queues a background reload, or joins the one queued; resolves once it has run. */
  function queueReload(): Promise<void> {
    if (!pending) {
      let resolve = () => {}
      const done = new Promise<void>((r) => (resolve = r))
      const timer = setTimeout(() => {
        pending = null
        if (!closed) reloadNow()
        resolve()
      }, reloadDelayMs)
      pending = { timer, done, resolve }
    }
    return pending.done
  }

  const ok = (key: string, action: 'added' | 'modified' | 'deleted'): Reply => [
    200,
    { key, status: 'ok', action },
  ]
  const fail = (status: number, message: string): Reply => [status, apiError(message)]

  // --- classic APIs

  function getApi(id: string): Reply {
    const spec = memory.apis.get(id)
    return spec ? [200, spec.classic] : fail(404, MESSAGES.apiNotFound)
  }

  /** POST: no existence check, an existing file is overwritten and the answer is still "added". */
  function addApi(raw: Buffer): Reply {
    const def = parseObject(raw)
    if (!def || !optionalString(def.api_id)) return fail(400, MESSAGES.malformed)
    if (!hasListenPath(def)) return fail(400, MESSAGES.listenPathEmpty)
    const id = typeof def.api_id === 'string' && def.api_id !== '' ? def.api_id : newId()
    def.api_id = id
    // is_oas is `omitempty` in Tyk's APIDefinition: false is not written.
    delete def.is_oas
    disk.apis.set(id, def)
    return ok(id, 'added')
  }

  function updateApi(id: string, raw: Buffer): Reply {
    const spec = memory.apis.get(id)
    if (!spec) return fail(404, MESSAGES.apiNotFound)
    if (spec.oas) return fail(400, MESSAGES.classicExpected)
    const def = parseObject(raw)
    if (!def || !optionalString(def.api_id)) return fail(400, MESSAGES.malformed)
    if ((def.api_id ?? '') !== id) return fail(400, MESSAGES.apiIdMismatch)
    if (!hasListenPath(def)) return fail(400, MESSAGES.listenPathEmpty)
    delete def.is_oas
    disk.apis.set(id, def)
    return ok(id, 'modified')
  }

  /** Both DELETE paths: the API must be loaded and its `<id>.json` still on disk. */
  function deleteApi(id: string): Reply {
    const spec = memory.apis.get(id)
    if (!spec) return fail(404, MESSAGES.apiNotFound)
    if (!disk.apis.has(id)) return fail(500, MESSAGES.deleteFailed)
    disk.apis.delete(id)
    if (spec.oas) disk.oas.delete(id)
    return ok(id, 'deleted')
  }

  // --- OAS APIs

  /** Tyk's validateOAS middleware runs before the handlers of POST and PUT, so before any existence check. */
  function readOas(raw: Buffer): TykObject | Reply {
    const doc = parseObject(raw)
    if (!doc) return fail(400, MESSAGES.malformed)
    const extension = doc['x-tyk-api-gateway']
    if (!isObject(extension)) return fail(400, MESSAGES.noTykExtension)
    if (isObject(extension.info) && !optionalString(extension.info.id)) return fail(400, MESSAGES.malformed)
    return doc
  }

  /** A simplified model of Tyk's server regeneration: the gateway's own URL when the document names none. */
  function addServers(doc: TykObject): void {
    if (!Array.isArray(doc.servers) || doc.servers.length === 0)
      doc.servers = [{ url: url + listenPathOf(doc) }]
  }

  function getOas(id: string): Reply {
    const spec = memory.apis.get(id)
    if (!spec) return fail(404, MESSAGES.apiNotFound)
    return spec.oas ? [200, spec.oas] : fail(400, MESSAGES.oasGetForClassic)
  }

  function addOas(raw: Buffer): Reply {
    const doc = readOas(raw)
    if (Array.isArray(doc)) return doc
    const extension = doc['x-tyk-api-gateway'] as TykObject
    if (!isObject(extension.info)) extension.info = {}
    const info = extension.info as TykObject
    if (typeof info.id !== 'string' || info.id === '') info.id = newId()
    const id = info.id as string
    addServers(doc)
    disk.apis.set(id, classicForm(doc))
    disk.oas.set(id, doc)
    return ok(id, 'added')
  }

  function updateOas(id: string, raw: Buffer): Reply {
    const doc = readOas(raw)
    if (Array.isArray(doc)) return doc
    const spec = memory.apis.get(id)
    if (!spec) return fail(404, MESSAGES.apiNotFound)
    if (!spec.oas) return fail(400, MESSAGES.notMigrated)
    if (oasId(doc) !== id) return fail(400, MESSAGES.apiIdMismatch)
    addServers(doc)
    disk.apis.set(id, classicForm(doc))
    disk.oas.set(id, doc)
    return ok(id, 'modified')
  }

  // --- policies

  function readPolicy(raw: Buffer): TykObject | Reply {
    const policy = parseObject(raw)
    if (!policy || !optionalString(policy.id)) return fail(400, MESSAGES.malformed)
    const objectId = policy._id
    if (objectId !== undefined && objectId !== null && objectId !== '') {
      if (typeof objectId !== 'string' || !OBJECT_ID.test(objectId)) return fail(400, MESSAGES.malformed)
    }
    // `_id` is not omitempty in Tyk's Policy: it is always written.
    policy._id = objectId ?? ''
    return policy
  }

  /** POST: the id may come from `_id`, and must be made of the allowed characters; no existence check. */
  function addPolicy(raw: Buffer): Reply {
    const policy = readPolicy(raw)
    if (Array.isArray(policy)) return policy
    let id = (policy.id as string | null | undefined) ?? ''
    if (id === '') id = policy._id as string
    if (id === '') return fail(400, MESSAGES.policyWithoutId)
    if (!POLICY_ID.test(id)) return fail(400, MESSAGES.invalidPolicyId)
    policy.id = id
    disk.policies.set(id, policy)
    return ok(id, 'added')
  }

  /** PUT: only the ids are compared, nothing has to exist. */
  function updatePolicy(id: string, raw: Buffer): Reply {
    const policy = readPolicy(raw)
    if (Array.isArray(policy)) return policy
    if ((policy.id ?? '') !== id) return fail(400, MESSAGES.policyIdMismatch)
    disk.policies.set(id, policy)
    return ok(id, 'modified')
  }

  /** Looks at the file only: a policy that was never loaded can be deleted, a missing file is a 500, never 404. */
  function deletePolicy(id: string): Reply {
    if (!disk.policies.has(id)) return fail(500, MESSAGES.deleteFailed)
    disk.policies.delete(id)
    return ok(id, 'deleted')
  }

  // --- routing

  const reloaded: Reply = [200, { status: 'ok', message: '' }]
  const routes: { pattern: string; handlers: Record<string, Handler> }[] = [
    {
      pattern: '/hello',
      handlers: {
        GET: () => [
          200,
          {
            status: 'pass',
            version: TYK_VERSION,
            description: 'Tyk GW',
            details: {
              redis: { status: 'pass', componentType: 'datastore', time: new Date().toISOString() },
            },
          },
        ],
      },
    },
    {
      pattern: '/tyk/reload',
      handlers: {
        GET: async (_id, _raw, requestUrl) => {
          const done = queueReload()
          if (requestUrl.searchParams.get('block') === 'true') await done
          return reloaded
        },
      },
    },
    {
      pattern: '/tyk/reload/group',
      handlers: {
        GET: () => {
          if (options.failReload) return fail(500, MESSAGES.reloadFailed)
          void queueReload()
          return reloaded
        },
      },
    },
    {
      pattern: '/tyk/apis',
      handlers: {
        GET: () => [200, shuffle([...memory.apis.values()].map((spec) => spec.classic))],
        POST: (_id, raw) => addApi(raw),
      },
    },
    // Before /tyk/apis/{id}: Tyk registers the OAS routes first, so "oas" is never an API id.
    {
      pattern: '/tyk/apis/oas',
      handlers: {
        GET: () => [200, shuffle([...memory.apis.values()].flatMap((spec) => (spec.oas ? [spec.oas] : [])))],
        POST: (_id, raw) => addOas(raw),
      },
    },
    {
      pattern: '/tyk/apis/oas/{id}',
      handlers: {
        GET: (id) => getOas(id),
        PUT: (id, raw) => updateOas(id, raw),
        DELETE: (id) => deleteApi(id),
      },
    },
    {
      pattern: '/tyk/apis/{id}',
      handlers: {
        GET: (id) => getApi(id),
        // The path id is ignored: POST creates from the body, as on /tyk/apis.
        POST: (_id, raw) => addApi(raw),
        PUT: (id, raw) => updateApi(id, raw),
        DELETE: (id) => deleteApi(id),
      },
    },
    {
      pattern: '/tyk/policies',
      handlers: {
        GET: () => [200, shuffle([...memory.policies.values()])],
        POST: (_id, raw) => addPolicy(raw),
      },
    },
    {
      pattern: '/tyk/policies/{id}',
      handlers: {
        GET: (id) => {
          const policy = memory.policies.get(id)
          return policy ? [200, policy] : fail(404, MESSAGES.policyNotFound)
        },
        POST: (_id, raw) => addPolicy(raw),
        PUT: (id, raw) => updatePolicy(id, raw),
        DELETE: (id) => deletePolicy(id),
      },
    },
  ]

  function route(path: string): { id: string; handlers: Record<string, Handler> } | undefined {
    const segments = path.split('/')
    for (const { pattern, handlers } of routes) {
      const parts = pattern.split('/')
      if (parts.length !== segments.length) continue
      let id = ''
      const matches = parts.every((part, i) => {
        const segment = segments[i] ?? ''
        if (part !== '{id}') return part === segment
        id = decodeSegment(segment)
        return segment !== ''
      })
      if (matches) return { id, handlers }
    }
    return undefined
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET'
    const requestUrl = new URL(req.url ?? '/', 'http://127.0.0.1')
    const authorized = req.headers['x-tyk-authorization'] === options.secret
    requests.push({ method, path: requestUrl.pathname + requestUrl.search, authorized })
    const raw = await readBody(req)

    const path = requestUrl.pathname.replace(/\/+$/, '') || '/'
    if ((path === '/tyk' || path.startsWith('/tyk/')) && !authorized)
      return send(res, ...fail(403, MESSAGES.forbidden))

    const injected = failures.findIndex(
      (failure) => failure.method === method.toUpperCase() && path.startsWith(failure.pathPrefix),
    )
    if (injected >= 0) {
      const [failure] = failures.splice(injected, 1)
      if (failure) return send(res, ...fail(failure.status, failure.message))
    }

    const found = route(path)
    if (!found) return send(res, ...fail(404, MESSAGES.notFound))
    const handler = found.handlers[method]
    if (!handler) return send(res, ...fail(405, MESSAGES.methodNotSupported))
    send(res, ...(await handler(found.id, raw, requestUrl)))
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, apiError(String(err))))
  })
  await new Promise<void>((ready, failed) => {
    server.once('error', failed)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', failed)
      ready()
    })
  })
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  let closing: Promise<void> | undefined
  return {
    url,
    requests,
    get reloads() {
      return reloads
    },
    loaded: () => {
      const specs = [...memory.apis.values()]
      return {
        apis: specs.filter((spec) => !spec.oas).map((spec) => clone(spec.classic)),
        oasApis: specs.flatMap((spec) => (spec.oas ? [clone(spec.oas)] : [])),
        policies: [...memory.policies.values()].map(clone),
      }
    },
    files: () => ({ apis: cloneMap(disk.apis), oas: cloneMap(disk.oas), policies: cloneMap(disk.policies) }),
    reloadNow,
    failNext: (method, pathPrefix, status, message) =>
      void failures.push({ method: method.toUpperCase(), pathPrefix, status, message }),
    close: () =>
      (closing ??= (async () => {
        closed = true
        if (pending) {
          clearTimeout(pending.timer)
          pending.resolve()
          pending = null
        }
        const done = new Promise<void>((resolve) => server.close(() => resolve()))
        server.closeAllConnections()
        await done
      })()),
  }
}

// ---------------------------------------------------------------------------------------------------------

/** `x-tyk-api-gateway.info.id` of an OAS document, '' when it has none. */
function oasId(doc: TykObject): string {
  const id = field(doc, 'x-tyk-api-gateway', 'info', 'id')
  return typeof id === 'string' ? id : ''
}

function listenPathOf(doc: TykObject): string {
  const value = field(doc, 'x-tyk-api-gateway', 'server', 'listenPath', 'value')
  return typeof value === 'string' ? value : ''
}

/** The classic form Tyk keeps of an OAS API (in `<id>.json`, and in `GET /tyk/apis`), reduced to what matters. */
function classicForm(doc: TykObject): TykObject {
  const target = field(doc, 'x-tyk-api-gateway', 'upstream', 'url')
  return {
    api_id: oasId(doc),
    name: field(doc, 'x-tyk-api-gateway', 'info', 'name') ?? '',
    is_oas: true,
    proxy: { listen_path: listenPathOf(doc), target_url: typeof target === 'string' ? target : '' },
    active: true,
    org_id: '',
  }
}

function hasListenPath(def: TykObject): boolean {
  const listenPath = field(def, 'proxy', 'listen_path')
  return typeof listenPath === 'string' && listenPath !== ''
}

function field(value: unknown, ...keys: string[]): unknown {
  for (const key of keys) {
    if (!isObject(value)) return undefined
    value = value[key]
  }
  return value
}

function isObject(value: unknown): value is TykObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A Go string field decodes from a string or null (or its absence); anything else fails the whole decoding. */
function optionalString(value: unknown): boolean {
  return value === undefined || value === null || typeof value === 'string'
}

function parseObject(raw: Buffer): TykObject | undefined {
  try {
    const value: unknown = JSON.parse(raw.toString('utf8'))
    return isObject(value) ? value : undefined
  } catch {
    return undefined
  }
}

/** Tyk's uuid.NewHex(): 32 hex digits. */
function newId(): string {
  return randomBytes(16).toString('hex')
}

/** Go map iteration order: a new one each time. */
function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[items[i], items[j]] = [items[j] as T, items[i] as T]
  }
  return items
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

function clone<T>(value: T): T {
  return structuredClone(value)
}

function cloneMap(map: Map<string, TykObject>): Map<string, TykObject> {
  return new Map([...map].map(([id, value]) => [id, clone(value)]))
}

function apiError(message: string): { status: 'error'; message: string } {
  return { status: 'error', message }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/**
 * As Go's json.Encoder writes it: a trailing newline, and `<`, `>`, `&`, U+2028 and U+2029 escaped (it escapes
 * HTML by default). Those characters can only occur inside JSON strings, so replacing them is safe.
 */
function send(res: ServerResponse, status: number, body: unknown): void {
  const text =
    JSON.stringify(body).replace(
      /[<>&\u2028\u2029]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    ) + '\n'
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}
