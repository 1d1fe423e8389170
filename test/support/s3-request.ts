// What the object operations share: the call being answered, its reply, and the request headers S3 reads the
// same way everywhere (Amazon S3 API Reference, PutObject and CreateMultipartUpload: x-amz-server-side-
// encryption*, x-amz-object-lock-mode / -retain-until-date, Content-* and x-amz-meta-*). Headers for features
// the stand-in does not have answer 501 NotImplemented, so a missing feature is never silently ignored.
import { readFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'

import { type BodyDeclarations, bodyDeclarations, receiveBody } from './s3-body.js'
import { checksumHeader } from './s3-checksums.js'
import type { BucketState, Encryption, ObjectVersion, Retention, Store } from './s3-store.js'
import { S3Error } from './s3-xml.js'

export interface Call {
  req: IncomingMessage
  res: ServerResponse
  store: Store
  bucket: BucketState
  /** Decoded object key; '' for a bucket operation. */
  key: string
  /** Decoded query parameters. */
  query: Map<string, string>
  accessKeyId: string
  /** Called with the request body's byte count as it arrives (the interruptAfter hook). */
  onRawBytes: ((total: number) => void) | undefined
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value.join(',') : value
}

export function reply(call: Call, status: number, headers: Record<string, string>, body?: string): void {
  const res = call.res
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
  if (body !== undefined) {
    res.setHeader('content-type', 'application/xml')
    res.setHeader('content-length', Buffer.byteLength(body))
  } else if (!res.hasHeader('content-length')) res.setHeader('content-length', 0)
  res.writeHead(status)
  res.end(call.req.method === 'HEAD' ? undefined : body)
}

/** Refuses a request carrying any of these headers with 501 NotImplemented. */
export function refuseHeaders(call: Call, names: string[]): void {
  for (const name of names) {
    if (call.req.headers[name] !== undefined) {
      throw new S3Error(
        501,
        'NotImplemented',
        'A header you provided implies functionality that is not implemented',
        {
          Header: name,
        },
      )
    }
  }
}

/** Headers of features every object write refuses, with the ACL values a bucket without ACLs accepts. */
export function refuseUnimplementedWriteHeaders(call: Call): void {
  refuseHeaders(call, [
    'x-amz-copy-source',
    'x-amz-tagging',
    'x-amz-website-redirect-location',
    'x-amz-object-lock-legal-hold',
    'x-amz-server-side-encryption-customer-algorithm',
    'x-amz-server-side-encryption-context',
    'x-amz-write-offset-bytes',
    'x-amz-grant-read',
    'x-amz-grant-read-acp',
    'x-amz-grant-write-acp',
    'x-amz-grant-full-control',
  ])
  const acl = header(call.req, 'x-amz-acl')
  // Buckets are created with ACLs disabled (Object Ownership "bucket owner enforced", the default since 2023).
  if (acl !== undefined && acl !== 'private' && acl !== 'bucket-owner-full-control') {
    throw new S3Error(400, 'AccessControlListNotSupported', 'The bucket does not allow ACLs')
  }
  const storageClass = header(call.req, 'x-amz-storage-class')
  if (storageClass !== undefined && storageClass !== 'STANDARD') {
    throw new S3Error(
      501,
      'NotImplemented',
      'A header you provided implies functionality that is not implemented',
      {
        Header: 'x-amz-storage-class',
      },
    )
  }
}

/**
 * The encryption a new object gets: the request's x-amz-server-side-encryption headers, else the bucket's
 * default. A requireKms bucket refuses a write that does not ask for aws:kms.
 */
export function requestEncryption(call: Call): Encryption | undefined {
  const algorithm = header(call.req, 'x-amz-server-side-encryption')
  const kmsKeyId = header(call.req, 'x-amz-server-side-encryption-aws-kms-key-id')
  const bucketKey = header(call.req, 'x-amz-server-side-encryption-bucket-key-enabled')
  if (call.bucket.requireKms && algorithm !== 'aws:kms')
    throw new S3Error(403, 'AccessDenied', 'Access Denied')
  if (algorithm === undefined) {
    if (kmsKeyId !== undefined) {
      throw new S3Error(
        400,
        'InvalidArgument',
        'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms',
        {
          ArgumentName: 'x-amz-server-side-encryption-aws-kms-key-id',
        },
      )
    }
    return call.bucket.encryption
  }
  if (algorithm === 'aws:kms:dsse') {
    throw new S3Error(
      501,
      'NotImplemented',
      'A header you provided implies functionality that is not implemented',
      {
        Header: 'x-amz-server-side-encryption',
      },
    )
  }
  if (algorithm !== 'AES256' && algorithm !== 'aws:kms') {
    throw new S3Error(400, 'InvalidArgument', 'The encryption method specified is not supported', {
      ArgumentName: 'x-amz-server-side-encryption',
      ArgumentValue: algorithm,
    })
  }
  if (algorithm === 'AES256') {
    if (kmsKeyId !== undefined) {
      throw new S3Error(
        400,
        'InvalidArgument',
        'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms',
      )
    }
    return { algorithm }
  }
  const bucketDefault = call.bucket.encryption?.algorithm === 'aws:kms' ? call.bucket.encryption : undefined
  return {
    algorithm,
    kmsKeyId: kmsKeyId ?? bucketDefault?.kmsKeyId,
    bucketKeyEnabled: bucketKey === undefined ? bucketDefault?.bucketKeyEnabled : bucketKey === 'true',
  }
}

export function encryptionHeaders(store: Store, encryption: Encryption | undefined): Record<string, string> {
  if (!encryption) return {}
  const headers: Record<string, string> = { 'x-amz-server-side-encryption': encryption.algorithm }
  if (encryption.algorithm === 'aws:kms') {
    headers['x-amz-server-side-encryption-aws-kms-key-id'] = store.kmsKeyArn(encryption.kmsKeyId)
    if (encryption.bucketKeyEnabled) headers['x-amz-server-side-encryption-bucket-key-enabled'] = 'true'
  }
  return headers
}

export function noLockConfiguration(): S3Error {
  return new S3Error(400, 'InvalidRequest', 'Bucket is missing Object Lock Configuration')
}

export function parseRetention(mode: string | undefined, until: string | undefined, now: Date): Retention {
  if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') {
    throw new S3Error(400, 'InvalidArgument', 'Unknown wormMode directive.', {
      ArgumentName: 'x-amz-object-lock-mode',
    })
  }
  const retainUntil = new Date(until ?? '')
  if (until === undefined || Number.isNaN(retainUntil.getTime())) {
    throw new S3Error(400, 'InvalidArgument', 'The retain until date is not a valid ISO 8601 date.', {
      ArgumentName: 'x-amz-object-lock-retain-until-date',
    })
  }
  if (retainUntil.getTime() <= now.getTime()) {
    throw new S3Error(400, 'InvalidArgument', 'The retain until date must be in the future!', {
      ArgumentName: 'x-amz-object-lock-retain-until-date',
    })
  }
  return { mode, retainUntil }
}

