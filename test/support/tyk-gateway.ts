import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { posix } from 'node:path'

/**
 * A local stand-in for the control API of one open-source Tyk Gateway, on 127.0.0.1 only. It follows Tyk's
 * own source at the release given as `version` (default v5.8.1), read at these tags: v5.8.1, v5.8.8, v5.11.0,
 * v5.12.0, v5.13.0 and v5.14.0. What changes between them is gated by version and says which file and tag
 * it follows. The endpoints deckhand uses:
 *
 * - `GET /hello` (no secret) → the health check
 * - `GET|POST /tyk/apis`, `GET|POST|PUT|DELETE /tyk/apis/{id}` → Tyk Classic API definitions
 * - `GET|POST /tyk/apis/oas`, `GET|PUT|DELETE /tyk/apis/oas/{id}` → Tyk OAS API definitions
 * - `GET|POST /tyk/mcps`, `GET|PUT|DELETE /tyk/mcps/{id}` → MCP proxies (v5.12.0 and later)
 * - `GET|POST /tyk/policies`, `GET|POST|PUT|DELETE /tyk/policies/{id}` → policies
 * - `GET /tyk/reload` (`?block=true` waits), `GET /tyk/reload/group` → reloads
 *
 * Like the real gateway it has two layers. Writes go to "disk" at once, as files named by file name:
 * app_path (`<api_id>.json` for every API the Gateway API writes, `<api_id>-oas.json` beside an OAS API's,
 * `<api_id>-mcp.json` beside an MCP proxy's), policies.policy_path (`<id>.json`), the gateway's working
 * directory (where policy writes land when policy_path is not set), and the policies.policy_record_name file
 * (`policies.json`, a map keyed by policy id, never written by the API). What GETs answer, and what PUT and
 * DELETE of an API check for existence, is "memory", replaced from disk only by a reload. Reloads run in the
 * background: requests that arrive while one is pending join it, as Tyk's reload queue batches them.
 *
 * Every answer is JSON followed by "\n" (Go's json.Encoder), `Content-Type: application/json`; errors are
 * `{"status":"error","message":...}`. Lists come in a new random order each time, as Go map iteration gives.
 *
 * Not modelled: PATCH of OAS APIs (405 here), API versioning (and the versioned servers of v5.11+), the OAS
 * schema validation (only the `x-tyk-api-gateway` presence check), vault:// and consul:// (left as they
 * are, as Tyk does when it cannot reach the store), keys, certificates and the rest of the control API (404).
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
   * What the gateway has loaded (copies): `apis` the classic APIs, `oasApis` the OAS documents, `mcps` the MCP
   * proxies' documents, `policies` the policies.
   */
  loaded(): { apis: TykObject[]; oasApis: TykObject[]; mcps: TykObject[]; policies: TykObject[] }
  /**
   * What is on disk (copies), keyed by file name without `.json`: `apis` app_path's definitions (OAS APIs'
   * classic forms included), `oas` and `mcp` their companions keyed by the definition's name (`<name>` for
   * `<name>-oas.json`), `policies` policy_path's files, `cwd` the policy files written into the gateway's working
   * directory, `record` the policy_record_name map.
   */
  files(): {
    apis: Map<string, TykObject>
    oas: Map<string, TykObject>
    mcp: Map<string, TykObject>
    policies: Map<string, TykObject>
    cwd: Map<string, TykObject>
    record: Record<string, TykObject> | undefined
  }
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

/** The parts of tyk.conf the stand-in reads. */
export interface TykConf {
  /**
   * `policies.policy_path`. Not set in Tyk's shipped configurations (tyk.conf.example,
   * ci/install/data/tyk.standalone.conf): then the Gateway API's policy writes go to the working directory and
   * are never loaded. Default unset.
   */
  policyPath?: string
  /** `policies.policy_record_name`, read when policy_path is not set (tyk.standalone.conf sets it). */
  policyRecordName?: string
  /** `listen_port`, default 8080 (tyk.conf.example). */
  listenPort?: number
  /** `hostname` and `listen_address`: the host Tyk puts in the servers it adds; 127.0.0.1 when both are unset. */
  hostname?: string
  listenAddress?: string
  /** `http_server_options.use_ssl`. */
  useSsl?: boolean
  /** `secrets`, the values of `secrets://NAME` references. */
  secrets?: Record<string, string>
  /** The gateway process's environment, for `env://NAME` references. */
  env?: Record<string, string>
}

