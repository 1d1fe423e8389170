// The upgrade engine (actions/engine/upgrade/upgrade.ts) against the deck double, Kong stand-ins for clusters X
// and Y, and a real PostgreSQL loaded with Kong's schema.
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import { createServer, type Server } from 'node:http'
import { createHash } from 'node:crypto'
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { parse, stringify } from 'yaml'

import type { Connection } from '../actions/engine/deck/connection.js'
import { DeckRunner } from '../actions/engine/deck/runner.js'
import { deckFeatures } from '../actions/engine/deck/version.js'
import { KongAdmin } from '../actions/engine/kong/admin.js'
import type { Logger } from '../actions/engine/log.js'
import { parsePgTarget } from '../actions/engine/postgres/connection.js'
import { exportKeyring } from '../actions/engine/upgrade/keyring.js'
import {
  type UpgradeCluster,
  type UpgradeOptions,
  type UpgradeOutcome,
  upgradeGateway,
} from '../actions/engine/upgrade/upgrade.js'
import { loadKongDatabase } from '../script/kong-db.mjs'
import { type PostgresServer, startPostgres } from '../script/servers.mjs'
import { copyFixture, DOUBLE_DIR, type GatewayFixture, workdir } from './support/deck-double.js'
import { httpsServer, selfSignedCertificate } from './support/self-signed.js'
import { tree } from './support/tree.js'
import { type KongStandIn, type ProxyRoute, startKongStandIn } from './support/kong-admin.js'

const PASSWORD = 'Kong:upgr4de/p@ss'
const ADMIN_TOKEN = 'x-Adm1n-T0ken-upgrade'

let pg: PostgresServer
let w: Awaited<ReturnType<typeof workdir>>
const standIns: KongStandIn[] = []
const servers: Server[] = []
const logged: string[] = []
/** What the engine handed its secret callback, to be masked. */
const masked: string[] = []
const logger: Logger = {
  info: (m) => logged.push(m),
  warn: (m) => logged.push(m),
  debug: (m) => logged.push(m),
}

beforeAll(async () => {
  w = await workdir()
  pg = await startPostgres({ user: 'kong', password: PASSWORD })
  await loadKongDatabase(pg, 'kong_x')
}, 120_000)

afterEach(async () => {
  await Promise.all(standIns.splice(0).map((s) => s.stop()))
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
  logged.length = 0
  masked.length = 0
})

afterAll(async () => {
  await pg?.stop()
  await w?.cleanup()
})

let counter = 0
async function dir(name: string): Promise<string> {
  const path = join(w.dir, `${name}-${++counter}`)
  await mkdir(path, { recursive: true })
  return path
}

async function standIn(options: Parameters<typeof startKongStandIn>[0]): Promise<KongStandIn> {
  const kong = await startKongStandIn(options)
  standIns.push(kong)
  return kong
}

type Entity = Record<string, unknown>
const list = (value: unknown) => (Array.isArray(value) ? (value as Entity[]) : [])

/** What a proxy serves for a deck double fixture: its routes, read on every request. */
function fixtureRoutes(path: string, onRequest?: () => Promise<void>): () => Promise<ProxyRoute[]> {
  return async () => {
    await onRequest?.()
    const fixture = parse(await readFile(path, 'utf8')) as { workspaces: Record<string, Entity> }
    return Object.values(fixture.workspaces).flatMap((ws) =>
      list(ws.services).flatMap((s) => list(s.routes).map((r) => ({ paths: (r.paths as string[]) ?? [] }))),
    )
  }
}

/**
 * deck for one cluster: the double, answering from that cluster's fixture (the double serves one fixture per
 * run, so each cluster gets a wrapper that names its own).
 */
async function deckFor(fixture: string, connection: Connection, version = '1.65.1'): Promise<DeckRunner> {
  const wrapper = join(await dir('deck'), 'deck')
  await writeFile(
    wrapper,
    `#!/bin/sh\nDECK_DOUBLE_VERSION='${version}' DECK_DOUBLE_GATEWAY='${fixture}' DECK_DOUBLE_LOG='${w.log}' exec '${join(DOUBLE_DIR, 'deck')}' "$@"\n`,
  )
  await chmod(wrapper, 0o755)
  return new DeckRunner({ path: wrapper, features: deckFeatures(version) }, connection, logger)
}

