import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile, rm, stat } from 'node:fs/promises'
import { delimiter, join, resolve } from 'node:path'
import semver from 'semver'

import { DeckhandError, errorMessage } from '../errors.js'
import type { Logger } from '../log.js'
import { isExecutable, isFile } from '../paths.js'
import { run } from '../process.js'
import { DEFAULT_DECK_VERSION, deckFeatures, parseDeckVersion } from './version.js'
import { inputName } from '../jobs/inputs.js'

/** Where Kong publishes deck releases. A mirror must keep the same layout (`/latest`, `/download/v<ver>/<asset>`). */
export const DEFAULT_RELEASE_BASE_URL = 'https://github.com/Kong/deck/releases'
/** goreleaser `checksum.name_template` in Kong/deck .goreleaser.yml. */
export const CHECKSUMS_ASSET = 'checksums.txt'

export interface DeckPlatform {
  os: 'linux' | 'darwin' | 'windows' | 'freebsd'
  arch: 'amd64' | 'arm64'
}

/**
 * Where verified deck releases are kept. The engine only drives this interface; the CLI stores them in a
 * directory of its own, the actions in the runner's tool cache.
 */
export interface ToolStore {
  /** Directory holding a cached, verified deck of this version and platform, if any. */
  find(version: string, platform: DeckPlatform): Promise<string | undefined>
  /** Downloads url to a new temporary file and returns its path. */
  download(url: string): Promise<string>
  /** Extracts a .tar.gz to a new temporary directory and returns it. */
  extract(archivePath: string): Promise<string>
  /** Moves/copies a verified extracted directory into the cache; returns the cached directory. */
  save(extractedDir: string, version: string, platform: DeckPlatform): Promise<string>
}

export interface LocateOptions {
  /** Explicit binary path (input `deck-path`): used as is; an error if missing or not executable. */
  deckPath?: string
  /** Input `deck-version`: undefined = not asked for; 'latest'; or a version like '1.65.1' / 'v1.65.1'. */
  version?: string
  /** Default {@link DEFAULT_RELEASE_BASE_URL}. */
  releaseBaseUrl?: string
  store: ToolStore
  logger: Logger
  /** Default: the platform Node runs on. */
  platform?: DeckPlatform
  /** PATH to search for an existing deck (default process.env.PATH). */
  pathEnv?: string
  /** false: never download (nor ask for the latest release); a deck neither given, on PATH nor cached is an error. */
  download?: boolean
}

export interface LocatedDeck {
  path: string
  version: string
  source: 'deck-path' | 'PATH' | 'cache' | 'download'
}

// deck's goreleaser builds linux, darwin, windows and freebsd for amd64 and arm64, minus these two.
const MISSING_BUILDS = new Set(['windows/arm64', 'freebsd/arm64'])
const NODE_OS: Record<string, DeckPlatform['os']> = {
  linux: 'linux',
  darwin: 'darwin',
  win32: 'windows',
  freebsd: 'freebsd',
}
const NODE_ARCH: Record<string, DeckPlatform['arch']> = { x64: 'amd64', arm64: 'arm64' }

export function currentPlatform(
  nodePlatform: string = process.platform,
  nodeArch: string = process.arch,
): DeckPlatform {
  const os = NODE_OS[nodePlatform]
  const arch = NODE_ARCH[nodeArch]
  if (!os || !arch) throw unsupported(`${nodePlatform}/${nodeArch}`)
  const platform = { os, arch }
  checkPlatform(platform)
  return platform
}

function checkPlatform(platform: DeckPlatform): void {
  const key = `${platform.os}/${platform.arch}`
  if (MISSING_BUILDS.has(key) || !Object.values(NODE_OS).includes(platform.os)) throw unsupported(key)
  if (!Object.values(NODE_ARCH).includes(platform.arch)) throw unsupported(key)
}

