// The emulated Kong Admin API: one gateway fixture answering at one address, with the errors
// go-kong and Go's net/http produce for refused connections, wrong schemes and HTTP errors.

import { readFileSync } from 'node:fs'

import { parse as parseYaml } from 'yaml'

import { DeckError, goQuote } from './gostr.mjs'

/** Loads DECK_DOUBLE_GATEWAY; null when unset (then nothing answers). */
export function loadGateway(env) {
  const path = env.DECK_DOUBLE_GATEWAY
  if (!path) return null
  let fixture
  try {
    fixture = parseYaml(readFileSync(path, 'utf8'), { version: '1.2', maxAliasCount: -1 })
  } catch (err) {
    throw new DeckError(`deck double: cannot read gateway fixture ${path}: ${err.message}`)
  }
  if (!fixture || typeof fixture !== 'object')
    throw new DeckError(`deck double: gateway fixture ${path} is empty`)
  for (const key of ['kongAddr', 'kongVersion']) {
    if (typeof fixture[key] !== 'string')
      throw new DeckError(`deck double: gateway fixture ${path} lacks ${key}`)
  }
  const edition = fixture.edition ?? 'enterprise'
  if (!['enterprise', 'community'].includes(edition)) {
    throw new DeckError(`deck double: gateway fixture ${path}: edition must be enterprise or community`)
  }
  if (fixture.reject !== undefined && fixture.reject !== null && !Array.isArray(fixture.reject)) {
    throw new DeckError(`deck double: gateway fixture ${path}: reject must be a list`)
  }
  const workspaces = fixture.workspaces ?? { default: {} }
  if (edition === 'community' && Object.keys(workspaces).some((w) => w !== 'default')) {
    throw new DeckError(`deck double: gateway fixture ${path}: community Kong has only the default workspace`)
  }
  return { ...fixture, edition, workspaces, path }
}

const DEFAULT_PORTS = { http: '80', https: '443' }

function splitAddress(address) {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(\[[^\]]*\]|[^/:?#]*)(?::(\d*))?([^?#]*)/.exec(address)
  if (!m) return null
  const scheme = m[1].toLowerCase()
  const host = m[2].replace(/^\[|\]$/g, '').toLowerCase()
  return { scheme, host, port: m[3] || DEFAULT_PORTS[scheme] || '', path: m[4].replace(/\/+$/, '') }
}

const LOOPBACK = ['localhost', '127.0.0.1', '::1']

// Whether a client dialling `host` reaches a server listening on `listen` (same port assumed).
// "localhost" resolves to ::1 and 127.0.0.1, so it reaches either; the literals reach only themselves.
function reaches(host, listen) {
  if (host === listen) return true
  if (host === 'localhost') return listen === '127.0.0.1' || listen === '::1'
  if (listen === 'localhost' || listen === '0.0.0.0') return LOOPBACK.includes(host) || listen === host
  return false
}

function isIP(host) {
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':')
}

/** go-kong's APIError text. */
export function httpError(status, message) {
  return `HTTP status ${status} (message: ${goQuote(message)})`
}

/** A failed HTTP exchange: transport errors as Go prints them, or an HTTP status with Kong's message. */
export class HttpFailure extends Error {
  constructor(text, status = 0) {
    super(text)
    this.status = status
  }
}

const UNAUTHORIZED = 'Invalid RBAC credentials'
const NOT_FOUND = 'Not found'

/**
 * A client for the fixture at `address` with the given "Name:value" headers, like go-kong's client
 * built by GDR's utils.GetKongClient. Methods throw HttpFailure.
 */
export class AdminClient {
  constructor(gateway, address, headers) {
    this.gateway = gateway
    this.base = address.replace(/\/+$/, '')
    this.headers = headers
    this.target = splitAddress(this.base)
  }

