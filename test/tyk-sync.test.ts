// gateway: tyk with tyk-dashboard: the bundled dump, diff and sync actions drive tyk-sync, here the tyk-sync 1.5.0
// double of test/tyk-sync-double/, whose Dashboard is a store folder. Every command line deckhand builds is
// checked against tyk-sync's real flags, and the Dashboard key must only ever travel in TYKGIT_DB_SECRET.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, isAbsolute, join, relative } from 'node:path'

import { fileNameOf } from '../actions/engine/tyk/objects.js'
import { type TykSyncCommand, tykSyncArgs } from '../actions/engine/tyk/tyk-sync.js'
import { type ActionRun, maskedValues, ROOT, runBundledAction, visibleLog } from './support/action.js'
import { workdir } from './support/deck-double.js'

const DOUBLE_DIR = join(ROOT, 'test', 'tyk-sync-double')
const NODE_DIR = dirname(process.execPath)

const DASHBOARD = 'http://tyk-dashboard.test:3000'
const DASH_KEY = 'dash-key-7c41f0e2b9d8'
const ORG = '5e9d9544a1dcd60001d0ed20'
const UPSTREAM_PASSWORD = 'upstream-P4ss-91x-billing'
const BILLING_BEARER = 'Bearer billing-upstream-4f2a9c'
const PETS_BEARER = 'Bearer pets-upstream-0b7e55'
const POLICY_TOKEN = 'gold-meta-t0ken-e1d2c3'
const SECRETS = [DASH_KEY, UPSTREAM_PASSWORD, BILLING_BEARER, PETS_BEARER, POLICY_TOKEN]

const DB = {
  billing: '64b1f0c2a9e4d10001a0b001',
  orders: '64b1f0c2a9e4d10001a0b002',
  petstore: '64b1f0c2a9e4d10001a0b003',
  gold: '64b1f0c2a9e4d10001a0c001',
  free: '64b1f0c2a9e4d10001a0c002',
  template: '64b1f0c2a9e4d10001a0d001',
}

// --- the Dashboard's store, as the double reads it (test/tyk-sync-double/README.md) ---

const DASHBOARD_FIELDS = {
  hook_references: [],
  is_site: false,
  sort_by: 0,
  user_group_owners: [],
  user_owners: [],
}

function classicApi(dbId: string, apiId: string, name: string, extra: Record<string, unknown> = {}) {
  return {
    api_definition: {
      id: dbId,
      name,
      slug: apiId,
      api_id: apiId,
      org_id: ORG,
      use_keyless: false,
      use_standard_auth: true,
      auth: { auth_header_name: 'Authorization' },
      definition: { location: 'header', key: 'x-api-version' },
      version_data: {
        not_versioned: true,
        default_version: '',
        versions: { Default: { name: 'Default', use_extended_paths: true, global_headers: {} } },
      },
      proxy: {
        listen_path: `/${apiId}/`,
        target_url: `http://${apiId}.internal:8080`,
        strip_listen_path: true,
      },
      active: true,
      is_oas: false,
      ...extra,
    },
    ...DASHBOARD_FIELDS,
  }
}

const BILLING = classicApi(DB.billing, 'billing', 'Billing API', {
  upstream_auth: {
    enabled: true,
    basic_auth: { enabled: true, username: 'svc-billing', password: UPSTREAM_PASSWORD },
  },
  version_data: {
    not_versioned: true,
    default_version: '',
    versions: {
      Default: {
        name: 'Default',
        use_extended_paths: true,
        global_headers: { Authorization: BILLING_BEARER, 'X-Team': 'billing' },
      },
    },
  },
})
const ORDERS = classicApi(DB.orders, 'orders', 'Orders API')
const PETSTORE = {
  api_definition: { api_id: 'petstore', id: DB.petstore, is_oas: true, name: 'Petstore', org_id: ORG },
  oas: {
    openapi: '3.0.3',
    info: { title: 'Petstore', version: '1.0.0' },
    paths: {},
    servers: [{ url: 'http://tyk-gateway.test:8080/petstore/' }],
    'x-tyk-api-gateway': {
      info: { id: 'petstore', dbId: DB.petstore, orgId: ORG, name: 'Petstore', state: { active: true } },
      upstream: { url: 'http://pets.internal' },
      server: { listenPath: { value: '/petstore/', strip: true } },
      middleware: {
        global: {
          transformRequestHeaders: { enabled: true, add: [{ name: 'Authorization', value: PETS_BEARER }] },
        },
      },
    },
  },
  ...DASHBOARD_FIELDS,
}

