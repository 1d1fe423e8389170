/**
 * What a job tells its user, independent of where it runs: the GitHub adapter renders it as a job
 * summary and annotations, the CLI as plain text. Nothing in a report may hold a secret value.
 */
export interface Table {
  caption?: string
  header: string[]
  rows: string[][]
  /** A long table: shown folded under its caption where the medium allows (a <details> block on GitHub). */
  collapsed?: boolean
}

export interface Annotation {
  level: 'error' | 'warning' | 'notice'
  message: string
  title?: string
  file?: string
  line?: number
  column?: number
}

export interface Report {
  title: string
  /** Short lines shown first. */
  lines: string[]
  tables: Table[]
  /** Problems tied to a file and line, where known. */
  annotations: Annotation[]
}

export function emptyReport(title: string): Report {
  return { title, lines: [], tables: [], annotations: [] }
}

/**
 * A report on one part of the change under review (one workspace's plan), meant to be posted where
 * reviewers look, such as a pull request comment, and replaced on the next run: the same `key` stands
 * for the same post.
 */
export interface Review {
  key: string
  report: Report
}

/** Bytes for people: 512 B, 3.4 KiB, 12.0 MiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(1)} ${units[unit]}`
}
