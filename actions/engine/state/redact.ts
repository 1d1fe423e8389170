import { createHash } from 'node:crypto'

import {
  allUrlCredentials,
  detectSecret,
  isAwsSecretKeyShape,
  isCredentialName,
  jwkPrivateMembers,
  looksLikeCredentialValue,
} from '../secrets/detectors.js'
import {
  BUNDLED_RULES,
  type RedactionRule,
  type SchemaKind,
  type SecretRules,
  type SourcedNode,
} from '../secrets/rules.js'
import { isSecretFlag } from '../secrets/schema-tree.js'

import {
  type CollectionSpec,
  type EntityVisit,
  type Json,
  type JsonObject,
  isObject,
  walkEntities,
} from './entities.js'

/**
 * A secret replaced by a deck environment reference. The YAML writer renders it as a block literal
 * holding `${{ env "NAME" }}` (with `| indent N` for multi-line values such as PEM keys), which deck
 * expands before parsing (GDR pkg/file/template.go), so the redacted file syncs once NAME is set.
 */
export class EnvRef {
  /** The value spans several lines (PEM): the template must re-indent its continuation lines. */
  readonly multiline: boolean
  /** The value ends with a line break, which the block literal's chomping must keep. */
  readonly finalNewline: boolean
  /** The value starts with white space, which needs an explicit indentation indicator. */
  readonly leadingSpace: boolean

  /** Keeps only the shape of `value`, never the value itself. */
  constructor(
    readonly name: string,
    value: string,
    /** Text kept in front of the reference, e.g. `Authorization:` for a header line. */
    readonly prefix = '',
    /** Text kept after it, e.g. `@host/path` after a URL's credentials. */
    readonly suffix = '',
  ) {
    this.multiline = value.includes('\n')
    // deck's `indent` re-indents every line break, so a value ending in several line breaks renders
    // with exactly one (clip chomping): PEM and similar values are unaffected.
    this.finalNewline = (suffix === '' ? value : suffix).endsWith('\n')
    this.leadingSpace = prefix === '' && /^[ \t]/.test(value)
  }

  /** Block literal header: `|` keeps one final line break, `-` strips it, `2` fixes the indentation. */
  header(): string {
    return `|${this.leadingSpace ? '2' : ''}${this.finalNewline ? '' : '-'}`
  }

  /** Template text as deck reads it; `indent` is the column the block literal's lines start at. */
  template(indent: number): string {
    const pipe = this.multiline ? ` | indent ${indent}` : ''
    return `${this.prefix}\${{ env "${this.name}"${pipe} }}${this.suffix}`
  }
}

// Mask mode never names a variable, so the visit's spec only has to exist.
const UNNAMED: CollectionSpec = { label: '', identity: [] }
/** deck's own mask for values of DECK_ variables in its JSON output: already no secret. */
export const DECK_MASK = '[masked]'

/** Collections whose `config` object is free-form and also judged by field names. */
const CONFIG_COLLECTIONS = new Set(['plugins', 'partials', 'vaults'])

/** Configuration field names that hold secrets: exact names, and suffixes after an underscore. */
const SECRET_NAMES = new Set([
  'password',
  'passwd',
  'passphrase',
  'secret',
  'secrets',
  'token',
  'private_key',
  'api_key',
  'apikey',
  'access_key',
  'aws_key',
])
const SECRET_SUFFIXES = [
  '_password',
  '_passphrase',
  '_secret',
  '_token',
  '_private_key',
  '_api_key',
  '_apikey',
  '_secret_key',
  '_access_key',
  '_secret_id',
  '_authorization',
  '_hmac_key',
]

export function isSecretFieldName(name: string): boolean {
  const lower = name.toLowerCase()
  return SECRET_NAMES.has(lower) || SECRET_SUFFIXES.some((suffix) => lower.endsWith(suffix))
}

/** `{vault://…}` references are resolved by Kong and `${{ env … }}` ones by deck: neither is a value. */
export function isReference(value: string): boolean {
  return /^\{vault:\/\/[^}]+\}$/.test(value.trim()) || value.includes('${{')
}

