import { append } from '../arrays.js'
import type { Report } from '../report.js'
import type { Problem } from '../state/files.js'

/** Problems found in state files as a report table and annotations (at most one per problem). */
export function addProblems(report: Report, problems: readonly Problem[], command: string): void {
  report.tables.push({
    caption: 'Problems',
    header: ['file', 'line', 'check', 'problem'],
    rows: problems.map((p) => [p.file ?? '', p.line === undefined ? '' : String(p.line), p.check, p.message]),
  })
  append(
    report.annotations,
    problems.map((p) => ({
      level: 'error' as const,
      title: `deckhand ${command}: ${p.check}`,
      message: p.message,
      file: p.file,
      line: p.line,
      column: p.column,
    })),
  )
}
