import { DeckhandError, errorMessage } from '../errors.js'
import { ELEMENTS, mergeInto, type SchemaFlag, type SchemaNode, VALUES } from '../secrets/schema-tree.js'
import { type AdminResponse, describeAnswer, nodeInfo } from './admin.js'
import { AnswerTooLargeError } from '../http.js'

/**
 * The schemas a Kong node serves on its Admin API, read into {@link SchemaNode} trees:
 * `GET /schemas/{entity}`, `GET /schemas/plugins/{name}` and `GET /schemas/vaults/{name}`
 * (kong/api/routes/kong.lua). Kong answers them with `schema_to_jsonable` (kong/api, beside the routes):
 * `{"entity_checks": [...], "fields": [...]}`, each field a one-key object `{"name": {...attributes}}`
 * holding every attribute of the Lua schema but functions. Records nest `fields`, arrays and sets have
 * `elements`, maps `keys` and `values`. A plugin's or vault's answer is its own subschema (`protocols`,
 * `config`, ...), not the plugins or vaults entity. `encrypted` is in the answers of Kong's open-source
 * releases too, though only Enterprise encrypts.
 */

/** The schema kinds read here, named as the Admin API's paths and the catalogue name them. */
export type LiveSchemaKind = 'plugins' | 'vaults' | 'entities'

/** How much of a schema is read: nesting depth and fields (a bound on the work one answer can cause). */
export interface SchemaLimits {
  maxDepth: number
  maxFields: number
}

export const SCHEMA_LIMITS: Readonly<SchemaLimits> = { maxDepth: 32, maxFields: 20_000 }

/** A schema read: its tree, and what of it was left out (too deep, too large, unusable names). */
export interface ReadSchema {
  node: SchemaNode
  ignored: string[]
}

/**
 * Converts Kong's jsonable schema (an object with a `fields` list) into a {@link SchemaNode}: `encrypted: true`
 * gives the flag `encrypted`, else `referenceable: true` gives `referenceable`; record `fields`, `elements` and
 * map `values` nest. A record's deprecated `shorthand_fields` (`config.redis_password`) get the flags of the
 * field they were replaced with (`config.redis.password`): Kong's GET answers show them holding its value. Only
 * branches that hold a flag are kept, so a schema without any gives `{}`. Malformed parts are skipped (a field
 * object with several keys is read as several fields); names every object has (`__proto__`, `constructor`)
 * and parts beyond the limits are left out. Throws a DeckhandError only when the value is no schema at all.
 */
export function schemaNodeFromKong(jsonable: unknown, limits?: Partial<SchemaLimits>): SchemaNode {
  return readKongSchema(jsonable, limits).node
}

/** {@link schemaNodeFromKong}, also saying what was left out. */
export function readKongSchema(jsonable: unknown, limits: Partial<SchemaLimits> = {}): ReadSchema {
  if (!isRecord(jsonable) || !Array.isArray(jsonable.fields)) {
    const got = Array.isArray(jsonable) ? 'a list' : jsonable === null ? 'null' : typeof jsonable
    throw new DeckhandError(`Not a Kong schema: expected an object with a "fields" list, got ${got}`)
  }
  const maxFields = limits.maxFields ?? SCHEMA_LIMITS.maxFields
  const walk: Walk = {
    maxDepth: limits.maxDepth ?? SCHEMA_LIMITS.maxDepth,
    maxFields,
    budget: maxFields,
    ignored: new Set(),
  }
  try {
    const fields = readFields(jsonable.fields, undefined, [], 1, walk)
    return { node: fields ? { fields } : {}, ignored: [...walk.ignored] }
  } catch (err) {
    // Only a value built to defeat the walk (a throwing getter, a proxy) gets here.
    throw new DeckhandError(`Not a Kong schema: ${errorMessage(err)}`, [], { cause: err })
  }
}

interface Walk {
  maxDepth: number
  maxFields: number
  /** Field entries left to look at. */
  budget: number
  ignored: Set<string>
}

/** At most this many notes of what was left out; the walk's bounds keep the rest from mattering. */
const MAX_NOTES = 20

function ignore(walk: Walk, note: string): void {
  if (walk.ignored.size < MAX_NOTES) walk.ignored.add(note)
}

