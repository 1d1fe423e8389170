import { describe, expect, it } from '@jest/globals'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { parseDeckJson } from '../actions/engine/plan/deck-output.js'
import { changedPaths, fieldChanges } from '../actions/engine/plan/fields.js'
import { maskName, PlanMasker, syncOutcome, targetPlan } from '../actions/engine/plan/model.js'
import { readTargets } from '../actions/engine/plan/targets.js'
import { checkDeletes, runBounded } from '../actions/engine/reconcile.js'

// Secret values, each distinctive, so that any leak is found by a substring search.
const KEY = 'alice-key-Zq81x0Kp'
const REDIS_PASSWORD = 'redis-pw-77Hh2kLm'
const OLD_REDIS_PASSWORD = 'redis-pw-old-0Pq9'
const PEM_KEY = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n'
const HEADER_TOKEN = 'Bearer tok-4411-secret'

const service = (fields: Record<string, unknown> = {}) => ({
  connect_timeout: 60000,
  host: 'billing.internal',
  id: '234cfaef-ada9-4aac-8fcb-bbf0daab05ce',
  name: 'billing-api',
  port: 8080,
  protocol: 'http',
  retries: 5,
  ...fields,
})

// The shape deck prints (GDR JSONOutputObject): bodies are whole entities, secrets in plain text.
function deckOutput(extra: { errors?: string[]; dropped?: boolean } = {}) {
  const output = {
    changes: {
      creating: [
        {
          // deck names a key-auth by the last five characters of its key.
          name: `${KEY.slice(-5)} for consumer alice`,
          kind: 'key-auth',
          body: {
            new: { consumer: { id: 'c-1' }, id: 'k-1', key: KEY },
            old: null,
          },
        },
        {
          name: 'http-log (global)',
          kind: 'plugin',
          body: {
            new: {
              config: { headers: { Authorization: [HEADER_TOKEN] }, http_endpoint: 'https://logs.example' },
              enabled: true,
              id: 'p-2',
              name: 'http-log',
            },
            old: null,
          },
        },
      ],
      updating: [
        {
          name: 'billing-api',
          kind: 'service',
          body: {
            new: service({ retries: 3, tags: ['team-billing'] }),
            old: service({ created_at: 1700000000, updated_at: 1700000500 }),
          },
        },
        {
          name: 'rate-limiting for service billing-api',
          kind: 'plugin',
          body: {
            new: {
              config: { minute: 20, policy: 'redis', redis: { host: 'redis', password: REDIS_PASSWORD } },
              id: 'p-1',
              name: 'rate-limiting',
              service: { id: '234cfaef-ada9-4aac-8fcb-bbf0daab05ce' },
            },
            old: {
              config: { minute: 10, policy: 'redis', redis: { host: 'redis', password: OLD_REDIS_PASSWORD } },
              id: 'p-1',
              name: 'rate-limiting',
              service: { id: '234cfaef-ada9-4aac-8fcb-bbf0daab05ce' },
            },
          },
        },
      ],
      deleting: [
        {
          name: 'c9e1f3a4-0000-4000-8000-000000000001',
          kind: 'certificate',
          body: {
            new: {
              cert: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
              id: 'c9e1',
              key: PEM_KEY,
            },
            old: null,
          },
        },
      ],
      ...(extra.dropped
        ? {
            dropped_deletions: [
              { name: 'legacy', kind: 'route', body: { new: { id: 'r-9', name: 'legacy' }, old: null } },
            ],
          }
        : {}),
    },
    summary: { creating: 2, updating: 2, deleting: 1, total: 5 },
    warnings: [],
    errors: extra.errors ?? [],
  }
  // As deck prints it: tab-indented, a trailing blank line.
  return JSON.stringify(output, null, '\t') + '\n\n'
}

const leaks = (value: unknown) =>
  [
    KEY,
    KEY.slice(-5),
    REDIS_PASSWORD,
    OLD_REDIS_PASSWORD,
    'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
    'tok-4411-secret',
  ].filter((s) => JSON.stringify(value).includes(s))

describe('deck JSON output', () => {
  it('parses what deck prints, also after warning lines of older releases', () => {
    const text = deckOutput()
    expect(parseDeckJson(text, 'gateway diff').summary.total).toBe(5)
    expect(parseDeckJson(`Warning: something\n${text}`, 'gateway diff').changes.creating).toHaveLength(2)
  })

  it('says what is wrong when there is no JSON, broken JSON or an unknown shape', () => {
    expect(() => parseDeckJson('', 'gateway diff')).toThrow(/printed no JSON.*empty/)
    expect(() => parseDeckJson('{"changes": {', 'gateway diff')).toThrow(/not valid JSON.*1\.62\.1/)
    expect(() => parseDeckJson('{"changes": {}, "summary": {}}', 'gateway diff')).toThrow(
      /changes\.creating is not a list/,
    )
  })

  it('accepts null warnings and errors, as Go marshals nil slices', () => {
    const text = JSON.stringify({
      changes: { creating: [], updating: [], deleting: [] },
      summary: { creating: 0, updating: 0, deleting: 0, total: 0 },
      warnings: null,
      errors: null,
    })
    expect(parseDeckJson(text, 'gateway sync')).toMatchObject({ warnings: [], errors: [] })
  })
})

