// The commands the double runs: version, ping, dump and validate, following Kong/deck cmd/*.go, and
// the helpers diff, sync and apply (sync.mjs) share with them. reset parses and checks its flags but
// is not emulated.

import { X509Certificate } from 'node:crypto'
import { closeSync, existsSync, openSync } from 'node:fs'
import { extname } from 'node:path'

import { getContent } from './content.mjs'
import { goStruct, shuffleTree, toGoJSON, toGoYAML } from './encode.mjs'
import { commandPath, flagChanged, flagValue } from './flags.mjs'
import { AdminClient, HttpFailure } from './gateway.mjs'
import { DeckError, errnoText, goQuote } from './gostr.mjs'
import {
  dumpControlPlaneName,
  inKonnectMode,
  KONNECT_KONG_VERSION,
  konnectVisible,
  openControlPlane,
  pingKonnect,
  readControlPlane,
} from './konnect.mjs'
import { flattenWorkspace, formatVersionFor, selectEntities, writeContent } from './state.mjs'
import { buildState, ONLINE_COLLECTIONS, onlineEntities } from './validate.mjs'
import { readAllStdin, readLineStdin, writeAll } from './io.mjs'
import { atLeast, commitFor } from './versions.mjs'

export const yellow = (ctx, text) => (ctx.rootConfig?.color ? `\x1b[33m${text}\x1b[0m` : text)
export const red = (ctx, text) => (ctx.rootConfig?.color ? `\x1b[31m${text}\x1b[0m` : text)

// ---- notices of the deprecated top-level commands (Kong/deck cmd/gateway_*.go) ----

const MOVED = {
  ping:
    "Info: 'deck ping' functionality has moved to 'deck gateway ping' and will be removed\n" +
    "in a future MAJOR version of deck. Migration to 'deck gateway ping' is recommended.\n",
  reset:
    "Info: 'deck reset' functionality has moved to 'deck gateway reset' and will be removed\n" +
    "in a future MAJOR version of deck. Migration to 'deck gateway reset' is recommended.\n",
  dump:
    "Info: 'deck dump' functionality has moved to 'deck gateway dump' and will be removed\n" +
    "in a future MAJOR version of deck. Migration to 'deck gateway dump' is recommended.\n" +
    "   Note: - see 'deck gateway dump --help' for changes to the command\n" +
    "         - the default changed from 'kong.yaml' to '-' (stdin/stdout)\n",
  validate:
    "Info: 'deck validate' functionality has moved to 'deck [file|gateway] validate' and\n" +
    'will be removed  in a future MAJOR version of deck.\n' +
    "Migration to 'deck [file|gateway] validate' is recommended.\n" +
    "   Note: - see 'deck [file|gateway] validate --help' for changes to the command\n" +
    "         - files changed to positional arguments without the '-s/--state' flag\n" +
    "         - the '--online' flag is removed, use either 'deck file' or 'deck gateway'\n" +
    "         - the default changed from 'kong.yaml' to '-' (stdin/stdout)\n",
}
for (const kind of ['sync', 'diff']) {
  MOVED[kind] =
    `Info: 'deck ${kind}' functionality has moved to 'deck gateway ${kind}' and will be removed\n` +
    `in a future MAJOR version of deck. Migration to 'deck gateway ${kind}' is recommended.\n` +
    `   Note: - see 'deck gateway ${kind} --help' for changes to the command\n` +
    "         - files changed to positional arguments without the '-s/--state' flag\n" +
    "         - the default changed from 'kong.yaml' to '-' (stdin/stdout)\n"
}

export function legacyNotice(ctx) {
  const { cmd, version } = ctx
  if (cmd.variant !== 'legacy' || !atLeast(version, '1.28.0')) return
  if (atLeast(version, '1.30.0')) return ctx.err(MOVED[cmd.kind])
  const target = cmd.kind === 'validate' ? 'gateway validate' : `gateway ${cmd.kind}`
  const text = `Warning: 'deck ${cmd.kind}' is DEPRECATED and will be removed in a future version. Use 'deck ${target}' instead.\n`
  // v1.28.0 printed it in yellow on stdout, v1.28.1 moved it to stderr.
  if (version === '1.28.0') ctx.out(yellow(ctx, text))
  else ctx.err(text)
}

