import { DeckhandError } from '../errors.js'
import {
  describeAnswer,
  type HttpAnswer,
  jsonBody,
  readCaCert,
  sendRequest,
  type TlsOptions,
  TransportError,
} from '../http.js'
import { isObject, type JsonObject } from '../state/entities.js'
import { MAX_STATE_BYTES } from '../state/read.js'
import { definitionOf, type TykFormat, tykObject, type TykObject } from './objects.js'

/**
 * A client for the Tyk Gateway API (`/tyk/...`, the open-source gateway's own control API). The secret
 * travels in the `x-tyk-authorization` header only. Writes reach the gateway's files at once but its
 * routing only after a reload, and the lists it answers with come from what it has loaded.
 *
 * The gateway writes an API to `<app_path>/<api_id>.json` and a policy to `<policy_path>/<id>.json`
 * (gateway/api.go, Tyk v5.8.1), but loads every `*.json` of app_path whatever its name, and policies from
 * policy_path only when tyk.conf sets it (gateway/server.go syncPolicies): the answers that follow from a
 * mismatch are explained here, where they are seen.
 */

export interface TykConnection {
  /** e.g. http://tyk-gateway:8080, or the control API listener when one is configured. */
  addr: string
  secret: string
  caCert?: string
  tlsSkipVerify?: boolean
  tlsServerName?: string
  timeoutSeconds?: number
}

/** What `GET /hello` says. */
export interface TykHealth {
  status: string
  version: string
}

const PATHS: Readonly<Record<TykFormat, string>> = {
  classic: '/tyk/apis',
  oas: '/tyk/apis/oas',
  mcp: '/tyk/mcps',
  policy: '/tyk/policies',
}

/** The first release with MCP proxies (gateway/server.go, Tyk v5.12.0: the /tyk/mcps routes). */
const MCP_SINCE = [5, 12] as const

/** What tyk.conf needs for the Gateway API to manage policies, for the errors that say so. */
export const POLICY_PATH_HELP =
  'The Gateway API writes policies as <id>.json into policies.policy_path and deletes them there, but the ' +
  'gateway loads that folder only when tyk.conf sets it; without it (Tyk ships it unset) the writes land in ' +
  "the gateway's working directory and policies come from policies.policy_record_name (policies.json). " +
  'Set "policies": {"policy_source": "file", "policy_path": "/opt/tyk-gateway/policies"} (any folder the ' +
  'gateway can write), move the existing policies there as one <id>.json file each, and restart the gateway.'

/** Whether a `/hello` version (`v5.12.1`) is at least major.minor; undefined when it does not parse. */
export function versionAtLeast(
  version: string,
  [major, minor]: readonly [number, number],
): boolean | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(version.trim())
  if (!m) return undefined
  const [a, b] = [Number(m[1]), Number(m[2])]
  return a !== major ? a > major : b >= minor
}

export class TykGateway {
  /** What the last {@link list} could not read, for reports: policies the Gateway API cannot address. */
  warnings: string[] = []
  /** Whether the gateway serves MCP proxies: from `/hello`'s version, else whether /tyk/mcps answers. */
  private mcp: boolean | undefined

  private constructor(
    readonly address: string,
    private readonly connection: TykConnection,
    private readonly tls: TlsOptions,
  ) {}

  static async open(connection: TykConnection): Promise<TykGateway> {
    const ca = await readCaCert(connection.caCert)
    return new TykGateway(connection.addr, connection, {
      ca,
      skipVerify: connection.tlsSkipVerify,
      serverName: connection.tlsServerName,
    })
  }

  /** One request; its answer is limited to `maxBytes` (default: the transport's limit). */
  request(method: string, path: string, body?: unknown, maxBytes?: number): Promise<HttpAnswer> {
    return sendRequest(new URL(this.address + path), {
      method,
      headers: { 'x-tyk-authorization': this.connection.secret },
      body: body === undefined ? undefined : jsonBody(body),
      timeoutMs: (this.connection.timeoutSeconds ?? 30) * 1000,
      tls: this.tls,
      maxBytes,
    })
  }

