// The demo's sample gateway: a Kong Enterprise 3.10 with two workspaces, written as a gateway fixture for the deck
// stand-in (test/deck-double/README.md, "Gateway fixture"): deck file format as `deck gateway dump --with-id`
// prints it. Every secret (credentials, plugin secrets, the certificate's key) is made up when the demo runs.
import { randomBytes } from 'node:crypto'

import { selfSignedCertificate } from './certificate.mjs'

const made = (prefix) => `${prefix}-${randomBytes(12).toString('base64url')}`
const ALL = ['grpc', 'grpcs', 'http', 'https']

const route = (name, paths, methods) => ({
  name,
  paths,
  methods,
  protocols: ['http', 'https'],
  https_redirect_status_code: 426,
  path_handling: 'v0',
  preserve_host: false,
  regex_priority: 0,
  request_buffering: true,
  response_buffering: true,
  strip_path: true,
})

const service = (name, host, port, protocol, extra) => ({
  name,
  host,
  port,
  protocol,
  connect_timeout: 60000,
  read_timeout: 60000,
  write_timeout: 60000,
  retries: 5,
  enabled: true,
  ...extra,
})

const plugin = (name, config, protocols = ALL) => ({ name, enabled: true, protocols, config })

const rateLimiting = (minute, redisPassword) =>
  plugin('rate-limiting', {
    minute,
    hour: null,
    second: null,
    day: null,
    month: null,
    year: null,
    limit_by: 'consumer',
    policy: redisPassword ? 'redis' : 'local',
    fault_tolerant: true,
    hide_client_headers: false,
    redis: {
      host: 'redis.internal',
      port: 6379,
      password: redisPassword ?? null,
      username: null,
      database: 0,
      ssl: false,
      ssl_verify: false,
      server_name: null,
      timeout: 2000,
    },
    error_code: 429,
    error_message: 'API rate limit exceeded',
    header_name: null,
    path: null,
    sync_rate: -1,
  })

const keyAuth = plugin('key-auth', {
  key_names: ['apikey'],
  key_in_header: true,
  key_in_query: false,
  key_in_body: false,
  hide_credentials: true,
  anonymous: null,
  run_on_preflight: true,
  realm: null,
})

/**
 * The gateway fixture, served at kongAddr.
 * @param {string} kongAddr
 */
export function sampleGateway(kongAddr) {
  const { cert, key } = selfSignedCertificate(['api.shop.example.com', 'shop.example.com'])
  return {
    kongAddr,
    kongVersion: '3.10.0.0',
    edition: 'enterprise',
    workspaces: {
      default: {
        services: [
          service('orders-api', 'orders.internal', 8080, 'http', {
            path: '/v1',
            tags: ['team-orders'],
            routes: [
              route('orders-list', ['/orders'], ['GET']),
              route('orders-create', ['/orders'], ['POST']),
            ],
            plugins: [rateLimiting(600, made('redis')), keyAuth],
          }),
          service('customer-portal', 'portal.internal', 443, 'https', {
            tags: ['team-identity'],
            routes: [route('portal', ['/portal'], ['GET', 'POST'])],
            plugins: [
              plugin(
                'openid-connect',
                {
                  issuer: 'https://login.shop.example.com/realms/shop/.well-known/openid-configuration',
                  client_id: ['shop-portal'],
                  client_secret: [made('oidc')],
                  auth_methods: ['authorization_code', 'session'],
                  cache_tokens_salt: randomBytes(12).toString('base64url'),
                  scopes: ['openid', 'profile', 'email'],
                  redirect_uri: ['https://api.shop.example.com/portal/callback'],
                  session_secret: null,
                  ssl_verify: true,
                },
                ['http', 'https'],
              ),
            ],
          }),
        ],
        consumers: [
          {
            username: 'alice',
            custom_id: 'emp-1001',
            keyauth_credentials: [{ key: made('alice-key'), ttl: null }],
            basicauth_credentials: [{ username: 'alice', password: made('alice-pw') }],
          },
          {
            username: 'partner-acme',
            jwt_secrets: [
              { key: 'acme-hs256', algorithm: 'HS256', secret: made('jwt'), rsa_public_key: null },
            ],
          },
          { username: 'legacy-batch', keyauth_credentials: [{ key: made('batch-key'), ttl: null }] },
        ],
        certificates: [
          {
            cert,
            key,
            tags: ['team-ops'],
            snis: [{ name: 'api.shop.example.com' }, { name: 'shop.example.com' }],
          },
        ],
      },
      'team-payments': {
        services: [
          service('payments-api', 'payments.internal', 8443, 'https', {
            tags: ['team-payments'],
            routes: [route('payments-charges', ['/payments/charges'], ['POST'])],
            plugins: [keyAuth],
          }),
        ],
        consumers: [
          {
            username: 'checkout',
            keyauth_credentials: [{ key: made('checkout-key'), ttl: null }],
          },
        ],
      },
    },
  }
}

/** What someone changes on the live gateway between two backups; returns one line per change. */
export function drift(gateway) {
  const shop = gateway.workspaces.default
  const orders = shop.services.find((s) => s.name === 'orders-api')
  orders.routes.find((r) => r.name === 'orders-list').paths = ['/v2/orders']
  shop.services
    .find((s) => s.name === 'customer-portal')
    .plugins.push(
      plugin('cors', {
        origins: ['https://shop.example.com'],
        methods: ['GET', 'POST'],
        headers: null,
        exposed_headers: null,
        credentials: true,
        max_age: 3600,
        preflight_continue: false,
        private_network: false,
      }),
    )
  shop.consumers = shop.consumers.filter((c) => c.username !== 'legacy-batch')
  return [
    'route orders-list: path /orders → /v2/orders',
    'plugin cors added to service customer-portal',
    'consumer legacy-batch deleted (with its key-auth credential)',
  ]
}

/** The same gateway freshly installed: the workspaces exist, nothing is configured. */
export function emptyGateway(kongAddr) {
  return {
    kongAddr,
    kongVersion: '3.10.0.0',
    edition: 'enterprise',
    workspaces: { default: {}, 'team-payments': {} },
  }
}
