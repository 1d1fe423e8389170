import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { chmod, copyFile, mkdir, open, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises'
import { dirname, join, sep } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { type Readable, Transform } from 'node:stream'

import { sha256File } from '../backup/checksums.js'
import { DeckhandError, fileSystemError } from '../errors.js'
import { tempPathFor } from '../fs-atomic.js'
import { forgetOnStop } from '../shutdown.js'
import type { Backend, StoredObject } from './backend.js'

/**
 * A store in a local or mounted folder (a NAS, an NFS or SMB share, a second disk). Objects are files below the
 * folder; each arrives under a temporary name and is renamed in once flushed, so a reader never sees half of one.
 * Folders are 0700 and files 0600: backups hold credentials.
 */
export class LocalBackend implements Backend {
  readonly description: string

  constructor(private readonly root: string) {
    this.description = root
  }

  private path(key: string): string {
    // Keys are built by store.ts from checked names; this is the last line against one that escapes the root.
    if (key.split('/').some((part) => part === '' || part === '.' || part === '..'))
      throw new DeckhandError(`store key ${key} is not a relative path`)
    return join(this.root, key)
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    // A prefix names a folder (`db/kong/`) or the start of names in one; walk from the deepest folder it names.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : ''
    yield* this.walk(folder, prefix)
  }

  private async *walk(folder: string, prefix: string): AsyncIterable<StoredObject> {
    const dir = folder === '' ? this.root : join(this.root, folder)
    let entries
    try {
      entries = await readdir(dir, { withFileTypes: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw fileSystemError(err, dir)
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const entry of entries) {
      // Temporary names of writes in progress (or killed) are no objects.
      if (entry.name.startsWith('.')) continue
      const key = folder === '' ? entry.name : `${folder}/${entry.name}`
      if (entry.isDirectory()) {
        if (prefix.startsWith(`${key}/`) || key.startsWith(prefix) || `${key}/`.startsWith(prefix))
          yield* this.walk(key, prefix)
      } else if (entry.isFile() && key.startsWith(prefix)) {
        yield { key, size: (await stat(join(dir, entry.name))).size }
      }
    }
  }

  /**
   * Writes an object: `write` fills a temporary file beside it (0600), which is flushed and renamed in, so the
   * object is whole or absent. A failure removes the temporary file and any folder it left empty.
   */
  private async place<T>(key: string, write: (temp: string) => Promise<T>): Promise<T> {
    const target = this.path(key)
    try {
      await mkdir(dirname(target), { recursive: true, mode: 0o700 })
      const temp = tempPathFor(target)
      try {
        const result = await write(temp)
        await chmod(temp, 0o600)
        const handle = await open(temp, 'r+')
        await handle.sync().finally(() => handle.close())
        await rename(temp, target)
        return result
      } finally {
        await rm(temp, { force: true })
        forgetOnStop(temp)
      }
    } catch (err) {
      await this.pruneEmpty(dirname(target))
      throw fileSystemError(err, this.root)
    }
  }

  async putFile(key: string, file: string, sha256: string, size: number): Promise<void> {
    await this.place(key, async (temp) => {
      await copyFile(file, temp)
      // What was copied is what was meant: a file changed under the copy is caught here, not at restore.
      const copied = await sha256File(temp)
      if (copied.sha256 !== sha256 || copied.size !== size)
        throw new DeckhandError(`${file} changed while it was copied to ${this.description}: nothing stored`)
    })
  }

  async putProduced(
    key: string,
    produce: (path: string) => Promise<void>,
  ): Promise<{ sha256: string; size: number }> {
    return this.place(key, async (temp) => {
      await produce(temp)
      return sha256File(temp)
    })
  }

  async putBytes(key: string, data: Uint8Array): Promise<void> {
    await this.place(key, (temp) => writeFile(temp, data, { flag: 'wx', mode: 0o600 }))
  }

  async getFile(key: string, file: string): Promise<{ sha256: string; size: number }> {
    const source = this.path(key)
    if (!(await stat(source).catch(() => undefined)))
      throw new DeckhandError(`${key} is missing from ${this.description}`)
    try {
      return await writeHashed(createReadStream(source), file)
    } catch (err) {
      throw fileSystemError(err, file)
    }
  }

  async getBytes(key: string, maxBytes: number): Promise<Uint8Array | undefined> {
    const path = this.path(key)
    const info = await stat(path).catch(() => undefined)
    if (!info) return undefined
    if (!info.isFile() || info.size > maxBytes)
      throw new DeckhandError(`${key} in ${this.description} is not a file of at most ${maxBytes} bytes`)
    const handle = await open(path, 'r')
    try {
      return await handle.readFile()
    } finally {
      await handle.close()
    }
  }

  async remove(key: string): Promise<void> {
    const path = this.path(key)
    await rm(path, { force: true })
    await this.pruneEmpty(dirname(path))
  }

  /** Folders left empty go, up to the root: a pruned or failed backup leaves nothing behind. */
  private async pruneEmpty(from: string): Promise<void> {
    for (let dir = from; dir !== this.root && dir.startsWith(this.root + sep); dir = dirname(dir)) {
      try {
        await rmdir(dir)
      } catch {
        break
      }
    }
  }
}

/** Streams `source` into a new file (0600), with the SHA-256 (hex) and size of what passed. */
export async function writeHashed(source: Readable, file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256')
  let size = 0
  await pipeline(
    source,
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk)
        size += chunk.length
        done(null, chunk)
      },
    }),
    createWriteStream(file, { flags: 'wx', mode: 0o600 }),
  )
  return { sha256: hash.digest('hex'), size }
}
