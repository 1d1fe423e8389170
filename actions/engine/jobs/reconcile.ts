import { join } from 'node:path'

import { append } from '../arrays.js'
import { COMMANDS } from '../../spec.js'
import { writeFileAtomic, privateTempDir } from '../fs-atomic.js'
import type { Counts, TargetPlan } from '../plan/model.js'
import { capitalize, deckAnnotations, planReviews, planTable } from '../plan/report.js'
import { targetLabel, targetTitle } from '../plan/targets.js'
import { checkDeletes, describeCounts, type SyncResult, totalCounts } from '../reconcile.js'
import { checkOutputFile } from '../output-paths.js'
import type { Report } from '../report.js'
import type { JobContext, JobResult } from './context.js'
import { Inputs, type InputSource } from './inputs.js'
import { gatewayKind } from './gateway.js'
import { GATEWAYS } from './gateways.js'

type Mode = 'diff' | 'sync'

/** Everything diff and sync share: inputs, local checks, then the gateway's plan and how to carry it out. */
async function plan(mode: Mode, source: InputSource, ctx: JobContext) {
  const inputs = new Inputs(COMMANDS[mode]!.inputs, source)
  // The plan is written after the sync: a place it cannot go must fail the step before anything is sent.
  const planFile = inputs.string('plan-file')
  if (planFile !== undefined) await checkOutputFile('plan-file', planFile, 'plan.json')
  const kind = gatewayKind(inputs)
  return { inputs, ...(await GATEWAYS[kind].plan(mode, inputs, ctx)) }
}

export async function diffJob(source: InputSource, ctx: JobContext): Promise<JobResult> {
  const planned = await plan('diff', source, ctx)
  if (planned.failed) return { ok: false, report: planned.report, outputs: {} }
  const { inputs, report, plans, gateway } = planned
  const counts = totalCounts(plans)
  const planErrors = plans.some((p) => p.errors.length > 0)
  report.lines.push(headline(counts, plans, gateway, planned.scope))
  if (planned.bundleLine) report.lines.push(planned.bundleLine)
  if (planErrors) append(report.lines, planErrorLines(plans, 'the plan cannot be relied on.'))
  addPlanTables(report, plans)
  append(report.annotations, deckAnnotations(plans, 'diff'))
  const planFile = await writePlan(inputs.string('plan-file'), {
    command: 'diff',
    gateway,
    ...planned.tool,
    counts,
    targets: plans,
  })
  return {
    ok: !planErrors,
    report,
    outputs: planOutputs(counts, planFile),
    reviews: planReviews(plans, { command: 'diff', gateway }),
  }
}

export async function syncJob(source: InputSource, ctx: JobContext): Promise<JobResult> {
  const planned = await plan('sync', source, ctx)
  if (planned.failed) return { ok: false, report: planned.report, outputs: { applied: 'false' } }
  const { inputs, report, plans, gateway } = planned
  const counts = totalCounts(plans)
  const guard = {
    maxDeletes: inputs.count('max-deletes') ?? 0,
    allowDeletes: inputs.boolean('allow-deletes'),
  }
  const dryRun = inputs.boolean('dry-run')
  const deletes = checkDeletes(plans, guard)
  const planErrors = plans.some((p) => p.errors.length > 0)
  append(report.annotations, deckAnnotations(plans, 'sync'))

  const record = {
    command: 'sync',
    gateway,
    ...planned.tool,
    counts,
    dryRun,
    guard: { ...guard, deletions: deletes.deletions.length, allowed: deletes.allowed },
  }
  const finish = async (ok: boolean, results?: Map<TargetPlan, SyncResult>) => {
    if (planned.bundleLine) report.lines.push(planned.bundleLine)
    const targets = plans.map((p) => ({ ...p, result: results?.get(p) }))
    const planFile = await writePlan(inputs.string('plan-file'), { ...record, targets })
    const applied = [...(results?.values() ?? [])].some(
      (r) => r.status === 'synced' && r.outcome.applied.length > 0,
    )
    return {
      ok,
      report,
      outputs: { ...planOutputs(counts, planFile), applied: String(applied) },
      reviews: planReviews(plans, { command: 'sync', gateway, results, dryRun }),
    }
  }

  if (planErrors) {
    append(report.lines, planErrorLines(plans, 'nothing was sent to the gateway.'))
    addPlanTables(report, plans)
    return finish(false)
  }
  if (!deletes.allowed) {
    const names = deletes.deletions.map((d) => `${d.change.kind} ${d.change.name} (${targetLabel(d.target)})`)
    report.lines.push(
      `Refused: the plan deletes ${deletes.deletions.length} entit${deletes.deletions.length === 1 ? 'y' : 'ies'}, ` +
        `more than max-deletes (${guard.maxDeletes}). Nothing was sent to the gateway.`,
      `If these deletions are intended, raise max-deletes to ${deletes.deletions.length} or set allow-deletes: true.`,
    )
    report.tables.push({
      caption: 'Entities the sync would delete',
      header: [
        plans.some((p) => p.label)
          ? 'target'
          : plans.some((p) => p.controlPlane)
            ? 'control plane'
            : 'workspace',
        'kind',
        'name',
      ],
      rows: deletes.deletions.map((d) => [targetLabel(d.target), d.change.kind, d.change.name]),
      collapsed: deletes.deletions.length > 25,
    })
    report.annotations.push({
      level: 'error',
      title: 'deckhand sync: too many deletions',
      message: `The plan deletes ${deletes.deletions.length} (max-deletes ${guard.maxDeletes}): ${shortList(names)}`,
    })
    addPlanTables(report, plans)
    return finish(false)
  }
  if (dryRun) {
    report.lines.push(
      `Dry run: ${headline(counts, plans, gateway, planned.scope)} Nothing was sent to the gateway.`,
    )
    addPlanTables(report, plans, { dryRun: true })
    return finish(true)
  }
  if (counts.total === 0) {
    report.lines.push(headline(counts, plans, gateway, planned.scope))
    return finish(true)
  }

  const results = await planned.sync()
  const ok = describeSync(report, plans, results, gateway)
  addPlanTables(report, plans, { results })
  return finish(ok, results)
}

