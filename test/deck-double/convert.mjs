// `deck file convert` and the legacy `deck convert`. Sources: Kong/deck cmd/file_convert.go (executeConvert,
// newConvertCmd; cmd/convert.go before v1.25.0), convert/convert.go (ParseFormat, Convert and the
// convertKongGateway* functions), convert/route_updates.go, convert/plugin_updates.go,
// convert/plugin_updates_310.go, convert/route_updates_314.go, convert/service_updates_314.go,
// convert/plugin_updates_314.go and convert/plugin_names.go at v1.65.1 (the lint pass: convert-lint.mjs), with
// the releases that differed: v1.47.0-v1.57.3 (no conflict check), v1.56.0-v1.57.2 (ssl_verify), v1.63.0 (solace);
// GDR pkg/utils/utils.go (IsPathRegexLike), pkg/cprint (UpdatePrintf/DeletePrintf: stdout),
// pkg/file/writer.go (WriteContentToFile).

import { randomInt } from 'node:crypto'

import { confirmOverwrite, red, serialise, writeOutput, yellow } from './commands.mjs'
import { getContent } from './content.mjs'
import { lintConvertInput } from './convert-lint.mjs'
import { flagChanged, flagValue } from './flags.mjs'
import { DeckError } from './gostr.mjs'
import { readAllStdin } from './io.mjs'
import { GoPanic } from './state.mjs'
import { atLeast } from './versions.mjs'

// convert.ParseFormat's formats, with the release that added each.
const FORMATS = [
  ['kong-gateway', '1.8.0'],
  ['konnect', '1.8.0'],
  ['kong-gateway-2.x', '1.15.0'],
  ['kong-gateway-3.x', '1.15.0'],
  ['distributed', '1.15.0'],
  ['2.8', '1.47.0'],
  ['3.4', '1.47.0'],
  ['3.10', '1.51.0'],
  ['3.14', '1.56.0'],
]

// The pairs convert.Convert converts that the double emulates, with the release that added each.
const PAIRS = [
  {
    from: 'kong-gateway-2.x',
    to: 'kong-gateway-3.x',
    since: '1.15.0',
    run: (c, p, f) => convert2xTo3x(c, p, f, true),
  },
  { from: '2.8', to: '3.4', since: '1.47.0', run: convert28To34 },
  { from: '3.4', to: '3.10', since: '1.51.0', run: convert34To310 },
  { from: '3.10', to: '3.14', since: '1.56.0', run: convert310To314 },
]
const NOT_EMULATED = ['konnect', 'distributed']

const MOVED =
  "Info: 'deck convert' functionality has moved to 'deck file convert' and will be removed\n" +
  "in a future MAJOR version of deck. Migration to 'deck file convert' is recommended.\n" +
  "   Note: - see 'deck file convert --help' for changes to the command\n" +
  "         - files changed to positional arguments without the '-s/--state' flag\n" +
  "         - the default changed from 'kong.yaml' to '-' (stdin/stdout)\n"

function parseFormat(key, version) {
  const format = key.toLowerCase()
  if (FORMATS.some(([name, since]) => name === format && atLeast(version, since))) return format
  throw new DeckError(`invalid format: '${key}'`)
}

