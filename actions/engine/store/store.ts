import { randomBytes } from 'node:crypto'
import { mkdir, rename, rm } from 'node:fs/promises'
import { basename, join, relative, sep } from 'node:path'

import { type AgeIdentities, type AgeRecipient, decryptFile, encryptFile } from '../age.js'
import { DeckhandError } from '../errors.js'
import { privateTempDir } from '../fs-atomic.js'
import { parseJson } from '../json-file.js'
import type { Logger } from '../log.js'
import { TOOL_VERSION } from '../version.js'
import type { Backend } from './backend.js'
import { eachLimited } from '../concurrency.js'
import { sha256File } from '../backup/checksums.js'
import { inputName } from '../jobs/inputs.js'

/**
 * Backups in a store, the same for every backend: `<kind>/<source>/<UTC time>/…` under the store's root, each
 * backup's files first and its manifest (deckhand-backup.json) last. A backup without its manifest was cut short
 * and is never picked, listed as complete or restored; a backup is deleted only through its manifest, so nothing
 * deckhand did not write is ever removed.
 */

export type BackupKind = 'db' | 'files' | 'state'
export const KINDS: readonly BackupKind[] = ['db', 'files', 'state']

export const MANIFEST = 'deckhand-backup.json'
/** Written beside a backup by a restore that verified it (the restore drill). */
export const VERIFIED = 'deckhand-verified.json'
/** Written before a pruned backup's objects are deleted, removed last: a prune cut short is finished next time. */
export const PRUNING = 'deckhand-pruning.json'
const RESERVED = new Set([MANIFEST, VERIFIED, PRUNING])
const MAX_MANIFEST_BYTES = 8 * 2 ** 20

export interface StoredFile {
  /** The file's name in the backup, as the tools wrote it (`toc.dat`, `3245.dat.gz`). */
  name: string
  /** Its object's name in the store's folder: the name, plus `.age` when encrypted. */
  object: string
  /** Size and SHA-256 (hex) of the object as stored, checked on every download. */
  size: number
  sha256: string
}

export interface BackupManifest {
  format: 'deckhand-backup/1'
  kind: BackupKind
  source: string
  /** When the backup was taken, ISO 8601 UTC. */
  time: string
  tool: { name: 'deckhand'; version: string }
  /** Client-side encryption: age, to the recipients of these fingerprints; null when the files are as written. */
  encryption: { format: 'age'; recipients: string[] } | null
  files: StoredFile[]
  /** What the backup holds, for listings: database, tables, rows, files. */
  summary: Record<string, string | number>
}

/** A backup found in a store. */
export interface StoredBackup {
  kind: BackupKind
  source: string
  /** The folder's name: the UTC time it was taken and a random tail, as 20261206T071500Z-3f9a1c. */
  name: string
  /** The folder's key below the store's root. */
  folder: string
  /** Bytes of all its objects. */
  bytes: number
  /** Its manifest is there: the backup is whole. */
  complete: boolean
  verified: boolean
  /** A prune began deleting it. */
  pruning: boolean
}

/** A source names what was backed up (a database, a gateway's files): letters, digits, dot, dash, underscore. */
export function checkSource(source: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(source) || source.includes('..'))
    throw new DeckhandError(
      `backup source "${source}" cannot name a folder: use letters, digits, dot, dash and underscore.`,
    )
  return source
}

/** 2026-12-06T07:15:00.123Z → 20261206T071500Z */
export function folderTime(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
}

const TIME_NAME = /^(\d{8}T\d{6}Z)-([0-9a-f]{6})$/

const TIME_ONLY = /^\d{8}T\d{6}Z$/

/** Whether a value names a stored backup (latest, a name, its time, or an ISO time) rather than a path. */
export function isBackupRef(value: string): boolean {
  return (
    value === 'latest' || TIME_NAME.test(value) || TIME_ONLY.test(value) || /^\d{4}-\d{2}-\d{2}T/.test(value)
  )
}

/** The folder name's time, as a Date. */
export function nameTime(name: string): Date {
  const m = TIME_NAME.exec(name)!
  const t = m[1]!
  return new Date(
    `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(9, 11)}:${t.slice(11, 13)}:${t.slice(13, 15)}Z`,
  )
}

