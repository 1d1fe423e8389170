import { createHash } from 'node:crypto'
import {
  chmod,
  type FileHandle,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  utimes,
} from 'node:fs/promises'
import { basename, dirname, join, resolve, sep } from 'node:path'

import { sha256File } from '../backup/checksums.js'
import { DeckhandError, errorMessage, fileSystemError, isDeckhandError } from '../errors.js'
import { tempPathFor } from '../fs-atomic.js'
import { forgetOnStop } from '../shutdown.js'
import type { Logger } from '../log.js'
import { formatSize, limitError, readArchive } from './archive.js'
import { type ArchiveLimits, DEFAULT_LIMITS } from './limits.js'
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
  /** How much the archive may unpack to; DEFAULT_LIMITS for what is not given. */
  limits?: Partial<ArchiveLimits>
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

/**
 * The largest manifest read: a generous kilobyte per file or directory the limits allow, so that a hostile
 * manifest cannot take the memory an archive no longer can.
 */
function maxManifestBytes(limits: ArchiveLimits): number {
  return 16 * 1024 * 1024 + limits.maxEntries * 1024
}

/** Finds the manifest and archive the input names. */
async function locate(
  input: string,
  limits: ArchiveLimits,
): Promise<{ manifestPath: string; manifest: Manifest; archive: string }> {
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
    const size = (await stat(manifestPath)).size
    if (size > maxManifestBytes(limits))
      throw limitError(
        'maxEntries',
        limits,
        `${manifestPath} is ${formatSize(size)}, more than a manifest of ${limits.maxEntries} files and directories takes`,
        'nothing was restored',
      )
    text = await readFile(manifestPath, 'utf8')
  } catch (err) {
    if (isDeckhandError(err)) throw err
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

/**
 * The manifest against the limits, before the archive is opened: a backup over them is refused at once, with
 * what it lists, rather than part way through.
 */
function checkListed(manifest: Manifest, manifestPath: string, limits: ArchiveLimits): void {
  const consequence = 'nothing was restored'
  const entries = manifest.files.length + manifest.directories.length
  if (entries > limits.maxEntries)
    throw limitError(
      'maxEntries',
      limits,
      `${manifestPath} lists ${entries} files and directories, more than ${limits.maxEntries}`,
      consequence,
    )
  let total = 0
  for (const file of manifest.files) {
    if (file.size > limits.maxFileBytes)
      throw limitError(
        'maxFileBytes',
        limits,
        `${file.path} is ${formatSize(file.size)} by ${manifestPath}, larger than the limit for one file ` +
          `(${formatSize(limits.maxFileBytes)})`,
        consequence,
      )
    total += file.size
  }
  if (total > limits.maxBytes)
    throw limitError(
      'maxBytes',
      limits,
      `The files ${manifestPath} lists add up to ${formatSize(total)}, more than ${formatSize(limits.maxBytes)}`,
      consequence,
    )
}

/**
 * What a restore writes into target before anything is renamed into place: temporary files beside their
 * destinations (same file system, so the renames are atomic) and the directories made for them. discard()
 * removes exactly these, and only directories it made that are empty again: nothing of the user's.
 */
class Staging {
  /** Relative path -> temporary file beside its destination. */
  readonly files = new Map<string, string>()
  private readonly directories: string[] = []

  /** Makes dir and its missing parents, remembering which it made. */
  async directory(dir: string): Promise<void> {
    const first = await mkdir(dir, { recursive: true })
    if (first === undefined) return
    const made: string[] = []
    for (let d = dir; ; d = dirname(d)) {
      made.push(d)
      if (d === first || dirname(d) === d) break
    }
    // Parents before children: discard() walks the list backwards.
    for (let i = made.length - 1; i >= 0; i--) this.directories.push(made[i]!)
  }

  /** Forgets what was renamed into place: it is the user's now. */
  installed(): void {
    this.files.clear()
    this.directories.length = 0
  }

  async discard(): Promise<void> {
    for (const temp of this.files.values()) await rm(temp, { force: true })
    for (let i = this.directories.length - 1; i >= 0; i--)
      await rmdir(this.directories[i]!).catch(() => undefined)
    this.installed()
  }
}

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile'])

/** Writes all of a buffer: a write may be short (a disk filling up), and the next one then says why. */
async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  for (let offset = 0; offset < chunk.length;) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset)
    offset += bytesWritten
  }
}

/**
 * Reads the archive once, as a stream, within the limits: every entry must be a plain file or directory under a
 * plain relative path, and every file must match the manifest (size at its header, sha256 as it streams). Files
 * to be written (stage) go to temporary files beside their destinations as they are checked; nothing is renamed
 * into place here. Throws, with every difference found, when the archive does not match.
 */
