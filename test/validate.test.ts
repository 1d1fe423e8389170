import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { COMMANDS } from '../actions/spec.js'
import { checkDeckArgv } from './deck-double/flags.mjs'
import { maskedValues, runBundledAction, visibleLog } from './support/action.js'
import { doubleEnv, readCalls, workdir } from './support/deck-double.js'

const KONG = 'http://127.0.0.1:8001'
const TOKEN = 'kong-admin-s3cret'

let w: Awaited<ReturnType<typeof workdir>>
beforeEach(async () => {
  w = await workdir()
})
afterEach(() => w.cleanup())

async function file(name: string, text: string): Promise<string> {
  const path = join(w.dir, name)
  await mkdir(join(path, '..'), { recursive: true })
  await writeFile(path, text)
  return path
}

/** `::error file=F,line=N,…::message` lines of a step's output. */
function errorAnnotations(stdout: string): { props: string; message: string }[] {
  return [...stdout.matchAll(/^::error (.*?)::(.*)$/gm)].map((m) => ({ props: m[1]!, message: m[2]! }))
}

const VALID = '_format_version: "3.0"\nservices:\n- name: orders\n  host: orders.internal\n  port: 8080\n'

describe('validate action (bundled)', () => {
  test('a valid file passes deck file validate; the argv is real deck', async () => {
    const state = await file('kong/default.yaml', VALID)
    const run = await runBundledAction(
      'validate',
      { state: join(w.dir, 'kong') },
      { env: doubleEnv({ log: w.log }) },
    )
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ valid: 'true', problems: '0' })
    const calls = await readCalls(w.log)
    const validate = calls.find((c) => c.argv.includes('validate'))!
    expect(validate.argv.slice(0, 3)).toEqual(['file', 'validate', state])
    for (const call of calls) expect(checkDeckArgv(call.argv, '1.65.1')).toBeNull()
  })

  test('plaintext secrets are warned about by file and line, never by value, and do not fail validation', async () => {
    // Secrets only Kong's schemas (loggly's key, http-log's endpoint) or the value itself (a URL's
    // credentials) tell apart, beside a plain service.
    const key = ['lg', 'Zx9Qw3Ek7Rt5'].join('-')
    const password = ['pw', 'Yu1Io0Pa'].join('-')
    const text = [
      '_format_version: "3.0"',
      'plugins:',
      '- name: loggly',
      '  config:',
      `    key: ${key}`,
      '- name: opentelemetry',
      '  config:',
      `    traces_endpoint: https://otel:${password}@collector.internal:4318/v1/traces`,
      'services:',
      '- name: orders',
      '  host: orders.internal',
      '',
    ].join('\n')
    const state = await file('kong/default.yaml', text)
    const run = await runBundledAction('validate', { state }, { env: doubleEnv({ log: w.log }) })
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ valid: 'true', 'plaintext-secrets': '2' })
    const warnings = [...run.stdout.matchAll(/^::warning (.*?)::(.*)$/gm)].map((m) => [m[1], m[2]])
    expect(warnings).toEqual([
      [
        expect.stringContaining(`file=${state},line=5`),
        expect.stringContaining('plugin loggly / config / key'),
      ],
      [
        expect.stringContaining(`file=${state},line=8`),
        expect.stringContaining('plugin opentelemetry / config / traces_endpoint'),
      ],
    ])
    expect(run.summary).toContain('2 secret value(s) in plain text')
    for (const value of [key, password]) expect(run.stdout + run.summary).not.toContain(value)
  })

  test('redacted files validate once their variables are set, and every unset one is named at once', async () => {
    const text = `_format_version: "3.0"\nconsumers:\n- username: alice\n  keyauth_credentials:\n  - key: |-\n      \${{ env "DECK_ALICE_KEY" }}\n- username: bob\n  keyauth_credentials:\n  - key: |-\n      \${{ env "DECK_BOB_KEY" }}\n`
    const state = await file('kong/default.yaml', text)
    const missing = await runBundledAction('validate', { state }, { env: doubleEnv({ log: w.log }) })
    expect(missing.exitCode).toBe(1)
    const [annotation] = errorAnnotations(missing.stdout)
    expect(annotation!.props).toContain(`file=${state},line=6`)
    expect(annotation!.message).toMatch(
      /2 environment variable\(s\) .* not set: DECK_ALICE_KEY \(.*:6\), DECK_BOB_KEY \(.*:10\)/,
    )
    expect(await readCalls(w.log)).not.toContainEqual(
      expect.objectContaining({ argv: expect.arrayContaining(['validate']) }),
    )

    const set = await runBundledAction(
      'validate',
      { state },
      { env: { ...doubleEnv({ log: w.log }), DECK_ALICE_KEY: 'a', DECK_BOB_KEY: 'b' } },
    )
    expect(set.exitCode).toBe(0)
    expect(set.outputs.valid).toBe('true')
  })

  test.each([
    [
      'YAML syntax',
      'bad.yaml',
      '_format_version: "3.0"\nservices:\n- name: a\n  host: a: b\n  port: 80\n',
      /line=4/,
      /YAML: /,
    ],
    [
      'missing _format_version',
      'nofmt.yaml',
      'services:\n- name: a\n  host: h\n',
      /line=1/,
      /_format_version is missing/,
    ],
    [
      'duplicate names',
      'dup.yaml',
      '_format_version: "3.0"\nservices:\n- name: a\n  host: h\n- name: a\n  host: h2\n',
      /line=5/,
      /duplicate service "a" \(first defined on line 3\)/,
    ],
    [
      'duplicate keys',
      'dupkey.yaml',
      '_format_version: "3.0"\nservices: []\nservices: []\n',
      /line=3/,
      /YAML: .*unique/i,
    ],
  ])('%s is annotated with file and line', async (_name, name, text, line, message) => {
    const state = await file(name, text)
    const run = await runBundledAction('validate', { state }, { env: doubleEnv({ log: w.log }) })
    expect(run.exitCode).toBe(1)
    expect(run.outputs.valid).toBe('false')
    const [annotation] = errorAnnotations(run.stdout)
    expect(annotation!.props).toContain(`file=${state}`)
    expect(annotation!.props).toMatch(line)
    expect(annotation!.message).toMatch(message)
    expect(run.summary).toContain(name)
  })

  test("deck's own verdict is reported when the local checks pass", async () => {
    const state = await file(
      'kong.yaml',
      '_format_version: "3.0"\nservices:\n- name: s1\n  host: h\n  port: notanumber\n',
    )
    const run = await runBundledAction('validate', { state }, { env: doubleEnv({ log: w.log }) })
    expect(run.exitCode).toBe(1)
    expect(errorAnnotations(run.stdout)[0]!.message).toMatch(/deck file validate failed \(exit 1\).*port/)
  })

  test('annotation paths are relative to GITHUB_WORKSPACE, where GitHub looks for them', async () => {
    await file('kong/nofmt.yaml', 'services: []\n')
    const run = await runBundledAction(
      'validate',
      { state: join(w.dir, 'kong') },
      { env: { ...doubleEnv({ log: w.log }), GITHUB_WORKSPACE: w.dir } },
    )
    expect(errorAnnotations(run.stdout)[0]!.props).toContain('file=kong/nofmt.yaml,line=1')
  })

  test('more than ten problems: ten annotations, a notice with the rest, all of them in the summary', async () => {
    const services = Array.from({ length: 13 }, () => '- name: same\n  host: h\n').join('')
    const state = await file('many.yaml', `_format_version: "3.0"\nservices:\n${services}`)
    const run = await runBundledAction('validate', { state }, { env: doubleEnv({ log: w.log }) })
    expect(run.outputs.problems).toBe('12')
    expect(errorAnnotations(run.stdout)).toHaveLength(10)
    expect(run.stdout).toMatch(/::notice::2 more problem\(s\) not annotated/)
    expect(run.summary.match(/duplicate service/g)).toHaveLength(12)
  })

  test('online validation uses deck gateway validate with the token kept off the command line', async () => {
    await file('kong/default.yaml', VALID)
    const run = await runBundledAction(
      'validate',
      {
        state: join(w.dir, 'kong'),
        online: 'true',
        'kong-addr': KONG,
        'kong-admin-token': TOKEN,
        parallelism: '4',
      },
      { env: doubleEnv({ log: w.log }) },
    )
    expect(run.exitCode).toBe(0)
    expect(maskedValues(run.stdout)).toContain(TOKEN)
    expect(visibleLog(run.stdout) + run.summary).not.toContain(TOKEN)
    const validate = (await readCalls(w.log)).find((c) => c.argv.includes('validate'))!
    expect(validate.argv.slice(0, 2)).toEqual(['gateway', 'validate'])
    expect(validate.argv).toEqual(expect.arrayContaining(['--parallelism', '4', '--kong-addr', KONG]))
    expect(validate.argv.join(' ')).not.toContain(TOKEN)
    expect(validate.env.DECK_KONG_ADMIN_TOKEN).toBe(TOKEN)
    expect(checkDeckArgv(validate.argv, '1.65.1')).toBeNull()
  })

  test('legacy deck (before 1.28) validates through deck validate --state', async () => {
    const state = await file('kong.yaml', VALID)
    const run = await runBundledAction(
      'validate',
      { state },
      { env: doubleEnv({ log: w.log, version: '1.27.0' }) },
    )
    expect(run.exitCode).toBe(0)
    const validate = (await readCalls(w.log)).find((c) => c.argv.includes('validate'))!
    expect(validate.argv).toEqual(expect.arrayContaining(['validate', '--state', state]))
    expect(checkDeckArgv(validate.argv, '1.27.0')).toBeNull()
  })

  test.each([
    ['parallelism 0', { parallelism: '0' }, /parallelism must be a whole number from 1 to 256, got "0"/],
    [
      'parallelism abc',
      { parallelism: 'abc' },
      /parallelism must be a whole number from 1 to 256, got "abc"/,
    ],
    ['parallelism -2', { parallelism: '-2' }, /parallelism must be a whole number from 1 to 256/],
    ['online without kong-addr', { online: 'true' }, /kong-addr is required/],
    [
      'state that does not exist',
      { state: '/nonexistent/kong' },
      /state: \/nonexistent\/kong does not exist/,
    ],
    ['online not a boolean', { online: 'yes please' }, /online must be true or false/],
  ])('%s fails before deck runs, with a clear message', async (_name, inputs, message) => {
    const state = await file('kong.yaml', VALID)
    const run = await runBundledAction('validate', { state, ...inputs }, { env: doubleEnv({ log: w.log }) })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(new RegExp(`::error::.*${message.source}`))
    expect((await readCalls(w.log)).filter((c) => c.argv.includes('validate'))).toEqual([])
  })

  test('an empty directory is refused', async () => {
    await mkdir(join(w.dir, 'empty'))
    const run = await runBundledAction(
      'validate',
      { state: join(w.dir, 'empty') },
      { env: doubleEnv({ log: w.log }) },
    )
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(/holds no \.yaml, \.yml or \.json files/)
  })

  test('files of several workspaces are validated one workspace at a time', async () => {
    await file('kong/a.yaml', `${VALID}_workspace: a\n`)
    await file('kong/b.yaml', `${VALID}_workspace: b\n`)
    const run = await runBundledAction(
      'validate',
      { state: join(w.dir, 'kong') },
      { env: doubleEnv({ log: w.log }) },
    )
    expect(run.exitCode).toBe(0)
    const calls = (await readCalls(w.log)).filter((c) => c.argv.includes('validate'))
    expect(calls).toHaveLength(2)
    expect(await readFile(join(w.dir, 'kong/a.yaml'), 'utf8')).toContain('_workspace: a')
  })
})

describe('root action', () => {
  test('dispatches on command and refuses an unknown one', async () => {
    const state = await file('kong.yaml', VALID)
    const ok = await runBundledAction(
      'main',
      { command: 'validate', state },
      { env: doubleEnv({ log: w.log }) },
    )
    expect(ok.exitCode).toBe(0)
    expect(ok.outputs.valid).toBe('true')
    const bad = await runBundledAction('main', { command: 'frobnicate' }, { env: doubleEnv({ log: w.log }) })
    expect(bad.exitCode).toBe(1)
    expect(bad.stdout).toContain(
      `::error::command must be one of ${Object.keys(COMMANDS).join(', ')}; got "frobnicate"`,
    )
    expect(Object.keys(COMMANDS)).toContain('upgrade')
  })
})
