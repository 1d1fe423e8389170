import { parseArgs } from 'node:util'

import { append, maxOf } from '../engine/arrays.js'
import { backupsCommand } from './backups.js'
import { DirToolStore } from '../engine/deck/dir-store.js'
import { DeckhandError, asExpectedError, errorMessage, isDeckhandError } from '../engine/errors.js'
import { writeFileAtomic } from '../engine/fs-atomic.js'
import type { JobContext } from '../engine/jobs/context.js'
import { Inputs } from '../engine/jobs/inputs.js'
import type { Logger } from '../engine/log.js'
import type { Report } from '../engine/report.js'
import { configureSecretFields } from '../engine/secrets/configured.js'
import { countByRule } from '../engine/secrets/report.js'
import { processContent } from '../engine/state/pipeline.js'
import { readStateFile, readStateText, StateReadError } from '../engine/state/read.js'
import { TOOL_VERSION as VERSION } from '../engine/version.js'
import { JOBS } from '../jobs.js'
import { COMMANDS, type CommandSpec, type InputSpec } from '../spec.js'
import { secretsCommand } from './secrets.js'

/** Environment variable an option falls back to: `kong-admin-token` -> `DECKHAND_KONG_ADMIN_TOKEN`. */
export function envName(option: string): string {
  return `DECKHAND_${option.toUpperCase().replace(/-/g, '_')}`
}

function usage(): string {
  const lines = [
    'deckhand: back up, validate and restore API gateway configuration (Kong): declaratively with deck, natively with pg_dump.',
    '',
    'Usage: deckhand <command> [options]',
    '',
    'Commands:',
    ...Object.values(COMMANDS).map((c) => `  ${c.name.padEnd(14)} ${c.summary}`),
    `  ${'backups'.padEnd(14)} List or prune the backups in a folder or S3 store (deckhand backups --help).`,
    `  ${'redact'.padEnd(14)} Replace secrets in existing deck files with \${{ env "DECK_…" }} references, in place.`,
    `  ${'secrets list'.padEnd(14)} Print the names (never the values) of the variables in an encrypted secret bundle.`,
    `  ${'secrets rekey'.padEnd(14)} Re-encrypt the secret bundle to new age recipients, in place.`,
    '',
    'Every option can also be set through an environment variable: --kong-addr as DECKHAND_KONG_ADDR, and so on.',
    'Pass secrets that way (DECKHAND_KONG_ADMIN_TOKEN, DECKHAND_HEADERS): options are visible in the process list.',
    "Run 'deckhand <command> --help' for a command's options.",
  ]
  return lines.join('\n')
}

/** The inputs the CLI offers as options: all but those that only make sense inside GitHub Actions. */
function cliInputs(spec: CommandSpec): [string, InputSpec][] {
  return Object.entries(spec.inputs).filter(([, input]) => !input.actionOnly)
}

function commandUsage(spec: CommandSpec): string {
  const lines = [`Usage: deckhand ${spec.name} [options]`, '', spec.summary, '', 'Options:']
  for (const [name, input] of cliInputs(spec)) {
    const value = input.type === 'boolean' ? '' : ' <value>'
    const extra = [
      input.required ? 'required' : '',
      input.default ? `default ${input.default}` : '',
      input.type === 'list' ? 'repeatable' : '',
    ]
      .filter(Boolean)
      .join(', ')
    lines.push(
      `  --${name}${value}`,
      `      ${input.description}${extra ? ` (${extra})` : ''}  [${envName(name)}]`,
    )
  }
  lines.push('  --json', '      Print the outputs as one JSON object on stdout instead of a report.')
  return lines.join('\n')
}

const stderrLogger = (verbose: boolean): Logger => ({
  info: (m) => process.stderr.write(`${m}\n`),
  warn: (m) => process.stderr.write(`warning: ${m}\n`),
  debug: (m) => {
    if (verbose) process.stderr.write(`debug: ${m}\n`)
  },
})

export function renderText(report: Report): string {
  const out = [report.title, ...report.lines]
  for (const table of report.tables) {
    const widths = table.header.map((h, i) =>
      maxOf(
        table.rows.map((r) => (r[i] ?? '').length),
        h.length,
      ),
    )
    const row = (cells: string[]) =>
      cells
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()
    out.push(
      '',
      ...(table.caption ? [table.caption] : []),
      row(table.header),
      row(widths.map((w) => '-'.repeat(w))),
    )
    append(out, table.rows.map(row))
  }
  for (const a of report.annotations) {
    out.push(`${a.level}: ${a.file ? `${a.file}${a.line ? `:${a.line}` : ''}: ` : ''}${a.message}`)
  }
  return out.join('\n') + '\n'
}

