import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { ROOT } from './action.js'

export const DOUBLE_DIR = join(ROOT, 'test', 'deck-double')
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'gateway')

export interface LoggedCall {
  argv: string[]
  cwd: string
  env: Record<string, string>
  config: unknown
}

/** A scratch directory with a log file for the double; remove with cleanup(). */
export async function workdir(): Promise<{ dir: string; log: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'deckhand-test-'))
  return { dir, log: join(dir, 'deck-calls.jsonl'), cleanup: () => rm(dir, { recursive: true, force: true }) }
}

/** Environment that puts the deck double first on PATH and points it at a gateway fixture. */
export function doubleEnv(options: {
  gateway?: string
  log: string
  version?: string
  fail?: 'error' | 'crash' | 'hang'
  shuffle?: boolean
}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: `${DOUBLE_DIR}:${process.env.PATH ?? ''}`,
    DECK_DOUBLE_GATEWAY: options.gateway ?? join(FIXTURES, 'enterprise.yaml'),
    DECK_DOUBLE_LOG: options.log,
  }
  if (options.version) env.DECK_DOUBLE_VERSION = options.version
  if (options.fail) env.DECK_DOUBLE_FAIL = options.fail
  if (options.shuffle) env.DECK_DOUBLE_SHUFFLE = '1'
  return env
}

export async function readCalls(log: string): Promise<LoggedCall[]> {
  const text = await readFile(log, 'utf8').catch(() => '')
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as LoggedCall)
}
