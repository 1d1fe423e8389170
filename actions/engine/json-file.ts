import { readFileSync, statSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'

import { DeckhandError } from './errors.js'
import { findJsonIssue, lineColumn } from './state/json-scan.js'

/** Manifests and tools' index files are small; a file far larger is not what it claims to be. */
export const MAX_JSON_FILE_BYTES = 64 * 2 ** 20

/**
 * Reads a JSON file that deckhand or a tool wrote (a backup manifest, tyk-sync's files, the runner's event
 * payload): refused from its size before it is read, and parsed with an error that gives a position only.
 * JSON.parse's own message quotes the text around the fault, and such a file may hold a secret.
 */
export async function readJsonFile(
  path: string,
  what: string,
  maxBytes = MAX_JSON_FILE_BYTES,
): Promise<unknown> {
  checkSize((await stat(path)).size, path, what, maxBytes)
  return parseJson(await readFile(path, 'utf8'), path, what)
}

/** {@link readJsonFile}, synchronously. */
export function readJsonFileSync(path: string, what: string, maxBytes = MAX_JSON_FILE_BYTES): unknown {
  checkSize(statSync(path).size, path, what, maxBytes)
  return parseJson(readFileSync(path, 'utf8'), path, what)
}

function checkSize(size: number, path: string, what: string, maxBytes: number): void {
  if (size > maxBytes)
    throw new DeckhandError(
      `${path} is ${size} bytes, more than any ${what} holds (at most ${maxBytes}): it is not one.`,
    )
}

/** Parses JSON text; the error names the file and the line and column of the fault, nothing of its text. */
export function parseJson(text: string, path: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new DeckhandError(`${path} is not a valid ${what}: ${where(text)}.`)
  }
}

/** Where JSON.parse's fault lies, found by the state reader's own scanner (it quotes nothing of the text). */
function where(text: string): string {
  if (text.trim() === '') return 'the file is empty'
  const issue = findJsonIssue(text, true)
  if (!issue) return 'invalid JSON'
  const { line, col } = lineColumn(text, issue.offset)
  return `invalid JSON at line ${line}, column ${col}`
}
