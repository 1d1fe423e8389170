import type { Logger } from '../log.js'
import { run } from '../process.js'
import { scrub } from '../scrub.js'

export interface UserCommandResult {
  ok: boolean
  exitCode: number
  /** Set when it was stopped: by its time running out, or by someone else. */
  signal: NodeJS.Signals | null
}

/**
 * Runs a command the user gave (restart-command, migrate-command) with `sh -c`, for at most timeoutMs, and
 * logs the last lines of its output with the secrets scrubbed. A non-zero exit is a result, not an error.
 */
export async function runUserCommand(
  command: string,
  options: { env: NodeJS.ProcessEnv; timeoutMs: number; secrets: readonly string[]; logger: Logger },
): Promise<UserCommandResult> {
  const done = await run('sh', ['-c', command], {
    env: options.env as Record<string, string | undefined>,
    timeoutMs: options.timeoutMs,
  })
  const output = scrub(`${done.stdout}\n${done.stderr}`, options.secrets).trim()
  for (const line of output.split('\n').filter(Boolean).slice(-20)) options.logger.info(`  ${line}`)
  return { ok: !done.signal && done.exitCode === 0, exitCode: done.exitCode, signal: done.signal }
}
