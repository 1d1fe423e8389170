import { readdir } from 'node:fs/promises'
import { join, relative } from 'node:path'

/** Every file under a directory, relative, sorted; [] when it does not exist. */
export async function tree(base: string): Promise<string[]> {
  const entries = await readdir(base, { recursive: true, withFileTypes: true }).catch(() => [])
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(base, join(e.parentPath, e.name)).split('\\').join('/'))
    .sort()
}
