// deck's command tree and flags per release, and a cobra/pflag-faithful command-line parser.
// Sources: Kong/deck cmd/*.go at every v1.x tag (flag history), spf13/cobra v1.10.2 command.go,
// args.go and flag_groups.go, spf13/pflag v1.0.10 flag.go and errors.go.

import { readAsCSV } from './csv.mjs'
import { DeckError, goList, goQuote } from './gostr.mjs'
import { atLeast, DEFAULT_VERSION, inRange, parseVersion } from './versions.mjs'

const f = (name, type, opts = {}) => ({ name, type, def: defaultFor(type), ...opts })

function defaultFor(type) {
  return { bool: false, int: 0, string: '', stringSlice: [] }[type]
}

// Persistent flags of the root command (Kong/deck cmd/root.go).
const GLOBAL_FLAGS = [
  f('config', 'string'),
  f('verbose', 'int'),
  f('no-color', 'bool'),
  f('analytics', 'bool', { def: true, since: '1.7.0' }),
  f('kong-addr', 'string', { def: 'http://localhost:8001' }),
  f('headers', 'stringSlice'),
  f('tls-skip-verify', 'bool'),
  f('tls-server-name', 'string'),
  f('ca-cert', 'string'),
  f('ca-cert-file', 'string', { since: '1.8.2' }),
  f('skip-workspace-crud', 'bool', { since: '1.2.0' }),
  f('kong-cookie-jar-path', 'string', { since: '1.10.0' }),
  f('timeout', 'int', { def: 10, since: '1.8.0' }),
  f('tls-client-cert', 'string', { since: '1.11.0' }),
  f('tls-client-cert-file', 'string', { since: '1.11.0' }),
  f('tls-client-key', 'string', { since: '1.11.0' }),
  f('tls-client-key-file', 'string', { since: '1.11.0' }),
  f('konnect-email', 'string', { since: '1.5.0', until: '1.64.0' }),
  f('konnect-password', 'string', { since: '1.5.0', until: '1.64.0' }),
  f('konnect-password-file', 'string', { since: '1.5.0', until: '1.64.0' }),
  f('konnect-token', 'string', { since: '1.14.0' }),
  f('konnect-token-file', 'string', { since: '1.14.0' }),
  f('konnect-addr', 'string', { def: 'https://us.api.konghq.com', since: '1.7.0' }),
  f('konnect-runtime-group-name', 'string', {
    since: '1.12.0',
    deprecatedSince: '1.27.0',
    deprecated: 'use --konnect-control-plane-name instead',
  }),
  f('konnect-control-plane-name', 'string', { since: '1.27.0' }),
  f('kong-admin-token', 'string', { since: '1.64.0' }),
]

const GLOBAL_GROUPS = [
  { flags: ['konnect-token-file', 'konnect-token'], since: '1.14.0' },
  { flags: ['konnect-runtime-group-name', 'konnect-control-plane-name'], since: '1.27.0' },
]

// -E/-W (cmd/utils.go addDiagnosticSeverityFlags, v1.61.0).
const DIAGNOSTIC_FLAGS = [
  f('warnings-as-errors', 'string', { short: 'E', since: '1.61.0' }),
  f('errors-as-warnings', 'string', { short: 'W', since: '1.61.0' }),
]
const SILENCE = f('silence-events', 'bool', { since: '1.8.0' })
// Legacy sync/diff/validate read files from -s/--state (a plain string before v1.1.0).
const STATE = f('state', 'stringSlice', { short: 's', def: ['kong.yaml'], legacy: true })

