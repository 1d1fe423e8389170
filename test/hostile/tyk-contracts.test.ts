import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'

import { COMMANDS } from '../../actions/spec.js'
import { isDeckhandError } from '../../actions/engine/errors.js'
import type { JobContext } from '../../actions/engine/jobs/context.js'
import { Inputs } from '../../actions/engine/jobs/inputs.js'
import { planTykJob, tykDumpJob } from '../../actions/engine/jobs/tyk.js'
import type { Logger } from '../../actions/engine/log.js'
import type { SyncOutcome } from '../../actions/engine/plan/model.js'
import { readTykState } from '../../actions/engine/tyk/folder.js'
import { TykGateway } from '../../actions/engine/tyk/gateway-api.js'
import { normalize, tykObject } from '../../actions/engine/tyk/objects.js'
import { planTyk } from '../../actions/engine/tyk/plan.js'
import { redactTykObject } from '../../actions/engine/tyk/redact.js'
import { applySteps } from '../../actions/engine/tyk/sync.js'
import { startTykStandIn, type TykStandIn, type TykStandInOptions } from '../support/tyk-gateway.js'

/**
 * The contracts of Tyk's own source (named per case) that deckhand got wrong: each case runs deckhand's
 * engine from source against the stand-in, which follows the release named.
 */

const SECRET = 'tyk-contract-s3cret'
const POLICY_PATH = '/opt/tyk-gateway/policies'

let dir: string
const gateways: TykStandIn[] = []
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deckhand-tyk-contracts-'))
})
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()))
  await rm(dir, { recursive: true, force: true })
})

async function gateway(options: Partial<TykStandInOptions> = {}): Promise<TykStandIn> {
  const g = await startTykStandIn({ secret: SECRET, reloadDelayMs: 5, ...options })
  gateways.push(g)
  return g
}

const client = (g: TykStandIn) => TykGateway.open({ addr: g.url, secret: SECRET })

const logs: string[] = []
const logger: Logger = {
  info: (m) => void logs.push(m),
  warn: (m) => void logs.push(m),
  debug: () => {},
}

function context(env: Record<string, string> = {}): JobContext & { masked: string[] } {
  const masked: string[] = []
  return {
    logger,
    env,
    secret: (v) => void masked.push(v),
    masked,
    store: undefined as never,
  }
}

function inputs(command: 'dump' | 'diff' | 'sync', g: TykStandIn, extra: Record<string, string> = {}) {
  const values: Record<string, string> = { gateway: 'tyk', 'tyk-addr': g.url, 'tyk-secret': SECRET, ...extra }
  return new Inputs(COMMANDS[command]!.inputs, (name) => values[name])
}

const classic = (id: string, extra: Record<string, unknown> = {}) => ({
  api_id: id,
  name: `API ${id}`,
  active: true,
  proxy: { listen_path: `/${id}/`, target_url: 'http://upstream.internal' },
  ...extra,
})

const oasDoc = (id: string, servers?: { url: string }[]) => ({
  openapi: '3.0.3',
  info: { title: id, version: '1.0.0' },
  paths: {},
  ...(servers ? { servers } : {}),
  'x-tyk-api-gateway': {
    info: { id, name: id, state: { active: true } },
    upstream: { url: 'http://pets.internal' },
    server: { listenPath: { value: `/${id}/`, strip: true } },
  },
})

const policy = (id: string, rate = 100) => ({
  id,
  name: `Plan ${id}`,
  rate,
  per: 60,
  access_rights: { a: { api_id: 'a', api_name: 'API a', versions: ['Default'] } },
})

/** The outcome of the one Tyk plan's sync. */
async function syncOutcome(planned: Awaited<ReturnType<typeof planTykJob>>): Promise<SyncOutcome> {
  const [result] = [...(await planned.sync()).values()]
  if (result?.status !== 'synced' || !result.outcome) throw new Error('the sync did not run')
  return result.outcome
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, JSON.stringify(value, null, 2) + '\n')
}

/** A state folder holding these objects, one file each. */
async function state(files: Record<string, unknown>): Promise<string> {
  const folder = await mkdtemp(join(dir, 'state-'))
  for (const [name, body] of Object.entries(files)) await writeJson(join(folder, name), body)
  return folder
}

