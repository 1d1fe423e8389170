import { afterEach, beforeAll, afterAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse, stringify } from 'yaml'

import { type KonnectOptions, type KonnectStandIn, startKonnect } from './support/konnect.js'
import { ROUTE_DEFAULTS, SERVICE_DEFAULTS } from './support/kong-defaults.js'

const DECK = fileURLToPath(new URL('./deck-double/deck', import.meta.url))
const ADMIN = 'kpat_admin0000000000000000000000000000000000000000'
const CI = 'spat_ci000000000000000000000000000000000000000000000'

interface Result {
  code: number | null
  stdout: string
  stderr: string
}

let home: string
let work: string
let konnect: KonnectStandIn | null = null

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'deck-konnect-home-'))
  work = await mkdtemp(join(tmpdir(), 'deck-konnect-work-'))
})
afterAll(async () => {
  await rm(home, { recursive: true, force: true })
  await rm(work, { recursive: true, force: true })
})
afterEach(async () => {
  await konnect?.stop()
  konnect = null
})

function deck(args: string[], env: Record<string, string> = {}, input = ''): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(
      DECK,
      args,
      {
        cwd: work,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: home,
          DECK_DOUBLE_KONNECT_DIR: konnect?.dir ?? '',
          ...env,
        },
        encoding: 'utf8',
        timeout: 30_000,
      },
      (_err, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    )
    child.stdin?.end(input)
  })
}

const DEV = {
  services: [
    {
      id: '5a1c3c0e-1111-4d3a-9a57-000000000001',
      name: 'billing',
      host: 'billing.internal',
      port: 80,
      protocol: 'http',
      ...SERVICE_DEFAULTS,
      routes: [
        {
          id: '5a1c3c0e-2222-4d3a-9a57-000000000001',
          name: 'billing-route',
          paths: ['/billing'],
          protocols: ['http', 'https'],
          ...ROUTE_DEFAULTS,
        },
      ],
    },
    {
      id: '5a1c3c0e-1111-4d3a-9a57-000000000002',
      name: 'konnect-analytics',
      host: 'analytics.konghq.com',
      port: 443,
      protocol: 'https',
      tags: ['konnect-managed'],
    },
  ],
  consumers: [
    {
      id: '5a1c3c0e-3333-4d3a-9a57-000000000001',
      username: 'alice',
      oauth2_credentials: [
        {
          id: '5a1c3c0e-4444-4d3a-9a57-000000000001',
          name: 'alice-app',
          client_id: 'alice-client',
          client_secret: 'alice-secret',
          redirect_uris: ['https://alice.example/cb'],
        },
      ],
    },
  ],
}

const PROD = {
  services: [
    {
      id: '5a1c3c0e-1111-4d3a-9a57-0000000000f1',
      name: 'orders',
      host: 'orders.internal',
      port: 8080,
      protocol: 'http',
    },
  ],
}

async function start(options: Partial<KonnectOptions> = {}): Promise<KonnectStandIn> {
  konnect = await startKonnect({
    tokens: { [ADMIN]: {}, [CI]: { controlPlanes: ['dev'], write: false } },
    controlPlanes: [
      { name: 'dev', entities: structuredClone(DEV) },
      { name: 'prod', entities: structuredClone(PROD) },
    ],
    ...options,
  })
  return konnect
}

const konnectArgs = (...args: string[]) => [...args, '--konnect-addr', konnect!.url]
const withToken = (token = ADMIN) => ({ DECK_KONNECT_TOKEN: token })
const idOf = (name: string) => konnect!.controlPlanes().find((c) => c.name === name)!.id

