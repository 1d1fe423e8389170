import { allUrlCredentials, detectSecret, isCredentialName } from '../secrets/detectors.js'
import { DeckhandError } from '../errors.js'
import { isObject, type Json, type JsonObject } from '../state/entities.js'
import { EnvNamer, EnvRef, isReference, isSecretFieldName, MASK, type Redaction } from '../state/redact.js'
import { displayName, TYK_KIND, type TykObject } from './objects.js'

/**
 * Secrets in Tyk API definitions and policies, found by the same rules as Kong's configuration:
 * fields named like secrets (snake_case or camelCase: `password`, `client_secret`, `clientSecret`),
 * sensitive headers in header maps and name/value lists (`global_headers`, `transformRequestHeaders`),
 * a JWT source when the signing method is HMAC (then it is the shared secret), PEM private keys
 * anywhere, and URLs with credentials in them (the shared detector's). Tyk's own references
 * (`env://NAME`, `secrets://NAME`…) are kept: the gateway resolves them, they hold no secret.
 */

/** Prefix of the variables a redacted Tyk file references; deckhand fills them itself at sync. */
export const TYK_ENV_PREFIX = 'DECKHAND_TYK_'

/** Objects holding headers as `{ Name: value }`. */
const HEADER_MAPS = new Set(['global_headers', 'add_headers', 'set_headers', 'headers', 'header_map'])

/** `clientSecret` → `client_secret`, so that one set of names covers both of Tyk's formats. */
function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()
}

/**
 * The references Tyk resolves in an API definition's text when it loads it (gateway/api_definition.go
 * replaceSecrets, Tyk v5.8.1: `env://`, `secrets://`, `consul://`, `vault://`; v5.14.0 adds `file://`), and
 * in its target URL and listen path (gateway/server.go kvStore). The value is not in the definition: a
 * reference is never a secret to redact, and the gateway answers with what it resolved to.
 */
const TYK_REFERENCE = /(?:env|secrets|consul|vault|file):\/\/[A-Za-z0-9_]/

export function isTykReference(value: string): boolean {
  return TYK_REFERENCE.test(value)
}

/** Whether a JWT configuration signs with a shared secret (classic `jwt_signing_method`, OAS `signingMethod`). */
function signsWithSharedSecret(holder: JsonObject): boolean {
  const method = holder.jwt_signing_method ?? holder.signingMethod
  return typeof method === 'string' && method.toLowerCase() === 'hmac'
}

type Replace = (
  holder: JsonObject | Json[],
  key: string | number,
  path: readonly string[],
  rule: 'name' | 'detector',
) => void

/** Walks one object and calls `replace` for every secret string value, with its path. */
function walkSecrets(body: JsonObject, replace: Replace): void {
  const path: string[] = []
  const visit = (holder: JsonObject | Json[], key: string | number, secretByName: boolean): void => {
    const value = (holder as Record<string | number, Json>)[key]!
    path.push(String(key))
    if (typeof value === 'string') {
      if (value !== '' && value !== MASK && !isReference(value) && !isTykReference(value)) {
        if (secretByName) replace(holder, key, path, 'name')
        else if (allUrlCredentials(value, 1).length > 0 || detectSecret(value) !== undefined)
          replace(holder, key, path, 'detector')
      }
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item = value[i]
        // `[{name: "Authorization", value: "Bearer …"}]`, as OAS header transforms hold them.
        if (isObject(item) && typeof item.name === 'string' && isCredentialName(item.name)) {
          path.push(String(i))
          if (typeof item.value === 'string') visit(item, 'value', true)
          path.pop()
        } else visit(value, i, secretByName)
      }
    } else if (isObject(value)) {
      const headers = typeof key === 'string' && HEADER_MAPS.has(key)
      const sharedSecret = signsWithSharedSecret(value)
      for (const field of Object.keys(value)) {
        const secret =
          isSecretFieldName(snakeCase(field)) ||
          (headers && isCredentialName(field)) ||
          (sharedSecret && (field === 'jwt_source' || field === 'source'))
        visit(value, field, secret)
      }
    }
    path.pop()
  }
  for (const field of Object.keys(body)) {
    visit(
      body,
      field,
      isSecretFieldName(snakeCase(field)) || (field === 'jwt_source' && signsWithSharedSecret(body)),
    )
  }
}

/**
 * Replaces, in place, every secret of an object with an {@link EnvRef} to a variable named for the
 * object and the field (`DECKHAND_TYK_API_<id>_UPSTREAM_AUTH_…`), and returns what it replaced.
 */
