import { append, maxOf } from '../engine/arrays.js'
import { DirToolStore } from '../engine/deck/dir-store.js'
import { connectionSecrets } from '../engine/deck/connection.js'
import { locateDeck } from '../engine/deck/install.js'
import { errorMessage, isInputError } from '../engine/errors.js'
import { privateTempDir } from '../engine/fs-atomic.js'
import { isDnsFailure, TransportError } from '../engine/http.js'
import { connectionFromInputs } from '../engine/jobs/context.js'
import { Inputs, type InputSource } from '../engine/jobs/inputs.js'
import { describeAnswer, KongAdmin, nodeInfo } from '../engine/kong/admin.js'
import type { Logger } from '../engine/log.js'
import { checkOutputDirectory } from '../engine/output-paths.js'
import { serverInfo } from '../engine/postgres/catalog.js'
import { describeTarget, libpqEnv, parsePgTarget } from '../engine/postgres/connection.js'
import { PsqlSession } from '../engine/postgres/session.js'
import { locatePgClients } from '../engine/postgres/tools.js'
import { run } from '../engine/process.js'
import { DOCTOR_INPUTS, doctorHelp, envName } from './help.js'
import { parseOptions } from './options.js'
import { wrap } from './text.js'

export type Status = 'ok' | 'warn' | 'fail'

export interface Check {
  status: Status
  check: string
  detail: string
  /** What to do about a warning or a failure. */
  fix?: string
}

const quiet: Logger = { info: () => undefined, warn: () => undefined, debug: () => undefined }

/** How a request that got no answer failed, in the words a user looks for. */
function transportFailure(err: TransportError, address: string): Check {
  const host = new URL(address).hostname
  const code = err.code ?? ''
  if (isDnsFailure(err))
    return {
      status: 'fail',
      check: 'admin-api',
      detail: `DNS failure: ${host} does not resolve (${code})`,
      fix: `Check --kong-addr for a typo, and the DNS this machine uses.`,
    }
  if (code === 'ECONNREFUSED')
    return {
      status: 'fail',
      check: 'admin-api',
      detail: `refused: nothing listens at ${address}`,
      fix: 'Check the port, that Kong runs, and that its admin_listen accepts connections from here.',
    }
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(code) || /certificate|ssl|tls/i.test(err.message))
    return {
      status: 'fail',
      check: 'admin-api',
      detail: `TLS failure: ${err.message}`,
      fix: 'Give the CA that signed the certificate (--ca-cert), the name it was issued to (--tls-server-name), or http:// if the port is plain HTTP.',
    }
  if (/no answer within/.test(err.message) || code === 'ETIMEDOUT')
    return {
      status: 'fail',
      check: 'admin-api',
      detail: `timeout: ${err.message}`,
      fix: 'Check firewalls and security groups between here and the Admin API, or raise --timeout.',
    }
  return {
    status: 'fail',
    check: 'admin-api',
    detail: `unreachable: ${err.message}`,
    fix: 'Check --kong-addr and the network between here and the Admin API.',
  }
}

