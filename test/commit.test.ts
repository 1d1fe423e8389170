import { afterEach, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { parseRecipients } from '../actions/engine/age.js'
import { sealBundle } from '../actions/engine/secrets/bundle.js'
import { type ActionRun, maskedValues, ROOT, runBundledAction, visibleLog } from './support/action.js'
import { type GitHubApi, startGitHubApi, WRITE_TOKEN } from './support/github-api.js'
import { startGitHttp } from './support/git-http.js'
import { type GitSandbox, gitSandbox, gitWithCompetitor, writeDump } from './support/git.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function sandbox(): Promise<GitSandbox> {
  const box = await gitSandbox()
  cleanups.push(() => box.cleanup())
  return box
}

/** The gateway as the seed commit has it. */
function gateway(): Record<string, unknown> {
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'orders',
        host: 'orders.internal',
        port: 8080,
        routes: [{ name: 'orders', paths: ['/orders'], strip_path: true }],
      },
      {
        name: 'legacy',
        host: 'legacy.internal',
        port: 80,
        plugins: [{ name: 'rate-limiting', config: { minute: 60, policy: 'local' } }],
      },
    ],
    consumers: [{ username: 'alice', keyauth_credentials: [{ key: 'alice-secret-key-123' }] }],
  }
}

/** The same gateway after someone changed it through the Admin API. */
function drifted(): Record<string, unknown> {
  const state = gateway() as { services: Record<string, unknown>[] }
  state.services.push({ name: 'billing', host: 'billing.internal', port: 8443 })
  ;(state.services[0]!.routes as Record<string, unknown>[])[0]!.paths = ['/orders', '/v2/orders']
  delete state.services[1]!.plugins
  return state
}

/** The drifted gateway after one more service appeared. */
function withSearch(): Record<string, unknown> {
  const state = drifted() as { services: Record<string, unknown>[] }
  state.services.push({ name: 'search', host: 'search.internal', port: 80 })
  return state
}

/** A remote whose main holds a dump of {@link gateway} in kong/ and a README, and one runner's clone. */
async function seeded(box: GitSandbox): Promise<void> {
  const seed = await box.clone('seed')
  await writeDump(join(seed, 'kong'), { default: gateway() }, { time: new Date('2026-11-20T00:00:00Z') })
  await writeFile(join(seed, 'README.md'), '# gateway config\n')
  await box.git(seed, ['add', '--all'])
  await box.git(seed, [
    '-c',
    'user.name=Seed',
    '-c',
    'user.email=seed@example.com',
    'commit',
    '-q',
    '-m',
    'seed',
  ])
  await box.git(seed, ['push', '-q', 'origin', 'HEAD:main'])
}

async function commitAction(
  box: GitSandbox,
  cwd: string,
  inputs: Record<string, string> = {},
  env: Record<string, string> = {},
): Promise<ActionRun> {
  return runBundledAction(
    'commit',
    { path: 'kong', 'push-retries': '5', ...inputs },
    { cwd, env: { ...box.env, GITHUB_WORKSPACE: cwd, ...env } },
  )
}

/** An age public key (its identity is not needed: nothing here decrypts). */
const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p'

/** A blob of the remote, as bytes. */
function gitBytes(box: GitSandbox, object: string): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    execFile(
      'git',
      ['cat-file', 'blob', object],
      { cwd: box.remotePath, env: box.env, encoding: 'buffer', maxBuffer: 64 * 2 ** 20 },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    ),
  )
}

async function remoteLog(box: GitSandbox, ref = 'main'): Promise<string[]> {
  return (await box.git(box.remotePath, ['log', '--format=%s', ref])).trim().split('\n')
}

async function tip(box: GitSandbox, ref = 'main'): Promise<string> {
  return (await box.git(box.remotePath, ['rev-parse', ref])).trim()
}

