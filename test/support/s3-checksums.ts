// The checksum algorithms S3 accepts in x-amz-checksum-* headers and aws-chunked trailers (Amazon S3 User
// Guide, "Checking object integrity"; API reference, PutObject and Checksum): each digest is sent base64
// encoded, big-endian for the CRCs. CRC32 is node:zlib's; CRC32C and CRC64NVME are the table-driven
// reflected CRCs written out here, checked against their published check values in the tests, so that the
// stand-in never validates the SDK with the SDK's own code.
import { createHash } from 'node:crypto'
import { crc32 } from 'node:zlib'

export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number]

/** Algorithms S3 documents that the stand-in does not compute: a request naming one answers 501. */
export const UNIMPLEMENTED_ALGORITHMS = ['MD5', 'SHA512', 'XXHASH64', 'XXHASH3', 'XXHASH128']

const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = {
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
}

export interface Digest {
  update(data: Buffer): void
  digest(): Buffer
}

/** `x-amz-checksum-crc32` for CRC32, and so on. */
export function checksumHeader(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`
}

/** The algorithm named by a header suffix or a ChecksumAlgorithm value, in any case. */
export function parseAlgorithm(name: string): ChecksumAlgorithm | undefined {
  const upper = name.toUpperCase()
  return CHECKSUM_ALGORITHMS.find((algorithm) => algorithm === upper)
}

/** Whether `value` is the base64 form of a digest of this algorithm (right length, canonical padding). */
export function isChecksumValue(algorithm: ChecksumAlgorithm, value: string): boolean {
  const bytes = Buffer.from(value, 'base64')
  return bytes.length === DIGEST_BYTES[algorithm] && bytes.toString('base64') === value
}

export function createDigest(algorithm: ChecksumAlgorithm): Digest {
  switch (algorithm) {
    case 'CRC32':
      return crcDigest(
        4,
        (state: number, data: Buffer) => crc32(data, state),
        0,
        (state) => state,
      )
    case 'CRC32C':
      return crcDigest(4, updateCrc32c, 0xffffffff, (state) => (state ^ 0xffffffff) >>> 0)
    case 'CRC64NVME':
      return crc64nvme()
    case 'SHA1':
    case 'SHA256': {
      const hash = createHash(algorithm.toLowerCase())
      return { update: (data) => void hash.update(data), digest: () => hash.digest() }
    }
  }
}

/** The digest of a whole buffer. */
export function digestOf(algorithm: ChecksumAlgorithm, data: Buffer): Buffer {
  const digest = createDigest(algorithm)
  digest.update(data)
  return digest.digest()
}

function crcDigest(
  bytes: number,
  update: (state: number, data: Buffer) => number,
  initial: number,
  final: (state: number) => number,
): Digest {
  let state = initial
  return {
    update: (data) => void (state = update(state, data)),
    digest: () => {
      const out = Buffer.alloc(bytes)
      out.writeUInt32BE(final(state) >>> 0)
      return out
    },
  }
}

// CRC-32C (Castagnoli), reflected polynomial 0x82F63B78.
const CRC32C_TABLE = new Uint32Array(256)
for (let i = 0; i < 256; i++) {
  let c = i
  for (let bit = 0; bit < 8; bit++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
  CRC32C_TABLE[i] = c >>> 0
}

function updateCrc32c(state: number, data: Buffer): number {
  let crc = state
  for (let i = 0; i < data.length; i++) crc = (crc >>> 8) ^ CRC32C_TABLE[(crc ^ data[i]!) & 0xff]!
  return crc >>> 0
}

// CRC-64/NVME, reflected polynomial 0x9A6C9329AC4BC9B5, kept as two 32-bit halves to stay off BigInt.
const CRC64_LOW = new Uint32Array(256)
const CRC64_HIGH = new Uint32Array(256)
for (let i = 0; i < 256; i++) {
  let low = i
  let high = 0
  for (let bit = 0; bit < 8; bit++) {
    const carry = low & 1
    low = ((low >>> 1) | ((high & 1) << 31)) >>> 0
    high = high >>> 1
    if (carry) {
      low = (low ^ 0xac4bc9b5) >>> 0
      high = (high ^ 0x9a6c9329) >>> 0
    }
  }
  CRC64_LOW[i] = low
  CRC64_HIGH[i] = high
}

function crc64nvme(): Digest {
  let low = 0xffffffff
  let high = 0xffffffff
  return {
    update(data) {
      for (let i = 0; i < data.length; i++) {
        const index = (low ^ data[i]!) & 0xff
        low = (((low >>> 8) | (high << 24)) ^ CRC64_LOW[index]!) >>> 0
        high = ((high >>> 8) ^ CRC64_HIGH[index]!) >>> 0
      }
    },
    digest() {
      const out = Buffer.alloc(8)
      out.writeUInt32BE((high ^ 0xffffffff) >>> 0, 0)
      out.writeUInt32BE((low ^ 0xffffffff) >>> 0, 4)
      return out
    },
  }
}
