// `deck file convert` in the deck double, after Kong/deck convert/convert.go and its update functions
// (v1.65.1); the files below are shaped after deck's tests/integration/testdata/file-convert cases.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { checkDeckArgv } from './deck-double/flags.mjs'

const DECK = fileURLToPath(new URL('./deck-double/deck', import.meta.url))

interface Result {
  code: number | null
  stdout: string
  stderr: string
}

let work: string

function deck(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(
      DECK,
      args,
      {
        cwd: work,
        env: { PATH: process.env.PATH ?? '', HOME: work, ...env },
        encoding: 'utf8',
        timeout: 20_000,
      },
      (_err, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    )
    child.stdin?.end('')
  })
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  )

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'deck-convert-'))
})
afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

const KONG_28 = `_format_version: "1.1"
services:
- name: orders
  host: orders.internal
  port: 8080
  protocol: http
  routes:
  - name: order-by-id
    paths:
    - /orders/\\d+$
    - /orders
  - name: already-regex
    paths:
    - ~/legacy/(v1|v2)
  plugins:
  - name: ip-restriction
    config:
      whitelist:
      - 10.0.0.0/8
  - name: aws-lambda
    config:
      aws_region: eu-west-1
      function_name: orders
      proxy_scheme: https
routes:
- name: top-level
  paths:
  - /top/[a-z]+
plugins:
- name: pre-function
  config:
    functions:
    - kong.log.err("hi")
- name: rate-limiting-advanced
  config:
    limit:
    - 10
    window_size:
    - 60
consumer_groups:
- name: gold
  plugins:
  - name: ip-restriction
    config:
      blacklist:
      - 192.0.2.1
`

/** `deck file convert --from <from> --to <to> --input-file <input> -o <output>`, then any further arguments. */
function fileConvert(from: string, to: string, input: string, output: string, ...more: string[]) {
  return deck(['file', 'convert', '--from', from, '--to', to, '--input-file', input, '-o', output, ...more])
}

const FINAL_30 =
  '\nThese automatic changes may not be correct or exhaustive enough, please\n' +
  'perform a manual audit of the config file.\n\n' +
  'For related information, please visit:\n' +
  'https://docs.konghq.com/deck/latest/3.0-upgrade\n\n'

