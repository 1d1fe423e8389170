import { spawn } from 'node:child_process'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname } from 'node:path'

/**
 * Git's smart HTTP protocol on 127.0.0.1, served by git's own `git http-backend` (as CGI), behind the
 * authentication GitHub applies: Basic with any user name and the token as password (`x-access-token` is
 * what actions/checkout sends), 401 without it, and 400 for a request carrying two Authorization headers.
 */
export interface GitHttpServer {
  /** Root to put in front of a repository's name, e.g. `http://127.0.0.1:41234`. */
  url: string
  /** Authorization headers seen, in order: how many each request carried and whether they were accepted. */
  requests: { path: string; authorizations: number; accepted: boolean }[]
  close(): Promise<void>
}

export async function startGitHttp(repository: string, token: string): Promise<GitHttpServer> {
  const requests: GitHttpServer['requests'] = []
  const server = createServer((req, res) => {
    // Node keeps only the first of repeated Authorization headers; the raw list has them all.
    const authorizations = req.rawHeaders.filter(
      (_, i) => i % 2 === 0 && /^authorization$/i.test(req.rawHeaders[i]!),
    )
    const header = req.headers.authorization ?? ''
    const basic = /^basic\s+(\S+)$/i.exec(header)
    const password = basic
      ? Buffer.from(basic[1]!, 'base64').toString('utf8').split(':').slice(1).join(':')
      : ''
    const accepted = authorizations.length === 1 && password === token
    requests.push({ path: req.url ?? '', authorizations: authorizations.length, accepted })
    if (authorizations.length > 1) return end(res, 400, 'Duplicate header: "Authorization"')
    if (!accepted) {
      res.setHeader('WWW-Authenticate', 'Basic realm="GitHub"')
      return end(res, 401, 'Invalid username or token.')
    }
    backend(req, res, repository)
  })
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections()
        server.close(() => done())
      }),
  }
}

function end(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' })
  res.end(text)
}

/** Runs git http-backend for one request: the CGI environment in, its headers and body out. */
function backend(req: IncomingMessage, res: ServerResponse, repository: string): void {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const child = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: dirname(repository),
      GIT_HTTP_EXPORT_ALL: '1',
      // http-backend serves pushes only to an authenticated user.
      REMOTE_USER: 'x-access-token',
      REQUEST_METHOD: req.method,
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
      GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      GIT_CONFIG_NOSYSTEM: '1',
    },
  })
  req.pipe(child.stdin)
  const chunks: Buffer[] = []
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk))
  child.on('close', () => {
    const output = Buffer.concat(chunks)
    const split = output.indexOf('\r\n\r\n')
    const head = output.subarray(0, split).toString('latin1').split('\r\n')
    let status = 200
    const headers: Record<string, string> = {}
    for (const line of head) {
      const colon = line.indexOf(':')
      const name = line.slice(0, colon).trim()
      const value = line.slice(colon + 1).trim()
      if (/^status$/i.test(name)) status = Number(value.split(' ')[0])
      else if (name) headers[name] = value
    }
    res.writeHead(status, headers)
    res.end(output.subarray(split + 4))
  })
}
