// validate, diff and sync on a runner that cannot get deck: no deck on PATH, and the release address
// (DECKHAND_DECK_RELEASES_URL) a loopback port nothing listens on. Every local check still reports.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { runBundledAction, runCli } from './support/action.js'
import { closedPort } from './support/release-server.js'

let dir: string
let noDeck: Record<string, string>
let port: number
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deckhand-offline-'))
  const emptyPath = join(dir, 'bin')
  await mkdir(emptyPath)
  port = await closedPort()
  noDeck = {
    PATH: emptyPath,
    DECKHAND_DECK_RELEASES_URL: `http://127.0.0.1:${port}/Kong/deck/releases`,
  }
})
afterEach(() => rm(dir, { recursive: true, force: true }))

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, text)
  return path
}

/** The ways around the download, named as the surface takes them (the CLI wraps its report at 100 columns). */
function expectWaysOut(message: string, deckPath = 'set deck-path to a deck binary'): void {
  const text = message.replace(/\s+/g, ' ')
  expect(text).toContain(deckPath)
  expect(text).toContain('put deck on PATH')
  expect(text).toContain("set DECKHAND_DECK_RELEASES_URL to a reachable mirror of deck's releases")
}

const errors = (stdout: string) => [...stdout.matchAll(/^::error(.*?)::(.*)$/gm)].map((m) => [m[1]!, m[2]!])

const BAD_YAML = '_format_version: "3.0"\nservices:\n- name: a\n  host: a: b\n  port: 80\n'
// Valid, with a plaintext secret: a local finding that must reach the report though deck cannot run.
const VALID = [
  '_format_version: "3.0"',
  'plugins:',
  '- name: loggly',
  '  config:',
  '    key: lg-offline-Zx9Qw3',
  'services:',
  '- name: orders',
  '  host: orders.internal',
  '',
].join('\n')

describe('validate (bundled action) without a deck to be had', () => {
  test('a YAML error is reported with file and line, and no download is attempted', async () => {
    const state = await file('bad.yaml', BAD_YAML)
    const run = await runBundledAction('validate', { state }, { env: noDeck })
    expect(run.exitCode).toBe(1)
    expect(run.outputs).toMatchObject({ valid: 'false', problems: '1' })
    const [[props, message]] = errors(run.stdout) as [[string, string]]
    expect(props).toContain(`file=${state},line=4`)
    expect(message).toMatch(/YAML/)
    expect(run.stdout).toMatch(
      /::error::deckhand validate: 1 problem\(s\) in 1 file\(s\); deck's own validation runs once they are fixed/,
    )
    expect(run.stdout).not.toMatch(/Downloading deck|ECONNREFUSED/)
  })

  test('a valid file passes the local checks; the step fails only because deck could not be had, naming why', async () => {
    const state = await file('kong.yaml', VALID)
    const run = await runBundledAction('validate', { state }, { env: noDeck })
    expect(run.exitCode).toBe(1)
    expect(run.outputs).toMatchObject({ valid: 'false', problems: '0', 'plaintext-secrets': '1' })
    // The local finding (a plaintext secret, by file and line) is reported all the same.
    expect(run.stdout).toMatch(
      new RegExp(`^::warning .*file=${state},line=5.*::.*plugin loggly / config / key`, 'm'),
    )
    const [[, failure]] = errors(run.stdout) as [[string, string]]
    expect(failure).toContain(
      "deckhand validate: The local checks of 1 file(s) passed, but deck's own validation could not run: " +
        `Could not download deck 1.65.1 from http://127.0.0.1:${port}/Kong/deck/releases/download/v1.65.1/`,
    )
    expect(failure).toContain('the connection to 127.0.0.1 was refused (ECONNREFUSED')
    expectWaysOut(failure)
    expect(run.summary).toContain("deck's own validation could not run")
    expect(run.stdout + run.summary).not.toContain('lg-offline-Zx9Qw3')
  })

  test('the CLI says the same', async () => {
    const state = await file('kong.yaml', VALID)
    const { code, stdout } = await runCli(['validate', '--state', state], {
      env: { ...noDeck, HOME: dir, DECKHAND_CACHE_DIR: join(dir, 'cache') },
    })
    expect(code).toBe(1)
    expect(stdout.replace(/\s+/g, ' ')).toContain(
      "The local checks of 1 file(s) passed, but deck's own validation could not run:",
    )
    expect(stdout).toContain('ECONNREFUSED')
    expectWaysOut(stdout, 'set --deck-path (or DECKHAND_DECK_PATH) to a deck binary')
    expect(stdout.replace(/\s+/g, ' ')).toMatch(
      /warning: \S*kong\.yaml:5: plaintext secret: plugin loggly \/ config \/ key holds a secret/,
    )
  })
})

describe('diff and sync (bundled actions) without a deck to be had', () => {
  test.each(['diff', 'sync'])('%s names every unset variable before deck is looked for', async (command) => {
    const state = await file(
      'kong.yaml',
      '_format_version: "3.0"\nservices:\n- name: a\n  host: ${{ env "DECK_A_HOST" }}\n',
    )
    const run = await runBundledAction(
      command,
      { state, 'kong-addr': 'http://127.0.0.1:8001' },
      { env: noDeck },
    )
    expect(run.exitCode).toBe(1)
    const [[props, message]] = errors(run.stdout) as [[string, string]]
    expect(props).toContain(`file=${state},line=4`)
    expect(message).toMatch(/DECK_A_HOST/)
    expect(run.stdout).not.toMatch(/Downloading deck|ECONNREFUSED/)
  })
})
