import { isObject, type JsonObject } from '../state/entities.js'
import type { Problem } from '../state/files.js'
import type { PathPart } from '../state/json-scan.js'
import type { StateData } from '../state/read.js'

/**
 * What a Konnect control plane refuses in a state file, found before anything is sent, with file and line: a
 * self-managed Kong's dump on its way to Konnect meets these. The rules are deck's own Konnect compatibility
 * check (Kong/deck validate/konnect_compatibility.go at v1.65.1, which `deck gateway validate` runs against
 * Konnect) with its texts, plus Kong's own schema: a control plane offers rate-limiting and
 * response-ratelimiting no `cluster` policy (Kong/kong kong/plugins/rate-limiting/schema.lua and
 * response-ratelimiting/schema.lua, `is_dbless()`: role control_plane; the plugins' docs: cluster is not
 * supported in hybrid mode or Konnect). deck skips a plugin whose file leaves
 * out `enabled` or `config`; Kong enables such a plugin, so here only `enabled: false` skips one.
 */

/** deck's supportedVersion: Konnect takes decK files of format 3.0 or later. */
const SUPPORTED_VERSION = 3.0

const INCOMPATIBLE: Record<string, string> = {
  'jwt-signer': '[jwt-signer] plugin is not compatible with Konnect',
  'vault-auth': '[vault-auth] plugin is not compatible with Konnect',
  oauth2: '[oauth2] plugin is not compatible with Konnect',
  'application-registration':
    "[application-registration] available in Konnect, but doesn't require this plugin",
  'key-auth-enc':
    '[key-auth-enc] keys are automatically encrypted in Konnect, use the key auth plugin instead',
  openwhisk: '[openwhisk] plugin not bundled with Kong Gateway - installed as a LuaRocks package',
}

/** Plugins whose `config.strategy: cluster` deck refuses for Konnect. */
const CLUSTER_STRATEGY = new Set([
  'rate-limiting',
  'rate-limiting-advanced',
  'response-ratelimiting',
  'graphql-rate-limiting-advanced',
])
/** Plugins whose `config.policy: cluster` Kong's schema refuses on a control plane. */
const CLUSTER_POLICY = new Set(['rate-limiting', 'response-ratelimiting'])

export function konnectProblems(file: string, state: StateData): Problem[] {
  const content = state.data
  if (!isObject(content)) return []
  const found: { path: PathPart[]; message: string }[] = []
  const version = Number.parseFloat(String(content._format_version ?? ''))
  if (!Number.isFinite(version))
    found.push({ path: [], message: '[version] unable to determine decK file version' })
  else if (version < SUPPORTED_VERSION)
    found.push({
      path: ['_format_version'],
      message: `[version] decK file version must be '${SUPPORTED_VERSION.toFixed(1)}' or greater`,
    })
  for (const { plugin, path } of plugins(content)) {
    if (plugin.enabled === false || typeof plugin.name !== 'string') continue
    const message = pluginProblem(plugin.name, isObject(plugin.config) ? plugin.config : {})
    if (message) found.push({ path, message })
  }
  const lines = state.lines(found.map((f) => f.path))
  return found.map((f, i) => ({
    check: 'konnect' as const,
    file,
    line: lines[i],
    message: `Konnect refuses this: ${f.message}`,
  }))
}

function pluginProblem(name: string, config: JsonObject): string | undefined {
  if (INCOMPATIBLE[name]) return INCOMPATIBLE[name]
  if (CLUSTER_STRATEGY.has(name) && config.strategy === 'cluster')
    return `[${name}] plugin can't be used with cluster strategy`
  if (CLUSTER_POLICY.has(name) && config.policy === 'cluster')
    return `[${name}] plugin can't use the cluster policy on a control plane (local or redis)`
  return undefined
}

/** Every plugin of a file where deck reads them: top level, consumers, consumer groups, services, routes. */
function* plugins(content: JsonObject): Generator<{ plugin: JsonObject; path: PathPart[] }> {
  yield* each(content.plugins, ['plugins'])
  for (const [key, nested] of [
    ['consumers', ['plugins']],
    ['consumer_groups', ['plugins']],
    ['routes', ['plugins']],
  ] as const) {
    for (const [i, owner] of entries(content[key])) yield* each(owner[nested[0]], [key, i, nested[0]])
  }
  for (const [i, service] of entries(content.services)) {
    yield* each(service.plugins, ['services', i, 'plugins'])
    for (const [j, route] of entries(service.routes))
      yield* each(route.plugins, ['services', i, 'routes', j, 'plugins'])
  }
}

function* each(list: unknown, path: PathPart[]): Generator<{ plugin: JsonObject; path: PathPart[] }> {
  for (const [i, plugin] of entries(list)) yield { plugin, path: [...path, i] }
}

function entries(list: unknown): [number, JsonObject][] {
  if (!Array.isArray(list)) return []
  const out: [number, JsonObject][] = []
  list.forEach((item, i) => {
    if (isObject(item)) out.push([i, item])
  })
  return out
}