describe('a plan built from deck output', () => {
  const target = { workspace: '', selectTags: [], files: ['kong/default.yaml'] }

  it('lists every change with deck kinds and names, masking a key-auth key', () => {
    const plan = targetPlan(parseDeckJson(deckOutput(), 'gateway diff'), target, new PlanMasker())
    expect(plan.changes.map((c) => [c.action, c.kind, c.name])).toEqual([
      ['create', 'key-auth', '[redacted] for consumer alice'],
      ['create', 'plugin', 'http-log (global)'],
      ['update', 'service', 'billing-api'],
      ['update', 'plugin', 'rate-limiting for service billing-api'],
      ['delete', 'certificate', 'c9e1f3a4-0000-4000-8000-000000000001'],
    ])
    expect(plan.counts).toEqual({ creating: 2, updating: 2, deleting: 1, total: 5 })
  })

  it('names the fields an update changes, ignoring timestamps, and hides secret values', () => {
    const plan = targetPlan(parseDeckJson(deckOutput(), 'gateway diff'), target, new PlanMasker())
    const svc = plan.changes.find((c) => c.kind === 'service')!
    expect(svc.fields).toEqual([
      { path: 'retries', old: '5', new: '3' },
      { path: 'tags', new: '["team-billing"]' },
    ])
    const rl = plan.changes.find((c) => c.name.startsWith('rate-limiting'))!
    expect(rl.fields).toEqual([
      { path: 'config.minute', old: '10', new: '20' },
      { path: 'config.redis.password', sensitive: true },
    ])
  })

  it('leaks no secret anywhere in the plan: bodies, names, fields', () => {
    const plan = targetPlan(parseDeckJson(deckOutput(), 'gateway diff'), target, new PlanMasker())
    expect(leaks(plan)).toEqual([])
    // The structure stays: a reviewer sees that a key and a header are there.
    const created = plan.changes[0]!.new as Record<string, unknown>
    expect(created.key).toBe('[redacted]')
    const log = plan.changes[1]!.new as { config: { headers: Record<string, string[]> } }
    expect(log.config.headers.Authorization).toEqual(['[redacted]'])
  })

  it('scrubs known secrets (tokens, DECK_ values) from deck warnings', () => {
    const output = parseDeckJson(deckOutput(), 'gateway diff')
    output.warnings.push('token admin-token-99x was rejected', 'sent Authorization: Bearer tok-4411-secret')
    const plan = targetPlan(output, target, new PlanMasker(['admin-token-99x']))
    // The first is known beforehand, the second was found in a body (the http-log header).
    expect(plan.warnings).toEqual(['token *** was rejected', 'sent Authorization: ***'])
  })
})

describe('the outcome of a sync', () => {
  it('tells applied, failed and dropped changes apart, naming the failed entity without its key', () => {
    const rawName = `${KEY.slice(-5)} for consumer alice`
    const text = deckOutput({
      dropped: true,
      errors: [
        `while processing event: Create key-auth ${rawName} failed: HTTP status 409 (message: "UNIQUE violation detected on '{key="${KEY}"}'")`,
      ],
    })
    const outcome = syncOutcome(parseDeckJson(text, 'gateway sync'), new PlanMasker())
    expect(outcome.failed.map((f) => [f.change.kind, f.change.name])).toEqual([
      ['key-auth', '[redacted] for consumer alice'],
    ])
    expect(outcome.failed[0]!.error).toMatch(
      /Create key-auth \[redacted\] for consumer alice failed: HTTP status 409/,
    )
    expect(outcome.applied.map((c) => c.name)).toEqual([
      'http-log (global)',
      'billing-api',
      'rate-limiting for service billing-api',
      'c9e1f3a4-0000-4000-8000-000000000001',
    ])
    expect(outcome.dropped.map((c) => [c.action, c.kind, c.name])).toEqual([['delete', 'route', 'legacy']])
    expect(leaks(outcome)).toEqual([])
  })

  it('keeps an error that names no entity as such', () => {
    const outcome = syncOutcome(
      parseDeckJson(deckOutput({ errors: ['failed to sync all entities: context deadline exceeded'] }), 'x'),
      new PlanMasker(),
    )
    expect(outcome.otherErrors).toEqual(['failed to sync all entities: context deadline exceeded'])
    expect(outcome.failed).toEqual([])
  })
})

