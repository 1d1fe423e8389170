import { lstat } from 'node:fs/promises'
import { dirname, join } from 'node:path'

import type { AgeIdentities } from '../age.js'
import { DeckhandError } from '../errors.js'
import { BUNDLE_FILE, readBundle } from './bundle.js'

/** A secret bundle that was read, for the report. */
export interface BundleSource {
  file: string
  /** Variables it holds. */
  count: number
  /** Its recipients' fingerprints, when it names them. */
  recipients?: string[]
}

/**
 * The values of the state files' `${{ env "DECK_…" }}` references: the environment's, and beneath them those
 * of the encrypted secret bundles. Variables set in the environment win. The bundles' values are given to
 * deck's own environment only (see {@link DeckVariables.forDeck}), never to deckhand's process environment,
 * so no other child sees them, and never on a command line or in a file.
 */
export class DeckVariables {
  private constructor(
    private readonly bundled: ReadonlyMap<string, string>,
    private readonly env: NodeJS.ProcessEnv,
    /** Bundles read. */
    readonly sources: readonly BundleSource[],
    /** Bundles beside the state files that were not opened: no identity was given. */
    readonly unopened: readonly string[],
  ) {}

  /** No bundle: the environment alone. */
  static fromEnv(env: NodeJS.ProcessEnv, unopened: readonly string[] = []): DeckVariables {
    return new DeckVariables(new Map(), env, [], unopened)
  }

  /**
   * Reads the bundles with the identities. `bundles` are the files to read: given by the user, or found
   * beside the state files ({@link defaultBundles}). Every value is passed to `secret` (for masking) as soon as
   * it is known. A variable two bundles give different values is an error: one deck run cannot have both.
   */
  static async load(options: {
    bundles: readonly string[]
    identities: AgeIdentities
    env: NodeJS.ProcessEnv
    secret: (value: string) => void
  }): Promise<DeckVariables> {
    const values = new Map<string, string>()
    const from = new Map<string, string>()
    const sources: BundleSource[] = []
    for (const file of options.bundles) {
      const opened = await readBundle(file, options.identities)
      for (const [name, value] of opened.variables) {
        maskValue(value, options.secret)
        const earlier = values.get(name)
        if (earlier !== undefined && earlier !== value) {
          throw new DeckhandError(
            `${name} has different values in ${from.get(name)} and ${file}: deck runs with one value per variable. ` +
              'Give the bundles in separate steps (their state files belong to different gateways).',
          )
        }
        values.set(name, value)
        from.set(name, file)
      }
      sources.push({ file, count: opened.variables.size, recipients: opened.recipients })
    }
    return new DeckVariables(values, options.env, sources, [])
  }

  /** The environment as the state files see it: the bundles' values, the environment's over them. */
  view(): NodeJS.ProcessEnv {
    const view: NodeJS.ProcessEnv = {}
    for (const [name, value] of this.bundled) view[name] = value
    for (const [name, value] of Object.entries(this.env)) if (value !== undefined) view[name] = value
    return view
  }

  /**
   * What deck's environment needs on top of what it inherits: the bundles' values of the variables `names`
   * (those the state files reference) that the environment does not set.
   */
  forDeck(names: readonly string[]): Record<string, string> {
    const extra: Record<string, string> = {}
    for (const name of names) {
      const value = this.bundled.get(name)
      if (value !== undefined && this.env[name] === undefined) extra[name] = value
    }
    return extra
  }

  /** The values of `names`, as the files will see them (for scrubbing output): environment first. */
  values(names: readonly string[]): string[] {
    const out: string[] = []
    for (const name of names) {
      const value = this.env[name] ?? this.bundled.get(name)
      if (value !== undefined) out.push(value)
    }
    return out
  }

  /** Variables the bundles hold that the environment sets too (the environment's value is used). */
  overridden(): string[] {
    return [...this.bundled.keys()].filter((name) => this.env[name] !== undefined).sort()
  }

  /** How many variables the bundles hold. */
  get size(): number {
    return this.bundled.size
  }

  /** For the message about unset variables: where their values may be. */
  missingHint(): string | undefined {
    if (this.unopened.length === 0) return undefined
    return (
      `${this.unopened.join(', ')} ${this.unopened.length === 1 ? 'holds' : 'hold'} encrypted values: ` +
      'set age-identity (the content of the age key file, or its path) to fill the variables from it.'
    )
  }

  /** The report's line, when bundles were read: how many values they gave, how many the environment overrode. */
  describe(): string | undefined {
    if (this.sources.length === 0) return undefined
    const files = this.sources.map((s) => s.file).join(', ')
    const overridden = this.overridden().length
    return (
      `${this.size} variable(s) from the secret bundle ${files}, ${overridden} overridden by the environment` +
      `${overridden > 0 ? ` (${this.overridden().join(', ')})` : ''}.`
    )
  }
}

/** Registers a value for masking: the whole of it and, for a multi-line one (a PEM key), each line. */
function maskValue(value: string, secret: (value: string) => void): void {
  if (value.trim().length === 0) return
  secret(value)
  if (!value.includes('\n')) return
  for (const line of value.split('\n')) {
    const trimmed = line.trim()
    if (trimmed.length >= 8 && !trimmed.startsWith('-----')) secret(trimmed)
  }
}

/** The bundles beside the state files: `secrets.age` in every folder that holds one of them, each once. */
export async function defaultBundles(stateFiles: readonly string[]): Promise<string[]> {
  const found: string[] = []
  for (const folder of new Set(stateFiles.map((f) => dirname(f)))) {
    const file = join(folder, BUNDLE_FILE)
    if (await lstat(file).catch(() => undefined)) found.push(file)
  }
  return found
}
