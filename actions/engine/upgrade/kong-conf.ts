import { LTS_LINES, type LtsLine } from '../deck/version.js'
import { InputError } from '../errors.js'
import { emptyReport, type Report } from '../report.js'
import { detectSecret, isCredentialName, looksLikeCredentialValue } from '../secrets/detectors.js'
import data from './kong-conf-changes.json' with { type: 'json' }
import type { KongConfSetting, ParsedKongConf } from './kong-conf-parse.js'

/**
 * What an LTS upgrade changes in the operator's kong.conf: the settings they set that a later line removes
 * or renames, the settings they leave alone whose default changes, and names no Kong line knows (typos).
 * The facts come from kong-conf-changes.json, generated from Kong's configuration references and its
 * open-source conf_loader (script/kong-conf-changes.mjs).
 */

interface LineData {
  releases: string[]
  sources: string[]
  settings: Record<string, string | null>
  aliases: Record<string, string>
  /** Where each alias is read from (file@tag). */
  aliasSources: Record<string, string>
  dynamicPrefixes: string[]
  /** Names under a dynamic prefix that Kong does not inject. */
  dynamicIgnored: string[]
  undocumented: string[]
}
interface HopData {
  from: string
  to: string
  removed: { name: string; source: string }[]
  renamed: { name: string; replacement: string; source: string }[]
  defaultChanged: { name: string; from: string | null; to: string | null; source: string }[]
}
export interface KongConfData {
  sensitive: string[]
  lines: Record<string, LineData>
  hops: HopData[]
}

export const KONG_CONF_DATA = data as KongConfData

const SECRET = '(secret, not shown)'
const shown = (value: string | null): string => (value === null || value === '' ? '(none)' : `\`${value}\``)

export interface RemovedSetting {
  name: string
  /** The value as a report may show it: secrets are marked, never shown. */
  value: string
  /** The hop that removed it: `2.8 → 3.4`. */
  hop: string
  origin: string
  /** What Kong of the line before advised using instead, for a deprecated alias. */
  replacement?: string
  source: string
}
export interface RenamedSetting {
  name: string
  replacement: string
  /** The value as a report may show it: secrets are marked, never shown. */
  value: string
  hop: string
  origin: string
  source: string
}
export interface ChangedDefault {
  name: string
  from: string | null
  to: string | null
  /** Every hop that changed it on the way. */
  hops: string[]
  sources: string[]
}
export interface KongConfChanges {
  from: LtsLine
  to: LtsLine
  removed: RemovedSetting[]
  renamed: RenamedSetting[]
  defaultChanged: ChangedDefault[]
  /** Settings in neither line: Kong ignores them, often a typo. */
  unknown: KongConfSetting[]
  /** Lines and variables Kong ignores, from the parse. */
  ignored: string[]
  /** How many settings the operator set. */
  set: number
}

/** Whether a name is a setting of a line: documented, a deprecated alias, undocumented, or injected. */
export function isKnownSetting(line: LineData, name: string): boolean {
  if (name in line.settings || name in line.aliases || line.undocumented.includes(name)) return true
  return !line.dynamicIgnored.includes(name) && line.dynamicPrefixes.some((prefix) => name.startsWith(prefix))
}

/**
 * Whether a setting's value is a secret: Kong's own sensitive settings (CONF_SENSITIVE), credential names
 * (`*_password`, `*_token`, `*_secret`, …, the rule redaction uses), keys and `*_conf` JSON (session and
 * authentication settings hold secrets), and values that look like credentials whatever their name.
 */
export function isSecretSetting(
  setting: KongConfSetting,
  sensitive: readonly string[] = KONG_CONF_DATA.sensitive,
): boolean {
  const { name, value } = setting
  return (
    sensitive.includes(name) ||
    isCredentialName(name) ||
    /(?:^|_)(?:key|conf)$/.test(name) ||
    detectSecret(value) !== undefined ||
    looksLikeCredentialValue(value)
  )
}

function lineData(source: KongConfData, line: string): LineData {
  const found = source.lines[line]
  if (!found) throw new InputError(`Kong ${line} is not an LTS line deckhand knows: ${LTS_LINES.join(', ')}.`)
  return found
}

/** The LTS hops from one line to a later one. */
export function ltsHops(from: string, to: string, source: KongConfData = KONG_CONF_DATA): HopData[] {
  const start = LTS_LINES.indexOf(from as LtsLine)
  const end = LTS_LINES.indexOf(to as LtsLine)
  if (start === -1 || end === -1 || end <= start) {
    throw new InputError(
      `Cannot compare kong.conf from Kong ${from} to ${to}: give two LTS lines, the later second (${LTS_LINES.join(', ')}).`,
    )
  }
  return LTS_LINES.slice(start, end).map((line, i) => {
    const hop = source.hops.find((h) => h.from === line && h.to === LTS_LINES[start + i + 1])
    if (!hop)
      throw new InputError(`No kong.conf changes are known for Kong ${line} → ${LTS_LINES[start + i + 1]}.`)
    return hop
  })
}

