import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'

import type { Drift } from '../drift/compare.js'
import { fileSystemError } from '../errors.js'

/** State files by their name alone: two dumps (or a dump and its conversion) compare file by file. */
export async function readStateFiles(files: readonly string[]): Promise<Map<string, string>> {
  const texts = new Map<string, string>()
  for (const file of files) {
    try {
      texts.set(basename(file), await readFile(file, 'utf8'))
    } catch (err) {
      throw fileSystemError(err, `reading ${file}`)
    }
  }
  return texts
}

/** One line per entity that differs, with the paths (never the values) of the fields that changed. */
export function entityDifferences(drift: Drift): string[] {
  const lines = drift.entities.map((e) => {
    const fields =
      e.action === 'changed' && e.fields?.length ? `: ${e.fields.map((f) => f.path).join(', ')}` : ''
    return `${e.action} ${e.name} (workspace ${e.workspace})${fields}`
  })
  for (const u of drift.unreadable) lines.push(`unreadable ${u.file}: ${u.error}`)
  return lines
}