describe('commit: push mode', () => {
  it('makes no commit when the dump is unchanged', async () => {
    const box = await sandbox()
    await seeded(box)
    const runner = await box.clone('runner')
    // A new dump of the same gateway: every file rewritten, byte-identical.
    await writeDump(join(runner, 'kong'), { default: gateway() })
    const before = await tip(box)

    const run = await commitAction(box, runner)

    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ changed: 'false', 'commit-sha': '', added: '0', removed: '0' })
    expect(await tip(box)).toBe(before)
    expect(run.summary).toContain('No drift')
  })

  it('commits a changed dump once, naming the entities that drifted', async () => {
    const box = await sandbox()
    await seeded(box)
    const runner = await box.clone('runner')
    await writeDump(join(runner, 'kong'), { default: drifted() }, { time: new Date('2026-11-21T03:07:12Z') })

    const run = await commitAction(box, runner)

    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ changed: 'true', added: '1', 'changed-entities': '1', removed: '1' })
    expect(run.outputs['commit-sha']).toBe(await tip(box))
    expect(await remoteLog(box)).toEqual(['Gateway drift in kong: 1 added, 1 changed, 1 removed', 'seed'])
    const message = await box.git(box.remotePath, ['log', '-1', '--format=%B', 'main'])
    expect(message).toContain('+ service billing')
    expect(message).toMatch(/~ service orders \/ route orders \(paths\)/)
    expect(message).toMatch(/- service legacy \/ plugin rate-limiting/)
    expect(message).toContain('Deckhand-Dump: kong 2026-11-21T03:07:12.000Z')
    const author = await box.git(box.remotePath, ['log', '-1', '--format=%an <%ae>', 'main'])
    expect(author.trim()).toBe('github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>')
    // The summary has the report with field values. The checkout is left as it was (commit never writes it)
    // and the summary says how to bring it to the commit.
    expect(run.summary).toContain('billing')
    expect(run.summary).toContain('/v2/orders')
    const seed = (await box.git(box.remotePath, ['rev-parse', 'main^'])).trim()
    expect((await box.git(runner, ['rev-parse', 'HEAD'])).trim()).toBe(seed)
    expect(run.summary).toContain('`git pull --ff-only --autostash` brings main to the new commit')
    const who = ['-c', 'user.name=Dana Operator', '-c', 'user.email=dana@example.com']
    await box.git(runner, [...who, 'pull', '--quiet', '--ff-only', '--autostash'])
    expect((await box.git(runner, ['rev-parse', 'HEAD'])).trim()).toBe(run.outputs['commit-sha'])
    expect(await box.git(runner, ['status', '--porcelain'])).toBe('')

    // A second run over the same files has nothing left to commit.
    const again = await commitAction(box, runner)
    expect(again.outputs.changed).toBe('false')
    expect(await remoteLog(box)).toHaveLength(2)
  })

  it('works from a shallow, detached checkout while someone else pushed meanwhile', async () => {
    const box = await sandbox()
    await seeded(box)
    const runner = await box.clone('runner', { depth: 1, detached: true })
    const human = await box.pushFromElsewhere(
      { 'README.md': '# gateway config\n\nOwned by the platform team.\n' },
      'docs',
    )
    await writeDump(join(runner, 'kong'), { default: drifted() })

    const run = await commitAction(box, runner, {}, { GITHUB_REF: 'refs/heads/main' })

    expect(run.exitCode).toBe(0)
    expect(run.outputs.changed).toBe('true')
    expect(await remoteLog(box)).toEqual([
      'Gateway drift in kong: 1 added, 1 changed, 1 removed',
      'docs',
      'seed',
    ])
    expect((await box.git(box.remotePath, ['rev-parse', 'main^'])).trim()).toBe(human)
    expect(await box.git(box.remotePath, ['show', 'main:README.md'])).toContain('platform team')
  })

  it('refuses a detached checkout that names no branch', async () => {
    const box = await sandbox()
    await seeded(box)
    const runner = await box.clone('runner', { detached: true })
    await writeDump(join(runner, 'kong'), { default: drifted() })
    const run = await commitAction(box, runner, {}, { GITHUB_REF: 'refs/tags/v1' })
    expect(run.exitCode).toBe(1)
    expect(visibleLog(run.stdout)).toContain('HEAD is detached')
  })

  it('lands every commit of 8 runs pushing to one branch at once', async () => {
    const box = await sandbox()
    await seeded(box)
    const runners = await Promise.all(
      Array.from({ length: 8 }, (_, i) => box.clone(`runner-${i}`, { depth: 1, detached: true })),
    )
    // Eight gateways, each dumped into its own folder of one repository (a matrix job).
    await Promise.all(
      runners.map((runner, i) =>
        writeDump(join(runner, 'gateways', `gw${i}`), {
          default: {
            _format_version: '3.0',
            services: [{ name: `svc-${i}`, host: `h${i}.internal`, port: 80 }],
          },
        }),
      ),
    )

    const runs = await Promise.all(
      runners.map((runner, i) =>
        commitAction(box, runner, { path: `gateways/gw${i}` }, { GITHUB_REF: 'refs/heads/main' }),
      ),
    )

    for (const run of runs) {
      expect({ exitCode: run.exitCode, log: run.exitCode === 0 ? '' : visibleLog(run.stdout) }).toEqual({
        exitCode: 0,
        log: '',
      })
      expect(run.outputs.changed).toBe('true')
    }
    const subjects = await remoteLog(box)
    expect(subjects).toHaveLength(9)
    expect(subjects.filter((s) => /^Gateway drift in gateways\/gw\d: 1 added/.test(s)).sort()).toEqual(
      Array.from({ length: 8 }, (_, i) => `Gateway drift in gateways/gw${i}: 1 added, 0 changed, 0 removed`),
    )
    // A straight line of commits, each pushed commit in it, each folder as its run wrote it.
    expect((await box.git(box.remotePath, ['rev-list', '--min-parents=2', 'main'])).trim()).toBe('')
    const history = (await box.git(box.remotePath, ['rev-list', 'main'])).trim().split('\n')
    for (const [i, run] of runs.entries()) {
      expect(history).toContain(run.outputs['commit-sha'])
      expect(await box.git(box.remotePath, ['show', `main:gateways/gw${i}/default.yaml`])).toContain(
        `svc-${i}`,
      )
    }
  }, 120_000)

  it('fetches, merges and retries when another push lands between fetch and push', async () => {
    const box = await sandbox()
    await seeded(box)
    const runner = await box.clone('runner')
    await writeDump(join(runner, 'kong'), { default: drifted() })
    const competitor = await competitorScript(box)
    const bin = await gitWithCompetitor(box, competitor, 1)

    const run = await commitAction(box, runner, {}, { PATH: `${bin}:${box.env.PATH}` })

    expect(run.exitCode).toBe(0)
    expect(visibleLog(run.stdout)).toMatch(
      /main moved while pushing \(\[rejected\] \(non-fast-forward\)|fetch first/,
    )
    expect(await remoteLog(box)).toEqual([
      'Gateway drift in kong: 1 added, 1 changed, 1 removed',
      'competitor 0',
      'seed',
    ])
    expect(await box.git(box.remotePath, ['show', 'main:NOTES-0.md'])).toBe('competitor 0\n')
  })

  it('gives up after push-retries rejections, losing nothing', async () => {
    const box = await sandbox()
    await seeded(box)
    const runner = await box.clone('runner')
    await writeDump(join(runner, 'kong'), { default: drifted() })
    const written = await readFile(join(runner, 'kong', 'default.yaml'), 'utf8')
    const bin = await gitWithCompetitor(box, await competitorScript(box), 100)

    const run = await commitAction(box, runner, { 'push-retries': '1' }, { PATH: `${bin}:${box.env.PATH}` })

    expect(run.exitCode).toBe(1)
    expect(visibleLog(run.stdout)).toContain('rejected 2 time(s) because the branch kept moving')
    expect(await remoteLog(box)).toEqual(['competitor 1', 'competitor 0', 'seed'])
    expect(await readFile(join(runner, 'kong', 'default.yaml'), 'utf8')).toBe(written)
  })
})

