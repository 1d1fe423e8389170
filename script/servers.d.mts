// Types for servers.mjs: throwaway PostgreSQL and Redis servers for the tests, the benchmark and the demo.

/** Name prefixes of the servers' temporary directories under os.tmpdir(). */
export declare const POSTGRES_DIR_PREFIX: 'deckhand-pg-'
export declare const REDIS_DIR_PREFIX: 'deckhand-redis-'

export interface PostgresServer {
  readonly host: '127.0.0.1'
  readonly port: number
  /** The superuser. */
  readonly user: string
  readonly password: string
  /** Where initdb, postgres, pg_ctl (and, on Debian, psql, pg_dump, pg_restore) are. */
  readonly binDir: string
  /** The server's temporary directory, removed by stop(): data/, socket/, postgres.log. */
  readonly dir: string
  readonly dataDir: string
  /** The server's log (stderr). */
  readonly logFile: string
  /** The postmaster's process id. */
  readonly pid: number
  /** postgres://user:password@127.0.0.1:port/database */
  url(database?: string): string
  /** PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE (default database: postgres), for libpq tools. */
  env(database?: string): Record<'PGHOST' | 'PGPORT' | 'PGUSER' | 'PGPASSWORD' | 'PGDATABASE', string>
  /**
   * Runs SQL (fed on stdin) with `psql -X -q -A -t -v ON_ERROR_STOP=1`; resolves to the trimmed output, rejects
   * with psql's stderr.
   */
  psql(sql: string, database?: string): Promise<string>
  /** As psql(), with the SQL read from a file. */
  psqlFile(file: string, database?: string): Promise<string>
  /** Fast shutdown (SIGKILL after 10 s), then removes the directory. Idempotent. */
  stop(): Promise<void>
}

export interface RedisServer {
  readonly host: '127.0.0.1'
  readonly port: number
  readonly password: string | undefined
  /** The server's temporary directory (its `dir`), removed by stop(). */
  readonly dir: string
  /** `${dir}/dump.rdb`: where SAVE and BGSAVE write, and what the server loaded at start if it was there. */
  readonly rdbFile: string
  readonly logFile: string
  readonly pid: number
  /** redis://:password@127.0.0.1:port/db, or redis://127.0.0.1:port/db without a password. */
  url(db?: number): string
  /** Runs redis-cli against the server (the password goes in REDISCLI_AUTH); resolves to the trimmed output. */
  cli(args: string[]): Promise<string>
  /** SIGTERM (SIGKILL after 10 s), then removes the directory. Idempotent. */
  stop(): Promise<void>
}

export interface StartPostgresOptions {
  /** Superuser name; default deckhand. */
  user?: string
  /** Superuser password; default random. */
  password?: string
}

export interface StartRedisOptions {
  /** requirepass; default none. */
  password?: string
}

/** $DECKHAND_TEST_PG_BIN, else the newest /usr/lib/postgresql/<version>/bin, else initdb's directory on PATH. */
export declare function findPostgresBin(): Promise<string>
export declare function startPostgres(options?: StartPostgresOptions): Promise<PostgresServer>
export declare function startRedis(options?: StartRedisOptions): Promise<RedisServer>
/** A new server whose directory holds a copy of `rdbFile` as dump.rdb, loaded at start. */
export declare function startRedisFromRdb(rdbFile: string, options?: StartRedisOptions): Promise<RedisServer>
/** Stops every server this process started. */
export declare function stopAll(): Promise<void>
/**
 * Kills the servers of processes that died without stopping them and removes their directories; spares those of
 * live processes other than this one. Resolves to the directories removed.
 */
export declare function cleanupLeftovers(): Promise<string[]>
