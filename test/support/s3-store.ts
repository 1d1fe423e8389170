// The stand-in's state: buckets as configured at start, object versions whose bytes live in files of a
// private temporary folder, multipart uploads in progress, access keys with per-bucket allow-lists. The rules
// it keeps follow the Amazon S3 User Guide: "Using versioning in S3 buckets" (every write of a versioned
// bucket is a new version; unversioned buckets keep the one `null` version), "Locking objects with Object
// Lock" (retention per version), "Setting default server-side encryption behavior" (since January 2023 every
// bucket encrypts new objects with SSE-S3 unless configured otherwise), and the Service Authorization
// Reference's action names for the permissions each operation needs.
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { join } from 'node:path'

import type { ChecksumAlgorithm } from './s3-checksums.js'
import { S3Error } from './s3-xml.js'

export type S3Action =
  | 's3:ListBucket'
  | 's3:ListBucketVersions'
  | 's3:GetObject'
  | 's3:GetObjectVersion'
  | 's3:PutObject'
  | 's3:DeleteObject'
  | 's3:DeleteObjectVersion'
  | 's3:AbortMultipartUpload'
  | 's3:GetEncryptionConfiguration'
  | 's3:GetBucketVersioning'
  | 's3:GetBucketObjectLockConfiguration'
  | 's3:PutObjectRetention'
  | 's3:GetObjectRetention'
  | 's3:BypassGovernanceRetention'

export type RetentionMode = 'GOVERNANCE' | 'COMPLIANCE'

export interface Encryption {
  algorithm: 'AES256' | 'aws:kms'
  /** As configured or requested; answered as an ARN. */
  kmsKeyId?: string
  bucketKeyEnabled?: boolean
}

export interface BucketOptions {
  name: string
  /** Versioning Enabled (implied by objectLock); otherwise never configured. */
  versioning?: boolean
  /**
   * Default encryption. Unset means SSE-S3 (AES256), which S3 applies to every bucket since January 2023;
   * 'none' is a bucket without any (a store that predates it, or another implementation): GetBucketEncryption
   * then answers ServerSideEncryptionConfigurationNotFoundError.
   */
  encryption?: 'none' | Encryption
  /**
   * Refuse PutObject and CreateMultipartUpload without `x-amz-server-side-encryption: aws:kms` with 403
   * AccessDenied, as a bucket policy denying s3:PutObject on StringNotEquals s3:x-amz-server-side-encryption
   * does.
   */
  requireKms?: boolean
  /** Object Lock enabled (implies versioning), with an optional default retention. */
  objectLock?: boolean | { mode: RetentionMode; days: number }
}

export interface AccessKey {
  accessKeyId: string
  secretAccessKey: string
  /** Temporary credentials: requests must then carry this x-amz-security-token (and others none). */
  sessionToken?: string
  /** Actions allowed, per bucket name ('*' for any bucket); '*' allows every action. Unset allows all. */
  allow?: Record<string, '*' | readonly S3Action[]>
}

export interface Retention {
  mode: RetentionMode
  retainUntil: Date
}

export interface StoredChecksum {
  algorithm: ChecksumAlgorithm
  /** Base64; a composite multipart checksum ends with `-<parts>`. */
  value: string
  type: 'FULL_OBJECT' | 'COMPOSITE'
}

export interface ObjectVersion {
  key: string
  /** 'null' in a bucket that never had versioning. */
  versionId: string
  deleteMarker: boolean
  /** The bytes, for an object (not a delete marker). */
  file: string | undefined
  size: number
  /** With its quotes, as S3 sends it. */
  etag: string
  lastModified: Date
  /** Content-Type, Content-Encoding, Cache-Control…, and x-amz-meta-* as stored. */
  headers: Record<string, string>
  checksum: StoredChecksum | undefined
  encryption: Encryption | undefined
  retention: Retention | undefined
  partsCount: number | undefined
}

export interface Part {
  number: number
  file: string
  size: number
  etag: string
  md5: Buffer
  /** Base64 digest of the upload's checksum algorithm. */
  checksum: string | undefined
}

export interface MultipartUpload {
  uploadId: string
  key: string
  initiated: Date
  headers: Record<string, string>
  encryption: Encryption | undefined
  /** Retention asked for by CreateMultipartUpload's headers. */
  retention: Retention | undefined
  checksumAlgorithm: ChecksumAlgorithm | undefined
  checksumType: 'FULL_OBJECT' | 'COMPOSITE' | undefined
  parts: Map<number, Part>
}

