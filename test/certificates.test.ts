// Certificates from a dump through validate, diff and sync: the dump redacts each certificate's private
// key into a DECK_ reference (a block literal with `| indent N`, deck's template), and the files work
// again once the variable holds the key. Keys are the gateway fixtures' own, made for the fixtures only.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parse } from 'yaml'

import { type ActionRun, runBundledAction, visibleLog } from './support/action.js'
import { copyFixture, doubleEnv, FIXTURES, readCalls, workdir } from './support/deck-double.js'

const KONG = 'http://127.0.0.1:8001'
const TOKEN = 'kong-admin-s3cret'
const connection = { 'kong-addr': KONG, 'kong-admin-token': TOKEN }

interface Certificate {
  id: string
  cert: string
  key: string
  snis?: { name: string }[]
}
type Workspace = { certificates?: Certificate[]; ca_certificates?: { cert: string }[] }

let w: Awaited<ReturnType<typeof workdir>>
let gateway: string
/** The certificate the gateway holds, as the fixture has it. */
let original: Certificate
beforeEach(async () => {
  w = await workdir()
  // The enterprise fixture's default workspace with its certificate (two SNIs) and CA certificate only.
  gateway = await copyFixture('enterprise.yaml', w.dir, (fixture) => {
    const workspaces = fixture.workspaces as Record<string, Workspace>
    const { certificates, ca_certificates } = workspaces.default!
    fixture.workspaces = { default: { certificates, ca_certificates }, 'team-payments': {}, sandbox: {} }
  })
  original = (parse(await readFile(gateway, 'utf8')) as { workspaces: Record<string, Workspace> }).workspaces
    .default!.certificates![0]!
})
afterEach(() => w.cleanup())

const env = (extra: Record<string, string> = {}) => ({ ...doubleEnv({ gateway, log: w.log }), ...extra })

/** A line of a PEM block's base64 past the common header: what must never show. */
function pemBody(pem: string): string {
  return pem
    .split('\n')
    .filter((line) => line && !line.startsWith('-----'))
    .join('')
    .slice(64, 128)
}

async function visible(run: ActionRun): Promise<string> {
  const plan = run.outputs.plan ? await readFile(run.outputs.plan, 'utf8').catch(() => '') : ''
  return [visibleLog(run.stdout), run.stderr, run.summary, JSON.stringify(run.outputs), plan].join('\n')
}

/** Dumps the default workspace, redacted, and returns the file and the key's variable. */
async function dumpCertificates(): Promise<{ file: string; keyVariable: string }> {
  const out = join(w.dir, 'kong')
  const run = await runBundledAction(
    'dump',
    { ...connection, workspace: 'default', 'output-dir': out },
    { env: env() },
  )
  expect(run.exitCode).toBe(0)
  const file = join(out, 'default.yaml')
  const text = await readFile(file, 'utf8')
  expect(text).not.toContain(pemBody(original.key))
  expect(run.outputs['required-env']!.split('\n')).toHaveLength(1)
  const keyVariable = run.outputs['required-env']!
  // The key as deck's template: a block literal re-indented by `indent`, the certificate kept as it is.
  expect(text).toMatch(
    new RegExp(`\\n  key: \\|\\n    \\$\\{\\{ env "${keyVariable}" \\| indent 4 \\}\\}\\n`),
  )
  expect(text).toContain(pemBody(original.cert))
  const doc = parse(text) as Workspace
  expect(doc.certificates![0]!.snis!.map((s) => s.name).sort()).toEqual([
    'api.payments.example.com',
    'pay.example.com',
  ])
  expect(doc.ca_certificates).toHaveLength(1)
  return { file, keyVariable }
}