export function runConvert(ctx) {
  const { cmd, parsed, version } = ctx
  if (cmd.variant === 'legacy' && atLeast(version, '1.28.0')) ctx.err(MOVED)
  let format = flagValue(parsed, 'format') ?? 'yaml'
  if (atLeast(version, '1.62.0') && !flagChanged(parsed, 'format') && ctx.env.DECK_FORMAT)
    format = ctx.env.DECK_FORMAT
  const from = parseFormat(flagValue(parsed, 'from'), version)
  const to = parseFormat(flagValue(parsed, 'to'), version)
  const input = flagValue(parsed, 'input-file')
  const output = flagValue(parsed, 'output-file')
  if (input !== '') {
    // v1.57.2 cmd/file_convert.go: GDR's EnvVarsSkip leaves `${{ ... }}` in the input as written.
    const expandEnvVars = !(flagValue(parsed, 'no-expand-env-vars') ?? false)
    if (!confirmOverwrite(ctx, output, '', flagValue(parsed, 'yes') ?? false)) return
    try {
      convertFile(ctx, input, output, format.toUpperCase(), from, to, expandEnvVars)
    } catch (err) {
      if (err instanceof DeckError && !err.message.startsWith('deck double:'))
        throw new DeckError(`converting file: ${err.message}`)
      throw err
    }
  } else if (from === 'kong-gateway-2.x' && to === 'kong-gateway-3.x') {
    throw new DeckError('deck double: converting the files of the working directory is not emulated')
  }
  if (to === 'konnect') {
    ctx.err(
      'Warning: konnect format type was deprecated in v1.12 and it will be removed\n' +
        'in a future version. Please use your Kong configuration files with deck <cmd>.\n' +
        'Please see https://docs.konghq.com/konnect/getting-started/import/.\n',
    )
  }
}

function convertFile(ctx, input, output, format, from, to, expandEnvVars) {
  if (NOT_EMULATED.includes(from) || NOT_EMULATED.includes(to))
    throw new DeckError(`deck double: converting from '${from}' to '${to}' is not emulated`)
  const content = getContent([input], ctx.env, readAllStdin, { expandEnvVars })
  const pair = PAIRS.find((p) => p.from === from && p.to === to && atLeast(ctx.version, p.since))
  if (!pair) throw new DeckError(`cannot convert from '${from}' to '${to}' format`)
  const print = (text) => ctx.out(yellow(ctx, text))
  const printError = (text) => ctx.out(red(ctx, text))
  const converted = pair.run(structuredClone(content), { print, printError, version: ctx.version }, input)
  // A lint error (v1.47.0-v1.50.x: no ruleset in the working directory) returns before the output is written.
  lintConvertInput(ctx, from, to, input)
  writeOutput(ctx, serialise(ctx, converted, format), output, format)
}

const FINAL_WARNING = (link) =>
  '\nThese automatic changes may not be correct or exhaustive enough, please\n' +
  'perform a manual audit of the config file.\n\n' +
  'For related information, please visit:\n' +
  `${link}\n\n`

// ---- 2.x -> 3.x (convertKongGateway2xTo3x) ----

// GDR utils.IsPathRegexLike: any character outside an unreserved path.
const PATH_REGEX_LIKE = /[^a-zA-Z0-9._~/%-]/

function convert2xTo3x(content, out, filename, printFinalWarning) {
  const changed = []
  // Only routes nested under services: top-level routes are not looked at.
  for (const service of content.services ?? []) {
    for (const route of service.routes ?? []) {
      let hasChanged = false
      if (!route.paths) continue
      route.paths = route.paths.map((path) => {
        if (path.startsWith('~/') || !PATH_REGEX_LIKE.test(path)) return path
        hasChanged = true
        return '~' + path
      })
      if (!hasChanged) continue
      const label = route.id ?? route.name
      if (label === undefined || label === null)
        throw new GoPanic('runtime error: invalid memory address or nil pointer dereference')
      changed.push(label)
    }
  }
  if (changed.length > 0) {
    out.print(
      `From the '${filename}' config file,\n` +
        `${changed.length} unsupported routes' paths format with Kong version 3.0\n` +
        'or above were detected. Some of these routes are (not an exhaustive list):\n\n' +
        `${changed.slice(0, 10).join('\n')}\n\n` +
        'Kong gateway versions 3.0 and above require that regular expressions\n' +
        "start with a '~' character to distinguish from simple prefix match.\n" +
        "In order to make these paths compatible with 3.x, a '~' prefix has been added.\n\n",
    )
  }
  generateAutoFields(content)
  out.print(
    `From the '${filename}' config file,\n` +
      `the _format_version field has been migrated from '${content._format_version ?? ''}' to '3.0'.\n\n`,
  )
  content._format_version = '3.0'
  if (printFinalWarning) out.print(FINAL_WARNING('https://docs.konghq.com/deck/latest/3.0-upgrade'))
  return content
}