function policy(mid: string, id: string, name: string, api: string, extra: Record<string, unknown> = {}) {
  return {
    _id: mid,
    id,
    name,
    org_id: ORG,
    rate: 1000,
    per: 60,
    quota_max: -1,
    quota_renewal_rate: 3600,
    throttle_interval: -1,
    throttle_retry_limit: -1,
    max_query_depth: -1,
    access_rights: {
      [api]: {
        api_id: api,
        api_name: api,
        versions: ['Default'],
        allowed_urls: [],
        limit: null,
        allowance_scope: '',
      },
    },
    hmac_enabled: false,
    active: true,
    is_inactive: false,
    date_created: '2024-05-02T09:30:00Z',
    tags: [],
    key_expires_in: 0,
    partitions: { quota: false, rate_limit: false, complexity: false, acl: false, per_api: false },
    last_updated: '1714642200',
    meta_data: {},
    // The Dashboard keeps more than tyk-sync's Policy struct knows: dumps leave this out.
    graphql_access_rights: {},
    ...extra,
  }
}

const GOLD = policy(DB.gold, 'gold', 'Gold', 'billing', {
  tags: ['paid'],
  meta_data: { billing_token: POLICY_TOKEN, tier: 'gold' },
})
/** Made in the Dashboard UI: no explicit id, so tyk-sync names its file by the database id. */
const FREE = policy(DB.free, '', 'Free', 'orders', { rate: 10 })
const TEMPLATE = {
  _id: DB.template,
  id: 'tpl-default',
  name: 'Default API template',
  org_id: ORG,
  description: 'What new APIs start from',
  kind: 'oas-template',
  data: { 'x-tyk-api-gateway': { upstream: { url: 'http://template.internal' } } },
  last_updated: '2024-05-02T09:30:00Z',
}

/** Names of the deckhand files of the store's objects (objects.ts decides them). */
const FILES = {
  billing: fileNameOf({ format: 'classic', id: 'billing' }),
  orders: fileNameOf({ format: 'classic', id: 'orders' }),
  petstore: fileNameOf({ format: 'oas', id: 'petstore' }),
  gold: fileNameOf({ format: 'policy', id: 'gold' }),
  free: fileNameOf({ format: 'policy', id: DB.free }),
}

type Json = Record<string, unknown>

let w: Awaited<ReturnType<typeof workdir>>
let store: string
beforeEach(async () => {
  w = await workdir()
  store = join(w.dir, 'store')
  await writeJson(join(store, 'dashboard.json'), { url: DASHBOARD, org_id: ORG })
  for (const api of [BILLING, ORDERS, PETSTORE])
    await writeJson(join(store, 'apis', `${api.api_definition.id}.json`), api)
  for (const pol of [GOLD, FREE]) await writeJson(join(store, 'policies', `${pol._id}.json`), pol)
  await writeJson(join(store, 'assets', `${TEMPLATE._id}.json`), TEMPLATE)
})
afterEach(() => w.cleanup())

async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, JSON.stringify(value, null, 2) + '\n')
}

/** Every file under dir, by relative path, with its bytes as text. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>()
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    files.set(relative(dir, path), await readFile(path, 'utf8'))
  }
  return files
}

/** What the store holds now: APIs by API id, policies by id (or database id), templates by id. */
async function dashboardHolds(): Promise<{
  apis: Map<string, Json>
  policies: Map<string, Json>
  assets: Map<string, Json>
}> {
  const read = async (kind: string) =>
    Promise.all(
      (await readdir(join(store, kind)).catch(() => [] as string[]))
        .filter((n) => n.endsWith('.json'))
        .map(async (n) => JSON.parse(await readFile(join(store, kind, n), 'utf8')) as Json),
    )
  const apiId = (api: Json) => {
    const def = api.api_definition as Json
    if (def.is_oas === true) {
      return ((api.oas as Json)['x-tyk-api-gateway'] as { info: { id: string } }).info.id
    }
    return def.api_id as string
  }
  return {
    apis: new Map((await read('apis')).map((a) => [apiId(a), a])),
    policies: new Map((await read('policies')).map((p) => [(p.id as string) || (p._id as string), p])),
    assets: new Map((await read('assets')).map((a) => [a.id as string, a])),
  }
}

interface Call {
  argv: string[]
  cwd: string
  secretEnv: { TYKGIT_DB_SECRET: boolean; TYKGIT_GW_SECRET: boolean }
}

async function calls(): Promise<Call[]> {
  const text = await readFile(w.log, 'utf8').catch(() => '')
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Call)
}

/** The double first on PATH (node beside it, for its #! line), pointed at the store. */
function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: [DOUBLE_DIR, NODE_DIR, process.env.PATH ?? ''].join(':'),
    TYK_SYNC_DOUBLE_STORE: store,
    TYK_SYNC_DOUBLE_SECRET: DASH_KEY,
    TYK_SYNC_DOUBLE_LOG: w.log,
    ...extra,
  }
}

