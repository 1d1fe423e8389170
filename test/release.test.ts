// script/release.mjs in a throwaway repository shaped like this one: package.json, actions/engine/version.ts,
// CHANGELOG.md, committed dist/ and action.yml files, the real release script, and real git and npm.
import { afterEach, describe, expect, test } from '@jest/globals'
import { createHash } from 'node:crypto'
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parse } from 'yaml'

import {
  CHECKSUMS_FILE,
  distArchiveName,
  NOTES_FILE,
  parseArgs,
  parseVersion,
  releaseNotes,
} from '../script/release.mjs'
import { type ProgramRun, ROOT, runProgram } from './support/action.js'

type Run = ProgramRun

const exec = (command: string, args: string[], cwd: string, env: Record<string, string>): Promise<Run> =>
  runProgram(command, args, { cwd, env })

/**
 * Stands in for script/build.mjs, whose --check contract the release script relies on: rebuild in memory, exit 0
 * when dist/ is what the sources give, else exit 1 naming the stale files on stderr. Its "bundle" of src/cli.js
 * is the file behind a shebang, as the real build's CLI bundle starts.
 */
const BUILD_STAND_IN = `import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises'
const root = new URL('..', import.meta.url).pathname
const built = '#!/usr/bin/env node\\n' + (await readFile(root + 'src/cli.js', 'utf8'))
if (process.argv.includes('--check')) {
  const current = await readFile(root + 'dist/cli/index.js', 'utf8').catch(() => '')
  if (current !== built) {
    console.error("dist/ is stale (cli/index.js): run 'npm run package' and commit dist/.")
    process.exit(1)
  }
  console.log('dist/ is up to date (1 files)')
} else {
  await mkdir(root + 'dist/cli', { recursive: true })
  await writeFile(root + 'dist/cli/index.js', built)
  await chmod(root + 'dist/cli/index.js', 0o755)
}
`

const CLI = (version: string): string => `console.log('deckhand ${version}')\n`

const CHANGELOG = (heading: string): string => `# Changelog

All notable changes to deckhand are documented in this file.

## [Unreleased]

${heading}

### Added

- \`sync\` refuses a plan that deletes more than \`max-deletes\`.

### Fixed

- \`dump\` keeps a hand-edited file.

## [1.0.0] - 2026-01-10

### Added

- The first release.

[1.0.0]: https://github.com/deckhand/deckhand/releases/tag/v1.0.0
`

interface Repo {
  dir: string
  out: string
  env: Record<string, string>
  git(args: string[]): Promise<string>
  release(args: string[]): Promise<Run>
  /** Writes files and commits them. */
  commit(files: Record<string, string>, message: string): Promise<string>
  tagCommit(tag: string): Promise<string>
}

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/**
 * v1.0.0 (and v1) on a first commit, then the release pull request for `version` merged on top: package.json,
 * TOOL_VERSION and the CHANGELOG heading as `files` leave them.
 */
