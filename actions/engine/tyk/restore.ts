import { setTimeout as sleep } from 'node:timers/promises'

import { DeckhandError, errorMessage, isDeckhandError } from '../errors.js'
import { inputName } from '../jobs/inputs.js'
import type { Logger } from '../log.js'
import { describeCounts } from '../reconcile.js'
import { type RestoreOutcome, startOutcome } from '../restore/restore.js'
import { smokePhase, type SmokeRequest } from '../restore/smoke.js'
import { Timeline } from '../restore/timeline.js'
import type { TykObject } from './objects.js'
import { planTyk } from './plan.js'
import { confirmGatewayWrites, waitForConvergence } from './sync.js'
import type { TykTarget } from './target.js'

export interface TykRestoreOptions {
  target: TykTarget
  /** The objects of the state folder, secrets filled. */
  desired: readonly TykObject[]
  /** The state paths, for reports. */
  files: readonly string[]
  overwrite: boolean
  waitTimeoutSeconds: number
  /** How long the gateway may take to load what was written, after the reload. */
  convergeMs: number
  smoke: readonly SmokeRequest[]
  smokeWindowMs: number
  logger: Logger
}

/** What a Tyk restore from API and policy files cannot bring back, said in every report. */
const NOT_RESTORED = [
  'Keys, OAuth clients, quotas and rate-limit counters live in Redis: restore its backup (db-dump with engine redis) as well.',
  'Certificates are referenced by id; the certificate store (/tyk/certs) is not part of these files.',
  'tyk.conf, middleware and plugin bundles are files on the gateway host: restore them with files-restore.',
]

/**
 * Restores a Tyk gateway from API and policy files: waits for it (`/hello`), refuses one that holds
 * something else unless overwrite, writes every object, reloads, and proves the gateway serves exactly
 * the files (a re-plan with no changes) and answers the smoke requests.
 */
export async function restoreTyk(options: TykRestoreOptions): Promise<RestoreOutcome> {
  const timeline = new Timeline()
  const outcome: RestoreOutcome = { ...startOutcome('declarative', timeline), notRestored: [...NOT_RESTORED] }
  const { target, logger } = options
  try {
    const version = await timeline.phase(
      'wait for the gateway',
      () => waitForTyk(options),
      (v) => v,
    )
    outcome.gateway = { version, edition: 'tyk', database: 'redis', nodes: [target.address] }

    const plan = await timeline.phase(
      'plan',
      async () =>
        planTyk(options.desired, await target.writer.read(), options.files, {
          dashboard: target.writer.dashboard,
        }),
      (p) => describeCounts(p.plan.counts),
    )
    const { counts } = plan.plan
    const mcps = options.desired.filter((o) => o.format === 'mcp')
    if (mcps.length > 0 && !(target.gateway && (await target.gateway.supportsMcp()))) {
      throw new DeckhandError(
        `The files hold MCP proxies (${mcps.map((o) => o.id).join(', ')}), which ${target.description} cannot ` +
          'hold: the Gateway API has them from Tyk 5.12 (/tyk/mcps). Nothing was changed.',
      )
    }
    if (!options.overwrite && counts.updating + counts.deleting > 0) {
      const names = plan.plan.changes
        .filter((c) => c.action !== 'create')
        .map((c) => `${c.action} ${c.kind} ${c.name}`)
      throw new DeckhandError(
        `Refused: ${target.address} already holds APIs or policies the files would change or delete ` +
          `(${counts.updating} to update, ${counts.deleting} to delete). Nothing was changed. ` +
          'Is this the gateway you meant? Set overwrite: true to replace its configuration.',
        names,
      )
    }
    outcome.strategyUsed = 'declarative'
    if (counts.total > 0) {
      const applied = await timeline.phase(
        'sync',
        async () => {
          const result = await target.writer.apply(plan, options.desired)
          const failures = [
            ...result.failed.map((f) => `${f.change.action} ${f.change.kind} ${f.change.name}: ${f.error}`),
            ...result.otherErrors,
          ]
          if (failures.length > 0)
            throw new DeckhandError(`The gateway refused part of the restore: ${failures[0]}`, failures)
          if (target.gateway) {
            const problems = await confirmGatewayWrites(
              plan,
              result.applied,
              target.gateway,
              options.convergeMs,
            )
            if (problems.length > 0)
              throw new DeckhandError(`The gateway does not serve what was written: ${problems[0]}`, problems)
          }
          return result
        },
        (r) => `${r.applied.length} change(s) applied, reload requested`,
      )
      outcome.entitiesRestored = applied.applied.filter((c) => c.action !== 'delete').length
      outcome.restored.push(`${describeCounts(counts)} (APIs and policies) on ${target.address}`)
    }
    const after = await timeline.phase(
      'verify',
      () => waitForConvergence(options.desired, target.writer, options.files, options.convergeMs, logger),
      (p) => describeCounts(p.plan.counts),
    )
    const left = after.plan.changes.map((c) => `${c.action} ${c.kind} ${c.name}`)
    timeline.check(
      'the gateway serves the files',
      left.length === 0,
      left.length === 0
        ? `${options.desired.length} APIs and policies, no difference after the reload`
        : `still different after ${Math.round(options.convergeMs / 1000)} s: ${left.slice(0, 10).join(', ')}`,
    )
    if (options.smoke.length > 0) {
      outcome.smoke = await smokePhase(timeline, options.smoke, { logger, windowMs: options.smokeWindowMs })
    }
    outcome.verified = timeline.checks.every((c) => c.ok)
  } catch (err) {
    if (!isDeckhandError(err)) throw err
    outcome.error = { message: err.message, details: err.details }
  }
  outcome.rtoSeconds = timeline.elapsed()
  return outcome
}

/** Waits for `/hello` (a gateway) or a first successful read (a Dashboard), with backoff, until wait-timeout. */
async function waitForTyk(options: TykRestoreOptions): Promise<string> {
  const deadline = performance.now() + options.waitTimeoutSeconds * 1000
  const { gateway } = options.target
  let delay = 1000
  for (let attempt = 1; ; attempt++) {
    try {
      if (gateway) {
        const health = await gateway.hello()
        if (health.status === 'pass' || health.status === 'warn') return health.version
        throw new DeckhandError(`/hello says ${health.status}`)
      }
      await options.target.writer.read()
      return 'Dashboard'
    } catch (err) {
      if (!isDeckhandError(err)) throw err
      if (/refused the secret/.test(err.message)) throw err
      if (performance.now() + delay > deadline) {
        throw new DeckhandError(
          `${options.target.address} did not come up within ${options.waitTimeoutSeconds} s (${inputName('wait-timeout')}): ${errorMessage(err)}`,
        )
      }
      options.logger.info(`Waiting for ${options.target.address} (attempt ${attempt}): ${errorMessage(err)}`)
      await sleep(delay)
      delay = Math.min(delay * 2, 15_000)
    }
  }
}
