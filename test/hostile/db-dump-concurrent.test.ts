import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import { loadKongDatabase } from '../../script/kong-db.mjs'
import { type PostgresServer, startPostgres } from '../../script/servers.mjs'
import { readManifest, verifyFiles } from '../../actions/engine/backup/manifest.js'
import { pendingFolder } from '../../actions/engine/database/folder.js'
import { runCli } from '../support/action.js'

/**
 * Dumps into one output-dir at the same second share a folder name (<database>-<UTC time to the second>):
 * each must still end up complete, in a folder of its own, and never in another's.
 */

let work: string

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'deckhand-concurrent-'))
})
afterAll(() => rm(work, { recursive: true, force: true }))

describe('backup folders of the same name', () => {
  test('committed at the same moment: every one lands in a folder of its own, with its own files', async () => {
    const dir = join(work, 'race')
    const name = 'kong-20261206T000000Z'
    const pending = await Promise.all(Array.from({ length: 12 }, () => pendingFolder(dir, name)))
    await Promise.all(pending.map((p, i) => writeFile(join(p.path, 'which'), String(i))))
    const outcomes = await Promise.allSettled(pending.map((p) => p.commit()))
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([])
    const folders = outcomes.map((o) => (o as PromiseFulfilledResult<string>).value)
    expect(new Set(folders).size).toBe(12)
    for (const [i, folder] of folders.entries())
      expect(await readFile(join(folder, 'which'), 'utf8')).toBe(String(i))
    expect((await readdir(dir)).sort()).toEqual(
      [name, ...Array.from({ length: 11 }, (_, i) => `${name}-${i + 2}`)].sort(),
    )
  })
})

describe('two db-dumps of one database into one folder at once', () => {
  let pg: PostgresServer
  beforeAll(async () => {
    pg = await startPostgres({ user: 'kong' })
    await loadKongDatabase(pg, 'kong', {})
  }, 120_000)
  afterAll(async () => pg?.stop())

  test('both complete, in distinct folders, each matching its own manifest', async () => {
    const out = join(work, 'backups')
    const dump = () =>
      runCli(['db-dump', '--format', 'custom', '--profile', 'none', '--output-dir', out, '--json'], {
        env: { PATH: process.env.PATH ?? '', HOME: work, DECKHAND_DATABASE_URL: pg.url('kong') },
      })
    // Started just after a second begins, so that both name their folder after the same second.
    await sleep(1000 - (Date.now() % 1000) + 20)
    const runs = await Promise.all([dump(), dump()])
    for (const run of runs) {
      expect(run.stderr).not.toContain('deckhand:')
      expect(run.code).toBe(0)
    }
    const [a, b] = runs.map((run) => JSON.parse(run.stdout).path as string)
    expect(a).not.toBe(b)
    expect((await readdir(out)).sort()).toEqual([a, b].map((p) => p!.split('/').pop()).sort())
    const started: string[] = []
    for (const folder of [a!, b!]) {
      const { manifest } = await readManifest(folder)
      expect(manifest.database).toBe('kong')
      expect(await verifyFiles(folder, manifest.files)).toEqual([])
      started.push(manifest.startedAt.replace(/\.\d+Z$/, ''))
    }
    // Dumps of the same second: one name, claimed by the first to finish, and the same with -2 for the other.
    if (started[0] === started[1]) expect(new Set([a, b].map((p) => p!.replace(/-2$/, ''))).size).toBe(1)
  })
})
