import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'

import { runBundledAction } from '../support/action.js'

/**
 * db-restore trusts no path a manifest names: the dump must lie inside the backup folder and be among the
 * files the manifest checksums. Both are refused before any database is contacted.
 */

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deckhand-manifest-'))
})
afterEach(() => rm(dir, { recursive: true, force: true }))

async function backup(dump: unknown, files: unknown[]): Promise<string> {
  const folder = join(dir, 'kong-20261206T000000Z')
  await mkdir(folder, { recursive: true })
  // What a hostile manifest would run instead: SQL outside the backup.
  await writeFile(join(dir, 'evil.sql'), 'DROP TABLE services;\n')
  await writeFile(
    join(folder, 'manifest.json'),
    JSON.stringify({
      format: 'deckhand-db/1',
      engine: 'postgres',
      database: 'kong',
      files,
      dump,
      tables: [],
    }),
  )
  return folder
}

describe('db-restore and a hostile manifest', () => {
  test.each([
    ['a path out of the folder', '../evil.sql', /is not a path inside the backup folder/],
    ['an absolute path', join('/tmp', 'evil.sql'), /is not a path inside the backup folder/],
    ['a dump the manifest does not checksum', 'dump.sql', /is not among the files it checksums/],
  ])('%s is refused before any database is contacted', async (_what, path, message) => {
    const folder = await backup({ path, format: 'plain' }, [])
    const run = await runBundledAction('db-restore', {
      input: folder,
      // Nothing listens here: reaching it would fail differently.
      'database-url': 'postgres://kong:pw@127.0.0.1:9/kong',
    })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(message)
    expect(run.stdout).toContain('the backup')
    expect(run.stdout).not.toMatch(/connection refused|could not connect/i)
  })
})
