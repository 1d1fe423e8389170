import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

const DECK = fileURLToPath(new URL('./deck-double/deck', import.meta.url))
const FIXTURES = fileURLToPath(new URL('./fixtures/gateway/', import.meta.url))
const ENTERPRISE = join(FIXTURES, 'enterprise.yaml')
const COMMUNITY = join(FIXTURES, 'community.yaml')
const ADDR = 'http://127.0.0.1:8001'
const TOKEN = 'kong-admin-s3cret'

interface Result {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

interface RunOptions {
  env?: Record<string, string>
  cwd?: string
  input?: string
  timeout?: number
}

type CheckDeckArgv = (argv: string[], version?: string) => string | null

let home: string
let work: string
let checkDeckArgv: CheckDeckArgv

// Runs the double with a clean environment: only PATH, a private HOME and what the test passes.
function deck(args: string[], opts: RunOptions = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(
      DECK,
      args,
      {
        cwd: opts.cwd ?? work,
        env: { PATH: process.env.PATH ?? '', HOME: home, ...opts.env },
        encoding: 'utf8',
        timeout: opts.timeout ?? 20_000,
      },
      (_err, stdout, stderr) => resolve({ code: child.exitCode, signal: child.signalCode, stdout, stderr }),
    )
    child.stdin?.end(opts.input ?? '')
  })
}

const gateway = (extra: Record<string, string> = {}) => ({ DECK_DOUBLE_GATEWAY: ENTERPRISE, ...extra })
const authed = (extra: Record<string, string> = {}) => gateway({ DECK_KONG_ADMIN_TOKEN: TOKEN, ...extra })

type Entity = Record<string, unknown>
const list = (doc: Entity, key: string) => (doc[key] ?? []) as Entity[]

// Every entity object in a dump, nested ones included.
function entities(node: unknown, out: Entity[] = []): Entity[] {
  if (Array.isArray(node)) for (const item of node) entities(item, out)
  else if (node && typeof node === 'object') {
    const obj = node as Entity
    if ('name' in obj || 'username' in obj || 'key' in obj || 'cert' in obj || 'target' in obj) out.push(obj)
    for (const [k, v] of Object.entries(obj)) if (k !== 'config') entities(v, out)
  }
  return out
}

// Deep copy with map keys and lists of objects put in a canonical order.
function canonical(node: unknown): unknown {
  if (Array.isArray(node)) {
    const items = node.map(canonical)
    return items.some((x) => x && typeof x === 'object')
      ? items.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
      : items
  }
  if (node && typeof node === 'object') {
    const obj = node as Entity
    return Object.fromEntries(
      Object.keys(obj)
        .sort()
        .map((k) => [k, canonical(obj[k])]),
    )
  }
  return node
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'deck-double-home-'))
  work = await mkdtemp(join(tmpdir(), 'deck-double-work-'))
  const flagsModule = new URL('./deck-double/flags.mjs', import.meta.url).href
  ;({ checkDeckArgv } = (await import(flagsModule)) as { checkDeckArgv: CheckDeckArgv })
})

afterAll(async () => {
  await rm(home, { recursive: true, force: true })
  await rm(work, { recursive: true, force: true })
})

describe('version', () => {
  it('prints the release and its commit like deck', async () => {
    expect(await deck(['version'])).toMatchObject({
      code: 0,
      stdout: 'decK v1.65.1 (7fcd888) \n',
      stderr: '',
    })
    const old = await deck(['version'], { env: { DECK_DOUBLE_VERSION: '1.27.0' } })
    expect(old.stdout).toBe('decK v1.27.0 (c155000) \n')
  })

  it('rejects arguments', async () => {
    const r = await deck(['version', 'now'])
    expect(r).toMatchObject({ code: 1, stdout: '' })
    expect(r.stderr).toBe(
      'Error: positional arguments are not valid for this command, please use flags instead\n',
    )
  })
})

