import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { chmod, copyFile, lstat, mkdir, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises'
import { basename, dirname, join, resolve, sep } from 'node:path'
import { extract, type ReadEntry } from 'tar'

import { digestFiles, listFiles, sha256File } from '../backup/checksums.js'
import { DeckhandError, errorMessage } from '../errors.js'
import { privateTempDir } from '../fs-atomic.js'
import type { Logger } from '../log.js'
import {
  type DirectoryEntry,
  FILES_FORMAT,
  type FilesManifest,
  MANIFEST_SUFFIX,
  parentDirectories,
} from './backup.js'

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
  /** Empty directories of the backup created (in a dry run: that would be created), relative to target. */
  directories: string[]
  /** Empty directories of the backup already present (left as they are, mode included). */
  directoriesPresent: string[]
  verified: true
}

/** A manifest as read: older ones list no directories. */
type Manifest = FilesManifest & { directories: DirectoryEntry[] }

const SHA256 = /^[0-9a-f]{64}$/

/** A path from a manifest is usable only as a plain relative path: no root, no `..`, no empty segment. */
function safeRelative(path: string): boolean {
  if (path === '' || path.startsWith('/') || /^[a-zA-Z]:/.test(path) || path.includes('\\')) return false
  return path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..')
}

function parseManifest(text: string, path: string): Manifest {
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
    const dirs: unknown = m.directories ?? []
    if (!Array.isArray(dirs)) problems.push('directories must list the empty directories')
    else if (!Array.isArray(m.files) || (m.files.length === 0 && dirs.length === 0))
      problems.push('files must list the archived files')
    else {
      const seen = new Set<string>()
      const add = (path: string) => {
        if (seen.has(path)) problems.push(`${path} is listed twice`)
        else seen.add(path)
      }
      for (const f of m.files) {
        const ok =
          f &&
          typeof f.path === 'string' &&
          safeRelative(f.path) &&
          typeof f.size === 'number' &&
          typeof f.sha256 === 'string' &&
          SHA256.test(f.sha256) &&
          validMode(f.mode)
        if (!ok) problems.push(`bad file entry ${JSON.stringify(f)}`)
        else add(f.path)
      }
      for (const d of dirs as Partial<DirectoryEntry>[]) {
        if (!d || typeof d.path !== 'string' || !safeRelative(d.path) || !validMode(d.mode))
          problems.push(`bad directory entry ${JSON.stringify(d)}`)
        else add(d.path)
      }
      // Nothing can be restored beneath a file.
      const files = new Set(m.files.map((f) => f?.path))
      for (const path of seen) {
        const file = parentDirectories(path).find((parent) => files.has(parent))
        if (file !== undefined) problems.push(`${path} lies beneath the file ${file}`)
      }
    }
  }
  if (problems.length > 0)
    throw new DeckhandError(`${path} is not a valid files-backup manifest; nothing was restored.`, problems)
  const manifest = m as FilesManifest
  return { ...manifest, directories: manifest.directories ?? [] }
}

function validMode(mode: unknown): boolean {
  return typeof mode === 'string' && /^[0-7]{3,4}$/.test(mode)
}

/** Finds the manifest and archive the input names. */
async function locate(input: string): Promise<{ manifestPath: string; manifest: Manifest; archive: string }> {
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

/** Extracts into dir, refusing anything but plain files and directories under relative paths. */
async function extractVerified(archive: string, dir: string, manifest: Manifest): Promise<void> {
  const problems: string[] = []
  const archivedDirs = new Set<string>()
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
      if (type === 'Directory') archivedDirs.add(normalized)
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
  // The empty directories must all be there; other directory entries may only be parents of what is listed.
  const listed = new Set(manifest.directories.map((d) => d.path))
  const parents = new Set([...manifest.files.map((f) => f.path), ...listed].flatMap(parentDirectories))
  const missingDirs = [...listed].filter((d) => !archivedDirs.has(d)).map((d) => `${d}/: not in the archive`)
  const extraDirs = [...archivedDirs]
    .filter((d) => !listed.has(d) && !parents.has(d))
    .map((d) => `${d}/: not in the manifest`)
  const all = [...missing, ...missingDirs, ...extra, ...extraDirs, ...differ]
  if (all.length > 0) {
    throw new DeckhandError(
      `The archive's files do not match the manifest (${all.length} difference(s)); nothing was restored.`,
      all.slice(0, 20),
    )
  }
}

type Action = 'write' | 'unchanged' | 'conflict'

/**
 * What restoring each file and empty directory would do to target; paths whose place is taken by something else
 * are problems. A directory already there is left as it is, so nothing is ever changed through a link.
 */
async function plan(
  manifest: Manifest,
  target: string,
): Promise<{ actions: Map<string, Action>; newDirectories: Set<string>; blocked: string[] }> {
  const actions = new Map<string, Action>()
  const newDirectories = new Set<string>()
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
  for (const dir of manifest.directories) {
    const dest = join(target, dir.path)
    if (!(await usableDir(dirname(dest)))) {
      blocked.push(`${dir.path}/: a parent directory's place is taken by a file`)
      continue
    }
    // lstat too: a broken link is in the way, although stat finds nothing there.
    const stats = (await stat(dest).catch(() => undefined)) ?? (await lstat(dest).catch(() => undefined))
    if (!stats) newDirectories.add(dir.path)
    else if (!stats.isDirectory()) blocked.push(`${dir.path}/: exists and is not a directory`)
  }
  return { actions, newDirectories, blocked }
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

/** Creates empty directories, then sets their modes deepest first: a read-only parent would block its child. */
async function createDirectories(target: string, directories: readonly DirectoryEntry[]): Promise<void> {
  for (const dir of directories) await mkdir(join(target, dir.path), { recursive: true })
  const deepestFirst = [...directories].sort((a, b) => b.path.length - a.path.length)
  for (const dir of deepestFirst) await chmod(join(target, dir.path), parseInt(dir.mode, 8))
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
  options.logger.info(
    `${archive}: sha256 matches the manifest (${manifest.files.length} file(s), ${manifest.directories.length} empty directory(ies))`,
  )

  const temp = await privateTempDir('deckhand-files-')
  try {
    await extractVerified(archive, temp.path, manifest)
    const target = resolve(options.target)
    const targetStats = await stat(target).catch(() => undefined)
    if (targetStats && !targetStats.isDirectory())
      throw new DeckhandError(`target ${target} is not a directory; nothing was restored.`)
    const { actions, newDirectories, blocked } = await plan(manifest, target)
    if (blocked.length > 0)
      throw new DeckhandError(
        `${blocked.length} path(s) cannot be restored into ${target}; nothing was written.`,
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
      await createDirectories(
        target,
        manifest.directories.filter((d) => newDirectories.has(d.path)),
      )
    }
    const directories = manifest.directories.map((d) => d.path)
    return {
      archive,
      manifest: manifestPath,
      written,
      unchanged,
      conflicts,
      directories: directories.filter((path) => newDirectories.has(path)),
      directoriesPresent: directories.filter((path) => !newDirectories.has(path)),
      verified: true,
    }
  } finally {
    await temp.cleanup()
  }
}
