import { createHash } from 'node:crypto'
import { Readable, Transform, type TransformCallback } from 'node:stream'

import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketEncryptionCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectRetentionCommand,
  PutObjectTaggingCommand,
  S3Client,
  type S3ClientConfig,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'

import { digestOf } from './support/s3-checksums.js'
import { type S3StandIn, startS3StandIn } from './support/s3-stand-in.js'

/**
 * The S3 stand-in, driven through the unmodified AWS SDK: what the SDK sends by default is accepted, what S3
 * refuses is refused with S3's error, and the hooks (stored bytes, corruption, interrupted connections) show
 * what a backup store's tests need to see.
 */

const WRITER = {
  accessKeyId: 'AKIAWRITER0000000001',
  secretAccessKey: 'writer-secret/0123456789abcdefghijklmn',
}
const READER = {
  accessKeyId: 'AKIAREADER0000000002',
  secretAccessKey: 'reader-secret/0123456789abcdefghijklmn',
}
const NO_LIST = {
  accessKeyId: 'AKIANOLIST0000000003',
  secretAccessKey: 'nolist-secret/0123456789abcdefghijklmn',
}
const NO_DELETE = {
  accessKeyId: 'AKIANODELETE00000004',
  secretAccessKey: 'nodelete-secret/0123456789abcdefghijk',
}

const TEMPORARY = {
  accessKeyId: 'ASIATEMPORARY0000005',
  secretAccessKey: 'temporary-secret/0123456789abcdefghij',
  sessionToken: 'session-token-of-the-temporary-key',
}

let s3: S3StandIn

/** The SDK warns on the console about failed streaming requests, which these tests cause on purpose. */
const quiet = { debug() {}, info() {}, warn() {}, error() {} }

