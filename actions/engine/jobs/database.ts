import { basename } from 'node:path'

import { listFiles } from '../backup/checksums.js'
import type { Profile } from '../backup/kong-profile.js'
import { type DbDumpResult, dumpPostgres } from '../database/pg-dump.js'
import { restorePostgres } from '../database/pg-restore.js'
import { dumpRedis } from '../database/redis-dump.js'
import { DUMP_FORMATS, type DumpFormat } from '../postgres/commands.js'
import { parsePgTarget } from '../postgres/connection.js'
import { parseRedisTarget } from '../redis/connection.js'
import { checkOutputDirectory } from '../output-paths.js'
import { emptyReport, formatBytes } from '../report.js'
import { COMMANDS } from '../../spec.js'
import { resolveBackupInput } from './artifacts.js'
import { safeName } from '../database/folder.js'
import { fetchFromStore, namesStoredBackup, storeBackup, storeOutputs } from './store.js'
import type { JobContext, JobResult } from './context.js'
import { Inputs, type InputSource } from './inputs.js'

const number = (n: number) => n.toLocaleString('en-US')
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

export async function dbDumpJob(source: InputSource, ctx: JobContext): Promise<JobResult> {
  const inputs = new Inputs(COMMANDS['db-dump']!.inputs, source)
  const engine = inputs.oneOf('engine', ['postgres', 'redis'] as const)
  await checkOutputDirectory('output-dir', inputs.string('output-dir')!)
  const url = inputs.string('database-url')
  if (url) ctx.secret(url)
  let result: DbDumpResult
  if (engine === 'redis') {
    const target = parseRedisTarget(url)
    if (target.password) ctx.secret(target.password)
    result = await dumpRedis({
      target,
      outputDir: inputs.string('output-dir')!,
      verify: inputs.boolean('verify'),
      logger: ctx.logger,
    })
  } else {
    const target = parsePgTarget(url, ctx.env)
    if (target.password) ctx.secret(target.password)
    result = await dumpPostgres({
      target,
      format: inputs.oneOf<DumpFormat>('format', DUMP_FORMATS),
      jobs: inputs.integer('jobs'),
      compress: inputs.string('compress'),
      profile: inputs.oneOf<Profile>('profile', ['kong', 'none']),
      excludeTableData: inputs.list('exclude-table-data'),
      outputDir: inputs.string('output-dir')!,
      verify: inputs.boolean('verify'),
      binDir: inputs.string('postgres-bin'),
      pathEnv: ctx.env.PATH,
      logger: ctx.logger,
    })
  }
  const { manifest } = result
  const report = emptyReport('deckhand db-dump')
  const stored = await storeBackup(
    inputs,
    ctx,
    {
      kind: 'db',
      source: safeName(manifest.database),
      time: new Date(manifest.startedAt),
      root: result.folder,
      files: await listFiles(result.folder),
      summary: {
        engine: manifest.engine,
        database: manifest.database,
        tables: manifest.totals.tables,
        rows: manifest.totals.rows,
      },
      sensitive: true,
      artifactName: basename(result.folder),
    },
    report,
  )
  const skipped = manifest.tables.filter((t) => !t.data)
  report.lines.push(
    `Backed up ${manifest.database} (${manifest.engine === 'redis' ? 'Redis' : 'PostgreSQL'} ${manifest.server.version}): ` +
      `${number(manifest.totals.tables)} ${manifest.engine === 'redis' ? 'database(s)' : 'tables'}, ${number(manifest.totals.rows)} ${manifest.engine === 'redis' ? 'keys' : 'rows'}, ` +
      `${formatBytes(manifest.totals.sizeBytes)} in ${seconds(result.durationMs)}, to ${result.folder}.`,
  )
  if (manifest.engine === 'postgres') {
    report.lines.push(
      `Format ${manifest.dump.format}${manifest.dump.jobs ? ` (${manifest.dump.jobs} jobs)` : ''}, profile ${manifest.dump.profile}` +
        (skipped.length
          ? `: rows of ${skipped.length} runtime table(s) left out (${skipped.map((t) => t.table).join(', ')}; about ${number(skipped.reduce((s, t) => s + (t.skippedRowsEstimate ?? 0), 0))} rows), their definitions kept.`
          : '.'),
    )
    if (manifest.dump.timeZone)
      report.lines.push(`Session time zone ${manifest.dump.timeZone}, recorded for db-restore to run in.`)
  }
  report.lines.push(
    `Verified: ${inputs.boolean('verify') ? 'the dump reads back and every checksum matches manifest.json' : 'no (verify is false)'}.`,
  )
  for (const note of result.notes) report.annotations.push({ level: 'warning', message: note })
  report.tables.push({
    caption: manifest.engine === 'redis' ? 'Keys per database' : 'Rows per table',
    header: manifest.engine === 'redis' ? ['database', 'keys'] : ['table', 'rows', 'data'],
    rows: manifest.tables.map((t) =>
      manifest.engine === 'redis'
        ? [t.table, number(t.rows)]
        : [
            `${t.schema}.${t.table}`,
            t.data ? number(t.rows) : `~${number(t.skippedRowsEstimate ?? 0)}`,
            t.data ? 'dumped' : 'skipped',
          ],
    ),
    collapsed: true,
  })
  return {
    ok: true,
    report,
    outputs: {
      path: result.folder,
      'size-bytes': String(manifest.totals.sizeBytes),
      manifest: result.manifestPath,
      tables: String(manifest.totals.tables),
      rows: String(manifest.totals.rows),
      'duration-ms': String(result.durationMs),
      ...storeOutputs(stored),
    },
  }
}

