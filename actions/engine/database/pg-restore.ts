import { createReadStream } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createGunzip } from 'node:zlib'

import { append } from '../arrays.js'
import { type DbManifest, readManifest, verifyFiles } from '../backup/manifest.js'
import { DeckhandError, isDeckhandError } from '../errors.js'
import { privateTempDir } from '../fs-atomic.js'
import type { Logger } from '../log.js'
import { KONG_ENTITY_TABLES } from '../backup/kong-profile.js'
import {
  databaseExists,
  kongRowsIn,
  serverInfo,
  type TableCount,
  userTableCount,
} from '../postgres/catalog.js'
import { pgRestoreArgs, psqlArgs, quoteIdent } from '../postgres/commands.js'
import {
  type PgTarget,
  describeTarget,
  explainPgError,
  libpqEnv,
  withDatabase,
} from '../postgres/connection.js'
import {
  type DatabaseProperties,
  copyPropertiesSql,
  createLikeSql,
  databaseNames,
  findLeftovers,
  freshName,
  previousName,
  readDatabase,
  restoreMarker,
  sessionsOn,
  swapSql,
} from '../postgres/databases.js'
import { PsqlSession, literal } from '../postgres/session.js'
import {
  type SessionTimeZone,
  describeTimeZone,
  sessionTimeZone,
  timeZoneHint,
} from '../postgres/time-zone.js'
import { type PgClients, locatePgClients } from '../postgres/tools.js'
import { run } from '../process.js'
import { timestamp } from './folder.js'
import { compareWithManifest, type TableDifference } from './manifest-compare.js'
import { inputName } from '../jobs/inputs.js'

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
   * When clean replaces a database: keep the replaced one, renamed <database>_deckhand_previous_<UTC time>,
   * instead of dropping it once the restored one is in its place.
   */
  keepPrevious: boolean
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
        `restore only fills an empty or freshly bootstrapped gateway. Nothing was changed. If you mean to replace this configuration, set ${inputName('overwrite')} to true.`,
    )
    this.name = 'ConfiguredGatewayError'
  }
}

export type { TableDifference } from './manifest-compare.js'

export interface DbRestoreResult {
  database: string
  manifest: DbManifest
  /** Tables and rows compared with the manifest (0 when verify is off). */
  tablesChecked: number
  rowsChecked: number
  differences: TableDifference[]
  verified: boolean
  /** Whether the restore replaced an existing database: restored beside it, then swapped in by renaming. */
  replaced: boolean
  /** The database it replaced, kept under this name (keepPrevious); undefined when none was kept. */
  previous?: string
  /** The session time zone pg_restore (or psql) ran in, and why. */
  timeZone: SessionTimeZone & { description: string }
  durationMs: number
  notes: string[]
  /** The backup folder restored (the newest one of output-dir, when that was given). */
  folder: string
}

/** What every way of restoring shares, once the backup and the target were checked. */
interface Restore {
  options: PgRestoreOptions
  manifest: DbManifest
  clients: PgClients
  /** The dump file (or folder) to restore. */
  dumpPath: string
  /** The database restored into, by the name it has when the restore is done. */
  database: string
  /** What the tools connect to: the target, or with create the maintenance database. */
  connectTo: PgTarget
  /** libpq's environment for connectTo, with the session time zone on top. */
  env: Record<string, string | undefined>
  zone: SessionTimeZone & { description: string }
  recordedZone: string | undefined
  serverMajor: number
  notes: string[]
  folder: string
  t0: number
}

/**
 * Restores a db-dump backup. The backup's checksums are checked before the database is touched; a
 * database that already holds tables is refused unless clean is set; afterwards every table's row
 * count and every configuration table's checksum are compared with what the manifest recorded.
 *
 * Nothing that exists is ever changed in place. A restore that replaces a database (clean onto one that
 * holds tables, or create onto one that exists) restores into a new database beside it and swaps that in
 * by renaming only once it is complete and verified, whatever the jobs: pg_restore --clean in place loses
 * the old tables as soon as it starts, and --single-transaction (its only way to undo that) rules out
 * parallel jobs and --create. So without the CREATEDB privilege such a restore is refused up front. Into a
 * database that holds no tables, or a database create makes, there is nothing to lose, and the restore runs
 * in place: in one transaction where pg_restore allows it (no jobs, no create), so that a failure leaves no
 * half restore behind either.
 */
