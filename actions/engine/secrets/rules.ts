import catalogue from './kong-catalogue.json' with { type: 'json' }
import { addPath, child, type SchemaFlag, type SchemaNode } from './schema-tree.js'

/**
 * Which rule found a secret, for the redaction report:
 * - `schema`: the gateway's own schema for the plugin or entity (read live from the Admin API),
 * - `catalogue`: the schemas bundled with deckhand (see script/kong-secret-catalogue.mjs),
 * - `configured`: fields the user named in the `secret-fields` input,
 * - `name`: the field or header is named like a credential,
 * - `detector`: the value itself is one (a private key, a JWT, credentials in a URL, …).
 */
export type RedactionRule = 'schema' | 'catalogue' | 'configured' | 'name' | 'detector'
export const REDACTION_RULES: readonly RedactionRule[] = [
  'schema',
  'catalogue',
  'configured',
  'name',
  'detector',
]

/** A schema node whose flags remember which source set them. */
export type SchemaSource = 'schema' | 'catalogue' | 'configured'

export interface SourcedNode extends SchemaNode {
  source?: SchemaSource
  fields?: Record<string, SourcedNode>
  elements?: SourcedNode
  values?: SourcedNode
}

/** The kinds of schema a gateway serves, and the catalogue keeps. */
export type SchemaKind = 'plugins' | 'entities' | 'partials' | 'vaults'

type CatalogueTable = Record<string, Record<string, Record<string, string>>>
const TABLES = catalogue as unknown as CatalogueTable

const compiled = new Map<string, SourcedNode | null>()
/** Fields the user added (`secret-fields`), by `kind/name`: secrets like the catalogue's encrypted ones. */
const configured = new Map<string, string[]>()
/** Grows whenever the catalogue does, so that rules compiled before are compiled again. */
let generation = 0

/** Adds one user-named secret field to the catalogue of this process. */
export function addCatalogueEntry(kind: SchemaKind, name: string, path: string): void {
  const key = `${kind}/${name}`
  configured.set(key, [...(configured.get(key) ?? []), path])
  compiled.delete(key)
  generation++
}

/** The bundled catalogue's node for one plugin, entity collection, partial type or vault backend. */
export function catalogueNode(kind: SchemaKind, name: string): SourcedNode | undefined {
  const key = `${kind}/${name}`
  let node = compiled.get(key)
  if (node === undefined) {
    const paths = Object.hasOwn(TABLES[kind] ?? {}, name) ? TABLES[kind]![name]! : undefined
    const extra = configured.get(key)
    node = null
    if (paths) {
      const root: SchemaNode = {}
      for (const [path, flag] of Object.entries(paths)) addPath(root, path, flag as SchemaFlag)
      node = tag(root, 'catalogue')
    }
    if (extra) {
      const root: SchemaNode = {}
      for (const path of extra) addPath(root, path, 'encrypted')
      node = mergeSourced(tag(root, 'configured'), node ?? undefined)
    }
    compiled.set(key, node)
  }
  return node ?? undefined
}

function tag(node: SchemaNode, source: SchemaSource): SourcedNode {
  const out: SourcedNode = {}
  if (node.flag) {
    out.flag = node.flag
    out.source = source
  }
  for (const [name, member] of Object.entries(node.fields ?? {}))
    Object.assign(child(out, name), tag(member, source))
  if (node.elements) out.elements = tag(node.elements, source)
  if (node.values) out.values = tag(node.values, source)
  return out
}

/**
 * The schema facts one redaction uses: the bundled catalogue, and the schemas a gateway served, which
 * win where both flag a field (they are the gateway's own) and add whatever the catalogue lacks (custom
 * plugins, newer releases). A field either source flags is judged a secret: the union never leaks what
 * one of them knows.
 */
export class SecretRules {
  private readonly live = new Map<string, SchemaNode>()
  /** Per kind, per name: asked once per entity, so without building a key string each time. */
  private readonly merged = new Map<SchemaKind, Map<string, SourcedNode | null>>()
  private generation = generation

  /** Adds a schema read from the gateway. */
  addLive(kind: SchemaKind, name: string, node: SchemaNode): this {
    this.live.set(`${kind}/${name}`, node)
    this.merged.get(kind)?.delete(name)
    return this
  }

  /** How many live schemas these rules hold. */
  get liveCount(): number {
    return this.live.size
  }

  node(kind: SchemaKind, name: string): SourcedNode | undefined {
    if (this.generation !== generation) {
      this.merged.clear()
      this.generation = generation
    }
    let byName = this.merged.get(kind)
    if (!byName) this.merged.set(kind, (byName = new Map()))
    let node = byName.get(name)
    if (node === undefined) {
      const live = this.live.get(`${kind}/${name}`)
      const bundled = catalogueNode(kind, name)
      node = live ? mergeSourced(tag(live, 'schema'), bundled) : (bundled ?? null)
      byName.set(name, node)
    }
    return node ?? undefined
  }
}

/** The catalogue alone: for files read with no gateway at hand (redact, validate, the commit scan). */
export const BUNDLED_RULES = new SecretRules()

/** Adds to a live node what only the catalogue flags, tagged as the catalogue's; `encrypted` wins. */
function mergeSourced(into: SourcedNode, from: SourcedNode | undefined): SourcedNode {
  if (!from) return into
  if (from.flag && (!into.flag || (from.flag === 'encrypted' && into.flag !== 'encrypted'))) {
    into.flag = from.flag
    into.source = from.source
  }
  for (const [name, member] of Object.entries(from.fields ?? {})) mergeSourced(child(into, name), member)
  if (from.elements) mergeSourced((into.elements ??= {}), from.elements)
  if (from.values) mergeSourced((into.values ??= {}), from.values)
  return into
}
