import { afterEach, describe, expect, it } from '@jest/globals'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// Types only (erased): the module itself is imported below, after GITHUB_API_URL is set.
import type { CommentTarget } from '../actions/github/pr-comments.js'
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
const { COMMENT_LIMIT, commentBody, commentMarker, pullRequestNumber, upsertComments } =
  await import('../actions/github/pr-comments.js')

const PR = 7

// Everything a test starts or creates is undone here, also when the test fails.
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function githubApi(options: GitHubApiOptions = {}): Promise<GitHubApi> {
  const api = await startGitHubApi(options)
  cleanups.push(() => api.close())
  return api
}

function target(api: GitHubApi, overrides: Partial<CommentTarget> = {}): CommentTarget {
  return { token: WRITE_TOKEN, apiUrl: api.url, repository: api.repository, number: PR, ...overrides }
}

/** Method and path of every request, e.g. `GET /repos/o/r/issues/7/comments?per_page=100`. */
function calls(api: GitHubApi): string[] {
  return api.requests.map((r) => `${r.method} ${r.path}`)
}

describe('upsertComments', () => {
  it('creates the comment on the first run, with the marker line first', async () => {
    const api = await githubApi()
    const outcomes = await upsertComments(
      [{ key: 'deploy/default/prod', body: '## Plan\n\n3 changes' }],
      target(api),
    )

    const [comment, ...others] = api.comments(PR)
    expect(others).toEqual([])
    expect(comment?.body).toBe('<!-- deckhand:deploy/default/prod -->\n## Plan\n\n3 changes')
    expect(comment?.user).toMatchObject({ login: 'github-actions[bot]', type: 'Bot' })
    expect(outcomes).toEqual([
      { key: 'deploy/default/prod', action: 'created', id: comment?.id, url: comment?.html_url },
    ])
    expect(outcomes[0]?.url).toMatch(
      /^https:\/\/github\.com\/octo-org\/gateway-config\/pull\/7#issuecomment-\d+$/,
    )
    expect(calls(api)).toEqual([
      'GET /repos/octo-org/gateway-config/issues/7/comments?per_page=100',
      'POST /repos/octo-org/gateway-config/issues/7/comments',
    ])
    expect(api.requests.every((r) => r.authorized)).toBe(true)
  })

  it('updates the same comment on a later run with a different body', async () => {
    const api = await githubApi()
    const [created] = await upsertComments([{ key: 'plan', body: 'first' }], target(api))
    const before = api.comments(PR)[0]

    const outcomes = await upsertComments([{ key: 'plan', body: 'second' }], target(api))

    const after = api.comments(PR)
    expect(after).toHaveLength(1)
    expect(after[0]?.id).toBe(created?.id)
    expect(after[0]?.body).toBe(`${commentMarker('plan')}\nsecond`)
    expect(after[0]?.updated_at).not.toBe(before?.updated_at)
    expect(outcomes).toEqual([{ key: 'plan', action: 'updated', id: created?.id, url: created?.url }])
    expect(calls(api).slice(2)).toEqual([
      'GET /repos/octo-org/gateway-config/issues/7/comments?per_page=100',
      `PATCH /repos/octo-org/gateway-config/issues/comments/${created?.id}`,
    ])
  })

  it('leaves an identical comment alone', async () => {
    const api = await githubApi()
    const [created] = await upsertComments([{ key: 'plan', body: 'same' }], target(api))
    const before = api.comments(PR)

    const outcomes = await upsertComments([{ key: 'plan', body: 'same' }], target(api))

    expect(outcomes).toEqual([{ key: 'plan', action: 'unchanged', id: created?.id, url: created?.url }])
    expect(api.comments(PR)).toEqual(before)
    expect(api.requests.slice(2).map((r) => r.method)).toEqual(['GET'])
  })

  it('keeps one comment per key, listing the comments once for all keys', async () => {
    const api = await githubApi()
    const first = await upsertComments(
      [
        { key: 'diff/default/staging', body: 'staging plan' },
        { key: 'diff/default/prod', body: 'prod plan' },
      ],
      target(api),
    )
    expect(first.map((o) => o.action)).toEqual(['created', 'created'])
    expect(api.comments(PR).map((c) => c.body)).toEqual([
      `${commentMarker('diff/default/staging')}\nstaging plan`,
      `${commentMarker('diff/default/prod')}\nprod plan`,
    ])

    const second = await upsertComments(
      [
        { key: 'diff/default/prod', body: 'prod plan v2' },
        { key: 'diff/default/staging', body: 'staging plan' },
      ],
      target(api),
    )
    expect(second.map((o) => [o.key, o.action, o.id])).toEqual([
      ['diff/default/prod', 'updated', first[1]?.id],
      ['diff/default/staging', 'unchanged', first[0]?.id],
    ])
    expect(api.comments(PR)).toHaveLength(2)
    expect(api.requests.filter((r) => r.method === 'GET')).toHaveLength(2)
  })

  it("never touches other people's comments or other keys' comments", async () => {
    const seeded = [
      { number: PR, body: 'LGTM, but check the prod plan', login: 'alice' },
      { number: PR, body: `> ${commentMarker('plan')}\n> quoted by a reviewer`, login: 'bob' },
      { number: PR, body: `Look: ${commentMarker('plan')}`, login: 'carol' },
      { number: PR, body: `${commentMarker('plan prod')}\nanother key`, login: 'github-actions[bot]' },
      { number: PR, body: `${commentMarker('pla')}\na key that is a prefix`, login: 'github-actions[bot]' },
      { number: PR, body: '<!-- deckhand:plan-->\nnot quite the marker', login: 'dave' },
    ]
    const api = await githubApi({ comments: seeded })
    const before = api.comments(PR)

    const [outcome] = await upsertComments([{ key: 'plan', body: 'mine' }], target(api))

    expect(outcome?.action).toBe('created')
    const after = api.comments(PR)
    expect(after.slice(0, seeded.length)).toEqual(before)
    expect(after).toHaveLength(seeded.length + 1)
    expect(api.requests.filter((r) => r.method === 'PATCH')).toEqual([])
  })

  it('updates the first of duplicate marked comments and finds one edited on the web (CRLF)', async () => {
    const api = await githubApi({
      comments: [
        {
          number: PR,
          body: `${commentMarker('plan')}\r\nedited in the browser`,
          login: 'github-actions[bot]',
        },
        {
          number: PR,
          body: `${commentMarker('plan')}\nposted by a concurrent run`,
          login: 'github-actions[bot]',
        },
      ],
    })
    const [first, second] = api.comments(PR)

    const [outcome] = await upsertComments([{ key: 'plan', body: 'fresh' }], target(api))

    expect(outcome).toMatchObject({ action: 'updated', id: first?.id })
    expect(api.comments(PR).map((c) => c.body)).toEqual([`${commentMarker('plan')}\nfresh`, second?.body])
  })

  it('finds its comment on page 2 of more than 100 comments', async () => {
    const chatter = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ number: PR, body: `comment ${i}`, login: `user${i % 5}` }))
    const api = await githubApi({
      comments: [
        ...chatter(130),
        { number: PR, body: `${commentMarker('plan')}\nold`, login: 'github-actions[bot]' },
        ...chatter(120),
      ],
    })
    const marked = api.comments(PR)[130]

    const [outcome] = await upsertComments([{ key: 'plan', body: 'new' }], target(api))

    expect(outcome).toMatchObject({ action: 'updated', id: marked?.id })
    expect(api.comments(PR)).toHaveLength(251)
    // The client follows GitHub's Link header (absolute /repositories/{id} URLs) through every page.
    expect(calls(api)).toEqual([
      'GET /repos/octo-org/gateway-config/issues/7/comments?per_page=100',
      'GET /repositories/600000001/issues/7/comments?per_page=100&page=2',
      'GET /repositories/600000001/issues/7/comments?per_page=100&page=3',
      `PATCH /repos/octo-org/gateway-config/issues/comments/${marked?.id}`,
    ])
  })

  it('explains a rejected token (401) without showing it', async () => {
    const api = await githubApi()
    const token = 'ghp_notARealTokenButSecretAnyway1234567890'

    const err = await failure(upsertComments([{ key: 'plan', body: 'x' }], target(api, { token })))

    expect(err.message).toContain('GitHub rejected the github-token')
    expect(err.message).toContain('401 Bad credentials')
    expect(err.message).toContain('invalid, expired or revoked')
    expectNoTokens(err, token)
  })

  it('explains a token that may not comment (403) and the permission the job needs', async () => {
    const api = await githubApi()

    const err = await failure(
      upsertComments([{ key: 'plan', body: 'x' }], target(api, { token: READ_TOKEN })),
    )

    expect(err.message).toContain('403 Resource not accessible by integration')
    expect(err.message).toContain('may not comment on pull request #7 in octo-org/gateway-config')
    expect(err.message).toContain('permissions: pull-requests: write')
    expect(err.message).toContain('forks')
    expectNoTokens(err, READ_TOKEN)
    expect(api.comments(PR)).toEqual([])
  })

  it('explains a repository or pull request it cannot find (404)', async () => {
    const api = await githubApi()

    for (const overrides of [{ repository: 'octo-org/elsewhere' }, { number: 999 }]) {
      const err = await failure(upsertComments([{ key: 'plan', body: 'x' }], target(api, overrides)))
      expect(err.message).toContain('404 Not Found')
      expect(err.message).toContain(
        'the repository or pull request does not exist, or the github-token cannot see it',
      )
      expectNoTokens(err, WRITE_TOKEN)
    }
  })

  it("passes on GitHub's validation message (422)", async () => {
    // GitHub's limit lowered below deckhand's, as if GitHub changed it: only GitHub's check can catch this.
    const api = await githubApi({ bodyLimit: 100 })

    const err = await failure(upsertComments([{ key: 'plan', body: 'x'.repeat(200) }], target(api)))

    expect(err.message).toContain('422 Validation Failed: body is too long (maximum is 100 characters)')
    expect(err.message).toContain('posting the comment "plan"')
    expectNoTokens(err, WRITE_TOKEN)
  })

  it('explains an API it cannot reach', async () => {
    const gone = await startGitHubApi()
    await gone.close()

    const err = await failure(upsertComments([{ key: 'plan', body: 'x' }], target(gone)))

    expect(err.message).toContain(`Could not reach the GitHub API at ${gone.url}`)
    expect(err.message).toMatch(/ECONNREFUSED/)
    expectNoTokens(err, WRITE_TOKEN)
  })

  it('rejects a body over the limit before any request', async () => {
    const api = await githubApi()
    const fits = { key: 'plan', body: 'x'.repeat(COMMENT_LIMIT - commentMarker('plan').length - 1) }
    const tooLong = { key: 'other', body: 'x'.repeat(COMMENT_LIMIT) }

    const err = await failure(upsertComments([fits, tooLong], target(api)))

    expect(err.message).toContain('"other"')
    expect(err.message).toContain(`over GitHub's limit of ${COMMENT_LIMIT}`)
    expect(api.requests).toEqual([])

    expect(commentBody(fits)).toHaveLength(COMMENT_LIMIT)
    expect(await upsertComments([fits], target(api))).toMatchObject([{ action: 'created' }])
  })

  it('rejects empty and duplicate keys before any request', async () => {
    const api = await githubApi()

    await expect(upsertComments([{ key: '', body: 'x' }], target(api))).rejects.toThrow('non-empty key')
    await expect(
      upsertComments(
        [
          { key: 'plan', body: 'a' },
          { key: 'plan', body: 'b' },
        ],
        target(api),
      ),
    ).rejects.toThrow('keys must be unique')
    expect(api.requests).toEqual([])
  })

  it('makes no request for no comments', async () => {
    const api = await githubApi()
    expect(await upsertComments([], target(api))).toEqual([])
    expect(api.requests).toEqual([])
  })
})

