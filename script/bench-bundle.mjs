// The engine's modules as the benchmark runs them: bundled as the actions are, into one file a child can import.
import { build } from 'esbuild'
import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
// As in build.mjs: bundled CommonJS dependencies (yaml) call require().
const banner =
  "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);"

/**
 * Bundles `exports` (module paths relative to the repository, or package names, each with the names it
 * exports) into `file`, and returns it.
 * @param {string} file
 * @param {Record<string, string>} exports
 */
export async function bundleEngine(file, exports) {
  const contents = Object.entries(exports)
    .map(([from, names]) => `export { ${names} } from '${from.startsWith('.') ? join(root, from) : from}'`)
    .join('\n')
  const out = await build({
    stdin: { contents, resolveDir: root, loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    banner: { js: banner },
    write: false,
  })
  await writeFile(file, out.outputFiles[0].contents)
  return file
}
