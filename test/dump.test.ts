import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parse } from 'yaml'

import { checkDeckArgv } from './deck-double/flags.mjs'
import { maskedValues, runBundledAction, runCli, visibleLog } from './support/action.js'
import { doubleEnv, FIXTURE_SECRETS, FIXTURES, readCalls, workdir } from './support/deck-double.js'

const KONG = 'http://127.0.0.1:8001'
const TOKEN = 'kong-admin-s3cret'

let w: Awaited<ReturnType<typeof workdir>>
let out: string
beforeEach(async () => {
  w = await workdir()
  out = join(w.dir, 'kong')
})
afterEach(() => w.cleanup())

const dumpInputs = (extra: Record<string, string> = {}) => ({
  'kong-addr': KONG,
  'kong-admin-token': TOKEN,
  'all-workspaces': 'true',
  'output-dir': out,
  ...extra,
})

async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {}
  for (const name of await readdir(dir).catch(() => [])) files[name] = await readFile(join(dir, name), 'utf8')
  return files
}

function cli(args: string[], env: Record<string, string>) {
  return runCli(args, { env: { ...env, HOME: w.dir } })
}

describe('dump action (bundled, run as the runner does)', () => {
  test('writes one normalized, redacted file per workspace, with outputs, manifest and summary', async () => {
    const run = await runBundledAction('dump', dumpInputs(), { env: doubleEnv({ log: w.log }) })
    expect(run.exitCode).toBe(0)
    expect(run.outputs.workspaces!.split('\n')).toEqual(['default', 'sandbox', 'team-payments'])
    expect(run.outputs.files!.split('\n')).toEqual(
      ['default', 'sandbox', 'team-payments'].map((ws) => join(out, `${ws}.yaml`)),
    )
    expect(run.outputs.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(run.outputs.changed).toBe('true')

    const files = await snapshot(out)
    expect(Object.keys(files).sort()).toEqual([
      'SHA256SUMS',
      'default.yaml',
      'required-env.txt',
      'sandbox.yaml',
      'team-payments.yaml',
    ])
    let entities = 0
    for (const ws of ['default', 'sandbox', 'team-payments']) {
      const doc = parse(files[`${ws}.yaml`]!)
      expect(doc._workspace).toBe(ws)
      expect(files[`${ws}.yaml`]).not.toMatch(/created_at|updated_at/)
      for (const key of ['services', 'consumers', 'plugins'])
        entities += JSON.stringify(doc[key] ?? []).length > 2 ? 1 : 0
    }
    expect(entities).toBeGreaterThan(0)
    expect(Number(run.outputs['entity-count'])).toBeGreaterThan(40)

    // Not one secret value anywhere a user or git could see it.
    expect(maskedValues(run.stdout)).toContain(TOKEN)
    const visible = [
      visibleLog(run.stdout),
      run.stderr,
      run.summary,
      JSON.stringify(run.outputs),
      ...Object.values(files),
    ].join('\n')
    for (const secret of [...FIXTURE_SECRETS, TOKEN])
      expect({ secret, leaked: visible.includes(secret) }).toEqual({ secret, leaked: false })
    // …but vault references are kept, and every reference is listed (by name only).
    expect(files['default.yaml']! + files['team-payments.yaml']).toContain('{vault://')
    const required = files['required-env.txt']!.split('\n').filter((l) => l.startsWith('DECK_'))
    expect(required.length).toBe(Number(run.outputs['secrets-redacted']))
    expect(run.outputs['required-env']!.split('\n')).toEqual(required)
    // A consumer is named by its username even when it also has a custom_id (the example in docs/security.md).
    expect(required).toContain('DECK_DEFAULT_CONSUMER_ALICE_KEYAUTH_1_KEY')
    for (const name of required)
      expect(files['default.yaml']! + files['team-payments.yaml']).toContain(`env "${name}"`)

    // The manifest is sha256sum format and matches every other file.
    const manifest = files.SHA256SUMS!.trim().split('\n')
    expect(manifest).toHaveLength(4)
    for (const line of manifest) {
      const [hash, name] = line.split('  ')
      expect(createHash('sha256').update(files[name!]!).digest('hex')).toBe(hash)
    }
    expect(run.summary).toContain('<table>')
    expect(run.summary).toMatch(/<td>services<\/td><td>\d+<\/td><td>0<\/td><td>\d+<\/td>/)
  })

  test('an unchanged gateway gives byte-identical files and digest, whatever order deck returns', async () => {
    const first = await runBundledAction('dump', dumpInputs(), { env: doubleEnv({ log: w.log }) })
    const before = await snapshot(out)
    const second = await runBundledAction('dump', dumpInputs(), {
      env: doubleEnv({ log: w.log, shuffle: true }),
    })
    expect(second.exitCode).toBe(0)
    expect(await snapshot(out)).toEqual(before)
    expect(second.outputs.digest).toBe(first.outputs.digest)
    expect(second.outputs.changed).toBe('false')
  })

  test('the admin token reaches deck only through its environment, never argv; every argv is valid deck', async () => {
    await runBundledAction(
      'dump',
      dumpInputs({ headers: 'X-Request-Source: deckhand-ci\nAuthorization: Bearer h34der-S3cret' }),
      {
        env: doubleEnv({ log: w.log }),
      },
    )
    const calls = await readCalls(w.log)
    const dumpCall = calls.find((c) => c.argv.includes('dump'))!
    expect(dumpCall.env.DECK_KONG_ADMIN_TOKEN).toBe(TOKEN)
    expect(dumpCall.config).toEqual({
      headers: ['X-Request-Source:deckhand-ci', 'Authorization:Bearer h34der-S3cret'],
    })
    for (const call of calls) {
      expect(call.argv.join(' ')).not.toMatch(/kong-admin-s3cret|h34der-S3cret/)
      expect(checkDeckArgv(call.argv, '1.65.1')).toBeNull()
    }
  })

  test('with deck older than 1.64 the token travels as a header in the private config file', async () => {
    const run = await runBundledAction('dump', dumpInputs(), {
      env: doubleEnv({ log: w.log, version: '1.50.0' }),
    })
    expect(run.exitCode).toBe(0)
    const dumpCall = (await readCalls(w.log)).find((c) => c.argv.includes('dump'))!
    expect(dumpCall.argv.join(' ')).not.toContain(TOKEN)
    expect(dumpCall.env.DECK_KONG_ADMIN_TOKEN).toBeUndefined()
    expect(dumpCall.config).toEqual({ headers: [`Kong-Admin-Token:${TOKEN}`] })
    expect(checkDeckArgv(dumpCall.argv, '1.50.0')).toBeNull()
  })

  test('with deck older than 1.28 the legacy dump command is used', async () => {
    const run = await runBundledAction(
      'dump',
      dumpInputs({ 'all-workspaces': 'false', workspace: 'team-payments' }),
      {
        env: doubleEnv({ log: w.log, version: '1.27.0' }),
      },
    )
    expect(run.exitCode).toBe(0)
    const dumpCall = (await readCalls(w.log)).find((c) => c.argv.includes('dump'))!
    expect(dumpCall.argv[0]).toBe('dump')
    expect(checkDeckArgv(dumpCall.argv, '1.27.0')).toBeNull()
    expect(run.outputs.workspaces).toBe('team-payments')
  })

  test('select-tags, skip-consumers and a single workspace reach deck and shape the files', async () => {
    const run = await runBundledAction(
      'dump',
      dumpInputs({ 'all-workspaces': 'false', workspace: 'default', 'skip-consumers': 'true' }),
      { env: doubleEnv({ log: w.log }) },
    )
    expect(run.exitCode).toBe(0)
    const doc = parse(await readFile(join(out, 'default.yaml'), 'utf8'))
    expect(doc.consumers).toBeUndefined()
    expect(doc.services.length).toBeGreaterThan(0)
  })

  describe('bad input fails clearly, exits non-zero and keeps the previous backup', () => {
    let previous: Record<string, string>
    beforeEach(async () => {
      expect(
        (await runBundledAction('dump', dumpInputs(), { env: doubleEnv({ log: w.log }) })).exitCode,
      ).toBe(0)
      previous = await snapshot(out)
    })

    test.each([
      ['missing kong-addr', { 'kong-addr': '' }, {}, /kong-addr is required/],
      [
        'malformed kong-addr',
        { 'kong-addr': 'ftp://kong-admin:8001' },
        {},
        /must use http:\/\/ or https:\/\//,
      ],
      ['not a URL', { 'kong-addr': 'http//nope' }, {}, /is not a URL/],
      [
        'credentials in kong-addr',
        { 'kong-addr': 'http://admin:pw@127.0.0.1:8001' },
        {},
        /must not contain credentials/,
      ],
      [
        'unreachable address',
        { 'kong-addr': 'http://127.0.0.1:9' },
        {},
        /deck gateway dump failed \(exit 1\).*127\.0\.0\.1:9/,
      ],
      ['wrong token', { 'kong-admin-token': 'not-the-token' }, {}, /deck gateway dump failed.*401/],
      ['deck missing', { 'deck-path': '/nonexistent/deck' }, {}, /\/nonexistent\/deck/],
      ['deck exiting 1', {}, { fail: 'error' as const }, /deck gateway dump failed \(exit 1\)/],
      [
        'deck killed mid-dump',
        {},
        { fail: 'crash' as const },
        /deck gateway dump was stopped by SIGKILL|deck gateway dump failed/,
      ],
      ['unknown workspace', { 'all-workspaces': 'false', workspace: 'no-such-ws' }, {}, /no-such-ws/],
      ['workspace with all-workspaces', { workspace: 'default' }, {}, /exclude each other/],
      ['invalid boolean', { 'redact-secrets': 'maybe' }, {}, /redact-secrets must be true or false/],
      [
        'timeout out of range',
        { timeout: '0' },
        {},
        /timeout must be a whole number from 1 to 3600 \(seconds\)/,
      ],
      ['bad header line', { headers: 'no colon here' }, {}, /headers: each line must be "Name: value"/],
    ])('%s', async (_name, inputs, fault, message) => {
      const run = await runBundledAction('dump', dumpInputs(inputs), {
        env: doubleEnv({ log: w.log, ...fault }),
      })
      expect(run.exitCode).not.toBe(0)
      expect(run.stdout).toMatch(new RegExp(`::error::.*${message.source}`))
      expect(await snapshot(out)).toEqual(previous)
      expect(visibleLog(run.stdout) + run.stderr).not.toContain(TOKEN)
    })

    test('an empty dump does not replace a non-empty one unless allowed', async () => {
      const empty = join(w.dir, 'empty-gateway.yaml')
      const fixture = parse(await readFile(join(FIXTURES, 'enterprise.yaml'), 'utf8'))
      fixture.workspaces = { default: {}, sandbox: {}, 'team-payments': {} }
      await writeFile(empty, JSON.stringify(fixture))
      const refused = await runBundledAction('dump', dumpInputs(), {
        env: doubleEnv({ log: w.log, gateway: empty }),
      })
      expect(refused.exitCode).not.toBe(0)
      expect(refused.stdout).toMatch(/::error::deck returned no entities, but the previous dump .* holds \d+/)
      expect(await snapshot(out)).toEqual(previous)

      const allowed = await runBundledAction('dump', dumpInputs({ 'allow-empty': 'true' }), {
        env: doubleEnv({ log: w.log, gateway: empty }),
      })
      expect(allowed.exitCode).toBe(0)
      expect(allowed.outputs['entity-count']).toBe('0')
    })

    test('a workspace that disappeared has its file removed, files deckhand does not own stay', async () => {
      await writeFile(join(out, 'NOTES.md'), 'kept')
      const fewer = join(w.dir, 'fewer.yaml')
      const fixture = parse(await readFile(join(FIXTURES, 'enterprise.yaml'), 'utf8'))
      delete fixture.workspaces.sandbox
      await writeFile(fewer, JSON.stringify(fixture))
      const run = await runBundledAction('dump', dumpInputs(), {
        env: doubleEnv({ log: w.log, gateway: fewer }),
      })
      expect(run.exitCode).toBe(0)
      const files = await snapshot(out)
      expect(files['sandbox.yaml']).toBeUndefined()
      expect(files['NOTES.md']).toBe('kept')
      expect(files.SHA256SUMS).not.toContain('sandbox.yaml')
    })
  })

  test('output-dir that is a file is refused', async () => {
    await writeFile(join(w.dir, 'file'), 'x')
    const run = await runBundledAction('dump', dumpInputs({ 'output-dir': join(w.dir, 'file') }), {
      env: doubleEnv({ log: w.log }),
    })
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout).toMatch(
      /::error::Input output-dir: .* is a file, not a directory; name a directory to write into/,
    )
    expect(await readFile(join(w.dir, 'file'), 'utf8')).toBe('x')
  })

  test('no temporary files are left in output-dir or RUNNER_TEMP-style locations', async () => {
    await mkdir(out, { recursive: true })
    await runBundledAction('dump', dumpInputs(), { env: doubleEnv({ log: w.log, fail: 'crash' }) })
    expect((await readdir(out)).filter((f) => f.startsWith('.'))).toEqual([])
    expect((await stat(out)).isDirectory()).toBe(true)
  })
})