describe('commentMarker', () => {
  it('is a hidden HTML comment naming the key', () => {
    expect(commentMarker('sync.yml/default/prod')).toBe('<!-- deckhand:sync.yml/default/prod -->')
  })

  it('cannot be ended early or broken across lines by the key', () => {
    for (const key of ['a-->b', 'a--!>b', 'a--', 'x\n<!-- deckhand:y -->', '<script>', 'plan ✓']) {
      const marker = commentMarker(key)
      expect(marker.indexOf('-->')).toBe(marker.length - 3)
      expect(marker.slice(4, -3)).not.toMatch(/--|[<>!\n]/)
      expect(marker).toMatch(/^[\x20-\x7e]+$/)
    }
  })

  it('gives distinct keys distinct markers', () => {
    const keys = ['a>', 'a%3E', 'a--', 'a-%2D', 'a-', 'a']
    expect(new Set(keys.map(commentMarker)).size).toBe(keys.length)
  })
})

describe('pullRequestNumber', () => {
  async function eventFile(payload: unknown): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'deckhand-event-'))
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    const path = join(dir, 'event.json')
    await writeFile(path, typeof payload === 'string' ? payload : JSON.stringify(payload))
    return path
  }

  const pullRequestPayload = (number: number) => ({
    action: 'synchronize',
    number,
    pull_request: { number, head: { ref: 'feature' }, base: { ref: 'main' } },
  })

  it('reads pull_request and pull_request_target events', async () => {
    const path = await eventFile(pullRequestPayload(12))
    expect(pullRequestNumber({ GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: path })).toBe(12)
    expect(pullRequestNumber({ GITHUB_EVENT_NAME: 'pull_request_target', GITHUB_EVENT_PATH: path })).toBe(12)
  })

  it('reads an issue_comment on a pull request, not on an issue', async () => {
    const onPr = await eventFile({
      action: 'created',
      issue: {
        number: 14,
        pull_request: { url: 'https://api.github.com/repos/o/r/pulls/14', merged_at: null },
      },
      comment: { id: 1, body: '/deckhand plan' },
    })
    const onIssue = await eventFile({ action: 'created', issue: { number: 15 }, comment: { id: 2 } })
    expect(pullRequestNumber({ GITHUB_EVENT_NAME: 'issue_comment', GITHUB_EVENT_PATH: onPr })).toBe(14)
    expect(
      pullRequestNumber({ GITHUB_EVENT_NAME: 'issue_comment', GITHUB_EVENT_PATH: onIssue }),
    ).toBeUndefined()
  })

  it('is undefined for other events, a missing or broken event file, and outside Actions', async () => {
    const push = await eventFile({ ref: 'refs/heads/main', number: 3, pull_request: { number: 3 } })
    const broken = await eventFile('{"pull_request": ')
    expect(pullRequestNumber({ GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: push })).toBeUndefined()
    expect(
      pullRequestNumber({
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_EVENT_PATH: join(tmpdir(), 'no-such-event.json'),
      }),
    ).toBeUndefined()
    expect(
      pullRequestNumber({ GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: broken }),
    ).toBeUndefined()
    expect(pullRequestNumber({ GITHUB_EVENT_NAME: 'pull_request' })).toBeUndefined()
    expect(pullRequestNumber({})).toBeUndefined()
  })
})

