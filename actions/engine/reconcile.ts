import { reconcileArgs } from './deck/commands.js'
import type { DeckRunner } from './deck/runner.js'
import { errorMessage, isDeckhandError } from './errors.js'
import type { Logger } from './log.js'
import { parseDeckJson } from './plan/deck-output.js'
import type { LiveRules } from './secrets/live-rules.js'
import type { DeckJsonOutput } from './plan/deck-output.js'
import {
  changeBodies,
  changeKey,
  type Counts,
  type PlannedChange,
  PlanMasker,
  type SyncOutcome,
  syncOutcome,
  targetPlan,
  type TargetPlan,
} from './plan/model.js'
import { type StateTarget, targetLabel } from './plan/targets.js'

export interface ReconcileOptions {
  deck: DeckRunner
  logger: Logger
  /** Values that must never appear in a plan: the admin token, header values, DECK_ values. */
  secrets: readonly string[]
  skipConsumers?: boolean
  /** deck's --parallelism: concurrent Admin API requests per run. */
  parallelism?: number
  timeoutMs?: number
  /** Reads the gateway's schemas for masking; without it, the bundled catalogue decides alone. */
  liveRules?: LiveRules
  /** Konnect: each control plane's own schemas, instead of `liveRules`. */
  liveRulesFor?: (controlPlane: string) => Promise<LiveRules | undefined>
}

/** A masker for one deck output, with the gateway's schemas for the entities it holds where they can be read. */
async function maskerFor(
  output: DeckJsonOutput,
  options: ReconcileOptions,
  target: { controlPlane?: string },
): Promise<PlanMasker> {
  const live =
    target.controlPlane && options.liveRulesFor
      ? await options.liveRulesFor(target.controlPlane)
      : options.liveRules
  const rules = live ? await live.forEntities(changeBodies(output)) : undefined
  return new PlanMasker(options.secrets, rules)
}

/**
 * Plans every target, one after another, with `deck gateway diff --json-output`. A deck failure
 * (connection, authentication, a file deck rejects) stops the plan with deck's message.
 */
export async function planTargets(
  targets: readonly StateTarget[],
  options: ReconcileOptions,
): Promise<TargetPlan[]> {
  const plans: TargetPlan[] = []
  for (const target of targets) {
    const output = await runDeck('diff', target, options)
    const plan = targetPlan(output, target, await maskerFor(output, options, target))
    options.logger.info(`${targetLabel(target)}: ${describeCounts(plan.counts)}`)
    plans.push(plan)
  }
  return plans
}

export function totalCounts(plans: readonly { counts: Counts }[]): Counts {
  const sum: Counts = { creating: 0, updating: 0, deleting: 0, total: 0 }
  for (const { counts } of plans) {
    sum.creating += counts.creating
    sum.updating += counts.updating
    sum.deleting += counts.deleting
    sum.total += counts.total
  }
  return sum
}

export function describeCounts(c: Counts): string {
  if (c.total === 0) return 'no changes'
  return `${c.creating} to create, ${c.updating} to update, ${c.deleting} to delete`
}

export interface DeleteGuard {
  /** Deletions allowed in total, across all targets. */
  maxDeletes: number
  /** Lift the limit (deletions are still counted and reported). */
  allowDeletes: boolean
}

/** The deletions of a plan and whether the guard lets them through. */
export function checkDeletes(
  plans: readonly TargetPlan[],
  guard: DeleteGuard,
): { allowed: boolean; deletions: { target: TargetPlan; change: PlannedChange }[] } {
  const deletions = plans.flatMap((target) =>
    target.changes.filter((c) => c.action === 'delete').map((change) => ({ target, change })),
  )
  return { allowed: guard.allowDeletes || deletions.length <= guard.maxDeletes, deletions }
}

/** What became of one target in a sync. */
export type SyncResult =
  | { status: 'unchanged' }
  | { status: 'synced'; outcome: SyncOutcome; unplanned: PlannedChange[] }
  | { status: 'error'; message: string }
  | { status: 'not-started' }

