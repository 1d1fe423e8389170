import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'

import type { PullRequestRequest } from '../actions/engine/pull-requests.js'
import type { Report } from '../actions/engine/report.js'
// Types only (erased): the module itself is imported below, after GITHUB_API_URL is set.
import type { GitHubTarget } from '../actions/github/pull-requests.js'
import {
  type GitHubApi,
  type GitHubApiOptions,
  READ_TOKEN,
  startGitHubApi,
  WRITE_TOKEN,
} from './support/github-api.js'
import { failure, expectNoTokens } from './support/errors.js'

// @actions/github picks its proxy once, when imported, for GITHUB_API_URL (not for the baseUrl handed to
// getOctokit). A loopback API URL there keeps an ambient HTTPS_PROXY from capturing requests to the stand-in.
process.env.GITHUB_API_URL = 'http://127.0.0.1'
const { GitHubPullRequests, PULL_REQUEST_BODY_LIMIT, repositoryFromRemote } =
  await import('../actions/github/pull-requests.js')

const HEAD = 'deckhand/drift'
const REPO = 'octo-org/gateway-config'
const LIST = `GET /repos/${REPO}/pulls?state=open&head=octo-org%3Adeckhand%2Fdrift&base=main&per_page=100`
const RUN_ENV = ['GITHUB_SERVER_URL', 'GITHUB_REPOSITORY', 'GITHUB_RUN_ID'] as const

// Everything a test starts or changes is undone here, also when the test fails.
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

// The footer links the run when these are set, as they are on a runner: tests start without them.
beforeEach(() => {
  const saved = RUN_ENV.map((name) => [name, process.env[name]] as const)
  for (const name of RUN_ENV) delete process.env[name]
  cleanups.push(() => {
    for (const [name, value] of saved)
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
  })
})

async function githubApi(options: GitHubApiOptions = {}): Promise<GitHubApi> {
  const api = await startGitHubApi(options)
  cleanups.push(() => api.close())
  return api
}

function host(api: GitHubApi, overrides: Partial<GitHubTarget> = {}) {
  return new GitHubPullRequests({
    token: WRITE_TOKEN,
    apiUrl: api.url,
    repository: api.repository,
    ...overrides,
  })
}

function report(lines: string[], title = 'Drift in prod'): Report {
  return { title, lines, tables: [], annotations: [] }
}

function request(lines: string[], overrides: Partial<PullRequestRequest> = {}): PullRequestRequest {
  return { head: HEAD, base: 'main', title: 'Gateway drift in prod', body: report(lines), ...overrides }
}

/** Method and path of every request, e.g. `GET /repos/o/r/pulls?state=open&…`. */
function calls(api: GitHubApi): string[] {
  return api.requests.map((r) => `${r.method} ${r.path}`)
}

function openPulls(api: GitHubApi) {
  return api.pulls().filter((pr) => pr.state === 'open')
}

