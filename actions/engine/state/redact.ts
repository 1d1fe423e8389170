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
}

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
const SENSITIVE_HEADER = /^(authorization|proxy-authorization|x-api-key|api-key|apikey|cookie|x-auth-token)$/i

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
  const namer = new EnvNamer(options.workspace)
  const redactions: Redaction[] = []
  const replace = (
    holder: JsonObject | Json[],
    key: string | number,
    path: string[],
    location: string[],
  ): void => {
    const value = (holder as Record<string | number, Json>)[key]
    if (typeof value !== 'string' || value === '' || isReference(value)) return
    const name = namer.name(path)
    ;(holder as Record<string | number, unknown>)[key] = new EnvRef(name, value)
    redactions.push({ name, location: location.join(' / ') })
  }

  walkEntities(content, (visit) => {
    const { entity, collection } = visit
    const scope = scopeOf(visit)
    for (const field of SECRET_FIELDS[collection] ?? []) {
      replace(entity, field, [...scope.path, field], [...scope.location, field])
    }
    if (CONFIG_COLLECTIONS.has(collection) && isObject(entity.config)) {
      redactConfig(
        entity.config,
        [...scope.path, 'config'],
        [...scope.location, 'config'],
        replace,
        namer,
        redactions,
      )
    }
    if (collection === 'keys') redactKey(entity, scope, replace)
    if (collection === 'filter_chains' && Array.isArray(entity.filters)) {
      entity.filters.forEach((filter, i) => {
        if (isObject(filter) && isObject(filter.config)) {
          const at = [...scope.path, 'filter', String(filter.name ?? i), 'config']
          redactConfig(
            filter.config,
            at,
            [...scope.location, `filter ${String(filter.name ?? i)}`],
            replace,
            namer,
            redactions,
          )
        }
      })
    }
  })
  return redactions
}

type Replace = (holder: JsonObject | Json[], key: string | number, path: string[], location: string[]) => void

/** Walks a free-form configuration object and redacts by field name, and header lines by header name. */
function redactConfig(
  config: JsonObject,
  path: string[],
  location: string[],
  replace: Replace,
  namer: EnvNamer,
  redactions: Redaction[],
): void {
  for (const [field, value] of Object.entries(config)) {
    const at = [...path, field]
    const where = [...location, field]
    if (isSecretFieldName(field)) {
      if (typeof value === 'string') replace(config, field, at, where)
      else if (Array.isArray(value))
        value.forEach((_, i) => replace(value, i, [...at, String(i + 1)], [...where, String(i + 1)]))
      else if (isObject(value)) redactAllStrings(value, at, where, replace)
    } else if (field.toLowerCase() === 'headers') {
      redactHeaders(value, at, where, namer, redactions)
    } else if (isObject(value)) {
      redactConfig(value, at, where, replace, namer, redactions)
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => {
        if (isObject(item))
          redactConfig(item, [...at, String(i + 1)], [...where, String(i + 1)], replace, namer, redactions)
      })
    }
  }
}

function redactAllStrings(obj: JsonObject, path: string[], location: string[], replace: Replace): void {
  for (const [field, value] of Object.entries(obj)) {
    if (typeof value === 'string') replace(obj, field, [...path, field], [...location, field])
    else if (isObject(value)) redactAllStrings(value, [...path, field], [...location, field], replace)
  }
}

/**
 * Plugins carry headers either as a map (`http-log`: `{Authorization: "Bearer …"}`) or as
 * `Name:value` lines (`request-transformer`: `add.headers`). Only sensitive headers are redacted;
 * for lines, the header name stays in the file and only the value becomes a reference.
 */
function redactHeaders(
  value: Json | undefined,
  path: string[],
  location: string[],
  namer: EnvNamer,
  redactions: Redaction[],
): void {
  const record = (name: string, where: string[]): string => {
    redactions.push({ name, location: where.join(' / ') })
    return name
  }
  if (isObject(value)) {
    for (const [header, v] of Object.entries(value)) {
      if (!SENSITIVE_HEADER.test(header)) continue
      const where = [...location, header]
      const at = [...path, header]
      if (typeof v === 'string' && v !== '' && !isReference(v)) {
        value[header] = new EnvRef(record(namer.name(at), where), v) as unknown as Json
      } else if (Array.isArray(v)) {
        v.forEach((item, i) => {
          if (typeof item === 'string' && item !== '' && !isReference(item)) {
            v[i] = new EnvRef(record(namer.name([...at, String(i + 1)]), where), item) as unknown as Json
          }
        })
      }
    }
  } else if (Array.isArray(value)) {
    value.forEach((line, i) => {
      if (typeof line !== 'string') return
      const colon = line.indexOf(':')
      const header = line.slice(0, colon).trim()
      const secret = line.slice(colon + 1)
      if (colon <= 0 || !SENSITIVE_HEADER.test(header) || secret.trim() === '' || isReference(secret)) return
      const name = record(namer.name([...path, header]), [...location, header])
      value[i] = new EnvRef(name, secret, line.slice(0, colon + 1)) as unknown as Json
    })
  }
}

