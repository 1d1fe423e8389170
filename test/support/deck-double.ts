// Helpers for tests that run the deck double (test/deck-double/, README.md there): a stand-in for decK v1.65.1
// and earlier releases after Kong/deck cmd/*.go, with diff and sync after go-database-reconciler
// pkg/diff/diff.go v1.40.3 (retries and the stop after a failure included, sync.mjs runEvents).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { parse, stringify } from 'yaml'

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
  /** The Konnect stand-in's state directory (`startKonnect(...).dir`), for deck's Konnect mode. */
  konnectDir?: string
}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: `${DOUBLE_DIR}:${process.env.PATH ?? ''}`,
    DECK_DOUBLE_GATEWAY: options.gateway ?? join(FIXTURES, 'enterprise.yaml'),
    DECK_DOUBLE_LOG: options.log,
  }
  if (options.version) env.DECK_DOUBLE_VERSION = options.version
  if (options.fail) env.DECK_DOUBLE_FAIL = options.fail
  if (options.shuffle) env.DECK_DOUBLE_SHUFFLE = '1'
  if (options.konnectDir) env.DECK_DOUBLE_KONNECT_DIR = options.konnectDir
  return env
}

export async function readCalls(log: string): Promise<LoggedCall[]> {
  const text = await readFile(log, 'utf8').catch(() => '')
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as LoggedCall)
}

/** A gateway fixture as parsed YAML: kongAddr, kongVersion, edition, workspaces, reject, ... */
export type GatewayFixture = Record<string, unknown>

/**
 * Copies test/fixtures/gateway/<name> into dir (deck gateway sync rewrites its fixture; the originals
 * must stay untouched), after letting edit change the parsed fixture (e.g. add `reject`). Returns the
 * copy's path.
 */
export async function copyFixture(
  name: string,
  dir: string,
  edit?: (fixture: GatewayFixture) => void,
): Promise<string> {
  const text = await readFile(join(FIXTURES, name), 'utf8')
  const path = join(dir, name)
  if (edit) {
    const fixture = parse(text) as GatewayFixture
    edit(fixture)
    await writeFile(path, stringify(fixture))
  } else await writeFile(path, text)
  return path
}

/** Secret values of test/fixtures/gateway/enterprise.yaml, taken from the fixture by hand. */
export const FIXTURE_SECRETS = [
  'r3d1s-billing-Pa55',
  'Zm9vYmFyLXNlc3Npb24tc2VjcmV0LTIwMjU=',
  'oidc-Cl13nt-S3cret-9f8e7d',
  'AKIAEXAMPLEBILLING42',
  'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  'logs-Ingest-T0ken-7c1d',
  'alice-K3y-6f4b2a9c',
  '8c6f5b0a3e9e2d7f1c4b6a5d3e2f1a0b9c8d7e6f',
  'hmac-S3cr3t-alice-1d2c',
  'jwt-HS256-Sh4red-S3cret-acme',
  'kHq3Zb8tXv1Wm6Yp0Rs4Lc9Nd2Fg7Jh5',
  'oauth2-Cl13nt-S3cret-acme',
  'hvs.CAESIJ0examplePaymentsVaultT0ken',
  'r3d1s-Sh4red-Pa55w0rd',
  'ScM8-LYDDF8jWRReMHOgpjjnT63ues3JcVn3K5gYzsE',
  'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC90H6CgLbWhdGy',
  'merchant-K3y-0a1b2c3d4e',
]

/** Rewrites a YAML (or JSON) file through `change`, as a user editing a deck file would. */
export async function editYaml<T = Record<string, unknown>>(
  file: string,
  change: (doc: T) => void,
): Promise<void> {
  const doc = parse(await readFile(file, 'utf8')) as T
  change(doc)
  await writeFile(file, stringify(doc))
}