const tyk = (extra: Record<string, string> = {}) => ({
  gateway: 'tyk',
  'tyk-dashboard': DASHBOARD,
  'tyk-secret': DASH_KEY,
  ...extra,
})

/** What the runner shows by default: no masks, no ::debug:: lines (those need step debugging). */
function shown(stdout: string): string {
  return visibleLog(stdout)
    .split('\n')
    .filter((line) => !line.startsWith('::debug::'))
    .join('\n')
}

/** Everything a user, a log or git could see of a run: output, summary, outputs, plan file and the double's log. */
async function visible(run: ActionRun): Promise<string> {
  const plan = run.outputs.plan ? await readFile(run.outputs.plan, 'utf8').catch(() => '') : ''
  const log = await readFile(w.log, 'utf8').catch(() => '')
  return [visibleLog(run.stdout), run.stderr, run.summary, JSON.stringify(run.outputs), plan, log].join('\n')
}

function expectNoSecrets(text: string): void {
  for (const secret of SECRETS)
    expect({ secret, leaked: text.includes(secret) }).toEqual({ secret, leaked: false })
}

/** The tyk-sync calls never carry the key: no -s/--secret, no value of it, and TYKGIT_DB_SECRET set. */
async function expectKeyOnlyInEnvironment(): Promise<void> {
  const logged = await calls()
  expect(logged.length).toBeGreaterThan(0)
  for (const call of logged) {
    expect(call.argv).not.toContain('-s')
    expect(call.argv.some((a) => a.startsWith('--secret'))).toBe(false)
    expect(call.argv.join(' ')).not.toContain(DASH_KEY)
    expect(call.secretEnv.TYKGIT_DB_SECRET).toBe(true)
  }
}

async function dump(output: string, extraEnv: Record<string, string> = {}): Promise<ActionRun> {
  return runBundledAction('dump', tyk({ 'output-dir': output }), { env: env(extraEnv) })
}

const REFERENCE = /^\$\{\{ env "(DECKHAND_TYK_[A-Z0-9_]+)" \}\}$/

/** The DECKHAND_TYK_ variables of a dump, with the values the Dashboard held. */
async function secretEnv(folder: string): Promise<Record<string, string>> {
  const names = (await readFile(join(folder, 'required-env.txt'), 'utf8'))
    .split('\n')
    .filter((l) => /^DECKHAND_TYK_/.test(l))
  const value = (name: string) =>
    /BASIC_AUTH_PASSWORD$/.test(name)
      ? UPSTREAM_PASSWORD
      : /GLOBAL_HEADERS_AUTHORIZATION$/.test(name)
        ? BILLING_BEARER
        : /TRANSFORMREQUESTHEADERS/.test(name)
          ? PETS_BEARER
          : /BILLING_TOKEN$/.test(name)
            ? POLICY_TOKEN
            : undefined
  const out: Record<string, string> = {}
  for (const name of names) {
    const v = value(name)
    if (v === undefined) throw new Error(`unexpected variable ${name}`)
    out[name] = v
  }
  return out
}

async function readJson(path: string): Promise<Json> {
  return JSON.parse(await readFile(path, 'utf8')) as Json
}

/** A file's body with its DECKHAND_TYK_ references filled, as sync sends it. */
function filled(value: unknown, vars: Record<string, string>): unknown {
  if (typeof value === 'string') {
    const m = REFERENCE.exec(value)
    return m ? vars[m[1]!] : value
  }
  if (Array.isArray(value)) return value.map((v) => filled(v, vars))
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, filled(v, vars)]))
  }
  return value
}

