import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { parse } from 'yaml'

import { timestamp } from '../../actions/engine/database/folder.js'
import { CLI } from '../support/action.js'
import { copyFixture, doubleEnv, type GatewayFixture } from '../support/deck-double.js'
import { type KongStandIn, startKongStandIn } from '../support/kong-admin.js'

/**
 * upgrade's worst days, on the bundled CLI: killed outright mid-way, two runs into one output-dir at once, an
 * output-dir that is not what it seems. Each run claims a folder of its own; nothing else in output-dir (an
 * earlier upgrade's backups, a user's files) nor anything outside it is written, and a SIGKILL leaves complete
 * files only and nothing in the temporary folder.
 */

const TOKEN = 'x-Adm1n-T0ken-hostile'
const FOLDER = /^upgrade-\d{8}T\d{6}Z(-\d+)?$/

let dir: string
let temp: string
const cleanups: (() => Promise<unknown>)[] = []
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deckhand-hostile-upgrade-'))
  temp = join(dir, 'tmp')
  await mkdir(temp)
})
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  await rm(dir, { recursive: true, force: true })
})

async function waitFor(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

const exists = (path: string) =>
  readFile(path).then(
    () => true,
    () => false,
  )

interface Cluster {
  kong: KongStandIn
  fixture: string
  env: Record<string, string>
}

/** Cluster X on Kong 3.10 (a stand-in) with the deck double's fixture for it; `retries` tells two apart. */
async function cluster(name: string, retries = 5): Promise<Cluster> {
  const kong = await startKongStandIn({
    database: 'postgres',
    edition: 'enterprise',
    version: '3.10.0.3',
    adminToken: TOKEN,
  })
  cleanups.push(() => kong.stop())
  const home = join(dir, name)
  await mkdir(home)
  const fixture = await copyFixture('community.yaml', home, (f) => {
    f.kongAddr = kong.adminUrl
    f.kongVersion = '3.10.0.3'
    f.edition = 'enterprise'
    f.adminToken = TOKEN
    shop(f).retries = retries
  })
  return { kong, fixture, env: doubleEnv({ gateway: fixture, log: join(home, 'deck-calls.jsonl') }) }
}

type Entity = Record<string, unknown>
const shop = (f: GatewayFixture) =>
  ((f.workspaces as Record<string, Entity>).default!.services as Entity[])[0]!

function startCli(x: Cluster, outputDir: string, migrate: string): ChildProcess & { ended: Promise<Ended> } {
  // Its own process group: a test that kills it can reach everything it started.
  const child = spawn(
    process.execPath,
    [
      CLI,
      'upgrade',
      '--mode',
      'in-place',
      '--kong-addr',
      x.kong.adminUrl,
      '--to-line',
      '3.14',
      '--migrate-command',
      migrate,
      '--output-dir',
      outputDir,
      '--wait-timeout',
      '10',
    ],
    {
      env: { ...x.env, HOME: dir, TMPDIR: temp, DECKHAND_KONG_ADMIN_TOKEN: TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  )
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const ended = new Promise<Ended>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  )
  return Object.assign(child, { ended })
}

interface Ended {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/**
 * What deckhand left in the temporary folder, less the report it keeps there by design when no report-file is
 * given (the run's outcome, for the user to read).
 */
async function tempLeftovers(): Promise<string[]> {
  return (await readdir(temp, { recursive: true })).filter(
    (name) => !/^deckhand-upgrade-\w+(\/upgrade-report\.json)?$/.test(name),
  )
}

/** The lines a run printed, joined: a long line is wrapped to the terminal's width. */
const said = (run: Ended) => `${run.stdout}${run.stderr}`.replace(/\s+/g, ' ')

/** Kills a process group, gone already or not. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
  }
}

/**
 * A migrate command that records the pid of its shell (the leader of its process group: deckhand starts each
 * child in one), then waits for `release` to appear before exiting with `code`.
 */
const blockingMigrate = (marker: string, release: string, code = 3) =>
  `echo $$ > '${marker}'; while [ ! -e '${release}' ]; do sleep 0.05; done; exit ${code}`

/** A migrate command that moves X to Kong 3.14 holding its configuration converted: the run succeeds. */
async function migrateTo314(x: Cluster): Promise<string> {
  const server: Server = createServer((_req, res) => {
    x.kong.restart('3.14.0.0').then(
      () => res.end('restarted\n'),
      () => {
        res.statusCode = 500
        res.end()
      },
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => new Promise((resolve) => server.close(resolve)))
  const { port } = server.address() as { port: number }
  const migrated = await copyFixture('community.yaml', await mkdtemp(join(dir, 'migrated-')), (f) => {
    f.kongAddr = x.kong.adminUrl
    f.kongVersion = '3.14.0.0'
    f.edition = 'enterprise'
    f.adminToken = TOKEN
    // What deck file convert 3.10 → 3.14 changes in the community fixture.
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk)
      else if (value && typeof value === 'object') {
        const entity = value as Entity
        if (entity.name === 'http-log' && entity.config) (entity.config as Entity).ssl_verify = false
        Object.values(entity).forEach(walk)
      }
    }
    walk(f.workspaces)
  })
  return `cp '${migrated}' '${x.fixture}' && node -e "fetch('http://127.0.0.1:${port}/').then(r => process.exit(r.ok ? 0 : 1))"`
}

/** Every file and folder under dir, hidden ones included, with its content's digest. */
async function snapshot(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name)
    out.set(
      path.slice(root.length + 1),
      entry.isFile()
        ? createHash('sha256')
            .update(await readFile(path))
            .digest('hex')
        : entry.isDirectory()
          ? 'directory'
          : 'other',
    )
  }
  return out
}

/**
 * A folder holds complete files only: no staging or temporary name anywhere, and every SHA256SUMS (written
 * last, so a dump's mark of completeness) matches the files it lists. Returns the manifests found.
 */
async function expectComplete(folder: string): Promise<string[]> {
  const names = [...(await snapshot(folder)).keys()]
  expect(names.filter((name) => /(^|\/)\.|\.tmp|partial|staging/i.test(name))).toEqual([])
  const manifests = names.filter((name) => name.endsWith('SHA256SUMS'))
  for (const manifest of manifests) {
    const base = join(folder, manifest, '..')
    for (const line of (await readFile(join(folder, manifest), 'utf8')).trim().split('\n')) {
      const [sum, name] = line.split(/\s+\*?/)
      const actual = createHash('sha256')
        .update(await readFile(join(base, name!)))
        .digest('hex')
      expect(`${manifest}: ${name} ${actual}`).toBe(`${manifest}: ${name} ${sum}`)
    }
  }
  return manifests
}

describe('killed outright while migrate-command runs', () => {
  test('the earlier upgrade stays byte for byte, the killed one holds complete files, and a rerun claims a new folder', async () => {
    const x = await cluster('x')
    const out = join(dir, 'upgrades')
    // An earlier upgrade, failed and rolled back: its folder is a backup someone may still need.
    const first = startCli(x, out, 'exit 3')
    const firstEnded = await first.ended
    expect(firstEnded.stdout).toContain('rolled back')
    expect(firstEnded.code).toBe(1)
    const [earlier] = await readdir(out)
    expect(earlier).toMatch(FOLDER)
    const before = await snapshot(join(out, earlier!))
    expect(before.size).toBeGreaterThan(0)

    const marker = join(dir, 'migrate.pid')
    const cli = startCli(x, out, blockingMigrate(marker, join(dir, 'never')))
    try {
      await waitFor(
        'migrate-command to start',
        async () => (await readFile(marker, 'utf8').catch(() => '')) !== '',
      )
      const migratePid = Number((await readFile(marker, 'utf8')).trim())
      cli.kill('SIGKILL')
      expect((await cli.ended).signal).toBe('SIGKILL')
      // Nothing can clean up after a SIGKILL: the command deckhand started lives on in its own group.
      killGroup(migratePid)

      const folders = (await readdir(out)).sort()
      expect(folders).toHaveLength(2)
      expect(await snapshot(join(out, earlier!))).toEqual(before)
      const killed = folders.find((name) => name !== earlier)!
      expect(killed).toMatch(FOLDER)
      // By the migrate phase, X's configuration is recorded and converted: complete, checksums matching.
      const manifests = await expectComplete(join(out, killed))
      expect(manifests).toContain('x-before/SHA256SUMS')
      // Whatever deckhand kept in the temporary folder was gone before the migration began.
      expect(await tempLeftovers()).toEqual([])
    } finally {
      killGroup(cli.pid!)
    }

    const rerun = await startCli(x, out, await migrateTo314(x)).ended
    expect(rerun.code).toBe(0)
    expect(rerun.stdout).toMatch(/is done and verified/)
    const after = (await readdir(out)).sort()
    expect(after).toHaveLength(3)
    expect(after.every((name) => FOLDER.test(name))).toBe(true)
    expect(await snapshot(join(out, earlier!))).toEqual(before)
    expect(await tempLeftovers()).toEqual([])
  }, 30_000)
})

describe('two runs into one output-dir at once', () => {
  test('each claims a folder of its own and holds its own cluster, neither written over', async () => {
    const a = await cluster('a', 5)
    const b = await cluster('b', 7)
    const out = join(dir, 'upgrades')
    const release = join(dir, 'release')
    const markers = [join(dir, 'a.pid'), join(dir, 'b.pid')]
    const runs = [
      startCli(a, out, blockingMigrate(markers[0]!, release)),
      startCli(b, out, blockingMigrate(markers[1]!, release)),
    ]
    try {
      // Both are mid-way at once, each with its folder claimed, before either goes on.
      await waitFor('both migrations to start', async () =>
        (await Promise.all(markers.map(exists))).every(Boolean),
      )
      await writeFile(release, '')
      const ended = await Promise.all(runs.map((run) => run.ended))
      for (const run of ended) expect(run.stdout).toContain('rolled back')
      const claimed = (await readdir(out)).sort()
      expect(claimed).toHaveLength(2)
      expect(claimed.every((name) => FOLDER.test(name))).toBe(true)
      // Each folder's record is its own cluster's, complete.
      const retries = await Promise.all(
        claimed.map(async (name) => {
          await expectComplete(join(out, name))
          const record = parse(await readFile(join(out, name, 'x-before', 'default.yaml'), 'utf8')) as {
            services: Entity[]
          }
          return record.services.find((s) => s.name === 'shop')?.retries
        }),
      )
      expect(retries.sort()).toEqual([5, 7])
      expect(await tempLeftovers()).toEqual([])
    } finally {
      for (const run of runs) killGroup(run.pid!)
    }
  }, 30_000)
})

describe('a hostile output-dir', () => {
  test('a file: one clear line naming it, the file as it was', async () => {
    const x = await cluster('x')
    const out = join(dir, 'upgrades')
    await writeFile(out, 'not a folder\n')
    const run = await startCli(x, out, 'exit 3').ended
    expect(run.code).toBe(1)
    expect(said(run)).toContain(`output-dir ${out} cannot be written`)
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/\n\s+at /)
    expect(await readFile(out, 'utf8')).toBe('not a folder\n')
  }, 20_000)

  test('folders and links already named as the claim: a new name, nothing of theirs or behind the links written', async () => {
    const x = await cluster('x')
    const out = join(dir, 'upgrades')
    const elsewhere = join(dir, 'elsewhere')
    await mkdir(out)
    await mkdir(elsewhere)
    // Every name this run could claim in the next seconds is taken: a folder of someone's, or a link out.
    const now = Date.now()
    for (let s = 0; s < 20; s++) {
      const name = `upgrade-${timestamp(new Date(now + s * 1000))}`
      if (s % 2 === 0) {
        await mkdir(join(out, name))
        await writeFile(join(out, name, 'notes.txt'), `mine ${s}\n`)
      } else await symlink(elsewhere, join(out, name))
    }
    const before = await snapshot(out)
    const run = await startCli(x, out, 'exit 3').ended
    expect(run.stdout).toContain('rolled back')
    const after = await snapshot(out)
    const added = [...after.keys()].filter((name) => !before.has(name))
    const claimed = added.filter((name) => !name.includes('/'))
    expect(claimed).toHaveLength(1)
    expect(claimed[0]).toMatch(/^upgrade-\d{8}T\d{6}Z-2$/)
    expect(added.every((name) => name.startsWith(`${claimed[0]}/`) || name === claimed[0])).toBe(true)
    for (const [name, digest] of before) expect(after.get(name)).toBe(digest)
    expect(await readdir(elsewhere)).toEqual([])
  }, 20_000)

  test('a link to nowhere: one clear line, nothing created where it points', async () => {
    const x = await cluster('x')
    const out = join(dir, 'upgrades')
    const target = join(dir, 'gone', 'upgrades')
    await symlink(target, out)
    const run = await startCli(x, out, 'exit 3').ended
    expect(run.code).toBe(1)
    expect(said(run)).toContain(`output-dir ${out} cannot be written`)
    await expect(readdir(join(dir, 'gone'))).rejects.toThrow(/ENOENT/)
  }, 20_000)
})
