import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'

import { DirToolStore, defaultCacheRoot } from '../actions/engine/deck/dir-store.js'
import {
  currentPlatform,
  type DeckPlatform,
  locateDeck,
  type LocateOptions,
  normalizeVersion,
  parseChecksums,
  releaseAsset,
  type ToolStore,
} from '../actions/engine/deck/install.js'
import { DEFAULT_DECK_VERSION } from '../actions/engine/deck/version.js'
import { DeckhandError } from '../actions/engine/errors.js'
import type { Logger } from '../actions/engine/log.js'
import { FIXTURES } from './support/deck-double.js'
import {
  checksumsFile,
  closedPort,
  fakeRelease,
  type ReleaseServer,
  sha256,
  startReleaseServer,
  writeFakeDeck,
} from './support/release-server.js'

const LINUX: DeckPlatform = { os: 'linux', arch: 'amd64' }
const ASSET = `deck_1.65.1_linux_amd64.tar.gz`

// Everything a test starts or creates is undone here, also when the test fails.
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'deckhand-install-test-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function server(options: Parameters<typeof startReleaseServer>[0] = {}): Promise<ReleaseServer> {
  const started = await startReleaseServer(options)
  cleanups.push(() => started.close())
  return started
}

/** A server publishing deck 1.65.1 (and whatever else is asked) for linux/amd64. */
async function releaseServer(versions: string[] = ['1.65.1'], latest?: string): Promise<ReleaseServer> {
  const releases: Record<string, Record<string, Buffer | string>> = {}
  for (const version of versions) releases[version] = await fakeRelease(version, LINUX)
  return server({ releases, latest: latest ?? versions[versions.length - 1] })
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = []
  return {
    lines,
    info: (message) => lines.push(`info: ${message}`),
    warn: (message) => lines.push(`warn: ${message}`),
    debug: (message) => lines.push(`debug: ${message}`),
  }
}

/** Every file below dir (directories themselves are not listed). */
async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return []
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter((entry) => !entry.isDirectory()).map((entry) => join(entry.parentPath, entry.name))
}

async function setup(versions?: string[], latest?: string) {
  const release = await releaseServer(versions, latest)
  const root = await tempDir()
  const downloads = await tempDir()
  const emptyPath = await tempDir()
  const store = new DirToolStore(root, { tempDir: downloads, retryDelayMs: 10 })
  const logger = recordingLogger()
  const options = (extra: Partial<LocateOptions> = {}): LocateOptions => ({
    store,
    logger,
    platform: LINUX,
    releaseBaseUrl: release.baseUrl,
    pathEnv: emptyPath,
    ...extra,
  })
  return { release, root, downloads, store, logger, options }
}

const posix = process.platform === 'win32' ? describe.skip : describe

/** Every failure to download deck ends with the three ways around the download. */
function expectWaysOut(message: string): void {
  expect(message).toContain('set deck-path to a deck binary')
  expect(message).toContain('put deck on PATH')
  expect(message).toContain("set DECKHAND_DECK_RELEASES_URL to a reachable mirror of deck's releases")
}

async function failure(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(error).toBeInstanceOf(DeckhandError)
  return (error as Error).message
}

/** Counts the fetch calls a test makes (DirToolStore downloads through the global fetch). */
function countFetches(): { count: () => number } {
  const spy = jest.spyOn(globalThis, 'fetch')
  cleanups.push(async () => spy.mockRestore())
  return { count: () => spy.mock.calls.length }
}

describe('currentPlatform', () => {
  it('maps Node platforms onto deck release platforms', () => {
    expect(currentPlatform('linux', 'x64')).toEqual({ os: 'linux', arch: 'amd64' })
    expect(currentPlatform('linux', 'arm64')).toEqual({ os: 'linux', arch: 'arm64' })
    expect(currentPlatform('darwin', 'arm64')).toEqual({ os: 'darwin', arch: 'arm64' })
    expect(currentPlatform('win32', 'x64')).toEqual({ os: 'windows', arch: 'amd64' })
    expect(currentPlatform('freebsd', 'x64')).toEqual({ os: 'freebsd', arch: 'amd64' })
  })

  it.each([
    ['win32', 'arm64'],
    ['freebsd', 'arm64'],
    ['linux', 'ia32'],
    ['linux', 'arm'],
    ['aix', 'ppc64'],
  ])('rejects %s/%s, for which deck publishes no build', (nodePlatform, nodeArch) => {
    expect(() => currentPlatform(nodePlatform, nodeArch)).toThrow(DeckhandError)
    expect(() => currentPlatform(nodePlatform, nodeArch)).toThrow(/no release build.*set deck-path/)
  })
})