export function redactTykObject(object: TykObject, namer = new EnvNamer('', TYK_ENV_PREFIX)): Redaction[] {
  const redactions: Redaction[] = []
  const kind = TYK_KIND[object.format]
  walkSecrets(object.body, (holder, key, path, rule) => {
    const value = (holder as Record<string | number, Json>)[key] as string
    const name = namer.name([kind, object.id, ...path])
    redactions.push({ name, location: `${kind} ${displayName(object)} / ${path.join('.')}`, rule })
    ;(holder as Record<string | number, unknown>)[key] = new EnvRef(name, value)
  })
  return redactions
}

/** Replaces, in place, every secret of a body with {@link MASK}; the values go into `found`. */
export function maskTykBody(body: JsonObject, found: Set<string>): void {
  walkSecrets(body, (holder, key) => {
    const value = (holder as Record<string | number, Json>)[key] as string
    found.add(value.trim())
    ;(holder as Record<string | number, Json>)[key] = MASK
  })
}

/** JSON text of a redacted body: each reference becomes the `${{ env "NAME" }}` string deckhand fills. */
export function renderRedacted(body: JsonObject): string {
  return (
    JSON.stringify(
      body,
      (_key, value: unknown) => (value instanceof EnvRef ? `\${{ env "${value.name}" }}` : value),
      2,
    ) + '\n'
  )
}

const TEMPLATE = /\$\{\{\s*env\s+(?:"([^"]*)"|`([^`]*)`)\s*\}\}/g

/** Every variable a body references, each once. */
export function referencedEnv(body: Json): string[] {
  const names = new Set<string>()
  const walk = (value: Json): void => {
    if (typeof value === 'string') for (const m of value.matchAll(TEMPLATE)) names.add(m[1] ?? m[2] ?? '')
    else if (Array.isArray(value)) value.forEach(walk)
    else if (isObject(value)) Object.values(value).forEach(walk)
  }
  walk(body)
  return [...names]
}

/**
 * A copy of a body with every `${{ env "NAME" }}` filled from `env`. The templates are filled in the
 * parsed strings, not in the JSON text, so a value with quotes or line breaks (a PEM key) stays valid.
 */
export function fillEnv(body: JsonObject, env: NodeJS.ProcessEnv, source: string): JsonObject {
  const missing = referencedEnv(body).filter((name) => env[name] === undefined)
  if (missing.length > 0) {
    throw new DeckhandError(
      `${source} references ${missing.length} unset variable(s): ${missing.join(', ')}. ` +
        'Set them (from your secret store) before diff, sync or restore; required-env.txt of the dump lists them all.',
    )
  }
  const fill = (value: Json): Json => {
    if (typeof value === 'string')
      return value.replace(TEMPLATE, (_m, a?: string, b?: string) => env[a ?? b ?? '']!)
    if (Array.isArray(value)) return value.map(fill)
    if (isObject(value)) {
      const copy: JsonObject = {}
      for (const key of Object.keys(value)) copy[key] = fill(value[key]!)
      return copy
    }
    return value
  }
  return fill(body) as JsonObject
}

/**
 * Where `source` holds a Tyk reference (`env://NAME`…) and `target` a string at the same place, puts the
 * reference into `target`, in place; returns how many. The Gateway API answers with what the gateway
 * resolved a reference to, never the reference (see {@link isTykReference}): this keeps the files' references
 * in a dump (from the previous one) and in a plan (the gateway's resolved value is the reference's value).
 */
export function keepReferences(target: JsonObject | Json[], source: JsonObject | Json[]): number {
  let kept = 0
  const keys: (string | number)[] = Array.isArray(source)
    ? Array.from({ length: Math.min(source.length, (target as Json[]).length) }, (_, i) => i)
    : Object.keys(source)
  for (const key of keys) {
    const from = (source as Record<string | number, Json>)[key]
    const into = (target as Record<string | number, Json | undefined>)[key]
    if (from === undefined || into === undefined) continue
    if (typeof from === 'string') {
      if (typeof into === 'string' && into !== from && isTykReference(from)) {
        ;(target as Record<string | number, Json>)[key] = from
        kept++
      }
    } else if (Array.isArray(from) && Array.isArray(into)) kept += keepReferences(into, from)
    else if (isObject(from) && isObject(into)) kept += keepReferences(into, from)
  }
  return kept
}
