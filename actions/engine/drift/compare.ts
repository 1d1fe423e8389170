import { createHash } from 'node:crypto'
import { basename, extname } from 'node:path'

import { changedPaths, type FieldChange, fieldChanges } from '../plan/fields.js'
import {
  COLLECTIONS,
  type CollectionSpec,
  entityName,
  isObject,
  type Json,
  type JsonObject,
  walkEntities,
} from '../state/entities.js'
import { readStateText, StateReadError } from '../state/read.js'
import { isReference, maskEntity } from '../state/redact.js'
import {
  displayName,
  formatOf,
  looseTykObject,
  objectKey,
  TYK_KIND,
  TYK_SCOPE,
  type TykKind,
} from '../tyk/objects.js'
import { maskTykBody } from '../tyk/redact.js'

/**
 * Drift between two versions of a set of deck state files (what git holds and what a dump just wrote),
 * by entity rather than by line: which entities appeared, changed or disappeared, per workspace.
 */

export type DriftAction = 'added' | 'changed' | 'removed'

export interface EntityDrift {
  action: DriftAction
  workspace: string
  /** The entity's own kind: its collection's singular label, e.g. 'route', 'plugin', 'keyauth'. */
  kind: string
  /** Name with the chain of enclosing entities, e.g. `service billing / route orders`. Never a secret. */
  name: string
  /** Repository-relative path of the file holding it (the new file, or the old one for removed). */
  file: string
  /** For 'changed': the entity's own fields that differ (nested entities are compared on their own), masked. */
  fields?: FieldChange[]
  /** For 'changed': how many fields differ in all (fields holds at most MAX_FIELDS). */
  fieldCount?: number
}

export interface DriftCounts {
  added: number
  changed: number
  removed: number
}

export interface Drift {
  /** Sorted: workspace, then kind in the order of a COLLECTIONS walk, then name. */
  entities: EntityDrift[]
  counts: DriftCounts
  /** Workspaces with at least one change, sorted. */
  workspaces: string[]
  /** Files that changed but are not deck state files: listed, not compared. */
  otherFiles: string[]
  /** State files that could not be parsed on one side, with the parse error's first line. */
  unreadable: { file: string; error: string }[]
}

const STATE_FILE = /\.(ya?ml|json)$/i

/** One entity of one side, under the key that matches it with its counterpart on the other side. */
interface Located {
  entity: JsonObject
  spec: CollectionSpec
  collection: string
  name: string
  file: string
  /** Position of its collection (with its chain) in a COLLECTIONS walk: the report's kind order. */
  order: number
}

/** Entities of one side, by workspace, then by key (the chain of collections and names). */
type Side = Map<string, Map<string, Located>>

/**
 * Compares the state files of two versions, path by path. A path missing from a map is a file absent
 * on that side; files whose text is the same on both sides are not even parsed.
 */
export function compareStateFiles(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
): Drift {
  const old: Side = new Map()
  const now: Side = new Map()
  const otherFiles: string[] = []
  const unreadable: Drift['unreadable'] = []

  const paths = [...new Set([...before.keys(), ...after.keys()])].sort()
  for (const file of paths) {
    const oldText = before.get(file)
    const newText = after.get(file)
    if (oldText === newText) continue
    if (!STATE_FILE.test(file)) {
      otherFiles.push(file)
      continue
    }
    let oldContent: JsonObject | undefined
    let newContent: JsonObject | undefined
    try {
      oldContent = readState(oldText, file)
      newContent = readState(newText, file)
    } catch (err) {
      // The table names the file: the error says where in it, and never quotes it.
      if (!(err instanceof StateReadError)) throw err
      unreadable.push({ file, error: err.placed })
      continue
    }
    if (!oldContent && !newContent) otherFiles.push(file)
    if (oldContent) locate(old, file, oldContent)
    if (newContent) locate(now, file, newContent)
  }

  const found: { drift: EntityDrift; order: number }[] = []
  const add = (at: Located, drift: EntityDrift) => found.push({ drift, order: at.order })
  for (const workspace of new Set([...old.keys(), ...now.keys()])) {
    const was = old.get(workspace) ?? new Map<string, Located>()
    const is = now.get(workspace) ?? new Map<string, Located>()
    for (const [key, current] of is) {
      const previous = was.get(key)
      if (!previous) add(current, entry('added', workspace, current))
      else {
        const change = compareFields(previous, current)
        if (change) add(current, { ...entry('changed', workspace, current), ...change })
      }
    }
    for (const [key, previous] of was) {
      if (!is.has(key)) add(previous, entry('removed', workspace, previous))
    }
  }

  found.sort(
    (a, b) =>
      compareText(a.drift.workspace, b.drift.workspace) ||
      a.order - b.order ||
      compareText(a.drift.name, b.drift.name),
  )
  const entities = found.map((f) => f.drift)
  return {
    entities,
    counts: countDrift(entities),
    workspaces: [...new Set(entities.map((e) => e.workspace))].sort(),
    otherFiles,
    unreadable,
  }
}