/** Adds the outcome of a sync to the report; false when anything failed or went past the plan. */
function describeSync(
  report: Report,
  plans: readonly TargetPlan[],
  results: Map<TargetPlan, SyncResult>,
  gateway: string,
): boolean {
  let applied = 0
  let ok = true
  const lines: string[] = []
  for (const plan of plans) {
    const result = results.get(plan)!
    const label = targetLabel(plan)
    const title = capitalize(targetTitle(plan))
    if (result.status === 'error') {
      ok = false
      lines.push(`${title}: deck failed, nothing reported as applied: ${result.message}`)
      report.annotations.push({ level: 'error', title: `deckhand sync: ${label}`, message: result.message })
    } else if (result.status === 'not-started') {
      if (plan.counts.total > 0) lines.push(`${title}: not started after an earlier failure.`)
    } else if (result.status === 'synced') {
      const o = result.outcome
      applied += o.applied.length
      if (o.failed.length > 0 || o.otherErrors.length > 0) {
        ok = false
        lines.push(
          `${title}: ${o.failed.length + o.otherErrors.length} failed, ${o.dropped.length} dropped ` +
            `(never sent), ${o.notAttempted.length} not attempted, ${o.applied.length} applied. ` +
            'The gateway is partly synced: fix the cause and sync again.',
        )
        // go-kong's retrying client waits out each 429 as Retry-After asks, 10 times; then the change fails.
        if (plan.controlPlane && o.failed.some((f) => /giving up after \d+ attempt|\b429\b/.test(f.error)))
          lines.push(
            `${title}: Konnect's rate limit outlasted deck's retries (each change is tried 11 times, waiting as Konnect asks). ` +
              'Sync again later, when the rest is applied; a lower parallelism sends fewer requests at once.',
          )
        for (const f of o.failed) {
          report.annotations.push({
            level: 'error',
            title: `deckhand sync: ${f.change.action} ${f.change.kind} ${f.change.name} failed`,
            message: f.error,
          })
        }
        for (const e of o.otherErrors) {
          report.annotations.push({ level: 'error', title: `deckhand sync: ${label}`, message: e })
        }
        if (o.dropped.length > 0) {
          report.annotations.push({
            level: 'warning',
            title: `deckhand sync: ${label}: ${o.dropped.length} change(s) dropped`,
            message: `Never sent after the failure: ${shortList(o.dropped.map((c) => `${c.action} ${c.kind} ${c.name}`))}`,
          })
        }
      }
      if (o.notAttempted.length > 0) {
        // deck stops silently on events it had taken or not yet generated when a failure stopped it.
        const what = shortList(o.notAttempted.map((c) => `${c.action} ${c.kind} ${c.name}`))
        report.annotations.push({
          level: 'warning',
          title: `deckhand sync: ${label}: ${o.notAttempted.length} planned change(s) not attempted`,
          message:
            o.failed.length + o.otherErrors.length > 0
              ? `deck stopped at the failure and reported nothing of these; they are not counted as applied (a diff shows what is left): ${what}`
              : `deck did not report these planned changes (the gateway changed between plan and sync, or deck lost them from its output): ${what}`,
        })
      }
      const unplannedDeletes = result.unplanned.filter((c) => c.action === 'delete')
      if (unplannedDeletes.length > 0) {
        ok = false
        const message =
          `deck deleted ${unplannedDeletes.length} entit${unplannedDeletes.length === 1 ? 'y' : 'ies'} the plan did not show ` +
          `(the gateway changed between plan and sync): ${shortList(unplannedDeletes.map((c) => `${c.kind} ${c.name}`))}`
        lines.push(`${title}: ${message}`)
        report.annotations.push({ level: 'error', title: `deckhand sync: ${label}`, message })
      } else if (result.unplanned.length > 0) {
        report.annotations.push({
          level: 'warning',
          title: `deckhand sync: ${label}`,
          message: `The sync made ${result.unplanned.length} change(s) its plan did not show: the gateway changed between plan and sync.`,
        })
      }
    }
  }
  report.lines.unshift(
    ok
      ? `Applied ${applied} change(s) to ${gateway}: ${describeCounts(totalCounts(plans))}.`
      : `Sync failed: ${applied} change(s) applied to ${gateway}, see below for what failed.`,
  )
  append(report.lines, lines)
  return ok
}

