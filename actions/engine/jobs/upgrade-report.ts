import { append } from '../arrays.js'
import { emptyReport, type Report } from '../report.js'
import { timelineTables } from '../restore/timeline.js'
import { type KongConfChanges, kongConfReport } from '../upgrade/kong-conf.js'
import type { UpgradeOutcome } from '../upgrade/upgrade.js'

/** The kong.conf changes of an upgrade, with the file they were read from. */
export interface KongConfResult {
  file: string
  changes: KongConfChanges
}

const TITLE = 'deckhand upgrade'

/**
 * The job summary of an upgrade: the verdict first, then the phases with their seconds, the checks, each
 * file's conversion hop by hop, the freeze, the kong.conf changes, and what to do next or to go back.
 */
export function describeUpgrade(
  outcome: UpgradeOutcome,
  reportFile: string,
  conf: KongConfResult | undefined,
  kongConfFile: string | undefined,
): Report {
  const report = emptyReport(TITLE)
  const lines =
    outcome.from && outcome.to ? `Kong ${outcome.from} to ${outcome.to}` : 'Kong to a later LTS line'
  const what = `${outcome.mode} upgrade from ${lines}`
  if (outcome.error) {
    report.lines.push(
      outcome.rolledBack
        ? `The ${what} failed after ${outcome.seconds} s and X was rolled back: ${outcome.error.message}`
        : `The ${what} failed after ${outcome.seconds} s: ${outcome.error.message}`,
    )
    report.annotations.push({ level: 'error', title: TITLE, message: outcome.error.message })
    for (const detail of outcome.error.details.slice(0, 10))
      report.annotations.push({ level: 'error', title: TITLE, message: detail })
  } else if (outcome.verified) {
    report.lines.push(`The ${what} is done and verified in ${outcome.seconds} s.`)
  } else {
    const failed = outcome.checks.filter((c) => !c.ok)
    report.lines.push(
      `The ${what} ran, but ${failed.length} check(s) failed: not verified (${outcome.seconds} s).`,
    )
    for (const check of failed)
      report.annotations.push({ level: 'error', title: `${TITLE}: ${check.name}`, message: check.detail })
  }
  if (outcome.freeze) {
    report.lines.push(
      outcome.freeze.unchanged
        ? "Freeze: X's configuration is what it was when recorded; nobody wrote to its Admin API meanwhile."
        : `Freeze broken: ${outcome.freeze.changes.length} change(s) to X since it was recorded: ${outcome.freeze.changes.slice(0, 5).join('; ')}`,
    )
  }
  if (outcome.stateBackup) {
    const b = outcome.stateBackup
    report.lines.push(
      `X's configuration backed up redacted: ${b.files} file(s) in ${b.folder}, ${b.secretsRedacted} secret(s) ` +
        `encrypted into ${b.bundle ?? 'no bundle (none to keep)'}.`,
    )
  }
  if (outcome.keyringExport)
    report.lines.push(`X's keyring exported to ${outcome.keyringExport} (restore's keyring-export).`)
  if (outcome.filesBackup) {
    const f = outcome.filesBackup
    report.lines.push(
      `X's files backed up: ${f.files} file(s) in ${f.archive}; checksums in ${f.manifest}` +
        (f.secretsExcluded.length > 0
          ? `; ${f.secretsExcluded.length} private key/certificate file(s) left out.`
          : '.'),
    )
  }
  if (outcome.databaseBackup) {
    const b = outcome.databaseBackup
    report.lines.push(`X's database backed up: ${b.tables} tables, ${b.rows} rows in ${b.folder}.`)
  }
  if (outcome.rehearsal) {
    const r = outcome.rehearsal
    report.lines.push(
      `Rollback rehearsed into ${r.database}: ${r.tables} tables, ${r.rows} rows ${r.verified ? 'match the backup' : 'DIFFER from the backup'}.`,
    )
  }
  if (outcome.rollbackReason) report.lines.push(`Rolled back because: ${outcome.rollbackReason}`)
  for (const warning of outcome.warnings)
    report.annotations.push({ level: 'warning', title: TITLE, message: warning })

  append(report.tables, timelineTables(`Phases (${outcome.seconds} s)`, outcome.phases, outcome.checks))
  const hops = outcome.conversions.flatMap((c) => c.hops.map((h) => ({ file: c.input, hop: h })))
  if (hops.length > 0) {
    report.tables.push({
      caption: 'Conversion (deck file convert, one LTS hop at a time)',
      header: ['file', 'hop', 'entities changed', 'deck says'],
      rows: hops.map(({ file, hop }) => [
        file,
        `${hop.from} → ${hop.to}`,
        hop.drift.entities.length === 0
          ? 'none'
          : hop.drift.entities
              .slice(0, 10)
              .map((e) => `${e.action} ${e.name}`)
              .join('; '),
        hop.warnings.length === 0 ? '' : hop.warnings.slice(0, 5).join(' '),
      ]),
    })
  }
  if (conf) {
    const changes = kongConfReport(conf.changes)
    report.lines.push(`${changes.title} (${conf.file}): ${changes.lines.join(' ')}`)
    for (const table of changes.tables)
      report.tables.push({ ...table, caption: `kong.conf: ${table.caption}` })
    append(report.annotations, changes.annotations)
  } else if (kongConfFile !== undefined) {
    report.lines.push(
      `${kongConfFile} was not compared: the upgrade stopped before both clusters' lines were known.`,
    )
  }
  if (outcome.next.length > 0)
    report.tables.push({ caption: 'Next steps', header: ['step'], rows: outcome.next.map((n) => [n]) })
  if (outcome.rollback.length > 0)
    report.tables.push({ caption: 'Rollback', header: ['how'], rows: outcome.rollback.map((r) => [r]) })
  if (outcome.folder) report.lines.push(`Files of this upgrade: ${outcome.folder}`)
  report.lines.push(`Report: ${reportFile}`)
  return report
}
