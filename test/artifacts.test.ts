import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'

import { artifactServiceUnavailable } from '../actions/engine/artifacts.js'
import { ActionsArtifactStore } from '../actions/github/artifacts.js'
import {
  ACTIONS_READ_TOKEN,
  type ArtifactService,
  NO_ACTIONS_TOKEN,
  startArtifactService,
} from './support/artifact-service.js'
import { failure } from './support/errors.js'

// @actions/artifact reads most of its settings from process.env at each call, but @actions/github (which it
// uses for other runs) takes GITHUB_API_URL once, when first imported: the store imports the library on first
// use, so the service is started and the environment set before any test runs. Variables are restored after.
let service: ArtifactService
const saved: Record<string, string | undefined> = {}
const setEnv = (vars: Record<string, string | undefined>) => {
  for (const [key, value] of Object.entries(vars)) {
    if (!(key in saved)) saved[key] = process.env[key]
    if (value === undefined) delete process.env[key]
    else process.env[key] = value
  }
}
// Each test runs as a job of a workflow run of its own, so artifacts never carry over between tests.
let runs = 0
const newRunId = () => String(13310000100 + ++runs)
let run = ''
/** What the library wrote to stdout (workflow commands, progress), to check no token leaks there either. */
let stdout = ''

beforeAll(async () => {
  service = await startArtifactService()
  setEnv({
    ...service.env(newRunId()),
    NO_PROXY: '127.0.0.1',
    no_proxy: '127.0.0.1',
    RUNNER_DEBUG: undefined,
  })
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk)
    return true
  })
  // Octokit's request log reports failed REST calls on the console; they are expected here.
  jest.spyOn(console, 'error').mockImplementation(() => undefined)
  jest.spyOn(console, 'warn').mockImplementation(() => undefined)
})

afterAll(async () => {
  jest.restoreAllMocks()
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key]
    else process.env[key] = value
  }
  await service?.close()
})

beforeEach(() => {
  run = newRunId()
  setEnv(service.env(run))
})

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'deckhand-artifacts-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A backup folder with a binary dump and a manifest in a subfolder. */
async function backup(): Promise<{ root: string; files: string[]; contents: Record<string, Buffer> }> {
  const root = await tempDir()
  const dump = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 256))
  const manifest = Buffer.from(JSON.stringify({ format: 'custom', sha256: 'abc' }, null, 2))
  await mkdir(join(root, 'kong-20260302T090000Z'))
  await writeFile(join(root, 'kong-20260302T090000Z', 'kong.dump'), dump)
  await writeFile(join(root, 'kong-20260302T090000Z', 'manifest.json'), manifest)
  return {
    root,
    files: [
      join(root, 'kong-20260302T090000Z', 'kong.dump'),
      join(root, 'kong-20260302T090000Z', 'manifest.json'),
    ],
    contents: {
      'kong-20260302T090000Z/kong.dump': dump,
      'kong-20260302T090000Z/manifest.json': manifest,
    },
  }
}

async function readTree(dir: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {}
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true }))
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name)
      out[
        path
          .slice(dir.length + 1)
          .split('\\')
          .join('/')
      ] = await readFile(path)
    }
  return out
}

/** Neither the error (message, details, cause) nor anything logged shows a token. */
function expectNoTokens(err: Error, ...tokens: string[]): void {
  for (const token of [...tokens, process.env.ACTIONS_RUNTIME_TOKEN ?? '']) {
    if (!token) continue
    expect(err.message).not.toContain(token)
    expect(inspect(err, { depth: 20 })).not.toContain(token)
    expect(stdout).not.toContain(token)
  }
}

