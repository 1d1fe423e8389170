import { DeckhandError } from '../errors.js'
import { ELEMENTS, VALUES } from './schema-tree.js'
import { addCatalogueEntry, type SchemaKind } from './rules.js'

const KINDS: readonly SchemaKind[] = ['plugins', 'entities', 'partials', 'vaults']
/** `plugins/acme-corp-signer config.signing_material`: a kind and name, a space, a catalogue path. */
const LINE = /^([a-z]+)\/([A-Za-z0-9_.-]+)\s+([A-Za-z0-9_.*[\]-]+)$/
const PART = /^(?:[A-Za-z0-9_-]+|\[\]|\*)$/

/**
 * Adds the `secret-fields` input's lines to the catalogue for this process: the way to mark the
 * secrets of an in-house plugin where no gateway is at hand to serve its schema (redact, validate, the
 * commit scan). Each line names one field, in the catalogue's path syntax; a bad line is an error that
 * says what a good one looks like.
 */
export function configureSecretFields(lines: readonly string[]): number {
  let added = 0
  for (const raw of lines) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const m = LINE.exec(line)
    const kind = m?.[1] as SchemaKind | undefined
    const path = m?.[3]
    if (
      !m ||
      !KINDS.includes(kind!) ||
      !path!.split('.').every((p) => PART.test(p)) ||
      /^(\[\]|\*)/.test(path!)
    ) {
      throw new DeckhandError(
        `secret-fields: "${line.slice(0, 120)}" is not KIND/NAME PATH, where KIND is ${KINDS.join(', ')} and PATH ` +
          `a dotted field path with ${ELEMENTS} for a list's elements and ${VALUES} for a map's values, ` +
          'e.g. "plugins/acme-signer config.signing_material" or "plugins/acme-signer config.tenant_keys.*".',
      )
    }
    addCatalogueEntry(kind!, m[2]!, path!)
    added++
  }
  return added
}
