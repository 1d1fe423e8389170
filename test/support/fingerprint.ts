import type { PostgresServer } from '../../script/servers.mjs'

/**
 * Row count and an order-independent md5 of the rows of every table of the public schema, independent of
 * deckhand's own checksums; timestamps with time zone written in UTC, whatever the database's default.
 * One query for all tables: a psql per table would cost more than the restores under test.
 */
export async function fingerprint(pg: PostgresServer, database: string): Promise<Record<string, string>> {
  const tables = (
    await pg.psql(
      `SELECT string_agg(quote_ident(table_name), ' ' ORDER BY table_name)
       FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
      database,
    )
  )
    .split(' ')
    .filter(Boolean)
  if (tables.length === 0) return {}
  const lines = await pg.psql(
    "SET TIME ZONE 'UTC'; " +
      tables
        .map(
          (table) =>
            `SELECT '${table}' || '=' || count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text COLLATE "C")), '') FROM public.${table} t`,
        )
        .join(' UNION ALL '),
    database,
  )
  return Object.fromEntries(
    lines
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.lastIndexOf('=')), line.slice(line.lastIndexOf('=') + 1)]),
  )
}
