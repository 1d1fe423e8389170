// Prepares a release of this repository: checks that everything agrees on the version, builds the release assets
// with their SHA256SUMS, writes the notes from CHANGELOG.md and prints the plan. Without --dry-run it also creates
// the annotated tag vX.Y.Z and moves the major tag vX, locally; the release workflow pushes them. See
// docs/releasing.md.
//
//   node script/release.mjs --version X.Y.Z [--dry-run] [--out DIR]
//
// Exit codes: 0 done, 1 refused (each reason on its own line), 2 usage error.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const USAGE = 'usage: node script/release.mjs --version X.Y.Z [--dry-run] [--out DIR]'

/** Names of what the script writes into the out folder, besides the npm package (deckhand-X.Y.Z.tgz). */
export const distArchiveName = (version) => `deckhand-dist-v${version}.tar.gz`
export const NOTES_FILE = 'release-notes.md'
export const CHECKSUMS_FILE = 'SHA256SUMS'

class UsageError extends Error {}

export function parseArgs(argv) {
  const options = { version: undefined, dryRun: false, out: 'release' }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const value = () => {
      const next = argv[++i]
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${arg} needs a value`)
      return next
    }
    if (arg === '--dry-run') options.dryRun = true
    else if (arg === '--version') options.version = value()
    else if (arg.startsWith('--version=')) options.version = arg.slice('--version='.length)
    else if (arg === '--out') options.out = value()
    else if (arg.startsWith('--out=')) options.out = arg.slice('--out='.length)
    else throw new UsageError(`unknown argument: ${arg}`)
  }
  if (options.version === undefined) throw new UsageError('--version is required')
  if (!parseVersion(options.version)) {
    const hint = /^v\d/.test(options.version) ? ` (without the v: ${options.version.slice(1)})` : ''
    throw new UsageError(
      `--version must be X.Y.Z, as in 1.2.3${hint}; got ${JSON.stringify(options.version)}`,
    )
  }
  return options
}

/** [major, minor, patch] of a plain X.Y.Z version (no pre-release, no build, no leading zeros), or undefined. */
export function parseVersion(text) {
  const match = /^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})$/.exec(text)
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined
}

function compareVersions(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return 0
}

/**
 * The body of the `## [version] - YYYY-MM-DD` section of a Keep a Changelog file, without the heading, or a
 * reason why there is none.
 */
export function releaseNotes(changelog, version) {
  const lines = changelog.split(/\r?\n/)
  const escaped = version.replace(/\./g, '\\.')
  const start = lines.findIndex((line) => new RegExp(`^## \\[${escaped}\\]`).test(line))
  if (start < 0) {
    const unreleased = lines.some((line) => /^## \[Unreleased\]/i.test(line))
    return {
      error:
        `CHANGELOG.md has no section for ${version}` +
        (unreleased
          ? `: rename '## [Unreleased]' to '## [${version}] - YYYY-MM-DD' in the release pull request`
          : ''),
    }
  }
  const date = new RegExp(`^## \\[${escaped}\\] - (\\d{4})-(\\d{2})-(\\d{2})\\s*$`).exec(lines[start])
  if (!date || !isCalendarDate(Number(date[1]), Number(date[2]), Number(date[3]))) {
    return {
      error: `CHANGELOG.md: the heading must read '## [${version}] - YYYY-MM-DD'; got '${lines[start]}'`,
    }
  }
  let end = start + 1
  // The next section, or the link reference definitions Keep a Changelog puts at the end.
  while (end < lines.length && !/^## /.test(lines[end]) && !/^\[[^\]]+\]:\s/.test(lines[end])) end++
  const body = lines
    .slice(start + 1, end)
    .join('\n')
    .trim()
  if (!body) return { error: `CHANGELOG.md: the section for ${version} is empty` }
  return { notes: `${body}\n`, date: `${date[1]}-${date[2]}-${date[3]}` }
}

function isCalendarDate(year, month, day) {
  const d = new Date(Date.UTC(year, month - 1, day))
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day
}

function run(command, args, cwd, env = process.env) {
  return new Promise((resolvePromise, reject) => {
    execFile(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const detail = (stderr || stdout || err.message).trim()
        reject(Object.assign(new Error(`${command} ${args.join(' ')} failed: ${detail}`), { stdout, stderr }))
      } else resolvePromise(stdout)
    })
  })
}

async function sha256File(path) {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk)
  return hash.digest('hex')
}

/** Writes `data` to `path` through a temporary file beside it, so a reader never sees half an asset. */
async function writeAtomic(path, data) {
  const temporary = `${path}.tmp-${process.pid}`
  try {
    await writeFile(temporary, data, { mode: 0o644 })
    await rename(temporary, path)
  } catch (err) {
    await rm(temporary, { force: true })
    throw err
  }
}

/** The checks that decide whether `version` may be released from `root`: every refusal, not only the first. */
async function refusals(root, version, git) {
  const problems = []
  const parsed = parseVersion(version)

  const packageJson = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'))
  if (packageJson.version !== version)
    problems.push(`package.json has version ${packageJson.version}, not ${version}`)

  const versionTs = await readFile(join(root, 'actions', 'engine', 'version.ts'), 'utf8').catch(() => '')
  const toolVersion = /export const TOOL_VERSION = '([^']*)'/.exec(versionTs)?.[1]
  if (toolVersion === undefined) problems.push('actions/engine/version.ts declares no TOOL_VERSION')
  else if (toolVersion !== version)
    problems.push(`actions/engine/version.ts has TOOL_VERSION ${toolVersion}, not ${version}`)

  const changelog = await readFile(join(root, 'CHANGELOG.md'), 'utf8').catch(() => undefined)
  const notes =
    changelog === undefined ? { error: 'CHANGELOG.md is missing' } : releaseNotes(changelog, version)
  if (notes.error) problems.push(notes.error)

  const status = await git(['status', '--porcelain', '--untracked-files=all'])
  if (status.trim()) {
    const files = status.trimEnd().split('\n')
    const shown = files.slice(0, 10).map((line) => line.slice(3))
    const more = files.length > 10 ? ` and ${files.length - 10} more` : ''
    problems.push(`the working tree is not clean (${shown.join(', ')}${more}): commit or remove the changes`)
  }

  const tags = (await git(['tag', '--list', 'v*'])).split('\n').filter(Boolean)
  const released = tags.map((tag) => [tag, parseVersion(tag.slice(1))]).filter(([, v]) => v)
  if (tags.includes(`v${version}`)) {
    problems.push(`tag v${version} exists: release tags are never moved or reused; release a new version`)
  } else {
    const newer = released.filter(([, v]) => compareVersions(v, parsed) > 0).map(([tag]) => tag)
    if (newer.length > 0)
      problems.push(`${version} is not newer than every release: ${newer.join(', ')} exist`)
  }

  try {
    await run(process.execPath, [join(root, 'script', 'build.mjs'), '--check'], root)
  } catch (err) {
    const message = `${err.stderr ?? ''}${err.stdout ?? ''}`.trim() || err.message
    problems.push(`dist/ does not match the sources: ${message}`)
  }
  return { problems, notes: notes.notes, date: notes.date }
}

