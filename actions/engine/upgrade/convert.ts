import { readFile } from 'node:fs/promises'
import { basename, extname, join } from 'node:path'

import semver from 'semver'

import { convertArgs, describePairs } from '../deck/commands.js'
import type { DeckRunner } from '../deck/runner.js'
import {
  type ConvertPair,
  DEFAULT_DECK_VERSION,
  type DeckFeatures,
  LTS_LINES,
  type LtsLine,
} from '../deck/version.js'
import { compareStateFiles, type Drift } from '../drift/compare.js'
import { DeckhandError, errorMessage, fileSystemError } from '../errors.js'
import { privateTempDir, writeFileAtomic } from '../fs-atomic.js'
import type { Logger } from '../log.js'

/**
 * The Convert phase of an LTS upgrade: the declarative state rewritten for the next Kong line by
 * `deck file convert`, one LTS hop at a time (deck converts 2.8 → 3.4, 3.4 → 3.10 and 3.10 → 3.14, never
 * across a line: Kong/deck convert/convert.go Convert refuses any other pair).
 */

export interface ConvertHop extends ConvertPair {
  /** What deck printed about this hop: its automatic changes and the manual audit it asks for, line by line. */
  warnings: string[]
  /** The entities this hop changed (the state before and after, compared as drift compares two dumps). */
  drift: Drift
  /** Nothing changed but what the hop always rewrites (3.4 → 3.10 keeps _format_version "3.0"). */
  unchanged: boolean
}

export interface ConvertReport {
  from: LtsLine
  to: LtsLine
  input: string
  output: string
  hops: ConvertHop[]
}

export function isLtsLine(value: string): value is LtsLine {
  return (LTS_LINES as readonly string[]).includes(value)
}

/** The chain of LTS hops from one line to a later one, each a pair the deck in use converts. */
export function planConversion(features: DeckFeatures, from: string, to: string): ConvertPair[] {
  const lines = `Kong LTS lines are ${LTS_LINES.join(', ')}`
  if (!isLtsLine(from) || !isLtsLine(to)) {
    throw new DeckhandError(`Cannot convert from ${from} to ${to}: ${lines}.`)
  }
  const start = LTS_LINES.indexOf(from)
  const end = LTS_LINES.indexOf(to)
  if (end <= start) {
    throw new DeckhandError(
      `Cannot convert from ${from} to ${to}: deck converts to a later LTS line only (${lines}).`,
    )
  }
  const hops = LTS_LINES.slice(start, end).map((line, i) => ({
    from: line,
    to: LTS_LINES[start + i + 1] as LtsLine,
  }))
  const missing = hops.filter((h) => !features.convertPairs.some((p) => p.from === h.from && p.to === h.to))
  if (missing.length > 0) {
    throw new DeckhandError(
      `deck ${features.version} cannot convert ${missing.map((h) => `${h.from} → ${h.to}`).join(', ')} ` +
        `(needed for ${from} → ${to}); it converts ${describePairs(features)}. ` +
        'Set deck-version to 1.56.0 or newer (deck added 2.8 → 3.4 in 1.47.0, 3.4 → 3.10 in 1.51.0, 3.10 → 3.14 in 1.56.0).',
    )
  }
  const defects = features.convertDefects.filter((d) => hops.some((h) => h.from === d.from && h.to === d.to))
  if (defects.length > 0) {
    const fixedIn = defects.map((d) => d.fixedIn).reduce((a, b) => (semver.gt(a, b) ? a : b))
    throw new DeckhandError(
      `deck ${features.version} cannot be trusted with ${from} → ${to}: ` +
        defects
          .map((d) => `${d.from} → ${d.to} needs deck ${d.fixedIn} or newer because ${d.defect}`)
          .join('; ') +
        `. Set deck-version to ${fixedIn} or newer (default ${DEFAULT_DECK_VERSION}); nothing was converted.`,
    )
  }
  return hops
}

/**
 * Converts one state file from an LTS line to a later one into output. Every hop writes into a private
 * temporary directory; output is written (atomically) only when all hops succeeded, and the input is never
 * written. File contents are never logged: they hold whatever the state holds.
 */
export async function convertState(options: {
  runner: DeckRunner
  logger: Logger
  from: string
  to: string
  input: string
  output: string
}): Promise<ConvertReport> {
  const { runner, logger, input, output } = options
  const hops = planConversion(runner.deck.features, options.from, options.to)
  const ext = extname(output).toLowerCase() === '.json' ? '.json' : '.yaml'
  // drift compares files by name: both sides of a hop carry the output's name.
  const name = basename(output)
  const temp = await privateTempDir('deckhand-convert-')
  try {
    const report: ConvertHop[] = []
    let current = input
    let before = await readText(input)
    for (const [i, hop] of hops.entries()) {
      const next = join(temp.path, `hop-${i + 1}${ext}`)
      logger.info(`Converting the state from Kong ${hop.from} to ${hop.to} with deck file convert`)
      let stdout: string
      try {
        const argv = convertArgs(runner.deck.features, { ...hop, inputFiles: [current], outputFile: next })
        stdout = (await runner.run(argv, { online: false })).stdout
      } catch (err) {
        throw new DeckhandError(
          `Converting ${options.from} → ${options.to} failed at ${hop.from} → ${hop.to}; nothing was written to ${output}: ` +
            errorMessage(err),
        )
      }
      const after = await readText(next)
      const drift = compareStateFiles(new Map([[name, before]]), new Map([[name, after]]))
      report.push({ ...hop, warnings: deckLines(stdout), drift, unchanged: drift.entities.length === 0 })
      current = next
      before = after
    }
    await writeFileAtomic(output, before, 0o600).catch((err: unknown) => {
      throw fileSystemError(err, `writing ${output}`)
    })
    return { from: options.from as LtsLine, to: options.to as LtsLine, input, output, hops: report }
  } finally {
    await temp.cleanup()
  }
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    throw fileSystemError(err, `reading ${path}`)
  }
}

// deck prints its conversion messages on stdout (its cprint package) when the output goes to a file.
function deckLines(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '')
}
