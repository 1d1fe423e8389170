// Generates actions/engine/secrets/kong-catalogue.json: which fields of Kong's plugins, entities, partials
// and vault backends hold secrets, read from Kong's own sources so that redaction does not depend on
// deckhand's guesses. Facts only (field paths and Kong's flags on them); no code is taken from the sources.
//
//   node script/kong-secret-catalogue.mjs --kong <Kong/kong checkout> --docs <Kong/developer.konghq.com checkout>
//   node script/kong-secret-catalogue.mjs ... --check   (fails when the committed file differs)
//
// Sources, all public:
// - Kong's open-source tree (`--kong`): `kong/plugins/*/schema.lua`, `kong/plugins/*/daos.lua` and
//   `kong/db/schema/entities/*.lua`, scanned for `encrypted = true` / `referenceable = true` on named fields.
// - Kong's published plugin schemas (`--docs`): `app/_schemas/gateway/plugins/<release>/<Plugin>.json` for
//   every Gateway release there, open-source and Enterprise plugins alike, with `x-encrypted` and
//   `x-referenceable`, and third-party plugins' `app/_kong_plugins/<name>/schema.json`.
// - Kong's Enterprise Admin API specification (`--docs`): `api-specs/gateway/admin-ee/<release>/openapi.yaml`,
//   whose entity schemas (certificates, keys, credentials, partials) carry the same two flags.
// - Kong's configuration reference (`--docs`): `app/_data/kong-conf/<release>.json`, which lists the fields
//   of each vault backend (`vault_<backend>_<field>`). Kong publishes no flags for vault backends, so their
//   fields are flagged by the credential-name rule below; the catalogue says so per backend.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml } from 'yaml'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const output = join(root, 'actions/engine/secrets/kong-catalogue.json')

const args = process.argv.slice(2)
const option = (name) => {
  const i = args.indexOf(name)
  return i === -1 ? undefined : args[i + 1]
}
const kongDir = option('--kong')
const docsDir = option('--docs')
const check = args.includes('--check')
if (!kongDir || !docsDir) {
  console.error(
    'usage: node script/kong-secret-catalogue.mjs --kong <Kong/kong checkout> --docs <Kong/developer.konghq.com checkout> [--check]',
  )
  process.exit(2)
}

/** `encrypted` wins over `referenceable` wherever both sources speak of one path. */
function flag(table, path, value) {
  if (table[path] !== 'encrypted') table[path] = value
}

function sorted(obj) {
  return Object.fromEntries(
    Object.keys(obj)
      .sort()
      .map((k) => [
        k,
        obj[k] !== null && typeof obj[k] === 'object' && !Array.isArray(obj[k]) ? sorted(obj[k]) : obj[k],
      ]),
  )
}

function commitOf(dir) {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
  } catch {
    return 'unknown'
  }
}

function releaseDirs(dir) {
  return readdirSync(dir)
    .filter((name) => /^\d+\.\d+$/.test(name))
    .sort((a, b) =>
      a
        .split('.')
        .map(Number)
        .reduce((d, n, i) => d || n - Number(b.split('.')[i]), 0),
    )
}

// JSON Schema (published plugin schemas, OpenAPI components) -----------------------------------------------

/** Flagged paths of a JSON Schema node: `a.b`, `[]` for items, `*` for additionalProperties. */
function jsonSchemaFlags(node, path, out, components, depth = 0) {
  if (!node || typeof node !== 'object' || depth > 64) return
  if (node.$ref && components) {
    const target = components[node.$ref.split('/').pop()]
    return jsonSchemaFlags(target, path, out, components, depth + 1)
  }
  if (node['x-encrypted']) flag(out, path.join('.'), 'encrypted')
  else if (node['x-referenceable']) flag(out, path.join('.'), 'referenceable')
  for (const [name, child] of Object.entries(node.properties ?? {}))
    jsonSchemaFlags(child, [...path, name], out, components, depth + 1)
  if (node.items) jsonSchemaFlags(node.items, [...path, '[]'], out, components, depth + 1)
  if (node.additionalProperties && typeof node.additionalProperties === 'object')
    jsonSchemaFlags(node.additionalProperties, [...path, '*'], out, components, depth + 1)
  for (const key of ['allOf', 'oneOf', 'anyOf'])
    for (const sub of node[key] ?? []) jsonSchemaFlags(sub, path, out, components, depth + 1)
}