describe('deck double, Konnect mode: dump', () => {
  it('dumps two control planes with the _konnect block, no _workspace, and without what Konnect dumps leave out', async () => {
    await start()
    const dev = await deck(konnectArgs('gateway', 'dump', '--konnect-control-plane-name', 'dev'), withToken())
    expect(dev.stderr).toBe('')
    expect(dev.code).toBe(0)
    const devDump = parse(dev.stdout) as Record<string, unknown>
    expect(devDump._format_version).toBe('3.0')
    expect(devDump._konnect).toEqual({ control_plane_name: 'dev' })
    expect(devDump).not.toHaveProperty('_workspace')
    // konnect-managed entities and OAuth2 credentials are not part of a Konnect dump.
    expect((devDump.services as { name: string }[]).map((s) => s.name)).toEqual(['billing'])
    expect(devDump.consumers).toEqual([{ username: 'alice' }])
    expect(dev.stdout.indexOf('_format_version')).toBeLessThan(dev.stdout.indexOf('_konnect'))

    // The deprecated runtime-group flag names the control plane too.
    const prod = await deck(
      konnectArgs('gateway', 'dump', '--konnect-runtime-group-name', 'prod'),
      withToken(),
    )
    expect(prod.code).toBe(0)
    expect(prod.stderr).toBe(
      'Flag --konnect-runtime-group-name has been deprecated, use --konnect-control-plane-name instead\n',
    )
    const prodDump = parse(prod.stdout) as Record<string, unknown>
    expect(prodDump._konnect).toEqual({ control_plane_name: 'prod' })
    expect((prodDump.services as { name: string }[]).map((s) => s.name)).toEqual(['orders'])

    // deck's requests: the control plane list, then the control plane's core entities, with the token.
    expect(konnect!.requests.map((r) => `${r.method} ${r.path} ${r.authorized}`)).toEqual([
      'GET /konnect-api/api/runtime_groups true',
      `GET /v2/control-planes/${idOf('dev')}/core-entities/services?size=1000 true`,
      'GET /konnect-api/api/runtime_groups true',
      `GET /v2/control-planes/${idOf('prod')}/core-entities/services?size=1000 true`,
    ])
  })

  it('takes the token from a token file or DECK_KONNECT_TOKEN, never needing it on argv', async () => {
    await start()
    const tokenFile = join(work, 'konnect.token')
    await writeFile(tokenFile, `${ADMIN}\n`)
    const fromFile = await deck(
      konnectArgs(
        'gateway',
        'dump',
        '--konnect-token-file',
        tokenFile,
        '--konnect-control-plane-name',
        'dev',
      ),
    )
    expect(fromFile.code).toBe(0)
    expect(parse(fromFile.stdout)._konnect).toEqual({ control_plane_name: 'dev' })
    // The address may come from the environment too: DECK_KONNECT_ADDR alone selects Konnect mode.
    const fromEnv = await deck(['gateway', 'dump', '--konnect-control-plane-name', 'prod'], {
      ...withToken(),
      DECK_KONNECT_ADDR: konnect!.url,
    })
    expect(fromEnv.code).toBe(0)
    expect(parse(fromEnv.stdout)._konnect).toEqual({ control_plane_name: 'prod' })
    // DECK_KONNECT_TOKEN_FILE, and an address with a trailing slash, which deck keeps in the core-entities URL.
    const envFile = await deck(['gateway', 'dump', '--konnect-addr', `${konnect!.url}/`], {
      DECK_KONNECT_TOKEN_FILE: tokenFile,
      DECK_KONNECT_CONTROL_PLANE_NAME: 'dev',
    })
    expect(envFile.code).toBe(0)
    expect(parse(envFile.stdout)._konnect).toEqual({ control_plane_name: 'dev' })
    expect(konnect!.requests.slice(-2).map((r) => r.path)).toEqual([
      '/konnect-api/api/runtime_groups',
      `//v2/control-planes/${idOf('dev')}/core-entities/services?size=1000`,
    ])
  })

  it('does not retry a 429 on the control plane list: deck fails with its text', async () => {
    await start({
      rateLimit: { after: 0, times: 1, match: ({ path }) => path.startsWith('/konnect-api/') },
    })
    const limited = await deck(konnectArgs('gateway', 'dump'), withToken())
    expect(limited).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error: fetching control planes: HTTP status 429 (message: "API rate limit exceeded")\n',
    })
    expect(konnect!.requests.map((r) => r.status)).toEqual([429])
  })

  it('fails with deck’s texts for a wrong token, a hidden or missing control plane, and no token', async () => {
    await start()
    const wrong = await deck(konnectArgs('gateway', 'dump'), withToken('kpat_wrong'))
    expect(wrong).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error: fetching control planes: HTTP status 401 (message: "Unauthorized")\n',
    })
    // The CI token sees dev only; "default" is deck's control plane when none is named.
    const hidden = await deck(
      konnectArgs('gateway', 'dump', '--konnect-control-plane-name', 'prod'),
      withToken(CI),
    )
    expect(hidden.stderr).toBe('Error: control plane not found: prod\n')
    expect((await deck(konnectArgs('gateway', 'dump'), withToken())).stderr).toBe(
      'Error: control plane not found: default\n',
    )
    const noToken = await deck(konnectArgs('gateway', 'dump'))
    expect(noToken.stderr).toBe('Error: fetching control planes: HTTP status 401 (message: "Unauthorized")\n')
    expect(konnect!.requests.at(-1)!.authorized).toBe(false)
  })

  it('stays in Kong mode when --kong-addr is not the default, token or not', async () => {
    await start()
    const kong = await deck(['gateway', 'dump', '--kong-addr', 'http://127.0.0.1:9'], withToken())
    expect(kong.stderr).toContain(
      'Error: reading Kong version: making HTTP request: Get "http://127.0.0.1:9/"',
    )
    expect(konnect!.requests).toEqual([])
  })

  it('follows the release: v1.64.0 finds the control plane directly, v1.43.0–v1.63.0 log in on the global endpoint first', async () => {
    await start()
    const v164 = await deck(konnectArgs('gateway', 'dump', '--konnect-control-plane-name', 'dev'), {
      ...withToken(),
      DECK_DOUBLE_VERSION: '1.64.0',
    })
    expect(v164.code).toBe(0)
    const port = new URL(konnect!.url).port
    const v163 = await deck(konnectArgs('gateway', 'dump'), { ...withToken(), DECK_DOUBLE_VERSION: '1.63.0' })
    expect(v163.stderr).toBe(
      'Error: authenticating with Konnect: making HTTP request: Get ' +
        `"https://global.api.konghqhttp://127.0.0.1:${port}/v2/organizations/me": ` +
        'dial tcp: lookup global.api.konghqhttp: no such host\n',
    )
    expect(konnect!.requests).toHaveLength(2)
    // The flags of each release: no --konnect-control-plane-name before v1.27.0, no --konnect-email from v1.64.0.
    expect(
      (await deck(['dump', '--konnect-control-plane-name', 'dev'], { DECK_DOUBLE_VERSION: '1.26.0' })).stderr,
    ).toContain('Error: unknown flag: --konnect-control-plane-name\n')
    expect((await deck(['gateway', 'dump', '--konnect-email', 'a@example.com'])).stderr).toContain(
      'Error: unknown flag: --konnect-email\n',
    )
    const old = await deck(konnectArgs('gateway', 'dump'), { ...withToken(), DECK_DOUBLE_VERSION: '1.42.0' })
    expect(old.stderr).toBe(
      'Error: deck double: Konnect mode of deck v1.42.0 is not emulated (v1.43.0 and later)\n',
    )
  })

  it('pings: the control plane lookup, then the organisation lookup on the global endpoint', async () => {
    await start({ controlPlanes: [{ name: 'default' }] })
    const port = new URL(konnect!.url).port
    const ping = await deck(konnectArgs('gateway', 'ping'), withToken())
    expect(ping.stderr).toBe(
      'Error: authenticating with Konnect: making HTTP request: Get ' +
        `"https://global.api.konghqhttp://127.0.0.1:${port}/v2/organizations/me": ` +
        'dial tcp: lookup global.api.konghqhttp: no such host\n',
    )
    expect(konnect!.requests.map((r) => r.path)).toEqual(['/konnect-api/api/runtime_groups'])
  })
})

