import { createReadStream } from 'node:fs'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import { Parser, type ReadEntry } from 'tar'

import { DeckhandError, isDeckhandError } from '../errors.js'
import { type ArchiveLimits, GiB, LIMIT_INPUTS, mebibytes, MiB } from './limits.js'

const KiB = 1024

/** Sizes in messages, in the unit of the limits' inputs. */
export function formatSize(bytes: number): string {
  if (bytes >= GiB) return `${(bytes / GiB).toFixed(1)} GiB`
  return bytes >= MiB ? `${(bytes / MiB).toFixed(1)} MiB` : `${bytes} bytes`
}

/** An archive over one of the limits: refused while it streams, before the bytes over the limit are read. */
export class ArchiveLimitError extends DeckhandError {
  readonly limit: keyof ArchiveLimits

  constructor(limit: keyof ArchiveLimits, message: string) {
    super(message)
    this.name = 'ArchiveLimitError'
    this.limit = limit
  }
}

const NEEDS: Record<keyof ArchiveLimits, string> = {
  maxBytes: 'is that large',
  maxFileBytes: 'holds a file that large',
  maxEntries: 'holds that many',
}

/** A refusal over `limit`: what is over it (`lead`), what that means, and the input that raises it. */
export function limitError(
  limit: keyof ArchiveLimits,
  limits: ArchiveLimits,
  lead: string,
  consequence: string,
): ArchiveLimitError {
  const now = limit === 'maxEntries' ? limits.maxEntries : mebibytes(limits[limit])
  return new ArchiveLimitError(
    limit,
    `${lead}; ${consequence}. If the backup really ${NEEDS[limit]}, raise ${LIMIT_INPUTS[limit]} (now ${now}).`,
  )
}

/**
 * Per entry, the header's blocks (a pax header for a long path included) and the padding after the data: what
 * the tar stream may hold beyond the files' bytes. Generous: a path may be 4 KiB.
 */
const ENTRY_OVERHEAD = 8 * KiB
/** A pax header (path, times) is a few hundred bytes; tar's own default of 1 MiB is buffered whole. */
const MAX_META_ENTRY = 64 * KiB
/** Decompressed bytes at a time: what is held in memory per step, whatever the file sizes. */
const CHUNK = 64 * KiB

/**
 * Consumes one entry: reads body() to the end, or calls entry.resume() to skip it. The parser waits for the
 * consumer (backpressure), so at most a chunk or two of the archive is in memory at any time.
 */
export type EntryHandler = (entry: ReadEntry, body: () => AsyncIterable<Buffer>) => Promise<void>

export interface ReadArchiveOptions {
  limits: ArchiveLimits
  /** A problem tar reported (an invalid header, a truncated archive, a skipped entry type). */
  onWarn: (message: string) => void
  /** What a refusal means for the user, ending each limit's message, e.g. "nothing was restored". */
  consequence: string
}

/**
 * Reads a tar.gz entry by entry as a stream: the file is read, gunzipped and parsed in small chunks, each entry
 * handed to onEntry in archive order. Nothing is buffered whole, so memory does not grow with file sizes or the
 * compression ratio; the limits are checked at each header (declared sizes, entry count) and as bytes stream.
 * Rejects with the first error: a limit's ArchiveLimitError, a handler's error, or a DeckhandError for an archive
 * that is not a tar.gz.
 */
