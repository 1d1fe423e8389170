// Reading deck state files (GDR pkg/file/readfile.go, validate.go): files and directories, ${{ }}
// templates, YAML 1.1 parsing as go-yaml v2 does it, the JSON-schema check of the file format, the
// merge of several files and the workspace checks. Errors carry GDR's wording and wrapping.

import { readdirSync, readFileSync, statSync } from 'node:fs'
import { extname, join } from 'node:path'

import { parseAllDocuments } from 'yaml'

import { toGoJSONCompact } from './encode.mjs'
import { DeckError, errnoText, goList } from './gostr.mjs'
import { KINDS } from './schema.mjs'
import { renderTemplate } from './template.mjs'

/** GDR's utils.ErrArray text. */
export function errArray(errors) {
  return `${errors.length} errors occurred:\n` + errors.map((e) => `\t${e}\n`).join('')
}

// ---- files and directories ----

function walk(dir) {
  const out = []
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...walk(path))
    else if (['.yaml', '.yml', '.json'].includes(extname(path).toLowerCase())) out.push(path)
  }
  return out
}

function readers(fileOrDir, readStdin) {
  if (fileOrDir === '-') {
    if (process.stdin.isTTY && process.stderr.isTTY) process.stderr.write('reading input from stdin...\n')
    return [{ name: 'STDIN', text: readStdin() }]
  }
  let info
  try {
    info = statSync(fileOrDir)
  } catch (err) {
    throw new DeckError(`reading state file: stat ${fileOrDir}: ${errnoText(err)}`)
  }
  const files = info.isDirectory() ? walk(fileOrDir) : [fileOrDir]
  return files.map((name) => {
    try {
      return { name, text: readFileSync(name, 'utf8') }
    } catch (err) {
      throw new DeckError(`opening file: open ${name}: ${errnoText(err)}`)
    }
  })
}

// ---- YAML as go-yaml v2 reads it ----

// go-yaml v2 resolves YAML 1.1 booleans and numbers, but no timestamps or sexagesimal numbers.
const yamlOptions = {
  version: '1.1',
  uniqueKeys: false,
  merge: true,
  prettyErrors: false,
  customTags: (tags) => tags.filter((t) => t.tag !== 'tag:yaml.org,2002:timestamp' && t.format !== 'TIME'),
}

function lineAt(text, offset) {
  return 1 + (text.slice(0, offset).match(/\n/g)?.length ?? 0)
}

// go-yaml reports scanner errors with the 1-based line of the problem and parser errors with the
// 0-based one (no "line N:" at all for 0); the messages are libyaml's.
function goYamlError(err, text) {
  const line = lineAt(text, err.pos?.[0] ?? 0)
  const scanner = (msg, l = line) => (l > 1 ? `yaml: line ${l}: ${msg}` : `yaml: ${msg}`)
  const parser = (msg) => (line - 1 > 0 ? `yaml: line ${line - 1}: ${msg}` : `yaml: ${msg}`)
  const msg = err.message
  switch (err.code) {
    case 'BLOCK_AS_IMPLICIT_KEY':
      return scanner('mapping values are not allowed in this context')
    case 'TAB_AS_INDENT':
      return scanner('found character that cannot start any token')
    case 'MULTILINE_IMPLICIT_KEY':
      return scanner("could not find expected ':'")
    case 'MISSING_CHAR':
      if (/quote/i.test(msg)) return scanner('found unexpected end of stream', lineAt(text, text.length) + 1)
      if (/indicator/.test(msg)) return parser("did not find expected '-' indicator")
      return parser('did not find expected key')
    case 'BAD_INDENT':
      if (/Flow sequence/.test(msg)) return parser("did not find expected ',' or ']'")
      if (/Flow mapping/.test(msg)) return parser("did not find expected ',' or '}'")
      return parser('did not find expected key')
    case 'UNEXPECTED_TOKEN':
      return parser('did not find expected <document start>')
    default:
      return parser('did not find expected key')
  }
}

