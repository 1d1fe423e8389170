/**
 * How long an answer that asks the client to come back later (429, 503) means to wait. Retry-After is either
 * delay-seconds or an HTTP-date (RFC 9110, section 10.2.3); anything else, or nothing, waits `fallbackMs`.
 * The wait is kept between `minMs` (a server that says 0 each time must not be hammered) and `maxMs` (a
 * server's clock or a typo must not park a job for a day).
 */
export function retryAfterMs(
  value: string | string[] | undefined,
  options: { fallbackMs: number; minMs: number; maxMs: number; now?: number },
): number {
  const text = (Array.isArray(value) ? value[0] : value)?.trim() ?? ''
  let ms = options.fallbackMs
  if (/^\d+$/.test(text)) ms = Number(text) * 1000
  // An HTTP-date names its day and month (IMF-fixdate, RFC 850, asctime); Date.parse would take "-5" too.
  else if (/^[A-Za-z]{3}/.test(text)) {
    const date = Date.parse(text)
    if (Number.isFinite(date)) ms = Math.max(0, date - (options.now ?? Date.now()))
  }
  return Math.min(Math.max(ms, options.minMs), options.maxMs)
}