describe('commit: two dumps of one gateway', () => {
  /** Two runners: slow dumped the drift first, fast a minute later, when a search service had appeared too. */
  async function twoDumps(box: GitSandbox): Promise<{ slow: string; fast: string }> {
    const [slow, fast] = [await box.clone('slow'), await box.clone('fast')]
    await writeDump(join(slow, 'kong'), { default: drifted() }, { time: new Date('2026-11-21T03:00:00Z') })
    await writeDump(join(fast, 'kong'), { default: withSearch() }, { time: new Date('2026-11-21T03:01:00Z') })
    return { slow, fast }
  }

  it('keeps the newer dump when an older one arrives second', async () => {
    const box = await sandbox()
    await seeded(box)
    const { slow, fast } = await twoDumps(box)
    // fast pushes first.

    expect((await commitAction(box, fast)).outputs.changed).toBe('true')
    const late = await commitAction(box, slow)

    expect(late.exitCode).toBe(0)
    expect(late.outputs.changed).toBe('false')
    expect(late.summary).toContain('already had a newer dump')
    expect(await box.git(box.remotePath, ['show', 'main:kong/default.yaml'])).toContain('search')
    expect(await remoteLog(box)).toHaveLength(2)
  })

  it("replaces an older dump with a newer one, keeping a person's change to another file", async () => {
    const box = await sandbox()
    await seeded(box)
    const { slow, fast } = await twoDumps(box)
    await writeFile(join(fast, 'kong', 'NOTES.md'), 'Kong prod: ask #platform before syncing.\n')

    expect((await commitAction(box, slow)).outputs.changed).toBe('true')
    await box.pushFromElsewhere({ 'README.md': '# gateway config\n\nedited\n' }, 'docs')
    const run = await commitAction(box, fast)

    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ changed: 'true', added: '1', 'changed-entities': '0', removed: '0' })
    expect(await box.git(box.remotePath, ['show', 'main:kong/default.yaml'])).toContain('search')
    expect(await box.git(box.remotePath, ['show', 'main:kong/NOTES.md'])).toContain('#platform')
    expect(await box.git(box.remotePath, ['show', 'main:README.md'])).toContain('edited')
  })

  it("stops when a file that is not the dump's changed on both sides", async () => {
    const box = await sandbox()
    await seeded(box)
    const runner = await box.clone('runner')
    await writeDump(join(runner, 'kong'), { default: drifted() })
    await writeFile(join(runner, 'kong', 'NOTES.md'), 'mine\n')
    await box.pushFromElsewhere({ 'kong/NOTES.md': 'theirs\n' }, 'notes')
    const before = await tip(box)

    const run = await commitAction(box, runner)

    expect(run.exitCode).toBe(1)
    expect(visibleLog(run.stdout)).toContain('kong/NOTES.md')
    expect(visibleLog(run.stdout)).toContain('not deckhand dump files')
    expect(await tip(box)).toBe(before)
    expect(await readFile(join(runner, 'kong', 'NOTES.md'), 'utf8')).toBe('mine\n')
  })
})