describe('tyk-sync argv', () => {
  test('every command line deckhand builds is one tyk-sync 1.5.0 accepts, and none carries a secret flag', async () => {
    const { checkTykSyncArgv } = (await import(join(DOUBLE_DIR, 'flags.mjs'))) as {
      checkTykSyncArgv: (argv: readonly string[]) => string | null
    }
    const commands: TykSyncCommand[] = ['dump', 'sync', 'publish']
    const dashboards = [DASHBOARD, 'https://dashboard.example.com/', 'http://10.0.0.5:3000/tyk']
    const folders = [
      '/runner/_temp/deckhand-tyk-sync-Ab12Cd',
      '/runner/temp with space/x',
      '/runner/-dash-first',
    ]
    for (const command of commands) {
      for (const dashboard of dashboards) {
        for (const folder of folders) {
          const argv = tykSyncArgs(command, dashboard, folder)
          expect({ argv, error: checkTykSyncArgv(argv) }).toEqual({ argv, error: null })
          expect(argv).not.toContain('-s')
          expect(argv).not.toContain('--secret')
        }
      }
    }
    expect(tykSyncArgs('dump', DASHBOARD, '/d')).toEqual(['dump', '-d', DASHBOARD, '-t', '/d'])
    expect(tykSyncArgs('sync', DASHBOARD, '/d')).toEqual(['sync', '-d', DASHBOARD, '-p', '/d'])
    // The table is not a rubber stamp: what 1.5.0 lacks is refused with cobra's and pflag's words.
    expect(checkTykSyncArgv(['dump', '-d', DASHBOARD, '-p', '/d'])).toBe(
      "Error: unknown shorthand flag: 'p' in -p",
    )
    expect(checkTykSyncArgv(['sync', '-d', DASHBOARD, '-t', '/d'])).toBe(
      "Error: unknown shorthand flag: 't' in -t",
    )
    expect(checkTykSyncArgv(['sync', '-d', DASHBOARD, '--folder', '/d'])).toBe(
      'Error: unknown flag: --folder',
    )
    expect(checkTykSyncArgv(['dump', '-t', '/d'])).toBe('Error: required flag(s) "dashboard" not set')
    expect(checkTykSyncArgv(['apply', '-d', DASHBOARD])).toMatch(
      /^Error: unknown command "apply" for "tyk-sync"/,
    )
    expect(checkTykSyncArgv(['update', '-d', DASHBOARD, '-p', '/d', '--oas-apis', 'a,b'])).toBeNull()
    expect(checkTykSyncArgv(['update', '-d', DASHBOARD, '-o', 'org'])).toBe(
      "Error: unknown shorthand flag: 'o' in -o",
    )
  })
})

