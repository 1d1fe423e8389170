import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { compareStateFiles } from '../actions/engine/drift/compare.js'
import { scanFile } from '../actions/engine/state/secret-scan.js'
import { maskedValues, runBundledAction, visibleLog } from './support/action.js'
import { workdir } from './support/deck-double.js'
import { startTykStandIn, type TykStandIn } from './support/tyk-gateway.js'

const SECRET = 'tyk-gw-s3cret-value'
const UPSTREAM_PASSWORD = 'upstream-p@ssw0rd-42'
const BEARER = 'Bearer upstream-token-9f8e7d'
const HMAC_SECRET = 'c2hhcmVkLWhtYWMtc2VjcmV0'
const PRIVATE_KEY =
  '-----BEGIN PRIVATE KEY-----\nMIIBVgIBADANBgkqhkiG9w0BAQEFAASCAUAwggE8AgEAAkEA\n-----END PRIVATE KEY-----\n'
const PLAINTEXT = [UPSTREAM_PASSWORD, BEARER, HMAC_SECRET, 'MIIBVgIBADANBgkqhkiG9w0BAQEFAASCAUAwggE8AgEAAkEA']

function classicApi(id: string, name: string, extra: Record<string, unknown> = {}) {
  return {
    api_id: id,
    name,
    org_id: 'acme',
    active: true,
    use_keyless: false,
    proxy: { listen_path: `/${id}/`, target_url: 'http://billing.internal:8080', strip_listen_path: true },
    version_data: { not_versioned: true, versions: { Default: { name: 'Default', global_headers: {} } } },
    ...extra,
  }
}

/** A classic API with every kind of secret the dump must redact. */
const BILLING = classicApi('billing', 'Billing API', {
  jwt_signing_method: 'hmac',
  jwt_source: HMAC_SECRET,
  upstream_auth: {
    enabled: true,
    basic_auth: { enabled: true, username: 'svc', password: UPSTREAM_PASSWORD },
  },
  version_data: {
    not_versioned: true,
    versions: {
      Default: { name: 'Default', global_headers: { Authorization: BEARER, 'X-Team': 'billing' } },
    },
  },
  config_data: { signing_private_key: PRIVATE_KEY, region: 'eu-west-1' },
})
const ORDERS = classicApi('orders', 'Orders API')
const PETSTORE_OAS = {
  openapi: '3.0.3',
  info: { title: 'Petstore', version: '1.0.0' },
  paths: {},
  servers: [{ url: 'http://127.0.0.1/petstore/' }],
  'x-tyk-api-gateway': {
    info: { id: 'petstore', name: 'Petstore', state: { active: true } },
    server: { listenPath: { value: '/petstore/', strip: true } },
    upstream: {
      url: 'http://pets.internal',
      authentication: {
        enabled: true,
        basicAuth: { enabled: true, username: 'pets', password: UPSTREAM_PASSWORD },
      },
    },
  },
}
const GOLD = {
  id: 'gold',
  name: 'Gold plan',
  org_id: 'acme',
  rate: 1000,
  per: 60,
  quota_max: -1,
  access_rights: { billing: { api_id: 'billing', api_name: 'Billing API', versions: ['Default'] } },
  tags: ['paid'],
}
const SILVER = { ...GOLD, id: 'silver', name: 'Silver plan', rate: 100 }

let w: Awaited<ReturnType<typeof workdir>>
const gateways: TykStandIn[] = []

beforeAll(async () => {
  w = await workdir()
})
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()))
})
afterAll(async () => {
  await w?.cleanup()
})

async function gateway(options: Partial<Parameters<typeof startTykStandIn>[0]> = {}): Promise<TykStandIn> {
  // policy_path set: the configuration under which the Gateway API manages policies.
  const g = await startTykStandIn({
    secret: SECRET,
    conf: { policyPath: '/opt/tyk-gateway/policies' },
    ...options,
  })
  gateways.push(g)
  return g
}

/** A gateway holding every kind of object, with secrets. */
const populated = () =>
  gateway({ apis: [BILLING, ORDERS], oasApis: [PETSTORE_OAS], policies: [GOLD, SILVER] })

let counter = 0
async function dir(name: string): Promise<string> {
  const path = join(w.dir, `${name}-${++counter}`)
  await mkdir(path, { recursive: true })
  return path
}

