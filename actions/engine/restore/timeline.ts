import { errorMessage } from '../errors.js'
import type { Table } from '../report.js'

/** One step of a recovery, timed from the start of the restore. */
export interface Phase {
  name: string
  status: 'ok' | 'failed'
  /** Seconds from the start of the restore to the start of this phase. */
  startedAt: number
  seconds: number
  detail?: string
}

/** One check of the restored gateway. */
export interface Check {
  name: string
  ok: boolean
  detail: string
}

const round = (ms: number) => Math.round(ms / 100) / 10

/** The clock of one recovery: when it started, the phases it went through and the checks it made. */
export class Timeline {
  readonly started = performance.now()
  readonly phases: Phase[] = []
  readonly checks: Check[] = []

  /** Seconds since the start. */
  elapsed(): number {
    return round(performance.now() - this.started)
  }

  /**
   * Runs one phase and records it, as failed when it throws (the error goes on). `detail` describes
   * a successful result for the report.
   */
  async phase<T>(
    name: string,
    work: () => Promise<T>,
    detail?: (result: T) => string | undefined,
  ): Promise<T> {
    const begin = performance.now()
    const startedAt = round(begin - this.started)
    try {
      const result = await work()
      this.phases.push({
        name,
        status: 'ok',
        startedAt,
        seconds: round(performance.now() - begin),
        detail: detail?.(result),
      })
      return result
    } catch (err) {
      this.phases.push({
        name,
        status: 'failed',
        startedAt,
        seconds: round(performance.now() - begin),
        detail: errorMessage(err),
      })
      throw err
    }
  }

  check(name: string, ok: boolean, detail: string): void {
    this.checks.push({ name, ok, detail })
  }
}

/** The phases (when each started, how long it took, its result) and the checks, as report tables. */
export function timelineTables(caption: string, phases: readonly Phase[], checks: readonly Check[]): Table[] {
  const tables: Table[] = [
    {
      caption,
      header: ['phase', 'started at', 'took', 'result'],
      rows: phases.map((p) => [
        p.name,
        `${p.startedAt} s`,
        `${p.seconds} s`,
        `${p.status}${p.detail ? `: ${p.detail}` : ''}`,
      ]),
    },
  ]
  if (checks.length > 0) {
    tables.push({
      caption: 'Checks',
      header: ['check', 'result', 'detail'],
      rows: checks.map((c) => [c.name, c.ok ? 'passed' : 'FAILED', c.detail]),
    })
  }
  return tables
}