describe('changed fields', () => {
  it('treats absent and null alike and compares lists whole', () => {
    const old = { a: null, paths: ['/a', '/b'] }
    const now = { paths: ['/a', '/c'] }
    const paths = changedPaths(old, now)
    expect(paths).toEqual([['paths']])
    expect(fieldChanges(paths, old, now)).toEqual([{ path: 'paths', old: '["/a","/b"]', new: '["/a","/c"]' }])
  })

  it('cuts long values', () => {
    const old = { description: 'x'.repeat(200) }
    const fields = fieldChanges(changedPaths(old, { description: 'y' }), old, { description: 'y' })
    expect(fields[0]!.old).toHaveLength(80)
    expect(fields[0]!.old!.endsWith('…')).toBe(true)
  })
})

describe('key-auth names', () => {
  it('mask the key part only', () => {
    expect(maskName('key-auth', 'Kp0x9 for consumer bob')).toBe('[redacted] for consumer bob')
    expect(maskName('key-auth', 'Kp0x9')).toBe('[redacted]')
    expect(maskName('basic-auth', 'bob for consumer bob')).toBe('bob for consumer bob')
  })
})

describe('targets', () => {
  it('groups files by workspace and select tags, the default workspace named or not', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'deckhand-targets-'))
    try {
      const file = (name: string, head: string) =>
        writeFile(join(dir, name), `_format_version: "3.0"\n${head}`)
      await file('a.yaml', 'services: []\n')
      await file('b.yaml', '_workspace: default\nconsumers: []\n')
      await file('c.yaml', '_workspace: team-a\n')
      await file('d.yaml', '_workspace: team-a\n_info:\n  select_tags: [payments]\n')
      const { targets, problems } = await readTargets({ state: [dir], env: {} })
      expect(problems).toEqual([])
      expect(
        targets.map((t) => [t.workspace, t.selectTags, t.files.map((f) => f.slice(dir.length + 1))]),
      ).toEqual([
        ['', [], ['a.yaml', 'b.yaml']],
        ['team-a', [], ['c.yaml']],
        ['team-a', ['payments'], ['d.yaml']],
      ])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('names every unset DECK_ variable, with file and line, in one problem', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'deckhand-targets-'))
    try {
      await writeFile(
        join(dir, 'k.yaml'),
        '_format_version: "3.0"\nconsumers:\n- username: a\n  keyauth_credentials:\n  - key: ${{ env "DECK_A_KEY" }}\n  - key: ${{ env "DECK_B_KEY" }}\n  - key: ${{ env "DECK_SET" }}\n',
      )
      const { problems } = await readTargets({ state: [dir], env: { DECK_SET: 'x' } })
      expect(problems).toHaveLength(1)
      expect(problems[0]!.check).toBe('env')
      expect(problems[0]!.message).toMatch(
        /2 environment variable\(s\).*DECK_A_KEY \(.*k\.yaml:5\), DECK_B_KEY \(.*k\.yaml:6\)/,
      )
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('the delete guard', () => {
  const plan = (deletes: number) => ({
    workspace: '',
    selectTags: [],
    files: [],
    counts: { creating: 0, updating: 0, deleting: deletes, total: deletes },
    changes: Array.from({ length: deletes }, (_, i) => ({
      action: 'delete' as const,
      kind: 'route',
      name: `r${i}`,
    })),
    warnings: [],
    errors: [],
  })

  it('counts deletions across targets against max-deletes; allow-deletes lifts the limit', () => {
    expect(checkDeletes([plan(1), plan(1)], { maxDeletes: 1, allowDeletes: false }).allowed).toBe(false)
    expect(checkDeletes([plan(1), plan(1)], { maxDeletes: 2, allowDeletes: false }).allowed).toBe(true)
    expect(checkDeletes([plan(0)], { maxDeletes: 0, allowDeletes: false }).allowed).toBe(true)
    const lifted = checkDeletes([plan(3)], { maxDeletes: 0, allowDeletes: true })
    expect(lifted).toMatchObject({ allowed: true })
    expect(lifted.deletions).toHaveLength(3)
  })
})

describe('bounded runs', () => {
  it('keeps to the limit and never runs two items of one key at once', async () => {
    const items = ['a', 'b', 'a', 'c', 'b', 'a', 'd']
    let running = 0
    let peak = 0
    const active = new Set<string>()
    const order: string[] = []
    await runBounded(
      items,
      2,
      (k) => k,
      async (k) => {
        expect(active.has(k)).toBe(false)
        active.add(k)
        running++
        peak = Math.max(peak, running)
        await new Promise((r) => setTimeout(r, 5))
        order.push(k)
        active.delete(k)
        running--
      },
    )
    expect(peak).toBe(2)
    expect(order.sort()).toEqual([...items].sort())
  })
})