describe('the GitHub API stand-in', () => {
  async function get(api: GitHubApi, path: string, token: string | null = WRITE_TOKEN) {
    const res = await fetch(`${api.url}${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    })
    return { status: res.status, link: res.headers.get('link'), data: (await res.json()) as unknown }
  }

  async function send(api: GitHubApi, method: string, path: string, body: string) {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: { authorization: `token ${WRITE_TOKEN}`, 'content-type': 'application/json' },
      body,
    })
    return { status: res.status, data: (await res.json()) as Record<string, unknown> }
  }

  const list = '/repos/octo-org/gateway-config/issues/7/comments'

  it('pages 30 comments by default, at most 100, with a Link header', async () => {
    const api = await githubApi({
      comments: Array.from({ length: 250 }, (_, i) => ({ number: PR, body: `c${i}` })),
    })
    const first = await get(api, list)
    expect(first.status).toBe(200)
    expect(first.data).toHaveLength(30)
    expect(first.link).toBe(
      `<${api.url}/repositories/600000001/issues/7/comments?page=2>; rel="next", ` +
        `<${api.url}/repositories/600000001/issues/7/comments?page=9>; rel="last"`,
    )
    const middle = await get(api, `${list}?per_page=500&page=2`)
    expect((middle.data as Array<{ body: string }>).map((c) => c.body)).toEqual(
      Array.from({ length: 100 }, (_, i) => `c${i + 100}`),
    )
    expect(middle.link).toBe(
      [
        `<${api.url}/repositories/600000001/issues/7/comments?per_page=500&page=1>; rel="prev"`,
        `<${api.url}/repositories/600000001/issues/7/comments?per_page=500&page=3>; rel="next"`,
        `<${api.url}/repositories/600000001/issues/7/comments?per_page=500&page=3>; rel="last"`,
        `<${api.url}/repositories/600000001/issues/7/comments?per_page=500&page=1>; rel="first"`,
      ].join(', '),
    )
    const last = await get(api, `${list}?per_page=100&page=3`)
    expect(last.data).toHaveLength(50)
    expect(last.link).not.toContain('rel="next"')
    expect((await get(api, `${list}?per_page=100&page=4`)).data).toEqual([])
  })

  it('answers errors with the bodies GitHub sends', async () => {
    const api = await githubApi()
    expect(await get(api, list, null)).toMatchObject({
      status: 401,
      data: { message: 'Requires authentication' },
    })
    expect(await get(api, list, 'ghp_unknown')).toMatchObject({
      status: 401,
      data: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' },
    })
    expect(await get(api, '/repos/octo-org/other/issues/7/comments')).toMatchObject({
      status: 404,
      data: { message: 'Not Found' },
    })
    expect(await send(api, 'POST', list, '{"body": ')).toMatchObject({
      status: 400,
      data: { message: 'Problems parsing JSON' },
    })
    const tooLong = await send(api, 'POST', list, JSON.stringify({ body: 'x'.repeat(65_537) }))
    expect(tooLong).toMatchObject({
      status: 422,
      data: {
        message: 'Validation Failed',
        errors: [
          {
            resource: 'IssueComment',
            code: 'custom',
            field: 'body',
            message: 'body is too long (maximum is 65536 characters)',
          },
        ],
      },
    })
    expect(await send(api, 'POST', list, JSON.stringify({ body: 'x'.repeat(65_536) }))).toMatchObject({
      status: 201,
    })
    expect(
      await send(api, 'PATCH', '/repos/octo-org/gateway-config/issues/comments/1', '{"body":"x"}'),
    ).toMatchObject({ status: 404 })
    expect(api.requests.map((r) => r.authorized)).toEqual([false, true, true, true, true, true, true])
    expect(JSON.stringify(api.requests)).not.toContain(WRITE_TOKEN)
  })
})
