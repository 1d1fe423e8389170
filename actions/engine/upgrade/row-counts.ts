import { KONG_ENTITY_TABLES } from '../backup/kong-profile.js'
import type { DbManifest } from '../backup/manifest.js'
import { compareWithManifest, type ManifestComparison } from '../database/manifest-compare.js'
import { privateTempDir } from '../fs-atomic.js'
import { type PgTarget, libpqEnv } from '../postgres/connection.js'
import { PsqlSession } from '../postgres/session.js'
import { locatePgClients } from '../postgres/tools.js'

export type RowCountCheck = ManifestComparison

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
    const wanted = manifest.tables.filter((t) => t.data && KONG_ENTITY_TABLES.includes(t.table))
    return await compareWithManifest(session, wanted, { checksums: false })
  } finally {
    await session?.close()
    await temp.cleanup()
  }
}