describe('ActionsArtifactStore against the artifact service', () => {
  it('uploads files as one artifact and downloads them by name, byte for byte', async () => {
    const { root, files, contents } = await backup()
    const store = new ActionsArtifactStore()

    const uploaded = await store.upload('kong-db-backup', files, root, 5)

    const [stored, ...others] = service.artifacts(run)
    expect(others).toEqual([])
    expect(stored).toMatchObject({ id: uploaded.id, name: 'kong-db-backup', size: uploaded.size })
    expect(stored?.files).toEqual(contents)
    // Stored, not deflated (backups are compressed already): the dump's repeating bytes would deflate to little.
    expect(uploaded.size).toBeGreaterThan(200_000)
    // Retention: five days from now, to within the test's duration.
    expect(Date.parse(stored!.expiresAt) - Date.now()).toBeGreaterThan(5 * 86_400_000 - 120_000)
    expect(Date.parse(stored!.expiresAt) - Date.now()).toBeLessThanOrEqual(5 * 86_400_000)
    // The blob went up as staged blocks and a committed block list, through the signed URL.
    const blobCalls = service.requests.filter((r) => r.path.startsWith('/blob/')).map((r) => r.path)
    expect(blobCalls.some((p) => /[?&]comp=block&blockid=/.test(p) && p.includes('sig=***'))).toBe(true)
    expect(blobCalls.some((p) => /[?&]comp=blocklist/.test(p))).toBe(true)

    // Another job of the same run downloads it.
    setEnv(service.env(run))
    const dest = join(await tempDir(), 'restore', 'here')
    await new ActionsArtifactStore().download('kong-db-backup', dest)
    expect(await readTree(dest)).toEqual(contents)
  })

  it('accepts file paths relative to the root directory, and directories for their contents', async () => {
    const { root, contents } = await backup()
    const store = new ActionsArtifactStore()
    await store.upload('relative-paths', ['kong-20260302T090000Z/kong.dump'], root)
    await store.upload('whole-folder', ['kong-20260302T090000Z'], root)
    const byName = Object.fromEntries(service.artifacts(run).map((a) => [a.name, a.files]))
    expect(byName['relative-paths']).toEqual({
      'kong-20260302T090000Z/kong.dump': contents['kong-20260302T090000Z/kong.dump'],
    })
    expect(byName['whole-folder']).toEqual(contents)
  })

  it('explains a refused upload without showing the runtime token', async () => {
    const { root, files } = await backup()
    const store = new ActionsArtifactStore()
    await store.upload('files-backup', files, root)

    // The service keeps one artifact per name and run.
    const duplicate = await failure(store.upload('files-backup', files, root))
    expect(duplicate.message).toBe(
      'Artifact "files-backup" was not uploaded: an artifact with this name already exists in this workflow run (names are unique per run, across its jobs and re-run attempts). Choose another artifact-name.',
    )
    expectNoTokens(duplicate)

    service.failNext('CreateArtifact', {
      code: 'permission_denied',
      msg: 'the repository has artifact uploads disabled',
    })
    const refused = await failure(store.upload('other-name', files, root))
    expect(refused.message).toBe(
      'Artifact "other-name" was not uploaded: Failed to CreateArtifact: Received non-retryable error: Failed request: (403) Forbidden: the repository has artifact uploads disabled',
    )
    expectNoTokens(refused)

    service.failNext('CreateArtifact', {
      code: 'resource_exhausted',
      msg: 'insufficient usage to create artifact',
    })
    const quota = await failure(store.upload('third-name', files, root))
    expect(quota.message).toMatch(/^Artifact "third-name" was not uploaded: the artifact storage quota/)
    expect(service.artifacts(run).map((a) => a.name)).toEqual(['files-backup'])
  })

  it('rejects an artifact name the service would not accept', async () => {
    const { root, files } = await backup()
    const err = await failure(new ActionsArtifactStore().upload('backups/kong', files, root))
    expect(err.message).toMatch(
      /^Artifact "backups\/kong" was not uploaded: The artifact name is not valid: backups\/kong\. Contains the following character: {2}Forward slash \/ ?Choose another artifact-name\.$/,
    )
  })

  it('names the artifact and the run searched when the artifact is not there', async () => {
    const dest = await tempDir()
    const err = await failure(new ActionsArtifactStore().download('kong-db-backup', dest))
    expect(err.message).toBe(
      `No artifact named "kong-db-backup" was found in workflow run ${run} of octo-org/gateway-config. The db-dump or files-backup step that uploads it must run earlier in workflow run ${run} of octo-org/gateway-config (in any job); for an artifact of an earlier run, pass artifact-run-id (and a github-token with actions: read).`,
    )
    expectNoTokens(err)
  })

  it('does not see the artifacts of other runs without artifact-run-id', async () => {
    const { root, files } = await backup()
    setEnv(service.env(newRunId()))
    await new ActionsArtifactStore().upload('elsewhere', files, root)
    setEnv(service.env(run))
    const err = await failure(new ActionsArtifactStore().download('elsewhere', await tempDir()))
    expect(err.message).toMatch(
      new RegExp(`^No artifact named "elsewhere" was found in workflow run ${run} `),
    )
  })

  it('says the artifact service is missing on GitHub Enterprise Server, before calling it', async () => {
    const { root, files } = await backup()
    setEnv({ GITHUB_SERVER_URL: 'https://ghe.example.com' })
    expect(artifactServiceUnavailable(process.env)).toBe(
      'ghe.example.com looks like GitHub Enterprise Server, which does not support the artifact service',
    )
    const before = service.requests.length
    const upload = await failure(new ActionsArtifactStore().upload('kong-db-backup', files, root))
    expect(upload.message).toBe(
      'Artifact "kong-db-backup" was not uploaded: ghe.example.com looks like GitHub Enterprise Server, which does not support the artifact service. Set upload-artifact to false and keep the backup another way.',
    )
    const download = await failure(new ActionsArtifactStore().download('kong-db-backup', await tempDir()))
    expect(download.message).toBe(
      `Artifact "kong-db-backup" was not downloaded: ghe.example.com looks like GitHub Enterprise Server, which does not support the artifact service. Pass the backup's path as input instead of an artifact name.`,
    )
    const other = await failure(
      new ActionsArtifactStore().download('kong-db-backup', await tempDir(), {
        runId: '13310000002',
        token: ACTIONS_READ_TOKEN,
      }),
    )
    expect(other.message).toMatch(
      /^Artifact "kong-db-backup" of workflow run 13310000002 was not downloaded: ghe\.example\.com looks like GitHub Enterprise Server/,
    )
    expect(service.requests.length).toBe(before)
  })

  it('says so when the step has no runtime token', async () => {
    const { root, files } = await backup()
    setEnv({ ACTIONS_RUNTIME_TOKEN: undefined })
    const err = await failure(new ActionsArtifactStore().upload('kong-db-backup', files, root))
    expect(err.message).toBe(
      'Artifact "kong-db-backup" was not uploaded: the artifact service is not available to this step (no ACTIONS_RUNTIME_TOKEN or ACTIONS_RESULTS_URL). Set upload-artifact to false and keep the backup another way.',
    )
  })

  describe('from another workflow run (artifact-run-id)', () => {
    let OTHER_RUN = ''
    beforeEach(() => {
      OTHER_RUN = newRunId()
    })

    async function uploadInOtherRun(name: string): Promise<Record<string, Buffer>> {
      const { root, files, contents } = await backup()
      setEnv(service.env(OTHER_RUN))
      await new ActionsArtifactStore().upload(name, files, root)
      setEnv(service.env(run))
      return contents
    }

    it('downloads the artifact of that run with a token that may read actions', async () => {
      const contents = await uploadInOtherRun('nightly-db')
      const before = service.requests.length
      const dest = await tempDir()
      await new ActionsArtifactStore().download('nightly-db', dest, {
        runId: OTHER_RUN,
        token: ACTIONS_READ_TOKEN,
      })
      expect(await readTree(dest)).toEqual(contents)
      const rest = service.requests
        .slice(before)
        .filter((r) => r.path.startsWith('/repos/'))
        .map((r) => `${r.method} ${r.path}`)
      expect(rest).toEqual([
        `GET /repos/octo-org/gateway-config/actions/runs/${OTHER_RUN}/artifacts?name=nightly-db`,
        `GET /repos/octo-org/gateway-config/actions/artifacts/${service.artifacts(OTHER_RUN)[0]?.id}/zip`,
      ])
    })

    it('says the token needs actions: read, without showing it', async () => {
      await uploadInOtherRun('nightly-files')
      const err = await failure(
        new ActionsArtifactStore().download('nightly-files', await tempDir(), {
          runId: OTHER_RUN,
          token: NO_ACTIONS_TOKEN,
        }),
      )
      expect(err.message).toBe(
        `Artifact "nightly-files" of workflow run ${OTHER_RUN} was not downloaded: github-token may not read the artifacts of workflow run ${OTHER_RUN} of octo-org/gateway-config. It needs the actions: read permission (in the workflow: permissions: actions: read), and access to that repository.`,
      )
      expectNoTokens(err, NO_ACTIONS_TOKEN)
    })

    it('names the run searched when the artifact is not in it, or the run does not exist', async () => {
      await uploadInOtherRun('nightly-db')
      const missing = await failure(
        new ActionsArtifactStore().download('weekly-db', await tempDir(), {
          runId: OTHER_RUN,
          token: ACTIONS_READ_TOKEN,
        }),
      )
      expect(missing.message).toBe(
        `No artifact named "weekly-db" was found in workflow run ${OTHER_RUN} of octo-org/gateway-config. Check artifact-run-id: the artifact must have been uploaded by db-dump or files-backup in workflow run ${OTHER_RUN} of octo-org/gateway-config, and not have expired.`,
      )
      const noRun = await failure(
        new ActionsArtifactStore().download('nightly-db', await tempDir(), {
          runId: '99',
          token: ACTIONS_READ_TOKEN,
        }),
      )
      expect(noRun.message).toMatch(
        /^Artifact "nightly-db" of workflow run 99 was not downloaded: workflow run 99 of octo-org\/gateway-config was not found\. /,
      )
      expectNoTokens(noRun, ACTIONS_READ_TOKEN)
    })

    it('refuses a run id that is not a number, and a bad token', async () => {
      const bad = await failure(
        new ActionsArtifactStore().download('nightly-db', await tempDir(), {
          runId: 'latest',
          token: ACTIONS_READ_TOKEN,
        }),
      )
      expect(bad.message).toBe(
        'artifact-run-id must be a workflow run id (the number in …/actions/runs/<id>), got "latest".',
      )
      await uploadInOtherRun('nightly-db')
      const token = 'ghs_notAValidTokenAtAll00000000000000000'
      const rejected = await failure(
        new ActionsArtifactStore().download('nightly-db', await tempDir(), { runId: OTHER_RUN, token }),
      )
      expect(rejected.message).toBe(
        `Artifact "nightly-db" of workflow run ${OTHER_RUN} was not downloaded: GitHub rejected github-token (401 Bad credentials). Pass a valid token.`,
      )
      expectNoTokens(rejected, token)
    })
  })
})

