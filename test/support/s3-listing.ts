// Listings (Amazon S3 API Reference: ListObjectsV2, ListObjectVersions): keys in UTF-8 binary order, a
// delimiter rolling keys up into CommonPrefixes, max-keys (at most 1000) counting keys and prefixes alike,
// an opaque continuation token, start-after, KeyCount and IsTruncated; versions newest first within a key.
import type { Call } from './s3-request.js'
import type { ObjectVersion } from './s3-store.js'
import { S3Error, tag, xmlDocument } from './s3-xml.js'

function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

function maxKeys(call: Call): number {
  const text = call.query.get('max-keys')
  if (text === undefined) return 1000
  if (!/^\d{1,10}$/.test(text) || Number(text) > 2 ** 31 - 1) {
    throw new S3Error(400, 'InvalidArgument', 'Provided max-keys not an integer or within integer range', {
      ArgumentName: 'max-keys',
      ArgumentValue: text,
    })
  }
  return Math.min(Number(text), 1000)
}

/** encoding-type=url asks for keys, prefixes and the delimiter percent-encoded in the answer. */
function encoder(call: Call): { encode: (text: string) => string; type: string | undefined } {
  const type = call.query.get('encoding-type')
  if (type === undefined) return { encode: (text) => text, type }
  if (type !== 'url') {
    throw new S3Error(400, 'InvalidArgument', 'Invalid Encoding Method specified in Request', {
      ArgumentName: 'encoding-type',
      ArgumentValue: type,
    })
  }
  return { encode: (text) => encodeURIComponent(text).replace(/%2F/g, '/'), type }
}

function refuseParameters(call: Call, allowed: string[]): void {
  for (const name of call.query.keys()) {
    if (!allowed.includes(name))
      throw new S3Error(501, 'NotImplemented', `The ${name} parameter is not implemented by the stand-in`)
  }
  if (call.req.headers['x-amz-optional-object-attributes'] !== undefined) {
    throw new S3Error(
      501,
      'NotImplemented',
      'A header you provided implies functionality that is not implemented',
      {
        Header: 'x-amz-optional-object-attributes',
      },
    )
  }
}

/** A key, or the common prefix it rolls up into under the delimiter. */
function rollUp(key: string, prefix: string, delimiter: string | undefined): { prefix: string } | undefined {
  if (!delimiter) return undefined
  const at = key.indexOf(delimiter, prefix.length)
  return at === -1 ? undefined : { prefix: key.slice(0, at + delimiter.length) }
}

interface Token {
  /** The last key or common prefix answered. */
  after: string
}

function encodeToken(token: Token): string {
  return Buffer.from(JSON.stringify(token)).toString('base64')
}

function decodeToken(text: string): Token {
  try {
    const token = JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as Token
    if (typeof token.after === 'string' && Buffer.from(JSON.stringify(token)).toString('base64') === text)
      return token
  } catch {
    // refused below
  }
  throw new S3Error(400, 'InvalidArgument', 'The continuation token provided is incorrect', {
    ArgumentName: 'continuation-token',
  })
}

function contents(version: ObjectVersion, encode: (text: string) => string): string {
  return (
    tag('Key', encode(version.key)) +
    tag('LastModified', version.lastModified.toISOString()) +
    tag('ETag', version.etag) +
    (version.checksum
      ? tag('ChecksumAlgorithm', version.checksum.algorithm) + tag('ChecksumType', version.checksum.type)
      : '') +
    tag('Size', version.size) +
    tag('StorageClass', 'STANDARD')
  )
}

export function listObjectsV2(call: Call): void {
  const { store, bucket } = call
  store.authorize(call.accessKeyId, bucket.name, 's3:ListBucket')
  refuseParameters(call, [
    'list-type',
    'prefix',
    'delimiter',
    'max-keys',
    'continuation-token',
    'start-after',
    'encoding-type',
    'fetch-owner',
  ])
  if (call.query.get('fetch-owner') === 'true') {
    throw new S3Error(501, 'NotImplemented', 'The fetch-owner parameter is not implemented by the stand-in')
  }
  const prefix = call.query.get('prefix') ?? ''
  const delimiter = call.query.get('delimiter') || undefined
  const limit = maxKeys(call)
  const { encode, type } = encoder(call)
  const continuation = call.query.get('continuation-token')
  const startAfter = call.query.get('start-after')
  const after = continuation !== undefined ? decodeToken(continuation).after : startAfter

  const keys = [...bucket.versions.keys()].filter((key) => key.startsWith(prefix)).sort(byUtf8)
  let body = ''
  let prefixes = ''
  let count = 0
  let last: string | undefined
  let truncated = false
  for (const key of keys) {
    const current = store.latest(bucket, key)!
    if (current.deleteMarker) continue
    const rolled = rollUp(key, prefix, delimiter)
    const item = rolled ? rolled.prefix : key
    if (after !== undefined && (byUtf8(key, after) <= 0 || item === after)) continue
    if (rolled && item === last) continue
    if (count === limit) {
      truncated = limit > 0
      break
    }
    count++
    last = item
    if (rolled) prefixes += `<CommonPrefixes>${tag('Prefix', encode(item))}</CommonPrefixes>`
    else body += `<Contents>${contents(current, encode)}</Contents>`
  }
  reply200(
    call,
    xmlDocument(
      'ListBucketResult',
      tag('IsTruncated', truncated) +
        body +
        tag('Name', bucket.name) +
        tag('Prefix', encode(prefix)) +
        tag('Delimiter', delimiter && encode(delimiter)) +
        tag('MaxKeys', limit) +
        prefixes +
        tag('EncodingType', type) +
        tag('KeyCount', count) +
        tag('ContinuationToken', continuation) +
        tag(
          'NextContinuationToken',
          truncated && last !== undefined ? encodeToken({ after: last }) : undefined,
        ) +
        tag('StartAfter', startAfter && encode(startAfter)),
    ),
  )
}

