/**
 * How much files-restore may unpack, in a module of its own (no dependencies) so that the command spec can
 * take its defaults from here.
 */

const KiB = 1024
export const MiB = 1024 * KiB
export const GiB = 1024 * MiB

/** How much a restore may unpack; checked at each entry's header and again as its bytes stream. */
export interface ArchiveLimits {
  /** Bytes all files together may hold. */
  maxBytes: number
  /** Bytes one file may hold. */
  maxFileBytes: number
  /** Entries (files, directories, anything else) the archive may hold. */
  maxEntries: number
}

/** Far above any gateway's files, far below what would exhaust a runner's disk. */
export const DEFAULT_LIMITS: ArchiveLimits = {
  maxBytes: 10 * GiB,
  maxFileBytes: 4 * GiB,
  maxEntries: 100_000,
}

/** For an archive deckhand has just written itself. */
export const NO_LIMITS: ArchiveLimits = {
  maxBytes: Number.POSITIVE_INFINITY,
  maxFileBytes: Number.POSITIVE_INFINITY,
  maxEntries: Number.POSITIVE_INFINITY,
}

/** The input (and CLI option) that raises each limit. */
export const LIMIT_INPUTS: Record<keyof ArchiveLimits, string> = {
  maxBytes: 'max-size-mib',
  maxFileBytes: 'max-file-size-mib',
  maxEntries: 'max-files',
}

/** Bytes as the inputs take them: whole MiB, rounded up. */
export function mebibytes(bytes: number): number {
  return Math.ceil(bytes / MiB)
}
