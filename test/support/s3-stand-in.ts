/**
 * A stand-in for Amazon S3 for tests: an HTTP server on 127.0.0.1 that answers the unmodified AWS SDK for
 * JavaScript v3 (path-style addressing, `forcePathStyle: true`) the way S3's published REST contract says.
 *
 * Followed: the Amazon S3 API Reference pages HeadBucket, GetBucketEncryption, GetBucketVersioning,
 * GetObjectLockConfiguration, PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects, ListObjectsV2,
 * ListObjectVersions, CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload,
 * PutObjectRetention, GetObjectRetention, "Error responses", "Common Request Headers", "Signature
 * Calculations for the Authorization Header" and "Signature calculations for trailing headers (chunked
 * uploads)"; the IAM User Guide's "Signature Version 4 for API requests"; the S3 User Guide's "Checking
 * object integrity", "Working with delete markers", "Locking objects with Object Lock" and "Setting default
 * server-side encryption behavior". Checked with @aws-sdk/client-s3 and @aws-sdk/lib-storage 3.1178.0
 * (@smithy/signature-v4 5.7.5, @aws-sdk/checksums 3.1002.7), whose defaults are what it must accept: CRC32
 * checksums on every upload, aws-chunked bodies with a trailing checksum for streams, x-amz-checksum-mode
 * ENABLED on every GetObject.
 *
 * Objects are files in a private temporary folder, removed by stop(), so a 100 MiB upload costs disk, not
 * memory. An operation or header it does not implement answers 501 NotImplemented: a missing feature is loud.
 * Hooks for tests: objects() (the stored bytes), corrupt(), interruptAfter(), requests, advanceClock().
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, readSync, openSync, closeSync, writeSync, fstatSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { finished } from 'node:stream/promises'

import {
  getBucketEncryption,
  getBucketVersioning,
  getObjectLockConfiguration,
  headBucket,
} from './s3-buckets.js'
import { listObjectsV2, listObjectVersions } from './s3-listing.js'
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  uploadPart,
} from './s3-multipart.js'
import {
  deleteObject,
  deleteObjects,
  getObject,
  getObjectRetention,
  putObject,
  putObjectRetention,
} from './s3-objects.js'
import type { Call } from './s3-request.js'
import { verifySignature } from './s3-sigv4.js'
import {
  type AccessKey,
  type BucketOptions,
  type Encryption,
  type Retention,
  type S3Action,
  Store,
  type StoredChecksum,
} from './s3-store.js'
import { escapeXml, S3Error } from './s3-xml.js'

export type { AccessKey, BucketOptions, Encryption, Retention, S3Action, StoredChecksum }
export { S3Error }

export interface S3StandInOptions {
  buckets: BucketOptions[]
  /** Access keys; by default one generated key allowed everything. The first is `credentials`. */
  keys?: AccessKey[]
  /** Default eu-west-1; a request signed for another region is refused (AuthorizationHeaderMalformed). */
  region?: string
  /** Used in KMS key ARNs and compared with x-amz-expected-bucket-owner. Default 111122223333. */
  accountId?: string
}

export interface RecordedS3Request {
  method: string
  /** Raw path, still percent-encoded, e.g. `/bucket/a%20key`. */
  path: string
  /** Decoded query parameters. */
  query: Record<string, string>
  /** Request headers, lower-case, without Authorization. */
  headers: Record<string, string>
  /** e.g. PutObject, UploadPart; for an unimplemented one what was asked, e.g. `GET ?tagging`. */
  operation: string
  bucket: string | undefined
  key: string | undefined
  /** Status answered; undefined while in progress or when the connection was cut. */
  status: number | undefined
  /** S3 error code answered, if any. */
  errorCode: string | undefined
  /** Cut short by an interruptAfter rule. */
  interrupted: boolean
}

export interface StoredObject {
  bucket: string
  key: string
  /** 'null' in an unversioned bucket. */
  versionId: string
  isLatest: boolean
  deleteMarker: boolean
  size: number
  etag: string
  lastModified: Date
  checksum: StoredChecksum | undefined
  encryption: Encryption | undefined
  retention: Retention | undefined
  /** Content-Type, Content-Encoding… and x-amz-meta-* as stored. */
  headers: Record<string, string>
  partsCount: number | undefined
  /** The stored bytes, read from disk (empty for a delete marker). */
  read(): Buffer
}