describe('GitHubPullRequests.upsert', () => {
  it('creates the pull request on the first run', async () => {
    const api = await githubApi()

    const outcome = await host(api).upsert(request(['3 services differ from main.']))

    const [pr, ...others] = api.pulls()
    expect(others).toEqual([])
    // Pull requests share the issue numbers: issue 7 exists, so this is #8.
    expect(outcome).toEqual({ number: 8, url: `https://github.com/${REPO}/pull/8`, action: 'created' })
    expect(pr).toMatchObject({
      number: 8,
      state: 'open',
      title: 'Gateway drift in prod',
      head: { ref: HEAD, label: `octo-org:${HEAD}` },
      base: { ref: 'main' },
      user: { login: 'github-actions[bot]', type: 'Bot' },
    })
    expect(pr?.body).toBe(
      '## Drift in prod\n\n3 services differ from main.\n\n' +
        '\n<sub>Opened by deckhand, updated on every run.</sub>\n',
    )
    expect(calls(api)).toEqual([LIST, `POST /repos/${REPO}/pulls`])
    expect(api.requests[1]?.body).toEqual({
      title: 'Gateway drift in prod',
      head: HEAD,
      base: 'main',
      body: pr?.body,
      maintainer_can_modify: false,
    })
  })

  it('updates the same pull request on a later run, without creating another', async () => {
    const api = await githubApi()
    const created = await host(api).upsert(request(['3 services differ.']))
    const before = api.pulls()[0]

    const outcome = await host(api).upsert(request(['4 services differ.'], { title: 'Drift, again' }))

    expect(outcome).toEqual({ ...created, action: 'updated' })
    const after = api.pulls()
    expect(after).toHaveLength(1)
    expect(after[0]).toMatchObject({ number: created.number, title: 'Drift, again', state: 'open' })
    expect(after[0]?.body).toContain('4 services differ.')
    expect(after[0]?.updated_at).not.toBe(before?.updated_at)
    expect(calls(api).slice(2)).toEqual([LIST, `PATCH /repos/${REPO}/pulls/${created.number}`])
    expect(api.requests[3]?.body).toEqual({ title: 'Drift, again', body: after[0]?.body })
  })

  it('leaves a pull request with the same title and body alone', async () => {
    const api = await githubApi()
    const created = await host(api).upsert(request(['same']))
    const before = api.pulls()

    const outcome = await host(api).upsert(request(['same']))

    expect(outcome).toEqual({ ...created, action: 'unchanged' })
    expect(api.pulls()).toEqual(before)
    expect(calls(api).slice(2)).toEqual([LIST])
  })

  it('links the run that last changed the body, and a later run with nothing new keeps that link', async () => {
    const api = await githubApi()
    process.env.GITHUB_SERVER_URL = 'https://github.com'
    process.env.GITHUB_REPOSITORY = REPO
    process.env.GITHUB_RUN_ID = '1001'
    await host(api).upsert(request(['drift']))
    const link = `[workflow run 1001](https://github.com/${REPO}/actions/runs/1001)`
    expect(api.pulls()[0]?.body).toMatch(new RegExp(`<sub>.*${escapeRegExp(link)}.*</sub>\\n$`))

    process.env.GITHUB_RUN_ID = '1002'
    expect(await host(api).upsert(request(['drift']))).toMatchObject({ action: 'unchanged' })
    expect(api.pulls()[0]?.body).toContain(link)

    expect(await host(api).upsert(request(['more drift']))).toMatchObject({ action: 'updated' })
    expect(api.pulls()[0]?.body).toContain(`(https://github.com/${REPO}/actions/runs/1002)`)
  })

  it('leaves pull requests from other branches, forks, into other bases, or closed ones alone', async () => {
    const api = await githubApi({
      pullRequests: [
        { head: 'feature/rate-limits', title: 'A colleague' },
        { head: HEAD, state: 'closed', title: 'Last week' },
        { head: `someone:${HEAD}`, title: 'From a fork, same branch name' },
        { head: HEAD, base: 'release', title: 'Into another base' },
      ],
    })
    const before = api.pulls()

    const outcome = await host(api).upsert(request(['drift']))

    expect(outcome.action).toBe('created')
    const after = api.pulls()
    expect(after.slice(0, before.length)).toEqual(before)
    expect(after).toHaveLength(before.length + 1)
    expect(after.at(-1)).toMatchObject({ number: outcome.number, head: { ref: HEAD }, base: { ref: 'main' } })
    expect(api.requests.filter((r) => r.method === 'PATCH')).toEqual([])
  })

  it('updates the pull request another run opened between its list and its create', async () => {
    let raced = false
    const api: GitHubApi = await githubApi({
      beforeAnswer: (r) => {
        if (raced || r.method !== 'POST' || !r.path.endsWith('/pulls')) return
        raced = true
        api.addPullRequest({ head: HEAD, title: 'Other run', body: 'other', login: 'github-actions[bot]' })
      },
    })

    const outcome = await host(api).upsert(request(['mine']))

    const [pr, ...others] = api.pulls()
    expect(others).toEqual([])
    expect(outcome).toEqual({ number: pr?.number, url: pr?.html_url, action: 'updated' })
    expect(pr?.body).toContain('mine')
    expect(calls(api)).toEqual([
      LIST,
      `POST /repos/${REPO}/pulls`,
      LIST,
      `PATCH /repos/${REPO}/pulls/${pr?.number}`,
    ])
  })

  it('ends with one open pull request when two runs upsert at once', async () => {
    const api = await githubApi()

    const outcomes = await Promise.all([
      host(api).upsert(request(['drift'])),
      host(api).upsert(request(['drift'])),
    ])

    expect(openPulls(api)).toHaveLength(1)
    expect(api.pulls()).toHaveLength(1)
    expect(outcomes.map((o) => o.action).sort()).toEqual(['created', 'unchanged'])
    expect(new Set(outcomes.map((o) => o.number)).size).toBe(1)
  })

  it('cuts a huge report to fit the body limit and says where the rest is', async () => {
    const api = await githubApi()
    process.env.GITHUB_REPOSITORY = REPO
    process.env.GITHUB_RUN_ID = '123456789'
    const rows = Array.from({ length: 5000 }, (_, i) => [`service-${i}`, 'changed', 'x'.repeat(80)])
    const huge: Report = {
      ...report(['5000 entities differ.']),
      tables: [{ caption: 'Changes', header: ['Entity', 'Change', 'Detail'], rows, collapsed: true }],
    }

    const outcome = await host(api).upsert(request([], { body: huge }))

    expect(outcome.action).toBe('created')
    const body = api.pulls()[0]?.body ?? ''
    expect(body.length).toBeLessThanOrEqual(PULL_REQUEST_BODY_LIMIT)
    expect(body.length).toBeGreaterThan(PULL_REQUEST_BODY_LIMIT - 1000)
    expect(body).toMatch(/more row\(s\) not shown/)
    expect(body).toContain('the job summary has all of it')
    expect(body).toMatch(/<\/details>\n[\s\S]*actions\/runs\/123456789\).<\/sub>\n$/)

    // The same huge report on the next run renders the same cut: nothing to update.
    expect(await host(api).upsert(request([], { body: huge }))).toMatchObject({ action: 'unchanged' })
  })

  it('rejects a request without two distinct branches or a title before any request', async () => {
    const api = await githubApi()
    await expect(host(api).upsert(request(['x'], { base: HEAD }))).rejects.toThrow('two different branches')
    await expect(host(api).upsert(request(['x'], { head: '' }))).rejects.toThrow('head and a base')
    await expect(host(api).upsert(request(['x'], { title: ' ' }))).rejects.toThrow('non-empty title')
    expect(api.requests).toEqual([])
  })
})

