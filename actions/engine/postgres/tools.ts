import { readdir } from 'node:fs/promises'
import { delimiter, join } from 'node:path'

import { DeckhandError } from '../errors.js'
import { isExecutable } from '../paths.js'
import { run } from '../process.js'
import { inputName, inputSubject } from '../jobs/inputs.js'

/** The PostgreSQL client programs deckhand drives, from one installation so their versions agree. */
export interface PgClients {
  binDir: string
  /** Full version of pg_dump, e.g. 15.18. */
  version: string
  major: number
  pgDump: string
  pgRestore: string
  psql: string
}

/** Folders where packages put PostgreSQL clients, newest first once sorted: Debian/Ubuntu, RHEL, Homebrew. */
const INSTALL_ROOTS: { dir: string; bin: (entry: string) => string }[] = [
  { dir: '/usr/lib/postgresql', bin: (v) => join('/usr/lib/postgresql', v, 'bin') },
  { dir: '/usr', bin: (v) => join('/usr', v, 'bin') },
  { dir: '/opt/homebrew/opt', bin: (v) => join('/opt/homebrew/opt', v, 'bin') },
  { dir: '/usr/local/opt', bin: (v) => join('/usr/local/opt', v, 'bin') },
]

/** `pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` -> 15.18 */
export function parseClientVersion(output: string): { version: string; major: number } | undefined {
  const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(output)
  if (!match) return undefined
  return { version: match[2] ? `${match[1]}.${match[2]}` : match[1]!, major: Number(match[1]) }
}

async function clientsIn(binDir: string): Promise<PgClients | undefined> {
  const pgDump = join(binDir, 'pg_dump')
  if (!(await isExecutable(pgDump))) return undefined
  const result = await run(pgDump, ['--version']).catch(() => undefined)
  const parsed = result && result.exitCode === 0 ? parseClientVersion(result.stdout) : undefined
  if (!parsed) return undefined
  const pgRestore = join(binDir, 'pg_restore')
  const psql = join(binDir, 'psql')
  if (!(await isExecutable(pgRestore)) || !(await isExecutable(psql))) return undefined
  return { binDir, ...parsed, pgDump, pgRestore, psql }
}

/** Candidate bin folders: PATH first, then the usual install roots. */
async function candidateDirs(pathEnv: string | undefined): Promise<string[]> {
  const dirs = (pathEnv ?? '').split(delimiter).filter(Boolean)
  for (const root of INSTALL_ROOTS) {
    const entries = await readdir(root.dir).catch(() => [] as string[])
    for (const entry of entries) {
      // /usr/lib/postgresql/16, /usr/pgsql-16, postgresql@16
      if (/^(?:\d+|pgsql-\d+|postgresql@\d+)$/.test(entry)) dirs.push(root.bin(entry))
    }
  }
  return [...new Set(dirs)]
}

/**
 * Finds the PostgreSQL clients to use: those in binDir when given, otherwise the newest installation
 * found. pg_dump refuses servers newer than itself, so with minMajor (the server's or the dump's
 * major version) an older client is an actionable error rather than a failure halfway.
 */
export async function locatePgClients(options: {
  binDir?: string
  pathEnv?: string
  minMajor?: number
}): Promise<PgClients> {
  let clients: PgClients | undefined
  if (options.binDir) {
    clients = await clientsIn(options.binDir)
    if (!clients) {
      throw new DeckhandError(
        `${inputSubject('postgres-bin')}: ${options.binDir} does not hold working pg_dump, pg_restore and psql programs.`,
      )
    }
  } else {
    // Asked all at once: on Debian /usr/bin/pg_dump is a Perl wrapper that takes a while to answer.
    const found = (await Promise.all((await candidateDirs(options.pathEnv)).map(clientsIn))).filter(
      (c): c is PgClients => c !== undefined,
    )
    // The newest; between equal versions, the first found (PATH order).
    clients = found.sort((a, b) => b.major - a.major)[0]
    if (!clients) {
      throw new DeckhandError(
        `No PostgreSQL client found (pg_dump, pg_restore, psql): install one (Debian/Ubuntu: apt-get install postgresql-client) or set ${inputName('postgres-bin')}.`,
      )
    }
  }
  if (options.minMajor !== undefined && clients.major < options.minMajor) {
    throw new DeckhandError(
      `pg_dump ${clients.version} (${clients.binDir}) is older than PostgreSQL ${options.minMajor}, which it must read: install postgresql-client-${options.minMajor} or newer, or set ${inputName('postgres-bin')} to its bin folder.`,
    )
  }
  return clients
}
