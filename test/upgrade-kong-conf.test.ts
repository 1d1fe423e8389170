// kong.conf across Kong LTS lines: the file read as Kong's conf_loader reads it (Penlight's pl.config and
// Kong's strip_comments), KONG_* variables, the changes per hop from the generated data, and the generator's
// parsers of Kong's sources on small inputs shaped like them.
import { describe, expect, it } from '@jest/globals'

import { renderText } from '../actions/cli/text.js'
import { InputError } from '../actions/engine/errors.js'
import {
  MAX_KONG_CONF_BYTES,
  MAX_KONG_CONF_LINE,
  parseKongConf,
  settingOfEnv,
  withEnvironment,
} from '../actions/engine/upgrade/kong-conf-parse.js'
import {
  KONG_CONF_DATA,
  isSecretSetting,
  kongConfChanges,
  kongConfReport,
  ltsHops,
} from '../actions/engine/upgrade/kong-conf.js'
import {
  deprecationReplacement,
  hopChanges,
  knownIn,
  normaliseDefault,
  parseConfDefault,
  parseConfJson,
  parseConfParsers,
  parseDynamicIgnored,
  parseDynamicPrefixes,
  parseKongDefaults,
  parseLegacyReference,
  parseSensitive,
} from '../script/kong-conf-changes.mjs'

const values = (text: string) =>
  Object.fromEntries([...parseKongConf(text).settings.values()].map((s) => [s.name, s.value]))

describe('parseKongConf', () => {
  it('skips blank lines and lines starting with # or ; and strips trailing comments', () => {
    const conf = parseKongConf('# a comment\n   ; another\n\n\t\npg_port = 5432 # the port\npg_host = db#x\n')
    expect(values('# a comment\n   ; another\n\n\t\npg_port = 5432 # the port\npg_host = db#x\n')).toEqual({
      pg_port: '5432',
      pg_host: 'db',
    })
    expect(conf.settings.get('pg_port')?.origin).toBe('kong.conf:5')
    expect(conf.ignored).toEqual([])
  })

  it('keeps an escaped \\# and unescapes it', () => {
    expect(values('pg_password = pa\\#ss # comment\nlog_level = a\\#b#c\n')).toEqual({
      pg_password: 'pa#ss',
      log_level: 'a#b',
    })
  })

  it('trims white space around the key, the = and the value, and splits at the first =', () => {
    expect(values('   admin_listen   =   127.0.0.1:8001 , 127.0.0.1:8444 ssl  \r\nheaders = a=b\n')).toEqual({
      admin_listen: '127.0.0.1:8001 , 127.0.0.1:8444 ssl',
      headers: 'a=b',
    })
  })

  it('keeps an empty value as set (Kong then reads it as unset)', () => {
    expect(values('pg_password =\npg_user = # nobody\n')).toEqual({ pg_password: '', pg_user: '' })
  })

  it('keeps the last of a key given twice', () => {
    const conf = parseKongConf('pg_host = first\npg_host = second\n')
    expect(conf.settings.get('pg_host')).toEqual({ name: 'pg_host', value: 'second', origin: 'kong.conf:2' })
  })

  it("turns characters other than letters and digits in a key into _, as Penlight's variabilize does", () => {
    expect(values('pg-host = a\npg port = 5\n')).toEqual({ pg_host: 'a', pg_port: '5' })
  })

  it('joins lines ending in \\, over comment lines, and drops a continuation open at the end', () => {
    const conf = parseKongConf(
      'proxy_listen = 0.0.0.0:8000, \\\n# between\n  0.0.0.0:8443 ssl\nlog_level = debug\nadmin_listen = off \\  \n',
    )
    expect(Object.fromEntries([...conf.settings.values()].map((s) => [s.name, [s.value, s.origin]]))).toEqual(
      {
        proxy_listen: ['0.0.0.0:8000,   0.0.0.0:8443 ssl', 'kong.conf:1'],
        log_level: ['debug', 'kong.conf:4'],
      },
    )
    expect(conf.ignored).toEqual([
      'kong.conf:5: continued with `\\` up to the end of the file, so Kong drops it',
    ])
  })

  it('lists lines without = and sections as ignored, and keeps no key after a section', () => {
    const conf = parseKongConf('pg_host = a\njust words\n[extra]\npg_port = 5\n', 'conf/kong.conf')
    expect(values('pg_host = a\njust words\n[extra]\npg_port = 5\n')).toEqual({ pg_host: 'a' })
    expect(conf.ignored).toEqual([
      'conf/kong.conf:2: no `=`, so Kong ignores the line',
      'conf/kong.conf:3: section [extra]: Kong ignores the settings in it',
    ])
    expect(parseKongConf(' = value\n').ignored).toEqual([
      'kong.conf:1: no name before `=`, so Kong ignores the line',
    ])
  })

  it('refuses a file over the size limit and a line over the length limit', () => {
    expect(() => parseKongConf(`#${'x'.repeat(MAX_KONG_CONF_BYTES)}`)).toThrow(InputError)
    expect(() => parseKongConf(`log_level = info\nheaders = ${'x'.repeat(MAX_KONG_CONF_LINE)}\n`)).toThrow(
      `kong.conf:2 is longer than ${MAX_KONG_CONF_LINE} characters.`,
    )
    const continued = `headers = ${'x'.repeat(MAX_KONG_CONF_LINE - 20)}\\\n${'y'.repeat(40)}\\\nz\n`
    expect(() => parseKongConf(continued)).toThrow(
      `kong.conf:1 is longer than ${MAX_KONG_CONF_LINE} characters.`,
    )
  })
})