beforeAll(async () => {
  s3 = await startS3StandIn({
    keys: [
      WRITER,
      { ...READER, allow: { plain: ['s3:GetObject', 's3:ListBucket'] } },
      { ...NO_LIST, allow: { plain: ['s3:GetObject'] } },
      { ...NO_DELETE, allow: { '*': ['s3:PutObject', 's3:ListBucket'] } },
      TEMPORARY,
    ],
    buckets: [
      { name: 'plain' },
      { name: 'listing' },
      { name: 'versioned', versioning: true },
      { name: 'locked', objectLock: { mode: 'GOVERNANCE', days: 1 } },
      {
        name: 'kms-only',
        encryption: { algorithm: 'aws:kms', kmsKeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' },
        requireKms: true,
      },
      { name: 'unencrypted', encryption: 'none' },
    ],
  })
})

afterAll(async () => {
  expect(s3.internalErrors).toEqual([])
  await s3.stop()
})

function client(
  key: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = WRITER,
  extra: Partial<S3ClientConfig> = {},
): S3Client {
  return new S3Client({ ...s3.clientSettings(), credentials: key, maxAttempts: 1, logger: quiet, ...extra })
}

function base64(algorithm: 'sha256' | 'md5', data: Buffer): string {
  return createHash(algorithm).update(data).digest('base64')
}

/** The error a promise rejects with, as the SDK gives it. */
async function failure(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  return promise.then(
    () => {
      throw new Error('expected a failure')
    },
    (err: unknown) => err as Error,
  )
}

function stored(bucket: string, key: string) {
  return s3.objects(bucket).filter((o) => o.key === key)
}

function lastRequest(operation: string) {
  return s3.requests.filter((r) => r.operation === operation).at(-1)!
}

type Rewrite = (request: { headers: Record<string, string>; body: unknown }) => void

/**
 * Rewrites the SDK's request: at the build step after the SDK computed its checksums (but before signing),
 * at finalizeRequest after signing.
 */
function tamper(c: S3Client, step: 'build' | 'finalizeRequest', change: Rewrite): void {
  const middleware =
    <T, R>(next: (args: T) => Promise<R>) =>
    (args: T) => {
      change((args as { request: Parameters<Rewrite>[0] }).request)
      return next(args)
    }
  if (step === 'build') c.middlewareStack.add(middleware, { step: 'build', priority: 'low' })
  else c.middlewareStack.add(middleware, { step: 'finalizeRequest', priority: 'low' })
}

describe('checksums', () => {
  test.each([
    ['CRC32', 'cbf43926'],
    ['CRC32C', 'e3069283'],
    ['CRC64NVME', 'ae8b14860a799888'],
  ] as const)('%s gives its published check value', (algorithm, check) => {
    expect(digestOf(algorithm, Buffer.from('123456789')).toString('hex')).toBe(check)
  })
})

describe('PutObject and GetObject', () => {
  test('a SHA-256 checksum is verified, stored and answered', async () => {
    const body = Buffer.from('services:\n  - name: billing\n')
    const put = await client().send(
      new PutObjectCommand({
        Bucket: 'plain',
        Key: 'sha/state.yaml',
        Body: body,
        ChecksumAlgorithm: 'SHA256',
      }),
    )
    expect(put.ChecksumSHA256).toBe(base64('sha256', body))
    expect(put.ETag).toBe(`"${createHash('md5').update(body).digest('hex')}"`)
    expect(lastRequest('PutObject').headers['x-amz-checksum-sha256']).toBe(base64('sha256', body))

    const [object] = stored('plain', 'sha/state.yaml')
    expect(object!.read().equals(body)).toBe(true)
    expect(object!.checksum).toEqual({
      algorithm: 'SHA256',
      value: base64('sha256', body),
      type: 'FULL_OBJECT',
    })

    const got = await client().send(new GetObjectCommand({ Bucket: 'plain', Key: 'sha/state.yaml' }))
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true)
    expect(got.ChecksumSHA256).toBe(base64('sha256', body))
    expect(got.ServerSideEncryption).toBe('AES256')
    expect(lastRequest('GetObject').headers['x-amz-checksum-mode']).toBe('ENABLED')
  })

  test('by default a buffer is sent with a CRC32 header and a stream aws-chunked with a CRC32 trailer', async () => {
    const c = client()
    await c.send(
      new PutObjectCommand({ Bucket: 'plain', Key: 'default/buffer', Body: Buffer.from('buffer body') }),
    )
    expect(lastRequest('PutObject').headers).toMatchObject({
      'x-amz-sdk-checksum-algorithm': 'CRC32',
      'x-amz-checksum-crc32': expect.any(String),
    })
    expect(stored('plain', 'default/buffer')[0]!.checksum?.algorithm).toBe('CRC32')

    const data = Buffer.alloc(100_000, 'deckhand ')
    await c.send(
      new PutObjectCommand({
        Bucket: 'plain',
        Key: 'default/stream',
        Body: Readable.from([data.subarray(0, 65_536), data.subarray(65_536)]),
        ContentLength: data.length,
        ContentEncoding: 'gzip',
      }),
    )
    const request = lastRequest('PutObject')
    expect(request.headers).toMatchObject({
      'content-encoding': 'gzip,aws-chunked',
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'x-amz-decoded-content-length': String(data.length),
      'x-amz-trailer': 'x-amz-checksum-crc32',
    })
    const [object] = stored('plain', 'default/stream')
    expect(object!.read().equals(data)).toBe(true)
    expect(object!.checksum).toEqual({
      algorithm: 'CRC32',
      value: digestOf('CRC32', data).toString('base64'),
      type: 'FULL_OBJECT',
    })
    // aws-chunked describes the transfer and is not kept with the object.
    expect(object!.headers['content-encoding']).toBe('gzip')

    const got = await c.send(new GetObjectCommand({ Bucket: 'plain', Key: 'default/stream' }))
    expect(got.ContentEncoding).toBe('gzip')
    expect(got.ChecksumCRC32).toBe(digestOf('CRC32', data).toString('base64'))
  })

  test('a stream of small chunks is refused as S3 refuses it, and accepted once the SDK buffers it', async () => {
    const pieces = () => Readable.from(Array.from({ length: 4 }, () => Buffer.alloc(1000, 'x')))
    const refused = await failure(
      client().send(
        new PutObjectCommand({ Bucket: 'plain', Key: 'small-chunks', Body: pieces(), ContentLength: 4000 }),
      ),
    )
    expect(refused.name).toBe('InvalidChunkSizeError')
    expect(refused.$metadata?.httpStatusCode).toBe(403)
    expect(stored('plain', 'small-chunks')).toEqual([])

    await client(WRITER, { requestStreamBufferSize: 65_536 }).send(
      new PutObjectCommand({ Bucket: 'plain', Key: 'small-chunks', Body: pieces(), ContentLength: 4000 }),
    )
    expect(stored('plain', 'small-chunks')[0]!.size).toBe(4000)
  })

  test('an aws-chunked body without x-amz-decoded-content-length is refused with MissingContentLength', async () => {
    const c = client()
    tamper(c, 'build', (request) => {
      delete request.headers['x-amz-decoded-content-length']
    })
    const data = Buffer.alloc(10_000)
    const error = await failure(
      c.send(
        new PutObjectCommand({
          Bucket: 'plain',
          Key: 'unknown-length',
          Body: Readable.from([data]),
          ContentLength: data.length,
        }),
      ),
    )
    expect(error.name).toBe('MissingContentLength')
    expect(error.$metadata?.httpStatusCode).toBe(411)
    expect(stored('plain', 'unknown-length')).toEqual([])
  })

  test('a checksum header that does not match the body is refused with BadDigest and nothing is stored', async () => {
    const error = await failure(
      client().send(
        new PutObjectCommand({
          Bucket: 'plain',
          Key: 'bad-digest',
          Body: Buffer.from('actual'),
          ChecksumSHA256: base64('sha256', Buffer.from('other')),
        }),
      ),
    )
    expect(error.name).toBe('BadDigest')
    expect(error.message).toBe('The SHA256 you specified did not match the calculated checksum.')
    expect(stored('plain', 'bad-digest')).toEqual([])

    const md5 = await failure(
      client().send(
        new PutObjectCommand({
          Bucket: 'plain',
          Key: 'bad-digest',
          Body: Buffer.from('actual'),
          ContentMD5: base64('md5', Buffer.from('other')),
        }),
      ),
    )
    expect(md5.name).toBe('BadDigest')
    expect(stored('plain', 'bad-digest')).toEqual([])
  })

  test('bytes changed after the SDK computed the trailer fail the trailing checksum', async () => {
    const c = client()
    tamper(c, 'build', (request) => {
      const body = request.body as Readable
      request.body = body.pipe(
        new Transform({
          transform(chunk: Buffer, _encoding, done: TransformCallback) {
            done(null, Buffer.from(chunk.toString('latin1').replace('MARKER', 'MARKEX'), 'latin1'))
          },
        }),
      )
    })
    const data = Buffer.concat([Buffer.from('MARKER'), Buffer.alloc(20_000, 'x')])
    const error = await failure(
      c.send(
        new PutObjectCommand({
          Bucket: 'plain',
          Key: 'tampered-stream',
          Body: Readable.from([data]),
          ContentLength: data.length,
        }),
      ),
    )
    expect(error.name).toBe('BadDigest')
    expect(error.message).toBe('The CRC32 you specified did not match the calculated checksum.')
    expect(stored('plain', 'tampered-stream')).toEqual([])
  })

  test('a body changed after signing fails x-amz-content-sha256', async () => {
    const c = client()
    tamper(c, 'finalizeRequest', (request) => {
      request.body = Buffer.from('signed body, altered!')
    })
    const error = await failure(
      c.send(
        new PutObjectCommand({
          Bucket: 'plain',
          Key: 'tampered',
          Body: Buffer.from('signed body, original'),
        }),
      ),
    )
    expect(error.name).toBe('XAmzContentSHA256Mismatch')
    expect(stored('plain', 'tampered')).toEqual([])
  })

  test('a range is answered with 206 and without the whole object checksum', async () => {
    await client().send(
      new PutObjectCommand({ Bucket: 'plain', Key: 'range', Body: Buffer.from('0123456789') }),
    )
    const got = await client().send(
      new GetObjectCommand({ Bucket: 'plain', Key: 'range', Range: 'bytes=2-5' }),
    )
    expect(await got.Body!.transformToString()).toBe('2345')
    expect(got.$metadata.httpStatusCode).toBe(206)
    expect(got.ContentRange).toBe('bytes 2-5/10')
    expect(got.ChecksumCRC32).toBeUndefined()
    const beyond = await failure(
      client().send(new GetObjectCommand({ Bucket: 'plain', Key: 'range', Range: 'bytes=10-' })),
    )
    expect(beyond.name).toBe('InvalidRange')
  })

  test('a corrupted single-part object fails the SDK checksum validation on GetObject', async () => {
    const body = Buffer.from('{"consumers":[{"username":"ops","keyauth_credentials":[{"key":"secret"}]}]}')
    await client().send(new PutObjectCommand({ Bucket: 'plain', Key: 'corrupt/state.json', Body: body }))
    s3.corrupt('plain', 'corrupt/state.json')
    expect(stored('plain', 'corrupt/state.json')[0]!.read().equals(body)).toBe(false)

    const got = await client().send(new GetObjectCommand({ Bucket: 'plain', Key: 'corrupt/state.json' }))
    await expect(got.Body!.transformToByteArray()).rejects.toThrow(/Checksum mismatch/)
  })
})

