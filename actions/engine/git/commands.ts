/**
 * Command lines for git. Credentials never appear here: an access token reaches git through its
 * environment (see auth.ts). Branch names are checked before they are put in a refspec.
 */

/** The all-zero object id: "no object" in `git update-index --index-info` and lease expectations. */
export const NULL_OID = '0000000000000000000000000000000000000000'

/**
 * A branch name git accepts (the rules of `git check-ref-format --branch`, minus the `@{-N}` shorthand),
 * checked here because it ends up in refspecs, where a `:` would change their meaning.
 */
export function isValidBranch(name: string): boolean {
  if (name === '' || name === '@' || name.startsWith('-') || name.startsWith('/') || name.endsWith('/'))
    return false
  if (name.endsWith('.') || name.endsWith('.lock') || name.includes('..') || name.includes('//')) return false
  // Control characters and space, and the characters git gives a meaning in revisions and refspecs.
  if (name.includes('@{') || [...name].some((c) => c <= ' ' || c === '\x7f') || /[~^:?*[\\]/.test(name))
    return false
  return name.split('/').every((part) => part !== '' && !part.startsWith('.') && !part.endsWith('.lock'))
}

export interface FetchOptions {
  remote: string
  branch: string
  /** The ref to store the branch's tip in. */
  into: string
  /**
   * Limit the history fetched: for a shallow clone, where git would otherwise walk back to the commits it
   * already has, which may be none of the branch's.
   */
  depth?: number
}

/**
 * Fetches one branch into `into`, forced (the remote may have been rewritten). An empty --refmap keeps git
 * from also updating the remote-tracking ref the configured refspec maps the branch to: the fetch writes
 * no ref but `into`, so it never waits on, or leaves a lock on, a ref the user's own git uses.
 */
export function fetchArgs(options: FetchOptions): string[] {
  const args = [
    'fetch',
    '--quiet',
    '--no-tags',
    '--no-recurse-submodules',
    '--no-write-fetch-head',
    '--refmap=',
  ]
  if (options.depth !== undefined) args.push(`--depth=${options.depth}`)
  args.push(options.remote, `+refs/heads/${options.branch}:${options.into}`)
  return args
}

export interface PushOptions {
  remote: string
  commit: string
  branch: string
  /**
   * Overwrite the branch only if it still points at this commit ({@link NULL_OID}: only if it does not
   * exist). Without a lease the push must be a fast-forward.
   */
  lease?: string
}

/** Pushes one commit to one branch; `--porcelain` gives a status line per ref to tell races from refusals. */
export function pushArgs(options: PushOptions): string[] {
  const args = ['push', '--porcelain', '--no-verify']
  if (options.lease !== undefined) {
    const expected = options.lease === NULL_OID ? '' : options.lease
    args.push(`--force-with-lease=refs/heads/${options.branch}:${expected}`)
  }
  args.push(options.remote, `${options.commit}:refs/heads/${options.branch}`)
  return args
}

/** Lists files (recursively) of a tree below `paths`, NUL-separated, paths from the repository root. */
export function lsTreeArgs(treeish: string, paths: readonly string[]): string[] {
  return ['ls-tree', '-r', '-z', '--full-tree', treeish, '--', ...paths]
}

/** Stages the working tree below `paths` (new, changed and deleted files, .gitignore respected). */
export function addArgs(paths: readonly string[]): string[] {
  return ['add', '--all', '--', ...paths]
}

/** Lists the staged files below `paths` with mode and blob, NUL-separated. */
export function lsFilesArgs(paths: readonly string[]): string[] {
  return ['ls-files', '--stage', '-z', '--', ...paths]
}

/** Makes a commit of `tree` on `parent` (none: a root commit); the message comes on stdin. */
export function commitTreeArgs(tree: string, parent: string | undefined): string[] {
  return ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-F', '-']
}

/**
 * `<hash> <subject>` of the commits reachable from `commit` but from no remote-tracking ref and not from
 * `published`, newest first (signatures are not checked: log.showSignature would add lines).
 */
export function unpublishedArgs(commit: string, published: string | undefined, limit: number): string[] {
  const args = [
    'log',
    '--no-show-signature',
    `--max-count=${limit}`,
    '--format=%H %s',
    commit,
    '--not',
    '--remotes',
  ]
  if (published) args.push(published)
  return args
}

/** Messages of the commits in `range` that touched `path`, newest first, each ended by a record separator. */
export function logMessagesArgs(range: string, path: string, limit: number): string[] {
  return ['log', `--max-count=${limit}`, '--format=%B%x1e', range, '--', path]
}
