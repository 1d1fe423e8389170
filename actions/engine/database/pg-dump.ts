import { availableParallelism } from 'node:os'
import { join } from 'node:path'

import { digestFiles, listFiles } from '../backup/checksums.js'
import { isKongRuntimeTable, isKongSkippedTable, type Profile } from '../backup/kong-profile.js'
import {
  type DbManifest,
  type TableRecord,
  DB_MANIFEST_FORMAT,
  MANIFEST_FILE,
  writeManifest,
} from '../backup/manifest.js'
import { DeckhandError } from '../errors.js'
import { privateTempDir } from '../fs-atomic.js'
import type { Logger } from '../log.js'
import { countTables, kongSchemas, listTables, serverInfo, type TableInfo } from '../postgres/catalog.js'
import { type DumpFormat, type QualifiedTable, pgDumpArgs } from '../postgres/commands.js'
import { type PgTarget, describeTarget, explainPgError, libpqEnv } from '../postgres/connection.js'
import { PsqlSession } from '../postgres/session.js'
import { locatePgClients } from '../postgres/tools.js'
import { run } from '../process.js'
import { TOOL_VERSION } from '../version.js'
import { pendingFolder, safeName, timestamp } from './folder.js'
import { checkDumpReadable } from './verify-dump.js'
import { inputName } from '../jobs/inputs.js'

export interface PgDumpOptions {
  target: PgTarget
  format: DumpFormat
  /** Parallel jobs (directory format); default: the number of CPUs. */
  jobs?: number
  compress?: string
  profile: Profile
  /** More tables whose rows to skip: pg_dump-style patterns (schema.table, * and ? wildcards). */
  excludeTableData: readonly string[]
  outputDir: string
  verify: boolean
  binDir?: string
  pathEnv?: string
  logger: Logger
}

export interface DbDumpResult {
  folder: string
  manifestPath: string
  manifest: DbManifest
  durationMs: number
  /** Things the user should know that did not stop the dump. */
  notes: string[]
}

/** pg_dump --compress values: a level, or (PostgreSQL 16 clients) method[:detail]. */
const COMPRESS = /^(?:[0-9]|none|gzip|lz4|zstd)(?::[A-Za-z0-9=,_-]+)?$/

function dumpFileName(database: string, format: DumpFormat, compress: string | undefined): string {
  const base = safeName(database)
  if (format === 'directory') return 'dump'
  if (format === 'custom') return `${base}.dump`
  if (format === 'tar') return `${base}.tar`
  const method = compress?.split(':')[0]
  if (!method || method === '0' || method === 'none') return `${base}.sql`
  return `${base}.sql.${method === 'lz4' ? 'lz4' : method === 'zstd' ? 'zst' : 'gz'}`
}

/** Matches a pg_dump-style table pattern (schema.table or table; * and ?; quotes keep case) against tables. */
export function matchTables(pattern: string, tables: readonly QualifiedTable[]): QualifiedTable[] {
  const parts: string[] = []
  let current = ''
  let quoted = false
  let sawQuote = false
  const regexPart = (text: string, caseSensitive: boolean) =>
    (caseSensitive ? text : text.toLowerCase())
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')
  for (const char of pattern.trim()) {
    if (char === '"') {
      quoted = !quoted
      sawQuote = true
    } else if (char === '.' && !quoted) {
      parts.push(regexPart(current, sawQuote))
      current = ''
      sawQuote = false
    } else current += char
  }
  parts.push(regexPart(current, sawQuote))
  if (parts.length > 2)
    throw new DeckhandError(`exclude-table-data: "${pattern}" is not schema.table or table`)
  const [schema, table] = parts.length === 2 ? parts : ['.*', parts[0]!]
  const schemaRe = new RegExp(`^${schema}$`)
  const tableRe = new RegExp(`^${table}$`)
  return tables.filter((t) => schemaRe.test(t.schema) && tableRe.test(t.table))
}

const key = (t: QualifiedTable) => `${t.schema}.${t.table}`

