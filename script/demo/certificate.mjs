// A self-signed TLS certificate made at demo time: an EC P-256 key from node:crypto and an X.509 v3 certificate
// (RFC 5280) encoded here in DER, signed with ecdsa-with-SHA256. node:crypto creates keys but no certificates.
import { createSign, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto'

/** DER: a tag and its contents with the definite length form. */
function der(tag, parts) {
  const body = Buffer.concat(parts)
  const n = body.length
  const length =
    n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff])
  return Buffer.concat([Buffer.from([tag]), length, body])
}

const sequence = (parts) => der(0x30, parts)
const set = (parts) => der(0x31, parts)
const utf8 = (text) => der(0x0c, [Buffer.from(text, 'utf8')])
const explicit = (n, parts) => der(0xa0 + n, parts)

function oid(dotted) {
  const [first, second, ...rest] = dotted.split('.').map(Number)
  const bytes = [40 * first + second]
  for (const arc of rest) {
    const chunk = [arc & 0x7f]
    for (let v = arc >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80)
    for (const byte of chunk) bytes.push(byte)
  }
  return der(0x06, [Buffer.from(bytes)])
}

/** UTCTime, YYMMDDHHMMSSZ (dates before 2050). */
function utcTime(date) {
  const digits = date.toISOString().replace(/[-:T]|\.\d+Z$/g, '')
  return der(0x17, [Buffer.from(`${digits.slice(2)}Z`)])
}

const pem = (label, data) =>
  `-----BEGIN ${label}-----\n${data.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`

/**
 * A certificate for `names` (the first is the subject's common name, all are subject alternative names), valid
 * from now for `days`, and its private key, both PEM.
 * @param {string[]} names
 * @param {number} [days]
 * @returns {{ cert: string, key: string }}
 */
export function selfSignedCertificate(names, days = 365) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const ecdsaWithSha256 = sequence([oid('1.2.840.10045.4.3.2')])
  const name = sequence([set([sequence([oid('2.5.4.3'), utf8(names[0])])])])
  const serial = randomBytes(16)
  serial[0] &= 0x7f // a positive INTEGER
  const now = new Date()
  const altNames = sequence(names.map((dns) => der(0x82, [Buffer.from(dns, 'ascii')])))
  const extensions = explicit(3, [
    sequence([
      sequence([oid('2.5.29.17'), der(0x04, [altNames])]),
      sequence([oid('2.5.29.19'), der(0x04, [sequence([])])]), // basicConstraints: not a CA
    ]),
  ])
  const tbs = sequence([
    explicit(0, [der(0x02, [Buffer.from([2])])]), // v3
    der(0x02, [serial]),
    ecdsaWithSha256,
    name,
    sequence([utcTime(now), utcTime(new Date(now.getTime() + days * 86_400_000))]),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    extensions,
  ])
  const signature = createSign('sha256').update(tbs).sign(privateKey)
  const cert = pem('CERTIFICATE', sequence([tbs, ecdsaWithSha256, der(0x03, [Buffer.from([0]), signature])]))
  const x509 = new X509Certificate(cert)
  if (!x509.verify(publicKey) || !x509.checkPrivateKey(privateKey)) {
    throw new Error('the generated certificate does not verify against its own key')
  }
  return { cert, key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }
}
