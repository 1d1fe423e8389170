import { append } from '../engine/arrays.js'
import { COMMANDS, type CommandSpec, inputGroup, type InputGroup, type InputSpec } from '../spec.js'
import { wrap } from './text.js'

/** Environment variable an option falls back to: `kong-admin-token` -> `DECKHAND_KONG_ADMIN_TOKEN`. */
export function envName(option: string): string {
  return `DECKHAND_${option.toUpperCase().replace(/-/g, '_')}`
}

/** The inputs the CLI offers as options: all but those that only make sense inside GitHub Actions. */
export function cliInputs(spec: CommandSpec): [string, InputSpec][] {
  return Object.entries(spec.inputs).filter(([, input]) => !input.actionOnly)
}

/** Options that take a gateway address, where host:port is read as http://host:port. */
export const ADDRESS_OPTIONS = new Set(['kong-addr', 'tyk-addr', 'tyk-dashboard'])

const GROUP_TITLES: Record<InputGroup, string> = {
  general: 'Options',
  kong: 'Kong Admin API options',
  konnect: 'Kong Konnect options (--gateway konnect)',
  connection: 'Connection options (TLS and timeouts, for Kong or Tyk)',
  deck: 'deck options',
  store: 'Store options (a folder, s3://bucket/prefix, or a workflow artifact)',
  database: 'Database options',
  tyk: 'Tyk options (--gateway tyk)',
}
const GROUP_ORDER: InputGroup[] = [
  'general',
  'kong',
  'konnect',
  'connection',
  'deck',
  'database',
  'store',
  'tyk',
]

/** What --help shows of a command: everything but Tyk, Tyk alone (`--help tyk`), or all (`--help-all`). */
export type HelpScope = 'default' | 'tyk' | 'all'

export const COMMON_OPTIONS: [string, string][] = [
  ['--json', 'Print the outputs as one JSON object on stdout instead of a report.'],
  ['--verbose', 'Print debug lines on stderr (or DECKHAND_VERBOSE=true).'],
  ['--help, -h', 'This help; --help tyk for the Tyk options, --help-all for every option.'],
]

export function optionLines(name: string, input: InputSpec, width: number): string[] {
  const flag =
    input.type === 'boolean'
      ? `--[no-]${name}`
      : `--${name} ${input.type === 'integer' ? '<n>' : ADDRESS_OPTIONS.has(name) ? '<url|host:port>' : '<value>'}`
  // `${{ github.token }}` is the runner's to evaluate: the CLI has no such default.
  const shownDefault = input.default && !input.default.startsWith('${{') ? input.default : undefined
  const notes = [
    input.required ? 'required' : '',
    shownDefault !== undefined ? `default ${shownDefault}` : '',
    input.type === 'list' ? 'repeatable' : '',
    input.type === 'integer' && input.max !== undefined ? `${input.min ?? 1} to ${input.max}` : '',
    `env ${envName(name)}`,
  ].filter(Boolean)
  const address = ADDRESS_OPTIONS.has(name)
    ? ' host:port means http://host:port; write https:// in full.'
    : ''
  return [
    `  ${flag}`,
    ...wrap(`${input.description}${address} (${notes.join('; ')})`, width - 6, '').map((l) => `      ${l}`),
  ]
}

/** `deckhand <command> --help`, grouped by what the options are for, within `width` columns. */
export function commandHelp(spec: CommandSpec, scope: HelpScope = 'default', width = 100): string {
  const lines = [`Usage: deckhand ${spec.name} [options]`, '', ...wrap(spec.summary, width)]
  const byGroup = new Map<InputGroup, [string, InputSpec][]>()
  for (const [name, input] of cliInputs(spec)) {
    const group = inputGroup(name)
    byGroup.set(group, [...(byGroup.get(group) ?? []), [name, input]])
  }
  for (const group of GROUP_ORDER) {
    const inputs = byGroup.get(group)
    if (!inputs) continue
    const shown = scope === 'all' || (scope === 'tyk' ? group === 'tyk' : group !== 'tyk')
    if (!shown) continue
    lines.push('', `${GROUP_TITLES[group]}:`)
    for (const [name, input] of inputs) append(lines, optionLines(name, input, width))
  }
  if (scope !== 'tyk') {
    lines.push('')
    for (const [flag, text] of COMMON_OPTIONS) lines.push(`  ${flag}`, `      ${text}`)
  }
  const tyk = byGroup.get('tyk')
  if (tyk && scope === 'default')
    append(lines, [
      '',
      ...wrap(
        `Tyk: ${tyk.length} more options for --gateway tyk: deckhand ${spec.name} --help tyk (or --help-all).`,
        width,
      ),
    ])
  return lines.join('\n')
}

