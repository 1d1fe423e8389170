import { createHash } from 'node:crypto'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type ServerResponse } from 'node:http'
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tar from 'tar'

import { type DeckPlatform, deckBinaryName, releaseAsset } from '../../actions/engine/deck/install.js'

/** Path prefix of the fake release page, as on github.com. */
export const RELEASES_PATH = '/Kong/deck/releases'

export interface RecordedRequest {
  method: string
  path: string
}

/** Asset name -> content, per version (without the `v`). */
export type Releases = Record<string, Record<string, Buffer | string>>

/**
 * A local stand-in for github.com/Kong/deck/releases: `/latest` redirects to `/tag/v<version>`,
 * `/download/v<version>/<asset>` redirects to a storage URL that serves the bytes, like GitHub's release CDN.
 */
export interface ReleaseServer {
  /** e.g. `http://127.0.0.1:41234/Kong/deck/releases`; pass as releaseBaseUrl. */
  baseUrl: string
  releases: Releases
  /** Version `/latest` redirects to; undefined answers 404. */
  latest: string | undefined
  requests: RecordedRequest[]
  /** Answer the next `count` asset requests with this status (to exercise retries). */
  failNext(count: number, status: number): void
  close(): Promise<void>
}

export async function startReleaseServer(
  options: { releases?: Releases; latest?: string } = {},
): Promise<ReleaseServer> {
  let failures = { count: 0, status: 500 }
  const state = {
    releases: options.releases ?? {},
    latest: options.latest,
    requests: [] as RecordedRequest[],
  }
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    state.requests.push({ method: req.method ?? 'GET', path })
    const origin = `http://${req.headers.host ?? 'localhost'}`

    if (path === `${RELEASES_PATH}/latest`) {
      if (state.latest === undefined) return notFound(res)
      return redirect(res, `${origin}${RELEASES_PATH}/tag/v${state.latest}`)
    }
    const download = new RegExp(`^${RELEASES_PATH}/download/v([^/]+)/([^/]+)$`).exec(path)
    if (download) {
      if (failures.count > 0) {
        failures.count--
        res.writeHead(failures.status).end()
        return
      }
      return redirect(res, `${origin}/release-assets/${download[1]}/${download[2]}`)
    }
    const asset = /^\/release-assets\/([^/]+)\/([^/]+)$/.exec(path)
    const content = asset?.[1] && asset[2] ? state.releases[asset[1]]?.[asset[2]] : undefined
    if (content === undefined) return notFound(res)
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': Buffer.byteLength(content),
    })
    res.end(content)
  })
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
  const { port } = server.address() as AddressInfo

  return Object.assign(state, {
    baseUrl: `http://127.0.0.1:${port}${RELEASES_PATH}`,
    failNext(count: number, status: number) {
      failures = { count, status }
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections()
        server.close(() => done())
      }),
  })
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location }).end()
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found')
}

/** A stand-in deck: prints what `deck version` prints (Kong/deck cmd/version.go: "decK %s (%s) \n"). */
export function fakeDeckScript(version: string, commit = 'abcdef0'): string {
  return `#!/bin/sh\nprintf 'decK v${version} (${commit}) \\n'\n`
}

/** Writes an executable fake deck into dir and returns its path. */
export async function writeFakeDeck(dir: string, version: string, name = 'deck'): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, fakeDeckScript(version), { mode: 0o755 })
  await chmod(path, 0o755)
  return path
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

/** A checksums file as goreleaser writes it: `<sha256>  <name>` lines sorted by name. */
export function checksumsFile(assets: Record<string, Buffer | string>): string {
  return Object.keys(assets)
    .sort()
    .map((name) => `${sha256(assets[name] ?? '')}  ${name}\n`)
    .join('')
}

/**
 * The assets of a fake deck release for one platform: the archive (deck binary plus the LICENSE and
 * README.md goreleaser adds) and checksums.txt, which also lists the other platforms' archives.
 */
export async function fakeRelease(
  version: string,
  platform: DeckPlatform,
  options: { reportedVersion?: string; withoutBinary?: boolean } = {},
): Promise<Record<string, Buffer | string>> {
  const dir = await mkdtemp(join(tmpdir(), 'deckhand-fake-release-'))
  try {
    const files = ['LICENSE', 'README.md']
    await writeFile(join(dir, 'LICENSE'), 'Apache License 2.0\n')
    await writeFile(join(dir, 'README.md'), '# decK\n')
    if (!options.withoutBinary) {
      files.unshift(deckBinaryName(platform))
      await writeFakeDeck(dir, options.reportedVersion ?? version, deckBinaryName(platform))
    }
    const chunks: Buffer[] = []
    for await (const chunk of tar.c({ gzip: true, cwd: dir, portable: true }, files)) {
      chunks.push(chunk as Buffer)
    }
    const archive = Buffer.concat(chunks)
    const others: Record<string, string> = {
      [`deck_${version}_darwin_all.tar.gz`]: 'darwin',
      [`deck_${version}_windows_amd64.tar.gz`]: 'windows',
    }
    const assets: Record<string, Buffer | string> = { ...others, [releaseAsset(version, platform)]: archive }
    return { ...assets, 'checksums.txt': checksumsFile(assets) }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** A port on loopback that nothing listens on (taken, then given back). */
export async function closedPort(): Promise<number> {
  const server = createNetServer()
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
  const { port } = server.address() as AddressInfo
  await new Promise((done) => server.close(done))
  return port
}
