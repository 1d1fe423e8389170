// Entry point of the deck double: cobra's flow (find the command, parse flags, initConfig, check
// arguments and flags, run), deck's error printing and exit codes, plus the double's own switches.

import { appendFileSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

import { parse as parseYaml } from 'yaml'

import { helpText, runDump, runNotEmulated, runPing, runValidate, runVersion } from './commands.mjs'
import {
  CobraFindError,
  commandPath,
  commandTree,
  findCommand,
  flagSet,
  flagValue,
  parseCommandLine,
} from './flags.mjs'
import { runConvert } from './convert.mjs'
import { loadGateway } from './gateway.mjs'
import { DeckError, goQuote } from './gostr.mjs'
import { writeAll } from './io.mjs'
import { InitConfigExit, initConfig, readConfigFile, Settings } from './settings.mjs'
import { GoPanic } from './state.mjs'
import { runReconcile } from './sync.mjs'
import { atLeast, DEFAULT_VERSION, parseVersion } from './versions.mjs'

// The value of the last --config on the command line, read loosely (for the invocation log).
function configArgument(argv) {
  let value = null
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') break
    if (argv[i] === '--config' && i + 1 < argv.length) value = argv[++i]
    else if (argv[i].startsWith('--config=')) value = argv[i].slice('--config='.length)
  }
  return value
}

function logInvocation(argv, env) {
  const path = env.DECK_DOUBLE_LOG
  if (!path) return
  const deckEnv = {}
  for (const [k, v] of Object.entries(env))
    if (k.startsWith('DECK_') && !k.startsWith('DECK_DOUBLE_')) deckEnv[k] = v
  let config = null
  const configPath = configArgument(argv)
  if (configPath) {
    try {
      config = parseYaml(readFileSync(configPath, 'utf8')) ?? null
    } catch {
      config = null
    }
  }
  appendFileSync(path, JSON.stringify({ argv, cwd: process.cwd(), env: deckEnv, config }) + '\n')
}

function resolveVersion(env) {
  const text = env.DECK_DOUBLE_VERSION || DEFAULT_VERSION
  const v = parseVersion(text)
  if (!v || !atLeast(v.join('.'), '1.0.0')) {
    throw new DeckError(`deck double: unsupported DECK_DOUBLE_VERSION ${goQuote(text)} (1.0.0 or later)`)
  }
  return v.join('.')
}

async function injectFault(ctx) {
  const fault = ctx.env.DECK_DOUBLE_FAIL
  // Faults target the operation: `deck version` (how a wrapper finds out what it runs) still answers.
  if (!fault || ctx.cmd.kind === 'version') return
  if (fault === 'error') throw new DeckError('deck double: injected failure (DECK_DOUBLE_FAIL=error)')
  if (fault === 'hang') await sleep(60_000)
  else if (fault === 'crash') {
    // dump writes half its output first (see writeOutput); everything else dies at once.
    if (ctx.cmd.kind !== 'dump') process.kill(process.pid, 'SIGKILL')
  } else throw new DeckError(`deck double: unknown DECK_DOUBLE_FAIL value ${goQuote(fault)}`)
}

const RUNNERS = {
  version: runVersion,
  ping: runPing,
  dump: runDump,
  validate: runValidate,
  sync: runReconcile,
  diff: runReconcile,
  apply: runReconcile,
  reset: runNotEmulated,
  convert: runConvert,
}

/** Runs one deck invocation; returns the exit code. */
export async function main(argv, env = process.env) {
  const ctx = { argv, env, out: (s) => writeAll(1, s), err: (s) => writeAll(2, s) }
  try {
    logInvocation(argv, env)
    ctx.version = resolveVersion(env)
    const { cmd, parsed, help } = parseCommandLine(argv, ctx.version, {
      afterParse: (_cmd, p) => p.warnings.forEach((w) => ctx.err(w)),
      beforeArgs: (_cmd, p) => {
        const config = readConfigFile(flagValue(p, 'config'), env)
        ctx.settings = new Settings(p, env, config)
        ctx.rootConfig = initConfig(ctx.settings, ctx.version)
        return ctx.rootConfig.address
      },
    })
    Object.assign(ctx, { cmd, parsed })
    if (help) {
      ctx.out(helpText(cmd, flagSet))
      return 0
    }
    if (cmd.kind === 'help') {
      const root = commandTree(ctx.version)
      try {
        ctx.out(helpText(findCommand(root, parsed.positional).cmd, flagSet))
      } catch {
        const topic = parsed.positional.map((a) => `\`${a}\``).join(' ')
        ctx.out(`Unknown help topic [${topic}]\n` + helpText(root, flagSet))
      }
      return 0
    }
    if (!cmd.emulated) throw new DeckError(`deck double: ${goQuote(commandPath(cmd))} is not emulated`)
    await injectFault(ctx)
    if (
      ['ping', 'dump', 'sync', 'diff', 'apply'].includes(cmd.kind) ||
      (cmd.kind === 'validate' && cmd.variant === 'gateway') ||
      (cmd.kind === 'validate' && flagValue(parsed, 'online'))
    ) {
      ctx.gateway = loadGateway(env)
    }
    const code = RUNNERS[cmd.kind](ctx)
    return typeof code === 'number' ? code : 0
  } catch (err) {
    if (env.DECK_DOUBLE_FAIL === 'crash' && ctx.cmd?.kind === 'dump') process.kill(process.pid, 'SIGKILL')
    if (err instanceof InitConfigExit) {
      ctx.out(err.message)
      return 1
    }
    if (err instanceof CobraFindError) {
      ctx.err(`Error: ${err.message}\nRun 'deck --help' for usage.\n`)
      return 1
    }
    if (err instanceof GoPanic) {
      ctx.err(`panic: ${err.message}\n[signal SIGSEGV: segmentation violation]\n`)
      return 2
    }
    if (err instanceof DeckError) {
      ctx.err(`Error: ${err.message}\n`)
      return 1
    }
    throw err
  }
}