  /** A request whose lack of an answer is an error naming the call. */
  private async send(method: string, path: string, body?: unknown, maxBytes?: number): Promise<HttpAnswer> {
    try {
      return await this.request(method, path, body, maxBytes)
    } catch (err) {
      if (err instanceof TransportError)
        throw new DeckhandError(`${method} ${this.address}${path}: no answer (${err.message})`)
      throw err
    }
  }

  /** A request that must answer 200; anything else is an error naming the call and Tyk's message. */
  private async call(method: string, path: string, body?: unknown, maxBytes?: number): Promise<unknown> {
    return this.check(await this.send(method, path, body, maxBytes), method, path)
  }

  private check(res: HttpAnswer, method: string, path: string): unknown {
    if (res.status === 403) {
      throw new DeckhandError(
        `${method} ${this.address}${path}: the gateway refused the secret (${describeAnswer(res)}). ` +
          'tyk-secret must be the `secret` of tyk.conf (TYK_GW_SECRET).',
      )
    }
    if (res.status !== 200)
      throw new DeckhandError(`${method} ${this.address}${path}: ${describeAnswer(res)}`)
    return parseTykJson(res, `${method} ${path}`)
  }

  /** Liveness and version; no secret needed, but a gateway answers it only once it is up. */
  async hello(): Promise<TykHealth> {
    const res = await this.send('GET', '/hello')
    if (res.status !== 200) throw new DeckhandError(`GET ${this.address}/hello: ${describeAnswer(res)}`)
    const body = parseTykJson(res, 'GET /hello') as { status?: unknown; version?: unknown }
    return {
      status: typeof body.status === 'string' ? body.status : 'unknown',
      version: typeof body.version === 'string' ? body.version : 'unknown',
    }
  }

  /** Whether the gateway has MCP proxies (Tyk 5.12+), from its version; asked once. */
  async supportsMcp(): Promise<boolean> {
    if (this.mcp === undefined) {
      const version = await this.hello().then(
        (h) => h.version,
        () => 'unknown',
      )
      const known = versionAtLeast(version, MCP_SINCE)
      if (known !== undefined) this.mcp = known
      else this.mcp = (await this.send('GET', PATHS.mcp)).status !== 404
    }
    return this.mcp
  }

  /**
   * Every API, MCP proxy and policy the gateway has loaded. `GET /tyk/apis` lists Tyk OAS APIs too,
   * converted to the classic form and marked `is_oas`: those are read from `/tyk/apis/oas` instead, as they
   * are kept, and MCP proxies (Tyk 5.12+, which both leave out) from `/tyk/mcps`.
   */
  async list(): Promise<TykObject[]> {
    const source = `an object the gateway listed at ${this.address}`
    const classic = await this.listOf('classic')
    const oas = await this.listOf('oas')
    const mcps = (await this.supportsMcp()) ? await this.listOf('mcp') : []
    const policies = await this.listOf('policy')
    this.warnings = []
    // gateway/policy.go LoadPoliciesFromFile, Tyk v5.8.1 to v5.11: a policies.json entry without `id` is
    // found by its key, which the list does not show ("id": ""); Tyk 5.12 makes the key the id.
    const unnamed = policies.filter((p) => (typeof p.id !== 'string' || p.id === '') && !p._id)
    if (unnamed.length > 0) {
      const names = unnamed.map((p) => (typeof p.name === 'string' && p.name !== '' ? p.name : '(no name)'))
      this.warnings.push(
        `${unnamed.length} polic${unnamed.length === 1 ? 'y' : 'ies'} listed without an id (${names.join(', ')}) ` +
          'left out: the gateway loaded them from policies.json (policies.policy_record_name), whose entries ' +
          'are keyed by their id, and before Tyk 5.12 it does not copy the key into "id", so the Gateway API ' +
          'cannot read, update or delete them. Add "id": "<key>" to each entry of policies.json (or upgrade to ' +
          'Tyk 5.12+); to manage policies through the Gateway API, set policies.policy_path.',
      )
    }
    return [
      ...classic.filter((api) => api.is_oas !== true).map((body) => tykObject(body, source, 'classic')),
      ...oas.map((body) => tykObject(body, source, 'oas')),
      ...mcps.map((body) => tykObject(body, source, 'mcp')),
      ...policies.filter((p) => !unnamed.includes(p)).map((body) => tykObject(body, source, 'policy')),
    ]
  }

