/** Returns null when argv is a valid deck invocation for that version, else the error text deck prints. */
export function checkDeckArgv(argv: readonly string[], version?: string): string | null