// ---- talking to Kong ----

// GDR utils.GetKongClient: TLS settings, then headers, are checked before any request.
export function kongClient(ctx) {
  const { rootConfig } = ctx
  if (rootConfig.caCert) {
    const blocks =
      rootConfig.caCert.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []
    const ok = blocks.some((b) => {
      try {
        return Boolean(new X509Certificate(b))
      } catch {
        return false
      }
    })
    if (!ok) throw new DeckError('failed to load TLS config: failed to load TLSCACert')
  }
  // tls.X509KeyPair's first complaint (the pair itself is not checked further).
  const { clientCert, clientKey } = rootConfig
  if (clientCert && clientKey) {
    const missing = !/-----BEGIN [A-Z ]+-----/.test(clientCert)
      ? 'certificate'
      : !/-----BEGIN [A-Z ]+-----/.test(clientKey)
        ? 'key'
        : null
    if (missing) {
      throw new DeckError(
        `failed to load TLS config: failed to load client certificate: tls: failed to find any PEM data in ${missing} input`,
      )
    }
  }
  for (const h of rootConfig.headers) {
    if (!h.includes(':')) throw new DeckError(`parsing headers: splitting header key-value '${h}'`)
  }
  return new AdminClient(ctx.gateway, rootConfig.address, rootConfig.headers)
}

// deck's fetchKongVersion: GET /, falling back to /<workspace>/kong for workspace-scoped RBAC users.
export function fetchKongVersion(ctx, workspace) {
  const client = kongClient(ctx)
  try {
    return client.root()
  } catch (err) {
    if (!(err instanceof HttpFailure) || !workspace) throw err
    // The root command already accepted the address as a request URI; only the scheme is left to check.
    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(ctx.rootConfig.address)?.[1]?.toLowerCase() ?? ''
    if (scheme !== 'http' && scheme !== 'https') {
      throw new DeckError(`invalid scheme ${goQuote(scheme)} in Kong address: must be http or https`)
    }
    if (!/^[a-zA-Z0-9._\-~]+$/.test(workspace)) {
      throw new DeckError(
        `invalid workspace name ${goQuote(workspace)}: only alphanumerics or '.', '-', '_', and '~' are accepted`,
      )
    }
    return client.root(workspace)
  }
}

// deck's workspaceExists (Kong mode).
export function workspaceExists(ctx, name) {
  if (!name || ctx.rootConfig.skipWorkspaceCrud) return true
  try {
    return kongClient(ctx).workspaceExists(name)
  } catch (err) {
    if (err instanceof HttpFailure) throw new DeckError(`checking if workspace exists: ${err.message}`)
    throw err
  }
}

export function wrapHttp(prefix, fn) {
  try {
    return fn()
  } catch (err) {
    if (err instanceof HttpFailure || err instanceof DeckError) throw new DeckError(`${prefix}${err.message}`)
    throw err
  }
}

// ---- commands ----

export function runVersion(ctx) {
  ctx.out(`decK v${ctx.version} (${commitFor(ctx.version)}) \n`)
}

export function runPing(ctx) {
  legacyNotice(ctx)
  if (inKonnectMode(ctx.rootConfig)) return pingKonnect(ctx)
  const workspace = flagValue(ctx.parsed, 'workspace') ?? ''
  const version = wrapHttp('reading Kong version: ', () => fetchKongVersion(ctx, workspace))
  ctx.out('Successfully connected to Kong!\n')
  ctx.out(`Kong version:  ${version}\n`)
}

// fmt.Scanln into one string, as GDR's utils.Confirm reads the answer.
function scanln() {
  const line = readLineStdin()
  if (line === '') throw new DeckError('EOF')
  const words = line
    .replace(/\r?\n$/, '')
    .trim()
    .split(/[ \t]+/)
    .filter(Boolean)
  if (words.length === 0) throw new DeckError('unexpected newline')
  if (words.length > 1) throw new DeckError('expected newline')
  return words[0]
}

