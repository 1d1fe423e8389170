import type { Report } from '../report.js'
import type { Redaction } from '../state/redact.js'
import { REDACTION_RULES, type RedactionRule } from './rules.js'

/** Most redactions listed one by one in a report; the counts cover all of them. */
const MAX_LISTED = 200

const RULE_TEXT: Record<RedactionRule, string> = {
  schema: "the gateway's schema",
  catalogue: "Kong's schemas (bundled)",
  configured: 'secret-fields input',
  name: 'credential name',
  detector: 'value detector',
}

/** How many values each rule redacted, every rule present (zeros too), for the job's outputs. */
export function countByRule(redactions: readonly Redaction[]): Record<RedactionRule, number> {
  const counts = Object.fromEntries(REDACTION_RULES.map((r) => [r, 0])) as Record<RedactionRule, number>
  for (const r of redactions) counts[r.rule]++
  return counts
}

/**
 * What was redacted, by which rule: counts, then each location with its variable and rule (never a
 * value), folded; and why a schema could not be read from the gateway, where one could not.
 */
export function addRedactionReport(
  report: Report,
  redactions: readonly Redaction[],
  schemaProblems: readonly string[],
): void {
  addSchemaProblems(report, schemaProblems)
  if (redactions.length === 0) return
  const counts = countByRule(redactions)
  report.tables.push({
    caption: 'Secrets redacted, by rule',
    header: ['rule', 'values'],
    rows: REDACTION_RULES.filter((r) => counts[r] > 0).map((r) => [RULE_TEXT[r], String(counts[r])]),
  })
  const listed = redactions.slice(0, MAX_LISTED)
  report.tables.push({
    caption:
      `Redacted values (${redactions.length})` +
      (redactions.length > listed.length ? `, the first ${listed.length}` : ''),
    header: ['where', 'variable', 'rule'],
    rows: listed.map((r) => [r.location, r.name, RULE_TEXT[r.rule]]),
    collapsed: true,
  })
}

/** Says which schemas could not be read from the gateway, and what decided in their place. */
export function addSchemaProblems(report: Report, problems: readonly string[]): void {
  if (problems.length === 0) return
  report.lines.push(
    `Schemas not read from the gateway (${problems.length}); Kong's bundled schemas, credential names and ` +
      `value detectors decided there: ${problems.slice(0, 5).join('; ')}` +
      (problems.length > 5 ? `; and ${problems.length - 5} more` : ''),
  )
}
