import { join } from 'node:path'

import { digestFiles, listFiles } from '../backup/checksums.js'
import { type DbManifest, DB_MANIFEST_FORMAT, MANIFEST_FILE, writeManifest } from '../backup/manifest.js'
import { DeckhandError } from '../errors.js'
import type { Logger } from '../log.js'
import { run } from '../process.js'
import {
  type RedisTarget,
  describeRedis,
  explainRedisError,
  redisCliArgs,
  redisCliEnv,
} from '../redis/connection.js'
import { TOOL_VERSION } from '../version.js'
import type { DbDumpResult } from './pg-dump.js'
import { pendingFolder, safeName, timestamp } from './folder.js'

export interface RedisDumpOptions {
  target: RedisTarget
  outputDir: string
  verify: boolean
  /** Folder holding redis-cli and redis-check-rdb; default: PATH. */
  binDir?: string
  logger: Logger
}

/** `INFO` output as key/value pairs. */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon > 0 && !line.startsWith('#')) out.set(line.slice(0, colon), line.slice(colon + 1).trim())
  }
  return out
}

/**
 * Dumps a Redis server (Tyk keeps its keys, quotas and OAuth data there) with redis-cli --rdb, which
 * streams a point-in-time RDB through replication, so it works remotely and without touching the
 * server's own dump.rdb. The file is checked with redis-check-rdb and recorded in a manifest.
 */
export async function dumpRedis(options: RedisDumpOptions): Promise<DbDumpResult> {
  const { target, logger } = options
  const t0 = performance.now()
  const started = new Date()
  const cli = options.binDir ? join(options.binDir, 'redis-cli') : 'redis-cli'
  const env = redisCliEnv(target)
  const exec = async (args: string[]) => {
    const result = await run(cli, [...redisCliArgs(target), ...args], { env }).catch(
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT')
          throw new DeckhandError(
            'redis-cli not found: install it (Debian/Ubuntu: apt-get install redis-tools).',
          )
        throw err
      },
    )
    // redis-cli prints server errors on stdout and still exits 0 for some of them.
    const output = `${result.stderr}\n${result.stdout}`
    if (result.exitCode !== 0 || /^(?:\(error\) )?(?:ERR|NOAUTH|WRONGPASS|NOPERM)\b/m.test(result.stdout)) {
      throw new DeckhandError(explainRedisError(output, target))
    }
    return result
  }
  const version =
    (await run(cli, ['--version'], { env }).catch(() => undefined))?.stdout.trim().split(' ')[1] ?? 'unknown'
  const server = parseInfo((await exec(['INFO', 'server'])).stdout)
  const keyspace = parseInfo((await exec(['INFO', 'keyspace'])).stdout)
  const tables = [...keyspace.entries()]
    .filter(([name]) => /^db\d+$/.test(name))
    .map(([name, value]) => ({
      schema: 'redis',
      table: name,
      rows: Number(/keys=(\d+)/.exec(value)?.[1] ?? 0),
      data: true,
    }))

  const name = `redis-${safeName(target.host)}-${target.port}-${timestamp(started)}`
  const pending = await pendingFolder(options.outputDir, name)
  try {
    logger.info(
      `Dumping ${describeRedis(target)} (Redis ${server.get('redis_version') ?? '?'}) with redis-cli ${version} --rdb.`,
    )
    const file = join(pending.path, 'dump.rdb')
    const dumped = await run(cli, [...redisCliArgs(target), '--rdb', file], { env })
    if (dumped.signal || dumped.exitCode !== 0) {
      const why = dumped.signal
        ? `redis-cli was killed (${dumped.signal})`
        : explainRedisError(`${dumped.stderr}\n${dumped.stdout}`, target)
      throw new DeckhandError(`${why}. The incomplete dump was removed; earlier backups are untouched.`)
    }
    if (options.verify) {
      const checker = options.binDir ? join(options.binDir, 'redis-check-rdb') : 'redis-check-rdb'
      const checked = await run(checker, [file]).catch(() => undefined)
      if (!checked)
        logger.warn('redis-check-rdb not found: the RDB file was not checked (install redis-tools).')
      else if (checked.exitCode !== 0)
        throw new DeckhandError(
          `redis-check-rdb rejects the new dump: ${checked.stdout.trim().split('\n').slice(-3).join(' ')}`,
        )
    }
    const digests = await digestFiles(pending.path, await listFiles(pending.path))
    const sizeBytes = digests.reduce((sum, f) => sum + f.size, 0)
    const manifest: DbManifest = {
      format: DB_MANIFEST_FORMAT,
      engine: 'redis',
      tool: { name: 'deckhand', version: TOOL_VERSION },
      clients: { 'redis-cli': version },
      server: { version: server.get('redis_version') ?? 'unknown' },
      database: tables.map((t) => t.table).join(',') || 'empty',
      dump: { path: 'dump.rdb', format: 'rdb' },
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      tables,
      totals: { tables: tables.length, rows: tables.reduce((sum, t) => sum + t.rows, 0), sizeBytes },
      files: digests,
    }
    await writeManifest(pending.path, manifest)
    const folder = await pending.commit()
    return {
      folder,
      manifestPath: join(folder, MANIFEST_FILE),
      manifest,
      durationMs: Math.round(performance.now() - t0),
      notes: [],
    }
  } finally {
    await pending.discard()
  }
}
