import { setTimeout as sleep } from 'node:timers/promises'

import { DeckhandError } from '../errors.js'
import { sendRequest, type TlsOptions } from '../http.js'
import type { Logger } from '../log.js'
import type { Timeline } from './timeline.js'

/** One smoke request: `METHOD URL STATUS`, STATUS exact (200) or a class (2xx). */
export interface SmokeRequest {
  method: string
  url: string
  expected: string
}

export interface SmokeResult {
  method: string
  /** The URL with query values hidden: they often carry an API key. */
  url: string
  expected: string
  /** Last status seen, 0 when no answer came. */
  status: number
  ok: boolean
  attempts: number
  error?: string
}

/** Parses the smoke-requests lines; a bad line is named by its number (it may hold a key). */
export function parseSmokeRequests(lines: readonly string[]): SmokeRequest[] {
  return lines.map((line, i) => {
    const parts = line.trim().split(/\s+/)
    const [method = '', url = '', expected = ''] = parts
    let valid = parts.length === 3 && /^[A-Z]+$/.test(method) && /^([1-5]\d\d|[1-5]xx)$/.test(expected)
    if (valid) {
      try {
        valid = ['http:', 'https:'].includes(new URL(url).protocol)
      } catch {
        valid = false
      }
    }
    if (!valid) {
      throw new DeckhandError(
        `smoke-requests line ${i + 1} is not "METHOD URL STATUS", e.g. GET https://api.example.com/health 200 (STATUS may be a class such as 2xx).`,
      )
    }
    return { method, url, expected }
  })
}

/** The URL for reports: query values and credentials replaced, so an API key in the query stays private. */
export function displayUrl(url: string): string {
  const u = new URL(url)
  u.username = ''
  u.password = ''
  for (const key of [...u.searchParams.keys()]) u.searchParams.set(key, '***')
  return u.toString().replace(/%2A%2A%2A/g, '***')
}

const matches = (status: number, expected: string) =>
  expected.endsWith('xx') ? String(status)[0] === expected[0] : String(status) === expected

/**
 * Sends each request until it answers as expected or `windowMs` has passed: Kong applies a new
 * configuration to its router a few seconds after it is written, so the first answers may still be 404.
 * Redirects are not followed (a 301 is an answer of its own).
 */
export async function runSmokeRequests(
  requests: readonly SmokeRequest[],
  options: {
    logger: Logger
    windowMs?: number
    timeoutMs?: number
    /** Whom to trust over https: the gateway's CA (a generated certificate is its own). */
    tls?: TlsOptions
  },
): Promise<SmokeResult[]> {
  const results: SmokeResult[] = []
  for (const request of requests) {
    const until = performance.now() + (options.windowMs ?? 30_000)
    const result: SmokeResult = {
      method: request.method,
      url: displayUrl(request.url),
      expected: request.expected,
      status: 0,
      ok: false,
      attempts: 0,
    }
    for (let delay = 500; ; delay = Math.min(delay * 2, 5000)) {
      result.attempts++
      try {
        const res = await sendRequest(new URL(request.url), {
          method: request.method,
          headers: {},
          timeoutMs: options.timeoutMs ?? 10_000,
          discardBody: true,
          ...(options.tls ? { tls: options.tls } : {}),
        })
        result.status = res.status
        result.error = undefined
        result.ok = matches(res.status, request.expected)
      } catch (err) {
        result.status = 0
        result.error = (err as Error).message
      }
      if (result.ok || performance.now() + delay > until) break
      await sleep(delay)
    }
    options.logger.info(
      `Smoke ${result.method} ${result.url}: ${result.status || result.error} (expected ${result.expected})` +
        `${result.ok ? '' : ', FAILED'}${result.attempts > 1 ? ` after ${result.attempts} attempts` : ''}`,
    )
    results.push(result)
  }
  return results
}

/** The `smoke requests` phase of a restore or an upgrade: the requests run, each one a check of the timeline. */
export async function smokePhase(
  timeline: Timeline,
  requests: readonly SmokeRequest[],
  options: Parameters<typeof runSmokeRequests>[1],
): Promise<SmokeResult[]> {
  const results = await timeline.phase(
    'smoke requests',
    () => runSmokeRequests(requests, options),
    (r) => `${r.filter((x) => x.ok).length} of ${r.length} as expected`,
  )
  for (const r of results) {
    timeline.check(
      `${r.method} ${r.url}`,
      r.ok,
      `${r.status || r.error} (expected ${r.expected})${r.attempts > 1 ? ` after ${r.attempts} attempts` : ''}`,
    )
  }
  return results
}
