// npm run demo (script/demo.mjs), run once into a kept folder as a user runs it, then checked against the folder.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { parse } from 'yaml'

import { countEntities, totalEntities } from '../actions/engine/state/entities.js'
import { POSTGRES_DIR_PREFIX } from '../script/servers.mjs'
import { ROOT } from './support/action.js'
import { age } from './support/age-tool.js'
import { filesHolding } from './support/leftovers.js'

interface DemoRun {
  code: number
  stdout: string
  stderr: string
  pid: number
}

function demo(out: string, env: NodeJS.ProcessEnv = process.env): Promise<DemoRun> {
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      [join(ROOT, 'script/demo.mjs'), '--out', out],
      { cwd: ROOT, env, maxBuffer: 16 << 20 },
      (err, stdout, stderr) =>
        done({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr, pid: child.pid ?? -1 }),
    )
  })
}

const git = (cwd: string, args: string[]): Promise<string> =>
  new Promise((resolve, reject) =>
    execFile('git', args, { cwd, env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' } }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    ),
  )

/** The names and values in a secret bundle, opened with age's own tool. */
async function openBundle(bundle: string, key: string): Promise<Record<string, string>> {
  const opened = await age(['-d', '-i', key, bundle])
  expect(opened.code).toBe(0)
  return (JSON.parse(opened.stdout.toString('utf8')) as { variables: Record<string, string> }).variables
}

/** Entities in the deck files of a folder, counted as deckhand counts them. */
async function entitiesIn(dir: string): Promise<number> {
  let total = 0
  for (const file of (await readdir(dir)).filter((name) => name.endsWith('.yaml'))) {
    total += totalEntities(
      countEntities(parse(await readFile(join(dir, file), 'utf8')) as Record<string, never>),
    )
  }
  return total
}

/** Secret values of the sample gateway: what its secret fields hold in the fixture the demo wrote. */
function fixtureSecrets(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) fixtureSecrets(item, found)
  else if (node && typeof node === 'object') {
    for (const [field, value] of Object.entries(node)) {
      const secretField = ['password', 'key', 'secret', 'client_secret'].includes(field)
      if (secretField && typeof value === 'string' && value !== 'acme-hs256') found.push(value)
      else if (secretField && Array.isArray(value)) found.push(...value.filter((v) => typeof v === 'string'))
      else fixtureSecrets(value, found)
    }
  }
  return found
}

/** Each secret, and for a PEM key each line of its body, so that a key printed piecemeal is caught too. */
const forms = (secrets: string[]): string[] =>
  secrets.flatMap((secret) =>
    secret.includes('-----BEGIN')
      ? secret.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----'))
      : [secret],
  )

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => (socket.destroy(), resolve(true)))
    socket.once('error', () => resolve(false))
  })

