import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'

import { DeckhandError } from '../../actions/engine/errors.js'
import { MAX_JSON_FILE_BYTES, readJsonFile } from '../../actions/engine/json-file.js'
import { readTykSyncFolder } from '../../actions/engine/tyk/tyk-sync.js'
import { runCli } from '../support/action.js'

/**
 * The JSON files deckhand reads besides state files (a backup's manifest, tyk-sync's files, the runner's event
 * payload) are refused from their size before they are read, and a broken one is named with a line and column:
 * JSON.parse's own message quotes the text around the fault, and the file may hold a secret.
 */

const SECRET = 'tyk-Sup3rS3cretKey'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deckhand-json-files-'))
})
afterEach(() => rm(dir, { recursive: true, force: true }))

describe('JSON files deckhand did not just write', () => {
  test('a broken file is named with line and column, and nothing of its text', async () => {
    const file = join(dir, 'x.json')
    await writeFile(file, `{\n  "auth": {"secret": "${SECRET}" "more": 1}\n}\n`)
    const err = await readJsonFile(file, 'test file').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DeckhandError)
    expect((err as Error).message).toBe(
      `${file} is not a valid test file: invalid JSON at line 2, column 43.`,
    )
  })

  test('a file larger than any such file is refused before it is read', async () => {
    const file = join(dir, 'huge.json')
    await writeFile(file, '')
    await truncate(file, MAX_JSON_FILE_BYTES + 1)
    await expect(readJsonFile(file, 'test file')).rejects.toThrow(/more than any test file holds/)
  })

  test('a tyk-sync definition that is broken says where, never what', async () => {
    await writeFile(join(dir, '.tyk.json'), JSON.stringify({ files: [{ file: 'api-1.json' }] }))
    await writeFile(join(dir, 'api-1.json'), `{"api_id": "1", "auth": {"secret": "${SECRET}",}}`)
    const err = await readTykSyncFolder(dir).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DeckhandError)
    expect((err as Error).message).toMatch(/api-1\.json is not a valid .* at line 1, column \d+\./)
    expect((err as Error).message).not.toContain(SECRET)
  })

  test('db-restore of a backup whose manifest is broken: one clear line, exit 1, nothing quoted', async () => {
    const backup = join(dir, 'kong-20261206T000000Z')
    await mkdir(backup)
    await writeFile(join(backup, 'manifest.json'), `{"format": 1, "note": "${SECRET}" oops}`)
    const run = await runCli(['db-restore', '--input', backup], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        DECKHAND_DATABASE_URL: 'postgres://kong@127.0.0.1:9/kong',
      },
    })
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(
      'manifest.json is not a valid deckhand database manifest: invalid JSON at line 1',
    )
    expect(run.stderr + run.stdout).not.toContain(SECRET)
    expect(run.stderr).not.toMatch(/unexpected error|\n\s+at /)
  })
})