/** A record's `fields` list (and its `shorthand_fields`); undefined when nothing in it is flagged. */
function readFields(
  list: unknown[],
  shorthands: unknown,
  path: string[],
  depth: number,
  walk: Walk,
): Record<string, SchemaNode> | undefined {
  const out: Record<string, SchemaNode> = {}
  for (const [name, data] of entries(list, path, walk)) {
    const child = readField(data, [...path, name], depth, walk)
    if (child) mergeInto(Object.hasOwn(out, name) ? out[name]! : (out[name] = {}), child)
  }
  // Deprecated shorthands (`config.redis_password`): Kong's GET answers show them holding the value of the
  // field they were replaced with (`config.redis.password`), so they carry that field's flags.
  if (Array.isArray(shorthands)) {
    for (const [name, data] of entries(shorthands, path, walk)) {
      const node: SchemaNode = {}
      const own = flagOf(data)
      if (own) node.flag = own
      for (const target of replacedWith(data)) {
        const found = lookup(out, target)
        if (found) mergeInto(node, found)
      }
      if (isEmpty(node)) continue
      mergeInto(Object.hasOwn(out, name) ? out[name]! : (out[name] = {}), node)
    }
  }
  return Object.keys(out).length > 0 ? out : undefined
}

/** The `[name, attributes]` of a list of one-key objects, within the budget and with usable names only. */
function* entries(list: unknown[], path: string[], walk: Walk): Generator<[string, Record<string, unknown>]> {
  for (const entry of list) {
    if (!isRecord(entry)) {
      walk.budget--
      continue
    }
    for (const name of Object.keys(entry)) {
      if (walk.budget-- <= 0) {
        ignore(walk, `more than ${walk.maxFields} fields: the rest were not read`)
        return
      }
      const data = entry[name]
      if (!isRecord(data)) continue
      if (name === '' || name in Object.prototype) {
        ignore(walk, `a field named ${JSON.stringify(name)} in ${where(path)}: not a usable field name`)
        continue
      }
      yield [name, data]
    }
  }
}

/** One field's attributes; undefined when nothing in it is flagged. */
function readField(
  data: Record<string, unknown>,
  path: string[],
  depth: number,
  walk: Walk,
): SchemaNode | undefined {
  if (depth > walk.maxDepth) {
    ignore(walk, `${where(path)}: nested deeper than ${walk.maxDepth} levels, not read`)
    return undefined
  }
  const node: SchemaNode = {}
  const flag = flagOf(data)
  if (flag) node.flag = flag
  if (Array.isArray(data.fields)) {
    const fields = readFields(data.fields, data.shorthand_fields, path, depth + 1, walk)
    if (fields) node.fields = fields
  }
  if (isRecord(data.elements)) {
    const elements = readField(data.elements, [...path, ELEMENTS], depth + 1, walk)
    if (elements) node.elements = elements
  }
  if (isRecord(data.values)) {
    const values = readField(data.values, [...path, VALUES], depth + 1, walk)
    if (values) node.values = values
  }
  return isEmpty(node) ? undefined : node
}

function flagOf(data: Record<string, unknown>): SchemaFlag | undefined {
  if (data.encrypted === true) return 'encrypted'
  if (data.referenceable === true) return 'referenceable'
  return undefined
}

/**
 * The paths (relative to the record) a shorthand field stands for: `deprecation.replaced_with[].path`, or
 * `translate_backwards` (Kong 3.6 and 3.7).
 */
function replacedWith(data: Record<string, unknown>): string[][] {
  const paths: unknown[] = []
  const deprecation = data.deprecation
  if (isRecord(deprecation) && Array.isArray(deprecation.replaced_with)) {
    for (const item of deprecation.replaced_with.slice(0, 8)) if (isRecord(item)) paths.push(item.path)
  }
  paths.push(data.translate_backwards)
  return paths.filter(
    (path): path is string[] =>
      Array.isArray(path) &&
      path.length > 0 &&
      path.length <= 32 &&
      path.every((part) => typeof part === 'string'),
  )
}

