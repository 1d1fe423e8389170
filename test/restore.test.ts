import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import { execFile } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import { chmod, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

import { parse, stringify } from 'yaml'

import { KONG_SCHEMA_FILE, loadKongDatabase } from '../script/kong-db.mjs'
import { type PostgresServer, startPostgres } from '../script/servers.mjs'
import { type ActionRun, maskedValues, ROOT, runBundledAction, visibleLog } from './support/action.js'
import { copyFixture, DOUBLE_DIR, doubleEnv, readCalls, workdir } from './support/deck-double.js'
import { type KongStandIn, type ProxyRoute, startKongStandIn } from './support/kong-admin.js'
import { httpsServer, selfSignedCertificate } from './support/self-signed.js'

const PASSWORD = 'Kong:rest0re/p@ss'
const SOURCE = 'http://127.0.0.1:8001'

let pg: PostgresServer
let w: Awaited<ReturnType<typeof workdir>>
const standIns: KongStandIn[] = []
const servers: Server[] = []

beforeAll(async () => {
  w = await workdir()
  pg = await startPostgres({ user: 'kong', password: PASSWORD })
  await loadKongDatabase(pg, 'kong', { runtimeRows: 200 })
}, 120_000)

afterEach(async () => {
  await Promise.all(standIns.splice(0).map((s) => s.stop()))
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
})

afterAll(async () => {
  await pg?.stop()
  await w?.cleanup()
})

async function standIn(options: Parameters<typeof startKongStandIn>[0]): Promise<KongStandIn> {
  const kong = await startKongStandIn(options)
  standIns.push(kong)
  return kong
}

let counter = 0
/** A fresh directory under the work directory. */
async function dir(name: string): Promise<string> {
  const path = join(w.dir, `${name}-${++counter}`)
  await execFileP('mkdir', ['-p', path])
  return path
}
const execFileP = promisify(execFile)

/** The deck files of the community fixture, as dump writes them (plaintext, so no DECK_ variables are needed). */
async function dumpSource(redact = false): Promise<{ state: string; run: ActionRun }> {
  const source = await copyFixture('community.yaml', await dir('source'))
  const state = join(await dir('state'), 'kong')
  const run = await runBundledAction(
    'dump',
    { 'kong-addr': SOURCE, 'output-dir': state, 'redact-secrets': String(redact) },
    { env: doubleEnv({ gateway: source, log: w.log }) },
  )
  expect(run.exitCode).toBe(0)
  return { state, run }
}

/** An empty gateway for the deck double at the stand-in's address: what a rebuilt Kong holds. */
async function emptyFixture(
  kongAddr: string,
  edition: 'community' | 'enterprise' = 'community',
): Promise<string> {
  const path = join(await dir('target'), 'gateway.yaml')
  await writeFile(
    path,
    stringify({
      kongAddr,
      kongVersion: edition === 'community' ? '3.9.3' : '3.10.0.0',
      edition,
      workspaces: { default: {} },
    }),
  )
  return path
}

type Entity = Record<string, unknown>
const list = (value: unknown) => (Array.isArray(value) ? (value as Entity[]) : [])
const hasKeyAuth = (e: Entity) => list(e.plugins).some((p) => p.name === 'key-auth')
/** The key-auth key of the community fixture's consumer web-frontend. */
const API_KEY = 'web-frontend-K3y-91f0'

/**
 * What the proxy serves for a deck double fixture: its routes, read on every request as Kong's router would
 * see them. key-auth on the service, the route or globally (a plugin on no entity) guards a route.
 */
function fixtureRoutes(path: string): () => Promise<ProxyRoute[]> {
  return async () => {
    const fixture = parse(await readFile(path, 'utf8')) as { workspaces: Record<string, Entity> }
    const routes: ProxyRoute[] = []
    for (const ws of Object.values(fixture.workspaces)) {
      const global = list(ws.plugins).some(
        (p) => p.name === 'key-auth' && !p.service && !p.route && !p.consumer,
      )
      const apiKeys = list(ws.consumers).flatMap((c) => list(c.keyauth_credentials).map((k) => String(k.key)))
      for (const service of list(ws.services)) {
        for (const route of list(service.routes)) {
          routes.push({
            paths: (route.paths as string[]) ?? [],
            methods: route.methods as string[] | undefined,
            hosts: route.hosts as string[] | undefined,
            keyAuth: global || hasKeyAuth(service) || hasKeyAuth(route),
            apiKeys,
          })
        }
      }
    }
    return routes
  }
}

/** What the proxy serves for a Kong database: its routes table (Kong caches this until it restarts). */
function databaseRoutes(database: string): () => Promise<ProxyRoute[]> {
  return async () => {
    const out = await pg
      .psql(
        `SELECT coalesce(array_to_string(paths, ','), '') || ' ' || coalesce(array_to_string(hosts, ','), '-') FROM routes`,
        database,
      )
      .catch(() => '')
    return out
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [paths = '', hosts = '-'] = line.split(' ')
        return {
          paths: paths.split(',').filter(Boolean),
          hosts: hosts === '-' ? undefined : hosts.split(','),
        }
      })
  }
}

