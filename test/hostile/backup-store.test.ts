import { execFile, execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'

import { CLI, runCli } from '../support/action.js'

/**
 * A backup store on its worst day: a run stopped (SIGTERM) or killed (SIGKILL) while it uploads leaves no
 * manifest, so the cut-short backup is never restored nor picked as latest, and a stop leaves no temporary file;
 * two runs at once store two whole backups; a full disk fails with one clear line and keeps every earlier
 * backup; a manifest edited to reach outside its folder, or an object swapped for another, is refused before
 * anything is written; a wrong age identity names the recipients.
 */

const exec = promisify(execFile)
let work: string
let identity: string
let recipient: string

const env = () => ({ PATH: process.env.PATH!, HOME: work, TMPDIR: join(work, 'tmp') })

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'deckhand-store-hostile-'))
  await mkdir(join(work, 'tmp'))
  identity = execFileSync('age-keygen', { stdio: ['ignore', 'pipe', 'ignore'] }).toString()
  recipient = execFileSync('age-keygen', ['-y'], { input: identity }).toString().trim()
})

afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

/** A folder of gateway files to back up: `size` bytes of random data in one file, and a small kong.conf. */
async function gatewayFiles(name: string, size: number): Promise<string> {
  const root = join(work, name)
  await mkdir(join(root, 'etc/kong'), { recursive: true })
  await writeFile(join(root, 'etc/kong/kong.conf'), `# ${name}\nproxy_listen = 0.0.0.0:8000\n`)
  await writeFile(join(root, 'etc/kong/blob.bin'), randomBytes(size))
  return root
}

function backup(root: string, store: string, extra: string[] = []) {
  return runCli(
    [
      'files-backup',
      '--paths',
      'etc/kong',
      '--root',
      root,
      '--output',
      join(root, '..', `${root.split('/').pop()}-${randomBytes(3).toString('hex')}.tar.gz`),
      '--store',
      store,
      ...extra,
    ],
    { env: env() },
  )
}

/** Every entry below a folder, hidden ones included. */
async function entries(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true }).catch(() => [] as string[])).map(String).sort()
}

async function listed(store: string): Promise<{ name: string; complete: boolean }[]> {
  const run = await runCli(['backups', 'list', '--store', store, '--json'], { env: env() })
  expect(run.code).toBe(0)
  return JSON.parse(run.stdout) as { name: string; complete: boolean }[]
}

async function restoreLatest(store: string, target: string, extra: string[] = []) {
  return runCli(['files-restore', '--input', 'latest', '--store', store, '--target', target, ...extra], {
    env: env(),
  })
}

describe('a run stopped or killed while it stores', () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    test(`${signal}: no manifest, never picked; the earlier backup stays latest${signal === 'SIGTERM' ? '; no temporary file left' : ''}`, async () => {
      const store = join(work, `store-${signal}`)
      const first = await backup(await gatewayFiles(`small-${signal}`, 1024), store)
      expect(first.code).toBe(0)
      const [earlier] = await listed(store)

      // A large, encrypted backup: the signal arrives while its objects are being written.
      const root = await gatewayFiles(`large-${signal}`, 48 * 1024 * 1024)
      const child = spawn(
        process.execPath,
        [
          CLI,
          'files-backup',
          '--paths',
          'etc/kong',
          '--root',
          root,
          '--output',
          join(work, `large-${signal}.tar`),
          '--store',
          store,
          '--age-recipients',
          recipient,
        ],
        { env: env(), stdio: 'ignore' },
      )
      const exited = new Promise<NodeJS.Signals | null>((done) => child.on('exit', (_code, sig) => done(sig)))
      const folder = join(store, 'files', 'files')
      let writing = false
      for (let i = 0; i < 3000 && !writing; i++) {
        const now = await readdir(folder).catch(() => [] as string[])
        for (const name of now.filter((n) => n !== earlier!.name))
          writing ||= (await readdir(join(folder, name)).catch(() => [])).length > 0
        if (!writing) await new Promise((r) => setTimeout(r, 10))
      }
      // The signal came while the new backup's objects were being written, and ended the run.
      expect(writing).toBe(true)
      child.kill(signal)
      expect(await exited).toBe(signal)

      const all = await listed(store)
      expect(all.filter((b) => b.complete).map((b) => b.name)).toEqual([earlier!.name])
      const target = join(work, `restored-${signal}`)
      const restored = await restoreLatest(store, target)
      expect(restored.code).toBe(0)
      expect(await readFile(join(target, 'etc/kong/kong.conf'), 'utf8')).toContain(`small-${signal}`)
      if (signal === 'SIGTERM') {
        expect((await entries(store)).filter((e) => e.endsWith('.tmp'))).toEqual([])
        expect(await entries(join(work, 'tmp'))).toEqual([])
      }
    }, 120_000)
  }
})