// Local flags per command kind. `legacy: true` = top-level (deprecated) command only,
// `modern: true` = gateway/file command only.
const COMMAND_FLAGS = {
  version: [],
  ping: [f('workspace', 'string', { short: 'w', since: '1.2.0' })],
  dump: [
    f('format', 'string', { def: 'yaml' }),
    f('with-id', 'bool'),
    f('workspace', 'string', { short: 'w' }),
    f('all-workspaces', 'bool'),
    f('skip-consumers', 'bool'),
    f('select-tag', 'stringSlice'),
    f('rbac-resources-only', 'bool', { since: '1.5.0' }),
    f('yes', 'bool', { since: '1.6.0' }),
    f('skip-ca-certificates', 'bool', { since: '1.12.0' }),
    f('skip-consumers-with-consumer-groups', 'bool', { since: '1.43.0' }),
    f('consumer-group-policy-overrides', 'bool', { since: '1.44.0' }),
    f('skip-defaults', 'bool', { since: '1.53.0' }),
    f('include-plugin-definitions', 'bool', { since: '1.63.0' }),
    f('sanitize', 'bool', { since: '1.50.0' }),
    f('sanitization-salt', 'string', { since: '1.50.0', hidden: true }),
    f('output-file', 'string', { short: 'o', def: '-' }),
  ],
  validate: [
    f('rbac-resources-only', 'bool', { since: '1.5.0' }),
    f('online-entities-list', 'stringSlice', { since: '1.42.0' }),
    STATE,
    f('online', 'bool', { since: '1.11.0', legacy: true }),
    f('workspace', 'string', { short: 'w', since: '1.11.0' }),
    f('parallelism', 'int', { def: 10, since: '1.11.0' }),
    f('json-output', 'bool', { since: '1.24.0', until: '1.38.0' }),
    f('konnect-compatibility', 'bool', { since: '1.37.0' }),
    ...DIAGNOSTIC_FLAGS,
  ],
  diff: [
    STATE,
    f('workspace', 'string', { short: 'w', since: '1.2.0' }),
    f('skip-consumers', 'bool'),
    f('parallelism', 'int', { def: 10 }),
    f('no-mask-deck-env-vars-value', 'bool', { since: '1.16.0' }),
    f('select-tag', 'stringSlice'),
    f('rbac-resources-only', 'bool', { since: '1.5.0' }),
    f('non-zero-exit-code', 'bool'),
    f('skip-ca-certificates', 'bool', { since: '1.12.0' }),
    f('json-output', 'bool', { since: '1.24.0' }),
    f('consumer-group-policy-overrides', 'bool', { since: '1.44.0' }),
    f('skip-consumers-with-consumer-groups', 'bool', { since: '1.45.0' }),
    f('yes', 'bool', { since: '1.45.0' }),
    f('include-plugin-definitions', 'bool', { since: '1.63.0' }),
    ...DIAGNOSTIC_FLAGS,
    SILENCE,
  ],
  sync: [
    STATE,
    // -w only since v1.16.0; the flag itself since v1.2.0.
    f('workspace', 'string', { short: 'w', shortSince: '1.16.0', since: '1.2.0' }),
    f('skip-consumers', 'bool'),
    f('parallelism', 'int', { def: 10 }),
    f('no-mask-deck-env-vars-value', 'bool', { since: '1.16.0' }),
    f('select-tag', 'stringSlice'),
    f('rbac-resources-only', 'bool', { since: '1.5.0' }),
    f('db-update-propagation-delay', 'int', { since: '1.2.0' }),
    f('skip-ca-certificates', 'bool', { since: '1.12.0' }),
    f('consumer-group-policy-overrides', 'bool', { since: '1.44.0' }),
    f('skip-consumers-with-consumer-groups', 'bool', { since: '1.45.0' }),
    f('skip-hash-for-basic-auth', 'bool', { since: '1.52.0' }),
    f('yes', 'bool', { since: '1.45.0' }),
    f('json-output', 'bool', { since: '1.24.0' }),
    f('include-plugin-definitions', 'bool', { since: '1.63.0' }),
    ...DIAGNOSTIC_FLAGS,
    SILENCE,
  ],
  reset: [
    f('force', 'bool', { short: 'f' }),
    f('skip-consumers', 'bool'),
    f('workspace', 'string', { short: 'w' }),
    f('all-workspaces', 'bool'),
    f('no-mask-deck-env-vars-value', 'bool', { since: '1.16.0' }),
    f('select-tag', 'stringSlice'),
    f('rbac-resources-only', 'bool', { since: '1.5.0' }),
    f('skip-ca-certificates', 'bool', { since: '1.12.0' }),
    f('json-output', 'bool', { since: '1.24.0' }),
    f('skip-plugin-definitions', 'bool', { since: '1.63.0' }),
  ],
  // Kong/deck cmd/convert.go (v1.8.0), cmd/file_convert.go (v1.25.0); file defaults set in convertDefaults.
  convert: [
    f('from', 'string'),
    f('to', 'string'),
    f('input-file', 'string'),
    f('output-file', 'string', { short: 'o', shortSince: '1.28.0' }),
    f('yes', 'bool', { since: '1.16.0' }),
    f('format', 'string', { def: 'yaml', since: '1.25.0' }),
    f('no-expand-env-vars', 'bool', { since: '1.57.2' }),
    ...DIAGNOSTIC_FLAGS,
  ],
  apply: [
    f('workspace', 'string', { short: 'w' }),
    f('parallelism', 'int', { def: 10 }),
    f('db-update-propagation-delay', 'int'),
    f('skip-hash-for-basic-auth', 'bool', { since: '1.52.0' }),
    f('json-output', 'bool'),
    f('include-plugin-definitions', 'bool', { since: '1.63.0' }),
    ...DIAGNOSTIC_FLAGS,
    SILENCE,
  ],
}