// plugin_updates.go generateAutoFields: rate-limiting-advanced gets a random 32-character namespace
// (top-level, service, top-level route, consumer and consumer-group plugins; not those of nested routes).
const NAMESPACE_CHARSET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzj'

function generateAutoFields(content) {
  const plugins = [
    ...(content.plugins ?? []),
    ...(content.services ?? []).flatMap((s) => s.plugins ?? []),
    ...(content.routes ?? []).flatMap((r) => r.plugins ?? []),
    ...(content.consumers ?? []).flatMap((c) => c.plugins ?? []),
    ...(content.consumer_groups ?? []).flatMap((g) => g.plugins ?? []),
  ]
  for (const plugin of plugins) {
    if (plugin.name !== 'rate-limiting-advanced' || !isObject(plugin.config)) continue
    if (plugin.config.namespace === undefined || plugin.config.namespace === null) {
      let ns = ''
      for (let i = 0; i < 32; i++) ns += NAMESPACE_CHARSET[randomInt(NAMESPACE_CHARSET.length)]
      plugin.config.namespace = ns
    }
  }
}

// ---- plugin traversal (updatePlugins, updatePluginsFor310, updatePluginsFor314) ----

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)

// Plugins in deck's order. Consumer-group plugins are updated through a temporary FPlugin whose new
// config is dropped (`lost`): deck prints its messages, the file keeps the old config.
function eachPlugin(content, fn) {
  for (const p of content.plugins ?? []) fn(p, false)
  for (const s of content.services ?? []) {
    for (const p of s.plugins ?? []) fn(p, false)
    for (const r of s.routes ?? []) for (const p of r.plugins ?? []) fn(p, false)
  }
  for (const r of content.routes ?? []) for (const p of r.plugins ?? []) fn(p, false)
  for (const c of content.consumers ?? []) for (const p of c.plugins ?? []) fn(p, false)
  for (const g of content.consumer_groups ?? []) for (const p of g.plugins ?? []) fn(p, true)
}

// updateLegacyPluginConfig and updateLegacyPluginConfigFor310: work on a copy of the config, kept
// unless the plugin is a consumer group's.
function updateCopy(content, update) {
  eachPlugin(content, (plugin, lost) => {
    if (!isObject(plugin.config)) return
    const config = structuredClone(plugin.config)
    update(config, plugin.name ?? '')
    if (!lost) plugin.config = config
  })
}

const isEmpty = (v) =>
  v === undefined ||
  v === null ||
  (Array.isArray(v) && v.length === 0) ||
  (isObject(v) && Object.keys(v).length === 0)

// plugin_updates.go updateLegacyFieldToNewField (dotted paths).
function moveField(config, oldField, newField, pluginName, out) {
  const oldKeys = oldField.split('.')
  const newKeys = newField.split('.')
  let current = config
  for (const key of oldKeys.slice(0, -1)) {
    if (!isObject(current[key])) return
    current = current[key]
  }
  const oldKey = oldKeys[oldKeys.length - 1]
  if (!Object.hasOwn(current, oldKey)) return
  const value = current[oldKey]
  delete current[oldKey]
  current = config
  for (const key of newKeys.slice(0, -1)) {
    if (!isObject(current[key])) current[key] = {}
    current = current[key]
  }
  const newKey = newKeys[newKeys.length - 1]
  const message = `Automatically converted legacy configuration field "${oldField}" to the new field "${newField}" in plugin ${pluginName}\n`
  // Before v1.58.0 (plugin_updates.go at v1.57.3) the legacy value replaced the new one, even when empty.
  if (Object.hasOwn(current, newKey) && atLeast(out.version, '1.58.0')) {
    if (isEmpty(value)) return
    if (!isEmpty(current[newKey])) {
      throw new DeckError(
        `conflicting fields: both legacy field "${oldField}" and new field "${newField}" have values in plugin ${pluginName}`,
      )
    }
  }
  current[newKey] = value
  out.print(message)
}