export interface InterruptRule {
  method: string
  /** Exact key, or a pattern tested against the decoded key. */
  keyPattern: string | RegExp
  /** Request body bytes (as sent, aws-chunked framing included) after which the connection is destroyed. */
  bytes: number
  /** How many matching requests to cut; every one until clear() by default. */
  times?: number
}

export interface Interruption {
  /** Requests cut so far. */
  readonly count: number
  clear(): void
}

export interface S3ClientSettings {
  endpoint: string
  region: string
  forcePathStyle: true
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
}

export interface S3StandIn {
  /** e.g. `http://127.0.0.1:40123`. */
  endpoint: string
  region: string
  accountId: string
  /** The first key's credentials. */
  credentials: { accessKeyId: string; secretAccessKey: string }
  keys: AccessKey[]
  /** Every request, in arrival order. */
  requests: RecordedS3Request[]
  /** Errors of the stand-in itself (answered 500 InternalError); a test may assert there are none. */
  internalErrors: Error[]
  /** Settings for `new S3Client(...)`: this endpoint, path-style, with that key's credentials (the first by default). */
  clientSettings(accessKeyId?: string): S3ClientSettings
  /** Every stored version of every key of the bucket, delete markers included, oldest first per key. */
  objects(bucket: string): StoredObject[]
  /** Multipart uploads in progress. */
  uploads(bucket: string): { key: string; uploadId: string; partNumbers: number[] }[]
  /** Flips a byte of a stored object (the current version by default) without touching its checksum or ETag. */
  corrupt(bucket: string, key: string, options?: { versionId?: string; offset?: number }): void
  /** Destroys the connection of matching requests once that many body bytes have arrived. */
  interruptAfter(rule: InterruptRule): Interruption
  /** Moves the clock Object Lock dates are compared with (not the one for request signatures). */
  advanceClock(ms: number): void
  stop(): Promise<void>
}

interface Route {
  name: string
  run: (call: Call) => void | Promise<void>
}

function notImplemented(name: string): Route {
  return {
    name,
    run: () => {
      throw new S3Error(501, 'NotImplemented', `${name} is not implemented by the stand-in`)
    },
  }
}

/** Which operation a request is, from its method, whether it names a key, and its sub-resources. */
function route(method: string, bucket: string, key: string, query: Map<string, string>): Route {
  const has = (name: string) => query.has(name)
  const asked = `${method} ${[...query.keys()].map((k) => `?${k}`).join('')}`.trim()
  if (bucket === '') return notImplemented('ListBuckets')
  if (key === '') {
    if (method === 'HEAD' && query.size === 0) return { name: 'HeadBucket', run: headBucket }
    if (method === 'GET') {
      if (has('encryption')) return { name: 'GetBucketEncryption', run: getBucketEncryption }
      if (has('versioning')) return { name: 'GetBucketVersioning', run: getBucketVersioning }
      if (has('object-lock')) return { name: 'GetObjectLockConfiguration', run: getObjectLockConfiguration }
      if (query.get('list-type') === '2') return { name: 'ListObjectsV2', run: listObjectsV2 }
      if (has('versions')) return { name: 'ListObjectVersions', run: listObjectVersions }
      if (query.size === 0 || has('prefix') || has('marker')) return notImplemented('ListObjects')
    }
    if (method === 'POST' && has('delete')) return { name: 'DeleteObjects', run: deleteObjects }
    return notImplemented(`bucket ${asked}`)
  }
  switch (method) {
    case 'PUT':
      if (has('partNumber') && has('uploadId')) return { name: 'UploadPart', run: uploadPart }
      if (has('retention')) return { name: 'PutObjectRetention', run: putObjectRetention }
      if (query.size === 0) return { name: 'PutObject', run: putObject }
      break
    case 'GET':
      if (has('retention')) return { name: 'GetObjectRetention', run: getObjectRetention }
      if (has('uploadId')) return notImplemented('ListParts')
      if (
        [...query.keys()].every((k) => k === 'versionId' || k === 'partNumber' || k.startsWith('response-'))
      ) {
        return { name: 'GetObject', run: getObject }
      }
      break
    case 'HEAD':
      return { name: 'HeadObject', run: getObject }
    case 'DELETE':
      if (has('uploadId')) return { name: 'AbortMultipartUpload', run: abortMultipartUpload }
      if ([...query.keys()].every((k) => k === 'versionId'))
        return { name: 'DeleteObject', run: deleteObject }
      break
    case 'POST':
      if (has('uploads')) return { name: 'CreateMultipartUpload', run: createMultipartUpload }
      if (has('uploadId')) return { name: 'CompleteMultipartUpload', run: completeMultipartUpload }
      break
  }
  return notImplemented(`object ${asked}`)
}

