import type { TableRecord } from '../backup/manifest.js'
import { countTables, listTables } from '../postgres/catalog.js'
import type { PsqlSession } from '../postgres/session.js'

/** One table whose rows differ from the manifest. */
export interface TableDifference {
  table: string
  expected: string
  actual: string
}

export interface ManifestComparison {
  tables: number
  rows: number
  differences: TableDifference[]
}

/**
 * Counts the rows of `tables` (records of a db-dump manifest) in one snapshot of the connected database, and
 * with `checksums` also their content where the manifest has a checksum, and lists every difference: a missing
 * table, another count, the same count with other content.
 */
export async function compareWithManifest(
  session: PsqlSession,
  tables: readonly TableRecord[],
  options: { checksums: boolean },
): Promise<ManifestComparison> {
  const result: ManifestComparison = { tables: 0, rows: 0, differences: [] }
  await session.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY')
  const present = new Set((await listTables(session)).map((t) => `${t.schema}.${t.table}`))
  const found = tables.filter((t) => {
    if (present.has(`${t.schema}.${t.table}`)) return true
    result.differences.push({
      table: `${t.schema}.${t.table}`,
      expected: `${t.rows} rows`,
      actual: 'table missing',
    })
    return false
  })
  const withChecksum = (t: TableRecord) => options.checksums && t.checksum !== undefined
  const counts = await countTables(
    session,
    found.map((table) => ({ table, checksum: withChecksum(table) })),
  )
  await session.query('ROLLBACK')
  for (const [i, count] of counts.entries()) {
    const want = found[i]!
    const name = `${want.schema}.${want.table}`
    result.tables++
    result.rows += count.rows
    if (count.rows !== want.rows) {
      result.differences.push({ table: name, expected: `${want.rows} rows`, actual: `${count.rows} rows` })
    } else if (withChecksum(want) && count.checksum !== want.checksum) {
      result.differences.push({
        table: name,
        expected: 'the dumped rows',
        actual: 'same count, different content',
      })
    }
  }
  return result
}