describe('GitHubPullRequests.close', () => {
  it('comments the reason on the open pull request, then closes it', async () => {
    const api = await githubApi()
    const created = await host(api).upsert(request(['drift']))

    const outcome = await host(api).close(HEAD, 'main', 'The gateway matches main again.')

    expect(outcome).toEqual({ ...created, action: 'closed' })
    expect(api.pulls()[0]).toMatchObject({ state: 'closed', closed_at: expect.any(String) })
    expect(api.comments(created.number).map((c) => c.body)).toEqual(['The gateway matches main again.'])
    expect(calls(api).slice(2)).toEqual([
      LIST,
      `POST /repos/${REPO}/issues/${created.number}/comments`,
      `PATCH /repos/${REPO}/pulls/${created.number}`,
    ])
    expect(api.requests.at(-1)?.body).toEqual({ state: 'closed' })

    // Drift again later: a new pull request, the closed one stays closed.
    const next = await host(api).upsert(request(['drift again']))
    expect(next).toMatchObject({ action: 'created', number: created.number + 1 })
    expect(api.pulls().map((pr) => [pr.number, pr.state])).toEqual([
      [created.number, 'closed'],
      [next.number, 'open'],
    ])
  })

  it('closes without a comment when there is no reason to give', async () => {
    const api = await githubApi({ pullRequests: [{ head: HEAD }] })
    const [pr] = api.pulls()

    expect(await host(api).close(HEAD, 'main', ' ')).toMatchObject({ number: pr?.number, action: 'closed' })

    expect(api.comments(pr?.number ?? 0)).toEqual([])
    expect(calls(api)).toEqual([LIST, `PATCH /repos/${REPO}/pulls/${pr?.number}`])
  })

  it('is undefined when no pull request is open, touching nothing', async () => {
    const api = await githubApi({ pullRequests: [{ head: HEAD, state: 'closed' }, { head: 'feature/x' }] })
    const before = api.pulls()

    expect(await host(api).close(HEAD, 'main', 'No drift.')).toBeUndefined()

    expect(api.pulls()).toEqual(before)
    expect(calls(api)).toEqual([LIST])
  })
})