describe('multipart uploads', () => {
  const MiB = 1024 * 1024
  const data = Buffer.alloc(12 * MiB + 12_344)
  for (let i = 0; i < data.length; i += 4) data.writeUInt32LE(i, i)

  test('lib-storage uploads a 12 MiB stream in 5 MiB parts with SHA-256 checksums, read back whole', async () => {
    const first = s3.requests.length
    const upload = new Upload({
      client: client(),
      params: {
        Bucket: 'plain',
        Key: 'multipart/dump.tar',
        Body: Readable.from([data]),
        ChecksumAlgorithm: 'SHA256',
      },
    })
    const result = await upload.done()

    const requests = s3.requests.slice(first)
    expect(requests.map((r) => r.operation)).toEqual([
      'CreateMultipartUpload',
      'UploadPart',
      'UploadPart',
      'UploadPart',
      'CompleteMultipartUpload',
    ])
    expect(requests[0]!.headers['x-amz-checksum-algorithm']).toBe('SHA256')
    const parts = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB, 10 * MiB), data.subarray(10 * MiB)]
    for (const request of requests.filter((r) => r.operation === 'UploadPart')) {
      const part = parts[Number(request.query.partNumber) - 1]!
      expect(request.headers['x-amz-checksum-sha256']).toBe(base64('sha256', part))
    }
    // A composite checksum is the checksum of the parts' checksums, with the part count.
    const composite = `${createHash('sha256')
      .update(Buffer.concat(parts.map((p) => createHash('sha256').update(p).digest())))
      .digest('base64')}-3`
    const etag = `"${createHash('md5')
      .update(Buffer.concat(parts.map((p) => createHash('md5').update(p).digest())))
      .digest('hex')}-3"`
    expect(result).toMatchObject({ ChecksumSHA256: composite, ChecksumType: 'COMPOSITE', ETag: etag })
    expect(s3.uploads('plain').filter((u) => u.key === 'multipart/dump.tar')).toEqual([])

    const got = await client().send(new GetObjectCommand({ Bucket: 'plain', Key: 'multipart/dump.tar' }))
    expect(got.ChecksumSHA256).toBe(composite)
    expect(base64('sha256', Buffer.from(await got.Body!.transformToByteArray()))).toBe(base64('sha256', data))
  })

  test('lib-storage with the SDK defaults uploads with a composite CRC32', async () => {
    const result = await new Upload({
      client: client(),
      params: { Bucket: 'plain', Key: 'multipart/default.tar', Body: data },
    }).done()
    const parts = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB, 10 * MiB), data.subarray(10 * MiB)]
    const partCrcs = Buffer.concat(parts.map((p) => digestOf('CRC32', p)))
    expect(lastRequest('CreateMultipartUpload').headers['x-amz-checksum-algorithm']).toBe('CRC32')
    expect(result).toMatchObject({
      ChecksumCRC32: `${digestOf('CRC32', partCrcs).toString('base64')}-3`,
      ChecksumType: 'COMPOSITE',
    })
    expect(stored('plain', 'multipart/default.tar')[0]!.read().equals(data)).toBe(true)
  })

  test('a FULL_OBJECT CRC32 upload is checked against the whole object and validated by the SDK on GetObject', async () => {
    const c = client()
    const parts = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB, 6 * MiB)]
    const whole = Buffer.concat(parts)
    const upload = async (key: string, checksum: Buffer) => {
      const { UploadId } = await c.send(
        new CreateMultipartUploadCommand({
          Bucket: 'plain',
          Key: key,
          ChecksumAlgorithm: 'CRC32',
          ChecksumType: 'FULL_OBJECT',
        }),
      )
      const Parts = []
      for (const [index, Body] of parts.entries()) {
        const PartNumber = index + 1
        const { ETag, ChecksumCRC32 } = await c.send(
          new UploadPartCommand({
            Bucket: 'plain',
            Key: key,
            UploadId,
            PartNumber,
            Body,
            ChecksumAlgorithm: 'CRC32',
          }),
        )
        Parts.push({ PartNumber, ETag, ChecksumCRC32 })
      }
      return c.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'plain',
          Key: key,
          UploadId,
          MultipartUpload: { Parts },
          ChecksumCRC32: checksum.toString('base64'),
          ChecksumType: 'FULL_OBJECT',
        }),
      )
    }
    const wrong = await failure(upload('multipart/full-wrong', digestOf('CRC32', Buffer.from('other'))))
    expect(wrong.name).toBe('BadDigest')
    expect(stored('plain', 'multipart/full-wrong')).toEqual([])
    // A refused completion leaves the upload in progress, to be completed again or aborted.
    expect(s3.uploads('plain').filter((u) => u.key === 'multipart/full-wrong')).toEqual([
      expect.objectContaining({ partNumbers: [1, 2] }),
    ])

    const result = await upload('multipart/full', digestOf('CRC32', whole))
    expect(result).toMatchObject({
      ChecksumCRC32: digestOf('CRC32', whole).toString('base64'),
      ChecksumType: 'FULL_OBJECT',
    })
    s3.corrupt('plain', 'multipart/full')
    const got = await c.send(new GetObjectCommand({ Bucket: 'plain', Key: 'multipart/full' }))
    await expect(got.Body!.transformToByteArray()).rejects.toThrow(/Checksum mismatch/)
  })

  test('a composite checksum is not validated by the SDK on GetObject, so corruption goes unnoticed there', async () => {
    await new Upload({
      client: client(),
      params: { Bucket: 'plain', Key: 'multipart/corrupt.tar', Body: data, ChecksumAlgorithm: 'SHA256' },
    }).done()
    s3.corrupt('plain', 'multipart/corrupt.tar')
    const got = await client().send(new GetObjectCommand({ Bucket: 'plain', Key: 'multipart/corrupt.tar' }))
    expect(got.ChecksumSHA256).toMatch(/-3$/)
    const read = Buffer.from(await got.Body!.transformToByteArray())
    expect(read.length).toBe(data.length)
    expect(read.equals(data)).toBe(false)
  })

  test('CompleteMultipartUpload checks part sizes, ETags, order and checksums', async () => {
    const c = client()
    const key = 'multipart/rules'
    const { UploadId } = await c.send(
      new CreateMultipartUploadCommand({ Bucket: 'plain', Key: key, ChecksumAlgorithm: 'SHA256' }),
    )
    const small = Buffer.alloc(MiB, 1)
    const p1 = await c.send(
      new UploadPartCommand({
        Bucket: 'plain',
        Key: key,
        UploadId,
        PartNumber: 1,
        Body: small,
        ChecksumAlgorithm: 'SHA256',
      }),
    )
    const p2 = await c.send(
      new UploadPartCommand({
        Bucket: 'plain',
        Key: key,
        UploadId,
        PartNumber: 2,
        Body: small,
        ChecksumAlgorithm: 'SHA256',
      }),
    )
    const part = (n: 1 | 2, changes = {}) => ({
      PartNumber: n,
      ETag: (n === 1 ? p1 : p2).ETag,
      ChecksumSHA256: (n === 1 ? p1 : p2).ChecksumSHA256,
      ...changes,
    })
    const complete = (Parts: object[]) =>
      failure(
        c.send(
          new CompleteMultipartUploadCommand({
            Bucket: 'plain',
            Key: key,
            UploadId,
            MultipartUpload: { Parts },
          }),
        ),
      )

    expect((await complete([part(1), part(2)])).name).toBe('EntityTooSmall')
    expect((await complete([part(1, { ETag: '"0123456789abcdef0123456789abcdef"' })])).name).toBe(
      'InvalidPart',
    )
    expect((await complete([part(2), part(1)])).name).toBe('InvalidPartOrder')
    const missing = await complete([part(1, { ChecksumSHA256: undefined })])
    expect(missing.name).toBe('InvalidRequest')
    expect(missing.message).toMatch(/must include the checksum for each part/)
    expect((await complete([part(1, { ChecksumSHA256: base64('sha256', Buffer.from('x')) })])).name).toBe(
      'InvalidPart',
    )
    const wrongAlgorithm = await failure(
      c.send(
        new UploadPartCommand({
          Bucket: 'plain',
          Key: key,
          UploadId,
          PartNumber: 3,
          Body: small,
          ChecksumAlgorithm: 'CRC32',
        }),
      ),
    )
    expect(wrongAlgorithm.name).toBe('InvalidRequest')

    // The last part may be small: part 1 alone completes.
    await c.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'plain',
        Key: key,
        UploadId,
        MultipartUpload: { Parts: [part(1)] },
      }),
    )
    expect(stored('plain', key)[0]!.read().equals(small)).toBe(true)
    expect(
      (await failure(c.send(new AbortMultipartUploadCommand({ Bucket: 'plain', Key: key, UploadId })))).name,
    ).toBe('NoSuchUpload')
  })
})

