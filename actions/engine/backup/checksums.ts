import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { lstat, readdir } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'

import { eachLimited } from '../concurrency.js'

export interface FileDigest {
  /** Path relative to the backup's root, with forward slashes. */
  path: string
  size: number
  sha256: string
}

/** sha256 (hex) and size of a file, streamed so that large dumps need no memory. */
export async function sha256File(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer)
    size += (chunk as Buffer).length
  }
  return { sha256: hash.digest('hex'), size }
}

/** Every regular file under dir (recursively), sorted by path. Symbolic links are refused: a dump has none. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (current: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = join(current, entry.name)
      if (entry.isDirectory()) await walk(full)
      else if (entry.isFile()) out.push(full)
      else throw new Error(`${full} is neither a file nor a directory`)
    }
  }
  const stats = await lstat(dir)
  if (stats.isFile()) return [dir]
  await walk(dir)
  return out.sort()
}

/** Digests of the given files, named relative to root; hashed a few at a time. */
export async function digestFiles(
  root: string,
  files: readonly string[],
  concurrency = 4,
): Promise<FileDigest[]> {
  const results: FileDigest[] = new Array(files.length)
  await eachLimited(files.length, concurrency, async (index) => {
    const file = files[index]!
    const { sha256, size } = await sha256File(file)
    results[index] = { path: relative(root, file).split(sep).join('/'), size, sha256 }
  })
  return results
}
