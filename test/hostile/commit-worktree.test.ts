import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'

import { type GitSandbox, commitAs, gitSandbox, gitWithCompetitor, writeDump } from '../support/git.js'
import { CLI, runCli } from '../support/action.js'

/**
 * `commit` treats the checkout as read-only: whatever it holds (untracked files where the remote added
 * some, local commits, edits git status does not list, staged work, another git process's locks) and
 * whatever happens meanwhile (another run on the same checkout, a kill at any point), the working tree, the
 * index, HEAD and the branches are exactly as they were, and no commit is dropped or published unasked.
 * Each scenario pushes after the branch moved (or would have moved the checkout), the case in which
 * commit used to reset the checkout to the pushed commit.
 */

let work: string
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'deckhand-commit-worktree-'))
}, 60_000)
afterAll(() => rm(work, { recursive: true, force: true }))

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const SUBJECT = 'Gateway drift in kong: 1 added, 0 changed, 0 removed'

function gateway(): Record<string, unknown> {
  return {
    _format_version: '3.0',
    services: [{ name: 'orders', host: 'orders.internal', port: 8080 }],
  }
}

function drifted(): Record<string, unknown> {
  const state = gateway() as { services: Record<string, unknown>[] }
  state.services.push({ name: 'billing', host: 'billing.internal', port: 8443 })
  return state
}

/** A remote whose main holds a dump in kong/, a README and an OWNERS file, and a runner's clone of it. */
async function seeded(options: { depth?: number } = {}): Promise<{ box: GitSandbox; runner: string }> {
  const box = await gitSandbox()
  cleanups.push(() => box.cleanup())
  const seed = await box.clone('seed')
  await writeDump(join(seed, 'kong'), { default: gateway() }, { time: new Date('2026-11-20T00:00:00Z') })
  await writeFile(join(seed, 'README.md'), '# gateway config\n')
  await writeFile(join(seed, 'OWNERS'), 'platform-team\n')
  await box.git(seed, ['add', '--all'])
  await commitAs(box.git, seed, 'seed')
  await box.git(seed, ['push', '-q', 'origin', 'HEAD:main'])
  return { box, runner: await box.clone('runner', options) }
}

function commit(
  box: GitSandbox,
  cwd: string,
  env: Record<string, string> = {},
  args: readonly string[] = [],
): ReturnType<typeof runCli> {
  return runCli(['commit', '--path', 'kong', ...args], { cwd, env: { ...box.env, ...env } })
}

async function remoteLog(box: GitSandbox): Promise<string[]> {
  return (await box.git(box.remotePath, ['log', '--format=%s', 'main'])).trim().split('\n')
}

async function tip(box: GitSandbox): Promise<string> {
  return (await box.git(box.remotePath, ['rev-parse', 'main'])).trim()
}

const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex')

/**
 * Everything of a checkout a person owns: HEAD, the branches and tags, the index byte for byte, and every
 * file of the working tree (content and mode). Read without git commands that might refresh the index.
 */
async function checkoutState(dir: string): Promise<Record<string, string>> {
  const state: Record<string, string> = {}
  const git = join(dir, '.git')
  state.HEAD = await readFile(join(git, 'HEAD'), 'utf8')
  state.index = await readFile(join(git, 'index')).then(sha, () => 'none')
  const refs = await gitOut(dir, [
    'for-each-ref',
    '--format=%(refname) %(objectname)',
    'refs/heads',
    'refs/tags',
  ])
  state.refs = refs
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name)
      if (path === git) continue
      const info = await lstat(path)
      const rel = relative(dir, path)
      if (entry.isDirectory()) await walk(path)
      else if (entry.isSymbolicLink()) state[rel] = `link ${await readlink(path)}`
      else state[rel] = `${(info.mode & 0o777).toString(8)} ${sha(await readFile(path))}`
    }
  }
  await walk(dir)
  return state
}

/** git in a checkout for reading only (no optional locks, so no index refresh). */
function gitOut(dir: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      'git',
      [...args],
      { cwd: dir, env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } },
      (err, out, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(out.trim())),
    ),
  )
}

