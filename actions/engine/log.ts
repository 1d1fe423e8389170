/**
 * The engine logs through this interface only. The GitHub adapter maps it onto @actions/core
 * (annotations, groups, debug), the CLI onto stderr. Messages never contain secret values: the
 * engine redacts before it logs, and adapters additionally register secrets with the runner.
 */
export interface Logger {
  info(message: string): void
  warn(message: string): void
  debug(message: string): void
}