export interface Redaction {
  /** Environment variable that must hold the value when the file is synced. */
  name: string
  /** Where the value was, for humans: `consumer alice / keyauth 1 / key`. */
  location: string
  /** What found it: the gateway's schema, the bundled catalogue, the field's name, or the value itself. */
  rule: RedactionRule
}

export interface RedactOptions {
  /** Workspace the file belongs to: part of every derived name, so names never collide across files. */
  workspace: string
  /** Schema facts; default: the bundled catalogue alone. */
  rules?: SecretRules
  /**
   * False when only where the secrets are matters (the commit's and validate's scans): each reference is
   * then named by its number, which spares deriving a variable name per secret.
   */
  names?: boolean
  /**
   * When given, receives each replaced value under its variable's name: exactly what deck must substitute
   * for the reference (a URL's credentials or a header line's value without the text kept around it), for
   * the encrypted secret bundle. Kept apart from {@link Redaction}, which feeds reports.
   */
  values?: Map<string, string>
}

/**
 * Replaces every secret value of a (normalized) state file with an {@link EnvRef}, in place, and
 * returns what it replaced. Names are derived from the workspace, the chain of entities and the field,
 * so they stay the same from one dump to the next as long as the entities keep their names.
 */
export function redactContent(content: JsonObject, options: RedactOptions): Redaction[] {
  const redactor = new Redactor(options)
  walkEntities(content, (visit) => redactor.entity(visit))
  return redactor.redactions
}

/** What a masked secret reads as in plans, reports and comments. */
export const MASK = '[redacted]'

/**
 * Replaces, in place, every secret value of one entity with {@link MASK} (for plans and reports, which
 * must show that a secret is there, or changed, but never its value), by the same rules as files.
 * `collection` is the entity's collection in deck's file format (undefined for a kind deckhand has no
 * rules for); beyond its rules, every field of the entity is also judged by its name. The masked values
 * are added to `found`, so that free text (deck's and Kong's error messages) can be scrubbed of them too.
 */
export function maskEntity(
  entity: JsonObject,
  collection: string | undefined,
  found: Set<string>,
  rules: SecretRules = BUNDLED_RULES,
): void {
  const masker = new Redactor({ workspace: '', rules }, found)
  if (collection !== undefined) masker.entity({ entity, collection, spec: UNNAMED, parents: [], index: 0 })
  // Then every field by its name, wherever it is: a plan is shown, not synced, so masking more is safe.
  masker.wholeEntity(entity)
}

/** How the redaction walk treats a configuration field, by its name. */
type FieldKind = 'secret' | 'headers' | 'other'

/**
 * Field names repeat across every plugin of a file and every body of a plan, so each is classified once
 * per process; the cache stops growing at a size no real set of schemas reaches (hostile input cannot
 * make it grow without bound).
 */
const FIELD_KINDS = new Map<string, FieldKind>()
const MAX_FIELD_KINDS = 50_000

function fieldKind(field: string): FieldKind {
  let kind = FIELD_KINDS.get(field)
  if (kind === undefined) {
    kind = isSecretFieldName(field) ? 'secret' : LINE_FIELDS.test(field.toLowerCase()) ? 'headers' : 'other'
    if (FIELD_KINDS.size < MAX_FIELD_KINDS) FIELD_KINDS.set(field, kind)
  }
  return kind
}

/**
 * Top-level entity fields that hold no secret by Kong's own validation (identifiers, names, tags,
 * protocols, hosts, paths, SNIs): the value detectors skip them.
 */
const STRUCTURAL = new Set([
  'id',
  'name',
  'tags',
  'protocols',
  'protocol',
  'methods',
  'hosts',
  'host',
  'port',
  'paths',
  'path',
  'snis',
  'sources',
  'destinations',
  'username',
  'custom_id',
  'group',
  'instance_name',
  'type',
  'prefix',
  'kid',
  'cert',
  'cert_alt',
])

/**
 * Entity kinds whose every field Kong validates as a name, host, path, number, enum or reference, but
 * for the ones listed (a service's `url` may carry credentials, a route matches on header values, an
 * upstream's health checks send headers). Only those, and what a schema flags, are visited: they are
 * most of a large gateway's entities.
 */