const catalogue = { plugins: {}, entities: {}, partials: {}, vaults: {} }
const seenIn = { plugins: {}, entities: {}, partials: {}, vaults: {} }
function record(kind, name, path, value, release) {
  if (path === '') return
  const table = (catalogue[kind][name] ??= {})
  flag(table, path, value)
  ;(seenIn[kind][name] ??= new Set()).add(release)
}

/** The flags of a published plugin schema (JSON Schema of the plugin entity), under `config`. */
function recordPluginSchema(name, file, release) {
  const out = {}
  jsonSchemaFlags(JSON.parse(readFileSync(file, 'utf8')).properties?.config, ['config'], out)
  for (const [path, value] of Object.entries(out)) record('plugins', name, path, value, release)
}

// Published plugin schemas. The docs name a schema file after the plugin: `ai-proxy` → `AiProxy.json`,
// matched without regard to case (`acl` → `ACL.json`), as the docs' own site generator does.
const pluginNames = new Set([
  ...readdirSync(join(docsDir, 'app/_kong_plugins')),
  ...readdirSync(join(kongDir, 'kong/plugins')),
])
const schemaRoot = join(docsDir, 'app/_schemas/gateway/plugins')
const releases = releaseDirs(schemaRoot)
for (const release of releases) {
  const files = new Map(readdirSync(join(schemaRoot, release)).map((f) => [f.toLowerCase(), f]))
  for (const name of pluginNames) {
    const file = files.get(
      `${name
        .split('-')
        .map((w) => w[0].toUpperCase() + w.slice(1))
        .join('')}.json`.toLowerCase(),
    )
    if (!file) continue
    files.delete(file.toLowerCase())
    recordPluginSchema(name, join(schemaRoot, release, file), release)
  }
  // A plugin with no page of its own yet: its name from the file name (`StatsdAdvanced` → `statsd-advanced`).
  for (const file of files.values()) {
    const name = file.slice(0, -'.json'.length).replace(/[A-Z]/g, (c, i) => (i ? '-' : '') + c.toLowerCase())
    recordPluginSchema(name, join(schemaRoot, release, file), release)
  }
}
// Third-party plugins listed on Kong's plugin hub keep their schema beside their page.
for (const name of readdirSync(join(docsDir, 'app/_kong_plugins'))) {
  const file = join(docsDir, 'app/_kong_plugins', name, 'schema.json')
  if (existsSync(file)) recordPluginSchema(name, file, 'plugin hub')
}

// Enterprise Admin API entity schemas, by the deck collection each one is.
const ENTITY_COMPONENTS = {
  Certificate: 'certificates',
  CACertificate: 'ca_certificates',
  Key: 'keys',
  BasicAuth: 'basicauth_credentials',
  HMACAuth: 'hmacauth_credentials',
  KeyAuth: 'keyauth_credentials',
  JWT: 'jwt_secrets',
  Oauth2Credential: 'oauth2_credentials',
  Vault: 'vaults',
}
const specRoot = join(docsDir, 'api-specs/gateway/admin-ee')
const specReleases = releaseDirs(specRoot)
for (const release of specReleases) {
  const spec = parseYaml(readFileSync(join(specRoot, release, 'openapi.yaml'), 'utf8'), { maxAliasCount: -1 })
  const components = spec.components?.schemas ?? {}
  for (const [component, schema] of Object.entries(components)) {
    // Copies of an entity for nested endpoints, the union of all partials, and OpenID Connect's own JWKS
    // table (not in deck's file format) add nothing a state file holds.
    if (component.endsWith('WithoutParents') || component === 'Partial' || component === 'OidcJwk') continue
    const out = {}
    jsonSchemaFlags(schema, [], out, components)
    if (Object.keys(out).length === 0) continue
    if (component.startsWith('Partial') && component !== 'Partial') {
      // A partial's kind is the constant of its `type` field (`redis-ee`, `model`, …).
      const type = schema.properties?.type?.const
      if (typeof type !== 'string') throw new Error(`admin-ee ${release}: ${component} has no type constant`)
      for (const [path, value] of Object.entries(out)) record('partials', type, path, value, release)
    } else if (ENTITY_COMPONENTS[component]) {
      for (const [path, value] of Object.entries(out))
        record('entities', ENTITY_COMPONENTS[component], path, value, release)
    } else {
      console.warn(
        `admin-ee ${release}: flagged fields in ${component}, which maps to no deck collection: ${Object.keys(out).join(', ')}`,
      )
    }
  }
}

