import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { crc32, inflateRawSync } from 'node:zlib'

/**
 * A local stand-in for GitHub's artifact service as @actions/artifact 6 speaks to it, on 127.0.0.1 only:
 *
 * - The results service's Twirp API, JSON flavour (`POST /twirp/github.actions.results.api.v1.ArtifactService/
 *   <Method>`): CreateArtifact, FinalizeArtifact, ListArtifacts, GetSignedArtifactURL, DeleteArtifact. Requests
 *   carry proto field names (`workflow_run_backend_id`), answers use them too, int64 as strings and
 *   timestamps as RFC 3339, as protojson does. Errors are Twirp's `{code, msg}` with Twirp's HTTP statuses.
 *   Every call needs `Authorization: Bearer <ACTIONS_RUNTIME_TOKEN>`: a JWT signed by this service whose
 *   `scp` claim holds `Actions.Results:<workflowRunBackendId>:<workflowJobRunBackendId>`; a job may only
 *   touch its own run.
 * - Azure Blob Storage for the signed URLs: Put Block (`PUT ?comp=block&blockid=`), Put Block List
 *   (`PUT ?comp=blocklist`, XML), Put Blob, and Get Blob, with a SAS signature and expiry checked, Azure's
 *   response headers, and Azure's XML errors.
 * - The REST API that `findBy` (another workflow run) uses, at GITHUB_API_URL: `GET /repos/{owner}/{repo}/
 *   actions/runs/{run_id}/artifacts` (`name`, `per_page`, `page`) and `GET /repos/{owner}/{repo}/actions/
 *   artifacts/{artifact_id}/zip` (302 to a short-lived signed blob URL), with `token`/`Bearer` credentials:
 *   {@link ACTIONS_READ_TOKEN} may read, {@link NO_ACTIONS_TOKEN} lacks `actions: read` (403).
 *
 * Artifact names are unique per workflow run (409 `already_exists`, across jobs). Only finalized artifacts
 * are listed, and FinalizeArtifact checks the committed blob against the size and sha256 the client sends.
 */
export interface ArtifactService {
  /** Origin of everything, e.g. `http://127.0.0.1:41234`: results service, blob storage and REST API. */
  url: string
  /** `owner/name` of the one repository this service knows. */
  repository: string
  /**
   * The environment the runner gives a job of the workflow run `runId` (default {@link DEFAULT_RUN_ID}):
   * each call is a new job of that run, with its own runtime token.
   */
  env(runId?: string): Record<string, string>
  /** Finalized artifacts, oldest first, of one run or all, with their unzipped contents. */
  artifacts(runId?: string): StoredArtifact[]
  /** Answers the next call of a Twirp method with this error (after authentication). */
  failNext(method: TwirpMethod, error: TwirpError): void
  /** Requests as the service saw them; signatures and tokens are not recorded. */
  requests: RecordedRequest[]
  close(): Promise<void>
}

export interface StoredArtifact {
  /** The artifact id (GitHub's database id), as a decimal string. */
  id: string
  name: string
  /** The public run id (GITHUB_RUN_ID) the artifact belongs to. */
  runId: string
  /** Bytes stored (the zip). */
  size: number
  /** `sha256:<hex>` of the stored bytes. */
  digest: string
  mimeType: string
  createdAt: string
  expiresAt: string
  /** The zip's files by path (`dir/file`), or for an unarchived upload, the one file under its name. */
  files: Record<string, Buffer>
}

export interface RecordedRequest {
  method: string
  /** Path and query, with any `sig` replaced by `***`. */
  path: string
  /** Whether an Authorization header was sent. */
  authorized: boolean
}

export type TwirpMethod =
  'CreateArtifact' | 'FinalizeArtifact' | 'ListArtifacts' | 'GetSignedArtifactURL' | 'DeleteArtifact'

export type TwirpCode = keyof typeof TWIRP_STATUS

export interface TwirpError {
  code: TwirpCode
  msg: string
}