/** What went wrong while planning, target by target: deck's errors, or what deckhand found for Tyk. */
function planErrorLines(plans: readonly TargetPlan[], consequence: string): string[] {
  const lines = [`Planning found errors: ${consequence}`]
  for (const plan of plans) {
    const by = plan.label ? '' : 'deck: '
    for (const error of plan.errors) lines.push(`${capitalize(targetTitle(plan))}: ${by}${error}`)
  }
  return lines
}

/** `scope` names what was planned when it is not Kong's workspaces. */
function headline(counts: Counts, plans: readonly TargetPlan[], gateway: string, scope?: string): string {
  const workspaces = new Set(plans.map((p) => p.workspace || 'default')).size
  const tagSets = plans.length > workspaces ? `, ${plans.length} tag sets` : ''
  const where = scope ?? `${workspaces} workspace${workspaces === 1 ? '' : 's'}${tagSets}`
  return counts.total === 0
    ? `No changes: ${gateway} matches the state files (${where}).`
    : `Plan for ${gateway}: ${describeCounts(counts)} in ${where}.`
}

function addPlanTables(
  report: Report,
  plans: readonly TargetPlan[],
  options: { results?: Map<TargetPlan, SyncResult>; dryRun?: boolean } = {},
): void {
  const unchanged = plans.filter((p) => p.changes.length === 0).map((p) => targetLabel(p))
  for (const p of plans) {
    if (p.changes.length === 0) continue
    const withResult = options.results !== undefined || options.dryRun === true
    report.tables.push(planTable(p, { result: options.results?.get(p), dryRun: options.dryRun, withResult }))
  }
  if (unchanged.length > 0 && unchanged.length < plans.length) {
    report.lines.push(`Unchanged: ${unchanged.join(', ')}.`)
  }
}

function planOutputs(counts: Counts, planFile: string): Record<string, string> {
  return {
    creating: String(counts.creating),
    updating: String(counts.updating),
    deleting: String(counts.deleting),
    total: String(counts.total),
    'has-changes': String(counts.total > 0),
    plan: planFile,
  }
}

/** The first few items and how many more: annotation messages stay readable. */
function shortList(items: readonly string[], max = 10): string {
  const shown = items.slice(0, max).join(', ')
  return items.length > max ? `${shown} and ${items.length - max} more` : shown
}

/** Writes the plan as JSON (atomically) where asked, or into a new private temporary directory. */
async function writePlan(path: string | undefined, plan: Record<string, unknown>): Promise<string> {
  const file = path ?? join((await privateTempDir('deckhand-plan-')).path, 'plan.json')
  const document = { format: 'deckhand-plan/1', generatedAt: new Date().toISOString(), ...plan }
  await writeFileAtomic(file, JSON.stringify(document, null, 2) + '\n')
  return file
}
