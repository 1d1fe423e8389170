import { readdir, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'

import { append } from '../arrays.js'
import { ensureDirectory, install, previousFiles } from '../dump.js'
import { DeckhandError } from '../errors.js'
import type { Logger } from '../log.js'
import { digestFiles } from '../state/digest.js'
import { isObject, type JsonObject } from '../state/entities.js'
import { readStateFile, readStateText } from '../state/read.js'
import type { Redaction } from '../state/redact.js'
import {
  fileNameOf,
  formatOf,
  objectKey as keyOf,
  normalize,
  sortObjects,
  TYK_KIND,
  TYK_SPEC_FILE,
  tykObject,
  type TykKind,
  type TykObject,
  tykSpec,
} from './objects.js'
import { keepReferences, redactTykObject, renderRedacted } from './redact.js'

export interface TykDumpResult {
  files: string[]
  counts: Record<TykKind, number>
  entityCount: number
  digest: string
  secretsRedacted: number
  /** Values the gateway answered with that the previous dump held as Tyk references, kept as references. */
  referencesKept: number
  redactions: Redaction[]
  requiredEnv: string[]
  removed: string[]
  changed: boolean
}

/**
 * Writes a Tyk dump: one file per API and policy, tyk-sync's `.tyk.json`, required-env.txt, and the
 * SHA256SUMS manifest last, with the same staging and renames as a Kong dump (so the commit action
 * reads both alike). An empty dump never replaces a non-empty one unless `allowEmpty`.
 */
export async function writeTykDump(options: {
  objects: readonly TykObject[]
  outputDir: string
  redactSecrets: boolean
  allowEmpty: boolean
  logger: Logger
}): Promise<TykDumpResult> {
  await ensureDirectory(options.outputDir)
  const objects = sortObjects(options.objects.map(normalize))
  if (objects.length === 0 && !options.allowEmpty) {
    const previous = ((await previousFiles(options.outputDir)) ?? []).filter(isObjectFile)
    if (previous.length > 0) {
      throw new DeckhandError(
        `the gateway returned no APIs and no policies, but the previous dump in ${options.outputDir} holds ` +
          `${previous.length}. Refusing to replace it with an empty one (wrong address or gateway?). ` +
          'Set allow-empty: true if the gateway really is empty now.',
      )
    }
  }
  const files = new Map<string, string>()
  const redactions: Redaction[] = []
  const counts: Record<TykKind, number> = { api: 0, policy: 0 }
  // The gateway answers with what it resolved env://, secrets://… references to (gateway/api_definition.go
  // replaceSecrets, Tyk v5.8.1): where the previous dump held a reference, it is kept instead of the value.
  const previous = await previousObjects(options.outputDir)
  let referencesKept = 0
  for (const object of objects) {
    const name = fileNameOf(object)
    if (files.has(name))
      throw new DeckhandError(`the gateway returned ${TYK_KIND[object.format]} ${object.id} twice`)
    const before = previous.get(keyOf(object))
    if (before) referencesKept += keepReferences(object.body, before)
    if (options.redactSecrets) append(redactions, redactTykObject(object))
    files.set(name, renderRedacted(object.body))
    counts[TYK_KIND[object.format]]++
  }
  files.set(TYK_SPEC_FILE, tykSpec(objects))
  const requiredEnv = [...new Set(redactions.map((r) => r.name))].sort()
  const outcome = await install(
    options.outputDir,
    files,
    requiredEnv,
    options.logger,
    'deckhand diff/sync/restore (gateway: tyk)',
  )
  return {
    files: [...files.keys()].filter(isObjectFile).map((name) => join(options.outputDir, name)),
    counts,
    entityCount: objects.length,
    digest: digestFiles(files),
    secretsRedacted: redactions.length,
    referencesKept,
    redactions,
    requiredEnv,
    ...outcome,
  }
}

const OBJECT_FILE = /^(api|oas|mcp|policy)-.+\.json$/

function isObjectFile(name: string): boolean {
  return OBJECT_FILE.test(name)
}

/** The objects of the previous dump in a folder, by key; unreadable files are skipped. */
async function previousObjects(dir: string): Promise<Map<string, JsonObject>> {
  const found = new Map<string, JsonObject>()
  const names = await readdir(dir).catch(() => [] as string[])
  for (const name of names.filter(isObjectFile)) {
    try {
      const path = join(dir, name)
      const body = readStateText(await readStateFile(path), path, { json: true })
      if (!isObject(body)) continue
      const format = formatOf(body, name)
      if (format) found.set(keyOf(tykObject(body, name, format)), body)
    } catch {
      // Not deckhand's, or broken: nothing to keep from it.
    }
  }
  return found
}

/**
 * The objects of a Tyk folder, read from the `state` input: files, or folders of `*.json` files, whatever
 * their names. Besides deckhand's and tyk-sync's files (one object each) it reads the gateway's own:
 *
 * - an app_path (gateway/api_definition.go FromDir, Tyk v5.8.1): every `*.json` is a definition, and one
 *   marked `is_oas` has its document beside it as `<same name>-oas.json` (`-mcp.json` for an MCP proxy,
 *   Tyk v5.12.0), which is what is kept; the names need not be the API ids;
 * - a policies.json (policies.policy_record_name, gateway/policy.go LoadPoliciesFromFile): a map of
 *   policies keyed by id, entries usually without `id`, which is then the key.
 *
 * `origins` names the file each object came from.
 */
export async function readTykState(
  paths: readonly string[],
): Promise<{ objects: TykObject[]; files: string[]; origins: string[] }> {
  if (paths.length === 0) throw new DeckhandError('state: name at least one Tyk folder or file')
  const files: string[] = []
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined)
    if (!info) throw new DeckhandError(`state: ${path} does not exist`)
    if (info.isDirectory()) {
      const names = (await readdir(path)).filter((n) => n.endsWith('.json') && n !== TYK_SPEC_FILE).sort()
      for (const n of names) files.push(join(path, n))
    } else files.push(path)
  }
  const bodies = new Map<string, unknown>()
  for (const file of files) {
    // As every state file is read: size limited, a repeated key refused, errors that quote nothing of it.
    bodies.set(file, readStateText(await readStateFile(file), file, { json: true }))
  }
  const objects: TykObject[] = []
  const origins: string[] = []
  const seen = new Map<string, string>()
  const add = (object: TykObject, file: string) => {
    const key = keyOf(object)
    const earlier = seen.get(key)
    if (earlier)
      throw new DeckhandError(`${TYK_KIND[object.format]} ${object.id} is in both ${earlier} and ${file}`)
    seen.set(key, file)
    objects.push(object)
    origins.push(file)
  }
  // The companions that an app_path definition marked is_oas points at, read with it.
  const companions = new Set<string>()
  for (const file of files) {
    const body = bodies.get(file)
    if (!isObject(body) || body.is_oas !== true || formatOf(body) !== 'classic') continue
    const mcp = body.application_protocol === 'mcp'
    const companion = file.replace(/\.json$/, mcp ? '-mcp.json' : '-oas.json')
    const doc = bodies.get(companion) ?? (await readJson(companion))
    if (!isObject(doc) || !formatOf(doc)) {
      throw new DeckhandError(
        `${file} is a Tyk OAS API's classic form (is_oas), but ${basename(companion)} beside it, which holds ` +
          'its OAS document, is missing or not one: keep the two files together',
      )
    }
    companions.add(companion)
    add(tykObject(doc, companion, mcp ? 'mcp' : 'oas'), companion)
  }
  for (const file of files) {
    const body = bodies.get(file)
    if (companions.has(file) || (isObject(body) && body.is_oas === true && formatOf(body) === 'classic'))
      continue
    const policies = isObject(body) ? policyMap(body, file) : undefined
    if (policies) {
      for (const object of policies) add(object, file)
      continue
    }
    const format = formatOf(body, basename(file))
    if (!isObject(body) || !format) {
      throw new DeckhandError(
        `${file} is not a Tyk API definition or policy (expected api_id and proxy, openapi and ` +
          'x-tyk-api-gateway, access_rights, or a policies.json map of policies). Keep other files out of the ' +
          'state folder.',
      )
    }
    add(tykObject(body, file, format), file)
  }
  return { objects, files, origins }
}

async function readJson(file: string): Promise<unknown> {
  try {
    return readStateText(await readStateFile(file), file, { json: true })
  } catch {
    return undefined
  }
}

/**
 * The policies of a policies.json map (`{"<id>": {policy}, …}`), each with its key as id (gateway/policy.go
 * LoadPoliciesFromFile finds them by key; Tyk v5.12.0 sets the id to the key); undefined when the object is
 * not such a map. An empty map is one only in a file named policies.json.
 */
function policyMap(body: JsonObject, file: string): TykObject[] | undefined {
  if (formatOf(body)) return undefined
  const entries = Object.entries(body)
  if (entries.length === 0) return basename(file) === 'policies.json' ? [] : undefined
  if (!entries.every(([, v]) => isObject(v) && isObject(v.access_rights) && !('api_id' in v)))
    return undefined
  return entries.map(([key, value]) => {
    const policy = structuredClone(value as JsonObject)
    if (typeof policy.id === 'string' && policy.id !== '' && policy.id !== key) {
      throw new DeckhandError(
        `${file}: policy "${key}" says "id": "${policy.id}"; Tyk finds it by its key, so the two must agree`,
      )
    }
    policy.id = key
    return tykObject(policy, `${file} (policy ${key})`, 'policy')
  })
}