export function countDrift(entities: readonly EntityDrift[]): DriftCounts {
  const counts: DriftCounts = { added: 0, changed: 0, removed: 0 }
  for (const e of entities) counts[e.action]++
  return counts
}

function entry(action: DriftAction, workspace: string, at: Located): EntityDrift {
  return { action, workspace, kind: at.spec.label, name: at.name, file: at.file }
}

/** Code unit order: locale-independent, so the report reads the same on every runner. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * The state held by one side of a file: undefined when absent or not a deck state file (a mapping with
 * `_format_version` or an entity collection). Throws when the text does not parse.
 */
function readState(text: string | undefined, file: string): JsonObject | undefined {
  if (text === undefined) return undefined
  const content = readStateText(text, file)
  if (!isObject(content)) return undefined
  const isState =
    '_format_version' in content ||
    Object.keys(COLLECTIONS).some((key) => key in content) ||
    formatOf(content) !== undefined
  return isState ? (content as JsonObject) : undefined
}

/** Tyk objects are entities of their own kinds, reported after Kong's, under {@link TYK_SCOPE}. */
const TYK_SPECS: Readonly<Record<TykKind, CollectionSpec>> = {
  api: { label: 'api', identity: ['api_id'] },
  policy: { label: 'policy', identity: ['id'] },
}
const TYK_COLLECTIONS: Readonly<Record<TykKind, string>> = { api: 'apis', policy: 'policies' }

/** A Tyk file holds one object: an API (classic or OAS) or a policy, known by its id. */
function locateTyk(side: Side, file: string, content: JsonObject): void {
  const object = looseTykObject(content, basename(file))!
  const kind = TYK_KIND[object.format]
  const found = side.get(TYK_SCOPE) ?? new Map<string, Located>()
  side.set(TYK_SCOPE, found)
  found.set(objectKey(object), {
    entity: content,
    spec: TYK_SPECS[kind],
    collection: TYK_COLLECTIONS[kind],
    name: displayName(object),
    file,
    order: ORDER.size + (kind === 'api' ? 0 : 1),
  })
}

/** Each collection chain (`services/routes/plugins`) numbered in the order of a COLLECTIONS walk. */
const ORDER = new Map<string, number>()
;(function number(specs: Readonly<Record<string, CollectionSpec>>, prefix: string): void {
  for (const [collection, spec] of Object.entries(specs)) {
    const chain = prefix + collection
    ORDER.set(chain, ORDER.size)
    if (spec.nested) number(spec.nested, chain + '/')
  }
})(COLLECTIONS, '')