/** The dist archive (what the actions run, as committed), the npm package, their checksums. */
async function buildAssets(root, out, version, git) {
  await mkdir(out, { recursive: true })
  const assets = []

  // git archive of HEAD: the committed files (which the checks above proved current), with the commit's time
  // on every entry, so the same commit always gives the same archive.
  const archive = distArchiveName(version)
  const paths = (await git(['ls-files', '-z', '--', 'dist', 'action.yml', 'actions/*/action.yml', 'LICENSE']))
    .split('\0')
    .filter(Boolean)
  const archiveTemp = join(out, `${archive}.tmp-${process.pid}`)
  try {
    await git([
      'archive',
      '--format=tar.gz',
      `--prefix=deckhand-v${version}/`,
      '-o',
      archiveTemp,
      'HEAD',
      '--',
      ...paths,
    ])
    await rename(archiveTemp, join(out, archive))
  } finally {
    await rm(archiveTemp, { force: true })
  }
  assets.push(archive)

  // npm pack writes the tarball itself; a scratch folder beside out keeps a failed pack out of it.
  const scratch = join(out, `.pack-${process.pid}`)
  await mkdir(scratch)
  try {
    const packed = JSON.parse(
      await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', scratch], root),
    )
    const filename = basename(packed[0].filename)
    await rename(join(scratch, filename), join(out, filename))
    assets.push(filename)
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }

  const sums = []
  for (const name of assets) {
    const path = join(out, name)
    sums.push({ name, sha256: await sha256File(path), size: (await stat(path)).size })
  }
  await writeAtomic(join(out, CHECKSUMS_FILE), sums.map((s) => `${s.sha256}  ${s.name}\n`).join(''))
  return sums
}

export async function release(argv, { cwd = process.cwd(), log = console.log } = {}) {
  const options = parseArgs(argv)
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
  const out = resolve(cwd, options.out)
  const git = (args) => run('git', args, root)
  const version = options.version
  const tag = `v${version}`
  const major = `v${parseVersion(version)[0]}`

  const { problems, notes, date } = await refusals(root, version, git)
  if (problems.length > 0) return { refused: problems }

  const commit = (await git(['rev-parse', 'HEAD'])).trim()
  const majorBefore = (
    await git(['rev-parse', '--verify', '--quiet', `refs/tags/${major}^{commit}`]).catch(() => '')
  ).trim()
  const assets = await buildAssets(root, out, version, git)
  await writeAtomic(join(out, NOTES_FILE), notes)

  if (!options.dryRun) {
    await git(['tag', '--annotate', '--message', `deckhand ${tag}`, tag, commit])
    await git(['tag', '--force', '--annotate', '--message', `deckhand ${major}, at ${tag}`, major, commit])
  }

  const where = relative(cwd, out) || '.'
  const lines = [
    `deckhand ${tag} (${date})${options.dryRun ? ': dry run, no tag created' : ''}`,
    `  commit  ${commit}`,
    `  ${options.dryRun ? 'would create' : 'created'} tag ${tag} (annotated; never moved afterwards)`,
    majorBefore === commit
      ? `  tag ${major} already at ${commit}`
      : `  ${options.dryRun ? 'would move' : 'moved'} tag ${major}: ${majorBefore ? majorBefore.slice(0, 12) : '(new)'} -> ${commit.slice(0, 12)}`,
    `  assets in ${where}/ (checksums in ${CHECKSUMS_FILE}):`,
    ...assets.map((a) => `    ${a.sha256}  ${a.name}  (${(a.size / 1024).toFixed(0)} KiB)`),
    `  notes   ${join(where, NOTES_FILE)} (${notes.split('\n').length - 1} lines from CHANGELOG.md)`,
  ]
  if (!options.dryRun)
    lines.push(`  push:   git push origin refs/tags/${tag} && git push --force origin refs/tags/${major}`)
  for (const line of lines) log(line)
  return { refused: [], commit, tag, major, assets }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const result = await release(process.argv.slice(2))
    if (result.refused.length > 0) {
      console.error(`release refused:\n${result.refused.map((p) => `  - ${p}`).join('\n')}`)
      process.exitCode = 1
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n${USAGE}`)
      process.exitCode = 2
    } else {
      console.error(`release failed: ${err.message}`)
      process.exitCode = 1
    }
  }
}
