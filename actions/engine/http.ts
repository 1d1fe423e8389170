import { readFile } from 'node:fs/promises'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'

import { DeckhandError } from './errors.js'

/**
 * The HTTP transport of the gateway clients (Kong's Admin API, Tyk's Gateway API): one request, the
 * answer as text, TLS per the connection inputs. Credentials travel in headers only. Every answer read
 * here, and every answer GitHub's client reads through {@link fetchBounded}, has a size limit: by
 * default {@link MAX_ANSWER_BYTES}, more only where a request asks for it (a whole configuration).
 */

/**
 * The largest answer read unless a request allows more: far above what the Admin API, a Tyk gateway or
 * GitHub's API send for one object or one page of a list, and a bound on what is parsed as JSON.
 */
export const MAX_ANSWER_BYTES = 16 * 2 ** 20

/** An answer larger than its request allows: left unread, not retried, and no gateway's fault to wait out. */
export class AnswerTooLargeError extends DeckhandError {
  constructor(
    readonly method: string,
    /** Where the answer came from, without its query. */
    readonly where: string,
    readonly maxBytes: number,
  ) {
    super(
      `${method} ${where}: the answer is larger than ${sizeText(maxBytes)}, the most deckhand reads of it. ` +
        'Check that the address is the right one.',
    )
    this.name = 'AnswerTooLargeError'
  }
}

function sizeText(bytes: number): string {
  return bytes >= 2 ** 20 ? `${bytes / 2 ** 20} MiB` : `${bytes} bytes`
}

/** A URL for messages: origin and path (a query may carry a token). */
function urlText(url: URL | string): string {
  const parsed = typeof url === 'string' ? new URL(url) : url
  return `${parsed.origin}${parsed.pathname}`
}

export interface HttpAnswer {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** The request never got an HTTP answer: refused, reset, timed out, TLS failure. */
export class TransportError extends Error {
  constructor(
    message: string,
    /** The system error code where there is one: ECONNREFUSED, ENOTFOUND, EAI_AGAIN, CERT_HAS_EXPIRED… */
    readonly code?: string,
  ) {
    super(message)
    this.name = 'TransportError'
  }
}

/** getaddrinfo's answers for a name that does not resolve (EAI_AGAIN may be temporary). */
export const DNS_FAILURE_CODES: ReadonlySet<string> = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NODATA',
  'EAI_NONAME',
  'EAI_FAIL',
])

/** The name did not resolve: no gateway will appear there by waiting (unlike a refused connection). */
export function isDnsFailure(err: unknown): boolean {
  const code = (err as TransportError | undefined)?.code
  return code !== undefined && DNS_FAILURE_CODES.has(code)
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
  /**
   * Largest answer body taken, in bytes (default {@link MAX_ANSWER_BYTES}); a longer one ends the request
   * with an {@link AnswerTooLargeError}.
   */
  maxBytes?: number
  /** Reads the answer's body and drops it, whatever its size: for requests that need only the status. */
  discardBody?: boolean
}

/** The CA input as PEM text: given as content, or read from the path it names. */
export async function readCaCert(value: string | undefined, input = 'ca-cert'): Promise<string | undefined> {
  if (!value) return undefined
  if (value.includes('-----BEGIN')) return value
  return readFile(value, 'utf8').catch(() => {
    throw new DeckhandError(`${input}: "${value}" is neither a PEM certificate nor a readable file`)
  })
}

/**
 * Sends one request; resolves with any HTTP answer, rejects with TransportError when there is none and
 * with {@link AnswerTooLargeError} when the answer is over the request's limit.
 */
export function sendRequest(url: URL, request: HttpRequest): Promise<HttpAnswer> {
  const maxBytes = request.maxBytes ?? MAX_ANSWER_BYTES
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
    let tooLarge: AnswerTooLargeError | undefined
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
        const refuse = () => {
          tooLarge = new AnswerTooLargeError(request.method, urlText(url), maxBytes)
          reject(tooLarge)
          req.destroy(tooLarge)
        }
        // A declared length over the limit is refused before a byte of the body is read.
        if (!request.discardBody && Number(res.headers['content-length']) > maxBytes) return refuse()
        res.on('data', (chunk: Buffer) => {
          if (tooLarge || request.discardBody) return
          size += chunk.length
          if (size > maxBytes) return refuse()
          chunks.push(chunk)
        })
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        )
        res.on('error', (err: NodeJS.ErrnoException) =>
          reject(tooLarge ?? new TransportError(err.message, err.code)),
        )
      },
    )
    req.on('timeout', () => req.destroy(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)))
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(tooLarge ?? new TransportError(err.message || (err.code ?? 'no answer'), err.code)),
    )
    req.end(body?.data)
  })
}

/** How much of a gateway's own message an error quotes. */
const MAX_MESSAGE = 500

/** A gateway's answer in a few words: the status and (the start of) its `message`, never the whole body. */
export function describeAnswer(res: HttpAnswer): string {
  let message = ''
  try {
    const parsed = JSON.parse(res.body) as { message?: unknown }
    if (typeof parsed.message === 'string') message = parsed.message
  } catch {
    message = res.body.slice(0, 200).trim()
  }
  if (message.length > MAX_MESSAGE) message = `${message.slice(0, MAX_MESSAGE)}…`
  return `HTTP ${res.status}${message ? ` (${message})` : ''}`
}

/** Statuses whose answers have no body, which a Response cannot be made with. */
const NO_BODY = new Set([101, 103, 204, 205, 304])

/**
 * `fetch` whose answer is read whole, up to `maxBytes`, before it is handed on: for clients that read
 * answers themselves (GitHub's), so that an answer over the limit is an {@link AnswerTooLargeError} before
 * any of it is parsed. Redirects are followed as `fetch` does; the limit is on the final answer.
 */
export async function fetchBounded(
  input: string | URL | Request,
  init?: RequestInit,
  maxBytes = MAX_ANSWER_BYTES,
): Promise<Response> {
  const response = await fetch(input, init)
  const method = init?.method ?? (input instanceof Request ? input.method : 'GET')
  const where = urlText(response.url || (input instanceof Request ? input.url : input))
  if (Number(response.headers.get('content-length')) > maxBytes) {
    await response.body?.cancel()
    throw new AnswerTooLargeError(method, where, maxBytes)
  }
  const chunks: Uint8Array[] = []
  let size = 0
  if (response.body) {
    const reader = response.body.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > maxBytes) {
        await reader.cancel()
        throw new AnswerTooLargeError(method, where, maxBytes)
      }
      chunks.push(value)
    }
  }
  const body = NO_BODY.has(response.status) ? null : Buffer.concat(chunks)
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  })
}

/** A JSON body. */
export function jsonBody(value: unknown): { contentType: string; data: string } {
  return { contentType: 'application/json', data: JSON.stringify(value) }
}
