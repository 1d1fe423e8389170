import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'

import { checkDeckArgv } from './deck-double/flags.mjs'
import { runBundledAction, runCli, visibleLog } from './support/action.js'
import { doubleEnv, editYaml, readCalls, workdir } from './support/deck-double.js'
import { startGitHubApi, WRITE_TOKEN } from './support/github-api.js'
import { gitSandbox } from './support/git.js'
import {
  deleteControlPlane,
  type KonnectOptions,
  type KonnectStandIn,
  startKonnect,
} from './support/konnect.js'
import { ROUTE_DEFAULTS, SERVICE_DEFAULTS } from './support/kong-defaults.js'

// Konnect control planes through deck's Konnect mode: the deck double against the Konnect stand-in
// (test/support/konnect.ts, after Konnect's Control Planes API v2 and Config API specifications).
const TOKEN = 'kpat_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0'
const VIEWER = 'spat_viewer00000000000000000000000000000000000000000'
const REDIS_PASSWORD = 'redis-s3cret-for-prod'
const ALICE_KEY = 'alice-key-auth-s3cret'

const DEV = {
  services: [
    {
      id: '6b2d4d1f-1111-4e4b-8b68-000000000001',
      name: 'billing',
      host: 'billing.internal',
      port: 80,
      protocol: 'http',
      ...SERVICE_DEFAULTS,
      routes: [
        {
          id: '6b2d4d1f-2222-4e4b-8b68-000000000001',
          name: 'billing-route',
          paths: ['/billing'],
          protocols: ['http', 'https'],
          ...ROUTE_DEFAULTS,
        },
      ],
    },
  ],
}

const PROD = {
  services: [
    {
      id: '6b2d4d1f-1111-4e4b-8b68-0000000000f1',
      name: 'orders',
      host: 'orders.internal',
      port: 8080,
      protocol: 'http',
      ...SERVICE_DEFAULTS,
      plugins: [
        {
          id: '6b2d4d1f-5555-4e4b-8b68-0000000000f1',
          name: 'rate-limiting',
          enabled: true,
          protocols: ['http', 'https'],
          config: {
            minute: 100,
            policy: 'redis',
            redis: {
              host: 'redis.internal',
              port: 6379,
              password: REDIS_PASSWORD,
              database: 0,
              timeout: 2000,
            },
          },
        },
      ],
    },
  ],
  consumers: [
    {
      id: '6b2d4d1f-3333-4e4b-8b68-0000000000f1',
      username: 'alice',
      keyauth_credentials: [{ id: '6b2d4d1f-4444-4e4b-8b68-0000000000f1', key: ALICE_KEY }],
    },
  ],
}

let w: Awaited<ReturnType<typeof workdir>>
let konnect: KonnectStandIn | undefined
beforeEach(async () => {
  w = await workdir()
})
afterEach(async () => {
  await konnect?.stop()
  konnect = undefined
  await w.cleanup()
})

async function start(options: Partial<KonnectOptions> = {}): Promise<KonnectStandIn> {
  konnect = await startKonnect({
    tokens: { [TOKEN]: {}, [VIEWER]: { write: false, manage: false } },
    controlPlanes: [
      {
        name: 'dev',
        description: 'Developers',
        labels: { team: 'core', env: 'dev' },
        entities: structuredClone(DEV),
      },
      { name: 'Prod EU', labels: { env: 'prod' }, entities: structuredClone(PROD) },
    ],
    ...options,
  })
  return konnect
}

const env = () => doubleEnv({ log: w.log, konnectDir: konnect!.dir })

function dumpAction(extra: Record<string, string> = {}) {
  return runBundledAction(
    'dump',
    {
      gateway: 'konnect',
      'konnect-token': TOKEN,
      'konnect-addr': konnect!.url,
      'konnect-control-plane': 'dev\nProd EU',
      'output-dir': join(w.dir, 'konnect'),
      ...extra,
    },
    { env: env() },
  )
}

/** `deckhand <command> --gateway konnect` on `state`, as a user runs it, the token and `variables` in its environment. */
function konnectCli(command: string, state: string, variables: Record<string, string> = {}) {
  return runCli([command, '--gateway', 'konnect', '--konnect-addr', konnect!.url, '--state', state], {
    env: { ...env(), HOME: w.dir, DECKHAND_KONNECT_TOKEN: TOKEN, ...variables },
  })
}

