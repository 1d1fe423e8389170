import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { chmod, copyFile, lstat, mkdir, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises'
import { basename, dirname, join, resolve, sep } from 'node:path'
import { extract, type ReadEntry } from 'tar'

import { digestFiles, listFiles, sha256File } from '../backup/checksums.js'
import { DeckhandError, errorMessage } from '../errors.js'
import { privateTempDir } from '../fs-atomic.js'
import type { Logger } from '../log.js'
import { FILES_FORMAT, type FilesManifest, MANIFEST_SUFFIX } from './backup.js'

export interface FilesRestoreOptions {
  /** The archive, its manifest, or a directory holding exactly one manifest (a downloaded artifact). */
  input: string
  /** Directory to restore into: the paths in the archive are relative to it. */
  target: string
  /** Replace existing files whose content differs; without it such files fail the restore up front. */
  overwrite: boolean
  /** Verify and compare, write nothing. */
  dryRun: boolean
  logger: Logger
}

export interface FilesRestoreResult {
  archive: string
  manifest: string
  /** Files written (in a dry run: that would be written), relative to target. */
  written: string[]
  /** Files already present with the same content. */
  unchanged: string[]
  /** Files present with other content: replaced with overwrite, else the restore was refused. */
  conflicts: string[]
  verified: true
}

const SHA256 = /^[0-9a-f]{64}$/

/** A path from a manifest is usable only as a plain relative path: no root, no `..`, no empty segment. */
function safeRelative(path: string): boolean {
  if (path === '' || path.startsWith('/') || /^[a-zA-Z]:/.test(path) || path.includes('\\')) return false
  return path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..')
}

function parseManifest(text: string, path: string): FilesManifest {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new DeckhandError(`${path} is not a files-backup manifest: ${errorMessage(err)}`)
  }
  const m = doc as Partial<FilesManifest> | null
  const problems: string[] = []
  if (!m || typeof m !== 'object') problems.push('not a JSON object')
  else {
    if (m.format !== FILES_FORMAT) problems.push(`format is ${JSON.stringify(m.format)}, not ${FILES_FORMAT}`)
    const a = m.archive
    if (
      !a ||
      typeof a.file !== 'string' ||
      a.file !== basename(a.file) ||
      a.file === '' ||
      typeof a.size !== 'number' ||
      typeof a.sha256 !== 'string' ||
      !SHA256.test(a.sha256)
    )
      problems.push('archive must name the archive file with its size and sha256')
    if (!Array.isArray(m.files) || m.files.length === 0) problems.push('files must list the archived files')
    else {
      const seen = new Set<string>()
      for (const f of m.files) {
        const ok =
          f &&
          typeof f.path === 'string' &&
          safeRelative(f.path) &&
          typeof f.size === 'number' &&
          typeof f.sha256 === 'string' &&
          SHA256.test(f.sha256) &&
          typeof f.mode === 'string' &&
          /^[0-7]{3,4}$/.test(f.mode)
        if (!ok) problems.push(`bad file entry ${JSON.stringify(f)}`)
        else if (seen.has(f.path)) problems.push(`${f.path} is listed twice`)
        else seen.add(f.path)
      }
    }
  }
  if (problems.length > 0)
    throw new DeckhandError(`${path} is not a valid files-backup manifest; nothing was restored.`, problems)
  return m as FilesManifest
}

