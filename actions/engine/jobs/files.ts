import { readdir } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

import { COMMANDS } from '../../spec.js'
import { DeckhandError } from '../errors.js'
import { filesBackup, MANIFEST_SUFFIX } from '../files/backup.js'
import { MiB } from '../files/limits.js'
import { filesRestore } from '../files/restore.js'
import { checkOutputFile } from '../output-paths.js'
import { emptyReport, formatBytes, type Table } from '../report.js'
import { resolveBackupInput } from './artifacts.js'
import { fetchFromStore, namesStoredBackup, storeOutputs, storeBackup } from './store.js'
import type { JobContext, JobResult } from './context.js'
import { Inputs, type InputSource } from './inputs.js'

/** The directory a file is counted under: its first two directory levels (etc/kong, opt/tyk-gateway). */
function topDirectory(path: string): string {
  const dirs = path.split('/').slice(0, -1)
  return dirs.length === 0 ? '.' : dirs.slice(0, 2).join('/')
}

/** A table is folded when it would push the rest of the summary out of sight. */
const FOLD_ROWS = 20

/** Lists paths in a line, the first few only: tables carry the full list. */
function someOf(paths: readonly string[], max = 10): string {
  const shown = paths.slice(0, max).join(', ')
  return paths.length > max ? `${shown} and ${paths.length - max} more` : shown
}

export async function filesBackupJob(source: InputSource, ctx: JobContext): Promise<JobResult> {
  const inputs = new Inputs(COMMANDS['files-backup']!.inputs, source)
  const includeSecrets = inputs.boolean('include-secrets')
  const output = inputs.string('output')!
  await checkOutputFile('output', output, 'files-backup.tar.gz')
  await checkOutputFile('output', `${output}.manifest.json`)
  const started = new Date()
  const result = await filesBackup({
    patterns: inputs.list('paths'),
    root: inputs.string('root')!,
    output,
    includeSecrets,
    logger: ctx.logger,
  })
  const total = result.files.reduce((sum, f) => sum + f.size, 0)
  const report = emptyReport('deckhand files-backup')
  const stored = await storeBackup(
    inputs,
    ctx,
    {
      kind: 'files',
      source: 'files',
      time: started,
      root: dirname(result.archive),
      files: [result.archive, result.manifest],
      summary: { files: result.files.length, bytes: total },
      // Private keys, or configuration that names passwords (kong.conf's pg_password): encrypt unless told not to.
      sensitive: true,
      artifactName: basename(result.archive),
      location: result.archive,
    },
    report,
  )
  const empty = result.directories.map((d) => d.path)
  report.lines.push(
    `Backed up ${result.files.length} file(s), ${formatBytes(total)}` +
      (empty.length ? `, and ${empty.length} empty directory(ies)` : '') +
      ` into ${result.archive} (${formatBytes(result.sizeBytes)}); checksums in ${result.manifest}.`,
  )
  if (empty.length > 0)
    report.lines.push(`Empty directories in the archive, recreated by files-restore: ${someOf(empty)}.`)
  if (result.secretsExcluded.length > 0) {
    report.lines.push(
      `${result.secretsExcluded.length} private key/certificate file(s) left out (include-secrets: false): ` +
        `${someOf(result.secretsExcluded)}. Back them up separately, in a secret store.`,
    )
  } else if (includeSecrets) {
    report.lines.push(
      `Private keys and certificates are included (include-secrets: true): keep this archive as secret as the keys. ` +
        `${result.secretsIncluded} such file(s) in it.`,
    )
  } else {
    report.lines.push('No private key or certificate files matched.')
  }

  const groups = new Map<string, { count: number; size: number }>()
  for (const file of result.files) {
    const group = groups.get(topDirectory(file.path)) ?? { count: 0, size: 0 }
    group.count++
    group.size += file.size
    groups.set(topDirectory(file.path), group)
  }
  const byDirectory: Table = {
    caption: 'Files by directory',
    header: ['directory', 'files', 'size'],
    rows: [...groups]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([dir, g]) => [dir, String(g.count), formatBytes(g.size)]),
    collapsed: groups.size > FOLD_ROWS,
  }
  report.tables.push(byDirectory)
  if (result.secretsExcluded.length > 0) {
    report.tables.push({
      caption: 'Left out: private keys and certificates',
      header: ['file'],
      rows: result.secretsExcluded.map((path) => [path]),
      collapsed: result.secretsExcluded.length > FOLD_ROWS,
    })
  }

  return {
    ok: true,
    report,
    outputs: {
      path: result.archive,
      manifest: result.manifest,
      files: String(result.files.length),
      'size-bytes': String(result.sizeBytes),
      'secrets-excluded': result.secretsExcluded.join('\n'),
      ...storeOutputs(stored),
    },
  }
}

