// Bundles each action and the CLI into dist/ (committed, as GitHub runs actions from the repository).
// `--check` rebuilds in memory and fails when dist/ differs: the check-dist practice.
import { build } from 'esbuild'
import { mkdir, readdir, readFile, rm, writeFile, chmod } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = join(root, 'dist')
const check = process.argv.includes('--check')

/** dist/<name>/index.js for each entry. */
export const ENTRIES = {
  main: 'actions/main.ts',
  dump: 'actions/dump/main.ts',
  validate: 'actions/validate/main.ts',
  diff: 'actions/diff/main.ts',
  sync: 'actions/sync/main.ts',
  'db-dump': 'actions/db-dump/main.ts',
  'db-restore': 'actions/db-restore/main.ts',
  'files-backup': 'actions/files-backup/main.ts',
  'files-restore': 'actions/files-restore/main.ts',
  commit: 'actions/commit/main.ts',
  cli: 'actions/cli/index.ts',
  // @actions/artifact and the Azure SDK under it are 2.7 MiB: one shared bundle, loaded by the steps that upload
  // or download, instead of a copy inside every action.
  artifact: 'actions/github/artifact-library.ts',
}

/** Points the actions' dynamic import of @actions/artifact at the shared bundle beside them. */
const sharedArtifactLibrary = {
  name: 'shared-artifact-library',
  setup(b) {
    b.onResolve({ filter: /^@actions\/artifact$/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: '../artifact/index.js', external: true } : undefined,
    )
  },
}

// Bundled CommonJS dependencies call require() for Node built-ins; ESM output needs one.
const banner =
  "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);"

async function bundle() {
  const files = new Map()
  for (const [name, entry] of Object.entries(ENTRIES)) {
    const result = await build({
      entryPoints: [join(root, entry)],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      outfile: join(dist, name, 'index.js'),
      banner: { js: banner },
      legalComments: 'eof',
      logLevel: 'warning',
      plugins: [sharedArtifactLibrary],
    })
    for (const file of result.outputFiles) files.set(relative(dist, file.path), file.contents)
  }
  return files
}

async function existing(dir, prefix = '') {
  const out = new Map()
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(prefix, entry.name)
    if (entry.isDirectory()) for (const [k, v] of await existing(join(dir, entry.name), path)) out.set(k, v)
    else out.set(path, await readFile(join(dir, entry.name)))
  }
  return out
}

const files = await bundle()
if (check) {
  const current = await existing(dist)
  const stale = [...new Set([...files.keys(), ...current.keys()])].filter((name) => {
    const a = files.get(name)
    const b = current.get(name)
    return !a || !b || Buffer.compare(Buffer.from(a), b) !== 0
  })
  if (stale.length > 0) {
    console.error(`dist/ is stale (${stale.join(', ')}): run 'npm run package' and commit dist/.`)
    process.exit(1)
  }
  console.log(`dist/ is up to date (${files.size} bundles)`)
} else {
  await rm(dist, { recursive: true, force: true })
  for (const [name, contents] of files) {
    await mkdir(dirname(join(dist, name)), { recursive: true })
    await writeFile(join(dist, name), contents)
  }
  await chmod(join(dist, 'cli', 'index.js'), 0o755)
  for (const [name, contents] of files)
    console.log(`dist/${name}  ${(contents.length / 1024).toFixed(0)} KiB`)
}
