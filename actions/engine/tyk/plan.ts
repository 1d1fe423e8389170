import { changedPaths, fieldChanges } from '../plan/fields.js'
import type { Action, Counts, PlannedChange, TargetPlan } from '../plan/model.js'
import { scrub } from '../scrub.js'
import type { JsonObject } from '../state/entities.js'
import {
  dashboardViews,
  displayName,
  normalize,
  objectKey,
  sortObjects,
  TYK_KIND,
  type TykObject,
  withoutZeroFill,
} from './objects.js'
import { keepReferences, maskTykBody } from './redact.js'

/**
 * The plan that makes a Tyk gateway hold what the files hold: each API and policy created, updated or
 * deleted, compared after normalization (so stamps, fields filled with Go's zero values and key order
 * never make a change), with every secret masked. The steps keep the real bodies for the sync; only the plan is ever shown or written.
 */

export interface TykStep {
  action: Action
  change: PlannedChange
  /** What goes to the gateway: the desired object (create, update) or the current one (delete). */
  object: TykObject
  /** For an update, what the gateway held when planned. */
  current?: TykObject
}

export interface TykPlan {
  plan: TargetPlan
  steps: TykStep[]
  /** Every secret value seen in either side, for scrubbing free text (the gateway's error messages). */
  secrets: string[]
}

export interface TykPlanOptions {
  /** The target is a Tyk Dashboard (through tyk-sync): compared with {@link dashboardViews}. */
  dashboard?: boolean
}

export function planTyk(
  desired: readonly TykObject[],
  current: readonly TykObject[],
  files: readonly string[],
  options: TykPlanOptions = {},
): TykPlan {
  const want = new Map(sortObjects(desired.map(normalize)).map((o) => [objectKey(o), o]))
  const have = new Map(sortObjects(current.map(normalize)).map((o) => [objectKey(o), o]))
  const found = new Set<string>()
  const steps: TykStep[] = []
  const step = (
    action: Action,
    object: TykObject,
    update?: { before: JsonObject; after: JsonObject; paths: string[][]; current: TykObject },
  ) => {
    const change: PlannedChange = { action, kind: TYK_KIND[object.format], name: displayName(object) }
    const shownOld = update ? masked(update.before, found) : undefined
    const shownNew = action === 'delete' ? undefined : masked(update?.after ?? object.body, found)
    if (update) {
      change.fields = fieldChanges(update.paths, shownOld, shownNew)
      change.fieldCount = update.paths.length
    }
    if (action === 'delete') change.old = masked(object.body, found)
    else if (shownOld) change.old = shownOld
    if (shownNew) change.new = shownNew
    steps.push({ action, change, object, ...(update ? { current: update.current } : {}) })
  }
  for (const [key, object] of want) {
    const before = have.get(key)
    if (!before) step('create', object)
    else if (before.format !== object.format) {
      // An API moving between classic and OAS cannot be updated in place: it is replaced.
      step('delete', before)
      step('create', object)
    } else {
      const [viewed, now] = options.dashboard ? dashboardViews(before, object) : [before.body, object.body]
      // A reference in the file is what the gateway resolved into the value it answers with: the same.
      const held = structuredClone(viewed)
      keepReferences(held, now)
      // Either way round: a file may spell out a zero value the gateway leaves out (Go's omitempty).
      const old = withoutZeroFill(held, now)
      const next = withoutZeroFill(now, held)
      const paths = changedPaths(old, next)
      if (paths.length > 0) step('update', object, { before: old, after: next, paths, current: before })
    }
  }
  for (const [key, object] of have) if (!want.has(key)) step('delete', object)

  const order: Record<Action, number> = { create: 0, update: 1, delete: 2 }
  steps.sort((a, b) => order[a.action] - order[b.action])
  const counts: Counts = { creating: 0, updating: 0, deleting: 0, total: steps.length }
  for (const s of steps)
    counts[s.action === 'create' ? 'creating' : s.action === 'update' ? 'updating' : 'deleting']++
  return {
    plan: {
      workspace: '',
      selectTags: [],
      files: [...files],
      counts,
      changes: steps.map((s) => s.change),
      warnings: [],
      errors: options.dashboard ? lastPolicyProblem(want.values(), steps) : [],
    },
    steps,
    secrets: [...found].filter((value) => value.length >= 6),
  }
}

/**
 * tyk-sync sync leaves policies alone when the folder has none, so a plan that deletes the last ones
 * cannot be carried out by it: a planning error, which fails diff and stops sync before anything is sent.
 */
export function lastPolicyProblem(desired: Iterable<TykObject>, steps: readonly TykStep[]): string[] {
  const deleting = steps.filter((s) => s.action === 'delete' && s.object.format === 'policy')
  if (deleting.length === 0 || [...desired].some((o) => o.format === 'policy')) return []
  return [
    `the files hold no policy, and tyk-sync sync never deletes a Dashboard's last policies: ` +
      `${deleting.map((s) => s.change.name).join(', ')} would stay. Delete them in the Dashboard, ` +
      'or keep at least one policy in the files.',
  ]
}

function masked(body: JsonObject, found: Set<string>): JsonObject {
  const copy = structuredClone(body)
  maskTykBody(copy, found)
  return copy
}

/** Free text with every secret of the plan replaced. */
export function scrubPlan(text: string, plan: TykPlan, known: readonly string[]): string {
  return scrub(
    text,
    [...plan.secrets, ...known].sort((a, b) => b.length - a.length),
  )
}
