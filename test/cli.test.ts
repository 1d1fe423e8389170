import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { renderText } from '../actions/cli/text.js'
import { emptyReport } from '../actions/engine/report.js'
import { runCli } from './support/action.js'
import { doubleEnv, readCalls, workdir } from './support/deck-double.js'
import { type KongStandIn, startKongStandIn } from './support/kong-admin.js'

/** The bundled CLI (dist/cli/index.js), run as a user runs it: exit codes, stdout and stderr. */

const TOKEN = 'doctor-adm1n-token'

let w: Awaited<ReturnType<typeof workdir>>
beforeEach(async () => {
  w = await workdir()
})
afterEach(() => w.cleanup())

function cli(args: string[], env: Record<string, string> = {}) {
  return runCli(args, { env: { ...doubleEnv({ log: w.log }), HOME: w.dir, ...env }, cwd: w.dir })
}

const longestLine = (text: string) => Math.max(0, ...text.split('\n').map((l) => l.length))

describe('usage errors exit 2, with a suggestion', () => {
  test.each([
    [['dumpp'], /unknown command "dumpp" \(did you mean dump\?\)/],
    [['dump', '--kong-adr', 'x'], /unknown option --kong-adr \(did you mean --kong-addr\?\)/],
    [['dump', '--output-dri', 'x'], /did you mean --output-dir\?/],
    [['backups', 'lst'], /unknown subcommand "lst" \(did you mean list\?\)/],
    [['backups', 'list', '--stor', 'x'], /unknown option --stor \(did you mean --store\?\)/],
    [['secrets', 'rekye'], /did you mean rekey\?/],
    [['secrets', 'list', '--bundel', 'x'], /did you mean --bundle\?/],
    [['redact', '--workspac', 'x', 'f.yaml'], /did you mean --workspace\?/],
    [['doctor', '--kong-adr', 'x'], /did you mean --kong-addr\?/],
  ])('%j', async (args, message) => {
    const run = await cli(args)
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(message)
  })

  test('a missing required option names the option and its variable', async () => {
    const run = await cli(['dump', '--output-dir', join(w.dir, 'out')])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/--kong-addr \(or DECKHAND_KONG_ADDR\) is required/)
    expect(run.stderr).not.toMatch(/Input kong-addr/)
  })

  test.each([
    [['--timeout', 'abc'], /--timeout must be a whole number from 1 to 3600 \(seconds\), got "abc"/],
    [['--timeout', '99999'], /--timeout must be a whole number/],
    [['--all-workspaces=maybe'], /--all-workspaces is true or false, got "maybe"/],
    [['--no-redact-secrets=true'], /--no-redact-secrets takes no value/],
    [['--workspace', 'a', '--workspace', 'b'], /--workspace is given twice/],
  ])('bad value %j', async (args, message) => {
    const run = await cli(['dump', '--kong-addr', 'localhost:1', ...args])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(message)
  })

  test('an address with another scheme is refused by name', async () => {
    const run = await cli(['dump', '--kong-addr', 'ftp://kong:8001'])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(
      /--kong-addr "ftp:\/\/kong:8001" must use http:\/\/ or https:\/\/, not ftp:\/\//,
    )
  })

  test('options of two gateways at once: a usage error in the words of the CLI', async () => {
    const run = await cli([
      'dump',
      '--gateway',
      'tyk',
      '--tyk-addr',
      'localhost:1',
      '--select-tags',
      'team-a',
    ])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('--select-tags is for Kong and cannot be used with --gateway tyk.')
  })

  test('engine messages name options as the CLI spells them', async () => {
    const dir = join(w.dir, 'a-file')
    await writeFile(dir, '')
    const run = await cli(['dump', '--kong-addr', 'localhost:1', '--output-dir', dir])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/--output-dir: .* is a file, not a directory/)
    expect(run.stderr).not.toMatch(/Input output-dir/)
  })
})

describe('booleans and addresses', () => {
  test('--no-flag, --flag=false and --flag all parse; host:port reads as http://host:port', async () => {
    // The deck double serves its fixture at 127.0.0.1:8001 (test/deck-double/README.md).
    const hostPort = '127.0.0.1:8001'
    for (const flag of ['--no-redact-secrets', '--redact-secrets=false', '--redact-secrets']) {
      const run = await cli(
        ['dump', '--kong-addr', hostPort, '--workspace', 'default', flag, '--output-dir', join(w.dir, 'out')],
        { DECKHAND_KONG_ADMIN_TOKEN: 'kong-admin-s3cret' },
      )
      expect({ flag, code: run.code, stderr: run.stderr }).toEqual({
        flag,
        code: 0,
        stderr: expect.any(String),
      })
    }
    const dumps = (await readCalls(w.log)).filter((c) => c.argv.includes('dump'))
    expect(dumps).toHaveLength(3)
    for (const call of dumps) expect(call.argv).toContain(`http://${hostPort}`)
  })
})

