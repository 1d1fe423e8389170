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
