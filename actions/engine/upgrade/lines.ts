import { LTS_LINES, type LtsLine } from '../deck/version.js'
import { DeckhandError } from '../errors.js'
import { isLtsLine } from './convert.js'

/**
 * The LTS line a Kong version belongs to (3.4.3.12 → 3.4, 2.8.4.14 → 2.8), or undefined for a version off
 * Kong's LTS path (3.9.1). Kong upgrades directly only between LTS lines
 * (developer.konghq.com/gateway/upgrade/lts-upgrade: "can only happen between two LTS versions").
 */
export function ltsLineOf(version: string): LtsLine | undefined {
  const m = /^(\d+)\.(\d+)(?:\.|$)/.exec(version.trim())
  if (!m) return undefined
  const line = `${Number(m[1])}.${Number(m[2])}`
  return isLtsLine(line) ? line : undefined
}

/** The line of one side: given explicitly, else read from the version its Kong reports. */
export function sideLine(side: 'X' | 'Y', given: string | undefined, reported: string | undefined): LtsLine {
  const lines = `Kong's LTS lines are ${LTS_LINES.join(', ')}`
  if (given !== undefined) {
    if (!isLtsLine(given))
      throw new DeckhandError(`The line given for ${side}, ${given}, is not an LTS line: ${lines}.`)
    return given
  }
  if (reported === undefined) {
    throw new DeckhandError(`Cluster ${side}'s Kong line is unknown: give it explicitly (${lines}).`)
  }
  const line = ltsLineOf(reported)
  if (!line) {
    throw new DeckhandError(
      `Cluster ${side} runs Kong ${reported}, which is not on an LTS line (${lines}): Kong upgrades directly only from one LTS line to a later one. Give ${side}'s line explicitly if it is one.`,
    )
  }
  return line
}

/** Refuses a pair that is not an upgrade along the LTS path: Y must be on a later line than X. */
export function checkUpgradePath(from: LtsLine, to: LtsLine): void {
  if (LTS_LINES.indexOf(to) <= LTS_LINES.indexOf(from)) {
    throw new DeckhandError(
      `Cluster Y (Kong ${to}) is not on a later LTS line than cluster X (Kong ${from}): nothing to upgrade. ` +
        `Kong's upgrade path is ${LTS_LINES.join(' → ')}.`,
    )
  }
}