export interface SaveRequest {
  kind: BackupKind
  source: string
  time: Date
  /** The local folder the files are in; each file is stored under its path relative to it. */
  root: string
  files: readonly string[]
  /** Encrypt every file with age to these recipients (client-side) before it leaves the machine. */
  recipients?: readonly AgeRecipient[]
  summary?: Record<string, string | number>
}

export class BackupStore {
  constructor(
    readonly backend: Backend,
    private readonly logger: Logger,
  ) {}

  get description(): string {
    return this.backend.description
  }

  /**
   * Stores a backup: each file (encrypted first when recipients are given), then the manifest. A failure removes
   * what this run stored (no manifest was written, so nothing of it could be picked meanwhile).
   */
  async save(request: SaveRequest): Promise<{ backup: StoredBackup; manifest: BackupManifest }> {
    const source = checkSource(request.source)
    // A random tail keeps two runs of the same second apart without any locking (S3 has none to offer).
    const name = `${folderTime(request.time)}-${randomBytes(3).toString('hex')}`
    const folder = `${request.kind}/${source}/${name}`
    const names = request.files.map((file) => storedName(request.root, file))
    const encrypted = request.recipients !== undefined && request.recipients.length > 0
    const stored: StoredFile[] = []
    try {
      // A few files at a time: encryption is CPU, storing is I/O, and a directory-format dump has a file per table.
      await eachLimited(request.files.length, 4, async (i) => {
        const local = request.files[i]!
        const name = names[i]!
        if (encrypted) {
          const object = `${name}.age`
          const { sha256, size } = await this.backend.putProduced(`${folder}/${object}`, (path) =>
            encryptFile(local, path, request.recipients!, false),
          )
          stored[i] = { name, object, size, sha256 }
        } else {
          const { sha256, size } = await sha256File(local)
          await this.backend.putFile(`${folder}/${name}`, local, sha256, size)
          stored[i] = { name, object: name, size, sha256 }
        }
      })
      const manifest: BackupManifest = {
        format: 'deckhand-backup/1',
        kind: request.kind,
        source,
        time: request.time.toISOString(),
        tool: { name: 'deckhand', version: TOOL_VERSION },
        encryption: encrypted
          ? { format: 'age', recipients: request.recipients!.map((r) => r.fingerprint) }
          : null,
        files: stored,
        summary: request.summary ?? {},
      }
      await this.backend.putBytes(
        `${folder}/${MANIFEST}`,
        Buffer.from(JSON.stringify(manifest, null, 2) + '\n'),
      )
      const bytes = stored.reduce((sum, f) => sum + f.size, 0)
      return {
        manifest,
        backup: {
          kind: request.kind,
          source,
          name,
          folder,
          bytes,
          complete: true,
          verified: false,
          pruning: false,
        },
      }
    } catch (err) {
      for (const file of stored)
        if (file) await this.backend.remove(`${folder}/${file.object}`).catch(() => undefined)
      throw err
    }
  }

  /** Every backup below the store's root, of one kind and source when given, oldest first. */
  async list(filter: { kind?: BackupKind; source?: string } = {}): Promise<StoredBackup[]> {
    const prefix = filter.kind
      ? `${filter.kind}/${filter.source ? `${checkSource(filter.source)}/` : ''}`
      : ''
    const found = new Map<string, StoredBackup>()
    for await (const object of this.backend.list(prefix)) {
      const parts = object.key.split('/')
      if (parts.length < 4) continue
      const [kind, source, name] = parts as [BackupKind, string, string]
      if (!KINDS.includes(kind) || !TIME_NAME.test(name)) continue
      const folder = `${kind}/${source}/${name}`
      let backup = found.get(folder)
      if (!backup) {
        backup = { kind, source, name, folder, bytes: 0, complete: false, verified: false, pruning: false }
        found.set(folder, backup)
      }
      const file = parts.slice(3).join('/')
      if (file === MANIFEST) backup.complete = true
      else if (file === VERIFIED) backup.verified = true
      else if (file === PRUNING) backup.pruning = true
      backup.bytes += object.size
    }
    return [...found.values()].sort((a, b) => compareBackups(a, b))
  }