describe('dump action with tyk-dashboard (bundled)', () => {
  test('writes one redacted file per object, .tyk.json, SHA256SUMS and required-env.txt; the key stays in the environment', async () => {
    const out = join(w.dir, 'tyk')
    const run = await dump(out)
    expect(run.exitCode).toBe(0)
    expect((await readdir(out)).sort()).toEqual(
      [
        '.tyk.json',
        'SHA256SUMS',
        'required-env.txt',
        FILES.billing,
        FILES.orders,
        FILES.petstore,
        FILES.free,
        FILES.gold,
      ].sort(),
    )
    expect(FILES).toEqual({
      billing: 'api-billing.json',
      orders: 'api-orders.json',
      petstore: 'oas-petstore.json',
      gold: 'policy-gold.json',
      free: `policy-${DB.free}.json`,
    })
    expect(run.outputs.files!.split('\n')).toEqual(
      [FILES.billing, FILES.orders, FILES.petstore, FILES.free, FILES.gold].map((f) => join(out, f)),
    )
    expect(run.outputs).toMatchObject({ 'entity-count': '5', 'secrets-redacted': '4', changed: 'true' })
    expect(await readJson(join(out, '.tyk.json'))).toEqual({
      type: 'apidef',
      files: [
        { file: FILES.billing, api_id: 'billing' },
        { file: FILES.orders, api_id: 'orders' },
        { file: FILES.petstore, api_id: 'petstore' },
      ],
      policies: [
        { file: FILES.free, id: DB.free },
        { file: FILES.gold, id: 'gold' },
      ],
    })
    const sums = await readFile(join(out, 'SHA256SUMS'), 'utf8')
    for (const f of ['.tyk.json', 'required-env.txt', FILES.billing, FILES.petstore, FILES.gold])
      expect(sums).toContain(f)

    // Secrets became references to DECKHAND_TYK_ variables, listed in required-env.txt and the output.
    const billing = await readJson(join(out, FILES.billing))
    const def = billing.api_definition as Json
    const password = ((def.upstream_auth as Json).basic_auth as Json).password as string
    const header = (((def.version_data as Json).versions as Json).Default as Json).global_headers as Json
    const pets = await readJson(join(out, FILES.petstore))
    const petsHeader = (
      pets.oas as {
        'x-tyk-api-gateway': { middleware: { global: { transformRequestHeaders: { add: Json[] } } } }
      }
    )['x-tyk-api-gateway'].middleware.global.transformRequestHeaders.add[0]!
    const gold = await readJson(join(out, FILES.gold))
    const references = [
      password,
      header.Authorization,
      petsHeader.value,
      (gold.meta_data as Json).billing_token,
    ]
    const names = references.map((r) => REFERENCE.exec(r as string)?.[1])
    expect(names.every((n) => n !== undefined)).toBe(true)
    expect(header['X-Team']).toBe('billing')
    expect((gold.meta_data as Json).tier).toBe('gold')
    const required = (await readFile(join(out, 'required-env.txt'), 'utf8'))
      .split('\n')
      .filter((l) => /^[A-Z]/.test(l))
    expect(required).toEqual([...names].sort())
    expect(run.outputs['required-env']!.split('\n')).toEqual([...names].sort())

    // The Dashboard's own wrapper fields are kept; what tyk-sync's Policy struct lacks is not there.
    expect(billing).toMatchObject({ hook_references: [], is_site: false, sort_by: 0 })
    expect(gold).not.toHaveProperty('graphql_access_rights')
    expect(gold).toMatchObject({ id: 'gold', org_id: ORG, date_created: '2024-05-02T09:30:00Z' })
    // Database ids are this Dashboard's alone (another gives others): never in the files. Org ids stay
    // (tyk-sync refuses a policy without one).
    expect(gold).not.toHaveProperty('_id')
    expect(billing.api_definition).not.toHaveProperty('id')
    expect(billing.api_definition).toMatchObject({ api_id: 'billing', org_id: ORG })
    const petsInfo = (pets.oas as { 'x-tyk-api-gateway': { info: Json } })['x-tyk-api-gateway'].info
    expect(petsInfo).toMatchObject({ id: 'petstore', orgId: ORG })
    expect(petsInfo).not.toHaveProperty('dbId')
    const free = await readJson(join(out, FILES.free))
    expect(free).toMatchObject({ id: DB.free, name: 'Free' })
    expect(free).not.toHaveProperty('_id')

    const files = [...(await snapshot(out)).values()].join('\n')
    expectNoSecrets(files + (await visible(run)))
    expect(maskedValues(run.stdout)).toContain(DASH_KEY)

    // One tyk-sync call: `dump -d <url> -t <private folder>`, the key in TYKGIT_DB_SECRET only.
    const logged = await calls()
    expect(logged).toHaveLength(1)
    const [command, d, url, t, folder] = logged[0]!.argv
    expect([command, d, url, t]).toEqual(['dump', '-d', DASHBOARD, '-t'])
    expect(logged[0]!.argv).toHaveLength(5)
    expect(isAbsolute(folder!)).toBe(true)
    expect(folder).not.toBe(out)
    await expect(stat(folder!)).rejects.toThrow()
    await expectKeyOnlyInEnvironment()
  })

  test('a second dump is byte-identical even when the Dashboard lists and orders everything differently', async () => {
    const out = join(w.dir, 'tyk')
    const first = await dump(out)
    expect(first.exitCode).toBe(0)
    const before = await snapshot(out)

    // The same objects with every key order reversed, listed in another order.
    const reverse = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(reverse)
      if (value === null || typeof value !== 'object') return value
      return Object.fromEntries(
        Object.entries(value)
          .reverse()
          .map(([k, v]) => [k, reverse(v)]),
      )
    }
    for (const kind of ['apis', 'policies']) {
      for (const name of await readdir(join(store, kind))) {
        const path = join(store, kind, name)
        await writeJson(path, reverse(JSON.parse(await readFile(path, 'utf8'))))
      }
    }
    const second = await dump(out, { TYK_SYNC_DOUBLE_SHUFFLE: '7' })
    expect(second.exitCode).toBe(0)
    expect(second.outputs.changed).toBe('false')
    expect(second.outputs.digest).toBe(first.outputs.digest)
    expect(await snapshot(out)).toEqual(before)
    await expectKeyOnlyInEnvironment()
  })

  test('tyk-sync printing an Error line and exiting 0 (a wrong key) fails the step; the previous dump stays', async () => {
    const out = join(w.dir, 'tyk')
    expect((await dump(out)).exitCode).toBe(0)
    const before = await snapshot(out)

    const run = await runBundledAction(
      'dump',
      tyk({ 'output-dir': out, 'tyk-secret': 'not-the-dashboard-key' }),
      {
        env: env(),
      },
    )
    expect(run.exitCode).not.toBe(0)
    const text = shown(run.stdout)
    expect(text).toContain('tyk-sync dump failed (exit 0): Error getting users from dashboard')
    expect(text).toContain('Not authorised')
    expect(text).not.toContain('not-the-dashboard-key')
    expect(await snapshot(out)).toEqual(before)
  })

  test('an unreachable Dashboard fails the step with the reason tyk-sync printed; the previous dump stays', async () => {
    const out = join(w.dir, 'tyk')
    expect((await dump(out)).exitCode).toBe(0)
    const before = await snapshot(out)

    // tyk-sync 1.5.0 prints the Go error (`Get "…": dial tcp …: connection refused`), writes nothing, exits 0.
    const run = await runBundledAction(
      'dump',
      tyk({ 'output-dir': out, 'tyk-dashboard': 'http://127.0.0.1:9' }),
      {
        env: env(),
      },
    )
    expect(run.exitCode).not.toBe(0)
    expect(await snapshot(out)).toEqual(before)
    const text = shown(run.stdout)
    expect(text).toContain('tyk-sync')
    expect(text).toContain('connection refused')
  })
})