  // Sends one request; returns nothing on 2xx, throws HttpFailure otherwise.
  request(method, path) {
    const url = this.base + path
    const verb = method[0] + method.slice(1).toLowerCase()
    const t = this.target
    if (!t) {
      const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(this.base)?.[1] ?? ''
      throw new HttpFailure(
        `making HTTP request: ${verb} ${goQuote(url)}: unsupported protocol scheme ${goQuote(scheme)}`,
      )
    }
    if (t.scheme !== 'http' && t.scheme !== 'https') {
      throw new HttpFailure(
        `making HTTP request: ${verb} ${goQuote(url)}: unsupported protocol scheme ${goQuote(t.scheme)}`,
      )
    }
    const g = this.gateway
    const listen = g ? splitAddress(g.kongAddr.replace(/\/+$/, '')) : null
    if (!listen || listen.port !== t.port || !reaches(t.host, listen.host)) {
      if (!isIP(t.host) && t.host !== 'localhost') {
        throw new HttpFailure(
          `making HTTP request: ${verb} ${goQuote(url)}: dial tcp: lookup ${t.host}: no such host`,
        )
      }
      const dialed = t.host === 'localhost' ? '[::1]' : t.host.includes(':') ? `[${t.host}]` : t.host
      throw new HttpFailure(
        `making HTTP request: ${verb} ${goQuote(url)}: dial tcp ${dialed}:${t.port}: connect: connection refused`,
      )
    }
    if (t.scheme === 'https' && listen.scheme === 'http') {
      throw new HttpFailure(
        `making HTTP request: ${verb} ${goQuote(url)}: http: server gave HTTP response to HTTPS client`,
      )
    }
    if (t.scheme === 'http' && listen.scheme === 'https') {
      // nginx answers plain HTTP on a TLS port with an HTML 400 page.
      throw new HttpFailure(
        httpError(
          400,
          "<failed to parse response body: invalid character '<' looking for beginning of value>",
        ),
        400,
      )
    }
    if (t.path !== listen.path) throw new HttpFailure(httpError(404, NOT_FOUND), 404)
    if (g.adminToken !== undefined && g.adminToken !== null && g.adminToken !== '') {
      const tokens = this.headers
        .filter((h) => h.split(':')[0].trim().toLowerCase() === 'kong-admin-token')
        .map((h) => h.slice(h.indexOf(':') + 1).trim())
      if (tokens.length !== 1 || tokens[0] !== String(g.adminToken)) {
        throw new HttpFailure(httpError(401, UNAUTHORIZED), 401)
      }
    }
  }

  /** GET / (or /<ws>/kong): Kong's version. */
  root(workspace = '') {
    if (workspace) {
      this.request('GET', `/${workspace}/kong`)
      if (this.gateway.edition !== 'enterprise' || !(workspace in this.gateway.workspaces)) {
        throw new HttpFailure(httpError(404, NOT_FOUND), 404)
      }
    } else this.request('GET', '/')
    return this.gateway.kongVersion
  }

  /** GET /<ws>/workspaces/<ws>, as go-kong's Workspaces.ExistsByName; 404 means "no". */
  workspaceExists(name) {
    this.request('GET', `/${name}/workspaces/${name}`)
    return this.gateway.edition === 'enterprise' && name in this.gateway.workspaces
  }

  /** GET /workspaces (Enterprise only). */
  listWorkspaces() {
    this.request('GET', '/workspaces?size=1000')
    if (this.gateway.edition !== 'enterprise') throw new HttpFailure(httpError(404, NOT_FOUND), 404)
    return Object.keys(this.gateway.workspaces)
  }

  /** POST /workspaces (Kong Enterprise only; OSS Kong has no such route). */
  createWorkspace(name) {
    this.request('POST', '/workspaces')
    if (this.gateway.edition !== 'enterprise') throw new HttpFailure(httpError(404, NOT_FOUND), 404)
    this.gateway.workspaces[name] = {}
  }

  /** The entities of one workspace ("" = default), as the fixture holds them. */
  workspaceContent(workspace) {
    const prefix = workspace ? `/${workspace}` : ''
    this.request('GET', `${prefix}/services?size=1000`)
    return this.gateway.workspaces[workspace || 'default'] ?? {}
  }
}