describe('ListObjectsV2 and DeleteObjects', () => {
  const keys = ['a.json', 'b/1.json', 'b/2.json', 'c.json', 'd/x/1.json', 'e.json', 'f.json']

  beforeAll(async () => {
    for (const key of keys)
      await client().send(new PutObjectCommand({ Bucket: 'listing', Key: key, Body: key }))
  })

  test('pages through every key with continuation tokens', async () => {
    const seen: string[] = []
    let token: string | undefined
    const pages: { count?: number; truncated?: boolean }[] = []
    do {
      const page = await client().send(
        new ListObjectsV2Command({ Bucket: 'listing', MaxKeys: 3, ContinuationToken: token }),
      )
      for (const object of page.Contents ?? []) seen.push(object.Key!)
      pages.push({ count: page.KeyCount, truncated: page.IsTruncated })
      token = page.NextContinuationToken
    } while (token)
    expect(seen).toEqual(keys)
    expect(pages).toEqual([
      { count: 3, truncated: true },
      { count: 3, truncated: true },
      { count: 1, truncated: false },
    ])
    const after = await client().send(new ListObjectsV2Command({ Bucket: 'listing', StartAfter: 'c.json' }))
    expect(after.Contents!.map((o) => o.Key)).toEqual(['d/x/1.json', 'e.json', 'f.json'])
    const bad = await failure(
      client().send(new ListObjectsV2Command({ Bucket: 'listing', ContinuationToken: 'not-a-token' })),
    )
    expect(bad.name).toBe('InvalidArgument')
  })

  test('a delimiter rolls keys up into common prefixes, which count towards max-keys', async () => {
    const page = await client().send(
      new ListObjectsV2Command({ Bucket: 'listing', Delimiter: '/', MaxKeys: 3 }),
    )
    expect(page.Contents!.map((o) => o.Key)).toEqual(['a.json', 'c.json'])
    expect(page.CommonPrefixes).toEqual([{ Prefix: 'b/' }])
    expect(page).toMatchObject({ KeyCount: 3, IsTruncated: true })
    const rest = await client().send(
      new ListObjectsV2Command({
        Bucket: 'listing',
        Delimiter: '/',
        ContinuationToken: page.NextContinuationToken,
      }),
    )
    expect(rest.Contents!.map((o) => o.Key)).toEqual(['e.json', 'f.json'])
    expect(rest.CommonPrefixes).toEqual([{ Prefix: 'd/' }])
    const nested = await client().send(
      new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'd/', Delimiter: '/' }),
    )
    expect(nested.CommonPrefixes).toEqual([{ Prefix: 'd/x/' }])
    expect(nested.Contents).toBeUndefined()
  })

  test('DeleteObjects deletes each key it may, reports the others, and needs a checksum of its body', async () => {
    const denied = await client(NO_DELETE).send(
      new DeleteObjectsCommand({ Bucket: 'listing', Delete: { Objects: [{ Key: 'e.json' }] } }),
    )
    expect(denied.Errors).toEqual([expect.objectContaining({ Key: 'e.json', Code: 'AccessDenied' })])

    const unprotected = client()
    tamper(unprotected, 'build', (request) => {
      delete request.headers['x-amz-checksum-crc32']
      delete request.headers['x-amz-sdk-checksum-algorithm']
    })
    const refused = await failure(
      unprotected.send(
        new DeleteObjectsCommand({ Bucket: 'listing', Delete: { Objects: [{ Key: 'e.json' }] } }),
      ),
    )
    expect(refused.name).toBe('InvalidRequest')

    const result = await client().send(
      new DeleteObjectsCommand({
        Bucket: 'listing',
        Delete: { Objects: [{ Key: 'e.json' }, { Key: 'f.json' }, { Key: 'never-there' }] },
      }),
    )
    expect(result.Deleted!.map((d) => d.Key).sort()).toEqual(['e.json', 'f.json', 'never-there'])
    expect(result.Errors).toBeUndefined()
    expect(s3.objects('listing').map((o) => o.key)).not.toContain('e.json')
    expect(s3.objects('listing')).toHaveLength(keys.length - 2)
  })
})

