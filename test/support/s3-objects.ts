// Object operations (Amazon S3 API Reference: PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects,
// PutObjectRetention, GetObjectRetention; User Guide: "Working with delete markers", "Deleting object
// versions", "Locking objects with Object Lock", "Checking object integrity").
import { createReadStream } from 'node:fs'

import { bodyDeclarations, receiveBody } from './s3-body.js'
import {
  type Call,
  checksumHeaders,
  defaultRetention,
  header,
  noLockConfiguration,
  parseRetention,
  readSmallBody,
  refuseHeaders,
  refuseUnimplementedWriteHeaders,
  reply,
  requestedRetention,
  requestEncryption,
  requireIntegrityForLock,
  storedHeaders,
  versionHeaders,
} from './s3-request.js'
import { isVersionId, type ObjectVersion } from './s3-store.js'
import { child, parseXml, S3Error, tag, xmlDocument } from './s3-xml.js'

/** Largest object a single PUT may carry. */
const MAX_PUT_BYTES = 5 * 1024 ** 3

export function preconditionFailed(condition: string): S3Error {
  return new S3Error(
    412,
    'PreconditionFailed',
    'At least one of the pre-conditions you specified did not hold',
    {
      Condition: condition,
    },
  )
}

/** If-None-Match: * and If-Match on a write (S3 conditional writes). */
export function checkWriteConditions(call: Call): void {
  const current = call.store.latest(call.bucket, call.key)
  const exists = current !== undefined && !current.deleteMarker
  const ifNoneMatch = header(call.req, 'if-none-match')
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch !== '*') refuseHeaders(call, ['if-none-match'])
    if (exists) throw preconditionFailed('If-None-Match')
  }
  const ifMatch = header(call.req, 'if-match')
  if (ifMatch !== undefined) {
    if (!exists) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: call.key })
    if (ifMatch !== current.etag && `"${ifMatch}"` !== current.etag) throw preconditionFailed('If-Match')
  }
}

export async function putObject(call: Call): Promise<void> {
  const { store, bucket } = call
  store.authorize(call.accessKeyId, bucket.name, 's3:PutObject')
  refuseUnimplementedWriteHeaders(call)
  const headers = storedHeaders(call.req)
  const encryption = requestEncryption(call)
  const retention = requestedRetention(call) ?? defaultRetention(call)
  const declared = bodyDeclarations(call.req, MAX_PUT_BYTES)
  if (retention) requireIntegrityForLock(declared)
  checkWriteConditions(call)

  // S3 adds a CRC64NVME checksum to an object uploaded without one.
  const body = await receiveBody(call.req, declared, store.newFile(), {
    alsoCompute: declared.checksum ? [] : ['CRC64NVME'],
    onRawBytes: call.onRawBytes,
  })
  if (declared.sdkAlgorithm && declared.sdkAlgorithm !== declared.checksum?.algorithm) {
    store.discard(body)
    throw new S3Error(
      400,
      'BadDigest',
      `The ${declared.checksum?.algorithm} you specified did not match the algorithm in x-amz-sdk-checksum-algorithm.`,
    )
  }
  const version: ObjectVersion = {
    key: call.key,
    versionId: store.newVersionId(bucket),
    deleteMarker: false,
    file: body.file,
    size: body.size,
    etag: `"${body.md5.toString('hex')}"`,
    lastModified: store.now(),
    headers,
    checksum: body.checksum
      ? { ...body.checksum, type: 'FULL_OBJECT' }
      : {
          algorithm: 'CRC64NVME',
          value: body.digests.get('CRC64NVME')!.toString('base64'),
          type: 'FULL_OBJECT',
        },
    encryption,
    retention,
    partsCount: undefined,
  }
  store.add(bucket, version)
  reply(call, 200, { etag: version.etag, ...versionHeaders(call, version), ...checksumHeaders(version) })
}

function noSuchKey(call: Call): S3Error {
  return new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: call.key })
}

/**
 * The version a GET, HEAD or retention call is about. Without s3:ListBucket a missing key is 403, not 404,
 * so that a caller cannot learn which keys exist (GetObject's permissions section).
 */
function resolveVersion(call: Call, readAction: 's3:GetObject' | 's3:GetObjectRetention'): ObjectVersion {
  const { store, bucket } = call
  const versionId = call.query.get('versionId')
  if (readAction === 's3:GetObject') {
    store.authorize(
      call.accessKeyId,
      bucket.name,
      versionId === undefined ? 's3:GetObject' : 's3:GetObjectVersion',
    )
  } else store.authorize(call.accessKeyId, bucket.name, readAction)
  if (versionId !== undefined) {
    if (!isVersionId(versionId)) {
      throw new S3Error(400, 'InvalidArgument', 'Invalid version id specified', {
        ArgumentName: 'versionId',
        ArgumentValue: versionId,
      })
    }
    const version = store.version(bucket, call.key, versionId)
    if (!version) {
      throw new S3Error(404, 'NoSuchVersion', 'The specified version does not exist.', {
        Key: call.key,
        VersionId: versionId,
      })
    }
    if (version.deleteMarker) {
      throw new S3Error(
        405,
        'MethodNotAllowed',
        'The specified method is not allowed against this resource.',
        {
          Method: call.req.method ?? 'GET',
          ResourceType: 'DeleteMarker',
        },
        {
          'x-amz-delete-marker': 'true',
          'x-amz-version-id': version.versionId,
          'last-modified': version.lastModified.toUTCString(),
          allow: 'DELETE',
        },
      )
    }
    return version
  }
  const version = store.latest(bucket, call.key)
  if (!version) {
    if (!store.allows(call.accessKeyId, bucket.name, 's3:ListBucket')) {
      throw new S3Error(403, 'AccessDenied', 'Access Denied')
    }
    throw noSuchKey(call)
  }
  if (version.deleteMarker) {
    const error = noSuchKey(call)
    Object.assign(error.headers, { 'x-amz-delete-marker': 'true', 'x-amz-version-id': version.versionId })
    throw error
  }
  return version
}