const COMMAND_GROUPS = {
  dump: [
    { flags: ['output-file', 'all-workspaces'], since: '1.29.2' },
    { flags: ['workspace', 'all-workspaces'], since: '1.29.2' },
  ],
  validate: [
    { flags: ['konnect-compatibility', 'workspace'], since: '1.41.0', modern: true },
    { flags: ['konnect-compatibility', 'rbac-resources-only'], since: '1.41.0' },
  ],
}

// Commands deck has but the double does not emulate (name, since); finding one is not an error.
const OTHER_ROOT = [
  ['completion', '1.0.0'],
  ['konnect', '1.5.0'],
]
const FILE_SUBCOMMANDS = [
  ['add-plugins', '1.24.0'],
  ['add-tags', '1.24.0'],
  ['list-tags', '1.24.0'],
  ['remove-tags', '1.24.0'],
  ['merge', '1.24.0'],
  ['patch', '1.24.0'],
  ['openapi2kong', '1.24.0'],
  ['render', '1.25.0'],
  ['lint', '1.28.0'],
  ['namespace', '1.32.0'],
  ['kong2kic', '1.35.0'],
  ['kong2tf', '1.40.0'],
  ['openapi2mcp', '1.57.0'],
  ['format', '1.63.0'],
  ['ai2kong', '1.65.0'],
]

function node(name, opts = {}) {
  return { name, children: [], local: [], persistent: [], groups: [], runnable: false, args: null, ...opts }
}

function add(parent, child) {
  child.parent = parent
  parent.children.push(child)
  return child
}

function applicable(spec, version, variant) {
  if (!inRange(version, spec.since, spec.until)) return false
  if (spec.legacy && variant !== 'legacy') return false
  if (spec.modern && variant === 'legacy') return false
  return true
}

function withVersion(spec, version, variant) {
  const s = { ...spec }
  if (s.shortSince && !atLeast(version, s.shortSince)) delete s.short
  if (s.deprecatedSince && !atLeast(version, s.deprecatedSince)) delete s.deprecated
  if (s.name === 'state' && !atLeast(version, '1.1.0')) {
    s.type = 'string'
    s.def = 'kong.yaml'
  }
  // Legacy dump writes kong.yaml (kong + extension) by default; v1.28.0 shared the variable with
  // `gateway dump`, so its legacy default was "-" in that one release.
  if (s.name === 'output-file' && variant === 'legacy' && version !== '1.28.0') s.def = 'kong'
  return s
}

// v1.28.0 gave `file convert` stdin/stdout defaults; `convert` (and `file convert` before) kept
// no input and kong.yaml (cmd/file_convert.go newConvertCmd).
function convertDefaults(local, variant, version) {
  const stdio = variant !== 'legacy' && atLeast(version, '1.28.0')
  for (const s of local) {
    if (s.name === 'input-file') s.def = stdio ? '-' : ''
    if (s.name === 'output-file') s.def = stdio ? '-' : 'kong.yaml'
  }
}

function commandNode(kind, variant, version) {
  const runArgs = kind === 'version' || variant === 'legacy' ? 'none' : undefined
  const anyArgs = ['sync', 'diff', 'validate', 'apply']
  const n = node(kind, {
    kind,
    variant,
    runnable: true,
    emulated: true,
    args: runArgs ?? (anyArgs.includes(kind) ? 'any' : 'none'),
  })
  n.local = COMMAND_FLAGS[kind]
    .filter((s) => applicable(s, version, variant))
    .map((s) => withVersion(s, version, variant))
  n.groups = (COMMAND_GROUPS[kind] ?? []).filter((g) => applicable(g, version, variant))
  if (kind === 'convert') convertDefaults(n.local, variant, version)
  return n
}

