import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile, rm, stat } from 'node:fs/promises'
import { delimiter, join, resolve } from 'node:path'
import semver from 'semver'

import { DNS_FAILURE_CODES } from '../http.js'
import { DeckhandError, errorMessage } from '../errors.js'
import type { Logger } from '../log.js'
import { isExecutable, isFile } from '../paths.js'
import { run } from '../process.js'
import { DEFAULT_DECK_VERSION, deckFeatures, parseDeckVersion } from './version.js'
import { inputName, inputSetting } from '../jobs/inputs.js'

/** Where Kong publishes deck releases. A mirror must keep the same layout (`/latest`, `/download/v<ver>/<asset>`). */
export const DEFAULT_RELEASE_BASE_URL = 'https://github.com/Kong/deck/releases'
/** goreleaser `checksum.name_template` in Kong/deck .goreleaser.yml. */
export const CHECKSUMS_ASSET = 'checksums.txt'
/** The environment variable that points downloads at a mirror of {@link DEFAULT_RELEASE_BASE_URL}. */
export const RELEASES_URL_VARIABLE = 'DECKHAND_DECK_RELEASES_URL'

/**
 * Every failure to get deck from its releases ends with the ways around the download. The one place for
 * this wording; the input is named as the action or the CLI takes it.
 */
export function deckDownloadError(what: string, cause?: unknown): DeckhandError {
  return new DeckhandError(
    `${what} To do without the download: set ${inputSetting('deck-path')} ` +
      `to a deck binary, put deck on PATH, or set ${RELEASES_URL_VARIABLE} to a reachable mirror of ` +
      `deck's releases (laid out as ${DEFAULT_RELEASE_BASE_URL}).`,
    [],
    { cause },
  )
}

/** An HTTP answer other than 200 to a download; `status` is what the classification reads. */
export class DownloadStatusError extends Error {
  constructor(
    readonly status: number,
    statusText = '',
  ) {
    super(`HTTP ${status} ${statusText}`.trim())
    this.name = 'DownloadStatusError'
  }
}

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

/**
 * fetch with a timeout, retried as {@link retryDownload} retries: network errors and 5xx answers. Other answers,
 * and the last 5xx one, are returned as they are.
 */
export async function fetchWithRetry(
  url: string,
  init: RequestInit = {},
  options: FetchRetryOptions = {},
): Promise<Response> {
  const { timeoutMs = 30_000, ...retry } = options
  const attempts = retry.attempts ?? 3
  let attempt = 0
  return retryDownload(async () => {
    attempt++
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) })
    if (response.status < 500 || attempt >= attempts) return response
    await response.body?.cancel()
    throw new DownloadStatusError(response.status, response.statusText)
  }, retry)
}

/**
 * Runs one download attempt until it succeeds or a retry cannot help:
 * network errors and 5xx answers are retried (a TLS refusal never, a name that does not resolve once);
 * other HTTP answers ({@link DownloadStatusError}) are not.
 */
export async function retryDownload<T>(
  attempt: () => Promise<T>,
  options: Omit<FetchRetryOptions, 'timeoutMs'> = {},
): Promise<T> {
  const { attempts = 3, retryDelayMs = 1000 } = options
  for (let n = 1; ; n++) {
    try {
      return await attempt()
    } catch (err) {
      const status = statusOf(err)
      const allowed = status === undefined ? attemptsFor(err) : status >= 500 ? Infinity : 1
      if (n >= Math.min(attempts, allowed)) throw err
    }
    await new Promise((done) => setTimeout(done, retryDelayMs * 2 ** (n - 1)))
  }
}

