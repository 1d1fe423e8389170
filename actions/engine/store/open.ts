import { resolve } from 'node:path'

import { DeckhandError } from '../errors.js'
import type { Logger } from '../log.js'
import { LocalBackend } from './local.js'
import { parseS3Url, S3Backend } from './s3.js'
import { BackupStore } from './store.js'

/** Where a backup goes: a workflow artifact (the host's), a folder, or an S3 bucket. */
export type StoreTarget = { type: 'artifact' } | { type: 'path'; path: string } | { type: 's3'; url: string }

/** The `store` input: `artifact`, `s3://bucket/prefix`, or a local or mounted folder. */
export function parseStoreTarget(value: string): StoreTarget {
  const text = value.trim()
  if (text === 'artifact') return { type: 'artifact' }
  if (text.startsWith('s3://')) {
    parseS3Url(text)
    return { type: 's3', url: text }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text))
    throw new DeckhandError(
      `store ${text}: deckhand stores backups as artifacts, in a folder, or in S3 (s3://bucket/prefix, any S3-compatible service through store-endpoint).`,
    )
  if (text === '') throw new DeckhandError('store is empty: give artifact, a folder, or s3://bucket/prefix')
  return { type: 'path', path: resolve(text) }
}

export interface StoreOptions {
  endpoint?: string
  region?: string
  logger: Logger
}

/** Opens a folder or S3 store; an S3 endpoint must be an http(s) URL. */
export async function openStore(target: StoreTarget, options: StoreOptions): Promise<BackupStore> {
  if (target.type === 'artifact') throw new DeckhandError('artifacts are not a backup store deckhand lists')
  if (target.type === 'path') {
    if (options.endpoint) throw new DeckhandError('store-endpoint applies to s3:// stores only')
    return new BackupStore(new LocalBackend(target.path), options.logger)
  }
  if (options.endpoint !== undefined) {
    let url: URL
    try {
      url = new URL(options.endpoint)
    } catch {
      throw new DeckhandError(`store-endpoint ${options.endpoint} is not a URL (e.g. https://s3.example.com)`)
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new DeckhandError(`store-endpoint ${options.endpoint} must be an http or https URL`)
    if (url.username || url.password)
      throw new DeckhandError(
        'store-endpoint must not hold credentials: they come from the AWS credential chain',
      )
  }
  const backend = await S3Backend.open(parseS3Url(target.url), {
    endpoint: options.endpoint,
    region: options.region,
    logger: options.logger,
  })
  return new BackupStore(backend, options.logger)
}
