// Types for kong-db.mjs: Kong-shaped PostgreSQL databases for the tests, the benchmark and the demo.
import type { PostgresServer } from './servers.mjs'

/** test/fixtures/kong-db/schema.sql and seed.sql, as absolute paths. */
export declare const KONG_SCHEMA_FILE: string
export declare const KONG_SEED_FILE: string

/** Tables whose data is runtime state a backup may skip. */
export declare const KONG_RUNTIME_TABLES: readonly [
  'cluster_events',
  'ratelimiting_metrics',
  'response_ratelimiting_metrics',
  'clustering_data_planes',
  'clustering_rpc_requests',
  'locks',
  'oauth2_authorization_codes',
]

export interface KongDatabaseOptions {
  /**
   * Services in all, seed.sql's five included (default 5: the seed alone). Each generated service has two routes,
   * two plugins and `consumersPerService` consumers with a key-auth credential each.
   */
  services?: number
  /** Consumers (each with a key-auth credential) per generated service; default 1. */
  consumersPerService?: number
  /**
   * About this many more configuration rows (services, routes, plugins, consumers, key-auth credentials, all
   * tagged), on top of the seed; overrides `services`.
   */
  configEntities?: number
  /**
   * Runtime rows on top of the seed: ~60% ratelimiting_metrics, ~30% cluster_events, the rest split between
   * response_ratelimiting_metrics, oauth2_authorization_codes and locks. Default 0.
   */
  runtimeRows?: number
}

export interface KongDatabase {
  database: string
  /** Tables in the public schema. */
  tables: number
  /** Rows in all of them (the tags table included), counted. */
  rows: number
}

/** Creates `database` and loads schema.sql, seed.sql and the generated rows into it. */
export declare function loadKongDatabase(
  server: Pick<PostgresServer, 'psql' | 'psqlFile'>,
  database: string,
  options?: KongDatabaseOptions,
): Promise<KongDatabase>