describe('the artifact service double', () => {
  const call = (method: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${service.url}/twirp/github.actions.results.api.v1.ArtifactService/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    })

  it('answers Twirp calls without a valid runtime token with 401 unauthenticated', async () => {
    const none = await call('ListArtifacts', {})
    expect(none.status).toBe(401)
    expect(await none.json()).toMatchObject({ code: 'unauthenticated' })
    const token = service.env().ACTIONS_RUNTIME_TOKEN!
    const forged = `${token.split('.').slice(0, 2).join('.')}.c2lnbmF0dXJl`
    const bad = await call('ListArtifacts', {}, { authorization: `Bearer ${forged}` })
    expect(bad.status).toBe(401)
  })

  it('keeps a job to its own run', async () => {
    const mine = service.env()
    const other = service.env('13310000555')
    const claims = (token: string) =>
      JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { scp: string }
    const [, otherRun, otherJob] = /Actions\.Results:([^:]+):(\S+)/.exec(
      claims(other.ACTIONS_RUNTIME_TOKEN!).scp,
    )!
    const res = await call(
      'ListArtifacts',
      { workflow_run_backend_id: otherRun, workflow_job_run_backend_id: otherJob },
      { authorization: `Bearer ${mine.ACTIONS_RUNTIME_TOKEN}` },
    )
    expect(res.status).toBe(403)
    expect(await res.json()).toMatchObject({ code: 'permission_denied' })
  })
})