/** A cluster: a Kong stand-in and the deck double's fixture for it, at the stand-in's address. */
async function cluster(
  name: string,
  options: {
    version: string
    database?: 'postgres' | 'off'
    edit?: (fixture: GatewayFixture) => void
    routes?: (fixture: string) => () => Promise<ProxyRoute[]>
    keyring?: boolean
    deckVersion?: string
  },
): Promise<{ kong: KongStandIn; fixture: string; cluster: UpgradeCluster }> {
  let fixture = ''
  const kong = await standIn({
    database: options.database ?? 'postgres',
    edition: 'enterprise',
    version: options.version,
    adminToken: ADMIN_TOKEN,
    keyring: options.keyring,
    routes: () => (options.routes ?? fixtureRoutes)(fixture)(),
  })
  fixture = await copyFixture('community.yaml', await dir(name), (f) => {
    f.kongAddr = kong.adminUrl
    f.kongVersion = options.version
    f.edition = 'enterprise'
    f.adminToken = ADMIN_TOKEN
    options.edit?.(f)
  })
  const connection: Connection = { kongAddr: kong.adminUrl, adminToken: ADMIN_TOKEN }
  return {
    kong,
    fixture,
    cluster: {
      admins: [await KongAdmin.open(kong.adminUrl, connection)],
      deck: await deckFor(fixture, connection, options.deckVersion),
    },
  }
}

async function upgrade(
  options: Partial<UpgradeOptions> & Pick<UpgradeOptions, 'mode' | 'x'>,
): Promise<UpgradeOutcome> {
  return upgradeGateway({
    outputDir: await dir('out'),
    smoke: [],
    smokeWindowMs: 2000,
    waitTimeoutSeconds: 5,
    env: { PATH: process.env.PATH },
    secrets: [ADMIN_TOKEN, PASSWORD],
    secret: (value) => masked.push(value),
    logger,
    ...options,
  })
}

const phaseNames = (o: UpgradeOutcome) => o.phases.map((p) => p.name)
const failedPhases = (o: UpgradeOutcome) => o.phases.filter((p) => p.status === 'failed').map((p) => p.name)

/** Every plugin of a fixture's workspaces, wherever it is nested. */
function plugins(fixture: GatewayFixture): Entity[] {
  const found: Entity[] = []
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk)
    else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if (key === 'plugins') found.push(...list(child))
        walk(child)
      }
    }
  }
  walk(fixture.workspaces)
  return found
}

/** What deck file convert 3.10 → 3.14 changes in the community fixture: http-log's TLS verification written out. */
function convertedTo314(fixture: GatewayFixture): void {
  for (const plugin of plugins(fixture)) {
    if (plugin.name === 'http-log') (plugin.config as Entity).ssl_verify = false
  }
}

const shop = (fixture: GatewayFixture) =>
  list((fixture.workspaces as Record<string, Entity>).default!.services)[0]!

/** Secret values of the community fixture and of the test: never in an outcome or a log line. */
const SECRETS = [ADMIN_TOKEN, PASSWORD, 'web-frontend-K3y-91f0', 'b3NzOmxvZ3MtcGFzcw==']

function expectNoSecrets(outcome: UpgradeOutcome): void {
  const shown = [JSON.stringify(outcome), ...logged].join('\n')
  for (const secret of SECRETS) expect(shown).not.toContain(secret)
}

/**
 * A shell command that restarts a stand-in as another Kong release, through a tiny HTTP endpoint: what starting the
 * new image on the same address does.
 */
