import { readFileSync, statSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'

import { DeckhandError } from './errors.js'

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
  } catch (err) {
    throw new DeckhandError(`${path} is not a valid ${what}: ${where(text, err)}.`)
  }
}

/** "invalid JSON at line L, column C" from the offset V8 reports, or without a place when it gives none. */
function where(text: string, err: unknown): string {
  const message = err instanceof Error ? err.message : ''
  const lineColumn = /line (\d+) column (\d+)/.exec(message)
  if (lineColumn) return `invalid JSON at line ${lineColumn[1]}, column ${lineColumn[2]}`
  const position = /position (\d+)/.exec(message)
  if (!position) return text.trim() === '' ? 'the file is empty' : 'invalid JSON'
  const offset = Math.min(Number(position[1]), text.length)
  let line = 1
  let start = 0
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++
    start = i + 1
  }
  return `invalid JSON at line ${line}, column ${offset - start + 1}`
}
