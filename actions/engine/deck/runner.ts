import { access, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { stringify } from 'yaml'

import { DeckhandError } from '../errors.js'
import { privateTempDir } from '../fs-atomic.js'
import type { Logger } from '../log.js'
import { run, type RunResult } from '../process.js'
import { scrub } from '../scrub.js'
import { type GlobalArgs, globalArgs } from './commands.js'
import { connectionSecrets, type GatewayConnection, isKonnect } from './connection.js'
import type { DeckFeatures } from './version.js'

export interface DeckBinary {
  path: string
  features: DeckFeatures
}

export interface DeckRunOptions {
  /** Whether the command talks to Kong (then the connection is passed); offline commands get none. */
  online: boolean
  cwd?: string
  /** This run's deadline; default: the runner's. */
  timeoutMs?: number
}

/** How long one deck run may take when the job names no deck-timeout. */
export const DEFAULT_DECK_TIMEOUT_SECONDS = 1800

/**
 * deck ran past its deadline and was stopped, with every process it started (a hung Admin API, a proxy
 * that holds connections open). What it did before is unknown: a sync may have applied part of its changes.
 */
export class DeckTimeoutError extends DeckhandError {
  constructor(
    /** What was running, e.g. `deck gateway sync (workspace team-a)`. */
    readonly running: string,
    readonly timeoutSeconds: number,
    writes: boolean,
  ) {
    super(
      `${running} did not finish within ${timeoutSeconds} s and was stopped (deck and every process it started). ` +
        (writes
          ? 'It may have applied part of its changes: run diff to see what is left. '
          : 'Nothing it read was used. ') +
        `If it needs longer, raise deck-timeout (seconds, now ${timeoutSeconds}); if it should not, check that the Admin API answers.`,
    )
    this.name = 'DeckTimeoutError'
  }
}

/**
 * Runs deck with a connection. The admin token goes through DECK_KONG_ADMIN_TOKEN (deck >= 1.64) or,
 * for older releases, a Kong-Admin-Token header; headers go into a private (0600) deck config file,
 * because DECK_HEADERS splits values on white space and --headers would show them in the process list.
 */
export class DeckRunner {
  /** The deadline of each run: deck-timeout, or {@link DEFAULT_DECK_TIMEOUT_SECONDS}. */
  readonly timeoutMs: number
  /** Values of DECK_ variables the state files reference, from the secret bundle: for deck's environment only. */
  private variables: Record<string, string> = {}

  constructor(
    readonly deck: DeckBinary,
    private readonly connection: GatewayConnection | undefined,
    private readonly logger: Logger,
    options: { timeoutMs?: number } = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_DECK_TIMEOUT_SECONDS * 1000
  }

  /** The same deck and variables against one Konnect control plane. */
  forControlPlane(name: string): DeckRunner {
    if (!isKonnect(this.connection)) throw new Error('forControlPlane needs a Konnect connection')
    const runner = new DeckRunner(this.deck, { ...this.connection, controlPlane: name }, this.logger, {
      timeoutMs: this.timeoutMs,
    })
    runner.useVariables(this.variables)
    return runner
  }

  /** The Konnect control plane this runner targets, if it targets one. */
  get controlPlane(): string | undefined {
    return isKonnect(this.connection) ? this.connection.controlPlane : undefined
  }

  /**
   * Gives every later run these DECK_ variables (the secret bundle's values of the variables the state files
   * reference, that the environment does not set), in deck's own environment: never on its command line, in a
   * file, or in deckhand's environment, which other children inherit. They are scrubbed from deck's output.
   */
  useVariables(values: Readonly<Record<string, string>>): void {
    this.variables = { ...values }
  }

  async run(command: readonly string[], options: DeckRunOptions): Promise<RunResult> {
    const secrets = connectionSecrets(this.connection)
    // deck's messages may quote a value it read (a schema violation): its error output is scrubbed of them too.
    // Its JSON output is not: masking it is the plan's work, by structure, and text replaced in it could be a key.
    const quoted = [...secrets, ...scrubbable(Object.values(this.variables))]
    const temp = await privateTempDir('deckhand-deck-')
    try {
      // The connection's own variables come after: a bundle never names one (it is refused when read).
      const env: Record<string, string> = { ...this.variables }
      const global: GlobalArgs = {}
      const conn = options.online ? this.connection : undefined
      if (isKonnect(conn)) {
        env.DECK_KONNECT_TOKEN = conn.token
        global.konnectAddr = conn.konnectAddr
        global.konnectControlPlane = conn.controlPlane
      } else if (conn) {
        const headers = [...(conn.headers ?? [])]
        if (conn.adminToken) {
          if (this.deck.features.adminTokenEnv) env.DECK_KONG_ADMIN_TOKEN = conn.adminToken
          else headers.push(`Kong-Admin-Token:${conn.adminToken}`)
        }
        if (headers.length > 0) {
          global.configFile = join(temp.path, 'deck.yaml')
          await writeFile(global.configFile, stringify({ headers }), { mode: 0o600 })
        }
        global.kongAddr = conn.kongAddr
      }
      if (conn) {
        global.tlsSkipVerify = conn.tlsSkipVerify
        global.tlsServerName = conn.tlsServerName
        global.timeoutSeconds = conn.timeoutSeconds
        if (conn.caCert?.includes('-----BEGIN')) env.DECK_CA_CERT = conn.caCert
        else if (conn.caCert) {
          await access(conn.caCert).catch(() => {
            throw new DeckhandError(
              `ca-cert: "${conn.caCert}" is neither a PEM certificate nor a readable file`,
            )
          })
          global.caCertFile = conn.caCert
        }
      }
      const argv = [...command, ...globalArgs(global)]
      this.logger.debug(`deck ${argv.join(' ')}`)
      const timeoutMs = options.timeoutMs ?? this.timeoutMs
      const result = await this.spawn(argv, env, options.cwd, timeoutMs)
      if (result.timedOut) {
        throw new DeckTimeoutError(describeRun(command), Math.round(timeoutMs / 1000), writes(command))
      }
      if (result.signal) {
        throw new DeckhandError(
          `deck ${commandName(command)} was stopped by ${result.signal}; nothing was written`,
        )
      }
      if (result.exitCode !== 0) throw this.failure(command, result, quoted)
      return { ...result, stdout: scrub(result.stdout, secrets), stderr: scrub(result.stderr, quoted) }
    } finally {
      await temp.cleanup()
    }
  }

  private async spawn(
    argv: string[],
    env: Record<string, string>,
    cwd: string | undefined,
    timeoutMs: number,
  ): Promise<RunResult> {
    try {
      // A process group of its own, so that the deadline takes down whatever deck started as well.
      return await run(this.deck.path, argv, { env, cwd, timeoutMs, killGroup: true })
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      throw new DeckhandError(
        code === 'ENOENT'
          ? `deck not found at ${this.deck.path}: install it, put it on PATH or set deck-path`
          : `deck at ${this.deck.path} could not be started (${code ?? (err as Error).message})`,
      )
    }
  }

  /** deck prints `Error: …` on stderr and exits 1; keep its words, they name the cause. */
  private failure(command: readonly string[], result: RunResult, secrets: string[]): DeckhandError {
    const lines = scrub(result.stderr, secrets)
      .split('\n')
      .map((l) => l.trimEnd())
      .filter((l) => l !== '' && !l.startsWith('Info:'))
    const start = Math.max(
      0,
      lines.findIndex((l) => l.startsWith('Error:')),
    )
    // deck lists several causes as indented lines under "N errors occurred:": they are the message.
    let end = start + 1
    while (end < lines.length && /^\s/.test(lines[end]!)) end++
    const message = lines
      .slice(start, end)
      .map((l) => l.trim())
      .join(' ')
      .replace(/^Error:\s*/, '')
    return new DeckhandError(
      `deck ${commandName(command)} failed (exit ${result.exitCode}): ${message || 'no error output'}`,
      [...lines.slice(0, start), ...lines.slice(end)],
    )
  }
}

/** Values long enough to scrub from output without scrubbing ordinary words out of it. */
function scrubbable(values: readonly string[]): string[] {
  const out: string[] = []
  for (const value of values) {
    const trimmed = value.trim()
    if (trimmed.length >= 6) out.push(trimmed)
  }
  // Longest first: a value may contain another.
  return out.sort((a, b) => b.length - a.length)
}

/** `gateway dump`, `file validate` or a legacy `dump`: the words that name the subcommand. */
function commandName(command: readonly string[]): string {
  return (command[0] === 'gateway' || command[0] === 'file' ? command.slice(0, 2) : command.slice(0, 1)).join(
    ' ',
  )
}

/** What a run is, for messages: `deck gateway sync (workspace team-a)`. */
function describeRun(command: readonly string[]): string {
  const at = command.findIndex((a) => a === '--workspace' || a === '-w')
  const workspace = at >= 0 ? command[at + 1] : undefined
  return `deck ${commandName(command)}${workspace ? ` (workspace ${workspace})` : ''}`
}

/** Whether the command writes to the gateway. */
function writes(command: readonly string[]): boolean {
  return ['sync', 'apply', 'reset'].includes(command[0] === 'gateway' ? command[1]! : command[0]!)
}