describe('certificates from a dump (bundled actions, deck double)', () => {
  test('validate offline and online with the key from its variable; without it, the variable is named', async () => {
    const { file, keyVariable } = await dumpCertificates()
    const withKey = env({ [keyVariable]: original.key })

    const offline = await runBundledAction('validate', { state: file }, { env: withKey })
    expect(offline.exitCode).toBe(0)
    expect(offline.outputs).toMatchObject({ valid: 'true', 'plaintext-secrets': '0' })

    const online = await runBundledAction(
      'validate',
      { state: file, online: 'true', ...connection },
      { env: withKey },
    )
    expect(online.exitCode).toBe(0)
    const validations = (await readCalls(w.log)).filter((c) => c.argv.includes('validate'))
    expect(validations.map((c) => c.argv.slice(0, 2))).toEqual([
      ['file', 'validate'],
      ['gateway', 'validate'],
    ])
    // The key reaches deck through its environment only.
    for (const call of validations) {
      expect(call.env[keyVariable]).toBe(original.key)
      expect(call.argv.join(' ')).not.toContain(pemBody(original.key))
    }

    const without = await runBundledAction('validate', { state: file }, { env: env() })
    expect(without.exitCode).toBe(1)
    expect(without.stdout).toMatch(new RegExp(`::error .*line=\\d+.*::.*not set: ${keyVariable}`))
    for (const run of [offline, online, without])
      expect(await visible(run)).not.toContain(pemBody(original.key))
  })

  test('diff: the dumped files with the key from its variable match the gateway', async () => {
    const { file, keyVariable } = await dumpCertificates()
    const run = await runBundledAction(
      'diff',
      { ...connection, state: file, 'plan-file': join(w.dir, 'plan.json') },
      { env: env({ [keyVariable]: original.key }) },
    )
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ total: '0', 'has-changes': 'false' })
    expect(await visible(run)).not.toContain(pemBody(original.key))
  })

  test('sync: a renewed certificate is one planned update whose key shows as a secret, never as PEM', async () => {
    const { file, keyVariable } = await dumpCertificates()
    // The renewal: the community fixture's certificate and key (another pair made for the fixtures).
    const community = parse(await readFile(join(FIXTURES, 'community.yaml'), 'utf8')) as {
      workspaces: Record<string, Workspace>
    }
    const renewed = community.workspaces.default!.certificates![0]!
    // Edited as text, as a user would: a YAML library's rewrite need not keep the template's indentation.
    const block = (pem: string) =>
      pem
        .trimEnd()
        .split('\n')
        .map((line) => `    ${line}`)
        .join('\n')
    const text = await readFile(file, 'utf8')
    expect(text).toContain(block(original.cert))
    await writeFile(file, text.replace(block(original.cert), block(renewed.cert)))
    const inputs = { ...connection, state: file, 'plan-file': join(w.dir, 'plan.json') }
    const withRenewed = env({ [keyVariable]: renewed.key })

    const run = await runBundledAction('sync', inputs, { env: withRenewed })
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ creating: '0', updating: '1', deleting: '0', applied: 'true' })
    const plan = JSON.parse(await readFile(run.outputs.plan!, 'utf8')) as {
      targets: {
        changes: {
          action: string
          kind: string
          fields?: { path: string; old?: string; new?: string; sensitive?: boolean }[]
        }[]
      }[]
    }
    const [change] = plan.targets.flatMap((t) => t.changes)
    expect(change).toMatchObject({ action: 'update', kind: 'certificate' })
    // The key changes as a secret: that it changes is shown, not its values; the certificate is public.
    expect(change!.fields).toEqual(
      expect.arrayContaining([
        { path: 'key', sensitive: true },
        expect.objectContaining({ path: 'cert', old: expect.any(String), new: expect.any(String) }),
      ]),
    )
    expect(run.summary).toMatch(/certificate/)
    const shown = await visible(run)
    for (const pem of [original.key, renewed.key]) expect(shown).not.toContain(pemBody(pem))

    // The gateway now holds the renewed pair: a second diff finds nothing to do.
    const again = await runBundledAction('diff', inputs, { env: withRenewed })
    expect(again.outputs.total).toBe('0')
  })
})