export interface TykStandInOptions {
  /** The gateway's `secret`: every `/tyk/` path needs it in `x-tyk-authorization`. */
  secret: string
  /** The release followed, as `/hello` reports it. Default v5.8.1. */
  version?: string
  conf?: TykConf
  /** Classic API definitions (each with `api_id`), in app_path as `<api_id>.json` and loaded at start. */
  apis?: object[]
  /** Tyk OAS documents (each with `x-tyk-api-gateway.info.id`), as the Gateway API writes them. */
  oasApis?: object[]
  /** MCP proxies' documents (v5.12.0 and later), as the Gateway API writes them. */
  mcps?: object[]
  /** More app_path files by name (`petstore.json`, `petstore-oas.json`): names need not be the API ids. */
  appFiles?: Record<string, object>
  /**
   * Policies (each with `id`): files in policy_path when it is set, else entries of the policy_record_name map
   * (which must be set then).
   */
  policies?: object[]
  /** The policy_record_name file as it is, e.g. Tyk's policies/policies.json (entries keyed, without `id`). */
  policyRecord?: Record<string, object>
  /** Between a reload request and the reload. Default 30. */
  reloadDelayMs?: number
  /** `GET /tyk/reload/group` answers 500 `reload failed` and reloads nothing. */
  failReload?: boolean
}

export type TykObject = Record<string, unknown>

export const TYK_VERSION = 'v5.8.1'

