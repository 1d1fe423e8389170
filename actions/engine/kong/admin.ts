import type { Connection } from '../deck/connection.js'
import { DeckhandError } from '../errors.js'
import { describeAnswer, type HttpAnswer, readCaCert, sendRequest, TransportError } from '../http.js'

/** One Admin API answer. */
export type AdminResponse = HttpAnswer
export { describeAnswer, TransportError }

/** What `GET /` says about a node. */
export interface NodeInfo {
  version: string
  edition: 'community' | 'enterprise'
  nodeId: string
  /** `postgres`, or `off` for a DB-less node. */
  database: string
}

/** What `GET /status` says: whether the node reaches its database, or (DB-less) the hash of its configuration. */
export interface NodeStatus {
  databaseReachable?: boolean
  configurationHash?: string
}

/** The hash a DB-less node reports before any configuration was loaded. */
export const EMPTY_CONFIGURATION_HASH = '00000000000000000000000000000000'

/**
 * A client for one node's Admin API, with the connection inputs deck gets: token and extra headers
 * (sent as headers only), CA certificate, server name, skip-verify and the per-request timeout.
 */
export class KongAdmin {
  private constructor(
    readonly address: string,
    private readonly connection: Connection,
    private readonly ca: string | undefined,
  ) {}

  static async open(address: string, connection: Connection): Promise<KongAdmin> {
    return new KongAdmin(address, connection, await readCaCert(connection.caCert))
  }

  /**
   * Sends one request; resolves with any HTTP answer, rejects with TransportError when there is none.
   * The answer is limited to `maxBytes` (default: the transport's limit).
   */
  request(
    method: string,
    path: string,
    body?: { contentType: string; data: string },
    timeoutMs = (this.connection.timeoutSeconds ?? 30) * 1000,
    maxBytes?: number,
  ): Promise<AdminResponse> {
    const headers: Record<string, string> = {}
    for (const header of this.connection.headers ?? []) {
      const colon = header.indexOf(':')
      headers[header.slice(0, colon)] = header.slice(colon + 1)
    }
    if (this.connection.adminToken) headers['Kong-Admin-Token'] = this.connection.adminToken
    return sendRequest(new URL(this.address + path), {
      method,
      headers,
      body,
      timeoutMs,
      maxBytes,
      tls: {
        ca: this.ca,
        skipVerify: this.connection.tlsSkipVerify,
        serverName: this.connection.tlsServerName,
      },
    })
  }

  /** A request that must succeed with `expected`; anything else is an error naming the endpoint and Kong's message. */
  async expect(
    method: string,
    path: string,
    expected: number,
    body?: { contentType: string; data: string },
    maxBytes?: number,
  ) {
    const res = await this.request(method, path, body, undefined, maxBytes)
    if (res.status !== expected)
      throw new DeckhandError(`${method} ${this.address}${path}: ${describeAnswer(res)}`)
    return res
  }

  async info(): Promise<NodeInfo> {
    return nodeInfo(await this.expect('GET', '/', 200))
  }

  async status(): Promise<NodeStatus> {
    return nodeStatus(await this.expect('GET', '/status', 200))
  }
}

/** A node's `GET /` answer. */
export function nodeInfo(res: AdminResponse): NodeInfo {
  const root = parseJson(res) as {
    version?: string
    edition?: string
    node_id?: string
    configuration?: { database?: string }
  }
  return {
    version: root.version ?? 'unknown',
    edition: root.edition === 'enterprise' ? 'enterprise' : 'community',
    nodeId: root.node_id ?? '',
    database: root.configuration?.database ?? 'unknown',
  }
}

/** A node's `GET /status` answer. */
export function nodeStatus(res: AdminResponse): NodeStatus {
  const status = parseJson(res) as { database?: { reachable?: boolean }; configuration_hash?: string }
  return { databaseReachable: status.database?.reachable, configurationHash: status.configuration_hash }
}

export function parseJson(res: AdminResponse): unknown {
  try {
    return JSON.parse(res.body)
  } catch {
    throw new DeckhandError(
      `The Admin API answered with something other than JSON (HTTP ${res.status}): is this Kong?`,
    )
  }
}

/** A form-encoded body, as Kong's Admin API takes for simple fields. */
export function formBody(fields: Record<string, string>): { contentType: string; data: string } {
  return { contentType: 'application/x-www-form-urlencoded', data: new URLSearchParams(fields).toString() }
}
