import { getOctokit } from '@actions/github'

import { DeckhandError } from '../engine/errors.js'
import { AnswerTooLargeError, fetchBounded } from '../engine/http.js'

/** What the pull request comment and pull request modules share about talking to GitHub's REST API. */

/** Repository and API root checked before the first request; the token is only checked for presence. */
export function checkApiTarget(
  target: { token: string; repository: string; apiUrl: string },
  emptyToken: string,
): { owner: string; repo: string; apiUrl: string } {
  if (!target.token) throw new DeckhandError(emptyToken)
  const parts = /^([^/\s]+)\/([^/\s]+)$/.exec(target.repository)
  if (!parts?.[1] || !parts[2])
    throw new DeckhandError(`Repository "${target.repository}" is not of the form owner/name.`)
  let url: URL
  try {
    url = new URL(target.apiUrl)
  } catch {
    throw new DeckhandError(`GitHub API URL "${target.apiUrl}" is not a URL.`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new DeckhandError(`GitHub API URL "${target.apiUrl}" is not an http(s) URL.`)
  return { owner: parts[1], repo: parts[2], apiUrl: target.apiUrl.replace(/\/+$/, '') }
}

/** A client of GitHub's REST API whose every answer is read within the transport's size limit. */
export function githubClient(token: string, baseUrl: string): ReturnType<typeof getOctokit> {
  return getOctokit(token, { baseUrl, request: { fetch: fetchBounded } })
}

/**
 * The {@link AnswerTooLargeError} behind a failed request, if that is what failed it (octokit wraps what
 * its fetch throws), as an error saying what deckhand was doing.
 */
export function answerTooLarge(err: unknown, doing: string): DeckhandError | undefined {
  for (
    let cause: unknown = err, depth = 0;
    cause instanceof Error && depth < 5;
    cause = cause.cause, depth++
  ) {
    if (cause instanceof AnswerTooLargeError)
      return new DeckhandError(`${cause.message} (while ${doing})`, [], { cause: err })
  }
  return undefined
}

/** An octokit RequestError (status + optional response), recognised by shape. */
export interface HttpError extends Error {
  status: number
  response?: { data?: unknown }
}

export function isHttpError(err: unknown): err is HttpError {
  return err instanceof Error && typeof (err as Partial<HttpError>).status === 'number'
}

/** GitHub's own explanation: `message` plus the validation errors, without documentation URLs. */
export function githubMessage(err: HttpError): string {
  const data = err.response?.data
  if (!isObject(data) || typeof data.message !== 'string') return err.message
  const detail = validationErrors(err)
    .map((e) =>
      typeof e.message === 'string'
        ? e.message
        : [e.field, e.code].filter((part) => typeof part === 'string').join(' '),
    )
    .filter((e) => e !== '')
    .join('; ')
  return detail ? `${data.message}: ${detail}` : data.message
}

/** The `errors` of a 422, each as an object (GitHub sends some as plain strings). */
export function validationErrors(err: HttpError): Array<Record<string, unknown>> {
  const data = err.response?.data
  const errors = isObject(data) && Array.isArray(data.errors) ? data.errors : []
  return errors.map((e) => (typeof e === 'string' ? { message: e } : isObject(e) ? e : {}))
}

/** The innermost explanation of a failed fetch, e.g. `connect ECONNREFUSED 127.0.0.1:443` under `fetch failed`. */
export function networkReason(err: Error): string {
  let reason = err.message
  for (
    let cause: unknown = err.cause, depth = 0;
    isObject(cause) && depth < 5;
    cause = cause.cause, depth++
  ) {
    if (typeof cause.message === 'string' && cause.message !== '') reason = cause.message
    else if (typeof cause.code === 'string') reason = cause.code
  }
  return reason
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