  /** A backup's manifest, checked: it must name files inside its folder only. */
  async manifest(backup: StoredBackup): Promise<BackupManifest> {
    const key = `${backup.folder}/${MANIFEST}`
    const bytes = await this.backend.getBytes(key, MAX_MANIFEST_BYTES)
    if (!bytes)
      throw new DeckhandError(`${this.description}: ${backup.folder} has no manifest: it is incomplete`)
    const data = parseJson(
      Buffer.from(bytes).toString('utf8'),
      `${this.description}/${key}`,
      'backup manifest',
    )
    return checkManifest(data, `${this.description}/${key}`)
  }

  /**
   * The backup `ref` names among the complete ones of a kind: `latest`, or a time (`20261206T071500Z`, or an ISO
   * time, which picks the newest backup taken at or before it). `source` may be left out when the store holds
   * one source of that kind.
   */
  async resolve(kind: BackupKind, ref: string, source?: string): Promise<StoredBackup> {
    const all = (await this.list({ kind, source })).filter((b) => b.complete && !b.pruning)
    const sources = [...new Set(all.map((b) => b.source))].sort()
    if (all.length === 0) {
      throw new DeckhandError(
        `${this.description} holds no complete ${kind} backup${source ? ` of ${source}` : ''} (a backup without its manifest is never used).`,
      )
    }
    if (!source && sources.length > 1)
      throw new DeckhandError(
        `${this.description} holds ${kind} backups of ${sources.length} sources (${sources.join(', ')}): name one with backup-source.`,
      )
    let pick: StoredBackup | undefined
    if (ref === 'latest') pick = all[all.length - 1]
    else if (TIME_NAME.test(ref)) pick = all.find((b) => b.name === ref)
    else if (TIME_ONLY.test(ref)) pick = all.filter((b) => b.name.startsWith(ref)).pop()
    else {
      const at = Date.parse(ref)
      if (Number.isNaN(at))
        throw new DeckhandError(
          `"${ref}" names no backup: give latest, a backup's name like 20261206T071500Z-3f9a1c (or its time), or an ISO time`,
        )
      pick = all.filter((b) => nameTime(b.name).getTime() <= at).pop()
    }
    if (!pick)
      throw new DeckhandError(
        `${this.description} holds no complete ${kind} backup ${/^\d{8}T/.test(ref) ? 'named' : 'taken at or before'} ${ref}` +
          ` (newest: ${all[all.length - 1]!.name}).`,
      )
    return pick
  }

  /**
   * Downloads a backup into a private folder: every object is checked against the manifest's size and SHA-256
   * (a damaged object is refused before anything uses it) and decrypted with the identities when encrypted.
   */
  async fetch(
    backup: StoredBackup,
    identities?: AgeIdentities,
  ): Promise<{ path: string; manifest: BackupManifest; cleanup: () => Promise<void> }> {
    const manifest = await this.manifest(backup)
    if (manifest.encryption && !identities)
      throw new DeckhandError(
        `${this.description}/${backup.folder} is encrypted with age (to ${manifest.encryption.recipients.join(', ')}): set ${inputName('age-identity')} to restore it.`,
      )
    const temp = await privateTempDir('deckhand-fetch-')
    try {
      const out = join(temp.path, 'backup')
      await mkdir(out, { mode: 0o700 })
      for (const file of manifest.files) {
        const download = join(temp.path, `object-${randomBytes(6).toString('hex')}`)
        const got = await this.backend.getFile(`${backup.folder}/${file.object}`, download)
        if (got.size !== file.size || got.sha256 !== file.sha256)
          throw new DeckhandError(
            `${this.description}/${backup.folder}/${file.object} is damaged: its ${got.size !== file.size ? 'size' : 'SHA-256'} differs from the manifest's. The backup was refused; nothing was restored.`,
          )
        const target = join(out, file.name)
        await mkdir(join(target, '..'), { recursive: true, mode: 0o700 })
        if (manifest.encryption) {
          await decryptFile(
            download,
            target,
            identities!,
            `${backup.folder}/${file.object}`,
            manifest.encryption.recipients,
          )
          await rm(download, { force: true })
        } else await rename(download, target)
      }
      this.logger.info(
        `Fetched ${backup.kind} backup ${backup.source}/${backup.name} from ${this.description}`,
      )
      return { path: out, manifest, cleanup: temp.cleanup }
    } catch (err) {
      await temp.cleanup()
      throw err
    }
  }

