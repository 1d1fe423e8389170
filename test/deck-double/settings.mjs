// deck's global settings as viper resolves them (Kong/deck cmd/root.go initConfig):
// flag (when given) > DECK_* environment variable (when non-empty) > config file > flag default.

import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { extname, join } from 'node:path'

import { parse as parseYaml } from 'yaml'

import { flagChanged, flagValue } from './flags.mjs'
import { errnoText, goQuote } from './gostr.mjs'
import { atLeast } from './versions.mjs'

export const DEFAULT_KONG_ADDR = 'http://localhost:8001'

/** initConfig exits the process with a message on stdout (not "Error: ..."); this carries it. */
export class InitConfigExit extends Error {}

// viper's SupportedExts, in its search order for $HOME/.deck.<ext>.
const SUPPORTED_EXTS = [
  'json',
  'toml',
  'yaml',
  'yml',
  'properties',
  'props',
  'prop',
  'hcl',
  'tfvars',
  'dotenv',
  'env',
  'ini',
]

/** Locates and parses the config file like viper. Returns { path, data } or null when none is used. */
export function readConfigFile(configFlag, env) {
  let path = configFlag
  if (!path) {
    const home = env.HOME || homedir()
    const found = SUPPORTED_EXTS.map((ext) => join(home, `.deck.${ext}`)).find((p) => existsSync(p))
    if (!found) return null
    path = found
  }
  const ext = extname(path).slice(1)
  if (!SUPPORTED_EXTS.includes(ext)) throw new InitConfigExit(`Unsupported Config Type ${goQuote(ext)}\n`)
  let text
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new InitConfigExit(`open ${path}: ${errnoText(err)}\n`)
  }
  if (!['json', 'yaml', 'yml'].includes(ext)) {
    throw new InitConfigExit(`deck double: ${ext} config files are not emulated\n`)
  }
  let data
  try {
    data = ext === 'json' ? JSON.parse(text) : parseYaml(text)
  } catch (err) {
    throw new InitConfigExit(`While parsing config: ${err.message.split('\n')[0]}\n`)
  }
  if (data !== null && data !== undefined && (typeof data !== 'object' || Array.isArray(data))) {
    throw new InitConfigExit('While parsing config: yaml: unmarshal errors: cannot unmarshal into map\n')
  }
  // viper keys are case-insensitive.
  const lowered = {}
  for (const [k, v] of Object.entries(data ?? {})) lowered[k.toLowerCase()] = v
  return { path, data: lowered }
}

// Keys bound to flags, and the flag each is bound to (root.go binds tls-client-cert to the
// --tls-client-cert-file flag, and likewise for the key, so --tls-client-cert{,-key} are ignored).
const BINDINGS = {
  'tls-client-cert': 'tls-client-cert-file',
  'tls-client-key': 'tls-client-key-file',
  'tls-client-cert-file': null,
  'tls-client-key-file': null,
  'skip-defaults-fill': null,
}

/** viper's Get* over parsed flags, environment and config file. */
export class Settings {
  constructor(parsed, env, config) {
    this.parsed = parsed
    this.env = env
    this.config = config?.data ?? {}
  }

  // Returns { value, source } with source 'flag' | 'env' | 'config' | 'default' | 'none'.
  raw(key) {
    const flag = key in BINDINGS ? BINDINGS[key] : key
    if (flag && this.parsed.values.has(flag) && flagChanged(this.parsed, flag)) {
      return { value: flagValue(this.parsed, flag), source: 'flag' }
    }
    const envName = 'DECK_' + key.toUpperCase().replace(/[-.]/g, '_')
    const envValue = this.env[envName]
    if (envValue !== undefined && envValue !== '') return { value: envValue, source: 'env' }
    if (key in this.config && this.config[key] !== null) return { value: this.config[key], source: 'config' }
    if (flag && this.parsed.values.has(flag))
      return { value: flagValue(this.parsed, flag), source: 'default' }
    return { value: undefined, source: 'none' }
  }

  isSet(key) {
    const { source } = this.raw(key)
    return source === 'flag' || source === 'env' || source === 'config'
  }

  string(key) {
    const { value } = this.raw(key)
    if (value === undefined || value === null) return ''
    if (Array.isArray(value)) return `[${value.join(' ')}]`
    return String(value)
  }

  bool(key) {
    const { value } = this.raw(key)
    if (typeof value === 'boolean') return value
    if (typeof value === 'number') return value !== 0
    return ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(String(value ?? ''))
  }

  int(key) {
    const { value } = this.raw(key)
    if (typeof value === 'number') return Math.trunc(value)
    const n = Number.parseInt(String(value ?? '0'), 10)
    return Number.isNaN(n) ? 0 : n
  }

