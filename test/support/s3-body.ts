// Receiving an upload's bytes as S3 does (Amazon S3 API Reference: PutObject, UploadPart, "Common Request
// Headers"; User Guide, "Checking object integrity"): the body goes to a file while MD5, the declared
// checksum and the payload's SHA-256 are computed, and nothing is kept unless every declared value matches:
// x-amz-content-sha256 (XAmzContentSHA256Mismatch), Content-MD5 (InvalidDigest, BadDigest), one
// x-amz-checksum-* header or aws-chunked trailer (InvalidRequest, BadDigest), x-amz-decoded-content-length
// (IncompleteBody). A body is refused before it is read when its declarations are wrong.
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import type { IncomingMessage } from 'node:http'
import { Transform, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'

import { AwsChunkedDecoder } from './s3-chunked.js'
import {
  type ChecksumAlgorithm,
  checksumHeader,
  createDigest,
  type Digest,
  isChecksumValue,
  parseAlgorithm,
  UNIMPLEMENTED_ALGORITHMS,
} from './s3-checksums.js'
import { S3Error } from './s3-xml.js'

export interface DeclaredChecksum {
  algorithm: ChecksumAlgorithm
  /** Base64 value from the header; undefined for a trailer, known once the body is read. */
  value: string | undefined
  trailer: boolean
}

export interface BodyDeclarations {
  streaming: boolean
  /** Object bytes announced: Content-Length, or x-amz-decoded-content-length for aws-chunked. */
  length: number
  payloadSha256: string | undefined
  contentMd5: Buffer | undefined
  checksum: DeclaredChecksum | undefined
  /** x-amz-sdk-checksum-algorithm, which needs a matching header or trailer. */
  sdkAlgorithm: ChecksumAlgorithm | undefined
}

export interface ReceivedBody {
  file: string
  size: number
  md5: Buffer
  /** The declared checksum with its value, verified. */
  checksum: { algorithm: ChecksumAlgorithm; value: string } | undefined
  /** Digests of further algorithms asked for by the caller. */
  digests: Map<ChecksumAlgorithm, Buffer>
}

const PAYLOAD_KINDS =
  'UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER'

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value.join(',') : value
}

function invalidChecksumValue(name: string, trailing = false): S3Error {
  return new S3Error(
    400,
    'InvalidRequest',
    `Value for ${name}${trailing ? ' trailing' : ''} header is invalid.`,
  )
}

function checksumAlgorithmOf(name: string): ChecksumAlgorithm {
  const suffix = name.slice('x-amz-checksum-'.length)
  const algorithm = parseAlgorithm(suffix)
  if (algorithm) return algorithm
  if (UNIMPLEMENTED_ALGORITHMS.includes(suffix.toUpperCase())) {
    throw new S3Error(501, 'NotImplemented', `${name} is not implemented by the stand-in`)
  }
  throw new S3Error(400, 'InvalidRequest', `${name} is not a supported checksum header.`)
}

/**
 * Reads what the headers declare about the body, refusing what S3 refuses before reading it. On
 * CompleteMultipartUpload the x-amz-checksum-* headers describe the object, not the body: `objectChecksums`.
 */
export function bodyDeclarations(
  req: IncomingMessage,
  maxBytes: number,
  { objectChecksums = false } = {},
): BodyDeclarations {
  const contentSha256 = header(req, 'x-amz-content-sha256') ?? ''
  let streaming = false
  let payloadSha256: string | undefined
  if (contentSha256 === 'STREAMING-UNSIGNED-PAYLOAD-TRAILER') streaming = true
  else if (contentSha256.startsWith('STREAMING-') && PAYLOAD_KINDS.includes(contentSha256)) {
    throw new S3Error(
      501,
      'NotImplemented',
      `${contentSha256} (signed chunks) is not implemented by the stand-in`,
    )
  } else if (/^[0-9a-f]{64}$/.test(contentSha256)) payloadSha256 = contentSha256
  else if (contentSha256 !== 'UNSIGNED-PAYLOAD') {
    throw new S3Error(
      400,
      'InvalidArgument',
      `x-amz-content-sha256 must be ${PAYLOAD_KINDS} or a valid sha256 value.`,
      {
        ArgumentName: 'x-amz-content-sha256',
        ArgumentValue: contentSha256,
      },
    )
  }

  const lengthHeader = streaming ? header(req, 'x-amz-decoded-content-length') : header(req, 'content-length')
  if (lengthHeader === undefined) {
    throw new S3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.')
  }
  if (!/^\d+$/.test(lengthHeader)) throw new S3Error(400, 'InvalidArgument', 'Invalid Content-Length')
  const length = Number(lengthHeader)
  if (length > maxBytes) {
    throw new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
      ProposedSize: String(length),
      MaxSizeAllowed: String(maxBytes),
    })
  }

  const md5Header = header(req, 'content-md5')
  let contentMd5: Buffer | undefined
  if (md5Header !== undefined) {
    contentMd5 = Buffer.from(md5Header, 'base64')
    if (contentMd5.length !== 16 || contentMd5.toString('base64') !== md5Header) {
      throw new S3Error(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.', {
        'Content-MD5': md5Header,
      })
    }
  }

  const checksums: DeclaredChecksum[] = []
  for (const name of objectChecksums ? [] : Object.keys(req.headers)) {
    if (
      !name.startsWith('x-amz-checksum-') ||
      ['x-amz-checksum-mode', 'x-amz-checksum-type', 'x-amz-checksum-algorithm'].includes(name)
    )
      continue
    const algorithm = checksumAlgorithmOf(name)
    const value = header(req, name)!
    if (!isChecksumValue(algorithm, value)) throw invalidChecksumValue(name)
    checksums.push({ algorithm, value, trailer: false })
  }
  const trailer = header(req, 'x-amz-trailer')
  if (trailer !== undefined) {
    if (!streaming)
      throw new S3Error(400, 'InvalidRequest', 'x-amz-trailer is only allowed with a streaming payload.')
    for (const name of trailer.split(',').map((n) => n.trim().toLowerCase())) {
      if (!name.startsWith('x-amz-checksum-'))
        throw new S3Error(400, 'InvalidRequest', `Unsupported trailing header ${name}.`)
      checksums.push({ algorithm: checksumAlgorithmOf(name), value: undefined, trailer: true })
    }
  }
  if (checksums.length > 1) {
    throw new S3Error(
      400,
      'InvalidRequest',
      'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
    )
  }

  const sdkHeader = header(req, 'x-amz-sdk-checksum-algorithm')
  let sdkAlgorithm: ChecksumAlgorithm | undefined
  if (sdkHeader !== undefined) {
    sdkAlgorithm = parseAlgorithm(sdkHeader)
    if (!sdkAlgorithm) {
      if (UNIMPLEMENTED_ALGORITHMS.includes(sdkHeader.toUpperCase())) {
        throw new S3Error(
          501,
          'NotImplemented',
          `The ${sdkHeader} checksum is not implemented by the stand-in`,
        )
      }
      throw new S3Error(400, 'InvalidRequest', 'Value for x-amz-sdk-checksum-algorithm header is invalid.')
    }
    if (checksums.length === 0) {
      throw new S3Error(
        400,
        'InvalidRequest',
        'x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.',
      )
    }
  }
  return { streaming, length, payloadSha256, contentMd5, checksum: checksums[0], sdkAlgorithm }
}