export async function restorePostgres(options: PgRestoreOptions): Promise<DbRestoreResult> {
  const { logger } = options
  const t0 = performance.now()
  const notes: string[] = []
  const { manifest, folder, picked } = await readManifest(options.input)
  if (picked) {
    const note = `${options.input} holds several backups: restoring the newest complete one, ${folder} (taken ${manifest.startedAt}).`
    logger.info(note)
    notes.push(note)
  }
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
      `With create, database-url must name a maintenance database such as postgres, not ${manifest.database} itself: the restore connects there to create ${manifest.database}.`,
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
    let serverMajor: number
    try {
      const server = await serverInfo(pre)
      targetZone = server.timeZone
      serverMajor = server.major
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
          ? `Database ${database} already exists on ${describeTarget(connectTo)}: set ${inputName('clean')} to replace it, or restore elsewhere. Nothing was changed.`
          : `${describeTarget(connectTo)} already holds tables: set ${inputName('clean')} to replace them, or restore into an empty database. Nothing was changed.`,
      )
    }

    const zone = { ...timeZone, description: describeTimeZone(timeZone, recordedZone, targetZone) }
    logger.info(`Session time zone: ${zone.description}.`)
    const restore: Restore = {
      options,
      manifest,
      clients,
      dumpPath: join(folder, manifest.dump.path),
      database,
      connectTo,
      // Every session that computes or compares generated values: pg_restore, psql, and the verification.
      env: { ...env, ...timeZone.env },
      zone,
      recordedZone,
      serverMajor,
      notes,
      folder,
      t0,
    }
    return nonEmpty ? await restoreBeside(restore) : await restoreInPlace(restore)
  } finally {
    await temp.cleanup()
  }
}

/** Parallel jobs pg_restore can use for this dump: the directory and custom formats only. */
function restoreJobs(r: Restore): number {
  const format = r.manifest.dump.format
  return format === 'directory' || format === 'custom' ? (r.options.jobs ?? availableParallelism()) : 1
}

/** Why pg_restore (or psql) failed, with what the user can do about it. */
function restoreFailure(
  r: Restore,
  restored: { signal: NodeJS.Signals | null; stderr: string },
  where: PgTarget,
): string {
  const plain = r.manifest.dump.format === 'plain'
  const why = restored.signal
    ? `The restore was killed (${restored.signal}).`
    : explainPgError(plain ? 'psql' : 'pg_restore', restored.stderr, where)
  const role = /role "[^"]+" does not exist/.test(restored.stderr)
    ? ` The backup names roles this server lacks: set ${inputName('no-owner')} to restore everything as the connecting user.`
    : ''
  const unknownZone = /invalid value for parameter "TimeZone"/i.test(restored.stderr)
    ? ` This server does not know the time zone ${r.zone.zone} (${r.zone.source === 'backup' ? 'recorded at dump time' : r.zone.source}): set PGTZ to a name it knows for the same zone.`
    : ''
  return `${why}${role}${unknownZone}`
}

/** Runs pg_restore (or psql for a plain dump) into `database`. */
function runRestore(
  r: Restore,
  database: string,
  how: { create: boolean; clean: boolean; jobs: number; singleTransaction: boolean },
) {
  const { clients, dumpPath } = r
  if (r.manifest.dump.format === 'plain') {
    return run(
      clients.psql,
      psqlArgs({ singleTransaction: true, file: dumpPath.endsWith('.sql') ? dumpPath : undefined }),
      {
        env: { ...r.env, PGDATABASE: database },
        stdin: dumpPath.endsWith('.gz') ? createReadStream(dumpPath).pipe(createGunzip()) : undefined,
      },
    )
  }
  return run(
    clients.pgRestore,
    pgRestoreArgs({ input: dumpPath, database, noOwner: r.options.noOwner, ...how }),
    { env: r.env },
  )
}

/** The result of a restore into `restored`, compared with the manifest when verify is on. */
async function check(r: Restore, restored: string): Promise<DbRestoreResult> {
  const result: DbRestoreResult = {
    database: r.database,
    manifest: r.manifest,
    tablesChecked: 0,
    rowsChecked: 0,
    differences: [],
    verified: false,
    replaced: false,
    timeZone: r.zone,
    durationMs: 0,
    notes: r.notes,
    folder: r.folder,
  }
  if (r.options.verify) {
    const session = await PsqlSession.open(r.clients.psql, r.env, withDatabase(r.connectTo, restored))
    try {
      await compare(session, r.manifest, result)
    } finally {
      await session.close()
    }
    result.verified = result.differences.length === 0
    const hint = result.verified ? undefined : timeZoneHint(r.zone, r.recordedZone)
    if (hint) r.notes.push(hint)
  }
  return result
}

