import { describe, expect, it } from '@jest/globals'

import { retryAfterMs } from '../actions/engine/retry-after.js'

const bounds = { fallbackMs: 1000, minMs: 250, maxMs: 60_000 }

describe('retryAfterMs (RFC 9110 section 10.2.3)', () => {
  it('reads delay-seconds', () => {
    expect(retryAfterMs('7', bounds)).toBe(7000)
    expect(retryAfterMs(['3', '9'], bounds)).toBe(3000)
  })

  it('reads an HTTP-date as the time left until it', () => {
    const now = Date.parse('Sun, 06 Dec 2026 12:00:00 GMT')
    expect(retryAfterMs('Sun, 06 Dec 2026 12:00:12 GMT', { ...bounds, now })).toBe(12_000)
    // A date already past asks for no wait: the floor applies.
    expect(retryAfterMs('Sun, 06 Dec 2026 11:00:00 GMT', { ...bounds, now })).toBe(250)
  })

  it('waits the fallback for a missing or unreadable value', () => {
    expect(retryAfterMs(undefined, bounds)).toBe(1000)
    expect(retryAfterMs('soon', bounds)).toBe(1000)
    expect(retryAfterMs('-5', bounds)).toBe(1000)
    expect(retryAfterMs('1.5', bounds)).toBe(1000)
  })

  it('keeps the wait between its floor and its cap', () => {
    expect(retryAfterMs('0', bounds)).toBe(250)
    expect(retryAfterMs('86400', bounds)).toBe(60_000)
    expect(retryAfterMs('Fri, 01 Jan 2100 00:00:00 GMT', bounds)).toBe(60_000)
  })
})
