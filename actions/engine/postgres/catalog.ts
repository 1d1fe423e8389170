import { type QualifiedTable, quotedName } from './commands.js'
import type { PsqlSession } from './session.js'

export interface ServerInfo {
  /** server_version, e.g. "15.18 (Debian 15.18-0+deb12u1)". */
  version: string
  /** server_version_num, e.g. 150018. */
  versionNum: number
  major: number
  database: string
  encoding: string
  sizeBytes: number
  /**
   * The TimeZone a new session gets (the client's PGTZ or options, else the role's, database's or server's
   * setting): pg_settings.reset_val, since PsqlSession has set its own session to UTC by the time it asks.
   */
  timeZone: string
}

export async function serverInfo(session: PsqlSession): Promise<ServerInfo> {
  const info = await session.json<Omit<ServerInfo, 'major'>>(
    `SELECT json_build_object(
       'version', current_setting('server_version'),
       'versionNum', current_setting('server_version_num')::int,
       'database', current_database(),
       'encoding', pg_encoding_to_char(d.encoding),
       'sizeBytes', pg_database_size(d.oid),
       'timeZone', (SELECT reset_val FROM pg_settings WHERE name = 'TimeZone'))
     FROM pg_database d WHERE d.datname = current_database()`,
  )
  return { ...info, major: Math.floor(info.versionNum / 10000) }
}

export interface TableInfo extends QualifiedTable {
  /** The planner's estimate (pg_class.reltuples); -1 when the table was never analysed. */
  estimate: number
}

/**
 * Ordinary tables that pg_dump dumps the rows of: user schemas only, and not tables that belong to an
 * extension (pg_dump dumps those through CREATE EXTENSION).
 */
export async function listTables(session: PsqlSession): Promise<TableInfo[]> {
  const tables = await session.json<TableInfo[]>(
    `SELECT coalesce(json_agg(json_build_object('schema', n.nspname, 'table', c.relname, 'estimate', c.reltuples::bigint)
       ORDER BY n.nspname, c.relname), '[]')
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'r' AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
       AND NOT EXISTS (SELECT 1 FROM pg_depend e
                       WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')`,
  )
  return tables
}

export interface TableCount extends QualifiedTable {
  rows: number
  /**
   * Order-independent checksum of the rows: the sum of each row's md5 (first 64 bits) as a number.
   * Needs no sort and no memory, and is the same for the same rows in any physical order, which is
   * what a restored table is.
   */
  checksum?: string
}

/** Counts the rows of each table, with checksums for those asked, in the session's snapshot. */
export async function countTables(
  session: PsqlSession,
  tables: readonly { table: QualifiedTable; checksum: boolean }[],
): Promise<TableCount[]> {
  const out: TableCount[] = []
  for (const { table, checksum } of tables) {
    const name = quotedName(table)
    if (checksum) {
      const [line] = await session.query(
        `SELECT count(*) || ' ' || coalesce(sum(('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint::numeric), 0) FROM ${name} AS t`,
      )
      const [rows, sum] = (line ?? '0 0').split(' ')
      out.push({ ...table, rows: Number(rows), checksum: sum })
    } else {
      const [line] = await session.query(`SELECT count(*) FROM ${name}`)
      out.push({ ...table, rows: Number(line ?? 0) })
    }
  }
  return out
}

/** Schemas holding a Kong database: those with Kong's migration table, schema_meta. */
export async function kongSchemas(session: PsqlSession): Promise<string[]> {
  return session.json<string[]>(
    `SELECT coalesce(json_agg(table_schema ORDER BY table_schema), '[]')
     FROM information_schema.tables WHERE table_name = 'schema_meta' AND table_type = 'BASE TABLE'`,
  )
}

/** Tables in user schemas of the connected database, for "is this database empty?". */
export async function userTableCount(session: PsqlSession): Promise<number> {
  const [line] = await session.query(
    `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'`,
  )
  return Number(line ?? 0)
}

/** Whether a database of that name exists on the server. */
export async function databaseExists(session: PsqlSession, name: string): Promise<boolean> {
  const [line] = await session.query(
    `SELECT count(*) FROM pg_database WHERE datname = '${name.replace(/'/g, "''")}'`,
  )
  return Number(line) > 0
}

/**
 * Rows in those of `tables` that exist in a Kong schema (one with schema_meta), non-empty ones only: what
 * tells a configured gateway's database from a freshly bootstrapped or empty one.
 */
export async function kongRowsIn(session: PsqlSession, tables: readonly string[]): Promise<TableCount[]> {
  const schemas = await kongSchemas(session)
  if (schemas.length === 0) return []
  const list = (names: readonly string[]) => names.map((n) => `'${n.replace(/'/g, "''")}'`).join(', ')
  const present = await session.json<QualifiedTable[]>(
    `SELECT coalesce(json_agg(json_build_object('schema', table_schema, 'table', table_name)
       ORDER BY table_schema, table_name), '[]')
     FROM information_schema.tables
     WHERE table_type = 'BASE TABLE' AND table_schema IN (${list(schemas)}) AND table_name IN (${list(tables)})`,
  )
  const counts = await countTables(
    session,
    present.map((table) => ({ table, checksum: false })),
  )
  return counts.filter((c) => c.rows > 0)
}