describe('diff action with tyk-dashboard (bundled)', () => {
  test('the dumped folder plans no change; an edited field plans one update that names it', async () => {
    const out = join(w.dir, 'tyk')
    expect((await dump(out)).exitCode).toBe(0)
    const vars = await secretEnv(out)
    const plan = join(w.dir, 'plan.json')

    const clean = await runBundledAction('diff', tyk({ state: out, 'plan-file': plan }), { env: env(vars) })
    expect(clean.exitCode).toBe(0)
    expect(clean.outputs).toMatchObject({
      creating: '0',
      updating: '0',
      deleting: '0',
      total: '0',
      'has-changes': 'false',
    })
    expect(JSON.parse(await readFile(plan, 'utf8'))).toMatchObject({ command: 'diff', counts: { total: 0 } })

    const file = join(out, FILES.billing)
    const body = await readJson(file)
    ;((body.api_definition as Json).proxy as Json).target_url = 'http://billing-v2.internal:8080'
    await writeJson(file, body)
    const edited = await runBundledAction('diff', tyk({ state: out, 'plan-file': plan }), { env: env(vars) })
    expect(edited.exitCode).toBe(0)
    expect(edited.outputs).toMatchObject({
      creating: '0',
      updating: '1',
      deleting: '0',
      'has-changes': 'true',
    })
    const written = JSON.parse(await readFile(plan, 'utf8')) as {
      targets: {
        changes: { action: string; kind: string; name: string; fields: { path: string; new?: string }[] }[]
      }[]
    }
    expect(written.targets[0]!.changes).toHaveLength(1)
    const change = written.targets[0]!.changes[0]!
    expect(change).toMatchObject({ action: 'update', kind: 'api' })
    expect(change.name).toContain('billing')
    expect(change.fields.map((f) => f.path)).toEqual(['api_definition.proxy.target_url'])
    expect(change.fields[0]!.new).toContain('billing-v2.internal')

    expectNoSecrets((await visible(clean)) + (await visible(edited)))
    expect((await calls()).map((c) => c.argv[0])).toEqual(['dump', 'dump', 'dump'])
    await expectKeyOnlyInEnvironment()
  })
})