/** Adds every entity of one side of a file to its workspace's index. */
function locate(side: Side, file: string, content: JsonObject): void {
  if (formatOf(content)) return locateTyk(side, file, content)
  const declared = content._workspace
  const workspace = typeof declared === 'string' && declared !== '' ? declared : basename(file, extname(file))
  const found = side.get(workspace) ?? new Map<string, Located>()
  side.set(workspace, found)
  // Per depth: the key, shown name and collection chain of the entity last visited there, which is
  // the enclosing entity of everything visited deeper until the next sibling.
  const keys: string[] = []
  const names: string[] = []
  const chains: string[] = []
  walkEntities(content, ({ entity, spec, collection, parents, index: position }) => {
    const depth = parents.length
    const parentKey = depth > 0 ? keys[depth - 1]! + '\u0001' : ''
    const parentName = depth > 0 ? names[depth - 1]! + ' / ' : ''
    const chain = depth > 0 ? `${chains[depth - 1]!}/${collection}` : collection
    const own = ownName(entity, spec, position)
    let name = own
    let key = `${parentKey}${collection}\u0000${name}`
    // Same identity twice in one workspace (deck would refuse it, a hand-edited file may not): number
    // the later ones, so that nothing is lost from the report.
    for (let n = 2; found.has(key); n++) {
      name = `${own} #${n}`
      key = `${parentKey}${collection}\u0000${name}`
    }
    keys[depth] = key
    names[depth] = `${parentName}${spec.label} ${name}`
    chains[depth] = chain
    found.set(key, { entity, spec, collection, name: names[depth]!, file, order: ORDER.get(chain) ?? 0 })
  })
}

/**
 * What an entity is called. Certificates are identified by their PEM and key-auth credentials by their
 * secret key: a certificate is shown by a digest of its (public) PEM, a credential by its id, or the
 * variable or vault reference standing in for its key, or its position.
 */
function ownName(entity: JsonObject, spec: CollectionSpec, index: number): string {
  if (spec.identity.includes('cert') && typeof entity.cert === 'string') {
    return `sha256:${createHash('sha256').update(entity.cert.trim()).digest('hex').slice(0, 12)}`
  }
  const name = firstAlternative(entity, spec) ?? entityName(entity, spec)
  if (name !== '') return name
  if (spec.secretIdentity) {
    const reference = referenceName(entity[spec.identity[0]!])
    if (reference) return reference
  }
  return `#${index + 1}`
}

/**
 * For identity fields that are alternatives (a consumer's username, else its custom_id), the first one
 * present. entityName joins them all, which would make a changed custom_id a different consumer.
 */
function firstAlternative(entity: JsonObject, spec: CollectionSpec): string | undefined {
  if (spec.compositeIdentity || spec.secretIdentity) return undefined
  for (const field of spec.identity) {
    const value = entity[field]
    if (typeof value === 'string' && value !== '') return value
  }
  return undefined
}

const ENV_TEMPLATE = /^\$\{\{\s*env\s+(?:"([^"]*)"|`([^`]*)`)[^}]*\}\}$/

/** `DECK_X` for a value that is exactly `${{ env "DECK_X" }}`, a vault reference as it is; else undefined. */
function referenceName(value: Json | undefined): string | undefined {
  if (typeof value !== 'string' || !isReference(value)) return undefined
  const text = value.trim()
  const env = ENV_TEMPLATE.exec(text)
  if (env) return env[1] ?? env[2]
  return text.startsWith('{vault://') ? text : undefined
}

/**
 * The entity's own fields that differ, masked: nested collections are left out (their entities are
 * compared on their own), and so are Kong's timestamps (changedPaths skips them).
 */
function compareFields(
  previous: Located,
  current: Located,
): { fields: FieldChange[]; fieldCount: number } | undefined {
  const old = ownFields(previous.entity, previous.spec)
  const now = ownFields(current.entity, current.spec)
  // Raw bodies for the paths (a mask would hide a changed secret), masked copies for the values.
  const paths = changedPaths(old, now)
  if (paths.length === 0) return undefined
  const fields = fieldChanges(paths, masked(old, current.collection), masked(now, current.collection))
  return { fields, fieldCount: paths.length }
}

function ownFields(entity: JsonObject, spec: CollectionSpec): JsonObject {
  const nested = spec.nested
  if (!nested) return entity
  const own: JsonObject = {}
  for (const key of Object.keys(entity)) if (!Object.hasOwn(nested, key)) own[key] = entity[key]!
  return own
}

function masked(entity: JsonObject, collection: string): JsonObject {
  const copy = structuredClone(entity)
  if (collection === TYK_COLLECTIONS.api || collection === TYK_COLLECTIONS.policy)
    maskTykBody(copy, new Set())
  else maskEntity(copy, collection, new Set())
  return copy
}
