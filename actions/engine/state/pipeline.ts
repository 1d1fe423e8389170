import { DeckhandError } from '../errors.js'
import { countEntities, isObject, type JsonObject } from './entities.js'
import { normalizeContent } from './normalize.js'
import { type Redaction, redactContent } from './redact.js'
import { toYaml } from './yaml.js'
import type { SecretRules } from '../secrets/rules.js'

export interface ProcessedFile {
  /** The normalized (and, when asked, redacted) file as written to disk. */
  yaml: string
  workspace: string
  counts: Record<string, number>
  redactions: Redaction[]
  /**
   * The redacted values by variable name (what deck must substitute for each reference): for the encrypted
   * secret bundle only, never for reports. Empty when nothing was redacted.
   */
  secrets: Map<string, string>
}

/**
 * The heart of a dump: deck's JSON output in, deckhand's canonical YAML out. deck is asked for JSON
 * because JSON.parse is many times faster than any YAML parser on large gateways.
 */
export function processDeckOutput(json: string, options: ProcessOptions): ProcessedFile {
  return processContent(parseDeckOutput(json, options.source), options)
}

export interface ProcessOptions {
  workspace: string
  redact: boolean
  source: string
  /** Schema facts for redaction; default: the bundled catalogue. */
  rules?: SecretRules
}

/** deck's JSON output as data; `source` names it in the error. */
export function parseDeckOutput(json: string, source: string): unknown {
  try {
    return JSON.parse(json)
  } catch (err) {
    throw new DeckhandError(
      `deck produced output that is not valid JSON (${source}): ${(err as Error).message}`,
    )
  }
}

export function processContent(content: unknown, options: ProcessOptions): ProcessedFile {
  if (!isObject(content)) {
    throw new DeckhandError(
      `${options.source} does not hold a deck state object (expected keys like _format_version, services, …)`,
    )
  }
  const doc = normalizeContent(content as JsonObject)
  const workspace =
    typeof doc._workspace === 'string' && doc._workspace !== '' ? doc._workspace : options.workspace
  const counts = countEntities(doc)
  const secrets = new Map<string, string>()
  const redactions = options.redact
    ? redactContent(doc, { workspace, rules: options.rules, values: secrets })
    : []
  return { yaml: toYaml(doc), workspace, counts, redactions, secrets }
}
