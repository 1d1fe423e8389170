/**
 * The `kong` dump profile: which of Kong's tables hold only short-lived runtime state. Their
 * definitions are always dumped; their rows are not, because a restored gateway neither needs nor
 * can use them, and on a busy gateway they are most of the database.
 *
 * Kong publishes no official list; this one follows its schema and source:
 * - cluster_events: cache-invalidation events between nodes; stale after a restore.
 * - ratelimiting_metrics, response_ratelimiting_metrics: rate-limiting counters (policy: cluster);
 *   they restart from zero, as they do at the turn of every window.
 * - clustering_data_planes: the control plane's list of connected data planes; they register again.
 * - clustering_rpc_requests: a transient control plane / data plane queue.
 * - locks: cluster mutexes (the migrations lock among them), which must not survive a restore.
 * - oauth2_authorization_codes: OAuth2 codes that expire within seconds.
 *
 * Never skipped: every configuration and credential table, schema_meta (migration state), and the
 * runtime tables whose loss users would notice: oauth2_tokens (every client would have to log in
 * again), sessions and session_metadatas (users logged out), acme_storage (certificates would be
 * re-issued against CA rate limits) and clustering_sync_version.
 */
const KONG_OSS_SKIPPED_TABLES: readonly string[] = [
  'cluster_events',
  'ratelimiting_metrics',
  'response_ratelimiting_metrics',
  'clustering_data_planes',
  'clustering_rpc_requests',
  'locks',
  'oauth2_authorization_codes',
]

/**
 * Kong Enterprise's runtime tables. Enterprise's migrations are not in Kong's releases on GitHub; each
 * name here is one Kong made public:
 * - [docs] Kong/docs.konghq.com app/_src/gateway/kong-enterprise/analytics/estimates.md ("Estimate
 *   Vitals Storage in PostgreSQL", Gateway 3.3.x and 3.4.x docs; app/gateway/2.8.x/vitals/vitals-estimates.md
 *   for 2.8.x): Vitals' node statistics and status code counts, kept by Kong for at most two years.
 * - [ee] Kong/kong, branch FTI-6378 (Kong Gateway Enterprise 3.10.0.0 source, kong/enterprise_edition/meta.lua):
 *   kong/enterprise_edition/db/migrations/enterprise/000_base.lua and 010_2200_to_2211.lua create them.
 *
 * Vitals was removed in Kong Gateway Enterprise 3.5 (changelog/3.5.0.0/kong-ee/restrict_portal_and_vitals.yml on
 * that branch), but the migrations never drop its tables: databases upgraded from 3.4 or earlier still hold them.
 *
 * Deliberately not skipped:
 * - vitals_locks: its migration seeds the row ('delete_status_codes', NULL) that Vitals' cleanup takes its lock
 *   on with an UPDATE (kong/vitals/postgres/strategy.lua); restored without it, the cleanup never runs again.
 * - workspace_entity_counters: entity counts per workspace, kept in step with the configuration rows
 *   (/license/report and /workspaces?counter read them, per the 3.9 changelog in Kong/developer.konghq.com
 *   app/_data/changelogs/gateway.json).
 * - license_data, login_attempts, audit_*: licence usage, admin lockouts and the audit trail are records, not
 *   caches.
 */
const KONG_ENTERPRISE_SKIPPED_TABLES: readonly string[] = [
  // [ee] 000_base.lua: rate-limiting-advanced's counters (strategy cluster), the same kind of data as
  // ratelimiting_metrics.
  'rl_counters',
  // [ee] 000_base.lua: the template every vitals_stats_seconds_<interval> table is created LIKE (empty itself).
  'vitals_stats_seconds',
  // [docs] and [ee] 000_base.lua.
  'vitals_stats_minutes',
  // [ee] 000_base.lua.
  'vitals_stats_hours',
  // [docs] and [ee] 010_2200_to_2211.lua.
  'vitals_stats_days',
  // [ee] 000_base.lua: each node records itself (node id, hostname, last report) when Vitals starts on it.
  'vitals_node_meta',
  // [docs] and [ee] 000_base.lua.
  'vitals_code_classes_by_cluster',
  'vitals_code_classes_by_workspace',
  'vitals_codes_by_route',
  // [ee] 000_base.lua.
  'vitals_codes_by_consumer_route',
]

/**
 * Vitals' per-second statistics live in tables Kong creates and drops every hour, named
 * vitals_stats_seconds_<interval> ([docs] calls them vitals_stats_seconds_timestamp; [ee]
 * kong/vitals/postgres/table_rotater.lua names them "vitals_stats_seconds_" .. interval).
 */
const VITALS_SECONDS_TABLE = /^vitals_stats_seconds_[0-9]+$/

/** Every table whose rows the kong profile leaves out, Kong's and Kong Enterprise's. */
export const KONG_SKIPPED_TABLES: readonly string[] = [
  ...KONG_OSS_SKIPPED_TABLES,
  ...KONG_ENTERPRISE_SKIPPED_TABLES,
]

/** Whether the kong profile leaves out the rows of this table (of a Kong schema). */
export function isKongSkippedTable(table: string): boolean {
  return KONG_SKIPPED_TABLES.includes(table) || VITALS_SECONDS_TABLE.test(table)
}

/**
 * Kong's runtime tables whose rows are kept: counted after a restore, but not checksummed, since
 * hashing every token or session of a busy gateway would slow the dump for no configuration value.
 */
export const KONG_RUNTIME_TABLES: readonly string[] = [
  ...KONG_SKIPPED_TABLES,
  'oauth2_tokens',
  'sessions',
  'session_metadatas',
  // Enterprise: the lock row must be restored (see above), but its expiry is runtime state.
  'vitals_locks',
]

/** Whether a table (of a Kong schema) holds runtime state: counted, never checksummed. */
export function isKongRuntimeTable(table: string): boolean {
  return KONG_RUNTIME_TABLES.includes(table) || VITALS_SECONDS_TABLE.test(table)
}

export type Profile = 'kong' | 'none'

/**
 * Tables holding the gateway's configuration entities (what decK manages): rows in any of them mean the
 * gateway is configured, and their rows are the entities a database restore brings back.
 */
export const KONG_ENTITY_TABLES: readonly string[] = [
  'services',
  'routes',
  'consumers',
  'plugins',
  'upstreams',
  'targets',
  'certificates',
  'snis',
  'ca_certificates',
  'keys',
  'key_sets',
  'sm_vaults',
  'filter_chains',
  'acls',
  'basicauth_credentials',
  'hmacauth_credentials',
  'jwt_secrets',
  'keyauth_credentials',
  'oauth2_credentials',
  'consumer_groups',
  'consumer_group_consumers',
  'consumer_group_plugins',
]

/**
 * Kong Enterprise data that decK does not manage, so a declarative restore cannot bring it back: admins,
 * RBAC users and roles, the keyring, licences, the Dev Portal, event hooks. Matched as table-name prefixes.
 */
export const KONG_UNMANAGED_ENTERPRISE_TABLES: readonly string[] = [
  'admins',
  'rbac_',
  'keyring_',
  'licenses',
  'developers',
  'portal_',
  'event_hooks',
  'groups',
  'group_rbac_roles',
  'login_attempts',
  'audit_',
  'applications',
  'application_instances',
]

export function isUnmanagedEnterpriseTable(table: string): boolean {
  return KONG_UNMANAGED_ENTERPRISE_TABLES.some((p) => (p.endsWith('_') ? table.startsWith(p) : table === p))
}
