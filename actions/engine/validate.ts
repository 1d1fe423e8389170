import { validateArgs } from './deck/commands.js'
import type { DeckRunner } from './deck/runner.js'
import { DeckhandError, isDeckhandError } from './errors.js'
import type { Logger } from './log.js'
import { readTargets, targetLabel } from './plan/targets.js'
import { DeckVariables } from './secrets/variables.js'
import type { Problem } from './state/files.js'
import { scanReadFile, type SecretFinding } from './state/secret-scan.js'

export interface ValidateOptions {
  /** Files or directories (walked for .yaml, .yml and .json, as deck does). */
  state: readonly string[]
  /**
   * deck, or how to get it: asked for only once the local checks pass, so that they report even where
   * deck cannot be had (an air-gapped runner without a deck of its own).
   */
  deck: DeckRunner | (() => Promise<DeckRunner>)
  logger: Logger
  online?: boolean
  workspace?: string
  /** The files are for Konnect control planes: grouped by the one each names, and checked for what Konnect refuses. */
  konnect?: { controlPlane?: string }
  parallelism?: number
  env?: NodeJS.ProcessEnv
  /** The environment with the secret bundle's values beneath it; default: `env` alone. */
  variables?: DeckVariables
  timeoutMs?: number
  /** Also look for secrets in plain text, as the commit action's scan would (reported, not problems). */
  scanSecrets?: boolean
}

export interface ValidateResult {
  valid: boolean
  files: string[]
  problems: Problem[]
  /** With `scanSecrets`: the secrets the files hold in plain text. */
  secrets: SecretFinding[]
  /** Why deck's own validation could not run although the local checks passed (deck could not be had). */
  deckUnavailable?: string
}

/**
 * Checks state files: first locally what deck does not report well (YAML syntax with line numbers,
 * `_format_version`, duplicate names, every unset `DECK_` variable at once), then with deck itself
 * (`deck file validate`, or `deck gateway validate` when online), once per workspace and tag set.
 */
export async function validate(options: ValidateOptions): Promise<ValidateResult> {
  if (
    options.parallelism !== undefined &&
    !(Number.isInteger(options.parallelism) && options.parallelism > 0)
  ) {
    throw new DeckhandError(`parallelism must be a positive integer, got ${options.parallelism}`)
  }
  const secrets: SecretFinding[] = []
  const variables = options.variables ?? DeckVariables.fromEnv(options.env ?? process.env)
  const { targets, files, problems, envNames } = await readTargets({
    state: options.state,
    konnect: options.konnect,
    env: variables.view(),
    purpose: 'validate',
    hint: variables.missingHint(),
    // While each file's data is at hand: a large file is read once, not once per check.
    inspect: options.scanSecrets
      ? (file, text, state) => {
          for (const finding of scanReadFile(file, text, state)) secrets.push(finding)
        }
      : undefined,
  })

  // deck would stop at the first of these problems with less detail: report ours and skip it.
  if (problems.length > 0) return { valid: false, files, problems, secrets }
  let deck: DeckRunner
  try {
    deck = typeof options.deck === 'function' ? await options.deck() : options.deck
  } catch (err) {
    if (!isDeckhandError(err)) throw err
    return { valid: false, files, problems, secrets, deckUnavailable: err.message }
  }
  const extra = variables.forDeck(envNames)
  if (Object.keys(extra).length > 0) deck.useVariables(extra)
  for (const target of targets) {
    const args = validateArgs(deck.deck.features, {
      files: target.files,
      online: options.online ?? false,
      workspace: options.workspace,
      parallelism: options.parallelism,
    })
    try {
      await deck.run(args, { online: options.online ?? false, timeoutMs: options.timeoutMs })
      options.logger.info(`deck validated ${target.files.length} file(s) of workspace ${targetLabel(target)}`)
    } catch (err) {
      if (!isDeckhandError(err)) throw err
      problems.push({
        check: 'deck',
        file: target.files.length === 1 ? target.files[0] : undefined,
        message: err.message,
      })
    }
  }
  return { valid: problems.length === 0, files, problems, secrets }
}