/** A single `bytes=` range, as [first, last]; undefined to serve the whole object. */
function parseRange(range: string | undefined, size: number): [number, number] | undefined {
  if (range === undefined) return undefined
  const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim())
  if (!m) {
    if (/^bytes=.*,/.test(range)) {
      throw new S3Error(
        501,
        'NotImplemented',
        'Multiple ranges in one GET are not supported by S3 or the stand-in',
        {
          Header: 'Range',
        },
      )
    }
    return undefined // HTTP: a range that does not parse is ignored.
  }
  const [, from, to] = m as unknown as [string, string, string]
  if (from === '' && to === '') return undefined
  let first: number
  let last: number
  if (from === '') {
    first = Math.max(0, size - Number(to))
    last = size - 1
    if (Number(to) === 0) first = size
  } else {
    first = Number(from)
    last = to === '' ? size - 1 : Math.min(Number(to), size - 1)
    if (to !== '' && Number(to) < first) return undefined
  }
  if (first >= size) {
    throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable', {
      RangeRequested: range,
      ActualObjectSize: String(size),
    })
  }
  return [first, last]
}

export async function getObject(call: Call): Promise<void> {
  for (const name of call.query.keys()) {
    if (name !== 'versionId') {
      throw new S3Error(501, 'NotImplemented', `The ${name} parameter is not implemented by the stand-in`)
    }
  }
  refuseHeaders(call, [
    'if-match',
    'if-none-match',
    'if-modified-since',
    'if-unmodified-since',
    'x-amz-server-side-encryption-customer-algorithm',
  ])
  const version = resolveVersion(call, 's3:GetObject')
  const range = parseRange(header(call.req, 'range'), version.size)
  const headers: Record<string, string> = {
    ...version.headers,
    etag: version.etag,
    'last-modified': version.lastModified.toUTCString(),
    'accept-ranges': 'bytes',
    ...versionHeaders(call, version),
  }
  if (version.retention) {
    headers['x-amz-object-lock-mode'] = version.retention.mode
    headers['x-amz-object-lock-retain-until-date'] = version.retention.retainUntil.toISOString()
  }
  // The stored checksum is answered for the whole object only: a range has no checksum of its own.
  if (header(call.req, 'x-amz-checksum-mode') === 'ENABLED' && !range)
    Object.assign(headers, checksumHeaders(version))
  const [first, last] = range ?? [0, version.size - 1]
  headers['content-length'] = String(last - first + 1)
  if (range) headers['content-range'] = `bytes ${first}-${last}/${version.size}`
  const res = call.res
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
  res.writeHead(range ? 206 : 200)
  if (call.req.method === 'HEAD' || version.size === 0) {
    res.end()
    return
  }
  await new Promise<void>((done) => {
    const stream = createReadStream(version.file!, { start: first, end: last })
    stream.on('error', (err) => {
      res.destroy(err)
      done()
    })
    res.on('close', () => {
      stream.destroy()
      done()
    })
    stream.pipe(res)
  })
}

interface DeleteOutcome {
  versionId: string | undefined
  deleteMarker: boolean
  deleteMarkerVersionId: string | undefined
}

