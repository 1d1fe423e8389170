import { setTimeout as sleep } from 'node:timers/promises'

import { DeckhandError } from '../errors.js'
import { inputName } from '../jobs/inputs.js'
import { retryAfterMs } from '../retry-after.js'
import { describeAnswer, EMPTY_CONFIGURATION_HASH, type KongAdmin, parseJson } from '../kong/admin.js'
import type { Logger } from '../log.js'
import { isObject } from '../state/entities.js'
import { MAX_STATE_BYTES, readStateText } from '../state/read.js'
import { countCollections, type DeclarativeConfig } from './declarative-config.js'

/** Entities a DB-less node holds now, per collection: from `GET /config`. */
export async function nodeEntityCounts(admin: KongAdmin): Promise<Record<string, number>> {
  // The whole configuration: as large as a state file may be.
  const answer = parseJson(await admin.expect('GET', '/config', 200, undefined, MAX_STATE_BYTES)) as {
    config?: unknown
  }
  const content: unknown =
    typeof answer.config === 'string'
      ? readStateText(answer.config, `${admin.address} GET /config`)
      : undefined
  return isObject(content) ? countCollections(content) : {}
}

export interface LoadOptions {
  deadline: number
  logger: Logger
}

export interface NodeLoad {
  address: string
  /** False when the node already held exactly this configuration (304: nothing reloaded). */
  reloaded: boolean
  /** 429 answers waited out. */
  busy: number
}

/**
 * Loads the configuration into one DB-less node with `POST /config`. A node still loading a previous
 * configuration answers 429 with Retry-After: that is waited out (until the deadline). `check_hash`
 * makes a repeated restore a no-op for nodes that already hold this configuration.
 */
export async function loadNode(
  admin: KongAdmin,
  config: DeclarativeConfig,
  options: LoadOptions,
): Promise<NodeLoad> {
  let busy = 0
  for (;;) {
    // The configuration goes as text in the `config` field: only then does Kong hash the text, so that
    // check_hash can answer 304 and every node loaded with it reports the same configuration_hash.
    // Kong answers with the entities it loaded, or an error per entity: as large as the configuration.
    const res = await admin.request(
      'POST',
      '/config?check_hash=1&flatten_errors=1',
      { contentType: 'application/json', data: JSON.stringify({ config: config.body }) },
      undefined,
      MAX_STATE_BYTES,
    )
    if (res.status === 201 || res.status === 200) return { address: admin.address, reloaded: true, busy }
    if (res.status === 304) return { address: admin.address, reloaded: false, busy }
    if (res.status === 429 || res.status === 503) {
      busy++
      const wait = retryAfterMs(res.headers['retry-after'], { fallbackMs: 1000, minMs: 250, maxMs: 60_000 })
      if (performance.now() + wait > options.deadline) {
        throw new DeckhandError(
          `${admin.address} was still busy loading a configuration (${describeAnswer(res)}) when ${inputName('wait-timeout')} ran out. Nothing else was changed on it.`,
        )
      }
      options.logger.info(
        `${admin.address} is busy (${describeAnswer(res)}); trying again in ${wait / 1000} s.`,
      )
      await sleep(wait)
      continue
    }
    if (res.status === 413) {
      const bytes = Buffer.byteLength(config.body)
      // Two refusals share the status: Kong's own when the configuration does not fit its LMDB map
      // (kong/api/routes/config.lua, JSON naming lmdb_map_size), and nginx's when the request body is over
      // the Admin API's client_max_body_size (an HTML page, before Kong sees the request).
      throw new DeckhandError(
        /lmdb/i.test(res.body)
          ? `${admin.address} refused the configuration as too large for its LMDB map (${describeAnswer(res)}, ${bytes} bytes): ` +
              'raise lmdb_map_size (KONG_LMDB_MAP_SIZE) on the DB-less nodes and restore again.'
          : `${admin.address} refused a request body of ${bytes} bytes (HTTP 413 from nginx, before Kong read it): ` +
              'raise nginx_admin_client_max_body_size (KONG_NGINX_ADMIN_CLIENT_MAX_BODY_SIZE, 10m by default) on the DB-less nodes and restore again.',
      )
    }
    if (res.status === 400)
      throw new DeckhandError(
        `${admin.address} rejected the configuration: ${describeAnswer(res)}`,
        flatErrors(res.body),
      )
    throw new DeckhandError(`POST ${admin.address}/config: ${describeAnswer(res)}`)
  }
}

/** Kong's `flattened_errors`, one line per entity and field, at most 20. */
function flatErrors(body: string): string[] {
  try {
    const parsed = JSON.parse(body) as {
      flattened_errors?: {
        entity_type?: string
        entity_name?: string
        errors?: { field?: string; message?: string }[]
      }[]
    }
    return (parsed.flattened_errors ?? [])
      .slice(0, 20)
      .flatMap((e) =>
        (e.errors ?? []).map((f) =>
          `${e.entity_type ?? 'entity'} ${e.entity_name ?? ''}: ${f.field ? `${f.field}: ` : ''}${f.message ?? ''}`.trim(),
        ),
      )
  } catch {
    return []
  }
}

/** A node's hash and entities after the load, compared with what was sent. */
export interface NodeCheck {
  address: string
  hash: string
  counts: Record<string, number>
  problems: string[]
}

/** Checks every node holds the configuration: its entity counts match, and all report the same hash. */
export async function checkNodes(
  admins: readonly KongAdmin[],
  config: DeclarativeConfig,
): Promise<{ checks: NodeCheck[]; ok: boolean }> {
  const checks = await Promise.all(
    admins.map(async (admin): Promise<NodeCheck> => {
      const [status, counts] = await Promise.all([admin.status(), nodeEntityCounts(admin)])
      const hash = status.configurationHash ?? ''
      const problems: string[] = []
      if (!hash || hash === EMPTY_CONFIGURATION_HASH) problems.push('reports no configuration loaded')
      for (const key of new Set([...Object.keys(config.counts), ...Object.keys(counts)])) {
        const want = config.counts[key] ?? 0
        const got = counts[key] ?? 0
        if (want !== got) problems.push(`${key}: ${got} instead of ${want}`)
      }
      return { address: admin.address, hash, counts, problems }
    }),
  )
  const hashes = new Set(checks.map((c) => c.hash))
  if (hashes.size > 1) {
    for (const check of checks) check.problems.push(`configuration hash ${check.hash} differs between nodes`)
  }
  return { checks, ok: checks.every((c) => c.problems.length === 0) }
}
