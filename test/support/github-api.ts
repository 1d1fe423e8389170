import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A local stand-in for the part of GitHub's REST API that pull request comments and drift pull requests use
 * (https://docs.github.com/en/rest/issues/comments, https://docs.github.com/en/rest/pulls/pulls), on
 * 127.0.0.1 only, answering as GitHub does:
 *
 * - `GET /repos/{owner}/{repo}` → the repository (`full_name`, `default_branch`, `private`, …)
 * - `GET /repos/{owner}/{repo}/issues/{number}/comments?per_page=&page=` (per_page default 30, at most 100;
 *   ascending by id; RFC 5988 `Link` header with absolute `/repositories/{id}/...` URLs, as GitHub sends them,
 *   and that route answers too)
 * - `POST /repos/{owner}/{repo}/issues/{number}/comments` `{body}` → 201 and the comment
 * - `PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}` `{body}` → 200 and the comment, new updated_at
 * - `GET /repos/{owner}/{repo}/pulls?state=&head=&base=&sort=&direction=&per_page=&page=` (state open by
 *   default, or closed or all; head only as `owner:branch`, a bare branch name is ignored as on GitHub; newest
 *   first; paged like the comments)
 * - `GET /repos/{owner}/{repo}/pulls/{number}`
 * - `POST /repos/{owner}/{repo}/pulls` `{title, head, base, body?, draft?, maintainer_can_modify?}` → 201;
 *   422 when an open pull request already goes from that head into that base, when either branch does not
 *   exist, or when head has no commits base lacks; 403 when Actions may not create pull requests
 * - `PATCH /repos/{owner}/{repo}/pulls/{number}` `{title?, body?, state?, base?}` → 200, new updated_at
 *
 * Pull requests are issues too: they take the next free issue number and take comments through the issue
 * comment routes. Checks in GitHub's order: credentials (401), JSON (400), existence (404), write permission
 * (403), validation (422). Owner and repository names match case-insensitively, as on GitHub.
 */
export interface GitHubApi {
  /** API root to pass as apiUrl, e.g. `http://127.0.0.1:41234`. */
  url: string
  /** `owner/name` of the one repository this API knows. */
  repository: string
  /** The comments of an issue or pull request, ascending by id (copies). */
  comments(number: number): IssueComment[]
  /** Every pull request, open or closed, ascending by number (copies). */
  pulls(): PullRequest[]
  /** Opens (or records) a pull request as someone else would, e.g. another run between two requests. */
  addPullRequest(seed: SeedPullRequest): PullRequest
  requests: RecordedApiRequest[]
  close(): Promise<void>
}

/** A request as the stand-in saw it. The token itself is never recorded. */
export interface RecordedApiRequest {
  method: string
  /** Path and query, e.g. `/repos/octo/app/issues/7/comments?per_page=100`. */
  path: string
  /** Whether an `Authorization: token …` or `Bearer …` header was sent. */
  authorized: boolean
  /** Parsed JSON body, the raw text when it is not JSON, undefined when empty. */
  body: unknown
}

/**
 * `write` may comment and open pull requests (contents and pull-requests: write); `read` gets 403 on POST and
 * PATCH, like a fork's GITHUB_TOKEN.
 */
export type TokenAccess = 'write' | 'read'

export interface SeedComment {
  number: number
  body: string
  /** Author; default `octocat` (a User). */
  login?: string
  type?: 'User' | 'Bot'
}

export interface SeedPullRequest {
  /** Branch name, or `owner:branch` for a branch in a fork. */
  head: string
  /** Default: the repository's default branch. */
  base?: string
  /** Default `Update {head}`. */
  title?: string
  body?: string | null
  /** Default open. At most one open pull request may go from a head into a base. */
  state?: 'open' | 'closed'
  /** Default: the next free issue number. May be one of the `issues` (that issue is this pull request). */
  number?: number
  /** Author; default `octocat` (a User). */
  login?: string
  type?: 'User' | 'Bot'
}

export interface GitHubApiOptions {
  /** Default `octo-org/gateway-config`. */
  repository?: string
  /** Issues and pull requests that exist; default [7]. Numbers of seeded comments exist too. */
  issues?: number[]
  /** Accepted tokens; default {@link WRITE_TOKEN} (write) and {@link READ_TOKEN} (read). */
  tokens?: Record<string, TokenAccess>
  /** Comments present before the test, in order (ids ascend). */
  comments?: SeedComment[]
  /** GitHub's body limit in characters (65,536); lower it to reach the 422 without huge bodies. */
  bodyLimit?: number
  /** Default `main`. */
  defaultBranch?: string
  /** Default false. */
  private?: boolean
  /** Pull requests present before the test, created in order after the seeded comments. */
  pullRequests?: SeedPullRequest[]
  /** Whether a branch exists, asked when a pull request is opened or retargeted; default every branch does. */
  branchExists?: (name: string) => boolean | Promise<boolean>
  /** Whether head has commits base lacks; default true for distinct branches. */
  commitsBetween?: (base: string, head: string) => boolean | Promise<boolean>
  /**
   * The repository setting "Allow GitHub Actions to create and approve pull requests" (default true). When
   * false, creating a pull request answers 403 as it does for GITHUB_TOKEN; the stand-in's tokens all count as
   * GITHUB_TOKEN.
   */
  actionsMayCreatePullRequests?: boolean
  /** Called with each request once recorded, before it is answered: lets a test act between two requests. */
  beforeAnswer?: (request: RecordedApiRequest) => void | Promise<void>
}

export const WRITE_TOKEN = 'ghs_writeTokenForTheStandInApi0000000001'
export const READ_TOKEN = 'ghs_readOnlyTokenForTheStandInApi000000002'
/** Max comment body length GitHub accepts, in characters (its 422 says "maximum is 65536 characters"). */
export const GITHUB_BODY_LIMIT = 65_536

/** github-actions[bot] as GitHub shows it: the author of comments made with GITHUB_TOKEN. */
const ACTIONS_BOT = { login: 'github-actions[bot]', id: 41898282, type: 'Bot' as const }
const DOCS = 'https://docs.github.com/rest'
const HTML_ROOT = 'https://github.com'

export interface GitHubUser {
  login: string
  id: number
  node_id: string
  type: 'User' | 'Bot' | 'Organization'
  site_admin: boolean
}

export interface IssueComment {
  id: number
  node_id: string
  url: string
  html_url: string
  issue_url: string
  body: string
  user: GitHubUser
  created_at: string
  updated_at: string
  author_association: string
}

export interface RepositorySummary {
  id: number
  node_id: string
  name: string
  full_name: string
  private: boolean
  owner: GitHubUser
  html_url: string
  url: string
}

export interface Repository extends RepositorySummary {
  description: string | null
  fork: boolean
  default_branch: string
  visibility: 'public' | 'private'
  archived: boolean
  disabled: boolean
  created_at: string
  updated_at: string
  pushed_at: string
}

export interface PullRequestBranch {
  /** `owner:branch` */
  label: string
  ref: string
  sha: string
  user: GitHubUser
  repo: RepositorySummary
}

export interface PullRequest {
  id: number
  node_id: string
  number: number
  url: string
  html_url: string
  diff_url: string
  patch_url: string
  issue_url: string
  comments_url: string
  state: 'open' | 'closed'
  locked: boolean
  title: string
  body: string | null
  user: GitHubUser
  head: PullRequestBranch
  base: PullRequestBranch
  draft: boolean
  maintainer_can_modify: boolean
  author_association: string
  created_at: string
  updated_at: string
  closed_at: string | null
  merged_at: string | null
}

export async function startGitHubApi(options: GitHubApiOptions = {}): Promise<GitHubApi> {
  const repository = options.repository ?? 'octo-org/gateway-config'
  const [repoOwner = '', repoName = ''] = repository.split('/')
  const repositoryId = 600_000_001
  const tokens = options.tokens ?? { [WRITE_TOKEN]: 'write', [READ_TOKEN]: 'read' }
  const bodyLimit = options.bodyLimit ?? GITHUB_BODY_LIMIT
  const defaultBranch = options.defaultBranch ?? 'main'
  const branchExists = options.branchExists ?? (() => true)
  const commitsBetween = options.commitsBetween ?? (() => true)
  const actionsMayCreate = options.actionsMayCreatePullRequests ?? true
  const issues = new Map<number, IssueComment[]>((options.issues ?? [7]).map((n) => [n, []]))
  const pulls = new Map<number, PullRequest>()
  const requests: RecordedApiRequest[] = []
  let origin = ''
  let nextId = 2_000_000_001
  let nextPullId = 3_000_000_001
  // A clock that ticks a second per write, so updated_at always moves and tests stay deterministic.
  let clock = Date.parse('2026-03-02T09:00:00Z')
  const now = () => new Date((clock += 1000)).toISOString().replace(/\.\d{3}Z$/, 'Z')
  const users = new Map<string, number>([[ACTIONS_BOT.login, ACTIONS_BOT.id]])
  const userId = (login: string): number => {
    const id = users.get(login) ?? 1_000 + users.size
    users.set(login, id)
    return id
  }
  const user = (login: string, type: GitHubUser['type']): GitHubUser => ({
    login,
    id: userId(login),
    node_id: `U_${Buffer.from(login).toString('base64url')}`,
    type,
    site_admin: false,
  })
  const sameOwner = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()

  const addComment = (number: number, body: string, login: string, type: 'User' | 'Bot'): IssueComment => {
    const id = nextId++
    const time = now()
    const api = `${origin}/repos/${repository}`
    const comment: IssueComment = {
      id,
      node_id: `IC_kwDO${Buffer.from(String(id)).toString('base64url')}`,
      url: `${api}/issues/comments/${id}`,
      html_url: `${HTML_ROOT}/${repository}/pull/${number}#issuecomment-${id}`,
      issue_url: `${api}/issues/${number}`,
      body,
      user: user(login, type),
      created_at: time,
      updated_at: time,
      author_association: type === 'Bot' ? 'NONE' : 'MEMBER',
    }
    let list = issues.get(number)
    if (!list) issues.set(number, (list = []))
    list.push(comment)
    return comment
  }

  /** This repository, or a fork of it owned by `owner`. */
  const repositorySummary = (owner: string): RepositorySummary => {
    const own = sameOwner(owner, repoOwner)
    const fullName = own ? repository : `${owner}/${repoName}`
    const id = own ? repositoryId : repositoryId + userId(owner)
    return {
      id,
      node_id: `R_kgDO${Buffer.from(String(id)).toString('base64url')}`,
      name: repoName,
      full_name: fullName,
      private: own ? (options.private ?? false) : false,
      owner: user(own ? repoOwner : owner, own ? 'Organization' : 'User'),
      html_url: `${HTML_ROOT}/${fullName}`,
      url: `${origin}/repos/${fullName}`,
    }
  }

  const repositoryData = (): Repository => ({
    ...repositorySummary(repoOwner),
    description: null,
    fork: false,
    default_branch: defaultBranch,
    visibility: options.private ? 'private' : 'public',
    archived: false,
    disabled: false,
    created_at: '2025-06-01T12:00:00Z',
    updated_at: '2026-03-01T12:00:00Z',
    pushed_at: '2026-03-01T12:00:00Z',
  })

  const branch = (owner: string, ref: string): PullRequestBranch => {
    const repo = repositorySummary(owner)
    return {
      label: `${repo.owner.login}:${ref}`,
      ref,
      sha: createHash('sha1').update(`${repo.full_name}:${ref}`).digest('hex'),
      user: repo.owner,
      repo,
    }
  }

  const findOpen = (owner: string, ref: string, base: string): PullRequest | undefined =>
    [...pulls.values()].find(
      (pr) =>
        pr.state === 'open' &&
        sameOwner(pr.head.user.login, owner) &&
        pr.head.ref === ref &&
        pr.base.ref === base,
    )

  const addPull = (seed: SeedPullRequest): PullRequest => {
    const { owner, ref } = splitHead(seed.head, repoOwner)
    const base = seed.base ?? defaultBranch
    const state = seed.state ?? 'open'
    if (state === 'open' && findOpen(owner, ref, base))
      throw new Error(`An open pull request already goes from ${owner}:${ref} into ${base}.`)
    // Pull requests and issues share one number sequence.
    const number = seed.number ?? Math.max(0, ...issues.keys(), ...pulls.keys()) + 1
    if (pulls.has(number)) throw new Error(`Pull request #${number} exists already.`)
    const time = now()
    const id = nextPullId++
    const api = `${origin}/repos/${repository}`
    const html = `${HTML_ROOT}/${repository}/pull/${number}`
    const type = seed.type ?? (seed.login === ACTIONS_BOT.login ? 'Bot' : 'User')
    const pr: PullRequest = {
      id,
      node_id: `PR_kwDO${Buffer.from(String(id)).toString('base64url')}`,
      number,
      url: `${api}/pulls/${number}`,
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      issue_url: `${api}/issues/${number}`,
      comments_url: `${api}/issues/${number}/comments`,
      state,
      locked: false,
      title: seed.title ?? `Update ${ref}`,
      body: seed.body ?? null,
      user: user(seed.login ?? 'octocat', type),
      head: branch(owner, ref),
      base: branch(repoOwner, base),
      draft: false,
      maintainer_can_modify: false,
      author_association: type === 'Bot' ? 'NONE' : 'MEMBER',
      created_at: time,
      updated_at: time,
      closed_at: state === 'closed' ? time : null,
      merged_at: null,
    }
    pulls.set(number, pr)
    if (!issues.has(number)) issues.set(number, [])
    return pr
  }

  const server = createServer((req, res) => {
    readBody(req)
      .then((raw) => handle(req, raw, res))
      .catch(() => send(res, 500, { message: 'Server Error' }))
  })

  async function handle(req: IncomingMessage, raw: string, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET'
    const url = new URL(req.url ?? '/', origin)
    const auth = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')
    const recorded = {
      method,
      path: url.pathname + url.search,
      authorized: auth !== null,
      body: parseOrRaw(raw),
    }
    requests.push(recorded)
    await options.beforeAnswer?.(recorded)

    const access = auth?.[1] !== undefined ? tokens[auth[1]] : undefined
    if (!auth) return fail(res, 401, 'Requires authentication')
    if (!access) return fail(res, 401, 'Bad credentials')

    let json: unknown
    if (method === 'POST' || method === 'PATCH') {
      try {
        json = JSON.parse(raw)
      } catch {
        return send(res, 400, { message: 'Problems parsing JSON', documentation_url: DOCS, status: '400' })
      }
    }

    const path = url.pathname.replace(/\/+$/, '')
    const inRepo = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path)
    const byId = new RegExp(`^/repositories/${repositoryId}(/.*)?$`).exec(path)
    const known = inRepo ? `${inRepo[1]}/${inRepo[2]}`.toLowerCase() === repository.toLowerCase() : !!byId
    const rest = (inRepo ? inRepo[3] : byId?.[1]) ?? ''
    if (!known) return fail(res, 404, 'Not Found')

    if (rest === '') return method === 'GET' ? send(res, 200, repositoryData()) : fail(res, 404, 'Not Found')

    const list = /^\/issues\/(\d+)\/comments$/.exec(rest)
    if (list) {
      const number = Number(list[1])
      const comments = issues.get(number)
      if (!comments) return fail(res, 404, 'Not Found')
      if (method === 'GET') return listPage(res, url, `/repositories/${repositoryId}${rest}`, comments)
      if (method !== 'POST') return fail(res, 404, 'Not Found')
      if (access !== 'write') return fail(res, 403, 'Resource not accessible by integration')
      const body = checkBody(res, json)
      if (body === undefined) return
      const created = addComment(number, body, ACTIONS_BOT.login, ACTIONS_BOT.type)
      return send(res, 201, created, { location: created.url })
    }

    const one = /^\/issues\/comments\/(\d+)$/.exec(rest)
    if (one && inRepo) {
      const comment = [...issues.values()].flat().find((c) => c.id === Number(one[1]))
      if (!comment) return fail(res, 404, 'Not Found')
      if (method === 'GET') return send(res, 200, comment)
      if (method !== 'PATCH') return fail(res, 404, 'Not Found')
      if (access !== 'write') return fail(res, 403, 'Resource not accessible by integration')
      const body = checkBody(res, json)
      if (body === undefined) return
      comment.body = body
      comment.updated_at = now()
      return send(res, 200, comment)
    }

    if (rest === '/pulls') {
      if (method === 'GET') return listPage(res, url, `/repositories/${repositoryId}${rest}`, listPulls(url))
      if (method !== 'POST') return fail(res, 404, 'Not Found')
      if (access !== 'write') return fail(res, 403, 'Resource not accessible by integration')
      if (!actionsMayCreate)
        return fail(res, 403, 'GitHub Actions is not permitted to create or approve pull requests.')
      return createPull(res, json)
    }

    const pull = /^\/pulls\/(\d+)$/.exec(rest)
    if (pull) {
      const pr = pulls.get(Number(pull[1]))
      if (!pr) return fail(res, 404, 'Not Found')
      if (method === 'GET') return send(res, 200, pr)
      if (method !== 'PATCH') return fail(res, 404, 'Not Found')
      if (access !== 'write') return fail(res, 403, 'Resource not accessible by integration')
      return updatePull(res, pr, json)
    }
    return fail(res, 404, 'Not Found')
  }

  /** Open pull requests by default, newest first; `head` filters only as `owner:branch`, as on GitHub. */
  function listPulls(url: URL): PullRequest[] {
    const query = url.searchParams
    const state = query.get('state') ?? 'open'
    const head = query.get('head')
    const filter = head?.includes(':') ? splitHead(head, repoOwner) : undefined
    const base = query.get('base')
    const key = query.get('sort') === 'updated' ? 'updated_at' : 'created_at'
    const sign = query.get('direction') === 'asc' ? 1 : -1
    return [...pulls.values()]
      .filter((pr) => state === 'all' || pr.state === state)
      .filter((pr) => !filter || (sameOwner(pr.head.user.login, filter.owner) && pr.head.ref === filter.ref))
      .filter((pr) => base === null || pr.base.ref === base)
      .sort((a, b) => sign * (a[key].localeCompare(b[key]) || a.id - b.id))
  }

  async function createPull(res: ServerResponse, json: unknown): Promise<void> {
    const input = isRecord(json) ? json : {}
    const errors = [
      ...requiredText(input, 'title'),
      ...requiredText(input, 'head'),
      ...requiredText(input, 'base'),
      ...bodyErrors(input),
    ]
    if (errors.length > 0) return invalid(res, errors, CREATE_PULL_DOCS)
    const { owner, ref } = splitHead(String(input.head), repoOwner)
    const base = String(input.base)
    // Branches in forks are out of the stand-in's reach: a head owned by anyone else does not exist.
    const headExists = sameOwner(owner, repoOwner) && (await branchExists(ref))
    const baseExists = await branchExists(base)
    const ahead = ref !== base && (await commitsBetween(base, ref))
    const missing = [
      ...(headExists ? [] : [{ resource: 'PullRequest', field: 'head', code: 'invalid' }]),
      ...(baseExists ? [] : [{ resource: 'PullRequest', field: 'base', code: 'invalid' }]),
    ]
    if (missing.length > 0) return invalid(res, missing, CREATE_PULL_DOCS)
    // From here on no await: the duplicate check and the creation happen at once, as GitHub serialises them.
    if (findOpen(owner, ref, base))
      return invalid(
        res,
        [custom(`A pull request already exists for ${repoOwner}:${ref}.`)],
        CREATE_PULL_DOCS,
      )
    if (!ahead) return invalid(res, [custom(`No commits between ${base} and ${ref}`)], CREATE_PULL_DOCS)
    const pr = addPull({
      head: ref,
      base,
      title: String(input.title),
      body: typeof input.body === 'string' ? input.body : null,
      login: ACTIONS_BOT.login,
      type: ACTIONS_BOT.type,
    })
    pr.draft = input.draft === true
    return send(res, 201, pr, { location: pr.url })
  }

  async function updatePull(res: ServerResponse, pr: PullRequest, json: unknown): Promise<void> {
    const input = isRecord(json) ? json : {}
    const errors = [
      ...('title' in input ? requiredText(input, 'title') : []),
      ...bodyErrors(input),
      ...('state' in input && input.state !== 'open' && input.state !== 'closed'
        ? [{ resource: 'PullRequest', field: 'state', code: 'invalid' }]
        : []),
      ...('base' in input ? requiredText(input, 'base') : []),
    ]
    if (errors.length > 0) return invalid(res, errors, UPDATE_PULL_DOCS)
    const base = typeof input.base === 'string' ? input.base : pr.base.ref
    if (base !== pr.base.ref && !(await branchExists(base)))
      return invalid(res, [{ resource: 'PullRequest', field: 'base', code: 'invalid' }], UPDATE_PULL_DOCS)
    const state = (input.state as PullRequest['state'] | undefined) ?? pr.state
    const other = state === 'open' ? findOpen(pr.head.user.login, pr.head.ref, base) : undefined
    if (other && other !== pr)
      return invalid(res, [custom(`A pull request already exists for ${pr.head.label}.`)], UPDATE_PULL_DOCS)
    const time = now()
    if (typeof input.title === 'string') pr.title = input.title
    if ('body' in input) pr.body = typeof input.body === 'string' ? input.body : null
    if (base !== pr.base.ref) pr.base = branch(repoOwner, base)
    if (state !== pr.state) pr.closed_at = state === 'closed' ? time : null
    pr.state = state
    pr.updated_at = time
    return send(res, 200, pr)
  }

  /** A pull request body may be absent or null; when given it is held to the same limit as comments. */
  function bodyErrors(input: Record<string, unknown>): ValidationError[] {
    const body = input.body
    if (body === undefined || body === null) return []
    if (typeof body !== 'string') return [{ resource: 'PullRequest', field: 'body', code: 'invalid' }]
    return Array.from(body).length > bodyLimit ? [tooLong('PullRequest', bodyLimit)] : []
  }

  /** GitHub's Link header points at `/repositories/{id}/...`, whichever form the request used. */
  function listPage(res: ServerResponse, url: URL, linkPath: string, items: readonly unknown[]): void {
    const perPage = clampInt(url.searchParams.get('per_page'), 30, 1, 100)
    const page = clampInt(url.searchParams.get('page'), 1, 1, Number.MAX_SAFE_INTEGER)
    const last = Math.max(1, Math.ceil(items.length / perPage))
    const link = (n: number, rel: string) => {
      const target = new URL(linkPath, origin)
      for (const [name, value] of url.searchParams) if (name !== 'page') target.searchParams.set(name, value)
      target.searchParams.set('page', String(n))
      return `<${target.href}>; rel="${rel}"`
    }
    const links = [
      ...(page > 1 ? [link(Math.min(page - 1, last), 'prev')] : []),
      ...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : []),
      ...(page > 1 ? [link(1, 'first')] : []),
    ]
    const slice = items.slice((page - 1) * perPage, page * perPage)
    send(res, 200, slice, links.length > 0 ? { link: links.join(', ') } : {})
  }

  function checkBody(res: ServerResponse, json: unknown): string | undefined {
    const body = typeof json === 'object' && json !== null ? (json as { body?: unknown }).body : undefined
    if (typeof body !== 'string') {
      fail(res, 422, 'Invalid request.\n\n"body" wasn\'t supplied.')
      return undefined
    }
    if (Array.from(body).length > bodyLimit) {
      invalid(
        res,
        [tooLong('IssueComment', bodyLimit)],
        'https://docs.github.com/rest/issues/comments#create-an-issue-comment',
      )
      return undefined
    }
    return body
  }

  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  for (const seed of options.comments ?? [])
    addComment(seed.number, seed.body, seed.login ?? 'octocat', seed.type ?? 'User')
  for (const seed of options.pullRequests ?? []) addPull(seed)

  return {
    url: origin,
    repository,
    comments: (number) => (issues.get(number) ?? []).map((c) => structuredClone(c)),
    pulls: () => [...pulls.values()].sort((a, b) => a.number - b.number).map((pr) => structuredClone(pr)),
    addPullRequest: (seed) => structuredClone(addPull(seed)),
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections()
        server.close(() => done())
      }),
  }
}

