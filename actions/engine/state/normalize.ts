import { COLLECTIONS, type CollectionSpec, type JsonObject, isObject, sortKey } from './entities.js'

/** Fields that change without the configuration changing; dropping them makes dumps byte-stable. */
const VOLATILE_FIELDS = ['created_at', 'updated_at']

/**
 * Puts a state file into deckhand's canonical form, in place: entity lists sorted by identity
 * (name/username/…, then id, then content as the last resort), timestamps dropped. Object keys are
 * ordered by the YAML writer, so together an unchanged gateway always yields the same bytes,
 * whatever order deck or the Admin API returned things in.
 */
export function normalizeContent(content: JsonObject): JsonObject {
  sortCollections(content, COLLECTIONS)
  return content
}

function sortCollections(holder: JsonObject, specs: Readonly<Record<string, CollectionSpec>>): void {
  for (const collection in specs) {
    const list = holder[collection]
    if (!Array.isArray(list)) continue
    const spec = specs[collection]!
    for (const entity of list) {
      if (!isObject(entity)) continue
      // Checking first is cheaper than deleting a property that is not there, the usual case.
      for (const field of VOLATILE_FIELDS) if (field in entity) delete entity[field]
      if (spec.nested) sortCollections(entity, spec.nested)
    }
    // Most nested lists (a route's plugins, a consumer's credentials) hold a single entity.
    if (list.length > 1) sortEntities(list, spec)
  }
}

function sortEntities(list: unknown[], spec: CollectionSpec): void {
  if (list.length === 2) {
    // A pair (a service's two routes) is common enough on large gateways to be ordered without the
    // allocations of a sort: swapped when the second comes first, as the stable sort below would.
    const [a, b] = list
    const keyA = isObject(a) ? sortKey(a, spec) : ''
    const keyB = isObject(b) ? sortKey(b, spec) : ''
    if (keyA > keyB || (keyA === keyB && canonicalJson(a) > canonicalJson(b))) {
      list[0] = b
      list[1] = a
    }
    return
  }
  const keyed = list.map((entity) => ({
    entity,
    key: isObject(entity) ? sortKey(entity, spec) : '',
    tie: undefined as string | undefined,
  }))
  keyed.sort((a, b) => {
    if (a.key !== b.key) return a.key < b.key ? -1 : 1
    // Same identity and no id (possible for unnamed entities): order by content so the result is total.
    a.tie ??= canonicalJson(a.entity)
    b.tie ??= canonicalJson(b.entity)
    return a.tie < b.tie ? -1 : a.tie > b.tie ? 1 : 0
  })
  keyed.forEach((k, i) => (list[i] = k.entity))
}

/** JSON with object keys sorted, used only to break ties between otherwise identical identities. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isObject(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  )
}