const TYPED: Readonly<Record<string, readonly string[]>> = {
  services: ['url'],
  routes: ['headers'],
  consumers: [],
  consumer_groups: [],
  upstreams: ['healthchecks'],
  targets: [],
  snis: [],
  acls: [],
}

/** Fields whose lists hold `name:value` lines (request-transformer's `add.headers`, `add.body`, …). */
const LINE_FIELDS = /^(?:headers|body|querystring|query|.+_headers)$/

/**
 * Redacts one entity at a time. Three sources decide, and any one suffices: the schema (the gateway's
 * own, or the bundled catalogue of Kong's), the field's name (in free-form configuration), and the
 * value itself ({@link detectSecret}). Where the walk is below the entity is kept as stacks that grow
 * and shrink with it; they, and the entity's own scope, are turned into a name and a location only when
 * a value is replaced, because most entities and fields hold no secret.
 */
class Redactor {
  readonly redactions: Redaction[] = []
  private readonly namer: EnvNamer | undefined
  private readonly rules: SecretRules
  private readonly values: Map<string, string> | undefined
  private visit!: EntityVisit
  private scope: Scope | undefined
  /** Name parts below the entity. */
  private readonly path: string[] = []
  /** Location parts below the entity, parallel to `path`; null for a part only the name has. */
  private readonly where: (string | null)[] = []

  /**
   * @param masked when given, secrets are replaced by {@link MASK} (and collected here) instead of
   * environment references.
   */
  constructor(
    options: RedactOptions,
    private readonly masked?: Set<string>,
  ) {
    this.namer = options.names === false ? undefined : new EnvNamer(options.workspace)
    this.rules = options.rules ?? BUNDLED_RULES
    this.values = options.values
  }

  /** Redacts the secrets of one entity; entities come in {@link walkEntities} order. */
  entity(visit: EntityVisit): void {
    this.visit = visit
    this.scope = undefined
    const { entity, collection } = visit
    const schema = this.schemaOf(collection, entity)
    const typed = TYPED[collection]
    if (typed) {
      // The bulk of a large gateway: only the fields that can hold a value of the user's own, and what
      // the schema flags.
      for (const field of typed) if (entity[field] !== undefined) this.topField(visit, field, schema)
      for (const field in schema?.fields)
        if (entity[field] !== undefined && !typed.includes(field)) this.topField(visit, field, schema)
      return
    }
    // for…in rather than Object.keys: no array per entity (the data is parsed JSON: every key is its own).
    for (const field in entity) this.topField(visit, field, schema)
  }

  /** One field of an entity itself. */
  private topField(visit: EntityVisit, field: string, schema: SourcedNode | undefined): void {
    const { entity, collection } = visit
    // Nested collections are entities of their own, visited after this one; structural fields are
    // names, hosts and paths Kong validates as such.
    if (visit.spec.nested && Object.hasOwn(visit.spec.nested, field)) return
    const node = schema?.fields?.[field]
    if (STRUCTURAL.has(field) && node?.flag === undefined) return
    const value = entity[field]
    if (collection === 'filter_chains' && field === 'filters' && Array.isArray(value)) {
      this.filters(value)
      return
    }
    const byName =
      (field === 'config' && CONFIG_COLLECTIONS.has(collection)) ||
      (field === 'healthchecks' && collection === 'upstreams')
    this.field(entity, field, node, byName)
  }

  /** An entity of a kind without rules: every field is judged by its name, as configuration is. */
  wholeEntity(entity: JsonObject): void {
    this.config(entity, undefined, true)
  }

  /** The schema of an entity: a plugin's by its name, a partial's by its type, a vault's by its backend. */
  private schemaOf(collection: string, entity: JsonObject): SourcedNode | undefined {
    const kind: SchemaKind =
      collection === 'plugins' || collection === 'partials' || collection === 'vaults'
        ? collection
        : 'entities'
    const name = kind === 'entities' ? collection : entity[kind === 'partials' ? 'type' : 'name']
    return typeof name === 'string' ? this.rules.node(kind, name) : undefined
  }

  private enter(part: string, where: string | null = part): void {
    this.path.push(part)
    this.where.push(where)
  }

