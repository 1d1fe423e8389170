import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { stat } from 'node:fs/promises'

import { DeckhandError, explainOutput } from '../errors.js'
import { privateTempDir } from '../fs-atomic.js'
import { run, type RunResult } from '../process.js'
import { scrub } from '../scrub.js'
import {
  addArgs,
  commitTreeArgs,
  fetchArgs,
  logMessagesArgs,
  lsFilesArgs,
  lsTreeArgs,
  NULL_OID,
  pushArgs,
  type PushOptions,
  unpublishedArgs,
} from './commands.js'

/** A file in a tree: its mode (100644, 100755, 120000 for a symlink, 160000 for a submodule) and object. */
export interface TreeEntry {
  mode: string
  oid: string
}

/** Files by path from the repository root (always `/`-separated). */
export type Tree = Map<string, TreeEntry>

export interface Identity {
  name: string
  email: string
}

/** What became of a push: done, or refused because the branch moved (retry after a fetch). */
export type PushOutcome = { status: 'pushed' } | { status: 'moved'; reason: string }

/** Rejections that mean "someone else pushed first": fetch again and retry. */
const MOVED =
  /non-fast-forward|fetch first|stale info|failed to update ref|cannot lock ref|incorrect old value|failed to lock/

/** Why git could not reach, read or write the remote, most specific first. */
const REMOTE_FAILURES: readonly (readonly [RegExp, string])[] = [
  [
    /refusing to allow .* to create or update workflow|without `?workflows?`? (permission|scope)/i,
    'GitHub refuses changes to workflow files from this token: pass a personal access token or GitHub App token with the workflows permission as github-token, or keep .github/workflows out of path.',
  ],
  [
    /GH006|protected branch/i,
    'The branch is protected against direct pushes: use mode: pull-request, or let this token bypass the protection.',
  ],
  [
    /GH013|repository rule violations/i,
    'A repository ruleset refused the push: use mode: pull-request, or add this token to the ruleset bypass list.',
  ],
  [
    /Permission to .* denied|returned error: 403|403 Forbidden|write access to repository not granted/i,
    'The token may not push to this repository: give the job `permissions: contents: write`, or pass a token with write access as github-token.',
  ],
  [
    /Authentication failed|could not read Username|returned error: 401|terminal prompts disabled|Invalid username or password/i,
    'git could not authenticate to the remote: pass github-token, or check out with persist-credentials left on (or configure credentials for git).',
  ],
  [
    /shallow update not allowed/i,
    'The remote refused commits from a shallow clone: check out with fetch-depth: 0.',
  ],
  [/hook declined/i, 'A hook on the remote refused the push; its message is below.'],
  [
    /Could not resolve host|Connection refused|Connection timed out|unable to access|Network is unreachable/i,
    'The remote cannot be reached: check the network and the remote URL.',
  ],
  [
    /does not appear to be a git repository|Repository not found|not found/i,
    'The remote repository was not found, or the token cannot see it.',
  ],
]

/**
 * A lock file git found in place, from git's own message: another git process is changing that file (or
 * was killed and left the lock behind). Lines from the remote (`remote: …`) are the remote's business.
 */
const LOCKED = /^(?!remote:).*Unable to create '([^']+\.lock)': File exists/m

/** Waits before running a command again that found a lock in place: git holds its locks for moments. */
const BUSY_WAITS_MS = [250, 500, 1000, 2000]

/** Where a fetch stores the tip it fetched, under a name of its own run; see {@link GitRepository.fetchBranch}. */
const FETCH_REFS = 'refs/deckhand/fetch/'

/** A private ref older than this belongs to a run that was killed: no run takes that long. */
const STALE_FETCH_REF_MS = 60 * 60 * 1000

function lockedError(command: string, file: string): DeckhandError {
  return new DeckhandError(
    `git ${command} found ${file} in place: another git process is changing this repository. The checkout was ` +
      'not changed. Run again once that process has finished; if no git process is running, one was killed and ' +
      `left the file behind: delete ${file} and run again.`,
  )
}

export interface RepositoryOptions {
  /** Environment for commands that talk to the remote (credentials). */
  remoteEnv?: Record<string, string>
  /** Values to scrub from anything git prints before it reaches an error message. */
  secrets?: readonly string[]
}

