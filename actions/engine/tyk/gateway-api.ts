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
import { definitionOf, type TykFormat, tykObject, type TykObject } from './objects.js'

/**
 * A client for the Tyk Gateway API (`/tyk/...`, the open-source gateway's own control API). The secret
 * travels in the `x-tyk-authorization` header only. Writes reach the gateway's files at once but its
 * routing only after a reload, and the lists it answers with come from what it has loaded.
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
  policy: '/tyk/policies',
}

export class TykGateway {
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

  request(method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    return sendRequest(new URL(this.address + path), {
      method,
      headers: { 'x-tyk-authorization': this.connection.secret },
      body: body === undefined ? undefined : jsonBody(body),
      timeoutMs: (this.connection.timeoutSeconds ?? 30) * 1000,
      tls: this.tls,
    })
  }

  /** A request whose lack of an answer is an error naming the call. */
  private async send(method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    try {
      return await this.request(method, path, body)
    } catch (err) {
      if (err instanceof TransportError)
        throw new DeckhandError(`${method} ${this.address}${path}: no answer (${err.message})`)
      throw err
    }
  }

  /** A request that must answer 200; anything else is an error naming the call and Tyk's message. */
  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await this.send(method, path, body)
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

  /**
   * Every API and policy the gateway has loaded. `GET /tyk/apis` lists Tyk OAS APIs too, converted to
   * the classic form and marked `is_oas`: those are read from `/tyk/apis/oas` instead, as they are kept.
   */
  async list(): Promise<TykObject[]> {
    const classic = await this.listOf('classic')
    const oas = await this.listOf('oas')
    const policies = await this.listOf('policy')
    return [...classic.filter((api) => api.is_oas !== true), ...oas, ...policies].map((body) =>
      tykObject(body, `an object the gateway listed at ${this.address}`),
    )
  }

  private async listOf(format: TykFormat): Promise<JsonObject[]> {
    const list = await this.call('GET', PATHS[format])
    // An empty gateway answers null for policies on some versions.
    if (list === null) return []
    if (!Array.isArray(list) || !list.every(isObject)) {
      throw new DeckhandError(`GET ${this.address}${PATHS[format]}: expected a JSON list`)
    }
    return list
  }

  async create(object: TykObject): Promise<void> {
    await this.call('POST', PATHS[object.format], definitionOf(object.body, object.format))
  }

  async update(object: TykObject): Promise<void> {
    const path = `${PATHS[object.format]}/${encodeURIComponent(object.id)}`
    await this.call('PUT', path, definitionOf(object.body, object.format))
  }

  async remove(object: Pick<TykObject, 'format' | 'id'>): Promise<void> {
    await this.call('DELETE', `${PATHS[object.format]}/${encodeURIComponent(object.id)}`)
  }

  /** Asks every gateway of the cluster to reload; the reload itself happens in the background. */
  async reloadGroup(): Promise<void> {
    await this.call('GET', '/tyk/reload/group')
  }
}

function parseTykJson(res: HttpAnswer, what: string): unknown {
  try {
    return JSON.parse(res.body) as unknown
  } catch {
    throw new DeckhandError(`${what}: the answer is not JSON (HTTP ${res.status}): is this a Tyk gateway?`)
  }
}
