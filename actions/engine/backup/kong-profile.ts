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
export const KONG_SKIPPED_TABLES: readonly string[] = [
  'cluster_events',
  'ratelimiting_metrics',
  'response_ratelimiting_metrics',
  'clustering_data_planes',
  'clustering_rpc_requests',
  'locks',
  'oauth2_authorization_codes',
]

/**
 * Kong's runtime tables whose rows are kept: counted after a restore, but not checksummed, since
 * hashing every token or session of a busy gateway would slow the dump for no configuration value.
 */
export const KONG_RUNTIME_TABLES: readonly string[] = [
  ...KONG_SKIPPED_TABLES,
  'oauth2_tokens',
  'sessions',
  'session_metadatas',
]

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