describe('npm run demo', () => {
  let work: string
  let out: string
  let run: DemoRun
  let secrets: string[]

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'deckhand-demo-test-'))
    out = join(work, 'demo')
    run = await demo(out)
    const first = await openBundle(
      join(out, 'restore/first-backup/kong/secrets.age'),
      join(out, 'age/key.txt'),
    )
    // The OIDC client id is redacted by Kong's schema but is no secret; everything else is.
    const bundleSecrets = Object.entries(first)
      .filter(([name]) => !name.endsWith('_CLIENT_ID_1'))
      .map(([, value]) => value)
    const live = fixtureSecrets(parse(await readFile(join(out, 'gateway/live.yaml'), 'utf8')))
    secrets = [...new Set([...bundleSecrets, ...live])]
  }, 240_000)

  afterAll(async () => {
    await rm(work, { recursive: true, force: true })
  })

  it('runs every act on the deck stand-in and succeeds', () => {
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(
      "deck: deckhand's deck stand-in (follows deck v1.65.1), serving a sample gateway",
    )
    for (const act of [
      /== Act 1: Declarative backup/,
      /== Act 2: Drift commit/,
      /== Act 3: Restore/,
      /== Act 4: Database backup and restore/,
      /== Report/,
    ]) {
      expect(run.stdout).toMatch(act)
    }
    expect(run.stdout).toMatch(/result: backed up, committed, restored and verified in [\d.]+ s\n$/)
  })

  it('prints no secret value and writes none outside the gateway itself', async () => {
    expect(secrets.length).toBeGreaterThanOrEqual(8)
    const printed = forms(secrets).filter((secret) => run.stdout.includes(secret))
    expect(printed).toEqual([])
    // The two gateway fixtures are the gateways' own configuration; everything else must hold references.
    expect(await filesHolding(out, secrets, ['gateway/live.yaml', 'gateway/restored.yaml'])).toEqual([])
  })

  it('dumps redacted files and a secret bundle that age opens to the names the files reference', async () => {
    const kong = join(out, 'config/kong')
    expect((await readdir(kong)).sort()).toEqual([
      'SHA256SUMS',
      'default.yaml',
      'required-env.txt',
      'secrets.age',
      'team-payments.yaml',
    ])
    expect(await readFile(join(kong, 'default.yaml'), 'utf8')).toContain(
      '${{ env "DECK_DEFAULT_SERVICE_CUSTOMER_PORTAL_PLUGIN_OPENID_CONNECT_CONFIG_CLIENT_SECRET_1" }}',
    )
    const required = (await readFile(join(kong, 'required-env.txt'), 'utf8'))
      .split('\n')
      .filter((line) => line.startsWith('DECK_'))
    const bundle = await openBundle(join(kong, 'secrets.age'), join(out, 'age/key.txt'))
    expect(Object.keys(bundle).sort()).toEqual(required.sort())
    expect(required).toContain('DECK_DEFAULT_SERVICE_ORDERS_API_PLUGIN_RATE_LIMITING_CONFIG_REDIS_PASSWORD')
    expect(required).toContain('DECK_DEFAULT_CERTIFICATE_API_SHOP_EXAMPLE_COM_KEY')
    for (const name of required) expect(run.stdout).toContain(name)
  })

  it('keeps the drift commit, naming the changed entities, in the repository and its remote', async () => {
    const repo = join(out, 'config')
    const message = await git(repo, ['log', '-1', '--format=%B'])
    expect(message).toMatch(/^Gateway drift in kong: 1 added, 1 changed, 2 removed/)
    expect(message).toContain('~ service orders-api / route orders-list (paths)')
    expect(message).toContain('+ service customer-portal / plugin cors')
    expect(message).toContain('- consumer legacy-batch')
    expect(await git(repo, ['rev-list', '--count', 'HEAD'])).toBe('2\n')
    expect(await git(join(out, 'origin.git'), ['rev-parse', 'main'])).toBe(
      await git(repo, ['rev-parse', 'HEAD']),
    )
    expect(await git(repo, ['status', '--porcelain'])).toBe('')
  })

  it('restores the database and verifies it', () => {
    const db =
      /verified: true; [\d,]+ rows in \d+ tables checked .*; ([\d,]+) configuration entities after \(before: ([\d,]+)\)/.exec(
        run.stdout,
      )
    expect(db).not.toBeNull()
    expect(db![1]).toBe(db![2])
    expect(run.stdout).toMatch(new RegExp(`database +${db![1]} configuration entities restored and verified`))
  })

  it('reports counts that agree with the files and paths that exist', async () => {
    const before = await entitiesIn(join(out, 'restore/first-backup/kong'))
    const now = await entitiesIn(join(out, 'config/kong'))
    const restored = await entitiesIn(join(out, 'restore/check'))
    expect(before).toBe(23)
    expect(now).toBe(before + 1 - 2)
    expect(restored).toBe(now)
    const report = run.stdout.slice(run.stdout.indexOf('== Report'))
    const first = await openBundle(
      join(out, 'restore/first-backup/kong/secrets.age'),
      join(out, 'age/key.txt'),
    )
    expect(report).toContain(
      `backup     ${before} configuration entities, ${Object.keys(first).length} secrets redacted`,
    )
    expect(report).toContain(`drift      1 added, 1 changed, 2 removed; ${now} configuration entities now`)
    expect(report).toContain(`restore    ${restored} configuration entities synced into an empty gateway`)
    expect(run.stdout).toContain(`${before} configuration entities in workspaces default, team-payments`)

    const where = report.slice(report.indexOf('Where everything is:')).split('\n').slice(1)
    const places = where.filter((line) => /^ {3}\S/.test(line)).map((line) => line.trim().split(/ {2,}/)[1]!)
    expect(places.length).toBeGreaterThanOrEqual(5)
    for (const place of places) await expect(readdir(join(place, '..'))).resolves.toBeDefined()
    for (const place of places) expect(place.startsWith(out)).toBe(true)
    const commands = where.filter((line) => line.includes('$ ')).map((line) => line.split('$ ')[1]!)
    expect(commands).toContain(`git -C ${join(out, 'config')} log --stat`)
  })

  it('leaves no server running', async () => {
    const owned = []
    for (const dir of (await readdir(tmpdir())).filter((name) => name.startsWith(POSTGRES_DIR_PREFIX))) {
      const owner = await readFile(join(tmpdir(), dir, 'owner.pid'), 'utf8').catch(() => '')
      if (Number(owner.trim()) === run.pid) owned.push(dir)
    }
    expect(owned).toEqual([])
    const port = Number(/throwaway PostgreSQL on 127\.0\.0\.1:(\d+)/.exec(run.stdout)![1])
    expect(await portOpen(port)).toBe(false)
  })

  it('runs again into its own folder, replacing what the last run left', async () => {
    await writeFile(join(out, 'left-over.txt'), 'from an earlier run\n')
    const again = await demo(out)
    expect(again.code).toBe(0)
    expect(await readdir(out)).not.toContain('left-over.txt')
    expect(await git(join(out, 'config'), ['rev-list', '--count', 'HEAD'])).toBe('2\n')
  }, 240_000)

  it('refuses a folder it did not make and leaves it as it is', async () => {
    const foreign = join(work, 'foreign')
    await rm(foreign, { recursive: true, force: true })
    await git(work, ['init', '--quiet', foreign])
    await writeFile(join(foreign, 'notes.txt'), 'mine\n')
    const refused = await demo(foreign)
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain(`${foreign} exists and was not made by the demo`)
    expect((await readdir(foreign)).sort()).toEqual(['.git', 'notes.txt'])
    expect(await readFile(join(foreign, 'notes.txt'), 'utf8')).toBe('mine\n')
  })

  it('names what is missing and how to install it', async () => {
    const empty = join(work, 'empty-path')
    await rm(empty, { recursive: true, force: true })
    await mkdir(empty)
    const missing = await demo(join(work, 'never-made'), { ...process.env, PATH: empty })
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/missing: age, age-keygen, git.*Run script\/setup\.sh/)
    await expect(readdir(join(work, 'never-made'))).rejects.toThrow(/ENOENT/)
  })
})