describe('deck file convert --from 2.8 --to 3.4', () => {
  it('adds ~ to regex paths of service routes, migrates _format_version and the legacy plugin fields', async () => {
    await writeFile(join(work, 'kong-28.yaml'), KONG_28)
    const r = await fileConvert('2.8', '3.4', 'kong-28.yaml', 'out')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(
      "From the 'kong-28.yaml' config file,\n" +
        "1 unsupported routes' paths format with Kong version 3.0\n" +
        'or above were detected. Some of these routes are (not an exhaustive list):\n\n' +
        'order-by-id\n\n' +
        'Kong gateway versions 3.0 and above require that regular expressions\n' +
        "start with a '~' character to distinguish from simple prefix match.\n" +
        "In order to make these paths compatible with 3.x, a '~' prefix has been added.\n\n" +
        "From the 'kong-28.yaml' config file,\n" +
        "the _format_version field has been migrated from '1.1' to '3.0'.\n\n" +
        'Automatically converted legacy configuration field "functions" to the new field "access" in plugin pre-function\n' +
        'Automatically converted legacy configuration field "whitelist" to the new field "allow" in plugin ip-restriction\n' +
        'Automatically removed deprecated config field "proxy_scheme" from plugin aws-lambda\n' +
        // The consumer group's plugin is reported but keeps its config (deck updates a copy of it).
        'Automatically converted legacy configuration field "blacklist" to the new field "deny" in plugin ip-restriction\n' +
        FINAL_30,
    )
    // WriteContentToFile adds the format's extension to a name without one.
    const out = await readFile(join(work, 'out.yaml'), 'utf8')
    const namespace = /namespace: ([0-9A-Za-z]{32})\n/.exec(out)?.[1]
    expect(namespace).toBeDefined()
    expect(out).toBe(`_format_version: "3.0"
consumer_groups:
- name: gold
  plugins:
  - config:
      blacklist:
      - 192.0.2.1
    name: ip-restriction
plugins:
- config:
    access:
    - kong.log.err("hi")
  name: pre-function
- config:
    limit:
    - 10
    namespace: ${namespace}
    window_size:
    - 60
  name: rate-limiting-advanced
routes:
- name: top-level
  paths:
  - /top/[a-z]+
services:
- host: orders.internal
  name: orders
  plugins:
  - config:
      allow:
      - 10.0.0.0/8
    name: ip-restriction
  - config:
      aws_region: eu-west-1
      function_name: orders
    name: aws-lambda
  port: 8080
  protocol: http
  routes:
  - name: order-by-id
    paths:
    - ~/orders/\\d+$
    - /orders
  - name: already-regex
    paths:
    - ~/legacy/(v1|v2)
`)
    expect(await readFile(join(work, 'kong-28.yaml'), 'utf8')).toBe(KONG_28)
  })

  it('fills an empty new field from the legacy one and refuses two values', async () => {
    await writeFile(
      join(work, 'replace.yaml'),
      '_format_version: "1.1"\nplugins:\n- name: post-function\n  config:\n    access: []\n    functions:\n    - return\n',
    )
    const ok = await fileConvert('2.8', '3.4', 'replace.yaml', 'r.json', '--format', 'json')
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain('field "functions" to the new field "access" in plugin post-function\n')
    expect(await readFile(join(work, 'r.json'), 'utf8')).toBe(
      // JSON keeps go-kong's struct order: name before config.
      '{\n  "_format_version": "3.0",\n  "plugins": [\n    {\n      "name": "post-function",\n      "config": {\n        "access": [\n          "return"\n        ]\n      }\n    }\n  ]\n}',
    )

    await writeFile(
      join(work, 'conflict.yaml'),
      '_format_version: "1.1"\nplugins:\n- name: post-function\n  config:\n    access:\n    - return 1\n    functions:\n    - return 2\n',
    )
    const bad = await fileConvert('2.8', '3.4', 'conflict.yaml', 'c.yaml')
    expect(bad.code).toBe(1)
    expect(bad.stderr).toBe(
      'Error: converting file: conflicting fields: both legacy field "functions" and new field "access" have values in plugin post-function\n',
    )
    expect(await exists(join(work, 'c.yaml'))).toBe(false)
  })
})