describe('releaseAsset', () => {
  it('names archives as Kong/deck goreleaser publishes them', () => {
    expect(releaseAsset('1.65.1', LINUX)).toBe('deck_1.65.1_linux_amd64.tar.gz')
    expect(releaseAsset('v1.65.1', { os: 'linux', arch: 'arm64' })).toBe('deck_1.65.1_linux_arm64.tar.gz')
    expect(releaseAsset('1.65.1', { os: 'windows', arch: 'amd64' })).toBe('deck_1.65.1_windows_amd64.tar.gz')
    expect(releaseAsset('1.65.1', { os: 'freebsd', arch: 'amd64' })).toBe('deck_1.65.1_freebsd_amd64.tar.gz')
  })

  it('uses the universal darwin archive for both Mac architectures', () => {
    expect(releaseAsset('1.65.1', { os: 'darwin', arch: 'arm64' })).toBe('deck_1.65.1_darwin_all.tar.gz')
    expect(releaseAsset('1.65.1', { os: 'darwin', arch: 'amd64' })).toBe('deck_1.65.1_darwin_all.tar.gz')
  })

  it('refuses platforms without a build', () => {
    expect(() => releaseAsset('1.65.1', { os: 'windows', arch: 'arm64' })).toThrow(/windows\/arm64/)
  })
})

describe('normalizeVersion', () => {
  it('accepts versions with or without v', () => {
    expect(normalizeVersion('1.65.1')).toBe('1.65.1')
    expect(normalizeVersion(' v1.65.1 ')).toBe('1.65.1')
    expect(normalizeVersion('1.66.0-rc.1')).toBe('1.66.0-rc.1')
  })

  it.each(['1.x', '../../etc', '1.65', 'v1.65.1/../../x', '1.65.1+build', 'latest', '', '01.2.3'])(
    'rejects %j',
    (input) => {
      expect(() => normalizeVersion(input)).toThrow(/Invalid deck version/)
    },
  )
})

describe('parseChecksums', () => {
  it('reads goreleaser checksum files', () => {
    const a = 'a'.repeat(64)
    const b = 'B'.repeat(64)
    const text = `${a}  deck_1.65.1_linux_amd64.tar.gz\r\n${b} *deck_1.65.1_darwin_all.tar.gz\n\nnot a checksum line\n`
    expect(parseChecksums(text)).toEqual(
      new Map([
        ['deck_1.65.1_linux_amd64.tar.gz', a],
        ['deck_1.65.1_darwin_all.tar.gz', 'b'.repeat(64)],
      ]),
    )
  })

  it('matches what the fake release server publishes', () => {
    const assets = { 'x.tar.gz': 'x', 'y.tar.gz': 'y' }
    expect(parseChecksums(checksumsFile(assets)).get('y.tar.gz')).toBe(sha256('y'))
  })
})

