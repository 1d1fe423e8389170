import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { checkDeckArgv } from './deck-double/flags.mjs'
import { type ActionRun, maskedValues, ROOT, runBundledAction, visibleLog } from './support/action.js'
import {
  copyFixture,
  doubleEnv,
  editYaml,
  FIXTURE_SECRETS,
  readCalls,
  workdir,
} from './support/deck-double.js'
import { READ_TOKEN, startGitHubApi, WRITE_TOKEN } from './support/github-api.js'

const KONG = 'http://127.0.0.1:8001'
const TOKEN = 'kong-admin-s3cret'

let w: Awaited<ReturnType<typeof workdir>>
/** A private copy of the enterprise fixture: sync rewrites it. */
let gateway: string
beforeEach(async () => {
  w = await workdir()
  gateway = await copyFixture('enterprise.yaml', w.dir)
})
afterEach(() => w.cleanup())

const env = (extra: Record<string, string> = {}) => ({ ...doubleEnv({ gateway, log: w.log }), ...extra })
const connection = { 'kong-addr': KONG, 'kong-admin-token': TOKEN }
/** diff and sync inputs: the connection, and a plan file that outlives the run. */
const planInputs = () => ({ ...connection, 'plan-file': join(w.dir, 'plan.json') })

type Doc = Record<string, unknown> & {
  services?: Record<string, unknown>[]
  consumers?: Record<string, unknown>[]
}

/** Dumps the gateway as plaintext deck files (what the gateway holds now) into dir/kong. */
async function dumpPlain(
  workspaceFlags: Record<string, string> = { 'all-workspaces': 'true' },
): Promise<string> {
  const out = join(w.dir, 'kong')
  const run = await runBundledAction(
    'dump',
    { ...connection, ...workspaceFlags, 'output-dir': out, 'redact-secrets': 'false' },
    { env: env() },
  )
  expect(run.exitCode).toBe(0)
  return out
}

/** Everything a user, a log or git could see of a run, plan file included. */
async function visible(run: ActionRun): Promise<string> {
  const plan = run.outputs.plan ? await readFile(run.outputs.plan, 'utf8').catch(() => '') : ''
  return [visibleLog(run.stdout), run.stderr, run.summary, JSON.stringify(run.outputs), plan].join('\n')
}

function expectNoSecrets(text: string): void {
  for (const secret of [...FIXTURE_SECRETS, TOKEN])
    expect({ secret, leaked: text.includes(secret) }).toEqual({ secret, leaked: false })
}

async function deckCalls(kind: string) {
  return (await readCalls(w.log)).filter((c) => c.argv.includes(kind))
}

