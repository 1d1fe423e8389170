import { describe, expect, it } from '@jest/globals'

import {
  allUrlCredentials,
  detectSecret,
  isAwsSecretKeyShape,
  isCredentialName,
  isJwt,
  isPlaceholder,
  jwkPrivateMembers,
  looksLikeCredentialValue,
  looksLikeRandomToken,
  shannonEntropy,
  urlCredentials,
} from '../actions/engine/secrets/detectors.js'

// Every secret-shaped value below is fake and assembled at run time, so that no scanner takes this file
// for one holding secrets.

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const BASE64URL = BASE62 + '-_'
const HEX = '0123456789abcdef'

/** Deterministic pseudo-random text (mulberry32), so that failures reproduce. */
function fake(alphabet: string, length: number, seed = 1): string {
  let state = seed >>> 0
  let out = ''
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    out += alphabet[((t ^ (t >>> 14)) >>> 0) % alphabet.length]
  }
  return out
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const armour = (label: string, body = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7') =>
  `${'-----BEGIN ' + label}-----\n${body}\n${'-----END ' + label}-----\n`
const PRIVATE = 'PRIVATE' + ' KEY'
/** `scheme://user:password@rest`, assembled. */
const url = (scheme: string, userinfo: string, rest: string) => `${scheme}:/` + `/${userinfo}` + '@' + rest

const JWT = [
  b64url({ alg: 'HS256', typ: 'JWT' }),
  b64url({ sub: '1234567890', iat: 1516239022 }),
  fake(BASE64URL, 43),
].join('.')
const AWS_KEY_ID = 'AKIA' + 'IOSFODNN7EXAMPLE'
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG' + '/bPxRfiCYEXAMPLEKEY'
const UUID = '3f1c2a9e-7b4d-4e8a-9c61-5d2f0b7a8e13'
const SHA256 = fake(HEX, 64, 7)
const CERT = armour('CERTIFICATE', 'MIIDazCCAlOgAwIBAgIUFAKEFAKE\nFAKEFAKEFAKE')
const CERT_BASE64 = 'MIIDazCCAlOgAwIBAgIU' + fake(BASE62 + '+/', 800, 3)

/** Values every detector must let through: configuration that is no secret. */
const PLAIN_VALUES = [
  UUID,
  UUID.toUpperCase(),
  SHA256,
  fake(HEX, 40, 8),
  CERT,
  CERT_BASE64,
  armour('PUBLIC KEY'),
  armour('RSA PUBLIC KEY'),
  armour('PGP PUBLIC KEY BLOCK'),
  armour('CERTIFICATE REQUEST'),
  'api.example.com',
  'api-v2.eu-west-1.example.com',
  'kong-dp-7f9c8b6d5-x2x4z.kong.svc.cluster.local',
  'https://api.example.com/v1/orders?limit=10',
  'https://api.example.com/path@v2/users',
  'https://api.example.com/search?email=alice@example.com',
  'https://alice@api.example.com/',
  'ssh://git@github.com/example/repo.git',
  'git@github.com:example/repo.git',
  'alice@example.com',
  'mailto:alice@example.com',
  'user@host',
  '^/api/v[0-9]+/.*$',
  '~/(?<version>v\\d+)/orders/(?<id>[a-z0-9-]+)$',
  'return function(conf) kong.service.request.set_header("X-Trace", ngx.var.request_id) end',
  'local ok, err = ngx.timer.at(0, function() kong.log.err("upstream 10.0.0.12:8443 failed") end)',
  'The quick brown fox jumps over the lazy dog while the gateway proxies requests to the upstream cluster.',
  '/etc/kong/ssl/server.crt',
  '/usr/local/share/lua/5.1/kong/plugins/custom-auth/handler.lua',
  'C:\\Program Files\\Kong\\kong.conf',
  '3.9.1',
  'v1.2.3-rc.1+build.20240115',
  '2024-01-15T10:20:30.123456789+00:00',
  '2024-01-15',
  'team-payments',
  'env:production',
  'managed-by:deckhand',
  'my_service_v2_production',
  'MyVeryLongServiceName2024',
  'OrdersServiceV2Canary',
  'PAYMENTS_SERVICE_PROD_2024',
  'gke_my-project_europe-west1_cluster-1',
  'application/vnd.api+json',
  '{vault://env/my-secret}',
  '{vault://aws/prod/kong/redis?region=eu-west-1}',
  '${{ env "DECK_REDIS_PASSWORD" }}',
  '[masked]',
  '[redacted]',
  '{"kty":"RSA","n":"0vx7agoebGcQSuu","e":"AQAB"}',
  '{"name":"orders","retries":5}',
  '12345678901234567890123456789012',
  AWS_SECRET,
  fake(BASE62, 64, 9),
]

describe('detectSecret', () => {
  it.each([
    'RSA ' + PRIVATE,
    PRIVATE,
    'ENCRYPTED ' + PRIVATE,
    'EC ' + PRIVATE,
    'DSA ' + PRIVATE,
    'OPENSSH ' + PRIVATE,
    'PGP ' + PRIVATE + ' BLOCK',
  ])('finds a PEM %s, also inside other text', (label) => {
    expect(detectSecret(armour(label))).toBe('private-key')
    expect(detectSecret(`local key = [[\n${armour(label)}]]\nreturn key`)).toBe('private-key')
    expect(detectSecret(JSON.stringify({ key: armour(label) }))).toBe('private-key')
  })

  it('finds an SSH2 (RFC 4716) private key', () => {
    expect(detectSecret('---- BEGIN SSH2 ENCRYPTED ' + PRIVATE + ' ----\nP2/56wAAA\n')).toBe('private-key')
  })

  it('finds JWKs with private members, alone, in a set or an array', () => {
    const rsa = { kty: 'RSA', n: fake(BASE64URL, 342), e: 'AQAB', d: fake(BASE64URL, 342, 2) }
    const ec = {
      kty: 'EC',
      crv: 'P-256',
      x: fake(BASE64URL, 43),
      y: fake(BASE64URL, 43, 3),
      d: fake(BASE64URL, 43, 4),
    }
    const oct = { kty: 'oct', k: fake(BASE64URL, 43, 5) }
    const okp = { kty: 'OKP', crv: 'Ed25519', x: fake(BASE64URL, 43), d: fake(BASE64URL, 43, 6) }
    const publicRsa = { kty: 'RSA', n: fake(BASE64URL, 342), e: 'AQAB' }
    for (const jwk of [rsa, ec, oct, okp]) expect(detectSecret(JSON.stringify(jwk))).toBe('jwk-private')
    expect(detectSecret(JSON.stringify({ keys: [publicRsa, ec] }))).toBe('jwk-private')
    expect(detectSecret(`  ${JSON.stringify([publicRsa, oct], null, 2)}\n`)).toBe('jwk-private')
    expect(detectSecret(JSON.stringify(publicRsa))).toBeUndefined()
    expect(detectSecret(JSON.stringify({ keys: [publicRsa] }))).toBeUndefined()
    // Private members that are references or masks are no secret any more.
    expect(detectSecret(JSON.stringify({ ...publicRsa, d: '{vault://env/jwk-d}' }))).toBeUndefined()
    expect(detectSecret(JSON.stringify({ ...publicRsa, d: '[redacted]' }))).toBeUndefined()
    // No kty: no JWK.
    expect(detectSecret(JSON.stringify({ d: fake(BASE64URL, 43), p: 'x' }))).toBeUndefined()
    expect(detectSecret('{"kty":"oct","k":')).toBeUndefined()
  })

  it('finds GCP service-account keys and gcloud user credentials', () => {
    const account = {
      type: 'service_account',
      project_id: 'example-project',
      private_key_id: fake(HEX, 40),
      private_key: armour(PRIVATE),
      client_email: 'deckhand@example-project.iam.gserviceaccount.com',
    }
    expect(detectSecret(JSON.stringify(account, null, 2))).toBe('gcp-service-account')
    expect(
      detectSecret(JSON.stringify({ ...account, private_key: '${{ env "DECK_GCP_KEY" }}' })),
    ).toBeUndefined()
    expect(detectSecret(JSON.stringify({ type: 'service_account', client_email: 'a@b.c' }))).toBeUndefined()
    const user = {
      type: 'authorized_user',
      client_id: 'x.apps',
      client_secret: fake(BASE62, 24),
      refresh_token: fake(BASE62, 100),
    }
    expect(detectSecret(JSON.stringify(user))).toBe('token')
    expect(
      detectSecret(JSON.stringify({ type: 'external_account', audience: '//iam.googleapis.com/x' })),
    ).toBeUndefined()
  })

  it.each([
    url('https', 'user:pass', 'example.com'),
    url('postgres', 'kong:' + fake(BASE62, 16), 'db.internal:5432/kong'),
    url('redis', ':' + fake(BASE62, 12), 'redis.internal:6379/0'),
    url('mongodb+srv', 'app:p%40ss', 'cluster0.example.net/orders?retryWrites=true'),
    url('amqps', 'guest:guest', 'mq.internal'),
    url('https', 'x-access-token:' + 'ghs_' + fake(BASE62, 36), 'github.com/example/repo.git'),
    url('https', 'ghp_' + fake(BASE62, 36), 'github.com/example/repo.git'),
    url('https', fake(BASE62, 40, 11), 'git.example.com/repo.git'),
    'proxy=' + url('http', 'u:p', 'proxy.internal:3128') + ' timeout=5',
    `local client = redis.connect("${url('redis', 'default:' + fake(BASE62, 20), 'cache:6379')}")`,
  ])('finds URL credentials in %s', (value) => {
    expect(detectSecret(value)).toBe('url-credentials')
  })

  it('finds JWTs (JWS and JWE)', () => {
    expect(detectSecret(JWT)).toBe('jwt')
    const jwe = [
      b64url({ alg: 'RSA-OAEP', enc: 'A256GCM' }),
      fake(BASE64URL, 342),
      fake(BASE64URL, 16),
      fake(BASE64URL, 40),
      fake(BASE64URL, 22),
    ]
    expect(detectSecret(jwe.join('.'))).toBe('jwt')
    expect(isJwt(JWT)).toBe(true)
    expect(isJwt([b64url({ typ: 'JWT' }), b64url({ sub: 'x' }), 'sig'].join('.'))).toBe(false)
    expect(isJwt(['eyJub3Q', b64url({ sub: 'x' }), 'sig'].join('.'))).toBe(false)
    expect(isJwt([b64url({ alg: 'HS256' }), b64url({ sub: 'x' })].join('.'))).toBe(false)
    expect(isJwt([b64url({ alg: 'HS256' }), '', 'sig'].join('.'))).toBe(false)
    expect(isJwt(JWT + '!')).toBe(false)
  })

  it('finds AWS access key ids, as whole values', () => {
    expect(detectSecret(AWS_KEY_ID)).toBe('aws-access-key-id')
    expect(detectSecret(` ${'ASIA' + 'Y34FZKBOKMUTVV7A'}\n`)).toBe('aws-access-key-id')
    expect(detectSecret(AWS_KEY_ID.toLowerCase())).toBeUndefined()
    expect(detectSecret(AWS_KEY_ID.slice(0, 19))).toBeUndefined()
    expect(detectSecret(AWS_KEY_ID + 'A')).toBeUndefined()
    expect(detectSecret('AKIA' + 'IOSFODNN8EXAMPLE')).toBeUndefined() // 8 is not base32
  })

  it('never reports an AWS secret key shape by itself; isAwsSecretKeyShape does', () => {
    expect(detectSecret(AWS_SECRET)).toBeUndefined()
    expect(isAwsSecretKeyShape(AWS_SECRET)).toBe(true)
    expect(isAwsSecretKeyShape(fake(HEX, 40))).toBe(false)
    expect(isAwsSecretKeyShape('a'.repeat(40))).toBe(false)
    expect(isAwsSecretKeyShape(AWS_SECRET.slice(1))).toBe(false)
    expect(isAwsSecretKeyShape(AWS_SECRET.slice(1) + '!')).toBe(false)
  })

  it.each([
    ['GitHub classic', 'ghp_' + fake(BASE62, 36)],
    ['GitHub OAuth', 'gho_' + fake(BASE62, 36)],
    ['GitHub app', 'ghs_' + fake(BASE62, 36)],
    ['GitHub user-to-server', 'ghu_' + fake(BASE62, 36)],
    ['GitHub fine-grained', 'github_pat_' + fake(BASE62, 22) + '_' + fake(BASE62, 59)],
    ['Slack bot', 'xoxb-' + '1234567890-1234567890123-' + fake(BASE62, 24)],
    ['Slack user', 'xoxp-' + '1234567890-1234567890-1234567890123-' + fake(HEX, 32)],
    ['Slack webhook', 'https://hooks.slack.com/services/' + 'T0123ABCD/B0123ABCD/' + fake(BASE62, 24)],
    ['Stripe secret', 'sk_live_' + fake(BASE62, 24)],
    ['Stripe restricted', 'rk_live_' + fake(BASE62, 24)],
    ['GitLab', 'glpat-' + fake(BASE62, 20)],
    ['npm', 'npm_' + fake(BASE62, 36)],
    ['OpenAI legacy', 'sk-' + fake(BASE62, 48)],
    ['OpenAI project', 'sk-proj-' + fake(BASE64URL, 156)],
    ['Anthropic', 'sk-ant-api03-' + fake(BASE64URL, 93) + 'AA'],
    ['SendGrid', 'SG.' + fake(BASE64URL, 22) + '.' + fake(BASE64URL, 43)],
    ['Google API key', 'AIza' + fake(BASE64URL, 35)],
    ['Twilio API key', 'SK' + fake(HEX, 32)],
    ['Vault', 'hvs.' + fake(BASE64URL, 90)],
    ['Konnect', 'kpat_' + fake(BASE62, 46)],
  ])('finds a %s token', (_vendor, token) => {
    expect(detectSecret(token)).toBe('token')
    expect(looksLikeCredentialValue(token)).toBe(true)
  })

  it.each([
    'sk-payments-service-production',
    'sk-' + 'abcdefghijklmnopqrstuvwxyz',
    'ghp_' + fake(BASE62, 10),
    'pk_live_' + fake(BASE62, 24),
    'npm_' + fake(BASE62, 12),
    'SK' + fake(HEX, 32).toUpperCase(),
    'glpat-short',
    'xoxb-',
    'xox' + 'b-release-notes-channel',
    'AIza' + fake(BASE64URL, 20),
  ])('does not take %s for a vendor token', (value) => {
    expect(detectSecret(value)).toBeUndefined()
  })

  it('finds HTTP credentials with their scheme, strictly', () => {
    expect(detectSecret('Bearer ' + fake(BASE62, 32))).toBe('token')
    expect(detectSecret('Bearer ' + JWT)).toBe('token')
    expect(detectSecret('Basic ' + Buffer.from('alice:' + fake(BASE62, 12)).toString('base64'))).toBe('token')
    expect(detectSecret('Splunk ' + UUID)).toBe('token')
    expect(detectSecret('Bearer token required')).toBeUndefined()
    expect(detectSecret('Bearer AuthenticationRequired')).toBeUndefined()
    expect(detectSecret('Basic realm="kong"')).toBeUndefined()
    expect(detectSecret('Bearer ${{ env "DECK_TOKEN" }}')).toBeUndefined()
    expect(detectSecret('Basic ' + Buffer.from('no colon here').toString('base64'))).toBeUndefined()
  })

  it.each(PLAIN_VALUES.map((value) => [JSON.stringify(value).slice(0, 60), value]))(
    'lets %s pass',
    (_label, value) => {
      expect(detectSecret(value)).toBeUndefined()
    },
  )

  it('lets short and empty values pass', () => {
    for (const value of ['', ' ', 'a', 'password', 'secret!', '${X}'])
      expect(detectSecret(value)).toBeUndefined()
  })
})

describe('urlCredentials', () => {
  const span = (value: string) => {
    const found = urlCredentials(value)
    return found && value.slice(found.start, found.end)
  }

  it('spans the userinfo of the first URL with credentials', () => {
    expect(span(url('https', 'user:pass', 'example.com/x'))).toBe('user:pass')
    expect(span(url('redis', ':s3cret', 'cache:6379'))).toBe(':s3cret')
    expect(span('see ' + url('https', 'alice:w0nd@rland', 'example.com') + ' now')).toBe('alice:w0nd@rland')
    expect(span('https://example.com, ' + url('ftp', 'u:p', 'files.example.com'))).toBe('u:p')
    expect(span(url('mongodb', 'app:pw', 'h1:27017,h2:27017/db?replicaSet=rs0'))).toBe('app:pw')
    expect(span(url('http', 'user:pass', '[::1]:8080/'))).toBe('user:pass')
    const token = 'ghp_' + fake(BASE62, 36)
    expect(span(url('https', token, 'github.com'))).toBe(token)
  })

  it('finds every URL with credentials', () => {
    const value = [
      url('https', 'a:b', 'one.example.com'),
      'https://two.example.com',
      url('redis', ':c', 'three'),
    ].join(' ')
    expect(allUrlCredentials(value).map(({ start, end }) => value.slice(start, end))).toEqual(['a:b', ':c'])
  })

  it.each([
    'https://example.com/path@v2',
    'https://example.com?next=/a@b',
    'https://example.com#frag@x',
    'https://alice@example.com/',
    'ssh://git@github.com/example/repo.git',
    url('https', 'user:', 'example.com'),
    url('https', 'user:${{ env "DECK_PW" }}', 'example.com'),
    url('https', 'user:[redacted]', 'example.com'),
    url('https', 'user:[masked]', 'example.com'),
    url('https', 'user:***', 'example.com'),
    url('https', 'user:$PASSWORD', 'example.com'),
    url('redis', ':{vault://env/redis-password}', 'cache'),
    url('postgres', 'user:${PGPASSWORD}', 'db'),
    '//user:pass' + '@example.com',
    'user:pass' + '@example.com',
    'mailto:alice@example.com',
    'alice@example.com',
    '://user:pass' + '@example.com',
  ])('finds none in %s', (value) => {
    expect(urlCredentials(value)).toBeUndefined()
  })
})

describe('jwkPrivateMembers', () => {
  it('lists the private members present, in RFC order', () => {
    expect(
      jwkPrivateMembers({ kty: 'RSA', n: 'n', e: 'AQAB', qi: 'x', d: 'x', p: 'x', q: 'x', dp: 'x', dq: 'x' }),
    ).toEqual(['d', 'p', 'q', 'dp', 'dq', 'qi'])
    expect(jwkPrivateMembers({ kty: 'oct', k: 'x', alg: 'HS256' })).toEqual(['k'])
    expect(jwkPrivateMembers({ kty: 'RSA', d: 'x', oth: [{ r: 'x', d: 'x', t: 'x' }] })).toEqual(['d', 'oth'])
    expect(jwkPrivateMembers({ r: 'x', d: 'x', t: 'x' })).toEqual(['d', 'r', 't'])
  })

  it('ignores public members and absent ones', () => {
    expect(jwkPrivateMembers({ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1', use: 'sig' })).toEqual([])
    expect(jwkPrivateMembers({ kty: 'EC', d: null, k: undefined })).toEqual([])
    expect(jwkPrivateMembers(Object.create({ d: 'inherited' }) as Record<string, unknown>)).toEqual([])
  })
})

describe('isCredentialName', () => {
  it.each([
    'Authorization',
    'authorization',
    'Proxy-Authorization',
    'X-Forwarded-Authorization',
    'Cookie',
    'Set-Cookie',
    'X-API-Key',
    'x_api_key',
    'api-key',
    'apikey',
    'X-ApiKey',
    'key',
    'DD-API-KEY',
    'DD-APPLICATION-KEY',
    'X-Honeycomb-Team',
    'X-Splunk-Token',
    'X-Vault-Token',
    'X-Amz-Security-Token',
    'X-Amz-Signature',
    'X-Amz-Credential',
    'Ocp-Apim-Subscription-Key',
    'X-Goog-Api-Key',
    'X-Functions-Key',
    'X-Auth-Key',
    'X-Insert-Key',
    'PRIVATE-TOKEN',
    'Kong-Admin-Token',
    'X-Auth-Token',
    'x-access-token',
    'X-CSRF-Token',
    'X-Auth',
    'client_secret',
    'client-secret',
    'clientsecret',
    'password',
    'redis_password',
    'passwd',
    'access_token',
    'accessToken',
    'refresh_token',
    'id_token',
    'signature',
    'sig',
    'jwt',
    'client_assertion',
    'X-Goog-IAP-JWT-Assertion',
    'X-Auth-Request-Access-Token',
    'X-Webhook-Secret',
  ])('takes %s for a credential', (name) => {
    expect(isCredentialName(name)).toBe(true)
  })

  it.each([
    'Content-Type',
    'Accept',
    'Accept-Encoding',
    'X-Request-Id',
    'Host',
    'X-Forwarded-For',
    'X-Forwarded-Host',
    'X-Forwarded-Proto',
    'Kong-Debug',
    'X-Kong-Upstream-Latency',
    'X-Consumer-Id',
    'X-Consumer-Username',
    'X-Credential-Identifier',
    'X-Authenticated-Userid',
    'X-Authenticated-Scope',
    'X-Auth-Request-User',
    'X-Auth-Request-Email',
    'WWW-Authenticate',
    'Cache-Control',
    'Idempotency-Key',
    'Sec-WebSocket-Key',
    'X-Cache-Key',
    'X-Public-Key',
    'token_url',
    'token-endpoint',
    'X-Token-Type',
    'key_names',
    'key-id',
    'cookie_name',
    'traceparent',
    'X-Hub-Signature-256',
    '',
  ])('does not take %s for a credential', (name) => {
    expect(isCredentialName(name)).toBe(false)
  })
})

describe('looksLikeCredentialValue', () => {
  it.each([
    ['a bearer token', 'Bearer ' + fake(BASE62, 32)],
    ['a short bearer token', 'Bearer ' + fake(BASE62, 12)],
    ['a bearer JWT', 'Bearer ' + JWT],
    ['Basic', 'Basic ' + Buffer.from('user:pass').toString('base64')],
    ['Token', 'Token ' + fake(HEX, 40)],
    ['Splunk HEC', 'Splunk ' + UUID],
    ['Okta SSWS', 'SSWS ' + fake(BASE64URL, 42)],
    [
      'Kong hmac-auth',
      'hmac username="alice", algorithm="hmac-sha256", headers="date", signature="' +
        fake(BASE62 + '+/', 44) +
        '="',
    ],
    [
      'AWS SigV4',
      'AWS4-HMAC-SHA256 Credential=x/20240101/eu-west-1/s3/aws4_request, SignedHeaders=host, Signature=' +
        fake(HEX, 64),
    ],
    ['a JWT', JWT],
    ['a vendor token', 'glpat-' + fake(BASE62, 20)],
    ['a random base62 token of 20', fake(BASE62, 20, 21)],
    ['a random base62 token of 32', fake(BASE62, 32, 22)],
    ['a random base64url token of 43', fake(BASE64URL, 43, 23)],
    ['a random base36 token', fake('abcdefghijklmnopqrstuvwxyz0123456789', 32, 24)],
    ['an AWS secret key', AWS_SECRET],
    ['a 32-character hex key (Datadog)', fake(HEX, 32, 25)],
    ['a cookie', 'sid=' + fake(BASE64URL, 40, 26) + '; Path=/; HttpOnly; Secure'],
    ['a query string', 'client_id=deckhand&client_secret=' + fake(BASE62, 32, 27)],
    ['URL credentials', url('https', 'user:pass', 'example.com')],
    ['a private key', armour(PRIVATE)],
  ])('takes %s for a credential', (_label, value) => {
    expect(looksLikeCredentialValue(value)).toBe(true)
  })

  it.each([
    UUID,
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    fake(HEX, 16),
    fake(HEX, 31),
    'application/json',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
    'no-cache',
    'max-age=31536000; includeSubDomains; preload',
    'gzip, deflate, br',
    'en-US,en;q=0.9',
    'true',
    '1234567890123456789012345',
    '2024-01-15T10:20:30Z',
    'Mon, 15 Jan 2024 10:20:30 GMT',
    'Kong/3.9.1',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
    'api.example.com',
    'internal-orders-1234567890.eu-west-1.elb.amazonaws.com',
    'https://api.example.com/v1/orders',
    'Basic realm="api"',
    'Bearer realm="api", error="invalid_token"',
    'Digest realm="api", qop="auth", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"',
    'Bearer required',
    'Token expired, please sign in again',
    'Bearer ${{ env "DECK_API_TOKEN" }}',
    '${{ env "DECK_API_TOKEN" }}',
    '{vault://env/api-token}',
    '[masked]',
    'internationalization',
    'my_service_v2_production',
    'MyVeryLongServiceName2024',
    'ServiceNameForPayments2',
    'OAuth2ClientCredentialsV3',
    'X-Consumer-Custom-Id-Value1',
    'team-payments-2024-prod',
    'kong-gateway-production-01',
    'prometheus_exporter_v1_2_3',
    'v1.2.3-rc.1+build.20240115',
    '/api/v1/orders/1234567890abcdef',
    'The upstream responded with an unexpected status and the request was retried three times.',
    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1A',
  ])('does not take %s for a credential', (value) => {
    expect(looksLikeCredentialValue(value)).toBe(false)
  })

  it('lets the plain configuration values pass, save the hex ones it documents', () => {
    const hex = new Set([SHA256, fake(HEX, 40, 8)])
    const flagged = PLAIN_VALUES.filter((value) => !hex.has(value) && looksLikeCredentialValue(value))
    // The random base62 string and the AWS secret key shape are tokens by their look, as documented.
    expect(flagged).toEqual([AWS_SECRET, fake(BASE62, 64, 9)])
  })
})

describe('looksLikeRandomToken', () => {
  const rate = (alphabet: string, length: number) => {
    let found = 0
    for (let seed = 1; seed <= 1000; seed++)
      if (looksLikeRandomToken(fake(alphabet, length, seed * 7919))) found++
    return found / 1000
  }

  it('takes random tokens for tokens, missing the few it documents', () => {
    // Measured with this generator: base62 98.3% at 20, 99.3% at 32, 99.8% at 40; base64url 98.9% at 43;
    // base64 98.9% at 40 (those starting with '/' pass); base36 99.3% and base32 91.5% at 32; hex 100%.
    expect(rate(BASE62, 20)).toBeGreaterThan(0.97)
    expect(rate(BASE62, 32)).toBeGreaterThan(0.98)
    expect(rate(BASE62, 40)).toBeGreaterThan(0.99)
    expect(rate(BASE64URL, 43)).toBeGreaterThan(0.98)
    expect(rate(BASE62 + '+/', 40)).toBeGreaterThan(0.98)
    expect(rate('abcdefghijklmnopqrstuvwxyz0123456789', 32)).toBeGreaterThan(0.98)
    expect(rate('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 32)).toBeGreaterThan(0.9)
    expect(rate(HEX, 32)).toBe(1)
    expect(rate(HEX, 31)).toBe(0)
  })

  it.each([
    'GetUserByIdV2Handler',
    'K8sClusterEuWest1Prod',
    'HTTPAPIURLConfigV2Main',
    'KongGatewayDataPlane01',
    'eu-west-1a.compute.internal',
    'ip-10-0-1-23.ec2.internal',
    CERT_BASE64,
  ])('does not take %s for a random token', (value) => {
    expect(looksLikeRandomToken(value)).toBe(false)
  })

  it('measures entropy in bits per character', () => {
    expect(shannonEntropy('')).toBe(0)
    expect(shannonEntropy('aaaa')).toBe(0)
    expect(shannonEntropy('abab')).toBe(1)
    expect(shannonEntropy('abcdefgh')).toBe(3)
  })
})

describe('isPlaceholder', () => {
  it.each([
    '{vault://env/x}',
    '${{ env "DECK_X" }}',
    '${X}',
    '$X_1',
    '{{ password }}',
    '<password>',
    '[masked]',
    '[REDACTED]',
    '****',
    '%s',
    ' ',
  ])('takes %s for a placeholder', (value) => {
    expect(isPlaceholder(value)).toBe(true)
  })

  it.each(['{"kty":"oct"}', 's3cr3t', '$3cr3t!', '{vault', '<html><body>x</body></html>'.repeat(4)])(
    'does not take %s for one',
    (value) => {
      expect(isPlaceholder(value)).toBe(false)
    },
  )
})

describe('bounded time', () => {
  const checks = (value: string) => {
    detectSecret(value)
    looksLikeCredentialValue(value)
    urlCredentials(value)
    allUrlCredentials(value)
    isCredentialName(value)
  }
  // The best of three runs: another process taking the CPU can only make a run slower, never faster.
  const budget = (work: string | (() => void)) => {
    let best = Infinity
    for (let run = 0; run < 3; run++) {
      const start = performance.now()
      if (typeof work === 'string') checks(work)
      else work()
      best = Math.min(best, performance.now() - start)
    }
    return best
  }
  // A busy machine slows every run alike: the bound also allows 20 times the time plain text of the same
  // length takes, measured now. Backtracking would take minutes, far past either.
  const allowance = (length: number) =>
    Math.max(1000, 20 * budget('lorem ipsum dolor sit amet '.repeat(Math.ceil(length / 27)).slice(0, length)))

  it.each([
    ['10 MB of text', () => 'lorem ipsum dolor sit amet '.repeat(400_000)],
    ['10 MB without a break', () => 'a'.repeat(10_000_000)],
    ['10 MB of a key in the end', () => 'x'.repeat(10_000_000) + armour(PRIVATE)],
    ["'a:' a million times", () => 'a:'.repeat(1_000_000)],
    ["'-----BEGIN ' 100,000 times", () => '-----BEGIN '.repeat(100_000)],
    ['the label a million times', () => PRIVATE.repeat(1_000_000)],
    ['armour without its end', () => ('-----BEGIN ' + 'A'.repeat(40) + ' ').repeat(50_000) + PRIVATE],
    ["'://' a million times", () => '://'.repeat(1_000_000)],
    ["'a://b@' 500,000 times", () => 'a://b@'.repeat(500_000)],
    ['a long authority', () => 'https://' + 'a:'.repeat(1_000_000) + '@host'],
    ["'@' a million times", () => '@'.repeat(1_000_000) + 'https://x'],
    ['JSON just below the cap', () => '{"kty":"RSA","n":"' + 'A'.repeat(256 * 1024 - 40) + '"}'],
    ['unparsable JSON below the cap', () => '{"kty":' + '['.repeat(256 * 1024 - 10)],
    ['JSON above the cap', () => '{"kty":' + '['.repeat(1_000_000)],
    ['a JWT-like prefix', () => 'eyJ' + 'a.'.repeat(1_000_000)],
    ['dots and dashes', () => '-.'.repeat(2_000_000)],
    ['a long header value', () => ('Bearer ' + 'x'.repeat(30) + '; ').repeat(100_000)],
  ])('handles %s well under a second', (_label, make) => {
    const value = make()
    expect(budget(value)).toBeLessThan(allowance(value.length))
  })

  it('keeps up with a dump: 200,000 typical values well under a second', () => {
    const values = [
      'orders',
      'https://orders.internal:8443/api/v1',
      UUID,
      '^/api/v[0-9]+/.*$',
      'application/json',
      'X-Request-Id',
      '3.9.1',
      'team-payments',
    ]
    let found = 0
    const ms = budget(() => {
      for (let i = 0; i < 200_000; i++)
        if (detectSecret(values[i % values.length]! + (i % 3 === 0 ? '' : i))) found++
    })
    expect(found).toBe(0)
    expect(ms).toBeLessThan(1000)
  })
})
