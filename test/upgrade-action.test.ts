// The upgrade command as users run it: the bundled action (dist/upgrade) and the CLI (dist/cli), against the deck
// double, Kong stand-ins for clusters X and Y, and a real PostgreSQL loaded with Kong's schema.
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { parse, stringify } from 'yaml'

import { loadKongDatabase } from '../script/kong-db.mjs'
import { type PostgresServer, startPostgres } from '../script/servers.mjs'
import { type ActionRun, maskedValues, runBundledAction, runCli, visibleLog } from './support/action.js'
import { copyFixture, DOUBLE_DIR, type GatewayFixture, workdir } from './support/deck-double.js'
import { age, keygen } from './support/age-tool.js'
import { type KongStandIn, type ProxyRoute, startKongStandIn } from './support/kong-admin.js'

const PASSWORD = 'Kong:upgr4de/act10n'
const X_TOKEN = 'x-Adm1n-T0ken-action'
const Y_TOKEN = 'y-Adm1n-T0ken-action'
/** Secret values of the test and of the community fixture: never shown anywhere. */
const SECRETS = [PASSWORD, X_TOKEN, Y_TOKEN, 'web-frontend-K3y-91f0', 'b3NzOmxvZ3MtcGFzcw==']

let pg: PostgresServer
let w: Awaited<ReturnType<typeof workdir>>
const standIns: KongStandIn[] = []

beforeAll(async () => {
  w = await workdir()
  pg = await startPostgres({ user: 'kong', password: PASSWORD })
  await loadKongDatabase(pg, 'kong_x')
  await loadKongDatabase(pg, 'kong_y')
}, 120_000)

afterEach(async () => {
  await Promise.all(standIns.splice(0).map((s) => s.stop()))
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

type Entity = Record<string, unknown>
const list = (value: unknown) => (Array.isArray(value) ? (value as Entity[]) : [])
const shop = (fixture: GatewayFixture) =>
  list((fixture.workspaces as Record<string, Entity>).default!.services)[0]!

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

/** What deck file convert 3.10 → 3.14 changes in the community fixture: http-log's TLS verification written out. */
function convertedTo314(fixture: GatewayFixture): void {
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk)
    else if (value && typeof value === 'object') {
      const entity = value as Entity
      if (entity.name === 'http-log' && entity.config) (entity.config as Entity).ssl_verify = false
      Object.values(entity).forEach(walk)
    }
  }
  walk(fixture.workspaces)
}

interface Cluster {
  kong: KongStandIn
  fixture: string
}

/** A Kong stand-in and the deck double's fixture for it, both guarded by the cluster's own token. */
async function cluster(
  name: string,
  options: {
    version: string
    token: string
    edit?: (f: GatewayFixture) => void
    onProxy?: () => Promise<void>
    keyring?: boolean
  },
): Promise<Cluster> {
  let fixture = ''
  const kong = await startKongStandIn({
    database: 'postgres',
    edition: 'enterprise',
    version: options.version,
    adminToken: options.token,
    keyring: options.keyring,
    routes: () => fixtureRoutes(fixture, options.onProxy)(),
  })
  standIns.push(kong)
  fixture = await copyFixture('community.yaml', await dir(name), (f) => {
    f.kongAddr = kong.adminUrl
    f.kongVersion = options.version
    f.edition = 'enterprise'
    f.adminToken = options.token
    options.edit?.(f)
  })
  return { kong, fixture }
}

/**
 * deck for both clusters: the double serves one fixture per run, so a wrapper picks the fixture of the address
 * deck is given (X's when none: deck file convert talks to no gateway).
 */
async function deckFor(x: Cluster, y: Cluster): Promise<string> {
  const wrapper = join(await dir('deck'), 'deck')
  await writeFile(
    wrapper,
    [
      '#!/bin/sh',
      `DECK_DOUBLE_GATEWAY='${x.fixture}'`,
      'for a in "$@"; do',
      `  [ "$a" = '${y.kong.adminUrl}' ] && DECK_DOUBLE_GATEWAY='${y.fixture}'`,
      'done',
      `DECK_DOUBLE_GATEWAY="$DECK_DOUBLE_GATEWAY" DECK_DOUBLE_LOG='${w.log}' exec '${join(DOUBLE_DIR, 'deck')}' "$@"`,
      '',
    ].join('\n'),
  )
  await chmod(wrapper, 0o755)
  return wrapper
}

/** The bundled action, with its report kept beside the test's files. */
/** A dual-cluster upgrade from X to Y, each with its admin token. */
function dualCluster(x: Cluster, y: Cluster): Record<string, string> {
  return {
    mode: 'dual-cluster',
    'kong-addr': x.kong.adminUrl,
    'kong-admin-token': X_TOKEN,
    'target-kong-addr': y.kong.adminUrl,
    'target-kong-admin-token': Y_TOKEN,
  }
}

