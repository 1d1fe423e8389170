import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { cp, mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as NodeReadableStream } from 'node:stream/web'
import * as tar from 'tar'

import {
  type DeckPlatform,
  deckBinaryName,
  DownloadStatusError,
  fetchWithRetry,
  normalizeVersion,
  type ToolStore,
} from './install.js'

export interface DirToolStoreOptions {
  /** Per download attempt, including the body (default 10 minutes). */
  timeoutMs?: number
  /** Wait before the first retry of a failed download (default 1 s). */
  retryDelayMs?: number
  /** Where downloads go until they are verified and deleted (default the OS temp directory). */
  tempDir?: string
}

/** `$DECKHAND_CACHE_DIR`, else `$XDG_CACHE_HOME/deckhand`, else `~/.cache/deckhand`. */
export function defaultCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DECKHAND_CACHE_DIR) return env.DECKHAND_CACHE_DIR
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'deckhand')
  return join(homedir(), '.cache', 'deckhand')
}

/**
 * A ToolStore in a plain directory, for the CLI: `<root>/deck/<version>/<os>-<arch>/`.
 * Entries appear by renaming a fully extracted directory into place, so a reader never sees half of one.
 */
export class DirToolStore implements ToolStore {
  readonly root: string
  private readonly options: DirToolStoreOptions

  constructor(root: string = defaultCacheRoot(), options: DirToolStoreOptions = {}) {
    this.root = root
    this.options = options
  }

  async find(version: string, platform: DeckPlatform): Promise<string | undefined> {
    const dir = this.entryDir(version, platform)
    return (await holdsBinary(dir, platform)) ? dir : undefined
  }

  async download(url: string): Promise<string> {
    const name = new URL(url).pathname.split('/').pop() || 'download'
    const path = join(this.options.tempDir ?? tmpdir(), `deckhand-${randomBytes(6).toString('hex')}-${name}`)
    const response = await fetchWithRetry(
      url,
      {},
      { timeoutMs: this.options.timeoutMs ?? 600_000, retryDelayMs: this.options.retryDelayMs },
    )
    if (!response.ok || !response.body) {
      await response.body?.cancel()
      throw new DownloadStatusError(response.status, response.statusText)
    }
    try {
      const body = Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>)
      await pipeline(body, createWriteStream(path, { flags: 'wx', mode: 0o600 }))
    } catch (err) {
      await rm(path, { force: true })
      throw err
    }
    return path
  }

  async extract(archivePath: string): Promise<string> {
    // Extract next to the entries so that save() is a rename on the same file system.
    const parent = join(this.root, 'deck')
    await mkdir(parent, { recursive: true })
    const dir = await mkdtemp(join(parent, '.extract-'))
    try {
      // tar refuses absolute paths and `..` entries unless preservePaths is set.
      await tar.x({ file: archivePath, cwd: dir, strict: true, preserveOwner: false })
    } catch (err) {
      await rm(dir, { recursive: true, force: true })
      throw err
    }
    return dir
  }

  async save(extractedDir: string, version: string, platform: DeckPlatform): Promise<string> {
    const target = this.entryDir(version, platform)
    await mkdir(dirname(target), { recursive: true })
    // Copy first if the directory comes from elsewhere (rename cannot cross file systems).
    const staged = extractedDir.startsWith(join(this.root, 'deck', '.extract-'))
      ? extractedDir
      : await this.stageCopy(extractedDir)
    if (await renamed(staged, target)) return target

    // Someone else got there first (a concurrent install) or a broken entry is in the way.
    if (await holdsBinary(target, platform)) {
      await rm(staged, { recursive: true, force: true })
      return target
    }
    const stale = `${target}.stale-${randomBytes(6).toString('hex')}`
    await rename(target, stale)
    await rm(stale, { recursive: true, force: true })
    await rename(staged, target)
    return target
  }

  private entryDir(version: string, platform: DeckPlatform): string {
    // normalizeVersion refuses anything that could escape the cache root.
    return join(this.root, 'deck', normalizeVersion(version), `${platform.os}-${platform.arch}`)
  }

  private async stageCopy(source: string): Promise<string> {
    const parent = join(this.root, 'deck')
    await mkdir(parent, { recursive: true })
    const dir = await mkdtemp(join(parent, '.extract-'))
    try {
      await cp(source, dir, { recursive: true })
    } catch (err) {
      await rm(dir, { recursive: true, force: true })
      throw err
    }
    return dir
  }
}

async function holdsBinary(dir: string, platform: DeckPlatform): Promise<boolean> {
  return (await stat(join(dir, deckBinaryName(platform))).catch(() => undefined))?.isFile() ?? false
}

/** Renames, reporting false when the target already exists. */
async function renamed(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to)
    return true
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EPERM') return false
    throw err
  }
}
