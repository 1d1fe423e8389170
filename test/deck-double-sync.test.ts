import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

import { copyFixture, type GatewayFixture, editYaml } from './support/deck-double.js'

const DECK = fileURLToPath(new URL('./deck-double/deck', import.meta.url))
const FIXTURES = fileURLToPath(new URL('./fixtures/gateway/', import.meta.url))
const ENTERPRISE = join(FIXTURES, 'enterprise.yaml')
const COMMUNITY = join(FIXTURES, 'community.yaml')
const ADDR = 'http://127.0.0.1:8001'
const TOKEN = 'kong-admin-s3cret'

interface Result {
  code: number | null
  stdout: string
  stderr: string
}

type Entity = Record<string, unknown>
interface Change {
  name: string
  kind: string
  body: { new: Entity | null; old: Entity | null } | null
}
interface Report {
  changes: {
    creating: Change[]
    updating: Change[]
    deleting: Change[]
    dropped_creations?: Change[]
    dropped_updates?: Change[]
    dropped_deletions?: Change[]
  }
  summary: { creating: number; updating: number; deleting: number; total: number }
  warnings: string[]
  errors: string[]
}

let home: string
let work: string
let seq = 0

// Runs the double with a clean environment: only PATH, a private HOME and what the test passes.
function deck(args: string[], env: Record<string, string> = {}, input = ''): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(
      DECK,
      args,
      {
        cwd: work,
        env: { PATH: process.env.PATH ?? '', HOME: home, ...env },
        encoding: 'utf8',
        timeout: 20_000,
      },
      (_err, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    )
    child.stdin?.end(input)
  })
}

const authed = (gateway = ENTERPRISE, extra: Record<string, string> = {}) => ({
  DECK_DOUBLE_GATEWAY: gateway,
  DECK_KONG_ADMIN_TOKEN: TOKEN,
  ...extra,
})
const online = (...args: string[]) => [...args, '--kong-addr', ADDR]

async function scratch(name: string): Promise<string> {
  const dir = join(work, `${name}-${++seq}`)
  await mkdir(dir, { recursive: true })
  return dir
}

/** `gateway dump` of one workspace into a file; returns the path. */
async function dumpTo(
  dir: string,
  workspace: string,
  gateway = ENTERPRISE,
  extra: string[] = [],
): Promise<string> {
  const file = join(dir, `${workspace}.yaml`)
  const args = online('gateway', 'dump', '-o', file, '--yes', ...extra)
  if (workspace !== 'default') args.push('-w', workspace)
  const r = await deck(args, authed(gateway))
  expect(r.code).toBe(0)
  return file
}

function report(r: Result): Report {
  expect(r.stdout.endsWith('}\n\n')).toBe(true)
  return JSON.parse(r.stdout) as Report
}

const list = (doc: Entity, key: string) => (doc[key] ?? []) as Entity[]
const names = (changes: Change[]) => changes.map((c) => `${c.kind} ${c.name}`)
const sha = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex')

const EMPTY =
  '{\n\t"changes": {\n\t\t"creating": [],\n\t\t"updating": [],\n\t\t"deleting": []\n\t},\n' +
  '\t"summary": {\n\t\t"creating": 0,\n\t\t"updating": 0,\n\t\t"deleting": 0,\n\t\t"total": 0\n\t},\n' +
  '\t"warnings": [],\n\t"errors": []\n}\n\n'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'deck-sync-home-'))
  work = await mkdtemp(join(tmpdir(), 'deck-sync-work-'))
})

afterAll(async () => {
  await rm(home, { recursive: true, force: true })
  await rm(work, { recursive: true, force: true })
})