  private leave(): void {
    this.path.pop()
    this.where.pop()
  }

  /**
   * Replaces `holder[key]`, a secret when it is a non-empty string that is not a reference already.
   * With `span`, only that part of the string is the secret (a URL's credentials).
   */
  private replace(
    holder: JsonObject | Json[],
    key: string | number,
    rule: RedactionRule,
    span?: { start: number; end: number },
  ): void {
    const value = (holder as Record<string | number, Json>)[key]
    if (typeof value !== 'string' || value === '' || value === MASK || isReference(value)) return
    const replaced = span
      ? this.replacement(
          value.slice(span.start, span.end),
          rule,
          value.slice(0, span.start),
          value.slice(span.end),
        )
      : this.replacement(value, rule)
    ;(holder as Record<string | number, unknown>)[key] = replaced
  }

  /** What replaces a secret: the mask, or a reference to the variable named for this position. */
  private replacement(value: string, rule: RedactionRule, prefix = '', suffix = ''): EnvRef | string {
    if (!this.masked) {
      const name = this.record(rule)
      this.values?.set(name, value)
      return new EnvRef(name, value, prefix, suffix)
    }
    if (value !== DECK_MASK) this.masked.add(value.trim())
    return prefix + MASK + suffix
  }

  /** Names the value at the current position and records its replacement. */
  private record(rule: RedactionRule): string {
    const scope = (this.scope ??= scopeOf(this.visit, this.namer))
    const name = this.namer ? this.namer.name(this.path, scope.key) : String(this.redactions.length + 1)
    let location = scope.location
    for (const part of this.where) if (part !== null) location += ` / ${part}`
    this.redactions.push({ name, location, rule })
    return name
  }

  /**
   * One field of an entity or of its configuration, with what the schema says of it (`node`), judged
   * also by its name where `byName` (free-form configuration).
   */
  private field(holder: JsonObject, field: string, node: SourcedNode | undefined, byName: boolean): void {
    const value = holder[field]
    if (value === null || typeof value === 'number' || typeof value === 'boolean' || value instanceof EnvRef)
      return
    const secret = node?.flag !== undefined && isSecretFlag(node.flag, field)
    const kind = byName ? fieldKind(field) : 'other'
    // A plain string is the common case: the walk's position is only needed when it is replaced.
    if (typeof value === 'string' && !secret && kind !== 'secret') {
      if (mayBeSecret(value)) {
        this.enter(field)
        this.detect(holder, field, field)
        this.leave()
      }
      return
    }
    this.enter(field)
    if (secret) this.secret(holder, field, node.source ?? 'catalogue')
    else if (kind === 'secret') this.secret(holder, field, 'name')
    // Header maps and `name:value` lists: by name, and wherever the schema makes map values references.
    else if (kind === 'headers' || node?.values?.flag === 'referenceable') this.headers(value, node?.values)
    else if (Array.isArray(value)) this.list(value, node?.elements, byName, field)
    else if (isObject(value)) {
      if (node?.values && !node.fields) this.map(value, node.values, byName)
      else this.config(value, node, byName, field)
    }
    this.leave()
  }

  /**
   * Walks a configuration object: every field with its schema node, and private JWK members of an object
   * that is a JWK (it has `kty`, or is held by a field named like one).
   */
  private config(config: JsonObject, node: SourcedNode | undefined, byName: boolean, container = ''): void {
    if (typeof config.kty === 'string' || /jwks?$/i.test(container)) {
      for (const member of jwkPrivateMembers(config)) {
        this.enter(member)
        this.replace(config, member, 'detector')
        this.leave()
      }
    }
    for (const field in config) {
      // Parallel lists (`token_headers_names` with `token_headers_values`) are judged as pairs.
      if (field.endsWith('_values') && Array.isArray(config[field])) {
        const names = config[`${field.slice(0, -'_values'.length)}_names`]
        const child = node?.fields?.[field]
        if (Array.isArray(names) && !(child?.flag && isSecretFlag(child.flag, field))) {
          this.enter(field)
          this.pairs(names, config[field] as Json[])
          this.leave()
          continue
        }
      }
      this.field(config, field, node?.fields?.[field], byName)
    }
  }