function tykInputs(g: TykStandIn, extra: Record<string, string> = {}): Record<string, string> {
  return { gateway: 'tyk', 'tyk-addr': g.url, 'tyk-secret': SECRET, ...extra }
}

/** The variables a redacted dump needs, with the values the gateway had. */
async function envFor(folder: string): Promise<Record<string, string>> {
  const names = (await readFile(join(folder, 'required-env.txt'), 'utf8'))
    .split('\n')
    .filter((l) => /^[A-Z]/.test(l))
  const env: Record<string, string> = {}
  for (const name of names) {
    env[name] = name.includes('JWT_SOURCE')
      ? HMAC_SECRET
      : name.includes('PASSWORD')
        ? UPSTREAM_PASSWORD
        : name.includes('AUTHORIZATION')
          ? BEARER
          : PRIVATE_KEY
  }
  return env
}

async function dumpOf(g: TykStandIn): Promise<string> {
  const out = join(await dir('dump'), 'tyk')
  const run = await runBundledAction('dump', tykInputs(g, { 'output-dir': out }))
  expect(run.stderr).toBe('')
  expect(run.exitCode).toBe(0)
  return out
}

describe('dump of a Tyk gateway', () => {
  test('writes one normalized file per API and policy, redacted, byte-stable, with the secret masked', async () => {
    const g = await populated()
    const out = join(await dir('dump'), 'tyk')
    const first = await runBundledAction('dump', tykInputs(g, { 'output-dir': out }))
    expect(first.exitCode).toBe(0)
    expect((await readdir(out)).sort()).toEqual([
      '.tyk.json',
      'SHA256SUMS',
      'api-billing.json',
      'api-orders.json',
      'oas-petstore.json',
      'policy-gold.json',
      'policy-silver.json',
      'required-env.txt',
    ])
    expect(first.outputs['entity-count']).toBe('5')
    expect(first.outputs.changed).toBe('true')
    // The OAS API is kept once, as OAS, although /tyk/apis lists it too (is_oas).
    expect(await readFile(join(out, 'api-billing.json'), 'utf8')).not.toContain('is_oas')
    const billing = JSON.parse(await readFile(join(out, 'api-billing.json'), 'utf8'))
    expect(billing.upstream_auth.basic_auth.password).toMatch(
      /^\$\{\{ env "DECKHAND_TYK_API_BILLING_UPSTREAM_AUTH_BASIC_AUTH_PASSWORD" \}\}$/,
    )
    expect(billing.jwt_source).toMatch(/^\$\{\{ env "DECKHAND_TYK_/)
    expect(billing.version_data.versions.Default.global_headers['X-Team']).toBe('billing')
    expect(billing.config_data.region).toBe('eu-west-1')
    const oas = JSON.parse(await readFile(join(out, 'oas-petstore.json'), 'utf8'))
    expect(oas['x-tyk-api-gateway'].upstream.authentication.basicAuth.password).toMatch(
      /DECKHAND_TYK_API_PETSTORE/,
    )
    expect(first.outputs['secrets-redacted']).toBe('5')
    expect(first.outputs['required-env']!.split('\n')).toHaveLength(5)
    // Keys sorted, two spaces, final newline: what renders the same bytes every time.
    const gold = await readFile(join(out, 'policy-gold.json'), 'utf8')
    expect(gold).toBe(JSON.stringify(JSON.parse(gold), null, 2) + '\n')
    expect(Object.keys(JSON.parse(gold))).toEqual([...Object.keys(JSON.parse(gold))].sort())
    expect(gold.endsWith('}\n')).toBe(true)
    expect(JSON.parse(await readFile(join(out, '.tyk.json'), 'utf8'))).toEqual({
      type: 'apidef',
      files: [
        { file: 'api-billing.json', api_id: 'billing' },
        { file: 'api-orders.json', api_id: 'orders' },
        { file: 'oas-petstore.json', api_id: 'petstore' },
      ],
      policies: [
        { file: 'policy-gold.json', id: 'gold' },
        { file: 'policy-silver.json', id: 'silver' },
      ],
    })

    // Nothing secret anywhere: files, log, summary; the Gateway API secret is masked.
    const all = await Promise.all((await readdir(out)).map((f) => readFile(join(out, f), 'utf8')))
    for (const value of [...PLAINTEXT, SECRET]) {
      expect(all.join('\n')).not.toContain(value)
      expect(visibleLog(first.stdout)).not.toContain(value)
      expect(first.summary).not.toContain(value)
    }
    expect(maskedValues(first.stdout)).toContain(SECRET)
    expect(first.summary).toContain('3 API(s) and 2 policies')

    // The gateway lists in random order: the second dump is the same bytes all the same.
    const before = new Map(
      await Promise.all(
        (await readdir(out)).map(async (f) => [f, await readFile(join(out, f), 'utf8')] as const),
      ),
    )
    const second = await runBundledAction('dump', tykInputs(g, { 'output-dir': out }))
    expect(second.exitCode).toBe(0)
    expect(second.outputs.changed).toBe('false')
    expect(second.outputs.digest).toBe(first.outputs.digest)
    for (const [f, text] of before) expect(await readFile(join(out, f), 'utf8')).toBe(text)
    expect(g.requests.every((r) => r.path === '/hello' || r.authorized)).toBe(true)
  })

  test('a wrong secret fails with what to fix, and the previous dump stays', async () => {
    const g = await populated()
    const out = await dumpOf(g)
    const manifest = await readFile(join(out, 'SHA256SUMS'), 'utf8')
    const run = await runBundledAction('dump', {
      ...tykInputs(g, { 'output-dir': out }),
      'tyk-secret': 'wrong-secret',
    })
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout).toMatch(/refused the secret.*HTTP 403.*Attempted administrative access/)
    expect(run.stdout).toContain('tyk-secret must be the `secret` of tyk.conf')
    expect(await readFile(join(out, 'SHA256SUMS'), 'utf8')).toBe(manifest)
  })

  test('an empty gateway does not replace a dump, and Kong-only inputs are refused', async () => {
    const out = await dumpOf(await populated())
    const empty = await gateway()
    const run = await runBundledAction('dump', tykInputs(empty, { 'output-dir': out }))
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout).toContain('Refusing to replace it with an empty one')
    expect((await readdir(out)).filter((f) => f.endsWith('.json')).length).toBe(6)

    const kongInput = await runBundledAction(
      'dump',
      tykInputs(empty, { 'output-dir': out, 'select-tags': 'x' }),
    )
    expect(kongInput.exitCode).not.toBe(0)
    expect(kongInput.stdout).toContain('select-tags is for Kong and cannot be used with gateway tyk')
    const missing = await runBundledAction('dump', { gateway: 'tyk', 'tyk-secret': SECRET })
    expect(missing.stdout).toContain('For gateway tyk, set tyk-addr (the Gateway API')
  })
})

describe('diff and sync against a Tyk gateway', () => {
  test('round trip: a dump synced into an empty gateway makes it hold the same objects, then diff is clean', async () => {
    const source = await populated()
    const folder = await dumpOf(source)
    const env = await envFor(folder)
    const target = await gateway()

    const dryRun = await runBundledAction('sync', tykInputs(target, { state: folder, 'dry-run': 'true' }), {
      env,
    })
    expect(dryRun.exitCode).toBe(0)
    expect(dryRun.outputs).toMatchObject({ creating: '5', deleting: '0', applied: 'false' })
    expect(target.files().apis.size).toBe(0)

    const planFile = join(await dir('plan'), 'plan.json')
    const sync = await runBundledAction('sync', tykInputs(target, { state: folder, 'plan-file': planFile }), {
      env,
    })
    expect(sync.exitCode).toBe(0)
    expect(sync.outputs).toMatchObject({ creating: '5', applied: 'true' })
    // Written, reloaded once, and served: the gateway holds what the source held, secrets included.
    expect(target.reloads).toBeGreaterThanOrEqual(1)
    const loaded = target.loaded()
    expect(loaded.apis.map((a) => a.api_id).sort()).toEqual(['billing', 'orders'])
    expect(loaded.oasApis).toHaveLength(1)
    expect(loaded.policies.map((p) => p.id).sort()).toEqual(['gold', 'silver'])
    const billing = loaded.apis.find((a) => a.api_id === 'billing') as unknown as {
      upstream_auth: { basic_auth: { password: string } }
      config_data: { signing_private_key: string }
    }
    expect(billing.upstream_auth.basic_auth.password).toBe(UPSTREAM_PASSWORD)
    expect(billing.config_data.signing_private_key).toBe(PRIVATE_KEY)
    // APIs went in before the policies that grant access to them.
    const writes = target.requests.filter((r) => r.method === 'POST').map((r) => r.path)
    expect(writes.indexOf('/tyk/policies')).toBeGreaterThan(writes.lastIndexOf('/tyk/apis/oas'))
    // The plan names objects, never secrets.
    const plan = await readFile(planFile, 'utf8')
    for (const value of PLAINTEXT) {
      expect(plan).not.toContain(value)
      expect(visibleLog(sync.stdout)).not.toContain(value)
      expect(sync.summary).not.toContain(value)
    }
    expect(JSON.parse(plan)).toMatchObject({ command: 'sync', counts: { creating: 5 } })

    const diff = await runBundledAction('diff', tykInputs(target, { state: folder }), { env })
    expect(diff.exitCode).toBe(0)
    expect(diff.outputs['has-changes']).toBe('false')
    expect(diff.summary).toContain('matches the state files (the APIs and policies)')
  })

  test('a gateway slower to reload than converge-timeout fails the sync and says so; a longer one waits for it', async () => {
    const folder = await dumpOf(await populated())
    const env = await envFor(folder)
    const slow = await gateway({ reloadDelayMs: 2500 })

    const impatient = await runBundledAction(
      'sync',
      tykInputs(slow, { state: folder, 'converge-timeout': '1' }),
      { env },
    )
    expect(impatient.exitCode).not.toBe(0)
    expect(impatient.outputs).toMatchObject({ creating: '5', applied: 'true' })
    expect(visibleLog(impatient.stdout)).toContain(
      'the gateway still differs from the files 1 s after writing (converge-timeout): 5 to create',
    )

    const another = await gateway({ reloadDelayMs: 2500 })
    const patient = await runBundledAction(
      'sync',
      tykInputs(another, { state: folder, 'converge-timeout': '30' }),
      { env },
    )
    expect(patient.exitCode).toBe(0)
    expect(
      another
        .loaded()
        .policies.map((p) => p.id)
        .sort(),
    ).toEqual(['gold', 'silver'])
    const diff = await runBundledAction('diff', tykInputs(another, { state: folder }), { env })
    expect(diff.outputs['has-changes']).toBe('false')
  })

  test('diff names the changed field, and masks a changed secret', async () => {
    const g = await populated()
    const folder = await dumpOf(g)
    const env = await envFor(folder)
    const file = join(folder, 'policy-gold.json')
    const gold = JSON.parse(await readFile(file, 'utf8'))
    gold.rate = 2000
    await writeFile(file, JSON.stringify(gold, null, 2) + '\n')
    const changedSecret = {
      ...env,
      DECKHAND_TYK_API_BILLING_UPSTREAM_AUTH_BASIC_AUTH_PASSWORD: 'rotated-password-77',
    }
    const planFile = join(await dir('plan'), 'plan.json')
    const diff = await runBundledAction('diff', tykInputs(g, { state: folder, 'plan-file': planFile }), {
      env: changedSecret,
    })
    expect(diff.exitCode).toBe(0)
    expect(diff.outputs).toMatchObject({ updating: '2', creating: '0', deleting: '0', 'has-changes': 'true' })
    expect(diff.summary).toContain('rate: 1000 → 2000')
    expect(diff.summary).toContain('upstream_auth.basic_auth.password: changed (secret)')
    expect(await readFile(planFile, 'utf8')).not.toContain('rotated-password-77')
    expect(visibleLog(diff.stdout)).not.toContain('rotated-password-77')
    expect(g.files().policies.get('gold')).toMatchObject({ rate: 1000 })
  })

  test('a field left out of a file is a change when the gateway holds a value, not when it holds a Go zero value', async () => {
    // Tyk keeps objects as its Go structs write them: a field a file lacks comes back as "", 0, false, [] or {}.
    const g = await gateway({
      policies: [{ ...GOLD, hmac_enabled: false, last_check: 0, smoothing: {}, tags: ['paid'] }],
    })
    const folder = await dir('state')
    const {
      hmac_enabled: _h,
      last_check: _l,
      smoothing: _s,
      tags: _t,
      ...bare
    } = {
      ...GOLD,
      hmac_enabled: false,
      last_check: 0,
      smoothing: {},
    }
    await writeFile(join(folder, 'policy-gold.json'), JSON.stringify(bare, null, 2) + '\n')
    const diff = await runBundledAction('diff', tykInputs(g, { state: folder }))
    expect(diff.exitCode).toBe(0)
    expect(diff.outputs).toMatchObject({ updating: '1', total: '1' })
    expect(diff.summary).toContain('tags: ["paid"] → (unset)')
    for (const zero of ['hmac_enabled', 'last_check', 'smoothing']) expect(diff.summary).not.toContain(zero)

    // The other way round too: a zero value spelled out in the file matches a field the gateway leaves out.
    const spelledOut = { ...bare, tags: ['paid'], quota_renewal_rate: 0, meta_data: {}, is_inactive: false }
    await writeFile(join(folder, 'policy-gold.json'), JSON.stringify(spelledOut, null, 2))
    const clean = await runBundledAction('diff', tykInputs(g, { state: folder }))
    expect(clean.outputs['has-changes']).toBe('false')
    await writeFile(
      join(folder, 'policy-gold.json'),
      JSON.stringify({ ...spelledOut, quota_renewal_rate: 60 }),
    )
    const real = await runBundledAction('diff', tykInputs(g, { state: folder }))
    expect(real.summary).toContain('quota_renewal_rate: (unset) → 60')
  })

  test('an unset variable is named before anything is sent', async () => {
    const g = await populated()
    const folder = await dumpOf(g)
    const requests = g.requests.length
    const run = await runBundledAction('sync', tykInputs(g, { state: folder }))
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout).toMatch(/references 4 unset variable\(s\): DECKHAND_TYK_API_BILLING/)
    expect(g.requests.length).toBe(requests)
  })

  test('deletions are refused beyond max-deletes, then applied policies first', async () => {
    const g = await populated()
    const folder = await dumpOf(g)
    const env = await envFor(folder)
    await rm(join(folder, 'api-orders.json'))
    await rm(join(folder, 'policy-silver.json'))

    const refused = await runBundledAction('sync', tykInputs(g, { state: folder }), { env })
    expect(refused.exitCode).not.toBe(0)
    expect(refused.summary).toContain('Refused: the plan deletes 2 entities, more than max-deletes (0)')
    expect(refused.outputs.applied).toBe('false')
    expect(g.requests.filter((r) => r.method !== 'GET')).toEqual([])

    const allowed = await runBundledAction('sync', tykInputs(g, { state: folder, 'max-deletes': '2' }), {
      env,
    })
    expect(allowed.exitCode).toBe(0)
    expect(allowed.outputs).toMatchObject({ deleting: '2', applied: 'true' })
    const deletes = g.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)
    expect(deletes).toEqual(['/tyk/policies/silver', '/tyk/apis/orders'])
    expect(g.loaded().apis.map((a) => a.api_id)).toEqual(['billing'])
    expect(g.loaded().policies.map((p) => p.id)).toEqual(['gold'])
  })

  test('a write the gateway refuses stops the sync; what follows is dropped and reported', async () => {
    const source = await populated()
    const folder = await dumpOf(source)
    const env = await envFor(folder)
    const target = await gateway()
    target.failNext('POST', '/tyk/apis/oas', 400, 'the payload should contain x-tyk-api-gateway')
    const run = await runBundledAction('sync', tykInputs(target, { state: folder }), { env })
    expect(run.exitCode).not.toBe(0)
    expect(run.summary).toContain('failed')
    expect(run.summary).toContain('the payload should contain x-tyk-api-gateway')
    expect(run.summary).toContain('dropped')
    // The APIs before it were written and reloaded; no policy was sent.
    expect(target.requests.filter((r) => r.method === 'POST' && r.path === '/tyk/policies')).toEqual([])
    expect(target.requests.filter((r) => r.path === '/tyk/reload/group')).toHaveLength(1)
  })
})