describe('diff action (bundled)', () => {
  test('an unchanged gateway plans no change, one deck diff per workspace, each argv real deck', async () => {
    const state = await dumpPlain()
    const run = await runBundledAction('diff', { ...planInputs(), state }, { env: env() })
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({
      creating: '0',
      updating: '0',
      deleting: '0',
      total: '0',
      'has-changes': 'false',
    })
    expect(run.summary).toContain('No changes')
    const diffs = await deckCalls('diff')
    expect(diffs.map((c) => c.argv.slice(0, 3))).toEqual([
      ['gateway', 'diff', join(state, 'default.yaml')],
      ['gateway', 'diff', join(state, 'sandbox.yaml')],
      ['gateway', 'diff', join(state, 'team-payments.yaml')],
    ])
    for (const call of await readCalls(w.log)) expect(checkDeckArgv(call.argv, '1.65.1')).toBeNull()
    for (const call of diffs) {
      expect(call.argv).toContain('--json-output')
      expect(call.argv).not.toContain('--non-zero-exit-code')
      expect(call.argv).not.toContain('--silence-events')
      // The token reaches deck through its environment, never the command line.
      expect(call.argv.join(' ')).not.toContain(TOKEN)
      expect(call.env.DECK_KONG_ADMIN_TOKEN).toBe(TOKEN)
    }
    const plan = JSON.parse(await readFile(run.outputs.plan!, 'utf8'))
    expect(plan).toMatchObject({ format: 'deckhand-plan/1', command: 'diff', counts: { total: 0 } })
    expect(plan.targets.map((t: { workspace: string }) => t.workspace)).toEqual([
      'default',
      'sandbox',
      'team-payments',
    ])
  })

  test('creations, updates with their fields, and deletions appear in outputs, summary and plan', async () => {
    const state = await dumpPlain({ workspace: 'team-payments' })
    const file = join(state, 'team-payments.yaml')
    await editYaml<Doc>(file, (doc) => {
      const svc = doc.services![0]!
      svc.retries = 9
      doc.services!.push({ name: 'refunds', host: 'refunds.internal', port: 8080, protocol: 'http' })
      doc.consumers = []
    })
    const run = await runBundledAction('diff', { ...planInputs(), state: file }, { env: env() })
    expect(run.exitCode).toBe(0)
    expect(Number(run.outputs.creating)).toBe(1)
    expect(Number(run.outputs.updating)).toBe(1)
    expect(Number(run.outputs.deleting)).toBeGreaterThanOrEqual(1)
    expect(run.outputs['has-changes']).toBe('true')
    expect(run.summary).toMatch(/<td>\+ create<\/td><td>service<\/td><td>refunds<\/td>/)
    expect(run.summary).toMatch(
      /<td>~ update<\/td><td>service<\/td><td>payments-api<\/td><td>retries: \d+ → 9<\/td>/,
    )
    expect(run.summary).toMatch(/<td>- delete<\/td><td>consumer<\/td><td>merchant-portal<\/td>/)
    const plan = JSON.parse(await readFile(run.outputs.plan!, 'utf8'))
    const update = plan.targets[0].changes.find((c: { action: string }) => c.action === 'update')
    expect(update.fields).toEqual([expect.objectContaining({ path: 'retries', new: '9' })])
    expectNoSecrets(await visible(run))
  })

  test('no secret of a plan body reaches the log, the summary, the outputs or the plan file', async () => {
    // Deleting everything puts every entity, secrets in plain text, into deck's plan bodies.
    const state = join(w.dir, 'empty', 'default.yaml')
    await mkdir(join(w.dir, 'empty'), { recursive: true })
    await writeFile(
      state,
      '_format_version: "3.0"\nservices:\n- name: placeholder\n  host: example.internal\n',
    )
    const run = await runBundledAction('diff', { ...planInputs(), state }, { env: env() })
    expect(run.exitCode).toBe(0)
    expect(Number(run.outputs.deleting)).toBeGreaterThan(20)
    expect(maskedValues(run.stdout)).toContain(TOKEN)
    const text = await visible(run)
    expectNoSecrets(text)
    expect(text).toContain('[redacted]')
  })

  test('an unset DECK_ variable fails before deck runs, naming every missing one', async () => {
    const state = join(w.dir, 'kong.yaml')
    await writeFile(
      state,
      '_format_version: "3.0"\nconsumers:\n- username: alice\n  keyauth_credentials:\n  - key: ${{ env "DECK_ALICE_KEY" }}\n  - key: ${{ env "DECK_ALICE_KEY_2" }}\n',
    )
    const run = await runBundledAction('diff', { ...planInputs(), state }, { env: env() })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(
      /::error .*2 environment variable\(s\).*DECK_ALICE_KEY \(.*:5\), DECK_ALICE_KEY_2 \(.*:6\)/,
    )
    expect(await readCalls(w.log)).toEqual([])
  })

  test('a gateway that cannot be reached fails with deck’s reason and no plan', async () => {
    const state = await dumpPlain({ workspace: 'sandbox' })
    const run = await runBundledAction(
      'diff',
      { ...planInputs(), 'kong-addr': 'http://127.0.0.1:8999', state },
      { env: env() },
    )
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(/::error::deck gateway diff failed \(exit 1\): .*connection refused/)
    expect(run.outputs.plan).toBeUndefined()
  })
})