describe('command line', () => {
  it('rejects an unknown flag with cobra’s text', async () => {
    const r = await deck(['gateway', 'dump', '--foo', '--kong-addr', ADDR], { env: authed() })
    expect(r).toEqual({ code: 1, signal: null, stdout: '', stderr: 'Error: unknown flag: --foo\n' })
    expect((await deck(['gateway', 'dump', '-x'])).stderr).toBe("Error: unknown shorthand flag: 'x' in -x\n")
  })

  it('rejects a flag that belongs to another command', async () => {
    expect((await deck(['gateway', 'sync', '--non-zero-exit-code'])).stderr).toBe(
      'Error: unknown flag: --non-zero-exit-code\n',
    )
    expect((await deck(['gateway', 'validate', '--all-workspaces'])).stderr).toBe(
      'Error: unknown flag: --all-workspaces\n',
    )
    expect(checkDeckArgv(['gateway', 'diff', '--non-zero-exit-code'])).toBeNull()
  })

  it('reports missing and malformed values', async () => {
    expect((await deck(['gateway', 'dump', '-w'])).stderr).toBe("Error: flag needs an argument: 'w' in -w\n")
    expect((await deck(['gateway', 'dump', '--output-file'])).stderr).toBe(
      'Error: flag needs an argument: --output-file\n',
    )
    const r = await deck(['gateway', 'sync', '--parallelism', 'abc'])
    expect(r).toMatchObject({ code: 1, stdout: '' })
    expect(r.stderr).toBe(
      'Error: invalid argument "abc" for "--parallelism" flag: strconv.ParseInt: parsing "abc": invalid syntax\n',
    )
    expect((await deck(['gateway', 'diff', '--parallelism=0'])).stderr).toBe(
      'Error: --parallelism cannot be less than 1, got 0\n',
    )
    expect(checkDeckArgv(['gateway', 'dump', '--yes=maybe'])).toBe(
      'invalid argument "maybe" for "--yes" flag: strconv.ParseBool: parsing "maybe": invalid syntax',
    )
    // A bool flag never takes the next word: "false" becomes an argument.
    expect(checkDeckArgv(['gateway', 'dump', '--yes', 'false'])).toBe(
      'positional arguments are not valid for this command, please use flags instead',
    )
  })

  it('accepts every spelling of flags deck accepts', () => {
    const ok = [
      ['gateway', 'dump', '-w', 'team-a', '-o', 'out.yaml', '--yes', '--with-id=false'],
      ['gateway', 'dump', '-wteam-a', '--output-file=out.json', '--format', 'json'],
      ['gateway', 'dump', '--select-tag', 'a,b', '--select-tag', 'c', '--headers', 'X-A:1,X-B:2'],
      ['gateway', 'sync', 'a.yaml', 'b.yaml', '--parallelism', '4', '-E', 'route-regex-path-format'],
      ['gateway', 'validate', '--online-entities-list', 'Services,Routes', 'kong.yaml'],
      ['--kong-addr', ADDR, 'gateway', 'ping', '--analytics=false', '--no-color'],
      ['validate', '--online', '-s', 'a.yaml', '-s', 'b.yaml'],
      ['reset', '--force', '--all-workspaces'],
    ]
    for (const argv of ok) expect(checkDeckArgv(argv)).toBeNull()
  })

  it('rejects -o together with --all-workspaces with cobra’s mutual-exclusion text', async () => {
    const r = await deck(['gateway', 'dump', '--all-workspaces', '-o', 'x.yaml'], { env: authed() })
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      'Error: if any flags in the group [output-file all-workspaces] are set none of the others can be; ' +
        '[all-workspaces output-file] were all set\n',
    )
    expect(checkDeckArgv(['gateway', 'dump', '--all-workspaces', '-w', 'x'])).toContain(
      '[workspace all-workspaces]',
    )
  })

  it('has no gateway or file commands before 1.28.0', async () => {
    const env = { DECK_DOUBLE_VERSION: '1.27.0' }
    const r = await deck(['gateway', 'dump'], { env })
    expect(r).toMatchObject({ code: 1, stdout: '' })
    expect(r.stderr).toBe('Error: unknown command "gateway" for "deck"\nRun \'deck --help\' for usage.\n')
    expect(checkDeckArgv(['dump', '-o', 'kong.yaml'], '1.27.0')).toBeNull()
    expect(checkDeckArgv(['gateway', 'dump'], '1.28.0')).toBeNull()
  })

  it('knows --kong-admin-token only from 1.64.0', async () => {
    const r = await deck(['gateway', 'ping', '--kong-admin-token', TOKEN], {
      env: { DECK_DOUBLE_VERSION: '1.63.0' },
    })
    expect(r).toMatchObject({ code: 1, stderr: 'Error: unknown flag: --kong-admin-token\n' })
    expect(checkDeckArgv(['gateway', 'ping', '--kong-admin-token', 'x'], '1.64.0')).toBeNull()
  })

  it('suggests commands for a typo and checks --kong-addr', async () => {
    const r = await deck(['dupm'])
    expect(r.stderr).toBe(
      'Error: unknown command "dupm" for "deck"\n\nDid you mean this?\n\tdump\n\nRun \'deck --help\' for usage.\n',
    )
    expect(checkDeckArgv(['gateway', 'ping', '--kong-addr', '127.0.0.1:8001'])).toBe(
      'invalid URL: parse "127.0.0.1:8001": invalid URI for request',
    )
    expect(checkDeckArgv(['gateway'])).toMatch(/^deck double: /)
  })
})

