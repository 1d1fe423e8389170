import { readdir, stat } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { isMap, isSeq, LineCounter, parseDocument, type YAMLMap } from 'yaml'

import { append } from '../arrays.js'
import { DeckhandError } from '../errors.js'
import { COLLECTIONS, type CollectionSpec, entityName, isObject } from './entities.js'

/**
 * Reading deck state files and checking them locally, before deck sees them: what deck reports badly or
 * one at a time (YAML syntax with line numbers, `_format_version`, duplicate names, unset variables).
 */

export interface Problem {
  message: string
  file?: string
  line?: number
  column?: number
  /** Which check found it. */
  check: 'yaml' | 'format' | 'duplicate' | 'env' | 'deck'
}
const STATE_EXTENSIONS = new Set(['.yaml', '.yml', '.json'])

/**
 * One problem naming every unset variable the files reference, placed at the first reference: deck
 * would stop at the first one, and a run per missing variable helps nobody.
 */
export function envProblem(
  refs: readonly { name: string; file: string; line: number }[],
  missing: readonly string[],
  purpose: string,
): Problem | undefined {
  if (missing.length === 0) return undefined
  const first = refs.find((r) => r.name === missing[0])!
  const where = missing.map((name) => {
    const ref = refs.find((r) => r.name === name)!
    return `${name} (${ref.file}:${ref.line})`
  })
  return {
    check: 'env',
    file: first.file,
    line: first.line,
    message:
      `${missing.length} environment variable(s) referenced by the state files are not set: ${where.join(', ')}. ` +
      `deck expands them even to ${purpose}; set them (for example from secrets) before this step.`,
  }
}

/** Files named directly, and state files found below named directories, each once, in a stable order. */
export async function expandState(paths: readonly string[]): Promise<string[]> {
  if (paths.length === 0)
    throw new DeckhandError('state is required: name the state files or directories to check')
  const found: string[] = []
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined)
    if (!info) throw new DeckhandError(`state: ${path} does not exist`)
    if (info.isDirectory()) {
      const inDir = await walk(path)
      if (inDir.length === 0) throw new DeckhandError(`state: ${path} holds no .yaml, .yml or .json files`)
      append(found, inDir)
    } else found.push(path)
  }
  return [...new Set(found)]
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const path = join(dir, entry.name)
    if (entry.name.startsWith('.')) continue
    if (entry.isDirectory()) append(out, await walk(path))
    else if (STATE_EXTENSIONS.has(extname(entry.name))) out.push(path)
  }
  return out
}

/** Local checks of one file, with line numbers. */
export function checkFile(
  file: string,
  text: string,
): { problems: Problem[]; workspace?: string; selectTags?: string[] } {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  const problems: Problem[] = []
  for (const error of doc.errors) {
    const pos = lines.linePos(error.pos[0])
    problems.push({
      check: 'yaml',
      file,
      line: pos.line,
      column: pos.col,
      message: `YAML: ${error.message.split('\n')[0]}`,
    })
  }
  if (problems.length > 0) return { problems }
  if (!isMap(doc.contents)) {
    problems.push({
      check: 'format',
      file,
      line: 1,
      message: 'not a deck state file: the top level must be a mapping',
    })
    return { problems }
  }
  const content = doc.toJS() as Record<string, unknown>
  if (content._format_version === undefined) {
    problems.push({
      check: 'format',
      file,
      line: 1,
      message: '_format_version is missing (deck needs it, e.g. _format_version: "3.0")',
    })
  }
  findDuplicates(doc.contents, COLLECTIONS, file, lines, problems, '')
  const workspace = typeof content._workspace === 'string' ? content._workspace : undefined
  const info = content._info as { select_tags?: unknown } | undefined
  const selectTags = Array.isArray(info?.select_tags)
    ? info.select_tags.filter((t): t is string => typeof t === 'string')
    : undefined
  return { problems, workspace, selectTags }
}

/** Two entities of one collection with the same identity: deck rejects them as "entity already exists". */
function findDuplicates(
  holder: YAMLMap,
  specs: Readonly<Record<string, CollectionSpec>>,
  file: string,
  lines: LineCounter,
  problems: Problem[],
  where: string,
): void {
  for (const [collection, spec] of Object.entries(specs)) {
    const seq = holder.get(collection, true)
    if (!isSeq(seq)) continue
    const seen = new Map<string, number>()
    for (const item of seq.items) {
      if (!isMap(item)) continue
      const entity = item.toJSON() as Record<string, unknown>
      const line = item.range ? lines.linePos(item.range[0]).line : undefined
      // Certificates are identified by their PEM, credentials by a secret: neither belongs in a message.
      const named = !spec.secretIdentity && !spec.identity.includes('cert')
      const name = named && isObject(entity) ? entityName(entity as never, spec) : ''
      if (name !== '') {
        const first = seen.get(name)
        if (first !== undefined) {
          problems.push({
            check: 'duplicate',
            file,
            line,
            message: `duplicate ${spec.label} "${name}"${where} (first defined on line ${first})`,
          })
        } else seen.set(name, line ?? 0)
      }
      if (spec.nested) findDuplicates(item, spec.nested, file, lines, problems, ` in ${spec.label} "${name}"`)
    }
  }
}