/** Commands other than the spec's, for the usage and the reference: [name, summary]. */
export const OTHER_COMMANDS: [string, string][] = [
  ['backups', 'List or prune the backups in a folder or S3 store (deckhand backups --help).'],
  ['redact', 'Replace secrets in existing deck files with ${{ env "DECK_…" }} references, in place.'],
  ['secrets list', 'Print the names (never the values) of the variables in an encrypted secret bundle.'],
  ['secrets rekey', 'Re-encrypt the secret bundle to new age recipients, in place.'],
  ['doctor', 'Check the Admin API, the token, deck, the PostgreSQL clients, git and the output folder.'],
]

export const EXIT_CODES: [number, string][] = [
  [0, 'Success (for validate: the files are valid; for doctor: every required check passed).'],
  [1, 'A failure: the gateway, a tool or a check failed, or the files are invalid. The message says why.'],
  [2, 'A usage error: an unknown command or option, a missing or malformed value, conflicting options.'],
]

export function usage(width = 100): string {
  const entries: [string, string][] = [
    ...Object.values(COMMANDS).map((c): [string, string] => [c.name, c.summary]),
    ...OTHER_COMMANDS,
  ]
  const lines = [
    ...wrap(
      'deckhand: back up, validate and restore API gateway configuration (Kong): declaratively with deck, natively with pg_dump.',
      width,
    ),
    '',
    'Usage: deckhand <command> [options]',
    '',
    'Commands:',
    ...entries.flatMap(([name, summary]) => wrap(`  ${name.padEnd(14)} ${summary}`, width, ' '.repeat(17))),
    '',
    ...wrap(
      'Every option can also be set through an environment variable: --kong-addr as DECKHAND_KONG_ADDR, and so on. ' +
        'Pass secrets that way (DECKHAND_KONG_ADMIN_TOKEN, DECKHAND_HEADERS): options are visible in the process list.',
      width,
    ),
    '',
    'Exit codes:',
    ...EXIT_CODES.flatMap(([code, text]) => wrap(`  ${code}  ${text}`, width, '     ')),
    '',
    "Run 'deckhand <command> --help' for a command's options.",
  ]
  return lines.join('\n')
}

export const REDACT_USAGE =
  'Usage: deckhand redact [--workspace NAME] [--secret-fields "plugins/NAME PATH"]... FILE...\n\nRewrites each deck state file in place with secrets replaced by ${{ env "DECK_…" }} references\nand prints the variable names (never the values) the files now need. Secrets are found by Kong\'s\nschemas (bundled), credential names and value detectors; --secret-fields adds an in-house plugin\'s.\n'

export const BACKUPS_USAGE = `Usage: deckhand backups list  --store STORE [--kind db|files|state] [--source NAME] [--json]
       deckhand backups prune --store STORE --kind KIND [--source NAME] [--keep-last N] [--keep-daily N]
                              [--keep-weekly N] [--keep-monthly N] [--dry-run]

Lists or prunes the backups db-dump, files-backup and dump stored in a folder or an S3 bucket
(s3://bucket/prefix). list shows every backup: kind, source, name (its UTC time), size, whether it is
encrypted, verified by a restore, and complete (a backup without its manifest was cut short and is never
restored). prune keeps what the --keep-* rules keep, as restic's forget does, and never deletes the newest
backup nor the newest verified one, nor anything deckhand did not write.

Options:
  --store STORE            a folder, or s3://bucket/prefix              [DECKHAND_STORE]
  --store-endpoint URL     an S3-compatible service (path-style)         [DECKHAND_STORE_ENDPOINT]
  --store-region REGION    the bucket's region (default AWS_REGION)      [DECKHAND_STORE_REGION]
  --kind KIND              db, files or state
  --source NAME            one source (database, files, state folder)
AWS credentials come from the AWS credential chain (AWS_PROFILE, AWS_ACCESS_KEY_ID, SSO, instance roles).`

