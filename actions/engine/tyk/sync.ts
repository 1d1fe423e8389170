import { setTimeout as sleep } from 'node:timers/promises'

import { errorMessage, isDeckhandError } from '../errors.js'
import type { Logger } from '../log.js'
import type { PlannedChange, SyncOutcome } from '../plan/model.js'
import { describeCounts } from '../reconcile.js'
import { POLICY_PATH_HELP } from './gateway-api.js'
import { displayName, normalize, objectKey, TYK_KIND, type TykObject } from './objects.js'
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
  return {
    applied,
    failed,
    dropped,
    notAttempted: [],
    otherErrors,
    warnings: [],
    counts: { ...plan.plan.counts },
  }
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

/** The JSON fields of Tyk's Policy struct (user/policy.go, Tyk v5.14.0). */
const POLICY_FIELDS = new Set(
  (
    'id name org_id rate per quota_max quota_renewal_rate throttle_interval throttle_retry_limit max_query_depth ' +
    'access_rights hmac_enabled enable_http_signature_validation active is_inactive tags key_expires_in ' +
    'post_expiry_action post_expiry_grace_period partitions meta_data graphql_access_rights smoothing'
  ).split(' '),
)

/**
 * After a sync through the Gateway API: reloads the gateway written to and waits for it (within
 * `timeoutMs`), then checks that what it answered 200 to writing is what it now serves. Tyk answers a
 * policy write with 200 whether or not it will ever load the file (see {@link POLICY_PATH_HELP}), and writes
 * an API to `<api_id>.json` while serving whichever file of app_path holds that api_id; either is said at
 * once rather than after converge-timeout. Returns the problems found, none when the reload did not finish
 * in time (the caller's wait for convergence then tells).
 */
export async function confirmGatewayWrites(
  plan: TykPlan,
  applied: readonly PlannedChange[],
  gateway: { reloadAndWait(timeoutMs: number): Promise<boolean>; list(): Promise<TykObject[]> },
  timeoutMs: number,
): Promise<string[]> {
  const done = new Set(applied)
  // A policy update counts only where it changes a field Tyk's Policy keeps (user/policy.go, Tyk v5.14.0):
  // one it drops when decoding would leave the policy unchanged wherever it was written.
  const kept = (step: TykStep) =>
    (step.change.fields ?? []).some((f) => POLICY_FIELDS.has(f.path.split('.')[0] ?? ''))
  const steps = plan.steps.filter((s) => done.has(s.change))
  if (steps.length === 0 || !(await gateway.reloadAndWait(timeoutMs))) return []
  const served = new Map((await gateway.list()).map((o) => [objectKey(o), normalize(o)]))
  const same = (a: TykObject, b: TykObject) => JSON.stringify(normalize(a).body) === JSON.stringify(b.body)
  const policies: string[] = []
  const apis: string[] = []
  for (const step of steps) {
    const now = served.get(objectKey(step.object))
    const unchanged =
      step.action === 'create'
        ? now === undefined
        : step.action === 'delete'
          ? now !== undefined
          : now !== undefined &&
            step.current !== undefined &&
            same(step.current, now) &&
            (TYK_KIND[step.object.format] !== 'policy' || kept(step))
    if (!unchanged) continue
    const what = `${step.action} ${displayName(step.object)}`
    if (TYK_KIND[step.object.format] === 'policy') policies.push(what)
    else if (step.action === 'update') apis.push(what)
  }
  const problems: string[] = []
  if (policies.length > 0) {
    problems.push(
      `the gateway answered 200 to writing policies but serves none of it after a reload ` +
        `(${policies.join(', ')}). ${POLICY_PATH_HELP}`,
    )
  }
  if (apis.length > 0) {
    problems.push(
      `the gateway still serves the definition it had after a reload (${apis.join(', ')}): it wrote ` +
        '<api_id>.json, but another file in app_path holds the same api_id and is the one loaded (Tyk loads ' +
        'every *.json there whatever its name). Keep each API in <api_id>.json (an OAS API also in ' +
        '<api_id>-oas.json) and remove the other file.',
    )
  }
  return problems
}