export async function dbRestoreJob(source: InputSource, ctx: JobContext): Promise<JobResult> {
  const inputs = new Inputs(COMMANDS['db-restore']!.inputs, source)
  const url = inputs.string('database-url')
  if (url) ctx.secret(url)
  const target = parsePgTarget(url, ctx.env)
  if (target.password) ctx.secret(target.password)
  const named = inputs.string('input')!
  const fromStore = namesStoredBackup(inputs, named)
    ? await fetchFromStore(inputs, ctx, 'db', named)
    : undefined
  const input = fromStore ?? (await resolveBackupInput(inputs, ctx, named))
  try {
    const result = await restorePostgres({
      input: input.path,
      target,
      create: inputs.boolean('create'),
      clean: inputs.boolean('clean'),
      jobs: inputs.integer('jobs'),
      verify: inputs.boolean('verify'),
      noOwner: inputs.boolean('no-owner'),
      keepPrevious: inputs.boolean('keep-previous'),
      binDir: inputs.string('postgres-bin'),
      pathEnv: ctx.env.PATH,
      logger: ctx.logger,
    })
    const report = emptyReport('deckhand db-restore')
    const verify = inputs.boolean('verify')
    const ok = !verify || result.verified
    report.lines.push(
      ok
        ? `Restored ${result.manifest.database} (backup of ${result.manifest.startedAt}) into ${result.database} in ${seconds(result.durationMs)}.`
        : `Restored ${result.manifest.database} into ${result.database}, but ${result.differences.length} table(s) differ from the backup's manifest.`,
      verify
        ? `${result.verified ? 'Verified' : 'Checked'}: ${number(result.tablesChecked)} tables and ${number(result.rowsChecked)} rows compared with the manifest (row counts, and checksums of configuration tables).`
        : 'Not verified (verify is false).',
      `Session time zone: ${result.timeZone.description}.`,
    )
    if (result.replaced) {
      report.lines.push(
        result.previous
          ? `It replaced the existing ${result.database} once complete: that database is kept as ${result.previous} (rename it back to roll back; drop it when you no longer need it).`
          : `It replaced the existing ${result.database} once complete; the replaced database was dropped (keep-previous is false).`,
      )
    }
    for (const note of result.notes) report.annotations.push({ level: 'warning', message: note })
    const backup = fromStore ? `${fromStore.store.description}/${fromStore.backup.folder}` : result.folder
    if (fromStore) {
      report.lines.push(
        `Backup: ${backup}, checked against its store manifest${fromStore.backup.verified ? '; verified by an earlier restore' : ''}.`,
      )
      if (inputs.boolean('mark-verified') && ok && verify) {
        await fromStore.store.markVerified(fromStore.backup, {
          database: result.database,
          tables: result.tablesChecked,
          rows: result.rowsChecked,
        })
        report.lines.push(`Recorded the verification beside it (deckhand-verified.json).`)
      }
    }
    if (result.differences.length) {
      report.tables.push({
        caption: 'Differences from the manifest',
        header: ['table', 'expected', 'found'],
        rows: result.differences.map((d) => [d.table, d.expected, d.actual]),
      })
      for (const d of result.differences.slice(0, 10))
        report.annotations.push({
          level: 'error',
          message: `${d.table}: expected ${d.expected}, found ${d.actual}`,
        })
    }
    return {
      ok,
      report,
      outputs: {
        database: result.database,
        backup,
        'previous-database': result.previous ?? '',
        tables: String(result.tablesChecked),
        rows: String(result.rowsChecked),
        verified: String(result.verified),
        'duration-ms': String(result.durationMs),
      },
    }
  } finally {
    await input.cleanup()
  }
}