/** Messages of the Tyk sources (`apidef/errors.go`, `gateway/api.go`, `gateway/mcp_api.go`, `pkg/identifier`). */
const MESSAGES = {
  forbidden: 'Attempted administrative access with invalid or missing key!',
  methodNotSupported: 'Method not supported',
  notFound: 'Not found',
  malformed: 'Request malformed',
  apiNotFound: 'API not found',
  notMcp: 'API is not an MCP Proxy',
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

/** pkg/identifier/custom.go, Tyk v5.13.0: validPolicyRe (an empty id passes). */
const POLICY_ID = /^[a-zA-Z0-9.\-_~]+$/
/** A policy's `_id` is a bson ObjectID: its JSON decoding accepts only an empty string or 24 hex digits. */
const OBJECT_ID = /^[0-9a-fA-F]{24}$/

type Reply = [status: number, body: unknown]
type Handler = (id: string, raw: Buffer, url: URL) => Reply | Promise<Reply>

/** A loaded API: its classic definition, and for an OAS API or MCP proxy its document. */
interface LoadedApi {
  classic: TykObject
  oas?: TykObject
  mcp: boolean
}

/** What differs between the releases followed, from the version. */
interface Release {
  /** gateway/api.go handleAddOrUpdatePolicy: ensurePolicyId, in v5.8.8 to v5.8.x and from v5.11.0 (not v5.9, v5.10). */
  ensurePolicyId: boolean
  /** gateway/api.go handleAddOrUpdatePolicy, Tyk v5.13.0: the policy id's characters are validated. */
  validatePolicyId: boolean
  /** apidef/oas/servers_regeneration.go, Tyk v5.11.0: RegenerateServers on create and update. */
  regenerateServers: boolean
  /** gateway/policy.go LoadPoliciesFromFile, Tyk v5.12.0: a policies.json entry's id is its key. */
  recordKeyIsId: boolean
  /** gateway/server.go, Tyk v5.12.0: the /tyk/mcps routes and `-mcp.json` companions. */
  mcp: boolean
}

function releaseOf(version: string): Release {
  const [major = 0, minor = 0, patch = 0] = version
    .replace(/^v/, '')
    .split(/[.-]/)
    .map((part) => Number.parseInt(part, 10) || 0)
  const at = (a: number, b: number, c = 0) => (major !== a ? major > a : minor !== b ? minor > b : patch >= c)
  return {
    ensurePolicyId: (at(5, 8, 8) && !at(5, 9)) || at(5, 11),
    validatePolicyId: at(5, 13),
    regenerateServers: at(5, 11),
    recordKeyIsId: at(5, 12),
    mcp: at(5, 12),
  }
}

export async function startTykStandIn(options: TykStandInOptions): Promise<TykStandIn> {
  const version = options.version ?? TYK_VERSION
  const release = releaseOf(version)
  const conf = options.conf ?? {}
  const reloadDelayMs = options.reloadDelayMs ?? 30
  const requests: TykRequest[] = []
  const failures: { method: string; pathPrefix: string; status: number; message: string }[] = []
  let reloads = 0
  let closed = false

  /** Files by name (`x.json`): app_path, policy_path, the working directory. */
  const disk = {
    app: new Map<string, string>(),
    policyPath: new Map<string, string>(),
    cwd: new Map<string, string>(),
    record: undefined as string | undefined,
  }
  let memory = { apis: new Map<string, LoadedApi>(), policies: new Map<string, TykObject>() }

  /** Go's json.MarshalIndent(…, "", "  "), as Tyk writes every file. */
  const write = (files: Map<string, string>, name: string, value: unknown) =>
    files.set(name, JSON.stringify(value, null, 2))

  for (const api of options.apis ?? []) {
    const def = clone(api as TykObject)
    if (typeof def.api_id !== 'string' || def.api_id === '') throw new Error('every api needs an api_id')
    write(disk.app, `${def.api_id}.json`, def)
  }
  for (const [list, mcp] of [
    [options.oasApis ?? [], false],
    [options.mcps ?? [], true],
  ] as const) {
    for (const doc of list) {
      const copy = clone(doc as TykObject)
      const id = oasId(copy)
      if (!id) throw new Error('every OAS API and MCP proxy needs x-tyk-api-gateway.info.id')
      if (mcp && !release.mcp) throw new Error(`MCP proxies need Tyk 5.12 or later, not ${version}`)
      write(disk.app, `${id}.json`, classicForm(copy, mcp))
      write(disk.app, `${id}-${mcp ? 'mcp' : 'oas'}.json`, copy)
    }
  }
  for (const [name, body] of Object.entries(options.appFiles ?? {})) write(disk.app, name, body)
  if (options.policyRecord !== undefined || (options.policies?.length && !conf.policyPath)) {
    if (!conf.policyRecordName && !conf.policyPath)
      throw new Error('policies need conf.policyPath or conf.policyRecordName')
  }
  const record: Record<string, TykObject> = clone((options.policyRecord ?? {}) as Record<string, TykObject>)
  for (const policy of options.policies ?? []) {
    const copy = clone(policy as TykObject)
    if (typeof copy.id !== 'string' || copy.id === '') throw new Error('every policy needs an id')
    copy._id ??= ''
    if (conf.policyPath) write(disk.policyPath, `${copy.id}.json`, copy)
    else record[copy.id] = copy
  }
  if (conf.policyRecordName && (options.policyRecord || (!conf.policyPath && options.policies?.length)))
    disk.record = JSON.stringify(record)

  /**
   * gateway/api_definition.go replaceSecrets, Tyk v5.8.1: the file's text before it is decoded, so every
   * answer holds the values: `env://NAME` (to the closing quote) when the variable is set, `secrets://NAME`
   * from tyk.conf's secrets. Tyk v5.8.1 runs it on the classic file only, but answers an OAS API with the
   * document filled from the classic definition (OAS.Fill), so the values show there too; v5.14.0 runs it on
   * the `-oas.json` text as well. Policies are never resolved (gateway/policy.go reads them as they are).
   */
  function replaceSecrets(text: string): string {
    let out = text
    const seen = new Set<string>()
    for (const match of out.matchAll(/env:\/\/([^"]+)/g)) {
      if (seen.has(match[0])) continue
      seen.add(match[0])
      const value = conf.env?.[match[1]!]
      if (value) out = out.split(match[0]).join(jsonEscape(value))
    }
    if (out.includes('secrets://')) {
      for (const [name, value] of Object.entries(conf.secrets ?? {}))
        out = out.split(`secrets://${name}`).join(jsonEscape(value))
    }
    return out
  }

  /**
   * Replaces memory with what the files hold. APIs: gateway/api_definition.go FromDir, Tyk v5.8.1 — every
   * `*.json` of app_path (glob order) but the `-oas.json` companions (and `-mcp.json`, v5.12.0), whatever the
   * file is called: the id is the definition's api_id, and an OAS API's document is `<file name>-oas.json`.
   * gateway/api_loader.go loadApps registers them by api_id after sorting by listen path with sort.Slice, which
   * is not stable: of two files with one api_id, which is served is not defined; the stand-in keeps the later
   * one in glob order. Policies: gateway/server.go syncPolicies, Tyk v5.8.1 — policy_path's `*.json` when it is
   * set, else the policy_record_name map, else none.
   */
  function load(): void {
    const apis = new Map<string, LoadedApi>()
    for (const name of [...disk.app.keys()].sort()) {
      if (name.endsWith('-oas.json') || (release.mcp && name.endsWith('-mcp.json'))) continue
      const def = parseText(replaceSecrets(disk.app.get(name)!))
      if (!def || typeof def.api_id !== 'string') continue
      const mcp = release.mcp && def.application_protocol === 'mcp'
      if (def.is_oas !== true) {
        apis.set(def.api_id, { classic: def, mcp: false })
        continue
      }
      // GetOASFilepath / GetMCPFilepath: the companion of this file, by its name. Without one the API is
      // skipped (and logged).
      const companion = disk.app.get(name.replace(/\.json$/, mcp ? '-mcp.json' : '-oas.json'))
      const doc = companion === undefined ? undefined : parseText(replaceSecrets(companion))
      if (doc) apis.set(def.api_id, { classic: def, oas: doc, mcp })
    }
    const policies = new Map<string, TykObject>()
    if (conf.policyPath) {
      // gateway/policy.go LoadPoliciesFromDir: keyed by the id each file holds.
      for (const name of [...disk.policyPath.keys()].sort()) {
        const policy = parseText(disk.policyPath.get(name)!)
        if (!policy) continue
        const id = typeof policy.id === 'string' ? policy.id : ''
        // internal/model/policies.go, Tyk v5.12.0: a policy without an id (and no _id) is dropped.
        if (release.recordKeyIsId && id === '') continue
        policies.set(id, asGoPolicy(policy, id))
      }
    } else if (conf.policyRecordName && disk.record !== undefined) {
      // gateway/policy.go LoadPoliciesFromFile: a map. Before v5.12.0 the key is how the gateway finds the
      // policy and the body's id (often absent: "") is what the API shows; v5.12.0 makes the key the id.
      const map = (parseText(disk.record) ?? {}) as Record<string, TykObject>
      for (const [key, policy] of Object.entries(map)) {
        const own = typeof policy.id === 'string' ? policy.id : ''
        policies.set(key, asGoPolicy(policy, release.recordKeyIsId ? key || own : own))
      }
    }
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
    // gateway/api.go writeToFile, Tyk v5.8.1: always `<api_id>.json`, whatever file the API came from.
    write(disk.app, `${id}.json`, def)
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
    write(disk.app, `${id}.json`, def)
    return ok(id, 'modified')
  }

  /**
   * gateway/api.go handleDeleteAPI, Tyk v5.8.1: the API must be loaded and `<api_id>.json` must exist in
   * app_path (a definition loaded from another file name cannot be deleted: 500), then both files go.
   */
  function deleteApi(id: string, mcp = false): Reply {
    const spec = memory.apis.get(id)
    if (!spec) return fail(404, MESSAGES.apiNotFound)
    // gateway/mcp_api.go handleDeleteMCP, Tyk v5.12.0: only MCP proxies, and both files must exist.
    if (mcp && !spec.mcp) return fail(404, MESSAGES.notMcp)
    if (!disk.app.has(`${id}.json`)) return fail(500, MESSAGES.deleteFailed)
    if (mcp && !disk.app.has(`${id}-mcp.json`)) return fail(500, MESSAGES.deleteFailed)
    disk.app.delete(`${id}.json`)
    if (spec.oas) disk.app.delete(`${id}-${spec.mcp ? 'mcp' : 'oas'}.json`)
    return ok(id, 'deleted')
  }

  // --- OAS APIs and MCP proxies

  /** Tyk's validateOAS (and validateMCP) middleware runs before the handlers of POST and PUT. */
  function readOas(raw: Buffer): TykObject | Reply {
    const doc = parseObject(raw)
    if (!doc) return fail(400, MESSAGES.malformed)
    const extension = doc['x-tyk-api-gateway']
    if (!isObject(extension)) return fail(400, MESSAGES.noTykExtension)
    if (isObject(extension.info) && !optionalString(extension.info.id)) return fail(400, MESSAGES.malformed)
    return doc
  }

  /**
   * gateway/util.go getAPIURL, Tyk v5.8.1: the URL Tyk puts in an OAS API's servers — the API's custom domain,
   * else tyk.conf's hostname, listen_address or 127.0.0.1, with listen_port unless it is the scheme's default.
   */
  function apiUrl(doc: TykObject): string {
    const scheme = conf.useSsl ? 'https' : 'http'
    const port = conf.listenPort ?? 8080
    let host = customDomain(doc)
    if (!host) {
      host = conf.hostname || conf.listenAddress || '127.0.0.1'
      if (!((scheme === 'http' && port === 80) || (scheme === 'https' && port === 443))) host += `:${port}`
    }
    return `${scheme}://${host}${listenPathOf(doc)}`
  }

  /**
   * apidef/oas/servers_regeneration.go generateStandardServers, Tyk v5.11.0: the API's custom domain alone,
   * else the gateway's host and then the relative listen path; the listen path cleaned (path.Clean).
   */
  function tykServers(doc: TykObject): string[] {
    const scheme = conf.useSsl ? 'https://' : 'http://'
    const clean = posix.normalize(`/${listenPathOf(doc)}`).replace(/(.)\/$/, '$1')
    const domain = customDomain(doc)
    if (domain) return [scheme + domain + clean]
    const port = conf.listenPort ?? 8080
    let host = conf.hostname || conf.listenAddress || '127.0.0.1'
    if (!((scheme === 'http://' && port === 80) || (scheme === 'https://' && port === 443)))
      host += `:${port}`
    return [scheme + host + clean, clean]
  }

  /** The servers of a written document, as the release writes them. */
  function serversOnWrite(doc: TykObject, previous: LoadedApi | undefined): void {
    const servers = Array.isArray(doc.servers) ? (doc.servers as TykObject[]) : []
    if (release.regenerateServers) {
      // RegenerateServers, Tyk v5.11.0: the old definition's Tyk servers removed, the new ones first, then
      // the rest, deduplicated by normalized URL. On create there is no old definition.
      const old = new Set(previous?.oas ? tykServers(previous.oas).map(normalizeServerUrl) : [])
      const user = servers.filter((s) => !old.has(normalizeServerUrl(String(s.url))))
      const merged: TykObject[] = tykServers(doc).map((u) => ({ url: u }))
      const seen = new Set(merged.map((s) => normalizeServerUrl(String(s.url))))
      for (const server of user) {
        const key = normalizeServerUrl(String(server.url))
        if (!seen.has(key)) merged.push(server)
        seen.add(key)
      }
      doc.servers = merged
      return
    }
    const url = apiUrl(doc)
    // A URL with a {variable} is not added (apidef/oas/oas.go AddServers and UpdateServers, Tyk v5.8.1).
    const named = url.includes('{') && url.includes('}')
    if (!previous) {
      // gateway/api.go handleAddApi → apidef/oas/oas.go AddServers, Tyk v5.8.1: prepended, once.
      if (!named) doc.servers = [{ url }, ...servers.filter((s) => s.url !== url)]
      return
    }
    // gateway/api.go updateOASServers → UpdateServers, Tyk v5.8.1: the first server is replaced only when it
    // is the one the loaded API starts with; with none, the API URL alone.
    const loaded = previous.oas?.servers
    const oldUrl = Array.isArray(loaded) && isObject(loaded[0]) ? String(loaded[0].url) : ''
    const addedByTyk = servers.length > 0 && servers[0]!.url === oldUrl
    if (named && addedByTyk) doc.servers = servers.slice(1)
    else if (addedByTyk) doc.servers = [{ ...servers[0], url }, ...servers.slice(1)]
    else if (servers.length === 0) doc.servers = [{ url }]
  }

  function getOas(id: string, mcp: boolean): Reply {
    const spec = memory.apis.get(id)
    if (!spec) return fail(404, MESSAGES.apiNotFound)
    // gateway/api_helpers.go handleGetOASByID (mcpTypeCheck), Tyk v5.12.0; the OAS endpoint's handleGetAPI
    // answers any OAS document, an MCP proxy's too.
    if (mcp) return spec.mcp ? [200, spec.oas] : fail(404, MESSAGES.notMcp)
    return spec.oas ? [200, spec.oas] : fail(400, MESSAGES.oasGetForClassic)
  }

  function addOas(raw: Buffer, mcp: boolean): Reply {
    const doc = readOas(raw)
    if (Array.isArray(doc)) return doc
    const extension = doc['x-tyk-api-gateway'] as TykObject
    if (!isObject(extension.info)) extension.info = {}
    const info = extension.info as TykObject
    if (typeof info.id !== 'string' || info.id === '') info.id = newId()
    const id = info.id as string
    serversOnWrite(doc, undefined)
    // writeOASAndAPIDefToFile: `<api_id>.json` and `<api_id>-oas.json` (`-mcp.json`, v5.12.0).
    write(disk.app, `${id}.json`, classicForm(doc, mcp))
    write(disk.app, `${id}-${mcp ? 'mcp' : 'oas'}.json`, doc)
    return ok(id, 'added')
  }

  function updateOas(id: string, raw: Buffer, mcp: boolean): Reply {
    const doc = readOas(raw)
    if (Array.isArray(doc)) return doc
    const spec = memory.apis.get(id)
    if (!spec) return fail(404, MESSAGES.apiNotFound)
    if (mcp && !spec.mcp) return fail(404, MESSAGES.notMcp)
    if (!spec.oas) return fail(400, MESSAGES.notMigrated)
    if (oasId(doc) !== id) return fail(400, MESSAGES.apiIdMismatch)
    serversOnWrite(doc, spec)
    write(disk.app, `${id}.json`, classicForm(doc, mcp))
    write(disk.app, `${id}-${mcp ? 'mcp' : 'oas'}.json`, doc)
    return ok(id, 'modified')
  }

  // --- policies

  /** Where the Gateway API writes policies: policy_path, or the working directory when it is not set. */
  const policyFiles = () => (conf.policyPath ? disk.policyPath : disk.cwd)

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

  /**
   * gateway/api.go handleAddOrUpdatePolicy, Tyk v5.8.1: no existence check; PUT compares the ids only; the
   * file is `<id>.json` under policies.policy_path — filepath.Join("", …) when it is not set (v5.8.8 and
   * v5.11.0: the root "."), so the gateway's working directory, which it never loads policies from.
   */
  function writePolicy(raw: Buffer, pathId: string | undefined): Reply {
    const policy = readPolicy(raw)
    if (Array.isArray(policy)) return policy
    let id = (policy.id as string | null | undefined) ?? ''
    if (release.validatePolicyId && id !== '' && !POLICY_ID.test(id))
      return fail(400, MESSAGES.invalidPolicyId)
    if (pathId !== undefined && id !== pathId) return fail(400, MESSAGES.policyIdMismatch)
    if (release.ensurePolicyId) {
      // internal/model/policies.go EnsurePolicyId: the id, else the _id's hex.
      if (id === '') id = policy._id as string
      if (id === '') return fail(400, MESSAGES.policyWithoutId)
    }
    policy.id = id
    write(policyFiles(), `${id}.json`, policy)
    return ok(id, pathId === undefined ? 'added' : 'modified')
  }

  /** gateway/api.go handleDeletePolicy, Tyk v5.8.1: looks at the file only; missing is a 500, never 404. */
  function deletePolicy(id: string): Reply {
    const files = policyFiles()
    if (!files.has(`${id}.json`)) return fail(500, MESSAGES.deleteFailed)
    files.delete(`${id}.json`)
    return ok(id, 'deleted')
  }

  // --- routing

  const reloaded: Reply = [200, { status: 'ok', message: '' }]
  const apiList = () => [...memory.apis.values()]
  const routes: { pattern: string; handlers: Record<string, Handler> }[] = [
    {
      pattern: '/hello',
      handlers: {
        GET: () => [
          200,
          {
            status: 'pass',
            version,
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
        // gateway/api.go handleGetAPIList, Tyk v5.12.0: MCP proxies only with ?include_types=mcp.
        GET: (_id, _raw, requestUrl) => {
          const types = (requestUrl.searchParams.get('include_types') ?? '').split(',').map((t) => t.trim())
          return [
            200,
            shuffle(
              apiList()
                .filter((s) => !s.mcp || types.includes('mcp'))
                .map((s) => s.classic),
            ),
          ]
        },
        POST: (_id, raw) => addApi(raw),
      },
    },
    // Before /tyk/apis/{id}: Tyk registers the OAS routes first, so "oas" is never an API id.
    {
      pattern: '/tyk/apis/oas',
      handlers: {
        GET: () => [200, shuffle(apiList().flatMap((s) => (s.oas && !s.mcp ? [s.oas] : [])))],
        POST: (_id, raw) => addOas(raw, false),
      },
    },
    {
      pattern: '/tyk/apis/oas/{id}',
      handlers: {
        GET: (id) => getOas(id, false),
        PUT: (id, raw) => updateOas(id, raw, false),
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
    ...(release.mcp
      ? [
          // gateway/server.go and gateway/mcp_api.go, Tyk v5.12.0.
          {
            pattern: '/tyk/mcps',
            handlers: {
              GET: (): Reply => [200, shuffle(apiList().flatMap((s) => (s.mcp && s.oas ? [s.oas] : [])))],
              POST: (_id: string, raw: Buffer) => addOas(raw, true),
            },
          },
          {
            pattern: '/tyk/mcps/{id}',
            handlers: {
              GET: (id: string) => getOas(id, true),
              PUT: (id: string, raw: Buffer) => updateOas(id, raw, true),
              DELETE: (id: string) => deleteApi(id, true),
            },
          },
        ]
      : []),
    {
      pattern: '/tyk/policies',
      handlers: {
        GET: () => [200, shuffle([...memory.policies.values()])],
        POST: (_id, raw) => writePolicy(raw, undefined),
      },
    },
    {
      pattern: '/tyk/policies/{id}',
      handlers: {
        // gateway/api.go handleGetPolicy, Tyk v5.8.1: found by key, but only when its id is not empty.
        GET: (id) => {
          const policy = memory.policies.get(id)
          return policy && policy.id !== '' ? [200, policy] : fail(404, MESSAGES.policyNotFound)
        },
        POST: (_id, raw) => writePolicy(raw, undefined),
        PUT: (id, raw) => writePolicy(raw, id),
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
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  /** Files of a folder keyed by name without `.json`, those with `suffix` (`-oas`) keyed without it too. */
  const byName = (files: Map<string, string>, keep: (base: string) => string | undefined) => {
    const out = new Map<string, TykObject>()
    for (const [name, text] of files) {
      const key = keep(name.replace(/\.json$/, ''))
      const value = parseText(text)
      if (key !== undefined && value) out.set(key, value)
    }
    return out
  }
  const companion = (suffix: string) => (base: string) =>
    base.endsWith(suffix) ? base.slice(0, -suffix.length) : undefined

  let closing: Promise<void> | undefined
  return {
    url,
    requests,
    get reloads() {
      return reloads
    },
    loaded: () => {
      const specs = apiList()
      return {
        apis: specs.filter((spec) => !spec.oas).map((spec) => clone(spec.classic)),
        oasApis: specs.flatMap((spec) => (spec.oas && !spec.mcp ? [clone(spec.oas)] : [])),
        mcps: specs.flatMap((spec) => (spec.oas && spec.mcp ? [clone(spec.oas)] : [])),
        policies: [...memory.policies.values()].map(clone),
      }
    },
    files: () => ({
      apis: byName(disk.app, (base) => (/-(oas|mcp)$/.test(base) ? undefined : base)),
      oas: byName(disk.app, companion('-oas')),
      mcp: byName(disk.app, companion('-mcp')),
      policies: byName(disk.policyPath, (base) => base),
      cwd: byName(disk.cwd, (base) => base),
      record: disk.record === undefined ? undefined : (parseText(disk.record) as Record<string, TykObject>),
    }),
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

/**
 * A policy as Tyk answers it: user.Policy re-encoded, `id` and `_id` never omitted (user/policy.go, Tyk
 * v5.8.1), the id the one the loader settled on.
 */
function asGoPolicy(policy: TykObject, id: string): TykObject {
  return { ...clone(policy), id, _id: typeof policy._id === 'string' ? policy._id : '' }
}

/** apidef/oas/servers_regeneration.go normalizeServerURL, Tyk v5.11.0: path cleaned, no trailing slash. */
function normalizeServerUrl(raw: string): string {
  try {
    const parsed = new URL(raw)
    let path = posix.normalize(parsed.pathname).replace(/\/$/, '')
    if (path === '' || path === '.') path = '/'
    return `${parsed.protocol}//${parsed.host}${path}${parsed.search}`
  } catch {
    return raw.replace(/\/$/, '')
  }
}

/** `x-tyk-api-gateway.info.id` of an OAS document, '' when it has none. */
function oasId(doc: TykObject): string {
  const id = field(doc, 'x-tyk-api-gateway', 'info', 'id')
  return typeof id === 'string' ? id : ''
}

function listenPathOf(doc: TykObject): string {
  const value = field(doc, 'x-tyk-api-gateway', 'server', 'listenPath', 'value')
  return typeof value === 'string' ? value : ''
}

/** apidef/oas/server.go Domain, Tyk v5.8.1: `server.customDomain`, used when enabled. */
function customDomain(doc: TykObject): string {
  const domain = field(doc, 'x-tyk-api-gateway', 'server', 'customDomain')
  return isObject(domain) && domain.enabled === true && typeof domain.name === 'string' ? domain.name : ''
}

/**
 * The classic form Tyk keeps of an OAS API (in `<id>.json`, and in `GET /tyk/apis`), reduced to what matters;
 * an MCP proxy's is marked as apidef/api_definitions.go MarkAsMCP does (Tyk v5.12.0).
 */
function classicForm(doc: TykObject, mcp = false): TykObject {
  const target = field(doc, 'x-tyk-api-gateway', 'upstream', 'url')
  return {
    api_id: oasId(doc),
    name: field(doc, 'x-tyk-api-gateway', 'info', 'name') ?? '',
    is_oas: true,
    proxy: { listen_path: listenPathOf(doc), target_url: typeof target === 'string' ? target : '' },
    active: true,
    org_id: '',
    ...(customDomain(doc) ? { domain: customDomain(doc) } : {}),
    ...(mcp ? { json_rpc_version: '2.0', application_protocol: 'mcp' } : {}),
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
  return parseText(raw.toString('utf8'))
}

function parseText(text: string): TykObject | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return isObject(value) ? value : undefined
  } catch {
    return undefined
  }
}

/** gateway/api_definition.go jsonEscapeString, Tyk v5.14.0: a value put inside a JSON string. */
function jsonEscape(value: string): string {
  return JSON.stringify(value).slice(1, -1)
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
