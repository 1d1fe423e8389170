import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'

import { runBundledAction } from '../support/action.js'
import { doubleEnv } from '../support/deck-double.js'

/**
 * dump deletes only its own files: what an earlier SHA256SUMS lists, still byte for byte what deckhand
 * wrote. A hand-edited or foreign manifest can make it delete nothing else.
 */

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deckhand-manifest-'))
})
afterEach(() => rm(dir, { recursive: true, force: true }))

const sha = (text: string) => createHash('sha256').update(text).digest('hex')

describe('dump and a hostile SHA256SUMS', () => {
  test("only files that are still deckhand's are removed; everything else is kept, with a warning", async () => {
    const out = join(dir, 'kong')
    const env = doubleEnv({ log: join(dir, 'calls.jsonl') })
    const inputs = {
      'kong-addr': 'http://127.0.0.1:8001',
      'kong-admin-token': 'kong-admin-s3cret',
      'all-workspaces': 'true',
      'output-dir': out,
    }
    expect((await runBundledAction('dump', inputs, { env })).exitCode).toBe(0)

    // An earlier workspace's file as deckhand wrote it, one edited since, the user's notes, and names
    // no manifest deckhand writes holds.
    const old = 'services: []\n'
    await writeFile(join(out, 'retired.yaml'), old)
    await writeFile(join(out, 'edited.yaml'), 'services: [] # kept by hand\n')
    await writeFile(join(out, 'NOTES.md'), 'runbook\n')
    await writeFile(join(dir, 'outside.txt'), 'not in the output folder\n')
    const sums = await readFile(join(out, 'SHA256SUMS'), 'utf8')
    await writeFile(
      join(out, 'SHA256SUMS'),
      sums +
        `${sha(old)}  retired.yaml\n${sha('services: []\n')}  edited.yaml\n${sha('other')}  NOTES.md\n` +
        `${sha('x')}  ..\n${sha('x')}  ../outside.txt\n${sha('x')}  .\n`,
    )

    const run = await runBundledAction('dump', inputs, { env })
    expect(run.exitCode).toBe(0)
    const files = (await readdir(out)).sort()
    expect(files).toEqual([
      'NOTES.md',
      'SHA256SUMS',
      'default.yaml',
      'edited.yaml',
      'required-env.txt',
      'sandbox.yaml',
      'team-payments.yaml',
    ])
    expect(await readFile(join(out, 'NOTES.md'), 'utf8')).toBe('runbook\n')
    expect(await readFile(join(dir, 'outside.txt'), 'utf8')).toBe('not in the output folder\n')
    expect(run.stdout).toMatch(/Kept edited\.yaml: it changed since deckhand wrote it/)
    expect(run.stdout).toMatch(/Removed retired\.yaml/)
    const manifest = await readFile(join(out, 'SHA256SUMS'), 'utf8')
    expect(manifest).not.toMatch(/NOTES|edited|retired|\.\./)
  })
})
