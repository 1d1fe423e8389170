import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, open, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Pack } from 'tar'
import { glob, isDynamicPattern } from 'tinyglobby'

import { sha256File } from '../backup/checksums.js'
import { DeckhandError, fileSystemError } from '../errors.js'
import { stageFile, tempPathFor } from '../fs-atomic.js'
import { forgetOnStop } from '../shutdown.js'
import type { Logger } from '../log.js'
import { readArchive } from './archive.js'
import { DEFAULT_LIMITS, LIMIT_INPUTS, mebibytes, NO_LIMITS } from './limits.js'
import { inputName } from '../jobs/inputs.js'

export const FILES_FORMAT = 'deckhand-files/1'
export const MANIFEST_SUFFIX = '.manifest.json'

export interface FileEntry {
  /** Path relative to the backup's root, with forward slashes. */
  path: string
  size: number
  sha256: string
  /** Permission bits as an octal string, e.g. '0644'. */
  mode: string
}

/** A directory the archive holds empty: nothing of what it held is in the backup, but it is restored. */
export interface DirectoryEntry {
  /** Path relative to the backup's root, with forward slashes. */
  path: string
  /** Permission bits as an octal string, e.g. '0755'. */
  mode: string
}

/**
 * `<output>.manifest.json`: what the archive holds. Written after the archive, so it never describes a torn one.
 */
export interface FilesManifest {
  format: typeof FILES_FORMAT
  createdAt: string
  /** The directory the paths are relative to, absolute, on the machine that made the backup. */
  root: string
  tool: 'deckhand'
  files: FileEntry[]
  /** Directories with no file of the archive beneath them, recreated empty; absent from older manifests. */
  directories?: DirectoryEntry[]
  archive: { file: string; size: number; sha256: string }
  secretsIncluded: boolean
  secretsExcluded: string[]
}

export interface FilesBackupOptions {
  /** Files, directories or globs; relative ones are relative to root; `!pattern` excludes. */
  patterns: string[]
  root: string
  /** The tar.gz to write; its manifest goes beside it. */
  output: string
  includeSecrets: boolean
  logger: Logger
}

export interface FilesBackupResult {
  archive: string
  manifest: string
  files: FileEntry[]
  directories: DirectoryEntry[]
  /** Size of the archive. */
  sizeBytes: number
  /** Private keys and certificates left out (include-secrets false), relative to root. */
  secretsExcluded: string[]
  /** Private keys and certificates in the archive (include-secrets true). */
  secretsIncluded: number
}

/** Extensions of private keys, certificates and the stores that hold them. */
const SECRET_EXTENSIONS = new Set([
  '.key',
  '.pem',
  '.crt',
  '.cer',
  '.der',
  '.p12',
  '.pfx',
  '.jks',
  '.keystore',
  '.p8',
])

/** PEM armour of a private key (PKCS#1, PKCS#8, EC, encrypted, OpenSSH, PGP) or a certificate. */
const PEM_SECRET = /-----BEGIN [A-Z0-9 ]*(?:PRIVATE KEY(?: BLOCK)?|CERTIFICATE)-----/

const SNIFF_BYTES = 64 * 1024

/**
 * Why a file counts as a private key or certificate, or undefined when it does not: by its extension,
 * or by PEM armour in its first 64 KiB (keys named kong.conf.bak or embedded in a JSON file included).
 */
export async function secretKind(path: string): Promise<string | undefined> {
  const extension = extname(path).toLowerCase()
  if (SECRET_EXTENSIONS.has(extension)) return `${extension} file`
  const handle = await open(path, 'r')
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES)
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0)
    const match = PEM_SECRET.exec(buffer.subarray(0, bytesRead).toString('latin1'))
    if (!match) return undefined
    return match[0].includes('PRIVATE KEY') ? 'PEM private key' : 'PEM certificate'
  } finally {
    await handle.close()
  }
}

/** Octal permission bits as the manifest stores them. */
export function formatMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0')
}

// Files and directories: the glob library ends the names of directories with a slash.
const GLOB_OPTIONS = {
  absolute: true,
  dot: true,
  onlyFiles: false,
  followSymbolicLinks: true,
  expandDirectories: false,
} as const

/** Absolute paths, regular files and directories apart. */
interface Matches {
  files: string[]
  directories: string[]
}

