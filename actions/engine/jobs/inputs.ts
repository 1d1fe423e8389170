import { InputError } from '../errors.js'
import type { InputSpec } from '../../spec.js'

/**
 * How messages name an input. The engine writes `${inputName('clean')}` and each adapter renders it: the
 * action as the input (`clean`), the CLI as its option (`--clean`).
 */
export interface InputNaming {
  /** The input within a sentence: `set clean to true` / `set --clean to true`. */
  name(input: string): string
  /** The input leading a message about its value: `Input timeout must be…` / `--timeout must be…`. */
  subject(input: string): string
  /** The input leading a message that it is missing, naming every place it can be given: `Input kong-addr` / `--kong-addr (or DECKHAND_KONG_ADDR)`. */
  missing(input: string): string
  /** Every place the input can be set, within a sentence: `deck-path` / `--deck-path (or DECKHAND_DECK_PATH)`. */
  setting(input: string): string
}

/** The action's wording, the default. */
export const ACTION_NAMING: InputNaming = {
  name: (input) => input,
  subject: (input) => `Input ${input}`,
  missing: (input) => `Input ${input}`,
  setting: (input) => input,
}

let naming: InputNaming = ACTION_NAMING

/** Sets how messages name inputs for the rest of the process (the CLI calls it once, at start). */
export function setInputNaming(value: InputNaming): void {
  naming = value
}

/** An input's name as the user gave it (`clean` in the action, `--clean` in the CLI). */
export function inputName(input: string): string {
  return naming.name(input)
}

/** An input leading a message (`Input timeout` in the action, `--timeout` in the CLI). */
export function inputSubject(input: string): string {
  return naming.subject(input)
}

/** Every place an input can be set (`set ${inputSetting('deck-path')} to …`). */
export function inputSetting(input: string): string {
  return naming.setting(input)
}

/** `<input> is required: <why>`, naming every place the input can be given. A usage error. */
export function requiredInput(input: string, why: string): InputError {
  return new InputError(`${naming.missing(input)} is required: ${why}`)
}

/** Where raw input values come from: action inputs, or CLI options and environment. */
export type InputSource = (name: string) => string | undefined

/** Typed access to a command's inputs, with the spec's defaults and clear errors for bad values. */
export class Inputs {
  /** Reads every integer input at once: a value out of range fails the job before any work is done. */
  constructor(
    private readonly specs: Record<string, InputSpec>,
    private readonly source: InputSource,
  ) {
    for (const [name, spec] of Object.entries(specs)) if (spec.type === 'integer') this.bounded(name, 1)
  }

  private raw(name: string): string | undefined {
    const spec = this.specs[name]
    if (!spec) throw new Error(`unknown input ${name}`)
    const value = this.source(name)?.trim()
    if (value !== undefined && value !== '') return value
    // `${{ github.token }}` and the like are for the runner to evaluate; elsewhere they mean "not set".
    if (spec.default !== undefined && spec.default !== '' && !spec.default.startsWith('${{'))
      return spec.default
    if (spec.required) throw requiredInput(name, spec.description)
    return undefined
  }

  /**
   * The same inputs with some replaced: one Admin API address of several, or another cluster's address and
   * token, read with the same checks as the inputs the user gave.
   */
  with(values: Record<string, string | undefined>): Inputs {
    return new Inputs(this.specs, (name) => (name in values ? values[name] : this.source(name)))
  }

  /** Whether the command has this input. */
  has(name: string): boolean {
    return name in this.specs
  }

  /** Whether the user gave a value (a default does not count). */
  given(name: string): boolean {
    if (!this.specs[name]) throw new Error(`unknown input ${name}`)
    const value = this.source(name)?.trim()
    return value !== undefined && value !== ''
  }

  string(name: string): string | undefined {
    return this.raw(name)
  }

  boolean(name: string): boolean {
    const value = this.raw(name)
    if (value === undefined) return false
    // The same values @actions/core's getBooleanInput accepts (YAML 1.2 core schema).
    if (['true', 'True', 'TRUE'].includes(value)) return true
    if (['false', 'False', 'FALSE'].includes(value)) return false
    throw new InputError(`${naming.subject(name)} must be true or false, got "${value}"`)
  }

  /** true or false when set, undefined when neither set nor defaulted (the caller decides). */
  optionalBoolean(name: string): boolean | undefined {
    return this.raw(name) === undefined ? undefined : this.boolean(name)
  }

  /** A whole number, zero included (within the spec's range), or undefined when not set. */
  count(name: string): number | undefined {
    return this.bounded(name, 0)
  }

  /** A positive integer (within the spec's range), or undefined when not set. */
  integer(name: string): number | undefined {
    return this.bounded(name, 1)
  }

  /**
   * A safe integer within [min, max] of the spec: digits only (no sign, exponent or fraction), so that
   * `99999999999999999999999` is refused here rather than handed to deck as `1e+23`.
   */
  private bounded(name: string, floor: number): number | undefined {
    const value = this.raw(name)
    if (value === undefined) return undefined
    const spec = this.specs[name]!
    if (spec.max === undefined) throw new Error(`input ${name} has no maximum in the spec`)
    const min = spec.min ?? floor
    const n = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN
    if (!Number.isSafeInteger(n) || n < min || n > spec.max) {
      const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value
      throw new InputError(
        `${naming.subject(name)} must be a whole number from ${min} to ${spec.max}${spec.unit ? ` (${spec.unit})` : ''}, got "${shown}"`,
      )
    }
    return n
  }

  /** One of a fixed set of values (the spec's default when unset). */
  oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    const value = this.raw(name) as T
    if (!allowed.includes(value))
      throw new InputError(`${naming.subject(name)} must be one of ${allowed.join(', ')}; got "${value}"`)
    return value
  }

  /** One item per line; blank lines and surrounding space dropped. */
  list(name: string): string[] {
    const value = this.raw(name)
    if (value === undefined) return []
    return value
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '')
  }
}