describe('environment', () => {
  it('maps KONG_<NAME> to the setting and lays it over the file', () => {
    expect(settingOfEnv('KONG_PG_HOST')).toBe('pg_host')
    expect(settingOfEnv('KONG_pg_host')).toBeUndefined()
    const conf = withEnvironment(parseKongConf('pg_host = file\n'), {
      KONG_PG_HOST: 'env',
      KONG_NGINX_HTTP_GZIP: 'on',
      KONG_pg_port: '5433',
      PATH: '/usr/bin',
    })
    expect([...conf.settings.values()]).toEqual([
      { name: 'pg_host', value: 'env', origin: 'KONG_PG_HOST' },
      { name: 'nginx_http_gzip', value: 'on', origin: 'KONG_NGINX_HTTP_GZIP' },
    ])
    expect(conf.ignored).toEqual([
      "KONG_pg_port: Kong reads KONG_ followed by a setting's name in upper case only",
    ])
  })
})

const SOURCE_28_34 =
  /^app\/gateway\/2\.8\.x\/reference\/configuration\.md@[0-9a-f]{10} → app\/_data\/kong-conf\/3\.4\.json@[0-9a-f]{10}$/

describe('kongConfChanges', () => {
  it('reports 2.8 → 3.4: Cassandra and deprecated aliases removed, renames, defaults, typos', () => {
    const conf = parseKongConf(
      [
        'cassandra_contact_points = 10.0.0.1',
        'client_max_body_size = 10m',
        'admin_api_uri = https://admin.example.com',
        'nginx_worker_processes = 4',
        'pg_ssl_version = tlsv1',
        'admin_lisen = 0.0.0.0:8001',
      ].join('\n'),
    )
    const changes = kongConfChanges(conf, '2.8', '3.4')
    expect(changes.removed).toEqual([
      {
        name: 'cassandra_contact_points',
        value: '`10.0.0.1`',
        hop: '2.8 → 3.4',
        origin: 'kong.conf:1',
        source: expect.stringMatching(SOURCE_28_34),
      },
      {
        name: 'client_max_body_size',
        value: '`10m`',
        hop: '2.8 → 3.4',
        origin: 'kong.conf:2',
        replacement: 'nginx_http_client_max_body_size',
        source: 'kong/conf_loader/init.lua@2.8.5 → ' + KONG_CONF_DATA.lines['3.4']?.sources[0],
      },
    ])
    expect(changes.renamed).toEqual([
      expect.objectContaining({ name: 'admin_api_uri', replacement: 'admin_gui_api_url', hop: '2.8 → 3.4' }),
      expect.objectContaining({
        name: 'nginx_worker_processes',
        replacement: 'nginx_main_worker_processes',
        source: 'kong/conf_loader/init.lua@3.4.2',
        value: '`4`',
      }),
    ])
    expect(changes.defaultChanged.map((d) => [d.name, d.from, d.to])).toEqual([
      ['lua_ssl_trusted_certificate', null, 'system'],
      ['pg_keepalive_timeout', '60000', null],
      ['upstream_keepalive_max_requests', '1000', '10000'],
      ['worker_consistency', 'strict', 'eventual'],
    ])
    expect(changes.unknown.map((u) => [u.name, u.origin])).toEqual([['admin_lisen', 'kong.conf:6']])
  })

  it('reports a 2.8 alias under an injected namespace that 3.4 no longer injects as removed', () => {
    const changes = kongConfChanges(
      parseKongConf('nginx_http_upstream_keepalive = 60\nnginx_http_gzip = on\n'),
      '2.8',
      '3.4',
    )
    expect(changes.removed.map((r) => [r.name, r.replacement, r.source])).toEqual([
      [
        'nginx_http_upstream_keepalive',
        'upstream_keepalive_pool_size',
        'kong/conf_loader/init.lua@2.8.5 → ' + KONG_CONF_DATA.lines['3.4']?.sources[0],
      ],
    ])
    expect(changes.unknown).toEqual([])
  })

  it('reports 3.4 → 3.10: the Developer Portal and Vitals removed, an alias renamed, defaults changed', () => {
    const conf = withEnvironment(
      parseKongConf('portal_gui_host = portal.example.com\nrouter_consistency = strict\n'),
      {
        KONG_VITALS: 'on',
      },
    )
    const changes = kongConfChanges(conf, '3.4', '3.10')
    expect(changes.removed.map((r) => [r.name, r.hop, r.origin])).toEqual([
      ['portal_gui_host', '3.4 → 3.10', 'kong.conf:1'],
      ['vitals', '3.4 → 3.10', 'KONG_VITALS'],
    ])
    expect(changes.renamed.map((r) => [r.name, r.replacement])).toEqual([
      ['router_consistency', 'worker_consistency'],
    ])
    expect(changes.defaultChanged.map((d) => [d.name, d.from, d.to, d.hops])).toEqual([
      ['lua_socket_pool_size', '30', '256', ['3.4 → 3.10']],
      ['status_listen', 'off', '127.0.0.1:8007 reuseport backlog=16384', ['3.4 → 3.10']],
    ])
  })

  it('chains hops: 2.8 → 3.10 is 2.8 → 3.4 and 3.4 → 3.10, a rename carried to the next hop', () => {
    const conf = parseKongConf(
      'cassandra_port = 9042\nportal_gui_host = p.example.com\nrouter_consistency = strict\n',
    )
    const changes = kongConfChanges(conf, '2.8', '3.10')
    expect(changes.removed.map((r) => [r.name, r.hop])).toEqual([
      ['cassandra_port', '2.8 → 3.4'],
      ['portal_gui_host', '3.4 → 3.10'],
    ])
    expect(changes.renamed.map((r) => [r.name, r.replacement, r.hop])).toEqual([
      ['router_consistency', 'worker_consistency', '2.8 → 3.4'],
    ])
    const names = changes.defaultChanged.map((d) => d.name)
    // worker_consistency is set through its old name, so its new default does not apply.
    expect(names).not.toContain('worker_consistency')
    expect(names).toEqual(expect.arrayContaining(['lua_ssl_trusted_certificate', 'lua_socket_pool_size']))
    expect(ltsHops('2.8', '3.10').map((h) => `${h.from} → ${h.to}`)).toEqual(['2.8 → 3.4', '3.4 → 3.10'])
  })

  it('reports 3.10 → 3.14: WASM removed, TLS verification on by default', () => {
    const changes = kongConfChanges(parseKongConf('wasm = on\n'), '3.10', '3.14')
    expect(changes.removed.map((r) => [r.name, r.hop])).toEqual([['wasm', '3.10 → 3.14']])
    expect(changes.defaultChanged.map((d) => [d.name, d.from, d.to])).toEqual([
      ['pg_ssl_verify', 'off', 'on'],
      ['proxy_server_ssl_verify', 'off', 'on'],
      ['untrusted_lua', 'sandbox', 'strict'],
    ])
    // WASM came in 3.x: Kong 2.8 never read it, and 3.14 no longer does.
    expect(kongConfChanges(parseKongConf('wasm = on\n'), '2.8', '3.14').unknown.map((u) => u.name)).toEqual([
      'wasm',
    ])
  })

  it('merges a default changed over several hops and drops one that comes back', () => {
    const line = (settings: Record<string, string | null>) => ({
      releases: [],
      sources: [],
      settings,
      aliases: {},
      aliasSources: {},
      dynamicPrefixes: [],
      dynamicIgnored: [],
      undocumented: [],
    })
    const hop = (from: string, to: string, changes: [string, string, string][]) => ({
      from,
      to,
      removed: [],
      renamed: [],
      defaultChanged: changes.map(([name, a, b]) => ({ name, from: a, to: b, source: `${from}→${to}` })),
    })
    const data = {
      sensitive: [],
      lines: {
        '2.8': line({ x: '1', y: 'a' }),
        '3.4': line({ x: '2', y: 'b' }),
        '3.10': line({ x: '3', y: 'a' }),
      },
      hops: [
        hop('2.8', '3.4', [
          ['x', '1', '2'],
          ['y', 'a', 'b'],
        ]),
        hop('3.4', '3.10', [
          ['x', '2', '3'],
          ['y', 'b', 'a'],
        ]),
      ],
    }
    expect(kongConfChanges(parseKongConf(''), '2.8', '3.10', data).defaultChanged).toEqual([
      { name: 'x', from: '1', to: '3', hops: ['2.8 → 3.4', '3.4 → 3.10'], sources: ['2.8→3.4', '3.4→3.10'] },
    ])
  })

  it('refuses lines that are not LTS lines or go backwards', () => {
    expect(() => ltsHops('3.4', '2.8')).toThrow(InputError)
    expect(() => ltsHops('3.9', '3.10')).toThrow('give two LTS lines')
  })
})