describe('authentication and permissions', () => {
  test('a wrong secret, an unknown key and an unsigned request are refused', async () => {
    const wrongSecret = await failure(
      client({ accessKeyId: WRITER.accessKeyId, secretAccessKey: 'not-the-secret' }).send(
        new ListObjectsV2Command({ Bucket: 'plain' }),
      ),
    )
    expect(wrongSecret.name).toBe('SignatureDoesNotMatch')
    expect(wrongSecret.$metadata?.httpStatusCode).toBe(403)

    const unknown = await failure(
      client({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' }).send(
        new ListObjectsV2Command({ Bucket: 'plain' }),
      ),
    )
    expect(unknown.name).toBe('InvalidAccessKeyId')

    const anonymous = await fetch(`${s3.endpoint}/plain?list-type=2`)
    expect(anonymous.status).toBe(403)
    expect(await anonymous.text()).toMatch(/<Code>AccessDenied<\/Code>/)
  })

  test('temporary credentials need their session token', async () => {
    const listed = await client(s3.clientSettings(TEMPORARY.accessKeyId).credentials).send(
      new ListObjectsV2Command({ Bucket: 'plain', MaxKeys: 1 }),
    )
    expect(listed.$metadata.httpStatusCode).toBe(200)
    expect(lastRequest('ListObjectsV2').headers['x-amz-security-token']).toBe(TEMPORARY.sessionToken)
    const without = await failure(
      client({ accessKeyId: TEMPORARY.accessKeyId, secretAccessKey: TEMPORARY.secretAccessKey }).send(
        new ListObjectsV2Command({ Bucket: 'plain' }),
      ),
    )
    expect(without.name).toBe('InvalidToken')
    const stray = await failure(
      client({ ...WRITER, sessionToken: 'not-issued' }).send(new ListObjectsV2Command({ Bucket: 'plain' })),
    )
    expect(stray.name).toBe('InvalidToken')
  })

  test('a signed header changed after signing no longer matches the signature', async () => {
    const c = client()
    tamper(c, 'finalizeRequest', (request) => {
      request.headers['x-amz-meta-owner'] = 'mallory'
    })
    const error = await failure(
      c.send(new PutObjectCommand({ Bucket: 'plain', Key: 'meta', Body: 'x', Metadata: { owner: 'ops' } })),
    )
    expect(error.name).toBe('SignatureDoesNotMatch')
    expect(stored('plain', 'meta')).toEqual([])
  })

  test('a key without a permission is refused with AccessDenied; a missing key is 404 only with s3:ListBucket', async () => {
    const put = await failure(
      client(READER).send(new PutObjectCommand({ Bucket: 'plain', Key: 'by-reader', Body: 'x' })),
    )
    expect(put.name).toBe('AccessDenied')
    expect(stored('plain', 'by-reader')).toEqual([])
    expect((await failure(client(READER).send(new ListObjectsV2Command({ Bucket: 'versioned' })))).name).toBe(
      'AccessDenied',
    )

    expect(
      (await failure(client(READER).send(new GetObjectCommand({ Bucket: 'plain', Key: 'nothing' })))).name,
    ).toBe('NoSuchKey')
    expect(
      (await failure(client(NO_LIST).send(new GetObjectCommand({ Bucket: 'plain', Key: 'nothing' })))).name,
    ).toBe('AccessDenied')
    expect((await failure(client().send(new GetObjectCommand({ Bucket: 'nowhere', Key: 'x' })))).name).toBe(
      'NoSuchBucket',
    )
  })
})

describe('buckets, versions, encryption and Object Lock', () => {
  test('bucket configuration is answered as configured', async () => {
    const c = client()
    expect((await c.send(new HeadBucketCommand({ Bucket: 'plain' }))).BucketRegion).toBe(s3.region)
    expect(
      (await failure(c.send(new HeadBucketCommand({ Bucket: 'nowhere' })))).$metadata?.httpStatusCode,
    ).toBe(404)
    expect((await c.send(new GetBucketVersioningCommand({ Bucket: 'versioned' }))).Status).toBe('Enabled')
    expect((await c.send(new GetBucketVersioningCommand({ Bucket: 'plain' }))).Status).toBeUndefined()
    expect((await c.send(new GetBucketVersioningCommand({ Bucket: 'locked' }))).Status).toBe('Enabled')

    const kms = await c.send(new GetBucketEncryptionCommand({ Bucket: 'kms-only' }))
    expect(kms.ServerSideEncryptionConfiguration!.Rules![0]!.ApplyServerSideEncryptionByDefault).toEqual({
      SSEAlgorithm: 'aws:kms',
      KMSMasterKeyID: `arn:aws:kms:${s3.region}:${s3.accountId}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    })
    const none = await failure(c.send(new GetBucketEncryptionCommand({ Bucket: 'unencrypted' })))
    expect(none.name).toBe('ServerSideEncryptionConfigurationNotFoundError')

    const lock = await c.send(new GetObjectLockConfigurationCommand({ Bucket: 'locked' }))
    expect(lock.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } },
    })
    expect((await failure(c.send(new GetObjectLockConfigurationCommand({ Bucket: 'plain' })))).name).toBe(
      'ObjectLockConfigurationNotFoundError',
    )
  })

  test('in a versioned bucket a simple delete adds a delete marker and older versions stay readable', async () => {
    const c = client()
    const v1 = await c.send(new PutObjectCommand({ Bucket: 'versioned', Key: 'state.yaml', Body: 'one' }))
    await c.send(new PutObjectCommand({ Bucket: 'versioned', Key: 'state.yaml', Body: 'two' }))
    const deleted = await c.send(new DeleteObjectCommand({ Bucket: 'versioned', Key: 'state.yaml' }))
    expect(deleted.DeleteMarker).toBe(true)

    expect(
      (await failure(c.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'state.yaml' })))).name,
    ).toBe('NoSuchKey')
    const old = await c.send(
      new GetObjectCommand({ Bucket: 'versioned', Key: 'state.yaml', VersionId: v1.VersionId }),
    )
    expect(await old.Body!.transformToString()).toBe('one')
    const versions = await c.send(
      new ListObjectVersionsCommand({ Bucket: 'versioned', Prefix: 'state.yaml' }),
    )
    expect(versions.Versions!.map((v) => v.IsLatest)).toEqual([false, false])
    expect(versions.DeleteMarkers).toEqual([
      expect.objectContaining({ VersionId: deleted.VersionId, IsLatest: true }),
    ])

    await c.send(
      new DeleteObjectCommand({ Bucket: 'versioned', Key: 'state.yaml', VersionId: deleted.VersionId }),
    )
    expect(
      await (
        await c.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'state.yaml' }))
      ).Body!.transformToString(),
    ).toBe('two')
  })

  test('ListObjectVersions pages through versions and delete markers, newest first within a key', async () => {
    const c = client()
    for (const [key, body] of [
      ['pages/a', '1'],
      ['pages/a', '2'],
      ['pages/b', '1'],
      ['pages/a', '3'],
      ['pages/c', '1'],
    ]) {
      await c.send(new PutObjectCommand({ Bucket: 'versioned', Key: key, Body: body }))
    }
    await c.send(new DeleteObjectCommand({ Bucket: 'versioned', Key: 'pages/b' }))
    const whole = await c.send(new ListObjectVersionsCommand({ Bucket: 'versioned', Prefix: 'pages/' }))
    const entries = (page: typeof whole) =>
      [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]
        .map((v) => ({ key: v.Key!, id: v.VersionId!, latest: v.IsLatest!, time: v.LastModified!.getTime() }))
        .sort((x, y) =>
          x.key < y.key ? -1 : x.key > y.key ? 1 : y.time - x.time || Number(y.latest) - Number(x.latest),
        )
    expect(entries(whole).map((e) => [e.key, e.latest])).toEqual([
      ['pages/a', true],
      ['pages/a', false],
      ['pages/a', false],
      ['pages/b', true],
      ['pages/b', false],
      ['pages/c', true],
    ])
    const paged: ReturnType<typeof entries> = []
    let markers: { KeyMarker?: string; VersionIdMarker?: string } = {}
    for (;;) {
      const page = await c.send(
        new ListObjectVersionsCommand({ Bucket: 'versioned', Prefix: 'pages/', MaxKeys: 2, ...markers }),
      )
      for (const entry of entries(page)) paged.push(entry)
      if (!page.IsTruncated) break
      markers = { KeyMarker: page.NextKeyMarker, VersionIdMarker: page.NextVersionIdMarker }
    }
    expect(paged.map((e) => e.id)).toEqual(entries(whole).map((e) => e.id))
  })

  test('a requireKms bucket refuses writes that do not ask for aws:kms, single or multipart', async () => {
    const c = client()
    expect(
      (await failure(c.send(new PutObjectCommand({ Bucket: 'kms-only', Key: 'k', Body: 'x' })))).name,
    ).toBe('AccessDenied')
    expect(
      (
        await failure(
          new Upload({
            client: c,
            params: { Bucket: 'kms-only', Key: 'k', Body: Buffer.alloc(6 * 1024 * 1024) },
          }).done(),
        )
      ).name,
    ).toBe('AccessDenied')
    expect(stored('kms-only', 'k')).toEqual([])

    const put = await c.send(
      new PutObjectCommand({ Bucket: 'kms-only', Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms' }),
    )
    expect(put.ServerSideEncryption).toBe('aws:kms')
    expect(put.SSEKMSKeyId).toBe(
      `arn:aws:kms:${s3.region}:${s3.accountId}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    )
    const head = await c.send(new HeadObjectCommand({ Bucket: 'kms-only', Key: 'k' }))
    expect(head.ServerSideEncryption).toBe('aws:kms')
  })

  test('Object Lock keeps a version until its date, and an upload to a locked bucket needs a checksum', async () => {
    const c = client()
    const put = await c.send(
      new PutObjectCommand({ Bucket: 'locked', Key: 'backup.tar', Body: 'locked bytes' }),
    )
    const retention = await c.send(new GetObjectRetentionCommand({ Bucket: 'locked', Key: 'backup.tar' }))
    expect(retention.Retention!.Mode).toBe('GOVERNANCE')
    expect(retention.Retention!.RetainUntilDate!.getTime() - Date.now()).toBeGreaterThan(23 * 3600_000)

    const refused = await failure(
      c.send(new DeleteObjectCommand({ Bucket: 'locked', Key: 'backup.tar', VersionId: put.VersionId })),
    )
    expect(refused.name).toBe('AccessDenied')
    // A simple delete only adds a marker, which Object Lock allows.
    expect(
      (await c.send(new DeleteObjectCommand({ Bucket: 'locked', Key: 'backup.tar' }))).DeleteMarker,
    ).toBe(true)
    expect(stored('locked', 'backup.tar').filter((o) => !o.deleteMarker)).toHaveLength(1)

    const until = new Date(Date.now() + 3 * 86_400_000)
    const compliance = await c.send(
      new PutObjectCommand({
        Bucket: 'locked',
        Key: 'kept.tar',
        Body: 'kept',
        ObjectLockMode: 'COMPLIANCE',
        ObjectLockRetainUntilDate: until,
      }),
    )
    const shorter = await failure(
      c.send(
        new PutObjectRetentionCommand({
          Bucket: 'locked',
          Key: 'kept.tar',
          Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(Date.now() + 86_400_000) },
        }),
      ),
    )
    expect(shorter.name).toBe('AccessDenied')
    const bypass = await failure(
      c.send(
        new DeleteObjectCommand({
          Bucket: 'locked',
          Key: 'kept.tar',
          VersionId: compliance.VersionId,
          BypassGovernanceRetention: true,
        }),
      ),
    )
    expect(bypass.name).toBe('AccessDenied')

    s3.advanceClock(2 * 86_400_000)
    try {
      await c.send(new DeleteObjectCommand({ Bucket: 'locked', Key: 'backup.tar', VersionId: put.VersionId }))
      expect(stored('locked', 'backup.tar').filter((o) => !o.deleteMarker)).toEqual([])
      expect(
        (
          await failure(
            c.send(
              new DeleteObjectCommand({ Bucket: 'locked', Key: 'kept.tar', VersionId: compliance.VersionId }),
            ),
          )
        ).name,
      ).toBe('AccessDenied')
    } finally {
      s3.advanceClock(-2 * 86_400_000)
    }

    const noChecksum = await failure(
      client(WRITER, { requestChecksumCalculation: 'WHEN_REQUIRED' }).send(
        new PutObjectCommand({ Bucket: 'locked', Key: 'bare', Body: 'x' }),
      ),
    )
    expect(noChecksum.name).toBe('InvalidRequest')
    expect(noChecksum.message).toMatch(/Content-MD5 OR x-amz-checksum- HTTP header is required/)
    await client(WRITER, { requestChecksumCalculation: 'WHEN_REQUIRED' }).send(
      new PutObjectCommand({
        Bucket: 'locked',
        Key: 'bare',
        Body: 'x',
        ContentMD5: base64('md5', Buffer.from('x')),
      }),
    )
    expect(stored('locked', 'bare')).toHaveLength(1)
  })
})

describe('failures a backup store must survive', () => {
  test('an upload cut short leaves no object, single or multipart', async () => {
    const cut = s3.interruptAfter({ method: 'PUT', keyPattern: /^interrupted\//, bytes: 64 * 1024 })
    try {
      const single = await failure(
        client().send(
          new PutObjectCommand({
            Bucket: 'plain',
            Key: 'interrupted/one',
            Body: Buffer.alloc(1024 * 1024, 1),
          }),
        ),
      )
      expect(single.$metadata?.httpStatusCode).toBeUndefined()
      expect(cut.count).toBe(1)

      const multipart = await failure(
        new Upload({
          client: client(),
          params: { Bucket: 'plain', Key: 'interrupted/many', Body: Buffer.alloc(11 * 1024 * 1024, 2) },
        }).done(),
      )
      expect(multipart).toBeInstanceOf(Error)
      expect(cut.count).toBeGreaterThan(1)
    } finally {
      cut.clear()
    }
    expect(s3.objects('plain').filter((o) => o.key.startsWith('interrupted/'))).toEqual([])
    // lib-storage aborts the multipart upload it could not finish.
    expect(s3.uploads('plain').filter((u) => u.key.startsWith('interrupted/'))).toEqual([])
    expect(s3.requests.filter((r) => r.key?.startsWith('interrupted/') && r.interrupted).length).toBe(
      cut.count,
    )
  })

  test('an operation the stand-in does not implement answers 501 rather than pretending', async () => {
    await client().send(new PutObjectCommand({ Bucket: 'plain', Key: 'tagged', Body: 'x' }))
    const error = await failure(
      client().send(
        new PutObjectTaggingCommand({
          Bucket: 'plain',
          Key: 'tagged',
          Tagging: { TagSet: [{ Key: 'a', Value: 'b' }] },
        }),
      ),
    )
    expect(error.name).toBe('NotImplemented')
    expect(error.$metadata?.httpStatusCode).toBe(501)
  })
})