  /** A map whose values the schema describes (`values`): each value with that node. */
  private map(map: JsonObject, node: SourcedNode, byName: boolean): void {
    for (const key of Object.keys(map)) {
      const value = map[key]
      this.enter(key)
      if (node.flag && isSecretFlag(node.flag, key)) this.secret(map, key, node.source ?? 'catalogue')
      else if (typeof value === 'string') this.detect(map, key, key)
      else if (Array.isArray(value)) this.list(value, node.elements, byName, key)
      else if (isObject(value)) this.config(value, node, byName)
      this.leave()
    }
  }

  /** A list: elements the schema flags are secrets, strings are checked by value, records walked. */
  private list(list: Json[], node: SourcedNode | undefined, byName: boolean, field: string): void {
    const secret = node?.flag !== undefined && isSecretFlag(node.flag, field)
    for (let i = 0; i < list.length; i++) {
      const item = list[i]
      if (typeof item === 'string') {
        if (!secret && !mayBeSecret(item)) continue
        this.enter(String(i + 1))
        if (secret) this.replace(list, i, node?.source ?? 'catalogue')
        else this.detect(list, i, field)
        this.leave()
      } else if (isObject(item)) {
        this.enter(String(i + 1))
        if (secret) this.allStrings(item, node?.source ?? 'catalogue')
        else this.config(item, node, byName, field)
        this.leave()
      }
    }
  }

  /** A secret field: a string, a list of strings, or an object whose strings all are. */
  private secret(config: JsonObject, field: string, rule: RedactionRule): void {
    const value = config[field]
    if (typeof value === 'string') this.replace(config, field, rule)
    else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item = value[i]
        this.enter(String(i + 1))
        if (isObject(item)) this.allStrings(item, rule)
        else this.replace(value, i, rule)
        this.leave()
      }
    } else if (isObject(value)) this.allStrings(value, rule)
  }

  private allStrings(obj: JsonObject, rule: RedactionRule): void {
    for (const field of Object.keys(obj)) {
      const value = obj[field]
      this.enter(field)
      if (typeof value === 'string') this.replace(obj, field, rule)
      else if (isObject(value)) this.allStrings(value, rule)
      else if (Array.isArray(value)) this.secret(obj, field, rule)
      this.leave()
    }
  }

  /** A string no rule named: a secret only when the value is one by itself. */
  private detect(holder: JsonObject | Json[], key: string | number, field: string): void {
    const value = (holder as Record<string | number, Json>)[key]
    if (typeof value !== 'string' || !mayBeSecret(value)) return
    const kind = detectSecret(value)
    // A URL keeps its scheme, host and path; only its credentials become the reference (all of the
    // value when it holds credentials for several URLs).
    if (kind === 'url-credentials') {
      const spans = allUrlCredentials(value, 2)
      this.replace(holder, key, 'detector', spans.length === 1 ? spans[0] : undefined)
    } else if (kind !== undefined) this.replace(holder, key, 'detector')
    else if (isAwsSecretKeyShape(value) && /aws|secret/i.test(field)) this.replace(holder, key, 'detector')
  }

  /**
   * Plugins carry headers either as a map (`http-log`: `{Authorization: "Bearer …"}`) or as
   * `Name:value` lines (`request-transformer`: `add.headers`, and `add.body`/`add.querystring` likewise).
   * A header is redacted when its name is a credential's, or its value looks like one; for lines, the
   * name stays in the file and only the value becomes a reference.
   */
  private headers(value: Json | undefined, node: SourcedNode | undefined): void {
    if (isObject(value)) {
      for (const header of Object.keys(value)) {
        const v = value[header]
        const byName =
          isCredentialName(header) || (node?.flag === 'encrypted' && isSecretFlag(node.flag, header))
        this.enter(header)
        if (typeof v === 'string') this.headerValue(value, header, byName)
        else if (Array.isArray(v)) {
          // Each value of a multi-valued header gets its own name, all at the header's location.
          for (let i = 0; i < v.length; i++) {
            this.enter(String(i + 1), null)
            this.headerValue(v, i, byName)
            this.leave()
          }
        } else if (isObject(v)) this.headers(v, node)
        this.leave()
      }
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const line = value[i]
        if (typeof line !== 'string') continue
        const colon = line.indexOf(':')
        if (colon <= 0) {
          this.detect(value, i, '')
          continue
        }
        const header = line.slice(0, colon).trim()
        const secret = line.slice(colon + 1)
        const trimmed = secret.trim()
        if (trimmed === '' || isReference(secret) || trimmed === MASK) continue
        const rule = isCredentialName(header) ? 'name' : isCredentialValue(trimmed) ? 'detector' : undefined
        if (rule === undefined) continue
        this.enter(header)
        value[i] = this.replacement(secret, rule, line.slice(0, colon + 1)) as unknown as Json
        this.leave()
      }
    }
  }

  private headerValue(holder: JsonObject | Json[], key: string | number, byName: boolean): void {
    const v = (holder as Record<string | number, Json>)[key]
    if (typeof v !== 'string') return
    if (byName) this.replace(holder, key, 'name')
    else if (isCredentialValue(v.trim())) this.replace(holder, key, 'detector')
    else this.detect(holder, key, String(key))
  }

  /** Parallel `*_names` / `*_values` lists: a value is secret when its name or the value itself says so. */
  private pairs(names: Json[], values: Json[]): void {
    for (let i = 0; i < values.length; i++) {
      const name = names[i]
      const v = values[i]
      if (typeof v !== 'string') continue
      const rule =
        typeof name === 'string' && isCredentialName(name)
          ? 'name'
          : isCredentialValue(v.trim())
            ? 'detector'
            : undefined
      this.enter(String(i + 1), typeof name === 'string' ? name : String(i + 1))
      if (rule) this.replace(values, i, rule)
      else this.detect(values, i, typeof name === 'string' ? name : '')
      this.leave()
    }
  }

  private filters(filters: Json[]): void {
    filters.forEach((filter, i) => {
      if (!isObject(filter) || !isObject(filter.config)) return
      const name = String(filter.name ?? i)
      this.enter('filter', `filter ${name}`)
      this.enter(name, null)
      this.enter('config', null)
      this.config(filter.config, undefined, true)
      this.leave()
      this.leave()
      this.leave()
    })
  }
}

