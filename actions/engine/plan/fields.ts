import { isObject, type Json } from '../state/entities.js'
import { MASK } from '../state/redact.js'

/** One field an update changes, with both values as short JSON text (masked when secret). */
export interface FieldChange {
  /** Dotted path from the entity, e.g. `retries` or `config.minute`. */
  path: string
  /** Absent when the field is absent on that side. */
  old?: string
  new?: string
  /** The field holds a secret: its values are not shown, only that it changes. */
  sensitive?: boolean
}

/** Kong stamps these on every write; they never make a change. */
const STAMPS = new Set(['created_at', 'updated_at'])
/** Longest value shown in full; longer ones are cut with an ellipsis. */
const VALUE_WIDTH = 80
/** More changed fields than this in one entity are summarized by a count. */
export const MAX_FIELDS = 50

/**
 * The paths of the fields that differ between the current (`old`) and the target (`new`) entity of an
 * update. Compare the raw bodies: masking first would hide a changed secret. Objects are compared field
 * by field, anything else (lists included) as a whole.
 */
export function changedPaths(old: unknown, now: unknown): string[][] {
  const paths: string[][] = []
  collect(old as Json, now as Json, [], paths)
  return paths
}

/** The changes at `paths` (at most {@link MAX_FIELDS}), shown from the masked bodies. */
export function fieldChanges(paths: readonly string[][], old: unknown, now: unknown): FieldChange[] {
  return paths.slice(0, MAX_FIELDS).map((path) => {
    const before = at(old as Json, path)
    const after = at(now as Json, path)
    const change: FieldChange = { path: path.join('.') }
    if (holdsMask(before) || holdsMask(after)) change.sensitive = true
    else {
      if (before !== undefined) change.old = show(before)
      if (after !== undefined) change.new = show(after)
    }
    return change
  })
}

function collect(a: Json | undefined, b: Json | undefined, path: string[], out: string[][]): void {
  // Objects are walked field by field (no deep comparison first: it would be repeated at every level).
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
    for (const key of keys) {
      if (path.length === 0 && STAMPS.has(key)) continue
      collect(a[key], b[key], [...path, key], out)
    }
    return
  }
  if (!same(a, b)) out.push(path)
}

/** Deep equality where an absent field and a null one are the same (Go omits nil fields). */
function same(a: Json | undefined, b: Json | undefined): boolean {
  if (a === undefined || a === null) return b === undefined || b === null
  if (b === undefined || b === null) return false
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => same(item, b[i]))
  }
  if (isObject(a)) {
    if (!isObject(b)) return false
    const keys = new Set([...Object.keys(a), ...Object.keys(b)])
    for (const key of keys) if (!same(a[key], b[key])) return false
    return true
  }
  return a === b
}

function at(value: Json | undefined, path: readonly string[]): Json | undefined {
  let current = value
  for (const key of path) {
    if (!isObject(current)) return undefined
    current = current[key]
  }
  return current === null ? undefined : current
}

function holdsMask(value: Json | undefined): boolean {
  if (typeof value === 'string') return value.includes(MASK)
  if (Array.isArray(value)) return value.some(holdsMask)
  if (isObject(value)) return Object.values(value).some(holdsMask)
  return false
}

function show(value: Json): string {
  const text = JSON.stringify(value)
  return text.length <= VALUE_WIDTH ? text : `${text.slice(0, VALUE_WIDTH - 1)}…`
}