describe('commit: secrets', () => {
  it('refuses files holding a secret value, naming file and line but not the value', async () => {
    const box = await sandbox()
    await seeded(box)
    const runner = await box.clone('runner')
    await writeDump(join(runner, 'kong'), { default: drifted() }, { redact: false })
    const before = await tip(box)

    const run = await commitAction(box, runner)

    expect(run.exitCode).toBe(1)
    const text = await readFile(join(runner, 'kong', 'default.yaml'), 'utf8')
    const line = text.split('\n').findIndex((l) => l.includes('alice-secret-key-123')) + 1
    expect(line).toBeGreaterThan(0)
    expect(run.stdout).toContain(`::error title=Unredacted secret,file=kong/default.yaml,line=${line}::`)
    expect(run.stdout + run.stderr + run.summary).not.toContain('alice-secret-key-123')
    expect(await tip(box)).toBe(before)
  })

  it("refuses secrets only Kong's schemas or their values reveal, one finding per line", async () => {
    const box = await sandbox()
    await seeded(box)
    const runner = await box.clone('runner')
    const planted = {
      loggly: ['lg', 'Zx9Qw3Ek7Rt5'].join('-'),
      llm: ['llm', 'Yu1Io0Pa4Sd'].join('-'),
      url: ['pw', 'Fg6Hj8Kl'].join('-'),
    }
    const state = drifted() as { plugins?: unknown[] }
    state.plugins = [
      { name: 'loggly', config: { key: planted.loggly } },
      { name: 'ai-proxy', config: { auth: { header_name: 'x-api-key', header_value: planted.llm } } },
      {
        name: 'zipkin',
        config: { http_endpoint: `https://zipkin:${planted.url}@traces.internal/api/v2/spans` },
      },
    ]
    await writeDump(join(runner, 'kong'), { default: state }, { redact: false })
    const before = await tip(box)

    const run = await commitAction(box, runner)

    expect(run.exitCode).toBe(1)
    const lines = (await readFile(join(runner, 'kong', 'default.yaml'), 'utf8')).split('\n')
    for (const value of Object.values(planted)) {
      const line = lines.findIndex((l) => l.includes(value)) + 1
      expect(line).toBeGreaterThan(0)
      expect(run.stdout).toContain(`::error title=Unredacted secret,file=kong/default.yaml,line=${line}::`)
      expect(run.stdout + run.stderr + run.summary).not.toContain(value)
    }
    expect(await tip(box)).toBe(before)
  })

  it('refuses a state file it cannot parse, since it cannot check it, and never quotes it', async () => {
    const box = await sandbox()
    await seeded(box)
    const runner = await box.clone('runner')
    const secret = ['plain', 'Zx9Qw3Ek7Rt5'].join('-')
    await writeFile(
      join(runner, 'kong', 'default.yaml'),
      `consumers:\n- keyauth_credentials:\n  - key: "${secret}\n`,
    )
    const before = await tip(box)

    const run = await commitAction(box, runner)

    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(
      /::error title=Unredacted secret,file=kong\/default\.yaml,line=\d+::.*cannot be checked for secrets/,
    )
    expect(run.stdout + run.stderr + run.summary).not.toContain(secret)
    expect(await tip(box)).toBe(before)
  })

  it('commits secrets.age when it is age-encrypted, byte for byte', async () => {
    const box = await sandbox()
    await seeded(box)
    const runner = await box.clone('runner')
    await writeDump(join(runner, 'kong'), { default: drifted() })
    const values = new Map([['DECK_DEFAULT_CONSUMER_ALICE_KEYAUTH_1_KEY', 'alice-secret-key-123']])
    const bundle = await sealBundle(values, parseRecipients([RECIPIENT]))
    await writeFile(join(runner, 'kong', 'secrets.age'), bundle.bytes)

    const run = await commitAction(box, runner)

    expect(run.exitCode).toBe(0)
    expect(run.outputs.changed).toBe('true')
    const committed = await gitBytes(box, 'main:kong/secrets.age')
    expect(committed.equals(Buffer.from(bundle.bytes))).toBe(true)
  })

  it('refuses a plaintext file named secrets.age, and a decrypted bundle under any name', async () => {
    const box = await sandbox()
    await seeded(box)
    const plaintext = `{"format": "deckhand-secrets/1", "variables": {"DECK_X": "alice-secret-key-123"}}\n`
    for (const name of ['secrets.age', 'secrets.json', 'notes.txt']) {
      const runner = await box.clone(`runner-${name}`)
      await writeDump(join(runner, 'kong'), { default: drifted() })
      await writeFile(join(runner, 'kong', name), plaintext)
      const before = await tip(box)

      const run = await commitAction(box, runner)

      expect(run.exitCode).toBe(1)
      expect(run.stdout).toContain(`::error title=Unredacted secret,file=kong/${name},line=1::`)
      expect(run.stdout).toMatch(
        name === 'secrets.age'
          ? /is not age-encrypted: it may hold the secrets in plain text/
          : /decrypted secret bundle/,
      )
      expect(run.stdout + run.stderr + run.summary).not.toContain('alice-secret-key-123')
      expect(await tip(box)).toBe(before)
    }
  })

  it('masks the token and never passes it on a command line', async () => {
    const box = await sandbox()
    await seeded(box)
    const runner = await box.clone('runner')
    await writeDump(join(runner, 'kong'), { default: drifted() })
    const run = await commitAction(box, runner, { 'github-token': WRITE_TOKEN })
    expect(run.exitCode).toBe(0)
    expect(maskedValues(run.stdout)).toContain(WRITE_TOKEN)
    expect(visibleLog(run.stdout)).not.toContain(WRITE_TOKEN)
  })
})