/** Finds the manifest and archive the input names. */
async function locate(
  input: string,
): Promise<{ manifestPath: string; manifest: FilesManifest; archive: string }> {
  const path = resolve(input)
  const stats = await stat(path).catch(() => undefined)
  if (!stats) throw new DeckhandError(`${path}: no such file or directory.`)
  let manifestPath: string
  if (stats.isDirectory()) {
    const found = (await readdir(path)).filter((name) => name.endsWith(MANIFEST_SUFFIX))
    if (found.length !== 1) {
      throw new DeckhandError(
        `${path} holds ${found.length === 0 ? 'no' : found.length} *${MANIFEST_SUFFIX} file(s): ` +
          'name the archive or its manifest instead.',
        found,
      )
    }
    manifestPath = join(path, found[0]!)
  } else if (path.endsWith(MANIFEST_SUFFIX)) manifestPath = path
  else manifestPath = `${path}${MANIFEST_SUFFIX}`

  let text: string
  try {
    text = await readFile(manifestPath, 'utf8')
  } catch (err) {
    throw new DeckhandError(
      `Cannot read the manifest ${manifestPath} (${errorMessage(err)}): without it the archive cannot be ` +
        'verified, so nothing was restored. It is written beside the archive as <archive>.manifest.json.',
    )
  }
  const manifest = parseManifest(text, manifestPath)
  // Named directly, the archive is that file (renamed with its manifest, say); its checksum ties the two.
  const named = !stats.isDirectory() && !path.endsWith(MANIFEST_SUFFIX)
  const archive = named ? path : join(dirname(manifestPath), manifest.archive.file)
  return { manifestPath, manifest, archive }
}

/** Extracts into dir, refusing anything but plain files under relative paths. */
async function extractVerified(archive: string, dir: string, manifest: FilesManifest): Promise<void> {
  const problems: string[] = []
  await extract({
    file: archive,
    cwd: dir,
    preservePaths: false,
    noChmod: true,
    filter: (path: string, entry: unknown) => {
      const type = (entry as ReadEntry).type
      if (type !== 'File' && type !== 'OldFile' && type !== 'ContiguousFile' && type !== 'Directory') {
        problems.push(`${path} is a ${type}`)
        return false
      }
      const normalized = path.replace(/^(\.\/)+/, '').replace(/\/$/, '')
      if (!safeRelative(normalized)) {
        problems.push(`${path} is not a plain relative path`)
        return false
      }
      return true
    },
    onwarn: (_code: string, message: string) => problems.push(message),
  })
  if (problems.length > 0)
    throw new DeckhandError(
      `The archive holds entries a files-backup archive never has; nothing was restored.`,
      problems.slice(0, 20),
    )

  const files = await listFiles(dir)
  const digests = await digestFiles(dir, files)
  const expected = new Map(manifest.files.map((f) => [f.path, f]))
  const found = new Set(digests.map((d) => d.path))
  const extra = digests.filter((d) => !expected.has(d.path)).map((d) => `${d.path}: not in the manifest`)
  const missing = manifest.files.filter((f) => !found.has(f.path)).map((f) => `${f.path}: not in the archive`)
  const differ = digests
    .filter((d) => {
      const want = expected.get(d.path)
      return want !== undefined && (want.sha256 !== d.sha256 || want.size !== d.size)
    })
    .map((d) => `${d.path}: sha256 or size differs from the manifest`)
  const all = [...missing, ...extra, ...differ]
  if (all.length > 0) {
    throw new DeckhandError(
      `The archive's files do not match the manifest (${all.length} difference(s)); nothing was restored.`,
      all.slice(0, 20),
    )
  }
}

type Action = 'write' | 'unchanged' | 'conflict'

/** What restoring each file would do to target; paths whose place is taken by a non-file are problems. */
async function plan(
  manifest: FilesManifest,
  target: string,
): Promise<{ actions: Map<string, Action>; blocked: string[] }> {
  const actions = new Map<string, Action>()
  const blocked: string[] = []
  const dirs = new Map<string, boolean>()
  const prefix = target.endsWith(sep) ? target : `${target}${sep}`
  const usableDir = async (dir: string): Promise<boolean> => {
    if (dir === target || !dir.startsWith(prefix)) return true
    const known = dirs.get(dir)
    if (known !== undefined) return known
    const stats = await stat(dir).catch(() => undefined)
    const ok = (stats === undefined || stats.isDirectory()) && (await usableDir(dirname(dir)))
    dirs.set(dir, ok)
    return ok
  }
  for (const file of manifest.files) {
    const dest = join(target, file.path)
    if (!(await usableDir(dirname(dest)))) {
      blocked.push(`${file.path}: a parent directory's place is taken by a file`)
      continue
    }
    const stats = await stat(dest).catch(() => undefined)
    if (!stats) actions.set(file.path, 'write')
    else if (!stats.isFile()) blocked.push(`${file.path}: exists and is not a regular file`)
    else actions.set(file.path, (await sha256File(dest)).sha256 === file.sha256 ? 'unchanged' : 'conflict')
  }
  return { actions, blocked }
}