/** A database as `kong migrations bootstrap` leaves it: Kong's tables, no configuration. */
async function bootstrapped(name: string): Promise<string> {
  await pg.psql(`CREATE DATABASE "${name}"`)
  await pg.psqlFile(KONG_SCHEMA_FILE, name)
  return name
}

/** A db-dump backup of the seeded Kong database. */
async function databaseBackup(): Promise<string> {
  const out = await dir('backup')
  const run = await runBundledAction('db-dump', {
    'database-url': pg.url('kong'),
    'output-dir': out,
    'upload-artifact': 'false',
  })
  expect(run.exitCode).toBe(0)
  return run.outputs.path!
}

/** A tiny HTTP endpoint a restart-command can call to restart the stand-in, as `aws ecs update-service` would restart Kong. */
async function restartHook(kong: KongStandIn): Promise<string> {
  const server = createServer((_req, res) => {
    kong.restart().then(
      () => res.end('restarted\n'),
      () => {
        res.statusCode = 500
        res.end()
      },
    )
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return `node -e "fetch('http://127.0.0.1:${port}/').then(r => { if (!r.ok) process.exit(1); console.log('nodes restarted') })"`
}

async function restore(inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> {
  // The report outlives the run (the runner's temporary directory does not).
  const reportFile = join(await dir('report'), 'restore-report.json')
  return runBundledAction(
    'restore',
    { 'wait-timeout': '20', 'report-file': reportFile, ...inputs },
    { env: { ...doubleEnv({ log: w.log }), ...env } },
  )
}

/** The parts of the JSON report the tests read. */
interface RestoreReport {
  format: string
  strategyUsed?: string
  verified: boolean
  phases: { name: string; status: string }[]
  checks: { name: string; ok: boolean; detail: string }[]
  notRestored: string[]
}

async function report(run: ActionRun): Promise<RestoreReport> {
  return JSON.parse(await readFile(run.outputs.report!, 'utf8')) as RestoreReport
}

const phaseNames = (doc: RestoreReport) => doc.phases.map((p) => p.name)

describe('restore, declarative', () => {
  test("smoke requests trust the gateway's certificate through ca-cert, as the Admin API does", async () => {
    const certificate = await selfSignedCertificate()
    const proxy = await httpsServer(certificate)
    try {
      const { state } = await dumpSource()
      const attempt = async (inputs: Record<string, string>) => {
        let gateway = ''
        const kong = await standIn({ database: 'postgres', routes: () => fixtureRoutes(gateway)() })
        gateway = await emptyFixture(kong.adminUrl)
        const base = {
          strategy: 'declarative',
          'kong-addr': kong.adminUrl,
          state,
          'smoke-requests': `GET ${proxy.url}/health 200`,
          'smoke-timeout': '1',
        }
        return restore({ ...base, ...inputs }, { DECK_DOUBLE_GATEWAY: gateway })
      }
      const untrusted = await attempt({})
      expect(untrusted.outputs.verified).toBe('false')
      expect(untrusted.exitCode).toBe(1)
      const trusted = await attempt({ 'ca-cert': certificate.cert })
      expect(trusted.stderr).toBe('')
      expect(trusted.exitCode).toBe(0)
      expect(trusted.outputs.verified).toBe('true')
    } finally {
      await proxy.stop()
    }
  })

  test('rebuilds an empty gateway from the dumped state, proves it with deck diff and smoke requests, and reports the RTO', async () => {
    const { state } = await dumpSource()
    let gateway = ''
    const kong = await standIn({ database: 'postgres', routes: () => fixtureRoutes(gateway)() })
    gateway = await emptyFixture(kong.adminUrl)
    const run = await restore(
      {
        strategy: 'declarative',
        'kong-addr': kong.adminUrl,
        state,
        'smoke-requests': [
          `GET ${kong.proxyUrl}/cart?apikey=${API_KEY} 200`,
          `GET ${kong.proxyUrl}/cart 401`,
          `GET ${kong.proxyUrl}/nowhere 404`,
        ].join('\n'),
      },
      { DECK_DOUBLE_GATEWAY: gateway },
    )
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(run.outputs['strategy-used']).toBe('declarative')
    expect(run.outputs.verified).toBe('true')
    expect(Number(run.outputs['entities-restored'])).toBeGreaterThan(5)
    expect(Number(run.outputs['rto-seconds'])).toBeGreaterThanOrEqual(0)
    const doc = await report(run)
    expect(doc.format).toBe('deckhand-restore/1')
    expect(phaseNames(doc)).toEqual([
      'wait for the gateway',
      'plan',
      'sync the declarative state',
      'verify with deck diff',
      'smoke requests',
    ])
    expect(doc.checks.every((c) => c.ok)).toBe(true)
    expect(run.summary).toContain('Recovery timeline (RTO')
    expect(run.summary).toContain('verified it')
    // The API key in a smoke URL is masked, and reported as ***.
    expect(maskedValues(run.stdout)).toContain(API_KEY)
    expect([visibleLog(run.stdout), run.summary, JSON.stringify(doc)].join('\n')).not.toContain(API_KEY)
    expect(run.summary).toContain('/cart?apikey=***')

    // Independently of restore's own check: the gateway now matches the state.
    const diff = await runBundledAction(
      'diff',
      { 'kong-addr': kong.adminUrl, state },
      { env: doubleEnv({ gateway, log: w.log }) },
    )
    expect(diff.outputs['has-changes']).toBe('false')
  })

  test('refuses a gateway that already holds other configuration, and changes nothing', async () => {
    const { state } = await dumpSource()
    const kong = await standIn({ database: 'postgres' })
    const gateway = await copyFixture('community.yaml', await dir('live'), (f) => {
      f.kongAddr = kong.adminUrl
      const ws = (f.workspaces as Record<string, Entity>).default!
      ;(ws.services as Entity[])[0]!.port = 4000
    })
    const before = await readFile(gateway, 'utf8')
    const run = await restore(
      { strategy: 'declarative', 'kong-addr': kong.adminUrl, state },
      { DECK_DOUBLE_GATEWAY: gateway },
    )
    expect(run.exitCode).not.toBe(0)
    expect(run.outputs.verified).toBe('false')
    expect(run.stdout).toMatch(
      /already holds configuration the restore would change or delete .*update service shop/,
    )
    expect(run.stdout).toContain('set overwrite to true')
    expect(await readFile(gateway, 'utf8')).toBe(before)

    const forced = await restore(
      { strategy: 'declarative', 'kong-addr': kong.adminUrl, state, overwrite: 'true' },
      { DECK_DOUBLE_GATEWAY: gateway },
    )
    expect(forced.exitCode).toBe(0)
    expect(forced.outputs.verified).toBe('true')
  })

  test('a verification that finds drift fails the step with verified=false and names the difference', async () => {
    const { state } = await dumpSource()
    const kong = await standIn({ database: 'postgres' })
    const gateway = await emptyFixture(kong.adminUrl)
    // Someone changes the gateway between the sync and the verification: a deck that, after a sync, adds a service.
    const deck = join(await dir('deck'), 'deck')
    await writeFile(
      deck,
      `#!/bin/sh\n"${join(DOUBLE_DIR, 'deck')}" "$@"\nrc=$?\ncase "$*" in *"gateway sync"*) node -e "
const fs = require('fs'); const f = process.env.DECK_DOUBLE_GATEWAY; const t = fs.readFileSync(f, 'utf8');
fs.writeFileSync(f, t.replace('    services:\\n', '    services:\\n    - name: intruder\\n      host: intruder.internal\\n'))" ;; esac\nexit $rc\n`,
    )
    await chmod(deck, 0o755)
    const run = await restore(
      { strategy: 'declarative', 'kong-addr': kong.adminUrl, state, 'deck-path': deck },
      { DECK_DOUBLE_GATEWAY: gateway },
    )
    expect(run.exitCode).not.toBe(0)
    expect(run.outputs.verified).toBe('false')
    expect(run.outputs['strategy-used']).toBe('declarative')
    expect(run.summary).toMatch(/deck diff against the state.*FAILED.*delete service intruder/)
    const doc = await report(run)
    expect(doc.checks).toEqual([expect.objectContaining({ name: 'deck diff against the state', ok: false })])
  })

  test('a gateway that never comes up fails after wait-timeout with progress lines, before deck or anything else ran', async () => {
    const kong = await standIn({ database: 'postgres', neverUp: true })
    const log = join(await dir('never'), 'calls.jsonl')
    const run = await runBundledAction(
      'restore',
      {
        strategy: 'declarative',
        'kong-addr': kong.adminUrl,
        state: 'kong',
        'wait-timeout': '2',
        'report-file': join(await dir('report'), 'r.json'),
      },
      { env: doubleEnv({ log }) },
    )
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout).toMatch(/Waiting for http:\/\/127\.0\.0\.1:\d+ \(attempt 1, 0 s of 2 s\)/)
    expect(run.stdout).toMatch(/did not come up within 2 s \(wait-timeout\)/)
    expect(run.outputs.verified).toBe('false')
    expect(run.outputs['strategy-used']).toBe('')
    expect(await readCalls(log)).toEqual([])
    const doc = await report(run)
    expect(doc.phases).toEqual([expect.objectContaining({ name: 'wait for the gateway', status: 'failed' })])
  })

  test('waits for a booting gateway, then restores', async () => {
    const { state } = await dumpSource()
    const kong = await standIn({ database: 'postgres', bootMs: 1500 })
    const gateway = await emptyFixture(kong.adminUrl)
    const run = await restore(
      { strategy: 'declarative', 'kong-addr': kong.adminUrl, state },
      { DECK_DOUBLE_GATEWAY: gateway },
    )
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toMatch(/Waiting for .*attempt 1/)
    expect(run.stdout).toMatch(/is up \(Kong 3\.9\.3\) after \d+ attempts/)
  })
})

describe('restore, database', () => {
  test('restores the backup into a bootstrapped database, restarts the nodes, checks the manifest and serves traffic', async () => {
    const backup = await databaseBackup()
    const target = await bootstrapped('fresh_db_restore')
    const kong = await standIn({ database: 'postgres', routes: databaseRoutes(target), cacheRoutes: true })
    const before = kong.nodeId
    const run = await restore({
      strategy: 'database',
      'kong-addr': kong.adminUrl,
      'db-dump': backup,
      'database-url': pg.url(target),
      'restart-command': await restartHook(kong),
      'smoke-requests': `GET ${kong.proxyUrl}/inventory 200`,
    })
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(run.outputs['strategy-used']).toBe('database')
    expect(run.outputs.verified).toBe('true')
    expect(kong.nodeId).not.toBe(before)
    const manifest = JSON.parse(await readFile(join(backup, 'manifest.json'), 'utf8')) as {
      tables: { table: string; rows: number }[]
    }
    const services = manifest.tables.find((t) => t.table === 'services')!.rows
    expect(Number(run.outputs['entities-restored'])).toBeGreaterThan(services)
    expect(await pg.psql('SELECT count(*) FROM services', target)).toBe(String(services))
    expect(run.stdout).toContain('nodes restarted')
    const doc = await report(run)
    expect(phaseNames(doc)).toEqual([
      'wait for the gateway',
      'restore the database',
      'restart the nodes',
      'wait for the restarted gateway',
      'smoke requests',
    ])
    expect(doc.checks[0]).toMatchObject({ name: "manifest's row counts", ok: true })
    expect(doc.notRestored.join(' ')).toMatch(/runtime table/)
    // The password never shows.
    const seen = [visibleLog(run.stdout), run.stderr, run.summary, JSON.stringify(doc)].join('\n')
    expect(seen).not.toContain(PASSWORD)
    expect(maskedValues(run.stdout)).toContain(PASSWORD)
  })

  test('without a restart the nodes keep serving what they cached: warned, and the smoke request fails the verification', async () => {
    const backup = await databaseBackup()
    const target = await bootstrapped('fresh_db_norestart')
    const kong = await standIn({ database: 'postgres', routes: databaseRoutes(target), cacheRoutes: true })
    const run = await restore({
      strategy: 'database',
      'kong-addr': kong.adminUrl,
      'db-dump': backup,
      'database-url': pg.url(target),
      'smoke-requests': `GET ${kong.proxyUrl}/inventory 200`,
      'smoke-timeout': '3',
    })
    expect(run.exitCode).not.toBe(0)
    expect(run.outputs.verified).toBe('false')
    expect(run.stdout).toMatch(/were not restarted after the database restore.*Set restart-command/)
    expect(run.summary).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/inventory.*FAILED.*404/)
  })

  test('refuses a database that holds a configured Kong, and leaves it untouched', async () => {
    const backup = await databaseBackup()
    const kong = await standIn({ database: 'postgres' })
    const content = `SELECT count(*) || ':' || md5(string_agg(s::text, '|' ORDER BY s.id)) FROM services s`
    const before = await pg.psql(content, 'kong')
    const run = await restore({
      strategy: 'database',
      'kong-addr': kong.adminUrl,
      'db-dump': backup,
      'database-url': pg.url('kong'),
    })
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout).toMatch(/already holds a configured Kong \(.*services: \d+.*set overwrite to true/)
    expect(await pg.psql(content, 'kong')).toBe(before)
    const doc = await report(run)
    expect(doc.phases.map((p) => `${p.name}:${p.status}`)).toEqual([
      'wait for the gateway:ok',
      'restore the database:failed',
    ])
  })
})

describe('restore, auto', () => {
  test('falls back from a corrupt database backup to the declarative state, and says why', async () => {
    const backup = await databaseBackup()
    // One flipped byte in the dump: the manifest's checksums no longer match.
    const data = (await readdir(join(backup, 'dump'))).find((f) => f.endsWith('.dat.gz'))!
    const file = join(backup, 'dump', data)
    const bytes = await readFile(file)
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 10) ^ 0xff, bytes.length - 10)
    await writeFile(file, bytes)
    const target = await bootstrapped('fresh_db_auto')
    const { state } = await dumpSource()
    const kong = await standIn({ database: 'postgres' })
    const gateway = await emptyFixture(kong.adminUrl)
    const run = await restore(
      { 'kong-addr': kong.adminUrl, 'db-dump': backup, 'database-url': pg.url(target), state },
      { DECK_DOUBLE_GATEWAY: gateway },
    )
    expect(run.exitCode).toBe(0)
    expect(run.outputs['strategy-used']).toBe('declarative')
    expect(run.outputs.verified).toBe('true')
    expect(run.summary).toMatch(
      /database restore failed, so the declarative state was restored: The backup in .* does not match its manifest/,
    )
    const doc = await report(run)
    expect(doc.phases.map((p) => `${p.name}:${p.status}`)).toEqual([
      'wait for the gateway:ok',
      'restore the database:failed',
      'plan:ok',
      'sync the declarative state:ok',
      'verify with deck diff:ok',
    ])
    // The bootstrapped database was never touched.
    expect(await pg.psql('SELECT count(*) FROM services', target)).toBe('0')
  })

  test('a database restored but failing afterwards (the restart) is not a reason to fall back', async () => {
    const backup = await databaseBackup()
    const target = await bootstrapped('fresh_db_auto_restart')
    const { state } = await dumpSource()
    const kong = await standIn({ database: 'postgres' })
    const gateway = await emptyFixture(kong.adminUrl)
    const run = await restore(
      {
        'kong-addr': kong.adminUrl,
        'db-dump': backup,
        'database-url': pg.url(target),
        state,
        'restart-command': 'echo cannot reach the cluster >&2; exit 3',
      },
      { DECK_DOUBLE_GATEWAY: gateway },
    )
    expect(run.exitCode).not.toBe(0)
    expect(run.outputs['strategy-used']).toBe('database')
    expect(run.stdout).toMatch(/restart-command exited with 3: the database is restored/)
    expect(run.stdout).toContain('cannot reach the cluster')
    const doc = await report(run)
    expect(phaseNames(doc)).toEqual(['wait for the gateway', 'restore the database', 'restart the nodes'])
    expect(await readFile(gateway, 'utf8')).not.toContain('shop')
  })

  test('with no db-dump, restores the declarative state', async () => {
    const { state } = await dumpSource()
    const kong = await standIn({ database: 'postgres' })
    const gateway = await emptyFixture(kong.adminUrl)
    const run = await restore({ 'kong-addr': kong.adminUrl, state }, { DECK_DOUBLE_GATEWAY: gateway })
    expect(run.exitCode).toBe(0)
    expect(run.outputs['strategy-used']).toBe('declarative')
  })
})

