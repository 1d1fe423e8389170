/**
 * Command lines for the PostgreSQL client programs. Connection settings and the password never appear
 * here: the programs read them from libpq's environment (see connection.ts).
 */

export type DumpFormat = 'directory' | 'custom' | 'tar' | 'plain'

export const DUMP_FORMATS: readonly DumpFormat[] = ['directory', 'custom', 'tar', 'plain']

/** pg_dump's one-letter format names. */
const FORMAT_FLAG: Record<DumpFormat, string> = { directory: 'd', custom: 'c', tar: 't', plain: 'p' }

/** A table named exactly, as pg_dump and pg_restore patterns take it (quoted: no wildcards, exact case). */
export interface QualifiedTable {
  schema: string
  table: string
}

/** An SQL identifier, quoted: any name (quotes, spaces, capitals, non-ASCII) is taken exactly as it is. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

export function quotedName({ schema, table }: QualifiedTable): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`
}

export interface PgDumpOptions {
  format: DumpFormat
  /** File, or folder for the directory format. */
  file: string
  /** Parallel jobs; directory format only. */
  jobs?: number
  /** pg_dump --compress value: a level, or method[:detail]. */
  compress?: string
  /** Tables whose rows are left out; their definitions stay. */
  excludeTableData?: readonly QualifiedTable[]
  /** A snapshot exported by another session, so the dump sees exactly what that session counted. */
  snapshot?: string
}

export function pgDumpArgs(options: PgDumpOptions): string[] {
  const args = [`--format=${FORMAT_FLAG[options.format]}`, `--file=${options.file}`, '--no-password']
  if (options.jobs !== undefined && options.jobs > 1) {
    if (options.format !== 'directory') throw new Error('pg_dump --jobs needs the directory format')
    args.push(`--jobs=${options.jobs}`)
  }
  if (options.compress !== undefined) args.push(`--compress=${options.compress}`)
  if (options.snapshot) args.push(`--snapshot=${options.snapshot}`)
  for (const table of options.excludeTableData ?? []) args.push(`--exclude-table-data=${quotedName(table)}`)
  return args
}

export interface PgRestoreOptions {
  /** The dump: a file, or the folder of a directory-format dump. */
  input: string
  /** Database to connect to: the target, or the maintenance database with create. */
  database: string
  create?: boolean
  clean?: boolean
  jobs?: number
  noOwner?: boolean
  /** All or nothing: one transaction (not with jobs or create). */
  singleTransaction?: boolean
}

/**
 * A connection string naming only the database: pg_restore reads a --dbname holding `=` or starting with
 * postgres:// as connection settings, so a plain name such as `a=b` would not be taken as a name.
 */
export function dbnameConninfo(database: string): string {
  return `dbname='${database.replace(/[\\']/g, (c) => `\\${c}`)}'`
}

export function pgRestoreArgs(options: PgRestoreOptions): string[] {
  const args = [`--dbname=${dbnameConninfo(options.database)}`, '--no-password', '--exit-on-error']
  if (options.create) args.push('--create')
  if (options.clean) args.push('--clean', '--if-exists')
  if (options.jobs !== undefined && options.jobs > 1) {
    if (options.singleTransaction) throw new Error('pg_restore --single-transaction cannot run in parallel')
    args.push(`--jobs=${options.jobs}`)
  }
  if (options.singleTransaction) {
    if (options.create) throw new Error('pg_restore --single-transaction cannot create the database')
    args.push('--single-transaction')
  }
  if (options.noOwner) args.push('--no-owner', '--no-privileges')
  args.push(options.input)
  return args
}

/** pg_restore --list: reads the dump's table of contents without a database, which proves it is readable. */
export function pgRestoreListArgs(input: string): string[] {
  return ['--list', input]
}

export interface PsqlOptions {
  /** Run a SQL file (a plain dump) instead of reading commands from stdin. */
  file?: string
  singleTransaction?: boolean
}

/**
 * psql for machine use: no .psqlrc, unaligned tuples only, stop at the first error. Without a file it
 * reads commands from stdin.
 */
export function psqlArgs(options: PsqlOptions = {}): string[] {
  const args = [
    '--no-psqlrc',
    '--no-password',
    '--quiet',
    '--no-align',
    '--tuples-only',
    '--set=ON_ERROR_STOP=1',
  ]
  if (options.singleTransaction) args.push('--single-transaction')
  if (options.file) args.push(`--file=${options.file}`)
  return args
}