export function confirm(ctx, message) {
  ctx.out(message)
  const answer = scanln().toLowerCase()
  return answer === 'yes' || answer === 'y'
}

const addExt = (filename, ext) => (extname(filename) === '' ? `${filename}.${ext}` : filename)

// GDR utils.ConfirmFileOverwrite.
export function confirmOverwrite(ctx, filename, ext, yes) {
  if (yes) return true
  const name = addExt(filename, ext)
  if (!existsSync(name)) return true
  return confirm(ctx, `File '${name}' already exists. Do you want to overwrite it? `)
}

function kongState(ctx, client, workspace, opts) {
  const content = wrapHttp('reading configuration from Kong: services: ', () =>
    client.workspaceContent(workspace),
  )
  const raw = flattenWorkspace(content)
  try {
    return selectEntities(raw, opts)
  } catch (err) {
    if (err instanceof DeckError) throw new DeckError(`reading configuration from Kong: ${err.message}`)
    throw err
  }
}

// Which basic-auth rule the release's reconciler applies (GDR writer.go, #342 and #431).
function basicAuthIdRule(version) {
  if (!atLeast(version, '1.52.0')) return 'none'
  return atLeast(version, '1.57.0') ? 'warn' : 'force'
}

export function serialise(ctx, content, format) {
  let tree = goStruct('content', content)
  const seed = ctx.env.DECK_DOUBLE_SHUFFLE
  const shuffled = seed !== undefined && seed !== '' && seed !== '0'
  if (shuffled) tree = shuffleTree(tree, seed)
  if (format === 'JSON') return toGoJSON(tree)
  if (format === 'YAML') return toGoYAML(tree, { sortKeys: !shuffled })
  throw new DeckError(`unknown file format: ${format}`)
}

// GDR file.WriteContentToFile ("-" is stdout); DECK_DOUBLE_FAIL=crash dies half-way through.
export function writeOutput(ctx, text, filename, format) {
  const crash = ctx.env.DECK_DOUBLE_FAIL === 'crash'
  const data = Buffer.from(text)
  const part = crash ? data.subarray(0, Math.floor(data.length / 2)) : data
  if (filename === '-') {
    ctx.out(part)
  } else {
    const name = addExt(filename, format.toLowerCase())
    try {
      const fd = openSync(name, 'w', 0o600)
      try {
        writeAll(fd, part)
      } finally {
        closeSync(fd)
      }
    } catch (err) {
      throw new DeckError(`writing file: open ${name}: ${errnoText(err)}`)
    }
  }
  if (crash) process.kill(process.pid, 'SIGKILL')
}