function otherNode(name) {
  return node(name, { runnable: true, emulated: false, args: 'any' })
}

/** Builds deck's command tree as it is in the given release. */
export function commandTree(version = DEFAULT_VERSION) {
  const root = node('deck', { group: true })
  root.persistent = GLOBAL_FLAGS.filter((s) => inRange(version, s.since, s.until)).map((s) =>
    withVersion(s, version, 'root'),
  )
  root.groups = GLOBAL_GROUPS.filter((g) => atLeast(version, g.since))
  add(root, commandNode('version', 'root', version))
  for (const kind of ['sync', 'validate', 'reset', 'ping', 'dump', 'diff']) {
    add(root, commandNode(kind, 'legacy', version))
  }
  for (const [name, since] of OTHER_ROOT) if (atLeast(version, since)) add(root, otherNode(name))
  if (atLeast(version, '1.8.0')) add(root, commandNode('convert', 'legacy', version))
  if (atLeast(version, '1.28.0')) {
    const gateway = add(root, node('gateway', { group: true }))
    for (const kind of ['sync', 'validate', 'reset', 'ping', 'dump', 'diff']) {
      add(gateway, commandNode(kind, 'gateway', version))
    }
    if (atLeast(version, '1.43.0')) add(gateway, commandNode('apply', 'gateway', version))
  }
  if (atLeast(version, '1.24.0')) {
    const file = add(root, node('file', { group: true }))
    for (const [name, since] of FILE_SUBCOMMANDS) if (atLeast(version, since)) add(file, otherNode(name))
    if (atLeast(version, '1.25.0')) add(file, commandNode('convert', 'file', version))
    if (atLeast(version, '1.28.0')) add(file, commandNode('validate', 'file', version))
  }
  if (atLeast(version, '1.65.0')) {
    const ai = add(root, node('ai', { group: true }))
    add(ai, otherNode('dump'))
    add(ai, otherNode('sync'))
  }
  add(root, node('help', { runnable: true, emulated: true, kind: 'help', args: 'any' }))
  return root
}

export function commandPath(cmd) {
  const names = []
  for (let c = cmd; c; c = c.parent) names.unshift(c.name)
  return names.join(' ')
}

/** Local flags, inherited persistent flags and cobra's -h/--help, as cobra merges them. */
export function flagSet(cmd) {
  const set = [...cmd.local]
  for (let c = cmd; c; c = c.parent) set.push(...c.persistent)
  set.push(f('help', 'bool', { short: 'h' }))
  return set
}

function groupsOf(cmd) {
  const groups = [...cmd.groups]
  for (let c = cmd.parent; c; c = c.parent) groups.push(...c.groups)
  return groups
}

const lookup = (set, name) => set.find((s) => s.name === name)
const lookupShort = (set, c) => set.find((s) => s.short === c)
// Bool flags carry NoOptDefVal "true": they never consume the next argument.
const hasNoOptDefVal = (name, set) => lookup(set, name)?.type === 'bool'
const shortHasNoOptDefVal = (name, set) => name.length > 0 && lookupShort(set, name[0])?.type === 'bool'

// cobra's stripFlags: the words of args that are not flags or flag values.
function stripFlags(args, cmd) {
  const set = flagSet(cmd)
  const commands = []
  let rest = [...args]
  while (rest.length > 0) {
    const s = rest.shift()
    if (s === '--') break
    const longWithValue = s.startsWith('--') && !s.includes('=') && !hasNoOptDefVal(s.slice(2), set)
    const shortWithValue =
      s.startsWith('-') && !s.includes('=') && s.length === 2 && !shortHasNoOptDefVal(s.slice(1), set)
    if (longWithValue || shortWithValue) {
      if (rest.length <= 1) break
      rest = rest.slice(1)
    } else if (s !== '' && !s.startsWith('-')) commands.push(s)
  }
  return commands
}

