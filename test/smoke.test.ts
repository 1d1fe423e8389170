// Smoke requests over TLS: a gateway rebuilt with a generated certificate is trusted through ca-cert, as its
// Admin API is; without it the certificate is refused, never silently accepted.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'

import { runSmokeRequests } from '../actions/engine/restore/smoke.js'
import { httpsServer, selfSignedCertificate, type SelfSigned } from './support/self-signed.js'

const logger = { info: () => {}, warn: () => {}, debug: () => {} }
let certificate: SelfSigned
const stops: (() => Promise<void>)[] = []

beforeAll(async () => {
  certificate = await selfSignedCertificate()
})
afterAll(async () => {
  await Promise.all(stops.map((stop) => stop()))
})

async function server(answer?: Parameters<typeof httpsServer>[1]) {
  const started = await httpsServer(certificate, answer)
  stops.push(started.stop)
  return started.url
}

describe('smoke requests over https', () => {
  test('a self-signed proxy is refused without its certificate, and passes with it as the CA', async () => {
    const url = await server()
    const request = { method: 'GET', url: `${url}/health`, expected: '200' }

    const [refused] = await runSmokeRequests([request], { logger, windowMs: 0 })
    expect(refused).toMatchObject({ ok: false, status: 0 })
    expect(refused!.error).toMatch(/self[- ]signed/i)

    const [trusted] = await runSmokeRequests([request], {
      logger,
      windowMs: 0,
      tls: { ca: certificate.cert },
    })
    expect(trusted).toMatchObject({ ok: true, status: 200, attempts: 1 })
  })

  test('only the status counts: a large answer is read past, not refused', async () => {
    const url = await server({ status: 200, body: Buffer.alloc(20 * 2 ** 20, 'x') })
    const [result] = await runSmokeRequests([{ method: 'GET', url, expected: '2xx' }], {
      logger,
      windowMs: 0,
      tls: { ca: certificate.cert },
    })
    expect(result).toMatchObject({ ok: true, status: 200 })
  })
})
