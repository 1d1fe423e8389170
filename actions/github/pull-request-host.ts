import { DeckhandError } from '../engine/errors.js'
import type { PullRequestHost } from '../engine/pull-requests.js'
import { GitHubPullRequests, repositoryFromRemote } from './pull-requests.js'

/**
 * The GitHub repository behind a git remote, for drift pull requests: named by the remote when it is on
 * this GitHub (github.com or GITHUB_SERVER_URL), else by GITHUB_REPOSITORY.
 */
export async function openPullRequestHost(
  options: { remoteUrl: string; token?: string },
  env: NodeJS.ProcessEnv,
): Promise<PullRequestHost> {
  if (!options.token)
    throw new DeckhandError(
      'mode pull-request needs github-token (the default, github.token, was cleared): nothing was pushed.',
    )
  const serverUrl = env.GITHUB_SERVER_URL || 'https://github.com'
  const repository = repositoryFromRemote(options.remoteUrl, serverUrl) ?? env.GITHUB_REPOSITORY
  if (!repository)
    throw new DeckhandError(
      `The remote ${options.remoteUrl} is not a repository on ${serverUrl}, and GITHUB_REPOSITORY is not set: ` +
        'pull-request mode needs a GitHub repository.',
    )
  const apiUrl =
    env.GITHUB_API_URL ||
    (new URL(serverUrl).hostname === 'github.com'
      ? 'https://api.github.com'
      : `${serverUrl.replace(/\/+$/, '')}/api/v3`)
  return new GitHubPullRequests({ token: options.token, apiUrl, repository })
}
