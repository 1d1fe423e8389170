import { COMMANDS } from '../spec.js'
import { append } from '../engine/arrays.js'
import {
  BACKUPS_USAGE,
  commandHelp,
  DOCTOR_SUMMARY,
  doctorHelp,
  EXIT_CODES,
  envName,
  OTHER_COMMANDS,
  REDACT_USAGE,
  SECRETS_USAGE,
} from './help.js'

const block = (text: string) => ['```text', text.trimEnd(), '```']

/**
 * docs/cli.md: the CLI reference, made of the CLI's own help texts (every option, Tyk's included), so the
 * page says what `--help` says. script/docs.mjs writes it and `--check` fails when it is stale.
 */
export function cliReference(): string {
  const lines = [
    '# deckhand CLI reference',
    '',
    '<!-- Generated from the CLI help (actions/cli/reference.ts) by `npm run docs`: edit the help, not this page. -->',
    '',
    '`deckhand <command> [options]`. Options and action inputs share their names: `--kong-addr` is the',
    "action's `kong-addr`. Booleans take `--flag`, `--flag=true|false` and `--no-flag`. An address",
    '(`--kong-addr`, `--tyk-addr`, `--tyk-dashboard`) may be `host:port`, read as `http://host:port`.',
    '',
    '## Exit codes',
    '',
    '| Code | Meaning |',
    '| ---- | ------- |',
    ...EXIT_CODES.map(([code, text]) => `| ${code} | ${text} |`),
    '',
    '## Environment variables',
    '',
    'Every option falls back to `DECKHAND_` and its name in capitals, dashes as underscores: `--kong-addr` as',
    `\`${envName('kong-addr')}\`. Give secrets that way (\`${envName('kong-admin-token')}\`, \`${envName('headers')}\`,`,
    `\`${envName('database-url')}\`, \`DECKHAND_AGE_IDENTITY\`): options are visible in the process list, and a`,
    'secret given as an option draws a warning. Besides the options:',
    '',
    '| Variable | Meaning |',
    '| -------- | ------- |',
    '| `DECKHAND_VERBOSE` | `true`: print debug lines on stderr, as `--verbose`. |',
    '| `DECKHAND_DECK_RELEASES_URL` | Where deck releases are downloaded from (a mirror of github.com/Kong/deck/releases). |',
    '| `DECKHAND_AGE_IDENTITY` | The age key (or the path of its file) that opens a secret bundle, for `deckhand secrets`. |',
    '| `DECKHAND_AGE_RECIPIENTS` | age public keys for `deckhand secrets rekey`, one per line. |',
    '',
    '## Commands',
    '',
    '| Command | What it does |',
    '| ------- | ------------ |',
    ...Object.values(COMMANDS).map((c) => `| [\`${c.name}\`](#${c.name}) | ${c.summary} |`),
    ...OTHER_COMMANDS.map(
      ([name, text]) => `| [\`${name}\`](#${name.replace(/ /g, '-')}) | ${text.replace(/\|/g, '\\|')} |`,
    ),
  ]
  for (const spec of Object.values(COMMANDS))
    append(lines, ['', `### ${spec.name}`, '', ...block(commandHelp(spec, 'all'))])
  append(lines, ['', '### backups', '', ...block(BACKUPS_USAGE)])
  append(lines, ['', '### redact', '', ...block(REDACT_USAGE)])
  append(lines, ['', '### secrets list', '', '### secrets rekey', '', ...block(SECRETS_USAGE)])
  append(lines, ['', '### doctor', '', DOCTOR_SUMMARY, '', ...block(doctorHelp())])
  return lines.join('\n') + '\n'
}
