import { readFile } from 'node:fs/promises'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'

import { DeckhandError } from './errors.js'

/**
 * The HTTP transport of the gateway clients (Kong's Admin API, Tyk's Gateway API): one request, the
 * answer as text, TLS per the connection inputs. Credentials travel in headers only.
 */

export interface HttpAnswer {
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

export interface TlsOptions {
  /** PEM text of the CA certificate(s) to trust instead of the system's. */
  ca?: string
  skipVerify?: boolean
  serverName?: string
}

export interface HttpRequest {
  method: string
  headers: Record<string, string>
  body?: { contentType: string; data: string }
  timeoutMs: number
  tls?: TlsOptions
  /** Largest answer body taken, in bytes; a longer one ends the request with a TransportError. */
  maxBytes?: number
}

/** The CA input as PEM text: given as content, or read from the path it names. */
export async function readCaCert(value: string | undefined, input = 'ca-cert'): Promise<string | undefined> {
  if (!value) return undefined
  if (value.includes('-----BEGIN')) return value
  return readFile(value, 'utf8').catch(() => {
    throw new DeckhandError(`${input}: "${value}" is neither a PEM certificate nor a readable file`)
  })
}

/** Sends one request; resolves with any HTTP answer, rejects with TransportError when there is none. */
export function sendRequest(url: URL, request: HttpRequest): Promise<HttpAnswer> {
  const headers: Record<string, string> = {
    Accept: 'application/json',
    'User-Agent': 'deckhand',
    ...request.headers,
  }
  const { body, timeoutMs, tls } = request
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
        method: request.method,
        headers,
        timeout: timeoutMs,
        ...(https ? { ca: tls?.ca, rejectUnauthorized: !tls?.skipVerify, servername: tls?.serverName } : {}),
      },
      (res) => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (request.maxBytes !== undefined && size > request.maxBytes) {
            req.destroy(new Error(`the answer is larger than ${request.maxBytes} bytes`))
            return
          }
          chunks.push(chunk)
        })
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

/** A gateway's answer in a few words: the status and its `message`, never the whole body. */
export function describeAnswer(res: HttpAnswer): string {
  let message = ''
  try {
    const parsed = JSON.parse(res.body) as { message?: unknown }
    if (typeof parsed.message === 'string') message = parsed.message
  } catch {
    message = res.body.slice(0, 200).trim()
  }
  return `HTTP ${res.status}${message ? ` (${message})` : ''}`
}

/** A JSON body. */
export function jsonBody(value: unknown): { contentType: string; data: string } {
  return { contentType: 'application/json', data: JSON.stringify(value) }
}