describe('1. policies the Gateway API writes but Tyk never loads (policies.policy_path unset)', () => {
  // gateway/api.go handleAddOrUpdatePolicy and gateway/server.go syncPolicies, Tyk v5.8.1.
  test('sync says what tyk.conf needs as soon as the reload shows the policy is not served', async () => {
    const g = await gateway({
      conf: { policyRecordName: '/opt/tyk-gateway/policies/policies.json' },
      policyRecord: { gold: policy('gold') },
    })
    const folder = await state({ 'policy-gold.json': policy('gold'), 'policy-silver.json': policy('silver') })
    const started = Date.now()
    const planned = await planTykJob(
      inputs('sync', g, { state: folder, 'converge-timeout': '60' }),
      context(),
    )
    expect(planned.plans[0]!.counts).toMatchObject({ creating: 1, total: 1 })
    const outcome = await syncOutcome(planned)
    const errors = outcome.otherErrors
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain('serves none of it after a reload (create Plan silver (silver))')
    expect(errors[0]).toContain('"policy_path": "/opt/tyk-gateway/policies"')
    // Said at once, not after converge-timeout.
    expect(Date.now() - started).toBeLessThan(20_000)
    // The write landed in the gateway's working directory, which it never loads from.
    expect(g.files().cwd.has('silver')).toBe(true)
  })

  test('a delete the gateway answers "Delete failed" is explained', async () => {
    const g = await gateway({
      conf: { policyRecordName: '/opt/tyk-gateway/policies/policies.json' },
      policyRecord: { gold: policy('gold') },
    })
    const gw = await client(g)
    const error = await gw.remove({ format: 'policy', id: 'gold' }).catch((e: unknown) => e)
    expect(isDeckhandError(error)).toBe(true)
    expect((error as Error).message).toContain('has no gold.json in policies.policy_path')
    expect((error as Error).message).toContain('policy_path')
  })

  test('with policy_path set, the same sync converges', async () => {
    const g = await gateway({ conf: { policyPath: POLICY_PATH }, policies: [policy('gold')] })
    const folder = await state({
      'policy-gold.json': policy('gold', 5),
      'policy-silver.json': policy('silver'),
    })
    const planned = await planTykJob(inputs('sync', g, { state: folder }), context())
    const outcome = await syncOutcome(planned)
    expect(outcome.otherErrors).toEqual([])
    expect(
      g
        .loaded()
        .policies.map((p) => [p.id, p.rate])
        .sort(),
    ).toEqual([
      ['gold', 5],
      ['silver', 100],
    ])
  })
})

describe('2. policies.json policies have no id: they are keyed by the map key', () => {
  // gateway/policy.go LoadPoliciesFromFile, Tyk v5.8.1 (the key is the id) and v5.12.0 (the key becomes "id").
  test('a state folder holding a policies.json is read with each key as the id', async () => {
    const folder = await state({
      'policies.json': { default: { ...policy('x'), id: undefined }, gold: policy('gold') },
    })
    const { objects, origins } = await readTykState([folder])
    expect(objects.map((o) => [o.format, o.id]).sort()).toEqual([
      ['policy', 'default'],
      ['policy', 'gold'],
    ])
    expect(objects.find((o) => o.id === 'default')!.body.id).toBe('default')
    expect(origins).toEqual([join(folder, 'policies.json'), join(folder, 'policies.json')])
  })

  test('a v5.8.1 gateway listing policies.json policies without ids: the dump goes on and says why', async () => {
    const g = await gateway({
      apis: [classic('a')],
      conf: { policyRecordName: '/opt/tyk-gateway/policies/policies.json' },
      policyRecord: { default: { name: 'Default', rate: 1000, per: 1, access_rights: {} } },
    })
    const out = join(dir, 'tyk')
    const result = await tykDumpJob(inputs('dump', g, { 'output-dir': out }), context())
    expect(result.ok).toBe(true)
    expect((await readdir(out)).filter((f) => f.endsWith('.json')).sort()).toEqual([
      '.tyk.json',
      'api-a.json',
    ])
    expect(result.report.lines.join('\n')).toContain('1 policy listed without an id (Default) left out')
  })

  test('from v5.12.0 the gateway lists the key as the id, and it is dumped', async () => {
    const g = await gateway({
      version: 'v5.12.0',
      conf: { policyRecordName: '/opt/tyk-gateway/policies/policies.json' },
      policyRecord: { default: { name: 'Default', rate: 1000, per: 1, access_rights: {} } },
    })
    const objects = await (await client(g)).list()
    expect(objects.map((o) => [o.format, o.id])).toEqual([['policy', 'default']])
  })
})