/**
 * Into a database with no tables, or one create makes: nothing there to lose. One transaction where
 * pg_restore allows it, so that a failure leaves the database as empty as it was.
 */
async function restoreInPlace(r: Restore): Promise<DbRestoreResult> {
  const { options, database, connectTo } = r
  const format = r.manifest.dump.format
  let jobs = restoreJobs(r)
  const singleTransaction = !options.create && (format === 'plain' || jobs === 1)
  if (singleTransaction) jobs = 1
  options.checked?.()
  r.options.logger.info(
    `Restoring into ${describeTarget(withDatabase(connectTo, database))} with ${format === 'plain' ? 'psql' : 'pg_restore'} ${r.clients.version}` +
      `${jobs > 1 ? `, ${jobs} jobs` : ''}${singleTransaction ? ', in one transaction' : ''}${options.create ? ', creating the database' : ''}.`,
  )
  const restored = await runRestore(r, connectTo.database ?? database, {
    create: options.create,
    // Into a database create makes there is nothing to clean, and --clean would drop one made meanwhile.
    clean: options.clean && !options.create,
    jobs,
    singleTransaction,
  })
  if (restored.signal || restored.exitCode !== 0) {
    const why = restoreFailure(r, restored, connectTo)
    let state: string
    if (singleTransaction) {
      state = ` The restore ran in one transaction: ${database} is as it was (it held no tables).`
    } else if (options.create) {
      const session = await PsqlSession.open(r.clients.psql, r.env, connectTo).catch(() => undefined)
      const exists = session ? await databaseExists(session, database).catch(() => undefined) : undefined
      await session?.close()
      state =
        exists === false
          ? ` ${database} was not created; no existing database was changed.`
          : ` ${database} did not exist before this restore, and now holds the part of the backup restored before it stopped: drop it (DROP DATABASE ${quoteIdent(database)}) before trying again. No existing database was changed.`
    } else {
      state = ` ${database} held no tables before this restore, and now holds the part of the backup restored before it stopped (parallel jobs cannot run in one transaction): empty it, or drop and create it, before trying again.`
    }
    throw new DeckhandError(`${why}${state}`)
  }
  const result = await check(r, database)
  result.durationMs = Math.round(performance.now() - r.t0)
  return result
}

/**
 * Replaces a database that holds data: restores into a new database beside it (same owner, encoding,
 * locale, privileges and settings), verifies that, and only then swaps it in by renaming both in one
 * transaction. Until the swap the target is never touched, so any failure, or a kill of this process,
 * leaves it as it was; the new database is dropped on a failure, or by the next restore of the same target
 * when this process was killed (it is marked as deckhand's while it is restored).
 */
