import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'

/**
 * A local stand-in for one Kong Gateway node (3.x): its Admin API, the status endpoints the Admin API serves,
 * and its proxy, on 127.0.0.1 only, for the tests of `restore` and of reading live schemas. It answers as Kong's
 * sources do (`kong/api/routes/kong.lua`, `health.lua`, `config.lua`, `schema_to_jsonable` in `kong/api`,
 * `kong/status/ready.lua`, `kong/db/errors.lua`, `kong/db/schema/others/declarative_config.lua`, Enterprise
 * `kong/api/routes/keyring.lua` and `kong/rbac`, `kong/plugins/key-auth`, `kong/runloop/handler.lua`):
 *
 * - `GET /` → node information (`version`, `edition`, `node_id`, `plugins`, `configuration` with secrets
 *   shown as `******`, ...)
 * - `GET /status` → `{memory, server, database: {reachable}}`; DB-less: no `database`, a `configuration_hash`
 * - `GET /status/ready` → 200 `{"message":"ready"}`, or 503 while a DB-less node holds no configuration.
 *   Kong serves this only on its Status API; the stand-in has none, so it answers here.
 * - `GET /config`, `POST /config` (DB-less; database mode 400) with `check_hash`, `flatten_errors`, and the
 *   201, 304, 400, 413 and 429 answers of `kong/api/routes/config.lua`. As there, the configuration is either
 *   text (the `config` field of a form, multipart or JSON body, or a raw body that is not `application/json`),
 *   whose hash is the md5 of the text, or a JSON body holding it (`{"_format_version": ...}`): that one has no
 *   text hash, so check_hash never answers 304 for it and its configuration_hash is not reproducible.
 * - Enterprise: `GET /keyring`, `GET /keyring/active`, `POST /keyring/export`, `POST /keyring/import`
 * - `GET /schemas/{entity}`, `GET /schemas/plugins/{name}`, `GET /schemas/vaults/{name}`,
 *   `GET /schemas/filters/{name}`: the schemas of the `schemas` option, 200 as given. Kong builds them with
 *   `schema_to_jsonable`: `{"entity_checks": [...], "fields": [...]}`, each field a one-key object holding
 *   every attribute but functions (`type`, `required`, `default`, `encrypted`, `referenceable`,
 *   `description`, validators, a record's `shorthand_fields`...), with the `schema` of top-level foreign keys
 *   removed; plugins and vaults are their subschema alone (`protocols`, `config`, ...), not the plugins or
 *   vaults entity. Unknown names: 404 `No entity named '<name>'`, `No plugin named '<name>'`,
 *   `No vault named '<name>'`, `Filter '<name>' not found`. `/schemas/plugins` and `/schemas/vaults` are the
 *   `{entity}` route. `/schemas/partials/{name}` is no route (404 `Not found`): the open-source Kong followed
 *   has no partials. The POST-only `/schemas/plugins/validate`, `/schemas/vaults/validate` and
 *   `/schemas/{entity}/validate` are not emulated: 405 to every method.
 * - a request body over `maxBodyBytes` (nginx's `client_max_body_size` on the Admin API, 10m by default):
 *   nginx's HTML 413 page, before Kong sees the request (`kong/templates/nginx_kong.lua`, `kong_defaults.lua`)
 * - anything else: 404 `{"message":"Not found"}`; a known path with another method: 405
 *
 * The schema endpoints follow Kong 3.9.3 (tag `3.9.3`), the release the community node reports; their routes and
 * `schema_to_jsonable` are the same on Kong's master (`kong/meta.lua` 3.10.0).
 *
 * Every JSON answer has `Content-Type: application/json; charset=utf-8`, `Server: kong/<version>` (Enterprise:
 * `kong/<version>-enterprise-edition`) and escapes `/` as `\/`, as Kong's cjson does.
 *
 * The proxy routes by path prefix (`~` paths as regular expressions), methods and hosts. A match answers 200
 * `{"route": <first path>}` in place of an upstream; key-auth answers 401 as the plugin does; no match, 404
 * `no Route matched with those values` in Kong's error template.
 */
export interface KongStandIn {
  /** Admin API root, e.g. `http://127.0.0.1:41234`. */
  adminUrl: string
  /** Proxy root (a separate server). */
  proxyUrl: string
  /** Every Admin API request that reached HTTP, in order (also those answered 401). */
  requests: KongAdminRequest[]
  /** `node_id` of `GET /`; a new one after each restart(). */
  readonly nodeId: string
  /** POST /config requests that loaded a configuration (201). */
  readonly configLoads: number
  /** DB-less: the declarative configuration last accepted, as parsed from the request (a copy); null before. */
  currentConfig(): unknown
  /** The `data` of every accepted POST /keyring/import, in order. */
  keyringImports: string[]
  /**
   * Restarts the node: open connections drop, a new node_id, an empty keyring (keys live in node memory), a
   * DB-less node forgets its configuration (as one started without declarative_config), cached routes are read
   * again, and the node boots again for bootMs. Given a version, it comes back as that Kong release: the new
   * image an in-place upgrade starts on the same address.
   */
  restart(version?: string): Promise<void>
  /** Closes both servers and their connections. Safe to call more than once. */
  stop(): Promise<void>
}

export interface KongAdminRequest {
  method: string
  /** Path and query as sent, e.g. `/config?check_hash=1`. */
  path: string
  headers: Record<string, string | string[] | undefined>
  body: string
}

export interface ProxyRoute {
  paths: string[]
  methods?: string[]
  hosts?: string[]
  /** key-auth is enabled on the route (or its service, or globally). */
  keyAuth?: boolean
  /**
   * With keyAuth: the keys that have a credential (anything else answers 401 "Unauthorized", as key-auth does
   * for an unknown key). Default: any key is accepted.
   */
  apiKeys?: string[]
}

export interface KongStandInOptions {
  /** `configuration.database` of `GET /`; `off` is DB-less. */
  database: 'postgres' | 'off'
  /** Default `community`. */
  edition?: 'community' | 'enterprise'
  /** Default `3.9.3` (community; the newest OSS release) or `3.10.0.0` (enterprise). */
  version?: string
  /**
   * RBAC: Admin API requests without a `Kong-Admin-Token` header equal to this answer 401
   * `{"message":"Invalid RBAC credentials"}`. Kong OSS has no Admin API authentication: pair it with enterprise.
   */
  adminToken?: string
  /** Milliseconds after start() (and restart()) during which every connection is reset: the node is booting. */
  bootMs?: number
  /** The node never comes up: every connection is reset. */
  neverUp?: boolean
  /**
   * Database mode: what the node's database holds, as the proxy's router sees it. Read at start and on
   * restart() only when cacheRoutes is true (Kong caches its router: a database restored behind its back is only
   * seen after a restart), else on every proxy request.
   */
  routes?: () => Promise<ProxyRoute[]> | ProxyRoute[]
  cacheRoutes?: boolean
  /**
   * DB-less: the first N loads answer 429 `Currently loading previous configuration` with
   * `Retry-After: retryAfterSeconds` (default 1). As in Kong, this comes after parsing, validation and
   * check_hash: invalid configurations still answer 400 and identical ones 304 without using one up.
   */
  busyConfigLoads?: number
  retryAfterSeconds?: number
  /** DB-less: POST /config bodies larger than this many bytes answer 413 (LMDB map full), the old config kept. */
  maxConfigBytes?: number
  /**
   * nginx's `client_max_body_size` on the Admin API server (`nginx_admin_client_max_body_size`, 10m by default
   * in kong/templates/kong_defaults.lua): a larger request is answered 413 by nginx itself, with its HTML error
   * page (the Admin API server has no `error_page`), before Kong sees it. Default 10 MiB.
   */
  maxBodyBytes?: number
  /** Enterprise: keyring enabled with `keyring_strategy = cluster` (and keyring_private_key set). */
  keyring?: boolean
  /**
   * What `GET /schemas/...` serves, by entity collection, plugin, vault backend and Wasm filter name: entities,
   * plugins and vaults in the shape `schema_to_jsonable` gives (`{"entity_checks": [...], "fields": [...]}`, as
   * in test/fixtures/kong-schemas), filters as their JSON schema. Each value is served as given, so a test can
   * serve a malformed one. A name not listed answers 404, as on a node without that entity, plugin, vault or
   * filter: the stand-in knows no schema it is not given, not even Kong's core entities.
   */
  schemas?: KongSchemas
}