describe('restore, DB-less', () => {
  test('loads every node through /config, waits out 429 Retry-After, and verifies each node', async () => {
    const { state } = await dumpSource(true)
    const required = (await readFile(join(state, 'required-env.txt'), 'utf8')).split('\n').filter(Boolean)
    const env = Object.fromEntries(required.map((name, i) => [name, `restored-secret-${i}-value`]))
    // The consumer's key, as the redacted dump refers to it.
    const doc0 = parse(await readFile(join(state, 'default.yaml'), 'utf8')) as Entity
    const keyField = list(doc0.consumers).flatMap((c) => list(c.keyauth_credentials))[0]!.key as string
    const keyRef = /env "(DECK_[A-Z0-9_]+)"/.exec(keyField)![1]!
    const key = env[keyRef]!
    const a = await standIn({ database: 'off', busyConfigLoads: 2, retryAfterSeconds: 1 })
    const b = await standIn({ database: 'off' })
    const run = await restore(
      {
        'kong-addr': `${a.adminUrl}\n${b.adminUrl}`,
        state,
        'smoke-requests': `GET ${a.proxyUrl}/cart?apikey=${key} 200\nGET ${b.proxyUrl}/cart 401`,
      },
      env,
    )
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(run.outputs['strategy-used']).toBe('dbless')
    expect(run.outputs.verified).toBe('true')
    expect(a.configLoads).toBe(1)
    expect(b.configLoads).toBe(1)
    expect(run.stdout).toMatch(/is busy .*trying again in 1 s/)
    const loaded = JSON.stringify(a.currentConfig())
    expect(loaded).not.toContain('_workspace')
    expect(loaded).not.toContain('${{')
    // The values the dump redacted are back in the loaded configuration, and masked in the log.
    expect(loaded).toContain(key)
    expect(maskedValues(run.stdout)).toContain(key)
    expect(visibleLog(run.stdout)).not.toContain(key)
    expect(JSON.stringify(a.currentConfig())).toBe(JSON.stringify(b.currentConfig()))
    const doc = await report(run)
    expect(doc.checks.filter((c) => c.name.startsWith('configuration of'))).toHaveLength(2)

    // Again: both nodes already hold it (check_hash), nothing is reloaded.
    const again = await restore(
      { 'kong-addr': `${a.adminUrl}\n${b.adminUrl}`, state, strategy: 'dbless' },
      env,
    )
    expect(again.exitCode).toBe(0)
    expect(a.configLoads).toBe(1)
    expect(again.summary).toContain('2 already held it')
  })

  test('a node that refuses the configuration as too large (413) fails with what to raise', async () => {
    const { state } = await dumpSource()
    const kong = await standIn({ database: 'off', maxConfigBytes: 200 })
    const run = await restore({ strategy: 'dbless', 'kong-addr': kong.adminUrl, state })
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout).toMatch(
      /refused the configuration as too large for its LMDB map \(HTTP 413.*raise lmdb_map_size/,
    )
    expect(kong.configLoads).toBe(0)
  })

  test("a body over the Admin API's nginx limit (413 from nginx, not Kong) names that limit, not lmdb_map_size", async () => {
    const { state } = await dumpSource()
    const kong = await standIn({ database: 'off', maxBodyBytes: 200 })
    const run = await restore({ strategy: 'dbless', 'kong-addr': kong.adminUrl, state })
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout).toMatch(
      /refused a request body of \d+ bytes \(HTTP 413 from nginx.*raise nginx_admin_client_max_body_size/,
    )
    expect(run.stdout).not.toContain('lmdb_map_size')
    expect(kong.configLoads).toBe(0)
  })

  test('strategy declarative against DB-less nodes is refused with the strategy to use', async () => {
    const kong = await standIn({ database: 'off' })
    const run = await restore({ strategy: 'declarative', 'kong-addr': kong.adminUrl, state: 'kong' })
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout).toMatch(/runs DB-less.*Use strategy dbless/)
  })
})

