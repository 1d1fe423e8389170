/**
 * What a Kong schema says about secrets, as a tree that mirrors a configuration's shape. Both sources of
 * schema facts compile to it: the bundled catalogue (generated from Kong's sources and published
 * schemas) and the live schemas a gateway serves at `/schemas/...`.
 *
 * Kong marks two things on a field (kong/db/schema/metaschema.lua):
 * - `encrypted`: stored encrypted by the keyring (Enterprise). Always a secret.
 * - `referenceable`: may hold a `{vault://…}` reference. Often a secret, but also hosts, ports, user
 *   names and header names: {@link isSecretFlag} decides.
 */
export type SchemaFlag = 'encrypted' | 'referenceable'

export interface SchemaNode {
  /** The flag on this field itself; a flagged container (array, map, record) flags everything inside. */
  flag?: SchemaFlag
  /** Members of a record. */
  fields?: Record<string, SchemaNode>
  /** The element of an array or set. */
  elements?: SchemaNode
  /** The values of a map. */
  values?: SchemaNode
}

/** Path syntax of the catalogue: dotted field names, `[]` for an array's elements, `*` for a map's values. */
export const ELEMENTS = '[]'
export const VALUES = '*'

/**
 * The member `name` of a record node, created when missing. Members live in objects without a
 * prototype, so that a field named `__proto__` or `constructor` (a gateway's schema is input) is a
 * member like any other.
 */
export function child<T extends SchemaNode>(node: T, name: string): T {
  const fields = (node.fields ??= Object.create(null) as Record<string, SchemaNode>) as Record<string, T>
  return (fields[name] ??= {} as T)
}

/** Adds a flag at a catalogue path (`config.client_jwk.[].d`); `encrypted` wins over `referenceable`. */
export function addPath(root: SchemaNode, path: string, flag: SchemaFlag): void {
  let node = root
  for (const part of path.split('.')) {
    if (part === ELEMENTS) node = node.elements ??= {}
    else if (part === VALUES) node = node.values ??= {}
    else node = child(node, part)
  }
  if (node.flag !== 'encrypted') node.flag = flag
}

/** The flagged paths below a node, in catalogue syntax, sorted: the inverse of {@link addPath}. */
export function flaggedPaths(root: SchemaNode): Record<string, SchemaFlag> {
  const out: [string, SchemaFlag][] = []
  const walk = (node: SchemaNode, path: string[]): void => {
    if (node.flag) out.push([path.join('.'), node.flag])
    for (const [name, member] of Object.entries(node.fields ?? {})) walk(member, [...path, name])
    if (node.elements) walk(node.elements, [...path, ELEMENTS])
    if (node.values) walk(node.values, [...path, VALUES])
  }
  walk(root, [])
  out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return Object.fromEntries(out)
}

/** Merges `from` into `into` (union of paths, `encrypted` winning). */
export function mergeInto(into: SchemaNode, from: SchemaNode): SchemaNode {
  if (from.flag === 'encrypted' || (from.flag && !into.flag)) into.flag = from.flag
  for (const [name, member] of Object.entries(from.fields ?? {})) mergeInto(child(into, name), member)
  if (from.elements) mergeInto((into.elements ??= {}), from.elements)
  if (from.values) mergeInto((into.values ??= {}), from.values)
  return into
}

/**
 * Names of referenceable fields that hold no secret: identifiers and plain settings Kong lets users keep
 * in a vault all the same (a Redis host or user name, a header's name, an OAuth client id, a public
 * certificate). Matched against the field's own name (for an element or map value, its container's).
 * `encrypted` fields are secrets whatever their name: OpenID Connect encrypts `client_id`, so it is one.
 */
const PLAIN_REFERENCEABLE =
  /(?:^|_)(?:user|username|user_name|name|host|hostname|port|region|provider|id|dn|cert|cert_alt|certificate|public_key|url|uri|uris|endpoint|issuer|issuers_allowed|scopes|audience|realm|database|db)$/

/** Whether a flag marks a secret, by the rule above. `field` is the name the flag is on. */
export function isSecretFlag(flag: SchemaFlag | undefined, field: string): boolean {
  if (flag === 'encrypted') return true
  if (flag !== 'referenceable') return false
  return !PLAIN_REFERENCEABLE.test(field.toLowerCase())
}
