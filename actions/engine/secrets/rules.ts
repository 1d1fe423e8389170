import catalogue from './kong-catalogue.json' with { type: 'json' }
import { addPath, child, type SchemaFlag, type SchemaNode } from './schema-tree.js'

/**
 * Which rule found a secret, for the redaction report:
 * - `schema`: the gateway's own schema for the plugin or entity (read live from the Admin API),
 * - `catalogue`: the schemas bundled with deckhand (see script/kong-secret-catalogue.mjs),
 * - `name`: the field or header is named like a credential,
 * - `detector`: the value itself is one (a private key, a JWT, credentials in a URL, …).
 */
export type RedactionRule = 'schema' | 'catalogue' | 'name' | 'detector'
export const REDACTION_RULES: readonly RedactionRule[] = ['schema', 'catalogue', 'name', 'detector']

/** A schema node whose flags remember which source set them. */
export interface SourcedNode extends SchemaNode {
  source?: 'schema' | 'catalogue'
  fields?: Record<string, SourcedNode>
  elements?: SourcedNode
  values?: SourcedNode
}

/** The kinds of schema a gateway serves, and the catalogue keeps. */
export type SchemaKind = 'plugins' | 'entities' | 'partials' | 'vaults'

type CatalogueTable = Record<string, Record<string, Record<string, string>>>
const TABLES = catalogue as unknown as CatalogueTable & { sources: { kong: { release: string } } }

/** The Kong releases the bundled catalogue was read from, for reports and the README. */
export const CATALOGUE_SOURCES = (catalogue as unknown as { sources: unknown }).sources

const compiled = new Map<string, SourcedNode | null>()

/** The bundled catalogue's node for one plugin, entity collection, partial type or vault backend. */
export function catalogueNode(kind: SchemaKind, name: string): SourcedNode | undefined {
  const key = `${kind}/${name}`
  let node = compiled.get(key)
  if (node === undefined) {
    const paths = Object.hasOwn(TABLES[kind] ?? {}, name) ? TABLES[kind]![name]! : undefined
    node = null
    if (paths) {
      const root: SchemaNode = {}
      for (const [path, flag] of Object.entries(paths)) addPath(root, path, flag as SchemaFlag)
      node = tag(root, 'catalogue')
    }
    compiled.set(key, node)
  }
  return node ?? undefined
}

/** Names the catalogue knows of one kind (plugins, vault backends, …). */
export function catalogueNames(kind: SchemaKind): string[] {
  return Object.keys(TABLES[kind] ?? {})
}

function tag(node: SchemaNode, source: 'schema' | 'catalogue'): SourcedNode {
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
  private readonly merged = new Map<string, SourcedNode | null>()

  /** Adds a schema read from the gateway. */
  addLive(kind: SchemaKind, name: string, node: SchemaNode): this {
    this.live.set(`${kind}/${name}`, node)
    this.merged.delete(`${kind}/${name}`)
    return this
  }

  /** How many live schemas these rules hold. */
  get liveCount(): number {
    return this.live.size
  }

  node(kind: SchemaKind, name: string): SourcedNode | undefined {
    const key = `${kind}/${name}`
    let node = this.merged.get(key)
    if (node === undefined) {
      const live = this.live.get(key)
      const bundled = catalogueNode(kind, name)
      node = live ? mergeSourced(tag(live, 'schema'), bundled) : (bundled ?? null)
      this.merged.set(key, node)
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
