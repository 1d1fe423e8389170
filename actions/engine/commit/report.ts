import { append } from '../arrays.js'
import type { Drift } from '../drift/compare.js'
import { describeDrift, driftTables } from '../drift/render.js'
import { emptyReport, type Report } from '../report.js'

/** The drift pull request's body: what differs from the base, by entity, and what to do with it. */
export function pullRequestBody(drift: Drift, paths: readonly string[], base: string): Report {
  const report = emptyReport('Gateway configuration drift')
  report.lines.push(
    `The gateway's configuration dumped into ${paths.map((p) => `\`${p}\``).join(', ')} differs from \`${base}\`: ` +
      `${describeDrift(drift.counts)}.`,
    'Every scheduled run replaces this branch with its latest dump. Merge to accept the drift into git; ' +
      'to undo it instead, sync the gateway from the files on the base branch.',
  )
  append(report.tables, driftTables(drift))
  return report
}
