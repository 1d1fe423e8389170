import type { getOctokit } from '@actions/github'

import { DeckhandError } from '../engine/errors.js'
import type { PullRequestHost, PullRequestOutcome, PullRequestRequest } from '../engine/pull-requests.js'
import {
  answerTooLarge,
  checkApiTarget,
  githubClient,
  githubMessage,
  type HttpError,
  isHttpError,
  networkReason,
  validationErrors,
} from './api.js'
import { renderSummary } from './summary.js'

/** Where drift pull requests go. */
export interface GitHubTarget {
  /** github-token input; sent only as the Authorization header, never logged or put in an error. */
  token: string
  /** REST API root, e.g. GITHUB_API_URL: `https://api.github.com` or `https://ghes.example.com/api/v3`. */
  apiUrl: string
  /** `owner/name`, e.g. GITHUB_REPOSITORY. */
  repository: string
}

/**
 * Longest pull request body or comment deckhand sends, in UTF-16 code units (JavaScript string length).
 * GitHub refuses bodies over 65,536 characters; code units never undercount characters, so this is safe.
 */
export const PULL_REQUEST_BODY_LIMIT = 65_535

const FOOTER_START = '<sub>Opened by deckhand'
const TRUNCATED_NOTE =
  'Drift report truncated to fit a pull request description; the job summary has all of it.'

type Octokit = ReturnType<typeof getOctokit>

/** The part of a listed pull request deckhand reads. */
interface OpenPullRequest {
  number: number
  html_url: string
  title: string
  body: string | null
}

/**
 * Drift pull requests on GitHub: at most one open pull request per head and base, found by listing the open
 * ones from `owner:head` into `base`, updated in place on later runs and closed when the drift is gone.
 */
export class GitHubPullRequests implements PullRequestHost {
  readonly repository: string
  readonly #owner: string
  readonly #repo: string
  readonly #apiUrl: string
  readonly #octokit: Octokit

  constructor(target: GitHubTarget) {
    const { owner, repo, apiUrl } = checkTarget(target)
    this.repository = `${owner}/${repo}`
    this.#owner = owner
    this.#repo = repo
    this.#apiUrl = apiUrl
    this.#octokit = githubClient(target.token, apiUrl)
  }

  async defaultBranch(): Promise<string> {
    const { data } = await this.#call(`reading the repository ${this.repository}`, () =>
      this.#octokit.rest.repos.get({ owner: this.#owner, repo: this.#repo }),
    )
    return data.default_branch
  }

  async upsert(request: PullRequestRequest): Promise<PullRequestOutcome> {
    checkBranches(request.head, request.base)
    if (request.title.trim() === '') throw new DeckhandError('A drift pull request needs a non-empty title.')
    const end = footer(process.env)
    const content = renderBody(request, end.length)
    const body = content + end

    const open = await this.#findOpen(request.head, request.base)
    if (open) return this.#update(open, request, content, body)
    const created = await this.#create(request, body)
    if (created) return { number: created.number, url: created.html_url, action: 'created' }

    // Another run opened it between our list and our create: that one is the pull request to update.
    const raced = await this.#findOpen(request.head, request.base)
    if (!raced)
      throw new DeckhandError(
        `GitHub said a pull request from ${request.head} into ${request.base} already exists in ` +
          `${this.repository}, but none is open: run the job again.`,
      )
    return this.#update(raced, request, content, body)
  }

  async close(head: string, base: string, reason: string): Promise<PullRequestOutcome | undefined> {
    checkBranches(head, base)
    const open = await this.#findOpen(head, base)
    if (!open) return undefined
    const where = `pull request #${open.number} in ${this.repository}`
    // GitHub refuses an empty comment; closing without one is still worth doing.
    if (reason.trim() !== '')
      await this.#call(`commenting on ${where} before closing it`, () =>
        this.#octokit.rest.issues.createComment({
          owner: this.#owner,
          repo: this.#repo,
          issue_number: open.number,
          body: fit(reason),
        }),
      )
    const { data } = await this.#call(`closing ${where}`, () =>
      this.#octokit.rest.pulls.update({
        owner: this.#owner,
        repo: this.#repo,
        pull_number: open.number,
        state: 'closed',
      }),
    )
    return { number: data.number, url: data.html_url, action: 'closed' }
  }

  /**
   * The open pull request from this repository's `head` into `base`. The `owner:` prefix is what makes
   * GitHub filter on head at all (a bare branch name is ignored); the refs are compared again here so a
   * pull request from a fork's branch of the same name, or one GitHub matched loosely, is never taken.
   */
  async #findOpen(head: string, base: string): Promise<OpenPullRequest | undefined> {
    const pulls = await this.#call(
      `listing the open pull requests from ${head} into ${base} in ${this.repository}`,
      () =>
        this.#octokit.paginate(this.#octokit.rest.pulls.list, {
          owner: this.#owner,
          repo: this.#repo,
          state: 'open',
          head: `${this.#owner}:${head}`,
          base,
          per_page: 100,
        }),
    )
    const ours = this.repository.toLowerCase()
    return pulls.find(
      (pr) =>
        pr.state === 'open' &&
        pr.head.ref === head &&
        pr.base.ref === base &&
        pr.head.repo?.full_name.toLowerCase() === ours,
    )
  }

  /** The created pull request, or undefined when GitHub says one is open already. */
  async #create(request: PullRequestRequest, body: string): Promise<OpenPullRequest | undefined> {
    const doing = `creating the pull request from ${request.head} into ${request.base} in ${this.repository}`
    try {
      const { data } = await this.#octokit.rest.pulls.create({
        owner: this.#owner,
        repo: this.#repo,
        title: request.title,
        head: request.head,
        base: request.base,
        body,
        maintainer_can_modify: false,
      })
      return data
    } catch (err) {
      if (isHttpError(err) && err.status === 422 && /A pull request already exists/i.test(githubMessage(err)))
        return undefined
      throw this.#error(err, doing, request)
    }
  }

  async #update(
    open: OpenPullRequest,
    request: PullRequestRequest,
    content: string,
    body: string,
  ): Promise<PullRequestOutcome> {
    // The footer links the run that last changed the body: a new run with nothing new leaves it alone.
    if (open.title === request.title && withoutFooter(open.body ?? '') === content)
      return { number: open.number, url: open.html_url, action: 'unchanged' }
    const { data } = await this.#call(
      `updating pull request #${open.number} in ${this.repository}`,
      () =>
        this.#octokit.rest.pulls.update({
          owner: this.#owner,
          repo: this.#repo,
          pull_number: open.number,
          title: request.title,
          body,
        }),
      request,
    )
    return { number: data.number, url: data.html_url, action: 'updated' }
  }

  async #call<T>(doing: string, request: () => Promise<T>, branches?: Branches): Promise<T> {
    try {
      return await request()
    } catch (err) {
      throw this.#error(err, doing, branches)
    }
  }

  #error(err: unknown, doing: string, branches?: Branches): unknown {
    return apiError(err, { doing, repository: this.repository, apiUrl: this.#apiUrl, branches })
  }
}

