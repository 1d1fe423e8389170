import { stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { isDynamicPattern } from 'tinyglobby'

import { DeckhandError } from '../errors.js'
import { filesBackup, type FilesBackupResult } from '../files/backup.js'
import type { Logger } from '../log.js'

/** The archive of X's files in the upgrade's folder; its manifest goes beside it. */
export const FILES_ARCHIVE = 'files.tar.gz'

export interface UpgradeFiles {
  /** Files, directories or globs on this machine (kong.conf, certificates); relative ones from the working directory. */
  paths: readonly string[]
  /** Private keys and certificates go into the archive too (files-backup's include-secrets). */
  includeSecrets: boolean
}

/**
 * Backs up the files X runs with into the upgrade's folder, as files-backup does: a tar.gz with a sha256
 * manifest beside it. Paths are made absolute and stored from /, so files-restore with root / puts them back.
 * A path that does not exist is refused by its name, before the archive is begun.
 */
export async function backUpUpgradeFiles(
  files: UpgradeFiles,
  folder: string,
  logger: Logger,
): Promise<FilesBackupResult> {
  const patterns = files.paths.map((p) => (p.startsWith('!') ? `!${resolve(p.slice(1).trim())}` : resolve(p)))
  const missing: string[] = []
  for (const path of patterns) {
    if (path.startsWith('!') || isDynamicPattern(path)) continue
    if (!(await stat(path).catch(() => undefined))) missing.push(path)
  }
  if (missing.length > 0) {
    throw new DeckhandError(
      `files: ${missing.length} path(s) do not exist, so the backup would miss them: ${missing.join(', ')}. Fix or remove them.`,
    )
  }
  return filesBackup({
    patterns,
    root: '/',
    output: join(folder, FILES_ARCHIVE),
    includeSecrets: files.includeSecrets,
    logger,
  })
}