export function runDump(ctx) {
  legacyNotice(ctx)
  const { parsed, version } = ctx
  let format = flagValue(parsed, 'format')
  if (atLeast(version, '1.62.0') && !flagChanged(parsed, 'format') && ctx.env.DECK_FORMAT)
    format = ctx.env.DECK_FORMAT
  const filename = flagValue(parsed, 'output-file')
  const yes = flagValue(parsed, 'yes') ?? false
  if (!confirmOverwrite(ctx, filename, format, yes)) return
  for (const flag of ['skip-defaults', 'sanitize', 'include-plugin-definitions']) {
    if (flagValue(parsed, flag)) throw new DeckError(`deck double: --${flag} is not emulated`)
  }
  const workspace = flagValue(parsed, 'workspace') ?? ''
  const opts = {
    selectTags: flagValue(parsed, 'select-tag') ?? [],
    skipConsumers: flagValue(parsed, 'skip-consumers') ?? false,
    skipCaCertificates: flagValue(parsed, 'skip-ca-certificates') ?? false,
    skipConsumersWithConsumerGroups: flagValue(parsed, 'skip-consumers-with-consumer-groups') ?? false,
    rbacResourcesOnly: flagValue(parsed, 'rbac-resources-only') ?? false,
  }
  const upper = String(format).toUpperCase()
  const write = (state, ws, name, kongVersion, controlPlaneName) => {
    const content = writeContent(state, {
      workspace: ws,
      controlPlaneName,
      selectTags: opts.selectTags,
      withId: flagValue(parsed, 'with-id'),
      formatVersion: formatVersionFor(kongVersion),
      policyOverrides: flagValue(parsed, 'consumer-group-policy-overrides') ?? false,
      basicAuthIdRule: basicAuthIdRule(version),
      warn: (w) => ctx.err(yellow(ctx, w) + '\n'),
    })
    writeOutput(ctx, serialise(ctx, content, upper), name, upper)
  }
  if (inKonnectMode(ctx.rootConfig)) {
    if (workspace || flagValue(parsed, 'all-workspaces')) {
      throw new DeckError('deck double: workspaces in Konnect mode are not emulated')
    }
    const name = dumpControlPlaneName(ctx.rootConfig)
    const session = openControlPlane(ctx, name)
    const state = wrapHttp('reading configuration: ', () => {
      const raw = wrapHttp('services: ', () => readControlPlane(ctx, session, flattenWorkspace))
      return selectEntities(konnectVisible(raw), opts)
    })
    write(state, '', filename, KONNECT_KONG_VERSION, name)
    return
  }
  const client = kongClient(ctx)
  const kongVersion = wrapHttp('reading Kong version: ', () => fetchKongVersion(ctx, workspace))
  if (flagValue(parsed, 'all-workspaces')) {
    const names = wrapHttp('fetching workspaces from Kong: ', () => client.listWorkspaces())
    for (const ws of names) {
      const exists = wrapHttp(`getting Kong client for workspace '${ws}': `, () => workspaceExists(ctx, ws))
      if (!exists)
        throw new DeckError(
          `getting Kong client for workspace '${ws}': workspace '${ws}' does not exist in Kong`,
        )
      const state = wrapHttp(`getting Kong state for workspace '${ws}': `, () =>
        kongState(ctx, client, ws, opts),
      )
      write(state, ws, ws, kongVersion)
    }
    return
  }
  if (workspace && !workspaceExists(ctx, workspace)) {
    throw new DeckError(`workspace '${workspace}' does not exist in Kong`)
  }
  const state = wrapHttp('getting Kong state: ', () => kongState(ctx, client, workspace, opts))
  write(state, workspace, filename, kongVersion)
}

// deck's validate.getEntityNameOrID: the Name field when the type has one (an unset one prints as
// reflect's "<invalid Value>"), the ID otherwise.
const HAS_NAME = new Set([
  'services',
  'routes',
  'plugins',
  'upstreams',
  'snis',
  'partials',
  'vaults',
  'oauth2_credentials',
])

function validateOnline(ctx, client, content, raw) {
  const formatError = semverTolerantError(content._format_version || '1.1')
  if (formatError) throw new DeckError(`parsing Kong version: ${formatError}`)
  const filter = flagValue(ctx.parsed, 'online-entities-list') ?? []
  const entities = onlineEntities(content, raw)
  const errors = []
  const prefix = ctx.validateWorkspace ? `/${ctx.validateWorkspace}` : ''
  for (const [field, type] of ONLINE_COLLECTIONS) {
    if (filter.length && !filter.includes(field)) continue
    for (const e of entities[type] ?? []) {
      const label = HAS_NAME.has(type) ? (e.name ?? '<invalid Value>') : e.id
      try {
        client.request('POST', `${prefix}/schemas/${type}/validate`)
      } catch (err) {
        if (!(err instanceof HttpFailure)) throw err
        errors.push(`validate entity '${type} (${label})': ${err.message}`)
      }
    }
  }
  if (errors.length) throw new DeckError(errors.join('\n'))
}

