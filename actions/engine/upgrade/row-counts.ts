import { KONG_ENTITY_TABLES } from '../backup/kong-profile.js'
import type { DbManifest } from '../backup/manifest.js'
import type { TableDifference } from '../database/pg-restore.js'
import { privateTempDir } from '../fs-atomic.js'
import { countTables, listTables } from '../postgres/catalog.js'
import { type PgTarget, libpqEnv } from '../postgres/connection.js'
import { PsqlSession } from '../postgres/session.js'
import { locatePgClients } from '../postgres/tools.js'

export interface RowCountCheck {
  tables: number
  rows: number
  differences: TableDifference[]
}

/**
 * Compares the rows of every configuration table (the Kong entity tables the backup holds the rows of) in a
 * database with the backup's manifest, in one snapshot. Counts only: Kong's migrations may rewrite the rows
 * of a table (new columns, converted values) but never add or drop configuration.
 */
export async function compareRowCounts(
  target: PgTarget,
  manifest: DbManifest,
  options: { binDir?: string; pathEnv?: string },
): Promise<RowCountCheck> {
  const clients = await locatePgClients(options)
  const temp = await privateTempDir('deckhand-pg-')
  let session: PsqlSession | undefined
  try {
    session = await PsqlSession.open(clients.psql, await libpqEnv(target, temp.path), target)
    await session.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY')
    const present = new Set((await listTables(session)).map((t) => `${t.schema}.${t.table}`))
    const wanted = manifest.tables.filter((t) => t.data && KONG_ENTITY_TABLES.includes(t.table))
    const result: RowCountCheck = { tables: 0, rows: 0, differences: [] }
    const found = wanted.filter((t) => {
      if (present.has(`${t.schema}.${t.table}`)) return true
      result.differences.push({
        table: `${t.schema}.${t.table}`,
        expected: `${t.rows} rows`,
        actual: 'table missing',
      })
      return false
    })
    const counts = await countTables(
      session,
      found.map((table) => ({ table, checksum: false })),
    )
    await session.query('ROLLBACK')
    for (const [i, count] of counts.entries()) {
      const want = found[i]!
      result.tables++
      result.rows += count.rows
      if (count.rows !== want.rows) {
        result.differences.push({
          table: `${want.schema}.${want.table}`,
          expected: `${want.rows} rows`,
          actual: `${count.rows} rows`,
        })
      }
    }
    return result
  } finally {
    await session?.close()
    await temp.cleanup()
  }
}