function unsupported(key: string): DeckhandError {
  return new DeckhandError(
    `deck publishes no release build for ${key} (there are builds for linux and darwin on amd64 and arm64, ` +
      'windows/amd64 and freebsd/amd64). ' +
      `Install deck yourself and set ${inputName('deck-path')} to the binary.`,
  )
}

export function deckBinaryName(platform: DeckPlatform): string {
  return platform.os === 'windows' ? 'deck.exe' : 'deck'
}

/**
 * Checks a version string and returns it without a leading `v`. The result ends up in URLs and cache paths,
 * so anything but a plain semantic version (e.g. `1.x`, `../../etc`) is refused.
 */
export function normalizeVersion(input: string): string {
  const version = input.trim().replace(/^v/, '')
  if (!/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/.test(version) || semver.valid(version) !== version) {
    throw new DeckhandError(
      `Invalid deck version ${JSON.stringify(input)}: expected 'latest' or a release version such as ` +
        `${DEFAULT_DECK_VERSION} or v${DEFAULT_DECK_VERSION}.`,
    )
  }
  return version
}

/**
 * The archive name of a release. goreleaser's default archive template (`{{ .ProjectName }}_{{ .Version }}_
 * {{ .Os }}_{{ .Arch }}`, tar.gz for every OS) plus `universal_binaries: replace: true`, which replaces the
 * darwin amd64/arm64 archives with one universal `darwin_all` archive (Kong/deck .goreleaser.yml).
 */
export function releaseAsset(version: string, platform: DeckPlatform): string {
  checkPlatform(platform)
  const arch = platform.os === 'darwin' ? 'all' : platform.arch
  return `deck_${normalizeVersion(version)}_${platform.os}_${arch}.tar.gz`
}

/** Parses a goreleaser checksums file (`<sha256>  <file>` per line, as sha256sum writes it). */
export function parseChecksums(text: string): Map<string, string> {
  const sums = new Map<string, string>()
  for (const line of text.split(/\r?\n/)) {
    const match = /^([0-9a-fA-F]{64}) [ *]?(\S.*)$/.exec(line.trim())
    if (match?.[1] && match[2]) sums.set(match[2], match[1].toLowerCase())
  }
  return sums
}

export interface FetchRetryOptions {
  /** Total attempts (default 3). */
  attempts?: number
  /** Per attempt, including reading the body (default 30 s). */
  timeoutMs?: number
  /** Wait before the first retry, doubled each time (default 1 s). */
  retryDelayMs?: number
}

/** fetch with a timeout that retries network errors and 5xx responses; other responses are returned as is. */
export async function fetchWithRetry(
  url: string,
  init: RequestInit = {},
  options: FetchRetryOptions = {},
): Promise<Response> {
  const { attempts = 3, timeoutMs = 30_000, retryDelayMs = 1000 } = options
  for (let attempt = 1; ; attempt++) {
    let response: Response | undefined
    try {
      response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) })
    } catch (err) {
      if (attempt >= attempts) throw err
    }
    if (response) {
      if (response.status < 500 || attempt >= attempts) return response
      await response.body?.cancel()
    }
    await new Promise((done) => setTimeout(done, retryDelayMs * 2 ** (attempt - 1)))
  }
}

/**
 * Resolves the newest release without the GitHub API (no token, no rate limit): `<base>/latest` redirects
 * to `<base>/tag/v<version>`.
 */
