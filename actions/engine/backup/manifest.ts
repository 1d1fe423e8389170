import { readdir, stat } from 'node:fs/promises'
import { dirname, isAbsolute, join, resolve } from 'node:path'

import { DeckhandError } from '../errors.js'
import { writeFileAtomic } from '../fs-atomic.js'
import { readJsonFile } from '../json-file.js'
import { type FileDigest, digestFiles, listFiles } from './checksums.js'

export const MANIFEST_FILE = 'manifest.json'
export const DB_MANIFEST_FORMAT = 'deckhand-db/1'

export interface TableRecord {
  schema: string
  table: string
  /** Rows in the dump: what the table holds after a restore (0 when its rows were skipped). */
  rows: number
  /** false when the profile or exclude-table-data left the rows out: the table is restored empty. */
  data: boolean
  /** For skipped tables: the planner's estimate of the rows left behind. */
  skippedRowsEstimate?: number
  /** Checksum of the rows (configuration tables), compared after a restore. */
  checksum?: string
}

/**
 * Everything needed to trust and restore a database backup, written last: a backup folder without a
 * complete manifest is not a backup.
 */
export interface DbManifest {
  format: typeof DB_MANIFEST_FORMAT
  engine: 'postgres' | 'redis'
  tool: { name: 'deckhand'; version: string }
  /** Client programs and their versions, e.g. { pg_dump: '15.18' }. */
  clients: Record<string, string>
  server: { version: string; versionNum?: number }
  /** Database name (Redis: the databases that held keys, e.g. db0,db1). */
  database: string
  encoding?: string
  dump: {
    /** The dump inside the folder: a file, or the folder of a directory-format dump. */
    path: string
    format: string
    compress?: string
    jobs?: number
    profile?: string
    /** Tables whose rows were left out, schema.table. */
    excludedTableData?: string[]
    /** The dump and the row counts come from one snapshot. */
    consistentSnapshot?: boolean
    /**
     * PostgreSQL: the TimeZone a new session on the source gets (pg_settings.reset_val), which db-restore runs in, so that
     * generated columns computed through the session's time zone come out as they were. Absent from older backups.
     */
    timeZone?: string
  }
  startedAt: string
  finishedAt: string
  tables: TableRecord[]
  totals: { tables: number; rows: number; sizeBytes: number }
  files: FileDigest[]
}

export async function writeManifest(folder: string, manifest: DbManifest): Promise<string> {
  const path = join(folder, MANIFEST_FILE)
  await writeFileAtomic(path, JSON.stringify(manifest, null, 2) + '\n')
  return path
}

/**
 * Finds the manifest for an input that names a backup folder, its manifest, or the dump inside it.
 * A missing or unreadable manifest is refused: without it nothing says the dump is complete.
 */
export async function readManifest(
  input: string,
): Promise<{ manifest: DbManifest; folder: string; path: string; picked?: boolean }> {
  const candidates = input.endsWith('.json')
    ? [resolve(input)]
    : [join(resolve(input), MANIFEST_FILE), join(dirname(resolve(input)), MANIFEST_FILE)]
  for (const path of candidates) {
    try {
      await stat(path)
    } catch {
      continue
    }
    const manifest = (await readJsonFile(path, 'deckhand database manifest')) as DbManifest
    if (manifest?.format !== DB_MANIFEST_FORMAT || !Array.isArray(manifest.files) || !manifest.dump?.path) {
      throw new DeckhandError(
        `${path} is not a deckhand database manifest (format ${DB_MANIFEST_FORMAT}): is this a db-dump backup folder?`,
      )
    }
    checkDumpPath(manifest, path)
    return { manifest, folder: dirname(path), path }
  }
  const newest = await newestBackupIn(resolve(input))
  if (newest) return { ...(await readManifest(newest)), picked: true }
  throw new DeckhandError(
    `No manifest.json for ${input}: a dump without its manifest is incomplete (the dump was interrupted, or only part of the backup was copied). Give the backup folder that db-dump wrote.`,
  )
}

/**
 * The newest complete backup in a folder db-dump wrote into (its output-dir): of the folders holding a
 * manifest.json of this format, the one whose dump started last. Folders being written (hidden, no manifest yet)
 * are never picked. Backups of several databases there are refused: which one was meant is not for deckhand to
 * guess.
 */
async function newestBackupIn(dir: string): Promise<string | undefined> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  const found: { folder: string; database: string; startedAt: string }[] = []
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue
    const path = join(dir, entry.name, MANIFEST_FILE)
    const manifest = (await readJsonFile(path, 'deckhand database manifest').catch(() => undefined)) as
      DbManifest | undefined
    if (manifest?.format !== DB_MANIFEST_FORMAT || typeof manifest.startedAt !== 'string') continue
    found.push({
      folder: join(dir, entry.name),
      database: String(manifest.database),
      startedAt: manifest.startedAt,
    })
  }
  if (found.length === 0) return undefined
  const databases = [...new Set(found.map((f) => f.database))].sort()
  if (databases.length > 1)
    throw new DeckhandError(
      `${dir} holds backups of ${databases.length} databases (${databases.join(', ')}): give the folder of the one to restore.`,
    )
  found.sort((a, b) =>
    a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.folder < b.folder ? -1 : 1,
  )
  return found[found.length - 1]!.folder
}

/**
 * The dump a manifest points at must be inside its backup folder and among the files it checksums (one
 * of them, or the folder holding them for the directory format): otherwise a hand-made manifest could make
 * db-restore run a file from anywhere, unverified, and call it verified.
 */
function checkDumpPath(manifest: DbManifest, path: string): void {
  const dump = manifest.dump.path
  const parts = typeof dump === 'string' ? dump.split(/[\\/]/) : []
  if (
    typeof dump !== 'string' ||
    isAbsolute(dump) ||
    parts.includes('..') ||
    parts.includes('') ||
    dump.includes('\0')
  ) {
    throw new DeckhandError(
      `${path}: the dump it names (${JSON.stringify(String(dump)).slice(0, 120)}) is not a path inside the backup folder: the backup cannot be trusted.`,
    )
  }
  const listed = manifest.files.some(
    (f) => typeof f?.path === 'string' && (f.path === dump || f.path.startsWith(`${dump}/`)),
  )
  if (!listed) {
    throw new DeckhandError(
      `${path}: the dump it names (${dump}) is not among the files it checksums: the backup cannot be verified, so it is not restored.`,
    )
  }
}

/**
 * Checks every file of the backup against the manifest: the same set of files, sizes and sha256.
 * Returns the problems found (empty when the backup is intact).
 */
export async function verifyFiles(folder: string, files: readonly FileDigest[]): Promise<string[]> {
  const problems: string[] = []
  const expected = new Map(files.map((f) => [f.path, f]))
  const onDisk = (await listFiles(folder)).filter((f) => resolve(f) !== join(resolve(folder), MANIFEST_FILE))
  const actual = await digestFiles(folder, onDisk)
  for (const file of actual) {
    const want = expected.get(file.path)
    if (!want) problems.push(`${file.path}: not in the manifest`)
    else if (want.size !== file.size)
      problems.push(`${file.path}: ${file.size} bytes, the manifest says ${want.size}`)
    else if (want.sha256 !== file.sha256) problems.push(`${file.path}: sha256 differs from the manifest`)
    expected.delete(file.path)
  }
  for (const missing of expected.keys()) problems.push(`${missing}: missing`)
  return problems
}
