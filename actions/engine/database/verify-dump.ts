import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { createGunzip } from 'node:zlib'

import type { TableRecord } from '../backup/manifest.js'
import { DeckhandError } from '../errors.js'
import type { DumpFormat } from '../postgres/commands.js'
import { pgRestoreListArgs } from '../postgres/commands.js'
import { run } from '../process.js'

/** What pg_dump writes at the very end of a plain dump. */
const PLAIN_TRAILER = 'PostgreSQL database dump complete'

/**
 * Reads a fresh dump back: for archive formats, pg_restore --list must read its table of contents, and
 * that must carry the rows of exactly the tables the manifest says were dumped; a plain dump must end
 * with pg_dump's completion line.
 */
export async function checkDumpReadable(
  pgRestore: string,
  format: DumpFormat,
  path: string,
  tables: readonly TableRecord[],
): Promise<void> {
  if (format === 'plain') return checkPlainDump(path)
  const listed = await run(pgRestore, pgRestoreListArgs(path))
  if (listed.exitCode !== 0) {
    throw new DeckhandError(
      `pg_restore cannot read the new dump: ${listed.stderr.trim() || 'no error output'}`,
    )
  }
  // "3345; 0 16390 TABLE DATA public services kong": one entry per table whose rows were dumped.
  const withData = new Set<string>()
  for (const line of listed.stdout.split('\n')) {
    const match = /^\d+; \d+ \d+ TABLE DATA (\S+) (\S+) /.exec(line)
    if (match) withData.add(`${match[1]}.${match[2]}`)
  }
  const problems: string[] = []
  for (const t of tables) {
    // Names with spaces cannot be told apart in the listing; they are left to the restore check.
    if (/\s/.test(t.schema + t.table)) continue
    const has = withData.has(`${t.schema}.${t.table}`)
    if (t.data && !has) problems.push(`${t.schema}.${t.table}: rows missing from the dump`)
    if (!t.data && has) problems.push(`${t.schema}.${t.table}: rows dumped although they were to be skipped`)
  }
  if (problems.length) throw new DeckhandError('The new dump does not hold what was dumped', problems)
}

async function checkPlainDump(path: string): Promise<void> {
  let tail: string
  if (path.endsWith('.gz')) {
    tail = await gunzipTail(path)
  } else if (path.endsWith('.sql')) {
    const handle = await open(path, 'r')
    try {
      const { size } = await handle.stat()
      const length = Math.min(size, 4096)
      const buffer = Buffer.alloc(length)
      await handle.read(buffer, 0, length, size - length)
      tail = buffer.toString('utf8')
    } finally {
      await handle.close()
    }
  } else {
    return // lz4 and zstd: no decompressor at hand; the checksums still guard the file.
  }
  if (!tail.includes(PLAIN_TRAILER)) {
    throw new DeckhandError(
      `The plain dump ${path} is incomplete: it does not end with pg_dump's completion line.`,
    )
  }
}

/** The last 4 KiB of a gzip file's content, read through the whole stream (which also proves it intact). */
async function gunzipTail(path: string): Promise<string> {
  let tail = Buffer.alloc(0)
  try {
    for await (const chunk of createReadStream(path).pipe(createGunzip())) {
      tail = Buffer.concat([tail, chunk as Buffer]).subarray(-4096)
    }
  } catch (err) {
    throw new DeckhandError(`The plain dump ${path} is not a valid gzip file: ${(err as Error).message}`)
  }
  return tail.toString('utf8')
}