function lookup(fields: Record<string, SchemaNode>, path: string[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = { fields }
  for (const part of path) {
    const next: Record<string, SchemaNode> | undefined = node?.fields
    node = next && Object.hasOwn(next, part) ? next[part] : undefined
    if (!node) return undefined
  }
  return node
}

function isEmpty(node: SchemaNode): boolean {
  return !node.flag && !node.fields && !node.elements && !node.values
}

function where(path: string[]): string {
  return path.length > 0 ? path.join('.') : 'the schema'
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// ---------------------------------------------------------------------------------------------------------

/** What {@link LiveSchemas} needs of an Admin API client; {@link KongAdmin} is one. */
export interface SchemaSource {
  /** The Admin API address, part of the process-wide cache key. */
  readonly address: string
  /** One request: any HTTP answer, or a rejection when there was none. */
  request(method: string, path: string): Promise<AdminResponse>
}

export interface LiveSchemasOptions {
  /** Schema requests in flight at once, at most. Default 8. */
  concurrency?: number
  /**
   * What the schemas are keyed by instead of the version `GET /` reports: for a source that has no node
   * information (a Konnect control plane's Config API).
   */
  version?: string
  limits?: Partial<SchemaLimits>
}

/** What asking for one schema came to. */
interface Outcome {
  node?: SchemaNode
  problem?: string
  /** The node's answer for this version (200 or 404), not a passing failure: kept for the whole process. */
  settled: boolean
}

/** Schemas read in this process, by `${address} ${version} ${kind}/${name}`, shared by every LiveSchemas. */
const shared = new Map<string, Promise<Outcome>>()
const MAX_SHARED = 4096

/** Forgets the schemas read so far in this process (for tests, and long-lived processes). */
export function clearLiveSchemaCache(): void {
  shared.clear()
}

/**
 * The process-wide read of one schema: the one under way or done, else `read()`, kept unless it failed in
 * passing.
 */
function fromProcess(key: string, read: () => Promise<Outcome>): Promise<Outcome> {
  const known = shared.get(key)
  if (known) return known
  const pending = read()
  if (shared.size >= MAX_SHARED) shared.delete(shared.keys().next().value!)
  shared.set(key, pending)
  // A passing failure is the asking LiveSchemas' to keep, not the process's: a later run asks again.
  void pending.then((outcome) => {
    if (!outcome.settled && shared.get(key) === pending) shared.delete(key)
  })
  return pending
}

const LABELS: Record<LiveSchemaKind, string> = {
  plugins: 'plugin',
  vaults: 'vault backend',
  entities: 'entity',
}

/**
 * The schemas one Kong node serves, read on demand: each at most once per process and Kong version, with at most
 * `concurrency` requests at once. A schema that cannot be had (the node has no such plugin, the answer is no
 * schema, no answer at all) is `undefined`, and why is added to {@link problems} for the caller to report;
 * nothing here throws.
 */
export class LiveSchemas {
  /** Why schemas were not read, or read only in part: one line each, for the caller to report. */
  readonly problems: string[] = []
  private readonly cache = new Map<string, Promise<Outcome>>()
  private readonly reported = new Set<string>()
  private readonly limits: Partial<SchemaLimits>
  /** Whether reads go through the process-wide cache: not with limits of its own, which read differently. */
  private readonly sharing: boolean
  private readonly slots: Slots
  private versionRead?: Promise<string | undefined>

  constructor(
    private readonly admin: SchemaSource,
    options: LiveSchemasOptions = {},
  ) {
    this.limits = options.limits ?? {}
    if (options.version !== undefined) this.versionRead = Promise.resolve(options.version)
    this.sharing = options.limits === undefined
    const size = Math.floor(options.concurrency ?? 8)
    this.slots = new Slots(Number.isNaN(size) ? 8 : Math.max(1, size))
  }

  plugin(name: string): Promise<SchemaNode | undefined> {
    return this.schema('plugins', name)
  }

  vault(name: string): Promise<SchemaNode | undefined> {
    return this.schema('vaults', name)
  }

  entity(name: string): Promise<SchemaNode | undefined> {
    return this.schema('entities', name)
  }

  /** Reads many schemas ahead of their use, `concurrency` requests at a time. */
  async prefetch(names: { plugins?: string[]; vaults?: string[]; entities?: string[] }): Promise<void> {
    const wanted: [LiveSchemaKind, string][] = []
    for (const kind of ['plugins', 'vaults', 'entities'] as const) {
      for (const name of new Set(names[kind] ?? [])) wanted.push([kind, name])
    }
    await Promise.all(wanted.map(([kind, name]) => this.schema(kind, name)))
  }

  /** The node's version from `GET /`, read once; undefined (and a problem) when it cannot be had. */
  version(): Promise<string | undefined> {
    return (this.versionRead ??= this.readVersion())
  }

  /** One schema: a copy of the tree read, or undefined (see {@link problems}). */
  async schema(kind: LiveSchemaKind, name: string): Promise<SchemaNode | undefined> {
    const version = await this.version()
    if (version === undefined) return undefined
    const key = `${version} ${kind}/${name}`
    if (typeof name !== 'string' || name === '' || name === '.' || name === '..') {
      this.report(key, `No schema asked for ${LABELS[kind]} ${JSON.stringify(name)}: not a name Kong has`)
      return undefined
    }
    let pending = this.cache.get(key)
    if (!pending) {
      const read = () => this.fetch(kind, name)
      pending = this.sharing ? fromProcess(`${this.admin.address} ${key}`, read) : read()
      this.cache.set(key, pending)
    }
    const outcome = await pending
    if (outcome.problem) this.report(key, outcome.problem)
    return outcome.node ? structuredClone(outcome.node) : undefined
  }

  private async fetch(kind: LiveSchemaKind, name: string): Promise<Outcome> {
    const path =
      kind === 'entities'
        ? `/schemas/${encodeURIComponent(name)}`
        : `/schemas/${kind}/${encodeURIComponent(name)}`
    const request = `GET ${this.admin.address}${path}`
    const label = `${LABELS[kind]} ${JSON.stringify(name)}`
    let res: AdminResponse
    try {
      res = await this.slots.run(() => this.admin.request('GET', path))
    } catch (err) {
      // An answer over the limit is an answer: asking again would bring the same.
      if (err instanceof AnswerTooLargeError)
        return { problem: `No schema for ${label}: ${err.message}`, settled: true }
      return {
        problem: `No schema for ${label}: ${request} got no answer (${errorMessage(err)})`,
        settled: false,
      }
    }
    if (res.status === 404)
      return {
        problem: `The gateway has no schema for ${label} (${request}: ${describeAnswer(res)})`,
        settled: true,
      }
    if (res.status !== 200)
      return { problem: `No schema for ${label}: ${request} answered ${describeAnswer(res)}`, settled: false }
    let body: unknown
    try {
      body = JSON.parse(res.body)
    } catch {
      return {
        problem: `No schema for ${label}: ${request} answered with something other than JSON`,
        settled: true,
      }
    }
    try {
      const { node, ignored } = readKongSchema(body, this.limits)
      return {
        node,
        problem:
          ignored.length > 0 ? `The schema of ${label} was read in part: ${ignored.join('; ')}` : undefined,
        settled: true,
      }
    } catch (err) {
      return { problem: `No schema for ${label}: ${request}: ${errorMessage(err)}`, settled: true }
    }
  }

  private async readVersion(): Promise<string | undefined> {
    const request = `GET ${this.admin.address}/`
    try {
      const res = await this.admin.request('GET', '/')
      if (res.status !== 200) {
        this.report('version', `Live schemas not read: ${request} answered ${describeAnswer(res)}`)
        return undefined
      }
      const { version } = nodeInfo(res)
      if (version === 'unknown' || version === '') {
        this.report('version', `Live schemas not read: ${request} did not say which Kong version it is`)
        return undefined
      }
      return version
    } catch (err) {
      this.report('version', `Live schemas not read: ${request}: ${errorMessage(err)}`)
      return undefined
    }
  }

  private report(key: string, problem: string): void {
    if (this.reported.has(key)) return
    this.reported.add(key)
    this.problems.push(problem)
  }
}

/** At most `size` tasks at once; the rest wait their turn, in order. */
class Slots {
  private active = 0
  private readonly waiting: (() => void)[] = []

  constructor(private readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    while (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve))
    this.active++
    try {
      return await task()
    } finally {
      this.active--
      this.waiting.shift()?.()
    }
  }
}