export interface KongSchemas {
  entities?: Record<string, unknown>
  plugins?: Record<string, unknown>
  vaults?: Record<string, unknown>
  filters?: Record<string, unknown>
}

const COMMUNITY_VERSION = '3.9.3'
const ENTERPRISE_VERSION = '3.10.0.0'
/** `DECLARATIVE_EMPTY_CONFIG_HASH` (kong/constants.lua). */
export const EMPTY_CONFIG_HASH = '0'.repeat(32)

const MESSAGES = {
  notFound: 'Not found',
  methodNotAllowed: 'Method not allowed',
  unexpected: 'An unexpected error occurred',
  rbac: 'Invalid RBAC credentials',
  badJson: 'Cannot parse JSON body',
  dbOnly: 'this endpoint is only available when Kong is configured to not use a database',
  noConfig: 'expected a declarative configuration',
  busy: 'Currently loading previous configuration',
  mapFull:
    'Configuration does not fit in LMDB database, consider raising the "lmdb_map_size" config for Kong',
  emptyConfig: 'no configuration available (empty configuration present)',
  noRoute: 'no Route matched with those values',
  noApiKey: 'No API key found in request',
  duplicateApiKey: 'Duplicate API key found',
  badApiKey: 'Unauthorized',
  noEntity: (name: string) => `No entity named '${name}'`,
  noPlugin: (name: string) => `No plugin named '${name}'`,
  noVault: (name: string) => `No vault named '${name}'`,
  noFilter: (name: string) => `Filter '${name}' not found`,
} as const

/** Bundled plugins and their priorities (handler PRIORITY), as `plugins.available_on_server` lists them. */
const BUNDLED_PLUGINS: Record<string, number> = {
  acl: 950,
  acme: 1705,
  'ai-prompt-decorator': 772,
  'ai-proxy': 770,
  'aws-lambda': 750,
  'azure-functions': 749,
  'basic-auth': 1100,
  'bot-detection': 2500,
  'correlation-id': 100001,
  cors: 2000,
  datadog: 10,
  'file-log': 9,
  'grpc-gateway': 998,
  'grpc-web': 3,
  'hmac-auth': 1030,
  'http-log': 12,
  'ip-restriction': 990,
  jwt: 1450,
  'key-auth': 1250,
  'ldap-auth': 1200,
  loggly: 6,
  oauth2: 1400,
  opentelemetry: 14,
  'post-function': -1000,
  'pre-function': 1000000,
  prometheus: 13,
  'proxy-cache': 100,
  'rate-limiting': 910,
  redirect: 779,
  'request-size-limiting': 951,
  'request-termination': 2,
  'request-transformer': 801,
  'response-ratelimiting': 900,
  'response-transformer': 800,
  session: 1900,
  statsd: 11,
  syslog: 4,
  'tcp-log': 7,
  'udp-log': 8,
  zipkin: 100000,
}
const ENTERPRISE_PLUGINS: Record<string, number> = {
  'key-auth-enc': 1250,
  'openid-connect': 1050,
  'rate-limiting-advanced': 910,
  'request-transformer-advanced': 802,
  'response-transformer-advanced': 800,
  canary: 20,
  'mtls-auth': 1600,
}

/**
 * Entity collections a declarative configuration may hold at the top level: Kong's core entities but `tags`
 * (`CORE_ENTITIES`), and the DAOs of the bundled plugins. Anything else but `_format_version`, `_transform`,
 * `_comment` and `_ignore` is an "unknown field" (`_workspace` and `_info`, which deck writes, too).
 */
const COMMUNITY_COLLECTIONS = [
  'workspaces',
  'consumers',
  'certificates',
  'services',
  'routes',
  'snis',
  'upstreams',
  'targets',
  'plugins',
  'ca_certificates',
  'clustering_data_planes',
  'parameters',
  'vaults',
  'key_sets',
  'keys',
  'filter_chains',
  'acls',
  'acme_storage',
  'basicauth_credentials',
  'hmacauth_credentials',
  'jwt_secrets',
  'keyauth_credentials',
  'oauth2_credentials',
  'oauth2_authorization_codes',
  'oauth2_tokens',
  'ratelimiting_metrics',
  'sessions',
  'session_metadatas',
]
const ENTERPRISE_COLLECTIONS = ['consumer_groups', 'consumer_group_consumers', 'consumer_group_plugins']
const META_FIELDS = ['_format_version', '_transform', '_comment', '_ignore']
const FORMAT_VERSIONS = ['1.1', '2.1', '3.0']

/** Children a declarative entity may nest, and the foreign key each child gets (`nest_foreign_relationships`). */
const NESTED: Record<string, Record<string, string>> = {
  certificates: { snis: 'certificate', services: 'client_certificate', upstreams: 'client_certificate' },
  services: { routes: 'service', plugins: 'service', filter_chains: 'service' },
  routes: { plugins: 'route', filter_chains: 'route' },
  consumers: {
    plugins: 'consumer',
    acls: 'consumer',
    basicauth_credentials: 'consumer',
    hmacauth_credentials: 'consumer',
    jwt_secrets: 'consumer',
    keyauth_credentials: 'consumer',
    oauth2_credentials: 'consumer',
  },
  upstreams: { targets: 'upstream' },
  key_sets: { keys: 'set' },
}

/** Foreign keys of each collection and the collection they reference. */
const FOREIGN: Record<string, Record<string, string>> = {}
for (const [parent, children] of Object.entries(NESTED))
  for (const [child, key] of Object.entries(children)) (FOREIGN[child] ??= {})[key] = parent

/** Endpoint keys (`name`, `username`, ...): references by name resolve through them. */
const ENDPOINT_KEY: Record<string, string> = {
  services: 'name',
  routes: 'name',
  consumers: 'username',
  upstreams: 'name',
  snis: 'name',
  vaults: 'prefix',
  key_sets: 'name',
  consumer_groups: 'name',
  workspaces: 'name',
}

/** `cache_key` of the entities whose generated ids derive from one (`build_cache_key`). */
const CACHE_KEY: Record<string, string[]> = {
  plugins: ['name', 'route', 'service', 'consumer'],
  keyauth_credentials: ['key'],
  basicauth_credentials: ['username'],
  hmacauth_credentials: ['username'],
  jwt_secrets: ['key'],
  acls: ['consumer', 'group'],
  oauth2_credentials: ['client_id'],
}

