import { append } from '../engine/arrays.js'
import { InputError } from '../engine/errors.js'

/**
 * A mistake in how the CLI was called (an unknown command or option, a missing or malformed value):
 * exit 2. `help` names the command whose help lists what is accepted.
 */
export class UsageError extends InputError {
  constructor(
    message: string,
    readonly help?: string,
  ) {
    super(message)
    this.name = 'UsageError'
  }
}

/** Optimal string alignment distance: edits, insertions, deletions and swaps of neighbours. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = []
  for (let i = 0; i <= a.length; i++) d.push([i])
  for (let j = 1; j <= b.length; j++) d[0]![j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1)
      d[i]![j] = best
    }
  }
  return d[a.length]![b.length]!
}

/** The closest of `known` to `given`, when close enough to be a typo: `did you mean --kong-addr?`. */
export function suggest(given: string, known: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of known) {
    const distance = editDistance(given, candidate)
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  const allowed = Math.max(1, Math.min(3, Math.floor(given.length / 3)))
  if (best !== undefined && bestDistance <= allowed) return best
  // A prefix of one option only (`--kong` for `--kong-addr`) or an option with a word left out.
  const prefixed = [...known].filter((k) => k.startsWith(given) || given.startsWith(k))
  return prefixed.length === 1 ? prefixed[0] : undefined
}

/** ` (did you mean X?)`, or nothing. */
export function didYouMean(given: string, known: Iterable<string>, show = (s: string) => s): string {
  const match = suggest(given, known)
  return match === undefined ? '' : ` (did you mean ${show(match)}?)`
}

export type OptionKind = 'string' | 'boolean' | 'list'

export interface OptionDef {
  kind: OptionKind
}

export interface ParsedOptions {
  /** Strings as given; booleans as 'true' or 'false'; lists as every value given, in order. */
  values: Map<string, string | string[]>
  positionals: string[]
}

const BOOLEAN_WORDS = new Map([
  ['true', 'true'],
  ['false', 'false'],
])

/**
 * Parses `--name value`, `--name=value`, and for booleans `--name`, `--name=true|false` and `--no-name`.
 * `--` ends the options. Unknown options are usage errors naming the closest known one.
 */
export function parseOptions(
  argv: readonly string[],
  defs: Record<string, OptionDef>,
  options: { command: string; positionals?: boolean },
): ParsedOptions {
  const values = new Map<string, string | string[]>()
  const positionals: string[] = []
  const fail = (message: string): never => {
    throw new UsageError(message, options.command)
  }
  const known = Object.keys(defs).map((n) => `--${n}`)
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      append(positionals, argv.slice(i + 1))
      break
    }
    if (!arg.startsWith('-') || arg === '-') {
      if (!options.positionals) fail(`unexpected argument "${arg}": options are given as --name value`)
      positionals.push(arg)
      continue
    }
    if (arg === '-h') {
      values.set('help', 'true')
      continue
    }
    if (!arg.startsWith('--')) fail(`unknown option ${arg}${didYouMean(`-${arg}`, known)}`)
    const eq = arg.indexOf('=')
    let name = arg.slice(2, eq < 0 ? undefined : eq)
    let value: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1)
    let def = defs[name]
    if (!def && name.startsWith('no-') && defs[name.slice(3)]?.kind === 'boolean') {
      if (value !== undefined) fail(`--${name} takes no value: write --${name.slice(3)}=${value} instead`)
      name = name.slice(3)
      def = defs[name]
      value = 'false'
    }
    if (!def) {
      return fail(`unknown option --${name}${didYouMean(`--${name}`, known)}`)
    }
    if (def.kind === 'boolean') {
      if (value === undefined) value = 'true'
      values.set(
        name,
        BOOLEAN_WORDS.get(value.toLowerCase()) ?? fail(`--${name} is true or false, got "${value}"`),
      )
      continue
    }
    if (value === undefined) {
      const next = argv[i + 1]
      if (next === undefined || (next.startsWith('--') && next.length > 2))
        return fail(`--${name} needs a value: --${name} <value>`)
      value = next
      i++
    }
    if (def.kind === 'list') {
      const list = values.get(name)
      if (Array.isArray(list)) list.push(value)
      else values.set(name, [value])
    } else {
      if (values.has(name) && values.get(name) !== value)
        fail(`--${name} is given twice ("${values.get(name) as string}" and "${value}"): give it once`)
      values.set(name, value)
    }
  }
  return { values, positionals }
}

/**
 * node:util parseArgs' error as a usage error, with the closest known option for an unknown one; anything
 * else is returned as it is.
 */
export function parseArgsError(err: unknown, known: Iterable<string>, command: string): unknown {
  const e = err as NodeJS.ErrnoException
  if (!e?.code?.startsWith('ERR_PARSE_ARGS')) return err
  const unknown = /Unknown option '(--?[^'=]+)/.exec(e.message)?.[1]
  const options = [...known].map((k) => `--${k}`)
  return new UsageError(
    unknown ? `unknown option ${unknown}${didYouMean(unknown, options)}` : e.message,
    command,
  )
}