describe('deck file convert --from 3.4 --to 3.10 and --from 3.10 --to 3.14', () => {
  it('3.4 -> 3.10 renames the Redis address lists and the model upstream_path, keeping _format_version', async () => {
    await writeFile(
      join(work, 'kong-34.yaml'),
      `_format_version: "3.0"
plugins:
- name: rate-limiting-advanced
  config:
    namespace: ns
    redis:
      cluster_addresses:
      - redis-1:6379
- name: ai-proxy
  config:
    model:
      options:
        upstream_path: /v1/chat
`,
    )
    const r = await deck(['file', 'convert', '--from', '3.4', '--to', '3.10', '--input-file', 'kong-34.yaml'])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(
      'Automatically converted legacy configuration field "redis.cluster_addresses" to the new field "redis.cluster_nodes" in plugin rate-limiting-advanced\n' +
        'Automatically converted legacy configuration field "model.options.upstream_path" to the new field "model.options.upstream_url" in plugin ai-proxy\n' +
        '\nThese automatic changes may not be correct or exhaustive enough, please\n' +
        'perform a manual audit of the config file.\n\n' +
        'For related information, please visit:\n' +
        'https://docs.konghq.com/deck/latest/3.10-upgrade\n\n' +
        `_format_version: "3.0"
plugins:
- config:
    namespace: ns
    redis:
      cluster_nodes:
      - redis-1:6379
  name: rate-limiting-advanced
- config:
    model:
      options:
        upstream_url: /v1/chat
  name: ai-proxy
`,
    )
  })

  it('3.10 -> 3.14 spells out the old insecure defaults', async () => {
    await writeFile(
      join(work, 'kong-310.yaml'),
      `_format_version: "3.0"
services:
- name: secure
  host: s.internal
  protocol: https
  routes:
  - name: r1
    paths: [/s]
  plugins:
  - name: key-auth
  - name: http-log
    config:
      http_endpoint: https://logs.internal
`,
    )
    const r = await fileConvert('3.10', '3.14', 'kong-310.yaml', 'o314.yaml')
    expect(r.code).toBe(0)
    // The lint findings follow the conversion's messages; across rules deck prints them in random order.
    const [converted, lint = ''] = r.stdout.split(/(?=Linting Violations)/)
    expect(lint.split('\n').slice(0, 3)).toEqual(['Linting Violations: 3', 'Failures: 0', ''])
    expect(
      lint
        .split('\n')
        .slice(3)
        .map((l) => l.slice(0, 40))
        .sort(),
    ).toEqual([
      '',
      '[warn][13:7] Kong Gateway 3.14 enables T',
      '[warn][3:3] Kong Gateway 3.14 enables TL',
      '[warn][7:5] Kong Gateway 3.14 changed th',
    ])
    expect(converted).toBe(
      `Route 'r1': setting protocols to ["http", "https"] (old default, 3.14 defaults to ["https"] only)\n` +
        `Service 'secure': setting tls_verify to false (old default, 3.14 enforces TLS certificate verification by default)\n` +
        `Plugin 'key-auth': setting hide_credentials to false (old default, 3.14 defaults to true)\n` +
        `Plugin 'http-log': setting ssl_verify to false (old default, 3.14 defaults to true)\n` +
        '\nThese automatic changes may not be correct or exhaustive enough, please\n' +
        'perform a manual audit of the config file.\n\n' +
        'For related information, please visit:\n' +
        'https://developer.konghq.com/gateway/upgrade\n\n',
    )
    expect(await readFile(join(work, 'o314.yaml'), 'utf8')).toBe(`_format_version: "3.0"
services:
- host: s.internal
  name: secure
  plugins:
  - config:
      hide_credentials: false
    name: key-auth
  - config:
      http_endpoint: https://logs.internal
      ssl_verify: false
    name: http-log
  protocol: https
  routes:
  - name: r1
    paths:
    - /s
    protocols:
    - http
    - https
  tls_verify: false
`)
  })
})

