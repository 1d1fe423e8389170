import { randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { HttpClient } from '@actions/http-client'
import * as tc from '@actions/tool-cache'

import {
  type DeckPlatform,
  deckBinaryName,
  DownloadStatusError,
  normalizeVersion,
  retryDownload,
  type ToolStore,
} from '../engine/deck/install.js'

const TOOL = 'deck'

/**
 * The tool cache's "arch" slot. Kong/setup-deck keys entries by version and OS only; keying by both OS and
 * architecture keeps, say, an amd64 and an arm64 deck on one self-hosted runner apart.
 */
export function toolCacheKey(platform: DeckPlatform): string {
  return `${platform.os}-${platform.arch}`
}

export interface ToolCacheStoreOptions {
  /** Wait before the first retry of a failed download, doubled each time (default 1 s). */
  retryDelayMs?: number
  /** Per download attempt, with no data for this long (default 10 minutes). */
  socketTimeoutMs?: number
}

/**
 * A ToolStore on the runner's tool cache (`$RUNNER_TOOL_CACHE/deck/<version>/<os>-<arch>`, temporary files
 * in `$RUNNER_TEMP`). tool-cache marks an entry complete only after copying it, and find() ignores
 * incomplete ones.
 */
export class ToolCacheStore implements ToolStore {
  constructor(private readonly options: ToolCacheStoreOptions = {}) {}

  async find(version: string, platform: DeckPlatform): Promise<string | undefined> {
    const dir = tc.find(TOOL, normalizeVersion(version), toolCacheKey(platform))
    if (!dir) return undefined
    const binary = await stat(join(dir, deckBinaryName(platform))).catch(() => undefined)
    return binary?.isFile() ? dir : undefined
  }

  /**
   * Downloads through @actions/http-client, as tc.downloadTool does (so the runner's https_proxy and
   * no_proxy apply), but with the engine's retry policy: tc.downloadTool retries every failure three times,
   * 10 to 20 s apart, which keeps an air-gapped runner waiting on a name that will never resolve.
   */
  download(url: string): Promise<string> {
    const dest = join(process.env.RUNNER_TEMP || tmpdir(), randomUUID())
    return retryDownload(
      async () => {
        await mkdir(dirname(dest), { recursive: true })
        const client = new HttpClient('deckhand', [], {
          allowRetries: false,
          socketTimeout: this.options.socketTimeoutMs ?? 600_000,
        })
        try {
          const response = await client.get(url)
          const status = response.message.statusCode ?? 0
          if (status !== 200) {
            response.message.resume()
            throw new DownloadStatusError(status, response.message.statusMessage)
          }
          await pipeline(response.message, createWriteStream(dest, { mode: 0o600 }))
          return dest
        } catch (err) {
          await rm(dest, { force: true })
          throw err
        } finally {
          client.dispose()
        }
      },
      { retryDelayMs: this.options.retryDelayMs },
    )
  }

  extract(archivePath: string): Promise<string> {
    return tc.extractTar(archivePath)
  }

  save(extractedDir: string, version: string, platform: DeckPlatform): Promise<string> {
    return tc.cacheDir(extractedDir, TOOL, normalizeVersion(version), toolCacheKey(platform))
  }
}
