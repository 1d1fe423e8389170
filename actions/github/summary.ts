import type { Annotation, Report } from '../engine/report.js'

/** GitHub drops annotations past 10 per type in a step; the rest go into the summary. */
export const ANNOTATIONS_PER_TYPE = 10
/** A step summary over 1 MiB is not uploaded at all. */
export const SUMMARY_LIMIT_BYTES = 1024 * 1024 - 4096

/** `core.summary` does no escaping: everything user-controlled goes through this. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '&#124;')
}

export interface RenderOptions {
  /** Size the result must stay under, as `measure` counts. */
  limit: number
  /** How the medium counts: bytes for step summaries, characters for comments. */
  measure: (text: string) => number
  /** Said in place of what did not fit. */
  truncatedNote: string
}

const SUMMARY_OPTIONS: RenderOptions = {
  limit: SUMMARY_LIMIT_BYTES,
  measure: (text) => Buffer.byteLength(text),
  truncatedNote: 'Summary truncated to fit the 1 MiB step summary limit; the full list is in the step log.',
}

/** Room kept for the closing tags and the truncation note. */
const RESERVE = 512

/**
 * Renders a report as the Markdown/HTML of a job summary (or a comment): lines, then tables, long
 * ones folded in a `<details>` block. What does not fit the limit is cut at a row boundary, with a
 * count of what was left out and a note, so the result stays valid HTML.
 */
export function renderSummary(report: Report, options: RenderOptions = SUMMARY_OPTIONS): string {
  const budget = options.limit - RESERVE
  const out: string[] = []
  let used = 0
  let truncated = false
  const fits = (text: string, reserve = 0) => used + options.measure(text) + reserve <= budget
  const add = (text: string) => {
    out.push(text)
    used += options.measure(text)
  }

  add(`## ${escapeHtml(report.title)}\n\n`)
  for (const line of report.lines) {
    const text = `${escapeHtml(line)}\n\n`
    if (!fits(text)) {
      truncated = true
      break
    }
    add(text)
  }
  for (const table of truncated ? [] : report.tables) {
    const caption = table.caption ? escapeHtml(table.caption) : ''
    const head = table.header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')
    const open =
      (table.collapsed
        ? `<details><summary>${caption || 'Details'} (${table.rows.length} rows)</summary>\n\n<table>`
        : `<table>${caption ? `<caption>${caption}</caption>` : ''}`) +
      `<thead><tr>${head}</tr></thead><tbody>\n`
    const close = `</tbody></table>\n${table.collapsed ? '\n</details>\n' : ''}\n`
    if (!fits(open + close)) {
      truncated = true
      break
    }
    add(open)
    let shown = 0
    for (const row of table.rows) {
      const html = `<tr>${row.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>\n`
      if (!fits(html, options.measure(close))) break
      add(html)
      shown++
    }
    if (shown < table.rows.length) {
      truncated = true
      add(
        `<tr><td colspan="${table.header.length}"><em>… ${table.rows.length - shown} more row(s) not shown</em></td></tr>\n`,
      )
    }
    add(close)
    if (truncated) break
  }
  if (truncated) add(`\n_${escapeHtml(options.truncatedNote)}_\n`)
  return out.join('')
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
