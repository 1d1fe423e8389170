import { setTimeout as sleep } from 'node:timers/promises'

import { DeckhandError } from '../errors.js'
import { type HttpAnswer, jsonBody, sendRequest, type TlsOptions, TransportError } from '../http.js'
import { inputName } from '../jobs/inputs.js'
import type { Logger } from '../log.js'
import { retryAfterMs } from '../retry-after.js'

/**
 * The parts of Konnect's API deckhand calls itself (deck does the rest): the Control Planes API v2 (list,
 * get, create) and the plugin schemas of the Control Planes Config API v2, as their OpenAPI documents
 * describe them (developer.konghq.com api-specs/konnect/control-planes/v2/openapi.yaml and
 * control-planes-config/v2/openapi.yaml). The token travels in the Authorization header only. The roles
 * a 403 names are Konnect's predefined control-plane roles (developer.konghq.com konnect-platform/teams-and-roles).
 */

/** The cluster types a control plane can have (ControlPlane.config.cluster_type). */
export type ClusterType =
  | 'CLUSTER_TYPE_CONTROL_PLANE'
  | 'CLUSTER_TYPE_K8S_INGRESS_CONTROLLER'
  | 'CLUSTER_TYPE_CONTROL_PLANE_GROUP'
  | 'CLUSTER_TYPE_SERVERLESS'
  | 'CLUSTER_TYPE_KAFKA_NATIVE_EVENT_PROXY'
  | 'CLUSTER_TYPE_SERVERLESS_V1'

export interface ControlPlane {
  id: string
  name: string
  description?: string
  labels?: Record<string, string>
  config: {
    control_plane_endpoint: string
    telemetry_endpoint: string
    cluster_type: ClusterType
    auth_type: 'pinned_client_certs' | 'pki_client_certs'
    cloud_gateway: boolean
    proxy_urls?: unknown[]
  }
  created_at?: string
  updated_at?: string
}

/** CreateControlPlaneRequest: what a restore recreates a lost control plane from. */
export interface NewControlPlane {
  name: string
  description?: string
  labels?: Record<string, string>
  cluster_type?: ClusterType
  auth_type?: 'pinned_client_certs' | 'pki_client_certs'
  cloud_gateway?: boolean
  proxy_urls?: unknown[]
}

/** One wait a rate limit imposed: reported, so that a slow run explains itself. */
export interface RateLimitWait {
  request: string
  ms: number
}

export interface KonnectApiOptions {
  /** The API's address, without `/v2`: https://eu.api.konghq.com. */
  address: string
  token: string
  logger: Logger
  tls?: TlsOptions
  timeoutMs?: number
  /** How long the rate limit may hold one request up in total before the run gives up. */
  maxRateLimitWaitMs?: number
}

/** The largest page the list endpoint serves is not documented; 100 is what Konnect's own clients ask for. */
const PAGE_SIZE = 100
/** A bound on pages read: 100,000 control planes is far beyond any organization's limit. */
const MAX_PAGES = 1000

export class KonnectApi {
  /** Every wait a 429 imposed, in order. */
  readonly waits: RateLimitWait[] = []
  private readonly maxWaitMs: number
  private readonly known = new Map<string, ControlPlane>()

  constructor(private readonly options: KonnectApiOptions) {
    this.maxWaitMs = options.maxRateLimitWaitMs ?? 5 * 60_000
  }

  /**
   * The control plane of this name, or undefined: names are unique in an organization. One found or created
   * is remembered for the run (a job asks for it again to read its schemas); one not found is asked for again.
   */
  async findControlPlane(name: string): Promise<ControlPlane | undefined> {
    const known = this.known.get(name)
    if (known) return known
    const query = new URLSearchParams({ 'filter[name][eq]': name, 'page[size]': String(PAGE_SIZE) })
    const page = await this.json<{ data?: ControlPlane[] }>('GET', `/v2/control-planes?${query}`)
    const found = (page.data ?? []).find((cp) => cp.name === name)
    if (found) this.known.set(name, found)
    return found
  }

  /** Every control plane of the organization the token may see, page by page. */
  async listControlPlanes(): Promise<ControlPlane[]> {
    const all: ControlPlane[] = []
    for (let number = 1; number <= MAX_PAGES; number++) {
      const query = new URLSearchParams({ 'page[size]': String(PAGE_SIZE), 'page[number]': String(number) })
      const page = await this.json<{ data?: ControlPlane[]; meta?: { page?: { total?: number } } }>(
        'GET',
        `/v2/control-planes?${query}`,
      )
      const data = page.data ?? []
      for (const cp of data) all.push(cp)
      const total = page.meta?.page?.total ?? 0
      if (data.length === 0 || all.length >= total) return all
    }
    throw new DeckhandError(
      `Konnect listed more than ${MAX_PAGES * PAGE_SIZE} control planes; stopped reading.`,
    )
  }