export interface BucketState {
  name: string
  versioning: boolean
  objectLock: { mode: RetentionMode; days: number } | 'enabled' | undefined
  encryption: Encryption | undefined
  requireKms: boolean
  /** Versions of each key, oldest first. */
  versions: Map<string, ObjectVersion[]>
  uploads: Map<string, MultipartUpload>
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._'

export function randomId(length: number): string {
  let id = ''
  for (const byte of randomBytes(length)) id += ID_ALPHABET[byte & 63]
  return id
}

export function isVersionId(text: string): boolean {
  return text === 'null' || /^[A-Za-z0-9._]{32}$/.test(text)
}

export class Store {
  readonly buckets = new Map<string, BucketState>()
  private files = 0
  /** Added to the clock that Object Lock dates are compared with, so tests can let a retention expire. */
  clockOffsetMs = 0

  constructor(
    readonly dir: string,
    readonly region: string,
    readonly accountId: string,
    private readonly keys: AccessKey[],
    buckets: BucketOptions[],
  ) {
    for (const options of buckets) {
      const lock = options.objectLock
      this.buckets.set(options.name, {
        name: options.name,
        versioning: Boolean(options.versioning || lock),
        objectLock: lock === true ? 'enabled' : lock ? { ...lock } : undefined,
        encryption:
          options.encryption === 'none' ? undefined : (options.encryption ?? { algorithm: 'AES256' }),
        requireKms: options.requireKms ?? false,
        versions: new Map(),
        uploads: new Map(),
      })
    }
  }

  now(): Date {
    return new Date(Date.now() + this.clockOffsetMs)
  }

  /** A new file name in the private folder. */
  newFile(): string {
    return join(this.dir, `${++this.files}.bin`)
  }

  secretOf(accessKeyId: string): string | undefined {
    return this.keys.find((key) => key.accessKeyId === accessKeyId)?.secretAccessKey
  }

  /** Throws 400 InvalidToken unless the request's session token is the key's (or both have none). */
  checkSessionToken(accessKeyId: string, token: string | undefined): void {
    if (this.keys.find((key) => key.accessKeyId === accessKeyId)?.sessionToken !== token) {
      throw new S3Error(400, 'InvalidToken', 'The provided token is malformed or otherwise invalid.')
    }
  }

  allows(accessKeyId: string, bucket: string, action: S3Action): boolean {
    const key = this.keys.find((k) => k.accessKeyId === accessKeyId)
    if (!key) return false
    if (!key.allow) return true
    for (const actions of [key.allow[bucket], key.allow['*']]) {
      if (actions === '*' || actions?.includes(action)) return true
    }
    return false
  }

  /** Throws 403 AccessDenied unless the key may do `action` on the bucket. */
  authorize(accessKeyId: string, bucket: string, action: S3Action): void {
    if (!this.allows(accessKeyId, bucket, action)) throw new S3Error(403, 'AccessDenied', 'Access Denied')
  }

  bucket(name: string): BucketState {
    const bucket = this.buckets.get(name)
    if (!bucket) {
      throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: name })
    }
    return bucket
  }

  /** The current version of a key (possibly a delete marker). */
  latest(bucket: BucketState, key: string): ObjectVersion | undefined {
    const versions = bucket.versions.get(key)
    return versions?.[versions.length - 1]
  }

  version(bucket: BucketState, key: string, versionId: string): ObjectVersion | undefined {
    return bucket.versions.get(key)?.find((v) => v.versionId === versionId)
  }

  /** Adds a version; in an unversioned bucket it replaces the object. */
  add(bucket: BucketState, version: ObjectVersion): void {
    const versions = bucket.versions.get(version.key) ?? []
    if (!bucket.versioning) {
      for (const old of versions) this.discard(old)
      versions.length = 0
    }
    versions.push(version)
    bucket.versions.set(version.key, versions)
  }

  remove(bucket: BucketState, version: ObjectVersion): void {
    const versions = bucket.versions.get(version.key) ?? []
    const index = versions.indexOf(version)
    if (index !== -1) versions.splice(index, 1)
    if (versions.length === 0) bucket.versions.delete(version.key)
    this.discard(version)
  }

  discard(version: { file: string | undefined }): void {
    if (version.file) rmSync(version.file, { force: true })
  }

  newVersionId(bucket: BucketState): string {
    return bucket.versioning ? randomId(32) : 'null'
  }

  /** The key id as S3 answers it: an ARN. */
  kmsKeyArn(keyId: string | undefined): string {
    if (keyId === undefined) return `arn:aws:kms:${this.region}:${this.accountId}:alias/aws/s3`
    if (keyId.startsWith('arn:')) return keyId
    if (keyId.startsWith('alias/')) return `arn:aws:kms:${this.region}:${this.accountId}:${keyId}`
    return `arn:aws:kms:${this.region}:${this.accountId}:key/${keyId}`
  }

  /** Whether a retention still protects a version from deletion or shortening. */
  locked(retention: Retention | undefined): boolean {
    return retention !== undefined && retention.retainUntil.getTime() > this.now().getTime()
  }
}
