import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'

import { parseDeckJson } from '../../actions/engine/plan/deck-output.js'
import { type PlannedChange, PlanMasker, syncOutcome } from '../../actions/engine/plan/model.js'
import { run } from '../../actions/engine/process.js'
import { copyFixture, DOUBLE_DIR, doubleEnv } from '../support/deck-double.js'
import { runJob } from '../support/jobs.js'

/**
 * deck's sync output is not a ledger (GDR pkg/diff/diff.go, v1.40.3 as deck v1.64.0 bundles it): an entity
 * is listed once per attempt (an HTTP 500 is retried four more times), whether Kong accepted it or not, and
 * after the first failure deck stops without reporting what a worker took off its queue or what it never
 * generated. deckhand counts each entity once, a listed entity with an error as failed only, and a planned
 * change deck did not report as not attempted, never as applied.
 */

const service = (id: string, name: string) => ({
  name,
  kind: 'service',
  body: { new: { id, name, host: `${name}.internal` }, old: null },
})
const route = (id: string, name: string) => ({
  name,
  kind: 'route',
  body: { new: { id, name, paths: [`/${name}`] }, old: null },
})

describe('sync accounting from deck’s output', () => {
  test('retried entities count once; one that failed in the end is failed, not applied', () => {
    const flaky = service('11111111-0000-4000-8000-000000000001', 'flaky')
    const retried = service('11111111-0000-4000-8000-000000000002', 'retried')
    const steady = service('11111111-0000-4000-8000-000000000003', 'steady')
    const output = {
      changes: {
        // flaky: five attempts, all 500; retried: two 500s then accepted; steady: once.
        creating: [flaky, retried, steady, flaky, retried, flaky, retried, flaky, flaky],
        updating: [],
        deleting: [],
        dropped_creations: [route('22222222-0000-4000-8000-000000000001', 'queued')],
      },
      summary: { creating: 2, updating: 0, deleting: 0, total: 2 },
      warnings: [],
      errors: [
        'while processing event: Create service flaky failed: HTTP status 500 (message: "An unexpected error occurred")',
      ],
    }
    const masker = new PlanMasker()
    const plan = (name: string, kind = 'service'): PlannedChange => ({ action: 'create', kind, name })
    const planned = [
      plan('flaky'),
      plan('retried'),
      plan('steady'),
      plan('queued', 'route'),
      plan('never-generated', 'route'),
    ]
    const outcome = syncOutcome(
      parseDeckJson(JSON.stringify(output, null, '\t'), 'gateway sync'),
      masker,
      planned,
    )
    expect(outcome.applied.map((c) => c.name)).toEqual(['retried', 'steady'])
    expect(outcome.failed.map((f) => f.change.name)).toEqual(['flaky'])
    expect(outcome.dropped.map((c) => c.name)).toEqual(['queued'])
    expect(outcome.notAttempted.map((c) => `${c.kind} ${c.name}`)).toEqual(['route never-generated'])
    // deck's own count of what succeeded agrees once duplicates are gone.
    expect(outcome.applied.length).toBe(outcome.counts.total)
  })
})