// YAML → the JSON document sigs.k8s.io/yaml hands to json.Unmarshal.
function yamlToDocument(text) {
  const docs = parseAllDocuments(text, yamlOptions)
  const doc = Array.isArray(docs) ? docs[0] : docs
  if (!doc) return null
  if (doc.errors.length) throw new Error(`error converting YAML to JSON: ${goYamlError(doc.errors[0], text)}`)
  try {
    return doc.toJS({ maxAliasCount: -1 })
  } catch (err) {
    const alias = /alias.*?: (.*)$/.exec(err.message)?.[1]
    throw new Error(`error converting YAML to JSON: yaml: unknown anchor '${alias ?? ''}' referenced`, {
      cause: err,
    })
  }
}

function jsonTypeName(v) {
  if (v === null || v === undefined) return 'null'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number'
  if (typeof v === 'object') return 'object'
  return typeof v === 'boolean' ? 'boolean' : 'string'
}

// ---- the file-format JSON schema (GDR pkg/file/kong_json_schema.json) ----

// Per-kind rules beyond the field list: required fields and anyOf alternatives (codegen/main.go).
const RULES = {
  service: { anyOf: ['name', 'id'] },
  route: { anyOf: ['name', 'id'] },
  consumer: { anyOf: ['username', 'custom_id'] },
  key: { anyOf: ['name', 'id'] },
  upstream: { required: ['name'] },
  target: { required: ['target'] },
  plugin: { required: ['name'] },
  certificate: { required: ['id', 'cert', 'key'] },
  filterChain: { required: ['filters'] },
  filter: { required: ['name'] },
  keyauth: { required: ['key'] },
  basicauth: { required: ['username', 'password'] },
  hmacauth: { required: ['username', 'secret'] },
  jwt: { required: ['algorithm', 'key', 'secret'] },
  oauth2: { required: ['name', 'client_id', 'client_secret'] },
  mtls: { required: ['id', 'subject_name'] },
  acl: { required: ['group'] },
  customEntity: { required: ['type'] },
  rbacRole: { required: ['name'] },
  partial: { required: ['type'], without: ['created_at', 'updated_at'] },
}
// Rules that hold only for the top-level collections (FKeySet, FCACertificate).
const TOP_RULES = { keySet: { anyOf: ['name', 'id'] }, caCertificate: { required: ['cert'] } }

const SCALAR_TYPES = { s: 'string', sv: 'string', i: 'integer', f: 'number', b: 'boolean', bv: 'boolean' }

function typeOk(expected, v) {
  const t = jsonTypeName(v)
  return t === expected || (expected === 'number' && t === 'integer')
}

class SchemaCheck {
  constructor() {
    this.errors = []
  }

  add(path, description, value) {
    const field = path.length ? path.join('.') : '(root)'
    this.errors.push(`validation error: object=${toGoJSONCompact(value)}, err=${field}: ${description}`)
  }

  type(path, expected, v) {
    if (typeOk(expected, v)) return true
    this.add(path, `Invalid type. Expected: ${expected}, given: ${jsonTypeName(v)}`, v)
    return false
  }

  field(path, type, v, top) {
    if (SCALAR_TYPES[type]) return this.type(path, SCALAR_TYPES[type], v)
    if (type === 'ss' || type === 'ii') {
      if (!this.type(path, 'array', v)) return
      v.forEach((x, i) => this.type([...path, i], type === 'ss' ? 'string' : 'integer', x))
      return
    }
    if (type === 'map' || type === 'raw') return type === 'map' ? this.type(path, 'object', v) : undefined
    if (type === 'hmap') {
      if (!this.type(path, 'object', v)) return
      for (const [k, x] of Object.entries(v)) this.field([...path, k], 'ss', x)
      return
    }
    const kind = type.replace(/^!/, '')
    if (kind.startsWith('[')) {
      if (!this.type(path, 'array', v)) return
      v.forEach((x, i) => this.object([...path, i], kind.slice(1, -1), x, top))
      return
    }
    this.object(path, kind, v, false)
  }

