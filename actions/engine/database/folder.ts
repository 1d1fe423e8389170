import { randomBytes } from 'node:crypto'
import { mkdir, rename, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'

import { DeckhandError } from '../errors.js'
import { exists } from '../paths.js'

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
    await mkdir(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error'
    throw new DeckhandError(
      `output-dir ${outputDir} cannot be written (${code}): choose a writable directory with enough free space.`,
    )
  }
  return {
    path,
    async commit() {
      for (let n = 1; ; n++) {
        const final = join(dir, n === 1 ? name : `${name}-${n}`)
        if (await exists(final)) continue
        await rename(path, final)
        return final
      }
    },
    discard: () => rm(path, { recursive: true, force: true }),
  }
}