describe('older deck releases', () => {
  test('deck before 1.28 is driven through the legacy diff command, the token in a private header file', async () => {
    const state = await dumpPlain({ workspace: 'team-payments' })
    const file = join(state, 'team-payments.yaml')
    await editYaml<Doc>(file, (doc) => {
      doc.services![0]!.retries = 9
    })
    const run = await runBundledAction(
      'diff',
      { ...planInputs(), state: file },
      { env: { ...env(), DECK_DOUBLE_VERSION: '1.27.0' } },
    )
    expect(run.exitCode).toBe(0)
    expect(run.outputs.updating).toBe('1')
    const [call] = await deckCalls('diff')
    expect(call!.argv.slice(0, 3)).toEqual(['diff', '--state', file])
    expect(checkDeckArgv(call!.argv, '1.27.0')).toBeNull()
    expect(call!.env.DECK_KONG_ADMIN_TOKEN).toBeUndefined()
    expect(call!.config).toEqual({ headers: [`Kong-Admin-Token:${TOKEN}`] })
  })

  test('deck without JSON output is refused with the way out', async () => {
    const state = await dumpPlain({ workspace: 'sandbox' })
    const run = await runBundledAction(
      'diff',
      { ...planInputs(), state },
      { env: { ...env(), DECK_DOUBLE_VERSION: '1.23.0' } },
    )
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(/::error::deck 1\.23\.0 cannot print diff results as JSON .*deck-version/)
    expect(await deckCalls('diff')).toEqual([])
  })
})

describe('the plan on the pull request', () => {
  let api: Awaited<ReturnType<typeof startGitHubApi>>
  beforeAll(async () => {
    api = await startGitHubApi({ repository: 'acme/gateway-config', issues: [7] })
  })
  afterAll(() => api.close())

  async function prEnv() {
    const event = join(w.dir, 'event.json')
    await writeFile(event, JSON.stringify({ number: 7, pull_request: { number: 7 } }))
    return env({
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: event,
      GITHUB_REPOSITORY: 'acme/gateway-config',
      GITHUB_API_URL: api.url,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_RUN_ID: '42',
      GITHUB_WORKFLOW: 'Kong GitOps',
    })
  }

  test('one comment per workspace, edited in place by the next run, with no secret in it', async () => {
    const state = await dumpPlain({ workspace: 'team-payments' })
    const file = join(state, 'team-payments.yaml')
    await editYaml<Doc>(file, (doc) => {
      doc.services![0]!.retries = 9
    })
    const first = await runBundledAction(
      'diff',
      { ...planInputs(), state: file, 'github-token': WRITE_TOKEN },
      { env: await prEnv() },
    )
    expect(first.exitCode).toBe(0)
    let comments = api.comments(7)
    expect(comments).toHaveLength(1)
    expect(comments[0]!.body).toMatch(
      /^<!-- deckhand:Kong GitOps\/plan\/[0-9a-f]{12}\/team-payments -->\n## deckhand plan: workspace team-payments/,
    )
    expect(comments[0]!.body).toContain('retries: ')
    expect(comments[0]!.body).toContain('actions/runs/42')

    await editYaml<Doc>(file, (doc) => {
      doc.services![0]!.retries = 4
      doc.consumers = []
    })
    const second = await runBundledAction(
      'diff',
      { ...planInputs(), state: file, 'github-token': WRITE_TOKEN },
      { env: await prEnv() },
    )
    expect(second.exitCode).toBe(0)
    comments = api.comments(7)
    expect(comments).toHaveLength(1)
    expect(comments[0]!.body).toContain('merchant-portal')
    expect(comments[0]!.body).toContain('→ 4')
    expect(api.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1)
    expectNoSecrets(comments.map((c) => c.body).join('\n'))
    expect(visibleLog(second.stdout)).toMatch(/Pull request comment updated: /)
  })

  test('a read-only token (a fork) leaves a warning and the plan still passes', async () => {
    const state = await dumpPlain({ workspace: 'sandbox' })
    const run = await runBundledAction(
      'diff',
      { ...planInputs(), state, 'github-token': READ_TOKEN },
      { env: await prEnv() },
    )
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toMatch(
      /::warning::The plan was not posted on pull request #7: .*pull-requests: write/,
    )
    expect(maskedValues(run.stdout)).toContain(READ_TOKEN)
    expect(visibleLog(run.stdout)).not.toContain(READ_TOKEN)
  })

  test('comment-on-pr: false posts nothing', async () => {
    const state = await dumpPlain({ workspace: 'sandbox' })
    const before = api.requests.length
    const run = await runBundledAction(
      'diff',
      { ...planInputs(), state, 'comment-on-pr': 'false', 'github-token': WRITE_TOKEN },
      { env: await prEnv() },
    )
    expect(run.exitCode).toBe(0)
    expect(api.requests.length).toBe(before)
  })
})