  private async listOf(format: TykFormat): Promise<JsonObject[]> {
    // Every definition of a kind at once: as large as the files they are kept in may be.
    const list = await this.call('GET', PATHS[format], undefined, MAX_STATE_BYTES)
    // An empty gateway answers null for policies on some versions.
    if (list === null) return []
    if (!Array.isArray(list) || !list.every(isObject)) {
      throw new DeckhandError(`GET ${this.address}${PATHS[format]}: expected a JSON list`)
    }
    return list
  }

  async create(object: TykObject): Promise<void> {
    await this.requireFormat(object)
    await this.call('POST', PATHS[object.format], definitionOf(object.body, object.format))
  }

  async update(object: TykObject): Promise<void> {
    await this.requireFormat(object)
    const path = `${PATHS[object.format]}/${encodeURIComponent(object.id)}`
    await this.call('PUT', path, definitionOf(object.body, object.format))
  }

  /**
   * Deletes an object the gateway listed. Tyk answers 500 "Delete failed" when the file it deletes is not
   * there (gateway/api.go handleDeleteAPI and handleDeletePolicy, Tyk v5.8.1): for an API, a definition
   * loaded from a file not named `<api_id>.json`; for a policy, one not loaded from policy_path.
   */
  async remove(object: Pick<TykObject, 'format' | 'id'>): Promise<void> {
    const path = `${PATHS[object.format]}/${encodeURIComponent(object.id)}`
    const res = await this.send('DELETE', path)
    if (res.status === 500 && /Delete failed/.test(res.body)) {
      throw new DeckhandError(
        object.format === 'policy'
          ? `DELETE ${this.address}${path}: the gateway serves policy ${object.id} but has no ` +
              `${object.id}.json in policies.policy_path to delete (HTTP 500 Delete failed). ${POLICY_PATH_HELP}`
          : `DELETE ${this.address}${path}: the gateway serves API ${object.id} but has no ${object.id}.json in ` +
              'its app_path (HTTP 500 Delete failed): it loads every *.json there whatever the name, but writes ' +
              'and deletes <api_id>.json only. Rename the file holding this API to ' +
              `${object.id}.json${object.format === 'classic' ? '' : ` (and its companion to ${object.id}-${object.format}.json)`}, ` +
              'reload the gateway, and sync again.',
      )
    }
    await this.check(res, 'DELETE', path)
  }

  private async requireFormat(object: Pick<TykObject, 'format' | 'id'>): Promise<void> {
    if (object.format === 'mcp' && !(await this.supportsMcp()))
      throw new DeckhandError(
        `MCP proxy ${object.id}: the gateway at ${this.address} has no MCP proxies (Tyk 5.12 or later has them)`,
      )
  }

  /** Asks every gateway of the cluster to reload; the reload itself happens in the background. */
  async reloadGroup(): Promise<void> {
    await this.call('GET', '/tyk/reload/group')
  }

  /**
   * Reloads this gateway and waits until it has (`/tyk/reload?block=true`, gateway/api.go resetHandler,
   * Tyk v5.8.1), within `timeoutMs`; false when the wait ran out first.
   */
  async reloadAndWait(timeoutMs: number): Promise<boolean> {
    try {
      const res = await sendRequest(new URL(`${this.address}/tyk/reload?block=true`), {
        method: 'GET',
        headers: { 'x-tyk-authorization': this.connection.secret },
        timeoutMs: Math.max(1, Math.min(timeoutMs, (this.connection.timeoutSeconds ?? 30) * 1000)),
        tls: this.tls,
      })
      return res.status === 200
    } catch (err) {
      if (err instanceof TransportError) return false
      throw err
    }
  }
}

function parseTykJson(res: HttpAnswer, what: string): unknown {
  try {
    return JSON.parse(res.body) as unknown
  } catch {
    throw new DeckhandError(`${what}: the answer is not JSON (HTTP ${res.status}): is this a Tyk gateway?`)
  }
}
