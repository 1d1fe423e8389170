import { stat } from 'node:fs/promises'
import { extname, join, posix } from 'node:path'

import { append } from '../arrays.js'
import { MANIFEST, manifestNames } from '../dump.js'
import { compareStateFiles, countDrift, type Drift } from '../drift/compare.js'
import { driftLines } from '../drift/render.js'
import { DeckhandError } from '../errors.js'
import { tokenAuth } from '../git/auth.js'
import { isValidBranch, NULL_OID } from '../git/commands.js'
import { GitRepository, type Identity, type Tree } from '../git/repository.js'
import type { Logger } from '../log.js'
import { exists } from '../paths.js'
import type { PullRequestHost, PullRequestOutcome } from '../pull-requests.js'
import { scanFile, type SecretFinding } from '../state/secret-scan.js'
import { ACTIONS_BOT, DEFAULT_DRIFT_BRANCH } from './defaults.js'
import { pullRequestBody } from './report.js'
import { changedPaths, contestedDumps, dumpFolders, mergeTrees, type Side } from './merge.js'
import { checkTemplate, commitMessage, dumpTime, renderTemplate } from './message.js'
import { inputName } from '../jobs/inputs.js'

export type CommitMode = 'push' | 'pull-request'

/** History fetched into a shallow clone: enough to find the last dump commit of a busy branch. */
const SHALLOW_FETCH_DEPTH = 50
/** Files read as deck state for the drift report. */
const STATE_EXTENSIONS = new Set(['.yaml', '.yml', '.json'])
/** Regular files (plain and executable); links and submodules hold no file content to scan. */
const REGULAR = new Set(['100644', '100755'])
/** Commits named in the refusal to push past commits of the checkout's own. */
const UNPUBLISHED_SHOWN = 5

export interface DriftCommitOptions {
  /** What to commit: files or folders inside one repository (relative to the current directory). */
  paths: readonly string[]
  mode: CommitMode
  /** Push mode: the branch to push to (default the checked-out one). Pull-request mode: the head branch. */
  branch?: string
  /** Pull-request mode: the branch the pull request goes into. */
  base?: string
  /** Subject template; see message.ts for the placeholders. */
  message: string
  author: Partial<Identity>
  /** Extra attempts after a push is rejected because the branch moved. */
  pushRetries: number
  signOff: boolean
  /** GitHub token for the push (and the pull request); other remotes keep git's own credentials. */
  token?: string
  /** GitHub's web root (GITHUB_SERVER_URL): the host the token is for. */
  serverUrl: string
  /** GITHUB_REF and GITHUB_HEAD_REF tell the branch of a detached checkout. */
  env: NodeJS.ProcessEnv
  logger: Logger
  /** Called with every secret as soon as it is known, so the host can mask it. */
  secret: (value: string) => void
  /** Pull-request mode only. */
  pullRequests?: (remoteUrl: string) => Promise<PullRequestHost>
  remote?: string
  /** Waits between push attempts; replaceable so that the backoff itself can be observed. */
  sleep?: (ms: number) => Promise<void>
}

export type CommitStatus =
  /** A commit was pushed (or the drift pull request already held exactly this commit). */
  | 'committed'
  /** The files are what the branch already holds. */
  | 'unchanged'
  /** Files hold secret values: nothing was committed. */
  | 'refused'

export interface DriftCommitResult {
  status: CommitStatus
  /** Push mode: the branch pushed to. Pull-request mode: the head branch. */
  branch: string
  /** Pull-request mode: the base branch. */
  base?: string
  commit?: string
  /** Pushes tried (0 when nothing was pushed). */
  attempts: number
  /** What the commit changes, by entity, compared with the branch it was made on. */
  drift: Drift
  secrets: SecretFinding[]
  /** Dump folders where a newer dump, already on the branch, was kept instead of this run's. */
  newerOnBranch: string[]
  pullRequest?: PullRequestOutcome
  /**
   * Push mode: the checkout is on the branch pushed to, which now lags behind the remote by the new commit
   * (the checkout itself is never changed).
   */
  checkoutBehind: boolean
  /** The repository's top level. */
  root: string
  /** The paths, from the repository's top level. */
  paths: string[]
}

const NO_DRIFT: Drift = {
  entities: [],
  counts: { added: 0, changed: 0, removed: 0 },
  workspaces: [],
  otherFiles: [],
  unreadable: [],
}