describe('GitHubPullRequests.defaultBranch', () => {
  it("reads the repository's default branch", async () => {
    const api = await githubApi({ defaultBranch: 'trunk' })
    expect(await host(api).defaultBranch()).toBe('trunk')
    expect(calls(api)).toEqual([`GET /repos/${REPO}`])
    expect(host(api).repository).toBe(REPO)
  })
})

describe('GitHubPullRequests errors', () => {
  it('explains that GitHub Actions may not create pull requests in the repository', async () => {
    const api = await githubApi({ actionsMayCreatePullRequests: false })

    const err = await failure(host(api).upsert(request(['drift'])))

    expect(err.message).toContain(`GitHub Actions may not create pull requests in ${REPO}`)
    expect(err.message).toContain('403 GitHub Actions is not permitted to create or approve pull requests.')
    expect(err.message).toContain(
      'Settings → Actions → General → Workflow permissions → "Allow GitHub Actions to create and approve pull requests"',
    )
    expect(err.message).toContain("organization's settings too when it is greyed out")
    expect(err.message).toContain('personal access token or a GitHub App token as github-token')
    expectNoTokens(err, WRITE_TOKEN)
    expect(api.pulls()).toEqual([])
  })

  it('updating and closing still work when Actions may not create pull requests', async () => {
    const api = await githubApi({ actionsMayCreatePullRequests: false, pullRequests: [{ head: HEAD }] })
    expect(await host(api).upsert(request(['drift']))).toMatchObject({ action: 'updated' })
    expect(await host(api).close(HEAD, 'main', 'gone')).toMatchObject({ action: 'closed' })
  })

  it('names the call a read-only token failed and the permissions the job needs', async () => {
    const api = await githubApi({ pullRequests: [{ head: 'other' }] })
    const readOnly = host(api, { token: READ_TOKEN })

    const create = await failure(readOnly.upsert(request(['drift'])))
    expect(create.message).toContain('403 Resource not accessible by integration')
    expect(create.message).toContain(
      `lacks permission for creating the pull request from ${HEAD} into main in ${REPO}`,
    )
    expect(create.message).toContain('`permissions: { contents: write, pull-requests: write }`')
    expectNoTokens(create, READ_TOKEN)

    const [pr] = api.pulls()
    const close = await failure(readOnly.close('other', 'main', 'bye'))
    expect(close.message).toContain(
      `lacks permission for commenting on pull request #${pr?.number} in ${REPO}`,
    )
    expectNoTokens(close, READ_TOKEN)
    expect(api.pulls()).toEqual([pr])
  })

  it('explains a rejected token (401) without showing it', async () => {
    const api = await githubApi()
    const token = 'ghp_notARealTokenButSecretAnyway1234567890'

    for (const call of [
      () => host(api, { token }).upsert(request(['drift'])),
      () => host(api, { token }).defaultBranch(),
    ]) {
      const err = await failure(call())
      expect(err.message).toContain('GitHub rejected the github-token')
      expect(err.message).toContain('401 Bad credentials')
      expect(err.message).toContain('invalid, expired or revoked')
      expectNoTokens(err, token)
    }
  })

  it('explains a repository it cannot find (404)', async () => {
    const api = await githubApi({ private: true })
    const elsewhere = host(api, { repository: 'octo-org/elsewhere' })

    for (const call of [() => elsewhere.defaultBranch(), () => elsewhere.upsert(request(['drift']))]) {
      const err = await failure(call())
      expect(err.message).toContain('404 Not Found')
      expect(err.message).toContain(
        'the repository octo-org/elsewhere does not exist, or the github-token cannot see it',
      )
      expect(err.message).toContain('private repository')
      expectNoTokens(err, WRITE_TOKEN)
    }
  })

  it('explains a head branch with nothing new, or one that was never pushed (422)', async () => {
    const same = await githubApi({ commitsBetween: () => false })
    const nothing = await failure(host(same).upsert(request(['drift'])))
    expect(nothing.message).toContain(`422 Validation Failed: No commits between main and ${HEAD}`)
    expect(nothing.message).toContain(`${HEAD} has no commits that main lacks`)
    expectNoTokens(nothing, WRITE_TOKEN)

    const unpushed = await githubApi({ branchExists: async (name) => name !== HEAD })
    const missing = await failure(host(unpushed).upsert(request(['drift'])))
    expect(missing.message).toContain('422 Validation Failed: head invalid')
    expect(missing.message).toContain(`The branch ${HEAD} does not exist in ${REPO}`)
    expect(missing.message).toContain('push it')
  })

  it('passes on other validation failures', async () => {
    const api = await githubApi({ bodyLimit: 50 })
    const err = await failure(host(api).upsert(request(['x'.repeat(100)])))
    expect(err.message).toContain('GitHub refused the request while creating the pull request')
    expect(err.message).toContain('body is too long (maximum is 50 characters)')
  })

  it('explains an API it cannot reach', async () => {
    const gone = await startGitHubApi()
    await gone.close()

    const err = await failure(host(gone).upsert(request(['drift'])))

    expect(err.message).toContain(`Could not reach the GitHub API at ${gone.url} while listing`)
    expect(err.message).toMatch(/ECONNREFUSED/)
    expectNoTokens(err, WRITE_TOKEN)
  })

  it('checks the target before any request', async () => {
    const api = await githubApi()
    expect(() => host(api, { token: '' })).toThrow('pull-request mode needs a token')
    expect(() => host(api, { repository: 'octo-org' })).toThrow('not of the form owner/name')
    expect(() => host(api, { apiUrl: 'api.github.com' })).toThrow('is not a URL')
    expect(() => host(api, { apiUrl: 'ftp://api.github.com' })).toThrow('not an http(s) URL')
    expect(api.requests).toEqual([])
  })
})

