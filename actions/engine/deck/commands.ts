import { append } from '../arrays.js'
import { DeckhandError } from '../errors.js'
import type { DeckFeatures, LtsLine } from './version.js'
import { inputName } from '../jobs/inputs.js'

/**
 * Typed builders for the deck argv deckhand uses. Every argv they produce is checked in the tests
 * against deck's real flag set for that subcommand and version.
 */

export interface DumpCommand {
  /** Output file; omitted with allWorkspaces (deck then writes `<workspace>.json` into its cwd). */
  outputFile?: string
  workspace?: string
  allWorkspaces?: boolean
  selectTags?: readonly string[]
  skipConsumers?: boolean
  withId?: boolean
}

export function dumpArgs(features: DeckFeatures, cmd: DumpCommand): string[] {
  const args = features.gatewayCommands ? ['gateway', 'dump'] : ['dump']
  // JSON: it parses many times faster than YAML; deckhand writes the YAML itself. --yes: no prompt without a TTY.
  args.push('--format', 'json', '--yes')
  if (cmd.allWorkspaces) args.push('--all-workspaces')
  else {
    if (cmd.outputFile) args.push('--output-file', cmd.outputFile)
    if (cmd.workspace) args.push('--workspace', cmd.workspace)
  }
  for (const tag of cmd.selectTags ?? []) args.push('--select-tag', tag)
  if (cmd.skipConsumers) args.push('--skip-consumers')
  if (cmd.withId) args.push('--with-id')
  return args
}

export interface ValidateCommand {
  files: readonly string[]
  online: boolean
  workspace?: string
  parallelism?: number
}

export function validateArgs(features: DeckFeatures, cmd: ValidateCommand): string[] {
  let args: string[]
  if (features.gatewayCommands) {
    args = cmd.online ? ['gateway', 'validate'] : ['file', 'validate']
    append(args, cmd.files)
  } else {
    args = ['validate']
    for (const file of cmd.files) args.push('--state', file)
    if (cmd.online) args.push('--online')
  }
  if (cmd.workspace) args.push('--workspace', cmd.workspace)
  if (cmd.parallelism !== undefined) args.push('--parallelism', String(cmd.parallelism))
  return args
}

export interface ConvertCommand {
  from: LtsLine
  to: LtsLine
  /** deck converts one file per run (Convert refuses more: "only one input file can be provided"). */
  inputFiles: readonly string[]
  /** Written as JSON when it ends in .json, else YAML; deck adds an extension to a name without one. */
  outputFile: string
}

export function convertArgs(features: DeckFeatures, cmd: ConvertCommand): string[] {
  if (!features.convertPairs.some((p) => p.from === cmd.from && p.to === cmd.to)) {
    throw new DeckhandError(
      `deck ${features.version} cannot convert Kong ${cmd.from} files to ${cmd.to}; it converts ${describePairs(features)}`,
    )
  }
  const [input] = cmd.inputFiles
  if (input === undefined || cmd.inputFiles.length !== 1) {
    throw new DeckhandError(`deck file convert takes one input file, not ${cmd.inputFiles.length}`)
  }
  const format = /\.json$/i.test(cmd.outputFile) ? 'json' : 'yaml'
  // Every release with an LTS pair (1.47.0 on) has `file convert`.
  return [
    'file',
    'convert',
    '--from',
    cmd.from,
    '--to',
    cmd.to,
    '--input-file',
    input,
    '--output-file',
    cmd.outputFile,
    '--format',
    format,
    '--yes',
  ]
}

/** The LTS pairs a deck release converts, for messages: "2.8 → 3.4, 3.4 → 3.10" or "no Kong LTS pair". */
export function describePairs(features: DeckFeatures): string {
  if (features.convertPairs.length === 0) return 'no Kong LTS pair (deck 1.47.0 added 2.8 → 3.4)'
  return features.convertPairs.map((p) => `${p.from} → ${p.to}`).join(', ')
}

export interface ReconcileCommand {
  /** `diff` only plans; `sync` applies (creates, updates and deletes). */
  mode: 'diff' | 'sync'
  /** The files of one workspace (and one tag set): deck merges them into one target state. */
  files: readonly string[]
  workspace?: string
  selectTags?: readonly string[]
  skipConsumers?: boolean
  parallelism?: number
}

/**
 * `deck gateway diff|sync --json-output`. Never `--non-zero-exit-code` (deck exits 2 before printing the
 * JSON) nor `--silence-events` (it hides the JSON too); deck masks DECK_ values in the output by default.
 */
export function reconcileArgs(features: DeckFeatures, cmd: ReconcileCommand): string[] {
  if (!features.jsonOutput) {
    throw new DeckhandError(
      `deck ${features.version} cannot print ${cmd.mode} results as JSON (--json-output came with deck 1.24.0): ` +
        `set ${inputName('deck-version')} to a newer release.`,
    )
  }
  let args: string[]
  if (features.gatewayCommands) args = ['gateway', cmd.mode, ...cmd.files]
  else {
    args = [cmd.mode]
    for (const file of cmd.files) args.push('--state', file)
  }
  args.push('--json-output')
  if (cmd.workspace) args.push('--workspace', cmd.workspace)
  for (const tag of cmd.selectTags ?? []) args.push('--select-tag', tag)
  if (cmd.skipConsumers) args.push('--skip-consumers')
  if (cmd.parallelism !== undefined) args.push('--parallelism', String(cmd.parallelism))
  return args
}

export interface GlobalArgs {
  kongAddr?: string
  /** Konnect mode: the API address and the control plane (the token goes in the environment). */
  konnectAddr?: string
  konnectControlPlane?: string
  tlsSkipVerify?: boolean
  caCertFile?: string
  tlsServerName?: string
  timeoutSeconds?: number
  configFile?: string
}

/**
 * Flags every invocation gets: an explicit address (Kong's, or Konnect's with the control plane: never deck's
 * defaults), no colour, no telemetry.
 */
export function globalArgs(g: GlobalArgs): string[] {
  const args: string[] = []
  if (g.kongAddr) args.push('--kong-addr', g.kongAddr)
  if (g.konnectAddr) args.push('--konnect-addr', g.konnectAddr)
  if (g.konnectControlPlane) args.push('--konnect-control-plane-name', g.konnectControlPlane)
  args.push('--no-color', '--analytics=false')
  if (g.tlsSkipVerify) args.push('--tls-skip-verify')
  if (g.caCertFile) args.push('--ca-cert-file', g.caCertFile)
  if (g.tlsServerName) args.push('--tls-server-name', g.tlsServerName)
  if (g.timeoutSeconds !== undefined) args.push('--timeout', String(g.timeoutSeconds))
  if (g.configFile) args.push('--config', g.configFile)
  return args
}
