import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A local stand-in for the part of GitHub's REST API that pull request comments use
 * (https://docs.github.com/en/rest/issues/comments), on 127.0.0.1 only, answering as GitHub does:
 *
 * - `GET /repos/{owner}/{repo}/issues/{number}/comments?per_page=&page=` (per_page default 30, at most 100;
 *   ascending by id; RFC 5988 `Link` header with absolute `/repositories/{id}/...` URLs, as GitHub sends them,
 *   and that route answers too)
 * - `POST /repos/{owner}/{repo}/issues/{number}/comments` `{body}` → 201 and the comment
 * - `PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}` `{body}` → 200 and the comment, new updated_at
 *
 * Checks in GitHub's order: credentials (401), JSON (400), existence (404), write permission (403),
 * validation (422). Owner and repository names match case-insensitively, as on GitHub.
 */
export interface GitHubApi {
  /** API root to pass as apiUrl, e.g. `http://127.0.0.1:41234`. */
  url: string
  /** `owner/name` of the one repository this API knows. */
  repository: string
  /** The comments of an issue or pull request, ascending by id (copies). */
  comments(number: number): IssueComment[]
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

/** `write` may comment (pull-requests: write); `read` gets 403 on POST and PATCH, like a fork's GITHUB_TOKEN. */
export type TokenAccess = 'write' | 'read'

export interface SeedComment {
  number: number
  body: string
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
}

export const WRITE_TOKEN = 'ghs_writeTokenForTheStandInApi0000000001'
export const READ_TOKEN = 'ghs_readOnlyTokenForTheStandInApi000000002'
/** Max comment body length GitHub accepts, in characters (its 422 says "maximum is 65536 characters"). */
export const GITHUB_BODY_LIMIT = 65_536

/** github-actions[bot] as GitHub shows it: the author of comments made with GITHUB_TOKEN. */
const ACTIONS_BOT = { login: 'github-actions[bot]', id: 41898282, type: 'Bot' as const }
const DOCS = 'https://docs.github.com/rest'
const HTML_ROOT = 'https://github.com'

export interface IssueComment {
  id: number
  node_id: string
  url: string
  html_url: string
  issue_url: string
  body: string
  user: { login: string; id: number; node_id: string; type: 'User' | 'Bot'; site_admin: boolean }
  created_at: string
  updated_at: string
  author_association: string
}

export async function startGitHubApi(options: GitHubApiOptions = {}): Promise<GitHubApi> {
  const repository = options.repository ?? 'octo-org/gateway-config'
  const repositoryId = 600_000_001
  const tokens = options.tokens ?? { [WRITE_TOKEN]: 'write', [READ_TOKEN]: 'read' }
  const bodyLimit = options.bodyLimit ?? GITHUB_BODY_LIMIT
  const issues = new Map<number, IssueComment[]>((options.issues ?? [7]).map((n) => [n, []]))
  const requests: RecordedApiRequest[] = []
  let origin = ''
  let nextId = 2_000_000_001
  // A clock that ticks a second per write, so updated_at always moves and tests stay deterministic.
  let clock = Date.parse('2026-03-02T09:00:00Z')
  const now = () => new Date((clock += 1000)).toISOString().replace(/\.\d{3}Z$/, 'Z')
  const users = new Map<string, number>([[ACTIONS_BOT.login, ACTIONS_BOT.id]])
  const userId = (login: string): number => {
    const id = users.get(login) ?? 1_000 + users.size
    users.set(login, id)
    return id
  }

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
      user: {
        login,
        id: userId(login),
        node_id: `U_${Buffer.from(login).toString('base64url')}`,
        type,
        site_admin: false,
      },
      created_at: time,
      updated_at: time,
      author_association: type === 'Bot' ? 'NONE' : 'MEMBER',
    }
    let list = issues.get(number)
    if (!list) issues.set(number, (list = []))
    list.push(comment)
    return comment
  }

  const server = createServer((req, res) => {
    readBody(req)
      .then((raw) => handle(req, raw, res))
      .catch(() => send(res, 500, { message: 'Server Error' }))
  })

  function handle(req: IncomingMessage, raw: string, res: ServerResponse): void {
    const method = req.method ?? 'GET'
    const url = new URL(req.url ?? '/', origin)
    const auth = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')
    requests.push({
      method,
      path: url.pathname + url.search,
      authorized: auth !== null,
      body: parseOrRaw(raw),
    })

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
    const inRepo = /^\/repos\/([^/]+)\/([^/]+)(\/.*)$/.exec(path)
    const byId = new RegExp(`^/repositories/${repositoryId}(/.*)$`).exec(path)
    const known = inRepo ? `${inRepo[1]}/${inRepo[2]}`.toLowerCase() === repository.toLowerCase() : !!byId
    const rest = (inRepo ? inRepo[3] : byId?.[1]) ?? ''
    if (!known) return fail(res, 404, 'Not Found')

    const list = /^\/issues\/(\d+)\/comments$/.exec(rest)
    if (list) {
      const number = Number(list[1])
      const comments = issues.get(number)
      if (!comments) return fail(res, 404, 'Not Found')
      if (method === 'GET') return listComments(res, url, `/repositories/${repositoryId}${rest}`, comments)
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
    return fail(res, 404, 'Not Found')
  }

  /** GitHub's Link header points at `/repositories/{id}/...`, whichever form the request used. */
  function listComments(res: ServerResponse, url: URL, linkPath: string, comments: IssueComment[]): void {
    const perPage = clampInt(url.searchParams.get('per_page'), 30, 1, 100)
    const page = clampInt(url.searchParams.get('page'), 1, 1, Number.MAX_SAFE_INTEGER)
    const last = Math.max(1, Math.ceil(comments.length / perPage))
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
    const slice = comments.slice((page - 1) * perPage, page * perPage)
    send(res, 200, slice, links.length > 0 ? { link: links.join(', ') } : {})
  }

  function checkBody(res: ServerResponse, json: unknown): string | undefined {
    const body = typeof json === 'object' && json !== null ? (json as { body?: unknown }).body : undefined
    if (typeof body !== 'string') {
      fail(res, 422, 'Invalid request.\n\n"body" wasn\'t supplied.')
      return undefined
    }
    if (Array.from(body).length > bodyLimit) {
      send(res, 422, {
        message: 'Validation Failed',
        errors: [
          {
            resource: 'IssueComment',
            code: 'custom',
            field: 'body',
            message: `body is too long (maximum is ${bodyLimit} characters)`,
          },
        ],
        documentation_url: 'https://docs.github.com/rest/issues/comments#create-an-issue-comment',
        status: '422',
      })
      return undefined
    }
    return body
  }

  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  for (const seed of options.comments ?? [])
    addComment(seed.number, seed.body, seed.login ?? 'octocat', seed.type ?? 'User')

  return {
    url: origin,
    repository,
    comments: (number) => (issues.get(number) ?? []).map((c) => structuredClone(c)),
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections()
        server.close(() => done())
      }),
  }
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
