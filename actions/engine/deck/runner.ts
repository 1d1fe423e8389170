import { access, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { stringify } from 'yaml'

import { DeckhandError } from '../errors.js'
import { privateTempDir } from '../fs-atomic.js'
import type { Logger } from '../log.js'
import { run, type RunResult } from '../process.js'
import { scrub } from '../scrub.js'
import { type GlobalArgs, globalArgs } from './commands.js'
import { type Connection, connectionSecrets } from './connection.js'
import type { DeckFeatures } from './version.js'

export interface DeckBinary {
  path: string
  features: DeckFeatures
}

export interface DeckRunOptions {
  /** Whether the command talks to Kong (then the connection is passed); offline commands get none. */
  online: boolean
  cwd?: string
  timeoutMs?: number
}

/**
 * Runs deck with a connection. The admin token goes through DECK_KONG_ADMIN_TOKEN (deck >= 1.64) or,
 * for older releases, a Kong-Admin-Token header; headers go into a private (0600) deck config file,
 * because DECK_HEADERS splits values on white space and --headers would show them in the process list.
 */
export class DeckRunner {
  constructor(
    readonly deck: DeckBinary,
    private readonly connection: Connection | undefined,
    private readonly logger: Logger,
  ) {}

  async run(command: readonly string[], options: DeckRunOptions): Promise<RunResult> {
    const secrets = connectionSecrets(this.connection)
    const temp = await privateTempDir('deckhand-deck-')
    try {
      const env: Record<string, string> = {}
      const global: GlobalArgs = {}
      const conn = options.online ? this.connection : undefined
      if (conn) {
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
      const result = await this.spawn(argv, env, options)
      if (result.signal) {
        throw new DeckhandError(
          `deck ${commandName(command)} was stopped by ${result.signal}; nothing was written`,
        )
      }
      if (result.exitCode !== 0) throw this.failure(command, result, secrets)
      return { ...result, stdout: scrub(result.stdout, secrets), stderr: scrub(result.stderr, secrets) }
    } finally {
      await temp.cleanup()
    }
  }

  private async spawn(
    argv: string[],
    env: Record<string, string>,
    options: DeckRunOptions,
  ): Promise<RunResult> {
    try {
      return await run(this.deck.path, argv, { env, cwd: options.cwd, timeoutMs: options.timeoutMs })
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

/** `gateway dump`, `file validate` or a legacy `dump`: the words that name the subcommand. */
function commandName(command: readonly string[]): string {
  return (command[0] === 'gateway' || command[0] === 'file' ? command.slice(0, 2) : command.slice(0, 1)).join(
    ' ',
  )
}