/** GITHUB_RUN_ID of the run that {@link ArtifactService.env} describes by default. */
export const DEFAULT_RUN_ID = '13310000001'
/** A token with `actions: read` on the repository (REST API). */
export const ACTIONS_READ_TOKEN = 'ghs_actionsReadTokenForTheArtifactDouble01'
/** A token without `actions: read`, like a GITHUB_TOKEN limited to `contents: read` (REST API). */
export const NO_ACTIONS_TOKEN = 'ghs_contentsOnlyTokenForTheArtifactDouble2'

const SERVICE = 'github.actions.results.api.v1.ArtifactService'
const TWIRP_PREFIX = `/twirp/${SERVICE}/`
const BLOB_PREFIX = '/blob/actions-results/'
const STORAGE_VERSION = '2025-11-05'
const DOCS = 'https://docs.github.com/rest/actions/artifacts'
const DAY = 86_400_000

/** Twirp's error codes and the HTTP statuses Twirp answers them with. */
const TWIRP_STATUS = {
  canceled: 408,
  unknown: 500,
  invalid_argument: 400,
  malformed: 400,
  deadline_exceeded: 408,
  not_found: 404,
  bad_route: 404,
  already_exists: 409,
  permission_denied: 403,
  unauthenticated: 401,
  resource_exhausted: 429,
  failed_precondition: 412,
  aborted: 409,
  out_of_range: 400,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  dataloss: 500,
} as const

interface Run {
  runId: string
  backendId: string
}

interface Artifact {
  id: number
  run: Run
  jobBackendId: string
  name: string
  mimeType: string
  blobPath: string
  createdAt: number
  expiresAt: number
  finalized: boolean
  size: number
  digest: string
}

interface Blob {
  content: Buffer
  contentType: string
  etag: string
  lastModified: number
  createdAt: number
  /** Staged, not yet committed blocks by block id. */
  uncommitted: Map<string, Buffer>
  committed: boolean
}

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly headers: Record<string, string>,
  ) {
    super(`HTTP ${status}`)
  }
}

