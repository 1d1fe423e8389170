import { DeckhandError } from '../engine/errors.js'
import { readJsonFileSync } from '../engine/json-file.js'
import {
  answerTooLarge,
  checkApiTarget,
  githubClient,
  githubMessage,
  isHttpError,
  isObject,
  networkReason,
} from './api.js'

/** One comment deckhand keeps on a pull request, updated in place on later runs. */
export interface PullRequestComment {
  /** Identifies the comment across runs; the same key updates the same comment. Printable ASCII. */
  key: string
  /** Markdown body; the caller keeps it under the limit (see {@link commentLength}). */
  body: string
}

/**
 * Longest comment deckhand posts, marker line included, in UTF-16 code units (JavaScript string length).
 * GitHub refuses bodies over 65,536 characters; code units never undercount characters, so this is safe.
 */
export const COMMENT_LIMIT = 65_535

/** Where comments go. */
export interface CommentTarget {
  /** github-token input; sent only as the Authorization header, never logged or put in an error. */
  token: string
  /** REST API root, e.g. GITHUB_API_URL: `https://api.github.com` or `https://ghes.example.com/api/v3`. */
  apiUrl: string
  /** `owner/name`, e.g. GITHUB_REPOSITORY. */
  repository: string
  /** Pull request number (a pull request is an issue to the comments API). */
  number: number
}

export type CommentAction = 'created' | 'updated' | 'unchanged'

export interface CommentOutcome {
  key: string
  action: CommentAction
  /** Comment id. */
  id: number
  /** The comment on github.com (html_url). */
  url: string
}

/** Events whose payload carries the pull request as `pull_request`. */
const PULL_REQUEST_EVENTS = new Set([
  'pull_request',
  'pull_request_target',
  'pull_request_review',
  'pull_request_review_comment',
])

/**
 * The pull request number of the current event, from GITHUB_EVENT_NAME and the JSON payload at
 * GITHUB_EVENT_PATH: `pull_request` and `pull_request_target` (and the review events), and `issue_comment` when
 * the issue is a pull request. Undefined for any other event, and when the payload is missing or unreadable.
 */
export function pullRequestNumber(env: NodeJS.ProcessEnv): number | undefined {
  const event = env.GITHUB_EVENT_NAME
  const path = env.GITHUB_EVENT_PATH
  if (!event || !path) return undefined
  if (!PULL_REQUEST_EVENTS.has(event) && event !== 'issue_comment') return undefined
  let payload: unknown
  try {
    payload = readJsonFileSync(path, 'event payload')
  } catch {
    return undefined
  }
  if (!isObject(payload)) return undefined
  if (event === 'issue_comment') {
    // An issue_comment on a pull request has `issue.pull_request` (with the PR's URLs); on an issue it has not.
    const issue = payload.issue
    return isObject(issue) && isObject(issue.pull_request) ? positiveInteger(issue.number) : undefined
  }
  const pr = payload.pull_request
  return positiveInteger(isObject(pr) ? pr.number : undefined) ?? positiveInteger(payload.number)
}

/**
 * The hidden first line that marks a comment as deckhand's for `key`: `<!-- deckhand:<key> -->`.
 * Characters that could end the HTML comment or the line (`<`, `>`, `!`, any `-` followed by another `-`,
 * anything not printable ASCII) and `%` itself are percent-encoded, so distinct keys give distinct markers.
 */
export function commentMarker(key: string): string {
  const encoded = Array.from(key, (char) =>
    /^[\x20-\x7e]$/.test(char) && !'<>!%'.includes(char) ? char : percentEncode(char),
  )
    .join('')
    .replace(/-(?=-)/g, '%2D')
  return `<!-- deckhand:${encoded} -->`
}

/** The body deckhand posts for a comment: marker line, then the caller's Markdown. */
export function commentBody(comment: PullRequestComment): string {
  return `${commentMarker(comment.key)}\n${comment.body}`
}

/** Length of the posted body (marker included), to compare with {@link COMMENT_LIMIT}. */
export function commentLength(comment: PullRequestComment): number {
  return commentBody(comment).length
}

/**
 * Creates or updates one comment per key on the pull request. The comments are listed once (every page), the
 * first comment whose first line is a key's marker is that key's comment: it is edited when its body differs
 * and left alone when equal; without one a new comment is posted. Comments without deckhand's marker, or with
 * another key's, are never touched. Everything is validated before the first request.
 */