/** Lock files under .git: what a git process that died holding a lock leaves behind. */
async function lockFiles(dir: string): Promise<string[]> {
  const found: string[] = []
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name)
      if (entry.isDirectory()) await walk(path)
      else if (entry.name.endsWith('.lock')) found.push(relative(dir, path))
    }
  }
  await walk(join(dir, '.git'))
  return found.sort()
}

describe('commit leaves the checkout as it found it', () => {
  it('keeps an untracked file where upstream added one byte-identical, and pushes on top of upstream', async () => {
    const { box, runner } = await seeded()
    const upstream = await box.pushFromElsewhere({ 'docs/runbook.md': "upstream's runbook\n" }, 'runbook')
    // The person's own draft at the same path, not UTF-8 text, never added.
    const mine = Buffer.from([0x23, 0x20, 0x6d, 0x69, 0x6e, 0x65, 0x0a, 0x00, 0xff, 0xfe, 0x0a])
    await mkdir(join(runner, 'docs'))
    await writeFile(join(runner, 'docs', 'runbook.md'), mine)
    await writeDump(join(runner, 'kong'), { default: drifted() })
    const before = await checkoutState(runner)

    const run = await commit(box, runner)

    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' })
    expect(await readFile(join(runner, 'docs', 'runbook.md'))).toEqual(mine)
    expect(await checkoutState(runner)).toEqual(before)
    expect(await remoteLog(box)).toEqual([SUBJECT, 'runbook', 'seed'])
    expect((await box.git(box.remotePath, ['rev-parse', 'main^'])).trim()).toBe(upstream)
    expect(await box.git(box.remotePath, ['show', 'main:docs/runbook.md'])).toBe("upstream's runbook\n")
    // The report says how to bring the checkout up to date, since commit does not.
    expect(run.stdout).toContain('git pull --ff-only --autostash')

    // Inside path the untracked file is one of the files to commit, and upstream's differs: a conflict,
    // refused, with the file as it was.
    await box.pushFromElsewhere({ 'kong/NOTES.md': 'theirs\n' }, 'notes')
    await writeFile(join(runner, 'kong', 'NOTES.md'), 'mine\n')
    const held = await checkoutState(runner)
    const pushed = await tip(box)
    const conflict = await commit(box, runner)
    expect(conflict.code).toBe(1)
    expect(conflict.stderr).toContain('kong/NOTES.md')
    expect(await tip(box)).toBe(pushed)
    expect(await checkoutState(runner)).toEqual(held)
  })

  it.each([
    ['did not move', false],
    ['moved', true],
  ])(
    'refuses to push past a local commit the remote lacks (upstream %s): the commit stays on the branch, nothing is pushed, work in progress stays',
    async (_, moved) => {
      const { box, runner } = await seeded()
      await writeFile(join(runner, 'CHANGELOG.md'), 'local entry\n')
      await box.git(runner, ['add', 'CHANGELOG.md'])
      await commitAs(box.git, runner, 'Local changelog entry')
      const local = (await box.git(runner, ['rev-parse', 'HEAD'])).trim()
      if (moved) await box.pushFromElsewhere({ 'README.md': '# gateway config\n\nupstream\n' }, 'docs')
      // Work in progress around it: a staged new file, an edit, an untracked file.
      await mkdir(join(runner, 'docs'))
      await writeFile(join(runner, 'docs', 'plan.md'), 'staged plan\n')
      await box.git(runner, ['add', 'docs/plan.md'])
      await writeFile(join(runner, 'OWNERS'), 'platform-team\nme\n')
      await writeFile(join(runner, 'scratch.txt'), 'scratch\n')
      await writeDump(join(runner, 'kong'), { default: drifted() })
      const before = await checkoutState(runner)
      const remoteBefore = await tip(box)

      const run = await commit(box, runner)

      expect(run.code).toBe(1)
      expect(run.stderr).toContain('main has 1 commit(s) that no remote branch holds')
      expect(run.stderr).toContain(`${local.slice(0, 12)} Local changelog entry`)
      expect(run.stderr).toContain('Nothing was pushed and the checkout is untouched')
      expect(run.stderr).toContain('git push origin main')
      expect(await tip(box)).toBe(remoteBefore)
      expect(await checkoutState(runner)).toEqual(before)
      expect((await box.git(runner, ['rev-parse', 'main'])).trim()).toBe(local)

      // What the message says to do works, and the drift then lands on top of the local commit, without
      // the staged and unstaged work, which stays in the checkout.
      if (moved) {
        const who = ['-c', 'user.name=Dana Operator', '-c', 'user.email=dana@example.com']
        await box.git(runner, [...who, 'pull', '-q', '--rebase', '--autostash', 'origin', 'main'])
      }
      await box.git(runner, ['push', '-q', 'origin', 'main'])
      const published = (await box.git(runner, ['rev-parse', 'HEAD'])).trim()
      const held = await checkoutState(runner)
      const again = await commit(box, runner)
      expect({ code: again.code, stderr: again.code === 0 ? '' : again.stderr }).toEqual({
        code: 0,
        stderr: '',
      })
      expect((await box.git(box.remotePath, ['rev-parse', 'main^'])).trim()).toBe(published)
      expect(await box.git(box.remotePath, ['show', 'main:CHANGELOG.md'])).toBe('local entry\n')
      expect(await box.git(box.remotePath, ['ls-tree', '--name-only', 'main', 'docs/', 'scratch.txt'])).toBe(
        '',
      )
      expect(await box.git(box.remotePath, ['show', 'main:OWNERS'])).toBe('platform-team\n')
      expect(await checkoutState(runner)).toEqual(held)
    },
  )

  it.each(['--assume-unchanged', '--skip-worktree'])(
    'keeps a local edit git status does not list (%s) of a file upstream changed, and lands the drift',
    async (flag) => {
      const { box, runner } = await seeded()
      await writeFile(join(runner, 'OWNERS'), 'local override\n')
      await box.git(runner, ['update-index', flag, 'OWNERS'])
      await box.pushFromElsewhere({ OWNERS: 'platform-team\nsecurity-team\n' }, 'owners')
      await writeDump(join(runner, 'kong'), { default: drifted() })
      const before = await checkoutState(runner)

      const run = await commit(box, runner)

      expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' })
      expect(await readFile(join(runner, 'OWNERS'), 'utf8')).toBe('local override\n')
      expect(await checkoutState(runner)).toEqual(before)
      expect(await remoteLog(box)).toEqual([SUBJECT, 'owners', 'seed'])
      expect(await box.git(box.remotePath, ['show', 'main:OWNERS'])).toBe('platform-team\nsecurity-team\n')
    },
  )

  it('keeps a change staged inside path staged, and commits the files as they are, not the index', async () => {
    const { box, runner } = await seeded()
    await writeFile(join(runner, 'kong', 'NOTES.md'), 'draft\n')
    await box.git(runner, ['add', 'kong/NOTES.md'])
    await writeFile(join(runner, 'kong', 'NOTES.md'), 'final\n')
    await box.pushFromElsewhere({ 'README.md': '# gateway config\n\nupstream\n' }, 'docs')
    await writeDump(join(runner, 'kong'), { default: drifted() })
    const before = await checkoutState(runner)

    const run = await commit(box, runner)

    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' })
    expect(await checkoutState(runner)).toEqual(before)
    expect(await box.git(runner, ['show', ':kong/NOTES.md'])).toBe('draft\n')
    expect(await box.git(box.remotePath, ['show', 'main:kong/NOTES.md'])).toBe('final\n')
    expect(await remoteLog(box)).toEqual([SUBJECT, 'docs', 'seed'])
  })
})

