/**
 * The README's pictures of a job summary and a drift commit are real: this test makes them again with the
 * bundled actions against the deck double (test/deck-double/) and a git remote on disk, and compares them with
 * the README's blocks. Times, commit ids and temporary paths are normalised. UPDATE_PICTURES=1 rewrites the blocks.
 */
import { afterAll, expect, test } from '@jest/globals'
import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { type ActionRun, ROOT, runBundledAction } from './support/action.js'
import { copyFixture, doubleEnv, type GatewayFixture, workdir } from './support/deck-double.js'
import { commitAs, gitSandbox } from './support/git.js'

const cleanups: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const README = join(ROOT, 'README.md')
/** An age public key: the dump only encrypts, nothing here decrypts. */
const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p'

interface Named {
  name: string
  [key: string]: unknown
}

/** What changed behind git's back overnight: a route gained a path, retries went down, a service came and one went. */
function drift(fixture: GatewayFixture): void {
  const ws = (fixture.workspaces as Record<string, { services: Named[] }>).default!
  const billing = ws.services.find((s) => s.name === 'billing-api')!
  ;(billing.routes as Named[]).find((r) => r.name === 'billing-invoices')!.paths = [
    '/billing/invoices',
    '/v2/billing/invoices',
  ]
  billing.retries = 3
  ws.services = ws.services.filter((s) => s.name !== 'inventory')
  ws.services.push({ name: 'search', host: 'search.internal', port: 8080, protocol: 'http' })
}

/** A stable stand-in for a commit id: the same text always gets the same one. */
const fakeSha = (seed: string) => createHash('sha1').update(seed).digest('hex')

async function makePictures(): Promise<{ summary: string; commit: string }> {
  const w = await workdir()
  cleanups.push(w.cleanup)
  const box = await gitSandbox()
  cleanups.push(box.cleanup)
  const seed = await box.clone('seed')
  await writeFile(join(seed, 'README.md'), '# gateway configuration\n')
  await box.git(seed, ['add', 'README.md'])
  await commitAs(box.git, seed, 'Start the gateway configuration repository')
  await box.git(seed, ['push', '--quiet', 'origin', 'HEAD:main'])
  const runner = await box.clone('runner')

  const gateway = await copyFixture('enterprise.yaml', w.dir)
  const double = doubleEnv({ gateway, log: w.log })
  const env = { ...box.env, ...double, GITHUB_WORKSPACE: runner, GITHUB_REF: 'refs/heads/main' }
  const night = async (): Promise<ActionRun> => {
    const dump = await runBundledAction(
      'dump',
      {
        'kong-addr': 'http://127.0.0.1:8001',
        'kong-admin-token': 'kong-admin-s3cret',
        'all-workspaces': 'true',
        'output-dir': 'kong',
        'age-recipients': RECIPIENT,
      },
      { cwd: runner, env },
    )
    expect(dump.exitCode).toBe(0)
    const commit = await runBundledAction('commit', { path: 'kong' }, { cwd: runner, env })
    expect(commit.exitCode).toBe(0)
    return dump
  }
  await night()
  await copyFixture('enterprise.yaml', w.dir, drift)
  const dump = await night()

  // The job summary's opening and its table of redactions. Left out: the entity and per-value tables (long), and
  // the note that live schemas could not be read (the deck double serves no Admin API of its own).
  const blocks = dump.summary.trim().split(/\n\n+/)
  const summary = blocks
    .filter((b) => !b.startsWith('Schemas not read') && !b.includes('Entities per workspace'))
    .filter((b) => !b.startsWith('<details>') && !b.startsWith('<table><thead>') && b !== '</details>')
    .join('\n\n')
    // Quoted, its heading in bold, so that it reads as a picture and adds no section to the README.
    .replace(/^## (.+)$/m, '**$1**')
    .split('\n')
    .map((line) => (line === '' ? '>' : `> ${line}`))
    .join('\n')

  const log = await box.git(box.remotePath, ['log', '-1', '--stat', 'main'])
  const normalised = log
    .replace(/^Date: .*$/m, 'Date:   Sat Nov 21 03:07:14 2026 +0000')
    .replace(/Deckhand-Dump: kong \S+/, 'Deckhand-Dump: kong 2026-11-21T03:07:12.418Z')
    .trimEnd()
  const commit = normalised.replace(
    /^commit [0-9a-f]{40}$/m,
    `commit ${fakeSha(normalised.replace(/^commit .*$/m, ''))}`,
  )
  return { summary, commit: ['```text', `$ git log -1 --stat`, commit, '```'].join('\n') }
}

function block(readme: string, name: string): { from: number; to: number } {
  const start = `<!-- picture:${name} -->\n`
  const end = `\n<!-- /picture:${name} -->`
  const from = readme.indexOf(start)
  const to = readme.indexOf(end)
  if (from < 0 || to < from) throw new Error(`README.md lacks the <!-- picture:${name} --> markers`)
  return { from: from + start.length, to }
}

test('the README pictures a real job summary and a real drift commit', async () => {
  const pictures = await makePictures()
  let readme = await readFile(README, 'utf8')
  for (const [name, text] of Object.entries(pictures)) {
    expect(text.split('\n').length).toBeLessThanOrEqual(25)
    const { from, to } = block(readme, name)
    if (process.env.UPDATE_PICTURES === '1') readme = readme.slice(0, from) + text + readme.slice(to)
    else expect(readme.slice(from, to)).toBe(text)
  }
  if (process.env.UPDATE_PICTURES === '1') await writeFile(README, readme)
}, 120_000)
