import { CORE_SCHEMA, load } from 'js-yaml'

/**
 * Reads the data of a YAML or JSON state file, as fast as it can be read: JSON.parse for JSON, js-yaml for
 * YAML (many times faster than the `yaml` package on multi-megabyte dumps; the `yaml` package stays where
 * positions matter: validation and secret findings). The YAML 1.2 core schema, the one the dump writes
 * with: no timestamps, no merge keys. Throws on text that does not parse, duplicate keys included.
 */
export function readStateText(text: string): unknown {
  if (/^\s*\{/.test(text)) {
    try {
      return JSON.parse(text)
    } catch {
      // Not strict JSON (comments, single quotes): YAML may still read it.
    }
  }
  return load(text, { schema: CORE_SCHEMA })
}

/** Whether YAML text may use anchors: then only a careful parser (alias limits, cycles) reads it. */
export function mayHaveAnchors(text: string): boolean {
  return /(^|[\s[{,:-])&[^\s]/.test(text)
}