  /** Records beside a backup that a restore of it was verified. */
  async markVerified(backup: StoredBackup, result: Record<string, string | number | boolean>): Promise<void> {
    const mark = {
      format: 'deckhand-verified/1',
      verifiedAt: new Date().toISOString(),
      tool: TOOL_VERSION,
      ...result,
    }
    await this.backend.putBytes(
      `${backup.folder}/${VERIFIED}`,
      Buffer.from(JSON.stringify(mark, null, 2) + '\n'),
    )
  }

  /**
   * Deletes a backup through its manifest: first a note of what is to go (so a prune cut short is finished by
   * the next one), then the manifest (the backup is no longer whole, so never picked), then its files, the
   * verification mark and the note. Objects the manifest does not name are left where they are.
   */
  async remove(backup: StoredBackup): Promise<void> {
    let objects: string[]
    const noteKey = `${backup.folder}/${PRUNING}`
    const note = await this.backend.getBytes(noteKey, MAX_MANIFEST_BYTES)
    if (note) {
      objects = checkPruningNote(
        parseJson(Buffer.from(note).toString('utf8'), noteKey, 'pruning note'),
        noteKey,
      )
    } else {
      const manifest = await this.manifest(backup)
      objects = manifest.files.map((f) => f.object)
      await this.backend.putBytes(noteKey, Buffer.from(JSON.stringify({ objects }) + '\n'))
    }
    await this.backend.remove(`${backup.folder}/${MANIFEST}`)
    for (const object of objects) await this.backend.remove(`${backup.folder}/${object}`)
    await this.backend.remove(`${backup.folder}/${VERIFIED}`)
    await this.backend.remove(noteKey)
  }
}

/** Oldest first (names start with the UTC time, which sorts as text). */
function compareBackups(a: StoredBackup, b: StoredBackup): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}

/** A local file's name in the backup: its path below root, with `/`; it must be inside root. */
function storedName(root: string, file: string): string {
  const rel = relative(root, file).split(sep).join('/')
  if (rel === '' || rel.startsWith('../') || rel === '..' || rel.startsWith('/'))
    throw new DeckhandError(`${file} is not inside ${root}`)
  if (RESERVED.has(basename(rel)))
    throw new DeckhandError(`${file}: ${basename(rel)} is a name the store reserves`)
  return rel
}

const SAFE_PATH = /^(?!\/)(?!.*(?:^|\/)\.\.?(?:\/|$))[^\0\\]+$/

function checkManifest(data: unknown, where: string): BackupManifest {
  const m = data as BackupManifest
  const bad = (what: string) => new DeckhandError(`${where} is not a deckhand backup manifest: ${what}`)
  if (typeof m !== 'object' || m === null || m.format !== 'deckhand-backup/1') throw bad('unknown format')
  if (!KINDS.includes(m.kind)) throw bad('unknown kind')
  if (!Array.isArray(m.files)) throw bad('no file list')
  for (const f of m.files) {
    if (
      typeof f?.name !== 'string' ||
      typeof f.object !== 'string' ||
      !SAFE_PATH.test(f.name) ||
      !SAFE_PATH.test(f.object) ||
      RESERVED.has(f.object) ||
      typeof f.size !== 'number' ||
      !/^[0-9a-f]{64}$/.test(String(f.sha256))
    )
      throw bad('a file entry names a path outside its folder, or has no size or SHA-256')
  }
  if (m.encryption !== null && (m.encryption?.format !== 'age' || !Array.isArray(m.encryption.recipients)))
    throw bad('unknown encryption')
  return m
}

function checkPruningNote(data: unknown, where: string): string[] {
  const objects = (data as { objects?: unknown })?.objects
  if (
    !Array.isArray(objects) ||
    objects.some((o) => typeof o !== 'string' || !SAFE_PATH.test(o) || RESERVED.has(o))
  )
    throw new DeckhandError(`${where} is not a pruning note deckhand wrote: the backup is left as it is`)
  return objects as string[]
}