describe('restore of a Tyk gateway', () => {
  test('an empty gateway is restored from the files and verified; a configured one is refused', async () => {
    const source = await populated()
    const folder = await dumpOf(source)
    const env = await envFor(folder)
    const target = await gateway({ reloadDelayMs: 200 })
    const reportFile = join(await dir('report'), 'restore.json')
    const run = await runBundledAction(
      'restore',
      tykInputs(target, { state: folder, 'report-file': reportFile }),
      { env },
    )
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({
      'strategy-used': 'declarative',
      verified: 'true',
      'entities-restored': '5',
    })
    expect(run.summary).toContain('Restored Tyk v5.8.1 at')
    expect(run.summary).toContain('Not restored: Keys, OAuth clients')
    const report = JSON.parse(await readFile(reportFile, 'utf8'))
    expect(report.phases.map((p: { name: string }) => p.name)).toEqual([
      'wait for the gateway',
      'plan',
      'sync',
      'verify',
    ])
    expect(report.checks).toEqual([
      expect.objectContaining({ name: 'the gateway serves the files', ok: true }),
    ])
    expect(target.loaded().policies).toHaveLength(2)

    // The source gateway differs from the files once one is edited: restore refuses to touch it.
    const gold = JSON.parse(await readFile(join(folder, 'policy-gold.json'), 'utf8'))
    await writeFile(join(folder, 'policy-gold.json'), JSON.stringify({ ...gold, rate: 1 }, null, 2) + '\n')
    const refused = await runBundledAction('restore', tykInputs(source, { state: folder }), { env })
    expect(refused.exitCode).not.toBe(0)
    expect(refused.outputs.verified).toBe('false')
    expect(refused.summary).toContain('already holds APIs or policies the files would change')
    expect(source.files().policies.get('gold')).toMatchObject({ rate: 1000 })
  })

  test('a gateway that never answers fails after wait-timeout, and Kong strategies are refused', async () => {
    const folder = await dumpOf(await populated())
    const env = await envFor(folder)
    const run = await runBundledAction(
      'restore',
      {
        gateway: 'tyk',
        'tyk-addr': 'http://127.0.0.1:9',
        'tyk-secret': SECRET,
        state: folder,
        'wait-timeout': '2',
      },
      { env },
    )
    expect(run.exitCode).not.toBe(0)
    expect(run.summary).toContain('did not come up within 2 s (wait-timeout)')
    const strategy = await runBundledAction(
      'restore',
      {
        gateway: 'tyk',
        'tyk-addr': 'http://127.0.0.1:9',
        'tyk-secret': SECRET,
        state: folder,
        strategy: 'dbless',
      },
      { env },
    )
    expect(strategy.stdout).toContain('strategy dbless is for Kong')
  })
})