/** Schema defaults Kong fills in (process_auto_fields) for the common entities. */
const DEFAULTS: Record<string, Record<string, unknown>> = {
  services: {
    name: null,
    protocol: 'http',
    port: 80,
    path: null,
    retries: 5,
    connect_timeout: 60000,
    write_timeout: 60000,
    read_timeout: 60000,
    enabled: true,
    tags: null,
    client_certificate: null,
    tls_verify: null,
    tls_verify_depth: null,
    ca_certificates: null,
  },
  routes: {
    name: null,
    protocols: ['http', 'https'],
    methods: null,
    hosts: null,
    paths: null,
    headers: null,
    snis: null,
    sources: null,
    destinations: null,
    https_redirect_status_code: 426,
    regex_priority: 0,
    strip_path: true,
    path_handling: 'v0',
    preserve_host: false,
    request_buffering: true,
    response_buffering: true,
    tags: null,
    service: null,
  },
  consumers: { username: null, custom_id: null, tags: null },
  plugins: {
    instance_name: null,
    enabled: true,
    protocols: ['grpc', 'grpcs', 'http', 'https'],
    route: null,
    service: null,
    consumer: null,
    tags: null,
    ordering: null,
  },
  upstreams: { algorithm: 'round-robin', hash_on: 'none', hash_fallback: 'none', slots: 10000, tags: null },
  targets: { weight: 100, tags: null },
  keyauth_credentials: { ttl: null, tags: null },
}
const KEY_AUTH_DEFAULTS = {
  key_names: ['apikey'],
  hide_credentials: false,
  anonymous: null,
  key_in_header: true,
  key_in_query: true,
  key_in_body: false,
  run_on_preflight: true,
  realm: null,
}
/** Entities with both timestamps; credentials and the rest only have created_at. */
const UPDATED_AT = new Set([
  'services',
  'routes',
  'consumers',
  'plugins',
  'upstreams',
  'targets',
  'certificates',
  'snis',
  'ca_certificates',
  'vaults',
  'key_sets',
  'keys',
  'filter_chains',
  'consumer_groups',
])
/** Order of the collections in GET /config (Kong's topological order of the schemas). */
const EXPORT_ORDER = [
  'parameters',
  'certificates',
  'ca_certificates',
  'consumers',
  'consumer_groups',
  'consumer_group_consumers',
  'services',
  'routes',
  'snis',
  'upstreams',
  'targets',
  'plugins',
  'consumer_group_plugins',
  'filter_chains',
  'acls',
  'basicauth_credentials',
  'hmacauth_credentials',
  'jwt_secrets',
  'keyauth_credentials',
  'oauth2_credentials',
  'vaults',
  'key_sets',
  'keys',
]
const SERVICE_PROTOCOLS = ['grpc', 'grpcs', 'http', 'https', 'tcp', 'tls', 'tls_passthrough', 'udp']

type Json = Record<string, unknown>
type Entity = Json
/** A loaded configuration: flattened entities by collection and id, the meta fields, its hash. */
interface Loaded {
  input: Json
  entities: Record<string, Map<string, Entity>>
  meta: Json
  hash: string
}
/** A route as the proxy's router holds it: DB-less routes also carry key-auth's key_names. */
interface RouterEntry extends ProxyRoute {
  keyNames?: string[]
}
interface KeyringState {
  keys: Map<string, string>
  active: string | null
}