/** Copies a verified file into place: a temp file beside the destination, mode and mtime, then a rename. */
async function place(source: string, dest: string, mode: number, sha256: string): Promise<void> {
  await mkdir(dirname(dest), { recursive: true })
  const temp = join(dirname(dest), `.${basename(dest)}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    await copyFile(source, temp, constants.COPYFILE_EXCL)
    await chmod(temp, mode)
    const { mtime, atime } = await lstat(source)
    await utimes(temp, atime, mtime)
    if ((await sha256File(temp)).sha256 !== sha256)
      throw new Error(`${dest}: the copy does not match the archive`)
    await rename(temp, dest)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
}

/**
 * Restores a files-backup archive into target. The archive's checksum is checked against the manifest,
 * then it is extracted into a private directory and every file is checked too; only then is target
 * compared and written, so a tampered or mismatched backup, or an unwanted replacement, writes nothing.
 */
export async function filesRestore(options: FilesRestoreOptions): Promise<FilesRestoreResult> {
  const { manifestPath, manifest, archive } = await locate(options.input)
  const archiveStats = await stat(archive).catch(() => undefined)
  if (!archiveStats?.isFile())
    throw new DeckhandError(
      `${archive}, the archive ${manifestPath} describes, is missing; nothing was restored.`,
    )
  const digest = await sha256File(archive)
  if (digest.size !== manifest.archive.size || digest.sha256 !== manifest.archive.sha256) {
    throw new DeckhandError(
      `${archive} does not match its manifest (sha256 ${digest.sha256}, ${digest.size} bytes; the manifest says ` +
        `${manifest.archive.sha256}, ${manifest.archive.size} bytes): it was altered, truncated or belongs to another ` +
        'backup. Nothing was restored.',
    )
  }
  options.logger.info(`${archive}: sha256 matches the manifest (${manifest.files.length} file(s))`)

  const temp = await privateTempDir('deckhand-files-')
  try {
    await extractVerified(archive, temp.path, manifest)
    const target = resolve(options.target)
    const targetStats = await stat(target).catch(() => undefined)
    if (targetStats && !targetStats.isDirectory())
      throw new DeckhandError(`target ${target} is not a directory; nothing was restored.`)
    const { actions, blocked } = await plan(manifest, target)
    if (blocked.length > 0)
      throw new DeckhandError(
        `${blocked.length} file(s) cannot be restored into ${target}; nothing was written.`,
        blocked,
      )
    const of = (action: Action) => [...actions].filter(([, a]) => a === action).map(([path]) => path)
    const conflicts = of('conflict')
    const unchanged = of('unchanged')
    if (conflicts.length > 0 && !options.overwrite) {
      throw new DeckhandError(
        `${conflicts.length} file(s) in ${target} differ from the backup; nothing was written. ` +
          'Set overwrite to true to replace them.',
        conflicts,
      )
    }
    const written = manifest.files.map((f) => f.path).filter((path) => actions.get(path) !== 'unchanged')
    if (!options.dryRun) {
      for (const file of manifest.files) {
        if (actions.get(file.path) === 'unchanged') continue
        await place(join(temp.path, file.path), join(target, file.path), parseInt(file.mode, 8), file.sha256)
        options.logger.debug(`wrote ${file.path}`)
      }
    }
    return { archive, manifest: manifestPath, written, unchanged, conflicts, verified: true }
  } finally {
    await temp.cleanup()
  }
}
