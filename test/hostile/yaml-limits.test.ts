import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals'
import { parse } from 'yaml'

import { main } from '../../actions/cli/main.js'
import type { DeckRunner } from '../../actions/engine/deck/runner.js'
import { compareStateFiles } from '../../actions/engine/drift/compare.js'
import { buildDeclarativeConfig } from '../../actions/engine/restore/declarative-config.js'
import { readTykState } from '../../actions/engine/tyk/folder.js'
import { scanFile } from '../../actions/engine/state/secret-scan.js'
import { validate } from '../../actions/engine/validate.js'

/**
 * State files built to hurt the YAML reader: alias bombs, aliases that contain themselves, merge keys,
 * syntax errors on a secret's line, files too large to read. Every reader of state files (validate, the
 * commit's scan and drift report, redact, restore) refuses them at once with an error that says where
 * and why, and quotes nothing of the file.
 */

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deckhand-yaml-limits-'))
})
afterEach(() => rm(dir, { recursive: true, force: true }))

const secret = ['sup3r', 's3cret', 'Zx9Qw3'].join('-')

/** Nine levels of ten aliases each: a billion strings once expanded, a few hundred bytes as text. */
function aliasBomb(): string {
  const levels = ['x0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]']
  for (let i = 1; i < 9; i++)
    levels.push(
      `x${i}: &l${i} [${Array(10)
        .fill(`*l${i - 1}`)
        .join(', ')}]`,
    )
  // The bomb inside an entity too, so that any walk of the entities would expand it.
  return `_format_version: "3.0"\n${levels.join('\n')}\nservices:\n- name: bomb\n  host: h\n  tags: *l8\n`
}

/** One alias of a long list repeated under the yaml package's alias count: millions of values all the same. */
function wideAlias(): string {
  const items = Array.from({ length: 5000 }, (_, i) => `t${i}`).join(', ')
  const services = Array.from({ length: 900 }, (_, i) => `- name: s${i}\n  host: h\n  tags: *many`)
  return `_format_version: "3.0"\nx: &many [${items}]\nservices:\n${services.join('\n')}\n`
}

const SELF_REFERENCE =
  '_format_version: "3.0"\nservices: &loop\n- name: a\n  host: h\n  plugins:\n  - name: x\n    config: {again: *loop}\n'

/** A state file whose syntax error is on the line of a secret (a block scalar header with trailing text). */
const BROKEN_ON_SECRET = `_format_version: "3.0"\nconsumers:\n- username: a\n  keyauth_credentials:\n  - key: |-${secret}\n      x\n`

const deck = {
  deck: { features: { gatewayCommands: true } },
  // deck runs only when the local checks pass; it finds nothing more here.
  run: () => Promise.resolve({ stdout: '', stderr: '' }),
} as unknown as DeckRunner
const logger = { info: () => {}, warn: () => {}, debug: () => {} }

async function validateText(name: string, text: string) {
  const file = join(dir, name)
  await writeFile(file, text)
  return validate({ state: [file], deck, logger, env: {}, scanSecrets: true })
}

/** `deckhand redact FILE` in this process: its exit code and what it wrote. */
async function redact(file: string): Promise<{ code: number; stderr: string; stdout: string }> {
  let stderr = ''
  let stdout = ''
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk)
    return true
  })
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk)
    return true
  })
  try {
    const code = await main(['redact', file])
    return { code, stderr, stdout }
  } finally {
    err.mockRestore()
    out.mockRestore()
  }
}

const EXPANDS = /aliases expand too much/