describe('commit with other git processes on the same checkout', () => {
  it('lets a second run that lands between fetch and push win, and the first find nothing left to do', async () => {
    const { box, runner } = await seeded()
    await writeDump(join(runner, 'kong'), { default: drifted() })
    const before = await checkoutState(runner)
    // The second run, started by the first one's first push, on the same checkout.
    const second = join(box.dir, 'second')
    const script = join(box.dir, 'second.sh')
    await writeFile(
      script,
      // Its own commit time: two runs within one second build byte-identical commits (same tree, parent, message
      // and time), and the first run's push then finds its own commit there, not the race this test is about.
      `cd '${runner}' && GIT_AUTHOR_DATE=2001-01-01T00:00:00Z GIT_COMMITTER_DATE=2001-01-01T00:00:00Z '${process.execPath}' '${CLI}' commit --path kong > '${second}.out' 2>&1; echo $? > '${second}.code'\n`,
    )
    const bin = await gitWithCompetitor(box, script, 1)

    const first = await commit(box, runner, { PATH: `${bin}:${box.env.PATH}` })

    expect(await readFile(`${second}.code`, 'utf8')).toBe('0\n')
    expect({ code: first.code, stderr: first.code === 0 ? '' : first.stderr }).toEqual({
      code: 0,
      stderr: '',
    })
    expect(first.stderr).toMatch(/main moved while pushing/)
    expect(first.stderr).toContain('main already holds these files')
    expect(await remoteLog(box)).toEqual([SUBJECT, 'seed'])
    expect(await checkoutState(runner)).toEqual(before)
    expect(await lockFiles(runner)).toEqual([])
  })

  it('runs three at once on one checkout: the drift lands once, the checkout stays, no lock is left', async () => {
    const { box, runner } = await seeded()
    await box.pushFromElsewhere({ 'README.md': '# gateway config\n\nupstream\n' }, 'docs')
    await writeDump(join(runner, 'kong'), { default: drifted() })
    const before = await checkoutState(runner)

    const runs = await Promise.all([1, 2, 3].map(() => commit(box, runner)))

    for (const run of runs)
      expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' })
    expect(await remoteLog(box)).toEqual([SUBJECT, 'docs', 'seed'])
    expect(await checkoutState(runner)).toEqual(before)
    expect(await lockFiles(runner)).toEqual([])
    await expect(box.git(runner, ['fsck', '--no-dangling', '--no-progress'])).resolves.toBeDefined()
  }, 60_000)

  it.each([
    ['.git/index.lock', 'a commit waiting in its editor'],
    ['.git/refs/remotes/origin/main.lock', 'a fetch killed while updating origin/main'],
  ])('commits while %s is held (%s), and leaves the lock to its owner', async (lock) => {
    const { box, runner } = await seeded()
    await box.pushFromElsewhere({ 'README.md': '# gateway config\n\nupstream\n' }, 'docs')
    await writeDump(join(runner, 'kong'), { default: drifted() })
    await writeFile(join(runner, lock), 'held\n')
    const before = await checkoutState(runner)

    const run = await commit(box, runner)

    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' })
    expect(await remoteLog(box)).toEqual([SUBJECT, 'docs', 'seed'])
    expect(await readFile(join(runner, lock), 'utf8')).toBe('held\n')
    expect(await checkoutState(runner)).toEqual(before)
  })

  it('stops with what to do when a lock it needs is held (left by a shallow fetch that was killed), changing nothing', async () => {
    const { box, runner } = await seeded({ depth: 1 })
    await box.pushFromElsewhere({ 'README.md': '# gateway config\n\nupstream\n' }, 'docs')
    await writeDump(join(runner, 'kong'), { default: drifted() })
    await writeFile(join(runner, '.git', 'shallow.lock'), '')
    const before = await checkoutState(runner)
    const remoteBefore = await tip(box)

    const run = await commit(box, runner)

    expect(run.code).toBe(1)
    expect(run.stderr).toContain(
      `git fetch found ${join(runner, '.git', 'shallow.lock')} in place: another git process is changing this repository`,
    )
    expect(run.stderr).toContain(
      'if no git process is running, one was killed and left the file behind: delete',
    )
    expect(await tip(box)).toBe(remoteBefore)
    expect(await checkoutState(runner)).toEqual(before)
  })
})