describe('gateway ping', () => {
  it('prints what deck prints', async () => {
    const r = await deck(['gateway', 'ping', '--kong-addr', ADDR], { env: authed() })
    expect(r).toMatchObject({ code: 0, stdout: 'Successfully connected to Kong!\nKong version:  3.10.0.0\n' })
  })

  it('fails like deck on a refused connection', async () => {
    const r = await deck(['gateway', 'ping', '--kong-addr', 'http://127.0.0.1:9999'], { env: authed() })
    expect(r).toMatchObject({ code: 1, stdout: '' })
    expect(r.stderr).toBe(
      'Error: reading Kong version: making HTTP request: Get "http://127.0.0.1:9999/": ' +
        'dial tcp 127.0.0.1:9999: connect: connection refused\n',
    )
  })
})

describe('admin token', () => {
  const ping = (args: string[], env: Record<string, string>) =>
    deck(['gateway', 'ping', '--kong-addr', ADDR, ...args], { env: gateway(env) })
  const unauthorized = 'Error: reading Kong version: HTTP status 401 (message: "Invalid RBAC credentials")\n'

  it('gets HTTP 401 without the token', async () => {
    expect(await ping([], {})).toMatchObject({ code: 1, stderr: unauthorized })
  })

  it('takes the token from flag, environment, headers or config file', async () => {
    const config = join(work, 'deck-token.yaml')
    await writeFile(config, `kong-admin-token: ${TOKEN}\n`)
    const headerConfig = join(work, 'deck-headers.yaml')
    await writeFile(headerConfig, `headers:\n  - Kong-Admin-Token:${TOKEN}\n`)
    expect((await ping(['--kong-admin-token', TOKEN], {})).code).toBe(0)
    expect((await ping([], { DECK_KONG_ADMIN_TOKEN: TOKEN })).code).toBe(0)
    expect((await ping(['--headers', `Kong-Admin-Token:${TOKEN}`], {})).code).toBe(0)
    expect((await ping([], { DECK_HEADERS: `Kong-Admin-Token:${TOKEN}` })).code).toBe(0)
    expect((await ping(['--config', config], {})).code).toBe(0)
    expect((await ping(['--config', headerConfig], {})).code).toBe(0)
  })

  it('applies flag > environment > config file', async () => {
    const config = join(work, 'deck-wrong-token.yaml')
    await writeFile(config, 'kong-admin-token: wrong\n')
    expect(await ping(['--kong-admin-token', 'wrong'], { DECK_KONG_ADMIN_TOKEN: TOKEN })).toMatchObject({
      code: 1,
      stderr: unauthorized,
    })
    expect((await ping(['--kong-admin-token', TOKEN], { DECK_KONG_ADMIN_TOKEN: 'wrong' })).code).toBe(0)
    expect((await ping(['--config', config], { DECK_KONG_ADMIN_TOKEN: TOKEN })).code).toBe(0)
    expect((await ping(['--config', config], {})).stderr).toBe(unauthorized)
    // --kong-admin-token replaces a Kong-Admin-Token header given with --headers.
    expect((await ping(['--headers', 'Kong-Admin-Token:wrong', '--kong-admin-token', TOKEN], {})).code).toBe(
      0,
    )
  })

  it('ignores DECK_KONG_ADMIN_TOKEN before 1.64.0', async () => {
    const env = { DECK_DOUBLE_VERSION: '1.63.0', DECK_KONG_ADMIN_TOKEN: TOKEN }
    expect((await ping([], env)).stderr).toBe(unauthorized)
    expect((await ping([], { ...env, DECK_HEADERS: `Kong-Admin-Token:${TOKEN}` })).code).toBe(0)
  })
})

