import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { build } from 'esbuild'
import { parse } from 'yaml'

import { parseState, type PathPart } from '../../actions/engine/state/read.js'
import { readYaml } from '../../actions/engine/state/yaml-read.js'
import { toYaml } from '../../actions/engine/state/yaml.js'
import { ROOT } from '../support/action.js'

/**
 * Large state files: read without the `yaml` package's document of the whole file (some seventy times
 * the text in memory), and a large YAML file read in pieces to exactly the data of one document.
 */

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deckhand-large-state-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

/** A busy gateway: services with routes and a plugin holding a password, consumers with key-auth keys. */
function gateway(services: number, consumers: number): Record<string, unknown> {
  return {
    _format_version: '3.0',
    services: Array.from({ length: services }, (_, i) => ({
      name: `svc-${i}`,
      host: `svc-${i}.internal`,
      port: 8080,
      retries: 5,
      tags: ['team-a', 'prod'],
      routes: [
        { name: `svc-${i}-r1`, paths: [`/api/${i}`], methods: ['GET', 'POST'], strip_path: true },
        { name: `svc-${i}-r2`, hosts: [`h${i}.example.com`], protocols: ['https'] },
      ],
      plugins: [
        {
          name: 'rate-limiting',
          config: {
            minute: 100,
            policy: 'redis',
            redis: { host: 'redis', port: 6379, password: `pw-${i}-x` },
          },
        },
      ],
    })),
    consumers: Array.from({ length: consumers }, (_, i) => ({
      username: `user-${i}`,
      custom_id: `cid-${i}`,
      keyauth_credentials: [{ key: `key-${i}-${(i * 2654435761) % 4294967296}` }],
      acls: [{ group: 'users' }],
    })),
  }
}

/** The engine's validate, bundled, so that it runs in a child process of its own with a small heap. */
async function bundledValidate(): Promise<string> {
  const entry = `
import { readFileSync } from 'node:fs'
import { validate } from ${JSON.stringify(join(ROOT, 'actions/engine/validate.ts'))}
const deck = { deck: { features: { gatewayCommands: true } }, run: async () => ({ stdout: '', stderr: '' }) }
const logger = { info() {}, warn() {}, debug() {} }
const result = await validate({ state: [process.argv[2]], deck, logger, env: {}, scanSecrets: true })
console.log(JSON.stringify({
  valid: result.valid,
  problems: result.problems.length,
  secrets: result.secrets.length,
  // VmHWM, this process's own peak: getrusage's maxRSS survives execve and would include the test worker's.
  peakMiB: Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024,
}))`
  const out = join(dir, 'validate.mjs')
  await build({
    stdin: { contents: entry, resolveDir: ROOT, loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    outfile: out,
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
    },
    logLevel: 'silent',
  })
  return out
}