export const SECRETS_SUMMARY = 'List or re-encrypt the encrypted secret bundle (secrets.age) a dump wrote.'

export const SECRETS_USAGE = `Usage:
  deckhand secrets list [--bundle PATH] [--age-identity-file PATH]
  deckhand secrets rekey --bundle PATH --age-recipients age1… [--age-recipients age1…]… [--age-identity-file PATH]

${SECRETS_SUMMARY}

  list    Prints the names of the bundle's variables (never a value), one per line, and the fingerprints of
          its recipients on stderr.
  rekey   Decrypts the bundle and encrypts it again to the recipients given (they replace the old ones), in
          place and atomically, with a fresh stamp; the folder's SHA256SUMS is updated when it lists the bundle.

Options:
  --bundle PATH              The bundle (default for list: kong/secrets.age).
  --age-identity-file PATH   The age key file that opens it. Or set DECKHAND_AGE_IDENTITY to the key file's
                             content or path. The key itself is never taken on the command line.
  --age-recipients KEY       An age public key (age1…) to encrypt to; repeat for several. Or set
                             DECKHAND_AGE_RECIPIENTS, one per line.
`

const from = (command: string, name: string): InputSpec => COMMANDS[command]!.inputs[name]!

/** doctor's options: the spec's own inputs of the same names, so they read and validate as in the commands. */
export const DOCTOR_INPUTS: Record<string, InputSpec> = {
  'kong-addr': from('dump', 'kong-addr'),
  'kong-admin-token': from('dump', 'kong-admin-token'),
  headers: from('dump', 'headers'),
  'tls-skip-verify': from('dump', 'tls-skip-verify'),
  'ca-cert': from('dump', 'ca-cert'),
  'tls-server-name': from('dump', 'tls-server-name'),
  timeout: { ...from('dump', 'timeout'), default: '10', description: 'Seconds to wait for each answer.' },
  'deck-path': from('dump', 'deck-path'),
  'deck-version': from('dump', 'deck-version'),
  'database-url': from('db-dump', 'database-url'),
  'postgres-bin': from('db-dump', 'postgres-bin'),
  'output-dir': {
    ...from('dump', 'output-dir'),
    description: 'The folder backups are written to: checked for write permission (nothing is left in it).',
  },
}

export const DOCTOR_SUMMARY =
  'Check, without downloading or writing to the gateway, what the other commands need: the Admin API and its token, workspaces, deck, the PostgreSQL clients (and server), git, and the output folder.'

/** `deckhand doctor --help`. */
export function doctorHelp(width = 100): string {
  const lines = ['Usage: deckhand doctor [options]', '', ...wrap(DOCTOR_SUMMARY, width), '']
  append(lines, [
    ...wrap(
      'Each check prints a line "ok|warn|fail  <check>  <detail>", and a "fix:" line under each warning and failure. Exit 0 when no check failed, 1 when one did, 2 on a usage error. Checks: admin-api (reachable, refused, DNS failure, TLS failure, timeout; Kong version and edition), token, workspaces, deck (given, on PATH or cached: never downloaded), postgres-client (and postgres-server with --database-url), output-dir, git.',
      width,
    ),
    '',
    'Options:',
  ])
  for (const [name, input] of Object.entries(DOCTOR_INPUTS)) append(lines, optionLines(name, input, width))
  lines.push(
    '  --json',
    '      Print the results as JSON: {"ok": …, "checks": [{"status", "check", "detail", "fix"}]}.',
  )
  return lines.join('\n')
}
