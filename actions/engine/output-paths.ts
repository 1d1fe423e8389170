import { randomBytes } from 'node:crypto'
import { open, rm, stat } from 'node:fs/promises'
import type { Stats } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

import { DeckhandError, InputError } from './errors.js'
import { inputSubject } from './jobs/inputs.js'

/**
 * Checks, before any gateway or database work, that an input naming a file to write can be written:
 * a plan written after a sync, or a report after a restore, must not fail only once the work is done.
 * Nothing is left behind: the probe file is removed, and missing directories are not created.
 */
export async function checkOutputFile(input: string, path: string, example = 'output.json'): Promise<void> {
  const target = resolve(path)
  const found = await statOrUndefined(input, path, target)
  if (found?.isDirectory()) {
    throw new InputError(
      `${inputSubject(input)}: ${path} is a directory; name a file to write, e.g. ${join(path, example)}.`,
    )
  }
  // Renaming a finished file over a device or pipe (say /dev/stdout) would replace it.
  if (found && !found.isFile()) {
    throw new InputError(`${inputSubject(input)}: ${path} is not a regular file; name a file to write.`)
  }
  await checkWritableDirectory(input, path, dirname(target))
}

/** As {@link checkOutputFile}, for an input naming a directory to write into (created when missing). */
export async function checkOutputDirectory(input: string, path: string): Promise<void> {
  const target = resolve(path)
  const found = await statOrUndefined(input, path, target)
  if (found && !found.isDirectory()) {
    throw new InputError(
      `${inputSubject(input)}: ${path} is a file, not a directory; name a directory to write into.`,
    )
  }
  await checkWritableDirectory(input, path, target)
}

/** The nearest existing ancestor of `dir` (itself included) must be a directory where a file can be created. */
async function checkWritableDirectory(input: string, path: string, dir: string): Promise<void> {
  let existing = dir
  let found = await statOrUndefined(input, path, existing)
  while (!found && dirname(existing) !== existing) {
    existing = dirname(existing)
    found = await statOrUndefined(input, path, existing)
  }
  if (!found?.isDirectory()) {
    throw new InputError(
      `${inputSubject(input)}: cannot write ${path}: ${existing} is ${found ? 'a file, not a directory' : 'missing'}.`,
    )
  }
  // access(W_OK) says yes to root on a read-only file system; creating a file is the only sure test.
  const probe = join(existing, `.deckhand-probe-${randomBytes(6).toString('hex')}`)
  try {
    await (await open(probe, 'wx', 0o600)).close()
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message
    throw new DeckhandError(
      `${inputSubject(input)}: cannot write ${path}: ${existing} is not writable (${code}); choose a writable place.`,
    )
  } finally {
    await rm(probe, { force: true })
  }
}

async function statOrUndefined(input: string, path: string, at: string): Promise<Stats | undefined> {
  try {
    return await stat(at)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return undefined
    // A path through a file (ENOTDIR) names nothing that can be written either.
    if (code === 'ENOTDIR') {
      throw new InputError(
        `${inputSubject(input)}: cannot write ${path}: one of its parent directories is a file.`,
      )
    }
    throw err
  }
}