describe('sync action (bundled)', () => {
  test('plans, applies, and a second run finds nothing left to do', async () => {
    const state = await dumpPlain({ workspace: 'team-payments' })
    const file = join(state, 'team-payments.yaml')
    await editYaml<Doc>(file, (doc) => {
      doc.services![0]!.retries = 9
      doc.services!.push({ name: 'refunds', host: 'refunds.internal', port: 8080, protocol: 'http' })
    })
    const run = await runBundledAction('sync', { ...planInputs(), state: file }, { env: env() })
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ creating: '1', updating: '1', deleting: '0', applied: 'true' })
    expect(run.summary).toMatch(/Applied 2 change\(s\)/)
    const kinds = (await readCalls(w.log)).map((c) => c.argv.slice(0, 2).join(' '))
    expect(kinds.filter((k) => k !== 'version')).toEqual(['gateway dump', 'gateway diff', 'gateway sync'])
    for (const call of await readCalls(w.log)) expect(checkDeckArgv(call.argv, '1.65.1')).toBeNull()

    const again = await runBundledAction('diff', { ...planInputs(), state: file }, { env: env() })
    expect(again.outputs.total).toBe('0')
  })

  test('deletions over max-deletes are refused, named, and nothing is sent', async () => {
    const state = await dumpPlain({ workspace: 'team-payments' })
    const file = join(state, 'team-payments.yaml')
    await editYaml<Doc>(file, (doc) => {
      doc.consumers = []
    })
    const before = await readFile(gateway, 'utf8')
    const run = await runBundledAction(
      'sync',
      { ...planInputs(), state: file, 'max-deletes': '0' },
      { env: env() },
    )
    expect(run.exitCode).toBe(1)
    expect(run.outputs.applied).toBe('false')
    expect(run.stdout).toMatch(
      /::error title=deckhand sync%3A too many deletions::The plan deletes \d+ \(max-deletes 0\): .*consumer merchant-portal/,
    )
    expect(run.summary).toContain('Nothing was sent to the gateway')
    expect(await deckCalls('sync')).toEqual([])
    expect(await readFile(gateway, 'utf8')).toBe(before)
    expectNoSecrets(await visible(run))

    const allowed = await runBundledAction(
      'sync',
      { ...planInputs(), state: file, 'allow-deletes': 'true' },
      { env: env() },
    )
    expect(allowed.exitCode).toBe(0)
    expect(allowed.outputs.applied).toBe('true')
  })

  test('dry-run plans and checks, and sends nothing', async () => {
    const state = await dumpPlain({ workspace: 'team-payments' })
    const file = join(state, 'team-payments.yaml')
    await editYaml<Doc>(file, (doc) => {
      doc.services![0]!.retries = 9
    })
    const run = await runBundledAction(
      'sync',
      { ...planInputs(), state: file, 'dry-run': 'true' },
      { env: env() },
    )
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ updating: '1', applied: 'false' })
    expect(run.summary).toContain('not applied (dry run)')
    expect(await deckCalls('sync')).toEqual([])
  })

  test('an entity Kong refuses fails the step, naming what was applied, what failed and what was dropped', async () => {
    gateway = await copyFixture('enterprise.yaml', w.dir, (fixture) => {
      fixture.reject = [
        {
          kind: 'service',
          name: 'refunds',
          op: 'create',
          status: 400,
          message: 'schema violation (host: invalid value)',
        },
      ]
    })
    const state = await dumpPlain({ workspace: 'team-payments' })
    const file = join(state, 'team-payments.yaml')
    await editYaml<Doc>(file, (doc) => {
      doc.services!.push({ name: 'refunds', host: 'refunds.internal', port: 8080, protocol: 'http' })
      doc.services!.push({ name: 'disputes', host: 'disputes.internal', port: 8080, protocol: 'http' })
      doc.consumers = []
    })
    const run = await runBundledAction(
      'sync',
      { ...planInputs(), state: file, 'allow-deletes': 'true' },
      { env: env() },
    )
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(
      /::error title=deckhand sync%3A create service refunds failed::while processing event: Create service refunds failed: HTTP status 400 \(message: "schema violation \(host: invalid value\)"\)/,
    )
    expect(run.summary).toMatch(/failed, \d+ dropped \(never sent\), \d+ not attempted, \d+ applied/)
    expect(run.summary).toContain('dropped')
    const plan = JSON.parse(await readFile(run.outputs.plan!, 'utf8'))
    const result = plan.targets[0].result
    expect(result.status).toBe('synced')
    expect(result.outcome.failed.map((f: { change: { name: string } }) => f.change.name)).toEqual(['refunds'])
    expect(result.outcome.dropped.length).toBeGreaterThan(0)
    expectNoSecrets(await visible(run))
  })

  test('an unset DECK_ variable fails before deck runs', async () => {
    const state = join(w.dir, 'kong.yaml')
    await writeFile(
      state,
      '_format_version: "3.0"\nconsumers:\n- username: alice\n  keyauth_credentials:\n  - key: ${{ env "DECK_ALICE_KEY" }}\n',
    )
    const run = await runBundledAction('sync', { ...planInputs(), state }, { env: env() })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(/DECK_ALICE_KEY \(.*:5\)/)
    expect(await readCalls(w.log)).toEqual([])
  })

  test('several workspaces sync with bounded concurrency; each argv is real deck', async () => {
    const state = await dumpPlain()
    for (const ws of ['default', 'team-payments']) {
      await editYaml<Doc>(join(state, `${ws}.yaml`), (doc) => {
        doc.services = [
          ...(doc.services ?? []),
          { name: `new-in-${ws}`, host: 'x.internal', port: 80, protocol: 'http' },
        ]
      })
    }
    const run = await runBundledAction(
      'sync',
      { ...planInputs(), state, 'workspace-concurrency': '2' },
      { env: env() },
    )
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ creating: '2', applied: 'true' })
    const syncs = await deckCalls('sync')
    expect(syncs.map((c) => c.argv[2])).toEqual(
      expect.arrayContaining([join(state, 'default.yaml'), join(state, 'team-payments.yaml')]),
    )
    // sandbox has no change: it is planned but not synced.
    expect(syncs).toHaveLength(2)
    for (const call of syncs) expect(checkDeckArgv(call.argv, '1.65.1')).toBeNull()
  })
})