describe('a large JSON state file', () => {
  test('validates (local checks and secret scan) in a process with a 256 MiB heap', async () => {
    // About 20 MB: as deck writes JSON, indented.
    const text = JSON.stringify(gateway(13_500, 33_000), null, 2)
    expect(text.length).toBeGreaterThan(19_000_000)
    const file = join(dir, 'kong.json')
    await writeFile(file, text)
    const script = await bundledValidate()
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
      execFile(
        process.execPath,
        ['--max-old-space-size=256', script, file],
        { maxBuffer: 1 << 20 },
        (err, stdout, stderr) => done({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      ),
    )
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const result = JSON.parse(run.stdout) as {
      valid: boolean
      problems: number
      secrets: number
      peakMiB: number
    }
    // Every key-auth key and every Redis password is a secret in plain text.
    expect(result).toEqual({ valid: true, problems: 0, secrets: 46_500, peakMiB: expect.any(Number) })
    expect(result.peakMiB).toBeLessThan(512)
  })
})

describe('a large YAML state file, read in pieces', () => {
  /** Deck's layout plus what hand-written files add: comments, indented lists, block and flow values. */
  function handWritten(): string {
    const deckStyle = toYaml(gateway(300, 600))
    return [
      '# A gateway, edited by hand.',
      '',
      deckStyle.replace('consumers:\n', 'consumers:\n# The first consumers.\n'),
      'upstreams:',
      '  - name: up-1 # indented list items',
      '    targets:',
      '      - target: 10.0.0.1:80',
      '  # a comment between items',
      '  - name: up-2',
      '    healthchecks: {active: {type: http, http_path: "/health"}}',
      'ca_certificates:',
      '- cert: |',
      '    -----BEGIN CERTIFICATE-----',
      '    MIIB',
      '',
      '    -----END CERTIFICATE-----',
      '  tags: [a, "b: c"]',
      '"plugins":',
      '- name: prometheus',
      '  config: {per_consumer: false}',
      '',
    ].join('\n')
  }

  test.each([256, 1024, 16 * 1024])('in pieces of %i characters: the data of one document', (chunkChars) => {
    const text = handWritten()
    expect(parseState(text, 'kong.yaml', { chunkChars }).data).toEqual(parse(text))
    expect(readYaml(text, chunkChars).pieces).toBeGreaterThan(text.length / chunkChars / 2)
  })

  // Scalars that continue at the left margin: valid YAML whose lines look like the start of a new entry.
  test.each([
    ['a quoted scalar', 'note: "first part\nsecond: part"\n'],
    ['a single-quoted scalar', "note: 'first part\nsecond: part'\n"],
    ['a plain scalar', 'note: first part\n  continued here\n'],
    ['a flow mapping', 'meta: {a: 1,\nb: 2}\n'],
  ])('%s that continues at the left margin reads as one document reads it', (_label, odd) => {
    const text = `_format_version: "3.0"\n${odd}${toYaml(gateway(40, 40))}`
    let whole: unknown
    try {
      whole = parse(text)
    } catch {
      whole = 'invalid'
    }
    let pieces: unknown
    try {
      pieces = parseState(text, 'kong.yaml', { chunkChars: 256 }).data
    } catch {
      pieces = 'invalid'
    }
    expect(pieces).toEqual(whole)
  })

  test('values are placed on the lines one document gives them', () => {
    const text = handWritten()
    const paths: PathPart[][] = [
      ['services', 0, 'plugins', 0, 'config', 'redis', 'password'],
      ['services', 299, 'routes', 1, 'hosts', 0],
      ['consumers', 0],
      ['consumers', 599, 'keyauth_credentials', 0, 'key'],
      ['upstreams', 1, 'healthchecks', 'active', 'http_path'],
      ['ca_certificates', 0, 'cert'],
      ['plugins', 0, 'name'],
      ['consumers', 600],
      ['nothing'],
    ]
    const whole = parseState(text, 'kong.yaml', { chunkChars: Infinity }).lines(paths)
    expect(whole.slice(-2)).toEqual([undefined, undefined])
    expect(whole.slice(0, -2).every((line) => typeof line === 'number')).toBe(true)
    expect(parseState(text, 'kong.yaml', { chunkChars: 256 }).lines(paths)).toEqual(whole)
  })

  test.each([
    [
      'a syntax error in a later piece',
      (text: string) => text.replace('  custom_id: cid-500\n', ' custom_id: cid-500\n'),
      /not valid YAML/,
    ],
    ['a top-level key twice', (text: string) => `${text}consumers: []\n`, /DUPLICATE_KEY/],
    [
      'a key twice in an entity',
      (text: string) => text.replace('  custom_id: cid-300\n', '  custom_id: cid-300\n  custom_id: x\n'),
      /DUPLICATE_KEY/,
    ],
  ])('%s is reported at the line one document reports', (_what, edit, code) => {
    const text = edit(handWritten())
    const error = (chunkChars: number) => {
      try {
        parseState(text, 'kong.yaml', { chunkChars })
      } catch (err) {
        return err as Error & { line?: number; column?: number }
      }
      throw new Error('no error')
    }
    const whole = error(Infinity)
    const pieces = error(256)
    expect(whole.message).toMatch(code)
    expect({ line: pieces.line, column: pieces.column }).toEqual({ line: whole.line, column: whole.column })
  })

  test('anchors, directives and text at the left margin that is no key are read as one document', () => {
    const base = handWritten()
    for (const text of [`${base}x: &a [1]\ny: *a\n`, `%YAML 1.2\n---\n${base}`, `${base}z: [1,\n 2\n]\n`]) {
      expect(parseState(text, 'kong.yaml', { chunkChars: 256 }).data).toEqual(parse(text, { merge: true }))
    }
  })
})