// A target for dev: billing's host changed, a new service, the unmanaged entities kept.
async function devTarget(name = 'dev'): Promise<string> {
  const dump = await deck(
    konnectArgs('gateway', 'dump', '--konnect-control-plane-name', name, '--with-id'),
    withToken(),
  )
  expect(dump.code).toBe(0)
  const target = parse(dump.stdout) as { services: Record<string, unknown>[] }
  target.services[0]!.host = 'billing-v2.internal'
  target.services.push({ name: 'payments', host: 'payments.internal', port: 80, protocol: 'http' })
  const file = join(work, `${name}-target-${Date.now()}.yaml`)
  await writeFile(file, stringify(target))
  return file
}

const writes = (k: KonnectStandIn) =>
  k.requests
    .filter((r) => r.method !== 'GET')
    .map((r) => `${r.method} ${r.path.replace(/\/[0-9a-f-]{36}/g, '/:id')} ${r.status}`)

describe('deck double, Konnect mode: sync', () => {
  it('syncs into one control plane through 429s, waiting Retry-After as the retryable client does', async () => {
    await start({
      rateLimit: {
        after: 1,
        times: 2,
        retryAfterSeconds: 1,
        match: ({ method, path }) => method !== 'GET' && path.includes('/core-entities/'),
      },
    })
    const file = await devTarget()
    const before = Date.now()
    const sync = await deck(konnectArgs('gateway', 'sync', file), withToken())
    expect(sync.stderr).toBe('')
    expect(sync.code).toBe(0)
    expect(sync.stdout).toContain('Summary:\n  Created: 1\n  Updated: 1\n  Deleted: 0\n')
    // The retries happen below GDR's event handling: each event is listed once.
    expect(sync.stdout.match(/^updating service billing/gm)).toHaveLength(1)
    expect(sync.stdout.match(/^creating service payments/gm)).toHaveLength(1)
    // Two 429s, each waited out (Retry-After: 1), then accepted: four writes for two events.
    expect(Date.now() - before).toBeGreaterThanOrEqual(2000)
    expect(writes(konnect!).sort()).toEqual(
      [
        'PATCH /v2/control-planes/:id/core-entities/services/:id 200',
        'PATCH /v2/control-planes/:id/core-entities/services/:id 429',
        'PATCH /v2/control-planes/:id/core-entities/services/:id 429',
        'PUT /v2/control-planes/:id/core-entities/services/:id 200',
      ].sort(),
    )
    const dev = konnect!.entities('dev') as {
      services: { name: string; host: string; tags?: string[] }[]
      consumers: unknown[]
    }
    expect(dev.services.map((s) => [s.name, s.host])).toEqual(
      expect.arrayContaining([
        ['billing', 'billing-v2.internal'],
        ['payments', 'payments.internal'],
        // Hidden from deck, so neither compared nor deleted.
        ['konnect-analytics', 'analytics.konghq.com'],
      ]),
    )
    expect(JSON.stringify(dev.consumers)).toContain('alice-client')
    expect(konnect!.entities('prod')).toEqual(PROD)
    // A second diff finds nothing left to do.
    const diff = await deck(konnectArgs('gateway', 'diff', file), withToken())
    expect(diff.stdout).toContain('Summary:\n  Created: 0\n  Updated: 0\n  Deleted: 0\n')
  }, 30_000)

  it('fails the event with the retryable client’s text once 429s outlast its ten retries', async () => {
    await start({
      rateLimit: { after: 0, times: 100, retryAfterSeconds: 0, match: ({ method }) => method === 'PUT' },
    })
    const file = await devTarget()
    const sync = await deck(konnectArgs('gateway', 'sync', file), withToken())
    const url = `${konnect!.url}/v2/control-planes/${idOf('dev')}/core-entities/services/`
    expect(sync.code).toBe(1)
    expect(sync.stderr).toMatch(
      new RegExp(
        '^Error: 1 errors occurred:\\n\\twhile processing event: Create service payments failed: ' +
          `making HTTP request: Put "${url}[0-9a-f-]{36}": PUT ${url}[0-9a-f-]{36} giving up after 11 attempt\\(s\\)\\n\\n$`,
      ),
    )
    expect(writes(konnect!).filter((w) => w.startsWith('PUT'))).toHaveLength(11)
    const dev = konnect!.entities('dev') as { services: { name: string }[] }
    expect(dev.services.map((s) => s.name)).not.toContain('payments')
    expect(dev.services.map((s) => s.name)).toContain('billing')
  })

  it('reports Konnect’s 403 for a token that may not write, and changes nothing', async () => {
    await start()
    const file = await devTarget()
    const sync = await deck(konnectArgs('gateway', 'sync', file), withToken(CI))
    expect(sync.code).toBe(1)
    expect(sync.stderr).toContain(
      'while processing event: Create service payments failed: HTTP status 403 (message: "Forbidden")',
    )
    expect(konnect!.entities('dev')).toEqual(DEV)
  })

  it('takes the control plane from the file’s _konnect block, and refuses a different one on the command line', async () => {
    await start()
    const file = await devTarget()
    // _konnect selects Konnect mode even with a --kong-addr.
    const diff = await deck(
      [...konnectArgs('gateway', 'diff', file), '--kong-addr', 'http://127.0.0.1:9'],
      withToken(),
    )
    expect(diff.code).toBe(0)
    expect(diff.stdout).toContain('creating service payments')
    const clash = await deck(
      konnectArgs('gateway', 'diff', file, '--konnect-control-plane-name', 'prod'),
      withToken(),
    )
    expect(clash.stderr).toBe(
      "Error: warning: control plane 'prod' specified via --konnect-[control-plane|runtime-group]-name flag " +
        "is different from 'dev' found in state file(s)\n",
    )
    expect(writes(konnect!)).toEqual([])
  })
})
