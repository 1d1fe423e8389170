// Multipart uploads (Amazon S3 API Reference: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
// AbortMultipartUpload; User Guide, "Uploading and copying objects using multipart upload" and "Checking
// object integrity": part numbers 1 to 10,000, every part but the last at least 5 MiB, the object's ETag the
// MD5 of the parts' MD5s with `-<parts>`, a COMPOSITE checksum the checksum of the parts' checksums with
// `-<parts>`, a FULL_OBJECT checksum (CRC algorithms only) that of the whole object).
import { createReadStream, createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { createHash } from 'node:crypto'

import { bodyDeclarations, receiveBody } from './s3-body.js'
import {
  type ChecksumAlgorithm,
  checksumHeader,
  createDigest,
  type Digest,
  parseAlgorithm,
} from './s3-checksums.js'
import { checkWriteConditions } from './s3-objects.js'
import {
  type Call,
  checksumHeaders,
  defaultRetention,
  encryptionHeaders,
  header,
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
import { type MultipartUpload, type ObjectVersion, randomId, type StoredChecksum } from './s3-store.js'
import { child, malformedXml, parseXml, S3Error, tag, xmlDocument } from './s3-xml.js'

export const MIN_PART_BYTES = 5 * 1024 * 1024
const MAX_PART_BYTES = 5 * 1024 ** 3
const FULL_OBJECT_ALGORITHMS: ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME']

function noSuchUpload(uploadId: string): S3Error {
  return new S3Error(
    404,
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    { UploadId: uploadId },
  )
}

function upload(call: Call): MultipartUpload {
  const uploadId = call.query.get('uploadId') ?? ''
  const found = call.bucket.uploads.get(uploadId)
  if (!found || found.key !== call.key) throw noSuchUpload(uploadId)
  return found
}

export function createMultipartUpload(call: Call): void {
  const { store, bucket } = call
  store.authorize(call.accessKeyId, bucket.name, 's3:PutObject')
  refuseUnimplementedWriteHeaders(call)
  const headers = storedHeaders(call.req)
  const encryption = requestEncryption(call)
  const retention = requestedRetention(call)

  const algorithmHeader = header(call.req, 'x-amz-checksum-algorithm')
  const typeHeader = header(call.req, 'x-amz-checksum-type')
  const checksumAlgorithm = algorithmHeader === undefined ? undefined : parseAlgorithm(algorithmHeader)
  if (algorithmHeader !== undefined && !checksumAlgorithm) {
    throw new S3Error(
      400,
      'InvalidRequest',
      'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]',
    )
  }
  if (typeHeader !== undefined && typeHeader !== 'COMPOSITE' && typeHeader !== 'FULL_OBJECT') {
    throw new S3Error(400, 'InvalidRequest', 'Value for x-amz-checksum-type header is invalid.')
  }
  if (typeHeader !== undefined && !checksumAlgorithm) {
    throw new S3Error(
      400,
      'InvalidRequest',
      'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.',
    )
  }
  // CRC64NVME is a full-object checksum only; SHA checksums cannot be combined into one.
  const checksumType =
    checksumAlgorithm && (typeHeader ?? (checksumAlgorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE'))
  if (
    checksumAlgorithm &&
    checksumType === 'FULL_OBJECT' &&
    !FULL_OBJECT_ALGORITHMS.includes(checksumAlgorithm)
  ) {
    throw new S3Error(
      400,
      'InvalidRequest',
      `The FULL_OBJECT checksum type cannot be used with the ${checksumAlgorithm.toLowerCase()} checksum algorithm.`,
    )
  }
  if (checksumAlgorithm === 'CRC64NVME' && checksumType === 'COMPOSITE') {
    throw new S3Error(
      400,
      'InvalidRequest',
      'The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.',
    )
  }

  const uploadId = randomId(48)
  bucket.uploads.set(uploadId, {
    uploadId,
    key: call.key,
    initiated: store.now(),
    headers,
    encryption,
    retention,
    checksumAlgorithm,
    checksumType,
    parts: new Map(),
  })
  const answer: Record<string, string> = encryptionHeaders(store, encryption)
  if (checksumAlgorithm) {
    answer['x-amz-checksum-algorithm'] = checksumAlgorithm
    answer['x-amz-checksum-type'] = checksumType!
  }
  reply(
    call,
    200,
    answer,
    xmlDocument(
      'InitiateMultipartUploadResult',
      `${tag('Bucket', bucket.name)}${tag('Key', call.key)}${tag('UploadId', uploadId)}`,
    ),
  )
}

export async function uploadPart(call: Call): Promise<void> {
  const { store, bucket } = call
  store.authorize(call.accessKeyId, bucket.name, 's3:PutObject')
  refuseHeaders(call, ['x-amz-copy-source', 'x-amz-server-side-encryption-customer-algorithm'])
  const partText = call.query.get('partNumber') ?? ''
  const number = /^\d{1,5}$/.test(partText) ? Number(partText) : NaN
  if (!(number >= 1 && number <= 10_000)) {
    throw new S3Error(
      400,
      'InvalidArgument',
      'Part number must be an integer between 1 and 10000, inclusive',
      {
        ArgumentName: 'partNumber',
        ArgumentValue: partText,
      },
    )
  }
  const target = upload(call)
  const declared = bodyDeclarations(call.req, MAX_PART_BYTES)
  // UploadPart: Content-MD5 (or a checksum) "is required if object lock parameters are specified".
  if (target.retention || defaultRetention(call)) requireIntegrityForLock(declared)
  const algorithm = target.checksumAlgorithm
  if (algorithm && declared.checksum && declared.checksum.algorithm !== algorithm) {
    throw new S3Error(
      400,
      'InvalidRequest',
      `Checksum Type mismatch occurred, expected checksum Type: ${algorithm.toLowerCase()}, actual checksum Type: ${declared.checksum.algorithm.toLowerCase()}`,
    )
  }
  const body = await receiveBody(call.req, declared, store.newFile(), {
    alsoCompute: algorithm ? [algorithm] : [],
    onRawBytes: call.onRawBytes,
  })
  if (bucket.uploads.get(target.uploadId) !== target) {
    // Aborted or completed while the part was arriving.
    store.discard(body)
    throw noSuchUpload(target.uploadId)
  }
  const previous = target.parts.get(number)
  if (previous) store.discard(previous)
  const checksum = algorithm ? body.digests.get(algorithm)!.toString('base64') : undefined
  const etag = `"${body.md5.toString('hex')}"`
  target.parts.set(number, { number, file: body.file, size: body.size, etag, md5: body.md5, checksum })
  const answer: Record<string, string> = { etag, ...encryptionHeaders(store, target.encryption) }
  if (algorithm) answer[checksumHeader(algorithm)] = checksum!
  else if (body.checksum) answer[checksumHeader(body.checksum.algorithm)] = body.checksum.value
  reply(call, 200, answer)
}

export function abortMultipartUpload(call: Call): void {
  call.store.authorize(call.accessKeyId, call.bucket.name, 's3:AbortMultipartUpload')
  const target = upload(call)
  for (const part of target.parts.values()) call.store.discard(part)
  call.bucket.uploads.delete(target.uploadId)
  reply(call, 204, {})
}

/** Writes the files one after the other into `target`, through the digest if any. */
async function concatenate(files: string[], target: string, digest: Digest | undefined): Promise<void> {
  const output = createWriteStream(target)
  const closed = once(output, 'close')
  try {
    for (const file of files) {
      for await (const chunk of createReadStream(file)) {
        digest?.update(chunk as Buffer)
        if (!output.write(chunk)) await once(output, 'drain')
      }
    }
  } finally {
    output.end()
    await closed
  }
}

function invalidPart(number: number, etag: string): S3Error {
  return new S3Error(
    400,
    'InvalidPart',
    "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
    { PartNumber: String(number), ETag: etag },
  )
}

export async function completeMultipartUpload(call: Call): Promise<void> {
  const { store, bucket } = call
  store.authorize(call.accessKeyId, bucket.name, 's3:PutObject')
  const target = upload(call)
  const algorithm = target.checksumAlgorithm
  const typeHeader = header(call.req, 'x-amz-checksum-type')
  if (typeHeader !== undefined && typeHeader !== target.checksumType) {
    throw new S3Error(
      400,
      'InvalidRequest',
      `The upload was created using the ${target.checksumType ?? 'default'} checksum mode. The complete request must use the same checksum mode.`,
    )
  }
  for (const name of Object.keys(call.req.headers)) {
    const named = name.startsWith('x-amz-checksum-')
      ? parseAlgorithm(name.slice('x-amz-checksum-'.length))
      : undefined
    if (named && named !== algorithm) {
      throw new S3Error(
        400,
        'InvalidRequest',
        `Checksum Type mismatch occurred, expected checksum Type: ${algorithm?.toLowerCase() ?? 'null'}, actual checksum Type: ${named.toLowerCase()}`,
      )
    }
  }
  const document = parseXml(await readSmallBody(call, false, { objectChecksums: true }))
  if (document.name !== 'CompleteMultipartUpload') throw malformedXml()
  const listed = document.children.filter((c) => c.name === 'Part')
  if (listed.length === 0) throw malformedXml()
  checkWriteConditions(call)

  const elementName = algorithm && `Checksum${algorithm}`
  const parts = []
  let previousNumber = 0
  for (const element of listed) {
    const numberText = child(element, 'PartNumber')?.text.trim() ?? ''
    const etagText = child(element, 'ETag')?.text.trim()
    if (!/^\d+$/.test(numberText) || etagText === undefined) throw malformedXml()
    const number = Number(numberText)
    if (number <= previousNumber) {
      throw new S3Error(
        400,
        'InvalidPartOrder',
        'The list of parts was not in ascending order. Parts must be ordered by part number.',
        {
          UploadId: target.uploadId,
        },
      )
    }
    previousNumber = number
    const part = target.parts.get(number)
    const etag = etagText.startsWith('"') ? etagText : `"${etagText}"`
    if (!part || part.etag !== etag) throw invalidPart(number, etagText)
    const listedChecksum = elementName ? child(element, elementName)?.text.trim() : undefined
    if (algorithm && target.checksumType === 'COMPOSITE' && listedChecksum === undefined) {
      throw new S3Error(
        400,
        'InvalidRequest',
        `The upload was created using a ${algorithm.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${number} in the request.`,
      )
    }
    if (listedChecksum !== undefined && listedChecksum !== part.checksum) throw invalidPart(number, etagText)
    parts.push(part)
  }
  for (const part of parts.slice(0, -1)) {
    if (part.size < MIN_PART_BYTES) {
      throw new S3Error(
        400,
        'EntityTooSmall',
        'Your proposed upload is smaller than the minimum allowed object size.',
        {
          ProposedSize: String(part.size),
          MinSizeAllowed: String(MIN_PART_BYTES),
          PartNumber: String(part.number),
          ETag: part.etag,
        },
      )
    }
  }
  const size = parts.reduce((total, part) => total + part.size, 0)
  const declaredSize = header(call.req, 'x-amz-mp-object-size')
  if (declaredSize !== undefined && declaredSize !== String(size)) {
    throw new S3Error(
      400,
      'InvalidRequest',
      `The provided 'x-amz-mp-object-size' header value ${declaredSize} does not match the object size ${size}.`,
    )
  }

  // The whole object's checksum: FULL_OBJECT as asked, or CRC64NVME, which S3 adds when none was asked.
  const fullAlgorithm: ChecksumAlgorithm | undefined = !algorithm
    ? 'CRC64NVME'
    : target.checksumType === 'FULL_OBJECT'
      ? algorithm
      : undefined
  const fullDigest = fullAlgorithm ? createDigest(fullAlgorithm) : undefined
  const file = store.newFile()
  try {
    await concatenate(
      parts.map((part) => part.file),
      file,
      fullDigest,
    )
  } catch (err) {
    store.discard({ file })
    throw err
  }

  let checksum: StoredChecksum
  if (fullAlgorithm)
    checksum = {
      algorithm: fullAlgorithm,
      value: fullDigest!.digest().toString('base64'),
      type: 'FULL_OBJECT',
    }
  else {
    const combined = createDigest(algorithm!)
    for (const part of parts) combined.update(Buffer.from(part.checksum!, 'base64'))
    checksum = {
      algorithm: algorithm!,
      value: `${combined.digest().toString('base64')}-${parts.length}`,
      type: 'COMPOSITE',
    }
  }
  const expected = algorithm && header(call.req, checksumHeader(algorithm))
  if (expected && expected !== checksum.value && `${expected}-${parts.length}` !== checksum.value) {
    store.discard({ file })
    throw new S3Error(
      400,
      'BadDigest',
      `The ${algorithm} you specified did not match the calculated checksum.`,
    )
  }

  const md5s = createHash('md5')
  for (const part of parts) md5s.update(part.md5)
  const version: ObjectVersion = {
    key: call.key,
    versionId: store.newVersionId(bucket),
    deleteMarker: false,
    file,
    size,
    etag: `"${md5s.digest('hex')}-${parts.length}"`,
    lastModified: store.now(),
    headers: target.headers,
    checksum,
    encryption: target.encryption,
    retention: target.retention ?? defaultRetention(call),
    partsCount: parts.length,
  }
  for (const part of target.parts.values()) store.discard(part)
  bucket.uploads.delete(target.uploadId)
  store.add(bucket, version)
  const location = `http://${call.req.headers.host ?? '127.0.0.1'}/${encodeURIComponent(bucket.name)}/${call.key.split('/').map(encodeURIComponent).join('/')}`
  const checksumElements =
    checksum.algorithm === algorithm || !algorithm
      ? `${tag(`Checksum${checksum.algorithm}`, checksum.value)}${tag('ChecksumType', checksum.type)}`
      : ''
  reply(
    call,
    200,
    { ...versionHeaders(call, version), ...checksumHeaders(version) },
    xmlDocument(
      'CompleteMultipartUploadResult',
      `${tag('Location', location)}${tag('Bucket', bucket.name)}${tag('Key', call.key)}${tag('ETag', version.etag)}${checksumElements}`,
    ),
  )
}