export function listObjectVersions(call: Call): void {
  const { store, bucket } = call
  store.authorize(call.accessKeyId, bucket.name, 's3:ListBucketVersions')
  refuseParameters(call, [
    'versions',
    'prefix',
    'delimiter',
    'max-keys',
    'key-marker',
    'version-id-marker',
    'encoding-type',
  ])
  const prefix = call.query.get('prefix') ?? ''
  const delimiter = call.query.get('delimiter') || undefined
  const limit = maxKeys(call)
  const { encode, type } = encoder(call)
  const keyMarker = call.query.get('key-marker')
  const versionIdMarker = call.query.get('version-id-marker')
  if (versionIdMarker !== undefined && !keyMarker) {
    throw new S3Error(
      400,
      'InvalidArgument',
      'A version-id marker cannot be specified without a key marker.',
      {
        ArgumentName: 'version-id-marker',
      },
    )
  }

  let body = ''
  let count = 0
  let truncated = false
  let next: { key: string; versionId: string | undefined } | undefined
  let lastPrefix: string | undefined
  for (const key of [...bucket.versions.keys()].filter((k) => k.startsWith(prefix)).sort(byUtf8)) {
    const rolled = rollUp(key, prefix, delimiter)
    if (rolled) {
      if (rolled.prefix === lastPrefix || (keyMarker !== undefined && byUtf8(rolled.prefix, keyMarker) <= 0))
        continue
      if (count === limit) {
        truncated = limit > 0
        break
      }
      count++
      lastPrefix = rolled.prefix
      next = { key: rolled.prefix, versionId: undefined }
      body += `<CommonPrefixes>${tag('Prefix', encode(rolled.prefix))}</CommonPrefixes>`
      continue
    }
    const versions = [...bucket.versions.get(key)!].reverse()
    let skipping = keyMarker !== undefined && byUtf8(key, keyMarker) <= 0
    if (keyMarker === key && versionIdMarker !== undefined)
      skipping = versions.some((v) => v.versionId === versionIdMarker)
    for (const [index, version] of versions.entries()) {
      if (skipping) {
        if (version.versionId === versionIdMarker) skipping = false
        continue
      }
      if (count === limit) {
        truncated = limit > 0
        break
      }
      count++
      next = { key, versionId: version.versionId }
      const common =
        tag('Key', encode(key)) +
        tag('VersionId', version.versionId) +
        tag('IsLatest', index === 0) +
        tag('LastModified', version.lastModified.toISOString())
      body += version.deleteMarker
        ? `<DeleteMarker>${common}</DeleteMarker>`
        : `<Version>${common}${tag('ETag', version.etag)}${
            version.checksum
              ? tag('ChecksumAlgorithm', version.checksum.algorithm) +
                tag('ChecksumType', version.checksum.type)
              : ''
          }${tag('Size', version.size)}${tag('StorageClass', 'STANDARD')}</Version>`
    }
    if (truncated) break
  }
  reply200(
    call,
    xmlDocument(
      'ListVersionsResult',
      tag('IsTruncated', truncated) +
        tag('KeyMarker', keyMarker === undefined ? '' : encode(keyMarker)) +
        tag('VersionIdMarker', versionIdMarker ?? '') +
        tag('NextKeyMarker', truncated && next ? encode(next.key) : undefined) +
        tag('NextVersionIdMarker', truncated ? next?.versionId : undefined) +
        body +
        tag('Name', bucket.name) +
        tag('Prefix', encode(prefix)) +
        tag('Delimiter', delimiter && encode(delimiter)) +
        tag('MaxKeys', limit) +
        tag('EncodingType', type),
    ),
  )
}

function reply200(call: Call, body: string): void {
  call.res.setHeader('content-type', 'application/xml')
  call.res.setHeader('content-length', Buffer.byteLength(body))
  call.res.writeHead(200)
  call.res.end(body)
}
