import { createReadStream } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { createGunzip } from 'node:zlib'

import { type DbManifest, readManifest, verifyFiles } from '../backup/manifest.js'
import { DeckhandError } from '../errors.js'
import { privateTempDir } from '../fs-atomic.js'
import type { Logger } from '../log.js'
import { KONG_ENTITY_TABLES } from '../backup/kong-profile.js'
import {
  countTables,
  databaseExists,
  kongRowsIn,
  listTables,
  serverInfo,
  type TableCount,
  userTableCount,
} from '../postgres/catalog.js'
import { pgRestoreArgs, psqlArgs } from '../postgres/commands.js'
import {
  type PgTarget,
  describeTarget,
  explainPgError,
  libpqEnv,
  withDatabase,
} from '../postgres/connection.js'
import { PsqlSession } from '../postgres/session.js'
import {
  type SessionTimeZone,
  describeTimeZone,
  sessionTimeZone,
  timeZoneHint,
} from '../postgres/time-zone.js'
import { locatePgClients } from '../postgres/tools.js'
import { run } from '../process.js'

export interface PgRestoreOptions {
  /** The backup: its folder, its manifest, or the dump inside the folder. */
  input: string
  target: PgTarget
  create: boolean
  clean: boolean
  jobs?: number
  verify: boolean
  noOwner: boolean
  /**
   * Refuse a database whose Kong entity tables hold rows (a configured gateway), even with clean: what a
   * disaster-recovery restore uses so that it only ever fills an empty or freshly bootstrapped gateway.
   */
  refuseConfigured?: boolean
  /** Called once the backup and the target passed every check, just before the database is changed. */
  checked?: () => void
  binDir?: string
  pathEnv?: string
  logger: Logger
}

/** The target already holds a configured gateway: refused before anything was changed. */
export class ConfiguredGatewayError extends DeckhandError {
  constructor(where: string, tables: readonly TableCount[]) {
    super(
      `${where} already holds a configured Kong (${tables.map((t) => `${t.table}: ${t.rows}`).join(', ')}): ` +
        'restore only fills an empty or freshly bootstrapped gateway. Nothing was changed. If you mean to replace this configuration, set overwrite to true.',
    )
    this.name = 'ConfiguredGatewayError'
  }
}

/** One table whose restored rows differ from the manifest. */
export interface TableDifference {
  table: string
  expected: string
  actual: string
}

export interface DbRestoreResult {
  database: string
  manifest: DbManifest
  /** Tables and rows compared with the manifest (0 when verify is off). */
  tablesChecked: number
  rowsChecked: number
  differences: TableDifference[]
  verified: boolean
  /** The session time zone pg_restore (or psql) ran in, and why. */
  timeZone: SessionTimeZone & { description: string }
  durationMs: number
  notes: string[]
}

/**
 * Restores a db-dump backup. The backup's checksums are checked before the database is touched; a
 * database that already holds tables is refused unless clean is set; afterwards every table's row
 * count and every configuration table's checksum are compared with what the manifest recorded.
 */