/**
 * A git working copy, driven through plumbing commands: trees are built in private index files, commits with
 * commit-tree, and fetched tips are kept in refs of the run's own. Nothing here writes the user's working
 * tree, index, HEAD or branches: the only things added to the repository are objects (which change nothing
 * that exists) and the run's private refs, so a run that fails or is killed at any point leaves the checkout
 * as it found it. Runs on one checkout at once take none of the same locks, but for a shallow clone's
 * .git/shallow, which a fetch waits for.
 */
export class GitRepository {
  /** Private refs this run fetched into, deleted by {@link release}. */
  private readonly fetchRefs: string[] = []
  private swept = false

  private constructor(
    /** Absolute path of the working tree's top level. */
    readonly root: string,
    private options: RepositoryOptions,
  ) {}

  /** From now on, commands that talk to the remote carry these credentials (scrubbed from all output). */
  authenticate(env: Record<string, string>, secrets: readonly string[]): void {
    this.options = {
      remoteEnv: { ...this.options.remoteEnv, ...env },
      secrets: [...(this.options.secrets ?? []), ...secrets],
    }
  }

  /** The repository that holds `path` (a file or directory, which must exist). */
  static async open(path: string, options: RepositoryOptions = {}): Promise<GitRepository> {
    const info = await stat(path).catch(() => undefined)
    if (!info) throw new DeckhandError(`path ${path} does not exist: dump the gateway into it first.`)
    const dir = info.isDirectory() ? resolve(path) : dirname(resolve(path))
    const found = await run('git', ['rev-parse', '--show-toplevel'], { cwd: dir, env: BASE_ENV }).catch(
      (err: Error) => {
        throw new DeckhandError(`git cannot be run (${err.message}): install git and put it on PATH.`)
      },
    )
    if (found.exitCode !== 0) {
      throw new DeckhandError(
        `${path} is not inside a git repository: check out the repository first (actions/checkout), ` +
          'then dump into a folder of it.',
      )
    }
    return new GitRepository(found.stdout.trim(), options)
  }

  /** `path` (relative to the current directory, or absolute) as a path from the top level, `/`-separated. */
  relativePath(path: string): string {
    const rel = relative(this.root, resolve(path))
    if (rel.startsWith('..') || isAbsolute(rel))
      throw new DeckhandError(`path ${path} is outside the repository at ${this.root}.`)
    return rel === '' ? '.' : rel.split(sep).join('/')
  }

  /** Runs git in the top level; a non-zero exit throws unless `allowFailure`. Output is scrubbed. */
  async git(
    args: readonly string[],
    options: {
      stdin?: string
      env?: Record<string, string>
      allowFailure?: boolean
      remote?: boolean
      /** Run again, after a moment, while a lock file of another git process is in the way. */
      retryBusy?: boolean
    } = {},
  ): Promise<RunResult> {
    const env = { ...BASE_ENV, ...(options.remote ? this.options.remoteEnv : {}), ...options.env }
    let result: RunResult
    for (let attempt = 0; ; attempt++) {
      result = await run('git', args, {
        cwd: this.root,
        env,
        stdin: options.stdin === undefined ? undefined : Readable.from([options.stdin]),
      })
      const wait = BUSY_WAITS_MS[attempt]
      if (result.exitCode === 0 || !options.retryBusy || wait === undefined || !LOCKED.test(result.stderr))
        break
      await new Promise((resolve) => setTimeout(resolve, wait))
    }
    const secrets = this.options.secrets ?? []
    const scrubbed = {
      ...result,
      stdout: scrub(result.stdout, secrets),
      stderr: scrub(result.stderr, secrets),
    }
    if (scrubbed.exitCode !== 0 && !options.allowFailure) {
      const locked = LOCKED.exec(scrubbed.stderr)
      if (locked) throw lockedError(args[0]!, locked[1]!)
      const output = `${scrubbed.stderr}\n${scrubbed.stdout}`.trim()
      throw new DeckhandError(
        options.remote
          ? explainOutput(`git ${args[0]}`, output, REMOTE_FAILURES)
          : `git ${args[0]} failed: ${output.split('\n').slice(-6).join('\n') || `exit ${scrubbed.exitCode}`}`,
      )
    }
    return scrubbed
  }

  private async line(args: readonly string[]): Promise<string | undefined> {
    const result = await this.git(args, { allowFailure: true })
    const out = result.stdout.trim()
    return result.exitCode === 0 && out !== '' ? out : undefined
  }

