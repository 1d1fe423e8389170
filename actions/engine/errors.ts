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

/** Message of any thrown value, for the last-resort handlers. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