describe('deckhand CLI', () => {
  test('dump reads secrets from the environment and prints a report; --json prints the outputs', async () => {
    const env = { ...doubleEnv({ log: w.log }), DECKHAND_KONG_ADMIN_TOKEN: TOKEN }
    const text = await cli(['dump', '--kong-addr', KONG, '--all-workspaces', '--output-dir', out], env)
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/Entities per workspace/)
    expect(text.stdout).toMatch(/^services\s+\d+\s+0\s+\d+$/m)
    const json = await cli(
      ['dump', '--kong-addr', KONG, '--all-workspaces', '--output-dir', out, '--json'],
      env,
    )
    expect(JSON.parse(json.stdout)).toMatchObject({
      changed: 'false',
      workspaces: 'default\nsandbox\nteam-payments',
    })
    expect(text.stdout + text.stderr + json.stdout + json.stderr).not.toContain(TOKEN)
  })

  test('the CLI and the action write the same bytes', async () => {
    const env = { ...doubleEnv({ log: w.log }), DECKHAND_KONG_ADMIN_TOKEN: TOKEN }
    expect(
      (await cli(['dump', '--kong-addr', KONG, '--all-workspaces', '--output-dir', join(w.dir, 'cli')], env))
        .code,
    ).toBe(0)
    await runBundledAction('dump', dumpInputs(), { env: doubleEnv({ log: w.log }) })
    expect(await snapshot(join(w.dir, 'cli'))).toEqual(await snapshot(out))
  })

  test('usage errors exit 2, failures exit 1 with the reason', async () => {
    const env = doubleEnv({ log: w.log })
    expect((await cli(['dump', '--no-such-option'], env)).code).toBe(2)
    expect((await cli(['frobnicate'], env)).code).toBe(2)
    const failed = await cli(['dump', '--output-dir', out], env)
    expect(failed.code).toBe(2)
    expect(failed.stderr).toMatch(/--kong-addr \(or DECKHAND_KONG_ADDR\) is required/)
  })

  test('redact rewrites a plaintext deck file in place and lists the variables', async () => {
    const env = { ...doubleEnv({ log: w.log }), DECKHAND_KONG_ADMIN_TOKEN: TOKEN }
    const plain = join(w.dir, 'plain')
    expect(
      (
        await cli(
          [
            'dump',
            '--kong-addr',
            KONG,
            '--workspace',
            'default',
            '--redact-secrets=false',
            '--output-dir',
            plain,
          ],
          env,
        )
      ).code,
    ).toBe(0)
    const file = join(plain, 'default.yaml')
    expect(await readFile(file, 'utf8')).toContain('alice-K3y-6f4b2a9c')
    const run = await cli(['redact', file], env)
    expect(run.code).toBe(0)
    const text = await readFile(file, 'utf8')
    for (const secret of FIXTURE_SECRETS)
      expect({ secret, leaked: text.includes(secret) }).toEqual({ secret, leaked: false })
    expect(run.stdout.trim().split('\n').length).toBeGreaterThan(10)
  })
})