async function adminChecks(inputs: Inputs): Promise<Check[]> {
  if (!inputs.given('kong-addr'))
    return [
      {
        status: 'warn',
        check: 'admin-api',
        detail: 'not checked: no address given',
        fix: `Give --kong-addr (or ${envName('kong-addr')}) to check the Admin API, the token and workspaces.`,
      },
    ]
  const connection = connectionFromInputs(inputs)
  const admin = await KongAdmin.open(connection.kongAddr, connection)
  let root
  try {
    root = await admin.request('GET', '/')
  } catch (err) {
    if (err instanceof TransportError) return [transportFailure(err, connection.kongAddr)]
    throw err
  }
  const credentials = connection.adminToken
    ? 'the token'
    : connectionSecrets(connection).length > 0
      ? 'the headers'
      : undefined
  if (root.status === 401 || root.status === 403)
    return [
      { status: 'ok', check: 'admin-api', detail: `reachable at ${connection.kongAddr}` },
      {
        status: 'fail',
        check: 'token',
        detail: credentials
          ? `the token was refused (${describeAnswer(root)})`
          : `the Admin API wants a token (${describeAnswer(root)})`,
        fix: `Set ${envName('kong-admin-token')} to an admin token with read access (or ${envName('headers')} for other credentials); options are visible in the process list.`,
      },
    ]
  if (root.status !== 200)
    return [
      {
        status: 'fail',
        check: 'admin-api',
        detail: `GET / answered ${describeAnswer(root)}`,
        fix: 'Check that --kong-addr is the Admin API (not the proxy port) of a Kong node.',
      },
    ]
  let info
  try {
    info = nodeInfo(root)
  } catch (err) {
    return [
      {
        status: 'fail',
        check: 'admin-api',
        detail: errorMessage(err),
        fix: 'Check that --kong-addr is the Kong Admin API.',
      },
    ]
  }
  const checks: Check[] = [
    {
      status: 'ok',
      check: 'admin-api',
      detail: `Kong ${info.version} (${info.edition}, database ${info.database}) at ${connection.kongAddr}`,
    },
    {
      status: 'ok',
      check: 'token',
      detail: credentials ? `${credentials} accepted` : 'none needed: the Admin API answers without one',
    },
  ]
  const workspaces = await admin.request('GET', '/workspaces').catch((err: unknown) => errorMessage(err))
  if (typeof workspaces === 'string')
    checks.push({
      status: 'fail',
      check: 'workspaces',
      detail: `no answer: ${workspaces}`,
      fix: 'Run doctor again; check the network.',
    })
  else if (workspaces.status === 200) {
    const data = (JSON.parse(workspaces.body) as { data?: { name?: string }[] }).data ?? []
    checks.push({
      status: 'ok',
      check: 'workspaces',
      detail: `${data.length} listed: ${data
        .map((w) => w.name)
        .slice(0, 8)
        .join(', ')}${data.length > 8 ? ', …' : ''}`,
    })
  } else if (workspaces.status === 404 && info.edition === 'community')
    checks.push({ status: 'ok', check: 'workspaces', detail: 'Kong OSS: the default workspace only' })
  else
    checks.push({
      status: 'warn',
      check: 'workspaces',
      detail: `GET /workspaces answered ${describeAnswer(workspaces)}`,
      fix: '--all-workspaces needs a token whose role may list workspaces; give --workspace otherwise.',
    })
  return checks
}

async function deckCheck(inputs: Inputs): Promise<Check> {
  try {
    const deck = await locateDeck({
      deckPath: inputs.string('deck-path'),
      version: inputs.string('deck-version'),
      store: new DirToolStore(),
      logger: quiet,
      pathEnv: process.env.PATH,
      download: false,
    })
    return { status: 'ok', check: 'deck', detail: `deck ${deck.version} (${deck.source}: ${deck.path})` }
  } catch (err) {
    if (isInputError(err)) throw err
    // A deck given by path must work; one that is merely absent is downloaded by the command that needs it.
    return inputs.given('deck-path')
      ? {
          status: 'fail',
          check: 'deck',
          detail: errorMessage(err),
          fix: 'Point --deck-path at a working deck binary.',
        }
      : {
          status: 'warn',
          check: 'deck',
          detail: errorMessage(err),
          fix: 'dump, diff, sync, validate and restore download it on first use (network access to github.com needed), or install deck.',
        }
  }
}

async function postgresChecks(inputs: Inputs): Promise<Check[]> {
  const url = inputs.string('database-url')
  const needed = url !== undefined
  let clients
  try {
    clients = await locatePgClients({ binDir: inputs.string('postgres-bin'), pathEnv: process.env.PATH })
  } catch (err) {
    return [
      {
        status: needed ? 'fail' : 'warn',
        check: 'postgres-client',
        detail: errorMessage(err),
        fix: 'db-dump and db-restore need pg_dump, pg_restore and psql: apt-get install postgresql-client (or set --postgres-bin).',
      },
    ]
  }
  const checks: Check[] = [
    {
      status: 'ok',
      check: 'postgres-client',
      detail: `pg_dump, pg_restore and psql ${clients.version} (${clients.binDir})`,
    },
  ]
  if (!url || /^rediss?:/.test(url)) return checks
  const target = parsePgTarget(url, process.env)
  const temp = await privateTempDir('deckhand-doctor-')
  try {
    const session = await PsqlSession.open(clients.psql, await libpqEnv(target, temp.path), target)
    try {
      const server = await serverInfo(session)
      checks.push(
        server.major > clients.major
          ? {
              status: 'warn',
              check: 'postgres-server',
              detail: `PostgreSQL ${server.version} at ${describeTarget(target)} is newer than the clients (${clients.version}): pg_dump refuses it`,
              fix: `Install postgresql-client-${server.major} or newer, or set --postgres-bin to its bin folder.`,
            }
          : {
              status: 'ok',
              check: 'postgres-server',
              detail: `PostgreSQL ${server.version} at ${describeTarget(target)}`,
            },
      )
    } finally {
      await session.close()
    }
  } catch (err) {
    checks.push({
      status: 'fail',
      check: 'postgres-server',
      detail: errorMessage(err),
      fix: 'Check --database-url (or DECKHAND_DATABASE_URL): host, port, user, password and sslmode.',
    })
  } finally {
    await temp.cleanup()
  }
  return checks
}