test('two runs at once store two whole backups, each restorable', async () => {
  const store = join(work, 'store-concurrent')
  const [a, b] = await Promise.all([
    backup(await gatewayFiles('conc-a', 4 * 1024 * 1024), store),
    backup(await gatewayFiles('conc-b', 4 * 1024 * 1024), store),
  ])
  expect([a.code, b.code]).toEqual([0, 0])
  const all = await listed(store)
  expect(all.map((x) => x.complete)).toEqual([true, true])
  for (const x of all) {
    const target = join(work, `conc-restored-${x.name}`)
    const run = await runCli(['files-restore', '--input', x.name, '--store', store, '--target', target], {
      env: env(),
    })
    expect(run.code).toBe(0)
    expect(await readFile(join(target, 'etc/kong/kong.conf'), 'utf8')).toMatch(/# conc-[ab]\n/)
  }
}, 60_000)

describe('a store someone else wrote into', () => {
  test('a manifest naming a file outside its folder is refused, nothing written', async () => {
    const store = join(work, 'store-traversal')
    expect((await backup(await gatewayFiles('trav', 512), store)).code).toBe(0)
    const [only] = await listed(store)
    const manifestPath = join(store, 'files', 'files', only!.name, 'deckhand-backup.json')
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'))
    manifest.files[0].name = '../../../../escaped.tar.gz'
    await writeFile(manifestPath, JSON.stringify(manifest))
    const target = join(work, 'trav-target')
    const run = await restoreLatest(store, target)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(
      'is not a deckhand backup manifest: a file entry names a path outside its folder',
    )
    expect(await entries(target)).toEqual([])
    expect((await entries(work)).filter((e) => e.includes('escaped'))).toEqual([])
  })

  test("an object swapped for another backup's is refused: its SHA-256 is not the manifest's", async () => {
    const store = join(work, 'store-swap')
    expect((await backup(await gatewayFiles('swap-1', 512), store)).code).toBe(0)
    expect((await backup(await gatewayFiles('swap-2', 512), store)).code).toBe(0)
    const [one, two] = await listed(store)
    const archiveOf = async (name: string) =>
      (await readdir(join(store, 'files', 'files', name))).find((f) => f.endsWith('.tar.gz'))!
    await writeFile(
      join(store, 'files', 'files', two!.name, await archiveOf(two!.name)),
      await readFile(join(store, 'files', 'files', one!.name, await archiveOf(one!.name))),
    )
    const run = await restoreLatest(store, join(work, 'swap-target'))
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/is damaged: its (size|SHA-256) differs from the manifest's/)
    expect(await entries(join(work, 'swap-target'))).toEqual([])
  })

  test("a wrong age identity names the backup's recipients and writes nothing", async () => {
    const store = join(work, 'store-identity')
    expect(
      (await backup(await gatewayFiles('ident', 512), store, ['--age-recipients', recipient])).code,
    ).toBe(0)
    const other = execFileSync('age-keygen', { stdio: ['ignore', 'pipe', 'ignore'] }).toString()
    const run = await runCli(
      ['files-restore', '--input', 'latest', '--store', store, '--target', join(work, 'ident-target')],
      { env: { ...env(), DECKHAND_AGE_IDENTITY: other } },
    )
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(
      /cannot be decrypted with the age identity given \(age:[0-9a-f]{16}\): it was encrypted to age:[0-9a-f]{16}/,
    )
    expect(run.stderr).not.toContain('AGE-SECRET-KEY')
    expect(await entries(join(work, 'ident-target'))).toEqual([])
  })
})

/** A 2 MiB tmpfs, or why there is none (mounting needs root, as CI runs the tests). */
async function smallDisk(): Promise<string | undefined> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined
  const dir = await mkdtemp(join(tmpdir(), 'deckhand-store-full-'))
  try {
    await exec('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir])
    return dir
  } catch {
    await rmdir(dir).catch(() => undefined)
    return undefined
  }
}

const disk = await smallDisk()
;(disk ? test : test.skip)(
  'a full disk: one clear line, the earlier backups whole, nothing half-written',
  async () => {
    try {
      const store = join(disk!, 'store')
      expect((await backup(await gatewayFiles('full-1', 256 * 1024), store)).code).toBe(0)
      const before = await entries(store)
      const run = await backup(await gatewayFiles('full-2', 3 * 1024 * 1024), store)
      expect(run.code).toBe(1)
      expect(run.stderr).toMatch(/No space left on/)
      expect(run.stderr).not.toMatch(/\n\s+at /)
      expect((await listed(store)).filter((b) => b.complete)).toHaveLength(1)
      expect((await entries(store)).filter((e) => e.endsWith('.tmp'))).toEqual([])
      expect(await entries(store)).toEqual(before)
      const restored = await restoreLatest(store, join(work, 'full-target'))
      expect(restored.code).toBe(0)
    } finally {
      await exec('umount', [disk!])
      await rmdir(disk!)
    }
  },
)