/** A header or parameter value that is a credential by its look: a scheme (`Bearer …`), a token, a key. */
function isCredentialValue(value: string): boolean {
  return looksLikeCredentialValue(value) || detectSecret(value) !== undefined
}

/**
 * A cheap first look before the detectors: secrets are at least 8 characters long, and most plain
 * strings (names, paths, tags, numbers) are shorter or are words.
 */
function mayBeSecret(value: string): boolean {
  return value.length >= 8 && value !== MASK && value !== DECK_MASK
}

interface Scope {
  /** Name parts: label and identity of each entity from the outermost in. */
  path: string[]
  /** The same, prepared for the namer once per entity (when there is a namer). */
  key: NameScope
  /** The same for humans, joined: `consumer alice / keyauth 1`. */
  location: string
}

function scopeOf(visit: EntityVisit, namer: EnvNamer | undefined): Scope {
  const scope: Scope = { path: [], location: '', key: undefined as unknown as NameScope }
  // Only the entity's own position is passed on: an enclosing entity with neither identity nor id is 1.
  for (const parent of visit.parents) {
    addLink(scope, parent.spec, nameForEnv(parent.entity, parent.spec, undefined))
  }
  addLink(scope, visit.spec, nameForEnv(visit.entity, visit.spec, visit.index))
  if (namer) scope.key = namer.scope(scope.path)
  return scope
}

function addLink(scope: Scope, spec: CollectionSpec, id: string): void {
  scope.path.push(spec.label, id)
  const link = `${spec.label} ${id}`
  scope.location = scope.location === '' ? link : `${scope.location} / ${link}`
}

/**
 * The part of an environment variable name that stands for one entity: its identity when that is not
 * secret, else the start of its id, else (deck drops ids of credentials unless --with-id) its position.
 */
