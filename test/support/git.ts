import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmod, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { processContent } from '../../actions/engine/state/pipeline.js'

/**
 * Real git for tests: a bare repository on disk as the remote, and clones of it as runners. Global and
 * system git configuration are shut out, so a developer's settings (signing, hooks, identity) change nothing.
 */
export interface GitSandbox {
  dir: string
  /** The bare repository, as a file:// URL (so that shallow clones really are shallow). */
  remote: string
  remotePath: string
  /** Environment for git and for the actions under test. */
  env: Record<string, string>
  git(cwd: string, args: readonly string[], input?: string): Promise<string>
  /** A clone of the remote's main, as actions/checkout leaves it: shallow and detached when asked. */
  clone(name: string, options?: { depth?: number; detached?: boolean }): Promise<string>
  /** A commit on the remote's main made by someone else: writes `files` in a fresh clone and pushes. */
  pushFromElsewhere(files: Record<string, string>, message: string): Promise<string>
  cleanup(): Promise<void>
}

export async function gitSandbox(): Promise<GitSandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'deckhand-git-'))
  const config = join(dir, 'gitconfig')
  await writeFile(config, '')
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    GIT_CONFIG_GLOBAL: config,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
  }
  const git = (cwd: string, args: readonly string[], input?: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const child = execFile(
        'git',
        [...args],
        { cwd, env, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) =>
          err ? reject(new Error(`git ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
      )
      if (input !== undefined) child.stdin!.end(input)
    })
  const remotePath = join(dir, 'remote.git')
  await git(dir, ['init', '--quiet', '--bare', '--initial-branch=main', remotePath])
  const remote = `file://${remotePath}`
  let others = 0

  const sandbox: GitSandbox = {
    dir,
    remote,
    remotePath,
    env,
    git,
    async clone(name, options = {}) {
      const path = join(dir, name)
      const depth = options.depth ? [`--depth=${options.depth}`] : []
      await git(dir, ['clone', '--quiet', ...depth, remote, path])
      if (options.detached) await git(path, ['checkout', '--quiet', '--detach'])
      return path
    },
    async pushFromElsewhere(files, message) {
      const path = await sandbox.clone(`elsewhere-${++others}`)
      for (const [file, text] of Object.entries(files)) {
        await mkdir(join(path, file, '..'), { recursive: true })
        await writeFile(join(path, file), text)
      }
      await git(path, ['add', '--all'])
      await commitAs(git, path, message)
      await git(path, ['push', '--quiet', 'origin', 'HEAD:main'])
      return (await git(path, ['rev-parse', 'HEAD'])).trim()
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
  return sandbox
}

/** Commits the index as a person would. */
export async function commitAs(
  git: GitSandbox['git'],
  cwd: string,
  message: string,
  who = { name: 'Dana Operator', email: 'dana@example.com' },
): Promise<void> {
  await git(cwd, [
    '-c',
    `user.name=${who.name}`,
    '-c',
    `user.email=${who.email}`,
    'commit',
    '--quiet',
    '-m',
    message,
  ])
}

/**
 * Writes a dump as the dump command does: `<workspace>.yaml` per workspace (normalized, redacted unless
 * `redact` is false), `required-env.txt`, then `SHA256SUMS`, whose modification time is the dump's time.
 */
export async function writeDump(
  dir: string,
  workspaces: Record<string, Record<string, unknown>>,
  options: { time?: Date; redact?: boolean } = {},
): Promise<void> {
  await mkdir(dir, { recursive: true })
  const files = new Map<string, string>()
  const names = new Set<string>()
  for (const [workspace, content] of Object.entries(workspaces)) {
    const processed = processContent(structuredClone(content), {
      workspace,
      redact: options.redact ?? true,
      source: workspace,
    })
    files.set(`${workspace}.yaml`, processed.yaml)
    for (const r of processed.redactions) names.add(r.name)
  }
  files.set(
    'required-env.txt',
    names.size === 0
      ? ''
      : `# Set these environment variables before deck sync/diff/validate of these files.\n${[...names].sort().join('\n')}\n`,
  )
  for (const [name, text] of files) await writeFile(join(dir, name), text)
  const manifest = [...files.keys()]
    .sort()
    .map((name) => `${createHash('sha256').update(files.get(name)!).digest('hex')}  ${name}\n`)
    .join('')
  await writeFile(join(dir, 'SHA256SUMS'), manifest)
  const time = options.time ?? new Date()
  await utimes(join(dir, 'SHA256SUMS'), time, time)
}

/**
 * A `git` in front of the real one that lets `competitor` run before each of the first `times` pushes:
 * how a test makes another push land between a run's fetch and its push, every time, with real git only.
 */
export async function gitWithCompetitor(
  sandbox: GitSandbox,
  competitorScript: string,
  times: number,
): Promise<string> {
  const real = (await new Promise<string>((resolve, reject) =>
    execFile('sh', ['-c', 'command -v git'], { env: sandbox.env }, (err, out) =>
      err ? reject(err) : resolve(out.trim()),
    ),
  )) as string
  const bin = join(sandbox.dir, 'competitor-bin')
  await mkdir(bin, { recursive: true })
  const counter = join(bin, 'count')
  await writeFile(counter, '0')
  await writeFile(
    join(bin, 'git'),
    [
      '#!/bin/sh',
      // The competitor's own pushes go straight through.
      `if [ "$1" = push ] && [ -z "$COMPETING" ]; then`,
      `  n=$(cat '${counter}')`,
      `  if [ "$n" -lt ${times} ]; then echo $((n + 1)) > '${counter}'; (unset GIT_INDEX_FILE; COMPETING=1 sh '${competitorScript}' "$n") >/dev/null 2>&1; fi`,
      'fi',
      `exec '${real}' "$@"`,
      '',
    ].join('\n'),
  )
  await chmod(join(bin, 'git'), 0o755)
  return bin
}