// cobra's argsMinusFirstX: args without the first occurrence of the sub-command name x.
function argsMinusFirstX(args, cmd, x) {
  const set = flagSet(cmd)
  for (let pos = 0; pos < args.length; pos++) {
    const s = args[pos]
    if (s === '--') break
    const longWithValue = s.startsWith('--') && !s.includes('=') && !hasNoOptDefVal(s.slice(2), set)
    const shortWithValue =
      s.startsWith('-') && !s.includes('=') && s.length === 2 && !shortHasNoOptDefVal(s.slice(1), set)
    if (longWithValue || shortWithValue) pos++
    else if (!s.startsWith('-') && s === x) return [...args.slice(0, pos), ...args.slice(pos + 1)]
  }
  return args
}

function findNext(cmd, name) {
  return cmd.children.find((c) => c.name === name) ?? null
}

// Levenshtein distance, case-insensitive, as cobra's ld(..., true).
function distance(a, b) {
  a = a.toLowerCase()
  b = b.toLowerCase()
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0][j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
  }
  return d[a.length][b.length]
}

function suggestions(cmd, typed) {
  const names = cmd.children
    .filter((c) => c.name !== 'help')
    .map((c) => c.name)
    .filter((n) => distance(typed, n) <= 2 || n.toLowerCase().startsWith(typed.toLowerCase()))
    .sort()
  return names.length ? '\n\nDid you mean this?\n' + names.map((n) => `\t${n}\n`).join('') : ''
}

/** cobra's Command.Find: the command named by argv and the arguments left for it. */
export function findCommand(root, argv) {
  let cmd = root
  let rest = argv
  for (;;) {
    const words = stripFlags(rest, cmd)
    if (words.length === 0) break
    const next = findNext(cmd, words[0])
    if (!next) break
    rest = argsMinusFirstX(rest, cmd, words[0])
    cmd = next
  }
  // legacyArgs: only the root rejects an unknown sub-command.
  if (cmd.args === null && !cmd.parent) {
    const words = stripFlags(rest, cmd)
    if (words.length > 0) {
      throw new CobraFindError(
        `unknown command ${goQuote(words[0])} for ${goQuote(commandPath(cmd))}${suggestions(cmd, words[0])}`,
      )
    }
  }
  return { cmd, rest }
}

/** Errors cobra reports from Find: printed with a "Run 'deck --help' for usage." hint. */
export class CobraFindError extends DeckError {}

// strconv.ParseInt(s, 0, 64), as pflag's int flags use it.
export function parseGoInt(s) {
  const syntax = new Error(`strconv.ParseInt: parsing ${goQuote(s)}: invalid syntax`)
  const range = new Error(`strconv.ParseInt: parsing ${goQuote(s)}: value out of range`)
  let body = s
  const neg = body[0] === '-'
  if (body[0] === '-' || body[0] === '+') body = body.slice(1)
  if (body === '') throw syntax
  let base = 10
  if (body[0] === '0') {
    const p = body[1]?.toLowerCase()
    if (body.length >= 3 && (p === 'b' || p === 'o' || p === 'x')) {
      base = { b: 2, o: 8, x: 16 }[p]
      body = body.slice(2)
    } else {
      base = 8
      body = body.slice(1)
    }
  }
  let n = 0n
  let underscores = false
  for (const c of body) {
    if (c === '_') {
      underscores = true
      continue
    }
    const d = parseInt(c, 36)
    if (Number.isNaN(d) || d >= base) throw syntax
    n = n * BigInt(base) + BigInt(d)
    if (n > 18446744073709551615n) throw range
  }
  if (underscores && !underscoreOK(s)) throw syntax
  if ((!neg && n >= 1n << 63n) || (neg && n > 1n << 63n)) throw range
  return Number(neg ? -n : n)
}

// strconv's underscoreOK: underscores only between digits (or after a base prefix).
function underscoreOK(s) {
  let saw = '^'
  let i = 0
  if (s[0] === '-' || s[0] === '+') s = s.slice(1)
  let hex = false
  if (s.length >= 2 && s[0] === '0' && 'box'.includes(s[1].toLowerCase())) {
    i = 2
    saw = '0'
    hex = s[1].toLowerCase() === 'x'
  }
  for (; i < s.length; i++) {
    const c = s[i].toLowerCase()
    if ((c >= '0' && c <= '9') || (hex && c >= 'a' && c <= 'f')) saw = '0'
    else if (c === '_') {
      if (saw !== '0') return false
      saw = '_'
    } else {
      if (saw === '_') return false
      saw = '!'
    }
  }
  return saw !== '_'
}

