/**
 * How a GitHub token reaches git: as an `http.<origin>/.extraheader` setting passed in git's environment
 * (GIT_CONFIG_COUNT, git 2.31+), the header actions/checkout itself uses. The token stays off the command
 * line, out of .git/config and out of the remote URL, and is gone when the process ends.
 */

export interface TokenAuth {
  /** Environment for every git command that talks to the remote. */
  env: Record<string, string>
  /** The header value's encoded form, which the host must mask as well as the token. */
  secrets: string[]
}

/**
 * The environment that makes git send `token` to the origin of `remoteUrl`, or undefined when the remote is
 * not an http(s) URL of `serverUrl`'s host (ssh remotes and other hosts keep whatever credentials git has).
 * An empty value first clears headers inherited from the repository's config, such as the one
 * actions/checkout persists: two Authorization headers make GitHub answer 400.
 */
export function tokenAuth(remoteUrl: string, token: string, serverUrl: string): TokenAuth | undefined {
  const remote = parseUrl(remoteUrl)
  const server = parseUrl(serverUrl)
  if (!remote || !server || !/^https?:$/.test(remote.protocol) || remote.host !== server.host)
    return undefined
  const basic = Buffer.from(`x-access-token:${token}`, 'utf8').toString('base64')
  const key = `http.${remote.protocol}//${remote.host}/.extraheader`
  return {
    env: {
      GIT_CONFIG_COUNT: '2',
      GIT_CONFIG_KEY_0: key,
      GIT_CONFIG_VALUE_0: '',
      GIT_CONFIG_KEY_1: key,
      GIT_CONFIG_VALUE_1: `AUTHORIZATION: basic ${basic}`,
    },
    secrets: [basic],
  }
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text)
  } catch {
    return undefined
  }
}