  async createControlPlane(cp: NewControlPlane): Promise<ControlPlane> {
    const created = await this.json<ControlPlane>('POST', '/v2/control-planes', cp, 201)
    this.known.set(created.name, created)
    return created
  }

  /** A plugin's schema as the control plane's Kong version has it (fetch-plugin-schema). */
  async pluginSchema(controlPlaneId: string, plugin: string): Promise<unknown | undefined> {
    const path = `/v2/control-planes/${encodeURIComponent(controlPlaneId)}/core-entities/schemas/plugins/${encodeURIComponent(plugin)}`
    const res = await this.send('GET', path)
    if (res.status === 404) return undefined
    if (res.status !== 200) throw this.failure('GET', path, res)
    return parse(res, 'GET', path)
  }

  private async json<T>(method: string, path: string, body?: unknown, expected = 200): Promise<T> {
    const res = await this.send(method, path, body)
    if (res.status !== expected) throw this.failure(method, path, res)
    return parse(res, method, path) as T
  }

  /** One request; a 429 is waited out as Retry-After asks, up to the run's budget. */
  private async send(method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    const url = new URL(path, this.options.address)
    const where = `${method} ${url.pathname}`
    let waited = 0
    for (let attempt = 0; ; attempt++) {
      let res: HttpAnswer
      try {
        res = await sendRequest(url, {
          method,
          headers: { Authorization: `Bearer ${this.options.token}` },
          body: body === undefined ? undefined : jsonBody(body),
          timeoutMs: this.options.timeoutMs ?? 30_000,
          tls: this.options.tls,
        })
      } catch (err) {
        if (err instanceof TransportError)
          throw new DeckhandError(
            `${where} at ${url.origin}: no answer (${err.message}). Check konnect-region or konnect-addr.`,
          )
        throw err
      }
      if (res.status !== 429) return res
      const ms = retryAfterMs(res.headers['retry-after'], {
        fallbackMs: Math.min(1000 * 2 ** attempt, 30_000),
        minMs: 100,
        maxMs: 60_000,
      })
      if (waited + ms > this.maxWaitMs) {
        throw new DeckhandError(
          `${where}: Konnect's rate limit still held after ${Math.round(waited / 1000)} s of waiting (${describe(res)}). ` +
            'Try again later, or with a token whose organization has a higher limit.',
        )
      }
      this.options.logger.info(`${where}: Konnect's rate limit (429); waiting ${ms / 1000} s as it asks.`)
      this.waits.push({ request: where, ms })
      waited += ms
      await sleep(ms)
    }
  }

  private failure(method: string, path: string, res: HttpAnswer): DeckhandError {
    const where = `${method} ${path.split('?')[0]}`
    switch (res.status) {
      case 401:
        return new DeckhandError(
          `${where}: Konnect refused ${inputName('konnect-token')} (${describe(res)}). ` +
            'Use a personal access token (kpat_…) or a system account token (spat_…) of this organization that has not expired, for this region.',
        )
      case 403:
        return new DeckhandError(
          `${where}: ${inputName('konnect-token')} lacks the permission (${describe(res)}). ` +
            "Its user or system account needs, on the control plane, Konnect's Viewer role for dump and diff, Admin for sync and restore, and Creator to recreate a lost control plane.",
        )
      case 409:
        return new DeckhandError(`${where}: ${describe(res)}: a control plane of that name already exists.`)
      default:
        return new DeckhandError(`${where}: ${describe(res)}`)
    }
  }
}

/** Konnect's errors are problem+json (BaseError: status, title, detail); quote a bounded part. */
function describe(res: HttpAnswer): string {
  let text: string
  try {
    const body = JSON.parse(res.body) as { title?: unknown; detail?: unknown; message?: unknown }
    text = [body.title, body.detail ?? body.message]
      .filter((v) => typeof v === 'string' && v !== '')
      .join(': ')
  } catch {
    text = res.body.trim()
  }
  if (text.length > 300) text = `${text.slice(0, 300)}…`
  return `HTTP ${res.status}${text ? ` ${text}` : ''}`
}

function parse(res: HttpAnswer, method: string, path: string): unknown {
  try {
    return JSON.parse(res.body) as unknown
  } catch {
    throw new DeckhandError(
      `${method} ${path.split('?')[0]}: Konnect answered HTTP ${res.status} with a body that is not JSON`,
    )
  }
}
