// deck's Konnect mode against the Konnect stand-in (test/support/konnect.ts): Kong/deck v1.65.1
// cmd/common_konnect.go (GetKongClientForKonnectMode, fetchKonnectControlPlaneID, authenticate), cmd/common.go
// (inKonnectMode, evaluateTargetRuntimeGroupOrControlPlaneName) and cmd/root.go (initKonnectConfig);
// go-database-reconciler pkg/konnect (client.go, error.go, list.go, login_service.go, runtime_group_service.go)
// and pkg/utils/types.go (GetKonnectClient, GetKongClient's retryable client: backoffStrategy, retryPolicy,
// getRetryableClient), at the snapshot 8f5e476 (after v1.40.3; deck v1.65.1 pins v1.41.1); go-kong
// kong/response.go and kong/error.go (0.76.1+, deck pins 0.77.0); hashicorp/go-retryablehttp v0.7.8 client.go
// (Do: attempts and the "giving up" error) and roundtripper.go.

import { join } from 'node:path'

import { HttpFailure, httpError, loadGateway } from './gateway.mjs'
import { DeckError, goQuote } from './gostr.mjs'
import { requestSync, sleepSync } from './httpsync.mjs'
import { DEFAULT_KONG_ADDR } from './settings.mjs'
import { atLeast } from './versions.mjs'

/** The first release whose Konnect mode the double emulates (GDR v1.18.1's global login endpoint). */
export const KONNECT_SINCE = '1.43.0'
// From v1.64.0 GetKongClientForKonnectMode no longer logs in first (authenticate moved to ping alone).
const NO_LOGIN_SINCE = '1.64.0'
const DEFAULT_CONTROL_PLANE = 'default'
// fetchKonnectKongVersion: deck takes Konnect for Kong 3.5.0.0 (so `_format_version: "3.0"`).
export const KONNECT_KONG_VERSION = '3.5.0.0'

/** deck's inKonnectMode(targetContent): a `_konnect` block, or the default Kong address plus a token or address. */
export function inKonnectMode(rootConfig, content = null) {
  if (content && content._konnect !== undefined && content._konnect !== null) return true
  if (rootConfig.address !== DEFAULT_KONG_ADDR) return false
  return rootConfig.konnectToken !== '' || rootConfig.konnectDesired
}

/** evaluateTargetRuntimeGroupOrControlPlaneName, then the runtime-group override of syncContent. */
export function syncControlPlaneName(rootConfig, content) {
  let name = rootConfig.konnectControlPlane
  const konnect = content._konnect
  if (konnect) {
    const fileCp = konnect.control_plane_name ?? ''
    const fileRg = konnect.runtime_group_name ?? ''
    if (fileCp !== '' && fileRg !== '') {
      throw new DeckError(
        'cannot set both runtime_group_name and control_plane_name. Please use only control_plane_name',
      )
    }
    const fromFile = fileCp || fileRg
    const fromCli = rootConfig.konnectControlPlane || rootConfig.konnectRuntimeGroup
    if (fromCli !== '' && fromFile !== fromCli) {
      throw new DeckError(
        `warning: control plane '${fromCli}' specified via --konnect-[control-plane|runtime-group]-name flag ` +
          `is different from '${fromFile}' found in state file(s)`,
      )
    }
    if (fileCp !== '') name = fileCp
    if (fileRg !== '') name = fileRg
  }
  if (rootConfig.konnectRuntimeGroup !== '') name = rootConfig.konnectRuntimeGroup
  return name || DEFAULT_CONTROL_PLANE
}

/** dumpKonnectV2: the deprecated runtime-group name wins, "default" when neither is given. */
export function dumpControlPlaneName(rootConfig) {
  return rootConfig.konnectRuntimeGroup || rootConfig.konnectControlPlane || DEFAULT_CONTROL_PLANE
}

// ---- HTTP as Go and the clients report it ----

const verbOf = (method) => method[0] + method.slice(1).toLowerCase()