describe('commit: credentials', () => {
  it('pushes over HTTP with github-token as a header, in place of the credentials the checkout persisted', async () => {
    const box = await sandbox()
    await seeded(box)
    const http = await startGitHttp(box.remotePath, WRITE_TOKEN)
    cleanups.push(() => http.close())
    const runner = await box.clone('runner')
    await box.git(runner, ['remote', 'set-url', 'origin', `${http.url}/remote.git`])
    // What actions/checkout leaves behind: a header with its own (here: expired) token.
    const expired = Buffer.from('x-access-token:ghs_expired0000000000000000000000000000').toString('base64')
    await box.git(runner, ['config', `http.${http.url}/.extraheader`, `AUTHORIZATION: basic ${expired}`])
    await writeDump(join(runner, 'kong'), { default: drifted() })
    const env = { GITHUB_SERVER_URL: http.url }

    const run = await commitAction(box, runner, { 'github-token': WRITE_TOKEN }, env)

    expect(run.exitCode).toBe(0)
    expect(await tip(box)).toBe(run.outputs['commit-sha'])
    expect(http.requests.length).toBeGreaterThan(0)
    expect(http.requests.every((r) => r.authorizations === 1 && r.accepted)).toBe(true)
    // Nothing of the token was written to the repository's configuration.
    const config = await readFile(join(runner, '.git', 'config'), 'utf8')
    expect(config).not.toContain(WRITE_TOKEN)
    expect(config).not.toContain(Buffer.from(`x-access-token:${WRITE_TOKEN}`).toString('base64'))
    expect(maskedValues(run.stdout)).toContain(
      Buffer.from(`x-access-token:${WRITE_TOKEN}`).toString('base64'),
    )

    // Without github-token, git uses what it has: the expired header, which the server refuses.
    await writeDump(join(runner, 'kong'), { default: withSearch() })
    const refused = await commitAction(box, runner, { 'github-token': '' }, env)
    expect(refused.exitCode).toBe(1)
    expect(visibleLog(refused.stdout)).toContain('git could not authenticate to the remote')
  })
})

