// The aws-chunked body of an upload with `x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER` (Amazon S3
// API Reference, "Signature calculations for trailing headers (chunked uploads)"): `<hex size>\r\n<data>\r\n`
// chunks, a `0\r\n` chunk, trailing headers `name:value\r\n` and an empty line. This is the body the SDK
// (@smithy/core getAwsChunkedEncodingStream) sends for a stream. S3 refuses a chunk under 8 KiB that is not
// the last one with 403 InvalidChunkSizeError, which is why the SDK advises requestStreamBufferSize.
import { Transform, type TransformCallback } from 'node:stream'

import { S3Error } from './s3-xml.js'

export const MIN_CHUNK_BYTES = 8192
const MAX_LINE_BYTES = 4096

function incomplete(): S3Error {
  return new S3Error(400, 'IncompleteBody', 'The request body terminated unexpectedly')
}

function malformed(what: string): S3Error {
  return new S3Error(400, 'InvalidRequest', `The aws-chunked body is malformed: ${what}`)
}

/** Decodes the framing and passes on the object's bytes; `trailers` holds the trailing headers once done. */
export class AwsChunkedDecoder extends Transform {
  readonly trailers = new Map<string, string>()
  private state: 'size' | 'data' | 'data-end' | 'trailer' | 'done' = 'size'
  private line = Buffer.alloc(0)
  private remaining = 0
  private chunks = 0
  private previousSize = -1

  override _transform(input: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      this.consume(input)
      done()
    } catch (err) {
      done(err as Error)
    }
  }

  override _flush(done: TransformCallback): void {
    done(this.state === 'done' ? undefined : incomplete())
  }

  private consume(input: Buffer): void {
    let at = 0
    while (at < input.length) {
      if (this.state === 'data') {
        const take = Math.min(this.remaining, input.length - at)
        this.push(input.subarray(at, at + take))
        at += take
        this.remaining -= take
        if (this.remaining === 0) this.state = 'data-end'
        continue
      }
      if (this.state === 'done') throw malformed('data after the final CRLF')
      const end = input.indexOf(0x0a, at)
      const piece = input.subarray(at, end === -1 ? input.length : end + 1)
      at += piece.length
      this.line = Buffer.concat([this.line, piece])
      if (this.line.length > MAX_LINE_BYTES) throw malformed('a line longer than 4 KiB')
      if (end === -1) return
      if (this.line.length < 2 || this.line[this.line.length - 2] !== 0x0d) throw malformed('a bare LF')
      const text = this.line.subarray(0, this.line.length - 2).toString('latin1')
      this.line = Buffer.alloc(0)
      this.endOfLine(text)
    }
  }

  private endOfLine(text: string): void {
    switch (this.state) {
      case 'data-end':
        if (text !== '') throw malformed('chunk data longer than its size')
        this.state = 'size'
        return
      case 'size': {
        // Unsigned chunks carry no chunk-signature extension.
        if (!/^[0-9a-fA-F]{1,16}$/.test(text))
          throw malformed(`a bad chunk size line ${JSON.stringify(text)}`)
        const size = parseInt(text, 16)
        if (size > 0 && this.previousSize >= 0 && this.previousSize < MIN_CHUNK_BYTES) {
          throw new S3Error(
            403,
            'InvalidChunkSizeError',
            'Only the last chunk is allowed to have a size less than 8192 bytes',
            {
              Chunk: String(this.chunks),
              BadChunkSize: String(this.previousSize),
            },
          )
        }
        if (size === 0) {
          this.state = 'trailer'
          return
        }
        this.chunks++
        this.previousSize = size
        this.remaining = size
        this.state = 'data'
        return
      }
      case 'trailer': {
        if (text === '') {
          this.state = 'done'
          return
        }
        const colon = text.indexOf(':')
        if (colon <= 0)
          throw new S3Error(
            400,
            'MalformedTrailerError',
            'The request contained trailing data that was not well-formed or did not conform to our published schema.',
          )
        this.trailers.set(text.slice(0, colon).trim().toLowerCase(), text.slice(colon + 1).trim())
        return
      }
    }
  }
}