function splitMatches(matches: readonly string[]): Matches {
  const out: Matches = { files: [], directories: [] }
  for (const match of matches) (match.endsWith('/') ? out.directories : out.files).push(resolve(match))
  return out
}

/**
 * Every regular file and directory an absolute pattern names: the file itself, a directory with everything
 * under it, and for a glob every file and directory it matches plus everything under the directories it
 * matches. Symbolic links are followed (a link to a file is backed up as the file), broken ones are skipped.
 */
async function expandPattern(pattern: string): Promise<Matches> {
  const segments = pattern.split('/')
  const dynamic = segments.findIndex((segment) => isDynamicPattern(segment))
  if (dynamic === -1) {
    const stats = await stat(pattern).catch(() => undefined)
    if (stats?.isFile()) return { files: [resolve(pattern)], directories: [] }
    if (!stats?.isDirectory()) return { files: [], directories: [] }
    const under = splitMatches(await glob('**', { ...GLOB_OPTIONS, cwd: pattern }))
    return { files: under.files, directories: [resolve(pattern), ...under.directories] }
  }
  const base = segments.slice(0, dynamic).join('/') || '/'
  const rest = segments.slice(dynamic).join('/')
  return splitMatches(await glob([rest, `${rest}/**`], { ...GLOB_OPTIONS, cwd: base }))
}

/** An absolute pattern, with forward slashes (what the glob library expects). */
function absolutePattern(root: string, pattern: string): string {
  const absolute = resolve(root, pattern)
  return sep === '\\' ? absolute.split(sep).join('/') : absolute
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path)
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel)
}

function toPosix(path: string): string {
  return sep === '\\' ? path.split(sep).join('/') : path
}

/** Sorted by code units, not locale: the order must not depend on the machine. */
function byPath(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * The files and directories the patterns select, relative to root and sorted; never root itself, the output or
 * its manifest. An exclusion takes the files it matches, and a directory it matches with everything beneath it.
 */
async function selectPaths(
  patterns: readonly string[],
  root: string,
  ownFiles: (path: string) => boolean,
): Promise<Matches> {
  const includes = patterns.filter((p) => !p.startsWith('!'))
  const excludes = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1).trim())
  if (includes.length === 0)
    throw new DeckhandError(
      'paths holds only exclusions (!pattern): name the files or directories to back up.',
    )

  const selected = new Set<string>()
  const directories = new Set<string>()
  const empty: string[] = []
  for (const pattern of includes) {
    const matches = await expandPattern(absolutePattern(root, pattern))
    const files = matches.files.filter((p) => !ownFiles(p))
    const dirs = matches.directories.filter((p) => p !== root)
    if (files.length === 0 && dirs.length === 0) empty.push(pattern)
    for (const match of files) selected.add(match)
    for (const match of dirs) directories.add(match)
  }
  if (empty.length > 0) {
    throw new DeckhandError(
      `${empty.length} of the paths match no file or directory, so the backup would silently miss them: ${empty.join(', ')}. ` +
        `Relative paths are relative to root (${root}); fix or remove them.`,
    )
  }
  const outside = [...selected, ...directories].filter((p) => !isInside(root, p)).sort(byPath)
  if (outside.length > 0) {
    throw new DeckhandError(
      `${outside.length} matched file(s) lie outside root ${root}, e.g. ${outside[0]}: ` +
        `files are stored relative to root, so set ${inputName('root')} to a directory holding them all (/ for system paths).`,
      outside.slice(0, 20),
    )
  }
  for (const pattern of excludes) {
    if (pattern === '') continue
    const matches = await expandPattern(absolutePattern(root, pattern))
    for (const match of matches.files) selected.delete(match)
    for (const match of matches.directories) directories.delete(match)
  }
  const relativeTo = (paths: Set<string>) => [...paths].map((p) => toPosix(relative(root, p))).sort(byPath)
  return { files: relativeTo(selected), directories: relativeTo(directories) }
}

/**
 * The selected directories that no archived file lies beneath: they go into the archive as empty directories.
 * That includes a directory whose files exclusions or include-secrets left out, as tar and rsync keep it: the
 * exclusion was of files, and whoever restores expects the folders the application uses to be there. An
 * exclusion that matches the directory itself (its path, or a glob that does, such as one ending in /**) leaves
 * it out with everything beneath it.
 */