  /** The commit HEAD points at; undefined in a repository without commits. */
  head(): Promise<string | undefined> {
    return this.line(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'])
  }

  /** The branch HEAD is attached to; undefined when detached. */
  currentBranch(): Promise<string | undefined> {
    return this.line(['symbolic-ref', '--quiet', '--short', 'HEAD'])
  }

  async isShallow(): Promise<boolean> {
    return (await this.line(['rev-parse', '--is-shallow-repository'])) === 'true'
  }

  async remoteUrl(remote: string): Promise<string> {
    const url = await this.line(['remote', 'get-url', remote])
    if (!url)
      throw new DeckhandError(
        `The repository has no remote "${remote}": clone it, or add the remote to push to.`,
      )
    return url
  }

  async config(name: string): Promise<string | undefined> {
    return this.line(['config', '--get', name])
  }

  /**
   * Fetches `branch` and returns the commit it points at on the remote, or undefined when the remote has
   * no such branch. The tip goes into a ref of this run's own (kept until {@link release}, so that nothing
   * prunes it meanwhile), not into the remote-tracking ref: runs on one checkout at once never wait on each
   * other's ref locks, and a run killed mid-fetch leaves no lock on a ref anyone else uses.
   */
  async fetchBranch(remote: string, branch: string, depth?: number): Promise<string | undefined> {
    await this.sweepFetchRefs()
    const into = `${FETCH_REFS}${Date.now()}-${process.pid}-${randomBytes(4).toString('hex')}`
    this.fetchRefs.push(into)
    const result = await this.git(fetchArgs({ remote, branch, into, depth }), {
      remote: true,
      allowFailure: true,
      // A shallow clone's fetch locks .git/shallow, which another fetch may hold for a moment.
      retryBusy: true,
    })
    if (result.exitCode !== 0) {
      const locked = LOCKED.exec(result.stderr)
      if (locked) throw lockedError('fetch', locked[1]!)
      if (/couldn't find remote ref|no such ref was fetched/i.test(result.stderr)) return undefined
      throw new DeckhandError(
        explainOutput('git fetch', `${result.stderr}\n${result.stdout}`.trim(), REMOTE_FAILURES),
      )
    }
    return this.line(['rev-parse', '--verify', '--quiet', `${into}^{commit}`])
  }

  /**
   * Deletes the private refs this run fetched into. Best effort: one left behind (another process held
   * packed-refs.lock, or the run was killed) harms nothing and is deleted by a later run.
   */
  async release(): Promise<void> {
    await this.deleteRefs(this.fetchRefs.splice(0))
  }

  /** Deletes the private refs of runs that were killed before they could (see {@link release}). */
  private async sweepFetchRefs(): Promise<void> {
    if (this.swept) return
    this.swept = true
    const listed = await this.git(['for-each-ref', '--format=%(refname)', FETCH_REFS], { allowFailure: true })
    const stale = listed.stdout.split('\n').filter((ref) => {
      const made = Number(/^refs\/deckhand\/fetch\/(\d+)-/.exec(ref)?.[1])
      return made > 0 && Date.now() - made > STALE_FETCH_REF_MS
    })
    await this.deleteRefs(stale)
  }

  private async deleteRefs(refs: readonly string[]): Promise<void> {
    if (refs.length === 0) return
    const stdin = refs.map((ref) => `delete ${ref}\n`).join('')
    await this.git(['update-ref', '--stdin'], { stdin, allowFailure: true })
  }

  /**
   * Commits reachable from `commit` that no remote-tracking ref reaches, nor `published` (a tip just
   * fetched): those that exist in this clone alone. Newest first, at most `limit`.
   */
  async unpublished(
    commit: string,
    published: string | undefined,
    limit: number,
  ): Promise<{ oid: string; subject: string }[]> {
    const { stdout } = await this.git(unpublishedArgs(commit, published, limit))
    return stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => ({ oid: line.slice(0, line.indexOf(' ')), subject: line.slice(line.indexOf(' ') + 1) }))
  }

  /** Files of a commit or tree below `paths`. */
  async tree(treeish: string | undefined, paths: readonly string[]): Promise<Tree> {
    if (!treeish) return new Map()
    const { stdout } = await this.git(lsTreeArgs(treeish, paths))
    const tree: Tree = new Map()
    for (const record of stdout.split('\0')) {
      // <mode> SP <type> SP <object> TAB <path>
      const match = /^(\d+) \w+ ([0-9a-f]+)\t(.+)$/s.exec(record)
      if (match) tree.set(match[3]!, { mode: match[1]!, oid: match[2]! })
    }
    return tree
  }

  /**
   * The working tree below `paths` as it would be committed: staged in a private index that starts from
   * `head`, so untracked files count, deleted ones are gone and .gitignore applies; the user's index is
   * left alone. The files' blobs are written to the object database on the way.
   */
  async worktree(head: string | undefined, paths: readonly string[]): Promise<Tree> {
    return this.withIndex(async (env) => {
      await this.git(head ? ['read-tree', head] : ['read-tree', '--empty'], { env })
      await this.git(addArgs(paths), { env })
      const { stdout } = await this.git(lsFilesArgs(paths), { env })
      const tree: Tree = new Map()
      for (const record of stdout.split('\0')) {
        // <mode> SP <object> SP <stage> TAB <path>
        const match = /^(\d+) ([0-9a-f]+) \d\t(.+)$/s.exec(record)
        if (match) tree.set(match[3]!, { mode: match[1]!, oid: match[2]! })
      }
      return tree
    })
  }

  /** A tree: `start`'s (or an empty one) with `changes` applied; null removes a file. */
  async writeTree(
    start: string | undefined,
    changes: ReadonlyMap<string, TreeEntry | null>,
  ): Promise<string> {
    return this.withIndex(async (env) => {
      await this.git(start ? ['read-tree', start] : ['read-tree', '--empty'], { env })
      const lines = [...changes].map(([path, entry]) =>
        entry ? `${entry.mode} ${entry.oid}\t${path}` : `0 ${NULL_OID}\t${path}`,
      )
      if (lines.length > 0)
        await this.git(['update-index', '-z', '--index-info'], { env, stdin: lines.join('\0') + '\0' })
      return (await this.git(['write-tree'], { env })).stdout.trim()
    })
  }

  async treeOf(commit: string): Promise<string> {
    return (await this.git(['rev-parse', '--verify', `${commit}^{tree}`])).stdout.trim()
  }

  async parentOf(commit: string): Promise<string | undefined> {
    return this.line(['rev-parse', '--verify', '--quiet', `${commit}^1`])
  }

  async commitTree(
    tree: string,
    parent: string | undefined,
    message: string,
    who: Identity,
  ): Promise<string> {
    const env = {
      GIT_AUTHOR_NAME: who.name,
      GIT_AUTHOR_EMAIL: who.email,
      GIT_COMMITTER_NAME: who.name,
      GIT_COMMITTER_EMAIL: who.email,
    }
    return (await this.git(commitTreeArgs(tree, parent), { env, stdin: message })).stdout.trim()
  }

  async readBlob(oid: string): Promise<string> {
    return (await this.git(['cat-file', 'blob', oid])).stdout
  }

  /** Messages of the newest `limit` commits in `range` that touched `path`. */
  async messages(range: string, path: string, limit = 1): Promise<string[]> {
    const result = await this.git(logMessagesArgs(range, path, limit), { allowFailure: true })
    if (result.exitCode !== 0) return []
    return result.stdout
      .split('\x1e')
      .map((m) => m.trim())
      .filter((m) => m !== '')
  }

  /**
   * Pushes; a rejection because the branch moved is an outcome, any other failure an explained error. git
   * moves the remote-tracking ref itself, and a lock in the way of that does not fail the push.
   */
  async push(options: PushOptions): Promise<PushOutcome> {
    const result = await this.git(pushArgs(options), { remote: true, allowFailure: true })
    if (result.exitCode === 0) return { status: 'pushed' }
    // --porcelain: `!<TAB><from>:<to><TAB>[rejected] (non-fast-forward)` for each refused ref.
    const refused = result.stdout.split('\n').find((line) => line.startsWith('!'))
    const reason = refused?.split('\t')[2] ?? ''
    if (MOVED.test(reason) || (!refused && MOVED.test(result.stderr))) return { status: 'moved', reason }
    throw new DeckhandError(explainOutput('git push', `${result.stderr}\n${reason}`.trim(), REMOTE_FAILURES))
  }

  /** Runs `fn` with GIT_INDEX_FILE pointing at a fresh private index, removed afterwards. */
  private async withIndex<T>(fn: (env: Record<string, string>) => Promise<T>): Promise<T> {
    const dir = await privateTempDir('deckhand-index-')
    try {
      return await fn({ GIT_INDEX_FILE: join(dir.path, 'index') })
    } finally {
      await dir.cleanup()
    }
  }
}

/** For every git command: no prompts (they would hang a runner), messages git's tests and ours can parse. */
const BASE_ENV: Record<string, string> = {
  GIT_TERMINAL_PROMPT: '0',
  LC_ALL: 'C',
}
