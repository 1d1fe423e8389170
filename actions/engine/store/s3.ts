import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { join } from 'node:path'
import type { Readable } from 'node:stream'

import { DeckhandError, errorMessage } from '../errors.js'
import { privateTempDir } from '../fs-atomic.js'
import type { Logger } from '../log.js'
import type { Backend, StoredObject } from './backend.js'
import { sha256File } from '../backup/checksums.js'
import { writeHashed } from './local.js'

type S3Library = typeof import('./s3-library.js')
type S3Client = InstanceType<S3Library['S3Client']>

/** Objects up to this size go in one PutObject; larger ones in parts of this size (S3 allows 10,000 parts). */
const PART_BYTES = 16 * 1024 * 1024

export interface S3Location {
  bucket: string
  /** Without leading or trailing slash; '' for the bucket's root. */
  prefix: string
}

export interface S3Options {
  /** An S3-compatible service's URL (path-style addressing); default AWS's endpoints for the region. */
  endpoint?: string
  /** Default: the SDK's chain (AWS_REGION, the profile), else us-east-1 for a custom endpoint. */
  region?: string
  logger: Logger
}

/** What the bucket asks of every object written, read once when the store is opened. */
interface WriteSettings {
  encryption: Record<string, string>
  /** Object Lock: the bucket's default retention, set explicitly on each object. */
  lock?: { mode: 'GOVERNANCE' | 'COMPLIANCE'; days: number }
  description: string[]
}

/**
 * An S3 bucket (AWS, or any S3-compatible service through `endpoint`) through the AWS SDK for JavaScript v3.
 * Credentials come from the SDK's default chain only (in GitHub Actions: OIDC through
 * aws-actions/configure-aws-credentials); deckhand takes no keys as inputs. Every object is sent with its SHA-256,
 * which S3 checks on arrival (a body that does not match is refused, BadDigest), and read back with
 * `ChecksumMode: ENABLED`; store.ts checks every download against the manifest's SHA-256 as well, since a
 * multipart object's checksum is only a checksum of its parts' checksums.
 */
export class S3Backend implements Backend {
  readonly description: string
  private settings: WriteSettings | undefined

  private constructor(
    private readonly s3: S3Library,
    private readonly client: S3Client,
    private readonly location: S3Location,
    private readonly logger: Logger,
  ) {
    this.description = `s3://${location.bucket}${location.prefix ? `/${location.prefix}` : ''}`
  }

  static async open(location: S3Location, options: S3Options): Promise<S3Backend> {
    const s3 = await import('./s3-library.js')
    const region =
      options.region ??
      (process.env.AWS_REGION ||
        process.env.AWS_DEFAULT_REGION ||
        (options.endpoint ? 'us-east-1' : undefined))
    const client = new s3.S3Client({
      region,
      endpoint: options.endpoint,
      forcePathStyle: options.endpoint !== undefined,
      // Transient failures (throttling, 5xx, dropped connections) are retried with the SDK's backoff.
      maxAttempts: 5,
    })
    return new S3Backend(s3, client, location, options.logger)
  }

  private key(key: string): string {
    return this.location.prefix ? `${this.location.prefix}/${key}` : key
  }

  /**
   * Encryption and retention as the bucket dictates: its default encryption is asked for explicitly (so a policy
   * that requires the header is met), and its Object Lock default retention is set on each object.
   */
  async writeSettings(): Promise<WriteSettings> {
    if (this.settings) return this.settings
    const s3 = this.s3
    const Bucket = this.location.bucket
    const settings: WriteSettings = { encryption: {}, description: [] }
    try {
      const out = await this.client.send(new s3.GetBucketEncryptionCommand({ Bucket }))
      const rule = out.ServerSideEncryptionConfiguration?.Rules?.[0]
      const sse = rule?.ApplyServerSideEncryptionByDefault
      if (sse?.SSEAlgorithm) {
        settings.encryption.ServerSideEncryption = sse.SSEAlgorithm
        if (sse.KMSMasterKeyID) settings.encryption.SSEKMSKeyId = sse.KMSMasterKeyID
        settings.description.push(
          `server-side encryption ${sse.SSEAlgorithm}${sse.KMSMasterKeyID ? ` (${sse.KMSMasterKeyID})` : ''}, as the bucket's default`,
        )
      }
    } catch (err) {
      const code = errorCode(err)
      if (code === 'ServerSideEncryptionConfigurationNotFoundError') {
        settings.description.push('no default encryption configured on the bucket')
      } else if (code === 'AccessDenied') {
        settings.description.push(
          "the bucket's encryption settings could not be read (s3:GetEncryptionConfiguration)",
        )
      } else throw this.failure(err, 'GetBucketEncryption', '')
    }
    try {
      const out = await this.client.send(new s3.GetObjectLockConfigurationCommand({ Bucket }))
      const config = out.ObjectLockConfiguration
      const retention = config?.Rule?.DefaultRetention
      if (config?.ObjectLockEnabled === 'Enabled' && retention?.Mode) {
        const days = retention.Days ?? (retention.Years ?? 0) * 365
        if (days > 0) {
          settings.lock = { mode: retention.Mode as 'GOVERNANCE' | 'COMPLIANCE', days }
          settings.description.push(
            `Object Lock ${retention.Mode} retention of ${days} day(s) on each object`,
          )
        }
      }
    } catch (err) {
      const code = errorCode(err)
      if (code !== 'ObjectLockConfigurationNotFoundError' && code !== 'AccessDenied')
        throw this.failure(err, 'GetObjectLockConfiguration', '')
    }
    if (settings.description.length > 0)
      this.logger.info(`${this.description}: ${settings.description.join('; ')}`)
    this.settings = settings
    return settings
  }