function emptyDirectories(directories: readonly string[], files: readonly string[]): string[] {
  const holding = new Set(files.flatMap(parentDirectories))
  return directories.filter((dir) => !holding.has(dir))
}

/** a/b/c -> a, a/b: the directories a relative path lies in. */
export function parentDirectories(path: string): string[] {
  const parents: string[] = []
  for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1))
    parents.push(path.slice(0, slash))
  return parents
}

/**
 * The archive as it came out of tar: each file's size and sha256, and the directories, read back from the
 * written file as a stream (a file of zeros compresses a thousandfold, and is still read a chunk at a time).
 */
async function readBack(
  archive: string,
): Promise<{ entries: Map<string, { size: number; sha256: string }>; directories: Set<string> }> {
  const entries = new Map<string, { size: number; sha256: string }>()
  const directories = new Set<string>()
  const problems: string[] = []
  await readArchive(
    archive,
    async (entry, body) => {
      if (entry.type === 'Directory') {
        directories.add(entry.path.replace(/\/$/, ''))
        entry.resume()
        return
      }
      if (entry.type !== 'File') problems.push(`${entry.path} is a ${entry.type}`)
      const hash = createHash('sha256')
      let size = 0
      for await (const chunk of body()) {
        hash.update(chunk)
        size += chunk.length
      }
      entries.set(entry.path, { size, sha256: hash.digest('hex') })
    },
    {
      limits: NO_LIMITS,
      onWarn: (message) => problems.push(message),
      consequence: 'the backup was not made',
    },
  )
  if (problems.length > 0) throw new Error(`the new archive holds unexpected entries: ${problems.join(', ')}`)
  return { entries, directories }
}

/**
 * A backup that files-restore refuses with its default limits is still made, but says which inputs the restore
 * will need: better known now than during an outage.
 */
export function warnOverRestoreLimits(manifest: FilesManifest, logger: Logger): void {
  const entries = manifest.files.length + (manifest.directories?.length ?? 0)
  let total = 0
  let largest = 0
  for (const file of manifest.files) {
    total += file.size
    if (file.size > largest) largest = file.size
  }
  const needs: string[] = []
  if (entries > DEFAULT_LIMITS.maxEntries) needs.push(`${LIMIT_INPUTS.maxEntries}: ${entries}`)
  if (total > DEFAULT_LIMITS.maxBytes) needs.push(`${LIMIT_INPUTS.maxBytes}: ${mebibytes(total)}`)
  if (largest > DEFAULT_LIMITS.maxFileBytes) needs.push(`${LIMIT_INPUTS.maxFileBytes}: ${mebibytes(largest)}`)
  if (needs.length > 0)
    logger.warn(`This backup is over files-restore's default limits: restore it with ${needs.join(', ')}`)
}

/**
 * Backs up files into a tar.gz with a manifest beside it. Entries are in path order with their real
 * modes and modification times; the manifest's checksums are read back from the written archive, so the
 * two always agree. The previous archive and manifest are replaced only once the new archive is complete
 * and readable, the manifest last.
 */
