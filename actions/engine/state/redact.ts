import { createHash } from 'node:crypto'

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
  ) {
    this.multiline = value.includes('\n')
    // deck's `indent` re-indents every line break, so a value ending in several line breaks renders
    // with exactly one (clip chomping): PEM and similar values are unaffected.
    this.finalNewline = value.endsWith('\n')
    this.leadingSpace = prefix === '' && /^[ \t]/.test(value)
  }

  /** Block literal header: `|` keeps one final line break, `-` strips it, `2` fixes the indentation. */
  header(): string {
    return `|${this.leadingSpace ? '2' : ''}${this.finalNewline ? '' : '-'}`
  }

  /** Template text as deck reads it; `indent` is the column the block literal's lines start at. */
  template(indent: number): string {
    const pipe = this.multiline ? ` | indent ${indent}` : ''
    return `${this.prefix}\${{ env "${this.name}"${pipe} }}`
  }
}

/** What each kind of entity keeps secret, beyond the generic rule for configuration objects. */
const SECRET_FIELDS: Readonly<Record<string, readonly string[]>> = {
  keyauth_credentials: ['key'],
  // Kong stores a hash here, not the password: still sensitive, and a restore needs the plaintext anyway.
  basicauth_credentials: ['password'],
  hmacauth_credentials: ['secret'],
  jwt_secrets: ['secret'],
  oauth2_credentials: ['client_secret'],
  certificates: ['key', 'key_alt'],
  // Never dumped by deck, but a sync may carry one: the payload is the license key.
  licenses: ['payload'],
}

// Mask mode never names a variable, so the visit's spec only has to exist.
const UNNAMED: CollectionSpec = { label: '', identity: [] }
/** deck's own mask for values of DECK_ variables in its JSON output: already no secret. */
export const DECK_MASK = '[masked]'

/** Collections whose `config` object is free-form and scanned with the name rule below. */
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
  'client_jwk',
  'jwk',
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
]
/** The armour of a private key in any PEM flavour (PKCS#1, PKCS#8, encrypted, EC, OpenSSH, PGP). */
export const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----/
export const SENSITIVE_HEADER =
  /^(authorization|proxy-authorization|x-api-key|api-key|apikey|cookie|x-auth-token)$/i

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
}

export interface RedactOptions {
  /** Workspace the file belongs to: part of every derived name, so names never collide across files. */
  workspace: string
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
 * rules for); beyond its rules, every field of the entity is also judged by its name. The masked values are added to `found`,
 * so that free text (deck's and Kong's error messages) can be scrubbed of them too.
 */
export function maskEntity(entity: JsonObject, collection: string | undefined, found: Set<string>): void {
  const masker = new Redactor({ workspace: '' }, found)
  if (collection !== undefined) masker.entity({ entity, collection, spec: UNNAMED, parents: [], index: 0 })
  // Then every field by its name, wherever it is: a plan is shown, not synced, so masking more is safe.
  masker.wholeEntity(entity)
}

/** How the redaction walk treats a configuration field, by its name. */
type FieldKind = 'secret' | 'headers' | 'other'

/**
 * Redacts one entity at a time. Where the walk is below the entity is kept as stacks that grow and
 * shrink with it; they, and the entity's own scope, are turned into a name and a location only when a
 * value is replaced, because most entities and fields hold no secret.
 */
class Redactor {
  readonly redactions: Redaction[] = []
  private readonly namer: EnvNamer
  private visit!: EntityVisit
  private scope: Scope | undefined
  /** Name parts below the entity. */
  private readonly path: string[] = []
  /** Location parts below the entity, parallel to `path`; null for a part only the name has. */
  private readonly where: (string | null)[] = []
  /** Field names repeat across every plugin of a file, so each is classified once. */
  private readonly fieldKinds = new Map<string, FieldKind>()

  /**
   * @param masked when given, secrets are replaced by {@link MASK} (and collected here) instead of
   * environment references.
   */
  constructor(
    options: RedactOptions,
    private readonly masked?: Set<string>,
  ) {
    this.namer = new EnvNamer(options.workspace)
  }