const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'ESOCKETTIMEDOUT',
])
const UNREACHABLE_CODES = new Set(['ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'EHOSTDOWN'])
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED'])

/** Node's TLS errors: OpenSSL's verification codes (CERT_HAS_EXPIRED, …) and node's own ERR_TLS_/ERR_SSL_. */
function isTlsCode(code: string): boolean {
  return /CERT|SELF_SIGNED|ISSUER|^ERR_TLS_|^ERR_SSL_|^EPROTO$/.test(code)
}

interface NetworkCause {
  code?: string
  hostname?: string
  address?: string
  port?: number
  message: string
  name: string
}

/**
 * The error that says what happened: fetch wraps it in `cause`, connection attempts in an AggregateError.
 * Read by shape, not `instanceof`: fetch's errors may come from another realm.
 */
function networkCause(err: unknown): NetworkCause | undefined {
  const seen = new Set<unknown>()
  let found: NetworkCause | undefined
  const visit = (e: unknown): void => {
    if (typeof e !== 'object' || e === null || seen.has(e)) return
    seen.add(e)
    const candidate = e as Partial<NetworkCause> & { cause?: unknown; errors?: unknown }
    if (typeof candidate.code === 'string' && found?.code === undefined) found = candidate as NetworkCause
    if (candidate.name === 'TimeoutError' && !found) found = candidate as NetworkCause
    visit(candidate.cause)
    if (Array.isArray(candidate.errors)) for (const inner of candidate.errors) visit(inner)
  }
  visit(err)
  return found
}

/** How many attempts an error allows in all. */
function attemptsFor(err: unknown): number {
  const code = networkCause(err)?.code ?? ''
  if (isTlsCode(code)) return 1
  if (DNS_FAILURE_CODES.has(code)) return 2
  return Infinity
}

function statusOf(err: unknown): number | undefined {
  if (err instanceof DownloadStatusError) return err.status
  // @actions/tool-cache's HTTPError
  const status = (err as { httpStatusCode?: unknown } | undefined)?.httpStatusCode
  return typeof status === 'number' ? status : undefined
}

/**
 * What went wrong with a request to `url`, in words that name the cause: DNS, a refused or timed-out
 * connection, TLS, or the HTTP status. `notFound` says what a 404 means for this URL.
 */
export function describeDownloadFailure(err: unknown, url: string, notFound: string): string {
  const status = statusOf(err)
  if (status !== undefined) return describeStatus(status, notFound)
  const cause = networkCause(err)
  const host = cause?.hostname ?? new URL(url).hostname
  const code = cause?.code ?? ''
  if (DNS_FAILURE_CODES.has(code)) {
    const temporary = code === 'EAI_AGAIN' ? ', a temporary DNS failure' : ''
    return `cannot resolve ${host} (${code}${temporary}): this machine finds no address for it`
  }
  if (code === 'ECONNREFUSED') {
    const where = cause?.address ? `${cause.address}:${cause.port ?? ''}`.replace(/:$/, '') : host
    return `the connection to ${host} was refused (ECONNREFUSED at ${where}): nothing listens there, or a firewall refuses it`
  }
  if (TIMEOUT_CODES.has(code) || cause?.name === 'TimeoutError') {
    return `${host} did not answer in time (${code || 'timeout'}): a firewall may be dropping the connection`
  }
  if (UNREACHABLE_CODES.has(code)) return `${host} is unreachable from this machine (${code})`
  if (RESET_CODES.has(code)) return `the connection to ${host} broke off (${code})`
  if (isTlsCode(code)) {
    return (
      `TLS with ${host} failed: ${code} (${cause?.message ?? ''}); a proxy that re-signs TLS needs its CA ` +
      'given to node through NODE_EXTRA_CA_CERTS'
    )
  }
  const text = (e: unknown) => (e as { message?: unknown }).message ?? String(e)
  const detail = cause && cause !== err ? `${text(err)}: ${cause.message}` : String(text(err))
  return detail + (code && !detail.includes(code) ? ` (${code})` : '')
}

function describeStatus(status: number, notFound: string): string {
  if (status === 404) return `HTTP 404: ${notFound}`
  if (status === 403 || status === 429) {
    return `HTTP ${status}: the release host refuses this machine, most likely a rate limit; retry later or use a mirror`
  }
  if (status >= 500) return `HTTP ${status}: the release host failed (retried)`
  return `HTTP ${status}`
}

/**
 * Resolves the newest release without the GitHub API (no token, no rate limit): `<base>/latest` redirects
 * to `<base>/tag/v<version>`.
 */
export async function resolveLatestVersion(releaseBaseUrl: string): Promise<string> {
  const url = `${trimSlashes(releaseBaseUrl)}/latest`
  const fail = (why: string, cause?: unknown) =>
    deckDownloadError(
      `Could not resolve the latest deck release from ${url}: ${why}. ` +
        `Naming a version in deck-version (such as ${DEFAULT_DECK_VERSION}) skips this look-up.`,
      cause,
    )
  let response: Response
  try {
    response = await fetchWithRetry(url, { redirect: 'manual' })
  } catch (err) {
    throw fail(describeDownloadFailure(err, url, 'no latest release'), err)
  }
  await response.body?.cancel()
  const location = response.headers.get('location')
  if (response.status < 300 || response.status >= 400 || !location) {
    const why =
      response.status < 300
        ? `expected a redirect to the release tag, got HTTP ${response.status}`
        : describeStatus(response.status, 'no latest release')
    throw fail(why)
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

  const archive = await download(
    store,
    assetUrl,
    version,
    `no deck release v${version}, or no ${asset} in it for ${platform.os}/${platform.arch}`,
  )
  try {
    const checksumsFile = await download(
      store,
      checksumsUrl,
      version,
      `the deck release v${version} has no ${CHECKSUMS_ASSET} to verify the download with`,
    )
    let checksums: Map<string, string>
    try {
      checksums = parseChecksums(await readFile(checksumsFile, 'utf8'))
    } finally {
      await rm(checksumsFile, { force: true })
    }
    const expected = checksums.get(asset)
    const actual = await sha256File(archive)
    if (expected !== actual) {
      throw deckDownloadError(
        `deck ${version} failed checksum verification: ${assetUrl} has sha256 ${actual}, but ${checksumsUrl} ` +
          (expected ? `expects ${expected}` : `has no line for ${asset}`) +
          '. The download was discarded and nothing was installed.',
      )
    }
    logger.debug(`sha256 ${actual} of ${asset} matches ${CHECKSUMS_ASSET}`)

    let extracted: string
    try {
      extracted = await store.extract(archive)
    } catch (err) {
      throw deckDownloadError(`Could not extract ${asset}: ${errorMessage(err)}.`, err)
    }
    let saved: string | undefined
    try {
      const binary = deckBinaryName(platform)
      if (!(await isFile(join(extracted, binary)))) {
        throw deckDownloadError(`${assetUrl} does not contain ${binary}; nothing was installed.`)
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

async function download(store: ToolStore, url: string, version: string, notFound: string): Promise<string> {
  try {
    return await store.download(url)
  } catch (err) {
    throw deckDownloadError(
      `Could not download deck ${version} from ${url}: ${describeDownloadFailure(err, url, notFound)}.`,
      err,
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
