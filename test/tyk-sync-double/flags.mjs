// tyk-sync 1.5.0's command tree and flags (TykTechnologies/tyk-sync cmd/*.go at tag v1.5.0), parsed the way
// spf13/cobra v1.0.0 and spf13/pflag v1.0.5 (its go.mod) parse them: command lookup with stripFlags,
// interspersed flags, `--flag value`, `--flag=value`, `-f value`, `-fvalue`, `-f=value`, `--` ending flags.

const f = (name, type, opts = {}) => ({
  name,
  type,
  def: { bool: false, string: '', stringSlice: [] }[type],
  ...opts,
})

const HELP = f('help', 'bool', { short: 'h' })

// sync, update and publish share their target flags (cmd/sync.go, cmd/update.go, cmd/publish.go).
const TARGET = [
  f('gateway', 'string', { short: 'g' }),
  f('dashboard', 'string', { short: 'd' }),
  f('key', 'string', { short: 'k' }),
  f('branch', 'string', { short: 'b', def: 'refs/heads/master' }),
  f('secret', 'string', { short: 's' }),
]

/** Every command of tyk-sync 1.5.0; `flags` are its local flags (help is added by cobra). */
export const COMMANDS = {
  dump: {
    use: 'dump -d DASHBOARD_URL [-s SECRET] [-t PATH]',
    flags: [
      f('dashboard', 'string', { short: 'd', required: true }),
      f('secret', 'string', { short: 's' }),
      f('target', 'string', { short: 't' }),
      f('templates', 'stringSlice'),
      f('policies', 'stringSlice'),
      f('apis', 'stringSlice'),
      f('oas-apis', 'stringSlice'),
    ],
  },
  sync: {
    use: 'sync',
    flags: [
      ...TARGET,
      f('org', 'string', { short: 'o' }),
      f('path', 'string', { short: 'p' }),
      f('test', 'bool'),
      f('allow-unsafe-oas', 'bool', { deprecated: 'OAS API can be synced without the flag.' }),
      f('apis', 'stringSlice', { deprecated: 'The flag will be removed in upcoming release' }),
      f('policies', 'stringSlice', { deprecated: 'The flag will be removed in upcoming release' }),
    ],
  },
  update: {
    use: 'update',
    flags: [
      ...TARGET,
      f('path', 'string', { short: 'p' }),
      f('test', 'bool'),
      f('allow-unsafe-oas', 'bool', { deprecated: 'OAS API can updated without the flag.' }),
      f('apis', 'stringSlice'),
      f('oas-apis', 'stringSlice'),
      f('policies', 'stringSlice'),
      f('templates', 'stringSlice'),
    ],
  },
  publish: {
    use: 'publish',
    flags: [
      ...TARGET,
      f('path', 'string', { short: 'p' }),
      f('test', 'bool'),
      f('allow-unsafe-oas', 'bool', { deprecated: 'OAS API can published without the flag.' }),
      f('apis', 'stringSlice'),
      f('oas-apis', 'stringSlice'),
      f('policies', 'stringSlice'),
      f('templates', 'stringSlice'),
    ],
  },
  version: { use: 'version', aliases: ['v'], flags: [] },
  // Parsed and checked, never run: they read the examples repository on GitHub.
  examples: {
    use: 'examples',
    flags: [],
    sub: {
      show: { use: 'show', flags: [f('location', 'string', { short: 'l' })] },
      publish: {
        use: 'publish',
        flags: [
          f('gateway', 'string', { short: 'g' }),
          f('dashboard', 'string', { short: 'd' }),
          f('key', 'string', { short: 'k' }),
          f('branch', 'string', { short: 'b', def: 'refs/heads/main' }),
          f('secret', 'string', { short: 's' }),
          f('test', 'bool'),
          f('location', 'string', { short: 'l' }),
        ],
      },
    },
  },
  // cobra's own help command.
  help: { use: 'help [command]', flags: [] },
}

/** A command line cobra or pflag refuses; `usage` says whether cobra prints the usage after it. */
export class CommandLineError extends Error {
  constructor(message, { usage = true, command } = {}) {
    super(message)
    this.usage = usage
    this.command = command
  }
}

function flagsOf(cmd) {
  return [...(cmd?.flags ?? []), HELP]
}

