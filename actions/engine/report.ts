/**
 * What a job tells its user, independent of where it runs: the GitHub adapter renders it as a job
 * summary and annotations, the CLI as plain text. Nothing in a report may hold a secret value.
 */
export interface Table {
  caption?: string
  header: string[]
  rows: string[][]
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
