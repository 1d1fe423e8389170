import { setTimeout as sleep } from 'node:timers/promises'

import { errorMessage, isDeckhandError } from '../errors.js'
import type { Logger } from '../log.js'
import type { PlannedChange, SyncOutcome } from '../plan/model.js'
import { describeCounts } from '../reconcile.js'
import { TYK_KIND, type TykObject } from './objects.js'
import { planTyk, scrubPlan, type TykPlan, type TykStep } from './plan.js'

/** Where a Tyk plan is applied: the Gateway API object by object, or tyk-sync for a whole folder. */
export interface TykWriter {
  /** Applies the plan (whose steps come from `desired`); stops at the first failure and says which. */
  apply(plan: TykPlan, desired: readonly TykObject[]): Promise<SyncOutcome>
  /** What the gateway holds now. */
  read(): Promise<TykObject[]>
  /** A Dashboard, whose stamps plans leave aside (see `dashboardViews`). */
  readonly dashboard: boolean
}

/**
 * The order the Gateway API needs: APIs before the policies that grant access to them, and policies
 * deleted before their APIs. Within a group, the plan's order (file names) stands.
 */
export function stepOrder(steps: readonly TykStep[]): TykStep[] {
  const rank = (s: TykStep) => {
    const policy = TYK_KIND[s.object.format] === 'policy'
    if (s.action === 'delete') return policy ? 2 : 3
    return policy ? 1 : 0
  }
  return [...steps].sort((a, b) => rank(a) - rank(b))
}

/** Applies steps through the Gateway API, then asks the cluster to reload once. */
export async function applySteps(
  plan: TykPlan,
  gateway: {
    create(o: TykObject): Promise<void>
    update(o: TykObject): Promise<void>
    remove(o: TykObject): Promise<void>
    reloadGroup(): Promise<void>
  },
  logger: Logger,
  known: readonly string[],
): Promise<SyncOutcome> {
  const applied: PlannedChange[] = []
  const failed: SyncOutcome['failed'] = []
  const dropped: PlannedChange[] = []
  const otherErrors: string[] = []
  for (const step of stepOrder(plan.steps)) {
    if (failed.length > 0) {
      dropped.push(step.change)
      continue
    }
    try {
      if (step.action === 'create') await gateway.create(step.object)
      else if (step.action === 'update') await gateway.update(step.object)
      else await gateway.remove(step.object)
      applied.push(step.change)
      logger.info(`${step.action} ${step.change.kind} ${step.change.name}`)
    } catch (err) {
      if (!isDeckhandError(err)) throw err
      failed.push({ change: step.change, error: scrubPlan(errorMessage(err), plan, known) })
    }
  }
  if (applied.length > 0) {
    // Written objects are in the gateway's files, but it serves them only after a reload.
    try {
      await gateway.reloadGroup()
    } catch (err) {
      if (!isDeckhandError(err)) throw err
      otherErrors.push(
        `the reload failed, the gateway may still serve the old configuration: ${errorMessage(err)}`,
      )
    }
  }
  return { applied, failed, dropped, otherErrors, warnings: [], counts: { ...plan.plan.counts } }
}

/**
 * Waits until the gateway holds what the files hold (a reload runs in the background), re-planning
 * with backoff; returns the last plan, which is empty when it converged within `timeoutMs`.
 */
export async function waitForConvergence(
  desired: readonly TykObject[],
  writer: Pick<TykWriter, 'read' | 'dashboard'>,
  files: readonly string[],
  timeoutMs: number,
  logger: Logger,
): Promise<TykPlan> {
  const deadline = Date.now() + timeoutMs
  let delay = 200
  for (;;) {
    const plan = planTyk(desired, await writer.read(), files, { dashboard: writer.dashboard })
    if (plan.plan.counts.total === 0 || Date.now() + delay > deadline) return plan
    logger.info(`Waiting for the gateway to load the changes: ${describeCounts(plan.plan.counts)} left`)
    await sleep(delay)
    delay = Math.min(delay * 2, 2000)
  }
}