const CREATE_PULL_DOCS = 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request'
const UPDATE_PULL_DOCS = 'https://docs.github.com/rest/pulls/pulls#update-a-pull-request'

/** One entry of a 422's `errors`. */
interface ValidationError {
  resource: string
  code: string
  field?: string
  message?: string
}

function custom(message: string): ValidationError {
  return { resource: 'PullRequest', code: 'custom', message }
}

function tooLong(resource: string, limit: number): ValidationError {
  return {
    resource,
    code: 'custom',
    field: 'body',
    message: `body is too long (maximum is ${limit} characters)`,
  }
}

function requiredText(input: Record<string, unknown>, field: string): ValidationError[] {
  const value = input[field]
  return typeof value === 'string' && value.trim() !== ''
    ? []
    : [{ resource: 'PullRequest', code: 'missing_field', field }]
}

function invalid(res: ServerResponse, errors: ValidationError[], documentation: string): void {
  send(res, 422, { message: 'Validation Failed', errors, documentation_url: documentation, status: '422' })
}

/** `owner:branch` or a bare branch of `defaultOwner`. */
function splitHead(head: string, defaultOwner: string): { owner: string; ref: string } {
  const colon = head.indexOf(':')
  return colon < 0
    ? { owner: defaultOwner, ref: head }
    : { owner: head.slice(0, colon), ref: head.slice(colon + 1) }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function fail(res: ServerResponse, status: number, message: string): void {
  send(res, status, { message, documentation_url: DOCS, status: String(status) })
}

function send(
  res: ServerResponse,
  status: number,
  data: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(data)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'x-github-media-type': 'github.v3; format=json',
    ...headers,
  })
  res.end(text)
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function parseOrRaw(raw: string): unknown {
  if (raw === '') return undefined
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}

function clampInt(value: string | null, fallback: number, min: number, max: number): number {
  const n = value === null || !/^\d+$/.test(value) ? NaN : Number(value)
  if (!Number.isSafeInteger(n) || n < min) return fallback
  return Math.min(n, max)
}