async function repository(version = '1.1.0', files: Record<string, string> = {}): Promise<Repo> {
  const base = await mkdtemp(join(tmpdir(), 'deckhand-release-test-'))
  cleanups.push(() => rm(base, { recursive: true, force: true }))
  const dir = join(base, 'repo')
  await mkdir(dir)
  await writeFile(join(base, 'gitconfig'), '')
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: base,
    GIT_CONFIG_GLOBAL: join(base, 'gitconfig'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Release Manager',
    GIT_AUTHOR_EMAIL: 'releases@example.com',
    GIT_COMMITTER_NAME: 'Release Manager',
    GIT_COMMITTER_EMAIL: 'releases@example.com',
    npm_config_cache: join(base, 'npm-cache'),
    npm_config_userconfig: join(base, 'npmrc'),
    npm_config_update_notifier: 'false',
  }
  const git = async (args: string[]): Promise<string> => {
    const run = await exec('git', args, dir, env)
    if (run.code !== 0) throw new Error(`git ${args.join(' ')}: ${run.stderr}`)
    return run.stdout
  }
  const write = async (contents: Record<string, string>): Promise<void> => {
    for (const [file, text] of Object.entries(contents)) {
      await mkdir(dirname(join(dir, file)), { recursive: true })
      await writeFile(join(dir, file), text)
    }
  }
  const repo: Repo = {
    dir,
    out: join(dir, 'release'),
    env,
    git,
    release: (args) => exec(process.execPath, [join(dir, 'script', 'release.mjs'), ...args], dir, env),
    async commit(contents, message) {
      await write(contents)
      await git(['add', '--all'])
      await git(['commit', '--quiet', '-m', message])
      return (await git(['rev-parse', 'HEAD'])).trim()
    },
    tagCommit: async (tag) => (await git(['rev-parse', `refs/tags/${tag}^{commit}`])).trim(),
  }

  await git(['init', '--quiet', '--initial-branch=main'])
  await mkdir(join(dir, 'script'))
  await mkdir(join(dir, 'actions', 'dump'), { recursive: true })
  await copyFile(join(ROOT, 'script', 'release.mjs'), join(dir, 'script', 'release.mjs'))
  await copyFile(join(ROOT, 'LICENSE'), join(dir, 'LICENSE'))
  await copyFile(join(ROOT, 'action.yml'), join(dir, 'action.yml'))
  await copyFile(join(ROOT, 'actions', 'dump', 'action.yml'), join(dir, 'actions', 'dump', 'action.yml'))
  const state = (v: string): Record<string, string> => ({
    'package.json': `${JSON.stringify(
      {
        name: 'deckhand',
        version: v,
        type: 'module',
        private: true,
        bin: { deckhand: 'dist/cli/index.js' },
        files: ['dist/', 'LICENSE', 'CHANGELOG.md'],
      },
      null,
      2,
    )}\n`,
    'actions/engine/version.ts': `export const TOOL_VERSION = '${v}'\n`,
    'src/cli.js': CLI(v),
    'dist/cli/index.js': `#!/usr/bin/env node\n${CLI(v)}`,
    'script/build.mjs': BUILD_STAND_IN,
    '.gitignore': 'release/\n',
  })
  await repo.commit({ ...state('1.0.0'), 'CHANGELOG.md': CHANGELOG('').replace('\n\n\n', '\n\n') }, 'v1.0.0')
  await git(['tag', '--annotate', '-m', 'deckhand v1.0.0', 'v1.0.0'])
  await git(['tag', '--annotate', '-m', 'deckhand v1', 'v1'])
  await repo.commit(
    {
      ...state(version),
      'CHANGELOG.md': CHANGELOG(`## [${version}] - 2026-03-02`).replace('## [Unreleased]\n\n', ''),
      ...files,
    },
    `Release ${version}`,
  )
  return repo
}