describe('gateway diff', () => {
  it('finds nothing to change in a dump of every fixture workspace, printing deck’s exact JSON', async () => {
    const cases: [string, string][] = [
      [ENTERPRISE, 'default'],
      [ENTERPRISE, 'team-payments'],
      [ENTERPRISE, 'sandbox'],
      [COMMUNITY, 'default'],
    ]
    const results = await Promise.all(
      cases.map(async ([gateway, ws], i) => {
        const file = await dumpTo(await scratch(`rt${i}`), ws, gateway)
        const [json, text] = await Promise.all([
          deck(online('gateway', 'diff', file, '--json-output'), authed(gateway)),
          deck(online('gateway', 'diff', file), authed(gateway)),
        ])
        return { ws, json, text }
      }),
    )
    for (const { json, text } of results) {
      expect(json).toMatchObject({ code: 0, stdout: EMPTY })
      expect(text).toMatchObject({ code: 0, stdout: 'Summary:\n  Created: 0\n  Updated: 0\n  Deleted: 0\n' })
    }
    // GDR warns about basic-auth credentials on stderr (default workspaces hold some).
    expect(results[0]!.json.stderr).toBe(
      "Warning: import/export of basic-authcredentials using decK doesn't work due to hashing of passwords in Kong.\n",
    )
    expect(results[1]!.json.stderr).toBe('')
  })

  it('lists creations, updates and deletions with GDR’s kinds, names, order and bodies', async () => {
    const file = await dumpTo(await scratch('changes'), 'team-payments')
    await editYaml<Entity>(file, (doc) => {
      const svc = list(doc, 'services')[0]!
      svc.retries = 9
      list(doc, 'services').push({
        name: 'refunds',
        host: 'refunds.internal',
        routes: [{ name: 'refunds-create', paths: ['/refunds'] }],
      })
      doc.consumers = []
    })
    const [r, again] = await Promise.all([
      deck(online('gateway', 'diff', file, '--json-output'), authed()),
      deck(online('gateway', 'diff', file, '--json-output'), authed()),
    ])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(again.stdout)
    const { changes, summary } = report(r)
    expect(names(changes.creating)).toEqual(['service refunds', 'route refunds-create'])
    expect(names(changes.updating)).toEqual(['service payments-api'])
    expect(names(changes.deleting)).toEqual([
      'key-auth c3d4e for consumer merchant-portal',
      'acl-group merchants for consumer merchant-portal',
      'consumer merchant-portal',
    ])
    expect(summary).toEqual({ creating: 2, updating: 1, deleting: 3, total: 6 })
    expect(changes).not.toHaveProperty('dropped_creations')

    // Creates: new = the target with a generated id and Kong's defaults, old = null.
    const [svc, route] = changes.creating
    expect(Object.keys(svc!)).toEqual(['name', 'kind', 'body'])
    expect(Object.keys(svc!.body!)).toEqual(['new', 'old'])
    expect(svc!.body!.old).toBeNull()
    expect(svc!.body!.new).toEqual({
      connect_timeout: 60000,
      enabled: true,
      host: 'refunds.internal',
      id: expect.stringMatching(UUID),
      name: 'refunds',
      port: 80,
      protocol: 'http',
      read_timeout: 60000,
      retries: 5,
      write_timeout: 60000,
    })
    expect(route!.body!.new!.service).toEqual({ id: svc!.body!.new!.id, name: 'refunds' })
    expect(Object.keys(route!.body!.new!)).toEqual([
      'id',
      'name',
      'paths',
      'path_handling',
      'preserve_host',
      'protocols',
      'regex_priority',
      'service',
      'strip_path',
      'https_redirect_status_code',
      'request_buffering',
      'response_buffering',
    ])

    // Updates: same id, only the changed field differs, no timestamps in diff mode.
    const update = changes.updating[0]!.body!
    expect(update.new!.id).toBe('6844062d-72f6-4e74-a166-6e7c66584546')
    expect(update.old).toMatchObject({ id: update.new!.id, retries: 5 })
    expect(update.new).toMatchObject({ retries: 9 })
    expect({ ...update.new, retries: 5 }).toEqual(update.old)
    expect(update.old).not.toHaveProperty('created_at')

    // Deletes: the current entity is "new", old is null; references carry the names.
    const keyAuth = changes.deleting[0]!.body!
    expect(keyAuth.old).toBeNull()
    expect(keyAuth.new).toEqual({
      consumer: { id: 'bced8cf3-0383-41bc-b19e-25f0181d0213', username: 'merchant-portal' },
      id: 'eb6786a2-dc86-4e20-a02d-9132b98db649',
      key: 'merchant-K3y-0a1b2c3d4e',
      tags: ['team-payments'],
    })
  })

  it('names every kind the way GDR’s Console() does', async () => {
    const dir = await scratch('names')
    const file = join(dir, 'almost-empty.yaml')
    await writeFile(
      file,
      '_format_version: "3.0"\nservices:\n- name: billing-api\n  host: billing.internal\n',
    )
    const r = await deck(online('gateway', 'diff', file, '--json-output'), authed())
    const { changes } = report(r)
    const deleting = names(changes.deleting)
    expect(deleting).toEqual(
      expect.arrayContaining([
        'plugin rate-limiting for service billing-api',
        'plugin rate-limiting for service billing-api and consumer partner-acme',
        'plugin cors for route billing-invoices',
        'plugin http-log (global)',
        'plugin rate-limiting-advanced for consumer-group gold',
        'plugin rate-limiting for consumer alice',
        'route lambda-hook',
        'target 10.0.1.11:8080 for upstream aca67dbc-b1e1-4252-beca-fd11364ca2d2',
        'consumer-group-consumer alice',
        'key-auth b2a9c for consumer alice',
        'basic-auth alice for consumer alice',
        'hmac-auth alice-hmac for consumer alice',
        'jwt-auth acme-rs256 for consumer partner-acme',
        'oauth2-cred acme-settlement-app for consumer partner-acme',
        'mtls-auth device-0042.iot.example.com for consumer 43763828-a24b-4f69-a51d-5ad8a97f1c84',
        'sni pay.example.com',
        'consumer-group gold',
        'upstream billing.internal',
        'key payments-es256',
        'certificate 6b689881-8373-4090-82c0-4cbfa105ad0d',
        'ca-certificate 1e71d841-26f5-4a46-8694-31051f640598',
        'consumer alice',
        'vault hashi',
        'partial redis-shared',
        'key-set jwt-signers',
      ]),
    )
    // Deletes run in reverse dependency order: plugins first, consumers and certificates last.
    const kinds = changes.deleting.map((c) => c.kind)
    const last = (kind: string) => kinds.lastIndexOf(kind)
    expect(last('plugin')).toBeLessThan(kinds.indexOf('route'))
    expect(last('route')).toBeLessThan(kinds.indexOf('service'))
    expect(last('key-auth')).toBeLessThan(kinds.indexOf('consumer'))
    expect(last('sni')).toBeLessThan(kinds.indexOf('certificate'))
    // billing-api stays (matched by name), the other services go.
    expect(deleting).not.toContain('service billing-api')
    expect(deleting).toEqual(expect.arrayContaining(['service inventory', 'service sso-portal']))
  })

  it('masks DECK_* values unless --no-mask-deck-env-vars-value', async () => {
    const file = await dumpTo(await scratch('mask'), 'team-payments')
    const text = (await readFile(file, 'utf8')).replace(
      'host: payments.internal',
      'host: ${{ env "DECK_PAY_HOST" }}',
    )
    await writeFile(file, text.replace('retries: 5', 'retries: 7'))
    const env = authed(ENTERPRISE, { DECK_PAY_HOST: 'payments.internal' })
    const [masked, plain, textMode] = await Promise.all([
      deck(online('gateway', 'diff', file, '--json-output'), env),
      deck(online('gateway', 'diff', file, '--json-output', '--no-mask-deck-env-vars-value'), env),
      deck(online('gateway', 'diff', file), env),
    ])
    const body = report(masked).changes.updating[0]!.body!
    expect(body.new!.host).toBe('[masked]')
    expect(body.old!.host).toBe('[masked]')
    expect(masked.stdout).not.toContain('payments.internal')
    // The admin token comes from a DECK_ variable too: nothing in the bodies equals it.
    expect(report(plain).changes.updating[0]!.body!.new!.host).toBe('payments.internal')
    expect(textMode.stdout).toContain('updating service payments-api  {\n')
    expect(textMode.stdout).toContain('   "host": "[masked]",\n')
    expect(textMode.stdout).toContain('-  "retries": 5,\n+  "retries": 7,\n')
  })

  it('considers only entities carrying every select tag, and tags what it creates', async () => {
    const dir = await scratch('tags')
    const tagged = await dumpTo(dir, 'default', ENTERPRISE, ['--select-tag', 'team-billing'])
    expect(await readFile(tagged, 'utf8')).toContain('select_tags:\n  - team-billing')
    const file = join(dir, 'one.yaml')
    await writeFile(file, '_format_version: "3.0"\nservices:\n- name: ledger\n  host: ledger.internal\n')
    const [same, one, clash] = await Promise.all([
      deck(online('gateway', 'diff', tagged, '--json-output'), authed()),
      deck(online('gateway', 'diff', file, '--json-output', '--select-tag', 'team-billing'), authed()),
      deck(online('gateway', 'diff', tagged, '--select-tag', 'team-ops'), authed()),
    ])
    expect(same.stdout).toBe(EMPTY)
    const { changes } = report(one)
    expect(names(changes.creating)).toEqual(['service ledger'])
    expect(changes.creating[0]!.body!.new!.tags).toEqual(['team-billing'])
    const deleting = names(changes.deleting)
    expect(deleting).toEqual(
      expect.arrayContaining(['service billing-api', 'route lambda-hook', 'consumer alice']),
    )
    // Untagged or differently tagged entities are not considered.
    expect(deleting).not.toContain('service sso-portal')
    expect(deleting).not.toContain('plugin http-log (global)')
    expect(clash).toMatchObject({ code: 1, stdout: '' })
    expect(clash.stderr).toBe(
      'Error: tags specified in the state file ([team-billing]) and via --select-tags flag ([team-ops]) are different.\n' +
        '\t\t\t\t\tdecK expects tags to be specified in either via flag or via state file.\n' +
        '\t\t\t\t\tIn case both are specified, they must match\n',
    )
  })

  it('leaves consumers, consumer groups and their plugins out with --skip-consumers', async () => {
    const file = await dumpTo(await scratch('skip'), 'default')
    await editYaml<Entity>(file, (doc) => {
      delete doc.consumers
      delete doc.consumer_groups
      doc.plugins = list(doc, 'plugins').filter((p) => !p.consumer)
    })
    const [skipped, full] = await Promise.all([
      deck(online('gateway', 'diff', file, '--json-output', '--skip-consumers'), authed()),
      deck(online('gateway', 'diff', file, '--json-output'), authed()),
    ])
    expect(skipped.stdout).toBe(EMPTY)
    const kinds = new Set(report(full).changes.deleting.map((c) => c.kind))
    expect([...kinds]).toEqual(expect.arrayContaining(['consumer', 'consumer-group', 'plugin', 'key-auth']))
  })

  it('plans a missing workspace, with the --workspace warning in warnings[]', async () => {
    const file = await dumpTo(await scratch('missing'), 'team-payments')
    const r = await deck(online('gateway', 'diff', file, '--json-output', '-w', 'brand-new'), authed())
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(
      '\t\t"creating": [\n\t\t\t{\n\t\t\t\t"name": "brand-new",\n\t\t\t\t"kind": "workspace",\n\t\t\t\t"body": null\n\t\t\t},\n',
    )
    const { changes, summary, warnings } = report(r)
    expect(names(changes.creating).slice(0, 3)).toEqual([
      'workspace brand-new',
      'consumer merchant-portal',
      'service payments-api',
    ])
    // The workspace itself is not an operation deck counts.
    expect(summary.creating).toBe(changes.creating.length - 1)
    expect(warnings).toEqual([
      "Workspace 'brand-new' specified via --workspace flag is different from workspace 'team-payments' found in state file(s).",
    ])
    const text = await deck(online('gateway', 'diff', file, '-w', 'brand-new'), authed())
    expect(text.stdout).toMatch(
      /^Warning: Workspace 'brand-new' specified via --workspace flag is different from workspace 'team-payments' found in state file\(s\)\.\nCreating workspace brand-new\ncreating consumer merchant-portal\n/,
    )
  })

  it('exits 2 with --non-zero-exit-code before printing anything when there are changes', async () => {
    const file = await dumpTo(await scratch('nonzero'), 'team-payments')
    const changed = file.replace('.yaml', '-changed.yaml')
    await writeFile(changed, (await readFile(file, 'utf8')).replace('retries: 5', 'retries: 6'))
    const [same, differ, text] = await Promise.all([
      deck(online('gateway', 'diff', file, '--json-output', '--non-zero-exit-code'), authed()),
      deck(online('gateway', 'diff', changed, '--json-output', '--non-zero-exit-code'), authed()),
      deck(online('gateway', 'diff', changed, '--non-zero-exit-code'), authed()),
    ])
    expect(same).toMatchObject({ code: 0, stdout: EMPTY })
    expect(differ).toMatchObject({ code: 2, stdout: '', stderr: '' })
    // In text mode deck has printed the events and the summary before it exits.
    expect(text.code).toBe(2)
    expect(text.stdout).toMatch(
      /^updating service payments-api {2}\{\n[\s\S]*Summary:\n {2}Created: 0\n {2}Updated: 1\n/,
    )
  })

  it('hides events but not the summary with --silence-events, and reads stdin by default', async () => {
    const file = await dumpTo(await scratch('silence'), 'team-payments')
    const changed = (await readFile(file, 'utf8')).replace('retries: 5', 'retries: 6')
    const [silent, json] = await Promise.all([
      deck(online('gateway', 'diff', '--silence-events'), authed(), changed),
      deck(online('gateway', 'diff', '-', '--silence-events', '--json-output'), authed(), changed),
    ])
    expect(silent).toMatchObject({ code: 0, stdout: 'Summary:\n  Created: 0\n  Updated: 1\n  Deleted: 0\n' })
    expect(json).toMatchObject({ code: 0, stdout: '' })
  })

  it('fails like deck, exit 1 and no JSON, when Kong cannot be reached or refuses the token', async () => {
    const file = await dumpTo(await scratch('conn'), 'team-payments')
    const [refused, noToken, wrongToken, unset] = await Promise.all([
      deck(['gateway', 'diff', file, '--json-output', '--kong-addr', 'http://127.0.0.1:9999'], authed()),
      deck(online('gateway', 'diff', file, '--json-output'), { DECK_DOUBLE_GATEWAY: ENTERPRISE }),
      deck(
        online('gateway', 'sync', file, '--json-output'),
        authed(ENTERPRISE, { DECK_KONG_ADMIN_TOKEN: 'nope' }),
      ),
      deck(
        online('gateway', 'diff', '--json-output'),
        authed(),
        '_format_version: "3.0"\nservices:\n- name: x\n  host: ${{ env "DECK_UNSET_HOST" }}\n',
      ),
    ])
    expect(refused).toMatchObject({
      code: 1,
      stdout: '',
      stderr:
        // The file names a workspace: deck retries GET /<workspace>/kong and reports that error.
        'Error: reading Kong version: making HTTP request: Get "http://127.0.0.1:9999/team-payments/kong": ' +
        'dial tcp 127.0.0.1:9999: connect: connection refused\n',
    })
    for (const r of [noToken, wrongToken]) {
      expect(r).toMatchObject({
        code: 1,
        stdout: '',
        stderr: 'Error: reading Kong version: HTTP status 401 (message: "Invalid RBAC credentials")\n',
      })
    }
    expect(unset).toMatchObject({ code: 1, stdout: '' })
    expect(unset.stderr).toMatch(/environment variable 'DECK_UNSET_HOST' present in state file but not set/)
  })

  it('keeps the legacy diff -s of older releases', async () => {
    const file = await dumpTo(await scratch('legacy'), 'default', COMMUNITY)
    const [old, current] = await Promise.all([
      deck(online('diff', '-s', file), { DECK_DOUBLE_GATEWAY: COMMUNITY, DECK_DOUBLE_VERSION: '1.27.0' }),
      deck(online('diff', '-s', file, '--json-output'), { DECK_DOUBLE_GATEWAY: COMMUNITY }),
    ])
    expect(old).toMatchObject({ code: 0, stdout: 'Summary:\n  Created: 0\n  Updated: 0\n  Deleted: 0\n' })
    expect(old.stderr).not.toContain("Info: 'deck diff'")
    expect(current).toMatchObject({ code: 0, stdout: EMPTY })
    expect(current.stderr).toMatch(/^Info: 'deck diff' functionality has moved to 'deck gateway diff'/)
  })

  it('applies DECK_DOUBLE_FAIL like the other commands', async () => {
    const r = await deck(
      online('gateway', 'diff', '--json-output'),
      authed(ENTERPRISE, { DECK_DOUBLE_FAIL: 'error' }),
    )
    expect(r).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'Error: deck double: injected failure (DECK_DOUBLE_FAIL=error)\n',
    })
  })
})