export async function filesRestoreJob(source: InputSource, ctx: JobContext): Promise<JobResult> {
  const inputs = new Inputs(COMMANDS['files-restore']!.inputs, source)
  const target = inputs.string('target')!
  const overwrite = inputs.boolean('overwrite')
  const dryRun = inputs.boolean('dry-run')
  const limits = {
    maxBytes: inputs.integer('max-size-mib')! * MiB,
    maxFileBytes: inputs.integer('max-file-size-mib')! * MiB,
    maxEntries: inputs.integer('max-files')!,
  }
  const named = inputs.string('input')!
  const input = namesStoredBackup(inputs, named)
    ? await storedArchive(inputs, ctx, named)
    : await resolveBackupInput(inputs, ctx, named)
  let result: Awaited<ReturnType<typeof filesRestore>>
  try {
    result = await filesRestore({ input: input.path, target, overwrite, dryRun, limits, logger: ctx.logger })
  } finally {
    await input.cleanup()
  }

  const replaced = new Set(result.conflicts)
  const created = result.written.filter((path) => !replaced.has(path))
  const total = result.written.length + result.unchanged.length
  const dirs = result.directories.length + result.directoriesPresent.length
  const report = emptyReport(`deckhand files-restore${dryRun ? ' (dry run)' : ''}`)
  report.lines.push(
    `Verified ${basename(result.archive)}: the archive and all ${total} file(s)` +
      (dirs ? ` and ${dirs} empty directory(ies)` : '') +
      ' match the manifest (sha256).',
    dryRun
      ? `Dry run: would write ${result.written.length} file(s) into ${target} (${created.length} new, ${replaced.size} replacing ` +
          `different content); ${result.unchanged.length} unchanged. Nothing was written.`
      : `Wrote ${result.written.length} file(s) into ${target} (${created.length} new, ${replaced.size} replaced); ` +
          `${result.unchanged.length} already up to date.`,
  )
  if (dirs > 0)
    report.lines.push(
      `${dryRun ? 'Would create' : 'Created'} ${result.directories.length} empty directory(ies) of the backup; ` +
        `${result.directoriesPresent.length} already there.`,
    )
  const rows = [
    ...created.map((path) => [path, dryRun ? 'would create' : 'created']),
    ...result.conflicts.map((path) => [path, dryRun ? 'would replace' : 'replaced']),
    ...result.unchanged.map((path) => [path, 'unchanged']),
    ...result.directories.map((path) => [`${path}/`, dryRun ? 'would create (empty)' : 'created (empty)']),
    ...result.directoriesPresent.map((path) => [`${path}/`, 'already there']),
  ].sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0))
  report.tables.push({
    caption: 'Files',
    header: ['file', 'action'],
    rows,
    collapsed: rows.length > FOLD_ROWS,
  })

  return {
    ok: true,
    report,
    outputs: {
      files: String(result.written.length),
      unchanged: String(result.unchanged.length),
      verified: String(result.verified),
    },
  }
}

/** A files-backup from a store: fetched, checked and decrypted; the archive inside it, its manifest beside it. */
async function storedArchive(
  inputs: Inputs,
  ctx: JobContext,
  ref: string,
): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const fetched = await fetchFromStore(inputs, ctx, 'files', ref)
  const names = (await readdir(fetched.path)).filter((name) => !name.endsWith(MANIFEST_SUFFIX))
  if (names.length !== 1) {
    await fetched.cleanup()
    throw new DeckhandError(
      `${fetched.backup.folder} in ${fetched.store.description} is not a files-backup (one archive and its manifest)`,
    )
  }
  return { path: join(fetched.path, names[0]!), cleanup: fetched.cleanup }
}
