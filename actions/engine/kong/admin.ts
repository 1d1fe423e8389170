import { readFile } from 'node:fs/promises'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'

import type { Connection } from '../deck/connection.js'
import { DeckhandError } from '../errors.js'

/** One Admin API answer. */
export interface AdminResponse {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** The request never got an HTTP answer: refused, reset, timed out, TLS failure. */
export class TransportError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TransportError'
  }
}

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
    let ca: string | undefined
    if (connection.caCert?.includes('-----BEGIN')) ca = connection.caCert
    else if (connection.caCert) {
      ca = await readFile(connection.caCert, 'utf8').catch(() => {
        throw new DeckhandError(
          `ca-cert: "${connection.caCert}" is neither a PEM certificate nor a readable file`,
        )
      })
    }
    return new KongAdmin(address, connection, ca)
  }

  /** Sends one request; resolves with any HTTP answer, rejects with TransportError when there is none. */
  request(
    method: string,
    path: string,
    body?: { contentType: string; data: string },
    timeoutMs = (this.connection.timeoutSeconds ?? 30) * 1000,
  ): Promise<AdminResponse> {
    const url = new URL(this.address + path)
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'deckhand' }
    for (const header of this.connection.headers ?? []) {
      const colon = header.indexOf(':')
      headers[header.slice(0, colon)] = header.slice(colon + 1)
    }
    if (this.connection.adminToken) headers['Kong-Admin-Token'] = this.connection.adminToken
    if (body) {
      headers['Content-Type'] = body.contentType
      headers['Content-Length'] = String(Buffer.byteLength(body.data))
    }
    const https = url.protocol === 'https:'
    const send = https ? httpsRequest : httpRequest
    return new Promise((resolve, reject) => {
      const req = send(
        url,
        {
          method,
          headers,
          timeout: timeoutMs,
          ...(https
            ? {
                ca: this.ca,
                rejectUnauthorized: !this.connection.tlsSkipVerify,
                servername: this.connection.tlsServerName,
              }
            : {}),
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          )
          res.on('error', (err) => reject(new TransportError(err.message)))
        },
      )
      req.on('timeout', () => req.destroy(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)))
      req.on('error', (err: NodeJS.ErrnoException) =>
        reject(new TransportError(err.message || (err.code ?? 'no answer'))),
      )
      req.end(body?.data)
    })
  }

  /** A request that must succeed with `expected`; anything else is an error naming the endpoint and Kong's message. */
  async expect(method: string, path: string, expected: number, body?: { contentType: string; data: string }) {
    const res = await this.request(method, path, body)
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

/** Kong's answer in a few words: the status and its `message`, never the whole body. */
export function describeAnswer(res: AdminResponse): string {
  let message = ''
  try {
    const parsed = JSON.parse(res.body) as { message?: unknown }
    if (typeof parsed.message === 'string') message = parsed.message
  } catch {
    message = res.body.slice(0, 200).trim()
  }
  return `HTTP ${res.status}${message ? ` (${message})` : ''}`
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