function lookupLong(flags, name) {
  return flags.find((fl) => fl.name === name)
}

function lookupShort(flags, c) {
  return flags.find((fl) => fl.short === c)
}

function goQuoteRune(c) {
  return `'${c}'`
}

// cobra's stripFlags: drops flags (and the value of `--flag value` / `-f value` for non-bool flags) to find
// command names.
function stripFlags(args, flags) {
  const commands = []
  const noOpt = (name) => lookupLong(flags, name)?.type === 'bool'
  const shortNoOpt = (c) => lookupShort(flags, c)?.type === 'bool'
  let rest = [...args]
  while (rest.length > 0) {
    const s = rest.shift()
    if (s === '--') break
    if (s.startsWith('--') && !s.includes('=') && !noOpt(s.slice(2))) {
      if (rest.length <= 1) break
      rest = rest.slice(1)
      continue
    }
    if (s.startsWith('-') && !s.includes('=') && s.length === 2 && !shortNoOpt(s.slice(1))) {
      if (rest.length <= 1) break
      rest = rest.slice(1)
      continue
    }
    if (s !== '' && !s.startsWith('-')) commands.push(s)
  }
  return commands
}

function levenshtein(a, b) {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0][j] = j
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
  return d[a.length][b.length]
}

function suggestions(typed) {
  const names = Object.keys(COMMANDS).sort()
  const found = names.filter(
    (n) =>
      levenshtein(typed.toLowerCase(), n.toLowerCase()) <= 2 ||
      n.toLowerCase().startsWith(typed.toLowerCase()),
  )
  return found.length === 0 ? '' : `\n\nDid you mean this?\n${found.map((n) => `\t${n}\n`).join('')}`
}

function findChild(children, name) {
  for (const [key, cmd] of Object.entries(children ?? {})) {
    if (key === name || (cmd.aliases ?? []).includes(name)) return [key, cmd]
  }
  return undefined
}

/**
 * Finds the command as cobra's Find does: returns its path (e.g. ['sync'], ['examples', 'show'], [] for the
 * root) and the arguments left once the command names are taken out.
 */
export function findCommand(argv) {
  let path = []
  let cmd
  let args = [...argv]
  for (;;) {
    const names = stripFlags(args, cmd ? flagsOf(cmd) : [HELP])
    if (names.length === 0) break
    const found = findChild(cmd ? cmd.sub : COMMANDS, names[0])
    if (!found) break
    path = [...path, found[0]]
    cmd = found[1]
    const at = args.indexOf(names[0])
    args = [...args.slice(0, at), ...args.slice(at + 1)]
  }
  if (!cmd) {
    const names = stripFlags(args, [HELP])
    if (names.length > 0) {
      throw new CommandLineError(`unknown command "${names[0]}" for "tyk-sync"${suggestions(names[0])}`, {
        usage: false,
      })
    }
  }
  return { path, cmd, args }
}

function setValue(values, flag, raw, warnings) {
  if (flag.type === 'bool') {
    const v = parseBool(raw)
    if (v === undefined) {
      throw new Error(
        `invalid argument "${raw}" for "${flag.short ? `-${flag.short}, ` : ''}--${flag.name}" flag: strconv.ParseBool: parsing "${raw}": invalid syntax`,
      )
    }
    values[flag.name] = v
  } else if (flag.type === 'stringSlice') {
    const items = raw === '' ? [] : raw.split(',').map((s) => s.trim())
    values[flag.name] = values.__changed?.has(flag.name) ? [...values[flag.name], ...items] : items
  } else values[flag.name] = raw
  ;(values.__changed ??= new Set()).add(flag.name)
  if (flag.deprecated) warnings.push(`Flag --${flag.name} has been deprecated, ${flag.deprecated}`)
}

function parseBool(s) {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false
  return undefined
}