/** The changes an upgrade from `from` to `to` brings to the given settings, hop by hop. */
export function kongConfChanges(
  conf: ParsedKongConf,
  from: string,
  to: string,
  source: KongConfData = KONG_CONF_DATA,
): KongConfChanges {
  const hops = ltsHops(from, to, source)
  const first = lineData(source, from)
  const last = lineData(source, to)
  const removed: RemovedSetting[] = []
  const renamed: RenamedSetting[] = []
  const unknown: KongConfSetting[] = []
  // Decided on the name the operator used, and kept when a rename moves the setting on.
  const secret = new Set<string>()
  const shownValue = (setting: KongConfSetting): string =>
    secret.has(setting.origin) || isSecretSetting(setting, source.sensitive) ? SECRET : shown(setting.value)
  // The operator's settings under the name each carries at the current hop (a rename moves it on).
  const current = new Map<string, KongConfSetting>()
  for (const setting of conf.settings.values()) {
    if (isSecretSetting(setting, source.sensitive)) secret.add(setting.origin)
    if (!isKnownSetting(first, setting.name) && !isKnownSetting(last, setting.name)) unknown.push(setting)
    else current.set(setting.name, setting)
  }
  let before = first
  const defaults = new Map<string, ChangedDefault>()
  for (const hop of hops) {
    const after = lineData(source, hop.to)
    const label = `${hop.from} → ${hop.to}`
    const removedHere = new Map(hop.removed.map((r) => [r.name, r]))
    for (const [name, setting] of [...current]) {
      const gone = removedHere.get(name)
      if (gone) {
        const replacement = before.aliases[name]
        removed.push({
          name,
          value: shownValue(setting),
          hop: label,
          origin: setting.origin,
          source: gone.source,
          ...(replacement && { replacement }),
        })
        current.delete(name)
        continue
      }
      const replacement = after.aliases[name]
      if (replacement) {
        renamed.push({
          name,
          replacement,
          value: shownValue(setting),
          hop: label,
          origin: setting.origin,
          source: after.aliasSources[name] ?? '',
        })
        current.delete(name)
        if (!current.has(replacement)) current.set(replacement, { ...setting, name: replacement })
      }
    }
    for (const change of hop.defaultChanged) {
      if (current.has(change.name)) continue
      const seen = defaults.get(change.name)
      if (seen) {
        seen.to = change.to
        seen.hops.push(label)
        seen.sources.push(change.source)
      } else {
        defaults.set(change.name, {
          name: change.name,
          from: change.from,
          to: change.to,
          hops: [label],
          sources: [change.source],
        })
      }
    }
    before = after
  }
  const defaultChanged = [...defaults.values()]
    .filter((d) => d.from !== d.to && d.name in last.settings)
    .sort((a, b) => a.name.localeCompare(b.name))
  return {
    from: from as LtsLine,
    to: to as LtsLine,
    removed,
    renamed,
    defaultChanged,
    unknown: unknown.sort((a, b) => a.name.localeCompare(b.name)),
    ignored: conf.ignored,
    set: conf.settings.size,
  }
}

/** The changes as a report: what to act on first, then the defaults that move under the operator. */
export function kongConfReport(changes: KongConfChanges): Report {
  const report = emptyReport(`kong.conf: Kong ${changes.from} → ${changes.to}`)
  const { removed, renamed, defaultChanged, unknown } = changes
  report.lines.push(
    `${removed.length} removed, ${renamed.length} renamed, ${defaultChanged.length} defaults changed, ` +
      `${unknown.length} unknown (of ${changes.set} settings set).`,
  )
  if (removed.length > 0) {
    report.tables.push({
      caption: `Removed: Kong ${changes.to} no longer reads these`,
      header: ['setting', 'value', 'set in', 'removed by', 'instead', 'source'],
      rows: removed.map((r) => [r.name, r.value, r.origin, r.hop, r.replacement ?? '', r.source]),
    })
  }
  if (renamed.length > 0) {
    report.tables.push({
      caption: 'Renamed: set the new name instead',
      header: ['setting', 'new name', 'value', 'set in', 'since', 'source'],
      rows: renamed.map((r) => [r.name, r.replacement, r.value, r.origin, r.hop, r.source]),
    })
  }
  if (defaultChanged.length > 0) {
    report.tables.push({
      caption: 'Defaults changed for settings left unset: set the old value to keep the old behaviour',
      header: ['setting', 'default before', 'default after', 'changed by', 'source'],
      rows: defaultChanged.map((d) => [
        d.name,
        shown(d.from),
        shown(d.to),
        d.hops.join(', '),
        d.sources.join('; '),
      ]),
    })
  }
  if (unknown.length > 0) {
    report.tables.push({
      caption: `Unknown to Kong ${changes.from} and ${changes.to}: Kong ignores these (a typo?)`,
      header: ['setting', 'set in'],
      rows: unknown.map((u) => [u.name, u.origin]),
    })
  }
  for (const message of changes.ignored) report.annotations.push({ level: 'warning', message })
  return report
}