async function restoreBeside(r: Restore): Promise<DbRestoreResult> {
  const { options, database, notes } = r
  const { logger } = options
  const admin = await openMaintenance(r)
  const maintenance = admin.target
  const session = admin.session
  let fresh: string | undefined
  let keeper: PsqlSession | undefined
  try {
    const found = await readDatabase(session, database)
    if (!found) {
      throw new DeckhandError(`${database} does not exist on ${describeTarget(maintenance)} any more.`)
    }
    const { properties, rights } = found
    if (!rights.createdb) {
      throw new DeckhandError(
        `Replacing ${database} needs the CREATEDB privilege, which ${rights.user} lacks: the restore goes into a new database that is swapped in only once it is complete, so that a failure leaves ${database} as it was. ` +
          `Grant it (ALTER ROLE ${quoteIdent(rights.user)} CREATEDB, as a superuser), or restore without clean into an empty database. Nothing was changed.`,
      )
    }
    if (!rights.ownsDatabase) {
      throw new DeckhandError(
        `Replacing ${database} renames it, which only its owner ${properties.owner} (or a superuser) may do, and ${rights.user} is not a member of ${properties.owner}: ` +
          `connect as ${properties.owner}, or restore without clean into an empty database. Nothing was changed.`,
      )
    }
    const leftovers = await findLeftovers(session, database)
    for (const name of leftovers.inUse)
      notes.push(
        `${name} is being restored by another restore of ${database}: this one will replace ${database} too, whichever finishes last wins.`,
      )
    for (const name of leftovers.unmarked)
      notes.push(
        `${name} looks like a database an earlier restore of ${database} created and never swapped in: drop it if nobody uses it.`,
      )
    if (leftovers.previous.length)
      notes.push(
        `Databases earlier restores replaced are still kept: ${leftovers.previous.join(', ')}. Drop them when you no longer need to go back to them.`,
      )

    options.checked?.()
    for (const name of leftovers.abandoned) {
      const dropped = await dropDatabase(r, maintenance, name)
      notes.push(
        dropped
          ? `Dropped ${name}, which an earlier restore of ${database} left behind when it was stopped before it finished.`
          : `${name}, left by an earlier restore of ${database} that was stopped before it finished, could not be dropped: drop it yourself.`,
      )
    }

    const name = freshName(database)
    await session.query(createLikeSql(name, properties)).catch((err: unknown) => {
      const why = err instanceof Error ? err.message : String(err)
      throw new DeckhandError(
        `Could not create the database to restore into beside ${database}: ${why} Nothing was changed.`,
      )
    })
    fresh = name
    await session.query(`COMMENT ON DATABASE ${quoteIdent(fresh)} IS ${literal(restoreMarker(database))}`)
    for (const sql of copyPropertiesSql(fresh, properties)) await session.query(sql)
    // A session on the new database while it is restored: a later restore drops only what nobody uses.
    keeper = await PsqlSession.open(r.clients.psql, r.env, withDatabase(maintenance, fresh))

    const jobs = restoreJobs(r)
    logger.info(
      `Restoring into a new database ${describeTarget(withDatabase(maintenance, fresh))} with pg_restore ${r.clients.version}` +
        `${jobs > 1 ? `, ${jobs} jobs` : ''}; it replaces ${database} once it is complete${options.verify ? ' and verified' : ''}.`,
    )
    const restored = await runRestore(r, fresh, {
      create: false,
      clean: false,
      jobs,
      singleTransaction: false,
    })
    if (restored.signal || restored.exitCode !== 0) {
      throw new DeckhandError(restoreFailure(r, restored, withDatabase(maintenance, fresh)))
    }
    const result = await check(r, fresh)
    if (options.verify && !result.verified) {
      const hint = timeZoneHint(r.zone, r.recordedZone)
      throw new DeckhandError(
        `The restored copy differs from the backup's manifest in ${result.differences.length} table(s), so it did not replace ${database}.${hint ? ` ${hint}` : ''}`,
        result.differences.map((d) => `${d.table}: expected ${d.expected}, found ${d.actual}`),
      )
    }

    await keeper.close()
    keeper = undefined
    const swapped = await swap(r, maintenance, fresh, properties)
    fresh = undefined
    logger.info(
      `Swapped the restored database in as ${database}${swapped.ended ? `, ending ${swapped.ended} session(s) connected to the one it replaced` : ''}.`,
    )
    result.replaced = true
    if (options.keepPrevious) result.previous = swapped.previous
    else if (!(await dropDatabase(r, maintenance, swapped.previous))) {
      result.previous = swapped.previous
      notes.push(
        `The replaced database, now ${swapped.previous}, could not be dropped (keep-previous is false): drop it yourself.`,
      )
    }
    result.durationMs = Math.round(performance.now() - r.t0)
    return result
  } catch (err) {
    // Whether the swap happened is unknown: the new database is left for the user (or the next restore) to see.
    if (fresh === undefined || err instanceof UncertainSwapError) throw err
    await keeper?.close()
    const dropped = await dropDatabase(r, maintenance, fresh)
    if (!isDeckhandError(err)) throw err
    throw new DeckhandError(
      `${err.message} The database ${database} was not changed: the backup was restored into a new database, ${fresh}, ` +
        (dropped
          ? 'which was dropped.'
          : `which could not be dropped: drop it (DROP DATABASE ${quoteIdent(fresh)}), or the next restore of ${database} will.`),
      err.details,
    )
  } finally {
    await keeper?.close()
    await session.close()
  }
}

/**
 * A session on a database other than the one replaced, which cannot be renamed while this is connected to
 * it: with create, the maintenance database of database-url; otherwise postgres, else template1.
 */