export async function startArtifactService(options: { repository?: string } = {}): Promise<ArtifactService> {
  const repository = options.repository ?? 'octo-org/gateway-config'
  const repositoryId = 600_000_001
  const secret = randomUUID()
  const runs = new Map<string, Run>()
  const artifacts: Artifact[] = []
  const blobs = new Map<string, Blob>()
  const faults = new Map<TwirpMethod, TwirpError[]>()
  const requests: RecordedRequest[] = []
  let origin = ''
  let nextId = 3_100_000_001

  const runOf = (runId: string): Run => {
    let run = runs.get(runId)
    if (!run) runs.set(runId, (run = { runId, backendId: randomUUID() }))
    return run
  }

  // ── Tokens and signatures ────────────────────────────────────────────────────────────────────────────

  const hmac = (text: string) => createHmac('sha256', secret).update(text).digest('base64url')

  const runtimeToken = (run: Run, jobBackendId: string): string => {
    const now = Math.floor(Date.now() / 1000)
    const header = { typ: 'JWT', alg: 'HS256' }
    const claims = {
      scp: [
        'Actions.GenericRead:00000000-0000-0000-0000-000000000000',
        `Actions.UploadArtifacts:${run.backendId}:${jobBackendId}`,
        `Actions.Results:${run.backendId}:${jobBackendId}`,
      ].join(' '),
      iss: 'vstoken.actions.githubusercontent.com',
      aud: 'vso:00000000-0000-0000-0000-000000000000',
      nbf: now - 60,
      iat: now,
      exp: now + 6 * 3600,
    }
    const body = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`
    return `${body}.${hmac(body)}`
  }

  /** The run and job a runtime token stands for, or undefined when it is not one of ours or has expired. */
  const verifyRuntimeToken = (token: string): { run: Run; jobBackendId: string } | undefined => {
    const [header, claims, signature] = token.split('.')
    if (!header || !claims || signature === undefined || !sameText(hmac(`${header}.${claims}`), signature))
      return undefined
    const decoded = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as {
      scp?: string
      exp?: number
    }
    if (!decoded.exp || decoded.exp * 1000 < Date.now()) return undefined
    const scope = (decoded.scp ?? '').split(' ').find((s) => s.startsWith('Actions.Results:'))
    const [, runBackendId, jobBackendId] = scope?.split(':') ?? []
    const run = [...runs.values()].find((r) => r.backendId === runBackendId)
    return run && jobBackendId ? { run, jobBackendId } : undefined
  }

  /** A SAS-style URL for a blob: permissions, expiry and a signature over both and the path. */
  const signedUrl = (blobPath: string, permissions: 'r' | 'cw', ttlMs: number): string => {
    const expiry = new Date(Date.now() + ttlMs).toISOString().replace(/\.\d{3}Z$/, 'Z')
    const url = new URL(blobPath, origin)
    url.searchParams.set('sv', STORAGE_VERSION)
    url.searchParams.set('spr', 'https,http')
    url.searchParams.set('se', expiry)
    url.searchParams.set('sr', 'b')
    url.searchParams.set('sp', permissions)
    url.searchParams.set('sig', sasSignature(blobPath, permissions, expiry))
    return url.href
  }
  const sasSignature = (blobPath: string, permissions: string, expiry: string) =>
    createHmac('sha256', secret).update(`${permissions}\n${expiry}\n${blobPath}`).digest('base64')

  // ── HTTP ─────────────────────────────────────────────────────────────────────────────────────────────

  const server = createServer((req, res) => {
    readBody(req)
      .then((body) => handle(req, body, res))
      .catch((err: unknown) => {
        if (err instanceof HttpFailure) {
          res.writeHead(err.status, { 'content-length': Buffer.byteLength(err.body), ...err.headers })
          res.end(err.body)
        } else {
          res.writeHead(500, { 'content-type': 'text/plain' })
          res.end(String(err))
        }
      })
  })

  function handle(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const method = req.method ?? 'GET'
    const url = new URL(req.url ?? '/', origin)
    const shown = new URL(url.href)
    if (shown.searchParams.has('sig')) shown.searchParams.set('sig', '***')
    requests.push({ method, path: shown.pathname + shown.search, authorized: !!req.headers.authorization })

    if (url.pathname.startsWith('/twirp/')) return twirp(req, url, body, res)
    if (url.pathname.startsWith(BLOB_PREFIX)) return blob(req, url, body, res)
    return rest(req, url, res)
  }

  // ── Results service (Twirp) ──────────────────────────────────────────────────────────────────────────

  function twirp(req: IncomingMessage, url: URL, raw: Buffer, res: ServerResponse): void {
    const fail = (code: TwirpCode, msg: string): never => {
      throw new HttpFailure(TWIRP_STATUS[code], JSON.stringify({ code, msg }), {
        'content-type': 'application/json',
      })
    }
    const method = url.pathname.startsWith(TWIRP_PREFIX) ? url.pathname.slice(TWIRP_PREFIX.length) : ''
    if (!HANDLED.includes(method as TwirpMethod)) fail('bad_route', `no handler for path "${url.pathname}"`)
    if (req.method !== 'POST') fail('bad_route', `unsupported method "${req.method}" (only POST is allowed)`)
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
    if (contentType !== 'application/json')
      fail('bad_route', `unexpected Content-Type: "${req.headers['content-type'] ?? ''}"`)

    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1]
    if (!bearer) return fail('unauthenticated', 'missing or malformed Authorization header')
    const caller = verifyRuntimeToken(bearer)
    if (!caller) return fail('unauthenticated', 'invalid or expired runtime token')

    let request: Record<string, unknown>
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8'))
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object')
      request = parsed as Record<string, unknown>
    } catch {
      return fail('malformed', 'the json request could not be decoded')
    }
    const fault = faults.get(method as TwirpMethod)?.shift()
    if (fault) fail(fault.code, fault.msg)

    // protojson accepts the proto name and the lowerCamelCase JSON name of every field.
    const field = (name: string): unknown =>
      request[name] ?? request[name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())]
    const text = (name: string): string => {
      const value = field(name)
      if (value === undefined || value === null) return ''
      if (typeof value !== 'string') fail('malformed', `invalid value for string field ${name}`)
      return value as string
    }
    const int64 = (name: string): number | undefined => {
      const value = field(name)
      if (value === undefined || value === null) return undefined
      if ((typeof value !== 'string' && typeof value !== 'number') || !/^-?\d+$/.test(String(value)))
        fail('malformed', `invalid value for int64 field ${name}`)
      return Number(value)
    }
    // Every call names the run and job it acts for; a job may only act for its own run.
    const runBackendId = text('workflow_run_backend_id')
    const jobBackendId = text('workflow_job_run_backend_id')
    if (!runBackendId || !jobBackendId)
      fail('invalid_argument', 'workflow_run_backend_id and workflow_job_run_backend_id are required')
    if (runBackendId !== caller.run.backendId)
      fail('permission_denied', 'the runtime token does not grant access to this workflow run')
    const inRun = (a: Artifact) => a.run === caller.run && a.expiresAt > Date.now()

    const reply = (data: unknown) => {
      const text = JSON.stringify(data)
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
      res.end(text)
    }

    switch (method as TwirpMethod) {
      case 'CreateArtifact': {
        if (jobBackendId !== caller.jobBackendId)
          fail('permission_denied', 'the runtime token does not grant access to this job')
        const name = text('name')
        if (!name) fail('invalid_argument', 'name is required')
        const version = int64('version') ?? 0
        if (version < 4) fail('invalid_argument', `artifact version ${version} is not supported`)
        if (artifacts.some((a) => inRun(a) && a.name === name))
          fail('already_exists', 'an artifact with this name already exists on the workflow run')
        const expires = field('expires_at')
        let expiresAt = Date.now() + 90 * DAY
        if (expires !== undefined && expires !== null) {
          expiresAt = typeof expires === 'string' ? Date.parse(expires) : NaN
          if (!Number.isFinite(expiresAt)) fail('malformed', 'invalid value for Timestamp field expires_at')
          if (expiresAt <= Date.now()) fail('invalid_argument', 'expires_at must be in the future')
        }
        const blobPath = `${BLOB_PREFIX}${caller.run.backendId}/workflow-job-run-${jobBackendId}/artifacts/${createHash('sha256').update(name).digest('hex')}.zip`
        artifacts.push({
          id: nextId++,
          run: caller.run,
          jobBackendId,
          name,
          mimeType: text('mime_type') || 'application/zip',
          blobPath,
          createdAt: Date.now(),
          expiresAt,
          finalized: false,
          size: 0,
          digest: '',
        })
        blobs.delete(blobPath)
        return reply({ ok: true, signed_upload_url: signedUrl(blobPath, 'cw', 6 * 3600_000) })
      }
      case 'FinalizeArtifact': {
        const name = text('name')
        const artifact = artifacts.find((a) => inRun(a) && a.name === name)
        if (!artifact) return fail('not_found', 'artifact not found')
        if (artifact.finalized) fail('failed_precondition', 'artifact is already finalized')
        const stored = blobs.get(artifact.blobPath)
        if (!stored?.committed) return fail('failed_precondition', 'no blob was uploaded for the artifact')
        const size = int64('size')
        if (size !== stored.content.length)
          fail(
            'invalid_argument',
            `size ${size ?? 0} does not match the uploaded size ${stored.content.length}`,
          )
        const digest = `sha256:${createHash('sha256').update(stored.content).digest('hex')}`
        const hash = text('hash')
        if (hash && hash !== digest) fail('invalid_argument', 'hash does not match the uploaded content')
        Object.assign(artifact, { finalized: true, size: stored.content.length, digest })
        return reply({ ok: true, artifact_id: String(artifact.id) })
      }
      case 'ListArtifacts': {
        const nameFilter = field('name_filter')
        const idFilter = field('id_filter')
        const listed = artifacts.filter(
          (a) =>
            inRun(a) &&
            a.finalized &&
            (nameFilter === undefined || nameFilter === null || a.name === nameFilter) &&
            (idFilter === undefined || idFilter === null || String(a.id) === String(idFilter)),
        )
        return reply({
          artifacts: listed.map((a) => ({
            workflow_run_backend_id: a.run.backendId,
            workflow_job_run_backend_id: a.jobBackendId,
            database_id: String(a.id),
            name: a.name,
            size: String(a.size),
            created_at: rfc3339(a.createdAt),
            digest: a.digest,
          })),
        })
      }
      case 'GetSignedArtifactURL': {
        const name = text('name')
        const artifact = artifacts.find((a) => inRun(a) && a.finalized && a.name === name)
        if (!artifact) return fail('not_found', 'artifact not found')
        return reply({ signed_url: signedUrl(artifact.blobPath, 'r', 3600_000) })
      }
      case 'DeleteArtifact': {
        const name = text('name')
        const index = artifacts.findIndex((a) => inRun(a) && a.finalized && a.name === name)
        const artifact = artifacts[index]
        if (!artifact) return fail('not_found', 'artifact not found')
        artifacts.splice(index, 1)
        blobs.delete(artifact.blobPath)
        return reply({ ok: true, artifact_id: String(artifact.id) })
      }
    }
  }

  // ── Blob storage ─────────────────────────────────────────────────────────────────────────────────────

  function blob(req: IncomingMessage, url: URL, body: Buffer, res: ServerResponse): void {
    const requestId = randomUUID()
    const common: Record<string, string> = {
      'x-ms-request-id': requestId,
      'x-ms-version': String(req.headers['x-ms-version'] ?? STORAGE_VERSION),
      date: new Date().toUTCString(),
      server: 'Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0',
    }
    const clientRequestId = req.headers['x-ms-client-request-id']
    if (typeof clientRequestId === 'string') common['x-ms-client-request-id'] = clientRequestId
    const fail = (status: number, code: string, message: string): never => {
      const xml = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}\nRequestId:${requestId}\nTime:${new Date().toISOString()}</Message></Error>`
      throw new HttpFailure(status, xml, {
        ...common,
        'content-type': 'application/xml',
        'x-ms-error-code': code,
      })
    }
    const done = (status: number, headers: Record<string, string> = {}, content?: Buffer) => {
      res.writeHead(status, { ...common, 'content-length': String(content?.length ?? 0), ...headers })
      res.end(content)
    }

    // Shared access signature: the signature, its expiry, and the permission the operation needs.
    const params = url.searchParams
    const permissions = params.get('sp') ?? ''
    const expiry = params.get('se') ?? ''
    const signature = params.get('sig') ?? ''
    if (!signature || !sameText(sasSignature(url.pathname, permissions, expiry), signature))
      fail(
        403,
        'AuthenticationFailed',
        'Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.',
      )
    if (!(Date.parse(expiry) > Date.now()))
      fail(
        403,
        'AuthenticationFailed',
        'Signed expiry time must be after signed start time and in the future.',
      )
    const needed = req.method === 'GET' || req.method === 'HEAD' ? 'r' : 'w'
    if (!permissions.includes(needed))
      fail(
        403,
        'AuthorizationPermissionMismatch',
        'This request is not authorized to perform this operation using this permission.',
      )

    const path = url.pathname
    const comp = params.get('comp')
    if (req.method === 'GET' || req.method === 'HEAD') {
      const stored = blobs.get(path)
      if (!stored?.committed) return fail(404, 'BlobNotFound', 'The specified blob does not exist.')
      return done(
        200,
        {
          'content-type': stored.contentType,
          etag: stored.etag,
          'last-modified': new Date(stored.lastModified).toUTCString(),
          'accept-ranges': 'bytes',
          'x-ms-blob-type': 'BlockBlob',
          'x-ms-creation-time': new Date(stored.createdAt).toUTCString(),
          'x-ms-server-encrypted': 'true',
          'x-ms-lease-state': 'available',
          'x-ms-lease-status': 'unlocked',
          'content-length': String(stored.content.length),
        },
        req.method === 'GET' ? stored.content : undefined,
      )
    }
    if (req.method !== 'PUT')
      return fail(405, 'UnsupportedHttpVerb', "The resource doesn't support specified Http Verb.")
    if (req.headers['x-ms-structured-body'])
      return fail(400, 'UnsupportedHeader', 'Structured message bodies are not supported here.')

    const entry = (): Blob => {
      let stored = blobs.get(path)
      if (!stored) {
        const now = Date.now()
        stored = {
          content: Buffer.alloc(0),
          contentType: 'application/octet-stream',
          etag: '',
          lastModified: now,
          createdAt: now,
          uncommitted: new Map(),
          committed: false,
        }
        blobs.set(path, stored)
      }
      return stored
    }
    const commit = (stored: Blob, content: Buffer) => {
      stored.content = content
      stored.contentType = String(req.headers['x-ms-blob-content-type'] ?? 'application/octet-stream')
      stored.lastModified = Date.now()
      stored.etag = `"0x8DD${createHash('sha1').update(`${path}${stored.lastModified}${randomUUID()}`).digest('hex').slice(0, 11).toUpperCase()}"`
      stored.uncommitted.clear()
      stored.committed = true
      done(201, {
        etag: stored.etag,
        'last-modified': new Date(stored.lastModified).toUTCString(),
        'content-md5': createHash('md5').update(body).digest('base64'),
        'x-ms-request-server-encrypted': 'true',
      })
    }

    if (comp === 'block') {
      const blockId = params.get('blockid') ?? ''
      const decoded = Buffer.from(blockId, 'base64')
      if (!blockId || decoded.toString('base64') !== blockId || decoded.length > 64)
        return fail(
          400,
          'InvalidQueryParameterValue',
          'Value for one of the query parameters specified in the request URI is invalid.',
        )
      const stored = entry()
      const other = stored.uncommitted.keys().next().value
      if (other !== undefined && other.length !== blockId.length)
        return fail(400, 'InvalidBlobOrBlock', 'The specified blob or block content is invalid.')
      if (Number(req.headers['content-length'] ?? -1) !== body.length)
        return fail(
          400,
          'InvalidHeaderValue',
          'The value for one of the HTTP headers is not in the correct format.',
        )
      stored.uncommitted.set(blockId, body)
      return done(201, {
        'content-md5': createHash('md5').update(body).digest('base64'),
        'x-ms-request-server-encrypted': 'true',
      })
    }
    if (comp === 'blocklist') {
      const xml = body.toString('utf8')
      if (!/<BlockList>[\s\S]*<\/BlockList>/.test(xml))
        return fail(400, 'InvalidXmlDocument', 'XML specified is not syntactically valid.')
      const stored = entry()
      const parts: Buffer[] = []
      for (const [, kind, id] of xml.matchAll(/<(Latest|Uncommitted|Committed)>([^<]*)<\/\1>/g)) {
        const block = kind === 'Committed' ? undefined : stored.uncommitted.get(id!)
        if (!block) return fail(400, 'InvalidBlockList', 'The specified block list is invalid.')
        parts.push(block)
      }
      return commit(stored, Buffer.concat(parts))
    }
    if (comp === null) {
      if (req.headers['x-ms-blob-type'] !== 'BlockBlob')
        return fail(
          400,
          'MissingRequiredHeader',
          "An HTTP header that's mandatory for this request is not specified.",
        )
      return commit(entry(), body)
    }
    return fail(
      400,
      'InvalidQueryParameterValue',
      'Value for one of the query parameters specified in the request URI is invalid.',
    )
  }

  // ── REST API (another workflow run) ──────────────────────────────────────────────────────────────────

  function rest(req: IncomingMessage, url: URL, res: ServerResponse): void {
    const send = (status: number, data: unknown, headers: Record<string, string> = {}) => {
      const text = data === undefined ? '' : JSON.stringify(data)
      res.writeHead(status, {
        ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}),
        'content-length': String(Buffer.byteLength(text)),
        'x-github-media-type': 'github.v3; format=json',
        'x-github-request-id': randomUUID().slice(0, 18).toUpperCase(),
        ...headers,
      })
      res.end(text)
    }
    const fail = (status: number, message: string, docs = DOCS) =>
      send(status, { message, documentation_url: docs, status: String(status) })

    const token = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1]
    if (!token) return fail(401, 'Requires authentication', 'https://docs.github.com/rest')
    if (token !== ACTIONS_READ_TOKEN && token !== NO_ACTIONS_TOKEN)
      return fail(401, 'Bad credentials', 'https://docs.github.com/rest')

    const match = /^\/repos\/([^/]+)\/([^/]+)(\/.*)$/.exec(url.pathname.replace(/\/+$/, ''))
    if (!match || `${match[1]}/${match[2]}`.toLowerCase() !== repository.toLowerCase())
      return fail(404, 'Not Found', 'https://docs.github.com/rest')
    if (req.method !== 'GET') return fail(404, 'Not Found', 'https://docs.github.com/rest')
    const rest = match[3] ?? ''
    const forbidden = () => fail(403, 'Resource not accessible by integration')

    const list = /^\/actions\/runs\/(\d+)\/artifacts$/.exec(rest)
    if (list) {
      const run = runs.get(list[1]!)
      if (!run) return fail(404, 'Not Found', `${DOCS}#list-workflow-run-artifacts`)
      if (token !== ACTIONS_READ_TOKEN) return forbidden()
      const name = url.searchParams.get('name')
      const perPage = clampInt(url.searchParams.get('per_page'), 30, 1, 100)
      const page = clampInt(url.searchParams.get('page'), 1, 1, Number.MAX_SAFE_INTEGER)
      const matching = artifacts
        .filter((a) => a.run === run && a.finalized && (name === null || a.name === name))
        .sort((a, b) => b.id - a.id)
      return send(200, {
        total_count: matching.length,
        artifacts: matching.slice((page - 1) * perPage, page * perPage).map(restArtifact),
      })
    }

    const zip = /^\/actions\/artifacts\/(\d+)\/([^/]+)$/.exec(rest)
    if (zip) {
      const artifact = artifacts.find((a) => a.finalized && String(a.id) === zip[1])
      if (!artifact || zip[2] !== 'zip') return fail(404, 'Not Found', `${DOCS}#download-an-artifact`)
      if (token !== ACTIONS_READ_TOKEN) return forbidden()
      if (artifact.expiresAt <= Date.now())
        return fail(410, 'Artifact has expired', `${DOCS}#download-an-artifact`)
      return send(302, undefined, { location: signedUrl(artifact.blobPath, 'r', 60_000) })
    }
    return fail(404, 'Not Found', 'https://docs.github.com/rest')
  }

  function restArtifact(a: Artifact) {
    const api = `${origin}/repos/${repository}/actions/artifacts/${a.id}`
    return {
      id: a.id,
      node_id: `MDg6QXJ0aWZhY3Q${Buffer.from(String(a.id)).toString('base64url')}`,
      name: a.name,
      size_in_bytes: a.size,
      url: api,
      archive_download_url: `${api}/zip`,
      expired: a.expiresAt <= Date.now(),
      created_at: rfc3339(a.createdAt),
      updated_at: rfc3339(a.createdAt),
      expires_at: rfc3339(a.expiresAt),
      digest: a.digest,
      workflow_run: {
        id: Number(a.run.runId),
        repository_id: repositoryId,
        head_repository_id: repositoryId,
        head_branch: 'main',
        head_sha: createHash('sha1').update(a.run.runId).digest('hex'),
      },
    }
  }

  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    url: origin,
    repository,
    env: (runId = DEFAULT_RUN_ID) => {
      const run = runOf(runId)
      return {
        ACTIONS_RUNTIME_TOKEN: runtimeToken(run, randomUUID()),
        ACTIONS_RESULTS_URL: `${origin}/`,
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_API_URL: origin,
        GITHUB_REPOSITORY: repository,
        GITHUB_REPOSITORY_OWNER: repository.split('/')[0] ?? '',
        GITHUB_RUN_ID: runId,
        GITHUB_RUN_ATTEMPT: '1',
        GITHUB_RETENTION_DAYS: '90',
      }
    },
    artifacts: (runId) =>
      artifacts
        .filter((a) => a.finalized && (runId === undefined || a.run.runId === runId))
        .map((a) => {
          const content = blobs.get(a.blobPath)?.content ?? Buffer.alloc(0)
          return {
            id: String(a.id),
            name: a.name,
            runId: a.run.runId,
            size: a.size,
            digest: a.digest,
            mimeType: a.mimeType,
            createdAt: rfc3339(a.createdAt),
            expiresAt: rfc3339(a.expiresAt),
            files: a.mimeType === 'application/zip' ? readZip(content) : { [a.name]: Buffer.from(content) },
          }
        }),
    failNext: (method, error) => {
      const queue = faults.get(method) ?? []
      queue.push(error)
      faults.set(method, queue)
    },
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections()
        server.close(() => done())
      }),
  }
}

