/**
 * Whole databases, managed from a maintenance database: what a restore that replaces a database needs to
 * build the replacement beside it and swap it in by renaming, so that the database it replaces stays as it
 * was until the replacement is complete.
 */
import { randomBytes } from 'node:crypto'

import { quoteIdent } from './commands.js'
import { type PsqlSession, literal } from './session.js'

/** PostgreSQL's longest name (NAMEDATALEN - 1): longer names are cut short, silently but for a NOTICE. */
export const MAX_NAME_BYTES = 63

/** What a database is besides its content, read so that its replacement can be created alike. */
export interface DatabaseProperties {
  name: string
  owner: string
  encoding: string
  collate: string
  ctype: string
  /** 'c' libc, 'i' ICU, 'b' builtin (PostgreSQL 15 and later; undefined before). */
  localeProvider?: string
  /** The ICU or builtin locale (daticulocale in 15 and 16, datlocale from 17). */
  locale?: string
  icuRules?: string
  connectionLimit: number
  /** undefined: the server's default tablespace. */
  tablespace?: string
  /** undefined: the default privileges (PUBLIC may connect and create temporary tables). */
  grants?: { grantee: string | null; privilege: string; grantable: boolean }[]
  comment: string | null
  /** ALTER DATABASE … SET (role null) and ALTER ROLE … IN DATABASE … SET: each setting as name=value. */
  settings: { role: string | null; config: string[] }[]
}

/** The connecting role, and what it may do to a database. */
export interface RoleRights {
  user: string
  superuser: boolean
  createdb: boolean
  /** Whether the role has the rights of the database's owner, which renaming and dropping need. */
  ownsDatabase: boolean
}

/** A database's properties and the connecting role's rights on it; undefined when there is no such database. */
export async function readDatabase(
  session: PsqlSession,
  name: string,
): Promise<{ properties: DatabaseProperties; rights: RoleRights } | undefined> {
  // to_jsonb(d) has whichever locale columns this server version has.
  const row = await session.json<{
    row: Record<string, unknown>
    owner: string
    encoding: string
    tablespace: string
    aclSet: boolean
    grants: { grantee: string | null; privilege: string; grantable: boolean }[]
    comment: string | null
    settings: { role: string | null; config: string[] }[]
    user: string
    superuser: boolean
    createdb: boolean
    ownsDatabase: boolean
  } | null>(
    `SELECT json_build_object(
       'row', to_jsonb(d) - 'datacl',
       'owner', pg_get_userbyid(d.datdba),
       'encoding', pg_encoding_to_char(d.encoding),
       'tablespace', (SELECT spcname FROM pg_tablespace WHERE oid = d.dattablespace),
       'aclSet', d.datacl IS NOT NULL,
       'grants', (SELECT coalesce(json_agg(json_build_object(
                    'grantee', CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END,
                    'privilege', a.privilege_type, 'grantable', a.is_grantable)), '[]')
                  FROM aclexplode(d.datacl) a),
       'comment', shobj_description(d.oid, 'pg_database'),
       'settings', (SELECT coalesce(json_agg(json_build_object(
                      'role', CASE WHEN s.setrole = 0 THEN NULL ELSE pg_get_userbyid(s.setrole) END,
                      'config', s.setconfig)), '[]')
                    FROM pg_db_role_setting s WHERE s.setdatabase = d.oid),
       'user', current_user,
       'superuser', r.rolsuper,
       'createdb', r.rolcreatedb,
       'ownsDatabase', pg_has_role(d.datdba, 'USAGE'))
     FROM pg_database d, pg_roles r
     WHERE d.datname = ${literal(name)} AND r.rolname = current_user`,
  )
  if (!row) return undefined
  const text = (key: string) => (typeof row.row[key] === 'string' ? (row.row[key] as string) : undefined)
  return {
    properties: {
      name,
      owner: row.owner,
      encoding: row.encoding,
      collate: text('datcollate') ?? '',
      ctype: text('datctype') ?? '',
      localeProvider: text('datlocprovider'),
      locale: text('datlocale') ?? text('daticulocale'),
      icuRules: text('daticurules'),
      connectionLimit: Number(row.row.datconnlimit ?? -1),
      tablespace: row.tablespace === 'pg_default' ? undefined : row.tablespace,
      grants: row.aclSet ? row.grants : undefined,
      comment: row.comment,
      settings: row.settings,
    },
    rights: {
      user: row.user,
      superuser: row.superuser,
      createdb: row.createdb || row.superuser,
      ownsDatabase: row.ownsDatabase || row.superuser,
    },
  }
}

/** `name` cut to at most `bytes` bytes of UTF-8, never inside a character. */
function clipBytes(name: string, bytes: number): string {
  let out = ''
  let used = 0
  for (const char of name) {
    const size = Buffer.byteLength(char)
    if (used + size > bytes) break
    out += char
    used += size
  }
  return out
}

