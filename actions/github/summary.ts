import type { Annotation, Report } from '../engine/report.js'

/** GitHub drops annotations past 10 per type in a step; the rest go into the summary. */
export const ANNOTATIONS_PER_TYPE = 10
/** A step summary over 1 MiB is not uploaded at all. */
export const SUMMARY_LIMIT_BYTES = 1024 * 1024 - 4096

/** `core.summary` does no escaping: everything user-controlled goes through this. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '&#124;')
}

/** Renders a report as the Markdown/HTML of a job summary, truncated with a note to fit the limit. */
export function renderSummary(report: Report): string {
  const parts: string[] = [`## ${escapeHtml(report.title)}\n`]
  for (const line of report.lines) parts.push(`${escapeHtml(line)}\n`)
  for (const table of report.tables) {
    const head = table.header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')
    const rows = table.rows
      .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
      .join('\n')
    const caption = table.caption ? `<caption>${escapeHtml(table.caption)}</caption>` : ''
    parts.push(`\n<table>${caption}<thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>\n`)
  }
  let text = parts.join('\n')
  if (Buffer.byteLength(text) > SUMMARY_LIMIT_BYTES) {
    const note =
      '\n\n_Summary truncated to fit the 1 MiB step summary limit; the full list is in the step log._\n'
    text =
      Buffer.from(text)
        .subarray(0, SUMMARY_LIMIT_BYTES - note.length)
        .toString('utf8')
        .replace(/\uFFFD$/, '') + note
  }
  return text
}

/** The annotations to emit (the first 10 of each level) and how many were held back. */
export function selectAnnotations(annotations: readonly Annotation[]): { emit: Annotation[]; held: number } {
  const perLevel = new Map<string, number>()
  const emit: Annotation[] = []
  for (const a of annotations) {
    const n = perLevel.get(a.level) ?? 0
    if (n < ANNOTATIONS_PER_TYPE) emit.push(a)
    perLevel.set(a.level, n + 1)
  }
  return { emit, held: annotations.length - emit.length }
}
