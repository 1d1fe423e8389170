import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import * as tc from '@actions/tool-cache'

import {
  type DeckPlatform,
  deckBinaryName,
  normalizeVersion,
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

/**
 * A ToolStore on the runner's tool cache (`$RUNNER_TOOL_CACHE/deck/<version>/<os>-<arch>`, temporary files
 * in `$RUNNER_TEMP`). tool-cache marks an entry complete only after copying it, and find() ignores
 * incomplete ones.
 */
export class ToolCacheStore implements ToolStore {
  async find(version: string, platform: DeckPlatform): Promise<string | undefined> {
    const dir = tc.find(TOOL, normalizeVersion(version), toolCacheKey(platform))
    if (!dir) return undefined
    const binary = await stat(join(dir, deckBinaryName(platform))).catch(() => undefined)
    return binary?.isFile() ? dir : undefined
  }

  download(url: string): Promise<string> {
    return tc.downloadTool(url)
  }

  extract(archivePath: string): Promise<string> {
    return tc.extractTar(archivePath)
  }

  save(extractedDir: string, version: string, platform: DeckPlatform): Promise<string> {
    return tc.cacheDir(extractedDir, TOOL, normalizeVersion(version), toolCacheKey(platform))
  }
}