function decodePath(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.")
  }
}

function parseQuery(rawQuery: string): Map<string, string> {
  const query = new Map<string, string>()
  if (rawQuery === '') return query
  for (const pair of rawQuery.split('&')) {
    const equals = pair.indexOf('=')
    const name = decodePath(equals === -1 ? pair : pair.slice(0, equals))
    query.set(name, decodePath(equals === -1 ? '' : pair.slice(equals + 1)))
  }
  return query
}

function errorDocument(error: S3Error, requestId: string, key: string | undefined): string {
  let details = ''
  for (const [name, value] of Object.entries(error.details))
    details += `<${name}>${escapeXml(value)}</${name}>`
  if (key !== undefined && key !== '' && !('Key' in error.details)) details += `<Key>${escapeXml(key)}</Key>`
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${error.code}</Code><Message>${escapeXml(error.message)}</Message>` +
    `${details}<RequestId>${requestId}</RequestId><HostId>${Buffer.from(requestId).toString('base64')}</HostId></Error>`
  )
}

function requestIdentifier(): string {
  return randomBytes(8).toString('hex').toUpperCase()
}

export async function startS3StandIn(options: S3StandInOptions): Promise<S3StandIn> {
  const region = options.region ?? 'eu-west-1'
  const accountId = options.accountId ?? '111122223333'
  const keys = options.keys ?? [
    {
      accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
    },
  ]
  if (keys.length === 0) throw new Error('startS3StandIn: at least one access key is needed')
  const dir = await mkdtemp(join(tmpdir(), 'deckhand-s3-'))
  const store = new Store(dir, region, accountId, keys, options.buckets)
  const requests: RecordedS3Request[] = []
  const internalErrors: Error[] = []
  const interruptions: (InterruptRule & { count: number; active: boolean })[] = []

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.on('error', () => {})
    const requestId = requestIdentifier()
    res.setHeader('x-amz-request-id', requestId)
    res.setHeader('x-amz-id-2', Buffer.from(requestId).toString('base64'))
    res.setHeader('server', 'AmazonS3')
    const url = req.url ?? '/'
    const questionMark = url.indexOf('?')
    const rawPath = questionMark === -1 ? url : url.slice(0, questionMark)
    const rawQuery = questionMark === -1 ? '' : url.slice(questionMark + 1)
    const method = req.method ?? 'GET'
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(req.headers)) {
      if (name !== 'authorization' && value !== undefined)
        headers[name] = Array.isArray(value) ? value.join(',') : value
    }
    const record: RecordedS3Request = {
      method,
      path: rawPath,
      query: {},
      headers,
      operation: '',
      bucket: undefined,
      key: undefined,
      status: undefined,
      errorCode: undefined,
      interrupted: false,
    }
    requests.push(record)
    res.on('finish', () => (record.status = res.statusCode))

    let onRawBytes: ((total: number) => void) | undefined
    try {
      const query = parseQuery(rawQuery)
      record.query = Object.fromEntries(query)
      // x-id names the operation for the SDK's own routing; it is not part of S3's request.
      query.delete('x-id')
      const path = decodePath(rawPath)
      if (!path.startsWith('/')) throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.")
      const slash = path.indexOf('/', 1)
      const bucketName = slash === -1 ? path.slice(1) : path.slice(1, slash)
      const key = slash === -1 ? '' : path.slice(slash + 1)
      record.bucket = bucketName || undefined
      record.key = key || undefined
      const operation = route(method, bucketName, key, query)
      record.operation = operation.name

      const rule = interruptions.find(
        (r) =>
          r.active &&
          r.method === method &&
          (typeof r.keyPattern === 'string' ? r.keyPattern === key : r.keyPattern.test(key)),
      )
      if (rule) {
        const cut = () => {
          if (record.interrupted) return
          record.interrupted = true
          rule.count++
          if (rule.times !== undefined && rule.count >= rule.times) rule.active = false
          req.socket.destroy()
        }
        if (rule.bytes <= 0) return cut()
        onRawBytes = (total) => {
          if (total >= rule.bytes) cut()
        }
      }

      const accessKeyId = verifySignature(
        { method, rawPath, rawQuery, rawHeaders: req.rawHeaders },
        (id) => store.secretOf(id),
        region,
        new Date(),
      )
      const token = req.headers['x-amz-security-token']
      store.checkSessionToken(accessKeyId, Array.isArray(token) ? token.join(',') : token)
      const bucket = store.bucket(bucketName)
      const expectedOwner = req.headers['x-amz-expected-bucket-owner']
      if (expectedOwner !== undefined && expectedOwner !== accountId)
        throw new S3Error(403, 'AccessDenied', 'Access Denied')
      if (Buffer.byteLength(key) > 1024) {
        throw new S3Error(400, 'KeyTooLongError', 'Your key is too long', {
          Size: String(Buffer.byteLength(key)),
          MaxSizeAllowed: '1024',
        })
      }
      await operation.run({ req, res, store, bucket, key, query, accessKeyId, onRawBytes })
    } catch (err) {
      if (record.interrupted || res.headersSent || req.socket.destroyed) return
      let error: S3Error
      if (err instanceof S3Error) error = err
      else {
        internalErrors.push(err as Error)
        error = new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.')
      }
      record.errorCode = error.code
      // Answer once the body has arrived, so that the client reads the error rather than a reset.
      if (!req.complete) {
        req.resume()
        await finished(req).catch(() => {})
      }
      if (res.headersSent || res.destroyed) return
      for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value)
      if (method === 'HEAD') {
        res.writeHead(error.status, { 'content-length': 0 }).end()
        return
      }
      const body = errorDocument(error, requestId, record.key)
      res
        .writeHead(error.status, {
          'content-type': 'application/xml',
          'content-length': Buffer.byteLength(body),
        })
        .end(body)
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      internalErrors.push(err as Error)
      res.destroy()
    })
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const first = keys[0]!

  function storedObjects(bucketName: string): StoredObject[] {
    const bucket = store.bucket(bucketName)
    const list: StoredObject[] = []
    for (const versions of bucket.versions.values()) {
      versions.forEach((version, index) => {
        list.push({
          bucket: bucketName,
          key: version.key,
          versionId: version.versionId,
          isLatest: index === versions.length - 1,
          deleteMarker: version.deleteMarker,
          size: version.size,
          etag: version.etag,
          lastModified: version.lastModified,
          checksum: version.checksum,
          encryption: version.encryption,
          retention: version.retention,
          headers: { ...version.headers },
          partsCount: version.partsCount,
          read: () => (version.file ? readFileSync(version.file) : Buffer.alloc(0)),
        })
      })
    }
    return list
  }

  return {
    endpoint,
    region,
    accountId,
    credentials: { accessKeyId: first.accessKeyId, secretAccessKey: first.secretAccessKey },
    keys,
    requests,
    internalErrors,
    clientSettings(accessKeyId = first.accessKeyId) {
      const key = keys.find((k) => k.accessKeyId === accessKeyId)
      if (!key) throw new Error(`no access key ${accessKeyId}`)
      return {
        endpoint,
        region,
        forcePathStyle: true,
        credentials: {
          accessKeyId: key.accessKeyId,
          secretAccessKey: key.secretAccessKey,
          ...(key.sessionToken === undefined ? {} : { sessionToken: key.sessionToken }),
        },
      }
    },
    objects: storedObjects,
    uploads(bucketName) {
      return [...store.bucket(bucketName).uploads.values()].map((upload) => ({
        key: upload.key,
        uploadId: upload.uploadId,
        partNumbers: [...upload.parts.keys()].sort((a, b) => a - b),
      }))
    },
    corrupt(bucketName, key, { versionId, offset } = {}) {
      const bucket = store.bucket(bucketName)
      const version =
        versionId === undefined ? store.latest(bucket, key) : store.version(bucket, key, versionId)
      if (!version?.file) throw new Error(`corrupt: no stored object ${bucketName}/${key}`)
      const fd = openSync(version.file, 'r+')
      try {
        const size = fstatSync(fd).size
        if (size === 0) throw new Error(`corrupt: ${bucketName}/${key} is empty`)
        const at = offset ?? Math.floor(size / 2)
        const byte = Buffer.alloc(1)
        readSync(fd, byte, 0, 1, at)
        byte[0] = byte[0]! ^ 0xff
        writeSync(fd, byte, 0, 1, at)
      } finally {
        closeSync(fd)
      }
    },
    interruptAfter(rule) {
      const entry = { ...rule, count: 0, active: true }
      interruptions.push(entry)
      return {
        get count() {
          return entry.count
        },
        clear() {
          entry.active = false
        },
      }
    },
    advanceClock(ms) {
      store.clockOffsetMs += ms
    },
    async stop() {
      server.closeAllConnections()
      await new Promise<void>((done) => server.close(() => done()))
      await rm(dir, { recursive: true, force: true })
    },
  }
}