export async function resolveLatestVersion(releaseBaseUrl: string): Promise<string> {
  const url = `${trimSlashes(releaseBaseUrl)}/latest`
  const fail = (why: string) =>
    new DeckhandError(
      `Could not resolve the latest deck release from ${url}: ${why}. ` +
        `Set deck-version to an explicit version such as ${DEFAULT_DECK_VERSION}.`,
    )
  let response: Response
  try {
    response = await fetchWithRetry(url, { redirect: 'manual' })
  } catch (err) {
    throw fail(errorMessage(err))
  }
  await response.body?.cancel()
  const location = response.headers.get('location')
  if (response.status < 300 || response.status >= 400 || !location) {
    throw fail(`expected a redirect to the release tag, got HTTP ${response.status}`)
  }
  const tag = /\/tag\/([^/?#]+)\/?(?:[?#].*)?$/.exec(new URL(location, url).href)?.[1]
  if (!tag) throw fail(`unexpected redirect to ${location}`)
  try {
    return normalizeVersion(decodeURIComponent(tag))
  } catch {
    throw fail(`the release tag ${JSON.stringify(tag)} is not a version`)
  }
}

export async function locateDeck(options: LocateOptions): Promise<LocatedDeck> {
  const { store, logger } = options
  const platform = options.platform ?? currentPlatform()
  checkPlatform(platform)
  const binary = deckBinaryName(platform)

  if (options.deckPath) {
    const path = resolve(options.deckPath)
    await checkExplicitDeck(path)
    return finish(path, 'deck-path', logger)
  }

  // Validate before anything else: an invalid version is an error even if a deck is on PATH.
  let asked = options.version?.trim() || undefined
  if (asked?.toLowerCase() === 'latest') asked = 'latest'
  const normalized = asked === undefined || asked === 'latest' ? undefined : normalizeVersion(asked)
  const releaseBaseUrl = trimSlashes(options.releaseBaseUrl ?? DEFAULT_RELEASE_BASE_URL)
  const offline = options.download === false
  const wanted = asked === 'latest' && !offline ? await resolveLatestVersion(releaseBaseUrl) : normalized
  if (asked === 'latest') logger.info(`Latest deck release: ${wanted}`)

  const onPath = await findOnPath(binary, options.pathEnv ?? process.env.PATH ?? '')
  if (onPath) {
    if (wanted === undefined) return finish(onPath, 'PATH', logger)
    let pathVersion: string | undefined
    try {
      pathVersion = await readDeckVersion(onPath)
    } catch (err) {
      logger.warn(`Ignoring the deck on PATH: ${errorMessage(err)}`)
    }
    if (pathVersion !== undefined && semver.eq(pathVersion, wanted)) {
      return finish(onPath, 'PATH', logger, pathVersion)
    }
    if (pathVersion !== undefined) {
      logger.info(`deck on PATH (${onPath}) is ${pathVersion}, not the requested ${wanted}`)
    }
  }

  const version = wanted ?? DEFAULT_DECK_VERSION
  deckFeatures(version) // refuse a too-old version before downloading it
  const cached = await store.find(version, platform)
  if (cached) return finish(join(cached, binary), 'cache', logger)
  if (offline)
    throw new DeckhandError(
      `deck ${version} is neither on PATH nor in the tool cache: a command that needs it downloads it, or set ${inputName('deck-path')} to a deck binary.`,
    )
  const installed = await install(version, platform, releaseBaseUrl, store, logger)
  const located = await finish(join(installed, binary), 'download', logger)
  if (!semver.eq(located.version, version)) {
    logger.warn(`The deck ${version} release archive contains deck ${located.version}`)
  }
  return located
}

/** Downloads, verifies and caches a release; returns the cached directory. */
async function install(
  version: string,
  platform: DeckPlatform,
  releaseBaseUrl: string,
  store: ToolStore,
  logger: Logger,
): Promise<string> {
  const asset = releaseAsset(version, platform)
  const releaseUrl = `${releaseBaseUrl}/download/v${version}`
  const assetUrl = `${releaseUrl}/${asset}`
  const checksumsUrl = `${releaseUrl}/${CHECKSUMS_ASSET}`
  logger.info(`Downloading deck ${version} from ${assetUrl}`)

  const archive = await download(store, assetUrl, version)
  try {
    const checksumsFile = await download(store, checksumsUrl, version)
    let checksums: Map<string, string>
    try {
      checksums = parseChecksums(await readFile(checksumsFile, 'utf8'))
    } finally {
      await rm(checksumsFile, { force: true })
    }
    const expected = checksums.get(asset)
    const actual = await sha256File(archive)
    if (expected !== actual) {
      throw new DeckhandError(
        `deck ${version} failed checksum verification: ${assetUrl} has sha256 ${actual}, but ${checksumsUrl} ` +
          (expected ? `expects ${expected}` : `has no entry for ${asset}`) +
          '. The download was discarded and nothing was installed.',
      )
    }
    logger.debug(`sha256 ${actual} of ${asset} matches ${CHECKSUMS_ASSET}`)

    let extracted: string
    try {
      extracted = await store.extract(archive)
    } catch (err) {
      throw new DeckhandError(`Could not extract ${asset}: ${errorMessage(err)}`, [], { cause: err })
    }
    let saved: string | undefined
    try {
      const binary = deckBinaryName(platform)
      if (!(await isFile(join(extracted, binary)))) {
        throw new DeckhandError(`${assetUrl} does not contain ${binary}; nothing was installed.`)
      }
      saved = await store.save(extracted, version, platform)
      return saved
    } finally {
      // A store that copies leaves the extracted directory behind; one that moved it left nothing to remove.
      if (saved === undefined || resolve(saved) !== resolve(extracted)) {
        await rm(extracted, { recursive: true, force: true })
      }
    }
  } finally {
    await rm(archive, { force: true })
  }
}

async function download(store: ToolStore, url: string, version: string): Promise<string> {
  try {
    return await store.download(url)
  } catch (err) {
    throw new DeckhandError(
      `Could not download ${url}: ${errorMessage(err)}. Check that deck v${version} is a published release.`,
      [],
      { cause: err },
    )
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

async function checkExplicitDeck(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined)
  if (!info) throw new DeckhandError(`deck-path ${path} does not exist.`)
  if (!info.isFile()) throw new DeckhandError(`deck-path ${path} is not a file; point it at the deck binary.`)
  if (!(await isExecutable(path))) {
    throw new DeckhandError(`deck-path ${path} is not executable (chmod +x it).`)
  }
}

export async function findOnPath(binary: string, pathEnv: string): Promise<string | undefined> {
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue
    const candidate = resolve(dir, binary)
    if ((await isFile(candidate)) && (await isExecutable(candidate))) return candidate
  }
  return undefined
}

/** Runs `<deck> version` and returns the version it reports. */
async function readDeckVersion(path: string): Promise<string> {
  let result
  try {
    result = await run(path, ['version'], {
      timeoutMs: 30_000,
      killGroup: true,
      env: { DECK_ANALYTICS: 'off' },
    })
  } catch (err) {
    throw new DeckhandError(`Could not run ${path}: ${errorMessage(err)}`, [], { cause: err })
  }
  if (result.timedOut) throw new DeckhandError(`'${path} version' did not answer within 30 s and was stopped`)
  if (result.signal || result.exitCode !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`
    const stderr = result.stderr.trim()
    throw new DeckhandError(`'${path} version' ${how}${stderr ? `: ${stderr}` : ''}`)
  }
  try {
    return parseDeckVersion(result.stdout)
  } catch (err) {
    throw new DeckhandError(`${path} does not look like deck: ${errorMessage(err)}`, [], { cause: err })
  }
}

const SOURCE_LABEL: Record<LocatedDeck['source'], string> = {
  'deck-path': 'deck-path',
  PATH: 'PATH',
  cache: 'the tool cache',
  download: 'a verified download',
}

async function finish(
  path: string,
  source: LocatedDeck['source'],
  logger: Logger,
  knownVersion?: string,
): Promise<LocatedDeck> {
  const version = knownVersion ?? (await readDeckVersion(path))
  deckFeatures(version)
  logger.info(`Using deck ${version} from ${SOURCE_LABEL[source]}: ${path}`)
  return { path, version, source }
}

function trimSlashes(url: string): string {
  return url.replace(/\/+$/, '')
}
