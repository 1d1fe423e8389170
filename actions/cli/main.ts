import { backupsCommand } from './backups.js'
import { DirToolStore } from '../engine/deck/dir-store.js'
import { DeckhandError, asExpectedError, isDeckhandError, isInputError } from '../engine/errors.js'
import { writeFileAtomic } from '../engine/fs-atomic.js'
import type { JobContext } from '../engine/jobs/context.js'
import { type InputNaming, Inputs, setInputNaming } from '../engine/jobs/inputs.js'
import type { Logger } from '../engine/log.js'
import { configureSecretFields } from '../engine/secrets/configured.js'
import { countByRule } from '../engine/secrets/report.js'
import { processContent } from '../engine/state/pipeline.js'
import { readStateFile, readStateText, StateReadError } from '../engine/state/read.js'
import { TOOL_VERSION as VERSION } from '../engine/version.js'
import { JOBS } from '../jobs.js'
import { COMMANDS, type CommandSpec } from '../spec.js'
import { doctorCommand } from './doctor.js'
import { cliInputs, commandHelp, envName, type HelpScope, REDACT_USAGE, usage } from './help.js'
import { didYouMean, type OptionDef, parseOptions, UsageError } from './options.js'
import { outputWidth, renderText } from './text.js'

export { envName } from './help.js'
export { renderText } from './text.js'
import { secretsCommand } from './secrets.js'

const stderrLogger = (verbose: boolean): Logger => ({
  info: (m) => process.stderr.write(`${m}\n`),
  warn: (m) => process.stderr.write(`warning: ${m}\n`),
  debug: (m) => {
    if (verbose) process.stderr.write(`debug: ${m}\n`)
  },
})

/** The CLI's names for inputs in the engine's messages: options, and for a missing one its variable too. */
const CLI_NAMING: InputNaming = {
  name: (input) => `--${input}`,
  subject: (input) => `--${input}`,
  missing: (input) => `--${input} (or ${envName(input)})`,
  setting: (input) => `--${input} (or ${envName(input)})`,
}

/** Which part of a command's help `--help`, `--help tyk`, `--help=tyk` or `--help-all` asks for. */
function helpScope(argv: readonly string[]): HelpScope | undefined {
  if (argv.includes('--help-all') || argv.includes('--help=all')) return 'all'
  const at = argv.findIndex((a) => a === '--help' || a === '-h')
  if (argv.includes('--help=tyk') || (at >= 0 && argv[at + 1] === 'tyk')) return 'tyk'
  return at >= 0 ? 'default' : undefined
}

export function commandOptions(spec: CommandSpec): Record<string, OptionDef> {
  const defs: Record<string, OptionDef> = {
    help: { kind: 'boolean' },
    json: { kind: 'boolean' },
    verbose: { kind: 'boolean' },
  }
  for (const [name, input] of cliInputs(spec))
    defs[name] = { kind: input.type === 'boolean' ? 'boolean' : input.type === 'list' ? 'list' : 'string' }
  return defs
}

async function runCommand(spec: CommandSpec, argv: string[]): Promise<number> {
  const scope = helpScope(argv)
  if (scope) {
    process.stdout.write(commandHelp(spec, scope, outputWidth()) + '\n')
    return 0
  }
  const { values } = parseOptions(argv, commandOptions(spec), { command: spec.name })
  const source = (name: string): string | undefined => {
    if (spec.inputs[name]?.actionOnly) return undefined
    const value = values.get(name)
    if (Array.isArray(value)) return value.join('\n')
    return value ?? process.env[envName(name)]
  }
  for (const [name, input] of cliInputs(spec)) {
    if (input.secret && values.has(name)) {
      process.stderr.write(
        `warning: --${name} is visible to other users in the process list; prefer ${envName(name)}\n`,
      )
    }
  }
  const verbose = values.get('verbose') === 'true' || process.env.DECKHAND_VERBOSE === 'true'
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
  if (values.get('json') === 'true') process.stdout.write(JSON.stringify(result.outputs, null, 2) + '\n')
  else process.stdout.write(renderText(result.report, outputWidth()))
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
  const parsed = parseOptions(
    argv,
    { help: { kind: 'boolean' }, workspace: { kind: 'string' }, 'secret-fields': { kind: 'list' } },
    { command: 'redact', positionals: true },
  )
  const positionals = parsed.positionals
  const values = {
    help: parsed.values.get('help') === 'true',
    workspace: parsed.values.get('workspace') as string | undefined,
    'secret-fields': parsed.values.get('secret-fields') as string[] | undefined,
  }
  if (values.help || positionals.length === 0) {
    process.stdout.write(REDACT_USAGE)
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

/** Every command the CLI takes, for did-you-mean. */
const COMMAND_NAMES = [...Object.keys(COMMANDS), 'backups', 'redact', 'secrets', 'doctor', 'help', 'version']

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  setInputNaming(CLI_NAMING)
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      process.stdout.write(usage(outputWidth()) + '\n')
      return command === undefined ? 2 : 0
    }
    if (command === '--version' || command === 'version') {
      process.stdout.write(`deckhand ${VERSION}\n`)
      return 0
    }
    if (command === 'redact') return await redactFiles(rest)
    if (command === 'backups')
      return await backupsCommand(rest, stderrLogger(false), (r) => renderText(r, outputWidth()))
    if (command === 'secrets') return await secretsCommand(rest)
    if (command === 'doctor') return await doctorCommand(rest, outputWidth())
    const spec = COMMANDS[command]
    if (!spec) throw new UsageError(`unknown command "${command}"${didYouMean(command, COMMAND_NAMES)}`, '')
    return await runCommand(spec, rest)
  } catch (thrown) {
    const err = asExpectedError(thrown) ?? thrown
    if (isInputError(err)) {
      const help =
        err instanceof UsageError && err.help !== undefined
          ? err.help
          : command !== undefined && COMMANDS[command]
            ? command
            : undefined
      process.stderr.write(
        `deckhand: ${[err.message, ...err.details].join('\n  ')}\n` +
          (help !== undefined
            ? `Run 'deckhand ${help ? `${help} ` : ''}--help' for the ${help ? 'options' : 'commands'}.\n`
            : ''),
      )
      return 2
    }
    if (isDeckhandError(err)) {
      process.stderr.write(`deckhand: ${[err.message, ...err.details].join('\n  ')}\n`)
      return 1
    }
    process.stderr.write(`deckhand: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`)
    return 1
  }
}