describe('alias bombs', () => {
  test.each([
    ['nine levels of ten aliases', aliasBomb()],
    ['one long list aliased 900 times', wideAlias()],
  ])('%s: validate reports the file, fast, instead of crashing', async (_what, text) => {
    const started = Date.now()
    const result = await validateText('bomb.yaml', text)
    expect(result.valid).toBe(false)
    expect(result.problems).toEqual([
      expect.objectContaining({
        check: 'yaml',
        file: join(dir, 'bomb.yaml'),
        message: expect.stringMatching(EXPANDS),
      }),
    ])
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  test.each([
    ['nine levels of ten aliases', aliasBomb()],
    ['one long list aliased 900 times', wideAlias()],
  ])('%s: the commit scan refuses the file, and its drift report does not expand it', (_what, text) => {
    const started = Date.now()
    const findings = scanFile('kong/default.yaml', text)
    expect(findings).toEqual([
      expect.objectContaining({
        file: 'kong/default.yaml',
        unreadable: true,
        location: expect.stringMatching(EXPANDS),
      }),
    ])
    const drift = compareStateFiles(
      new Map([['kong/default.yaml', '_format_version: "3.0"\nservices:\n- name: bomb\n  host: h\n']]),
      new Map([['kong/default.yaml', text]]),
    )
    expect(drift.unreadable).toEqual([{ file: 'kong/default.yaml', error: expect.stringMatching(EXPANDS) }])
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  test.each([
    ['nine levels of ten aliases', aliasBomb()],
    ['one long list aliased 900 times', wideAlias()],
  ])('%s: redact refuses it at once and leaves the file alone', async (_what, text) => {
    const file = join(dir, 'bomb.yaml')
    await writeFile(file, text)
    const started = Date.now()
    const run = await redact(file)
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(EXPANDS)
    expect(run.stderr).toContain('nothing was changed')
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(await readFile(file, 'utf8')).toBe(text)
  })

  test('a few aliases of a shared value are read as usual', async () => {
    const text =
      '_format_version: "3.0"\nservices:\n- name: a\n  host: h\n  tags: &tags [x, y]\n- name: b\n  host: h\n  tags: *tags\n'
    const result = await validateText('shared.yaml', text)
    expect(result).toEqual(expect.objectContaining({ valid: true, problems: [] }))
  })
})

describe('an alias inside its own anchor', () => {
  test('validate, the commit scan, the drift report and redact all refuse the endless data', async () => {
    const endless = /refers to a value that contains it/
    const result = await validateText('loop.yaml', SELF_REFERENCE)
    expect(result.problems).toEqual([expect.objectContaining({ message: expect.stringMatching(endless) })])
    expect(scanFile('kong/loop.yaml', SELF_REFERENCE)).toEqual([
      expect.objectContaining({ unreadable: true, location: expect.stringMatching(endless) }),
    ])
    const drift = compareStateFiles(new Map(), new Map([['kong/loop.yaml', SELF_REFERENCE]]))
    expect(drift.unreadable).toEqual([{ file: 'kong/loop.yaml', error: expect.stringMatching(endless) }])
    const run = await redact(join(dir, 'loop.yaml'))
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(endless)
  })
})

describe('merge keys, as deck resolves them', () => {
  const text = [
    '_format_version: "3.0"',
    'services:',
    '- name: a',
    '  host: a',
    '  plugins:',
    '  - name: rate-limiting',
    '    config:',
    '      minute: 5',
    '      policy: redis',
    '      redis: &redis',
    '        host: redis.internal',
    `        password: ${secret}`,
    '- name: b',
    '  host: b',
    '  plugins:',
    '  - name: rate-limiting',
    '    config:',
    '      minute: 10',
    '      policy: redis',
    '      redis:',
    '        <<: *redis',
    '        port: 6380',
    '',
  ].join('\n')

  test('redaction replaces a secret reached through a merge key, and writes the merged values out', async () => {
    const file = join(dir, 'merge.yaml')
    await writeFile(file, text)
    const run = await redact(file)
    expect(run.stderr).not.toContain(secret)
    expect(run.code).toBe(0)
    const redacted = await readFile(file, 'utf8')
    expect(redacted).not.toContain(secret)
    expect(redacted).not.toContain('<<')
    const services = (parse(redacted) as { services: { plugins: { config: { redis: object } }[] }[] })
      .services
    expect(services.map((s) => s.plugins[0]!.config.redis)).toEqual([
      { host: 'redis.internal', password: expect.stringMatching(/^\$\{\{ env "DECK_/) },
      { host: 'redis.internal', password: expect.stringMatching(/^\$\{\{ env "DECK_/), port: 6380 },
    ])
    expect(run.stdout.trim().split('\n')).toHaveLength(2)
  })

  test('a DB-less restore merges as deck would: no literal << key reaches Kong', async () => {
    const file = join(dir, 'merge.yaml')
    await writeFile(file, text)
    const config = await buildDeclarativeConfig([file], {})
    const body = JSON.parse(config.body) as { services: { plugins: { config: { redis: object } }[] }[] }
    expect(body.services[1]!.plugins[0]!.config.redis).toEqual({
      host: 'redis.internal',
      password: secret,
      port: 6380,
    })
    expect(config.body).not.toContain('<<')
  })

  test('the commit scan finds the merged secret on the line of its text', () => {
    expect(scanFile('kong/merge.yaml', text)).toEqual([
      expect.objectContaining({
        line: 12,
        location: 'service a / plugin rate-limiting / config / redis / password',
      }),
      expect.objectContaining({
        line: 12,
        location: 'service b / plugin rate-limiting / config / redis / password',
      }),
    ])
  })
})

describe('syntax errors on the line of a secret', () => {
  test('every reader names file, line and column, and quotes nothing', async () => {
    const file = join(dir, 'broken.yaml')
    const result = await validateText('broken.yaml', BROKEN_ON_SECRET)
    expect(result.problems).toEqual([
      expect.objectContaining({ check: 'yaml', file, line: 5, column: expect.any(Number) }),
    ])
    expect(JSON.stringify(result)).not.toContain(secret)

    const findings = scanFile('kong/broken.yaml', BROKEN_ON_SECRET)
    expect(findings).toEqual([expect.objectContaining({ line: 5, unreadable: true })])
    expect(JSON.stringify(findings)).not.toContain(secret)

    const drift = compareStateFiles(new Map(), new Map([['kong/broken.yaml', BROKEN_ON_SECRET]]))
    expect(drift.unreadable).toEqual([{ file: 'kong/broken.yaml', error: expect.stringMatching(/line 5/) }])
    expect(JSON.stringify(drift)).not.toContain(secret)

    const run = await redact(file)
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(new RegExp(`${file}:5:\\d+: not valid YAML`))
    expect(run.stderr).not.toContain(secret)

    await expect(buildDeclarativeConfig([file], {})).rejects.toThrow(/broken\.yaml:5:\d+: not valid YAML/)
    await buildDeclarativeConfig([file], {}).catch((err: Error) => expect(err.message).not.toContain(secret))
  })

  test('a JSON file: JSON.parse never speaks (its message may quote the text), the place is found anyway', async () => {
    const text = `{\n  "_format_version": "3.0",\n  "consumers": [{"username": "a", "keyauth_credentials": [{"key": "${secret}" "x"}]}]\n}\n`
    const result = await validateText('broken.json', text)
    expect(result.problems).toEqual([expect.objectContaining({ check: 'yaml', line: 3 })])
    expect(JSON.stringify(result)).not.toContain(secret)
    const findings = scanFile('kong/broken.json', text)
    expect(findings).toEqual([expect.objectContaining({ line: 3, unreadable: true })])
    expect(JSON.stringify(findings)).not.toContain(secret)
  })

  test("a Tyk definition that is not JSON: V8's message would quote the text after the error", async () => {
    const file = join(dir, 'api.json')
    await writeFile(file, `{"api_id": "a", "proxy": {"listen_path": "/a/"}, "auth": {"secret": ${secret}}}\n`)
    const error = await readTykState([file]).catch((err: Error) => err)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toMatch(/api\.json:1:\d+: not valid JSON/)
    expect((error as Error).message).not.toContain(secret.slice(0, 6))
  })

  test('a key twice in one JSON object is refused: the first value would hide behind the second', () => {
    const text = `{"_format_version": "3.0", "consumers": [{"username": "a", "keyauth_credentials": [{"key": "${secret}", "key": "[redacted]"}]}]}`
    expect(scanFile('kong/dup.json', text)).toEqual([
      expect.objectContaining({
        line: 1,
        unreadable: true,
        location: expect.stringMatching(/DUPLICATE_KEY/),
      }),
    ])
  })
})

describe('files too large to read', () => {
  /** A sparse file just over the limit: its size says enough, its bytes are never read. */
  async function oversized(name: string): Promise<string> {
    const file = join(dir, name)
    const handle = await open(file, 'w')
    await handle.write('_format_version: "3.0"\n')
    await handle.truncate(128 * 2 ** 20 + 1)
    await handle.close()
    return file
  }

  test('validate reports the size and the way out, without reading the file', async () => {
    const file = await oversized('huge.yaml')
    const started = Date.now()
    const result = await validate({ state: [file], deck, logger, env: {}, scanSecrets: true })
    expect(result.problems).toEqual([
      {
        check: 'yaml',
        file,
        message: expect.stringMatching(
          /has 134,217,729 bytes, more than the 128 MiB a state file may have: split it/,
        ),
      },
    ])
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  test('redact and restore refuse it too', async () => {
    const file = await oversized('huge.json')
    const run = await redact(file)
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(
      /huge\.json: the file has 134,217,729 bytes, more than the 128 MiB .*; nothing was changed/,
    )
    await expect(buildDeclarativeConfig([file], {})).rejects.toThrow(
      /more than the 128 MiB a state file may have/,
    )
  })
})
