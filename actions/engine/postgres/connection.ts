import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { DeckhandError, explainOutput } from '../errors.js'
import { scrub } from '../scrub.js'

/**
 * Where a PostgreSQL database is, without its password: what the tools get through libpq's
 * environment variables. The password travels separately, in a private .pgpass file.
 */
export interface PgTarget {
  host?: string
  port?: string
  user?: string
  database?: string
  password?: string
  /** libpq settings from the URL's query string, as environment variables (sslmode -> PGSSLMODE). */
  settings: Record<string, string>
}

/** URL query parameters deckhand passes on, and the libpq variable each becomes. */
const URL_SETTINGS: Record<string, string> = {
  sslmode: 'PGSSLMODE',
  sslrootcert: 'PGSSLROOTCERT',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  sslcrl: 'PGSSLCRL',
  connect_timeout: 'PGCONNECT_TIMEOUT',
  application_name: 'PGAPPNAME',
  options: 'PGOPTIONS',
  target_session_attrs: 'PGTARGETSESSIONATTRS',
  gssencmode: 'PGGSSENCMODE',
  channel_binding: 'PGCHANNELBINDING',
}

/**
 * Reads database-url (postgres:// or postgresql://), or, when it is empty, the standard PG* variables
 * of env. Errors never repeat the URL: it may hold the password.
 */
export function parsePgTarget(url: string | undefined, env: NodeJS.ProcessEnv): PgTarget {
  const raw = (url ?? '').trim()
  if (raw === '') {
    const target: PgTarget = {
      host: env.PGHOST || undefined,
      port: env.PGPORT || undefined,
      user: env.PGUSER || undefined,
      database: env.PGDATABASE || undefined,
      password: env.PGPASSWORD || undefined,
      settings: {},
    }
    for (const variable of Object.values(URL_SETTINGS))
      if (env[variable]) target.settings[variable] = env[variable]
    if (!target.host && !target.database && !target.user) {
      throw new DeckhandError(
        'No database given: set database-url (postgres://user:password@host:5432/kong) or the PGHOST, PGUSER, PGPASSWORD and PGDATABASE variables.',
      )
    }
    return target
  }
  let parsed: URL
  try {
    parsed = new URL(raw)
  } catch {
    throw new DeckhandError(
      'database-url is not a URL: use postgres://user:password@host:5432/database (percent-encode special characters in the password).',
    )
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new DeckhandError(
      `database-url must start with postgres:// or postgresql://, not ${parsed.protocol}//`,
    )
  }
  const decode = (value: string, what: string): string => {
    try {
      return decodeURIComponent(value)
    } catch {
      throw new DeckhandError(`database-url: the ${what} is not valid percent-encoding`)
    }
  }
  const settings: Record<string, string> = {}
  let host = parsed.hostname ? decode(parsed.hostname, 'host').replace(/^\[(.*)\]$/, '$1') : undefined
  for (const [key, value] of parsed.searchParams) {
    // libpq's own way of giving a socket directory: postgres:///kong?host=/var/run/postgresql
    if (key === 'host') host = value
    else if (key === 'port' || key === 'user' || key === 'dbname') continue
    else if (URL_SETTINGS[key]) settings[URL_SETTINGS[key]] = value
    else throw new DeckhandError(`database-url: unsupported parameter "${key}"`)
  }
  const database = decode(parsed.pathname.replace(/^\//, ''), 'database name')
  return {
    host,
    port: parsed.port || parsed.searchParams.get('port') || undefined,
    user: parsed.username
      ? decode(parsed.username, 'user name')
      : parsed.searchParams.get('user') || undefined,
    database: database || parsed.searchParams.get('dbname') || undefined,
    password: parsed.password ? decode(parsed.password, 'password') : undefined,
    settings,
  }
}

/** The same server, another database (the maintenance database for --create, the restored one after). */
export function withDatabase(target: PgTarget, database: string): PgTarget {
  return { ...target, database }
}

/** `user@host:port/database`, for logs and reports: never the password. */
export function describeTarget(target: PgTarget): string {
  const host = target.host ?? 'localhost'
  return `${target.user ? `${target.user}@` : ''}${host}${target.port ? `:${target.port}` : ''}/${target.database ?? ''}`
}

/** One .pgpass field: backslash and colon are escaped (libpq's rule). */
function pgpassField(value: string): string {
  return value.replace(/[\\:]/g, (c) => `\\${c}`)
}

/**
 * The environment a client tool runs with: libpq variables for the target and, when there is a
 * password, PGPASSFILE pointing at a 0600 file in dir (a private temporary directory). PGPASSWORD is
 * removed, so the password is neither inherited nor readable from the tool's environment.
 */
export async function libpqEnv(target: PgTarget, dir: string): Promise<Record<string, string | undefined>> {
  const env: Record<string, string | undefined> = {
    PGHOST: target.host,
    PGPORT: target.port,
    PGUSER: target.user,
    PGDATABASE: target.database,
    PGPASSWORD: undefined,
    PGPASSFILE: undefined,
    PGSERVICE: undefined,
    // Messages in English, whatever the runner's locale: errors are recognised by their text.
    LC_MESSAGES: 'C',
    ...target.settings,
  }
  if (target.password !== undefined) {
    const file = join(dir, 'pgpass')
    // Any host, port and database: pg_restore --create switches from the maintenance database to the new one.
    await writeFile(file, `*:*:*:${pgpassField(target.user ?? '*')}:${pgpassField(target.password)}\n`, {
      mode: 0o600,
    })
    env.PGPASSFILE = file
  }
  return env
}

/**
 * Turns a client tool's error output into an actionable message. libpq's texts are stable across
 * versions; the first matching rule wins. Output is scrubbed of the password before anything else.
 */
export function explainPgError(tool: string, stderr: string, target: PgTarget): string {
  const text = scrubPassword(stderr, target).trim()
  const where = describeTarget(target)
  const rules: [RegExp, string][] = [
    [
      /password authentication failed|no password supplied|SASL authentication failed/i,
      `PostgreSQL at ${where} refused the credentials: check the user and password in database-url (or PGUSER/PGPASSWORD).`,
    ],
    [
      /could not translate host name|Name or service not known|nodename nor servname/i,
      `cannot resolve the database host of ${where}: check the host in database-url (or PGHOST).`,
    ],
    [
      /Connection refused|could not connect|timeout expired|No route to host|Network is unreachable/i,
      `cannot reach PostgreSQL at ${where}: is the server running and reachable from this runner (host, port, firewall, security group)?`,
    ],
    [
      /database "[^"]*" does not exist/i,
      `the database of ${where} does not exist: check the database name in database-url, or use create to let the restore create it.`,
    ],
    [
      /no pg_hba\.conf entry/i,
      `PostgreSQL at ${where} does not accept connections from this runner (pg_hba.conf).`,
    ],
    [
      /server version mismatch|unsupported version .* in file header/i,
      `the ${tool} client is older than the server or the dump: install a newer PostgreSQL client or point postgres-bin at one.`,
    ],
    [/permission denied/i, `the database user of ${where} lacks a permission ${tool} needs.`],
  ]
  return explainOutput(tool, text, rules)
}

/** Removes the password from text that may echo it (a connection string in an error, say). */
export function scrubPassword(text: string, target: PgTarget): string {
  const { password } = target
  return password ? scrub(text, [password, encodeURIComponent(password)], '[redacted]') : text
}