export async function filesBackup(options: FilesBackupOptions): Promise<FilesBackupResult> {
  const root = resolve(options.root)
  const rootStats = await stat(root).catch(() => undefined)
  if (!rootStats?.isDirectory()) throw new DeckhandError(`root ${root} is not a directory.`)
  const archive = resolve(options.output)
  const manifestPath = `${archive}${MANIFEST_SUFFIX}`
  if ((await stat(archive).catch(() => undefined))?.isDirectory())
    throw new DeckhandError(
      `output ${archive} is a directory: name the archive file, e.g. files-backup.tar.gz.`,
    )

  // The output may lie inside a directory being backed up: never archive it, its manifest or their temps.
  const outputDir = dirname(archive)
  const ownNames = [basename(archive), basename(manifestPath)]
  const ownFiles = (path: string): boolean =>
    dirname(path) === outputDir &&
    ownNames.some((name) => {
      const file = basename(path)
      return file === name || (file.startsWith(`.${name}.`) && file.endsWith('.tmp'))
    })

  const { files: selected, directories: matchedDirs } = await selectPaths(options.patterns, root, ownFiles)
  const secretsExcluded: string[] = []
  const files: string[] = []
  let secretsIncluded = 0
  for (const path of selected) {
    const kind = await secretKind(join(root, path))
    if (kind === undefined) files.push(path)
    else if (options.includeSecrets) {
      files.push(path)
      secretsIncluded++
      options.logger.debug(`${path}: ${kind}, included`)
    } else {
      secretsExcluded.push(path)
      options.logger.info(`Left out ${path} (${kind}; include-secrets is false)`)
    }
  }
  if (files.length === 0 && secretsExcluded.length > 0) {
    throw new DeckhandError(
      `Nothing to back up: the ${selected.length} matched file(s) are all private keys or certificates, ` +
        'left out because include-secrets is false.',
      secretsExcluded.slice(0, 20),
    )
  }
  const directories = emptyDirectories(matchedDirs, files)
  if (files.length === 0 && directories.length === 0)
    throw new DeckhandError(
      'Nothing to back up: the exclusions (!pattern) leave nothing of what the paths match.',
    )
  const modes = new Map<string, string>()
  for (const path of files.concat(directories))
    modes.set(path, formatMode((await stat(join(root, path))).mode))

  // Both files are complete on disk before either replaces its predecessor: a full disk or a failed check
  // leaves the previous archive and manifest as they were, and no temporary file behind.
  let temp: string | undefined
  let manifestTemp: string | undefined
  let manifest: FilesManifest
  let archiveSize: number
  try {
    await mkdir(outputDir, { recursive: true })
    temp = tempPathFor(archive)
    // Pack rather than create(): create() reads names starting with @ as archives to concatenate.
    const pack = new Pack({
      cwd: root,
      gzip: true,
      portable: true,
      follow: true,
      noDirRecurse: true,
      strict: true,
      // Read a file 64 KiB at a time (tar's default is 16 MiB): memory stays flat whatever the file's size,
      // and small buffers are collected sooner.
      maxReadSize: 64 * 1024,
    })
    const written = pipeline(pack, createWriteStream(temp, { flags: 'wx', mode: 0o600 }))
    // A directory is packed as an entry of its own (noDirRecurse): empty, with its mode.
    const paths = files.concat(directories).sort(byPath)
    for (const path of paths) pack.write(path)
    pack.end()
    await written
    const back = await readBack(temp)
    const entries = back.entries
    const missing = files
      .filter((path) => !entries.has(path))
      .concat(directories.filter((path) => !back.directories.has(path)))
    if (missing.length > 0 || entries.size !== files.length || back.directories.size !== directories.length)
      throw new Error(
        `the new archive does not hold what was packed (missing: ${missing.join(', ') || 'none'})`,
      )
    const handle = await open(temp, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }

    const archiveDigest = await sha256File(temp)
    archiveSize = archiveDigest.size
    manifest = {
      format: FILES_FORMAT,
      createdAt: new Date().toISOString(),
      root,
      tool: 'deckhand',
      files: files.map((path) => {
        const entry = entries.get(path)!
        return { path, size: entry.size, sha256: entry.sha256, mode: modes.get(path)! }
      }),
      directories: directories.map((path) => ({ path, mode: modes.get(path)! })),
      archive: { file: basename(archive), size: archiveDigest.size, sha256: archiveDigest.sha256 },
      secretsIncluded: options.includeSecrets,
      secretsExcluded,
    }
    manifestTemp = await stageFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`)
    // The manifest last: from here on the two renames need no space. Until the second, the old manifest
    // does not match the new archive, and a restore refuses it rather than trust it.
    await rename(temp, archive)
    forgetOnStop(temp)
    temp = undefined
    await rename(manifestTemp, manifestPath)
    forgetOnStop(manifestTemp)
    manifestTemp = undefined
  } catch (err) {
    if (temp !== undefined) await rm(temp, { force: true })
    if (manifestTemp !== undefined) await rm(manifestTemp, { force: true })
    throw fileSystemError(err, outputDir)
  }
  warnOverRestoreLimits(manifest, options.logger)
  return {
    archive,
    manifest: manifestPath,
    files: manifest.files,
    directories: manifest.directories!,
    sizeBytes: archiveSize,
    secretsExcluded,
    secretsIncluded,
  }
}