export async function startKongStandIn(options: KongStandInOptions): Promise<KongStandIn> {
  const edition = options.edition ?? 'community'
  const enterprise = edition === 'enterprise'
  let version = options.version ?? (enterprise ? ENTERPRISE_VERSION : COMMUNITY_VERSION)
  let serverToken = enterprise ? `kong/${version}-enterprise-edition` : `kong/${version}`
  const dbless = options.database === 'off'
  const plugins = { ...BUNDLED_PLUGINS, ...(enterprise ? ENTERPRISE_PLUGINS : {}) }
  const collections = new Set([...COMMUNITY_COLLECTIONS, ...(enterprise ? ENTERPRISE_COLLECTIONS : [])])
  const hostname = `kong-${randomBytes(3).toString('hex')}`

  const requests: KongAdminRequest[] = []
  const keyringImports: string[] = []
  let nodeId = randomUUID()
  let configLoads = 0
  let busyLeft = options.busyConfigLoads ?? 0
  let loaded: Loaded | null = null
  let keyring: KeyringState = { keys: new Map(), active: null }
  let cachedRoutes: ProxyRoute[] = []
  let lastRoutes: ProxyRoute[] = []
  let upSince = 0
  const stats = { accepted: 0, handled: 0, requests: 0 }

  const booting = () => options.neverUp === true || Date.now() < upSince
  const readRoutes = async (): Promise<ProxyRoute[]> => (lastRoutes = [...((await options.routes?.()) ?? [])])

  const sockets = new Set<Socket>()
  const accept = (server: Server) =>
    server.on('connection', (socket: Socket) => {
      if (booting()) {
        socket.resetAndDestroy()
        return
      }
      stats.accepted++
      stats.handled++
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    })

  const admin = accept(
    createServer((req, res) => {
      const declared = Number(req.headers['content-length'] ?? 0)
      if (declared > (options.maxBodyBytes ?? 10 * 1024 * 1024)) {
        // nginx refuses on the declared length, without reading the body, and closes the connection.
        stats.requests++
        requests.push({
          method: req.method ?? 'GET',
          path: req.url ?? '/',
          headers: { ...req.headers },
          body: '',
        })
        res.writeHead(413, { 'Content-Type': 'text/html', Connection: 'close' })
        res.end(NGINX_413)
        req.resume()
        return
      }
      readBody(req)
        .then((raw) => handleAdmin(req, raw, res))
        .catch(() => sendJson(res, 500, { message: MESSAGES.unexpected }, adminHeaders()))
    }),
  )
  const proxy = accept(
    createServer((req, res) => {
      readBody(req)
        .then(() => handleProxy(req, res))
        .catch(() => kongError(req, res, 500, MESSAGES.unexpected))
    }),
  )

  function adminHeaders(): Record<string, string> {
    return {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Credentials': 'true',
      'X-Kong-Admin-Request-ID': randomBytes(16).toString('hex'),
      'X-Kong-Admin-Latency': '0',
      Server: serverToken,
    }
  }

  const currentHash = () => loaded?.hash ?? EMPTY_CONFIG_HASH

  async function handleAdmin(req: IncomingMessage, raw: Buffer, res: ServerResponse): Promise<void> {
    stats.requests++
    const method = req.method ?? 'GET'
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    requests.push({
      method,
      path: url.pathname + url.search,
      headers: { ...req.headers },
      body: raw.toString('utf8'),
    })
    const reply = (status: number, body?: unknown, extra: Record<string, string> = {}) =>
      sendJson(res, status, body, { ...adminHeaders(), ...extra })

    if (options.adminToken !== undefined && req.headers['kong-admin-token'] !== options.adminToken)
      return reply(401, { message: MESSAGES.rbac })

    // Lapis answers /status/ as /status.
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname
    const routes: Record<string, Record<string, () => Promise<void> | void>> = {
      '/': { GET: () => reply(200, root()) },
      '/status': { GET: () => reply(200, status()) },
      '/status/ready': {
        GET: () =>
          dbless && currentHash() === EMPTY_CONFIG_HASH
            ? reply(503, { message: MESSAGES.emptyConfig })
            : reply(200, { message: 'ready' }),
      },
      '/config': {
        GET: () =>
          dbless ? reply(200, { config: exportYaml(loaded) }) : reply(400, { message: MESSAGES.dbOnly }),
        POST: () => postConfig(req, raw, url, reply),
      },
    }
    if (enterprise) {
      routes['/keyring'] = { GET: () => reply(200, keyringListing(keyring)) }
      routes['/keyring/active'] = {
        GET: () =>
          keyring.active !== null && keyring.keys.has(keyring.active)
            ? reply(200, { id: keyring.active })
            : reply(500, { error: 'active key id not found' }),
      }
      routes['/keyring/export'] = {
        POST: () =>
          options.keyring
            ? reply(200, { data: keyringExportData([...keyring.keys.keys()], keyring.active, keyring.keys) })
            : reply(500, { error: 'missing backup public key' }),
      }
      routes['/keyring/import'] = { POST: () => importKeyring(req, raw, url, reply) }
    }
    const handlers = Object.hasOwn(routes, path) ? routes[path] : schemaRoute(path, reply)
    if (!handlers) return reply(404, { message: MESSAGES.notFound })
    const handler = handlers[method]
    if (!handler) return reply(405, { message: MESSAGES.methodNotAllowed })
    await handler()
  }

  type Reply = (status: number, body?: unknown, extra?: Record<string, string>) => void
  type Handlers = Record<string, () => Promise<void> | void>

  /**
   * The schema routes of kong/api/routes/kong.lua, in Lapis' order: the literal `/validate` paths before the
   * named ones. Path segments are matched as sent and then percent-decoded. The `/validate` paths take POST
   * only, which the stand-in does not emulate: every method there answers 405.
   */
  function schemaRoute(path: string, reply: Reply): Handlers | undefined {
    const segments = path.split('/').slice(1)
    if (segments[0] !== 'schemas' || segments.some((s) => s === '')) return undefined
    const [, first = '', second = ''] = segments
    const schemas = options.schemas ?? {}
    const serve = (
      table: Record<string, unknown> | undefined,
      raw: string,
      missing: (name: string) => string,
    ) => {
      const name = decodeSegment(raw)
      const handlers: Handlers = {
        GET: () =>
          table !== undefined && Object.hasOwn(table, name)
            ? reply(200, table[name])
            : reply(404, { message: missing(name) }),
      }
      return handlers
    }
    if (segments.length === 2) return serve(schemas.entities, first, MESSAGES.noEntity)
    if (segments.length !== 3) return undefined
    if ((first === 'plugins' || first === 'vaults') && second === 'validate') return {}
    if (first === 'plugins') return serve(schemas.plugins, second, MESSAGES.noPlugin)
    if (first === 'vaults') return serve(schemas.vaults, second, MESSAGES.noVault)
    if (first === 'filters') return serve(schemas.filters, second, MESSAGES.noFilter)
    if (second === 'validate') return {}
    return undefined
  }

  function root(): Json {
    const enabled = dbless
      ? [...new Set([...(loaded?.entities.plugins?.values() ?? [])].map((p) => String(p.name)))]
      : lastRoutes.some((r) => r.keyAuth)
        ? ['key-auth']
        : []
    const pluginVersion = version.split('.').slice(0, 3).join('.')
    return {
      tagline: 'Welcome to kong',
      version,
      edition,
      hostname,
      node_id: nodeId,
      timers: { running: 0, pending: 8 },
      plugins: {
        available_on_server: Object.fromEntries(
          Object.entries(plugins).map(([name, priority]) => [name, { version: pluginVersion, priority }]),
        ),
        enabled_in_cluster: enabled,
      },
      lua_version: 'LuaJIT 2.1.0-20231117',
      configuration: configuration(),
      pids: { master: 1, workers: [1279, 1280] },
    }
  }

  function configuration(): Json {
    return {
      prefix: '/usr/local/kong',
      database: options.database,
      role: 'traditional',
      log_level: 'notice',
      proxy_listen: [
        '0.0.0.0:8000 reuseport backlog=16384',
        '0.0.0.0:8443 http2 ssl reuseport backlog=16384',
      ],
      admin_listen: [
        '127.0.0.1:8001 reuseport backlog=16384',
        '127.0.0.1:8444 http2 ssl reuseport backlog=16384',
      ],
      status_listen: ['127.0.0.1:8007 reuseport backlog=16384'],
      admin_gui_listen: ['0.0.0.0:8002', '0.0.0.0:8445 ssl'],
      plugins: ['bundled'],
      loaded_plugins: Object.fromEntries(Object.keys(plugins).map((name) => [name, true])),
      headers: ['server_tokens', 'latency_tokens', 'x-kong-request-id'],
      router_flavor: 'traditional_compatible',
      nginx_worker_processes: 'auto',
      mem_cache_size: '128m',
      lmdb_environment_path: 'dbless.lmdb',
      lmdb_map_size: '2048m',
      declarative_config_string: null,
      pg_host: dbless ? '127.0.0.1' : 'kong-database',
      pg_port: 5432,
      pg_user: 'kong',
      pg_database: 'kong',
      pg_ssl: false,
      pg_ssl_verify: false,
      pg_timeout: 5000,
      pg_max_concurrent_queries: 0,
      ...(dbless ? {} : { pg_password: '******' }),
      ...(enterprise
        ? {
            enforce_rbac: options.adminToken === undefined ? 'off' : 'on',
            rbac_auth_header: 'Kong-Admin-Token',
            keyring_enabled: options.keyring === true,
            keyring_strategy: 'cluster',
            ...(options.keyring
              ? { keyring_private_key: '******', keyring_public_key: '/keyring/cert.pem' }
              : {}),
          }
        : {}),
    }
  }

  function status(): Json {
    const body: Json = {
      database: { reachable: true },
      memory: {
        workers_lua_vms: [
          { http_allocated_gc: '44.95 MiB', pid: 1279 },
          { http_allocated_gc: '43.80 MiB', pid: 1280 },
        ],
        lua_shared_dicts: {
          kong: { allocated_slabs: '0.04 MiB', capacity: '5.00 MiB' },
          kong_db_cache: { allocated_slabs: '0.80 MiB', capacity: '128.00 MiB' },
        },
      },
      server: {
        total_requests: stats.requests,
        connections_active: sockets.size,
        connections_accepted: stats.accepted,
        connections_handled: stats.handled,
        connections_reading: 0,
        connections_writing: 1,
        connections_waiting: Math.max(0, sockets.size - 1),
      },
    }
    if (dbless) {
      delete body.database
      body.configuration_hash = currentHash()
    }
    return body
  }

  async function postConfig(req: IncomingMessage, raw: Buffer, url: URL, reply: Reply): Promise<void> {
    if (!dbless) return reply(400, { message: MESSAGES.dbOnly })
    const parsed = await requestParams(req, raw, url)
    if (parsed === 'bad json') return reply(400, { message: MESSAGES.badJson })
    const params = parsed
    const flattenErrors = truthy(params.flatten_errors)
    const checkHash = luaToString(params.check_hash) === '1'
    delete params.flatten_errors
    delete params.check_hash

    // hydrate_config_from_request: a JSON body holding the configuration itself, or the `config` field, or the
    // raw body. Only text is hashed (md5 of the text), so only text can answer 304.
    let input: Json
    let hash: string | undefined
    if (params._format_version !== undefined) {
      input = params
    } else {
      let text = params.config
      if (text === undefined) {
        if (raw.length === 0) return reply(400, { message: MESSAGES.noConfig })
        text = raw.toString('utf8')
      }
      const result = unserialize(typeof text === 'string' ? text : luaToString(text))
      if ('error' in result) return reply(400, declarativeError({ error: result.error }))
      input = result.table
      hash = result.hash
    }
    if (checkHash && hash !== undefined && hash === currentHash()) return reply(304)

    const compiled = compile(structuredClone(input), collections, plugins)
    if ('errors' in compiled) {
      return reply(
        400,
        flattenErrors ? declarativeErrorFlattened(compiled.errors, input) : declarativeError(compiled.errors),
      )
    }
    const empty = Object.keys(compiled.entities).length === 0
    // A JSON body holding the configuration itself has no text to hash: Kong hashes the entities it built
    // (timestamps, generated ids, in Lua table order), which no other load reproduces.
    hash = empty
      ? EMPTY_CONFIG_HASH
      : (hash ?? md5(canonicalJson([entitiesJson(compiled.entities, true), compiled.meta, randomUUID()])))

    if (busyLeft > 0) {
      busyLeft--
      return reply(429, { message: MESSAGES.busy }, { 'Retry-After': String(options.retryAfterSeconds ?? 1) })
    }
    if (options.maxConfigBytes !== undefined && raw.length > options.maxConfigBytes)
      return reply(413, { message: MESSAGES.mapFull })

    loaded = { input: structuredClone(input), entities: compiled.entities, meta: compiled.meta, hash }
    configLoads++
    return reply(201, entitiesJson(compiled.entities, true))
  }

  async function importKeyring(req: IncomingMessage, raw: Buffer, url: URL, reply: Reply): Promise<void> {
    const params = await requestParams(req, raw, url)
    if (params === 'bad json') return reply(400, { message: MESSAGES.badJson })
    // Kong decodes `data` unchecked: a missing or non-base64 blob is a Lua error, hence a 500.
    const data = params.data
    if (typeof data !== 'string' || !isBase64(data)) return reply(500, { message: MESSAGES.unexpected })
    // Without a keyring there is no private key to unwrap the blob with.
    if (!options.keyring) return reply(500, { message: MESSAGES.unexpected })
    const material = openKeyringExport(data)
    for (const [id, key] of Object.entries(material.keys)) keyring.keys.set(id, key)
    if (material.active === null || !keyring.keys.has(material.active))
      return reply(500, { error: 'not found' })
    keyring.active = material.active
    keyringImports.push(data)
    return reply(200, keyringListing(keyring))
  }

  function proxyRoutes(): RouterEntry[] {
    if (!loaded) return []
    const { entities } = loaded
    const services = entities.services ?? new Map<string, Entity>()
    const allPlugins = [...(entities.plugins?.values() ?? [])].filter(
      (p) => p.name === 'key-auth' && p.enabled !== false,
    )
    const keys = [...(entities.keyauth_credentials?.values() ?? [])].map((c) => String(c.key))
    const routes: RouterEntry[] = []
    for (const route of entities.routes?.values() ?? []) {
      const serviceId = foreignId(route.service)
      const service = serviceId ? services.get(serviceId) : undefined
      if (service && service.enabled === false) continue
      const keyAuth = allPlugins.find((p) => {
        const onRoute = foreignId(p.route)
        const onService = foreignId(p.service)
        if (onRoute) return onRoute === route.id
        if (onService) return onService === serviceId
        return !foreignId(p.consumer)
      })
      const config = (keyAuth?.config ?? {}) as Json
      routes.push({
        paths: stringList(route.paths),
        methods: stringList(route.methods),
        hosts: stringList(route.hosts),
        keyAuth: keyAuth !== undefined,
        apiKeys: keys,
        ...(keyAuth ? { keyNames: stringList(config.key_names) } : {}),
      })
    }
    return routes
  }

  async function handleProxy(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests++
    const routes: RouterEntry[] = dbless
      ? proxyRoutes()
      : options.cacheRoutes
        ? cachedRoutes
        : await readRoutes()
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const route = matchRoute(routes, req.method ?? 'GET', url.pathname, req.headers.host ?? '')
    if (!route) return kongError(req, res, 404, MESSAGES.noRoute)
    if (route.keyAuth) {
      const names = route.keyNames ?? ['apikey']
      let key: string | undefined
      for (const name of names) {
        const header = req.headers[name.toLowerCase()]
        const query = url.searchParams.getAll(name)
        const value = header ?? (query.length > 1 ? query : query[0])
        if (Array.isArray(value))
          return kongError(req, res, 401, MESSAGES.duplicateApiKey, { 'WWW-Authenticate': 'Key' })
        if (value !== undefined) {
          key = value
          break
        }
      }
      if (key === undefined || key === '')
        return kongError(req, res, 401, MESSAGES.noApiKey, { 'WWW-Authenticate': 'Key' })
      if (route.apiKeys !== undefined && !route.apiKeys.includes(key))
        return kongError(req, res, 401, MESSAGES.badApiKey, { 'WWW-Authenticate': 'Key' })
    }
    const body = JSON.stringify({ route: route.paths[0] ?? null })
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      'X-Kong-Upstream-Latency': '1',
      'X-Kong-Proxy-Latency': '0',
      Via: `1.1 ${serverToken}`,
      'X-Kong-Request-Id': randomBytes(16).toString('hex'),
    })
    res.end(body)
  }

  /** kong.response.error: Kong's error template in the type the Accept header asks for. */
  function kongError(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    message: string,
    extra: Record<string, string> = {},
  ): void {
    const requestId = randomBytes(16).toString('hex')
    const type = responseType(req.headers.accept)
    const body =
      type === 'text/plain'
        ? `${message}\nrequest_id: ${requestId}\n`
        : type === 'text/html'
          ? `<!doctype html>\n<html>\n  <head>\n    <meta charset="utf-8">\n    <title>Error</title>\n  </head>\n  <body>\n    <h1>Error</h1>\n    <p>${message}.</p>\n    <p>request_id: ${requestId}</p>\n  </body>\n</html>\n`
          : type === 'application/xml'
            ? `<?xml version="1.0" encoding="UTF-8"?>\n<error>\n  <message>${message}</message>\n  <requestid>${requestId}</requestid>\n</error>\n`
            : `{\n  "message":"${message}",\n  "request_id":"${requestId}"\n}`
    res.writeHead(status, {
      'Content-Type': `${type}; charset=utf-8`,
      'Content-Length': Buffer.byteLength(body),
      Server: serverToken,
      'X-Kong-Response-Latency': '0',
      'X-Kong-Request-Id': requestId,
      ...extra,
    })
    res.end(body)
  }

  const listen = (server: Server) =>
    new Promise<string>((ready, fail) => {
      server.once('error', fail)
      server.listen(0, '127.0.0.1', () => {
        server.off('error', fail)
        ready(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
      })
    })

  const boot = async () => {
    upSince = Date.now() + (options.bootMs ?? 0)
    if (!dbless && options.cacheRoutes) cachedRoutes = await readRoutes()
  }
  const adminUrl = await listen(admin)
  const proxyUrl = await listen(proxy)
  await boot()

  let stopping: Promise<void> | undefined
  const close = (server: Server) =>
    new Promise<void>((done) => {
      server.close(() => done())
      server.closeAllConnections()
    })

  return {
    adminUrl,
    proxyUrl,
    requests,
    get nodeId() {
      return nodeId
    },
    get configLoads() {
      return configLoads
    },
    currentConfig: () => (loaded ? structuredClone(loaded.input) : null),
    keyringImports,
    restart: async (release?: string) => {
      if (release !== undefined) {
        version = release
        serverToken = enterprise ? `kong/${version}-enterprise-edition` : `kong/${version}`
      }
      for (const socket of sockets) socket.destroy()
      // Let clients see their connections close before anything else is asked of the node.
      await new Promise((resolve) => setTimeout(resolve, 20))
      nodeId = randomUUID()
      keyring = { keys: new Map(), active: null }
      loaded = null
      await boot()
    },
    stop: () => {
      stopping ??= (async () => {
        for (const socket of sockets) socket.destroy()
        await Promise.all([close(admin), close(proxy)])
      })()
      return stopping
    },
  }
}