describe('Tyk files in the commit action', () => {
  test('the drift report reads APIs and policies as entities', () => {
    const api = (rate: number) =>
      JSON.stringify({ ...ORDERS, proxy: { ...ORDERS.proxy, target_url: `http://orders:${rate}` } }, null, 2)
    const drift = compareStateFiles(
      new Map([
        ['tyk/api-orders.json', api(80)],
        ['tyk/policy-silver.json', JSON.stringify(SILVER)],
        ['tyk/.tyk.json', '{"type":"apidef","files":[]}'],
      ]),
      new Map([
        ['tyk/api-orders.json', api(81)],
        ['tyk/policy-gold.json', JSON.stringify(GOLD)],
        ['tyk/.tyk.json', '{"type":"apidef","files":[1]}'],
      ]),
    )
    expect(drift.entities.map((e) => [e.action, e.workspace, e.kind, e.name])).toEqual([
      ['changed', 'Tyk', 'api', 'Orders API (orders)'],
      ['added', 'Tyk', 'policy', 'Gold plan (gold)'],
      ['removed', 'Tyk', 'policy', 'Silver plan (silver)'],
    ])
    expect(drift.entities[0]!.fields).toEqual([
      { path: 'proxy.target_url', old: '"http://orders:80"', new: '"http://orders:81"' },
    ])
    expect(drift.otherFiles).toEqual(['tyk/.tyk.json'])
  })

  test('the pre-commit scan finds a plaintext secret in a Tyk file, and none in a redacted one', () => {
    const text = JSON.stringify(BILLING, null, 2)
    const findings = scanFile('tyk/api-billing.json', text)
    expect(findings.map((f) => f.location)).toEqual(
      expect.arrayContaining([
        'api Billing API (billing) / upstream_auth.basic_auth.password',
        'api Billing API (billing) / jwt_source',
      ]),
    )
    const line = text.split('\n').findIndex((l) => l.includes(UPSTREAM_PASSWORD)) + 1
    expect(findings.find((f) => f.location.endsWith('password'))!.line).toBe(line)
    for (const f of findings) expect(JSON.stringify(f)).not.toContain(UPSTREAM_PASSWORD)
    expect(scanFile('tyk/api-orders.json', JSON.stringify(ORDERS, null, 2))).toEqual([])
  })
})