describe('sync action with tyk-dashboard (bundled)', () => {
  /** A dumped folder without the orders API and the Free policy (their .tyk.json entries left as they were). */
  async function folderWithTwoDeletions(): Promise<{ state: string; vars: Record<string, string> }> {
    const dumped = join(w.dir, 'dumped')
    expect((await dump(dumped)).exitCode).toBe(0)
    const state = join(w.dir, 'state')
    await cp(dumped, state, { recursive: true })
    await rm(join(state, FILES.orders))
    await rm(join(state, FILES.free))
    await rm(w.log)
    return { state, vars: await secretEnv(state) }
  }

  test('deletions beyond max-deletes are refused before tyk-sync sync runs; dry-run sends nothing either', async () => {
    const { state, vars } = await folderWithTwoDeletions()
    const before = await snapshot(store)

    const refused = await runBundledAction('sync', tyk({ state }), { env: env(vars) })
    expect(refused.exitCode).not.toBe(0)
    expect(refused.outputs).toMatchObject({ deleting: '2', applied: 'false' })
    expect(refused.summary).toContain('max-deletes')
    expect(refused.summary).toContain('Orders API')
    expect(await snapshot(store)).toEqual(before)
    expect((await calls()).map((c) => c.argv[0])).toEqual(['dump'])

    const dry = await runBundledAction('sync', tyk({ state, 'max-deletes': '2', 'dry-run': 'true' }), {
      env: env(vars),
    })
    expect(dry.exitCode).toBe(0)
    expect(dry.outputs).toMatchObject({ deleting: '2', applied: 'false' })
    expect(await snapshot(store)).toEqual(before)
    expect((await calls()).map((c) => c.argv[0])).toEqual(['dump', 'dump'])
    expectNoSecrets((await visible(refused)) + (await visible(dry)))
  })

  test('within max-deletes, tyk-sync sync -p <private folder> makes the Dashboard hold exactly the folder, secrets filled', async () => {
    const { state, vars } = await folderWithTwoDeletions()

    const run = await runBundledAction('sync', tyk({ state, 'max-deletes': '2' }), { env: env(vars) })
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ creating: '0', updating: '0', deleting: '2', applied: 'true' })
    expect(run.summary).toContain('Applied')

    const logged = await calls()
    const syncs = logged.filter((c) => c.argv[0] === 'sync')
    expect(syncs).toHaveLength(1)
    const [command, d, url, p, folder] = syncs[0]!.argv
    expect([command, d, url, p]).toEqual(['sync', '-d', DASHBOARD, '-p'])
    expect(syncs[0]!.argv).toHaveLength(5)
    expect(isAbsolute(folder!)).toBe(true)
    expect(folder).not.toBe(state)
    await expect(stat(folder!)).rejects.toThrow()
    // Planned from a dump before, and read back after.
    expect(logged.map((c) => c.argv[0])).toEqual(['dump', 'sync', 'dump'])
    await expectKeyOnlyInEnvironment()

    const holds = await dashboardHolds()
    expect([...holds.apis.keys()].sort()).toEqual(['billing', 'petstore'])
    expect([...holds.policies.keys()].sort()).toEqual(['gold'])
    // The Dashboard keeps its database id beside what the file holds.
    const billingFile = filled(await readJson(join(state, FILES.billing)), vars) as Json
    expect(holds.apis.get('billing')).toEqual({
      ...billingFile,
      api_definition: { ...(billingFile.api_definition as Json), id: DB.billing },
    })
    // An OAS API's file is its `oas` document and the Dashboard's fields; api_definition is the Dashboard's own.
    const { api_definition: _classic, ...petstore } = holds.apis.get('petstore')!
    const petsInfo = (petstore.oas as { 'x-tyk-api-gateway': { info: Json } })['x-tyk-api-gateway'].info
    expect(petsInfo.dbId).toBe(DB.petstore)
    delete petsInfo.dbId
    expect(petstore).toEqual(filled(await readJson(join(state, FILES.petstore)), vars))
    const { _id: goldId, ...gold } = holds.policies.get('gold')!
    expect(goldId).toBe(DB.gold)
    expect(gold).toEqual(filled(await readJson(join(state, FILES.gold)), vars))
    // The real values are in the Dashboard again.
    const billing = holds.apis.get('billing')!.api_definition as Json
    expect(((billing.upstream_auth as Json).basic_auth as Json).password).toBe(UPSTREAM_PASSWORD)
    expect((holds.policies.get('gold')!.meta_data as Json).billing_token).toBe(POLICY_TOKEN)
    expectNoSecrets(await visible(run))
  })

  test('sync leaves the Dashboard’s API templates alone: deckhand neither keeps nor plans them', async () => {
    const { state, vars } = await folderWithTwoDeletions()
    const run = await runBundledAction('sync', tyk({ state, 'max-deletes': '2' }), { env: env(vars) })
    expect(run.exitCode).toBe(0)
    expect(run.outputs.deleting).toBe('2')
    // tyk-sync sync deletes every template its folder's .tyk.json does not list.
    expect([...(await dashboardHolds()).assets.keys()]).toEqual(['tpl-default'])
  })
})

