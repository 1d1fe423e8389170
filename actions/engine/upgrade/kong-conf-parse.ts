import { InputError } from '../errors.js'

/**
 * kong.conf read as Kong reads it. Kong's conf_loader hands the file to Penlight's `pl.config.read` with
 * `smart = false` and `list_delim = "_blank_"` (Kong/kong kong/conf_loader/init.lua `load_config`, 2.8 to
 * 3.x), then strips trailing comments from every value (3.x `strip_comments`). Penlight
 * (lunarmodules/Penlight lua/pl/config.lua `config.lines`, `config.read`):
 *
 * - blank lines and lines whose first non-blank character is `#` or `;` are skipped;
 * - a line ending in `\` (white space after it allowed) continues on the next line that is not skipped;
 *   a continuation still open at the end of the file is dropped;
 * - a line starting with `[` opens a section: the keys after it land in a nested table, which Kong ignores;
 * - otherwise leading white space is dropped and the line splits at its first `=` (white space around it
 *   belongs to neither side); the key has every character other than a letter or digit turned into `_`
 *   (`variabilize`), the value is trimmed; a line without `=` is a bare value, which Kong ignores;
 * - a key given twice keeps its last value.
 *
 * Kong 3.x then removes from a value the first `#` not preceded by `\`, with the white space before it and
 * everything after it, and turns `\#` into `#`. (Kong 2.8 stripped comments later, with a rougher pattern
 * that also ate the character before `#`; both agree on `value # comment` and on `\#`.) Penlight also turns
 * values that read as numbers into numbers; the text is kept here, as only names decide a report.
 *
 * Environment variables: Kong reads `KONG_` followed by the setting's name in upper case (Kong/kong
 * kong/conf_loader/parse.lua `overrides`: `getenv("KONG_" .. upper(k))`), over the file's value.
 */

/** Kong's own kong.conf.default is about 110 KiB; a megabyte is room for any real file. */
export const MAX_KONG_CONF_BYTES = 1024 * 1024
export const MAX_KONG_CONF_LINE = 64 * 1024

/** Lua's `%s`, which Penlight's patterns use, is ASCII white space only. */
const WS = '[ \\t\\n\\v\\f\\r]'
const BLANK = new RegExp(`^${WS}*$`)
const COMMENT_LINE = new RegExp(`^${WS}*[;#]`)
const CONTINUATION = new RegExp(`\\\\${WS}*$`)
const ASSIGN = new RegExp(`${WS}*=${WS}*`)
const TRIM = new RegExp(`^${WS}+|${WS}+$`, 'g')
// ngx.re's `\s` (PCRE) is ASCII white space too.
const TRAILING_COMMENT = new RegExp(`${WS}*(?<!\\\\)#.*$`)

export interface KongConfSetting {
  name: string
  value: string
  /** Where the value comes from: `kong.conf:12` or `KONG_PG_HOST`. */
  origin: string
}

export interface ParsedKongConf {
  /** The settings as Kong ends up with them, by name; environment variables win over the file. */
  settings: Map<string, KongConfSetting>
  /** Lines and variables Kong ignores, for the operator to see. */
  ignored: string[]
}

/** Penlight's `variabilize`: anything but an ASCII letter or digit becomes `_`, byte by byte. */
function variabilize(key: string): string {
  return key.replace(/[^A-Za-z0-9]/g, (ch) => '_'.repeat(Buffer.byteLength(ch)))
}

/** A value as Kong 3.x keeps it: trailing comment removed, `\#` unescaped. */
export function stripComment(value: string): string {
  return value.replace(TRAILING_COMMENT, '').replaceAll('\\#', '#')
}

/** The settings of a kong.conf, parsed as Kong parses it (see above). */
export function parseKongConf(text: string, file = 'kong.conf'): ParsedKongConf {
  if (Buffer.byteLength(text) > MAX_KONG_CONF_BYTES) {
    throw new InputError(`${file} is larger than ${MAX_KONG_CONF_BYTES} bytes; a kong.conf is far smaller.`)
  }
  const settings = new Map<string, KongConfSetting>()
  const ignored: string[] = []
  const physical = text.split('\n')
  let pending = ''
  let pendingStart = 0
  let section: string | undefined
  for (let i = 0; i < physical.length; i++) {
    const raw = physical[i] ?? ''
    if (raw.length > MAX_KONG_CONF_LINE) {
      throw new InputError(`${file}:${i + 1} is longer than ${MAX_KONG_CONF_LINE} characters.`)
    }
    if (BLANK.test(raw) || COMMENT_LINE.test(raw)) continue
    const continued = CONTINUATION.exec(raw)
    if (continued) {
      if (pending === '') pendingStart = i + 1
      pending += raw.slice(0, continued.index)
      if (pending.length > MAX_KONG_CONF_LINE) {
        throw new InputError(`${file}:${pendingStart} is longer than ${MAX_KONG_CONF_LINE} characters.`)
      }
      continue
    }
    const lineNumber = pending === '' ? i + 1 : pendingStart
    const line = pending + raw
    pending = ''
    if (line.startsWith('[')) {
      section = /\[([^\]]+)\]/.exec(line)?.[1] ?? ''
      ignored.push(`${file}:${lineNumber}: section [${section}]: Kong ignores the settings in it`)
      continue
    }
    const stripped = line.replace(new RegExp(`^${WS}*`), '')
    const assign = ASSIGN.exec(stripped)
    if (!assign) {
      ignored.push(`${file}:${lineNumber}: no \`=\`, so Kong ignores the line`)
      continue
    }
    const name = variabilize(stripped.slice(0, assign.index))
    if (section !== undefined) continue
    if (name === '') {
      ignored.push(`${file}:${lineNumber}: no name before \`=\`, so Kong ignores the line`)
      continue
    }
    const value = stripComment(stripped.slice(assign.index + assign[0].length).replace(TRIM, ''))
    settings.set(name, { name, value, origin: `${file}:${lineNumber}` })
  }
  if (pending !== '') {
    ignored.push(`${file}:${pendingStart}: continued with \`\\\` up to the end of the file, so Kong drops it`)
  }
  return { settings, ignored }
}

/** The setting a `KONG_*` variable sets, or undefined when Kong reads no setting from it. */
export function settingOfEnv(name: string): string | undefined {
  const m = /^KONG_([A-Z0-9_]+)$/.exec(name)
  return m?.[1]?.toLowerCase()
}

/**
 * The kong.conf settings of an environment (`KONG_PG_HOST=…` sets `pg_host`), laid over a parsed file as
 * Kong does. `KONG_*` variables that are not in Kong's form (lower case letters) are listed as ignored.
 */
export function withEnvironment(
  conf: ParsedKongConf,
  env: Readonly<Record<string, string | undefined>>,
): ParsedKongConf {
  const settings = new Map(conf.settings)
  const ignored = [...conf.ignored]
  for (const [variable, value] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (value === undefined || !/^kong_/i.test(variable)) continue
    const name = settingOfEnv(variable)
    if (!name) {
      ignored.push(`${variable}: Kong reads KONG_ followed by a setting's name in upper case only`)
      continue
    }
    settings.set(name, { name, value, origin: variable })
  }
  return { settings, ignored }
}