async function outputCheck(inputs: Inputs): Promise<Check> {
  const dir = inputs.string('output-dir') ?? 'kong'
  try {
    await checkOutputDirectory('output-dir', dir)
    return { status: 'ok', check: 'output-dir', detail: `${dir} is writable` }
  } catch (err) {
    return {
      status: 'fail',
      check: 'output-dir',
      detail: errorMessage(err),
      fix: 'Choose a folder this user may write to (--output-dir).',
    }
  }
}

async function gitCheck(): Promise<Check> {
  const result = await run('git', ['--version']).catch(() => undefined)
  return result?.exitCode === 0
    ? { status: 'ok', check: 'git', detail: result.stdout.trim() }
    : {
        status: 'warn',
        check: 'git',
        detail: 'git is not on PATH',
        fix: 'commit needs git: install it (apt-get install git).',
      }
}

/** Every check, in the order shown. Input errors (a malformed address or number) are thrown: a usage error. */
export async function runDoctor(source: InputSource): Promise<Check[]> {
  const inputs = new Inputs(DOCTOR_INPUTS, source)
  const [admin, deck, postgres, output, git] = await Promise.all([
    adminChecks(inputs),
    deckCheck(inputs),
    postgresChecks(inputs),
    outputCheck(inputs),
    gitCheck(),
  ])
  return [...admin, deck, ...postgres, output, git]
}

/** The checks as `status  check  detail` lines, with a `fix:` line under each warning and failure. */
export function renderChecks(checks: readonly Check[], width: number): string {
  const name = maxOf(
    checks.map((c) => c.check.length),
    0,
  )
  const lines: string[] = []
  for (const c of checks) {
    const indent = ' '.repeat(6 + name + 2)
    append(lines, wrap(`${c.status.padEnd(4)}  ${c.check.padEnd(name)}  ${c.detail}`, width, indent))
    if (c.fix && c.status !== 'ok') append(lines, wrap(`${indent}fix: ${c.fix}`, width, `${indent}     `))
  }
  const failed = checks.filter((c) => c.status === 'fail').length
  const warned = checks.filter((c) => c.status === 'warn').length
  lines.push(
    '',
    failed > 0
      ? `${failed} check(s) failed, ${warned} warning(s).`
      : `All required checks passed; ${warned} warning(s).`,
  )
  return lines.join('\n') + '\n'
}

export async function doctorCommand(argv: readonly string[], width: number): Promise<number> {
  const defs = Object.fromEntries([
    ['help', { kind: 'boolean' as const }],
    ['json', { kind: 'boolean' as const }],
    ...Object.entries(DOCTOR_INPUTS).map(([name, input]) => [
      name,
      {
        kind:
          input.type === 'boolean'
            ? ('boolean' as const)
            : input.type === 'list'
              ? ('list' as const)
              : ('string' as const),
      },
    ]),
  ])
  const { values } = parseOptions(argv, defs, { command: 'doctor' })
  if (values.get('help') === 'true') {
    process.stdout.write(doctorHelp(width) + '\n')
    return 0
  }
  for (const [name, input] of Object.entries(DOCTOR_INPUTS))
    if (input.secret && values.has(name))
      process.stderr.write(
        `warning: --${name} is visible to other users in the process list; prefer ${envName(name)}\n`,
      )
  const checks = await runDoctor((name) => {
    const value = values.get(name)
    return Array.isArray(value) ? value.join('\n') : (value ?? process.env[envName(name)])
  })
  const ok = checks.every((c) => c.status !== 'fail')
  if (values.get('json') === 'true') process.stdout.write(JSON.stringify({ ok, checks }, null, 2) + '\n')
  else process.stdout.write(renderChecks(checks, width))
  return ok ? 0 : 1
}