export async function restorePostgres(options: PgRestoreOptions): Promise<DbRestoreResult> {
  const { logger } = options
  const t0 = performance.now()
  const notes: string[] = []
  const { manifest, folder } = await readManifest(options.input)
  if (manifest.engine !== 'postgres') {
    throw new DeckhandError(
      `This is a ${manifest.engine} backup: restore it by stopping the server, putting ${manifest.dump.path} in its data directory as dump.rdb (with append-only files off), and starting it again.`,
    )
  }
  const problems = await verifyFiles(folder, manifest.files)
  if (problems.length) {
    throw new DeckhandError(
      `The backup in ${folder} does not match its manifest: refusing to restore it (the database was not touched).`,
      problems,
    )
  }
  logger.info(
    `Backup of ${manifest.database} from ${manifest.startedAt} verified: ${manifest.files.length} file(s).`,
  )
  const format = manifest.dump.format
  const dumpMajor = Number(manifest.clients.pg_dump?.split('.')[0] ?? 0)
  // pg_restore reads archives written by its own or older pg_dump versions only.
  const clients = await locatePgClients({
    binDir: options.binDir,
    pathEnv: options.pathEnv,
    minMajor: dumpMajor,
  })

  if (format === 'plain' && (options.create || options.clean || options.noOwner)) {
    throw new DeckhandError(
      'create, clean and no-owner cannot apply to a plain dump (its SQL is fixed when it is written): restore it into an empty database, or dump with the directory or custom format.',
    )
  }
  const database = options.create ? manifest.database : options.target.database
  if (!database) throw new DeckhandError('database-url names no database to restore into.')
  if (options.create && options.target.database === manifest.database) {
    throw new DeckhandError(
      `With create, database-url must name a maintenance database such as postgres, not ${manifest.database} itself: pg_restore connects there to drop and create ${manifest.database}.`,
    )
  }
  const connectTo = options.create
    ? withDatabase(options.target, options.target.database ?? 'postgres')
    : options.target
  const recordedZone = manifest.dump.timeZone
  // What the tools inherit (run and PsqlSession start from process.env), with the target's own options on top.
  const timeZone = sessionTimeZone(recordedZone, {
    PGTZ: process.env.PGTZ,
    PGOPTIONS: connectTo.settings.PGOPTIONS ?? process.env.PGOPTIONS,
  })

  const temp = await privateTempDir('deckhand-pg-')
  try {
    const env = await libpqEnv(connectTo, temp.path)
    // Look before restoring: never overwrite a database by accident.
    const pre = await PsqlSession.open(clients.psql, env, connectTo)
    let nonEmpty: boolean
    let targetZone: string
    try {
      const server = await serverInfo(pre)
      targetZone = server.timeZone
      if (
        manifest.server.versionNum &&
        server.versionNum < manifest.server.versionNum - (manifest.server.versionNum % 10000)
      ) {
        notes.push(
          `The backup comes from PostgreSQL ${manifest.server.version}, the target runs ${server.version}: restoring into an older major version may fail.`,
        )
      }
      nonEmpty = options.create ? await databaseExists(pre, database) : (await userTableCount(pre)) > 0
      if (options.refuseConfigured && !options.create && nonEmpty) {
        const configured = await kongRowsIn(pre, KONG_ENTITY_TABLES)
        if (configured.length > 0) throw new ConfiguredGatewayError(describeTarget(connectTo), configured)
      }
    } finally {
      await pre.close()
    }
    if (nonEmpty && !options.clean) {
      throw new DeckhandError(
        options.create
          ? `Database ${database} already exists on ${describeTarget(connectTo)}: set clean to drop and recreate it, or restore elsewhere. Nothing was changed.`
          : `${describeTarget(connectTo)} already holds tables: set clean to replace them, or restore into an empty database. Nothing was changed.`,
      )
    }

    options.checked?.()
    const zone = { ...timeZone, description: describeTimeZone(timeZone, recordedZone, targetZone) }
    logger.info(`Session time zone: ${zone.description}.`)
    // Every session that computes or compares generated values: pg_restore, psql, and the verification below.
    const restoreEnv = { ...env, ...timeZone.env }
    let jobs = format === 'directory' || format === 'custom' ? (options.jobs ?? availableParallelism()) : 1
    // Replacing a live database: one transaction, so a failure halfway leaves it as it was.
    let singleTransaction = false
    if (!options.create && (format === 'plain' || jobs === 1 || (nonEmpty && options.jobs === undefined))) {
      singleTransaction = true
      if (jobs > 1)
        notes.push('Restored in one transaction (no parallel jobs) because it replaced existing tables.')
      jobs = 1
    }
    logger.info(
      `Restoring into ${describeTarget(withDatabase(connectTo, database))} with ${format === 'plain' ? 'psql' : 'pg_restore'} ${clients.version}` +
        `${jobs > 1 ? `, ${jobs} jobs` : ''}${singleTransaction ? ', in one transaction' : ''}${options.clean ? ', dropping existing objects first' : ''}.`,
    )
    const dumpPath = join(folder, manifest.dump.path)
    const restored =
      format === 'plain'
        ? await run(
            clients.psql,
            psqlArgs({ singleTransaction: true, file: dumpPath.endsWith('.sql') ? dumpPath : undefined }),
            {
              env: restoreEnv,
              stdin: dumpPath.endsWith('.gz') ? createReadStream(dumpPath).pipe(createGunzip()) : undefined,
            },
          )
        : await run(
            clients.pgRestore,
            pgRestoreArgs({
              input: dumpPath,
              database: connectTo.database ?? database,
              create: options.create,
              clean: options.clean,
              jobs,
              noOwner: options.noOwner,
              singleTransaction,
            }),
            { env: restoreEnv },
          )
    if (restored.signal || restored.exitCode !== 0) {
      const why = restored.signal
        ? `the restore was killed (${restored.signal})`
        : explainPgError(format === 'plain' ? 'psql' : 'pg_restore', restored.stderr, connectTo)
      const role = /role "[^"]+" does not exist/.test(restored.stderr)
        ? ' The backup names roles this server lacks: set no-owner to restore everything as the connecting user.'
        : ''
      const unknownZone = /invalid value for parameter "TimeZone"/i.test(restored.stderr)
        ? ` This server does not know the time zone ${zone.zone} (${zone.source === 'backup' ? 'recorded at dump time' : zone.source}): set PGTZ to a name it knows for the same zone.`
        : ''
      throw new DeckhandError(
        `${why}${role}${unknownZone}${singleTransaction ? ' The restore ran in one transaction: the database is as it was.' : ''}`,
      )
    }

    const result: DbRestoreResult = {
      database,
      manifest,
      tablesChecked: 0,
      rowsChecked: 0,
      differences: [],
      verified: false,
      timeZone: zone,
      durationMs: 0,
      notes,
    }
    if (options.verify) {
      const restoredTarget = withDatabase(connectTo, database)
      const session = await PsqlSession.open(clients.psql, restoreEnv, restoredTarget)
      try {
        await compare(session, manifest, result)
      } finally {
        await session.close()
      }
      result.verified = result.differences.length === 0
      const hint = result.verified ? undefined : timeZoneHint(timeZone, recordedZone)
      if (hint) notes.push(hint)
    }
    result.durationMs = Math.round(performance.now() - t0)
    return result
  } finally {
    await temp.cleanup()
  }
}