describe('help', () => {
  test('Kong commands leave the Tyk options out unless asked, and booleans read --[no-]flag', async () => {
    const help = await cli(['dump', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^ {2}--\[no-\]redact-secrets$/m)
    expect(help.stdout).toMatch(/^Kong Admin API options:$/m)
    expect(help.stdout).not.toMatch(/--tyk-addr/)
    expect(help.stdout).toMatch(/more options for --gateway tyk: deckhand dump --help tyk/)
    expect(help.stdout).toMatch(/host:port means\s+http:\/\/host:port/)
    expect(help.stdout).not.toContain('${{')
    expect(longestLine(help.stdout)).toBeLessThanOrEqual(100)

    const tyk = await cli(['dump', '--help', 'tyk'])
    expect(tyk.stdout).toMatch(/^Tyk options/m)
    expect(tyk.stdout).toMatch(/--tyk-addr/)
    expect(tyk.stdout).not.toMatch(/--kong-addr/)
    const all = await cli(['dump', '--help-all'])
    expect(all.stdout).toMatch(/--tyk-addr/)
    expect(all.stdout).toMatch(/--kong-addr/)
  })

  test('the commit help shows no runner expression as a default', async () => {
    const help = await cli(['commit', '--help'])
    expect(help.stdout).toMatch(/--github-token/)
    expect(help.stdout).not.toContain('github.token')
  })
})

describe('reports fit 100 columns and say each thing once', () => {
  test('a validate report with long problems', async () => {
    const services = Array.from(
      { length: 4 },
      (_, i) =>
        `- name: service-with-a-rather-long-name-number-${i}\n  host: h\n- name: service-with-a-rather-long-name-number-${i}\n  host: h\n`,
    ).join('')
    await mkdir(join(w.dir, 'kong'))
    await writeFile(join(w.dir, 'kong', 'default.yaml'), `_format_version: "3.0"\nservices:\n${services}`)
    const run = await cli(['validate', '--state', join(w.dir, 'kong', 'default.yaml')])
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/4 problem\(s\)/)
    expect(longestLine(run.stdout)).toBeLessThanOrEqual(100)
    // Each problem once: in the table, not again as an annotation line.
    expect(run.stdout.match(/service-with-a-rather-long-name-number-2/g)).toHaveLength(1)
  })

  test('a table cell repeating a line of the report points at it instead (the restore timeline)', () => {
    const report = emptyReport('deckhand restore')
    const error =
      'The gateway at http://localhost:1 did not come up within 2 s (--wait-timeout); last: refused.'
    report.lines.push(`Restore of the gateway failed after 2 s: ${error}`)
    report.tables.push({
      header: ['phase', 'result'],
      rows: [
        ['wait for the gateway', `failed: ${error}`],
        ['restore', 'failed: short'],
      ],
    })
    const text = renderText(report)
    expect(text.match(/did not come up/g)).toHaveLength(1)
    expect(text).toMatch(/^wait for the gateway +failed \(above\)$/m)
    expect(text).toMatch(/^restore +failed: short$/m)
  })

  test('a table too wide to wrap becomes a list; long cells wrap; annotations repeating a row are left out', () => {
    const report = emptyReport('deckhand sync')
    const message = `a failure message that is long enough to need wrapping ${'x'.repeat(150)}`
    report.tables.push({ header: ['a', 'b'], rows: [['short', message]] })
    report.tables.push({
      header: Array.from({ length: 12 }, (_, i) => `column-${i}`),
      rows: [Array.from({ length: 12 }, (_, i) => `value-of-column-${i}`)],
    })
    report.annotations.push({ level: 'error', message })
    report.annotations.push({
      level: 'error',
      title: 'deckhand sync: create service a failed',
      message: 'HTTP 400',
    })
    const text = renderText(report)
    expect(longestLine(text)).toBeLessThanOrEqual(100)
    expect(text).toMatch(/^column-11: value-of-column-11$/m)
    expect(text.match(/a failure message/g)).toHaveLength(1)
    expect(text).toMatch(/^error: create service a failed: HTTP 400$/m)
    expect(longestLine(renderText(report, 60))).toBeLessThanOrEqual(60)
  })
})