// ---- 2.8 -> 3.4 (convertKongGateway28xTo34x) ----

function convert28To34(content, out, filename) {
  convert2xTo3x(content, out, filename, false)
  updateCopy(content, (config, name) => {
    moveField(config, 'blacklist', 'deny', name, out)
    moveField(config, 'whitelist', 'allow', name, out)
    if (name === 'aws-lambda' && Object.hasOwn(config, 'proxy_scheme')) {
      delete config.proxy_scheme
      out.print(`Automatically removed deprecated config field "proxy_scheme" from plugin ${name}\n`)
    }
    if (name === 'pre-function' || name === 'post-function')
      moveField(config, 'functions', 'access', name, out)
  })
  out.print(FINAL_WARNING('https://docs.konghq.com/deck/latest/3.0-upgrade'))
  return content
}

// ---- 3.4 -> 3.10 (convertKongGateway34xTo310x); _format_version is left as it is ----

const REDIS_PLUGINS = [
  'rate-limiting-advanced',
  'ai-rate-limiting-advanced',
  'graphql-proxy-cache-advanced',
  'graphql-rate-limiting-advanced',
  'proxy-cache-advanced',
]
const MODEL_PLUGINS = [
  'ai-proxy',
  'ai-proxy-advanced',
  'ai-rag-injector',
  'ai-request-transformer',
  'ai-response-transformer',
  'ai-semantic-cache',
  'ai-semantic-prompt-guard',
]

// Go's %T of a decoded JSON value.
function goTypeName(v) {
  if (v === null || v === undefined) return '<nil>'
  if (Array.isArray(v)) return '[]interface {}'
  if (isObject(v)) return 'map[string]interface {}'
  return { string: 'string', number: 'float64', boolean: 'bool' }[typeof v]
}

// plugin_updates.go convertScalarToList, including its messages for the path it walks.
function scalarToList(config, field, name, out) {
  const keys = field.split('.')
  let current = config
  keys.forEach((key, i) => {
    if (i === keys.length - 1) {
      if (!Object.hasOwn(current, key)) return
      const v = current[key]
      if (typeof v === 'string' || typeof v === 'number') current[key] = [v]
      else out.printError(`ERROR: Unexpected type for field "${field}" in plugin ${name}: ${goTypeName(v)}\n`)
    } else if (isObject(current[key])) {
      current = current[key]
      out.print(
        `Automatically converted configuration field "${field}" from a single value to a list in plugin ${name}\n`,
      )
    } else {
      out.print(`Field "${field}" in plugin ${name} is not a nested object as expected\n`)
    }
  })
}

function convert34To310(content, out) {
  updateCopy(content, (config, name) => {
    if (REDIS_PLUGINS.includes(name)) {
      moveField(config, 'redis.cluster_addresses', 'redis.cluster_nodes', name, out)
      moveField(config, 'redis.sentinel_addresses', 'redis.sentinel_nodes', name, out)
    }
    if (name === 'ai-rate-limiting-advanced') {
      scalarToList(config, 'llm_providers.window_size', name, out)
      scalarToList(config, 'llm_providers.limit', name, out)
    }
    if (MODEL_PLUGINS.includes(name))
      moveField(config, 'model.options.upstream_path', 'model.options.upstream_url', name, out)
  })
  out.print(FINAL_WARNING('https://docs.konghq.com/deck/latest/3.10-upgrade'))
  return content
}

// ---- 3.10 -> 3.14 (convertKongGateway310xTo314x): the old defaults of "secure by default" spelt out ----

