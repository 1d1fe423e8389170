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