describe('gateway dump', () => {
  it('writes sorted YAML to stdout without ids or timestamps', async () => {
    const r = await deck(['gateway', 'dump', '--kong-addr', ADDR], { env: authed() })
    expect(r.code).toBe(0)
    expect(r.stdout.startsWith('_format_version: "3.0"\n')).toBe(true)
    const doc = parse(r.stdout) as Entity
    expect(Object.keys(doc)).toEqual([...Object.keys(doc)].sort())
    const names = list(doc, 'services').map((s) => s.name)
    expect(names).toEqual(['billing-api', 'inventory', 'sso-portal'])
    const billing = list(doc, 'services')[0] as Entity
    expect(billing.id).toBeUndefined()
    expect(billing.created_at).toBeUndefined()
    expect(list(billing, 'routes').map((r) => r.name)).toEqual(['billing-health', 'billing-invoices'])
    // Secrets are dumped in plain text.
    expect(r.stdout).toContain('aws_secret: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')
    expect(r.stdout).toContain('-----BEGIN PRIVATE KEY-----')
    // Certificates, CA certificates, partials and mTLS credentials keep their ids; so does a consumer
    // without a username.
    expect(list(doc, 'certificates')[0]?.id).toBeDefined()
    expect(list(doc, 'partials')[0]?.id).toBeDefined()
    const device = list(doc, 'consumers').find((c) => c.custom_id === 'device-0042') as Entity
    expect(device.id).toBeDefined()
    expect(JSON.stringify(doc)).not.toMatch(/"(created|updated)_at"/)
    // deck warns about basic-auth credentials (GDR no longer forces ids for them).
    expect(r.stderr).toBe('Warning: basic-auth credentials detected, IDs will be exported\n')
  })

  it('keeps ids with --with-id', async () => {
    const r = await deck(['gateway', 'dump', '--kong-addr', ADDR, '--with-id', '--format', 'json'], {
      env: authed(),
    })
    const doc = JSON.parse(r.stdout) as Entity
    const fixture = parse(await readFile(ENTERPRISE, 'utf8')) as { workspaces: Record<string, Entity> }
    const billing = list(fixture.workspaces.default as Entity, 'services')[0] as Entity
    expect(list(doc, 'services')[0]?.id).toBe(billing.id)
    expect(list(list(doc, 'services')[0] as Entity, 'plugins')[0]?.id).toBeDefined()
    // deck's JSON: 2-space indent, struct field order, no trailing newline.
    expect(r.stdout.startsWith('{\n  "_format_version": "3.0",\n')).toBe(true)
    expect(r.stdout.endsWith('}')).toBe(true)
  })

  it('writes -o files with mode 0600, adding the extension only when missing', async () => {
    const dir = await mkdtemp(join(work, 'out-'))
    const a = await deck(
      ['gateway', 'dump', '--kong-addr', ADDR, '-o', 'state', '--format', 'json', '--yes'],
      {
        env: authed(),
        cwd: dir,
      },
    )
    expect(a).toMatchObject({ code: 0, stdout: '' })
    expect((await stat(join(dir, 'state.json'))).mode & 0o777).toBe(0o600)
    await deck(['gateway', 'dump', '--kong-addr', ADDR, '-o', 'kong.backup', '--yes'], {
      env: authed(),
      cwd: dir,
    })
    expect(await readdir(dir)).toEqual(['kong.backup', 'state.json'])
    // DECK_FORMAT applies when --format is not given.
    await deck(['gateway', 'dump', '--kong-addr', ADDR, '-o', 'viaenv', '--yes'], {
      env: authed({ DECK_FORMAT: 'json' }),
      cwd: dir,
    })
    expect(JSON.parse(await readFile(join(dir, 'viaenv.json'), 'utf8'))).toHaveProperty('services')
  })

  it('prompts before overwriting without --yes and fails without an answer', async () => {
    const dir = await mkdtemp(join(work, 'prompt-'))
    await writeFile(join(dir, 'kong.yaml'), 'old\n')
    const args = ['gateway', 'dump', '--kong-addr', ADDR, '-o', 'kong.yaml']
    const r = await deck(args, { env: authed(), cwd: dir })
    expect(r).toMatchObject({ code: 1, stderr: 'Error: EOF\n' })
    expect(r.stdout).toBe("File 'kong.yaml' already exists. Do you want to overwrite it? ")
    expect(await readFile(join(dir, 'kong.yaml'), 'utf8')).toBe('old\n')
    expect((await deck(args, { env: authed(), cwd: dir, input: 'y\n' })).code).toBe(0)
    expect(await readFile(join(dir, 'kong.yaml'), 'utf8')).toContain('_format_version')
  })

  it('dumps one workspace with _workspace, and rejects unknown ones', async () => {
    const r = await deck(['gateway', 'dump', '--kong-addr', ADDR, '-w', 'team-payments'], { env: authed() })
    const doc = parse(r.stdout) as Entity
    expect(doc._workspace).toBe('team-payments')
    expect(list(doc, 'services').map((s) => s.name)).toEqual(['payments-api'])
    expect(r.stdout).toContain('{vault://env/PAYMENTS_UPSTREAM_KEY}')
    const bad = await deck(['gateway', 'dump', '--kong-addr', ADDR, '-w', 'nope'], { env: authed() })
    expect(bad).toMatchObject({ code: 1, stderr: "Error: workspace 'nope' does not exist in Kong\n" })
  })

  it('writes <workspace>.<format> into the working directory for --all-workspaces', async () => {
    const dir = await mkdtemp(join(work, 'all-'))
    const r = await deck(['gateway', 'dump', '--kong-addr', ADDR, '--all-workspaces', '--yes'], {
      env: authed(),
      cwd: dir,
    })
    expect(r).toMatchObject({ code: 0, stdout: '' })
    expect((await readdir(dir)).sort()).toEqual(['default.yaml', 'sandbox.yaml', 'team-payments.yaml'])
    for (const ws of ['default', 'sandbox', 'team-payments']) {
      const doc = parse(await readFile(join(dir, `${ws}.yaml`), 'utf8')) as Entity
      expect(doc._workspace).toBe(ws)
    }
    expect(await readFile(join(dir, 'sandbox.yaml'), 'utf8')).toBe(
      '_format_version: "3.0"\n_workspace: sandbox\n',
    )
  })

  it('fails -w and --all-workspaces against Kong OSS like deck', async () => {
    const env = { DECK_DOUBLE_GATEWAY: COMMUNITY }
    const ws = await deck(['gateway', 'dump', '--kong-addr', ADDR, '-w', 'default'], { env })
    expect(ws.stderr).toBe("Error: workspace 'default' does not exist in Kong\n")
    const all = await deck(['gateway', 'dump', '--kong-addr', ADDR, '--all-workspaces'], { env, cwd: work })
    expect(all.stderr).toBe('Error: fetching workspaces from Kong: HTTP status 404 (message: "Not found")\n')
    const ok = await deck(['gateway', 'dump', '--kong-addr', ADDR], { env })
    expect(parse(ok.stdout)).toHaveProperty('services')
  })

  it('keeps only entities carrying every --select-tag', async () => {
    const r = await deck(['gateway', 'dump', '--kong-addr', ADDR, '--select-tag', 'team-billing'], {
      env: authed(),
    })
    expect(r.code).toBe(0)
    const doc = parse(r.stdout) as Entity
    expect(doc._info).toEqual({ defaults: {}, select_tags: ['team-billing'] })
    expect(list(doc, 'services').map((s) => s.name)).toEqual(['billing-api'])
    for (const e of entities(doc)) expect(e.tags).toContain('team-billing')
    const both = await deck(
      ['gateway', 'dump', '--kong-addr', ADDR, '--select-tag', 'team-billing,tier-gold'],
      {
        env: authed(),
      },
    )
    const bothDoc = parse(both.stdout) as Entity
    expect(list(bothDoc, 'services').map((s) => s.name)).toEqual(['billing-api'])
    expect(list(bothDoc, 'consumers')).toEqual([])
  })

  it('drops consumers and consumer groups with --skip-consumers', async () => {
    const r = await deck(['gateway', 'dump', '--kong-addr', ADDR, '--skip-consumers'], { env: authed() })
    const doc = parse(r.stdout) as Entity
    expect(doc.consumers).toBeUndefined()
    expect(doc.consumer_groups).toBeUndefined()
    expect(list(doc, 'plugins').some((p) => 'consumer' in p)).toBe(false)
  })

  it('shuffles on request, holding the same entities', async () => {
    const args = ['gateway', 'dump', '--kong-addr', ADDR]
    const sorted = await deck(args, { env: authed() })
    const shuffled = await deck(args, { env: authed({ DECK_DOUBLE_SHUFFLE: '1' }) })
    const again = await deck(args, { env: authed({ DECK_DOUBLE_SHUFFLE: '1' }) })
    expect(shuffled.stdout).not.toBe(sorted.stdout)
    expect(again.stdout).toBe(shuffled.stdout)
    expect(canonical(parse(shuffled.stdout))).toEqual(canonical(parse(sorted.stdout)))
  })

  it('keeps the legacy dump: deprecation notice on stderr, kong.yaml by default', async () => {
    const dir = await mkdtemp(join(work, 'legacy-'))
    const r = await deck(['dump', '--kong-addr', ADDR], { env: authed(), cwd: dir })
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/^Info: 'deck dump' functionality has moved to 'deck gateway dump'/)
    expect(await readdir(dir)).toEqual(['kong.yaml'])
  })
})