// blang/semver's ParseTolerant, for the error it reports on a bad _format_version.
function semverTolerantError(text) {
  let parts = String(text).trim().replace(/^v/, '').split('.')
  parts = [parts[0], parts[1], parts.slice(2).join('.')].filter((p) => p !== undefined && p !== '')
  parts = parts.map((p) =>
    p.length > 1
      ? /^[0-9]/.test(p.replace(/^0+/, ''))
        ? p.replace(/^0+/, '')
        : '0' + p.replace(/^0+/, '')
      : p,
  )
  if (parts.length < 3 && /[+-]/.test(parts[parts.length - 1] ?? '')) {
    return 'Short version cannot contain PreRelease/Build meta data'
  }
  while (parts.length < 3) parts.push('0')
  if (!/^[0-9]+$/.test(parts[0])) return `Invalid character(s) found in major number ${goQuote(parts[0])}`
  if (!/^[0-9]+$/.test(parts[1])) return `Invalid character(s) found in minor number ${goQuote(parts[1])}`
  const patch = parts[2].split(/[-+]/)[0]
  if (!/^[0-9]+$/.test(patch)) return `Invalid character(s) found in patch number ${goQuote(patch)}`
  return null
}

export function runValidate(ctx) {
  legacyNotice(ctx)
  const { parsed, cmd } = ctx
  const online = cmd.variant === 'gateway' || (cmd.variant === 'legacy' && flagValue(parsed, 'online'))
  let files
  if (cmd.variant === 'legacy') {
    const state = flagValue(parsed, 'state')
    files = Array.isArray(state) ? state : [state]
  } else files = parsed.positional.length ? parsed.positional : ['-']
  const content = getContent(files, ctx.env, readAllStdin)
  const lookup = content._info?.default_lookup_tags
  if (lookup && !online) {
    throw new DeckError(
      '[default_lookup_tags] not supported for offline validation, use `deck gateway validate` command instead',
    )
  }
  let client
  if (online) {
    if (inKonnectMode(ctx.rootConfig))
      throw new DeckError('deck double: online validation in Konnect mode is not emulated')
    let workspace = flagValue(parsed, 'workspace') ?? ''
    if (!workspace && content._workspace) workspace = content._workspace
    if (workspace) {
      if (content._workspace !== workspace) {
        ctx.out(
          red(
            ctx,
            `Warning: Workspace '${workspace}' specified via --workspace flag is different from workspace '${content._workspace ?? ''}' found in state file(s).\n`,
          ),
        )
      }
      if (!workspaceExists(ctx, workspace)) throw new DeckError(`workspace doesn't exist: ${workspace}`)
    }
    ctx.validateWorkspace = workspace
    client = kongClient(ctx)
    if (lookup) throw new DeckError('deck double: default_lookup_tags are not emulated')
  }
  const raw = buildState(content, flagValue(parsed, 'rbac-resources-only') ?? false)
  if (flagValue(parsed, 'konnect-compatibility'))
    throw new DeckError('deck double: --konnect-compatibility is not emulated')
  if (online) validateOnline(ctx, client, content, raw)
}

/** reset: flags are fully checked, the operation itself is not emulated. */
export function runNotEmulated(ctx) {
  legacyNotice(ctx)
  const { cmd, parsed } = ctx
  if (cmd.kind === 'reset' && flagValue(parsed, 'all-workspaces') && flagValue(parsed, 'workspace')) {
    throw new DeckError('workspace cannot be specified with --all-workspace flag')
  }
  throw new DeckError(`deck double: ${commandPath(cmd).replace(/^deck /, '')} not emulated yet`)
}

/** A short cobra-style help text (deck's own help is longer; nothing parses it). */
export function helpText(cmd, flagSet) {
  const path = commandPath(cmd)
  const lines = []
  if (cmd.children.length) {
    lines.push('Usage:', `  ${path} [command]`, '', 'Available Commands:')
    for (const c of cmd.children) lines.push(`  ${c.name}`)
  } else lines.push('Usage:', `  ${path} [flags]`)
  lines.push('', 'Flags:')
  for (const f of flagSet(cmd).filter((s) => !s.hidden)) {
    lines.push(`  ${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.type === 'bool' ? '' : ` ${f.type}`}`)
  }
  return lines.join('\n') + '\n'
}
