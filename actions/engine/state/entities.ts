/**
 * The shape of a deck state file (GDR pkg/file/types.go): which keys hold entity collections,
 * which collections nest inside which, and how an entity is identified. Normalization, redaction,
 * counting and (later) drift reports all walk files through this one description.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export type JsonObject = { [key: string]: Json }

export interface CollectionSpec {
  /** Singular, short label used in reports and in derived environment variable names. */
  readonly label: string
  /** Fields that identify an entity, most significant first (deck's sort keys). */
  readonly identity: readonly string[]
  /** Collections that may nest inside an entity of this collection. */
  readonly nested?: Readonly<Record<string, CollectionSpec>>
  /** Whether the identity fields hold a secret (then names are derived from the id or position instead). */
  readonly secretIdentity?: boolean
  /**
   * Whether the identity fields identify the entity only together (a plugin: its name and its scope).
   * Otherwise they are alternatives (a consumer: username, else custom_id) and the first present names it.
   */
  readonly compositeIdentity?: boolean
}

const plugin: CollectionSpec = {
  label: 'plugin',
  identity: ['instance_name', 'name', 'service', 'route', 'consumer', 'consumer_group'],
  compositeIdentity: true,
}
const filterChain: CollectionSpec = { label: 'filter_chain', identity: ['name'] }
const route: CollectionSpec = {
  label: 'route',
  identity: ['name'],
  nested: { plugins: plugin, filter_chains: filterChain },
}

const credentials: Record<string, CollectionSpec> = {
  keyauth_credentials: { label: 'keyauth', identity: ['key'], secretIdentity: true },
  basicauth_credentials: { label: 'basicauth', identity: ['username'] },
  hmacauth_credentials: { label: 'hmacauth', identity: ['username'] },
  jwt_secrets: { label: 'jwt', identity: ['key'] },
  oauth2_credentials: { label: 'oauth2', identity: ['client_id'] },
  acls: { label: 'acl', identity: ['group'] },
  mtls_auth_credentials: { label: 'mtls', identity: ['subject_name'] },
}

/** Top-level collections of a deck state file, with their nesting. */
export const COLLECTIONS: Readonly<Record<string, CollectionSpec>> = {
  services: {
    label: 'service',
    identity: ['name'],
    nested: { routes: route, plugins: plugin, filter_chains: filterChain },
  },
  routes: route,
  consumers: {
    label: 'consumer',
    identity: ['username', 'custom_id'],
    nested: { ...credentials, plugins: plugin, groups: { label: 'group', identity: ['name'] } },
  },
  consumer_groups: {
    label: 'consumer_group',
    identity: ['name'],
    nested: { plugins: plugin, consumers: { label: 'member', identity: ['username', 'custom_id'] } },
  },
  plugins: plugin,
  filter_chains: filterChain,
  upstreams: {
    label: 'upstream',
    identity: ['name'],
    nested: { targets: { label: 'target', identity: ['target'] } },
  },
  certificates: {
    label: 'certificate',
    identity: ['cert'],
    nested: { snis: { label: 'sni', identity: ['name'] } },
  },
  ca_certificates: { label: 'ca_certificate', identity: ['cert'] },
  vaults: { label: 'vault', identity: ['prefix'] },
  partials: { label: 'partial', identity: ['name'] },
  keys: { label: 'key', identity: ['name', 'kid'] },
  key_sets: {
    label: 'key_set',
    identity: ['name'],
    nested: { keys: { label: 'key', identity: ['name', 'kid'] } },
  },
  rbac_roles: { label: 'rbac_role', identity: ['name'] },
  custom_entities: { label: 'custom_entity', identity: ['type', 'name'], compositeIdentity: true },
  degraphql_routes: { label: 'degraphql_route', identity: ['uri', 'query'], compositeIdentity: true },
  licenses: { label: 'license', identity: [] },
}

/** Keys of a state file that are metadata, not entities. */
export const META_KEYS = new Set(['_format_version', '_transform', '_info', '_workspace', '_konnect'])

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A reference to another entity in deck's file format is a name string or `{ id: … }`/`{ name: … }`. */
function identityPart(value: Json | undefined): string {
  if (value === undefined || value === null) return ''
  if (typeof value === 'string') return value
  if (isObject(value)) return identityPart(value.name ?? value.username ?? value.id)
  return String(value)
}

/** Human-readable identity of an entity: what reports and drift messages call it. */
export function entityName(entity: JsonObject, spec: CollectionSpec): string {
  if (spec.secretIdentity) return typeof entity.id === 'string' ? entity.id : ''
  // Joined as it goes: this runs for every entity of a file, and most have one identity field.
  let name = ''
  for (const field of spec.identity) {
    const part = identityPart(entity[field])
    if (part !== '') name = name === '' ? part : `${name} ${part}`
  }
  if (name !== '') return name
  return typeof entity.id === 'string' ? entity.id : ''
}

/** Sort key of an entity: its identity fields, then its id (deck's order: name/username/key, then ID). */
export function sortKey(entity: JsonObject, spec: CollectionSpec): string {
  let key = ''
  for (const field of spec.identity) key += identityPart(entity[field]) + '\u0000'
  return key + identityPart(entity.id)
}

export interface EntityVisit {
  entity: JsonObject
  spec: CollectionSpec
  /** Collection key the entity sits in, e.g. `keyauth_credentials`. */
  collection: string
  /**
   * The chain of enclosing entities, outermost first. The walk reuses one list for every visit, so it
   * is valid only during the call: copy it to keep it.
   */
  parents: readonly EntityLink[]
  /** Position within its collection after normalization. */
  index: number
}

export interface EntityLink {
  entity: JsonObject
  spec: CollectionSpec
  collection: string
}

/** Visits every entity of a state file, depth first, parents before children. */
export function walkEntities(content: JsonObject, visit: (v: EntityVisit) => void): void {
  // One shared chain, pushed and popped, rather than a copy of it for every entity of a large file.
  const parents: EntityLink[] = []
  const walk = (holder: JsonObject, specs: Readonly<Record<string, CollectionSpec>>): void => {
    for (const collection in specs) {
      const list = holder[collection]
      if (!Array.isArray(list)) continue
      const spec = specs[collection]!
      for (let index = 0, length = list.length; index < length; index++) {
        const entity = list[index]
        if (!isObject(entity)) continue
        visit({ entity, spec, collection, parents, index })
        if (spec.nested) {
          parents.push({ entity, spec, collection })
          walk(entity, spec.nested)
          parents.pop()
        }
      }
    }
  }
  walk(content, COLLECTIONS)
}

/** Entity counts of one state file, keyed by collection (nested collections counted under their own key). */
export function countEntities(content: JsonObject): Record<string, number> {
  const counts: Record<string, number> = {}
  walkEntities(content, ({ collection }) => {
    counts[collection] = (counts[collection] ?? 0) + 1
  })
  return counts
}

export function totalEntities(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0)
}