/** One deletion, as DeleteObject and each entry of DeleteObjects do it. */
function deleteOne(call: Call, key: string, versionId: string | undefined): DeleteOutcome {
  const { store, bucket, accessKeyId } = call
  if (versionId === undefined) {
    store.authorize(accessKeyId, bucket.name, 's3:DeleteObject')
    if (bucket.versioning) {
      // A simple DELETE in a versioned bucket deletes nothing: it adds a delete marker, even if the
      // current version is locked.
      const marker: ObjectVersion = {
        key,
        versionId: store.newVersionId(bucket),
        deleteMarker: true,
        file: undefined,
        size: 0,
        etag: '',
        lastModified: store.now(),
        headers: {},
        checksum: undefined,
        encryption: undefined,
        retention: undefined,
        partsCount: undefined,
      }
      store.add(bucket, marker)
      return { versionId: undefined, deleteMarker: true, deleteMarkerVersionId: marker.versionId }
    }
    const current = store.latest(bucket, key)
    if (current) store.remove(bucket, current)
    return { versionId: undefined, deleteMarker: false, deleteMarkerVersionId: undefined }
  }
  store.authorize(accessKeyId, bucket.name, 's3:DeleteObjectVersion')
  if (!isVersionId(versionId)) {
    throw new S3Error(400, 'InvalidArgument', 'Invalid version id specified', {
      ArgumentName: 'versionId',
      ArgumentValue: versionId,
    })
  }
  const version = store.version(bucket, key, versionId)
  // Deleting a version that does not exist succeeds.
  if (!version) return { versionId, deleteMarker: false, deleteMarkerVersionId: undefined }
  if (store.locked(version.retention)) {
    const bypass =
      version.retention!.mode === 'GOVERNANCE' &&
      header(call.req, 'x-amz-bypass-governance-retention')?.toLowerCase() === 'true' &&
      store.allows(accessKeyId, bucket.name, 's3:BypassGovernanceRetention')
    if (!bypass)
      throw new S3Error(403, 'AccessDenied', 'Access Denied because object protected by object lock.')
  }
  store.remove(bucket, version)
  return { versionId, deleteMarker: version.deleteMarker, deleteMarkerVersionId: undefined }
}

export function deleteObject(call: Call): void {
  refuseHeaders(call, ['if-match', 'x-amz-mfa'])
  const outcome = deleteOne(call, call.key, call.query.get('versionId'))
  const headers: Record<string, string> = {}
  if (outcome.deleteMarker) headers['x-amz-delete-marker'] = 'true'
  const versionId = outcome.deleteMarkerVersionId ?? outcome.versionId
  if (versionId !== undefined) headers['x-amz-version-id'] = versionId
  reply(call, 204, headers)
}

export async function deleteObjects(call: Call): Promise<void> {
  refuseHeaders(call, ['x-amz-mfa'])
  // S3 refuses a Multi-Object Delete whose body is not protected by Content-MD5 or a checksum.
  const document = parseXml(await readSmallBody(call, true))
  if (document.name !== 'Delete')
    throw new S3Error(
      400,
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
    )
  const objects = document.children.filter((c) => c.name === 'Object')
  if (objects.length === 0 || objects.length > 1000) {
    throw new S3Error(
      400,
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
    )
  }
  const quiet = child(document, 'Quiet')?.text.trim() === 'true'
  let result = ''
  for (const object of objects) {
    const key = child(object, 'Key')?.text
    if (key === undefined)
      throw new S3Error(
        400,
        'MalformedXML',
        'The XML you provided was not well-formed or did not validate against our published schema',
      )
    const versionId = child(object, 'VersionId')?.text
    try {
      const outcome = deleteOne(call, key, versionId)
      if (quiet) continue
      result += `<Deleted>${tag('Key', key)}${tag('VersionId', outcome.versionId)}${
        outcome.deleteMarker ? tag('DeleteMarker', true) : ''
      }${tag('DeleteMarkerVersionId', outcome.deleteMarkerVersionId)}</Deleted>`
    } catch (err) {
      if (!(err instanceof S3Error)) throw err
      result += `<Error>${tag('Key', key)}${tag('VersionId', versionId)}${tag('Code', err.code)}${tag('Message', err.message)}</Error>`
    }
  }
  reply(call, 200, {}, xmlDocument('DeleteResult', result))
}

export async function putObjectRetention(call: Call): Promise<void> {
  const { store, bucket } = call
  store.authorize(call.accessKeyId, bucket.name, 's3:PutObjectRetention')
  if (!bucket.objectLock) throw noLockConfiguration()
  const document = parseXml(await readSmallBody(call, true))
  if (document.name !== 'Retention')
    throw new S3Error(
      400,
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
    )
  const retention = parseRetention(
    child(document, 'Mode')?.text,
    child(document, 'RetainUntilDate')?.text,
    store.now(),
  )
  const version = resolveVersion(call, 's3:GetObjectRetention')
  const current = version.retention
  if (current && store.locked(current)) {
    const weaker = retention.retainUntil < current.retainUntil || retention.mode !== current.mode
    if (weaker) {
      const bypass =
        current.mode === 'GOVERNANCE' &&
        header(call.req, 'x-amz-bypass-governance-retention')?.toLowerCase() === 'true' &&
        store.allows(call.accessKeyId, bucket.name, 's3:BypassGovernanceRetention')
      if (!bypass)
        throw new S3Error(403, 'AccessDenied', 'Access Denied because object protected by object lock.')
    }
  }
  version.retention = retention
  reply(call, 200, {})
}

export function getObjectRetention(call: Call): void {
  if (!call.bucket.objectLock) throw noLockConfiguration()
  const version = resolveVersion(call, 's3:GetObjectRetention')
  if (!version.retention) {
    throw new S3Error(
      404,
      'NoSuchObjectLockConfiguration',
      'The specified object does not have a ObjectLock configuration',
    )
  }
  reply(
    call,
    200,
    {},
    xmlDocument(
      'Retention',
      `${tag('Mode', version.retention.mode)}${tag('RetainUntilDate', version.retention.retainUntil.toISOString())}`,
    ),
  )
}
