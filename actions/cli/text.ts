import { maxOf } from '../engine/arrays.js'
import type { Annotation, Report, Table } from '../engine/report.js'

/** Columns the CLI writes to: 100, or the terminal's width when stdout is one (at least 60). */
export function outputWidth(stream: NodeJS.WriteStream = process.stdout): number {
  return stream.isTTY && stream.columns ? Math.max(60, stream.columns) : 100
}

/**
 * `text` in lines of at most `width` characters, broken at spaces; a word longer than a line (a path, a
 * URL) is cut. Every line after the first starts with `indent` (which counts toward the width).
 */
export function wrap(text: string, width: number, indent = ''): string[] {
  const out: string[] = []
  for (const paragraph of text.split('\n')) {
    let line = out.length === 0 ? '' : indent
    let empty = true
    for (const word of paragraph.split(' ')) {
      let rest = word
      if (!empty && line.length + 1 + rest.length > width) {
        out.push(line.trimEnd())
        line = indent
        empty = true
      }
      while (line.length + (empty ? 0 : 1) + rest.length > width) {
        const room = Math.max(1, width - line.length - (empty ? 0 : 1))
        out.push(`${line}${empty ? '' : ' '}${rest.slice(0, room)}`)
        rest = rest.slice(room)
        line = indent
        empty = true
      }
      line += (empty ? '' : ' ') + rest
      empty = false
    }
    out.push(line.trimEnd())
  }
  return out
}

/** The narrowest a wrapped column may become before the table is shown as a list instead. */
const MIN_COLUMN = 10
const GAP = 2

/** Column widths that fit `width`, shrinking the widest columns first; undefined when none fit. */
function fitWidths(natural: number[], width: number): number[] | undefined {
  const widths = [...natural]
  const total = () => widths.reduce((a, b) => a + b, 0) + GAP * (widths.length - 1)
  while (total() > width) {
    const widest = maxOf(widths, 0)
    if (widest <= MIN_COLUMN) return undefined
    const i = widths.indexOf(widest)
    const second = maxOf(
      widths.filter((_, j) => j !== i),
      MIN_COLUMN,
    )
    widths[i] = Math.max(MIN_COLUMN, second, widest - (total() - width))
    if (widths[i] === widest) widths[i] = widest - 1
  }
  return widths
}

function renderTable(table: Table, width: number, out: string[]): void {
  out.push('')
  if (table.caption) for (const line of wrap(table.caption, width)) out.push(line)
  const natural = table.header.map((h, i) =>
    maxOf(
      table.rows.map((r) => (r[i] ?? '').length),
      h.length,
    ),
  )
  const widths = fitWidths(natural, width)
  if (!widths) {
    // Too many columns for the width: one block of `key: value` lines per row.
    const key = maxOf(
      table.header.map((h) => h.length),
      0,
    )
    table.rows.forEach((r, n) => {
      if (n > 0) out.push('')
      table.header.forEach((h, i) => {
        const cell = r[i] ?? ''
        if (cell === '') return
        for (const line of wrap(`${`${h}:`.padEnd(key + 1)} ${cell}`, width, ' '.repeat(key + 2)))
          out.push(line)
      })
    })
    return
  }
  const wrapped = natural.every((n, i) => n <= widths[i]!)
  const row = (cells: readonly string[]) => {
    if (wrapped)
      return [
        cells
          .map((c, i) => c.padEnd(widths[i]!))
          .join(' '.repeat(GAP))
          .trimEnd(),
      ]
    const columns = widths.map((w, i) => wrap(cells[i] ?? '', w))
    const height = maxOf(
      columns.map((c) => c.length),
      1,
    )
    const lines: string[] = []
    for (let l = 0; l < height; l++)
      lines.push(
        columns
          .map((c, i) => (c[l] ?? '').padEnd(widths[i]!))
          .join(' '.repeat(GAP))
          .trimEnd(),
      )
    return lines
  }
  for (const line of row(table.header)) out.push(line)
  out.push(row(widths.map((w) => '-'.repeat(w)))[0]!)
  for (const r of table.rows) for (const line of row(r)) out.push(line)
}

function annotationText(a: Annotation, command: string): string {
  // Titles lead with the command (`deckhand sync: create service a failed`) for GitHub's list; here the
  // command is the one just run.
  const title = a.title?.startsWith(`${command}: `) ? a.title.slice(command.length + 2) : a.title
  const where = a.file ? `${a.file}${a.line ? `:${a.line}` : ''}: ` : ''
  return `${a.level}: ${where}${title && title !== command ? `${title}: ` : ''}${a.message}`
}

/**
 * A cell whose long message a report line already says (`failed: <the error>` in a timeline after the error
 * itself) points at it instead of saying it twice.
 */
function pointAbove(cell: string, said: string): string {
  const colon = cell.indexOf(': ')
  const message = colon > 0 && colon < 20 ? cell.slice(colon + 2) : cell
  if (message.length < 40 || !said.includes(message)) return cell
  return colon > 0 && colon < 20 ? `${cell.slice(0, colon)} (above)` : '(above)'
}

/**
 * A report as plain text within `width` columns: long lines and table cells wrap, a table that cannot fit
 * becomes a list. An annotation saying what a line or a table row already says is left out: on GitHub
 * annotations are shown apart from the summary, here they would repeat it.
 */
export function renderText(report: Report, width = 100): string {
  const out: string[] = []
  for (const text of [report.title, ...report.lines]) for (const line of wrap(text, width)) out.push(line)
  const said = report.lines.join('\n')
  const shown = new Set<string>()
  for (const table of report.tables) {
    renderTable(
      { ...table, rows: table.rows.map((r) => r.map((cell) => pointAbove(cell, said))) },
      width,
      out,
    )
    for (const r of table.rows) for (const cell of r) if (cell.length > 0) shown.add(cell)
  }
  let first = true
  for (const a of report.annotations) {
    if (shown.has(a.message) || said.includes(a.message)) continue
    if (first && out.length > 1) out.push('')
    first = false
    for (const line of wrap(annotationText(a, report.title), width, '  ')) out.push(line)
  }
  return out.join('\n') + '\n'
}