  object(path, kind, v, top) {
    if (!this.type(path, 'object', v)) return
    if (kind === 'sni') {
      if (v.name !== undefined) this.type([...path, 'name'], 'string', v.name)
      return
    }
    const rule = { ...(RULES[kind] ?? {}), ...(top ? (TOP_RULES[kind] ?? {}) : {}) }
    if (rule.anyOf && !rule.anyOf.some((name) => name in v)) {
      this.add(path, 'Must validate at least one schema (anyOf)', v)
      this.add(path, `${rule.anyOf[0]} is required`, v)
    }
    for (const name of rule.required ?? []) if (!(name in v)) this.add(path, `${name} is required`, v)
    const fields = KINDS[kind].filter((f) => !(rule.without ?? []).includes(f.name))
    for (const [k, x] of Object.entries(v)) {
      if (!fields.some((f) => f.name === k)) this.add(path, `Additional property ${k} is not allowed`, x)
    }
    for (const f of fields) {
      if (!(f.name in v)) continue
      let type = f.type
      if (kind === 'certificate' && f.name === 'snis') type = '[sni]'
      if (kind === 'plugin' && f.name === 'partials') type = 'partialsLoose'
      if (type === 'partialsLoose') {
        if (this.type([...path, f.name], 'array', v[f.name])) {
          v[f.name].forEach((x, i) => this.type([...path, f.name, i], 'object', x))
        }
        continue
      }
      this.field([...path, f.name], type, v[f.name], kind === 'content')
    }
  }
}

/** GDR's validate(): the schema errors of a decoded file, as ValidationError texts. */
export function schemaErrors(doc) {
  const check = new SchemaCheck()
  check.object([], 'content', doc, false)
  return check.errors
}

// ---- one file, then several ----

/** readContent: template, leading-space check, schema validation, decoding. Throws Error(text). */
export function readContent(text, env, expandEnvVars = true) {
  let rendered
  try {
    // GDR pkg/file/template.go renderTemplate: EnvVarsSkip returns the content unchanged.
    rendered = expandEnvVars ? renderTemplate(text, env) : text
  } catch (err) {
    if (err instanceof DeckError && err.message.startsWith('deck double:')) throw err
    throw new Error(`parsing file: ${err.message}`, { cause: err })
  }
  if (rendered.startsWith(' ')) throw new Error('file must not begin with a whitespace')
  let doc
  try {
    doc = yamlToDocument(rendered)
  } catch (err) {
    throw new Error(`validating file content: unmarshaling file content: ${err.message}`, { cause: err })
  }
  if (doc !== null && doc !== undefined && jsonTypeName(doc) !== 'object') {
    const t = { array: 'array', string: 'string', integer: 'number', number: 'number', boolean: 'bool' }[
      jsonTypeName(doc)
    ]
    throw new Error(
      'validating file content: unmarshaling file content: error unmarshaling JSON: while decoding JSON: ' +
        `json: cannot unmarshal ${t} into Go value of type map[string]interface {}`,
    )
  }
  const content = doc ?? {}
  const errors = schemaErrors(content)
  if (errors.length) throw new Error(`validating file content: ${errArray(errors)}`)
  return content
}

const COLLECTIONS = KINDS.content.filter((f) => f.type.startsWith('[')).map((f) => f.name)

/**
 * GetContentFromFiles: reads, validates and merges state files (first _format_version and
 * _workspace win, lists are appended). Throws DeckError.
 */
export function getContent(filenames, env, readStdin, { expandEnvVars = true } = {}) {
  const merged = {}
  const workspaces = []
  const errors = []
  for (const fileOrDir of filenames) {
    for (const { name, text } of readers(fileOrDir, readStdin)) {
      let content
      try {
        content = readContent(text, env, expandEnvVars)
      } catch (err) {
        if (err instanceof DeckError) throw err
        errors.push(`reading file ${name}: ${err.message}`)
        continue
      }
      if (content._workspace) workspaces.push(content._workspace)
      for (const [k, v] of Object.entries(content)) {
        if (COLLECTIONS.includes(k)) merged[k] = [...(merged[k] ?? []), ...v]
        else if (merged[k] === undefined || merged[k] === '' || merged[k] === null) merged[k] = v
      }
    }
  }
  if (errors.length) throw new DeckError(errArray(errors))
  const distinct = [...new Set(workspaces)].sort()
  if (distinct.length > 1) {
    throw new DeckError(
      `it seems like you are trying to sync multiple workspaces at the same time (${goList(distinct)}).\n` +
        "decK doesn't support syncing multiple workspaces at the same time, please sync one workspace at a time",
    )
  }
  const empty = Object.values(merged).every(
    (v) => v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0),
  )
  if (empty) {
    throw new DeckError(
      'it seems like you are trying to sync an empty configuration file or directory. That would lead to the ' +
        'removal of the default workspace. Please make sure that the file or directory you are trying to sync ' +
        'references a workspace',
    )
  }
  return merged
}