describe('3. API definition files need not be named <api_id>.json', () => {
  // gateway/api_definition.go FromDir and gateway/api.go handleDeleteAPI, Tyk v5.8.1.
  test("a copy of the gateway's app_path is read by its pairs of files, not by their names", async () => {
    const doc = oasDoc('pets')
    const folder = await state({
      'petstore.json': { ...classic('pets'), is_oas: true },
      'petstore-oas.json': doc,
      'legacy-billing.json': classic('billing'),
    })
    const { objects } = await readTykState([folder])
    expect(objects.map((o) => [o.format, o.id]).sort()).toEqual([
      ['classic', 'billing'],
      ['oas', 'pets'],
    ])
  })

  test('deleting an API loaded from another file name says which file to rename', async () => {
    const g = await gateway({ appFiles: { 'legacy-billing.json': classic('billing') } })
    const gw = await client(g)
    expect((await gw.list()).map((o) => o.id)).toEqual(['billing'])
    const error = await gw.remove({ format: 'classic', id: 'billing' }).catch((e: unknown) => e)
    expect((error as Error).message).toContain('has no billing.json in its app_path')
    expect((error as Error).message).toContain('Rename the file holding this API to billing.json')
  })

  test('an update the gateway keeps serving from the other file is said after the reload', async () => {
    // Of two files with one api_id the stand-in serves the later in glob order: zz-billing.json.
    const g = await gateway({ appFiles: { 'zz-billing.json': classic('billing') } })
    const folder = await state({ 'api-billing.json': classic('billing', { name: 'Billing v2' }) })
    const planned = await planTykJob(inputs('sync', g, { state: folder }), context())
    const outcome = await syncOutcome(planned)
    expect(outcome.otherErrors.join('\n')).toContain(
      'another file in app_path holds the same api_id and is the one loaded',
    )
  })
})

describe('4. servers Tyk puts in an OAS API', () => {
  const own = { url: 'https://pets.example.com/v1' }
  for (const version of ['v5.8.1', 'v5.11.0', 'v5.14.0']) {
    // apidef/oas/oas.go AddServers and UpdateServers (v5.8.1), servers_regeneration.go (v5.11.0).
    test(`${version}: a dump holds the user's servers only, and a sync from it converges`, async () => {
      const g = await gateway({ version })
      const gw = await client(g)
      await gw.create(tykObject(oasDoc('pets', [own]), 'test', 'oas'))
      g.reloadNow()
      const served = (await gw.list())[0]!
      // v5.8.1 keeps the listen path as it is; v5.11.0 cleans it (path.Clean) and adds the bare path too.
      expect((served.body.servers as { url: string }[])[0]!.url).toMatch(
        /^http:\/\/127\.0\.0\.1:8080\/pets\/?$/,
      )
      expect(normalize(served).body.servers).toEqual([own])

      // Written back, as it was dumped: no change planned, and after an update still none.
      const desired = [normalize(served)]
      expect(planTyk(desired, await gw.list(), []).plan.counts.total).toBe(0)
      await gw.update(desired[0]!)
      g.reloadNow()
      expect(planTyk(desired, await gw.list(), []).plan.counts.total).toBe(0)
      // Into another gateway, on another port: the same.
      const other = await gateway({ version, conf: { listenPort: 9090 } })
      const plan = planTyk(desired, [], [])
      await applySteps(plan, await client(other), logger, [])
      other.reloadNow()
      expect(planTyk(desired, await (await client(other)).list(), []).plan.counts.total).toBe(0)
    })
  }

  test('a server of the user on another path stays, in the file and the comparison', () => {
    const doc = oasDoc('pets', [{ url: 'http://gw.internal:8080/pets' }, { url: '/pets' }, own])
    expect(normalize(tykObject(doc, 'x', 'oas')).body.servers).toEqual([own])
    const mine = oasDoc('pets', [own, { url: 'http://elsewhere/other' }])
    expect(normalize(tykObject(mine, 'x', 'oas')).body.servers).toEqual(mine.servers)
  })
})