/**
 * `owner/name` of a git remote on GitHub, or on the GitHub Enterprise Server at `serverUrl` (e.g.
 * GITHUB_SERVER_URL; default github.com): `https://host/o/r(.git)`, `git@host:o/r.git`, `ssh://git@host/o/r.git`.
 * Undefined for a remote on any other host or of any other form.
 */
export function repositoryFromRemote(
  remoteUrl: string,
  serverUrl = 'https://github.com',
): string | undefined {
  const host = hostOf(serverUrl)
  const remote = splitRemote(remoteUrl.trim())
  if (!host || !remote || remote.host.toLowerCase() !== host) return undefined
  const parts = /^\/?([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)\/([A-Za-z0-9._-]+?)(?:\.git)?\/?$/.exec(
    remote.path,
  )
  if (!parts?.[1] || !parts[2] || parts[2] === '.' || parts[2] === '..') return undefined
  return `${parts[1]}/${parts[2]}`
}

/** Host and path of a URL remote (https, ssh, git) or of scp-like `[user@]host:path`. */
function splitRemote(remote: string): { host: string; path: string } | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(remote)) {
    let url: URL
    try {
      url = new URL(remote)
    } catch {
      return undefined
    }
    if (!['https:', 'http:', 'ssh:', 'git:'].includes(url.protocol)) return undefined
    return { host: url.hostname, path: url.pathname }
  }
  const scp = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/\/)(.+)$/.exec(remote)
  return scp?.[1] && scp[2] ? { host: scp[1], path: scp[2] } : undefined
}

function hostOf(serverUrl: string): string | undefined {
  try {
    return new URL(serverUrl).hostname.toLowerCase() || undefined
  } catch {
    return undefined
  }
}

/** The report as Markdown, cut to leave room for the footer under GitHub's limit. */
function renderBody(request: PullRequestRequest, footerLength: number): string {
  return renderSummary(request.body, {
    limit: PULL_REQUEST_BODY_LIMIT - footerLength,
    measure: (text) => text.length,
    truncatedNote: TRUNCATED_NOTE,
  })
}

/** Last line of the body: who keeps the pull request, and the run that last changed it when known. */
function footer(env: NodeJS.ProcessEnv): string {
  const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '')
  const repository = env.GITHUB_REPOSITORY ?? ''
  const runId = env.GITHUB_RUN_ID ?? ''
  const linkable =
    /^[^/\s]+\/[^/\s]+$/.test(repository) && /^\d+$/.test(runId) && /^https?:\/\/[^\s()]+$/.test(server)
  const run = linkable
    ? `; last changed by [workflow run ${runId}](${server}/${repository}/actions/runs/${runId})`
    : ''
  return `\n${FOOTER_START}, updated on every run${run}.</sub>\n`
}