// fmt's %q of a rune.
function goQuoteRune(c) {
  return "'" + (c === "'" ? "\\'" : c === '\\' ? '\\\\' : c) + "'"
}

// strconv.ParseBool.
export function parseGoBool(s) {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false
  throw new Error(`strconv.ParseBool: parsing ${goQuote(s)}: invalid syntax`)
}

function flagDisplayName(spec) {
  return spec.short ? `-${spec.short}, --${spec.name}` : `--${spec.name}`
}

function setFlag(state, spec, value) {
  let parsed
  try {
    if (spec.type === 'bool') parsed = parseGoBool(value)
    else if (spec.type === 'int') parsed = parseGoInt(value)
    else if (spec.type === 'stringSlice') parsed = readAsCSV(value)
    else parsed = value
  } catch (err) {
    throw new DeckError(
      `invalid argument ${goQuote(value)} for ${goQuote(flagDisplayName(spec))} flag: ${err.message}`,
    )
  }
  const current = state.values.get(spec.name)
  if (spec.type === 'stringSlice' && current.changed) current.value = [...current.value, ...parsed]
  else current.value = parsed
  current.changed = true
  if (spec.deprecated) state.warnings.push(`Flag --${spec.name} has been deprecated, ${spec.deprecated}\n`)
}

/** pflag's FlagSet.Parse with cobra's settings (interspersed, ContinueOnError). */
export function parseFlags(cmd, args) {
  const set = flagSet(cmd)
  const state = { values: new Map(), positional: [], warnings: [] }
  for (const spec of set) state.values.set(spec.name, { spec, value: spec.def, changed: false })
  let rest = [...args]
  while (rest.length > 0) {
    const s = rest.shift()
    if (s.length === 0 || s[0] !== '-' || s.length === 1) {
      state.positional.push(s)
      continue
    }
    if (s[1] === '-') {
      if (s.length === 2) {
        state.positional.push(...rest)
        break
      }
      const name = s.slice(2)
      if (name[0] === '-' || name[0] === '=') throw new DeckError(`bad flag syntax: ${s}`)
      const eq = name.indexOf('=')
      const flagName = eq >= 0 ? name.slice(0, eq) : name
      const spec = lookup(set, flagName)
      if (!spec) throw new DeckError(`unknown flag: --${flagName}`)
      let value
      if (eq >= 0) value = name.slice(eq + 1)
      else if (spec.type === 'bool') value = 'true'
      else if (rest.length > 0) value = rest.shift()
      else throw new DeckError(`flag needs an argument: --${flagName}`)
      setFlag(state, spec, value)
      continue
    }
    let shorthands = s.slice(1)
    while (shorthands.length > 0) {
      const c = shorthands[0]
      const spec = lookupShort(set, c)
      if (!spec) throw new DeckError(`unknown shorthand flag: ${goQuoteRune(c)} in -${shorthands}`)
      let value
      if (shorthands.length > 2 && shorthands[1] === '=') {
        value = shorthands.slice(2)
        shorthands = ''
      } else if (spec.type === 'bool') {
        value = 'true'
        shorthands = shorthands.slice(1)
      } else if (shorthands.length > 1) {
        value = shorthands.slice(1)
        shorthands = ''
      } else if (rest.length > 0) {
        value = rest.shift()
        shorthands = ''
      } else {
        throw new DeckError(`flag needs an argument: ${goQuoteRune(c)} in -${shorthands}`)
      }
      setFlag(state, spec, value)
    }
  }
  return state
}

/** Reads a parsed flag value. */
export function flagValue(parsed, name) {
  return parsed.values.get(name)?.value
}

export function flagChanged(parsed, name) {
  return parsed.values.get(name)?.changed ?? false
}

// cobra's ValidateFlagGroups for MarkFlagsMutuallyExclusive: groups sorted by their joined names.
function validateGroups(cmd, parsed) {
  const groups = groupsOf(cmd)
    .map((g) => ({ key: g.flags.join(' '), flags: g.flags }))
    .filter((g) => g.flags.every((name) => parsed.values.has(name)))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  for (const g of groups) {
    const set = g.flags.filter((name) => flagChanged(parsed, name)).sort()
    if (set.length > 1) {
      throw new DeckError(
        `if any flags in the group [${g.key}] are set none of the others can be; ${goList(set)} were all set`,
      )
    }
  }
}