describe('gateway sync', () => {
  async function changedTeamPayments(dir: string, gateway: string): Promise<string> {
    const file = await dumpTo(dir, 'team-payments', gateway)
    await editYaml<Entity>(file, (doc) => {
      list(doc, 'services')[0]!.retries = 9
      list(doc, 'services').push({ name: 'refunds', host: 'refunds.internal', port: 8080, protocol: 'http' })
      list(doc, 'services').push({
        name: 'disputes',
        host: 'disputes.internal',
        port: 8080,
        protocol: 'http',
      })
      doc.consumers = []
    })
    return file
  }

  it('rewrites the fixture so that dump and diff see the change, and a second sync changes nothing', async () => {
    const dir = await scratch('sync')
    const before = await sha(ENTERPRISE)
    const gateway = await copyFixture('enterprise.yaml', dir)
    const original = parse(await readFile(gateway, 'utf8')) as GatewayFixture
    const file = await changedTeamPayments(dir, gateway)
    const first = await deck(online('gateway', 'sync', file, '--json-output'), authed(gateway))
    expect(first.code).toBe(0)
    const { changes, summary, errors } = report(first)
    expect(errors).toEqual([])
    expect(summary).toEqual({ creating: 2, updating: 1, deleting: 3, total: 6 })
    // In sync mode the current entity keeps Kong's timestamps; the target takes created_at from it.
    const update = changes.updating[0]!.body!
    expect(update.old).toMatchObject({ created_at: 1737078003, updated_at: 1737510003 })
    expect(update.new).toMatchObject({ created_at: 1737078003, retries: 9 })
    expect(update.new).not.toHaveProperty('updated_at')
    expect(changes.deleting.find((c) => c.kind === 'consumer')!.body!.new).toMatchObject({
      created_at: 1737089148,
    })

    const fixture = parse(await readFile(gateway, 'utf8')) as GatewayFixture
    const workspaces = fixture.workspaces as Record<string, Entity>
    const originalWorkspaces = original.workspaces as Record<string, Entity>
    expect(workspaces.default).toEqual(originalWorkspaces.default)
    expect(workspaces.sandbox).toEqual(originalWorkspaces.sandbox)
    const services = list(workspaces['team-payments']!, 'services')
    expect(services.map((s) => s.name).sort()).toEqual(['disputes', 'payments-api', 'refunds'])
    expect(services.find((s) => s.name === 'payments-api')).toMatchObject({
      id: '6844062d-72f6-4e74-a166-6e7c66584546',
      retries: 9,
      created_at: 1737078003,
    })
    expect(workspaces['team-payments']).not.toHaveProperty('consumers')
    expect(fixture).toMatchObject({ kongAddr: ADDR, adminToken: TOKEN, edition: 'enterprise' })

    const [second, diff, dump] = await Promise.all([
      deck(online('gateway', 'sync', file, '--json-output'), authed(gateway)),
      deck(online('gateway', 'diff', file), authed(gateway)),
      deck(online('gateway', 'dump', '-w', 'team-payments'), authed(gateway)),
    ])
    expect(second.stdout).toBe(EMPTY)
    expect(diff.stdout).toBe('Summary:\n  Created: 0\n  Updated: 0\n  Deleted: 0\n')
    const dumped = parse(dump.stdout) as Entity
    expect(list(dumped, 'services').map((s) => s.name)).toEqual(['disputes', 'payments-api', 'refunds'])
    expect(await sha(ENTERPRISE)).toBe(before)
  })

  it('stops at an entity Kong refuses: errors[] with exit 0 in JSON, dropped_* lists, earlier events kept', async () => {
    const dir = await scratch('reject')
    const gateway = await copyFixture('enterprise.yaml', dir, (fixture) => {
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
    const file = await changedTeamPayments(dir, gateway)
    const r = await deck(online('gateway', 'sync', file, '--json-output'), authed(gateway))
    expect(r.code).toBe(0)
    const { changes, summary, errors } = report(r)
    expect(errors).toEqual([
      'while processing event: Create service refunds failed: HTTP status 400 (message: "schema violation (host: invalid value)")',
    ])
    // The failed event is listed (GDR lists it before sending it) but not counted.
    const listed = names(changes.creating)
    expect(listed[listed.length - 1]).toBe('service refunds')
    const processed = changes.creating.length + changes.updating.length + changes.deleting.length
    expect(summary.total).toBe(processed - 1)
    const dropped = [
      ...(changes.dropped_creations ?? []),
      ...(changes.dropped_updates ?? []),
      ...(changes.dropped_deletions ?? []),
    ]
    // deck stops at the failure (GDR Syncer.Run): the services in flight with refunds finish; the producer
    // drops the next event it would queue, the key-auth deletion; the ACL and consumer deletions it never
    // generated are reported nowhere: 4 of the 6 events are accounted for.
    expect(names(dropped)).toEqual(['key-auth c3d4e for consumer merchant-portal'])
    expect(summary.total + 1 + dropped.length).toBe(4)
    // What went through before the failure is in the fixture; what was dropped is not.
    const after = parse(await readFile(gateway, 'utf8')) as GatewayFixture
    const ws = (after.workspaces as Record<string, Entity>)['team-payments']!
    const services = list(ws, 'services').map((s) => s.name)
    expect(services).not.toContain('refunds')
    expect(list(ws, 'consumers').map((c) => c.username)).toEqual(['merchant-portal'])
    for (const c of [...changes.creating, ...changes.updating]) {
      if (c.kind === 'service' && c.name !== 'refunds') expect(services).toContain(c.name)
    }
  })

  it('ends with deck’s error, after the summary and dropped lines, in text mode (exit 1)', async () => {
    const dir = await scratch('reject-text')
    const gateway = await copyFixture('enterprise.yaml', dir, (fixture) => {
      fixture.reject = [{ kind: 'consumer', name: 'merchant-portal', status: 409, message: 'in use' }]
    })
    const file = await changedTeamPayments(dir, gateway)
    const r = await deck(online('gateway', 'sync', file), authed(gateway))
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(
      /\ndeleting consumer merchant-portal\nSummary:\n {2}Created: 2\n {2}Updated: 1\n {2}Deleted: 2\n$/,
    )
    expect(r.stderr).toBe(
      'Error: 1 errors occurred:\n' +
        '\twhile processing event: Delete consumer merchant-portal failed: HTTP status 409 (message: "in use")\n\n',
    )
    // A failure in the middle drops the next event deck would have queued; the rest it never generated.
    const early = await copyFixture('enterprise.yaml', await scratch('reject-early'), (fixture) => {
      fixture.reject = [{ kind: 'service', name: 'payments-api', op: 'update', status: 400, message: 'no' }]
    })
    const second = await deck(online('gateway', 'sync', file), authed(early))
    expect(second.code).toBe(1)
    expect(second.stdout).toContain(
      '\nDropped deletion key-auth c3d4e for consumer merchant-portal\nSummary:\n',
    )
    expect(second.stdout).not.toMatch(/(deleting|Dropped deletion) consumer merchant-portal/)
    expect(second.stderr).toContain(
      'while processing event: Update service payments-api failed: HTTP status 400',
    )
  })

  it('creates a missing workspace; Kong OSS has none to create', async () => {
    const dir = await scratch('new-ws')
    const gateway = await copyFixture('enterprise.yaml', dir)
    const file = join(dir, 'kong.yaml')
    await writeFile(
      file,
      '_format_version: "3.0"\n_workspace: brand-new\nservices:\n- name: s1\n  host: s1.internal\n',
    )
    const r = await deck(online('gateway', 'sync', file), authed(gateway))
    expect(r).toMatchObject({ code: 0 })
    expect(r.stdout).toBe(
      'Creating workspace brand-new\ncreating service s1\nSummary:\n  Created: 1\n  Updated: 0\n  Deleted: 0\n',
    )
    const dump = await deck(online('gateway', 'dump', '-w', 'brand-new'), authed(gateway))
    expect(list(parse(dump.stdout) as Entity, 'services').map((s) => s.name)).toEqual(['s1'])

    const community = await copyFixture('community.yaml', dir)
    const oss = await deck(online('gateway', 'sync', file, '--json-output'), {
      DECK_DOUBLE_GATEWAY: community,
    })
    expect(oss).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'Error: HTTP status 404 (message: "Not found")\n',
    })
  })

  it('never deletes with gateway apply', async () => {
    const dir = await scratch('apply')
    const gateway = await copyFixture('enterprise.yaml', dir)
    const file = await changedTeamPayments(dir, gateway)
    const r = await deck(online('gateway', 'apply', file), authed(gateway))
    expect(r.code).toBe(0)
    expect(r.stdout).not.toContain('deleting')
    expect(r.stdout).toMatch(/Summary:\n {2}Created: 2\n {2}Updated: 1\n {2}Deleted: 0\n$/)
  })
})