export async function upsertComments(
  comments: readonly PullRequestComment[],
  target: CommentTarget,
): Promise<CommentOutcome[]> {
  const { owner, repo, baseUrl } = checkTarget(target)
  const wanted = checkComments(comments)
  if (wanted.length === 0) return []

  const octokit = githubClient(target.token, baseUrl)
  const where = `pull request #${target.number} in ${owner}/${repo}`
  const call = async <T>(doing: string, request: () => Promise<T>, notFound = ''): Promise<T> => {
    try {
      return await request()
    } catch (err) {
      throw apiError(err, { doing, where, apiUrl: baseUrl, notFound })
    }
  }

  const existing = await call(`listing the comments of ${where}`, () =>
    octokit.paginate(octokit.rest.issues.listComments, {
      owner,
      repo,
      issue_number: target.number,
      per_page: 100,
    }),
  )

  const outcomes: CommentOutcome[] = []
  for (const { key, marker, body } of wanted) {
    const found = existing.find((comment) => firstLine(comment.body ?? '') === marker)
    if (!found) {
      const { data } = await call(`posting the comment "${key}" on ${where}`, () =>
        octokit.rest.issues.createComment({ owner, repo, issue_number: target.number, body }),
      )
      outcomes.push({ key, action: 'created', id: data.id, url: data.html_url })
    } else if (found.body === body) {
      outcomes.push({ key, action: 'unchanged', id: found.id, url: found.html_url })
    } else {
      const { data } = await call(
        `updating the comment "${key}" (${found.html_url}) on ${where}`,
        () => octokit.rest.issues.updateComment({ owner, repo, comment_id: found.id, body }),
        ' (or the comment was deleted meanwhile; the next run posts a new one)',
      )
      outcomes.push({ key, action: 'updated', id: data.id, url: data.html_url })
    }
  }
  return outcomes
}

function checkTarget(target: CommentTarget): { owner: string; repo: string; baseUrl: string } {
  const { owner, repo, apiUrl } = checkApiTarget(
    target,
    'github-token is empty: pass a token that may comment on the pull request.',
  )
  if (!Number.isSafeInteger(target.number) || target.number <= 0)
    throw new DeckhandError(`Pull request number ${target.number} is not a positive integer.`)
  return { owner, repo, baseUrl: apiUrl }
}

function checkComments(
  comments: readonly PullRequestComment[],
): Array<{ key: string; marker: string; body: string }> {
  const seen = new Set<string>()
  return comments.map((comment) => {
    if (comment.key === '') throw new DeckhandError('A pull request comment needs a non-empty key.')
    if (seen.has(comment.key))
      throw new DeckhandError(`Two pull request comments have the key "${comment.key}"; keys must be unique.`)
    seen.add(comment.key)
    const body = commentBody(comment)
    if (body.length > COMMENT_LIMIT)
      throw new DeckhandError(
        `The pull request comment "${comment.key}" is ${body.length} characters, over GitHub's limit of ` +
          `${COMMENT_LIMIT} (marker line included); it must be truncated before posting.`,
      )
    return { key: comment.key, marker: commentMarker(comment.key), body }
  })
}

/** First line of a comment body; a body edited in GitHub's web editor comes back with CRLF line ends. */
function firstLine(body: string): string {
  const end = body.indexOf('\n')
  return (end < 0 ? body : body.slice(0, end)).replace(/\r$/, '')
}

interface Attempt {
  /** What deckhand was doing, e.g. `listing the comments of pull request #7 in octo/repo`. */
  doing: string
  /** `pull request #7 in octo/repo` */
  where: string
  apiUrl: string
  /** Added to the 404 explanation. */
  notFound: string
}

function apiError(err: unknown, { doing, where, apiUrl, notFound }: Attempt): unknown {
  if (!isHttpError(err)) return err
  const tooLarge = answerTooLarge(err, doing)
  if (tooLarge) return tooLarge
  const status = err.status
  const said = githubMessage(err)
  const options = { cause: err }
  // No response: the request never got an answer (DNS, refused connection, TLS, proxy); octokit calls it 500.
  if (!err.response)
    return new DeckhandError(
      `Could not reach the GitHub API at ${apiUrl} while ${doing}: ${networkReason(err)}`,
      [],
      options,
    )
  const github = `GitHub said: ${status} ${said}`
  switch (status) {
    case 401:
      return new DeckhandError(
        `GitHub rejected the github-token while ${doing} (${github}): the token is invalid, expired or revoked.`,
        [],
        options,
      )
    case 403:
    case 429:
      if (status === 429 || /rate limit/i.test(said))
        return new DeckhandError(
          `GitHub's API rate limit stopped deckhand while ${doing} (${github}): run the job again later.`,
          [],
          options,
        )
      return new DeckhandError(
        `The github-token may not comment on ${where} (${github}). Give the job ` +
          '`permissions: pull-requests: write`; workflows run for pull requests from forks only get a ' +
          'read-only token and cannot comment.',
        [],
        options,
      )
    case 404:
      return new DeckhandError(
        `Not found while ${doing} (${github}): the repository or pull request does not exist, or the ` +
          `github-token cannot see it${notFound}.`,
        [],
        options,
      )
    case 422:
      return new DeckhandError(`GitHub refused the request while ${doing} (${github}).`, [], options)
    default:
      return new DeckhandError(`The GitHub API failed while ${doing} (${github}).`, [], options)
  }
}

function percentEncode(char: string): string {
  return Array.from(
    Buffer.from(char, 'utf8'),
    (byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
  ).join('')
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined
}
