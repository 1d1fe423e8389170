import type { Report } from './report.js'

/**
 * Where drift pull requests are opened: GitHub's REST API in the GitHub adapter. The engine decides what
 * the pull request says and when it is opened, updated or closed; the host only carries that out.
 */
export interface PullRequestHost {
  /** `owner/name` of the repository the pull requests belong to. */
  readonly repository: string
  /** The repository's default branch: the base when none is named and the checkout is on no branch. */
  defaultBranch(): Promise<string>
  /**
   * Makes sure exactly one open pull request goes from `head` into `base` with this title and body:
   * updates the open one when there is one (also when another run opened it a moment ago), else creates it.
   */
  upsert(request: PullRequestRequest): Promise<PullRequestOutcome>
  /**
   * Closes the open pull request from `head` into `base`, if there is one, after commenting `reason` on it.
   * Undefined when none was open.
   */
  close(head: string, base: string, reason: string): Promise<PullRequestOutcome | undefined>
}

export interface PullRequestRequest {
  /** Branch in the same repository, without `refs/heads/`. */
  head: string
  base: string
  title: string
  /** Rendered as the pull request body (Markdown), cut to fit GitHub's limit. */
  body: Report
}

export interface PullRequestOutcome {
  number: number
  /** The pull request on the web (html_url). */
  url: string
  action: 'created' | 'updated' | 'unchanged' | 'closed'
}