export async function readArchive(
  archive: string,
  onEntry: EntryHandler,
  options: ReadArchiveOptions,
): Promise<void> {
  const { limits, consequence } = options
  const refuse = {
    maxEntries: () =>
      limitError(
        'maxEntries',
        limits,
        `${archive} holds more than ${limits.maxEntries} files and directories`,
        consequence,
      ),
    maxFileBytes: (path: string) =>
      limitError(
        'maxFileBytes',
        limits,
        `${path} in ${archive} is larger than the limit for one file (${formatSize(limits.maxFileBytes)})`,
        consequence,
      ),
    maxBytes: () =>
      limitError(
        'maxBytes',
        limits,
        `${archive} unpacks to more than ${formatSize(limits.maxBytes)}`,
        consequence,
      ),
  }

  let failure: unknown
  const pending: Promise<void>[] = []
  let entries = 0
  let declared = 0
  let streamed = 0
  let raw = 0
  // Headers and padding are not the files' bytes, but they stream too: bounded, so that no archive runs forever.
  const rawLimit = limits.maxBytes + limits.maxEntries * ENTRY_OVERHEAD + MiB

  const parser = new Parser({
    strict: false,
    // The stream is gunzipped already: no second decompression (of a gzip inside the gzip) behind our back.
    brotli: false,
    zstd: false,
    maxMetaEntrySize: MAX_META_ENTRY,
    onwarn: (_code: string, message: string | Error) =>
      options.onWarn(message instanceof Error ? message.message : String(message)),
  })
  const sink: Writable = new Writable({
    highWaterMark: CHUNK,
    write(chunk: Buffer, _encoding, callback) {
      if (raw === 0 && chunk[0] === 0x1f && chunk[1] === 0x8b)
        return callback(
          new DeckhandError(`${archive} holds a gzip stream inside its gzip stream; ${consequence}.`),
        )
      raw += chunk.length
      if (raw > rawLimit) return callback(refuse.maxBytes())
      let more: boolean
      try {
        more = parser.write(chunk)
      } catch (err) {
        return callback(err as Error)
      }
      // false: the current entry's consumer is behind; the next chunk waits until it has caught up.
      if (more) callback()
      else parser.once('drain', () => callback())
    },
    final(callback) {
      parser.once('end', () => void Promise.all(pending).then(() => callback(), callback))
      parser.end()
    },
  })
  // The entry a handler is reading: ended on failure, so that its handler stops (and closes its files).
  let current: ReadEntry | undefined
  const fail = (err: unknown): void => {
    if (failure !== undefined) return
    failure = err
    sink.destroy(err instanceof Error ? err : new Error(String(err)))
    current?.destroy()
  }
  const stopped = () => new Error('reading the archive stopped')

  /** Checks an entry's header against the limits: refused before any of its bytes are read. */
  const admit = (entry: ReadEntry): boolean => {
    const size = entry.size ?? 0
    let err: ArchiveLimitError | undefined
    if (++entries > limits.maxEntries) err = refuse.maxEntries()
    else if (size > limits.maxFileBytes) err = refuse.maxFileBytes(entry.path)
    else if ((declared += size) > limits.maxBytes) err = refuse.maxBytes()
    if (err) fail(err)
    return err === undefined
  }

  parser.on('entry', (entry: ReadEntry) => {
    // A refused entry is left paused: the parser stops there and the pipeline is torn down.
    if (failure !== undefined || !admit(entry)) return
    current = entry
    async function* body(): AsyncGenerator<Buffer> {
      if (failure !== undefined) throw stopped()
      let own = 0
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        own += chunk.length
        streamed += chunk.length
        // The header's size bounds what the parser hands over; counted anyway, so a limit holds as bytes arrive.
        if (own > limits.maxFileBytes) throw refuse.maxFileBytes(entry.path)
        if (streamed > limits.maxBytes) throw refuse.maxBytes()
        yield chunk
        // A destroyed entry never ends: stop here rather than wait for it.
        if (failure !== undefined) throw stopped()
      }
      if (failure !== undefined) throw stopped()
    }
    pending.push(onEntry(entry, body).catch(fail))
  })
  // Entries tar skips by itself (unknown types, oversized metadata): counted, and reported.
  parser.on('ignoredEntry', (entry: ReadEntry) => {
    if (failure !== undefined || !admit(entry)) return
    options.onWarn(`${entry.path} is a ${entry.type} entry`)
  })
  parser.on('error', fail)

  try {
    await pipeline(
      createReadStream(archive, { highWaterMark: CHUNK }),
      createGunzip({ chunkSize: CHUNK }),
      sink,
    )
  } catch (err) {
    fail(err)
  }
  if (failure !== undefined) {
    // Every handler has finished (its files closed) before the caller cleans up.
    await Promise.allSettled(pending)
    throw readError(failure, archive, consequence)
  }
}

/** zlib's errors (a corrupt or truncated gzip stream) are the archive's fault, not a bug. */
function readError(err: unknown, archive: string, consequence: string): unknown {
  if (isDeckhandError(err)) return err
  const code = (err as NodeJS.ErrnoException)?.code
  if (typeof code === 'string' && code.startsWith('Z_'))
    return new DeckhandError(
      `${archive} is not a readable tar.gz (${(err as Error).message}); ${consequence}.`,
      [],
      { cause: err },
    )
  return err
}