/** Hashes what passes through it, and counts it. */
class Tap extends Transform {
  bytes = 0
  constructor(
    private readonly digests: { update(data: Buffer): unknown }[],
    private readonly onBytes?: (total: number) => void,
  ) {
    super()
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length
    for (const digest of this.digests) digest.update(chunk)
    done(null, chunk)
    this.onBytes?.(this.bytes)
  }
}

/**
 * Streams the body into `file` and verifies it against `declared`. On any failure the file is removed and
 * the S3Error thrown (or the connection's error, for a request cut short). The request is left unread on
 * failure so the caller can drain it before answering.
 */
export async function receiveBody(
  req: IncomingMessage,
  declared: BodyDeclarations,
  file: string,
  options: { alsoCompute?: ChecksumAlgorithm[]; onRawBytes?: (total: number) => void } = {},
): Promise<ReceivedBody> {
  const rawSha256 = declared.payloadSha256 === undefined ? undefined : createHash('sha256')
  const raw = new Tap(rawSha256 ? [rawSha256] : [], options.onRawBytes)
  const md5 = createHash('md5')
  const digests = new Map<ChecksumAlgorithm, Digest>()
  for (const algorithm of [declared.checksum?.algorithm, ...(options.alsoCompute ?? [])]) {
    if (algorithm && !digests.has(algorithm)) digests.set(algorithm, createDigest(algorithm))
  }
  const object = new Tap([md5, ...digests.values()])
  const decoder = declared.streaming ? new AwsChunkedDecoder() : undefined

  const aborted = () => {
    if (!req.complete)
      raw.destroy(Object.assign(new Error('the request was cut short'), { code: 'ECONNRESET' }))
  }
  req.on('close', aborted)
  req.pipe(raw)
  try {
    await (decoder
      ? pipeline(raw, decoder, object, createWriteStream(file))
      : pipeline(raw, object, createWriteStream(file)))
    if (declared.streaming && object.bytes !== declared.length) {
      throw new S3Error(
        400,
        'IncompleteBody',
        'You did not provide the number of bytes specified by the Content-Length HTTP header',
      )
    }
    const actualSha256 = rawSha256?.digest('hex')
    if (actualSha256 !== undefined && actualSha256 !== declared.payloadSha256) {
      throw new S3Error(
        400,
        'XAmzContentSHA256Mismatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        {
          ClientComputedContentSHA256: declared.payloadSha256!,
          S3ComputedContentSHA256: actualSha256,
        },
      )
    }
    const actualMd5 = md5.digest()
    if (declared.contentMd5 && !declared.contentMd5.equals(actualMd5)) {
      throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.', {
        ExpectedDigest: declared.contentMd5.toString('hex'),
        CalculatedDigest: actualMd5.toString('hex'),
      })
    }
    const computed = new Map<ChecksumAlgorithm, Buffer>()
    for (const [algorithm, digest] of digests) computed.set(algorithm, digest.digest())
    let checksum: ReceivedBody['checksum']
    if (declared.checksum) {
      const { algorithm, trailer } = declared.checksum
      const name = checksumHeader(algorithm)
      const value = trailer ? decoder!.trailers.get(name) : declared.checksum.value
      if (value === undefined) {
        throw new S3Error(
          400,
          'MalformedTrailerError',
          'The request contained trailing data that was not well-formed or did not conform to our published schema.',
        )
      }
      if (!isChecksumValue(algorithm, value)) throw invalidChecksumValue(name, trailer)
      if (computed.get(algorithm)!.toString('base64') !== value) {
        throw new S3Error(
          400,
          'BadDigest',
          `The ${algorithm} you specified did not match the calculated checksum.`,
        )
      }
      checksum = { algorithm, value }
    }
    return { file, size: object.bytes, md5: actualMd5, checksum, digests: computed }
  } catch (err) {
    await rm(file, { force: true })
    throw err
  } finally {
    req.off('close', aborted)
    req.unpipe(raw)
  }
}