describe('kongConfReport', () => {
  const secret = 'Sup3r-S3cret-Passw0rd!'
  const token = 'ghp_0123456789abcdefghijABCDEFGHIJ012345'

  it('never shows a secret value, only its name', () => {
    const conf = withEnvironment(
      parseKongConf(
        `cassandra_password = ${secret}\nadmin_api_uri = https://kong:${secret}@admin.example.com\n` +
          `cassandra_keyspace = ${token}\ncassandra_port = 9042\n`,
      ),
      { KONG_VITALS_TSDB_PASSWORD: secret },
    )
    const report = kongConfReport(kongConfChanges(conf, '2.8', '3.10'))
    const text = renderText(report, 200)
    expect(text).toContain('cassandra_password')
    expect(text).toContain('vitals_tsdb_password')
    expect(text).toContain('`9042`')
    expect(text).toContain('(secret, not shown)')
    expect(JSON.stringify(report)).not.toContain(secret)
    expect(JSON.stringify(report)).not.toContain(token)
    expect(text).not.toContain(secret)
  })

  it('keeps a value secret after a rename to a name that does not look secret', () => {
    const data = structuredClone(KONG_CONF_DATA)
    const line28 = data.lines['2.8']
    const line34 = data.lines['3.4']
    if (!line28 || !line34) throw new Error('no 2.8 or 3.4 in the data')
    line28.settings.admin_token = null
    line34.aliases.admin_token = 'admin_gui_header'
    data.hops[1]?.removed.push({ name: 'admin_gui_header', source: 'test' })
    const changes = kongConfChanges(parseKongConf(`admin_token = ${secret}\n`), '2.8', '3.10', data)
    expect(changes.renamed.map((r) => [r.name, r.value])).toEqual([['admin_token', '(secret, not shown)']])
    expect(changes.removed.map((r) => [r.name, r.value])).toEqual([
      ['admin_gui_header', '(secret, not shown)'],
    ])
  })

  it('says what to do per table and lists ignored lines as warnings', () => {
    const conf = parseKongConf('nginx_worker_processes = 2\nadmin_lisen = x\nwords\n')
    const report = kongConfReport(kongConfChanges(conf, '2.8', '3.4'))
    expect(report.title).toBe('kong.conf: Kong 2.8 → 3.4')
    expect(report.lines).toEqual(['0 removed, 1 renamed, 5 defaults changed, 1 unknown (of 2 settings set).'])
    expect(report.tables.map((t) => t.caption)).toEqual([
      'Renamed: set the new name instead',
      'Defaults changed for settings left unset: set the old value to keep the old behaviour',
      'Unknown to Kong 2.8 and 3.4: Kong ignores these (a typo?)',
    ])
    expect(report.tables[0]?.rows[0]?.slice(0, 5)).toEqual([
      'nginx_worker_processes',
      'nginx_main_worker_processes',
      '`2`',
      'kong.conf:1',
      '2.8 → 3.4',
    ])
    expect(report.annotations).toEqual([
      { level: 'warning', message: 'kong.conf:3: no `=`, so Kong ignores the line' },
    ])
  })

  it('takes Kong’s sensitive settings, credential names and credential-looking values for secrets', () => {
    const setting = (name: string, value: string) => ({ name, value, origin: 'kong.conf:1' })
    expect(isSecretSetting(setting('pg_password', 'x'))).toBe(true)
    expect(isSecretSetting(setting('ssl_cert_key', '/etc/kong/key.pem'))).toBe(true)
    expect(isSecretSetting(setting('admin_gui_session_conf', '{"secret":"abc"}'))).toBe(true)
    expect(isSecretSetting(setting('vault_hcv_token', 'x'))).toBe(true)
    expect(isSecretSetting(setting('log_level', token))).toBe(true)
    expect(isSecretSetting(setting('log_level', 'debug'))).toBe(false)
    expect(isSecretSetting(setting('pg_host', 'db.internal'))).toBe(false)
  })
})