describe('the CLI', () => {
  test('diff prints the plan and its outputs as JSON; sync refuses deletions with exit 1', async () => {
    const state = await dumpPlain({ workspace: 'team-payments' })
    const file = join(state, 'team-payments.yaml')
    await editYaml<Doc>(file, (doc) => {
      doc.consumers = []
    })
    const { execFile } = await import('node:child_process')
    const cli = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
        execFile(
          process.execPath,
          [join(ROOT, 'dist', 'cli', 'index.js'), ...args],
          { env: { ...process.env, ...env(), DECKHAND_KONG_ADMIN_TOKEN: TOKEN, RUNNER_TEMP: w.dir } },
          (err, stdout, stderr) =>
            done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
      )
    const diff = await cli(['diff', '--kong-addr', KONG, '--state', file, '--json'])
    expect(diff.code).toBe(0)
    const outputs = JSON.parse(diff.stdout)
    expect(outputs['has-changes']).toBe('true')
    expect(Number(outputs.deleting)).toBeGreaterThan(0)

    const sync = await cli(['sync', '--kong-addr', KONG, '--state', file])
    expect(sync.code).toBe(1)
    expect(sync.stdout).toMatch(/Refused: the plan deletes/)
    expect(await deckCalls('sync')).toEqual([])
    expectNoSecrets(diff.stdout + diff.stderr + sync.stdout + sync.stderr)
  })
})