/**
 * Commits the gateway's dumped configuration to git when it changed, with an entity-level drift report,
 * and pushes it: straight to a branch, retrying with fetch, merge and backoff when another run or a
 * person pushed first; or to deckhand's own branch with one open pull request, replaced with a lease.
 *
 * The checkout is only read, never written: the commit is made with plumbing on top of the remote's tip and
 * pushed from there, and the working tree, the index, HEAD and the local branches stay exactly as they were,
 * whether the run succeeds, fails or is killed. Moving the checkout to the new commit afterwards (as a
 * `git reset --hard` would) can overwrite untracked files at paths the remote added, throw away staged work and
 * drop local commits the remote does not have; and it needs the index lock, which a concurrent run or a person's
 * git may hold. Leaving the checkout alone makes that whole class of loss impossible, and costs only a
 * `git pull --ff-only --autostash` for a person who wants the checkout at the new commit.
 */
export async function driftCommit(options: DriftCommitOptions): Promise<DriftCommitResult> {
  checkTemplate(options.message)
  if (options.paths.length === 0) throw new DeckhandError('path is empty: name the folder the dump wrote.')
  for (const path of options.paths) {
    if (!(await exists(path)))
      throw new DeckhandError(`path ${path} does not exist: dump the gateway into it first.`)
  }
  const repo = await GitRepository.open(options.paths[0]!)
  const paths = [...new Set(options.paths.map((p) => repo.relativePath(p)))]
  const remote = options.remote ?? 'origin'
  const remoteUrl = await repo.remoteUrl(remote)
  if (options.token) {
    options.secret(options.token)
    const auth = tokenAuth(remoteUrl, options.token, options.serverUrl)
    for (const secret of auth?.secrets ?? []) options.secret(secret)
    repo.authenticate(auth?.env ?? {}, [options.token, ...(auth?.secrets ?? [])])
  }
  const session = new CommitSession(repo, paths, remote, options)
  try {
    return await (options.mode === 'push' ? session.push() : session.pullRequest(remoteUrl))
  } finally {
    await repo.release()
  }
}

class CommitSession {
  private head: string | undefined
  private base: Tree = new Map()
  private ours: Tree = new Map()
  private readonly blobs = new Map<string, Promise<string>>()
  private readonly sleep: (ms: number) => Promise<void>