/** Everything deckhand and deck left: files, and deck's argv and environment as the double logged them. */
async function everythingWritten(dir: string): Promise<string> {
  const parts: string[] = []
  for (const name of await readdir(dir, { recursive: true })) {
    const path = join(dir, name)
    if ((await stat(path)).isFile() && !name.endsWith('deck-calls.jsonl'))
      parts.push(await readFile(path, 'utf8'))
  }
  return parts.join('\n')
}

describe('dump, gateway: konnect (bundled action)', () => {
  test('writes one redacted file per control plane, and what a restore needs to create each again', async () => {
    await start()
    const run = await dumpAction()
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    const out = join(w.dir, 'konnect')
    expect((await readdir(out)).sort()).toEqual([
      '.konnect.json',
      'Prod-EU.yaml',
      'SHA256SUMS',
      'dev.yaml',
      'required-env.txt',
    ])
    expect(run.outputs['control-planes']).toBe('dev\nProd EU')
    expect(run.outputs.workspaces).toBe('')

    const prod = parse(await readFile(join(out, 'Prod-EU.yaml'), 'utf8')) as Record<string, unknown>
    expect(prod._konnect).toEqual({ control_plane_name: 'Prod EU' })
    expect(prod).not.toHaveProperty('_workspace')
    const text = await readFile(join(out, 'Prod-EU.yaml'), 'utf8')
    // The secrets are references to DECK_ variables, listed in required-env.txt.
    expect(text).not.toContain(REDIS_PASSWORD)
    expect(text).not.toContain(ALICE_KEY)
    expect(text).toContain(
      '${{ env "DECK_PROD_EU_SERVICE_ORDERS_PLUGIN_RATE_LIMITING_CONFIG_REDIS_PASSWORD" }}',
    )
    expect(text).toContain('${{ env "DECK_PROD_EU_CONSUMER_ALICE_KEYAUTH_1_KEY" }}')
    expect(await readFile(join(out, 'required-env.txt'), 'utf8')).toMatch(/DECK_/)

    // .konnect.json: the create request of each control plane, and its file; no id, no endpoints.
    const record = JSON.parse(await readFile(join(out, '.konnect.json'), 'utf8')) as {
      format: string
      control_planes: Record<string, unknown>[]
    }
    expect(record.format).toBe('deckhand-konnect/1')
    expect(record.control_planes).toEqual([
      {
        name: 'dev',
        description: 'Developers',
        labels: { env: 'dev', team: 'core' },
        cluster_type: 'CLUSTER_TYPE_CONTROL_PLANE',
        auth_type: 'pinned_client_certs',
        cloud_gateway: false,
        file: 'dev.yaml',
      },
      {
        name: 'Prod EU',
        labels: { env: 'prod' },
        cluster_type: 'CLUSTER_TYPE_CONTROL_PLANE',
        auth_type: 'pinned_client_certs',
        cloud_gateway: false,
        file: 'Prod-EU.yaml',
      },
    ])
    // The manifest owns the record as it owns the state files.
    expect(await readFile(join(out, 'SHA256SUMS'), 'utf8')).toContain('  .konnect.json\n')

    // deck ran in Konnect mode for each control plane, the token in its environment only.
    const calls = (await readCalls(w.log)).filter((c) => c.argv.includes('dump'))
    expect(calls.map((c) => c.argv[c.argv.indexOf('--konnect-control-plane-name') + 1])).toEqual([
      'dev',
      'Prod EU',
    ])
    for (const call of calls) {
      expect(call.argv).toContain('--konnect-addr')
      expect(call.argv.join(' ')).not.toContain(TOKEN)
      expect(call.env.DECK_KONNECT_TOKEN).toBe(TOKEN)
    }
    // Never in the log, the summary, or any file written.
    expect(visibleLog(run.stdout)).not.toContain(TOKEN)
    expect(run.summary).not.toContain(TOKEN)
    expect(run.summary).toContain('Entities per control plane')
    expect(await everythingWritten(w.dir)).not.toContain(TOKEN)
    // Konnect saw a bearer token on every request.
    expect(konnect!.requests.every((r) => r.authorized)).toBe(true)
    // deckhand looked each control plane up once (for the check before deck, then for its schemas).
    expect(konnect!.requests.filter((r) => r.path.startsWith('/v2/control-planes?'))).toHaveLength(2)
  })

  test("a custom plugin's secret is found in the control plane's own plugin schema", async () => {
    const TOKEN_MATERIAL = 'custom-pl8gin-material-s3cret'
    const dev = structuredClone(DEV) as { services: Record<string, unknown>[] }
    dev.services[0]!.plugins = [
      {
        id: '6b2d4d1f-5555-4e4b-8b68-000000000009',
        name: 'acme-billing',
        enabled: true,
        protocols: ['http', 'https'],
        config: { upstream: 'billing', material: TOKEN_MATERIAL },
      },
    ]
    await start({
      controlPlanes: [{ name: 'dev', entities: dev }],
      // As Kong serves a schema: `material` is referenceable and encrypted, nothing in its name says secret.
      pluginSchemas: {
        'acme-billing': {
          fields: [
            {
              config: {
                type: 'record',
                fields: [
                  { upstream: { type: 'string' } },
                  { material: { type: 'string', encrypted: true, referenceable: true } },
                ],
              },
            },
          ],
        },
      },
    })
    const run = await dumpAction({ 'konnect-control-plane': 'dev' })
    expect(run.exitCode).toBe(0)
    const text = await readFile(join(w.dir, 'konnect', 'dev.yaml'), 'utf8')
    expect(text).not.toContain(TOKEN_MATERIAL)
    expect(text).toContain('${{ env "DECK_DEV_SERVICE_BILLING_PLUGIN_ACME_BILLING_CONFIG_MATERIAL" }}')
    expect(text).toContain('upstream: billing')
    const id = konnect!.controlPlanes()[0]!.id
    expect(konnect!.requests.map((r) => `${r.method} ${r.path}`)).toContain(
      `GET /v2/control-planes/${id}/core-entities/schemas/plugins/acme-billing`,
    )
  })

  test("Konnect's rate limit on its control-plane API is waited out as Retry-After asks, and reported", async () => {
    await start({
      rateLimit: {
        after: 0,
        times: 2,
        retryAfterSeconds: 1,
        match: (r) => r.path.startsWith('/v2/control-planes?'),
      },
    })
    const run = await dumpAction()
    expect(run.exitCode).toBe(0)
    expect(konnect!.requests.filter((r) => r.status === 429)).toHaveLength(2)
    expect(run.summary).toContain("Konnect's rate limit held 2 request(s) of deckhand's for 2 s in all")
  })

  test('a second dump of an unchanged Konnect is byte for byte the same', async () => {
    await start()
    expect((await dumpAction()).exitCode).toBe(0)
    const first = await everythingWritten(join(w.dir, 'konnect'))
    const again = await dumpAction()
    expect(again.exitCode).toBe(0)
    expect(again.outputs.changed).toBe('false')
    expect(await everythingWritten(join(w.dir, 'konnect'))).toBe(first)
  })

  test('a control plane Konnect does not have fails before deck runs, naming those the token sees; nothing is written', async () => {
    await start()
    const run = await dumpAction({ 'konnect-control-plane': 'dev\nstaging' })
    expect(run.exitCode).not.toBe(0)
    expect(visibleLog(run.stdout)).toContain(
      'Konnect has no control plane named "staging" that konnect-token can see (it sees "dev", "Prod EU")',
    )
    expect(await readdir(w.dir)).not.toContain('konnect')
    expect(await readCalls(w.log)).toEqual([])
  })

  test('a token Konnect refuses fails with what to check, and the token is not shown', async () => {
    await start()
    const wrong = 'kpat_wrong000000000000000000000000000000000000000000'
    const run = await dumpAction({ 'konnect-token': wrong })
    expect(run.exitCode).not.toBe(0)
    expect(visibleLog(run.stdout)).toMatch(/Konnect refused konnect-token \(HTTP 401/)
    expect(visibleLog(run.stdout)).toContain(
      'personal access token (kpat_…) or a system account token (spat_…)',
    )
    expect(visibleLog(run.stdout)).not.toContain(wrong)
  })

  test('inputs of another gateway are refused, not ignored', async () => {
    await start()
    const kongInput = await dumpAction({ 'kong-addr': 'http://127.0.0.1:8001' })
    expect(kongInput.exitCode).not.toBe(0)
    expect(visibleLog(kongInput.stdout)).toContain(
      "kong-addr is for a self-managed Kong's Admin API, not gateway konnect.",
    )
    const konnectInput = await runBundledAction(
      'dump',
      { 'kong-addr': 'http://127.0.0.1:8001', 'konnect-token': TOKEN },
      { env: env() },
    )
    expect(konnectInput.exitCode).not.toBe(0)
    expect(visibleLog(konnectInput.stdout)).toContain('konnect-token is for gateway konnect.')
  })

  test('a deck older than 1.40.0 is refused for Konnect, as Kong requires', async () => {
    await start()
    const run = await runBundledAction(
      'dump',
      {
        gateway: 'konnect',
        'konnect-token': TOKEN,
        'konnect-addr': konnect!.url,
        'konnect-control-plane': 'dev',
        'output-dir': join(w.dir, 'konnect'),
      },
      { env: doubleEnv({ log: w.log, konnectDir: konnect!.dir, version: '1.39.1' }) },
    )
    expect(run.exitCode).not.toBe(0)
    expect(visibleLog(run.stdout)).toContain('deck 1.39.1 is too old for Konnect')
    expect(await readdir(w.dir)).not.toContain('konnect')
  })
})

describe('diff and sync, gateway: konnect (CLI)', () => {
  /** Dumps, then edits the dev file: a new route on billing, and one service less in Prod EU. */
  async function dumpAndEdit(): Promise<string> {
    const out = join(w.dir, 'konnect')
    expect((await dumpAction()).exitCode).toBe(0)
    const devFile = join(out, 'dev.yaml')
    await editYaml<{ services: { routes: unknown[] }[] }>(devFile, (dev) => {
      dev.services[0]!.routes.push({ name: 'billing-v2', paths: ['/v2/billing'], protocols: ['https'] })
    })
    return out
  }

  test('plans each control plane from the files, syncs, and a second plan is empty', async () => {
    await start()
    const out = await dumpAndEdit()
    // The redacted values come back from the environment, as they would from the secret bundle.
    const variables = await variablesFrom(out)
    const diff = await konnectCli('diff', out, variables)
    expect(diff.code).toBe(0)
    expect(diff.stdout).toContain('1 to create, 0 to update, 0 to delete in 2 Konnect control planes.')
    expect(diff.stdout).toContain('Unchanged: Prod EU.')
    expect(diff.stdout).toMatch(/Control plane dev \(.*dev\.yaml\): 1 to create/)
    // parallelism 4 against Konnect unless the job says otherwise.
    const diffCalls = (await readCalls(w.log)).filter((c) => c.argv.includes('diff'))
    expect(diffCalls).toHaveLength(2)
    for (const call of diffCalls)
      expect(
        call.argv.slice(call.argv.indexOf('--parallelism'), call.argv.indexOf('--parallelism') + 2),
      ).toEqual(['--parallelism', '4'])

    const sync = await konnectCli('sync', out, variables)
    expect(sync.code).toBe(0)
    expect(sync.stdout).toContain('Applied 1 change(s)')
    const routes = (konnect!.entities('dev').services as { routes?: { name: string }[] }[])[0]!.routes!
    expect(routes.map((r) => r.name).sort()).toEqual(['billing-route', 'billing-v2'])

    const again = await konnectCli('diff', out, variables)
    expect(again.code).toBe(0)
    expect(again.stdout).toContain('No changes')
    // Every command line deckhand gave deck is one deck 1.65.1 accepts, Konnect flags included.
    const calls = await readCalls(w.log)
    expect(calls.length).toBeGreaterThanOrEqual(8)
    for (const call of calls) expect(checkDeckArgv(call.argv, '1.65.1')).toBeNull()
    expect(await everythingWritten(w.dir)).not.toContain(TOKEN)
  })

  test('a sync that meets Konnect rate limits waits them out and completes', async () => {
    await start({
      rateLimit: { after: 0, times: 2, retryAfterSeconds: 1, match: (r) => r.method !== 'GET' },
    })
    const out = await dumpAndEdit()
    const variables = await variablesFrom(out)
    const sync = await konnectCli('sync', out, variables)
    expect(sync.code).toBe(0)
    expect(sync.stdout).toContain('Applied 1 change(s)')
    expect(konnect!.requests.filter((r) => r.status === 429)).toHaveLength(2)
  })

  test("a rate limit that outlasts deck's retries fails the sync, saying what happened and what to do", async () => {
    // Every write answered 429 with Retry-After: 0: deck's client tries each change 11 times, then gives up.
    await start({
      rateLimit: { after: 0, times: 1_000, retryAfterSeconds: 0, match: (r) => r.method !== 'GET' },
    })
    const out = await dumpAndEdit()
    const sync = await konnectCli('sync', out, await variablesFrom(out))
    expect(sync.code).not.toBe(0)
    expect(sync.stdout.replace(/\s+/g, ' ')).toContain(
      "Control plane dev: Konnect's rate limit outlasted deck's retries (each change is tried 11 times, waiting as Konnect asks).",
    )
    expect(konnect!.requests.filter((r) => r.status === 429)).toHaveLength(11)
  })

  test('the delete guard holds for Konnect, naming the control plane', async () => {
    await start()
    expect((await dumpAction()).exitCode).toBe(0)
    const out = join(w.dir, 'konnect')
    const devFile = join(out, 'dev.yaml')
    await editYaml<{ services: { routes?: unknown[] }[] }>(devFile, (dev) => delete dev.services[0]!.routes)
    const run = await runBundledAction(
      'sync',
      { gateway: 'konnect', 'konnect-token': TOKEN, 'konnect-addr': konnect!.url, state: out },
      { env: { ...env(), ...(await variablesFrom(out)) } },
    )
    expect(run.exitCode).not.toBe(0)
    expect(run.summary).toContain('Refused: the plan deletes 1 entity, more than max-deletes (0).')
    expect(run.summary).toMatch(/<th>control plane<\/th><th>kind<\/th><th>name<\/th>/)
    expect(konnect!.entities('dev').services).toEqual([
      expect.objectContaining({ routes: [expect.anything()] }),
    ])
  })

  test('a file that names no control plane is a problem before anything is sent', async () => {
    await start()
    const file = join(w.dir, 'loose.yaml')
    await writeFile(
      file,
      stringify({ _format_version: '3.0', services: [{ name: 'x', host: 'x.internal' }] }),
    )
    const diff = await konnectCli('diff', file)
    expect(diff.code).not.toBe(0)
    expect(diff.stdout + diff.stderr).toContain('names no Konnect control plane')
    expect(await readCalls(w.log)).toEqual([])
  })
})

/** The DECK_ values of a redacted dump of the fixtures above: what a secret bundle or CI secrets would give. */
async function variablesFrom(out: string): Promise<Record<string, string>> {
  const names = (await readFile(join(out, 'required-env.txt'), 'utf8'))
    .split('\n')
    .filter((l) => l.startsWith('DECK_'))
  const values: Record<string, string> = {}
  for (const name of names) values[name] = /PASSWORD/.test(name) ? REDIS_PASSWORD : ALICE_KEY
  return values
}

describe('restore, gateway: konnect (bundled action)', () => {
  function restoreAction(
    out: string,
    extra: Record<string, string> = {},
    variables: Record<string, string> = {},
  ) {
    return runBundledAction(
      'restore',
      {
        gateway: 'konnect',
        'konnect-token': TOKEN,
        'konnect-addr': konnect!.url,
        state: out,
        'report-file': join(w.dir, 'restore-report.json'),
        ...extra,
      },
      { env: { ...env(), ...variables } },
    )
  }

  test('creates a deleted control plane again as the dump recorded it, syncs it, and proves it', async () => {
    await start()
    expect((await dumpAction()).exitCode).toBe(0)
    const out = join(w.dir, 'konnect')
    await deleteControlPlane(konnect!, TOKEN, 'Prod EU')
    expect(konnect!.controlPlanes().map((c) => c.name)).toEqual(['dev'])

    const run = await restoreAction(out, {}, await variablesFrom(out))
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(run.outputs.verified).toBe('true')
    expect(Number(run.outputs['rto-seconds'])).toBeGreaterThan(0)
    // The orders service, its plugin, and alice with her credential.
    expect(Number(run.outputs['entities-restored'])).toBeGreaterThanOrEqual(4)

    const prod = konnect!.controlPlanes().find((c) => c.name === 'Prod EU')!
    expect(prod.labels).toEqual({ env: 'prod' })
    const entities = konnect!.entities('Prod EU') as {
      services: { name: string; plugins?: { config: { redis: { password: string } } }[] }[]
      consumers: { username: string; keyauth_credentials?: { key: string }[] }[]
    }
    expect(entities.services.map((s) => s.name)).toEqual(['orders'])
    // The secrets came back from their DECK_ variables, not as the references.
    expect(JSON.stringify(entities)).toContain(REDIS_PASSWORD)
    expect(JSON.stringify(entities)).toContain(ALICE_KEY)

    const summary = run.summary
    expect(summary).toContain(
      'Restored Konnect control plane(s) dev, Prod EU with the declarative strategy and verified it',
    )
    expect(summary).toContain('Restored: control plane Prod EU, created again from .konnect.json (')
    expect(summary).toContain('control plane Prod EU matches the backup')
    const report = JSON.parse(await readFile(join(w.dir, 'restore-report.json'), 'utf8')) as {
      phases: { name: string; status: string }[]
    }
    expect(report.phases.map((p) => `${p.name} ${p.status}`)).toEqual([
      'read the backup ok',
      'find or create the control planes ok',
      'plan ok',
      'sync ok',
      'verify ok',
    ])
    for (const text of [visibleLog(run.stdout), run.summary, await everythingWritten(w.dir)]) {
      expect(text).not.toContain(TOKEN)
      expect(text).not.toContain(REDIS_PASSWORD)
    }
  })

  test('without overwrite, a control plane whose configuration the backup would change is left alone', async () => {
    await start()
    expect((await dumpAction()).exitCode).toBe(0)
    const out = join(w.dir, 'konnect')
    // The backup lacks the billing route that dev has: restoring it would delete the route.
    const devFile = join(out, 'dev.yaml')
    await editYaml<{ services: { routes?: unknown[] }[] }>(devFile, (dev) => delete dev.services[0]!.routes)
    const before = konnect!.requests.length

    const run = await restoreAction(out, {}, await variablesFrom(out))
    expect(run.exitCode).not.toBe(0)
    expect(run.outputs.verified).toBe('false')
    expect(visibleLog(run.stdout)).toContain(
      'Not restored: control plane dev (0 to create, 0 to update, 1 to delete) holds configuration the backup would change or delete. Set overwrite: true',
    )
    expect(konnect!.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([])

    const overwrite = await restoreAction(out, { overwrite: 'true' }, await variablesFrom(out))
    expect(overwrite.exitCode).toBe(0)
    expect(overwrite.outputs.verified).toBe('true')
    const services = konnect!.entities('dev').services as { routes?: unknown[] }[]
    expect(services[0]!.routes ?? []).toEqual([])
  })

  test('a control plane that is gone and not recorded is named, with what to do', async () => {
    await start()
    expect((await dumpAction()).exitCode).toBe(0)
    const out = join(w.dir, 'konnect')
    await deleteControlPlane(konnect!, TOKEN, 'dev')
    await rm(join(out, '.konnect.json'))
    const run = await restoreAction(out, {}, await variablesFrom(out))
    expect(run.exitCode).not.toBe(0)
    expect(visibleLog(run.stdout)).toContain(
      'Konnect has no control plane named "dev", and the backup has no .konnect.json recording it',
    )
    expect(konnect!.controlPlanes().map((c) => c.name)).toEqual(['Prod EU'])
  })

  test('inputs of a self-managed Kong restore are refused for Konnect', async () => {
    await start()
    const run = await restoreAction(w.dir, { 'db-dump': join(w.dir, 'db') })
    expect(run.exitCode).not.toBe(0)
    expect(visibleLog(run.stdout)).toContain('db-dump is not used by gateway konnect')
  })
})

describe('the plan on the pull request, gateway: konnect', () => {
  test('one comment per control plane, naming it, with no token or secret in it', async () => {
    const api = await startGitHubApi({ repository: 'acme/konnect-config', issues: [7] })
    try {
      await start()
      expect((await dumpAction()).exitCode).toBe(0)
      const out = join(w.dir, 'konnect')
      for (const [file, retries] of [
        ['dev.yaml', 9],
        ['Prod-EU.yaml', 7],
      ] as const) {
        await editYaml<{ services: { retries: number }[] }>(join(out, file), (doc) => {
          doc.services[0]!.retries = retries
        })
      }
      const event = join(w.dir, 'event.json')
      await writeFile(event, JSON.stringify({ number: 7, pull_request: { number: 7 } }))
      const run = await runBundledAction(
        'diff',
        {
          gateway: 'konnect',
          'konnect-token': TOKEN,
          'konnect-addr': konnect!.url,
          state: out,
          'github-token': WRITE_TOKEN,
        },
        {
          env: {
            ...env(),
            ...(await variablesFrom(out)),
            GITHUB_EVENT_NAME: 'pull_request',
            GITHUB_EVENT_PATH: event,
            GITHUB_REPOSITORY: 'acme/konnect-config',
            GITHUB_API_URL: api.url,
            GITHUB_SERVER_URL: 'https://github.com',
            GITHUB_RUN_ID: '42',
            GITHUB_WORKFLOW: 'Konnect GitOps',
          },
        },
      )
      expect(run.exitCode).toBe(0)
      const bodies = api.comments(7).map((c) => c.body)
      expect(bodies).toHaveLength(2)
      expect(bodies.map((b) => b.split('\n')[1]).sort()).toEqual([
        '## deckhand plan: control plane Prod EU',
        '## deckhand plan: control plane dev',
      ])
      for (const body of bodies) {
        expect(body).toMatch(/^<!-- deckhand:Konnect GitOps\/plan\/[0-9a-f]{12}\/(dev|Prod EU) -->/)
        expect(body).toContain('retries: ')
        expect(body).not.toContain(TOKEN)
        expect(body).not.toContain(REDIS_PASSWORD)
        expect(body).not.toContain(ALICE_KEY)
      }
    } finally {
      await api.close()
    }
  })
})

describe('moving a self-managed Kong to Konnect', () => {
  // A self-managed Kong's dump (no _konnect block) with what a Konnect control plane refuses.
  const SELF_MANAGED = `_format_version: "3.0"
_workspace: default
services:
- name: payments
  host: payments.internal
  port: 80
  protocol: http
  plugins:
  - name: key-auth-enc
    config: {}
  routes:
  - name: payments-route
    paths: [/payments]
    plugins:
    - name: oauth2
      config:
        enable_client_credentials: true
plugins:
- name: rate-limiting-advanced
  config:
    strategy: cluster
    limit: [10]
    window_size: [60]
- name: openwhisk
  enabled: false
  config: {}
consumers:
- username: batch
  plugins:
  - name: rate-limiting
    config:
      minute: 5
      policy: cluster
`

  async function selfManaged(text = SELF_MANAGED): Promise<string> {
    const file = join(w.dir, 'kong', 'default.yaml')
    await mkdir(join(w.dir, 'kong'), { recursive: true })
    await writeFile(file, text)
    return file
  }

  test('validate names everything Konnect refuses, with file and line, before anything is sent', async () => {
    await start()
    const file = await selfManaged()
    const run = await runBundledAction(
      'validate',
      { gateway: 'konnect', 'konnect-control-plane': 'Prod EU', state: file },
      { env: env() },
    )
    expect(run.exitCode).not.toBe(0)
    const errors = run.stdout.split('\n').filter((l) => l.startsWith('::error '))
    const found = errors
      .map((l) => `${/,line=(\d+)/.exec(l)?.[1]} ${l.slice(l.lastIndexOf('::') + 2)}`)
      .sort()
    expect(found).toEqual(
      [
        '15 Konnect refuses this: [oauth2] plugin is not compatible with Konnect',
        "19 Konnect refuses this: [rate-limiting-advanced] plugin can't be used with cluster strategy",
        "30 Konnect refuses this: [rate-limiting] plugin can't use the cluster policy on a control plane (local or redis)",
        '9 Konnect refuses this: [key-auth-enc] keys are automatically encrypted in Konnect, use the key auth plugin instead',
      ].sort(),
    )
    // A disabled plugin is not refused; deck never ran.
    expect(run.stdout).not.toContain('openwhisk')
    expect(await readCalls(w.log)).toEqual([])
  })

  test('sync refuses such a file before deck runs; once fixed, the dump moves into the control plane', async () => {
    // A new, empty control plane for the move.
    await start({ controlPlanes: [{ name: 'payments' }] })
    const file = await selfManaged()
    const sync = (state: string) =>
      runCli(
        [
          'sync',
          '--gateway',
          'konnect',
          '--konnect-addr',
          konnect!.url,
          '--konnect-control-plane',
          'payments',
          '--state',
          state,
        ],
        {
          env: { ...env(), HOME: w.dir, DECKHAND_KONNECT_TOKEN: TOKEN },
        },
      )
    const refused = await sync(file)
    expect(refused.code).not.toBe(0)
    expect(refused.stdout).toContain('4 problem(s) in 1 state file(s); nothing was planned or sent.')
    expect(await readCalls(w.log)).toEqual([])
    expect(konnect!.requests.filter((r) => r.method !== 'GET')).toEqual([])

    // The fixed file: key-auth instead of key-auth-enc, no oauth2, local rate limits.
    const fixed = SELF_MANAGED.replace('key-auth-enc', 'key-auth')
      .replace(
        '    plugins:\n    - name: oauth2\n      config:\n        enable_client_credentials: true\n',
        '',
      )
      .replace('strategy: cluster', 'strategy: local')
      .replace('policy: cluster', 'policy: local')
    await selfManaged(fixed)
    const moved = await sync(file)
    expect(moved.code).toBe(0)
    expect(moved.stdout).toContain('Applied 7 change(s)')
    const inKonnect = konnect!.entities('payments') as {
      services: { name: string }[]
      plugins: { name: string }[]
    }
    expect(inKonnect.services.map((s) => s.name)).toEqual(['payments'])
    expect(inKonnect.plugins.map((p) => p.name).sort()).toEqual(['openwhisk', 'rate-limiting-advanced'])
  })
})

describe('Konnect drift in git (dump, then commit)', () => {
  test('a change made in Konnect arrives as a commit naming what changed, with no token or secret in git', async () => {
    const box = await gitSandbox()
    try {
      await start()
      await box.pushFromElsewhere({ 'README.md': '# gateway config\n' }, 'seed')
      const runner = await box.clone('runner', { depth: 1 })
      const dumpInto = () =>
        runBundledAction(
          'dump',
          {
            gateway: 'konnect',
            'konnect-token': TOKEN,
            'konnect-addr': konnect!.url,
            'konnect-control-plane': 'dev\nProd EU',
            'output-dir': 'konnect',
          },
          { cwd: runner, env: env() },
        )
      const commit = () =>
        runBundledAction(
          'commit',
          { path: 'konnect' },
          { cwd: runner, env: { ...box.env, GITHUB_WORKSPACE: runner } },
        )
      expect((await dumpInto()).exitCode).toBe(0)
      const first = await commit()
      expect(first.exitCode).toBe(0)
      expect(first.outputs.changed).toBe('true')

      // Someone adds a service to dev in Konnect's UI.
      const id = konnect!.controlPlanes().find((c) => c.name === 'dev')!.id
      const fixture = join(konnect!.dir, 'control-planes', `${id}.yaml`)
      await editYaml<{ workspaces: { default: { services: Record<string, unknown>[] } } }>(fixture, (doc) => {
        doc.workspaces.default.services.push({
          id: '6b2d4d1f-1111-4e4b-8b68-0000000000a1',
          name: 'search',
          host: 'search.internal',
          port: 80,
          protocol: 'http',
          ...SERVICE_DEFAULTS,
        })
      })

      expect((await dumpInto()).exitCode).toBe(0)
      const drift = await commit()
      expect(drift.exitCode).toBe(0)
      expect(drift.outputs).toMatchObject({ changed: 'true', added: '1', removed: '0' })
      const message = await box.git(runner, ['log', '-1', '--format=%B', drift.outputs['commit-sha']!])
      expect(message).toContain('search')
      const files = await box.git(runner, ['show', '--name-only', '--format=', drift.outputs['commit-sha']!])
      expect(files.trim().split('\n')).toContain('konnect/dev.yaml')
      const history = await box.git(runner, ['log', '-p', '--all'])
      for (const secret of [TOKEN, REDIS_PASSWORD, ALICE_KEY]) expect(history).not.toContain(secret)
    } finally {
      await box.cleanup()
    }
  })
})