// ---------------------------------------------------------------------------------------------------------
// Keyring

/**
 * Builds the `data` of a `POST /keyring/export` answer for keys with these ids (random 32-byte keys unless
 * given), the form `POST /keyring/import` takes: base64 of `{"k","n","d"}`. Kong encrypts `d` (AES-256-GCM,
 * the key RSA-wrapped in `k`); the stand-in, which holds no private key, reads `d` as base64 of the plain
 * `{"keys": {id: base64 key}, "active": id}`, so tests choose the ids an import brings. `POST /keyring/export`
 * answers with this form too.
 */
export function keyringExportData(ids: string[], active?: string | null, keys?: Map<string, string>): string {
  const plain = {
    keys: Object.fromEntries(ids.map((id) => [id, keys?.get(id) ?? randomBytes(32).toString('base64')])),
    active: active === undefined ? (ids[0] ?? null) : active,
  }
  const envelope = {
    k: randomBytes(256).toString('base64'),
    n: randomBytes(12).toString('base64'),
    d: Buffer.from(JSON.stringify(plain)).toString('base64'),
  }
  return Buffer.from(JSON.stringify(envelope)).toString('base64')
}

/**
 * What an import adds: the keys of a blob from {@link keyringExportData}; for any other blob (a real, encrypted
 * export, which the stand-in cannot open) one key whose id derives from the blob, made active.
 */