/** The retention that x-amz-object-lock-* headers ask for; both headers or neither. */
export function requestedRetention(call: Call): Retention | undefined {
  const mode = header(call.req, 'x-amz-object-lock-mode')
  const until = header(call.req, 'x-amz-object-lock-retain-until-date')
  if (mode === undefined && until === undefined) return undefined
  if (!call.bucket.objectLock) throw noLockConfiguration()
  if (mode === undefined || until === undefined) {
    throw new S3Error(
      400,
      'InvalidArgument',
      'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied',
    )
  }
  call.store.authorize(call.accessKeyId, call.bucket.name, 's3:PutObjectRetention')
  return parseRetention(mode, until, call.store.now())
}

/** The bucket's default retention for a version created now. */
export function defaultRetention(call: Call): Retention | undefined {
  const lock = call.bucket.objectLock
  if (!lock || lock === 'enabled') return undefined
  return { mode: lock.mode, retainUntil: new Date(call.store.now().getTime() + lock.days * 86_400_000) }
}

/** S3 needs Content-MD5 or a checksum on any upload that gets a retention period. */
export function requireIntegrityForLock(declared: BodyDeclarations): void {
  if (!declared.contentMd5 && !declared.checksum && !declared.sdkAlgorithm) {
    throw new S3Error(
      400,
      'InvalidRequest',
      'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters',
    )
  }
}

const STORED_HEADERS = ['content-type', 'content-disposition', 'content-language', 'cache-control', 'expires']

/** Content-* headers and user metadata stored with an object. */
export function storedHeaders(req: IncomingMessage): Record<string, string> {
  const stored: Record<string, string> = { 'content-type': 'binary/octet-stream' }
  for (const name of STORED_HEADERS) {
    const value = header(req, name)
    if (value !== undefined) stored[name] = value
  }
  // aws-chunked describes the transfer, not the object: S3 drops it from the stored Content-Encoding.
  const encoding = (header(req, 'content-encoding') ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '' && e !== 'aws-chunked')
  if (encoding.length > 0) stored['content-encoding'] = encoding.join(',')
  let metadataBytes = 0
  for (const [name, value] of Object.entries(req.headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue
    stored[name] = Array.isArray(value) ? value.join(',') : value
    metadataBytes += Buffer.byteLength(name.slice('x-amz-meta-'.length)) + Buffer.byteLength(stored[name]!)
  }
  if (metadataBytes > 2048) {
    throw new S3Error(
      400,
      'MetadataTooLarge',
      'Your metadata headers exceed the maximum allowed metadata size',
      {
        Size: String(metadataBytes),
        MaxSizeAllowed: '2048',
      },
    )
  }
  return stored
}

/** Headers describing a stored version, as GetObject, HeadObject and PutObject answer them. */
export function versionHeaders(call: Call, version: ObjectVersion): Record<string, string> {
  const headers: Record<string, string> = {}
  if (call.bucket.versioning) headers['x-amz-version-id'] = version.versionId
  Object.assign(headers, encryptionHeaders(call.store, version.encryption))
  return headers
}

export function checksumHeaders(version: Pick<ObjectVersion, 'checksum'>): Record<string, string> {
  const checksum = version.checksum
  if (!checksum) return {}
  return { [checksumHeader(checksum.algorithm)]: checksum.value, 'x-amz-checksum-type': checksum.type }
}

/**
 * Reads a small XML request body (DeleteObjects, PutObjectRetention, CompleteMultipartUpload), verified;
 * `requireIntegrity` refuses one without Content-MD5 or a checksum of it.
 */
export async function readSmallBody(
  call: Call,
  requireIntegrity: boolean,
  options: { objectChecksums?: boolean } = {},
): Promise<string> {
  const declared = bodyDeclarations(call.req, 2 * 1024 * 1024, options)
  if (requireIntegrity && !declared.contentMd5 && !declared.checksum) {
    throw new S3Error(
      400,
      'InvalidRequest',
      'Missing required header for this request: Content-MD5 OR x-amz-checksum-*',
    )
  }
  const body = await receiveBody(call.req, declared, call.store.newFile(), { onRawBytes: call.onRawBytes })
  try {
    return await readFile(body.file, 'utf8')
  } finally {
    call.store.discard(body)
  }
}