/**
 * Dumps a PostgreSQL database into a new backup folder: pg_dump and the row counts read one exported
 * snapshot, the dump is read back (pg_restore --list), every file is checksummed, and manifest.json is
 * written last. Any failure removes the incomplete folder; earlier backups are never touched.
 */
export async function dumpPostgres(options: PgDumpOptions): Promise<DbDumpResult> {
  const { logger, format } = options
  const started = new Date()
  const t0 = performance.now()
  const notes: string[] = []
  const phase = (name: string) => logger.debug(`${name}: ${Math.round(performance.now() - t0)} ms`)
  if (options.compress !== undefined && !COMPRESS.test(options.compress)) {
    throw new DeckhandError(
      `compress "${options.compress}" is not a pg_dump compression: use a level 0-9, none, gzip[:level], lz4 or zstd.`,
    )
  }
  if (options.compress !== undefined && format === 'tar' && !/^(?:0|none)$/.test(options.compress)) {
    throw new DeckhandError(
      'The tar format cannot be compressed by pg_dump: use the directory or custom format.',
    )
  }
  if (options.jobs !== undefined && options.jobs > 1 && format !== 'directory') {
    throw new DeckhandError(
      `jobs needs the directory format: pg_dump dumps the ${format} format in one process.`,
    )
  }
  const jobs = format === 'directory' ? (options.jobs ?? availableParallelism()) : undefined

  const clients = await locatePgClients({ binDir: options.binDir, pathEnv: options.pathEnv })
  if (options.compress?.includes(':') || /^(?:gzip|lz4|zstd)$/.test(options.compress ?? '')) {
    if (clients.major < 16)
      throw new DeckhandError(
        `compress "${options.compress}" needs a PostgreSQL 16 or newer client (found pg_dump ${clients.version}): use a level 0-9, or set postgres-bin.`,
      )
  }
  const temp = await privateTempDir('deckhand-pg-')
  let session: PsqlSession | undefined
  let pending: Awaited<ReturnType<typeof pendingFolder>> | undefined
  try {
    const env = await libpqEnv(options.target, temp.path)
    session = await PsqlSession.open(clients.psql, env, options.target)
    // The dump and the counts below see the same data: pg_dump adopts this transaction's snapshot.
    await session.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY')
    const [snapshot] = await session.query('SELECT pg_export_snapshot()')
    phase('snapshot exported')
    const server = await serverInfo(session)
    if (clients.major < server.major) {
      throw new DeckhandError(
        `pg_dump ${clients.version} cannot dump PostgreSQL ${server.major} (${describeTarget(options.target)}): install postgresql-client-${server.major} or newer, or set ${inputName('postgres-bin')} to its bin folder.`,
      )
    }
    const tables = await listTables(session)
    // Kong's runtime tables are counted but never checksummed, whatever the profile: hashing a million
    // rate-limiting counters would double the dump's time and verify nothing about the configuration.
    const kong = new Set(await kongSchemas(session))
    const skipped = skippedTables(options, tables, kong, notes)
    const runtime = (t: QualifiedTable) => kong.has(t.schema) && isKongRuntimeTable(t.table)

    const name = `${safeName(server.database)}-${timestamp(started)}`
    pending = await pendingFolder(options.outputDir, name)
    const dumpPath = dumpFileName(server.database, format, options.compress)
    logger.info(
      `Dumping ${describeTarget(options.target)} (PostgreSQL ${server.version}) with pg_dump ${clients.version}: ` +
        `${format} format${jobs ? `, ${jobs} job(s)` : ''}, profile ${options.profile}` +
        (skipped.size ? `, rows of ${skipped.size} table(s) skipped` : ''),
    )
    const args = pgDumpArgs({
      format,
      file: join(pending.path, dumpPath),
      jobs,
      compress: options.compress,
      snapshot,
      excludeTableData: tables.filter((t) => skipped.has(key(t))),
    })
    // Counting runs in the snapshot session while pg_dump works: the counts cost no extra wall time.
    const [dumped, counts] = await Promise.all([
      run(clients.pgDump, args, { env }),
      countTables(
        session,
        tables.filter((t) => !skipped.has(key(t))).map((table) => ({ table, checksum: !runtime(table) })),
      ),
    ])
    if (dumped.signal || dumped.exitCode !== 0) {
      const why = dumped.signal
        ? `pg_dump was killed (${dumped.signal}) before it finished`
        : explainPgError('pg_dump', dumped.stderr, options.target)
      throw new DeckhandError(`${why}. The incomplete dump was removed; earlier backups are untouched.`)
    }
    phase('pg_dump and counts done')
    const countsByTable = new Map(counts.map((c) => [key(c), c]))
    const records: TableRecord[] = tables.map((t) => {
      const count = countsByTable.get(key(t))
      return count
        ? { schema: t.schema, table: t.table, rows: count.rows, data: true, checksum: count.checksum }
        : {
            schema: t.schema,
            table: t.table,
            rows: 0,
            data: false,
            skippedRowsEstimate: Math.max(t.estimate, 0),
          }
    })
    await session.query('ROLLBACK')
    await session.close()
    session = undefined

    const files = await listFiles(pending.path)
    const [digests] = await Promise.all([
      digestFiles(pending.path, files),
      options.verify
        ? checkDumpReadable(clients.pgRestore, format, join(pending.path, dumpPath), records)
        : Promise.resolve(),
    ])
    phase('checksums and pg_restore --list done')
    const sizeBytes = digests.reduce((sum, f) => sum + f.size, 0)
    const dumpedRows = records.filter((r) => r.data).reduce((sum, r) => sum + r.rows, 0)
    const manifest: DbManifest = {
      format: DB_MANIFEST_FORMAT,
      engine: 'postgres',
      tool: { name: 'deckhand', version: TOOL_VERSION },
      clients: { pg_dump: clients.version },
      server: { version: server.version, versionNum: server.versionNum },
      database: server.database,
      encoding: server.encoding,
      dump: {
        path: dumpPath,
        format,
        ...(options.compress !== undefined ? { compress: options.compress } : {}),
        ...(jobs ? { jobs } : {}),
        profile: options.profile,
        excludedTableData: [...skipped].sort(),
        consistentSnapshot: true,
        timeZone: server.timeZone,
      },
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      tables: records,
      totals: { tables: records.length, rows: dumpedRows, sizeBytes },
      files: digests,
    }
    // The checksums above were read from the files pg_dump had closed, so they are what is on disk; hashing
    // them again would only repeat the reads. The manifest goes in last, and the folder gets its name only
    // when it is complete.
    await writeManifest(pending.path, manifest)
    const folder = await pending.commit()
    pending = undefined
    phase('manifest written')
    return {
      folder,
      manifestPath: join(folder, MANIFEST_FILE),
      manifest,
      durationMs: Math.round(performance.now() - t0),
      notes,
    }
  } finally {
    await session?.close()
    await pending?.discard()
    await temp.cleanup()
  }
}

/** Tables whose rows the dump leaves out: the profile's runtime tables plus exclude-table-data. */
function skippedTables(
  options: PgDumpOptions,
  tables: readonly TableInfo[],
  kongSchemas: ReadonlySet<string>,
  notes: string[],
): Set<string> {
  const skipped = new Set<string>()
  if (options.profile === 'kong') {
    if (kongSchemas.size === 0) {
      notes.push(
        "This database does not look like Kong's (no schema_meta table): the kong profile skipped nothing. Use profile none for other databases.",
      )
    }
    for (const t of tables) {
      if (kongSchemas.has(t.schema) && isKongSkippedTable(t.table)) skipped.add(key(t))
    }
  }
  for (const pattern of options.excludeTableData) {
    const matches = matchTables(pattern, tables)
    if (matches.length === 0) notes.push(`exclude-table-data "${pattern}" matches no table.`)
    for (const t of matches) skipped.add(key(t))
  }
  return skipped
}