function openKeyringExport(data: string): { keys: Record<string, string>; active: string | null } {
  const envelope = parseJson(Buffer.from(data, 'base64').toString('utf8'))
  const plain =
    isRecord(envelope) && typeof envelope.d === 'string'
      ? parseJson(Buffer.from(envelope.d, 'base64').toString('utf8'))
      : undefined
  if (isRecord(plain) && isRecord(plain.keys)) {
    const keys: Record<string, string> = {}
    for (const [id, key] of Object.entries(plain.keys)) if (typeof key === 'string') keys[id] = key
    return { keys, active: typeof plain.active === 'string' ? plain.active : null }
  }
  const id = createHash('sha256').update(data).digest('hex').slice(0, 8)
  return { keys: { [id]: createHash('sha256').update(`key:${data}`).digest('base64') }, active: id }
}

function isBase64(text: string): boolean {
  const compact = text.replace(/\s+/g, '')
  return compact.length > 0 && compact.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(compact)
}

/**
 * `GET /keyring`: `{ids, active}`. The ids come from a shared dict's get_keys(), a plain Lua table, so an
 * empty keyring encodes as `{"ids":{}}` (an object) and no active key leaves `active` out.
 */
function keyringListing(state: KeyringState): Json {
  const ids = [...state.keys.keys()]
  return {
    ids: ids.length === 0 ? {} : ids,
    ...(state.active !== null && state.keys.has(state.active) ? { active: state.active } : {}),
  }
}

// ---------------------------------------------------------------------------------------------------------
// Declarative configuration

/** dc:unserialize(): JSON first, then YAML; the hash is md5 of the text. */
function unserialize(text: string): { table: Json; hash: string } | { error: string } {
  let table: unknown = parseJson(text)
  if (!isRecord(table)) {
    try {
      table = parseYaml(text)
    } catch (err) {
      return { error: `failed parsing declarative configuration: ${(err as Error).message.split('\n')[0]}` }
    }
    if (!isRecord(table)) return { error: 'failed parsing declarative configuration: expected an object' }
  }
  return { table, hash: md5(text) }
}

/** Error tree of Kong's schema validation: field → message, arrays of entities by index. */
type ErrorTree = Record<string, unknown>

interface Walked {
  collection: string
  entity: Entity
  /** Where the entity sits in the input, e.g. ['services', 0, 'routes', 1]. */
  path: (string | number)[]
}

/**
 * DeclarativeConfig:flatten(), for what the stand-in checks: the top-level fields, the shape of collections,
 * a few entity rules (service host and port, consumer username/custom_id, plugin names), uniqueness of ids and
 * names, references by id or name. Nested entities are hoisted with their parent's key; ids are generated as
 * Kong does (UUID v5 of the endpoint or cache key when there is one, random otherwise).
 */
function compile(
  input: Json,
  collections: Set<string>,
  plugins: Record<string, number>,
): { entities: Record<string, Map<string, Entity>>; meta: Json } | { errors: ErrorTree } {
  const errors: ErrorTree = {}
  for (const [key, value] of Object.entries(input)) {
    if (key === '_format_version') {
      if (typeof value !== 'string') errors[key] = 'expected a string'
      else if (!FORMAT_VERSIONS.includes(value))
        errors[key] = `expected one of: ${FORMAT_VERSIONS.join(', ')}`
    } else if (key === '_transform') {
      if (typeof value !== 'boolean') errors[key] = 'expected a boolean'
    } else if (key === '_comment') {
      if (typeof value !== 'string') errors[key] = 'expected a string'
    } else if (key === '_ignore') {
      if (!Array.isArray(value)) errors[key] = 'expected an array'
    } else if (collections.has(key)) {
      if (value !== null && !Array.isArray(value)) errors[key] = 'expected an array'
    } else {
      errors[key] = 'unknown field'
    }
  }
  if (input._format_version === undefined || input._format_version === null)
    errors._format_version = 'required field missing'

  const walked: Walked[] = []
  const walk = (
    collection: string,
    items: unknown[],
    path: (string | number)[],
    parent?: [string, string],
  ) => {
    items.forEach((item, index) => {
      const at = [...path, index]
      if (!isRecord(item)) return setError(errors, at, 'expected a record')
      const children = NESTED[collection] ?? {}
      const entity: Entity = {}
      for (const [key, value] of Object.entries(item)) if (!(key in children)) entity[key] = value
      if (parent) entity[parent[0]] = { id: parent[1] }
      checkEntity(collection, entity, at, errors, plugins)
      entity.id ??= generateId(collection, entity)
      walked.push({ collection, entity, path: at })
      for (const [child, foreignKey] of Object.entries(children)) {
        const nested = item[child]
        if (nested === undefined || nested === null) continue
        if (!Array.isArray(nested)) setError(errors, [...at, child], 'expected an array')
        else walk(child, nested, [...at, child], [foreignKey, String(entity.id)])
      }
    })
  }
  for (const collection of collections) {
    const items = input[collection]
    if (Array.isArray(items)) walk(collection, items, [collection])
  }

  // Uniqueness of primary and endpoint keys.
  const seen = new Map<string, string>()
  for (const { collection, entity, path } of walked) {
    const endpointKey = ENDPOINT_KEY[collection]
    const checks: [string, unknown][] = [['primary key', entity.id]]
    if (endpointKey) checks.push([endpointKey, entity[endpointKey]])
    for (const [label, value] of checks) {
      if (typeof value !== 'string') continue
      const key = `${collection}\0${label}\0${value}`
      if (seen.has(key)) {
        setError(
          errors,
          path,
          `uniqueness violation: '${collection}' entity with ${label} set to '${value}' already declared`,
        )
        break
      }
      seen.set(key, value)
    }
  }
  if (Object.keys(errors).length > 0) return { errors }

  // References by id or endpoint key (validate_references).
  const byCollection = new Map<string, Entity[]>()
  for (const { collection, entity } of walked) {
    let list = byCollection.get(collection)
    if (!list) byCollection.set(collection, (list = []))
    list.push(entity)
  }
  const find = (collection: string, key: string) =>
    byCollection
      .get(collection)
      ?.find((e) => e.id === key || (ENDPOINT_KEY[collection] && e[ENDPOINT_KEY[collection]] === key))
  for (const { collection, entity, path } of walked) {
    for (const [field, reference] of Object.entries(FOREIGN[collection] ?? {})) {
      const value = entity[field]
      if (value === undefined || value === null) continue
      const key = isRecord(value) ? value.id : value
      const found = typeof key === 'string' ? find(reference, key) : undefined
      if (found) {
        entity[field] = { id: found.id }
        continue
      }
      const at = entity[ENDPOINT_KEY[collection] ?? ''] ?? entity.id ?? Number(path[path.length - 1]) + 1
      const section = (errors[collection] ??= {}) as Record<string, string[]>
      ;(section[String(at)] ??= []).push(
        `invalid reference '${field}: ${typeof value === 'string' ? value : JSON.stringify(value)}' (no such entry in '${reference}')`,
      )
    }
  }
  if (Object.keys(errors).length > 0) return { errors }

  const now = Math.floor(Date.now() / 1000)
  const entities: Record<string, Map<string, Entity>> = {}
  for (const { collection, entity } of walked) {
    const full: Entity = { ...(DEFAULTS[collection] ?? {}), ...entity }
    if (collection === 'plugins') {
      full.config = {
        ...(full.name === 'key-auth' ? KEY_AUTH_DEFAULTS : {}),
        ...(isRecord(entity.config) ? entity.config : {}),
      }
    }
    full.created_at ??= now
    if (UPDATED_AT.has(collection)) full.updated_at ??= full.created_at
    ;(entities[collection] ??= new Map()).set(String(full.id), full)
  }
  delete entities.workspaces
  const meta: Json = { _transform: true }
  for (const field of META_FIELDS) if (input[field] !== undefined) meta[field] = input[field]
  return { entities, meta }
}