/**
 * The body without deckhand's footer. The rendered report escapes `<`, so a line starting with the footer's
 * `<sub>` can only be the footer.
 */
function withoutFooter(body: string): string {
  const at = body.lastIndexOf(`\n${FOOTER_START}`)
  return at < 0 ? body : body.slice(0, at)
}

/** A closing comment within GitHub's limit. */
function fit(text: string): string {
  return text.length <= PULL_REQUEST_BODY_LIMIT ? text : `${text.slice(0, PULL_REQUEST_BODY_LIMIT - 1)}…`
}

function checkTarget(target: GitHubTarget): { owner: string; repo: string; apiUrl: string } {
  return checkApiTarget(
    target,
    'github-token is empty: pull-request mode needs a token that may push and open pull requests ' +
      '(contents: write and pull-requests: write).',
  )
}

function checkBranches(head: string, base: string): void {
  if (!head || !base) throw new DeckhandError('A drift pull request needs both a head and a base branch.')
  if (head === base)
    throw new DeckhandError(
      `The drift branch and the base branch are both "${head}": a pull request needs two different branches.`,
    )
}

interface Branches {
  head: string
  base: string
}

interface Attempt {
  /** What deckhand was doing, e.g. `creating the pull request from deckhand/drift into main in octo/repo`. */
  doing: string
  repository: string
  apiUrl: string
  branches: Branches | undefined
}

const PERMISSIONS = '`permissions: { contents: write, pull-requests: write }`'

function apiError(err: unknown, attempt: Attempt): unknown {
  if (!isHttpError(err)) return err
  const options = { cause: err }
  const { doing, apiUrl } = attempt
  const tooLarge = answerTooLarge(err, doing)
  if (tooLarge) return tooLarge
  // No response: the request never got an answer (DNS, refused connection, TLS, proxy); octokit calls it 500.
  if (!err.response)
    return new DeckhandError(
      `Could not reach the GitHub API at ${apiUrl} while ${doing}: ${networkReason(err)}`,
      [],
      options,
    )
  const said = githubMessage(err)
  const github = `GitHub said: ${err.status} ${said}`
  return new DeckhandError(explain(err, said, github, attempt), [], options)
}

function explain(err: HttpError, said: string, github: string, attempt: Attempt): string {
  const { doing, repository } = attempt
  switch (err.status) {
    case 401:
      return `GitHub rejected the github-token while ${doing} (${github}): the token is invalid, expired or revoked.`
    case 403:
    case 429:
      return forbidden(err.status, said, github, attempt)
    case 404:
      return (
        `Not found while ${doing} (${github}): the repository ${repository} does not exist, or the ` +
        'github-token cannot see it (a private repository the token has no access to).'
      )
    case 422:
      return refused(err, github, attempt)
    default:
      return `The GitHub API failed while ${doing} (${github}).`
  }
}

function forbidden(status: number, said: string, github: string, { doing, repository }: Attempt): string {
  if (status === 429 || /rate limit/i.test(said))
    return `GitHub's API rate limit stopped deckhand while ${doing} (${github}): run the job again later.`
  if (/not permitted to create or approve pull requests/i.test(said))
    return (
      `GitHub Actions may not create pull requests in ${repository} (${github}). Enable Settings → Actions → ` +
      'General → Workflow permissions → "Allow GitHub Actions to create and approve pull requests" (in the ' +
      "organization's settings too when it is greyed out in the repository), or pass a personal access token " +
      'or a GitHub App token as github-token.'
    )
  return (
    `The github-token lacks permission for ${doing} (${github}): give the job ${PERMISSIONS}. ` +
    'Workflows run for pull requests from forks only get a read-only token.'
  )
}

function refused(err: HttpError, github: string, { doing, repository, branches }: Attempt): string {
  const invalid = (field: string) =>
    validationErrors(err).some((e) => e.field === field && e.code === 'invalid')
  if (branches && /No commits between/i.test(github))
    return (
      `GitHub will not open a pull request from ${branches.head} into ${branches.base} in ${repository} ` +
      `(${github}): ${branches.head} has no commits that ${branches.base} lacks.`
    )
  if (branches && invalid('head'))
    return `The branch ${branches.head} does not exist in ${repository} (${github}): push it before opening the pull request.`
  if (branches && invalid('base'))
    return `The base branch ${branches.base} does not exist in ${repository} (${github}): name an existing branch.`
  return `GitHub refused the request while ${doing} (${github}).`
}