const HIDE_CREDENTIALS = [
  'key-auth',
  'key-auth-enc',
  'basic-auth',
  'hmac-auth',
  'ldap-auth',
  'oauth2',
  'oauth2-introspection',
  'vault-auth',
  'ldap-auth-advanced',
]
const VECTOR_DB = ['vectordb.pgvector.ssl_verify', 'vectordb.redis.ssl_verify']
const KAFKA = ['security.ssl_verify', 'schema_registry.confluent.authentication.oauth2_client.ssl_verify']
const SOLACE = ['session.ssl_validate_certificate']
const REDIS = ['redis.ssl_verify']
// plugin_updates_314.go sslVerifyPluginConfigSetters; DATAKIT_NODES is newDatakitNodeSSLVerifySetter.
const DATAKIT_NODES = 'nodes[].ssl_verify'
// plugin_updates_314.go at v1.63.0 added the solace setters.
const SOLACE_SINCE = '1.63.0'
const SSL_VERIFY = {
  ace: ['rate_limiting.redis.ssl_verify'],
  acme: ['storage_config.redis.ssl_verify'],
  'ai-aws-guardrail': ['ssl_verify'],
  'ai-azure-content-safety': ['ssl_verify'],
  'ai-proxy-advanced': VECTOR_DB,
  'ai-rag-injector': VECTOR_DB,
  'ai-rate-limiting-advanced': REDIS,
  'ai-semantic-cache': VECTOR_DB,
  'ai-semantic-prompt-guard': VECTOR_DB,
  'ai-semantic-response-guard': VECTOR_DB,
  'aws-lambda': ['ssl_verify'],
  'azure-functions': ['https_verify'],
  'basic-auth': ['brute_force_protection.redis.ssl_verify'],
  confluent: KAFKA,
  'confluent-consume': KAFKA,
  datakit: [DATAKIT_NODES, 'resources.cache.redis.ssl_verify'],
  'forward-proxy': ['https_verify'],
  'graphql-proxy-cache-advanced': REDIS,
  'graphql-rate-limiting-advanced': REDIS,
  'header-cert-auth': ['ssl_verify'],
  'http-log': ['ssl_verify'],
  'jwt-signer': ['access_token_endpoints_ssl_verify', 'channel_token_endpoints_ssl_verify'],
  'kafka-consume': [...KAFKA, 'topics.schema_registry.confluent.authentication.oauth2_client.ssl_verify'],
  'kafka-log': KAFKA,
  'kafka-upstream': KAFKA,
  'ldap-auth': ['verify_ldap_host'],
  'ldap-auth-advanced': ['verify_ldap_host'],
  'mtls-auth': ['ssl_verify'],
  'openid-connect': [
    'ssl_verify',
    'cluster_cache_redis.ssl_verify',
    'redis.ssl_verify',
    'session_memcached_ssl_verify',
  ],
  'proxy-cache-advanced': REDIS,
  'rate-limiting': REDIS,
  'rate-limiting-advanced': REDIS,
  'redis-partials': ['ssl_verify'],
  'request-callout': ['cache.redis.ssl_verify', 'callouts.request.http_opts.ssl_verify'],
  'response-ratelimiting': REDIS,
  saml: REDIS,
  'service-protection': REDIS,
  'solace-consume': SOLACE,
  'solace-log': SOLACE,
  'solace-upstream': SOLACE,
  'tcp-log': ['ssl_verify'],
  'upstream-oauth': ['client.ssl_verify', 'cache.redis.ssl_verify'],
}

// plugin_updates_314.go sslVerifyPlugins at v1.56.0-v1.57.2 (reworked in v1.57.3): a top-level
// `ssl_verify: false` wherever the config has none, whether or not the plugin has such a field.
const SSL_VERIFY_TOP_LEVEL_UNTIL = '1.57.3'
const SSL_VERIFY_TOP_LEVEL = [
  'ace',
  'acme',
  'ai-aws-guardrail',
  'ai-azure-content-safety',
  'ai-llm-as-judge',
  'ai-proxy-advanced',
  'ai-rag-injector',
  'ai-rate-limiting-advanced',
  'ai-request-transformer',
  'ai-response-transformer',
  'ai-semantic-cache',
  'ai-semantic-prompt-guard',
  'ai-semantic-response-guard',
  'aws-lambda',
  'azure-functions',
  'basic-auth',
  'confluent',
  'confluent-consume',
  'datakit',
  'forward-proxy',
  'graphql-proxy-cache-advanced',
  'graphql-rate-limiting-advanced',
  'header-cert-auth',
  'http-log',
  'jwt-signer',
  'kafka-consume',
  'kafka-log',
  'kafka-upstream',
  'ldap-auth',
  'ldap-auth-advanced',
  'mtls-auth',
  'opa',
  'openid-connect',
  'proxy-cache-advanced',
  'rate-limiting',
  'rate-limiting-advanced',
  'request-callout',
  'response-ratelimiting',
  'saml',
  'service-protection',
  'tcp-log',
  'upstream-oauth',
]

