import { createHash } from 'node:crypto'

import type { Annotation, Report, Review, Table } from '../report.js'
import type { SyncResult } from '../reconcile.js'
import { describeCounts } from '../reconcile.js'
import type { FieldChange } from './fields.js'
import { changeKey, type PlannedChange, type TargetPlan } from './model.js'
import { targetLabel, targetTitle } from './targets.js'

/** Tables longer than this are folded in summaries and comments. */
const FOLD_ROWS = 25

const SYMBOL: Record<PlannedChange['action'], string> = {
  create: '+ create',
  update: '~ update',
  delete: '- delete',
}

/** What an update changes, in one cell: `retries: 5 → 3; config.key: changed (secret)`. */
export function describeFields(change: PlannedChange): string {
  if (change.action !== 'update' || !change.fields) return ''
  const parts = change.fields.map(describeField)
  const more = (change.fieldCount ?? parts.length) - parts.length
  if (more > 0) parts.push(`… and ${more} more`)
  return parts.join('; ')
}

function describeField(field: FieldChange): string {
  if (field.sensitive) return `${field.path}: changed (secret)`
  return `${field.path}: ${field.old ?? '(unset)'} → ${field.new ?? '(unset)'}`
}

/**
 * The result column of a sync: what became of each change, looked up by {@link changeKey} (a large sync
 * has tens of thousands of changes, so the outcome is indexed once, not searched per row).
 */
function resultColumn(result: SyncResult | undefined, dryRun: boolean): (change: PlannedChange) => string {
  if (dryRun) return () => 'not applied (dry run)'
  switch (result?.status) {
    case undefined:
    case 'unchanged':
      return () => ''
    case 'not-started':
      return () => 'not started'
    case 'error':
      return () => 'not applied (deck failed)'
    case 'synced': {
      const index = new Map<string, string>()
      // First word wins: failed over dropped over not attempted over applied.
      const mark = (c: PlannedChange, word: string) => {
        if (!index.has(changeKey(c))) index.set(changeKey(c), word)
      }
      for (const f of result.outcome.failed) mark(f.change, `failed: ${f.error}`)
      for (const c of result.outcome.dropped) mark(c, 'dropped')
      for (const c of result.outcome.notAttempted) mark(c, 'not attempted (deck reported nothing)')
      for (const c of result.outcome.applied) mark(c, 'applied')
      return (change) => index.get(changeKey(change)) ?? 'not applied'
    }
  }
}

/** One table per target with changes: action, kind, name, changed fields (and the result, for a sync). */
export function planTable(
  plan: TargetPlan,
  options: { result?: SyncResult; dryRun?: boolean; withResult?: boolean } = {},
): Table {
  const header = ['action', 'kind', 'name', 'changes']
  if (options.withResult) header.push('result')
  const result = options.withResult ? resultColumn(options.result, options.dryRun ?? false) : undefined
  const rows = plan.changes.map((c) => {
    const row = [SYMBOL[c.action], c.kind, c.name, describeFields(c)]
    if (result) row.push(result(c))
    return row
  })
  const files = plan.files.join(', ')
  return {
    caption: `${capitalize(targetTitle(plan))} (${files}): ${describeCounts(plan.counts)}`,
    header,
    rows,
    collapsed: rows.length > FOLD_ROWS,
  }
}

/** Warnings and planning errors of deck, as annotations. */
export function deckAnnotations(plans: readonly TargetPlan[], command: string): Annotation[] {
  return plans.flatMap((p) => [
    ...p.warnings.map((message) => ({
      level: 'warning' as const,
      title: `${p.label ? 'deckhand' : 'deck'} ${command}: ${targetLabel(p)}`,
      message,
    })),
    ...p.errors.map((message) => ({
      level: 'error' as const,
      title: `${p.label ? 'deckhand' : 'deck'} ${command}: ${targetLabel(p)}`,
      message,
    })),
  ])
}

/**
 * One review per target, for the pull request: its plan (and its sync result, if any) under a key
 * made of the gateway and the target, so each later run replaces the post about the same thing.
 */
export function planReviews(
  plans: readonly TargetPlan[],
  options: {
    command: 'diff' | 'sync'
    gateway: string
    results?: Map<TargetPlan, SyncResult>
    dryRun?: boolean
  },
): Review[] {
  const gateway = createHash('sha256').update(options.gateway).digest('hex').slice(0, 12)
  return plans.map((plan) => {
    const report: Report = {
      title: `deckhand ${options.command === 'diff' ? 'plan' : 'sync'}: ${targetTitle(plan)}`,
      lines: [
        plan.counts.total === 0
          ? `No changes: ${host(options.gateway)} matches ${plan.files.join(', ')}.`
          : `${capitalize(describeCounts(plan.counts))} on ${host(options.gateway)}.`,
      ],
      tables: [],
      annotations: [],
    }
    if (plan.changes.length > 0) {
      const result = options.results?.get(plan)
      report.tables.push(
        planTable(plan, { result, dryRun: options.dryRun, withResult: options.command === 'sync' }),
      )
    }
    const tool = plan.label ? '' : 'deck '
    for (const w of plan.warnings) report.lines.push(`${tool}warning: ${w}`)
    for (const e of plan.errors) report.lines.push(`${tool}error: ${e}`)
    return { key: `plan/${gateway}/${targetLabel(plan)}`, report }
  })
}

/** The Admin API's host and port: enough to tell gateways apart. */
export function host(addr: string): string {
  try {
    return new URL(addr).host
  } catch {
    return addr
  }
}

export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}
