import type { ChildProcessByStdio } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import type { Readable, Writable } from 'node:stream'

import { DeckhandError } from '../errors.js'
import { type PgTarget, explainPgError } from './connection.js'
import { psqlArgs } from './commands.js'
import { childEnv } from '../process.js'
import { killTree, spawnTracked } from '../shutdown.js'

/**
 * One psql process kept open for a conversation: statements go to its stdin, each followed by an
 * \echo of a unique marker, and the output up to the marker is the answer. A long-lived session is
 * what lets deckhand export a snapshot, dump from it with pg_dump --snapshot, and count the rows of
 * that same snapshot while the dump runs.
 */
export class PsqlSession {
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>
  private readonly marker = `__deckhand_${randomBytes(8).toString('hex')}__`
  private stdout = ''
  private stderr = ''
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined
  private waiter: (() => void) | undefined
  private queue: Promise<unknown> = Promise.resolve()

  private constructor(
    psql: string,
    env: Record<string, string | undefined>,
    private readonly target: PgTarget,
  ) {
    // The session talks to its target's database, whatever the shared environment names.
    const sessionEnv = childEnv(process.env, { ...env, PGDATABASE: target.database ?? env.PGDATABASE })
    this.child = spawnTracked(psql, psqlArgs(), {
      env: sessionEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    }) as ChildProcessByStdio<Writable, Readable, Readable>
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk
      this.waiter?.()
    })
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk
    })
    // A psql that died has nobody reading stdin; its error output says why.
    this.child.stdin.on('error', () => undefined)
    this.child.on('close', (code, signal) => {
      this.exited = { code, signal }
      this.waiter?.()
    })
    this.child.on('error', (err) => {
      this.stderr += String(err)
      this.exited = { code: 1, signal: null }
      this.waiter?.()
    })
  }

  /**
   * Starts psql and checks the connection with a first query, so that a wrong password or an
   * unreachable host is reported here, with an actionable message.
   */
  static async open(
    psql: string,
    env: Record<string, string | undefined>,
    target: PgTarget,
  ): Promise<PsqlSession> {
    const session = new PsqlSession(psql, env, target)
    // Fixed output settings: checksums of rows must not depend on the server's or the user's defaults.
    await session.query(
      "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 3; SET bytea_output = 'hex'",
    )
    return session
  }

  /** Runs SQL and returns its output lines (unaligned, tuples only). Statements run one after another. */
  query(sql: string): Promise<string[]> {
    const next = this.queue.then(() => this.exchange(sql))
    this.queue = next.catch(() => undefined)
    return next
  }

  /** Runs a query that returns one JSON value (json_agg, json_build_object) and parses it. */
  async json<T>(sql: string): Promise<T> {
    const lines = await this.query(sql)
    const text = lines.join('\n').trim()
    return (text === '' ? null : JSON.parse(text)) as T
  }

  private async exchange(sql: string): Promise<string[]> {
    if (this.exited) throw this.failure()
    this.stdout = ''
    this.child.stdin.write(`${sql.trim().replace(/;?$/, ';')}\n\\echo ${this.marker}\n`)
    for (;;) {
      const end = this.stdout.indexOf(`${this.marker}\n`)
      if (end >= 0) {
        const out = this.stdout.slice(0, end)
        this.stdout = this.stdout.slice(end + this.marker.length + 1)
        return out.split('\n').filter((line) => line !== '')
      }
      if (this.exited) throw this.failure()
      await new Promise<void>((resolve) => (this.waiter = resolve))
      this.waiter = undefined
    }
  }

  private failure(): DeckhandError {
    return new DeckhandError(explainPgError('psql', this.stderr, this.target))
  }

  /** Ends the session (and with it any open transaction and exported snapshot). */
  async close(): Promise<void> {
    if (this.exited) return
    this.child.stdin.end('\\q\n')
    await new Promise<void>((resolve) => {
      if (this.exited) return resolve()
      const timer = setTimeout(() => killTree(this.child), 5000)
      this.child.once('close', () => {
        clearTimeout(timer)
        resolve()
      })
    })
  }
}

/** A SQL string literal. */
export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`
}
