import { randomBytes } from 'node:crypto'
import { chmod, mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'

import { DeckhandError } from '../errors.js'
import { removeOnStop } from '../shutdown.js'

/** A backup being written: a hidden folder that becomes the backup only when everything is in it. */
export interface PendingFolder {
  /** The hidden folder the dump is written into. */
  path: string
  /** Renames the folder to its final name (a suffix is added if that name is taken) and returns it. */
  commit(): Promise<string>
  /** Removes the incomplete folder; earlier backups are never touched. */
  discard(): Promise<void>
}

/** 2026-11-21T10:15:00.123Z -> 20261121T101500Z */
export function timestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
}

/** A name safe for any file system and artifact name: letters, digits, dot, dash and underscore. */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[.]+/, '') || 'backup'
}

/** Creates output-dir when needed and a pending folder inside it; an unwritable path is an actionable error. */
export async function pendingFolder(outputDir: string, name: string): Promise<PendingFolder> {
  const dir = resolve(outputDir)
  const path = join(dir, `.${name}.partial-${randomBytes(4).toString('hex')}`)
  try {
    await mkdir(dir, { recursive: true })
    // A dump holds credentials (key-auth keys, private keys, hashes): only the runner's user reads it,
    // from the first byte on, whatever the umask.
    await mkdir(path, { mode: 0o700 })
    await chmod(path, 0o700)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error'
    throw new DeckhandError(
      `output-dir ${outputDir} cannot be written (${code}): choose a writable directory with enough free space.`,
    )
  }
  // A stop (SIGINT, SIGTERM) mid-dump removes the incomplete folder: it is no backup, and it holds credentials.
  const forget = removeOnStop(path)
  return {
    path,
    async commit() {
      // The tools wrote their files with the umask's modes (0644): private before they get a public name.
      await privateTree(path)
      for (let n = 1; ; n++) {
        const final = join(dir, n === 1 ? name : `${name}-${n}`)
        // Creating the folder claims the name for one dump only, even when two of the same second get here at
        // once: looking first and renaming after would let both find it free, and the second rename fail on
        // (or, were it empty, replace) the first's backup.
        try {
          await mkdir(final, { mode: 0o700 })
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue
          throw err
        }
        // rename(2) replaces an empty folder in one step: the one just claimed.
        try {
          await rename(path, final)
        } catch (err) {
          await rmdir(final).catch(() => undefined)
          throw err
        }
        forget()
        return final
      }
    },
    async discard() {
      await rm(path, { recursive: true, force: true })
      forget()
    },
  }
}

/** Makes every file below `dir` 0600 and every folder 0700 (links are left alone: never followed). */
async function privateTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      await chmod(path, 0o700)
      await privateTree(path)
    } else if (entry.isFile()) await chmod(path, 0o600)
  }
}