/**
 * Syncs the targets that have changes with `deck gateway sync --json-output`, at most `concurrency`
 * at a time and never two of the same workspace at once (deck's workspace check and creation race).
 * After the first failure no further target is started; those running finish.
 */
export async function syncTargets(
  plans: readonly TargetPlan[],
  options: ReconcileOptions & { concurrency: number },
): Promise<Map<TargetPlan, SyncResult>> {
  const results = new Map<TargetPlan, SyncResult>()
  let failed = false
  const work = plans.filter((p) => {
    if (p.counts.total > 0) return true
    results.set(p, { status: 'unchanged' })
    return false
  })
  await runBounded(work, options.concurrency, workspaceKey, async (plan) => {
    if (failed) {
      results.set(plan, { status: 'not-started' })
      return
    }
    let result: SyncResult
    try {
      const output = await runDeck('sync', plan, options)
      const masker = await maskerFor(output, options, plan)
      const outcome = syncOutcome(output, masker, plan.changes)
      result = { status: 'synced', outcome, unplanned: unplannedChanges(plan, outcome) }
      if (outcome.failed.length > 0 || outcome.otherErrors.length > 0) failed = true
      options.logger.info(
        `${targetLabel(plan)}: applied ${outcome.applied.length}, failed ${outcome.failed.length}, ` +
          `dropped ${outcome.dropped.length}, not attempted ${outcome.notAttempted.length}`,
      )
    } catch (err) {
      if (!isDeckhandError(err)) throw err
      failed = true
      result = { status: 'error', message: errorMessage(err) }
    }
    results.set(plan, result)
  })
  return new Map(plans.map((p) => [p, results.get(p) ?? { status: 'not-started' }]))
}

/**
 * Changes a sync made that its plan did not show: the gateway changed between the two deck runs.
 * Deletions among them went past the guard, which only saw the plan.
 */
function unplannedChanges(plan: TargetPlan, outcome: SyncOutcome): PlannedChange[] {
  const planned = new Set(plan.changes.map(changeKey))
  return [...outcome.applied, ...outcome.failed.map((f) => f.change)].filter(
    (c) => !planned.has(changeKey(c)),
  )
}

/** Targets that must not sync at once: one workspace, or one Konnect control plane. */
const workspaceKey = (p: TargetPlan) =>
  p.controlPlane !== undefined ? `konnect:${p.controlPlane}` : p.workspace === 'default' ? '' : p.workspace

async function runDeck(mode: 'diff' | 'sync', target: StateTarget, options: ReconcileOptions) {
  const deck = target.controlPlane ? options.deck.forControlPlane(target.controlPlane) : options.deck
  const args = reconcileArgs(deck.deck.features, {
    mode,
    files: target.files,
    workspace: target.workspace || undefined,
    selectTags: target.selectTags,
    skipConsumers: options.skipConsumers,
    parallelism: options.parallelism,
  })
  const result = await deck.run(args, { online: true, timeoutMs: options.timeoutMs })
  return parseDeckJson(result.stdout, `gateway ${mode}`)
}

/**
 * Runs `work` over the items, at most `limit` at a time, never two items with the same key at once.
 * `work` must not throw for an expected failure; a thrown error stops the run and is rethrown.
 */
export async function runBounded<T>(
  items: readonly T[],
  limit: number,
  keyOf: (item: T) => string,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const pending = [...items]
  const busy = new Set<string>()
  const running = new Set<Promise<void>>()
  while (pending.length > 0 || running.size > 0) {
    let index: number
    while (running.size < limit && (index = pending.findIndex((item) => !busy.has(keyOf(item)))) >= 0) {
      const [item] = pending.splice(index, 1) as [T]
      const key = keyOf(item)
      busy.add(key)
      const task: Promise<void> = work(item).finally(() => {
        busy.delete(key)
        running.delete(task)
      })
      running.add(task)
    }
    await Promise.race(running)
  }
}