describe('validate', () => {
  const file = async (name: string, text: string) => {
    const path = join(work, name)
    await writeFile(path, text)
    return path
  }

  it('renders ${{ env }} templates and prints nothing on success', async () => {
    const path = await file(
      'templated.yaml',
      '_format_version: "3.0"\n# ${{ env "DECK_ONLY_IN_A_COMMENT" }}\nservices:\n- name: svc\n' +
        '  host: ${{ env "DECK_HOST" }}\n  port: ${{ env "DECK_PORT" | toInt }}\n',
    )
    const r = await deck(['file', 'validate', path], { env: { DECK_HOST: 'up.internal', DECK_PORT: '8080' } })
    expect(r).toEqual({ code: 0, signal: null, stdout: '', stderr: '' })
  })

  it('renders a one-digit indent, as a dump writes it for a PEM key', async () => {
    const path = await file(
      'indented.yaml',
      '_format_version: "3.0"\ncertificates:\n- id: 6b689881-8373-4090-82c0-4cbfa105ad0d\n  cert: |\n' +
        '    ${{ env "DECK_CERT" | indent 4 }}\n' +
        '  key: |\n    ${{ env "DECK_KEY" | indent 4 }}\n',
    )
    const pem = (kind: string) => `-----BEGIN ${kind}-----\nMIIBOgIBAAJBAK\n-----END ${kind}-----\n`
    const r = await deck(['file', 'validate', path], {
      env: { DECK_CERT: pem('CERTIFICATE'), DECK_KEY: pem('PRIVATE KEY') },
    })
    expect(r).toEqual({ code: 0, signal: null, stdout: '', stderr: '' })
  })

  it('reports an unset variable with GDR’s wording', async () => {
    const path = await file(
      'unset.yaml',
      '_format_version: "3.0"\nservices:\n- name: svc\n  host: ${{ env "DECK_HOST" }}\n',
    )
    const r = await deck(['file', 'validate', path])
    expect(r).toMatchObject({ code: 1, stdout: '' })
    expect(r.stderr).toBe(
      `Error: 1 errors occurred:\n\treading file ${path}: parsing file: template: state:4:12: executing "state" at ` +
        `<env "DECK_HOST">: error calling env: environment variable 'DECK_HOST' present in state file but not set\n\n`,
    )
    const noPrefix = await file('noprefix.yaml', 'services:\n- name: svc\n  host: ${{ env "HOST" }}\n')
    expect((await deck(['file', 'validate', noPrefix])).stderr).toContain(
      "environment variables in the state file must be prefixed with 'DECK_', found: 'HOST'",
    )
  })

  it('rejects duplicate names', async () => {
    const path = await file(
      'dup.yaml',
      '_format_version: "3.0"\nservices:\n- name: svc\n  host: a\n- name: svc\n  host: b\n',
    )
    const r = await deck(['file', 'validate', path])
    expect(r).toMatchObject({
      code: 1,
      stderr: 'Error: inserting service into state: inserting service svc: entity already exists\n',
    })
  })

  it('reports YAML syntax and schema errors', async () => {
    const bad = await file('bad.yaml', '_format_version: "3.0"\nservices:\n- name: svc\n  host: a: b\n')
    expect((await deck(['file', 'validate', bad])).stderr).toBe(
      `Error: 1 errors occurred:\n\treading file ${bad}: validating file content: unmarshaling file content: ` +
        'error converting YAML to JSON: yaml: line 4: mapping values are not allowed in this context\n\n',
    )
    const schema = await file('schema.yaml', 'services:\n- name: svc\n  hots: a\n')
    expect((await deck(['file', 'validate', schema])).stderr).toContain(
      'validation error: object="a", err=services.0: Additional property hots is not allowed',
    )
  })

  it('reads stdin by default and rejects files of different workspaces', async () => {
    const r = await deck(['file', 'validate'], {
      input: '_format_version: "3.0"\nservices:\n- name: a\n  host: b\n',
    })
    expect(r.code).toBe(0)
    const a = await file('ws-a.yaml', '_workspace: a\n_format_version: "3.0"\n')
    const b = await file('ws-b.yaml', '_workspace: b\n_format_version: "3.0"\n')
    expect((await deck(['file', 'validate', a, b])).stderr).toBe(
      'Error: it seems like you are trying to sync multiple workspaces at the same time ([a b]).\n' +
        "decK doesn't support syncing multiple workspaces at the same time, please sync one workspace at a time\n",
    )
  })

  it('checks workspace and credentials online', async () => {
    const path = await file(
      'online.yaml',
      '_format_version: "3.0"\n_workspace: team-payments\nservices:\n- name: svc\n  host: a\n',
    )
    const args = ['gateway', 'validate', path, '--kong-addr', ADDR]
    expect((await deck(args, { env: authed() })).code).toBe(0)
    expect((await deck(args, { env: gateway() })).stderr).toBe(
      'Error: checking if workspace exists: HTTP status 401 (message: "Invalid RBAC credentials")\n',
    )
    const missing = await deck([...args, '-w', 'nope'], { env: authed() })
    expect(missing.stderr).toBe("Error: workspace doesn't exist: nope\n")
  })
})