  private objectParams(settings: WriteSettings): Record<string, unknown> {
    const params: Record<string, unknown> = { ...settings.encryption }
    if (settings.lock) {
      params.ObjectLockMode = settings.lock.mode
      params.ObjectLockRetainUntilDate = new Date(Date.now() + settings.lock.days * 86_400_000)
    }
    return params
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    const strip = this.location.prefix ? this.location.prefix.length + 1 : 0
    let token: string | undefined
    do {
      let out
      try {
        out = await this.client.send(
          new this.s3.ListObjectsV2Command({
            Bucket: this.location.bucket,
            Prefix: this.key(prefix),
            ContinuationToken: token,
          }),
        )
      } catch (err) {
        throw this.failure(err, 'ListBucket', prefix)
      }
      for (const object of out.Contents ?? []) {
        if (object.Key === undefined) continue
        yield { key: object.Key.slice(strip), size: object.Size ?? 0 }
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined
    } while (token)
  }

  async putFile(key: string, file: string, sha256: string, size: number): Promise<void> {
    const settings = await this.writeSettings()
    const Bucket = this.location.bucket
    const Key = this.key(key)
    try {
      if (size <= PART_BYTES) {
        // The whole object's SHA-256 goes with it: S3 refuses the body if it does not match (BadDigest).
        await this.client.send(
          new this.s3.PutObjectCommand({
            Bucket,
            Key,
            Body: createReadStream(file),
            ContentLength: size,
            ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
            ...this.objectParams(settings),
          }),
        )
      } else {
        // Each part carries its own SHA-256, checked by S3; a failed upload aborts and leaves no parts behind.
        const upload = new this.s3.Upload({
          client: this.client,
          params: {
            Bucket,
            Key,
            Body: createReadStream(file),
            ChecksumAlgorithm: 'SHA256',
            ...this.objectParams(settings),
          },
          partSize: PART_BYTES,
          queueSize: 4,
          leavePartsOnError: false,
        })
        await upload.done()
      }
    } catch (err) {
      throw this.failure(err, 'PutObject', key)
    }
  }

  async putProduced(
    key: string,
    produce: (path: string) => Promise<void>,
  ): Promise<{ sha256: string; size: number }> {
    const temp = await privateTempDir('deckhand-s3-')
    try {
      const path = join(temp.path, 'object')
      await produce(path)
      const digest = await sha256File(path)
      await this.putFile(key, path, digest.sha256, digest.size)
      return digest
    } finally {
      await temp.cleanup()
    }
  }

  async putBytes(key: string, data: Uint8Array): Promise<void> {
    const settings = await this.writeSettings()
    try {
      await this.client.send(
        new this.s3.PutObjectCommand({
          Bucket: this.location.bucket,
          Key: this.key(key),
          Body: data,
          ChecksumSHA256: createHash('sha256').update(data).digest('base64'),
          ...this.objectParams(settings),
        }),
      )
    } catch (err) {
      throw this.failure(err, 'PutObject', key)
    }
  }

  /** GetObject, asking S3 for the checksum it stored (the SDK checks a single-part object's on arrival). */
  private async get(key: string) {
    return this.client.send(
      new this.s3.GetObjectCommand({
        Bucket: this.location.bucket,
        Key: this.key(key),
        ChecksumMode: 'ENABLED',
      }),
    )
  }

  async getFile(key: string, file: string): Promise<{ sha256: string; size: number }> {
    let body: Readable
    try {
      body = (await this.get(key)).Body as Readable
    } catch (err) {
      throw this.failure(err, 'GetObject', key)
    }
    try {
      return await writeHashed(body, file)
    } catch (err) {
      // The SDK's own check of S3's checksum fails the stream: the object is not what was stored.
      throw new DeckhandError(
        `${key} in ${this.description} could not be read whole (${errorMessage(err)}): it is damaged or the connection failed.`,
        [],
        { cause: err },
      )
    }
  }

  async getBytes(key: string, maxBytes: number): Promise<Uint8Array | undefined> {
    try {
      const out = await this.get(key)
      if ((out.ContentLength ?? 0) > maxBytes) {
        ;(out.Body as Readable).destroy()
        throw new DeckhandError(`${key} in ${this.description} is larger than ${maxBytes} bytes`)
      }
      return await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()
    } catch (err) {
      if (err instanceof DeckhandError) throw err
      if (errorCode(err) === 'NoSuchKey') return undefined
      throw this.failure(err, 'GetObject', key)
    }
  }

  async remove(key: string): Promise<void> {
    try {
      await this.client.send(
        new this.s3.DeleteObjectCommand({ Bucket: this.location.bucket, Key: this.key(key) }),
      )
    } catch (err) {
      throw this.failure(err, 'DeleteObject', key)
    }
  }

  /** An SDK failure as an actionable message: what was refused, and what to change. */
  private failure(err: unknown, action: string, key: string): DeckhandError {
    if (err instanceof DeckhandError) return err
    const code = errorCode(err)
    const where = `${this.description}${key ? ` (${key})` : ''}`
    const say = (message: string) => new DeckhandError(message, [], { cause: err })
    switch (code) {
      case 'AccessDenied':
      case 'AllAccessDisabled':
        return say(
          `${where}: access denied to s3:${action}. Grant the role deckhand runs as s3:PutObject, s3:GetObject, ` +
            `s3:ListBucket and (for retention) s3:DeleteObject on ${this.location.bucket}.`,
        )
      case 'InvalidAccessKeyId':
      case 'SignatureDoesNotMatch':
      case 'ExpiredToken':
      case 'InvalidToken':
        return say(
          `${where}: the AWS credentials were refused (${code}). Check the credentials the step runs with ` +
            '(aws-actions/configure-aws-credentials, AWS_PROFILE, AWS_ACCESS_KEY_ID).',
        )
      case 'NoSuchBucket':
        return say(
          `${where}: bucket ${this.location.bucket} does not exist (check the name, the account and store-endpoint).`,
        )
      case 'CredentialsProviderError':
        return say(
          `${where}: no AWS credentials found. In GitHub Actions configure them with aws-actions/configure-aws-credentials ` +
            '(OIDC, no stored keys); elsewhere set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. deckhand takes no keys as inputs.',
        )
      case 'BadDigest':
      case 'InvalidDigest':
      case 'XAmzContentSHA256Mismatch':
        return say(
          `${where}: S3 refused the upload because its checksum did not match what arrived (${code}); nothing was stored.`,
        )
      case 'NoSuchKey':
        return say(`${where}: no such object.`)
    }
    const message = errorMessage(err)
    if (/region is missing/i.test(message))
      return say(`${where}: no AWS region: set store-region, or AWS_REGION in the environment.`)
    const net = (err as { code?: string }).code
    if (net && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET)$/.test(net))
      return say(`${where}: cannot reach the S3 endpoint (${net}).`)
    return say(`${where}: s3:${action} failed: ${code ?? ''}${code ? ': ' : ''}${message}`)
  }
}

/** The S3 error code of an SDK exception (its name), or a credentials failure's name. */
function errorCode(err: unknown): string | undefined {
  const e = err as { name?: string; Code?: string }
  return e?.Code ?? e?.name
}

/** `s3://bucket/prefix/` → bucket and prefix, checked as S3 names them. */
export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url)
  if (!m) throw new DeckhandError(`store ${url} is not an s3://bucket/prefix address`)
  const bucket = m[1]!
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..'))
    throw new DeckhandError(
      `store ${url}: "${bucket}" is not a valid S3 bucket name (3-63 lower-case letters, digits, dots and hyphens)`,
    )
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '')
  if (prefix.split('/').some((p) => p === '.' || p === '..') || /\/\//.test(prefix))
    throw new DeckhandError(`store ${url}: the prefix must be a plain path (no empty, . or .. parts)`)
  return { bucket, prefix }
}
