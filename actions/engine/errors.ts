/**
 * An error the user can act on: the message says what is wrong and what to do about it.
 * Adapters print the message without a stack trace and exit non-zero; anything else is a bug.
 */
export class DeckhandError extends Error {
  /** Optional detail lines (for example every problem found), printed after the message. */
  readonly details: readonly string[]

  constructor(message: string, details: readonly string[] = [], options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'DeckhandError'
    this.details = details
  }
}

export function isDeckhandError(err: unknown): err is DeckhandError {
  return err instanceof DeckhandError
}

/**
 * A value given to a command is missing, malformed or conflicts with another: the user fixes how the command
 * is called. The CLI exits 2 for it (a usage error); the action reports it as any other failure.
 */
export class InputError extends DeckhandError {
  constructor(message: string, details: readonly string[] = []) {
    super(message, details)
    this.name = 'InputError'
  }
}

export function isInputError(err: unknown): err is InputError {
  return err instanceof InputError
}

/**
 * A file system refused an operation for a reason the user fixes outside deckhand (a full disk, a quota, a
 * read-only mount, permissions). `path` is the place deckhand was writing to, as the user named it.
 */
export class FileSystemError extends DeckhandError {
  readonly code: string
  readonly path: string

  constructor(code: string, path: string, message: string, details: readonly string[], cause: unknown) {
    super(message, details, { cause })
    this.name = 'FileSystemError'
    this.code = code
    this.path = path
  }
}

/** What to do, by error code; `place` is where deckhand was writing, `file` the file the call failed on. */
const FILE_SYSTEM_ADVICE: Record<string, (place: string, file: string) => string> = {
  ENOSPC: (place) => `No space left on ${place}: free space and rerun.`,
  EDQUOT: (place) => `Disk quota exceeded on ${place}: free space or raise the quota, and rerun.`,
  EROFS: (place) =>
    `${place} is on a read-only file system: choose a writable place, or remount it, and rerun.`,
  EACCES: (_place, file) =>
    `Permission denied on ${file}: run as a user who may use it, or change its permissions, and rerun.`,
  EPERM: (_place, file) =>
    `Operation not permitted on ${file}: run as a user who may use it, or change its permissions, and rerun.`,
}

/**
 * The one place file system errors become actionable: ENOSPC, EDQUOT, EROFS, EACCES and EPERM are returned as a
 * FileSystemError naming the path; anything else (a DeckhandError included) is returned as it is, for the caller
 * to rethrow. `place` is where deckhand was writing (an output folder, a restore's target). The failing call and
 * file go in a detail line: a file name at most, never content.
 */
export function fileSystemError(err: unknown, place: string): unknown {
  if (isDeckhandError(err)) return err
  const e = err as NodeJS.ErrnoException | undefined
  const advice = e?.code === undefined ? undefined : FILE_SYSTEM_ADVICE[e.code]
  if (advice === undefined) return err
  const file = e!.path ?? place
  const message = advice(place, file)
  const details = message.includes(file) ? [] : [`${e!.code} from ${e!.syscall ?? 'a call'} on ${file}`]
  return new FileSystemError(e!.code!, place, message, details, err)
}

/**
 * What the adapters' last-resort handlers report as a clear failure: a DeckhandError, or a file system
 * refusal the user fixes outside deckhand (a full disk, permissions) that no earlier handler named, told
 * by the path it failed on. Anything else is a bug, reported with its stack.
 */
export function asExpectedError(err: unknown): DeckhandError | undefined {
  if (isDeckhandError(err)) return err
  const path = (err as NodeJS.ErrnoException | undefined)?.path
  if (typeof path !== 'string') return undefined
  const mapped = fileSystemError(err, path)
  return isDeckhandError(mapped) ? mapped : undefined
}

/** Message of any thrown value, for the last-resort handlers. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/**
 * An actionable message for a tool's error output: the first rule whose pattern matches the output
 * leads, followed by the output's last lines. The output must already be scrubbed of secrets.
 */
export function explainOutput(
  tool: string,
  output: string,
  rules: readonly (readonly [RegExp, string])[],
  lines = 6,
): string {
  const rule = rules.find(([pattern]) => pattern.test(output))
  const detail = output.split('\n').filter(Boolean).slice(-lines).join('\n')
  return rule ? `${rule[1]}\n${tool} said: ${detail}` : `${tool} failed: ${detail || 'no error output'}`
}