async function openMaintenance(r: Restore): Promise<{ session: PsqlSession; target: PgTarget }> {
  const names = r.options.create
    ? [r.connectTo.database ?? 'postgres']
    : ['postgres', 'template1'].filter((name) => name !== r.database)
  let last: unknown
  for (const name of names) {
    const target = withDatabase(r.connectTo, name)
    try {
      return { session: await PsqlSession.open(r.clients.psql, r.env, target), target }
    } catch (err) {
      last = err
    }
  }
  const why = last instanceof Error ? last.message : String(last)
  throw new DeckhandError(
    `Replacing ${r.database} is done from another database of the server (${names.join(' or ')}), and none accepted a connection: ${why} Nothing was changed.`,
  )
}

/** Drops a database this restore owns (its new one, or the one it replaced); false when that failed. */
async function dropDatabase(r: Restore, maintenance: PgTarget, name: string): Promise<boolean> {
  let session: PsqlSession | undefined
  try {
    session = await PsqlSession.open(r.clients.psql, r.env, maintenance)
    // FORCE (PostgreSQL 13) ends what is left of a killed pg_restore's sessions.
    await session.query(
      `DROP DATABASE IF EXISTS ${quoteIdent(name)}${r.serverMajor >= 13 ? ' WITH (FORCE)' : ''}`,
    )
    return true
  } catch (err) {
    r.options.logger.warn(`Could not drop ${name}: ${err instanceof Error ? err.message : String(err)}`)
    return false
  } finally {
    await session?.close()
  }
}

const SWAP_ATTEMPTS = 3

/** The swap's connection broke and the server could not be asked again whether it committed. */
class UncertainSwapError extends DeckhandError {}

/**
 * Renames the target away and the restored database into its place, in one transaction. A session that
 * connects between ending the target's sessions and the rename makes it fail: it is tried again. When the
 * connection breaks, the catalog tells whether the transaction committed.
 */
async function swap(
  r: Restore,
  maintenance: PgTarget,
  fresh: string,
  properties: DatabaseProperties,
): Promise<{ previous: string; ended: number }> {
  const { database } = r
  for (let attempt = 1; ; attempt++) {
    const session = await PsqlSession.open(r.clients.psql, r.env, maintenance)
    let previous = ''
    try {
      const stamp = timestamp(new Date())
      const candidates = Array.from({ length: 99 }, (_, i) => previousName(database, stamp, i + 1))
      const taken = await databaseNames(session, candidates)
      previous = candidates.find((name) => !taken.has(name)) ?? candidates[0]!
      const [ended] = await session.query(swapSql(database, fresh, previous, properties.comment))
      return { previous, ended: Number(ended ?? 0) }
    } catch (err) {
      if (!isDeckhandError(err)) throw err
      const check = await PsqlSession.open(r.clients.psql, r.env, maintenance).catch((again: unknown) => {
        throw new UncertainSwapError(
          `The swap of the restored database ${fresh} for ${database} failed (${err.message}) and the server could not be asked whether it happened (${again instanceof Error ? again.message : String(again)}). ` +
            `If ${fresh} still exists, ${database} was not changed and the next restore of ${database} drops ${fresh}; otherwise ${fresh} is now ${database}, and the database it replaced is ${previous}.`,
        )
      })
      try {
        const present = await databaseNames(check, [database, fresh, previous])
        if (previous && present.has(previous) && present.has(database) && !present.has(fresh))
          return { previous, ended: 0 }
        if (/being accessed by other users/.test(err.message) && attempt < SWAP_ATTEMPTS) {
          r.options.logger.info(`${database} is still in use; trying the swap again.`)
          await sleep(1000 * attempt)
          continue
        }
        const sessions = await sessionsOn(check, database)
        throw new DeckhandError(
          `Could not swap the restored database in for ${database}: ${err.message}` +
            (sessions.length
              ? ` These sessions are still connected to ${database} (this role may not end them, or they kept reconnecting): stop their clients, or restore as a superuser, then try again.`
              : ''),
          sessions,
        )
      } finally {
        await check.close()
      }
    } finally {
      await session.close()
    }
  }
}

/** Counts and checksums the restored tables, in one snapshot, and records every difference from the manifest. */
async function compare(session: PsqlSession, manifest: DbManifest, result: DbRestoreResult): Promise<void> {
  const comparison = await compareWithManifest(session, manifest.tables, { checksums: true })
  result.tablesChecked += comparison.tables
  result.rowsChecked += comparison.rows
  append(result.differences, comparison.differences)
}
