// A throwaway self-signed certificate for 127.0.0.1, made by the openssl command line (as a gateway's generated
// certificate is: its own issuer), and an HTTPS server on loopback that presents it.
import { execFile } from 'node:child_process'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

export interface SelfSigned {
  cert: string
  key: string
}

export async function selfSignedCertificate(): Promise<SelfSigned> {
  const dir = await mkdtemp(join(tmpdir(), 'deckhand-cert-'))
  try {
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ])
    return {
      cert: await readFile(join(dir, 'cert.pem'), 'utf8'),
      key: await readFile(join(dir, 'key.pem'), 'utf8'),
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** An HTTPS server on 127.0.0.1 answering every request with `status` and `body`; stop() closes it. */
export async function httpsServer(
  certificate: SelfSigned,
  answer: { status: number; body?: string | Buffer } = { status: 200 },
): Promise<{ url: string; stop: () => Promise<void> }> {
  const server: Server = createServer({ cert: certificate.cert, key: certificate.key }, (_req, res) => {
    res.writeHead(answer.status, { 'Content-Type': 'text/plain' })
    res.end(answer.body ?? 'ok')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `https://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
