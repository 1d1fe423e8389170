import { DeckhandError } from '../errors.js'
import {
  COLLECTIONS,
  type CollectionSpec,
  isObject,
  type Json,
  type JsonObject,
  META_KEYS,
} from '../state/entities.js'
import { findEnvReferences, missingEnv } from '../state/env-refs.js'
import { expandState } from '../state/files.js'
import { readStateFile, readStateText } from '../state/read.js'

/** One Kong declarative configuration, as a DB-less node loads it through `POST /config`. */
export interface DeclarativeConfig {
  /** The JSON body: `_format_version` and the entity collections, nothing deck-specific. */
  body: string
  /** Entities per collection (nested ones under their own key), to compare with what a node reports. */
  counts: Record<string, number>
  files: string[]
  /** The DECK_ variables the files reference: their values are secrets. */
  envNames: string[]
}

/**
 * Builds the configuration for DB-less nodes from deck state files: the `${{ env "DECK_…" }}` references
 * the dump put in place of secrets are filled in from the environment (deck does this for sync, but cannot
 * talk to a DB-less node), the files are merged the way deck merges them, and deck's own keys
 * (`_workspace`, `_info`, `_konnect`), which Kong's declarative format does not accept, are left out.
 */
export async function buildDeclarativeConfig(
  state: readonly string[],
  env: NodeJS.ProcessEnv,
  /** Where values of unset variables may be (a secret bundle no identity opened), for the error. */
  hint?: string,
): Promise<DeclarativeConfig> {
  const files = await expandState(state)
  const texts = await Promise.all(files.map((file) => readStateFile(file)))
  const refs = texts.flatMap((text) => findEnvReferences(text))
  const missing = missingEnv(refs, env)
  if (missing.length > 0) {
    throw new DeckhandError(
      `${missing.length} environment variable(s) the state files reference are not set: ${missing.join(', ')}. ` +
        'Set them (for example from secrets) before this step: they hold the values the dump redacted.' +
        (hint ? ` ${hint}` : ''),
    )
  }
  const merged: JsonObject = {}
  let formatVersion: string | undefined
  texts.forEach((text, i) => {
    const file = files[i]!
    const content = readStateText(renderTemplates(text, env, file), file)
    if (content === null || content === undefined) return
    if (!isObject(content)) throw new DeckhandError(`${file}: a state file must be a mapping of collections`)
    const workspace = content._workspace
    if (typeof workspace === 'string' && workspace !== '' && workspace !== 'default') {
      throw new DeckhandError(
        `${file} belongs to workspace ${workspace}: DB-less Kong has no workspaces. Restore only the default workspace's files with strategy dbless.`,
      )
    }
    const info = content._info
    if (isObject(info) && Array.isArray(info.select_tags) && info.select_tags.length > 0) {
      throw new DeckhandError(
        `${file} covers only entities tagged ${info.select_tags.join(', ')}: a DB-less node loads one whole configuration, so every file it needs must be given together, without select_tags.`,
      )
    }
    const version = content._format_version
    if (typeof version === 'string') {
      if (formatVersion !== undefined && formatVersion !== version) {
        throw new DeckhandError(
          `${file}: _format_version ${version} differs from the other files' ${formatVersion}`,
        )
      }
      formatVersion = version
    }
    for (const [key, value] of Object.entries(content)) {
      if (META_KEYS.has(key)) continue
      if (!Array.isArray(value)) throw new DeckhandError(`${file}: ${key} must be a list`)
      const list = ((merged[key] as Json[] | undefined) ??= [])
      for (const entity of value) list.push(entity)
    }
  })
  const config: JsonObject = { _format_version: formatVersion ?? '3.0', ...merged }
  return {
    body: JSON.stringify(config),
    counts: countCollections(config),
    files,
    envNames: [...new Set(refs.map((r) => r.name))],
  }
}

// A template the dump writes: `${{ env "NAME" }}`, optionally piped through indent, toBool, toInt or toFloat.
const TEMPLATE = /\$\{\{\s*(.*?)\s*\}\}/g
const ENV = /^env\s+(?:"([^"]*)"|`([^`]*)`)$/

/**
 * Fills in deck's environment templates the way deck does (a Go template per `${{ }}`; comment lines are
 * left alone). Only the pipelines deck's templating offers for values are understood; anything else is a
 * clear error rather than a guess.
 */
export function renderTemplates(text: string, env: NodeJS.ProcessEnv, file: string): string {
  return text
    .split('\n')
    .map((line, i) =>
      line.trimStart().startsWith('#')
        ? line
        : line.replace(TEMPLATE, (_whole, pipeline: string) =>
            renderPipeline(pipeline, env, `${file}:${i + 1}`),
          ),
    )
    .join('\n')
}

function renderPipeline(pipeline: string, env: NodeJS.ProcessEnv, where: string): string {
  const [first = '', ...rest] = pipeline.split('|').map((part) => part.trim())
  const call = ENV.exec(first)
  if (!call) throw new DeckhandError(`${where}: the template "${pipeline}" is not an env reference`)
  let value = env[call[1] ?? call[2] ?? ''] ?? ''
  for (const step of rest) {
    const indent = /^indent\s+(\d+)$/.exec(step)
    if (indent) value = value.replaceAll('\n', '\n' + ' '.repeat(Number(indent[1])))
    else if (step === 'toBool') value = String(/^(1|t|T|TRUE|true|True)$/.test(value))
    else if (step === 'toInt' || step === 'toFloat') {
      if (!/^[-+]?\d+(\.\d+)?$/.test(value.trim()))
        throw new DeckhandError(`${where}: ${step} needs a number, and the variable does not hold one`)
      value = value.trim()
    } else throw new DeckhandError(`${where}: "${step}" is not a function deck's templates offer`)
  }
  return value
}

/** A consumer's groups and a group's consumers are references to entities listed elsewhere, not entities. */
const isReference = (spec: CollectionSpec) => spec.label === 'group' || spec.label === 'member'

/** Every collection of the deck format by name, nested ones included (credentials, routes, targets, snis…). */
function flatten(specs: Readonly<Record<string, CollectionSpec>>, into: Record<string, CollectionSpec> = {}) {
  for (const [name, spec] of Object.entries(specs)) {
    if (isReference(spec)) continue
    into[name] ??= spec
    if (spec.nested) flatten(spec.nested, into)
  }
  return into
}
const FLAT = flatten(COLLECTIONS)

/**
 * Entities per collection, wherever they sit: deck files nest routes under services and credentials under
 * consumers, while Kong reports its configuration flattened, every collection at the top. The counts are the
 * same either way.
 */
export function countCollections(content: JsonObject): Record<string, number> {
  const counts: Record<string, number> = {}
  const walk = (holder: JsonObject, specs: Readonly<Record<string, CollectionSpec>>) => {
    for (const [key, value] of Object.entries(holder)) {
      const spec = specs[key]
      if (!spec || isReference(spec) || !Array.isArray(value)) continue
      for (const entity of value) {
        if (!isObject(entity)) continue
        counts[key] = (counts[key] ?? 0) + 1
        if (spec.nested) walk(entity, spec.nested)
      }
    }
  }
  walk(content, FLAT)
  return counts
}