  constructor(
    private readonly repo: GitRepository,
    private readonly paths: string[],
    private readonly remote: string,
    private readonly options: DriftCommitOptions,
  ) {
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)))
  }

  private result(
    status: CommitStatus,
    branch: string,
    extra: Partial<DriftCommitResult> = {},
  ): DriftCommitResult {
    return {
      status,
      branch,
      attempts: 0,
      drift: NO_DRIFT,
      secrets: [],
      newerOnBranch: [],
      checkoutBehind: false,
      root: this.repo.root,
      paths: this.paths,
      ...extra,
    }
  }

  /** Reads HEAD and the working tree; the secret check of what would be committed. */
  private async prepare(): Promise<{ local: string[]; secrets: SecretFinding[] }> {
    this.head = await this.repo.head()
    this.base = await this.repo.tree(this.head, this.paths)
    this.ours = await this.repo.worktree(this.head, this.paths)
    const local = changedPaths(this.base, this.ours)
    const secrets: SecretFinding[] = []
    for (const path of local) {
      const entry = this.ours.get(path)
      if (!entry || !REGULAR.has(entry.mode)) continue
      append(secrets, scanFile(path, await this.blob(entry.oid)))
    }
    return { local, secrets }
  }

  async push(): Promise<DriftCommitResult> {
    const branch = await this.pushBranch()
    const { local, secrets } = await this.prepare()
    if (secrets.length > 0) return this.result('refused', branch, { secrets })
    if (local.length === 0) {
      this.options.logger.info(`No file below ${this.paths.join(', ')} changed: nothing to commit.`)
      return this.result('unchanged', branch)
    }
    const depth = (await this.repo.isShallow()) ? SHALLOW_FETCH_DEPTH : undefined
    const checkedOut = await this.repo.currentBranch()

    for (let attempt = 1; ; attempt++) {
      const tip = await this.repo.fetchBranch(this.remote, branch, depth)
      // A branch the remote does not have yet starts from the checkout.
      const parent = tip ?? this.head
      const built = await this.build(parent, branch)
      if (!built.commit) {
        this.options.logger.info(`${branch} already holds these files: nothing to commit.`)
        return this.result('unchanged', branch, { attempts: attempt - 1, newerOnBranch: built.newer })
      }
      // The checkout's own commits would be left out of the branch it is on, or published with one it starts.
      if (attempt === 1 && checkedOut !== undefined && (checkedOut === branch || !tip))
        await this.refuseUnpublished(checkedOut, branch, tip)
      const outcome = await this.repo.push({ remote: this.remote, commit: built.commit, branch })
      if (outcome.status === 'pushed') {
        this.options.logger.info(`Pushed ${built.commit.slice(0, 12)} to ${branch} (attempt ${attempt}).`)
        return this.result('committed', branch, {
          commit: built.commit,
          attempts: attempt,
          drift: built.drift,
          newerOnBranch: built.newer,
          checkoutBehind: checkedOut === branch,
        })
      }
      await this.backoff(attempt, branch, outcome.reason)
    }
  }

  async pullRequest(remoteUrl: string): Promise<DriftCommitResult> {
    if (!this.options.pullRequests)
      throw new DeckhandError(
        'mode pull-request needs GitHub: run in GitHub Actions, or set github-token and a GitHub remote.',
      )
    const host = await this.options.pullRequests(remoteUrl)
    const head = this.options.branch || DEFAULT_DRIFT_BRANCH
    if (!isValidBranch(head)) throw new DeckhandError(`branch "${head}" is not a valid branch name.`)
    const base =
      this.options.base ||
      (await this.repo.currentBranch()) ||
      refBranch(this.options.env) ||
      (await host.defaultBranch())
    if (!isValidBranch(base)) throw new DeckhandError(`base "${base}" is not a valid branch name.`)
    if (base === head)
      throw new DeckhandError(
        `branch and base are both ${base}: the drift pull request needs a branch of its own.`,
      )

    const { secrets } = await this.prepare()
    if (secrets.length > 0) return this.result('refused', head, { base, secrets })
    const depth = (await this.repo.isShallow()) ? SHALLOW_FETCH_DEPTH : undefined

    for (let attempt = 1; ; attempt++) {
      const tip = await this.repo.fetchBranch(this.remote, base, depth)
      if (!tip) throw new DeckhandError(`The base branch ${base} does not exist on ${this.remote}.`)
      const current = await this.repo.fetchBranch(this.remote, head, depth)
      const built = await this.build(tip, base)
      if (!built.commit) {
        const closed = await host.close(
          head,
          base,
          `The gateway's configuration in ${this.paths.join(', ')} matches ${base} again: nothing left to review.`,
        )
        if (closed) this.options.logger.info(`Closed pull request #${closed.number}: no drift left.`)
        return this.result('unchanged', head, { base, pullRequest: closed, newerOnBranch: built.newer })
      }
      // The branch already holds this very change on this very base: keep it (and its review state).
      const commit = (await this.sameChange(current, tip, built.tree)) ? current! : built.commit
      if (commit !== current) {
        const outcome = await this.repo.push({
          remote: this.remote,
          commit,
          branch: head,
          lease: current ?? NULL_OID,
        })
        if (outcome.status === 'moved') {
          await this.backoff(attempt, head, outcome.reason)
          continue
        }
        this.options.logger.info(`Pushed ${commit.slice(0, 12)} to ${head} (attempt ${attempt}).`)
      } else this.options.logger.info(`${head} already holds this change.`)
      const pullRequest = await host.upsert({
        head,
        base,
        title: built.subject,
        body: pullRequestBody(built.drift, this.paths, base),
      })
      return this.result('committed', head, {
        base,
        commit,
        attempts: commit === current ? 0 : attempt,
        drift: built.drift,
        newerOnBranch: built.newer,
        pullRequest,
      })
    }
  }

  /**
   * The commit this run makes on `parent`: this run's files merged into the branch's. No commit when the
   * result is what the branch already holds.
   */
  private async build(parent: string | undefined, branch: string) {
    const theirs = parent === this.head ? this.base : await this.repo.tree(parent, this.paths)
    const folders = await this.dumpFolders(theirs)
    const contested = contestedDumps(this.base, this.ours, theirs, folders.dumpOf)
    const winners = new Map<string, Side>()
    const newer: string[] = []
    for (const folder of contested) {
      const side = await this.newerDump(folder, parent)
      winners.set(folder, side)
      if (side === 'theirs') newer.push(folder)
    }
    for (const folder of newer)
      this.options.logger.info(`${branch} already has a newer dump of ${folder}: keeping it.`)

    const merged = mergeTrees({ base: this.base, ours: this.ours, theirs, dumpOf: folders.dumpOf, winners })
    if (merged.conflicts.length > 0) {
      throw new DeckhandError(
        `${merged.conflicts.length} file(s) changed both here and on ${branch} since the checkout, and they are ` +
          'not deckhand dump files, so neither version may simply win. Nothing was committed and the files here ' +
          'are untouched: merge the branch into the checkout, resolve, and run again.',
        merged.conflicts,
      )
    }
    const changes = changedPaths(theirs, merged.tree)
    const none = { commit: undefined, newer, drift: NO_DRIFT }
    if (changes.length === 0) return { ...none, tree: '', subject: '' }

    const drift = await this.drift(theirs, merged.tree, changes)
    const tree = await this.repo.writeTree(
      parent,
      new Map(changes.map((path) => [path, merged.tree.get(path) ?? null])),
    )
    // Record when each dump this commit brings in was taken, for the next run that races with it.
    const dumps = new Map<string, Date>()
    for (const path of changes) {
      const folder = folders.dumpOf(path)
      if (folder !== undefined && (winners.get(folder) ?? 'ours') === 'ours' && !dumps.has(folder))
        dumps.set(folder, await this.ourDumpTime(folder))
    }
    const subject = renderTemplate(this.options.message, {
      added: String(drift.counts.added),
      changed: String(drift.counts.changed),
      removed: String(drift.counts.removed),
      total: String(drift.counts.added + drift.counts.changed + drift.counts.removed),
      workspaces: drift.workspaces.join(', ') || '-',
      path: this.paths.join(', '),
      branch,
    })
    const identity = await this.identity()
    const message = commitMessage({
      subject,
      body: driftLines(drift),
      dumps,
      signOff: this.options.signOff ? identity : undefined,
    })
    const commit = await this.repo.commitTree(tree, parent, message, identity)
    return { commit, tree, newer, drift, subject: subject.split('\n')[0]!.trim() }
  }

  /** Whether `current` is a commit on `tip` with exactly `tree`. */
  private async sameChange(current: string | undefined, tip: string, tree: string): Promise<boolean> {
    if (!current) return false
    return (await this.repo.parentOf(current)) === tip && (await this.repo.treeOf(current)) === tree
  }

  /** Which dump of a folder both sides changed is newer: the branch's (per its commit trailer) or ours. */
  private async newerDump(folder: string, parent: string | undefined): Promise<Side> {
    if (!parent) return 'ours'
    const range = this.head ? `${this.head}..${parent}` : parent
    const [message] = await this.repo.messages(range, posix.join(folder, MANIFEST), 1)
    const theirs = message === undefined ? undefined : dumpTime(message, folder)
    // A change without the trailer was not a dump (a hand edit of generated files): the dump wins.
    if (!theirs) return 'ours'
    return theirs.getTime() > (await this.ourDumpTime(folder)).getTime() ? 'theirs' : 'ours'
  }

  /** When this run's dump was taken: its manifest is written last. */
  private async ourDumpTime(folder: string): Promise<Date> {
    const info = await stat(join(this.repo.root, folder, MANIFEST)).catch(() => undefined)
    return info?.mtime ?? new Date()
  }

  private async dumpFolders(theirs: Tree) {
    const trees = [this.base, this.ours, theirs]
    const listed = new Map<string, Set<string>>()
    const found = dumpFolders(trees, MANIFEST, (folder) => listed.get(folder) ?? new Set())
    for (const folder of found.folders) {
      const names = new Set<string>()
      for (const tree of trees) {
        const entry = tree.get(posix.join(folder, MANIFEST))
        if (entry) for (const name of manifestNames(await this.blob(entry.oid))) names.add(name)
      }
      listed.set(folder, names)
    }
    return found
  }

  /**
   * The drift report of a commit. Each folder is compared on its own: a repository may hold several
   * gateways' dumps, each with a `default` workspace, which must not be matched with one another.
   */
  private async drift(before: Tree, after: Tree, changes: readonly string[]): Promise<Drift> {
    const read = async (tree: Tree, path: string) => {
      const entry = tree.get(path)
      return entry && REGULAR.has(entry.mode) ? this.blob(entry.oid) : undefined
    }
    const folders = new Map<string, { old: Map<string, string>; now: Map<string, string> }>()
    const other: string[] = []
    for (const path of changes) {
      if (!STATE_EXTENSIONS.has(extname(path))) {
        other.push(path)
        continue
      }
      const folder = posix.dirname(path)
      let sides = folders.get(folder)
      if (!sides) folders.set(folder, (sides = { old: new Map(), now: new Map() }))
      const [a, b] = [await read(before, path), await read(after, path)]
      if (a !== undefined) sides.old.set(path, a)
      if (b !== undefined) sides.now.set(path, b)
    }
    const drifts = [...folders].map(([folder, { old, now }]) => {
      const drift = compareStateFiles(old, now)
      if (folders.size === 1) return drift
      const label = (workspace: string) => `${workspace} (${folder})`
      return {
        ...drift,
        entities: drift.entities.map((e) => ({ ...e, workspace: label(e.workspace) })),
        workspaces: drift.workspaces.map(label),
      }
    })
    const entities = drifts.flatMap((d) => d.entities)
    return {
      entities,
      counts: countDrift(entities),
      workspaces: drifts.flatMap((d) => d.workspaces).sort(),
      otherFiles: [...new Set([...drifts.flatMap((d) => d.otherFiles), ...other])].sort(),
      unreadable: drifts.flatMap((d) => d.unreadable),
    }
  }

  private blob(oid: string): Promise<string> {
    let text = this.blobs.get(oid)
    if (!text) this.blobs.set(oid, (text = this.repo.readBlob(oid)))
    return text
  }

  private async identity(): Promise<Identity> {
    const { author } = this.options
    return {
      name: author.name || (await this.repo.config('user.name')) || ACTIONS_BOT.name,
      email: author.email || (await this.repo.config('user.email')) || ACTIONS_BOT.email,
    }
  }

  /** Push mode's branch: named, checked out, or the one the workflow run is for. */
  private async pushBranch(): Promise<string> {
    const branch = this.options.branch || (await this.repo.currentBranch()) || refBranch(this.options.env)
    if (!branch)
      throw new DeckhandError(
        `HEAD is detached and this run belongs to no branch: set ${inputName('branch')} to the branch to push to.`,
      )
    if (!isValidBranch(branch)) throw new DeckhandError(`branch "${branch}" is not a valid branch name.`)
    return branch
  }

  /** Exponential backoff with jitter, so that racing runs spread out instead of colliding again. */
  private async backoff(attempt: number, branch: string, reason: string): Promise<void> {
    if (attempt > this.options.pushRetries) {
      throw new DeckhandError(
        `The push to ${branch} was rejected ${attempt} time(s) because the branch kept moving (${reason}). ` +
          'Nothing was lost: the files here are untouched and the next run commits them. Raise push-retries ' +
          'if many runs push to this branch at once.',
      )
    }
    const ceiling = 1000 * 2 ** (attempt - 1)
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2)
    this.options.logger.info(
      `${branch} moved while pushing (${reason}): fetching again in ${(delay / 1000).toFixed(1)} s ` +
        `(retry ${attempt} of ${this.options.pushRetries}).`,
    )
    await this.sleep(delay)
  }

  /**
   * Refuses to push when the checked-out branch has commits no remote has (a person's work not pushed yet,
   * or a commit an earlier step made). deckhand commits the files of `path` and nothing else: the drift commit
   * goes on top of the remote's tip, so those commits would be left out of the branch they were made on (or,
   * for a branch the remote lacks, published with it), and neither is deckhand's call. Committing in the
   * checkout and pushing HEAD, as auto-commit actions do, would publish them silently; this says so and stops
   * instead, before anything is pushed. A commit that any remote-tracking ref reaches counts as published.
   */
  private async refuseUnpublished(
    checkedOut: string,
    branch: string,
    tip: string | undefined,
  ): Promise<void> {
    if (!this.head) return
    const commits = await this.repo.unpublished(this.head, tip, UNPUBLISHED_SHOWN + 1)
    if (commits.length === 0) return
    const shown = commits.slice(0, UNPUBLISHED_SHOWN).map((c) => `${c.oid.slice(0, 12)} ${c.subject}`)
    if (commits.length > UNPUBLISHED_SHOWN) shown.push('… and more')
    const count =
      commits.length > UNPUBLISHED_SHOWN ? `more than ${UNPUBLISHED_SHOWN}` : String(commits.length)
    const effect = tip
      ? `would push the dump on top of ${this.remote}/${branch} without them, leaving them out of ${branch}`
      : `would publish them on ${branch}, which ${this.remote} does not have yet, along with the dump`
    throw new DeckhandError(
      `${checkedOut} has ${count} commit(s) that no remote branch holds. deckhand commits only the files below ` +
        `${this.paths.join(', ')}: it ${effect}. Nothing was pushed and the checkout is untouched. Push those ` +
        `commits first (git push ${this.remote} ${checkedOut}; git pull --rebase --autostash before it if ` +
        `${this.remote} moved), then run again; or commit from a checkout without them.`,
      shown,
    )
  }
}

/** The branch a workflow run is for: the pull request's head, or the pushed branch. */
function refBranch(env: NodeJS.ProcessEnv): string | undefined {
  if (env.GITHUB_HEAD_REF) return env.GITHUB_HEAD_REF
  const ref = env.GITHUB_REF ?? ''
  return ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined
}
