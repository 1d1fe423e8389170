import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, open, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'

import { removeOnStop } from './shutdown.js'

/**
 * Writes a file so that readers see either the old content or the new, never a torn one:
 * the bytes go to a temporary file in the same directory, are flushed, then renamed over the target.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const dir = dirname(path)
  await mkdir(dir, { recursive: true })
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  const forget = removeOnStop(temp)
  try {
    const handle = await open(temp, 'wx', mode)
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, path)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  } finally {
    forget()
  }
}

/**
 * A private (0700) temporary directory, removed by the returned cleanup function, or on a stop
 * (SIGINT, SIGTERM) if the run is interrupted first: what goes in it (pgpass files, deck's config,
 * extracted backups) may be secret.
 */
export async function privateTempDir(
  prefix = 'deckhand-',
): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const base = process.env.RUNNER_TEMP || tmpdir()
  await mkdir(base, { recursive: true })
  const path = await mkdtemp(join(base, prefix))
  const forget = removeOnStop(path)
  return {
    path,
    cleanup: async () => {
      await rm(path, { recursive: true, force: true })
      forget()
    },
  }
}
