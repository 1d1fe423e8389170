// The gateway every part of `npm run bench` measures: a deck JSON dump generated to a given number of entities.

/**
 * One plugin per service. The plain gateway has rate-limiting everywhere (one Redis password each); the
 * mixed one takes in turn the kinds whose secrets each rule finds: schema paths (rate-limiting's Redis,
 * openid-connect's client), header maps and `name:value` lines, values Kong encrypts (http-log's URL).
 */
function servicePlugin(i, mixed) {
  const base = { enabled: true, protocols: ['http', 'https'] }
  switch (mixed ? i % 4 : 0) {
    case 0:
      return {
        ...base,
        name: 'rate-limiting',
        config: {
          minute: 100,
          policy: 'redis',
          redis: { host: 'redis', port: 6379, password: `pw-${i}`, database: 0, timeout: 2000 },
          fault_tolerant: true,
          hide_client_headers: false,
        },
      }
    case 1:
      return {
        ...base,
        name: 'openid-connect',
        config: {
          issuer: 'https://idp.example.com/.well-known/openid-configuration',
          client_id: [`client-${i}`],
          client_secret: [`oidc-secret-${i}`],
          scopes: ['openid', 'profile'],
          auth_methods: ['authorization_code', 'session'],
          token_headers_names: ['X-Tenant'],
          token_headers_values: ['acme'],
        },
      }
    case 2:
      return {
        ...base,
        name: 'http-log',
        config: {
          http_endpoint: `https://logs.example.com/svc-${i}`,
          method: 'POST',
          timeout: 10000,
          keepalive: 60000,
          headers: { 'X-Api-Key': `log-key-${i}`, 'Content-Type': 'application/json' },
        },
      }
    default:
      return {
        ...base,
        name: 'request-transformer',
        config: {
          add: { headers: [`Authorization:Bearer tok-${i}`, 'X-Env:prod'], querystring: [], body: [] },
          remove: { headers: ['X-Internal'], querystring: [], body: [] },
        },
      }
  }
}

/** A deck JSON dump of a busy gateway: services with routes and plugins, consumers with credentials. */
export function generate(total, { mixed = false } = {}) {
  const services = []
  const consumers = []
  const plugins = []
  let n = 0
  for (let i = 0; n < total * 0.6; i++) {
    services.push({
      name: `svc-${i}`,
      host: `svc-${i}.internal`,
      port: 8080,
      protocol: 'http',
      path: `/v1/${i}`,
      retries: 5,
      connect_timeout: 60000,
      read_timeout: 60000,
      write_timeout: 60000,
      enabled: true,
      tags: ['team-a', 'prod'],
      routes: [
        {
          name: `svc-${i}-r1`,
          paths: [`/api/${i}`],
          methods: ['GET', 'POST'],
          protocols: ['http', 'https'],
          strip_path: true,
          preserve_host: false,
          https_redirect_status_code: 426,
          regex_priority: 0,
        },
        {
          name: `svc-${i}-r2`,
          hosts: [`h${i}.example.com`],
          protocols: ['https'],
          strip_path: false,
          preserve_host: true,
          https_redirect_status_code: 426,
          regex_priority: 0,
        },
      ],
      plugins: [servicePlugin(i, mixed)],
    })
    n += 4
  }
  for (let i = 0; n < total; i++) {
    consumers.push({
      username: `user-${i}`,
      custom_id: `cid-${i}`,
      tags: ['imported'],
      keyauth_credentials: [{ key: `key-${i}-${(i * 2654435761) % 4294967296}` }],
      acls: [{ group: 'users' }],
    })
    n += 3
  }
  plugins.push({
    name: 'prometheus',
    enabled: true,
    protocols: ['http', 'https'],
    config: { per_consumer: false },
  })
  return { _format_version: '3.0', _workspace: 'default', services, consumers, plugins }
}