function checkEntity(
  collection: string,
  entity: Entity,
  at: (string | number)[],
  errors: ErrorTree,
  plugins: Record<string, number>,
): void {
  const field = (name: string, message: string) => setError(errors, [...at, name], message)
  if (collection === 'services') {
    if (typeof entity.url === 'string') {
      const parts = /^([a-z][a-z0-9+.-]*):\/\/([^/:?#]+)(?::(\d+))?(\/[^?#]*)?/i.exec(entity.url)
      if (!parts) return field('url', 'missing host in url')
      const protocol = parts[1]!.toLowerCase()
      entity.protocol = protocol
      entity.host = parts[2]
      entity.port = parts[3] ? Number(parts[3]) : protocol === 'https' || protocol === 'grpcs' ? 443 : 80
      entity.path = parts[4] ?? null
      delete entity.url
    }
    if (entity.host === undefined || entity.host === null) field('host', 'required field missing')
    if (
      entity.port !== undefined &&
      (typeof entity.port !== 'number' || entity.port < 0 || entity.port > 65535)
    )
      field('port', 'value should be between 0 and 65535')
    if (entity.protocol !== undefined && !SERVICE_PROTOCOLS.includes(String(entity.protocol)))
      field('protocol', `expected one of: ${SERVICE_PROTOCOLS.join(', ')}`)
  } else if (collection === 'consumers') {
    if (!entity.username && !entity.custom_id)
      field('@entity', "at least one of these fields must be non-empty: 'custom_id', 'username'")
  } else if (collection === 'plugins') {
    if (typeof entity.name !== 'string') field('name', 'required field missing')
    else if (!(entity.name in plugins))
      field('name', `plugin '${entity.name}' not enabled; add it to the 'plugins' configuration property`)
  }
}

/** Puts a message in the error tree; numeric steps are array indexes, `@entity` collects a list. */
function setError(tree: ErrorTree, path: (string | number)[], message: string): void {
  let node: Record<string | number, unknown> = tree
  for (let i = 0; i < path.length - 1; i++) {
    const step = path[i]!
    const nextIsIndex = typeof path[i + 1] === 'number'
    let next = node[step]
    if (typeof next !== 'object' || next === null) node[step] = next = nextIsIndex ? [] : {}
    node = next as Record<string | number, unknown>
  }
  const last = path[path.length - 1]!
  if (last === '@entity') ((node[last] ??= []) as string[]).push(message)
  else node[last] ??= message
}

/** errors:declarative_config(err_t). */
function declarativeError(fields: ErrorTree): Json {
  return {
    code: 14,
    name: 'invalid declarative configuration',
    message: `declarative config is invalid: ${luaPretty(fields)}`,
    fields,
  }
}

/**
 * errors:declarative_config_flattened(): entity errors move to `flattened_errors` (one entry per entity, nested
 * entities hoisted, their parent's primary key added), what is left stays in `fields` and the message.
 */
function declarativeErrorFlattened(fields: ErrorTree, input: Json): Json {
  const flattened: Json[] = []
  for (const section of Object.keys(fields).sort()) {
    const errors = fields[section]
    const entities = input[section]
    if (!Array.isArray(errors) || !Array.isArray(entities)) continue
    delete fields[section]
    errors.forEach((error, index) => addEntityErrors(section, entities[index], error, flattened))
  }
  return { ...declarativeError(fields), flattened_errors: flattened }
}

function addEntityErrors(collection: string, entity: unknown, error: unknown, flattened: Json[]): void {
  if (typeof error === 'string') error = { '@entity': [error] }
  if (!isRecord(error) || !isRecord(entity)) return
  entity = { ...entity }
  const item = entity as Json
  const pk = typeof item.id === 'string' && isUuid(item.id) ? { id: item.id } : undefined
  for (const [child, foreignKey] of Object.entries(NESTED[collection] ?? {})) {
    const children = item[child]
    if (!Array.isArray(children)) continue
    delete item[child]
    const childErrors = error[child]
    delete error[child]
    if (!Array.isArray(childErrors)) continue
    childErrors.forEach((childError, index) => {
      const childEntity = isRecord(children[index]) ? { ...children[index] } : children[index]
      if (isRecord(childEntity) && childEntity[foreignKey] === undefined && pk) childEntity[foreignKey] = pk
      addEntityErrors(child, childEntity, childError, flattened)
    })
  }
  const list: Json[] = []
  const categorize = (errs: Json, ns: string) => {
    for (const key of Object.keys(errs).sort()) {
      const value = errs[key]
      const name = ns ? `${ns}.${key}` : key
      if (key === '@entity') for (const message of [value].flat()) list.push({ type: 'entity', message })
      else if (typeof value === 'string') list.push({ type: 'field', field: name, message: value })
      else if (Array.isArray(value))
        value.forEach((v) => typeof v === 'string' && list.push({ type: 'field', field: name, message: v }))
      else if (isRecord(value)) categorize(value, name)
    }
  }
  categorize(error, '')
  if (list.length === 0) return
  const tags =
    Array.isArray(item.tags) && item.tags.every((t) => typeof t === 'string') ? item.tags : undefined
  flattened.push({
    ...(typeof item.name === 'string' && item.name !== '' ? { entity_name: item.name } : {}),
    ...(pk ? { entity_id: pk.id } : {}),
    ...(tags ? { entity_tags: tags } : {}),
    entity_type: collection.endsWith('s') ? collection.slice(0, -1) : collection,
    entity: item,
    errors: list,
  })
}

/** The 201 answer (foreign keys as `{id}`) or GET /config's entities (foreign keys as the id). */
function entitiesJson(entities: Record<string, Map<string, Entity>>, nestedForeign: boolean): Json {
  const out: Json = {}
  for (const [collection, map] of Object.entries(entities)) {
    const section: Json = {}
    for (const [id, entity] of map) section[id] = nestedForeign ? entity : withForeignIds(collection, entity)
    out[collection] = section
  }
  return out
}

function withForeignIds(collection: string, entity: Entity): Entity {
  const out: Entity = { ...entity }
  for (const field of Object.keys(FOREIGN[collection] ?? {})) {
    const id = foreignId(out[field])
    if (id !== undefined) out[field] = id
  }
  return out
}

/** GET /config: export_from_db() as YAML, `_format_version: "3.0"`, `_transform: false`, flat collections. */
function exportYaml(loaded: Loaded | null): string {
  const doc: Json = { _format_version: '3.0', _transform: false }
  const entities = loaded?.entities ?? {}
  const order = [...EXPORT_ORDER, ...Object.keys(entities).filter((c) => !EXPORT_ORDER.includes(c))]
  for (const collection of order) {
    const map = entities[collection]
    if (map && map.size > 0) doc[collection] = [...map.values()].map((e) => withForeignIds(collection, e))
  }
  return stringifyYaml(doc, { nullStr: '~' })
}

// ---------------------------------------------------------------------------------------------------------
// Routing

function matchRoute(
  routes: RouterEntry[],
  method: string,
  path: string,
  hostHeader: string,
): RouterEntry | undefined {
  const host = hostHeader.replace(/:\d+$/, '').toLowerCase()
  let best: { route: RouterEntry; score: number[] } | undefined
  for (const route of routes) {
    if (route.methods?.length && !route.methods.some((m) => m.toUpperCase() === method.toUpperCase()))
      continue
    let hostScore = 0
    if (route.hosts?.length) {
      hostScore = Math.max(0, ...route.hosts.map((h) => hostMatch(h.toLowerCase(), host)))
      if (hostScore === 0) continue
    }
    let pathScore = 0
    let regex = 0
    if (route.paths.length > 0) {
      let matched = false
      for (const p of route.paths) {
        if (p.startsWith('~')) {
          if (new RegExp(`^(?:${p.slice(1)})`).test(path)) {
            matched = true
            regex = 1
          }
        } else if (path.startsWith(p)) {
          matched = true
          pathScore = Math.max(pathScore, p.length)
        }
      }
      if (!matched) continue
    }
    const score = [hostScore, regex, pathScore, route.methods?.length ? 1 : 0]
    if (!best || compareScores(score, best.score) > 0) best = { route, score }
  }
  return best?.route
}

function hostMatch(pattern: string, host: string): number {
  if (pattern === host) return 2
  if (pattern.startsWith('*.') && host.endsWith(pattern.slice(1))) return 1
  if (pattern.endsWith('.*') && host.startsWith(pattern.slice(0, -1))) return 1
  return 0
}

function compareScores(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0)
  return 0
}

/** tools_http.get_response_type(): the type of the highest-quality Accept entry Kong has a template for. */
function responseType(accept: string | undefined): string {
  const types: Record<string, string> = {
    'application/json': 'application/json',
    'text/html': 'text/html',
    'text/plain': 'text/plain',
    'application/xml': 'application/xml',
    'application/*': 'application/json',
    'text/*': 'text/plain',
    '*/*': 'application/json',
  }
  let type = 'application/json'
  let best = 0
  for (const entry of (accept ?? '').split(',')) {
    const [media = '', ...params] = entry.trim().split(';')
    const q = Number(params.map((p) => /^\s*q=([\d.]+)/.exec(p)?.[1]).find((v) => v !== undefined) ?? 1)
    const known = types[media.trim().toLowerCase()]
    if (q > best) {
      best = q
      if (known) type = known
    }
  }
  return type
}

// ---------------------------------------------------------------------------------------------------------
// HTTP and encoding helpers

/** nginx's own error page for 413 (ngx_http_special_response.c), as openresty sends it. */
const NGINX_413 =
  '<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n' +
  '<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>openresty</center>\r\n</body>\r\n</html>\r\n'

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/**
 * self.params as Kong's Admin API builds it: the query, then a JSON object body (`application/json`; one that
 * does not parse is a 400), a form or a multipart body.
 */
async function requestParams(req: IncomingMessage, raw: Buffer, url: URL): Promise<Json | 'bad json'> {
  const params: Json = {}
  const add = (key: string, value: unknown) => {
    const old = params[key]
    params[key] = old === undefined ? value : Array.isArray(old) ? [...old, value] : [old, value]
  }
  for (const [key, value] of url.searchParams) add(key, value)
  const contentType = req.headers['content-type'] ?? ''
  const type = contentType.toLowerCase()
  if (!['POST', 'PUT', 'PATCH'].includes(req.method ?? '')) return params
  if (type.includes('application/json')) {
    const body = parseJson(raw.toString('utf8'))
    if (body === undefined) return 'bad json'
    if (isRecord(body)) Object.assign(params, body)
  } else if (type.includes('application/x-www-form-urlencode')) {
    for (const [key, value] of new URLSearchParams(raw.toString('utf8'))) add(key, value)
  } else if (type.includes('multipart/form-data')) {
    try {
      const form = await new Response(new Uint8Array(raw), {
        headers: { 'content-type': contentType },
      }).formData()
      for (const [key, value] of form) add(key, typeof value === 'string' ? value : await value.text())
    } catch {
      // An unreadable multipart body carries no fields.
    }
  }
  return params
}

/** kong.response.exit(status, table): cjson, which escapes `/`. No body for 304. */
function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  if (body === undefined) {
    res.writeHead(status, headers)
    res.end()
    return
  }
  const text = JSON.stringify(body).replace(/\//g, '\\/')
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  })
  res.end(text)
}