async function restartHook(kong: KongStandIn, version: string): Promise<string> {
  const server = createServer((_req, res) => {
    kong.restart(version).then(
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
  return `node -e "fetch('http://127.0.0.1:${port}/').then(r => process.exit(r.ok ? 0 : 1))"`
}

/** Every file below a folder, with its content. */
async function contents(folder: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {}
  for (const file of await tree(folder)) files[file] = await readFile(join(folder, file), 'utf8')
  return files
}

const databaseOf = (name: string) => ({ target: parsePgTarget(pg.url(name), {}), noOwner: true })

describe('dual-cluster', () => {
  test('a frozen X and a Y built from its backup: Y holds X converted, its tables match the backup, the switch is described', async () => {
    await loadKongDatabase(pg, 'kong_y')
    const x = await cluster('x', { version: '3.10.0.3' })
    const y = await cluster('y', { version: '3.14.0.0', edit: convertedTo314 })
    const outDir = await dir('out')
    await writeFile(join(outDir, 'notes.txt'), "the user's own file\n")
    const outcome = await upgrade({
      mode: 'dual-cluster',
      outputDir: outDir,
      x: { ...x.cluster, database: databaseOf('kong_x') },
      y: { ...y.cluster, database: databaseOf('kong_y') },
      smoke: [{ method: 'GET', url: `${y.kong.proxyUrl}/cart`, expected: '200' }],
    })
    expect(outcome.error).toBeUndefined()
    expect(phaseNames(outcome)).toEqual([
      'wait for cluster X',
      'wait for cluster Y',
      'record the configuration',
      'back up the database',
      'convert',
      'verify Y',
      'smoke requests',
      'check the freeze',
    ])
    expect(outcome).toMatchObject({
      from: '3.10',
      to: '3.14',
      upgraded: true,
      verified: true,
      rolledBack: false,
    })
    expect(outcome.checks.map((c) => [c.name, c.ok])).toEqual([
      ["Y against X's converted configuration", true],
      ["Y's configuration tables against X's backup", true],
      [`GET ${y.kong.proxyUrl}/cart`, true],
      ["X's configuration unchanged during the freeze", true],
    ])
    // Y was compared with the conversion, not with X as it was: the hop changed http-log.
    const [conversion] = outcome.conversions
    expect(conversion?.hops.map((h) => [h.from, h.to, h.drift.entities.map((e) => e.name)])).toEqual([
      ['3.10', '3.14', ['plugin http-log']],
    ])
    expect(outcome.freeze).toEqual({ unchanged: true, changes: [] })
    expect(outcome.record?.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(outcome.phases[2]?.detail).toBe(`15 entities in 1 file(s), ${outcome.record!.digest.slice(0, 19)}`)
    expect(outcome.next.join(' ')).toMatch(/traffic from X's proxy to Y's/)
    expect(outcome.rollback.join(' ')).toMatch(/Keep X running/)

    // Everything is in deckhand's own folder; the user's file is untouched.
    expect((await readdir(outDir)).sort()).toEqual([
      'notes.txt',
      expect.stringMatching(/^upgrade-\d{8}T\d{6}Z$/),
    ])
    expect(await readFile(join(outDir, 'notes.txt'), 'utf8')).toBe("the user's own file\n")
    expect(outcome.folder?.startsWith(outDir)).toBe(true)
    expect((await readdir(outcome.folder!)).sort()).toEqual([
      'converted-3.14',
      'database',
      'x-before',
      'x-freeze',
      'y-after',
    ])
    expect(outcome.databaseBackup?.manifest.startsWith(outcome.folder!)).toBe(true)
    expectNoSecrets(outcome)
  })

  test('a write to X during the freeze fails the upgrade and names the entity', async () => {
    const x = await cluster('x', { version: '3.10.0.3' })
    let written = false
    // Someone changes X through its Admin API while Y is being checked: here, as Y's proxy answers the smoke request.
    const y = await cluster('y', {
      version: '3.14.0.0',
      edit: convertedTo314,
      routes: (fixture) =>
        fixtureRoutes(fixture, async () => {
          if (written) return
          written = true
          const text = await readFile(x.fixture, 'utf8')
          const doc = parse(text) as GatewayFixture
          shop(doc).retries = 9
          await writeFile(x.fixture, stringify(doc))
        }),
    })
    const outcome = await upgrade({
      mode: 'dual-cluster',
      x: x.cluster,
      y: y.cluster,
      smoke: [{ method: 'GET', url: `${y.kong.proxyUrl}/cart`, expected: '200' }],
    })
    expect(written).toBe(true)
    expect(outcome.upgraded).toBe(false)
    expect(outcome.verified).toBe(false)
    expect(outcome.error?.message).toMatch(
      /^Cluster X's configuration changed during the upgrade \(1 entity\): someone wrote to X's Admin API/,
    )
    expect(outcome.error?.details).toEqual(['changed service shop (workspace default): retries'])
    expect(outcome.freeze).toEqual({
      unchanged: false,
      changes: ['changed service shop (workspace default): retries'],
    })
    expect(failedPhases(outcome)).toEqual(['check the freeze'])
  })

  test('a Y that differs from X converted fails, naming the difference; the freeze is still checked', async () => {
    const x = await cluster('x', { version: '3.10.0.3' })
    const y = await cluster('y', {
      version: '3.14.0.0',
      edit: (f) => {
        convertedTo314(f)
        list(shop(f).routes)[0]!.paths = ['/basket']
      },
    })
    const outDir = await dir('out')
    const outcome = await upgrade({ mode: 'dual-cluster', outputDir: outDir, x: x.cluster, y: y.cluster })
    expect(outcome.error?.message).toBe(
      "Y does not hold X's configuration converted to Kong 3.14 (1 entity differs).",
    )
    expect(outcome.error?.details).toEqual([
      'changed service shop / route shop-cart (workspace default): paths',
    ])
    expect(failedPhases(outcome)).toEqual(['verify Y'])
    expect(phaseNames(outcome).at(-1)).toBe('check the freeze')
    expect(outcome.freeze?.unchanged).toBe(true)
    expect(outcome.upgraded).toBe(false)

    // The failed upgrade's record stays, and a second upgrade into the same output-dir writes beside it.
    const first = await contents(outcome.folder!)
    expect(Object.keys(first)).toEqual(
      expect.arrayContaining(['x-before/default.yaml', 'x-before/SHA256SUMS']),
    )
    const again = await upgrade({ mode: 'dual-cluster', outputDir: outDir, x: x.cluster, y: y.cluster })
    expect(again.folder).not.toBe(outcome.folder)
    expect(await contents(outcome.folder!)).toEqual(first)
  })

  test("a Y whose database does not match X's backup fails, naming the tables", async () => {
    await loadKongDatabase(pg, 'kong_y_other', { services: 6 })
    const x = await cluster('x', { version: '3.10.0.3' })
    const y = await cluster('y', { version: '3.14.0.0', edit: convertedTo314 })
    const outcome = await upgrade({
      mode: 'dual-cluster',
      x: { ...x.cluster, database: databaseOf('kong_x') },
      y: { ...y.cluster, database: databaseOf('kong_y_other') },
    })
    expect(outcome.error?.message).toMatch(
      /^Y's database holds other configuration rows than X's backup in \d+ table\(s\)/,
    )
    expect(outcome.error?.details).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^public\.services: X's backup holds 5 rows, Y 6 rows$/),
      ]),
    )
    expect(failedPhases(outcome)).toEqual(['verify Y'])
  })

  test("smoke requests trust Y's proxy certificate as the Admin API connection does", async () => {
    const certificate = await selfSignedCertificate()
    const proxy = await httpsServer(certificate)
    try {
      const x = await cluster('x', { version: '3.10.0.3' })
      const y = await cluster('y', { version: '3.14.0.0', edit: convertedTo314 })
      const attempt = (smokeTls?: UpgradeOptions['smokeTls']) =>
        upgrade({
          mode: 'dual-cluster',
          x: x.cluster,
          y: y.cluster,
          smoke: [{ method: 'GET', url: `${proxy.url}/health`, expected: '200' }],
          smokeWindowMs: 500,
          smokeTls,
        })
      const untrusted = await attempt()
      expect(untrusted.error?.message).toBe('1 smoke request(s) did not answer as expected.')
      const trusted = await attempt({ ca: certificate.cert })
      expect(trusted.error).toBeUndefined()
      expect(trusted).toMatchObject({ upgraded: true, verified: true })
    } finally {
      await proxy.stop()
    }
  })

  test('refuses a Y that is not on a later LTS line, before writing anything', async () => {
    const x = await cluster('x', { version: '3.10.0.3' })
    const y = await cluster('y', { version: '3.9.1' })
    const outDir = await dir('out')
    const outcome = await upgrade({ mode: 'dual-cluster', outputDir: outDir, x: x.cluster, y: y.cluster })
    expect(outcome.error?.message).toMatch(/^Cluster Y runs Kong 3\.9\.1, which is not on an LTS line/)
    const older = await upgrade({
      mode: 'dual-cluster',
      outputDir: outDir,
      x: x.cluster,
      y: { ...y.cluster, line: '3.4' },
    })
    expect(older.error?.message).toMatch(
      /^Cluster Y \(Kong 3\.4\) is not on a later LTS line than cluster X \(Kong 3\.10\)/,
    )
    expect(await readdir(outDir)).toEqual([])
  })

  test('refuses a deck release that converts the hop wrongly, before recording or converting anything', async () => {
    const x = await cluster('x', { version: '3.10.0.3', deckVersion: '1.57.2' })
    const y = await cluster('y', { version: '3.14.0.0', edit: convertedTo314 })
    const outDir = await dir('out')
    const outcome = await upgrade({ mode: 'dual-cluster', outputDir: outDir, x: x.cluster, y: y.cluster })
    expect(outcome.error?.message).toMatch(
      /^deck 1\.57\.2 cannot be trusted with 3\.10 → 3\.14: 3\.10 → 3\.14 needs deck 1\.57\.3 or newer because deck 1\.56\.0–1\.57\.2 write `ssl_verify: false` at the top of the config of 42 plugins/,
    )
    expect(phaseNames(outcome)).toEqual(['wait for cluster X', 'wait for cluster Y'])
    expect(await readdir(outDir)).toEqual([])
  })
})

describe('in-place', () => {
  test('a failed migration rolls the database back first, restarts the nodes, and X is proved as it was', async () => {
    await loadKongDatabase(pg, 'kong_inplace')
    const x = await cluster('x', { version: '3.10.0.3' })
    const out = await dir('migrate')
    // What a migration that fails halfway leaves: a database already changed.
    const migrate =
      `env > '${out}/env'; ` +
      `PGPASSWORD="$KONG_PG_PASSWORD" psql -h 127.0.0.1 -p ${pg.port} -U kong -d kong_inplace -qc "UPDATE services SET retries = 9" && ` +
      'echo "migration 026_3100_to_3140 failed" >&2; exit 3'
    const outcome = await upgrade({
      mode: 'in-place',
      x: { ...x.cluster, database: databaseOf('kong_inplace') },
      toLine: '3.14',
      migrateCommand: migrate,
      restartCommand: `echo restarted > '${out}/restarted'`,
      env: { PATH: process.env.PATH, KONG_PG_PASSWORD: PASSWORD, DECK_SHOP_KEY: 'deck-Secr3t-value' },
    })
    expect(phaseNames(outcome)).toEqual([
      'wait for cluster X',
      'record the configuration',
      'back up the database',
      'convert',
      'check the freeze',
      'migrate',
      'roll back the database',
      'restart the nodes',
      'verify the rollback',
    ])
    expect(failedPhases(outcome)).toEqual(['migrate'])
    expect(outcome).toMatchObject({
      upgraded: false,
      rolledBack: true,
      rollbackReason: 'migrate-command exited with 3.',
    })
    expect(outcome.error?.message).toBe(
      'The upgrade failed and X was rolled back to what it held before: migrate-command exited with 3.',
    )
    expect(outcome.checks.filter((c) => !c.ok)).toEqual([])
    expect(outcome.checks.map((c) => c.name)).toContain('X against its configuration before the upgrade')
    // The database is the backup again; the migrated one is kept aside.
    expect(await pg.psql('SELECT count(*) FROM services WHERE retries = 9', 'kong_inplace')).toBe('0')
    const previous = outcome.warnings.find((w) => w.startsWith('The migrated database is kept as'))
    const kept = /kept as (\S+):/.exec(previous ?? '')?.[1]
    expect(kept).toMatch(/^kong_inplace_deckhand_previous_/)
    expect(await pg.psql('SELECT count(*) FROM services WHERE retries <> 9', kept)).toBe('0')
    expect(await readFile(join(out, 'restarted'), 'utf8')).toBe('restarted\n')
    // The migrate command got the user's variables, not deckhand's secrets.
    const env = await readFile(join(out, 'env'), 'utf8')
    expect(env).toContain('KONG_PG_PASSWORD=')
    expect(env).not.toMatch(/^(DECK_|PGPASSWORD=)/m)
    expect(logged).toContain('  migration 026_3100_to_3140 failed')
    expectNoSecrets(outcome)
  })

  test('without a database backup, a failed upgrade is rolled back by syncing the recorded state, and proved', async () => {
    const x = await cluster('x', { version: '3.10.0.3' })
    // A migration that changed the configuration before it failed.
    const broken = await copyFixture('community.yaml', await dir('broken'), (f) => {
      f.kongAddr = x.kong.adminUrl
      f.kongVersion = '3.10.0.3'
      f.edition = 'enterprise'
      f.adminToken = ADMIN_TOKEN
      shop(f).retries = 9
      list(shop(f).routes).splice(1)
    })
    const outcome = await upgrade({
      mode: 'in-place',
      x: x.cluster,
      toLine: '3.14',
      migrateCommand: `cp '${broken}' '${x.fixture}' && exit 1`,
    })
    expect(phaseNames(outcome)).toEqual([
      'wait for cluster X',
      'record the configuration',
      'convert',
      'check the freeze',
      'migrate',
      'roll back the declarative state',
      'verify the rollback',
    ])
    expect(outcome).toMatchObject({ upgraded: false, rolledBack: true })
    expect(outcome.checks.filter((c) => !c.ok)).toEqual([])
    const restored = parse(await readFile(x.fixture, 'utf8')) as GatewayFixture
    expect(shop(restored).retries).toBe(5)
    expect(list(shop(restored).routes).map((r) => r.name)).toEqual(['shop-cart', 'shop-catalog'])
  })

  test('a migrate-command that outlives wait-timeout is stopped, named so, and X rolled back', async () => {
    const x = await cluster('x', { version: '3.10.0.3' })
    const outcome = await upgrade({
      mode: 'in-place',
      x: x.cluster,
      toLine: '3.14',
      migrateCommand: 'sleep 30',
    })
    expect(failedPhases(outcome)).toEqual(['migrate'])
    expect(outcome).toMatchObject({
      upgraded: false,
      rolledBack: true,
      rollbackReason: 'migrate-command was stopped (SIGTERM) when wait-timeout ran out.',
    })
  })

  test('a restart-command that fails after the database rollback fails the rollback, saying what the nodes may serve', async () => {
    await loadKongDatabase(pg, 'kong_restart')
    const x = await cluster('x', { version: '3.10.0.3' })
    const outcome = await upgrade({
      mode: 'in-place',
      x: { ...x.cluster, database: databaseOf('kong_restart') },
      toLine: '3.14',
      migrateCommand: 'exit 3',
      restartCommand: 'exit 4',
    })
    expect(failedPhases(outcome)).toEqual(['migrate', 'restart the nodes'])
    expect(outcome).toMatchObject({ upgraded: false, rolledBack: false })
    expect(outcome.error?.message).toBe(
      'The upgrade failed (migrate-command exited with 3.), and so did the rollback: restart-command exited with 4: ' +
        'the database is rolled back, but the nodes may still serve what they cached.',
    )
  })

  test('rehearses the rollback into a throwaway database, then migrates and verifies X against the conversion', async () => {
    await loadKongDatabase(pg, 'kong_rehearse_x')
    await pg.psql('CREATE DATABASE kong_rehearsal')
    const x = await cluster('x', { version: '3.10.0.3' })
    const migrated = await copyFixture('community.yaml', await dir('migrated'), (f) => {
      f.kongAddr = x.kong.adminUrl
      f.kongVersion = '3.14.0.0'
      f.edition = 'enterprise'
      f.adminToken = ADMIN_TOKEN
      convertedTo314(f)
    })
    const outcome = await upgrade({
      mode: 'in-place',
      x: { ...x.cluster, database: databaseOf('kong_rehearse_x') },
      toLine: '3.14',
      migrateCommand: `cp '${migrated}' '${x.fixture}' && ${await restartHook(x.kong, '3.14.0.0')}`,
      rehearseRollback: parsePgTarget(pg.url('kong_rehearsal'), {}),
      smoke: [{ method: 'GET', url: `${x.kong.proxyUrl}/cart`, expected: '200' }],
    })
    expect(outcome.error).toBeUndefined()
    expect(phaseNames(outcome)).toEqual([
      'wait for cluster X',
      'record the configuration',
      'back up the database',
      'rehearse the rollback',
      'convert',
      'check the freeze',
      'migrate',
      'wait for the migrated gateway',
      'verify',
      'smoke requests',
    ])
    expect(outcome).toMatchObject({ upgraded: true, rolledBack: false, verified: true })
    expect(outcome.y?.version).toBe('3.14.0.0')
    expect(outcome.checks.map((c) => c.name)).toContain('X runs Kong 3.14')
    expect(outcome.rehearsal).toMatchObject({ database: 'kong_rehearsal', verified: true })
    expect(outcome.rehearsal?.tables).toBeGreaterThan(20)
    expect(await pg.psql('SELECT count(*) FROM services', 'kong_rehearsal')).toBe('5')
  })
})

describe('rolling', () => {
  test('loads the converted configuration into two DB-less nodes, verifies their hashes, and keeps the old one', async () => {
    const x = await cluster('x', { version: '3.10.0.3', database: 'off' })
    const nodes = [
      await standIn({ database: 'off', version: '3.14.0.0' }),
      await standIn({ database: 'off', version: '3.14.0.0' }),
    ]
    const yFixture = await copyFixture('community.yaml', await dir('y'), (f) => {
      f.kongAddr = nodes[0]!.adminUrl
      f.kongVersion = '3.14.0.0'
      f.edition = 'enterprise'
      f.workspaces = { default: {} }
    })
    const connection: Connection = { kongAddr: nodes[0]!.adminUrl }
    const outcome = await upgrade({
      mode: 'rolling',
      x: x.cluster,
      y: {
        admins: await Promise.all(nodes.map((n) => KongAdmin.open(n.adminUrl, connection))),
        deck: await deckFor(yFixture, connection),
      },
    })
    expect(outcome.error).toBeUndefined()
    expect(phaseNames(outcome)).toEqual([
      'wait for cluster X',
      'wait for cluster Y',
      'record the configuration',
      'convert',
      'validate on Y',
      'load the nodes',
      'verify the nodes',
      'check the freeze',
    ])
    expect(outcome.nodes.map((n) => n.address)).toEqual(nodes.map((n) => n.adminUrl))
    const hashes = new Set(outcome.nodes.map((n) => n.hash))
    expect(hashes.size).toBe(1)
    expect([...hashes][0]).toMatch(/^[0-9a-f]{32}$/)
    expect(nodes.map((n) => n.configLoads)).toEqual([1, 1])
    // The nodes hold the conversion: http-log with its TLS verification written out.
    const loaded = nodes[0]!.currentConfig() as { plugins?: Entity[] }
    expect(list(loaded.plugins).find((p) => p.name === 'http-log')?.config).toMatchObject({
      ssl_verify: false,
    })
    const old = outcome.record!.files[0]!
    expect(outcome.rollback.join(' ')).toContain(old)
    expect(await readFile(old, 'utf8')).toContain('http-log')
    expect(outcome).toMatchObject({ upgraded: true, verified: true })
    expectNoSecrets(outcome)
  })
})

describe('backing up the keyring and the files', () => {
  /** Files a node runs with: kong.conf and a certificate directory holding a certificate and its key. */
  async function kongFiles(): Promise<{ conf: string; certs: string }> {
    const base = await dir('etc-kong')
    await mkdir(join(base, 'certs'))
    await writeFile(join(base, 'kong.conf'), 'database = postgres\nkeyring_enabled = on\n')
    await writeFile(
      join(base, 'certs', 'admin.crt'),
      '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    )
    await writeFile(
      join(base, 'certs', 'admin.key'),
      '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n',
    )
    return { conf: join(base, 'kong.conf'), certs: join(base, 'certs') }
  }

  test("X's keyring is exported into a private file, never shown, and the files archived with their manifest", async () => {
    const x = await cluster('x', { version: '3.10.0.3', keyring: true })
    const files = await kongFiles()
    const outcome = await upgrade({
      mode: 'in-place',
      x: x.cluster,
      toLine: '3.14',
      migrateCommand: 'exit 3',
      exportKeyring: true,
      files: { paths: [files.conf, files.certs], includeSecrets: true },
    })
    expect(phaseNames(outcome).slice(0, 5)).toEqual([
      'wait for cluster X',
      'record the configuration',
      'back up the keyring',
      'back up the files',
      'convert',
    ])
    expect(outcome).toMatchObject({ rolledBack: true, upgraded: false })
    expect(x.kong.requests.filter((r) => r.path === '/keyring/export').map((r) => r.method)).toEqual(['POST'])

    // The export is written as Kong gave it, 0600, and handed to the secret callback before anything else.
    const keyring = outcome.keyringExport!
    expect(keyring).toBe(join(outcome.folder!, 'keyring-export'))
    expect((await stat(keyring)).mode & 0o777).toBe(0o600)
    const data = (await readFile(keyring, 'utf8')).trim()
    expect(masked).toEqual([data])
    expect(JSON.parse(Buffer.from(data, 'base64').toString('utf8'))).toHaveProperty('d')
    // Its path is named where restore takes it; the value is nowhere in the outcome nor the log.
    expect(outcome.rollback.join(' ')).toContain(`${keyring}: give that file as restore's keyring-export`)
    expect([JSON.stringify(outcome), ...logged].join('\n')).not.toContain(data)

    const backup = outcome.filesBackup!
    expect(backup.archive).toBe(join(outcome.folder!, 'files.tar.gz'))
    expect(backup.manifest).toBe(`${backup.archive}.manifest.json`)
    const manifest = JSON.parse(await readFile(backup.manifest, 'utf8')) as {
      root: string
      files: { path: string }[]
      archive: { sha256: string }
    }
    expect(manifest.root).toBe('/')
    expect(manifest.files.map((f) => `/${f.path}`)).toEqual([
      join(files.certs, 'admin.crt'),
      join(files.certs, 'admin.key'),
      files.conf,
    ])
    expect(manifest.archive.sha256).toBe(
      createHash('sha256')
        .update(await readFile(backup.archive))
        .digest('hex'),
    )
    expect(backup).toMatchObject({ files: 3, secretsExcluded: [] })
    expectNoSecrets(outcome)
  })

  test('private keys and certificates are left out of the archive unless asked for, and said so', async () => {
    const x = await cluster('x', { version: '3.10.0.3' })
    const files = await kongFiles()
    const outcome = await upgrade({
      mode: 'dual-cluster',
      x: x.cluster,
      y: (await cluster('y', { version: '3.14.0.0', edit: convertedTo314 })).cluster,
      files: { paths: [files.conf, files.certs], includeSecrets: false },
    })
    expect(outcome.error).toBeUndefined()
    expect(outcome.filesBackup?.files).toBe(1)
    expect(outcome.filesBackup?.secretsExcluded).toHaveLength(2)
    expect(outcome.warnings.join(' ')).toMatch(/2 private key\/certificate file\(s\) were left out/)
  })

  test('a gateway without a keyring fails the upgrade with what it needs; nothing else is written after the record', async () => {
    const x = await cluster('x', { version: '3.10.0.3' })
    const files = await kongFiles()
    const outcome = await upgrade({
      mode: 'in-place',
      x: { ...x.cluster, database: databaseOf('kong_x') },
      toLine: '3.14',
      migrateCommand: 'exit 0',
      exportKeyring: true,
      files: { paths: [files.conf], includeSecrets: false },
    })
    expect(outcome.error?.message).toBe(
      `export-keyring is set, but ${x.kong.adminUrl} did not export its keyring (HTTP 500): it needs Kong Enterprise with keyring_enabled, keyring_strategy cluster and keyring_public_key and keyring_private_key set.`,
    )
    expect(failedPhases(outcome)).toEqual(['back up the keyring'])
    expect(phaseNames(outcome)).not.toContain('migrate')
    // The record and the freeze check that ends every upgrade: no keyring file, files archive or database backup.
    expect((await readdir(outcome.folder!)).sort()).toEqual(['x-before', 'x-freeze'])
    expect(masked).toEqual([])
  })

  test('a community X has no keyring endpoint: the error says so', async () => {
    const kong = await standIn({ database: 'postgres', version: '3.10.0.3' })
    const admin = await KongAdmin.open(kong.adminUrl, { kongAddr: kong.adminUrl })
    const folder = await dir('keyring')
    await expect(exportKeyring(admin, folder, (v) => masked.push(v))).rejects.toThrow(
      /^export-keyring is set, but \S+ has no keyring \(HTTP 404 \(Not found\)\): it needs Kong Enterprise/,
    )
    expect(await readdir(folder)).toEqual([])
  })

  test('a files path that does not exist is named, and stops the upgrade before the migration', async () => {
    const x = await cluster('x', { version: '3.10.0.3' })
    const files = await kongFiles()
    const missing = join(files.certs, 'cluster.crt')
    const outcome = await upgrade({
      mode: 'in-place',
      x: x.cluster,
      toLine: '3.14',
      migrateCommand: 'exit 0',
      files: { paths: [files.conf, missing], includeSecrets: true },
    })
    expect(outcome.error?.message).toBe(
      `files: 1 path(s) do not exist, so the backup would miss them: ${missing}. Fix or remove them.`,
    )
    expect(failedPhases(outcome)).toEqual(['back up the files'])
    expect(phaseNames(outcome)).not.toContain('migrate')
    expect((await readdir(outcome.folder!)).sort()).toEqual(['x-before', 'x-freeze'])
  })
})
