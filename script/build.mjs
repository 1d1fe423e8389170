// Bundles each action and the CLI into dist/ (committed, as GitHub runs actions from the repository).
// `--check` rebuilds in memory and fails when dist/ differs: the check-dist practice.
import { build } from 'esbuild'
import { mkdir, readdir, readFile, rm, writeFile, chmod } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

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
  restore: 'actions/restore/main.ts',
  upgrade: 'actions/upgrade/main.ts',
  cli: 'actions/cli/index.ts',
  // @actions/artifact and the Azure SDK under it are 2.7 MiB: one shared bundle, loaded by the steps that upload
  // or download, instead of a copy inside every action.
  artifact: 'actions/github/artifact-library.ts',
  // The AWS SDK's S3 client, likewise: loaded only by steps whose store is s3://.
  s3: 'actions/engine/store/s3-library.ts',
}

/** Points the actions' dynamic imports of @actions/artifact and the S3 library at the shared bundles beside them. */
const sharedArtifactLibrary = {
  name: 'shared-libraries',
  setup(b) {
    b.onResolve({ filter: /^@actions\/artifact$/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: '../artifact/index.js', external: true } : undefined,
    )
    b.onResolve({ filter: /\/s3-library\.js$/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: '../s3/index.js', external: true } : undefined,
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
      target: 'node22',
      // Module paths in the bundle as the checkout names them, so a symlinked node_modules builds the same bytes.
      preserveSymlinks: true,
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

/**
 * dist/pulumi/: the Pulumi component compiled file by file, with type declarations, and not bundled: @pulumi/*
 * must stay the program's own single copy (peer dependencies), or resources would register with the wrong runtime.
 */
function compilePulumi() {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, 'tsconfig.json'),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic() {} },
  )
  const options = {
    ...config.options,
    noEmit: false,
    declaration: true,
    rootDir: join(root, 'pulumi'),
    outDir: join(dist, 'pulumi'),
  }
  const program = ts.createProgram([join(root, 'pulumi', 'index.ts')], options)
  const files = new Map()
  const result = program.emit(undefined, (fileName, text) =>
    files.set(relative(dist, fileName), Buffer.from(text)),
  )
  const problems = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics]
  if (problems.length > 0) {
    throw new Error(
      ts.formatDiagnostics(problems, {
        getCanonicalFileName: (f) => f,
        getCurrentDirectory: () => root,
        getNewLine: () => '\n',
      }),
    )
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
for (const [name, contents] of compilePulumi()) files.set(name, contents)
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
  console.log(`dist/ is up to date (${files.size} files)`)
} else {
  await rm(dist, { recursive: true, force: true })
  for (const [name, contents] of files) {
    await mkdir(dirname(join(dist, name)), { recursive: true })
    await writeFile(join(dist, name), contents)
  }
  await chmod(join(dist, 'cli', 'index.js'), 0o755)
  for (const [name, contents] of files) {
    if (!name.startsWith('pulumi/')) console.log(`dist/${name}  ${(contents.length / 1024).toFixed(0)} KiB`)
  }
  console.log(`dist/pulumi/  ${[...files.keys()].filter((name) => name.startsWith('pulumi/')).length} files`)
}