describe('defaultCacheRoot', () => {
  it('prefers DECKHAND_CACHE_DIR, then XDG_CACHE_HOME', () => {
    expect(defaultCacheRoot({ DECKHAND_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x' })).toBe('/c')
    expect(defaultCacheRoot({ XDG_CACHE_HOME: '/x' })).toBe(join('/x', 'deckhand'))
    expect(defaultCacheRoot({})).toMatch(/[/\\]\.cache[/\\]deckhand$/)
  })
})

posix('locateDeck with DirToolStore', () => {
  it('downloads, verifies and caches the default version, then finds it in the cache without a request', async () => {
    const { release, root, downloads, options, logger } = await setup()

    const first = await locateDeck(options())
    expect(first).toEqual({
      path: join(root, 'deck', '1.65.1', 'linux-amd64', 'deck'),
      version: DEFAULT_DECK_VERSION,
      source: 'download',
    })
    expect(release.requests.map((r) => r.path)).toEqual([
      `/Kong/deck/releases/download/v1.65.1/${ASSET}`,
      `/release-assets/1.65.1/${ASSET}`,
      '/Kong/deck/releases/download/v1.65.1/checksums.txt',
      '/release-assets/1.65.1/checksums.txt',
    ])
    expect(logger.lines).toContain(`info: Using deck 1.65.1 from a verified download: ${first.path}`)
    // Only the entry is left: no download, no extraction directory.
    expect((await filesUnder(root)).sort()).toEqual(
      ['LICENSE', 'README.md', 'deck'].map((name) => join(root, 'deck', '1.65.1', 'linux-amd64', name)),
    )
    expect(await filesUnder(downloads)).toEqual([])

    const requestsBefore = release.requests.length
    const second = await locateDeck(options({ version: 'v1.65.1' }))
    expect(second).toEqual({ ...first, source: 'cache' })
    expect(release.requests).toHaveLength(requestsBefore)
  })

  it("resolves 'latest' from the release page redirect", async () => {
    const { release, root, options, logger } = await setup(['1.65.1', '1.66.0'], '1.66.0')

    const located = await locateDeck(options({ version: 'latest' }))
    expect(located).toMatchObject({ version: '1.66.0', source: 'download' })
    expect(located.path).toBe(join(root, 'deck', '1.66.0', 'linux-amd64', 'deck'))
    expect(release.requests[0]?.path).toBe('/Kong/deck/releases/latest')
    expect(logger.lines).toContain('info: Latest deck release: 1.66.0')
  })

  it("explains when 'latest' cannot be resolved", async () => {
    const { release, options } = await setup()
    release.latest = undefined
    const message = await failure(locateDeck(options({ version: 'latest' })))
    expect(message).toMatch(
      /Could not resolve the latest deck release from http:\/\/127\.0\.0\.1:\d+\/Kong\/deck\/releases\/latest: HTTP 404: no latest release\. Naming a version in deck-version/,
    )
    expectWaysOut(message)
  })

  it('refuses an archive whose checksum does not match, and keeps nothing', async () => {
    const { release, root, downloads, store, options } = await setup()
    const assets = release.releases['1.65.1']!
    const wrong = 'f'.repeat(64)
    assets['checksums.txt'] = `${wrong}  ${ASSET}\n`
    const actual = sha256(assets[ASSET]!)

    const message = await failure(locateDeck(options()))
    expect(message).toMatch(/checksum verification/)
    expect(message).toContain(wrong)
    expect(message).toContain(actual)
    expect(message).toContain(`${release.baseUrl}/download/v1.65.1/${ASSET}`)
    expectWaysOut(message)
    // Not retried: the same bytes would fail again.
    expect(release.requests.filter((r) => r.path.endsWith(`/${ASSET}`))).toHaveLength(2) // redirect + asset
    expect(await filesUnder(root)).toEqual([])
    expect(await filesUnder(downloads)).toEqual([])
    expect(await store.find('1.65.1', LINUX)).toBeUndefined()
  })

  it('refuses an archive the checksum file does not list', async () => {
    const { release, root, downloads, options } = await setup()
    const assets = release.releases['1.65.1']!
    assets['checksums.txt'] = checksumsFile({ 'deck_1.65.1_darwin_all.tar.gz': 'x' })

    const message = await failure(locateDeck(options()))
    expect(message).toContain(`checksums.txt has no line for ${ASSET}`)
    expectWaysOut(message)
    expect(await filesUnder(root)).toEqual([])
    expect(await filesUnder(downloads)).toEqual([])
  })

  it('reports a missing release asset as such, without retrying it', async () => {
    const { release, root, downloads, options } = await setup()
    delete release.releases['1.65.1']![ASSET]

    const message = await failure(locateDeck(options({ version: '1.65.1' })))
    expect(message).toContain(
      `Could not download deck 1.65.1 from ${release.baseUrl}/download/v1.65.1/${ASSET}: HTTP 404: ` +
        `no deck release v1.65.1, or no ${ASSET} in it for linux/amd64.`,
    )
    expectWaysOut(message)
    expect(release.requests.filter((r) => r.path.endsWith(`/${ASSET}`))).toHaveLength(2) // redirect + 404
    expect(await filesUnder(root)).toEqual([])
    expect(await filesUnder(downloads)).toEqual([])
  })

  it('reports a release without checksums.txt as such', async () => {
    const { release, root, options } = await setup()
    delete release.releases['1.65.1']!['checksums.txt']

    const message = await failure(locateDeck(options()))
    expect(message).toContain(
      'HTTP 404: the deck release v1.65.1 has no checksums.txt to verify the download with',
    )
    expectWaysOut(message)
    expect(await filesUnder(root)).toEqual([])
  })

  it.each([
    [403, 'HTTP 403: the release host refuses this machine, most likely a rate limit'],
    [429, 'HTTP 429: the release host refuses this machine, most likely a rate limit'],
  ])('reports HTTP %i as a refusal or rate limit, without retrying it', async (status, words) => {
    const { release, options } = await setup()
    release.failNext(1, status)

    const message = await failure(locateDeck(options()))
    expect(message).toContain(
      `Could not download deck 1.65.1 from ${release.baseUrl}/download/v1.65.1/${ASSET}: ${words}`,
    )
    expectWaysOut(message)
    expect(release.requests).toHaveLength(1)
  })

  it('names a release host that does not resolve, and tries it only twice', async () => {
    const { options, root } = await setup()
    const fetches = countFetches()
    const base = 'http://deck-releases.invalid/Kong/deck/releases'

    const message = await failure(locateDeck(options({ releaseBaseUrl: base })))
    expect(message).toContain(`Could not download deck 1.65.1 from ${base}/download/v1.65.1/${ASSET}`)
    expect(message).toMatch(/cannot resolve deck-releases\.invalid \((ENOTFOUND|EAI_AGAIN)/)
    expect(message).not.toMatch(/published release|HTTP/)
    expectWaysOut(message)
    expect(fetches.count()).toBe(2)
    expect(await filesUnder(root)).toEqual([])
  })

  it('names a refused connection, after retrying it', async () => {
    const { options } = await setup()
    const fetches = countFetches()
    const port = await closedPort()

    const message = await failure(
      locateDeck(options({ releaseBaseUrl: `http://127.0.0.1:${port}/Kong/deck/releases` })),
    )
    expect(message).toContain(`the connection to 127.0.0.1 was refused (ECONNREFUSED at 127.0.0.1:${port})`)
    expectWaysOut(message)
    expect(fetches.count()).toBe(3)
  })

  it('names the certificate error of a release host whose TLS is not trusted, without retrying it', async () => {
    const { options } = await setup()
    const fetches = countFetches()
    // The self-signed certificate and key of the community gateway fixture (made for the fixtures only).
    const fixture = parse(await readFile(join(FIXTURES, 'community.yaml'), 'utf8')) as {
      workspaces: { default: { certificates: { cert: string; key: string }[] } }
    }
    const { cert, key } = fixture.workspaces.default.certificates[0]!
    let connections = 0
    const https = createHttpsServer({ cert, key }, (_req, res) => res.end())
    https.on('connection', () => connections++)
    await new Promise<void>((ready) => https.listen(0, '127.0.0.1', ready))
    cleanups.push(() => new Promise((done) => https.close(() => done())))
    const { port } = https.address() as AddressInfo

    const message = await failure(
      locateDeck(options({ releaseBaseUrl: `https://127.0.0.1:${port}/Kong/deck/releases` })),
    )
    expect(message).toContain('TLS with 127.0.0.1 failed: DEPTH_ZERO_SELF_SIGNED_CERT')
    expect(message).toContain('NODE_EXTRA_CA_CERTS')
    expectWaysOut(message)
    expect(fetches.count()).toBe(1)
    expect(connections).toBe(1)
  })

  it('refuses an archive without a deck binary, and keeps nothing', async () => {
    const { release, root, downloads, options } = await setup()
    release.releases['1.65.1'] = await fakeRelease('1.65.1', LINUX, { withoutBinary: true })

    await expect(locateDeck(options())).rejects.toThrow(/does not contain deck/)
    expect(await filesUnder(root)).toEqual([])
    expect(await filesUnder(downloads)).toEqual([])
  })

  it('retries a download that fails with a server error', async () => {
    const { release, options } = await setup()
    release.failNext(1, 503)

    await expect(locateDeck(options())).resolves.toMatchObject({ source: 'download', version: '1.65.1' })
    const assetRequests = release.requests.filter((r) => r.path.endsWith(`/download/v1.65.1/${ASSET}`))
    expect(assetRequests).toHaveLength(2)
  })

  it('gives up after three server errors and names the last answer', async () => {
    const { release, root, options } = await setup()
    release.failNext(3, 503)

    await expect(locateDeck(options())).rejects.toThrow(/503/)
    const assetRequests = release.requests.filter((r) => r.path.endsWith(`/download/v1.65.1/${ASSET}`))
    expect(assetRequests).toHaveLength(3)
    expect(await filesUnder(root)).toEqual([])
  })

  it('downloads the universal archive on macOS', async () => {
    const darwin: DeckPlatform = { os: 'darwin', arch: 'arm64' }
    const { release, options } = await setup()
    release.releases['1.65.1'] = await fakeRelease('1.65.1', darwin)

    const located = await locateDeck(options({ platform: darwin }))
    expect(located.path).toMatch(/[/\\]deck[/\\]1\.65\.1[/\\]darwin-arm64[/\\]deck$/)
    expect(release.requests[0]?.path).toBe(
      '/Kong/deck/releases/download/v1.65.1/deck_1.65.1_darwin_all.tar.gz',
    )
  })

  it('uses deck-path without looking anywhere else', async () => {
    const { release, options } = await setup()
    const deck = await writeFakeDeck(await tempDir(), '1.62.0')

    await expect(locateDeck(options({ deckPath: deck, version: '1.65.1' }))).resolves.toEqual({
      path: deck,
      version: '1.62.0',
      source: 'deck-path',
    })
    expect(release.requests).toEqual([])
  })

  it('names a deck-path that does not exist', async () => {
    const { options } = await setup()
    const missing = join(await tempDir(), 'nope', 'deck')
    await expect(locateDeck(options({ deckPath: missing }))).rejects.toThrow(
      `deck-path ${missing} does not exist`,
    )
  })

  it('names a deck-path that is not executable', async () => {
    const { options } = await setup()
    const deck = join(await tempDir(), 'deck')
    await writeFile(deck, 'not a program', { mode: 0o644 })
    await expect(locateDeck(options({ deckPath: deck }))).rejects.toThrow(
      `deck-path ${deck} is not executable`,
    )
  })

  it('refuses a binary that prints no deck version', async () => {
    const { options } = await setup()
    const deck = join(await tempDir(), 'deck')
    await writeFile(deck, "#!/bin/sh\necho 'decK dev (unknown)'\n", { mode: 0o755 })
    await expect(locateDeck(options({ deckPath: deck }))).rejects.toThrow(`${deck} does not look like deck`)
  })

  it('uses the deck on PATH when no version is asked for', async () => {
    const { release, options } = await setup()
    const bin = await tempDir()
    const deck = await writeFakeDeck(bin, '1.60.0')

    await expect(locateDeck(options({ pathEnv: `/does/not/exist:${bin}` }))).resolves.toEqual({
      path: deck,
      version: '1.60.0',
      source: 'PATH',
    })
    expect(release.requests).toEqual([])
  })

  it('uses the deck on PATH when it is the asked version', async () => {
    const { release, options } = await setup()
    const bin = await tempDir()
    await writeFakeDeck(bin, '1.65.1')

    await expect(locateDeck(options({ pathEnv: bin, version: 'v1.65.1' }))).resolves.toMatchObject({
      source: 'PATH',
      version: '1.65.1',
    })
    expect(release.requests).toEqual([])
  })

  it('downloads the asked version when the deck on PATH is another one', async () => {
    const { logger, options } = await setup()
    const bin = await tempDir()
    await writeFakeDeck(bin, '1.60.0')

    await expect(locateDeck(options({ pathEnv: bin, version: '1.65.1' }))).resolves.toMatchObject({
      source: 'download',
      version: '1.65.1',
    })
    expect(logger.lines).toContain(
      `info: deck on PATH (${join(bin, 'deck')}) is 1.60.0, not the requested 1.65.1`,
    )
  })

  it("compares the deck on PATH with the resolved 'latest'", async () => {
    const { release, options } = await setup(['1.66.0'])
    const bin = await tempDir()
    await writeFakeDeck(bin, '1.66.0')

    await expect(locateDeck(options({ pathEnv: bin, version: 'latest' }))).resolves.toMatchObject({
      source: 'PATH',
      version: '1.66.0',
    })
    expect(release.requests.map((r) => r.path)).toEqual(['/Kong/deck/releases/latest'])
  })

  it('refuses a deck that is too old', async () => {
    const { release, options } = await setup()
    const bin = await tempDir()
    const old = await writeFakeDeck(bin, '1.10.0')

    await expect(locateDeck(options({ deckPath: old }))).rejects.toThrow(/deck 1\.10\.0 is too old/)
    await expect(locateDeck(options({ pathEnv: bin }))).rejects.toThrow(/deck 1\.10\.0 is too old/)
    // An old version asked for is refused before anything is downloaded.
    await expect(locateDeck(options({ version: '1.10.0' }))).rejects.toThrow(/deck 1\.10\.0 is too old/)
    expect(release.requests).toEqual([])
  })

  it.each(['1.x', '../../etc', 'v1.65'])('refuses the version %j before using anything', async (version) => {
    const { release, options } = await setup()
    const bin = await tempDir()
    await writeFakeDeck(bin, '1.65.1')

    await expect(locateDeck(options({ version, pathEnv: bin }))).rejects.toThrow(/Invalid deck version/)
    expect(release.requests).toEqual([])
  })

  it('refuses a platform deck has no build for', async () => {
    const { release, options } = await setup()
    await expect(locateDeck(options({ platform: { os: 'windows', arch: 'arm64' } }))).rejects.toThrow(
      /no release build for windows\/arm64/,
    )
    expect(release.requests).toEqual([])
  })

  it('replaces a broken cache entry', async () => {
    const { root, store, options } = await setup()
    const entry = join(root, 'deck', '1.65.1', 'linux-amd64')
    await mkdir(entry, { recursive: true })
    await writeFile(join(entry, 'LICENSE'), 'half a copy')
    expect(await store.find('1.65.1', LINUX)).toBeUndefined()

    await expect(locateDeck(options())).resolves.toMatchObject({ source: 'download' })
    expect(await store.find('1.65.1', LINUX)).toBe(entry)
  })
})

posix('locateDeck with ToolCacheStore', () => {
  const saved = { RUNNER_TOOL_CACHE: process.env.RUNNER_TOOL_CACHE, RUNNER_TEMP: process.env.RUNNER_TEMP }
  let runnerDirs: string
  let toolCache: string
  let runnerTemp: string
  let store: ToolStore

  beforeAll(async () => {
    runnerDirs = await mkdtemp(join(tmpdir(), 'deckhand-runner-'))
    toolCache = join(runnerDirs, 'tool-cache')
    runnerTemp = join(runnerDirs, 'temp')
    // tool-cache 4 reads both variables on every call; set them before the import all the same.
    process.env.RUNNER_TOOL_CACHE = toolCache
    process.env.RUNNER_TEMP = runnerTemp
    const { ToolCacheStore } = await import('../actions/github/tool-cache-store.js')
    store = new ToolCacheStore()
  })

  afterAll(async () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
    await rm(runnerDirs, { recursive: true, force: true })
  })

  afterEach(async () => {
    await rm(toolCache, { recursive: true, force: true })
    await rm(runnerTemp, { recursive: true, force: true })
  })

  // @actions/core and @actions/exec write workflow commands to stdout; keep the test output readable.
  function quiet(): void {
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation(() => true)
    cleanups.push(async () => spy.mockRestore())
  }

  async function options(release: ReleaseServer, extra: Partial<LocateOptions> = {}): Promise<LocateOptions> {
    return {
      store,
      logger: recordingLogger(),
      platform: LINUX,
      releaseBaseUrl: release.baseUrl,
      pathEnv: await tempDir(),
      ...extra,
    }
  }

  it('caches a verified download under an os-arch key and finds it again without a request', async () => {
    quiet()
    const release = await releaseServer()

    const first = await locateDeck(await options(release, { version: '1.65.1' }))
    const entry = join(toolCache, 'deck', '1.65.1', 'linux-amd64')
    expect(first).toEqual({ path: join(entry, 'deck'), version: '1.65.1', source: 'download' })
    expect(existsSync(`${entry}.complete`)).toBe(true)
    expect(await filesUnder(runnerTemp)).toEqual([])

    const requestsBefore = release.requests.length
    await expect(locateDeck(await options(release, { version: '1.65.1' }))).resolves.toEqual({
      ...first,
      source: 'cache',
    })
    expect(release.requests).toHaveLength(requestsBefore)
  })

  /** Counts download attempts through @actions/http-client, which the store downloads with. */
  async function countGets(): Promise<{ count: () => number }> {
    const { HttpClient } = await import('@actions/http-client')
    const get = jest.spyOn(HttpClient.prototype, 'get')
    cleanups.push(async () => get.mockRestore())
    return { count: () => get.mock.calls.length }
  }

  it('gives up on a release host that does not resolve after one retry, in seconds', async () => {
    quiet()
    const gets = await countGets()
    const base = 'http://deck-releases.invalid/Kong/deck/releases'
    const started = performance.now()

    const message = await failure(
      locateDeck({
        store,
        logger: recordingLogger(),
        platform: LINUX,
        releaseBaseUrl: base,
        pathEnv: await tempDir(),
      }),
    )
    expect(message).toMatch(/cannot resolve deck-releases\.invalid \((ENOTFOUND|EAI_AGAIN)/)
    expectWaysOut(message)
    expect(gets.count()).toBe(2)
    // tc.downloadTool would have waited 10 to 20 s before each of two retries.
    expect(performance.now() - started).toBeLessThan(8_000)
    expect(await filesUnder(runnerTemp)).toEqual([])
  })

  it('retries a refused connection, then names it', async () => {
    quiet()
    const gets = await countGets()
    const port = await closedPort()

    const message = await failure(
      locateDeck({
        store,
        logger: recordingLogger(),
        platform: LINUX,
        releaseBaseUrl: `http://127.0.0.1:${port}/Kong/deck/releases`,
        pathEnv: await tempDir(),
      }),
    )
    expect(message).toContain(`the connection to 127.0.0.1 was refused (ECONNREFUSED at 127.0.0.1:${port})`)
    expectWaysOut(message)
    expect(gets.count()).toBe(3)
    expect(await filesUnder(runnerTemp)).toEqual([])
  })

  it('keeps nothing when the checksum does not match', async () => {
    quiet()
    const release = await releaseServer()
    release.releases['1.65.1']!['checksums.txt'] = `${'0'.repeat(64)}  ${ASSET}\n`

    const message = await failure(locateDeck(await options(release)))
    expect(message).toMatch(/checksum verification.*expects 0{64}/)
    expectWaysOut(message)
    expect(await filesUnder(toolCache)).toEqual([])
    expect(await filesUnder(runnerTemp)).toEqual([])
  })

  it('reports a missing release asset without retrying it', async () => {
    quiet()
    const release = await releaseServer()
    delete release.releases['1.65.1']![ASSET]

    const message = await failure(locateDeck(await options(release)))
    expect(message).toContain(
      `/${ASSET}: HTTP 404: no deck release v1.65.1, or no ${ASSET} in it for linux/amd64.`,
    )
    expectWaysOut(message)
    expect(release.requests.filter((r) => r.path.endsWith(ASSET))).toHaveLength(2) // redirect + 404
    expect(await filesUnder(toolCache)).toEqual([])
  })

  it('reports HTTP 403 as a refusal, without retrying it', async () => {
    quiet()
    const release = await releaseServer()
    release.failNext(1, 403)

    const message = await failure(locateDeck(await options(release)))
    expect(message).toContain(`/${ASSET}: HTTP 403: the release host refuses this machine`)
    expectWaysOut(message)
    expect(release.requests).toHaveLength(1)
  })
})
