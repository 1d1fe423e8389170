import { DeckhandError } from '../errors.js'
import { inputName } from '../jobs/inputs.js'

/**
 * What `deck gateway diff|sync --json-output` prints (deck cmd/common.go, GDR pkg/diff/diff.go
 * JSONOutputObject). Bodies hold whole entities, secrets in plain text but for values of DECK_
 * variables, which deck masks as "[masked]".
 */
export interface DeckChange {
  /** deck's name for the entity, e.g. `billing-api` or `rate-limiting for service billing-api`. */
  name: string
  /** deck's entity kind, e.g. `service`, `key-auth`, `consumer-group-consumer`, `workspace`. */
  kind: string
  /** `{ new, old }`: the target and the current entity; null for a workspace deck creates. */
  body: { new?: unknown; old?: unknown } | null
}

export interface DeckJsonOutput {
  /**
   * In sync, one entry per attempt (GDR pkg/diff/diff.go Solve, v1.40.3): an entity retried after HTTP 500s
   * is listed again each time, and one Kong refused is listed too. syncOutcome sorts them out.
   */
  changes: {
    creating: DeckChange[]
    updating: DeckChange[]
    deleting: DeckChange[]
    /** Events deck never sent because an earlier one failed (sync only; omitted when empty). */
    dropped_creations?: DeckChange[]
    dropped_updates?: DeckChange[]
    dropped_deletions?: DeckChange[]
  }
  /** Counts of events deck processed: all of them in diff, the successful ones in sync. */
  summary: { creating: number; updating: number; deleting: number; total: number }
  warnings: string[]
  /** Entity operations that failed. deck exits 0 all the same: any entry is a failure. */
  errors: string[]
}

/**
 * Parses deck's JSON output. deck prints it tab-indented with a trailing blank line; releases before
 * 1.55.2 could print warning lines before it, so parsing starts at the first line that opens an object.
 */
export function parseDeckJson(stdout: string, command: string): DeckJsonOutput {
  const start = stdout.search(/^\{/m)
  if (start < 0) {
    throw new DeckhandError(
      `deck ${command} printed no JSON result${stdout.trim() ? '' : ' (its output was empty)'}: ` +
        'is the deck binary a real deck 1.24.0 or later?',
    )
  }
  let value: unknown
  try {
    value = JSON.parse(stdout.slice(start))
  } catch (err) {
    throw new DeckhandError(
      `deck ${command} printed a result that is not valid JSON (${(err as Error).message}). deck before 1.62.1 ` +
        `could break its JSON when masking DECK_ values (Kong/deck#2047): set ${inputName('deck-version')} to a newer release.`,
    )
  }
  return checkShape(value, command)
}

function checkShape(value: unknown, command: string): DeckJsonOutput {
  const bad = (what: string) =>
    new DeckhandError(`deck ${command} printed JSON deckhand does not understand: ${what}`)
  if (!isRecord(value) || !isRecord(value.changes) || !isRecord(value.summary)) {
    throw bad('expected "changes" and "summary" objects')
  }
  const changes = value.changes
  for (const key of [
    'creating',
    'updating',
    'deleting',
    'dropped_creations',
    'dropped_updates',
    'dropped_deletions',
  ]) {
    const list = changes[key]
    // deck omits the dropped_* lists when they are empty; the other three are always there.
    if (list === undefined && key.startsWith('dropped_')) continue
    if (!Array.isArray(list)) throw bad(`changes.${key} is not a list`)
    for (const change of list) {
      if (!isRecord(change) || typeof change.name !== 'string' || typeof change.kind !== 'string') {
        throw bad(`an entry of changes.${key} lacks a name or kind`)
      }
    }
  }
  const summary = value.summary
  for (const key of ['creating', 'updating', 'deleting', 'total']) {
    if (typeof summary[key] !== 'number') throw bad(`summary.${key} is not a number`)
  }
  for (const key of ['warnings', 'errors']) {
    const list = value[key]
    // Go marshals a nil slice as null.
    if (
      list !== undefined &&
      list !== null &&
      !(Array.isArray(list) && list.every((e) => typeof e === 'string'))
    )
      throw bad(`${key} is not a list of strings`)
  }
  return {
    changes: changes as unknown as DeckJsonOutput['changes'],
    summary: summary as unknown as DeckJsonOutput['summary'],
    warnings: (value.warnings as string[] | null | undefined) ?? [],
    errors: (value.errors as string[] | null | undefined) ?? [],
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
