import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

import { afterAll, afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { parse } from 'yaml'

import { PEM_KEY } from './support/sample-state.js'
import { runBundledAction } from './support/action.js'
import { copyFixture, doubleEnv, type GatewayFixture, workdir } from './support/deck-double.js'
import { type KongSchemas, type KongStandIn, startKongStandIn } from './support/kong-admin.js'

/**
 * The live path: dump, diff and sync read the schema of every plugin the gateway holds from its Admin API
 * (the stand-in serves Kong's `schema_to_jsonable` shape), so a custom plugin no catalogue knows is
 * redacted by what its own schema says. The deck double serves the configuration; the stand-in, the schemas.
 */

const TOKEN = 'kong-admin-s3cret'
const SCHEMA_DIR = join(import.meta.dirname, 'fixtures', 'kong-schemas')
const started: KongStandIn[] = []
afterAll(async () => {
  for (const node of started) await node.stop()
})

async function schema(path: string): Promise<unknown> {
  return JSON.parse(await readFile(join(SCHEMA_DIR, path), 'utf8'))
}

/** Values only a schema can tell apart from a plain setting. */
const planted = () => ({
  material: `sm-${randomBytes(8).toString('hex')}`,
  blob: `ab-${randomBytes(8).toString('hex')}`,
  tenant: `tk-${randomBytes(8).toString('hex')}`,
})

function customPlugin(values: ReturnType<typeof planted>, extra: Record<string, unknown> = {}) {
  return {
    id: '7a1f0a52-51c4-4f6c-a3f0-0a1b2c3d4e5f',
    name: 'acme-corp-signer',
    enabled: true,
    protocols: ['http', 'https'],
    config: {
      key_id: 'signer-2026',
      signing_material: values.material,
      upstreams: [{ url: 'https://ledger.internal', auth_blob: values.blob, retry: { attempts: 3 } }],
      tenant_keys: { acme: values.tenant },
      algorithm: 'RS256',
      ...extra,
    },
  }
}

let w: Awaited<ReturnType<typeof workdir>>
beforeEach(async () => {
  w = await workdir()
})
afterEach(() => w.cleanup())

async function gateway(schemas: KongSchemas, plugin: Record<string, unknown>) {
  const node = await startKongStandIn({ database: 'postgres', adminToken: TOKEN, schemas })
  started.push(node)
  const fixture = await copyFixture('enterprise.yaml', w.dir, (f: GatewayFixture) => {
    f.kongAddr = node.adminUrl
    const workspaces = f.workspaces as Record<string, { plugins?: unknown[] }>
    workspaces.default!.plugins = [...(workspaces.default!.plugins ?? []), plugin]
  })
  return { node, env: doubleEnv({ gateway: fixture, log: w.log }) }
}

const inputs = (node: KongStandIn, extra: Record<string, string> = {}) => ({
  'kong-addr': node.adminUrl,
  'kong-admin-token': TOKEN,
  workspace: 'default',
  'output-dir': join(w.dir, 'kong'),
  ...extra,
})

describe('dump with the gateway schemas', () => {
  test("a custom plugin's secrets are redacted by its own schema, and the report says which rule found them", async () => {
    const values = planted()
    const { node, env } = await gateway(
      {
        plugins: { 'acme-corp-signer': await schema('plugins/acme-corp-signer.json') },
        entities: { certificates: await schema('entities/certificates.json') },
      },
      customPlugin(values),
    )
    const run = await runBundledAction('dump', inputs(node), { env })
    expect(run.exitCode).toBe(0)
    const text = await readFile(join(w.dir, 'kong', 'default.yaml'), 'utf8')
    for (const value of Object.values(values)) {
      expect(text).not.toContain(value)
      expect(run.stdout + run.summary + JSON.stringify(run.outputs)).not.toContain(value)
    }
    const plugin = (parse(text).plugins as { name: string; config: Record<string, unknown> }[]).find(
      (p) => p.name === 'acme-corp-signer',
    )!
    // The plain settings beside them stay as they were.
    expect(plugin.config.key_id).toBe('signer-2026')
    expect(plugin.config.algorithm).toBe('RS256')
    expect((plugin.config.upstreams as { url: string }[])[0]!.url).toBe('https://ledger.internal')

    const byRule = JSON.parse(run.outputs['secrets-by-rule']!) as Record<string, number>
    // The three values of the custom plugin, and the certificate's key (whose schema the gateway served too).
    expect(byRule.schema).toBe(4)
    expect(byRule.catalogue).toBeGreaterThan(0)
    expect(Object.values(byRule).reduce((a, b) => a + b, 0)).toBe(Number(run.outputs['secrets-redacted']))
    expect(run.summary).toContain('Secrets redacted, by rule')
    expect(run.summary).toContain("the gateway's schema")
    for (const where of ['signing_material', 'upstreams / 1 / auth_blob', 'tenant_keys / acme']) {
      expect(run.summary).toContain(
        `<td>plugin acme-corp-signer / config / ${where}</td><td>DECK_DEFAULT_PLUGIN_ACME_CORP_SIGNER_CONFIG_` +
          `${where.replace(/ \/ /g, '_').toUpperCase()}</td><td>the gateway's schema</td>`,
      )
    }

    // Each schema was read once, with the admin token.
    const asked = node.requests.filter((r) => r.path.startsWith('/schemas/'))
    expect(asked.filter((r) => r.path === '/schemas/plugins/acme-corp-signer')).toHaveLength(1)
    expect(new Set(asked.map((r) => r.path)).size).toBe(asked.length)
    for (const r of asked) expect(r.headers['kong-admin-token']).toBe(TOKEN)
  })

  test('a schema the gateway cannot serve falls back to the catalogue, names and value detectors, and says so', async () => {
    const values = planted()
    const { node, env } = await gateway(
      {},
      customPlugin(values, { legacy_pem: PEM_KEY, session_token: 'abc' }),
    )
    const run = await runBundledAction('dump', inputs(node), { env })
    expect(run.exitCode).toBe(0)
    const text = await readFile(join(w.dir, 'kong', 'default.yaml'), 'utf8')
    expect(run.summary).toContain('Schemas not read from the gateway')
    expect(run.summary).toContain('acme-corp-signer')
    // Without its schema the custom plugin's private key is still found by its value, and a token by its name.
    expect(text).not.toContain('BEGIN PRIVATE KEY')
    expect(text).not.toMatch(/session_token: abc/)
    const byRule = JSON.parse(run.outputs['secrets-by-rule']!) as Record<string, number>
    expect(byRule.schema).toBe(0)
    expect(byRule.detector).toBeGreaterThanOrEqual(1)
  })
})

describe('diff with the gateway schemas', () => {
  test('a changed secret of a custom plugin shows as changed, never its values', async () => {
    const live = planted()
    const wanted = planted()
    const { node, env } = await gateway(
      { plugins: { 'acme-corp-signer': await schema('plugins/acme-corp-signer.json') } },
      customPlugin(live),
    )
    // The desired state: the gateway's own dump with new values in the plain file (as a user would edit it).
    const dumped = await runBundledAction('dump', inputs(node, { 'redact-secrets': 'false' }), { env })
    expect(dumped.exitCode).toBe(0)
    const file = join(w.dir, 'kong', 'default.yaml')
    let text = await readFile(file, 'utf8')
    for (const key of ['material', 'blob', 'tenant'] as const) text = text.replace(live[key], wanted[key])
    await import('node:fs/promises').then((fs) => fs.writeFile(file, text))

    const planFile = join(w.dir, 'plan.json')
    const run = await runBundledAction(
      'diff',
      { ...inputs(node), state: file, 'plan-file': planFile },
      { env },
    )
    expect(run.exitCode).toBe(0)
    const plan = await readFile(planFile, 'utf8')
    for (const value of [...Object.values(live), ...Object.values(wanted)]) {
      expect(run.stdout + run.summary + plan).not.toContain(value)
    }
    expect(run.summary).toContain('acme-corp-signer')
    expect(plan).toContain('signing_material')
  })
})

describe('a gateway that answers with too much', () => {
  test('a schema answer over 4 MiB is cut off and reported; the catalogue decides', async () => {
    const { createServer } = await import('node:http')
    const huge = JSON.stringify({
      fields: [{ config: { type: 'record', fields: [] } }],
      pad: 'x'.repeat(5 * 2 ** 20),
    })
    let sent = 0
    const server = createServer((req, res) => {
      res.setHeader('Content-Type', 'application/json')
      if (req.url === '/') return res.end(JSON.stringify({ version: '3.10.0.0' }))
      if (req.url === '/schemas/plugins/loggly') {
        sent++
        return res.end(huge)
      }
      res.statusCode = 404
      res.end(JSON.stringify({ message: 'Not found' }))
    })
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    try {
      const { LiveRules } = await import('../actions/engine/secrets/live-rules.js')
      const port = (server.address() as { port: number }).port
      const live = new LiveRules({ kongAddr: `http://127.0.0.1:${port}` })
      const rules = await live.for({
        _format_version: '3.0',
        plugins: [{ name: 'loggly', config: { key: 'k' } }],
      })
      expect(sent).toBe(1)
      expect(live.problems.join('\n')).toMatch(/loggly.*the answer is larger than 4 MiB/)
      expect(rules.liveCount).toBe(0)
      // The bundled catalogue still knows loggly's key.
      expect(rules.node('plugins', 'loggly')?.fields?.config?.fields?.key?.flag).toBe('encrypted')
    } finally {
      server.closeAllConnections()
      await new Promise((done) => server.close(done))
    }
  })
})