const VALID_DIAGNOSTIC_CODES = [
  'oidc-missing-required-config',
  'rla-consumer-groups-deprecated',
  'route-regex-path-format',
]

function checkDiagnostics(parsed) {
  const pairs = [
    ['warnings-as-errors', '-E/--warnings-as-errors'],
    // sic: deck names -W "--warnings-as-warnings" in this message (cmd/utils.go).
    ['errors-as-warnings', '-W/--warnings-as-warnings'],
  ]
  for (const [name, label] of pairs) {
    if (!parsed.values.has(name)) continue
    const value = flagValue(parsed, name)
    if (value.trim() === '') continue
    for (const part of value.split(',')) {
      const code = part.trim()
      if (code && !VALID_DIAGNOSTIC_CODES.includes(code)) {
        throw new DeckError(
          `invalid value for ${label}: unknown diagnostic code: ${code}. Valid diagnostic codes: ${goList(VALID_DIAGNOSTIC_CODES)}`,
        )
      }
    }
  }
}

function checkParallelism(parsed, version) {
  if (!parsed.values.has('parallelism') || !atLeast(version, '1.64.0')) return
  const p = flagValue(parsed, 'parallelism')
  if (p < 1) throw new DeckError(`--parallelism cannot be less than 1, got ${p}`)
}

// deck's validate.EntityMap keys (Kong/deck validate/validate.go), sorted as deck prints them.
const ONLINE_ENTITIES = [
  'ACLGroups',
  'BasicAuths',
  'CACertificates',
  'Certificates',
  'Consumers',
  'Documents',
  'FilterChains',
  'HMACAuths',
  'JWTAuths',
  'KeyAuths',
  'Oauth2Creds',
  'Partials',
  'Plugins',
  'RBACEndpointPermissions',
  'RBACRoles',
  'Routes',
  'SNIs',
  'Services',
  'Targets',
  'Upstreams',
  'Vaults',
]

const NO_ARGS = 'positional arguments are not valid for this command, please use flags instead'
const STATE_REQUIRED = "a state file with Kong's configuration must be specified using `-s`/`--state` flag"

// The --from/--to values convert's PreRunE accepts (cmd/file_convert.go, v1.43.0 on), per release.
export function convertFormats(version) {
  const added = [
    ['1.47.0', '2.8', '3.4'],
    ['1.51.0', '3.4', '3.10'],
    ['1.56.0', '3.10', '3.14'],
  ].filter(([since]) => atLeast(version, since))
  return {
    from: ['kong-gateway', 'kong-gateway-2.x', ...added.map(([, from]) => from)],
    to: ['konnect', 'kong-gateway-3.x', ...added.map(([, , to]) => to)],
  }
}

// cmd/utils.go validateInputFlag.
function validateInputFlag(name, value, allowed) {
  if (!allowed.includes(value)) {
    throw new DeckError(
      `invalid value '${value}' found for the '${name}' flag. Allowed values: ${goList(allowed)}`,
    )
  }
}

/** The command's PreRunE checks (Kong/deck cmd/gateway_*.go), in deck's order. */
export function preRunChecks(cmd, parsed, version) {
  const { kind, variant } = cmd
  if (kind === 'validate' && variant !== 'legacy') {
    for (const value of flagValue(parsed, 'online-entities-list') ?? []) {
      if (!ONLINE_ENTITIES.includes(value)) {
        throw new DeckError(
          `invalid value '${value}' for --online-entities-list; it should be a valid Kong entity (case-sensitive). Valid entities: ${goList(ONLINE_ENTITIES)}`,
        )
      }
    }
  }
  if (['sync', 'diff'].includes(kind) && variant === 'legacy') {
    const state = flagValue(parsed, 'state')
    if (state.length === 0) throw new DeckError(STATE_REQUIRED)
  }
  if (kind === 'convert' && atLeast(version, '1.43.0')) {
    const formats = convertFormats(version)
    validateInputFlag('from', flagValue(parsed, 'from'), formats.from)
    validateInputFlag('to', flagValue(parsed, 'to'), formats.to)
    checkDiagnostics(parsed)
  }
  if (kind === 'validate') {
    checkParallelism(parsed, version)
    checkDiagnostics(parsed)
  } else if (['sync', 'diff', 'apply'].includes(kind)) {
    checkDiagnostics(parsed)
    checkParallelism(parsed, version)
  }
}

