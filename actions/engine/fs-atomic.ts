import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, open, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'

/**
 * Writes a file so that readers see either the old content or the new, never a torn one:
 * the bytes go to a temporary file in the same directory, are flushed, then renamed over the target.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const dir = dirname(path)
  await mkdir(dir, { recursive: true })
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  const handle = await open(temp, 'wx', mode)
  try {
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    await rename(temp, path)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
}

/** A private (0700) temporary directory, removed by the returned cleanup function. */
export async function privateTempDir(
  prefix = 'deckhand-',
): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const base = process.env.RUNNER_TEMP || tmpdir()
  await mkdir(base, { recursive: true })
  const path = await mkdtemp(join(base, prefix))
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) }
}