  /** Redacts the secrets of one entity; entities come in {@link walkEntities} order. */
  entity(visit: EntityVisit): void {
    this.visit = visit
    this.scope = undefined
    const { entity, collection } = visit
    for (const field of SECRET_FIELDS[collection] ?? []) this.replaceField(entity, field)
    if (CONFIG_COLLECTIONS.has(collection) && isObject(entity.config)) {
      this.enter('config')
      this.config(entity.config)
      this.leave()
    }
    if (collection === 'keys') this.key(entity)
    // Active health checks send headers of their own, an Authorization header among them at times.
    if (collection === 'upstreams' && isObject(entity.healthchecks)) {
      this.enter('healthchecks')
      this.config(entity.healthchecks)
      this.leave()
    }
    if (collection === 'filter_chains' && Array.isArray(entity.filters)) this.filters(entity.filters)
  }

  /** An entity of a kind without rules: every field is judged by its name, as configuration is. */
  wholeEntity(entity: JsonObject): void {
    this.config(entity)
  }

  private enter(part: string, where: string | null = part): void {
    this.path.push(part)
    this.where.push(where)
  }

  private leave(): void {
    this.path.pop()
    this.where.pop()
  }

  /** Replaces `holder[key]`, a secret when it is a non-empty string that is not a reference already. */
  private replace(holder: JsonObject | Json[], key: string | number): void {
    const value = (holder as Record<string | number, Json>)[key]
    if (typeof value !== 'string' || value === '' || value === MASK || isReference(value)) return
    ;(holder as Record<string | number, unknown>)[key] = this.replacement(value)
  }

  private replaceField(holder: JsonObject, field: string): void {
    this.enter(field)
    this.replace(holder, field)
    this.leave()
  }

  /** What replaces a secret: the mask, or a reference to the variable named for this position. */
  private replacement(value: string, prefix = ''): EnvRef | string {
    if (!this.masked) return new EnvRef(this.record(), value, prefix)
    if (value !== DECK_MASK) this.masked.add(value.trim())
    return prefix + MASK
  }

  /** Names the value at the current position and records its replacement. */
  private record(): string {
    const scope = (this.scope ??= scopeOf(this.visit))
    const name = this.namer.name(scope.path.concat(this.path))
    const location = [scope.location]
    for (const part of this.where) if (part !== null) location.push(part)
    this.redactions.push({ name, location: location.join(' / ') })
    return name
  }

  /** Walks a free-form configuration object and redacts by field name, and header lines by header name. */
  private config(config: JsonObject): void {
    for (const field of Object.keys(config)) {
      const value = config[field]
      const kind = this.fieldKind(field)
      if (kind === 'other' && (typeof value !== 'object' || value === null)) continue
      this.enter(field)
      if (kind === 'secret') this.secret(config, field)
      else if (kind === 'headers') this.headers(value)
      else if (Array.isArray(value)) this.configList(value)
      else this.config(value as JsonObject)
      this.leave()
    }
  }

  private fieldKind(field: string): FieldKind {
    let kind = this.fieldKinds.get(field)
    if (kind === undefined) {
      kind = isSecretFieldName(field) ? 'secret' : field.toLowerCase() === 'headers' ? 'headers' : 'other'
      this.fieldKinds.set(field, kind)
    }
    return kind
  }

  private configList(list: Json[]): void {
    for (let i = 0; i < list.length; i++) {
      const item = list[i]
      if (!isObject(item)) continue
      this.enter(String(i + 1))
      this.config(item)
      this.leave()
    }
  }

