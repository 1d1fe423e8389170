// Signature Version 4 as S3 checks it on the Authorization header (AWS IAM User Guide, "Signature Version 4
// for API requests" / "Create a signed AWS API request"; Amazon S3 API Reference, "Signature Calculations for
// the Authorization Header"). The canonical request is built here from the request as received; HMAC and
// SHA-256 are node:crypto's. S3 specifics: the path is URI-encoded once (not twice) and not normalised, and
// x-amz-content-sha256 is required and signed.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

import { S3Error } from './s3-xml.js'

export interface SignedRequest {
  method: string
  /** Path as sent, still percent-encoded. */
  rawPath: string
  /** Query string as sent, without `?`. */
  rawQuery: string
  /** Node's rawHeaders: name, value, name, value… */
  rawHeaders: string[]
}

/** Largest difference between the request's time and the server's that S3 accepts. */
const MAX_SKEW_MS = 15 * 60 * 1000

const UNRESERVED = /[A-Za-z0-9\-._~]/

/** AWS's UriEncode: every byte but the unreserved characters as %XX, in capitals. */
export function uriEncode(text: string, keepSlash: boolean): string {
  let out = ''
  for (const char of text) {
    if (UNRESERVED.test(char) || (keepSlash && char === '/')) out += char
    else
      for (const byte of Buffer.from(char, 'utf8'))
        out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.")
  }
}

function canonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return ''
  const pairs = rawQuery.split('&').map((pair) => {
    const equals = pair.indexOf('=')
    const name = equals === -1 ? pair : pair.slice(0, equals)
    const value = equals === -1 ? '' : pair.slice(equals + 1)
    return [uriEncode(decode(name), false), uriEncode(decode(value), false)] as const
  })
  pairs.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
  return pairs.map(([name, value]) => `${name}=${value}`).join('&')
}

/** Values of each header, lower-cased name, repeated headers joined with commas, spaces trimmed and folded. */
function headerValues(rawHeaders: string[]): Map<string, string> {
  const values = new Map<string, string>()
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase()
    const value = rawHeaders[i + 1]!.trim().replace(/\s+/g, ' ')
    const previous = values.get(name)
    values.set(name, previous === undefined ? value : `${previous},${value}`)
  }
  return values
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest()
}

function sha256Hex(data: string): string {
  return createHash('sha256').update(data, 'utf8').digest('hex')
}

function malformedHeader(detail: string): S3Error {
  return new S3Error(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; ${detail}`)
}

/** `20260101T000000Z` as a Date, or undefined. */
function parseAmzDate(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text)
  if (!m) return undefined
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!))
}

/**
 * Checks the request's signature and answers the access key it was signed with, or throws the S3Error S3
 * answers: AccessDenied without an Authorization header, InvalidAccessKeyId for an unknown key,
 * SignatureDoesNotMatch for a wrong secret or an altered request.
 */
export function verifySignature(
  request: SignedRequest,
  secretOf: (accessKeyId: string) => string | undefined,
  region: string,
  now: Date,
): string {
  const headers = headerValues(request.rawHeaders)
  const authorization = headers.get('authorization')
  if (authorization === undefined) {
    if (/(^|&)X-Amz-Signature=/i.test(request.rawQuery)) {
      throw new S3Error(501, 'NotImplemented', 'Presigned URLs are not implemented by the stand-in')
    }
    throw new S3Error(403, 'AccessDenied', 'Access Denied')
  }
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(
      authorization,
    )
  if (!match) {
    if (authorization.startsWith('AWS4-ECDSA-P256-SHA256 ')) {
      throw new S3Error(501, 'NotImplemented', 'Signature Version 4A is not implemented by the stand-in')
    }
    if (!authorization.startsWith('AWS4-HMAC-SHA256 ')) {
      throw new S3Error(
        400,
        'InvalidRequest',
        'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
      )
    }
    throw malformedHeader('expected Credential, SignedHeaders and Signature.')
  }
  const [, accessKeyId, scope, signedHeaderList, signature] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
  ]
  const [scopeDate, scopeRegion, service, terminator, ...rest] = scope.split('/')
  if (rest.length > 0 || service !== 's3' || terminator !== 'aws4_request') {
    throw malformedHeader(`incorrect credential scope ${scope}.`)
  }
  if (scopeRegion !== region) {
    throw malformedHeader(`the region '${scopeRegion}' is wrong; expecting '${region}'`)
  }
  const secret = secretOf(accessKeyId)
  if (secret === undefined) {
    throw new S3Error(
      403,
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.',
      {
        AWSAccessKeyId: accessKeyId,
      },
    )
  }
  const amzDate = headers.get('x-amz-date')
  const date = amzDate === undefined ? undefined : parseAmzDate(amzDate)
  if (amzDate === undefined || date === undefined) {
    throw new S3Error(403, 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header')
  }
  if (scopeDate !== amzDate.slice(0, 8)) {
    throw malformedHeader('Invalid credential date. Date is not the same as X-Amz-Date.')
  }
  if (Math.abs(date.getTime() - now.getTime()) > MAX_SKEW_MS) {
    throw new S3Error(
      403,
      'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large.',
      {
        RequestTime: amzDate,
        ServerTime: now.toISOString(),
        MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
      },
    )
  }
  const payloadHash = headers.get('x-amz-content-sha256')
  if (payloadHash === undefined) {
    throw new S3Error(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256')
  }
  const signedHeaders = signedHeaderList.split(';')
  const unsigned = [...headers.keys()].filter(
    (name) => (name === 'host' || name.startsWith('x-amz-')) && !signedHeaders.includes(name),
  )
  if (unsigned.length > 0) {
    throw new S3Error(
      403,
      'AccessDenied',
      'There were headers present in the request which were not signed',
      {
        HeadersNotSigned: unsigned.join(', '),
      },
    )
  }
  const canonicalRequest = [
    request.method,
    uriEncode(decode(request.rawPath), true),
    canonicalQuery(request.rawQuery),
    signedHeaders.map((name) => `${name}:${headers.get(name) ?? ''}\n`).join(''),
    signedHeaderList,
    payloadHash,
  ].join('\n')
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n')
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, scopeDate!), region), 's3'), 'aws4_request')
  const expected = hmac(key, stringToSign)
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
    throw new S3Error(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      {
        AWSAccessKeyId: accessKeyId,
        StringToSign: stringToSign,
        SignatureProvided: signature,
        CanonicalRequest: canonicalRequest,
      },
    )
  }
  return accessKeyId
}
