/**
 * The session time zone of a restore. pg_restore computes generated columns again, and one whose expression goes
 * through timestamptz (Kestra's executions.start_date: a TIMESTAMP read from JSON text) depends on the session's
 * TimeZone, so a restore in another zone than the source's shifts it. The restore therefore runs in the zone
 * db-dump recorded, handed to the tools as PGTZ, unless the user chose one.
 */

export interface SessionTimeZone {
  /** The zone the restore runs in; undefined: the target's default (a backup that records none). */
  zone?: string
  /** Who chose it: the backup's manifest, the user (PGTZ, or TimeZone in PGOPTIONS), or nobody. */
  source: 'backup' | 'PGTZ' | 'PGOPTIONS' | 'server'
  /** What the tools' environment gets: PGTZ when the zone is the backup's, nothing when it is the user's. */
  env: Record<string, string>
}

/** `-c timezone=X`, `-ctimezone=X` or `--timezone=X` in libpq's connection options. */
const OPTIONS_TIME_ZONE = /(?:^|\s)(?:-c\s*|--)timezone=(\S+)/i

/**
 * The zone a restore runs in: the user's PGTZ, else a TimeZone in the connection options (which a PGTZ set here
 * would override, libpq sending it later), else the one the backup recorded, else the target's default.
 */
export function sessionTimeZone(
  recorded: string | undefined,
  inherited: { PGTZ?: string; PGOPTIONS?: string },
): SessionTimeZone {
  if (inherited.PGTZ) return { zone: inherited.PGTZ, source: 'PGTZ', env: {} }
  const option = OPTIONS_TIME_ZONE.exec(inherited.PGOPTIONS ?? '')?.[1]
  if (option) return { zone: option, source: 'PGOPTIONS', env: {} }
  if (recorded) return { zone: recorded, source: 'backup', env: { PGTZ: recorded } }
  return { source: 'server', env: {} }
}

/** The zone and why, for the log and the summary; targetDefault is what a new session on the target gets. */
export function describeTimeZone(
  tz: SessionTimeZone,
  recorded: string | undefined,
  targetDefault: string,
): string {
  if (tz.source === 'server') return `${targetDefault}, the target's default: the backup records no time zone`
  if (tz.source === 'backup') {
    const other = targetDefault !== tz.zone ? `; the target's default is ${targetDefault}` : ''
    return `${tz.zone}, the source's, recorded at dump time${other}`
  }
  const dumped = !recorded
    ? 'the backup records none'
    : recorded === tz.zone
      ? 'as at dump time'
      : `the backup was dumped in ${recorded}`
  return `${tz.zone}, from ${tz.source} (${dumped})`
}

/** Why rows may differ after a restore in another zone than the dump's, or undefined when the zones agree. */
export function timeZoneHint(tz: SessionTimeZone, recorded: string | undefined): string | undefined {
  if (tz.source === 'backup') return undefined
  if (!recorded) {
    const ran = tz.source === 'server' ? "the target's default" : `${tz.zone} (${tz.source})`
    return `The backup records no time zone (an older db-dump) and the restore ran in ${ran}: if columns computed through the session's time zone differ, set PGTZ to the source's zone and restore again.`
  }
  if (recorded === tz.zone) return undefined
  return `The restore ran in time zone ${tz.zone} (${tz.source}), the dump in ${recorded}: columns computed through the session's time zone (a TIMESTAMP generated from text, say) come out shifted. Without ${tz.source === 'PGTZ' ? 'PGTZ' : 'the TimeZone option'}, the restore runs in ${recorded}.`
}
