import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'

/**
 * Every file below `root` (recursively) that holds one of `secrets`, as `path: secret` lines, for a test to
 * expect none. `skip` names files that hold secrets by design, relative to root: a gateway fixture (the
 * gateway's own configuration) or the deck double's log of the environment deck was given.
 */
export async function filesHolding(
  root: string,
  secrets: readonly string[],
  skip: readonly string[] = [],
): Promise<string[]> {
  const found: string[] = []
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) await walk(path)
      else if (entry.isFile() && !skip.includes(relative(root, path))) {
        const data = await readFile(path)
        for (const secret of secrets) {
          // Text as it is, and as JSON would escape it (a PEM key's line breaks).
          const forms = [secret, JSON.stringify(secret).slice(1, -1)]
          if (forms.some((form) => data.includes(form))) found.push(`${relative(root, path)}: ${secret}`)
        }
      }
    }
  }
  await walk(root)
  return found
}