function nameForEnv(entity: JsonObject, spec: CollectionSpec, index: number | undefined): string {
  if (!spec.secretIdentity) {
    // A certificate's identity is its PEM: name it by its first SNI, or a short digest of the (public) cert.
    if (spec.label === 'certificate') {
      const sni = Array.isArray(entity.snis) ? entity.snis.find(isObject) : undefined
      if (sni && typeof sni.name === 'string') return sni.name
      if (typeof entity.cert === 'string')
        return createHash('sha256').update(entity.cert).digest('hex').slice(0, 8)
    } else {
      const identity = identityForEnv(entity, spec)
      if (identity !== '') return identity
    }
  }
  if (typeof entity.id === 'string' && entity.id !== '') return entity.id.slice(0, 8)
  return String((index ?? 0) + 1)
}

/**
 * The identity fields that hold a name (directly or as a `{ name }` reference): all of them joined by `_`
 * for a composite identity, else the first one present.
 */
function identityForEnv(entity: JsonObject, spec: CollectionSpec): string {
  let identity = ''
  for (const field of spec.identity) {
    const v = entity[field]
    const part = typeof v === 'string' ? v : isObject(v) && typeof v.name === 'string' ? v.name : ''
    if (part === '') continue
    if (!spec.compositeIdentity) return part
    identity = identity === '' ? part : `${identity}_${part}`
  }
  return identity
}

/** A prefix of name parts, raw (for telling paths apart) and sanitized (for the name). */
export interface NameScope {
  raw: string
  clean: string
}

/**
 * Turns name parts into `DECK_…` (or another prefix's) variable names: upper case, `[A-Z0-9_]`, and unique within a file.
 * Two different paths that sanitize to the same name get a short digest of their raw path appended.
 */
export class EnvNamer {
  private readonly byName = new Map<string, string>()
  private readonly issued = new Map<string, number>()
  /** Field paths below entities repeat across a file (`config/redis/password`): sanitized once each. */
  private readonly cleanTails = new Map<string, string>()

  constructor(
    private readonly workspace: string,
    /** deck expands only variables whose names start with DECK_. */
    private readonly prefix = 'DECK_',
  ) {}

  /** The leading parts of many names (an entity's chain), prepared once for {@link name}. */
  scope(parts: readonly string[]): NameScope {
    const raw = [this.workspace, ...parts].join('\u0000')
    return { raw, clean: sanitize(raw) }
  }

  /** The variable for a path: `parts`, after the scope's parts when given. */
  name(parts: readonly string[], scope: NameScope = this.scope([])): string {
    const tail = parts.join('\u0000')
    const path = parts.length === 0 ? scope.raw : `${scope.raw}\u0000${tail}`
    // Sanitizing the joined path gives the sanitized parts joined by `_`, empty ones left out: upper
    // casing goes character by character, the separator becomes `_`, and runs of `_` collapse.
    let clean = this.cleanTails.get(tail)
    if (clean === undefined) this.cleanTails.set(tail, (clean = sanitize(tail)))
    const base = `${this.prefix}${scope.clean && clean ? `${scope.clean}_${clean}` : scope.clean || clean}`
    // A base name not taken yet means a new path, which takes it (the common case: nothing else to keep).
    const owner = this.byName.get(base)
    if (owner === undefined) {
      this.byName.set(base, path)
      return base
    }
    // The same path asked for twice (two header lines of one name) still needs two variables: count
    // the issues of paths whose base name is taken (the first issue of the owner is implied).
    const seen = this.issued.get(path) ?? (owner === path ? 1 : 0)
    this.issued.set(path, seen + 1)
    const raw = seen === 0 ? path : `${path}\u0000${seen}`
    const unique = `${base}_${createHash('sha256').update(raw).digest('hex').slice(0, 6).toUpperCase()}`
    this.byName.set(unique, raw)
    return unique
  }
}

/** Upper case, each run of characters outside `[A-Z0-9]` as one `_`, none at either end. */
function sanitize(text: string): string {
  const words = text.toUpperCase().replace(/[^A-Z0-9]+/g, '_')
  // Runs are single underscores now, so at most one is dropped at each end.
  const start = words.startsWith('_') ? 1 : 0
  const end = words.length > start && words.endsWith('_') ? words.length - 1 : words.length
  return start === 0 && end === words.length ? words : words.slice(start, end)
}