// Go's url.ParseRequestURI, for the errors deck's root PersistentPreRunE reports.
export function parseRequestURI(raw) {
  const fail = (why) => new DeckError(`invalid URL: parse ${goQuote(raw)}: ${why}`)
  if ([...raw].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    throw fail('net/url: invalid control character in URL')
  }
  if (raw === '') throw fail('empty url')
  let scheme = ''
  let rest = raw
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]
    if (/[a-zA-Z]/.test(c)) continue
    if (/[0-9+.-]/.test(c)) {
      if (i === 0) break
      continue
    }
    if (c === ':') {
      if (i === 0) throw fail('missing protocol scheme')
      scheme = raw.slice(0, i).toLowerCase()
      rest = raw.slice(i + 1)
    }
    break
  }
  const q = rest.indexOf('?')
  if (q >= 0) rest = rest.slice(0, q)
  if (!rest.startsWith('/')) {
    if (scheme) return { scheme, opaque: rest, host: '', port: '', path: '' }
    throw fail('invalid URI for request')
  }
  let host = ''
  let path = rest
  if (scheme && rest.startsWith('//')) {
    const end = rest.indexOf('/', 2)
    host = end >= 0 ? rest.slice(2, end) : rest.slice(2)
    path = end >= 0 ? rest.slice(end) : ''
    const at = host.lastIndexOf('@')
    if (at >= 0) host = host.slice(at + 1)
    let port = ''
    if (host.startsWith('[')) {
      const close = host.indexOf(']')
      if (close < 0) throw fail("missing ']' in host")
      port = host.slice(close + 1)
      host = host.slice(1, close)
      if (port && !port.startsWith(':')) throw fail(`invalid port ${goQuote(port)} after host`)
    } else {
      const colon = host.lastIndexOf(':')
      if (colon >= 0) {
        port = host.slice(colon)
        host = host.slice(0, colon)
      }
    }
    if (port && !/^:[0-9]*$/.test(port)) throw fail(`invalid port ${goQuote(port)} after host`)
    return { scheme, host, port: port.slice(1), path }
  }
  return { scheme, host, port: '', path }
}

/**
 * Everything deck checks from the command line alone, in cobra's order: command lookup, flag parsing,
 * positional arguments, the root's --kong-addr check, the command's PreRunE, mutually exclusive flags.
 * Returns { cmd, parsed, help } or throws DeckError / CobraFindError.
 * beforeArgs(cmd, parsed) stands for deck's initConfig and returns the effective --kong-addr.
 */
export function parseCommandLine(argv, version, { beforeArgs, afterParse } = {}) {
  const root = commandTree(version)
  const { cmd, rest } = findCommand(root, argv)
  const parsed = parseFlags(cmd, rest)
  afterParse?.(cmd, parsed)
  if (flagValue(parsed, 'help') || !cmd.runnable) return { cmd, parsed, help: true }
  // cobra runs its initializers (deck's initConfig) here; it yields the effective --kong-addr.
  const addr = beforeArgs?.(cmd, parsed)
  if (cmd.args === 'none' && parsed.positional.length > 0) throw new DeckError(NO_ARGS)
  parseRequestURI(addr ?? flagValue(parsed, 'kong-addr'))
  if (cmd.emulated && cmd.kind !== 'help' && cmd.kind !== 'version') preRunChecks(cmd, parsed, version)
  validateGroups(cmd, parsed)
  return { cmd, parsed, help: false }
}

/**
 * Returns null when argv is a command line the given deck release accepts, otherwise the error text
 * deck would print after "Error: " (for the command line alone: no environment, no config file).
 * Lines on which deck only prints help (exit 0, nothing runs) and commands whose flags are not modelled
 * get a "deck double: ..." text instead of null.
 */
export function checkDeckArgv(argv, version = DEFAULT_VERSION) {
  if (!parseVersion(version)) return `deck double: unsupported deck version ${goQuote(version)}`
  try {
    const { cmd, help } = parseCommandLine(argv, version)
    if (help)
      return `deck double: ${goQuote(commandPath(cmd))} runs nothing (deck prints its help and exits 0)`
    if (!cmd.emulated) {
      return `deck double: cannot check ${goQuote(commandPath(cmd))}: its flags are not modelled`
    }
    return null
  } catch (err) {
    if (err instanceof DeckError) return err.message
    throw err
  }
}
