import { join } from 'node:path'

import { append } from '../arrays.js'
import { privateTempDir, writeFileAtomic } from '../fs-atomic.js'
import { emptyReport, type Report } from '../report.js'
import type { RestoreOutcome } from '../restore/restore.js'
import type { SmokeRequest } from '../restore/smoke.js'
import { timelineTables } from '../restore/timeline.js'
import type { JobContext, JobResult } from './context.js'
import type { Inputs } from './inputs.js'

/** What every gateway's restore ends with: the report file, the job summary and the outputs. */
export async function restoreResult(inputs: Inputs, outcome: RestoreOutcome): Promise<JobResult> {
  const reportFile = await writeReport(inputs.string('report-file'), outcome)
  return {
    ok: outcome.verified,
    report: describe(outcome, reportFile),
    outputs: {
      'strategy-used': outcome.strategyUsed ?? '',
      'rto-seconds': String(outcome.rtoSeconds),
      'entities-restored': String(outcome.entitiesRestored),
      verified: String(outcome.verified),
      report: reportFile,
    },
  }
}

/** Query values of smoke URLs often carry API keys. */
export function maskSmokeQueries(smoke: readonly SmokeRequest[], ctx: JobContext): void {
  for (const { url } of smoke)
    for (const value of new URL(url).searchParams.values()) if (value.length >= 3) ctx.secret(value)
}

async function writeReport(path: string | undefined, outcome: RestoreOutcome): Promise<string> {
  const file = path ?? join((await privateTempDir('deckhand-restore-')).path, 'restore-report.json')
  const document = { format: 'deckhand-restore/1', generatedAt: new Date().toISOString(), ...outcome }
  await writeFileAtomic(file, JSON.stringify(document, null, 2) + '\n')
  return file
}

/** The job summary: the verdict and RTO first, then the phases, checks and what was (not) restored. */
function describe(outcome: RestoreOutcome, reportFile: string): Report {
  const report = emptyReport('deckhand restore')
  const gateway =
    outcome.gateway?.edition === 'tyk'
      ? `Tyk ${outcome.gateway.version} at ${outcome.gateway.nodes.join(', ')}`
      : outcome.gateway?.edition === 'konnect'
        ? `Konnect control plane(s) ${outcome.gateway.nodes.join(', ')}`
        : outcome.gateway
          ? `Kong ${outcome.gateway.version} (${outcome.gateway.edition}, ${outcome.gateway.database === 'off' ? 'DB-less' : outcome.gateway.database}) at ${outcome.gateway.nodes.join(', ')}`
          : 'the gateway'
  if (outcome.error) {
    report.lines.push(`Restore of ${gateway} failed after ${outcome.rtoSeconds} s: ${outcome.error.message}`)
    report.annotations.push({ level: 'error', title: 'deckhand restore', message: outcome.error.message })
    for (const detail of outcome.error.details.slice(0, 10))
      report.annotations.push({ level: 'error', title: 'deckhand restore', message: detail })
  } else if (outcome.verified) {
    report.lines.push(
      `Restored ${gateway} with the ${outcome.strategyUsed} strategy and verified it: RTO ${outcome.rtoSeconds} s, ${outcome.entitiesRestored} entities restored.`,
    )
  } else {
    const failed = outcome.checks.filter((c) => !c.ok)
    report.lines.push(
      `Restored ${gateway} with the ${outcome.strategyUsed} strategy, but ${failed.length} check(s) failed: not verified (${outcome.rtoSeconds} s).`,
    )
    for (const check of failed)
      report.annotations.push({
        level: 'error',
        title: `deckhand restore: ${check.name}`,
        message: check.detail,
      })
  }
  if (outcome.secretBundle) report.lines.push(outcome.secretBundle)
  if (outcome.fallback)
    report.lines.push(
      `The database restore failed, so the declarative state was restored: ${outcome.fallback}`,
    )
  append(
    report.lines,
    outcome.restored.map((r) => `Restored: ${r}`),
  )
  for (const item of outcome.notRestored) {
    report.lines.push(`Not restored: ${item}`)
    report.annotations.push({ level: 'warning', title: 'deckhand restore: not restored', message: item })
  }
  for (const warning of outcome.warnings)
    report.annotations.push({ level: 'warning', title: 'deckhand restore', message: warning })
  append(
    report.tables,
    timelineTables(`Recovery timeline (RTO ${outcome.rtoSeconds} s)`, outcome.phases, outcome.checks),
  )
  report.lines.push(`Report: ${reportFile}`)
  return report
}
