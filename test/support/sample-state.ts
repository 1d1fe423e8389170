/** A compact deck state (as `deck gateway dump --format json` prints it) holding every kind of secret. */
export const PEM_KEY =
  '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n'
export const PEM_CERT =
  '-----BEGIN CERTIFICATE-----\nMIIDazCCAlOgAwIBAgIU\nFAKEFAKE\n-----END CERTIFICATE-----\n'

export function sampleState(): Record<string, unknown> {
  return {
    _format_version: '3.0',
    _workspace: 'payments',
    services: [
      {
        name: 'orders',
        host: 'orders.internal',
        port: 8080,
        created_at: 1700000000,
        updated_at: 1700000001,
        routes: [
          { name: 'orders-b', paths: ['/b'], created_at: 1 },
          {
            name: 'orders-a',
            paths: ['/a'],
            plugins: [{ name: 'session', config: { secret: 'sess-secret', cookie_name: 'x' } }],
          },
        ],
        plugins: [
          {
            name: 'rate-limiting',
            config: {
              minute: 10,
              policy: 'redis',
              redis: { host: 'r', password: 'p@ss: w#rd "q"', sentinel_password: null },
            },
          },
          {
            name: 'aws-lambda',
            config: { aws_key: 'AKIAFAKE', aws_secret: 'aws-s3cret', function_name: 'f' },
          },
          {
            name: 'http-log',
            config: {
              http_endpoint: 'https://logs',
              headers: { Authorization: ['Bearer tok'], 'X-Trace': ['1'] },
            },
          },
          {
            name: 'request-transformer',
            config: { add: { headers: ['Authorization:Basic dXNlcjpwdw==', 'X-Env:prod'] } },
          },
        ],
      },
    ],
    consumers: [
      {
        username: 'bob',
        keyauth_credentials: [{ key: 'bob-key-2' }, { key: 'bob-key-1' }],
        basicauth_credentials: [
          {
            username: 'bob',
            password: '5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8',
            id: '2f1d7c0e-1111-4e0b-9d2c-aaaaaaaaaaaa',
          },
        ],
        hmacauth_credentials: [{ username: 'bob-hmac', secret: 'hmac-secret' }],
        jwt_secrets: [
          { key: 'iss-hs', algorithm: 'HS256', secret: 'jwt-secret' },
          {
            key: 'iss-rs',
            algorithm: 'RS256',
            rsa_public_key: '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n',
          },
        ],
        oauth2_credentials: [
          { name: 'bob-app', client_id: 'cid', client_secret: 'csecret', redirect_uris: ['https://app'] },
        ],
        acls: [{ group: 'admins' }],
      },
      { username: 'alice', keyauth_credentials: [{ key: '{vault://env/ALICE_KEY}' }] },
    ],
    plugins: [
      {
        name: 'openid-connect',
        config: { client_id: ['oidc-client'], client_secret: ['oidc-1', 'oidc-2'], issuer: 'https://idp' },
      },
    ],
    certificates: [{ cert: PEM_CERT, key: PEM_KEY, snis: [{ name: 'api.example.com' }], created_at: 5 }],
    vaults: [{ name: 'hcv', prefix: 'hashi', config: { host: 'vault', token: 'hvs.FAKE', mount: 'secret' } }],
    keys: [
      { name: 'signing', kid: 'k1', jwk: '{"kty":"RSA","kid":"k1","n":"abc","e":"AQAB","d":"private"}' },
      { name: 'public-only', kid: 'k2', jwk: '{"kty":"RSA","kid":"k2","n":"abc","e":"AQAB"}' },
      {
        name: 'pem-pair',
        kid: 'k3',
        pem: { public_key: '-----BEGIN PUBLIC KEY-----\nX\n-----END PUBLIC KEY-----', private_key: PEM_KEY },
      },
    ],
    partials: [{ name: 'shared-redis', type: 'redis-ee', config: { host: 'r', password: 'partial-pw' } }],
  }
}

/** Every secret value in {@link sampleState}; none may survive redaction. */
export const SAMPLE_SECRETS = [
  'sess-secret',
  'p@ss: w#rd "q"',
  'AKIAFAKE',
  'aws-s3cret',
  'Bearer tok',
  'dXNlcjpwdw==',
  'bob-key-1',
  'bob-key-2',
  '5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8',
  'hmac-secret',
  'jwt-secret',
  'csecret',
  // Kong encrypts OpenID Connect's client ids, http-log's endpoint and every key's JWK: secrets by schema.
  'oidc-client',
  'https://logs',
  '"n":"abc"',
  'oidc-1',
  'oidc-2',
  'BKcwggSjAgEAAoIBAQC7',
  'hvs.FAKE',
  '"d":"private"',
  'partial-pw',
]