function transportText(reply, url) {
  if (reply.error === 'ECONNREFUSED') {
    const { hostname, port, protocol } = new URL(url)
    const host = hostname.startsWith('[') ? hostname : hostname.includes(':') ? `[${hostname}]` : hostname
    const p = port || (protocol === 'https:' ? '443' : '80')
    return `dial tcp ${host === 'localhost' ? '[::1]' : host}:${p}: connect: connection refused`
  }
  return `deck double: ${reply.error}: ${reply.message}`
}

// messageFromBody (pkg/konnect/error.go, kong/response.go): the body's "message" field, matched without case.
function messageFromBody(body) {
  let parsed
  try {
    parsed = JSON.parse(body)
  } catch {
    const first = body.trimStart()[0]
    return first === undefined
      ? '<failed to parse response body: unexpected end of JSON input>'
      : `<failed to parse response body: invalid character '${first}' looking for beginning of value>`
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return ''
  const key = Object.keys(parsed).find((k) => k.toLowerCase() === 'message')
  return key && typeof parsed[key] === 'string' ? parsed[key] : ''
}

function send(method, url, headers, body) {
  return requestSync({ method, url, headers, body: body === undefined ? undefined : JSON.stringify(body) })
}

// parseHeaders (pkg/utils/types.go): "Name:value" split at the first colon, values kept as given.
function headerObject(lines) {
  const out = {}
  for (const line of lines) {
    const at = line.indexOf(':')
    if (at < 0) throw new DeckError(`parsing headers: splitting header key-value '${line}'`)
    const name = line.slice(0, at)
    out[name] = out[name] === undefined ? line.slice(at + 1) : `${out[name]}, ${line.slice(at + 1)}`
  }
  return out
}

// GetKonnectClient's client.Do: non-2xx/3xx answers become APIError, transport errors "making HTTP request".
function konnectGet(url, headers) {
  const reply = send('GET', url, headers)
  if (reply.error) {
    throw new HttpFailure(`making HTTP request: Get ${goQuote(url)}: ${transportText(reply, url)}`)
  }
  if (reply.status < 200 || reply.status > 399) {
    throw new HttpFailure(httpError(reply.status, messageFromBody(reply.body)), reply.status)
  }
  return JSON.parse(reply.body)
}

// getRetryableClient: RetryMax 10, waits between 10 s and 60 s, retries 429 only.
const RETRY_MAX = 10
const RETRY_WAIT_MIN_MS = 10_000
const RETRY_WAIT_MAX_MS = 60_000

// backoffStrategy: Retry-After seconds on a 429 when it parses as an integer, else min * 2^attempt capped.
function retryWait(reply, attemptIndex) {
  const header = reply.headers['retry-after']
  if (header !== undefined && /^[+-]?\d+$/.test(header)) return Number(header) * 1000
  return Math.min(RETRY_WAIT_MIN_MS * 2 ** attemptIndex, RETRY_WAIT_MAX_MS)
}

/**
 * The Kong client deck builds on `<konnect-addr>/v2/control-planes/<id>/core-entities`: go-kong over the
 * retryable HTTP client. Returns the parsed body, or throws HttpFailure with deck's text.
 */
function coreRequest(session, method, path, body) {
  const url = session.coreBase + path
  const giveUp = (attempts, cause) =>
    `making HTTP request: ${verbOf(method)} ${goQuote(url)}: ${method} ${url} giving up after ${attempts} attempt(s)` +
    (cause ? `: ${cause}` : '')
  for (let i = 0; ; i++) {
    const reply = send(method, url, session.headers, body)
    if (reply.error) {
      // retryPolicy never retries a transport error; Do reports it wrapped in its url.Error.
      throw new HttpFailure(giveUp(i + 1, `${verbOf(method)} ${goQuote(url)}: ${transportText(reply, url)}`))
    }
    if (reply.status !== 429) {
      if (reply.status < 200 || reply.status > 399) {
        throw new HttpFailure(httpError(reply.status, messageFromBody(reply.body)), reply.status)
      }
      return reply.body === '' ? null : JSON.parse(reply.body)
    }
    if (RETRY_MAX - i <= 0) throw new HttpFailure(giveUp(i + 1))
    sleepSync(retryWait(reply, i))
  }
}

// ---- the session: find the control plane, then its entities ----

function globalEndpoint(address) {
  // login_service.go getGlobalEndpoint: everything after the region separator, on the global host.
  if (address.includes('svc.konghq')) return 'https://global.svc.konghq' + address.split('svc.konghq').pop()
  return 'https://global.api.konghq' + address.split('api.konghq').pop()
}

// authenticate/LoginV2 (every Konnect command before v1.64.0, ping since): the organisation lookup on the global
// endpoint. The double reaches no global host; for an address without "api.konghq" deck builds an unresolvable
// one. Its retries on "API rate limit exceeded" are therefore never reached.
function login(rootConfig, address) {
  const token = rootConfig.konnectToken
  if (token === '' && !(rootConfig.konnectEmail !== '' && rootConfig.konnectPassword !== '')) {
    throw new DeckError(
      'authenticating with Konnect: at least one of email/password or personal access token must be provided',
    )
  }
  const base = globalEndpoint(address)
  const url = token !== '' ? `${base}/v2/organizations/me` : `${base}/kauth/api/v1/authenticate`
  const host = /^https:\/\/([^/:]*)/.exec(url)[1]
  throw new DeckError(
    `authenticating with Konnect: making HTTP request: ${token !== '' ? 'Get' : 'Post'} ${goQuote(url)}: ` +
      `dial tcp: lookup ${host}: no such host`,
  )
}

// fetchKonnectControlPlaneID: every page of /konnect-api/api/runtime_groups, then an exact name match.
function findControlPlane(address, headers, name) {
  const groups = []
  let query = ''
  for (;;) {
    const url = `${address}/konnect-api/api/runtime_groups${query}`
    let page
    try {
      page = konnectGet(url, headers)
    } catch (err) {
      if (err instanceof HttpFailure) throw new DeckError(`fetching control planes: ${err.message}`)
      throw err
    }
    const data = Array.isArray(page.data) ? page.data : []
    groups.push(...data)
    if (data.length === 0 || page.page === page.pageCount) break
    query = `?page=${Number(page.page) + 1}&size=100`
  }
  const found = groups.find((g) => g.name === name)
  if (!found) throw new DeckError(`control plane not found: ${name}`)
  return found.id
}

/**
 * GetKongClientForKonnectMode: finds the control plane by name; returns `{id, name, address, coreBase,
 * headers}`, coreBase being the Kong Admin API root deck then uses.
 */
export function openControlPlane(ctx, name) {
  const { rootConfig, version } = ctx
  if (!atLeast(version, KONNECT_SINCE)) {
    throw new DeckError(
      `deck double: Konnect mode of deck v${version} is not emulated (v${KONNECT_SINCE} and later)`,
    )
  }
  // The client lists at the cleaned address (CleanAddress); the core-entities root is built from the address as
  // given, so a trailing slash doubles there.
  const given = rootConfig.konnectAddress || 'https://us.api.konghq.com'
  const address = given.replace(/\/+$/, '')
  const lines = [...rootConfig.konnectHeaders]
  if (rootConfig.konnectToken !== '' && !lines.some((h) => h.startsWith('Authorization:'))) {
    lines.push(`Authorization:Bearer ${rootConfig.konnectToken}`)
  }
  const headers = headerObject(lines)
  if (!atLeast(version, NO_LOGIN_SINCE)) login(rootConfig, address)
  const id = findControlPlane(address, headers, name)
  return { id, name, address, coreBase: `${given}/v2/control-planes/${id}/core-entities`, headers }
}

/** gateway_ping.go pingKonnect: the control plane lookup, then the login on the global endpoint. */
export function pingKonnect(ctx) {
  const session = openControlPlane(ctx, ctx.rootConfig.konnectControlPlane || DEFAULT_CONTROL_PLANE)
  login(ctx.rootConfig, session.address)
}

// The control plane's entity fixture, owned by the stand-in: $DECK_DOUBLE_KONNECT_DIR/control-planes/<id>.yaml.
function loadControlPlane(ctx, session) {
  const dir = ctx.env.DECK_DOUBLE_KONNECT_DIR
  if (!dir)
    throw new DeckError('deck double: DECK_DOUBLE_KONNECT_DIR (the Konnect stand-in directory) is not set')
  session.gateway = loadGateway({ DECK_DOUBLE_GATEWAY: join(dir, 'control-planes', `${session.id}.yaml`) })
  return session.gateway
}

// Entities GDR's dump leaves out in Konnect mode (pkg/dump/dump.go, dump_konnect.go): those tagged
// konnect-managed (plugins also konnect-managed-plugin), and OAuth2 credentials, which it never lists.
const MANAGED = 'konnect-managed'
const MANAGED_PLUGIN = 'konnect-managed-plugin'

/** What dump.Get returns of the control plane's entities in Konnect mode. */
export function konnectVisible(raw) {
  const managed = (e, extra) => (e.tags ?? []).some((t) => t === MANAGED || t === extra)
  const out = { ...raw, credentials: { ...raw.credentials, oauth2_credentials: [] } }
  for (const key of [
    'services',
    'routes',
    'certificates',
    'caCertificates',
    'snis',
    'upstreams',
    'targets',
    'vaults',
    'partials',
    'keys',
    'keySets',
  ]) {
    if (Array.isArray(raw[key])) out[key] = raw[key].filter((e) => !managed(e))
  }
  out.plugins = raw.plugins.filter((p) => !managed(p, MANAGED_PLUGIN))
  return out
}

/**
 * The control plane's entities as dump.Get reads them (one services request stands for its reads; throws
 * HttpFailure). Sets session.gateway, which sync writes back.
 */
export function readControlPlane(ctx, session, flatten) {
  coreRequest(session, 'GET', '/services?size=1000')
  const gateway = loadControlPlane(ctx, session)
  return flatten(gateway.workspaces.default ?? {})
}

// go-kong's endpoints for GDR's writes: create with an id is PUT, update PATCH, delete DELETE.
const COLLECTIONS = {
  service: 'services',
  route: 'routes',
  plugin: 'plugins',
  certificate: 'certificates',
  sni: 'snis',
  'ca-certificate': 'ca_certificates',
  upstream: 'upstreams',
  consumer: 'consumers',
  'consumer-group': 'consumer_groups',
  vault: 'vaults',
  partial: 'partials',
  key: 'keys',
  'key-set': 'key-sets',
}
const CREDENTIAL_PATHS = {
  'key-auth': 'key-auth',
  'basic-auth': 'basic-auth',
  'hmac-auth': 'hmac-auth',
  'jwt-auth': 'jwt',
  'acl-group': 'acls',
  'oauth2-cred': 'oauth2',
  'mtls-auth': 'mtls-auth',
}
const METHODS = { create: 'PUT', update: 'PATCH', delete: 'DELETE' }

function entityPath(event) {
  const obj = event.obj
  if (event.kind === 'target') return `/upstreams/${obj.upstream?.id}/targets/${obj.id}`
  if (event.kind === 'consumer-group-consumer') {
    const base = `/consumer_groups/${obj.consumer_group?.id}/consumers`
    return event.op === 'create' ? base : `${base}/${obj.consumer?.id}`
  }
  if (event.kind in CREDENTIAL_PATHS)
    return `/consumers/${obj.consumer?.id}/${CREDENTIAL_PATHS[event.kind]}/${obj.id}`
  return `/${COLLECTIONS[event.kind]}/${obj.id}`
}

/**
 * Sends one sync event to the control plane's core-entities API. Returns null once it was accepted, or the
 * reason deck reports (HTTP status, or the retryable client giving up after repeated 429s).
 */
export function writeEvent(session, event, body) {
  const method =
    event.kind === 'consumer-group-consumer' && event.op === 'create' ? 'POST' : METHODS[event.op]
  try {
    coreRequest(session, method, entityPath(event), event.op === 'delete' ? undefined : body)
    return null
  } catch (err) {
    if (err instanceof HttpFailure) return err.message
    throw err
  }
}