describe('5. env://, secrets:// references resolved by the gateway', () => {
  // gateway/api_definition.go replaceSecrets, Tyk v5.8.1: the API answers with the resolved values.
  const RESOLVED = 'resolved-upstream-password-71'
  const withRef = (password: string) =>
    classic('billing', {
      upstream_auth: { enabled: true, basic_auth: { enabled: true, username: 'svc', password } },
      proxy: { listen_path: '/billing/', target_url: 'secrets://BILLING_UPSTREAM' },
    })

  test('a dump keeps the references the previous dump held, and never writes the resolved value', async () => {
    const g = await gateway({
      appFiles: { 'billing.json': withRef('env://BILLING_PASSWORD') },
      conf: {
        env: { BILLING_PASSWORD: RESOLVED },
        secrets: { BILLING_UPSTREAM: 'http://billing.internal:8080' },
      },
    })
    // The gateway answers with the value, never the reference.
    const answered = (await (await client(g)).list())[0]!
    expect((answered.body.proxy as { target_url: string }).target_url).toBe('http://billing.internal:8080')

    const out = join(dir, 'tyk')
    await writeJson(join(dir, 'seed.json'), {})
    await (await import('node:fs/promises')).mkdir(out, { recursive: true })
    await writeJson(join(out, 'api-billing.json'), withRef('env://BILLING_PASSWORD'))
    const result = await tykDumpJob(inputs('dump', g, { 'output-dir': out }), context())
    const text = await readFile(join(out, 'api-billing.json'), 'utf8')
    expect(text).not.toContain(RESOLVED)
    expect(JSON.parse(text).upstream_auth.basic_auth.password).toBe('env://BILLING_PASSWORD')
    expect(JSON.parse(text).proxy.target_url).toBe('secrets://BILLING_UPSTREAM')
    expect(result.report.lines.join('\n')).toContain('2 value(s) the gateway resolved')
    expect(result.outputs['required-env']).toBe('')
  })

  test('a reference is not a secret to redact, and matches the value the gateway resolved it to', async () => {
    const object = tykObject(withRef('vault://billing.password'), 'file')
    expect(redactTykObject(structuredClone(object))).toEqual([])
    const g = await gateway({
      appFiles: { 'billing.json': withRef('env://BILLING_PASSWORD') },
      conf: {
        env: { BILLING_PASSWORD: RESOLVED },
        secrets: { BILLING_UPSTREAM: 'http://billing.internal:8080' },
      },
    })
    const plan = planTyk(
      [tykObject(withRef('env://BILLING_PASSWORD'), 'file')],
      await (await client(g)).list(),
      [],
    )
    expect(plan.plan.counts.total).toBe(0)
    // A real change elsewhere shows the reference, never the resolved value.
    const changed = withRef('env://BILLING_PASSWORD')
    changed.name = 'Billing v2'
    const update = planTyk([tykObject(changed, 'file')], await (await client(g)).list(), [])
    expect(update.plan.counts.updating).toBe(1)
    expect(JSON.stringify(update.plan)).not.toContain(RESOLVED)
    expect(JSON.stringify(update.plan)).not.toContain('billing.internal:8080')
  })
})

describe('6. MCP proxies (Tyk 5.12+)', () => {
  // gateway/server.go and gateway/mcp_api.go, Tyk v5.12.0.
  const mcp = (id: string) => {
    const doc = oasDoc(id) as ReturnType<typeof oasDoc> & Record<string, unknown>
    ;(doc['x-tyk-api-gateway'] as Record<string, unknown>).middleware = {
      mcpTools: { search: { allow: { enabled: true } } },
    }
    return doc
  }

  test('dumped as mcp-<id>.json beside the APIs, and synced back through /tyk/mcps', async () => {
    const source = await gateway({ version: 'v5.12.0', oasApis: [oasDoc('pets')], mcps: [mcp('tools')] })
    const out = join(dir, 'tyk')
    const result = await tykDumpJob(inputs('dump', source, { 'output-dir': out }), context())
    expect(result.ok).toBe(true)
    expect((await readdir(out)).filter((f) => f.endsWith('.json')).sort()).toEqual([
      '.tyk.json',
      'mcp-tools.json',
      'oas-pets.json',
    ])
    // tyk-sync does not know MCP proxies: its manifest leaves them out.
    expect(await readFile(join(out, '.tyk.json'), 'utf8')).not.toContain('mcp-tools')

    const target = await gateway({ version: 'v5.12.0' })
    const planned = await planTykJob(inputs('sync', target, { state: out }), context())
    expect(planned.plans[0]!.counts).toMatchObject({ creating: 2 })
    const outcome = await syncOutcome(planned)
    expect(outcome.otherErrors).toEqual([])
    expect(
      target.loaded().mcps.map((d) => (d['x-tyk-api-gateway'] as { info: { id: string } }).info.id),
    ).toEqual(['tools'])
    expect(target.requests.some((r) => r.method === 'POST' && r.path === '/tyk/mcps')).toBe(true)
    const again = await planTykJob(inputs('diff', target, { state: out }), context())
    expect(again.plans[0]!.counts.total).toBe(0)
  })

  test('a gateway before 5.12 is not asked for them, and files holding them are refused', async () => {
    const old = await gateway({ version: 'v5.8.1', oasApis: [oasDoc('pets')] })
    await (await client(old)).list()
    expect(old.requests.some((r) => r.path.startsWith('/tyk/mcps'))).toBe(false)
    const folder = await state({ 'mcp-tools.json': mcp('tools') })
    const planned = await planTykJob(inputs('diff', old, { state: folder }), context())
    expect(planned.plans[0]!.errors.join('\n')).toContain('the Gateway API has them from Tyk 5.12')
  })
})