const FRESH_SUFFIX = /_deckhand_[0-9a-f]{8}$/
const PREVIOUS_SUFFIX = /_deckhand_previous_\d{8}T\d{6}Z(?:_\d+)?$/
/** Bytes of the target's name a replacement's name keeps: 63 less `_deckhand_` and 8 hex digits. */
const FRESH_STEM = MAX_NAME_BYTES - '_deckhand_00000000'.length
/** The same for a kept database, with room for a `_2`…`_99` when two restores share a second. */
const PREVIOUS_STEM = MAX_NAME_BYTES - '_deckhand_previous_00000000T000000Z_99'.length

/**
 * Names a restore gives the databases it creates beside `target`: `<target>_deckhand_<8 hex>` for the
 * replacement being restored, `<target>_deckhand_previous_<UTC time>` for the replaced one it keeps. The
 * target's part is shortened so that neither passes 63 bytes: PostgreSQL would cut it, and two names
 * could then become one.
 */
export function freshName(target: string): string {
  return `${clipBytes(target, FRESH_STEM)}_deckhand_${randomBytes(4).toString('hex')}`
}

export function previousName(target: string, stamp: string, n = 1): string {
  return `${clipBytes(target, PREVIOUS_STEM)}_deckhand_previous_${stamp}${n > 1 ? `_${n}` : ''}`
}

/**
 * The comment a replacement carries while it is being restored: it tells a later restore of the same target
 * that a database left behind (the restore was killed) is deckhand's own, to drop.
 */
export function restoreMarker(target: string): string {
  return `deckhand: restore of ${target} in progress; a later restore of ${target} drops it if it was left behind`
}

/** Databases earlier restores of `target` left: replacements never swapped in, and replaced databases kept. */
export interface Leftovers {
  /** Marked replacements nobody is connected to: abandoned, deckhand's to drop. */
  abandoned: string[]
  /** Marked replacements with sessions: another restore of the same target may be running. */
  inUse: string[]
  /** Named like a replacement but unmarked (the restore stopped between creating and marking it). */
  unmarked: string[]
  /** Replaced databases kept by earlier restores. */
  previous: string[]
}

export async function findLeftovers(session: PsqlSession, target: string): Promise<Leftovers> {
  const stem = clipBytes(target, PREVIOUS_STEM)
  const rows = await session.json<{ name: string; comment: string | null; sessions: number }[]>(
    `SELECT coalesce(json_agg(json_build_object(
       'name', d.datname,
       'comment', shobj_description(d.oid, 'pg_database'),
       'sessions', (SELECT count(*) FROM pg_stat_activity a WHERE a.datid = d.oid))
       ORDER BY d.datname), '[]')
     FROM pg_database d
     WHERE left(d.datname, ${[...stem].length}) = ${literal(stem)} AND d.datname LIKE '%\\_deckhand\\_%'`,
  )
  const out: Leftovers = { abandoned: [], inUse: [], unmarked: [], previous: [] }
  const marker = restoreMarker(target)
  for (const row of rows) {
    if (row.name === target) continue
    if (FRESH_SUFFIX.test(row.name) && row.name.replace(FRESH_SUFFIX, '') === clipBytes(target, FRESH_STEM)) {
      if (row.comment !== marker) out.unmarked.push(row.name)
      else if (row.sessions > 0) out.inUse.push(row.name)
      else out.abandoned.push(row.name)
    } else if (PREVIOUS_SUFFIX.test(row.name) && row.name.replace(PREVIOUS_SUFFIX, '') === stem) {
      out.previous.push(row.name)
    }
  }
  return out
}

export async function databaseNames(session: PsqlSession, names: readonly string[]): Promise<Set<string>> {
  if (names.length === 0) return new Set()
  const found = await session.json<string[]>(
    `SELECT coalesce(json_agg(datname), '[]') FROM pg_database WHERE datname IN (${names.map(literal).join(', ')})`,
  )
  return new Set(found)
}

/** List-valued settings whose elements are quoted one by one (pg_dump's list of GUC_LIST_QUOTE variables). */
const LIST_QUOTE_SETTINGS = new Set([
  'local_preload_libraries',
  'search_path',
  'session_preload_libraries',
  'shared_preload_libraries',
  'temp_tablespaces',
  'unix_socket_directories',
])

/** `"$user", public` -> ['$user', 'public']: a list setting as PostgreSQL stores it, split into its elements. */
export function splitSettingList(value: string): string[] {
  const out: string[] = []
  let i = 0
  while (i < value.length) {
    while (value[i] === ' ') i++
    let element = ''
    if (value[i] === '"') {
      for (i++; i < value.length; i++) {
        if (value[i] === '"') {
          if (value[i + 1] !== '"') break
          i++
        }
        element += value[i]
      }
      i++
      while (i < value.length && value[i] !== ',') i++
    } else {
      while (i < value.length && value[i] !== ',') element += value[i++]
      element = element.trim()
    }
    out.push(element)
    i++
  }
  return out
}