async function upgradeAction(inputs: Record<string, string>): Promise<ActionRun & { reportFile: string }> {
  const reportFile = join(await dir('report'), 'upgrade-report.json')
  const run = await runBundledAction('upgrade', {
    'wait-timeout': '10',
    'smoke-timeout': '5',
    'report-file': reportFile,
    ...inputs,
  })
  return { ...run, reportFile }
}

function expectNoSecrets(...shown: string[]): void {
  const text = shown.join('\n')
  for (const secret of SECRETS) expect(text).not.toContain(secret)
}

describe('the upgrade action', () => {
  test('dual-cluster: Y proved to hold X converted, outputs, summary and report written, no secret shown', async () => {
    const x = await cluster('x', { version: '3.10.0.3', token: X_TOKEN })
    const y = await cluster('y', { version: '3.14.0.0', token: Y_TOKEN, edit: convertedTo314 })
    const outputDir = await dir('out')
    const run = await upgradeAction({
      ...dualCluster(x, y),
      'database-url': pg.url('kong_x'),
      'target-database-url': pg.url('kong_y'),
      'no-owner': 'true',
      'postgres-bin': pg.binDir,
      'output-dir': outputDir,
      'deck-path': await deckFor(x, y),
      'smoke-requests': `GET ${y.kong.proxyUrl}/cart 200`,
    })
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ upgraded: 'true', verified: 'true', 'rolled-back': 'false' })
    expect(run.outputs.folder).toMatch(new RegExp(`^${outputDir}/upgrade-\\d{8}T\\d{6}Z$`))
    expect((await readdir(run.outputs.folder!)).sort()).toEqual([
      'converted-3.14',
      'database',
      'x-before',
      'x-freeze',
      'y-after',
    ])

    expect(run.summary).toContain('The dual-cluster upgrade from Kong 3.10 to 3.14 is done and verified')
    for (const phase of [
      'wait for cluster X',
      'back up the database',
      'convert',
      'verify Y',
      'check the freeze',
    ])
      expect(run.summary).toContain(`<td>${phase}</td>`)
    expect(run.summary).toMatch(/<td>3\.10 → 3\.14<\/td><td>changed plugin http-log/)
    expect(run.summary).toContain("Freeze: X's configuration is what it was when recorded")
    expect(run.summary).toMatch(/<caption>Next steps<\/caption>.*traffic from X's proxy to Y's/s)
    expect(run.summary).toMatch(/<caption>Rollback<\/caption>/)

    expect(run.outputs.report).toBe(run.reportFile)
    const text = await readFile(run.reportFile, 'utf8')
    const report = JSON.parse(text) as Record<string, unknown>
    expect(report).toMatchObject({
      format: 'deckhand-upgrade/1',
      mode: 'dual-cluster',
      from: '3.10',
      to: '3.14',
    })
    expect(report.checks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "Y's configuration tables against X's backup", ok: true }),
      ]),
    )

    expect(maskedValues(run.stdout)).toEqual(expect.arrayContaining([X_TOKEN, Y_TOKEN, PASSWORD]))
    expectNoSecrets(visibleLog(run.stdout), run.stderr, run.summary, text, JSON.stringify(run.outputs))
  }, 40_000)

  test("backs up X's keyring and files into the folder: the export masked, never shown, named as restore's keyring-export", async () => {
    const x = await cluster('x', { version: '3.10.0.3', token: X_TOKEN, keyring: true })
    const y = await cluster('y', { version: '3.14.0.0', token: Y_TOKEN, edit: convertedTo314 })
    const etc = await dir('etc-kong')
    await writeFile(join(etc, 'kong.conf'), 'keyring_enabled = on\n')
    const run = await upgradeAction({
      ...dualCluster(x, y),
      'output-dir': await dir('out'),
      'deck-path': await deckFor(x, y),
      'export-keyring': 'true',
      files: join(etc, 'kong.conf'),
    })
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    const folder = run.outputs.folder!
    expect((await readdir(folder)).sort()).toEqual([
      'converted-3.14',
      'files.tar.gz',
      'files.tar.gz.manifest.json',
      'keyring-export',
      'x-before',
      'x-freeze',
      'y-after',
    ])
    const keyringFile = join(folder, 'keyring-export')
    expect((await stat(keyringFile)).mode & 0o777).toBe(0o600)
    const data = (await readFile(keyringFile, 'utf8')).trim()
    expect(maskedValues(run.stdout)).toContain(data)

    expect(run.summary).toContain(`X's keyring exported to ${keyringFile} (restore's keyring-export).`)
    expect(run.summary).toContain(
      `X's files backed up: 1 file(s) in ${folder}/files.tar.gz; checksums in ${folder}/files.tar.gz.manifest.json.`,
    )
    expect(run.summary).toContain(`${keyringFile}: give that file as restore's keyring-export`)
    const text = await readFile(run.reportFile, 'utf8')
    expect(JSON.parse(text)).toMatchObject({
      keyringExport: keyringFile,
      filesBackup: { archive: `${folder}/files.tar.gz`, files: 1 },
    })
    for (const shown of [visibleLog(run.stdout), run.summary, text, JSON.stringify(run.outputs)])
      expect(shown).not.toContain(data)
    expectNoSecrets(visibleLog(run.stdout), run.stderr, run.summary, text)
  }, 40_000)

  test("with age-recipients, X's configuration is also backed up redacted, its secrets only in secrets.age", async () => {
    const x = await cluster('x', { version: '3.10.0.3', token: X_TOKEN })
    const y = await cluster('y', { version: '3.14.0.0', token: Y_TOKEN, edit: convertedTo314 })
    const key = await keygen(await dir('age'), 'key')
    const run = await upgradeAction({
      ...dualCluster(x, y),
      'output-dir': await dir('out'),
      'deck-path': await deckFor(x, y),
      'age-recipients': key.recipient,
    })
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    const state = join(run.outputs.folder!, 'state')
    const opened = await age(['-d', '-i', key.file, join(state, 'secrets.age')])
    expect(opened.code).toBe(0)
    const bundle = JSON.parse(opened.stdout.toString('utf8')) as { variables: Record<string, string> }
    const values = Object.values(bundle.variables)
    expect(values.length).toBeGreaterThan(0)
    // The record keeps the values (deck file convert needs them); the backup that may leave the machine does not.
    // Compared as JSON text: YAML folds a multi-line value (a PEM key) into a block.
    const asJson = async (file: string) => JSON.stringify(parse(await readFile(file, 'utf8')))
    const record = await asJson(join(run.outputs.folder!, 'x-before', 'default.yaml'))
    const backup = await asJson(join(state, 'default.yaml'))
    for (const value of values) {
      expect(record).toContain(JSON.stringify(value).slice(1, -1))
      expect(backup).not.toContain(JSON.stringify(value).slice(1, -1))
    }
    expect(backup).toMatch(/\$\{\{ env \\"DECK_[A-Z0-9_]+\\" \}\}/)
    expect(run.summary).toContain(`X's configuration backed up redacted: 1 file(s) in ${state}`)
  }, 40_000)

  test('a write to X during the freeze fails the step with exit 1, naming the entity', async () => {
    const x = await cluster('x', { version: '3.10.0.3', token: X_TOKEN })
    let written = false
    // Someone changes X through its Admin API while Y is checked: here, as Y's proxy answers the smoke request.
    // Y accepts X's token, as one built from X's backup does: target-kong-admin-token is left to its default.
    const y = await cluster('y', {
      version: '3.14.0.0',
      token: X_TOKEN,
      edit: convertedTo314,
      onProxy: async () => {
        if (written) return
        written = true
        const doc = parse(await readFile(x.fixture, 'utf8')) as GatewayFixture
        shop(doc).retries = 9
        await writeFile(x.fixture, stringify(doc))
      },
    })
    const run = await upgradeAction({
      mode: 'dual-cluster',
      'kong-addr': x.kong.adminUrl,
      'kong-admin-token': X_TOKEN,
      'target-kong-addr': y.kong.adminUrl,
      'output-dir': await dir('out'),
      'deck-path': await deckFor(x, y),
      'smoke-requests': `GET ${y.kong.proxyUrl}/cart 200`,
    })
    expect(written).toBe(true)
    expect(run.exitCode).toBe(1)
    expect(run.outputs).toMatchObject({ upgraded: 'false', verified: 'false' })
    expect(visibleLog(run.stdout)).toMatch(
      /::error::deckhand upgrade: The dual-cluster upgrade from Kong 3\.10 to 3\.14 failed after [\d.]+ s: Cluster X's configuration changed during the upgrade \(1 entity\)/,
    )
    expect(run.stdout).toContain('changed service shop (workspace default): retries')
    expect(run.summary).toContain('Freeze broken: 1 change(s) to X since it was recorded')
    expect(run.summary).toMatch(/<td>check the freeze<\/td><td>[^<]*<\/td><td>[^<]*<\/td><td>failed/)
    expectNoSecrets(visibleLog(run.stdout), run.summary)
  }, 30_000)

  test.each([
    ['in-place', {}, /Input migrate-command is required: an in-place upgrade runs it/],
    [
      'in-place',
      { 'migrate-command': 'true' },
      /Input to-line is required: X reports its old version until it is migrated/,
    ],
    ['dual-cluster', {}, /Input target-kong-addr is required: the Admin API of the new cluster \(Y\)/],
    [
      'dual-cluster',
      { 'target-kong-addr': 'http://127.0.0.1:1', 'target-database-url': 'postgres://kong@127.0.0.1/kong' },
      /target-database-url is compared with X's database backup: set database-url too/,
    ],
    [
      'dual-cluster',
      { 'target-kong-addr': 'http://127.0.0.1:1', 'include-secrets': 'true' },
      /include-secrets is about the files backed up: set files too/,
    ],
  ])('%s with %j: a usage error before anything is asked or written', async (mode, given, message) => {
    const x = await cluster('x', { version: '3.10.0.3', token: X_TOKEN })
    const outputDir = join(await dir('out'), 'upgrades')
    const run = await upgradeAction({ mode, 'kong-addr': x.kong.adminUrl, 'output-dir': outputDir, ...given })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(message)
    expect(x.kong.requests).toEqual([])
    await expect(readdir(outputDir)).rejects.toThrow(/ENOENT/)
    await expect(readFile(run.reportFile)).rejects.toThrow(/ENOENT/)
  })
})