async function runCommand(spec: CommandSpec, argv: string[]): Promise<number> {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {
    help: { type: 'boolean' },
    json: { type: 'boolean' },
    verbose: { type: 'boolean' },
  }
  for (const [name, input] of cliInputs(spec)) {
    // Booleans take a value (--redact-secrets=false) so that defaults of true can be turned off.
    options[name] = { type: 'string', multiple: input.type === 'list' }
  }
  const booleanFlags = cliInputs(spec)
    .filter(([, i]) => i.type === 'boolean')
    .map(([n]) => n)
  // `--all-workspaces` alone means true, as a flag should.
  const args = argv.map((a) =>
    booleanFlags.includes(a.replace(/^--/, '')) && a.startsWith('--') ? `${a}=true` : a,
  )
  const { values } = parseArgs({ args, options, strict: true, allowPositionals: false })
  if (values.help) {
    process.stdout.write(commandUsage(spec) + '\n')
    return 0
  }
  const source = (name: string): string | undefined => {
    if (spec.inputs[name]?.actionOnly) return undefined
    const value = values[name] as string | string[] | undefined
    if (Array.isArray(value)) return value.join('\n')
    return value ?? process.env[envName(name)]
  }
  for (const [name, input] of cliInputs(spec)) {
    if (input.secret && values[name] !== undefined) {
      process.stderr.write(
        `warning: --${name} is visible to other users in the process list; prefer ${envName(name)}\n`,
      )
    }
  }
  const verbose = Boolean(values.verbose) || process.env.DECKHAND_VERBOSE === 'true'
  const ctx: JobContext = {
    logger: stderrLogger(verbose),
    store: new DirToolStore(),
    env: process.env,
    secret: () => undefined,
    pullRequests: async (options) =>
      (await import('../github/pull-request-host.js')).openPullRequestHost(options, process.env),
  }
  if (spec.inputs['secret-fields'])
    configureSecretFields(new Inputs(spec.inputs, source).list('secret-fields'))
  const result = await JOBS[spec.name]!(source, ctx)
  if (values.json) process.stdout.write(JSON.stringify(result.outputs, null, 2) + '\n')
  else process.stdout.write(renderText(result.report))
  return result.ok ? 0 : 1
}

/**
 * A hand-written or deck-written state file as data. An error names the line and column and never quotes
 * the text: the offending line may be the very secret this command is about to redact. Merge keys
 * (`<<: *creds`) are resolved as deck's YAML reader does, and aliases are limited (an alias bomb fails
 * here, not in memory).
 */
async function readForRedaction(file: string): Promise<unknown> {
  try {
    return readStateText(await readStateFile(file), file)
  } catch (err) {
    if (err instanceof StateReadError) throw new DeckhandError(`${err.message}; nothing was changed`)
    throw new DeckhandError(`cannot read ${file}`)
  }
}

/** `deckhand redact FILE…`: the dump's redaction applied to files written by deck or by hand. */
async function redactFiles(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      help: { type: 'boolean' },
      workspace: { type: 'string' },
      'secret-fields': { type: 'string', multiple: true },
    },
    allowPositionals: true,
  })
  if (values.help || positionals.length === 0) {
    process.stdout.write(
      'Usage: deckhand redact [--workspace NAME] [--secret-fields "plugins/NAME PATH"]... FILE...\n\nRewrites each deck state file in place with secrets replaced by ${{ env "DECK_…" }} references\nand prints the variable names (never the values) the files now need. Secrets are found by Kong\'s\nschemas (bundled), credential names and value detectors; --secret-fields adds an in-house plugin\'s.\n',
    )
    return positionals.length === 0 && !values.help ? 2 : 0
  }
  configureSecretFields(values['secret-fields'] ?? [])
  const names = new Set<string>()
  for (const file of positionals) {
    const content = await readForRedaction(file)
    const workspace = values.workspace ?? 'default'
    const result = processContent(content, { workspace, redact: true, source: file })
    await writeFileAtomic(file, result.yaml)
    for (const r of result.redactions) names.add(r.name)
    const byRule = Object.entries(countByRule(result.redactions)).filter(([, n]) => n > 0)
    const rules = byRule.length > 0 ? ` (${byRule.map(([rule, n]) => `${rule} ${n}`).join(', ')})` : ''
    process.stderr.write(`${file}: ${result.redactions.length} secret value(s) replaced${rules}\n`)
  }
  process.stdout.write(
    [...names]
      .sort()
      .map((n) => `${n}\n`)
      .join(''),
  )
  return 0
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      process.stdout.write(usage() + '\n')
      return command === undefined ? 2 : 0
    }
    if (command === '--version' || command === 'version') {
      process.stdout.write(`deckhand ${VERSION}\n`)
      return 0
    }
    if (command === 'redact') return await redactFiles(rest)
    if (command === 'backups') return await backupsCommand(rest, stderrLogger(false), renderText)
    if (command === 'secrets') return await secretsCommand(rest)
    const spec = COMMANDS[command]
    if (!spec) {
      process.stderr.write(`deckhand: unknown command "${command}"\n\n${usage()}\n`)
      return 2
    }
    return await runCommand(spec, rest)
  } catch (thrown) {
    const err = asExpectedError(thrown) ?? thrown
    if (isDeckhandError(err)) {
      process.stderr.write(`deckhand: ${[err.message, ...err.details].join('\n  ')}\n`)
      return 1
    }
    if ((err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(
        `deckhand: ${errorMessage(err)}\nRun 'deckhand ${command} --help' for the options.\n`,
      )
      return 2
    }
    process.stderr.write(`deckhand: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`)
    return 1
  }
}
