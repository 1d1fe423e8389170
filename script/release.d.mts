// Types for release.mjs: the release checks, assets and tags (docs/releasing.md).

/** deckhand-dist-vX.Y.Z.tar.gz: dist/, the action.yml files and LICENSE, as committed. */
export declare function distArchiveName(version: string): string
export declare const NOTES_FILE: 'release-notes.md'
export declare const CHECKSUMS_FILE: 'SHA256SUMS'

export interface ReleaseOptions {
  version: string
  dryRun: boolean
  /** The folder the assets go to, relative to the working directory. */
  out: string
}

/** Throws a usage error (exit code 2 from the command line) for a missing or malformed argument. */
export declare function parseArgs(argv: readonly string[]): ReleaseOptions

/** [major, minor, patch] of a plain X.Y.Z version, or undefined for anything else (v1.2.3, 1.2, 1.2.3-rc.1, 01.2.3). */
export declare function parseVersion(text: string): [number, number, number] | undefined

/** The `## [version] - YYYY-MM-DD` section of a Keep a Changelog file, or why there is none. */
export declare function releaseNotes(
  changelog: string,
  version: string,
): { notes: string; date: string; error?: undefined } | { error: string; notes?: undefined; date?: undefined }

export interface ReleaseResult {
  /** Why the release was refused; empty when it was not. */
  refused: string[]
  commit?: string
  tag?: string
  major?: string
  assets?: { name: string; sha256: string; size: number }[]
}

export declare function release(
  argv: readonly string[],
  options?: { cwd?: string; log?: (line: string) => void },
): Promise<ReleaseResult>