describe('deckhand upgrade', () => {
  async function cli(args: string[], env: Record<string, string> = {}) {
    const x = await cluster('x', { version: '3.10.0.3', token: X_TOKEN })
    const y = await cluster('y', { version: '3.14.0.0', token: Y_TOKEN, edit: convertedTo314 })
    const run = await runCli(
      [
        'upgrade',
        '--mode',
        'dual-cluster',
        '--kong-addr',
        x.kong.adminUrl,
        '--target-kong-addr',
        y.kong.adminUrl,
        '--deck-path',
        await deckFor(x, y),
        '--output-dir',
        await dir('out'),
        '--wait-timeout',
        '10',
        ...args,
      ],
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: w.dir,
          DECKHAND_KONG_ADMIN_TOKEN: X_TOKEN,
          DECKHAND_TARGET_KONG_ADMIN_TOKEN: Y_TOKEN,
          ...env,
        },
        cwd: w.dir,
      },
    )
    return { run, x }
  }

  test('upgrades and lists the kong.conf settings Kong 3.14 removes or renames, secrets not shown', async () => {
    // Relative to the working directory, as a user on the gateway's host names it.
    await writeFile(
      join(w.dir, 'kong.conf'),
      [
        '# the running configuration',
        `pg_password = ${PASSWORD}`,
        'wasm = on',
        'opentelemetry_tracing = all',
        'proxy_listen = 0.0.0.0:8000',
        // A typo Kong ignores: named in the report, its value never shown.
        `pg_pasword = ${PASSWORD}`,
        '',
      ].join('\n'),
    )
    const reportFile = join(await dir('report'), 'upgrade-report.json')
    // Kong's environment, as on the gateway's host: it sets what the file does not.
    const { run } = await cli(['--kong-conf', 'kong.conf', '--report-file', reportFile], {
      KONG_NGINX_DAEMON: 'off',
    })
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/is done and verified/)
    expect(run.stdout).toContain('kong.conf: Kong 3.10 → 3.14 (kong.conf): 1 removed, 2 renamed')
    expect(run.stdout).toMatch(/^pg_pasword +kong\.conf:6$/m)
    expect(run.stdout).toMatch(/^kong\.conf: Removed: Kong 3\.14 no longer reads these$/m)
    expect(run.stdout).toMatch(/^wasm +`on` +kong\.conf:3 +3\.10 → 3\.14 /m)
    expect(run.stdout).toMatch(/^kong\.conf: Renamed: set the new name instead$/m)
    const text = await readFile(reportFile, 'utf8')
    const report = JSON.parse(text) as {
      kongConf: { file: string; changes: { renamed: unknown[]; unknown: unknown[] } }
    }
    expect(report.kongConf.changes.unknown).toEqual([{ name: 'pg_pasword', origin: 'kong.conf:6' }])
    expect(report.kongConf.file).toBe('kong.conf')
    expect(report.kongConf.changes.renamed).toEqual([
      expect.objectContaining({
        name: 'opentelemetry_tracing',
        replacement: 'tracing_instrumentations',
        value: '`all`',
        origin: 'kong.conf:4',
      }),
      expect.objectContaining({
        name: 'nginx_daemon',
        replacement: 'nginx_main_daemon',
        origin: 'KONG_NGINX_DAEMON',
      }),
    ])
    expectNoSecrets(run.stdout, run.stderr, text)
  }, 30_000)

  test('a kong.conf Kong could not read is a usage error naming the file and line, before the clusters are asked', async () => {
    const conf = join(await dir('conf'), 'kong.conf')
    await writeFile(conf, `proxy_listen = 0.0.0.0:8000\nnginx_http_include = ${'x'.repeat(70_000)}\n`)
    const { run, x } = await cli(['--kong-conf', conf])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(`${conf}:2 is longer than 65536 characters.`)
    expect(x.kong.requests).toEqual([])
  })
})