/** pl.pretty.write(t, ""), as Kong puts validation errors in its messages. */
function luaPretty(value: unknown): string {
  if (typeof value === 'string')
    return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (Array.isArray(value)) {
    const parts: string[] = []
    let sequence = true
    for (let i = 0; i < value.length; i++) {
      if (value[i] === undefined || value[i] === null) {
        sequence = false
        continue
      }
      parts.push(sequence ? luaPretty(value[i]) : `[${i + 1}]=${luaPretty(value[i])}`)
    }
    return `{${parts.join(',')}}`
  }
  if (isRecord(value)) {
    const parts = Object.keys(value)
      .sort()
      .filter((key) => value[key] !== undefined)
      .map((key) => `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : `["${key}"]`}=${luaPretty(value[key])}`)
    return `{${parts.join(',')}}`
  }
  return 'nil'
}

/** A path segment as Lapis hands it to a route: percent-decoded (left as sent when that fails). */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

function truthy(value: unknown): boolean {
  if (typeof value === 'string') return ['true', '1', 'on', 'yes'].includes(value.toLowerCase())
  return value === true || value === 1
}

function luaToString(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined ? 'nil' : JSON.stringify(value)
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)
}

function foreignId(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (isRecord(value) && typeof value.id === 'string') return value.id
  return undefined
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []
}

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex')
}

/** JSON with sorted keys: equal values give equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (isRecord(value))
    return `{${Object.keys(value)
      .sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(',')}}`
  return JSON.stringify(value) ?? 'null'
}

const ENTITIES_NAMESPACE = 'fd02801f-0957-4a15-a55a-c8d9606f30b5'

/** RFC 4122 version 5 UUID, as resty.jit-uuid's factory_v5. */
function uuidV5(namespace: string, name: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name)
    .digest()
  hash[6] = (hash[6]! & 0x0f) | 0x50
  hash[8] = (hash[8]! & 0x3f) | 0x80
  const hex = hash.subarray(0, 16).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/**
 * generate_ids(): a v5 UUID in the collection's namespace from the cache key (plugins, credentials) or the
 * endpoint key (name, username, ...); a random one when neither is known.
 */
function generateId(collection: string, entity: Entity): string {
  const namespace = uuidV5(ENTITIES_NAMESPACE, collection)
  const cacheKey = CACHE_KEY[collection]
  if (cacheKey) {
    const parts = [collection, '*']
    for (const field of cacheKey) {
      const value = entity[field]
      if (typeof value === 'string') parts.push(value)
      else if (isRecord(value) && typeof value.id === 'string') parts.push(value.id)
      else if (value === undefined || value === null) parts.push('')
      else return randomUUID()
    }
    return uuidV5(namespace, parts.join(':'))
  }
  const endpointKey = ENDPOINT_KEY[collection]
  const key = endpointKey ? entity[endpointKey] : undefined
  if (typeof key === 'string') return uuidV5(namespace, key)
  if (collection === 'targets' && typeof entity.target === 'string') {
    const upstream = foreignId(entity.upstream)
    if (upstream) return uuidV5(namespace, `${entity.target}:${upstream}:*`)
  }
  return randomUUID()
}