describe('double switches', () => {
  it('logs each invocation without DECK_DOUBLE_* variables', async () => {
    const log = join(work, 'invocations.jsonl')
    const config = join(work, 'logged-config.yaml')
    await writeFile(config, `headers:\n  - Kong-Admin-Token:${TOKEN}\n`)
    await deck(['gateway', 'ping', '--kong-addr', ADDR, '--config', config], {
      env: gateway({ DECK_DOUBLE_LOG: log, DECK_NO_COLOR: 'true' }),
    })
    await deck(['version'], { env: { DECK_DOUBLE_LOG: log } })
    const lines = (await readFile(log, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Entity)
    expect(lines).toHaveLength(2)
    expect(lines[0]).toEqual({
      argv: ['gateway', 'ping', '--kong-addr', ADDR, '--config', config],
      cwd: work,
      env: { DECK_NO_COLOR: 'true' },
      config: { headers: [`Kong-Admin-Token:${TOKEN}`] },
    })
    expect(lines[1]).toEqual({ argv: ['version'], cwd: work, env: {}, config: null })
  })

  it('injects failures after checking the command line', async () => {
    expect(await deck(['gateway', 'ping'], { env: { DECK_DOUBLE_FAIL: 'error' } })).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'Error: deck double: injected failure (DECK_DOUBLE_FAIL=error)\n',
    })
    expect((await deck(['gateway', 'ping', '--bogus'], { env: { DECK_DOUBLE_FAIL: 'error' } })).stderr).toBe(
      'Error: unknown flag: --bogus\n',
    )
  })

  it('crashes half-way through writing a dump', async () => {
    const dir = await mkdtemp(join(work, 'crash-'))
    const r = await deck(
      ['gateway', 'dump', '--kong-addr', ADDR, '-o', 'kong.json', '--format', 'json', '--yes'],
      {
        env: authed({ DECK_DOUBLE_FAIL: 'crash' }),
        cwd: dir,
      },
    )
    expect(r.signal).toBe('SIGKILL')
    const partial = await readFile(join(dir, 'kong.json'), 'utf8')
    expect(partial.startsWith('{\n  "_format_version"')).toBe(true)
    expect(() => JSON.parse(partial)).toThrow()
  })

  it('hangs', async () => {
    const r = await deck(['gateway', 'ping'], { env: { DECK_DOUBLE_FAIL: 'hang' }, timeout: 1500 })
    expect(r.signal).toBe('SIGTERM')
    expect(r.stdout).toBe('')
  })
})