/** pflag's Parse over a command's flags: the values, the positional arguments and the deprecation warnings. */
export function parseFlags(cmd, args) {
  const flags = flagsOf(cmd)
  const values = {}
  for (const fl of flags) values[fl.name] = fl.def
  const positional = []
  const warnings = []
  let a = [...args]
  while (a.length > 0) {
    const s = a.shift()
    if (s.length === 0 || s[0] !== '-' || s.length === 1) {
      positional.push(s)
      continue
    }
    if (s[1] === '-') {
      if (s.length === 2) {
        positional.push(...a)
        break
      }
      const body = s.slice(2)
      if (body.length === 0 || body[0] === '-' || body[0] === '=') throw new Error(`bad flag syntax: ${s}`)
      const eq = body.indexOf('=')
      const name = eq < 0 ? body : body.slice(0, eq)
      const flag = lookupLong(flags, name)
      if (!flag) throw new Error(`unknown flag: --${name}`)
      if (eq >= 0) setValue(values, flag, body.slice(eq + 1), warnings)
      else if (flag.type === 'bool') setValue(values, flag, 'true', warnings)
      else if (a.length > 0) setValue(values, flag, a.shift(), warnings)
      else throw new Error(`flag needs an argument: --${name}`)
      continue
    }
    let shorthands = s.slice(1)
    while (shorthands.length > 0) {
      const c = shorthands[0]
      const flag = lookupShort(flags, c)
      if (!flag) throw new Error(`unknown shorthand flag: ${goQuoteRune(c)} in -${shorthands}`)
      if (shorthands.length > 2 && shorthands[1] === '=') {
        setValue(values, flag, shorthands.slice(2), warnings)
        shorthands = ''
      } else if (flag.type === 'bool') {
        setValue(values, flag, 'true', warnings)
        shorthands = shorthands.slice(1)
      } else if (shorthands.length > 1) {
        setValue(values, flag, shorthands.slice(1), warnings)
        shorthands = ''
      } else if (a.length > 0) {
        setValue(values, flag, a.shift(), warnings)
        shorthands = ''
      } else throw new Error(`flag needs an argument: ${goQuoteRune(c)} in -${shorthands}`)
    }
  }
  const changed = values.__changed ?? new Set()
  delete values.__changed
  return { values, changed, positional, warnings }
}

/**
 * The whole command line as tyk-sync 1.5.0 takes it: the command, its flag values, positional arguments and
 * deprecation warnings; or throws CommandLineError with the text cobra prints after "Error: ".
 */
export function parseCommandLine(argv) {
  const { path, cmd, args } = findCommand(argv)
  let parsed
  try {
    parsed = parseFlags(cmd, args)
  } catch (err) {
    throw new CommandLineError(err.message, { command: path })
  }
  if (!parsed.values.help && cmd) {
    const missing = cmd.flags
      .filter((fl) => fl.required && !parsed.changed.has(fl.name))
      .map((fl) => `"${fl.name}"`)
    if (missing.length > 0) {
      throw new CommandLineError(`required flag(s) ${missing.join(', ')} not set`, { command: path })
    }
  }
  return { path, cmd, ...parsed }
}

/** Null when tyk-sync 1.5.0 accepts the command line (flags and command only), else the error it prints. */
export function checkTykSyncArgv(argv) {
  try {
    parseCommandLine(argv)
    return null
  } catch (err) {
    if (err instanceof CommandLineError) return `Error: ${err.message}`
    throw err
  }
}

/** cobra's usage text for a command, shortened to the lines a reader needs. */
export function usageText(path) {
  const cmd = path.reduce((c, name, i) => (i === 0 ? COMMANDS[name] : c.sub[name]), undefined)
  const lines = ['Usage:']
  if (!cmd) {
    lines.push('  tyk-sync [flags]', '  tyk-sync [command]', '', 'Available Commands:')
    for (const name of Object.keys(COMMANDS).sort()) lines.push(`  ${name}`)
  } else {
    lines.push(
      `  tyk-sync ${[...path.slice(0, -1), cmd.use].join(' ')}${cmd.flags.length > 0 ? ' [flags]' : ''}`,
    )
    if (cmd.sub) lines.push(`  tyk-sync ${path.join(' ')} [command]`)
  }
  lines.push('', 'Flags:')
  for (const fl of flagsOf(cmd)) {
    if (fl.deprecated) continue
    const type = fl.type === 'bool' ? '' : fl.type === 'string' ? ' string' : ' strings'
    lines.push(`  ${fl.short ? `-${fl.short}, ` : '    '}--${fl.name}${type}`)
  }
  return lines.join('\n') + '\n'
}
