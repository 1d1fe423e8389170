import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, open, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'

import { forgetOnStop, removeOnStop } from './shutdown.js'

/**
 * A temporary name beside path: hidden, unique, ending in .tmp (what backups recognize as their own). It is
 * registered for removal on a stop (SIGINT, SIGTERM) until the caller, having renamed it, calls forgetOnStop.
 */
export function tempPathFor(path: string): string {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  removeOnStop(temp)
  return temp
}

/**
 * Writes data to a new temporary file beside path and flushes it; returns the temporary's name, for the caller
 * to rename over path. Nothing is left behind when the write fails (a full disk, say), nor on a stop (SIGINT,
 * SIGTERM) before the caller renamed it and called forgetOnStop(temp).
 */
export async function stageFile(path: string, data: string | Uint8Array, mode = 0o644): Promise<string> {
  const dir = dirname(path)
  await mkdir(dir, { recursive: true })
  const temp = tempPathFor(path)
  const handle = await open(temp, 'wx', mode)
  try {
    await handle.writeFile(data)
    await handle.sync()
    await handle.close()
  } catch (err) {
    await handle.close().catch(() => undefined)
    await rm(temp, { force: true })
    forgetOnStop(temp)
    throw err
  }
  return temp
}

/**
 * Writes a file so that readers see either the old content or the new, never a torn one:
 * the bytes go to a temporary file in the same directory, are flushed, then renamed over the target.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const temp = await stageFile(path, data, mode)
  try {
    await rename(temp, path)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  } finally {
    forgetOnStop(temp)
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