function sslVerifyFields(name, version) {
  if (!atLeast(version, SSL_VERIFY_TOP_LEVEL_UNTIL))
    return SSL_VERIFY_TOP_LEVEL.includes(name) ? ['ssl_verify'] : []
  if (name.startsWith('solace-') && !atLeast(version, SOLACE_SINCE)) return []
  return SSL_VERIFY[name] ?? []
}

// setNestedBoolDefault: false where the path's parents exist and the leaf does not.
function setNestedFalse(config, path) {
  const keys = path.split('.')
  let current = config
  for (const key of keys.slice(0, -1)) {
    if (!isObject(current[key])) return false
    current = current[key]
  }
  const leaf = keys[keys.length - 1]
  if (Object.hasOwn(current, leaf)) return false
  current[leaf] = false
  return true
}

function setDatakitNodes(config) {
  if (!Array.isArray(config.nodes)) return false
  let updated = false
  for (const node of config.nodes) {
    if (!isObject(node) || node.type !== 'call' || Object.hasOwn(node, 'ssl_verify')) continue
    node.ssl_verify = false
    updated = true
  }
  return updated
}

const entityLabel = (e) => e.name ?? e.id ?? '<unnamed>'
const SECURE_PROTOCOLS = ['https', 'tls', 'grpcs', 'wss']

function convert310To314(content, out) {
  const routes = [...(content.routes ?? []), ...(content.services ?? []).flatMap((s) => s.routes ?? [])]
  for (const route of routes) {
    if (route.protocols?.length) continue
    route.protocols = ['http', 'https']
    out.print(
      `Route '${entityLabel(route)}': setting protocols to ["http", "https"] (old default, 3.14 defaults to ["https"] only)\n`,
    )
  }
  for (const service of content.services ?? []) {
    if (
      !SECURE_PROTOCOLS.includes(service.protocol) ||
      (service.tls_verify !== undefined && service.tls_verify !== null)
    )
      continue
    service.tls_verify = false
    out.print(
      `Service '${entityLabel(service)}': setting tls_verify to false (old default, 3.14 enforces TLS certificate verification by default)\n`,
    )
  }
  // The config map is changed in place; a consumer group's plugin without config gets a fresh map that is dropped.
  eachPlugin(content, (plugin, lost) => {
    if (plugin.name === undefined || plugin.name === null) return
    const name = plugin.name
    if (!isObject(plugin.config)) {
      const fresh = {}
      if (!lost) plugin.config = fresh
      else plugin = { name, config: fresh }
    }
    const config = plugin.config
    if (HIDE_CREDENTIALS.includes(name) && !Object.hasOwn(config, 'hide_credentials')) {
      config.hide_credentials = false
      out.print(`Plugin '${name}': setting hide_credentials to false (old default, 3.14 defaults to true)\n`)
    }
    for (const field of sslVerifyFields(name, out.version)) {
      const set = field === DATAKIT_NODES ? setDatakitNodes(config) : setNestedFalse(config, field)
      if (set) out.print(`Plugin '${name}': setting ${field} to false (old default, 3.14 defaults to true)\n`)
    }
  })
  out.print(FINAL_WARNING('https://developer.konghq.com/gateway/upgrade'))
  return content
}