describe('the deck double lists and stops as deck does, and a sync reports it truthfully', () => {
  let dir: string
  let gateway: string
  let state: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'deckhand-accounting-'))
    state = join(dir, 'sandbox.yaml')
    await writeFile(
      state,
      [
        '_format_version: "3.0"',
        '_workspace: sandbox',
        'services:',
        '- name: alpha',
        '  host: alpha.internal',
        '  routes:',
        '  - name: alpha-one',
        '    paths: [/alpha-one]',
        '  - name: alpha-two',
        '    paths: [/alpha-two]',
        '- name: beta',
        '  host: beta.internal',
        '  routes:',
        '  - name: beta-one',
        '    paths: [/beta-one]',
        '',
      ].join('\n'),
    )
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  const reject = (extra: Record<string, unknown> = {}) =>
    copyFixture('enterprise.yaml', dir, (fixture) => {
      fixture.reject = [
        {
          kind: 'service',
          name: 'beta',
          op: 'create',
          status: 500,
          message: 'An unexpected error occurred',
          ...extra,
        },
      ]
    })
  const inputs = () => ({
    'kong-addr': 'http://127.0.0.1:8001',
    'kong-admin-token': 'kong-admin-s3cret',
    'deck-path': join(DOUBLE_DIR, 'deck'),
    'plan-file': join(dir, 'plan.json'),
    state,
  })

  test('deck lists a service Kong keeps answering 500 five times, and the routes after it nowhere or dropped', async () => {
    gateway = await reject()
    const env = doubleEnv({ gateway, log: join(dir, 'calls.jsonl') })
    const result = await run(join(DOUBLE_DIR, 'deck'), ['gateway', 'sync', state, '--json-output'], {
      env: { ...env, DECK_KONG_ADMIN_TOKEN: 'kong-admin-s3cret' },
    })
    expect(result.exitCode).toBe(0)
    const output = parseDeckJson(result.stdout, 'gateway sync')
    // Both services are in flight together (deck orders a kind's events by id): beta once per attempt.
    expect(output.changes.creating.map((c) => `${c.kind} ${c.name}`).sort()).toEqual([
      'service alpha',
      ...Array<string>(5).fill('service beta'),
    ])
    expect(output.errors).toEqual([
      'while processing event: Create service beta failed: HTTP status 500 (message: "An unexpected error occurred")',
    ])
    expect(output.summary).toEqual({ creating: 1, updating: 0, deleting: 0, total: 1 })
    // The producer's next event is dropped; the other two routes were never generated.
    expect(output.changes.dropped_creations?.map((c) => c.kind)).toEqual(['route'])
  })

  test('sync: beta failed (once), alpha applied, one route dropped, two not attempted', async () => {
    gateway = await reject()
    const job = await runJob('sync', inputs(), doubleEnv({ gateway, log: join(dir, 'calls.jsonl') }))
    expect(job.error).toBeUndefined()
    expect(job.result!.ok).toBe(false)
    const plan = JSON.parse(await readFile(join(dir, 'plan.json'), 'utf8'))
    const outcome = plan.targets[0].result.outcome
    const names = (list: { kind: string; name: string }[]) => list.map((c) => `${c.kind} ${c.name}`)
    expect(names(outcome.applied)).toEqual(['service alpha'])
    expect(names(outcome.failed.map((f: { change: PlannedChange }) => f.change))).toEqual(['service beta'])
    expect(outcome.dropped).toHaveLength(1)
    expect(outcome.notAttempted).toHaveLength(2)
    const routes = [...names(outcome.dropped), ...names(outcome.notAttempted)].sort()
    expect(routes).toEqual(['route alpha-one', 'route alpha-two', 'route beta-one'])
    const summary = job.result!.report.lines.join('\n')
    expect(summary).toContain('Sync failed: 1 change(s) applied')
    expect(summary).toContain('1 failed, 1 dropped (never sent), 2 not attempted, 1 applied.')
    const table = job.result!.report.tables.find((t) => t.header.includes('result'))!
    expect(table.rows.filter((r) => r.at(-1) === 'not attempted (deck reported nothing)')).toHaveLength(2)
    expect(table.rows.filter((r) => r.at(-1) === 'applied')).toHaveLength(1)
    expect(job.result!.outputs.applied).toBe('true')
  })

  test('sync: a service accepted on its third attempt is applied once, and the sync succeeds', async () => {
    gateway = await reject({ times: 2 })
    const job = await runJob('sync', inputs(), doubleEnv({ gateway, log: join(dir, 'calls.jsonl') }))
    expect(job.error).toBeUndefined()
    expect(job.result!.ok).toBe(true)
    const plan = JSON.parse(await readFile(join(dir, 'plan.json'), 'utf8'))
    const outcome = plan.targets[0].result.outcome
    expect(outcome.applied).toHaveLength(5)
    expect(outcome.failed).toEqual([])
    expect(outcome.notAttempted).toEqual([])
    expect(job.result!.report.lines[0]).toMatch(/^Applied 5 change\(s\) to /)
  })
})