describe('commit killed midway', () => {
  /**
   * A `git` in front of the real one that logs its calls (`<dir>/calls`, one subcommand a line) and, at call
   * `KILL_AT`, kills the commit process (SIGKILL: no handler runs) and lets that git command finish orphaned,
   * as it does when only the process is killed; `<dir>/done` appears when it has.
   */
  async function killingGit(dir: string): Promise<string> {
    const real = await new Promise<string>((resolve, reject) =>
      execFile('sh', ['-c', 'command -v git'], (err, out) => (err ? reject(err) : resolve(out.trim()))),
    )
    const bin = join(dir, 'killing-bin')
    await mkdir(bin, { recursive: true })
    await writeFile(
      join(bin, 'git'),
      [
        '#!/bin/sh',
        `echo "$1" >> '${dir}/calls'`,
        `n=$(wc -l < '${dir}/calls')`,
        'if [ "$n" = "$KILL_AT" ]; then',
        '  kill -9 $PPID',
        `  '${real}' "$@"`,
        `  touch '${dir}/done'`,
        '  exit 0',
        'fi',
        `exec '${real}' "$@"`,
        '',
      ].join('\n'),
    )
    await chmod(join(bin, 'git'), 0o755)
    return bin
  }

  async function waitFor(path: string): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if (
        await stat(path).then(
          () => true,
          () => false,
        )
      )
        return
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error(`${path} did not appear`)
  }

  it('leaves nothing the next run trips over, wherever the kill lands', async () => {
    const { box, runner } = await seeded()
    const upstream = await box.pushFromElsewhere({ 'docs/runbook.md': "upstream's runbook\n" }, 'runbook')
    await mkdir(join(runner, 'docs'))
    await writeFile(join(runner, 'docs', 'runbook.md'), 'mine\n')
    await writeDump(join(runner, 'kong'), { default: drifted() })
    const before = await checkoutState(runner)
    const bin = await killingGit(box.dir)
    const env = { PATH: `${bin}:${box.env.PATH}` }

    // The git commands a whole run makes. A kill lands after those before it and while the one it interrupts
    // finishes on its own, so killing at each command that writes something covers every state a kill can
    // leave (the others only read).
    const counted = await commit(box, runner, { ...env, KILL_AT: '0' })
    expect({ code: counted.code, stderr: counted.code === 0 ? '' : counted.stderr }).toEqual({
      code: 0,
      stderr: '',
    })
    expect(await checkoutState(runner)).toEqual(before)
    const calls = (await readFile(join(box.dir, 'calls'), 'utf8')).trim().split('\n')
    const writes = new Set([
      'fetch',
      'read-tree',
      'add',
      'update-index',
      'write-tree',
      'commit-tree',
      'push',
      'update-ref',
      // Not run today: kept so that a change that writes the checkout again is killed there too.
      'reset',
      'checkout',
    ])
    const killPoints = calls.flatMap((command, i) => (writes.has(command) ? [i + 1] : []))
    expect(calls.filter((command) => writes.has(command)).sort()).toEqual(
      expect.arrayContaining(['fetch', 'commit-tree', 'push']),
    )

    for (const killAt of killPoints) {
      await box.git(box.remotePath, ['update-ref', 'refs/heads/main', upstream])
      await rm(join(box.dir, 'calls'), { force: true })
      await rm(join(box.dir, 'done'), { force: true })

      const killed = await commit(box, runner, { ...env, KILL_AT: String(killAt) })
      expect({ killAt, code: killed.code }).toEqual({ killAt, code: 1 })
      await waitFor(join(box.dir, 'done'))

      const next = await commit(box, runner)
      const where = { killAt, code: next.code, stderr: next.code === 0 ? '' : next.stderr }
      expect(where).toEqual({ killAt, code: 0, stderr: '' })
      expect({ killAt, log: await remoteLog(box) }).toEqual({ killAt, log: [SUBJECT, 'runbook', 'seed'] })
      expect({ killAt, state: await checkoutState(runner) }).toEqual({ killAt, state: before })
      expect({ killAt, locks: await lockFiles(runner) }).toEqual({ killAt, locks: [] })
    }
  }, 300_000)
})