describe('repositoryFromRemote', () => {
  it.each([
    ['https://github.com/octo-org/gateway-config', 'octo-org/gateway-config'],
    ['https://github.com/octo-org/gateway-config.git', 'octo-org/gateway-config'],
    ['https://github.com/octo-org/gateway-config/', 'octo-org/gateway-config'],
    ['https://x-access-token:secret@github.com/octo-org/gateway.config.git', 'octo-org/gateway.config'],
    ['git@github.com:octo-org/gateway-config.git', 'octo-org/gateway-config'],
    ['git@github.com:octo-org/gateway-config', 'octo-org/gateway-config'],
    ['ssh://git@github.com/octo-org/gateway-config.git', 'octo-org/gateway-config'],
    ['ssh://git@GitHub.com:22/octo-org/gateway_config', 'octo-org/gateway_config'],
    ['  https://github.com/o/r.git\n', 'o/r'],
  ])('reads %j on github.com', (remote, expected) => {
    expect(repositoryFromRemote(remote)).toBe(expected)
  })

  it('reads remotes on the GitHub Enterprise Server given as serverUrl', () => {
    const server = 'https://ghes.example.com'
    expect(repositoryFromRemote('https://ghes.example.com/platform/kong.git', server)).toBe('platform/kong')
    expect(repositoryFromRemote('git@ghes.example.com:platform/kong.git', server)).toBe('platform/kong')
    expect(repositoryFromRemote('ssh://git@ghes.example.com:2222/platform/kong.git', server)).toBe(
      'platform/kong',
    )
    expect(repositoryFromRemote('https://github.com/platform/kong.git', server)).toBeUndefined()
  })

  it.each([
    'https://gitlab.com/octo-org/gateway-config.git',
    'git@gitlab.com:octo-org/gateway-config.git',
    'https://github.com/octo-org',
    'https://github.com/octo-org/gateway-config/tree/main',
    'https://github.com/octo-org/..',
    'https://github.com/octo-org/gate%ZZway',
    'file:///srv/git/gateway-config.git',
    '/srv/git/gateway-config.git',
    '../gateway-config',
    'github.com/octo-org/gateway-config',
    '',
  ])('is undefined for %j', (remote) => {
    expect(repositoryFromRemote(remote)).toBeUndefined()
  })

  it('is undefined for a serverUrl that is not a URL', () => {
    expect(repositoryFromRemote('https://github.com/o/r', 'not a url')).toBeUndefined()
  })
})

