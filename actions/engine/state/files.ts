import { readdir, stat } from 'node:fs/promises'
import { extname, join } from 'node:path'

import { DeckhandError } from '../errors.js'
import { COLLECTIONS, type CollectionSpec, entityName, isObject, type JsonObject } from './entities.js'
import { parseState, type PathPart, StateReadError, type StateData } from './read.js'
import { requiredInput } from '../jobs/inputs.js'

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
  check: 'yaml' | 'format' | 'duplicate' | 'env' | 'deck' | 'konnect'
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
  /** Where the values may be found, e.g. a secret bundle no identity opened. */
  hint?: string,
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
      `deck expands them even to ${purpose}; set them (for example from secrets) before this step.` +
      (hint ? ` ${hint}` : ''),
  }
}

/** Files named directly, and state files found below named directories, each once, in a stable order. */
export async function expandState(paths: readonly string[]): Promise<string[]> {
  if (paths.length === 0) throw requiredInput('state', 'name the state files or directories to check')
  const found: string[] = []
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined)
    if (!info) throw new DeckhandError(`state: ${path} does not exist`)
    if (info.isDirectory()) {
      const before = found.length
      await walk(path, found)
      if (found.length === before)
        throw new DeckhandError(`state: ${path} holds no .yaml, .yml or .json files`)
    } else found.push(path)
  }
  return [...new Set(found)]
}

/** Adds the state files below `dir` to `out`, in name order. */
async function walk(dir: string, out: string[]): Promise<void> {
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const path = join(dir, entry.name)
    if (entry.name.startsWith('.')) continue
    if (entry.isDirectory()) await walk(path, out)
    else if (STATE_EXTENSIONS.has(extname(entry.name))) out.push(path)
  }
}

/** What the local checks found in one file, and its data for further checks (undefined when unreadable). */
export interface CheckedFile {
  problems: Problem[]
  workspace?: string
  /** The Konnect control plane the file names (`_konnect.control_plane_name`). */
  controlPlane?: string
  selectTags?: string[]
  state?: StateData
}

/** Local checks of one file, with line numbers. */
export function checkFile(file: string, text: string): CheckedFile {
  let state: StateData
  try {
    state = parseState(text, file)
  } catch (err) {
    if (!(err instanceof StateReadError)) throw err
    return { problems: [{ check: 'yaml', file, line: err.line, column: err.column, message: err.reason }] }
  }
  const content = state.data
  if (!isObject(content)) {
    const problem: Problem = {
      check: 'format',
      file,
      line: 1,
      message: 'not a deck state file: the top level must be a mapping',
    }
    return { problems: [problem] }
  }
  const problems: Problem[] = []
  if (content._format_version === undefined) {
    problems.push({
      check: 'format',
      file,
      line: 1,
      message: '_format_version is missing (deck needs it, e.g. _format_version: "3.0")',
    })
  }
  const duplicates: Duplicate[] = []
  findDuplicates(content, COLLECTIONS, [], duplicates, '')
  if (duplicates.length > 0) {
    const paths: PathPart[][] = []
    for (const d of duplicates) paths.push(d.path, d.first)
    const lines = state.lines(paths)
    duplicates.forEach((d, i) => {
      problems.push({
        check: 'duplicate',
        file,
        line: lines[2 * i],
        message: `duplicate ${d.label} "${d.name}"${d.where} (first defined on line ${lines[2 * i + 1] ?? 0})`,
      })
    })
  }
  const workspace = typeof content._workspace === 'string' ? content._workspace : undefined
  // deck's file.Konnect (GDR pkg/file/types.go): a dump of a control plane names it here.
  const konnect = content._konnect as
    { control_plane_name?: unknown; runtime_group_name?: unknown } | undefined
  const named = konnect?.control_plane_name ?? konnect?.runtime_group_name
  const controlPlane = typeof named === 'string' && named !== '' ? named : undefined
  const info = content._info as { select_tags?: unknown } | undefined
  const selectTags = Array.isArray(info?.select_tags)
    ? info.select_tags.filter((t): t is string => typeof t === 'string')
    : undefined
  return { problems, workspace, controlPlane, selectTags, state }
}

/** Two entities of one collection with the same identity, by their paths in the data. */
interface Duplicate {
  label: string
  name: string
  where: string
  path: PathPart[]
  first: PathPart[]
}

/**
 * Two entities of one collection with the same identity: deck rejects them as "entity already exists".
 * `at` is the path of `holder`, extended and restored as the walk goes (copied only for a duplicate).
 */
function findDuplicates(
  holder: JsonObject,
  specs: Readonly<Record<string, CollectionSpec>>,
  at: PathPart[],
  found: Duplicate[],
  where: string,
): void {
  for (const collection in specs) {
    const list = holder[collection]
    if (!Array.isArray(list)) continue
    const spec = specs[collection]!
    // Certificates are identified by their PEM, credentials by a secret: neither belongs in a message.
    const named = !spec.secretIdentity && !spec.identity.includes('cert')
    // Most nested lists hold one entity, which has nothing to clash with: no map for those.
    const seen = list.length > 1 ? new Map<string, number>() : undefined
    for (let index = 0; index < list.length; index++) {
      const entity = list[index]
      if (!isObject(entity)) continue
      const name = named && (seen || spec.nested) ? entityName(entity, spec) : ''
      if (name !== '' && seen) {
        const first = seen.get(name)
        if (first === undefined) seen.set(name, index)
        else {
          const path = [...at, collection, index]
          found.push({ label: spec.label, name, where, path, first: [...at, collection, first] })
        }
      }
      if (spec.nested) {
        at.push(collection, index)
        findDuplicates(entity, spec.nested, at, found, ` in ${spec.label} "${name}"`)
        at.length -= 2
      }
    }
  }
}
