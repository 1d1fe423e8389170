import type { Identity } from '../git/repository.js'

/** Default subject: the counts, so `git log --oneline` alone reads as a drift history. */
export const DEFAULT_MESSAGE = 'Gateway drift in {path}: {added} added, {changed} changed, {removed} removed'

/** Placeholders a message template may use. */
export const PLACEHOLDERS = ['added', 'changed', 'removed', 'total', 'workspaces', 'path', 'branch'] as const

/** deckhand's own branch for drift pull requests. */
export const DEFAULT_DRIFT_BRANCH = 'deckhand/drift'

/** The identity GITHUB_TOKEN commits show as, when neither the inputs nor git's config name one. */
export const ACTIONS_BOT: Identity = {
  name: 'github-actions[bot]',
  email: '41898282+github-actions[bot]@users.noreply.github.com',
}
