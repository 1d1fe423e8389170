import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'

import { timestamp } from '../database/folder.js'
import { DeckhandError } from '../errors.js'

/**
 * Claims a new folder of deckhand's own inside output-dir for one upgrade, `upgrade-<UTC time>` (a suffix when
 * that name is taken): everything the upgrade writes goes below it, so no file of the user's, nor an earlier
 * upgrade's backups, is ever written over. Private (0700): the dumps and the database backup hold credentials.
 */
export async function claimUpgradeFolder(outputDir: string, started: Date): Promise<string> {
  const dir = resolve(outputDir)
  const name = `upgrade-${timestamp(started)}`
  try {
    await mkdir(dir, { recursive: true })
    for (let n = 1; ; n++) {
      const path = join(dir, n === 1 ? name : `${name}-${n}`)
      try {
        await mkdir(path, { mode: 0o700 })
        return path
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error'
    throw new DeckhandError(
      `output-dir ${outputDir} cannot be written (${code}): choose a writable directory with enough free space.`,
    )
  }
}