/** `keys` entities hold either a JWK (a JSON string: private when it has private members) or a PEM pair. */
function redactKey(entity: JsonObject, scope: Scope, replace: Replace): void {
  if (typeof entity.jwk === 'string' && /"(d|p|q|dp|dq|qi|k)"\s*:/.test(entity.jwk)) {
    replace(entity, 'jwk', [...scope.path, 'jwk'], [...scope.location, 'jwk'])
  }
  if (isObject(entity.pem)) {
    replace(
      entity.pem,
      'private_key',
      [...scope.path, 'pem', 'private_key'],
      [...scope.location, 'pem', 'private_key'],
    )
  }
}

interface Scope {
  /** Name parts: label and identity of each entity from the outermost in. */
  path: string[]
  /** The same, for humans. */
  location: string[]
}

function scopeOf(visit: EntityVisit): Scope {
  const chain = [...visit.parents, { entity: visit.entity, spec: visit.spec, collection: visit.collection }]
  const path: string[] = []
  const location: string[] = []
  chain.forEach((link, depth) => {
    const index = depth === chain.length - 1 ? visit.index : undefined
    const id = nameForEnv(link.entity, link.spec, index)
    path.push(link.spec.label, id)
    location.push(`${link.spec.label} ${id}`)
  })
  return { path, location }
}

/**
 * The part of an environment variable name that stands for one entity: its identity when that is not
 * secret, else the start of its id, else (deck drops ids of credentials unless --with-id) its position.
 */
function nameForEnv(entity: JsonObject, spec: CollectionSpec, index: number | undefined): string {
  if (!spec.secretIdentity) {
    const parts = spec.identity
      .map((field) => entity[field])
      .map((v) => (typeof v === 'string' ? v : isObject(v) && typeof v.name === 'string' ? v.name : ''))
      .filter((v) => v !== '')
    // A certificate's identity is its PEM: name it by its first SNI, or a short digest of the (public) cert.
    if (spec.label === 'certificate') {
      const sni = Array.isArray(entity.snis) ? entity.snis.find(isObject) : undefined
      if (sni && typeof sni.name === 'string') return sni.name
      if (typeof entity.cert === 'string')
        return createHash('sha256').update(entity.cert).digest('hex').slice(0, 8)
    } else if (parts.length > 0) {
      return parts.join('_')
    }
  }
  if (typeof entity.id === 'string' && entity.id !== '') return entity.id.slice(0, 8)
  return String((index ?? 0) + 1)
}

/**
 * Turns name parts into `DECK_…` variable names: upper case, `[A-Z0-9_]`, and unique within a file.
 * Two different paths that sanitize to the same name get a short digest of their raw path appended.
 */
export class EnvNamer {
  private readonly byName = new Map<string, string>()
  private readonly issued = new Map<string, number>()

  constructor(private readonly workspace: string) {}

  name(parts: readonly string[]): string {
    // The same path asked for twice (two header lines of one name) still needs two variables.
    const path = [this.workspace, ...parts].join('\u0000')
    const seen = this.issued.get(path) ?? 0
    this.issued.set(path, seen + 1)
    const raw = seen === 0 ? path : `${path}\u0000${seen}`
    const base = `DECK_${[this.workspace, ...parts].map(sanitize).filter(Boolean).join('_')}`
    const owner = this.byName.get(base)
    if (owner === undefined || owner === raw) {
      this.byName.set(base, raw)
      return base
    }
    const unique = `${base}_${createHash('sha256').update(raw).digest('hex').slice(0, 6).toUpperCase()}`
    this.byName.set(unique, raw)
    return unique
  }
}

function sanitize(part: string): string {
  return part
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
}