describe('the lint pass after each hop', () => {
  const FINAL_314 =
    '\nThese automatic changes may not be correct or exhaustive enough, please\n' +
    'perform a manual audit of the config file.\n\n' +
    'For related information, please visit:\n' +
    'https://developer.konghq.com/gateway/upgrade\n\n'
  const STATSD_28 = `_format_version: "1.1"
services:
- name: metrics
  host: metrics.internal
  plugins:
  - name: statsd-advanced
    enabled: false
`
  const ROUTE_310 = `_format_version: "3.0"
routes:
- name: public
  paths:
  - /public
`
  const HTTP_LOG =
    'In 2.8, each header in the `headers` field could be specified as an array. In  3.4, each header ' +
    'specified can only be specified as a string, and no longer supports arrays.'
  const ACME =
    'The `storage_config.vault.auth_method` configuration parameter now defaults to `token`. For more ' +
    'details, please visit the official docs:  https://docs.konghq.com/hub/kong-inc/acme/changelog/'
  const LINT_28 = `_format_version: "1.1"
plugins:
- name: http-log
  config:
    http_endpoint: http://logs.internal
    headers:
      X-Team: [a, b]
      X-Env: prod
      X-Id: 7
- name: acme
  config:
    storage_config:
      vault:
        host: vault.internal
services:
- name: s
  host: s.internal
  plugins:
  - name: http-log
    config:
      headers: [x]
  - name: acme
    config:
      storage_config:
        vault:
          auth_method: token
- name: t
  host: t.internal
  plugins:
  - name: http-log
    config:
      headers: {X-A: b}
  - name: acme
    config:
      storage_config:
        vault: {auth_method: ''}
`
  const PROTOCOLS_ADDED = `Route 'public': setting protocols to ["http", "https"] (old default, 3.14 defaults to ["https"] only)\n`

  it('2.8 -> 3.4 reports a disabled statsd-advanced as a failure after the conversion messages', async () => {
    await writeFile(join(work, 'statsd-28.yaml'), STATSD_28)
    const r = await fileConvert('2.8', '3.4', 'statsd-28.yaml', 'statsd-34.yaml')
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(
      "From the 'statsd-28.yaml' config file,\n" +
        "the _format_version field has been migrated from '1.1' to '3.0'.\n\n" +
        FINAL_30 +
        'Linting Violations: 1\n' +
        'Failures: 1\n\n' +
        '[error][7:14] The StatsD Advanced plugin has been deprecated and will be removed in 4.0. ' +
        'All capabilities are now available in the StatsD plugin.\n',
    )
    expect(await exists(join(work, 'statsd-34.yaml'))).toBe(true)
  })

  it('3.10 -> 3.14 warns about a route without protocols at the route', async () => {
    await writeFile(join(work, 'route-310.yaml'), ROUTE_310)
    const r = await fileConvert('3.10', '3.14', 'route-310.yaml', 'route-314.yaml')
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(
      PROTOCOLS_ADDED +
        FINAL_314 +
        'Linting Violations: 1\n' +
        'Failures: 0\n\n' +
        '[warn][3:3] Kong Gateway 3.14 changed the default route protocols from ["http", "https"] to ["https"]. ' +
        'If your route does not specify protocols explicitly, it will default to HTTPS only. ' +
        'Consider explicitly setting protocols to ["http", "https"] if you need HTTP access.\n',
    )
  })

  it('a file no rule matches prints no lint', async () => {
    await writeFile(
      join(work, 'clean-310.yaml'),
      ROUTE_310.replace('  paths:', '  protocols: [http, https]\n  paths:'),
    )
    const r = await fileConvert('3.10', '3.14', 'clean-310.yaml', 'clean-314.yaml')
    expect(r).toEqual({ code: 0, stdout: FINAL_314, stderr: '' })
  })

  it('2.8 -> 3.4 checks http-log headers against a schema and acme vault auth_method for truthiness', async () => {
    await writeFile(join(work, 'lint-28.yaml'), LINT_28)
    const r = await fileConvert('2.8', '3.4', 'lint-28.yaml', 'lint-34.yaml')
    expect(r.code).toBe(0)
    // One schema failure per header value that is not a string, at the headers value; none for a valid map.
    // truthy reports a missing or empty auth_method at the vault mapping, not a set one.
    expect(r.stdout.slice(r.stdout.indexOf('Linting'))).toBe(
      'Linting Violations: 5\nFailures: 3\n\n' +
        `[error][7:7] ${HTTP_LOG}\n[error][7:7] ${HTTP_LOG}\n[error][21:16] ${HTTP_LOG}\n` +
        `[warn][14:9] ${ACME}\n[warn][36:16] ${ACME}\n`,
    )
  })

  it('truthy moves its finding to the node on the line above at the first line number as a column', async () => {
    await writeFile(
      join(work, 'acme-28.yaml'),
      '# acme\n# vault\nplugins:\n- name: acme\n  config:\n    storage_config: {vault: {host: v}}\n',
    )
    const r = await fileConvert('2.8', '3.4', 'acme-28.yaml', 'acme-34.yaml')
    // The vault mapping is at 6:29; the first line holding a node is 3, and `config` sits at 5:3.
    expect(r.stdout.slice(r.stdout.indexOf('Linting'))).toBe(
      `Linting Violations: 1\nFailures: 0\n\n[warn][5:3] ${ACME}\n`,
    )
  })

  it('stdin, already read by the conversion, is linted as an empty file', async () => {
    const r = await new Promise<Result>((resolve) => {
      const child = execFile(
        DECK,
        ['file', 'convert', '--from', '3.10', '--to', '3.14', '-o', 'stdin-314.yaml'],
        { cwd: work, env: { PATH: process.env.PATH ?? '', HOME: work }, encoding: 'utf8', timeout: 20_000 },
        (_err, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
      )
      child.stdin?.end(ROUTE_310)
    })
    expect(r).toEqual({
      code: 0,
      stdout: PROTOCOLS_ADDED + FINAL_314,
      stderr: 'Warning: state file is empty or contains only comments, skipping linting\n',
    })
  })
})

// The releases whose conversion differed from v1.65.1's (Kong/deck convert/*.go and lint/lint.go at each tag).
describe('file convert per deck release', () => {
  const convert = (
    from: string,
    to: string,
    input: string,
    output: string,
    version: string,
    ...more: string[]
  ) =>
    deck(['file', 'convert', '--from', from, '--to', to, '--input-file', input, '-o', output, ...more], {
      DECK_DOUBLE_VERSION: version,
    })
  const SSL_310 = `_format_version: "3.0"
plugins:
- name: http-log
  config:
    http_endpoint: http://logs.internal
- name: rate-limiting
  config:
    minute: 10
    redis:
      host: redis.internal
`
  const SSL_MESSAGE_OLD =
    'Kong Gateway 3.14 enables TLS certificate verification by default. Plugins that connect to external ' +
    'services over TLS without explicit ssl_verify settings will now verify certificates. Set ssl_verify ' +
    'to false explicitly if your external services do not have valid TLS certificates.'
  const FINAL_314 =
    '\nThese automatic changes may not be correct or exhaustive enough, please\n' +
    'perform a manual audit of the config file.\n\n' +
    'For related information, please visit:\n' +
    'https://developer.konghq.com/gateway/upgrade\n\n'

  it('v1.47.0-v1.50.x: 2.8 -> 3.4 fails after converting, looking for its ruleset in the working directory', async () => {
    await writeFile(
      join(work, 'plain-28.yaml'),
      '_format_version: "1.1"\nservices:\n- name: a\n  host: a.internal\n',
    )
    for (const version of ['1.47.0', '1.50.0']) {
      const r = await convert('2.8', '3.4', 'plain-28.yaml', `plain-${version}.yaml`, version)
      expect(r).toEqual({
        code: 1,
        stdout:
          "From the 'plain-28.yaml' config file,\nthe _format_version field has been migrated from '1.1' to '3.0'.\n\n" +
          FINAL_30,
        stderr:
          'Error: converting file: error reading ruleset file: open convert/rulesets/280-to-340/entrypoint.yaml: ' +
          'no such file or directory\n',
      })
      expect(await exists(join(work, `plain-${version}.yaml`))).toBe(false)
    }
    const fixed = await convert('2.8', '3.4', 'plain-28.yaml', 'plain-1.51.0.yaml', '1.51.0')
    expect(fixed.code).toBe(0)
    expect(await exists(join(work, 'plain-1.51.0.yaml'))).toBe(true)
  })

  it('v1.56.0-v1.57.2: 3.10 -> 3.14 writes a top-level ssl_verify: false and lints with the old rule', async () => {
    await writeFile(join(work, 'ssl-310.yaml'), SSL_310)
    const topLevel =
      "Plugin 'http-log': setting ssl_verify to false (old default, 3.14 defaults to true)\n" +
      "Plugin 'rate-limiting': setting ssl_verify to false (old default, 3.14 defaults to true)\n"
    const old = await convert('3.10', '3.14', 'ssl-310.yaml', 'ssl-1.57.2.yaml', '1.57.2')
    expect(old).toEqual({
      code: 0,
      stdout:
        topLevel +
        FINAL_314 +
        'Linting Violations: 2\nFailures: 0\n\n' +
        `[warn][5:5] ${SSL_MESSAGE_OLD}\n[warn][8:5] ${SSL_MESSAGE_OLD}\n`,
      stderr: '',
    })
    expect(await readFile(join(work, 'ssl-1.57.2.yaml'), 'utf8')).toBe(
      '_format_version: "3.0"\nplugins:\n- config:\n    http_endpoint: http://logs.internal\n    ssl_verify: false\n' +
        '  name: http-log\n- config:\n    minute: 10\n    redis:\n      host: redis.internal\n    ssl_verify: false\n' +
        '  name: rate-limiting\n',
    )
    // v1.56.0's rule looked at ten plugins, rate-limiting not among them.
    const first = await convert('3.10', '3.14', 'ssl-310.yaml', 'ssl-1.56.0.yaml', '1.56.0')
    expect(first.stdout).toBe(
      topLevel + FINAL_314 + `Linting Violations: 1\nFailures: 0\n\n[warn][5:5] ${SSL_MESSAGE_OLD}\n`,
    )
    const fixed = await convert('3.10', '3.14', 'ssl-310.yaml', 'ssl-1.57.3.yaml', '1.57.3')
    expect(fixed.stdout).toContain("Plugin 'rate-limiting': setting redis.ssl_verify to false")
    expect(await readFile(join(work, 'ssl-1.57.3.yaml'), 'utf8')).toContain(
      '    redis:\n      host: redis.internal\n      ssl_verify: false\n  name: rate-limiting\n',
    )
  })

  it('before v1.58.0 the legacy field replaces the new one, empty or not', async () => {
    await writeFile(
      join(work, 'both-28.yaml'),
      '_format_version: "1.1"\nplugins:\n- name: post-function\n  config:\n    access:\n    - return 1\n    functions: []\n',
    )
    const r = await convert('2.8', '3.4', 'both-28.yaml', 'both-34.yaml', '1.57.3')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(
      'Automatically converted legacy configuration field "functions" to the new field "access" in plugin post-function\n',
    )
    expect(await readFile(join(work, 'both-34.yaml'), 'utf8')).toBe(
      '_format_version: "3.0"\nplugins:\n- config:\n    access: []\n  name: post-function\n',
    )
    const fixed = await convert('2.8', '3.4', 'both-28.yaml', 'both-fixed.yaml', '1.58.0')
    expect(fixed.stdout).not.toContain('Automatically converted legacy')
    expect(await readFile(join(work, 'both-fixed.yaml'), 'utf8')).toContain('    access:\n    - return 1\n')
  })

  it('--no-expand-env-vars (v1.57.2) leaves env templates as written', async () => {
    await writeFile(
      join(work, 'env-310.yaml'),
      '_format_version: "3.0"\nservices:\n- name: a\n  host: ${{ env "DECK_UPSTREAM" }}\n  protocol: http\n',
    )
    const env = { DECK_DOUBLE_VERSION: '1.57.2', DECK_UPSTREAM: 'a.internal' }
    const args = ['file', 'convert', '--from', '3.10', '--to', '3.14', '--input-file', 'env-310.yaml']
    const kept = await deck([...args, '-o', 'env-kept.yaml', '--no-expand-env-vars'], env)
    expect(kept.code).toBe(0)
    expect(await readFile(join(work, 'env-kept.yaml'), 'utf8')).toContain(
      '- host: ${{ env "DECK_UPSTREAM" }}\n',
    )
    expect((await deck([...args, '-o', 'env-expanded.yaml'], env)).code).toBe(0)
    expect(await readFile(join(work, 'env-expanded.yaml'), 'utf8')).toContain('- host: a.internal\n')
  })

  it('v1.63.0 added the solace setters', async () => {
    await writeFile(
      join(work, 'solace-310.yaml'),
      '_format_version: "3.0"\nplugins:\n- name: solace-log\n  config:\n    session:\n      host: tcps://broker\n',
    )
    const before = await convert('3.10', '3.14', 'solace-310.yaml', 'solace-1.62.1.yaml', '1.62.1')
    expect(before.stdout).toBe(FINAL_314)
    const after = await convert('3.10', '3.14', 'solace-310.yaml', 'solace-1.63.0.yaml', '1.63.0')
    expect(after.stdout).toContain(
      "Plugin 'solace-log': setting session.ssl_validate_certificate to false (old default, 3.14 defaults to true)\n",
    )
  })

  it('before v1.63.0 stdin, linted as empty, prints no warning', async () => {
    const r = await new Promise<Result>((resolve) => {
      const child = execFile(
        DECK,
        ['file', 'convert', '--from', '3.10', '--to', '3.14', '-o', 'stdin-1.62.1.yaml'],
        {
          cwd: work,
          env: { PATH: process.env.PATH ?? '', HOME: work, DECK_DOUBLE_VERSION: '1.62.1' },
          encoding: 'utf8',
          timeout: 20_000,
        },
        (_err, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
      )
      child.stdin?.end('_format_version: "3.0"\nroutes:\n- name: r\n  protocols: [http]\n  paths: [/r]\n')
    })
    expect(r).toEqual({ code: 0, stdout: FINAL_314, stderr: '' })
  })
})

describe('pairs deck does not convert', () => {
  it('a pair of known formats without a conversion fails after reading the file', async () => {
    await writeFile(join(work, 'p.yaml'), KONG_28)
    const r = await fileConvert('2.8', '3.10', 'p.yaml', 'p-out.yaml')
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: "Error: converting file: cannot convert from '2.8' to '3.10' format\n",
    })
    expect(await exists(join(work, 'p-out.yaml'))).toBe(false)
  })

  it('formats a release does not know are refused by PreRunE, with the allowed values', async () => {
    const r = await deck(['file', 'convert', '--from', '3.4', '--to', '3.10', '--input-file', 'p.yaml'], {
      DECK_DOUBLE_VERSION: '1.50.0',
    })
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      "Error: invalid value '3.4' found for the 'from' flag. Allowed values: [kong-gateway kong-gateway-2.x 2.8]\n",
    )
    expect(checkDeckArgv(['file', 'convert', '--from', '2.8', '--to', '3.14'], '1.55.2')).toBe(
      "invalid value '3.14' found for the 'to' flag. Allowed values: [konnect kong-gateway-3.x 3.4 3.10]",
    )
    expect(checkDeckArgv(['file', 'convert', '--from', '3.10', '--to', '3.14'], '1.56.0')).toBeNull()
  })

  it('before v1.43.0 the format parser refuses an unknown format', async () => {
    const r = await deck(['file', 'convert', '--from', '2.8', '--to', '3.4', '--input-file', 'p.yaml'], {
      DECK_DOUBLE_VERSION: '1.42.0',
    })
    expect(r).toEqual({ code: 1, stdout: '', stderr: "Error: invalid format: '2.8'\n" })
  })
})

