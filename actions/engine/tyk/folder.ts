import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'

import { append } from '../arrays.js'
import { ensureDirectory, install, previousFiles } from '../dump.js'
import { DeckhandError } from '../errors.js'
import type { Logger } from '../log.js'
import { digestFiles } from '../state/digest.js'
import { isObject } from '../state/entities.js'
import type { Redaction } from '../state/redact.js'
import {
  fileNameOf,
  formatOf,
  normalize,
  objectKey,
  sortObjects,
  TYK_KIND,
  TYK_SPEC_FILE,
  tykObject,
  type TykKind,
  type TykObject,
  tykSpec,
} from './objects.js'
import { redactTykObject, renderRedacted } from './redact.js'

export interface TykDumpResult {
  files: string[]
  counts: Record<TykKind, number>
  entityCount: number
  digest: string
  secretsRedacted: number
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
  for (const object of objects) {
    const name = fileNameOf(object)
    if (files.has(name))
      throw new DeckhandError(`the gateway returned ${TYK_KIND[object.format]} ${object.id} twice`)
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
    redactions,
    requiredEnv,
    ...outcome,
  }
}

const OBJECT_FILE = /^(api|oas|policy)-.+\.json$/

function isObjectFile(name: string): boolean {
  return OBJECT_FILE.test(name)
}

/** The objects of a Tyk folder, read from the `state` input: files, or folders of `*.json` files. */
export async function readTykState(
  paths: readonly string[],
): Promise<{ objects: TykObject[]; files: string[] }> {
  if (paths.length === 0) throw new DeckhandError('state: name at least one Tyk folder or file')
  const files: string[] = []
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined)
    if (!info) throw new DeckhandError(`state: ${path} does not exist`)
    if (info.isDirectory()) {
      const names = (await readdir(path)).filter((n) => n.endsWith('.json') && n !== TYK_SPEC_FILE).sort()
      append(
        files,
        names.map((n) => join(path, n)),
      )
    } else files.push(path)
  }
  const objects: TykObject[] = []
  const seen = new Map<string, string>()
  for (const file of files) {
    let body: unknown
    try {
      body = JSON.parse(await readFile(file, 'utf8'))
    } catch (err) {
      throw new DeckhandError(`${file} is not valid JSON: ${(err as Error).message}`)
    }
    if (!isObject(body) || !formatOf(body)) {
      throw new DeckhandError(
        `${file} is not a Tyk API definition or policy (expected api_id and proxy, openapi and ` +
          'x-tyk-api-gateway, or access_rights). Keep other files out of the state folder.',
      )
    }
    const object = tykObject(body, file)
    const key = objectKey(object)
    const earlier = seen.get(key)
    if (earlier)
      throw new DeckhandError(`${TYK_KIND[object.format]} ${object.id} is in both ${earlier} and ${file}`)
    seen.set(key, file)
    objects.push(object)
  }
  return { objects, files }
}