describe('commit: pull-request mode', () => {
  async function api(
    box: GitSandbox,
    options: Parameters<typeof startGitHubApi>[0] = {},
  ): Promise<GitHubApi> {
    const started = await startGitHubApi({
      branchExists: async (name) =>
        (await box.git(box.remotePath, ['branch', '--list', name]).catch(() => '')).trim() !== '',
      ...options,
    })
    cleanups.push(() => started.close())
    return started
  }

  function prEnv(github: GitHubApi): Record<string, string> {
    return {
      GITHUB_API_URL: github.url,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: github.repository,
      GITHUB_REF: 'refs/heads/main',
    }
  }

  it('creates the drift pull request, then updates the same one, then closes it when the drift is gone', async () => {
    const box = await sandbox()
    await seeded(box)
    const github = await api(box)
    const runner = await box.clone('runner')
    await writeDump(join(runner, 'kong'), { default: drifted() })
    const inputs = { mode: 'pull-request', 'github-token': WRITE_TOKEN }

    const first = await commitAction(box, runner, inputs, prEnv(github))
    expect(first.exitCode).toBe(0)
    expect(first.outputs).toMatchObject({ changed: 'true', branch: 'deckhand/drift', added: '1' })
    const pulls = github.pulls()
    expect(pulls).toHaveLength(1)
    expect(first.outputs['pull-request-number']).toBe(String(pulls[0]!.number))
    expect(first.outputs['pull-request-url']).toBe(pulls[0]!.html_url)
    expect(pulls[0]!.body).toContain('billing')
    expect(pulls[0]!).toMatchObject({ state: 'open', head: { ref: 'deckhand/drift' }, base: { ref: 'main' } })
    // One commit on top of main; main itself untouched.
    expect(await remoteLog(box)).toEqual(['seed'])
    expect(await remoteLog(box, 'deckhand/drift')).toEqual([
      'Gateway drift in kong: 1 added, 1 changed, 1 removed',
      'seed',
    ])

    // The gateway drifted further: the branch is replaced, the same pull request updated.
    await writeDump(join(runner, 'kong'), { default: withSearch() })
    const second = await commitAction(box, runner, inputs, prEnv(github))
    expect(second.exitCode).toBe(0)
    expect(second.outputs['pull-request-number']).toBe(first.outputs['pull-request-number'])
    expect(github.pulls()).toHaveLength(1)
    expect(github.pulls()[0]!.body).toContain('search')
    expect(await remoteLog(box, 'deckhand/drift')).toEqual([
      'Gateway drift in kong: 2 added, 1 changed, 1 removed',
      'seed',
    ])
    expect(github.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/pulls'))).toHaveLength(1)

    // Nothing new: the branch is left as it is.
    const third = await commitAction(box, runner, inputs, prEnv(github))
    expect(third.outputs['commit-sha']).toBe(second.outputs['commit-sha'])

    // The gateway was put back: the pull request is closed with a comment.
    await writeDump(join(runner, 'kong'), { default: gateway() })
    const fourth = await commitAction(box, runner, inputs, prEnv(github))
    expect(fourth.exitCode).toBe(0)
    expect(fourth.outputs.changed).toBe('false')
    expect(github.pulls()[0]!.state).toBe('closed')
    expect(github.comments(pulls[0]!.number).at(-1)?.body).toContain('matches main again')
  })

  it('says what to change when GitHub Actions may not create pull requests', async () => {
    const box = await sandbox()
    await seeded(box)
    const github = await api(box, { actionsMayCreatePullRequests: false })
    const runner = await box.clone('runner')
    await writeDump(join(runner, 'kong'), { default: drifted() })

    const run = await commitAction(
      box,
      runner,
      { mode: 'pull-request', 'github-token': WRITE_TOKEN },
      prEnv(github),
    )

    expect(run.exitCode).toBe(1)
    expect(visibleLog(run.stdout)).toContain('Allow GitHub Actions to create and approve pull requests')
    expect(visibleLog(run.stdout)).not.toContain(WRITE_TOKEN)
  })
})

describe('commit: the CLI', () => {
  it('commits with --json output and the token from the environment', async () => {
    const box = await sandbox()
    await seeded(box)
    const runner = await box.clone('runner')
    await writeDump(join(runner, 'kong'), { default: drifted() })
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
      (done) =>
        execFile(
          process.execPath,
          [join(ROOT, 'dist', 'cli', 'index.js'), 'commit', '--path', 'kong', '--json'],
          {
            cwd: runner,
            env: { ...box.env, DECKHAND_AUTHOR_NAME: 'Ops Bot', DECKHAND_AUTHOR_EMAIL: 'ops@example.com' },
          },
          (err, stdout, stderr) => done({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
        ),
    )
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' })
    expect(JSON.parse(stdout)).toMatchObject({ changed: 'true', added: '1', removed: '1' })
    expect((await box.git(box.remotePath, ['log', '-1', '--format=%an <%ae>', 'main'])).trim()).toBe(
      'Ops Bot <ops@example.com>',
    )
    await rm(join(runner, 'kong'), { recursive: true })
  })
})

/** A script that pushes one more commit to main from its own clone: `competitor <n>`, adding NOTES-<n>.md. */
async function competitorScript(box: GitSandbox): Promise<string> {
  const clone = await box.clone('competitor')
  const script = join(box.dir, 'competitor.sh')
  await writeFile(
    script,
    [
      'set -e',
      `cd '${clone}'`,
      'git pull -q --rebase origin main',
      'echo "competitor $1" > "NOTES-$1.md"',
      'git add --all',
      'git -c user.name=Other -c user.email=other@example.com commit -q -m "competitor $1"',
      'git push -q origin HEAD:main',
      '',
    ].join('\n'),
  )
  return script
}
