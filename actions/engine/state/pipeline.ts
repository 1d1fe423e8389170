import { DeckhandError } from '../errors.js'
import { countEntities, isObject, type JsonObject } from './entities.js'
import { normalizeContent } from './normalize.js'
import { type Redaction, redactContent } from './redact.js'
import { toYaml } from './yaml.js'

export interface ProcessedFile {
  /** The normalized (and, when asked, redacted) file as written to disk. */
  yaml: string
  workspace: string
  counts: Record<string, number>
  redactions: Redaction[]
}

/**
 * The heart of a dump: deck's JSON output in, deckhand's canonical YAML out. deck is asked for JSON
 * because JSON.parse is many times faster than any YAML parser on large gateways.
 */
export function processDeckOutput(
  json: string,
  options: { workspace: string; redact: boolean; source: string },
): ProcessedFile {
  let content: unknown
  try {
    content = JSON.parse(json)
  } catch (err) {
    throw new DeckhandError(
      `deck produced output that is not valid JSON (${options.source}): ${(err as Error).message}`,
    )
  }
  return processContent(content, options)
}

export function processContent(
  content: unknown,
  options: { workspace: string; redact: boolean; source: string },
): ProcessedFile {
  if (!isObject(content)) {
    throw new DeckhandError(
      `${options.source} does not hold a deck state object (expected keys like _format_version, services, …)`,
    )
  }
  const doc = normalizeContent(content as JsonObject)
  const workspace =
    typeof doc._workspace === 'string' && doc._workspace !== '' ? doc._workspace : options.workspace
  const counts = countEntities(doc)
  const redactions = options.redact ? redactContent(doc, { workspace }) : []
  return { yaml: toYaml(doc), workspace, counts, redactions }
}