const sha256 = async (path: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex')

async function tarList(repo: Repo, archive: string): Promise<string[]> {
  const run = await exec('tar', ['-tzf', archive], repo.dir, repo.env)
  expect(run.stderr).toBe('')
  return run.stdout.split('\n').filter(Boolean).sort()
}

describe('a release', () => {
  test('a dry run builds the assets, their SHA256SUMS and the notes, and creates no tag', async () => {
    const repo = await repository('1.1.0')
    const head = (await repo.git(['rev-parse', 'HEAD'])).trim()
    const v1 = await repo.tagCommit('v1')

    const run = await repo.release(['--version', '1.1.0', '--dry-run'])
    expect(run).toMatchObject({ code: 0, stderr: '' })
    expect(run.stdout).toContain(`commit  ${head}`)
    expect(run.stdout).toContain('would create tag v1.1.0')
    expect(run.stdout).toContain(`would move tag v1: ${v1.slice(0, 12)} -> ${head.slice(0, 12)}`)

    const assets = [distArchiveName('1.1.0'), 'deckhand-1.1.0.tgz']
    expect((await readdir(repo.out)).sort()).toEqual([...assets, 'SHA256SUMS', 'release-notes.md'].sort())
    const sums = await readFile(join(repo.out, 'SHA256SUMS'), 'utf8')
    expect(sums).toBe(
      (await Promise.all(assets.map(async (a) => `${await sha256(join(repo.out, a))}  ${a}\n`))).join(''),
    )
    for (const asset of assets)
      expect(run.stdout).toContain(`${await sha256(join(repo.out, asset))}  ${asset}`)
    // The file checks as sha256sum reads it.
    const check = await exec('sha256sum', ['--check', '--strict', 'SHA256SUMS'], repo.out, repo.env)
    expect(check).toMatchObject({ code: 0, stdout: assets.map((a) => `${a}: OK\n`).join('') })

    expect(await tarList(repo, join(repo.out, distArchiveName('1.1.0')))).toEqual([
      'deckhand-v1.1.0/',
      'deckhand-v1.1.0/LICENSE',
      'deckhand-v1.1.0/action.yml',
      'deckhand-v1.1.0/actions/',
      'deckhand-v1.1.0/actions/dump/',
      'deckhand-v1.1.0/actions/dump/action.yml',
      'deckhand-v1.1.0/dist/',
      'deckhand-v1.1.0/dist/cli/',
      'deckhand-v1.1.0/dist/cli/index.js',
    ])
    expect(await tarList(repo, join(repo.out, 'deckhand-1.1.0.tgz'))).toEqual([
      'package/CHANGELOG.md',
      'package/LICENSE',
      'package/dist/cli/index.js',
      'package/package.json',
    ])

    expect(await readFile(join(repo.out, 'release-notes.md'), 'utf8')).toBe(
      '### Added\n\n- `sync` refuses a plan that deletes more than `max-deletes`.\n\n### Fixed\n\n- `dump` keeps a hand-edited file.\n',
    )
    expect(await repo.git(['tag', '--list', 'v1.1.0'])).toBe('')
    expect(await repo.tagCommit('v1')).toBe(v1)
    // release/ is ignored, so a second dry run still finds a clean tree, and gives the same bytes.
    const again = await repo.release(['--version', '1.1.0', '--dry-run'])
    expect(again.code).toBe(0)
    expect(await readFile(join(repo.out, 'SHA256SUMS'), 'utf8')).toBe(sums)
  })

  test('a real run creates the annotated tag vX.Y.Z and moves vX, locally', async () => {
    const repo = await repository('1.1.0')
    const head = (await repo.git(['rev-parse', 'HEAD'])).trim()
    const v100 = await repo.tagCommit('v1.0.0')
    expect(await repo.tagCommit('v1')).toBe(v100)

    const run = await repo.release(['--version', '1.1.0', '--out', '../assets'])
    expect(run).toMatchObject({ code: 0, stderr: '' })
    expect(run.stdout).toContain('created tag v1.1.0')
    expect(run.stdout).toContain(`moved tag v1: ${v100.slice(0, 12)} -> ${head.slice(0, 12)}`)
    expect(await readdir(join(repo.dir, '..', 'assets'))).toContain('SHA256SUMS')

    expect((await repo.git(['cat-file', '-t', 'refs/tags/v1.1.0'])).trim()).toBe('tag')
    expect(await repo.tagCommit('v1.1.0')).toBe(head)
    expect(await repo.tagCommit('v1')).toBe(head)
    expect(await repo.tagCommit('v1.0.0')).toBe(v100)
  })

  test('an existing vX.Y.Z is never moved: the same version again is refused', async () => {
    const repo = await repository('1.1.0')
    expect((await repo.release(['--version', '1.1.0'])).code).toBe(0)
    const tagged = await repo.tagCommit('v1.1.0')
    const tagObject = (await repo.git(['rev-parse', 'refs/tags/v1.1.0'])).trim()
    await repo.commit({ 'src/other.js': '\n' }, 'After the release')

    const again = await repo.release(['--version', '1.1.0'])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('tag v1.1.0 exists: release tags are never moved or reused')
    expect(await repo.tagCommit('v1.1.0')).toBe(tagged)
    expect((await repo.git(['rev-parse', 'refs/tags/v1.1.0'])).trim()).toBe(tagObject)
    expect(await repo.tagCommit('v1')).toBe(tagged)
  })

  test('the next major gets its own major tag and leaves v1 alone', async () => {
    const repo = await repository('2.0.0')
    const v1 = await repo.tagCommit('v1')
    const run = await repo.release(['--version', '2.0.0'])
    expect(run.stdout).toContain('moved tag v2: (new) ->')
    expect(await repo.tagCommit('v2')).toBe((await repo.git(['rev-parse', 'HEAD'])).trim())
    expect(await repo.tagCommit('v1')).toBe(v1)
  })
})

describe('refusals', () => {
  test('a version that package.json, TOOL_VERSION and the CHANGELOG do not carry: every reason at once', async () => {
    const repo = await repository('1.1.0')
    const run = await repo.release(['--version', '1.1.1', '--dry-run'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('package.json has version 1.1.0, not 1.1.1')
    expect(run.stderr).toContain('actions/engine/version.ts has TOOL_VERSION 1.1.0, not 1.1.1')
    expect(run.stderr).toContain('CHANGELOG.md has no section for 1.1.1')
    await expect(readdir(repo.out)).rejects.toThrow(/ENOENT/)
  })

  test('TOOL_VERSION left behind', async () => {
    const repo = await repository('1.1.0', {
      'actions/engine/version.ts': "export const TOOL_VERSION = '1.0.0'\n",
    })
    const run = await repo.release(['--version', '1.1.0'])
    expect(run.code).toBe(1)
    expect(run.stderr.trim().split('\n')).toEqual([
      'release refused:',
      '  - actions/engine/version.ts has TOOL_VERSION 1.0.0, not 1.1.0',
    ])
    expect(await repo.git(['tag', '--list', 'v1.1.0'])).toBe('')
  })

  test('a CHANGELOG whose changes are still under Unreleased', async () => {
    const repo = await repository('1.1.0', { 'CHANGELOG.md': CHANGELOG('') })
    const run = await repo.release(['--version', '1.1.0'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(
      "CHANGELOG.md has no section for 1.1.0: rename '## [Unreleased]' to '## [1.1.0] - YYYY-MM-DD'",
    )
  })

  test.each([
    ['no date', '## [1.1.0]'],
    ['a date that does not exist', '## [1.1.0] - 2026-02-30'],
    ['the word Unreleased', '## [1.1.0] - Unreleased'],
  ])('a CHANGELOG heading with %s', async (_, heading) => {
    const repo = await repository('1.1.0', {
      'CHANGELOG.md': CHANGELOG(heading).replace('## [Unreleased]\n\n', ''),
    })
    const run = await repo.release(['--version', '1.1.0', '--dry-run'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`the heading must read '## [1.1.0] - YYYY-MM-DD'; got '${heading}'`)
  })

  test('a dirty working tree: a changed file and an untracked one', async () => {
    const repo = await repository('1.1.0')
    await writeFile(join(repo.dir, 'src', 'cli.js'), CLI('1.1.0') + '// local change\n')
    await writeFile(join(repo.dir, 'notes.txt'), 'scratch\n')
    const run = await repo.release(['--version', '1.1.0'])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(
      /the working tree is not clean \((src\/cli\.js, notes\.txt|notes\.txt, src\/cli\.js)\)/,
    )
    expect(await repo.git(['tag', '--list', 'v1.1.0'])).toBe('')
  })

  test('dist/ that does not match the sources it was committed with', async () => {
    const repo = await repository('1.1.0')
    await repo.commit(
      { 'src/cli.js': CLI('1.1.0') + 'process.exitCode = 0\n' },
      'A change without npm run package',
    )
    const run = await repo.release(['--version', '1.1.0', '--dry-run'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('dist/ does not match the sources: dist/ is stale (cli/index.js)')
  })

  test('a version older than one already released', async () => {
    const repo = await repository('1.1.0')
    await repo.git(['tag', '--annotate', '-m', 'deckhand v1.2.0', 'v1.2.0', 'HEAD~1'])
    const run = await repo.release(['--version', '1.1.0'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('1.1.0 is not newer than every release: v1.2.0 exist')
  })

  test.each([
    [[], '--version is required'],
    [['--version', 'v1.1.0'], '--version must be X.Y.Z, as in 1.2.3 (without the v: 1.1.0)'],
    [['--version', '1.1'], '--version must be X.Y.Z'],
    [['--version', '1.1.0-rc.1'], '--version must be X.Y.Z'],
    [['--version'], '--version needs a value'],
    [['--version', '1.1.0', '--push'], 'unknown argument: --push'],
  ])('usage error %j exits 2', async (args, message) => {
    // Arguments are checked before anything else is read: no repository needed.
    const run = await exec(process.execPath, [join(ROOT, 'script', 'release.mjs'), ...args], tmpdir(), {
      PATH: process.env.PATH ?? '',
    })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(message)
    expect(run.stderr).toContain('usage: node script/release.mjs --version X.Y.Z')
  })
})

describe('the pieces', () => {
  test('versions are plain X.Y.Z', () => {
    expect(parseVersion('1.20.3')).toEqual([1, 20, 3])
    for (const bad of ['v1.2.3', '1.2', '01.2.3', '1.2.3-rc.1', '1.2.3+build', ' 1.2.3']) {
      expect(parseVersion(bad)).toBeUndefined()
    }
    expect(parseArgs(['--version=1.2.3', '--dry-run', '--out=assets'])).toEqual({
      version: '1.2.3',
      dryRun: true,
      out: 'assets',
    })
  })

  test('notes of the last section stop at the link definitions', () => {
    expect(releaseNotes(CHANGELOG(''), '1.0.0')).toEqual({
      notes: '### Added\n\n- The first release.\n',
      date: '2026-01-10',
    })
    expect(releaseNotes('## [1.0.0] - 2026-01-10\n\n## [0.9.0] - 2026-01-01\n- x\n', '1.0.0')).toEqual({
      error: 'CHANGELOG.md: the section for 1.0.0 is empty',
    })
    // 1.0.0 is not 1x0x0.
    expect(releaseNotes('## [1x0x0] - 2026-01-10\n- x\n', '1.0.0').error).toMatch(/no section for 1\.0\.0/)
  })
})

describe('the release workflow', () => {
  interface Step {
    name?: string
    uses?: string
    run?: string
    with?: Record<string, string>
  }
  interface Job {
    if?: string
    needs?: string
    permissions: Record<string, string>
    steps: Step[]
  }

  test('grants each job only what it needs and publishes what the script builds', async () => {
    const workflow = parse(await readFile(join(ROOT, '.github', 'workflows', 'release.yml'), 'utf8')) as {
      on: { workflow_dispatch: { inputs: Record<string, { type: string; default?: unknown }> } }
      permissions: Record<string, string>
      jobs: { verify: Job; publish: Job }
    }
    expect(workflow.on.workflow_dispatch.inputs['dry-run']).toMatchObject({ type: 'boolean', default: true })
    expect(workflow.permissions).toEqual({})
    const { verify, publish } = workflow.jobs
    expect(verify.permissions).toEqual({ contents: 'read' })
    expect(publish).toMatchObject({ needs: 'verify', if: '${{ !inputs.dry-run }}' })
    expect(publish.permissions).toEqual({ contents: 'write', 'id-token': 'write', attestations: 'write' })

    const runs = (job: Job): string => job.steps.map((s) => s.run ?? '').join('\n')
    expect(runs(verify)).toContain('node script/release.mjs --version "$VERSION" --dry-run')
    expect(runs(publish)).toMatch(/node script\/release\.mjs --version "\$VERSION"\n/)
    // Only the major tag is ever forced.
    const pushes = runs(publish).match(/git push[^\n]*/g)
    expect(pushes).toEqual([
      'git push origin "refs/tags/v${VERSION}"',
      'git push --force origin "refs/tags/v${VERSION%%.*}"',
    ])
    const draft = runs(publish)
    expect(draft).toContain(`release/${distArchiveName('${VERSION}')}`)
    expect(draft).toContain('release/deckhand-${VERSION}.tgz')
    expect(draft).toContain(`release/${CHECKSUMS_FILE}`)
    expect(draft).toContain(`--notes-file release/${NOTES_FILE}`)
    // Every action pinned to a full commit.
    for (const step of [...verify.steps, ...publish.steps].filter((s) => s.uses)) {
      expect(step.uses).toMatch(/^[\w-]+\/[\w-]+@[0-9a-f]{40}$/)
    }
    const names = publish.steps.map((s) => s.name ?? s.uses)
    expect(names.indexOf('Attest the assets')).toBeLessThan(names.indexOf('Publish the release'))
    expect(names.at(-1)).toBe('Move the major tag')
  })
})