describe('the GitHub API stand-in, pull requests', () => {
  async function call(api: GitHubApi, method: string, path: string, body?: unknown, token = WRITE_TOKEN) {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    return { status: res.status, link: res.headers.get('link'), data: (await res.json()) as unknown }
  }

  const pulls = `/repos/${REPO}/pulls`

  it('answers the repository', async () => {
    const api = await githubApi({ private: true })
    expect(await call(api, 'GET', `/repos/OCTO-ORG/Gateway-Config`)).toMatchObject({
      status: 200,
      data: { full_name: REPO, default_branch: 'main', private: true, visibility: 'private' },
    })
  })

  it('numbers pull requests after issues, and takes comments on them', async () => {
    const api = await githubApi({ issues: [3, 7], comments: [{ number: 11, body: 'on issue 11' }] })
    const created = await call(api, 'POST', pulls, { title: 'T', head: HEAD, base: 'main', body: 'B' })
    expect(created).toMatchObject({
      status: 201,
      data: {
        number: 12,
        html_url: `https://github.com/${REPO}/pull/12`,
        url: `${api.url}${pulls}/12`,
        state: 'open',
        title: 'T',
        body: 'B',
        head: { ref: HEAD, label: `octo-org:${HEAD}`, sha: expect.stringMatching(/^[0-9a-f]{40}$/) },
        base: { ref: 'main', label: 'octo-org:main' },
        user: { login: 'github-actions[bot]' },
        closed_at: null,
      },
    })
    expect(await call(api, 'POST', `/repos/${REPO}/issues/12/comments`, { body: 'hi' })).toMatchObject({
      status: 201,
    })
    expect(api.comments(12).map((c) => c.body)).toEqual(['hi'])
    expect(api.comments(11).map((c) => c.body)).toEqual(['on issue 11'])
  })

  it('filters the list by state, owner:head and base, newest first; a bare head filters nothing', async () => {
    const api = await githubApi({
      pullRequests: [
        { head: HEAD, title: 'a' },
        { head: 'feature', title: 'b' },
        { head: HEAD, base: 'release', title: 'c' },
        { head: HEAD, state: 'closed', base: 'main', title: 'd' },
      ],
    })
    const titles = async (query: string) =>
      ((await call(api, 'GET', `${pulls}?${query}`)).data as Array<{ title: string }>).map((p) => p.title)
    expect(await titles('')).toEqual(['c', 'b', 'a'])
    expect(await titles('state=all&direction=asc')).toEqual(['a', 'b', 'c', 'd'])
    expect(await titles(`head=octo-org:${HEAD}`)).toEqual(['c', 'a'])
    expect(await titles(`head=OCTO-ORG:${HEAD}&base=main`)).toEqual(['a'])
    expect(await titles(`head=${HEAD}&base=main`)).toEqual(['b', 'a'])
    expect(await titles(`head=someone:${HEAD}`)).toEqual([])
    expect(await titles('state=closed')).toEqual(['d'])
  })

  it('refuses a second open pull request, missing branches, and a read-only token', async () => {
    const api = await githubApi({ branchExists: (name) => name !== 'gone' })
    const open = { title: 'T', head: HEAD, base: 'main' }
    expect((await call(api, 'POST', pulls, open)).status).toBe(201)
    expect(await call(api, 'POST', pulls, open)).toMatchObject({
      status: 422,
      data: {
        message: 'Validation Failed',
        errors: [
          {
            resource: 'PullRequest',
            code: 'custom',
            message: `A pull request already exists for octo-org:${HEAD}.`,
          },
        ],
      },
    })
    expect(await call(api, 'POST', pulls, { ...open, head: 'gone' })).toMatchObject({
      status: 422,
      data: { errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }] },
    })
    expect(await call(api, 'POST', pulls, { ...open, head: 'x', base: 'gone' })).toMatchObject({
      status: 422,
      data: { errors: [{ field: 'base', code: 'invalid' }] },
    })
    expect(await call(api, 'POST', pulls, { head: 'x', base: 'main' })).toMatchObject({
      status: 422,
      data: { errors: [{ field: 'title', code: 'missing_field' }] },
    })
    expect(await call(api, 'POST', pulls, { ...open, head: 'main' })).toMatchObject({
      status: 422,
      data: { errors: [{ message: 'No commits between main and main' }] },
    })
    expect(await call(api, 'POST', pulls, { ...open, head: 'y' }, READ_TOKEN)).toMatchObject({
      status: 403,
      data: { message: 'Resource not accessible by integration' },
    })
    expect(api.pulls()).toHaveLength(1)
  })

  it('edits, closes and reopens a pull request', async () => {
    const api = await githubApi({ pullRequests: [{ head: HEAD, title: 'old' }] })
    const [pr] = api.pulls()
    const one = `${pulls}/${pr?.number}`

    const edited = await call(api, 'PATCH', one, { title: 'new', body: 'text' })
    expect(edited).toMatchObject({ status: 200, data: { title: 'new', body: 'text', state: 'open' } })
    expect((edited.data as { updated_at: string }).updated_at).not.toBe(pr?.updated_at)

    expect(await call(api, 'PATCH', one, { state: 'closed' })).toMatchObject({
      data: { state: 'closed', closed_at: expect.any(String) },
    })
    api.addPullRequest({ head: HEAD, title: 'newer' })
    expect(await call(api, 'PATCH', one, { state: 'open' })).toMatchObject({
      status: 422,
      data: { errors: [{ message: `A pull request already exists for octo-org:${HEAD}.` }] },
    })
    expect(await call(api, 'PATCH', one, { state: 'merged' })).toMatchObject({ status: 422 })
    expect(await call(api, 'PATCH', `${pulls}/7`, { title: 'x' })).toMatchObject({ status: 404 })
    expect(await call(api, 'PATCH', one, { title: 'x' }, READ_TOKEN)).toMatchObject({ status: 403 })
    expect(await call(api, 'GET', one)).toMatchObject({
      status: 200,
      data: { title: 'new', state: 'closed' },
    })
  })

  it('refuses creation only when Actions may not create pull requests', async () => {
    const api = await githubApi({ actionsMayCreatePullRequests: false })
    expect(await call(api, 'POST', pulls, { title: 'T', head: HEAD, base: 'main' })).toMatchObject({
      status: 403,
      data: { message: 'GitHub Actions is not permitted to create or approve pull requests.' },
    })
  })
})

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
