import { posix } from 'node:path'

import type { Tree, TreeEntry } from '../git/repository.js'

/**
 * Combining this run's files with a branch that moved since the checkout, file by file, as a rebase would,
 * with one difference: a dump folder (one holding deckhand's SHA256SUMS manifest) is one snapshot of a
 * gateway, so its files are never mixed from two dumps. When both sides changed a dump, the newer dump wins
 * as a whole; any other file changed on both sides is a conflict that stops the commit.
 */

export type Side = 'ours' | 'theirs'

export interface MergeInput {
  /** The files the checkout started from (HEAD). */
  base: Tree
  /** The files as this run wants them (the working tree). */
  ours: Tree
  /** The files on the branch now. */
  theirs: Tree
  /** The dump folder a file belongs to, if any. */
  dumpOf: (path: string) => string | undefined
  /** Which side wins each dump folder that both sides changed (see {@link contestedDumps}); default ours. */
  winners: ReadonlyMap<string, Side>
}

export interface MergeResult {
  /** The files of the result, below the paths in question. */
  tree: Tree
  /** Files changed differently on both sides, outside dump folders. */
  conflicts: string[]
}

export function sameEntry(a: TreeEntry | undefined, b: TreeEntry | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.oid === b.oid && a.mode === b.mode)
}

/** Paths whose entries differ between two trees, sorted. */
export function changedPaths(a: Tree, b: Tree): string[] {
  const paths = new Set([...a.keys(), ...b.keys()])
  return [...paths].filter((path) => !sameEntry(a.get(path), b.get(path))).sort()
}

export function mergeTrees(input: MergeInput): MergeResult {
  const { base, ours, theirs } = input
  const tree: Tree = new Map()
  const conflicts: string[] = []
  const oursChanged = changedDumps(base, ours, input.dumpOf)

  for (const path of new Set([...base.keys(), ...ours.keys(), ...theirs.keys()])) {
    const dump = input.dumpOf(path)
    let entry: TreeEntry | undefined
    if (dump !== undefined) {
      // A dump only one side changed is that side's; one both changed goes to its winner.
      const side = input.winners.get(dump) ?? (oursChanged.has(dump) ? 'ours' : 'theirs')
      entry = (side === 'ours' ? ours : theirs).get(path)
    } else {
      const [b, o, t] = [base.get(path), ours.get(path), theirs.get(path)]
      if (sameEntry(o, b) || sameEntry(o, t)) entry = t
      else if (sameEntry(t, b)) entry = o
      else {
        conflicts.push(path)
        entry = t
      }
    }
    if (entry) tree.set(path, entry)
  }
  return { tree, conflicts: conflicts.sort() }
}

/** Dump folders with a file that differs between `base` and `side`. */
function changedDumps(base: Tree, side: Tree, dumpOf: (path: string) => string | undefined): Set<string> {
  const dumps = new Set<string>()
  for (const path of changedPaths(base, side)) {
    const dump = dumpOf(path)
    if (dump !== undefined) dumps.add(dump)
  }
  return dumps
}

/** Dump folders both sides changed since `base`: those need a winner. */
export function contestedDumps(
  base: Tree,
  ours: Tree,
  theirs: Tree,
  dumpOf: (path: string) => string | undefined,
): string[] {
  const theirsChanged = changedDumps(base, theirs, dumpOf)
  return [...changedDumps(base, ours, dumpOf)].filter((dump) => theirsChanged.has(dump)).sort()
}

/**
 * The dump folders among some trees' files (folders holding `manifest`), and for each file the folder it
 * belongs to: the manifest itself and every file a version of the manifest lists. Other files in the folder
 * (a README kept beside the dump) are not the dump's.
 */
export function dumpFolders(
  trees: readonly Tree[],
  manifest: string,
  listed: (folder: string) => ReadonlySet<string>,
): { folders: string[]; dumpOf: (path: string) => string | undefined } {
  const folders = new Set<string>()
  for (const tree of trees) {
    for (const path of tree.keys()) if (posix.basename(path) === manifest) folders.add(posix.dirname(path))
  }
  const dumpOf = (path: string): string | undefined => {
    const folder = posix.dirname(path)
    if (!folders.has(folder)) return undefined
    const name = posix.basename(path)
    return name === manifest || listed(folder).has(name) ? folder : undefined
  }
  return { folders: [...folders].sort(), dumpOf }
}