  stringSlice(key) {
    const { value, source } = this.raw(key)
    if (value === undefined || value === null) return []
    if (Array.isArray(value)) {
      // A flag round-trips through CSV in viper: a lone empty value reads back as no value.
      if (source === 'flag' && value.length === 1 && value[0] === '') return []
      return value.map((v) => String(v))
    }
    // cast.ToStringSlice splits strings on white space (the DECK_HEADERS caveat).
    return String(value).split(/\s+/).filter(Boolean)
  }
}

function readFileSetting(path, trimNewlines = true) {
  try {
    const text = readFileSync(path, 'utf8')
    return trimNewlines ? text.replace(/\n+$/, '') : text
  } catch (err) {
    // fmt.Printf("read file %q: %s", ...) — no newline.
    throw new InitConfigExit(`read file ${goQuote(path)}: open ${path}: ${errnoText(err)}`)
  }
}

// extendHeaders: User-Agent first, --headers entries unless a dedicated flag overrides them.
function extendHeaders(headers, version, extra) {
  const result = [`User-Agent:decK/v${version}`]
  for (const h of headers) {
    const name = h.split(':')[0].trim()
    if (!extra.some((x) => x.value !== '' && x.name.toLowerCase() === name.toLowerCase())) result.push(h)
  }
  for (const x of extra) if (x.value !== '') result.push(`${x.name}:${x.value}`)
  return result
}

/**
 * deck's initConfig: the root client configuration. Throws InitConfigExit where deck prints a
 * message on stdout and exits 1.
 */
export function initConfig(settings, version) {
  let caCert = settings.string('ca-cert')
  if (caCert === '') {
    const file = settings.string('ca-cert-file')
    if (file !== '') caCert = readFileSetting(file)
  }
  const address = settings.string('kong-addr')
  const adminToken = atLeast(version, '1.64.0') ? settings.string('kong-admin-token') : ''
  const headers = atLeast(version, '1.64.0')
    ? extendHeaders(settings.stringSlice('headers'), version, [
        { name: 'Kong-Admin-Token', value: adminToken },
      ])
    : settings.stringSlice('headers')
  let clientCert = settings.string('tls-client-cert')
  if (clientCert === '') {
    const file = settings.string('tls-client-cert-file')
    if (file !== '') clientCert = readFileSetting(file)
  }
  let clientKey = settings.string('tls-client-key')
  if (clientKey === '') {
    const file = settings.string('tls-client-key-file')
    if (file !== '') clientKey = readFileSetting(file)
  }
  if (atLeast(version, '1.11.0') && (clientCert === '') !== (clientKey === '')) {
    throw new InitConfigExit(
      'tls-client-cert and tls-client-key / tls-client-cert-file and tls-client-key-file ' +
        'must be used in conjunction but only one was provided',
    )
  }
  let konnectToken = settings.string('konnect-token')
  const tokenFile = settings.string('konnect-token-file')
  if (konnectToken === '' && tokenFile !== '') {
    let content
    try {
      content = readFileSync(tokenFile, 'utf8')
    } catch (err) {
      throw new InitConfigExit(`read file ${goQuote(tokenFile)}: open ${tokenFile}: ${errnoText(err)}\n`)
    }
    if (content.length === 0) throw new InitConfigExit(`file ${goQuote(tokenFile)}: empty\n`)
    konnectToken = content.replace(/\n+$/, '')
  }
  const noColorSet = settings.isSet('no-color')
  return {
    address,
    headers,
    caCert,
    clientCert,
    clientKey,
    tlsSkipVerify: settings.bool('tls-skip-verify'),
    tlsServerName: settings.string('tls-server-name'),
    skipWorkspaceCrud: settings.bool('skip-workspace-crud'),
    timeout: settings.int('timeout'),
    verbose: settings.int('verbose'),
    // fatih/color: off without a terminal, unless --no-color=false (or its env/config) forces it on.
    color: noColorSet
      ? !settings.bool('no-color')
      : Boolean(process.stdout.isTTY) && process.env.TERM !== 'dumb',
    konnectToken,
    konnectDesired: settings.isSet('konnect-addr'),
    konnectAddress: settings.string('konnect-addr'),
    konnectControlPlane: settings.string('konnect-control-plane-name'),
    konnectRuntimeGroup: settings.string('konnect-runtime-group-name'),
    konnectEmail: settings.string('konnect-email'),
    konnectPassword: settings.string('konnect-password'),
    // initKonnectConfig: extendHeaders(headers) alone, so no Kong-Admin-Token.
    konnectHeaders: extendHeaders(settings.stringSlice('headers'), version, []),
  }
}