describe('restore, keyring', () => {
  test('imports the keyring on every node before the declarative sync, and masks the export', async () => {
    const { state } = await dumpSource()
    const kong = await standIn({ database: 'postgres', edition: 'enterprise', keyring: true })
    const gateway = await emptyFixture(kong.adminUrl, 'enterprise')
    const blob = Buffer.from('keyring-export-'.repeat(8)).toString('base64')
    const file = join(await dir('keyring'), 'keyring.json')
    await writeFile(file, JSON.stringify({ data: blob }))
    const run = await restore(
      { strategy: 'declarative', 'kong-addr': kong.adminUrl, state, 'keyring-export': file },
      { DECK_DOUBLE_GATEWAY: gateway },
    )
    expect(run.exitCode).toBe(0)
    expect(kong.keyringImports).toEqual([blob])
    const doc = await report(run)
    expect(phaseNames(doc).indexOf('import the keyring')).toBeLessThan(
      phaseNames(doc).indexOf('sync the declarative state'),
    )
    expect(doc.notRestored.join(' ')).toMatch(/Kong Enterprise data decK does not manage/)
    expect(maskedValues(run.stdout)).toContain(blob)
  })

  test('a keyring export for a gateway without a keyring is a clear error', async () => {
    const kong = await standIn({ database: 'postgres' })
    const gateway = await emptyFixture(kong.adminUrl)
    const { state } = await dumpSource()
    const run = await restore(
      {
        strategy: 'declarative',
        'kong-addr': kong.adminUrl,
        state,
        'keyring-export': Buffer.from('x'.repeat(80)).toString('base64'),
      },
      { DECK_DOUBLE_GATEWAY: gateway },
    )
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout).toMatch(/has no keyring .*keyring_strategy cluster/)
  })
})

describe('deckhand restore (CLI)', () => {
  test('runs the declarative strategy and writes the report where asked', async () => {
    const { state } = await dumpSource()
    const kong = await standIn({ database: 'postgres' })
    const gateway = await emptyFixture(kong.adminUrl)
    const out = join(await dir('cli'), 'report.json')
    const result = await execFileP(
      process.execPath,
      [
        join(ROOT, 'dist/cli/index.js'),
        'restore',
        '--kong-addr',
        kong.adminUrl,
        '--state',
        state,
        '--report-file',
        out,
      ],
      { env: { ...process.env, ...doubleEnv({ gateway, log: w.log }) } },
    ).catch((err: { code: number; stdout: string; stderr: string }) => err)
    expect(result.stderr).not.toMatch(/error/i)
    const doc = JSON.parse(await readFile(out, 'utf8')) as RestoreReport
    expect(doc.strategyUsed).toBe('declarative')
    expect(doc.verified).toBe(true)
  })
})

// Keeps the work directory small between tests: backups are large.
afterEach(async () => {
  for (const entry of await readdir(w.dir))
    if (entry.startsWith('backup-')) await rm(join(w.dir, entry), { recursive: true, force: true })
})