async function extractVerified(
  archive: string,
  target: string,
  manifest: Manifest,
  limits: ArchiveLimits,
  stage: ((path: string) => boolean) | undefined,
  staging: Staging,
): Promise<void> {
  const problems: string[] = []
  const archivedDirs = new Set<string>()
  const expected = new Map(manifest.files.map((f) => [f.path, f]))
  const found = new Set<string>()
  const extra: string[] = []
  const differ: string[] = []

  await readArchive(
    archive,
    async (entry, body) => {
      const type = entry.type
      if (!FILE_TYPES.has(type) && type !== 'Directory') {
        problems.push(`${entry.path} is a ${type}`)
        return void entry.resume()
      }
      const path = entry.path.replace(/^(\.\/)+/, '').replace(/\/$/, '')
      if (!safeRelative(path)) {
        problems.push(`${entry.path} is not a plain relative path`)
        return void entry.resume()
      }
      if (type === 'Directory') {
        archivedDirs.add(path)
        return void entry.resume()
      }
      if (found.has(path)) {
        problems.push(`${path} is in the archive twice`)
        return void entry.resume()
      }
      found.add(path)
      const want = expected.get(path)
      if (want === undefined) {
        extra.push(`${path}: not in the manifest`)
        return void entry.resume()
      }
      if (entry.size !== want.size) {
        differ.push(`${path}: sha256 or size differs from the manifest`)
        return void entry.resume()
      }

      const hash = createHash('sha256')
      let handle: FileHandle | undefined
      if (stage?.(path)) {
        const dest = join(target, path)
        await staging.directory(dirname(dest))
        const temp = tempPathFor(dest)
        // Private until renamed: the content may be a private key.
        handle = await open(temp, 'wx', 0o600)
        staging.files.set(path, temp)
      }
      try {
        for await (const chunk of body()) {
          hash.update(chunk)
          if (handle) await writeAll(handle, chunk)
        }
        await handle?.sync()
      } finally {
        await handle?.close()
      }
      if (hash.digest('hex') !== want.sha256) differ.push(`${path}: sha256 or size differs from the manifest`)
      else if (handle) {
        const temp = staging.files.get(path)!
        await chmod(temp, parseInt(want.mode, 8))
        await utimes(temp, entry.atime ?? new Date(), entry.mtime ?? new Date())
      }
    },
    { limits, onWarn: (message) => problems.push(message), consequence: 'nothing was restored' },
  )
  if (problems.length > 0)
    throw new DeckhandError(
      `The archive holds entries a files-backup archive never has; nothing was restored.`,
      problems.slice(0, 20),
    )

  const missing = manifest.files.filter((f) => !found.has(f.path)).map((f) => `${f.path}: not in the archive`)
  // The empty directories must all be there; other directory entries may only be parents of what is listed.
  const listed = new Set(manifest.directories.map((d) => d.path))
  const parents = new Set<string>()
  for (const path of expected.keys()) for (const parent of parentDirectories(path)) parents.add(parent)
  for (const path of listed) for (const parent of parentDirectories(path)) parents.add(parent)
  const missingDirs = [...listed].filter((d) => !archivedDirs.has(d)).map((d) => `${d}/: not in the archive`)
  const extraDirs = [...archivedDirs]
    .filter((d) => !listed.has(d) && !parents.has(d))
    .map((d) => `${d}/: not in the manifest`)
  const all = missing.concat(missingDirs, extra, extraDirs, differ)
  if (all.length > 0) {
    throw new DeckhandError(
      `The archive's files do not match the manifest (${all.length} difference(s)); nothing was restored.`,
      all.slice(0, 20),
    )
  }
}

/**
 * Restores a files-backup archive into target. The archive's checksum is checked against the manifest and
 * what target holds is compared with it; then the archive is read once, as a stream within the limits, every
 * file checked against the manifest and staged beside its destination. Only when all of it matched are the
 * files renamed into place, so a tampered, mismatched or oversized backup, a full disk or an unwanted
 * replacement leaves target as it was.
 */
export async function filesRestore(options: FilesRestoreOptions): Promise<FilesRestoreResult> {
  const limits: ArchiveLimits = { ...DEFAULT_LIMITS, ...options.limits }
  const { manifestPath, manifest, archive } = await locate(options.input, limits)
  checkListed(manifest, manifestPath, limits)
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

  const staging = new Staging()
  // A dry run reads and checks everything all the same, and writes nothing anywhere.
  const stage = options.dryRun ? undefined : (path: string) => actions.get(path) !== 'unchanged'
  try {
    await extractVerified(archive, target, manifest, limits, stage, staging)
    if (!options.dryRun) {
      const created = manifest.directories.filter((d) => newDirectories.has(d.path))
      for (const dir of created) await staging.directory(join(target, dir.path))
      // Everything is on disk and verified: renames need no space, so the restore completes from here.
      for (const file of manifest.files) {
        const temp = staging.files.get(file.path)
        if (temp === undefined) continue
        await rename(temp, join(target, file.path))
        forgetOnStop(temp)
        staging.files.delete(file.path)
        options.logger.debug(`wrote ${file.path}`)
      }
      staging.installed()
      // Deepest first: a read-only parent would block its child.
      const deepestFirst = [...created].sort((a, b) => b.path.length - a.path.length)
      for (const dir of deepestFirst) await chmod(join(target, dir.path), parseInt(dir.mode, 8))
    }
  } catch (err) {
    await staging.discard()
    throw fileSystemError(err, target)
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
}