/** `SET name = value` for one stored `name=value` setting, the value quoted as PostgreSQL reads it back. */
function setClause(setting: string): string {
  const eq = setting.indexOf('=')
  const name = setting.slice(0, eq)
  const value = setting.slice(eq + 1)
  const values = LIST_QUOTE_SETTINGS.has(name.toLowerCase()) ? splitSettingList(value) : [value]
  return `SET ${quoteIdent(name)} = ${values.map(literal).join(', ')}`
}

/**
 * CREATE DATABASE `name` like `like`: same owner, encoding, locale, tablespace and connection limit, from
 * template0 (an empty database whatever template1 holds). CREATE DATABASE cannot run in a transaction.
 */
export function createLikeSql(name: string, like: DatabaseProperties): string {
  const options = [
    `OWNER = ${quoteIdent(like.owner)}`,
    'TEMPLATE = template0',
    `ENCODING = ${literal(like.encoding)}`,
    `LC_COLLATE = ${literal(like.collate)}`,
    `LC_CTYPE = ${literal(like.ctype)}`,
  ]
  const provider = { c: 'libc', i: 'icu', b: 'builtin' }[like.localeProvider ?? '']
  if (provider) options.push(`LOCALE_PROVIDER = ${provider}`)
  if (provider === 'icu' && like.locale) options.push(`ICU_LOCALE = ${literal(like.locale)}`)
  if (provider === 'builtin' && like.locale) options.push(`BUILTIN_LOCALE = ${literal(like.locale)}`)
  if (provider === 'icu' && like.icuRules) options.push(`ICU_RULES = ${literal(like.icuRules)}`)
  if (like.tablespace) options.push(`TABLESPACE = ${quoteIdent(like.tablespace)}`)
  options.push(`CONNECTION LIMIT = ${like.connectionLimit}`)
  return `CREATE DATABASE ${quoteIdent(name)} WITH ${options.join(' ')}`
}

/**
 * What a database carries besides its content and CREATE DATABASE's options: its privileges and settings
 * (Kong's role may connect through a grant alone, and a setting such as search_path decides what it finds).
 * pg_restore without --create restores neither, so the replacement takes them from the database it replaces.
 */
export function copyPropertiesSql(name: string, like: DatabaseProperties): string[] {
  const db = quoteIdent(name)
  const out: string[] = []
  if (like.grants) {
    out.push(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`)
    for (const g of like.grants) {
      const grantee = g.grantee === null ? 'PUBLIC' : quoteIdent(g.grantee)
      out.push(
        `GRANT ${g.privilege} ON DATABASE ${db} TO ${grantee}${g.grantable ? ' WITH GRANT OPTION' : ''}`,
      )
    }
  }
  for (const { role, config } of like.settings) {
    for (const setting of config) {
      out.push(
        role === null
          ? `ALTER DATABASE ${db} ${setClause(setting)}`
          : `ALTER ROLE ${quoteIdent(role)} IN DATABASE ${db} ${setClause(setting)}`,
      )
    }
  }
  return out
}

/**
 * Ends the other sessions on `database` that this role may end (its own roles', or any but superusers' with
 * pg_signal_backend, or all as a superuser), then renames `database` to `previous` and `fresh` to `database`
 * in one transaction: both renames happen, or neither. A rename waits up to 5 seconds for ended sessions to
 * go and fails if any remain, and from the first rename on new connections wait for the transaction.
 */
export function swapSql(database: string, fresh: string, previous: string, comment: string | null): string {
  return [
    'BEGIN',
    `SELECT count(pg_terminate_backend(a.pid)) FROM pg_stat_activity a
     WHERE a.datname = ${literal(database)} AND a.pid <> pg_backend_pid() AND a.backend_type = 'client backend'
       AND ((SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
            OR pg_has_role(a.usesysid, 'USAGE')
            OR (pg_has_role('pg_signal_backend', 'USAGE')
                AND NOT coalesce((SELECT rolsuper FROM pg_roles WHERE oid = a.usesysid), false)))`,
    `ALTER DATABASE ${quoteIdent(database)} RENAME TO ${quoteIdent(previous)}`,
    `ALTER DATABASE ${quoteIdent(fresh)} RENAME TO ${quoteIdent(database)}`,
    // The replacement's marker goes; the replaced database's comment comes with its name.
    `COMMENT ON DATABASE ${quoteIdent(database)} IS ${comment === null ? 'NULL' : literal(comment)}`,
    'COMMIT',
  ].join(';\n')
}

/** Who is connected to a database (but this session): for a message when it cannot be renamed. */
export async function sessionsOn(session: PsqlSession, database: string): Promise<string[]> {
  return session.json<string[]>(
    `SELECT coalesce(json_agg(format('%s (%s): %s', coalesce(usename, '?'), coalesce(nullif(application_name, ''), backend_type), n)), '[]')
     FROM (SELECT usename, application_name, backend_type, count(*) AS n FROM pg_stat_activity
           WHERE datname = ${literal(database)} AND pid <> pg_backend_pid()
           GROUP BY 1, 2, 3 ORDER BY 1, 2, 3) s`,
  )
}