  /** A field named like a secret: a string, a list of strings, or an object whose strings all are. */
  private secret(config: JsonObject, field: string): void {
    const value = config[field]
    if (typeof value === 'string') this.replace(config, field)
    else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        this.enter(String(i + 1))
        this.replace(value, i)
        this.leave()
      }
    } else if (isObject(value)) this.allStrings(value)
  }

  private allStrings(obj: JsonObject): void {
    for (const field of Object.keys(obj)) {
      const value = obj[field]
      if (typeof value === 'string') this.replaceField(obj, field)
      else if (isObject(value)) {
        this.enter(field)
        this.allStrings(value)
        this.leave()
      }
    }
  }

  /**
   * Plugins carry headers either as a map (`http-log`: `{Authorization: "Bearer …"}`) or as
   * `Name:value` lines (`request-transformer`: `add.headers`). Only sensitive headers are redacted;
   * for lines, the header name stays in the file and only the value becomes a reference.
   */
  private headers(value: Json | undefined): void {
    if (isObject(value)) {
      for (const header of Object.keys(value)) {
        if (!SENSITIVE_HEADER.test(header)) continue
        const v = value[header]
        this.enter(header)
        if (typeof v === 'string') this.replace(value, header)
        else if (Array.isArray(v)) {
          // Each value of a multi-valued header gets its own name, all at the header's location.
          for (let i = 0; i < v.length; i++) {
            this.enter(String(i + 1), null)
            this.replace(v, i)
            this.leave()
          }
        }
        this.leave()
      }
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const line = value[i]
        if (typeof line !== 'string') continue
        const colon = line.indexOf(':')
        if (colon <= 0) continue
        const header = line.slice(0, colon).trim()
        const secret = line.slice(colon + 1)
        if (
          !SENSITIVE_HEADER.test(header) ||
          secret.trim() === '' ||
          isReference(secret) ||
          secret.trim() === MASK
        )
          continue
        this.enter(header)
        value[i] = this.replacement(secret, line.slice(0, colon + 1)) as unknown as Json
        this.leave()
      }
    }
  }

  /** `keys` entities hold either a JWK (a JSON string: private when it has private members) or a PEM pair. */
  private key(entity: JsonObject): void {
    if (typeof entity.jwk === 'string' && /"(d|p|q|dp|dq|qi|k)"\s*:/.test(entity.jwk)) {
      this.replaceField(entity, 'jwk')
    }
    if (isObject(entity.pem)) {
      this.enter('pem')
      this.replaceField(entity.pem, 'private_key')
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
      this.config(filter.config)
      this.leave()
      this.leave()
      this.leave()
    })
  }
}

interface Scope {
  /** Name parts: label and identity of each entity from the outermost in. */
  path: string[]
  /** The same for humans, joined: `consumer alice / keyauth 1`. */
  location: string
}

function scopeOf(visit: EntityVisit): Scope {
  const scope: Scope = { path: [], location: '' }
  // Only the entity's own position is passed on: an enclosing entity with neither identity nor id is 1.
  for (const parent of visit.parents) {
    addLink(scope, parent.spec, nameForEnv(parent.entity, parent.spec, undefined))
  }
  addLink(scope, visit.spec, nameForEnv(visit.entity, visit.spec, visit.index))
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

/**
 * Turns name parts into `DECK_…` (or another prefix's) variable names: upper case, `[A-Z0-9_]`, and unique within a file.
 * Two different paths that sanitize to the same name get a short digest of their raw path appended.
 */
export class EnvNamer {
  private readonly byName = new Map<string, string>()
  private readonly issued = new Map<string, number>()

  constructor(
    private readonly workspace: string,
    /** deck expands only variables whose names start with DECK_. */
    private readonly prefix = 'DECK_',
  ) {}

  name(parts: readonly string[]): string {
    const path = [this.workspace, ...parts].join('\u0000')
    // Sanitizing the joined path gives the sanitized parts joined by `_`, empty ones left out: upper
    // casing goes character by character, the separator becomes `_`, and runs of `_` collapse.
    const base = `${this.prefix}${sanitize(path)}`
    // The same path asked for twice (two header lines of one name) still needs two variables. A path
    // issued before has taken its base name, so a base name not taken yet means a new path.
    const owner = this.byName.get(base)
    const seen = owner === undefined ? 0 : (this.issued.get(path) ?? 0)
    this.issued.set(path, seen + 1)
    const raw = seen === 0 ? path : `${path}\u0000${seen}`
    if (owner === undefined || owner === raw) {
      this.byName.set(base, raw)
      return base
    }
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