// Kong's open-source Lua schemas ------------------------------------------------------------------------------

/** Lua tokens: names, strings, numbers and single punctuation; comments dropped. */
function luaTokens(text) {
  const tokens = []
  const re =
    /--\[(=*)\[[\s\S]*?\]\1\]|--[^\n]*|\[(=*)\[[\s\S]*?\]\2\]|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|[A-Za-z_][A-Za-z0-9_]*|\d[\d.xa-fA-F]*|\S/g
  for (const [token] of text.matchAll(re)) {
    if (token.startsWith('--')) continue
    tokens.push(token)
  }
  return tokens
}

/**
 * Flags in one Lua schema file. Each table constructor `{` is a frame, named after the field it is assigned
 * to (`key = {`, `key = typedefs.key {`, `key = typedefs.url({`). A frame that holds `name = "…"` and
 * `fields` is a schema (a plugin or entity); a flag is recorded at the path of named frames below it,
 * `fields` left out, `elements` as `[]` and `values` as `*`.
 */
function luaFlags(text) {
  const tokens = luaTokens(text)
  const stack = []
  const found = []
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]
    if (t === '{') {
      // Walk back over `= a.b (` to the name the table is assigned to.
      let j = i - 1
      if (tokens[j] === '(') j--
      while (/^[A-Za-z_]\w*$/.test(tokens[j] ?? '') && tokens[j - 1] === '.') j -= 2
      if (/^[A-Za-z_]\w*$/.test(tokens[j] ?? '') && j !== i - 1) j--
      const name = tokens[j] === '=' && /^[A-Za-z_]\w*$/.test(tokens[j - 1] ?? '') ? tokens[j - 1] : undefined
      stack.push({ name, schemaName: undefined })
    } else if (t === '}') {
      stack.pop()
    } else if (t === '=' && stack.length > 0) {
      const key = tokens[i - 1]
      const value = tokens[i + 1]
      const frame = stack[stack.length - 1]
      if (key === 'name' && /^["']/.test(value ?? '')) frame.schemaName = value.slice(1, -1)
      if ((key === 'encrypted' || key === 'referenceable') && value === 'true') {
        const top = stack.findIndex((f) => f.schemaName !== undefined)
        if (top === -1) continue
        const path = []
        for (const f of stack.slice(top + 1)) {
          if (f.name === undefined || f.name === 'fields') continue
          path.push(f.name === 'elements' ? '[]' : f.name === 'values' ? '*' : f.name)
        }
        found.push({ schema: stack[top].schemaName, path: path.join('.'), value: key })
      }
    }
  }
  return found
}

const kongRelease = (() => {
  const meta = readFileSync(join(kongDir, 'kong/meta.lua'), 'utf8')
  const part = (n) => meta.match(new RegExp(`${n}\\s*=\\s*(\\d+)`))?.[1]
  return `${part('major')}.${part('minor')}.${part('patch')}`
})()
const ossFiles = [
  ...readdirSync(join(kongDir, 'kong/plugins')).flatMap((p) =>
    ['schema.lua', 'daos.lua'].map((f) => join(kongDir, 'kong/plugins', p, f)),
  ),
  ...readdirSync(join(kongDir, 'kong/db/schema/entities')).map((f) =>
    join(kongDir, 'kong/db/schema/entities', f),
  ),
].filter((f) => existsSync(f))
for (const file of ossFiles) {
  const isPlugin = basename(file) === 'schema.lua'
  for (const { schema, path, value } of luaFlags(readFileSync(file, 'utf8'))) {
    // A plugin's schema is named after the plugin and its flags sit under `config`; daos and entities are
    // named after their table, which is the deck collection.
    if (isPlugin) {
      if (path.startsWith('config.')) record('plugins', schema, path, value, `${kongRelease} (open source)`)
    } else record('entities', schema, path, value, `${kongRelease} (open source)`)
  }
}