describe('tyk-sync sync into another Dashboard, and files written by hand', () => {
  const OTHER_ORG = '6a0f00c2b7e1aa0001ffee01'

  /** Points the double at a new, empty Dashboard of another organisation (a rebuilt one). */
  async function rebuiltDashboard(): Promise<void> {
    store = join(w.dir, 'rebuilt')
    await writeJson(join(store, 'dashboard.json'), { url: DASHBOARD, org_id: OTHER_ORG })
  }

  test('a dump synced into a rebuilt Dashboard (new database ids, another org) converges at once, and diff is clean', async () => {
    const dumped = join(w.dir, 'dumped')
    expect((await dump(dumped)).exitCode).toBe(0)
    const vars = await secretEnv(dumped)
    await rebuiltDashboard()
    await rm(w.log)

    // converge-timeout 1: a plan that kept seeing the Dashboard's own stamps as changes would fail here.
    const run = await runBundledAction('sync', tyk({ state: dumped, 'converge-timeout': '1' }), {
      env: env(vars),
    })
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ creating: '5', updating: '0', deleting: '0', applied: 'true' })
    // Planned, synced, and read back once: nothing left to wait for.
    expect((await calls()).map((c) => c.argv[0])).toEqual(['dump', 'sync', 'dump'])

    const holds = await dashboardHolds()
    expect([...holds.apis.keys()].sort()).toEqual(['billing', 'orders', 'petstore'])
    expect([...holds.policies.keys()].sort()).toEqual([DB.free, 'gold'])
    const billing = holds.apis.get('billing')!.api_definition as Json
    expect(billing.id).not.toBe(DB.billing)
    expect(billing.org_id).toBe(OTHER_ORG)
    expect(holds.policies.get('gold')!._id).not.toBe(DB.gold)
    expect(holds.policies.get('gold')!.org_id).toBe(OTHER_ORG)

    const diff = await runBundledAction('diff', tyk({ state: dumped }), { env: env(vars) })
    expect(diff.exitCode).toBe(0)
    expect(diff.outputs['has-changes']).toBe('false')
    // A real change still shows, the org and ids aside.
    const file = join(dumped, FILES.orders)
    const orders = await readJson(file)
    ;(orders.api_definition as Json).name = 'Orders API v2'
    await writeJson(file, orders)
    const changed = await runBundledAction('diff', tyk({ state: dumped }), { env: env(vars) })
    expect(changed.outputs).toMatchObject({ updating: '1', total: '1' })
    expect(changed.summary).toContain('api_definition.name: "Orders API" → "Orders API v2"')
    expect(changed.summary).not.toContain('org_id')
    expectNoSecrets((await visible(run)) + (await visible(changed)))
  })

  test('a bare API definition and a policy written by hand, with no ids or org of the Dashboard, are created and then match', async () => {
    const state = join(w.dir, 'state')
    await mkdir(state)
    await writeJson(join(state, 'api-inventory.json'), {
      name: 'Inventory API',
      api_id: 'inventory',
      use_keyless: true,
      active: true,
      proxy: { listen_path: '/inventory/', target_url: 'http://inventory.internal', strip_listen_path: true },
      version_data: { not_versioned: true, versions: { Default: { name: 'Default' } } },
    })
    await writeJson(join(state, 'policy-bronze.json'), {
      id: 'bronze',
      name: 'Bronze',
      org_id: ORG,
      rate: 5,
      per: 1,
      access_rights: { inventory: { api_id: 'inventory', api_name: 'Inventory API', versions: ['Default'] } },
    })
    await rebuiltDashboard()

    const run = await runBundledAction('sync', tyk({ state, 'converge-timeout': '1' }), { env: env() })
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ creating: '2', applied: 'true' })
    const holds = await dashboardHolds()
    // tyk-sync wrapped the bare definition in the Dashboard's fields and stamped its org.
    expect(holds.apis.get('inventory')).toMatchObject({
      api_definition: { api_id: 'inventory', name: 'Inventory API', org_id: OTHER_ORG },
      is_site: false,
    })
    expect(holds.policies.get('bronze')).toMatchObject({ name: 'Bronze', org_id: OTHER_ORG })

    const diff = await runBundledAction('diff', tyk({ state }), { env: env() })
    expect(diff.outputs['has-changes']).toBe('false')
  })

  test('deleting the last policies is refused before tyk-sync runs, which would leave them in place', async () => {
    const dumped = join(w.dir, 'dumped')
    expect((await dump(dumped)).exitCode).toBe(0)
    const vars = await secretEnv(dumped)
    await rm(join(dumped, FILES.gold))
    await rm(join(dumped, FILES.free))
    await rm(w.log)
    const before = await snapshot(store)

    // The plan cannot be carried out: diff fails too, so a pull request check says so before the merge.
    const diff = await runBundledAction('diff', tyk({ state: dumped }), { env: env(vars) })
    expect(diff.exitCode).not.toBe(0)
    expect(diff.outputs.deleting).toBe('2')
    expect(diff.summary).toContain("tyk-sync sync never deletes a Dashboard's last policies")

    const sync = await runBundledAction('sync', tyk({ state: dumped, 'allow-deletes': 'true' }), {
      env: env(vars),
    })
    expect(sync.exitCode).not.toBe(0)
    expect(sync.outputs.applied).toBe('false')
    expect(sync.summary).toContain("tyk-sync sync never deletes a Dashboard's last policies")
    expect(sync.summary).toContain('Gold (gold)')
    expect((await calls()).map((c) => c.argv[0])).toEqual(['dump', 'dump'])
    expect(await snapshot(store)).toEqual(before)
  })
})

describe('tyk-sync missing', () => {
  test('not on PATH and no tyk-sync-path: a clear error naming tyk-sync-path; tyk-sync-path finds it', async () => {
    const emptyBin = join(w.dir, 'bin')
    await mkdir(emptyBin)
    const path = [emptyBin, NODE_DIR].join(':')
    const out = join(w.dir, 'tyk')

    const missing = await runBundledAction('dump', tyk({ 'output-dir': out }), { env: env({ PATH: path }) })
    expect(missing.exitCode).not.toBe(0)
    const text = shown(missing.stdout)
    expect(text).toContain('tyk-sync')
    expect(text).toContain('tyk-sync-path')
    expect(await calls()).toEqual([])

    const given = await runBundledAction(
      'dump',
      tyk({ 'output-dir': out, 'tyk-sync-path': join(DOUBLE_DIR, 'tyk-sync') }),
      { env: env({ PATH: path }) },
    )
    expect(given.exitCode).toBe(0)
    expect((await calls()).map((c) => c.argv.slice(0, 3))).toEqual([['dump', '-d', DASHBOARD]])
  })
})