describe('restore', () => {
  test('a host name that does not resolve fails in seconds, not after wait-timeout', async () => {
    const state = join(w.dir, 'kong.yaml')
    await writeFile(state, '_format_version: "3.0"\nservices:\n- name: a\n  host: h\n')
    const started = Date.now()
    const run = await cli([
      'restore',
      '--kong-addr',
      'kong-admin.invalid:8001',
      '--state',
      state,
      '--wait-timeout',
      '600',
    ])
    expect(Date.now() - started).toBeLessThan(30_000)
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/the host name\s+kong-admin\.invalid does not resolve/)
    expect(run.stdout).toMatch(/check\s+--kong-addr/)
  }, 60_000)
})

describe('deckhand doctor', () => {
  let open: KongStandIn
  let guarded: KongStandIn
  beforeAll(async () => {
    open = await startKongStandIn({ database: 'postgres', edition: 'community', version: '3.9.1' })
    guarded = await startKongStandIn({ database: 'postgres', edition: 'enterprise', adminToken: TOKEN })
  })
  afterAll(async () => {
    await open.stop()
    await guarded.stop()
  })

  const line = (stdout: string, check: string) =>
    stdout.split('\n').find((l) => new RegExp(`^(ok|warn|fail) +${check} `).test(l))

  test('a reachable gateway: version and edition, workspaces, deck from PATH; exit 0', async () => {
    const run = await cli(['doctor', '--kong-addr', open.adminUrl, '--output-dir', join(w.dir, 'out')])
    expect(run.code).toBe(0)
    expect(line(run.stdout, 'admin-api')).toMatch(/^ok +admin-api +Kong 3\.9\.1 \(community/)
    expect(line(run.stdout, 'deck')).toMatch(/^ok +deck +deck \S+ \(PATH: /)
    expect(line(run.stdout, 'output-dir')).toMatch(/^ok/)
    expect(line(run.stdout, 'git')).toMatch(/^(ok|warn)/)
    expect(longestLine(run.stdout)).toBeLessThanOrEqual(100)
    const json = await cli(['doctor', '--kong-addr', open.adminUrl, '--json'])
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: true,
      checks: expect.arrayContaining([expect.objectContaining({ check: 'admin-api', status: 'ok' })]),
    })
  })

  test('a refused token: fail with what to fix, exit 1, the token never printed', async () => {
    const wrong = await cli(['doctor', '--kong-addr', guarded.adminUrl], {
      DECKHAND_KONG_ADMIN_TOKEN: 'not-the-token',
    })
    expect(wrong.code).toBe(1)
    expect(line(wrong.stdout, 'token')).toMatch(/^fail +token +the token was refused/)
    expect(wrong.stdout).toMatch(/fix: Set DECKHAND_KONG_ADMIN_TOKEN/)
    expect(wrong.stdout + wrong.stderr).not.toContain('not-the-token')

    const right = await cli(['doctor', '--kong-addr', guarded.adminUrl], { DECKHAND_KONG_ADMIN_TOKEN: TOKEN })
    expect(right.code).toBe(0)
    expect(line(right.stdout, 'token')).toMatch(/^ok +token +the token accepted/)
    expect(line(right.stdout, 'admin-api')).toMatch(/enterprise/)
    expect(right.stdout + right.stderr).not.toContain(TOKEN)
  })

  test('unreachable: refused and DNS failure are told apart; exit 1', async () => {
    const stopped = await startKongStandIn({ database: 'postgres' })
    const address = stopped.adminUrl
    await stopped.stop()
    const refused = await cli(['doctor', '--kong-addr', address])
    expect(refused.code).toBe(1)
    expect(line(refused.stdout, 'admin-api')).toMatch(/^fail +admin-api +refused/)
    const dns = await cli(['doctor', '--kong-addr', 'kong-admin.invalid:8001'])
    expect(dns.code).toBe(1)
    expect(line(dns.stdout, 'admin-api')).toMatch(/DNS failure: kong-admin\.invalid does not resolve/)
  })

  test('never downloads deck: one neither on PATH nor cached is a warning', async () => {
    const run = await cli(['doctor', '--kong-addr', open.adminUrl], { PATH: process.env.PATH ?? '' })
    expect(line(run.stdout, 'deck')).toMatch(
      /^(warn +deck +deck \S+ is neither on PATH nor in the tool cache|ok)/,
    )
    expect(run.code).toBe(0)
  })
})