const HANDLED: readonly TwirpMethod[] = [
  'CreateArtifact',
  'FinalizeArtifact',
  'ListArtifacts',
  'GetSignedArtifactURL',
  'DeleteArtifact',
]

/**
 * The files of a zip as @actions/artifact writes it (archiver: stored or deflated entries, sizes in data
 * descriptors), read through the central directory; every entry's CRC-32 is checked. Zip64 is refused.
 */
export function readZip(zip: Buffer): Record<string, Buffer> {
  const files: Record<string, Buffer> = {}
  let end = -1
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--)
    if (zip.readUInt32LE(i) === 0x06054b50) {
      end = i
      break
    }
  if (end < 0) throw new Error('not a zip: no end of central directory record')
  const count = zip.readUInt16LE(end + 10)
  let at = zip.readUInt32LE(end + 16)
  if (count === 0xffff || at === 0xffffffff) throw new Error('zip64 archives are not supported here')
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`bad central directory entry at ${at}`)
    const method = zip.readUInt16LE(at + 10)
    const crc = zip.readUInt32LE(at + 16)
    const compressed = zip.readUInt32LE(at + 20)
    const size = zip.readUInt32LE(at + 24)
    const nameLength = zip.readUInt16LE(at + 28)
    const extraLength = zip.readUInt16LE(at + 30)
    const commentLength = zip.readUInt16LE(at + 32)
    const local = zip.readUInt32LE(at + 42)
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength)
    at += 46 + nameLength + extraLength + commentLength
    if (compressed === 0xffffffff || size === 0xffffffff || local === 0xffffffff)
      throw new Error('zip64 entries are not supported here')
    if (zip.readUInt32LE(local) !== 0x04034b50) throw new Error(`bad local header for ${name}`)
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28)
    const data = zip.subarray(start, start + compressed)
    if (name.endsWith('/')) continue
    let content: Buffer
    if (method === 0) content = Buffer.from(data)
    else if (method === 8) content = inflateRawSync(data)
    else throw new Error(`${name}: compression method ${method} is not supported here`)
    if (content.length !== size || crc32(content) !== crc) throw new Error(`${name}: size or CRC-32 mismatch`)
    files[name] = content
  }
  return files
}

function b64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url')
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString()
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function clampInt(value: string | null, fallback: number, min: number, max: number): number {
  const n = value === null || !/^\d+$/.test(value) ? NaN : Number(value)
  if (!Number.isSafeInteger(n) || n < min) return fallback
  return Math.min(n, max)
}
