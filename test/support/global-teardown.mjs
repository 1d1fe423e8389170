// Jest global teardown: kills the PostgreSQL and Redis servers a crashed or killed test file left running and
// removes their directories (deckhand-pg-*, deckhand-redis-* under the temporary directory). Servers of other
// live processes, such as a benchmark running meanwhile, are left alone.
import { cleanupLeftovers } from '../../script/servers.mjs'

export default async function globalTeardown() {
  const removed = await cleanupLeftovers()
  if (removed.length > 0)
    console.warn(`global teardown: removed servers left behind in ${removed.join(', ')}`)
}