describe('flags and the legacy command', () => {
  it('follows the flag history of convert', () => {
    expect(checkDeckArgv(['file', 'convert', '-o', 'x'], '1.27.1')).toBe("unknown shorthand flag: 'o' in -o")
    expect(checkDeckArgv(['file', 'convert', '--from', '2.8', '--to', '3.4', '-o', 'x'], '1.47.0')).toBeNull()
    expect(
      checkDeckArgv(['file', 'convert', '--from', '2.8', '--to', '3.4', '--no-expand-env-vars'], '1.57.0'),
    ).toBe('unknown flag: --no-expand-env-vars')
    expect(checkDeckArgv(['file', 'convert', '--from', '2.8', '--to', '3.4', 'x.yaml'])).toBe(
      'positional arguments are not valid for this command, please use flags instead',
    )
  })

  it('`deck convert` prints where the command moved, then converts', async () => {
    await writeFile(
      join(work, 'l.yaml'),
      '_format_version: "1.1"\nservices:\n- name: a\n  host: a.internal\n',
    )
    const r = await deck([
      'convert',
      '--from',
      'kong-gateway-2.x',
      '--to',
      'kong-gateway-3.x',
      '--input-file',
      'l.yaml',
    ])
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/^Info: 'deck convert' functionality has moved to 'deck file convert'/)
    expect(r.stdout).toBe(
      "From the 'l.yaml' config file,\nthe _format_version field has been migrated from '1.1' to '3.0'.\n\n" +
        FINAL_30,
    )
    // The legacy default output is kong.yaml.
    expect(await readFile(join(work, 'kong.yaml'), 'utf8')).toBe(
      '_format_version: "3.0"\nservices:\n- host: a.internal\n  name: a\n',
    )
  })
})