describe('generated data', () => {
  it('holds every LTS line and the hops between them', () => {
    expect(Object.keys(KONG_CONF_DATA.lines)).toEqual(['2.8', '3.4', '3.10', '3.14'])
    expect(KONG_CONF_DATA.hops.map((h) => `${h.from} → ${h.to}`)).toEqual([
      '2.8 → 3.4',
      '3.4 → 3.10',
      '3.10 → 3.14',
    ])
  })
})

describe('generator parsers (script/kong-conf-changes.mjs)', () => {
  it('normalises defaults as the docs site writes them', () => {
    expect(normaliseDefault(['127.0.0.1:8001 reuseport', '127.0.0.1:8444 ssl'])).toBe(
      '127.0.0.1:8001 reuseport, 127.0.0.1:8444 ssl',
    )
    expect(normaliseDefault('a,b')).toBe('a, b')
    expect(normaliseDefault('none')).toBeNull()
    expect(normaliseDefault('')).toBeNull()
    expect(normaliseDefault(null)).toBeNull()
  })

  it('reads deprecation markers, settings and injected namespaces of a kong-conf JSON', () => {
    expect(deprecationReplacement('Deprecated: Use admin_gui_api_url instead\n')).toBe('admin_gui_api_url')
    expect(deprecationReplacement('Deprecated: use `tracing_sampling_rate` instead.')).toBe(
      'tracing_sampling_rate',
    )
    expect(deprecationReplacement('This option is deprecated and will be removed.')).toBeUndefined()
    const json = JSON.stringify({
      sections: [
        { title: 'GENERAL', description: '' },
        {
          title: 'NGINX injected directives',
          description: '- `nginx_main_<directive>`: x\n- `nginx_http_<directive>`: y',
        },
      ],
      params: {
        admin_listen: { defaultValue: ['127.0.0.1:8001', '127.0.0.1:8444 ssl'], description: '' },
        pg_password: { defaultValue: null, description: 'Password.' },
        admin_api_uri: { defaultValue: null, description: 'Deprecated: Use admin_gui_api_url instead\n' },
      },
    })
    expect(parseConfJson(json)).toEqual({
      settings: {
        admin_listen: '127.0.0.1:8001, 127.0.0.1:8444 ssl',
        pg_password: null,
        admin_api_uri: null,
      },
      aliases: { admin_api_uri: 'admin_gui_api_url' },
      dynamicPrefixes: ['nginx_http_', 'nginx_main_'],
    })
  })

  it('reads the 2.8 reference: headings with Default lines and datastore table rows', () => {
    const md = [
      '### General section',
      '#### log_level',
      'Log level.',
      '**Default:** `notice`',
      '---',
      '#### pg_schema',
      '**Default:** none',
      '#### PostgreSQL settings',
      'name | description | default',
      '**pg_host** | Host of the server. | `127.0.0.1`',
      '**pg_password** | Password. | none',
    ].join('\n')
    expect(parseLegacyReference(md)).toEqual({
      log_level: 'notice',
      pg_schema: null,
      pg_host: '127.0.0.1',
      pg_password: null,
    })
  })

  it("reads kong.conf.default as the docs site does, and kong_defaults.lua's names", () => {
    expect(
      parseConfDefault('#pg_host = 127.0.0.1  # Host\n#pg_password =   # Password\n# prose = no\n'),
    ).toEqual({
      pg_host: '127.0.0.1',
      pg_password: null,
    })
    expect(parseKongDefaults('return [[\nprefix = /usr/local/kong/\nnginx_main_daemon = on\n]]\n')).toEqual([
      'prefix',
      'nginx_main_daemon',
    ])
  })

  it("reads conf_loader's aliases, dynamic namespaces and sensitive settings", () => {
    const lua = [
      'local DYNAMIC_KEY_NAMESPACES = {',
      '  {',
      '    injected_conf_name = "nginx_main_directives",',
      '    prefix = "nginx_main_",',
      '    ignore = EMPTY,',
      '  },',
      '  {',
      '    prefix = "nginx_http_",',
      '    ignore = {',
      '      upstream_keepalive = true,',
      '    },',
      '  },',
      '}',
      'local CONF_PARSERS = {',
      '  nginx_user = {',
      '    typ = "string",',
      '    alias = {',
      '      replacement = "nginx_main_user",',
      '    }',
      '  },',
      '  router_consistency = {',
      '    deprecated = {',
      '      replacement = "worker_consistency",',
      '    },',
      '  },',
      '  log_level = { enum = { "debug" } },',
      '}',
      'local CONF_SENSITIVE = {',
      '  pg_password = true,',
      '  ["$refs"] = true,',
      '}',
    ].join('\n')
    expect(parseConfParsers(lua)).toEqual({
      nginx_user: 'nginx_main_user',
      router_consistency: 'worker_consistency',
    })
    expect(parseDynamicPrefixes(lua)).toEqual(['nginx_http_', 'nginx_main_'])
    expect(parseDynamicIgnored(lua)).toEqual(['nginx_http_upstream_keepalive'])
    expect(parseSensitive(lua)).toEqual(['pg_password'])
  })

  it('computes a hop: removed (aliases too), new aliases, changed defaults', () => {
    const from = {
      settings: { a: '1', b: 'x', gone: null },
      aliases: { old: 'b' },
      dynamicPrefixes: [],
      refs: { settings: 'from.json', old: 'init.lua@2.8.5' },
    }
    const to = {
      settings: { a: '2', b: 'x', nginx_http_gzip: null },
      aliases: { b_old: 'b' },
      dynamicPrefixes: ['nginx_http_'],
      refs: { settings: 'to.json', b_old: 'to.json' },
    }
    expect(knownIn(to, 'nginx_http_anything')).toBe(true)
    expect(
      knownIn({ ...to, dynamicIgnored: ['nginx_http_upstream_keepalive'] }, 'nginx_http_upstream_keepalive'),
    ).toBe(false)
    expect(hopChanges(from, to, '1', '2')).toEqual({
      from: '1',
      to: '2',
      removed: [
        { name: 'gone', source: 'from.json → to.json' },
        { name: 'old', source: 'init.lua@2.8.5 → to.json' },
      ],
      renamed: [{ name: 'b_old', replacement: 'b', source: 'to.json' }],
      defaultChanged: [{ name: 'a', from: '1', to: '2', source: 'from.json → to.json' }],
    })
  })
})