// Vault backends --------------------------------------------------------------------------------------------

/** Field names of vault backends that hold credentials. Kong publishes no flags for these. */
const VAULT_SECRET =
  /(?:^|_)(?:token|secret|secret_id|secret_key|secret_access_key|access_key_id|password|api_key|cert_key|client_secret|private_key)$/
const VAULT_BACKENDS = ['aws', 'gcp', 'hcv', 'azure', 'conjur', 'env', 'fs']
const confRoot = join(docsDir, 'app/_data/kong-conf')
const confReleases = readdirSync(confRoot)
  .filter((f) => /^\d+\.\d+\.json$/.test(f))
  .map((f) => f.slice(0, -5))
for (const release of confReleases) {
  const params = JSON.parse(readFileSync(join(confRoot, `${release}.json`), 'utf8')).params ?? {}
  const names = Array.isArray(params) ? params.map((p) => p.name) : Object.keys(params)
  for (const param of names) {
    const m = /^vault_([a-z]+)_(\w+)$/.exec(param ?? '')
    if (!m || !VAULT_BACKENDS.includes(m[1]) || /^certs_/.test(m[2])) continue
    if (VAULT_SECRET.test(m[2]) && !m[2].endsWith('_file'))
      record('vaults', m[1], `config.${m[2]}`, 'encrypted', release)
  }
}

// deckhand's additions ----------------------------------------------------------------------------------------
// Credentials Kong does not encrypt because it looks them up by value: still secrets for a backup.
const ADDITIONS = {
  entities: {
    keyauth_credentials: { key: 'key-auth finds the consumer by this key, so Kong keeps it searchable' },
    jwt_secrets: { secret: 'the HMAC secret or RSA private key that signs tokens' },
    oauth2_credentials: { client_secret: 'kept in plain text unless hashed (hash_secret)' },
    licenses: { payload: 'the Enterprise license key itself' },
  },
}
for (const [kind, byName] of Object.entries(ADDITIONS))
  for (const [name, fields] of Object.entries(byName))
    for (const path of Object.keys(fields)) record(kind, name, path, 'encrypted', 'deckhand')

const result = {
  $comment: "Generated by script/kong-secret-catalogue.mjs from Kong's sources; regenerate, do not edit.",
  sources: {
    kong: {
      release: kongRelease,
      commit: commitOf(kongDir),
      read: 'kong/plugins/*/{schema,daos}.lua, kong/db/schema/entities/*.lua',
    },
    docs: {
      commit: commitOf(docsDir),
      pluginSchemaReleases: releases,
      adminApiReleases: specReleases,
      configurationReleases: confReleases.sort(),
    },
    additions: ADDITIONS,
  },
  ...sorted(catalogue),
}
const text = `${JSON.stringify(result, null, 2)}\n`
if (check) {
  const current = existsSync(output) ? readFileSync(output, 'utf8') : ''
  if (current !== text) {
    console.error(`${output} is out of date: run this script without --check`)
    process.exit(1)
  }
} else writeFileSync(output, text)
const count = (kind) => Object.values(catalogue[kind]).reduce((n, t) => n + Object.keys(t).length, 0)
console.log(
  `kong-catalogue.json: ${Object.keys(catalogue.plugins).length} plugins (${count('plugins')} fields), ` +
    `${Object.keys(catalogue.entities).length} entities (${count('entities')}), ${Object.keys(catalogue.partials).length} partials (${count('partials')}), ` +
    `${Object.keys(catalogue.vaults).length} vault backends (${count('vaults')}); Kong ${kongRelease}, plugin schemas ${releases.join(', ')}`,
)