/** Counts and checksums the restored tables, in one snapshot, and records every difference from the manifest. */
async function compare(session: PsqlSession, manifest: DbManifest, result: DbRestoreResult): Promise<void> {
  await session.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY')
  const present = new Set((await listTables(session)).map((t) => `${t.schema}.${t.table}`))
  const wanted = manifest.tables.filter((t) => {
    if (present.has(`${t.schema}.${t.table}`)) return true
    result.differences.push({
      table: `${t.schema}.${t.table}`,
      expected: `${t.rows} rows`,
      actual: 'table missing',
    })
    return false
  })
  const counts = await countTables(
    session,
    wanted.map((t) => ({ table: t, checksum: t.checksum !== undefined })),
  )
  await session.query('ROLLBACK')
  for (const [i, count] of counts.entries()) {
    const want = wanted[i]!
    const name = `${want.schema}.${want.table}`
    result.tablesChecked++
    result.rowsChecked += count.rows
    if (count.rows !== want.rows) {
      result.differences.push({ table: name, expected: `${want.rows} rows`, actual: `${count.rows} rows` })
    } else if (want.checksum !== undefined && count.checksum !== want.checksum) {
      result.differences.push({
        table: name,
        expected: 'the dumped rows',
        actual: 'same count, different content',
      })
    }
  }
}
