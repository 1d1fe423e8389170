// Generates actions/engine/upgrade/kong-conf-changes.json: the kong.conf settings of each Kong LTS line
// (2.8, 3.4, 3.10, 3.14) with their documented defaults and deprecated aliases, and per LTS hop the settings
// removed, renamed and changed in default. Facts only (names, defaults, replacements); no code is taken from
// the sources.
//
//   node script/kong-conf-changes.mjs --kong <Kong/kong checkout> --docs <Kong/developer.konghq.com checkout> \
//     --legacy-docs <Kong/docs.konghq.com checkout>
//   node script/kong-conf-changes.mjs ... --check   (fails when the committed file differs)
//
// The checkouts need their history (tags and old commits are read with `git show`), not a work tree.
//
// Sources, all public:
// - Kong's configuration reference (`--docs`): `app/_data/kong-conf/<line>.json` for 3.4, 3.10 and 3.14, which
//   Kong generates from the Enterprise `kong.conf.default` (names, defaults, descriptions; a deprecated
//   setting says "Deprecated: use `x` instead"), and `app/_data/changelogs/gateway.json` for the releases of
//   each line.
// - Kong's 2.8 configuration reference (`--legacy-docs`): `app/gateway/2.8.x/reference/configuration.md` at
//   the last commit that holds it (the old docs site), Enterprise settings included, and Kong/kong's
//   `kong.conf.default` at the 2.8 tag for the open-source ones.
// - Kong's open-source tree (`--kong`): `kong/conf_loader/{init,constants}.lua` at each open-source tag of a
//   line (`alias`/`deprecated` with a `replacement` in CONF_PARSERS, and DYNAMIC_KEY_NAMESPACES) and
//   `kong/templates/kong_defaults.lua` (every setting Kong reads, documented or not). Kong publishes no
//   open-source tag for 3.10 or 3.14; the default branch, whose kong/meta.lua says 3.10, stands for 3.10.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const output = join(root, 'actions/engine/upgrade/kong-conf-changes.json')

export const LINES = ['2.8', '3.4', '3.10', '3.14']
const LEGACY_REFERENCE = 'app/gateway/2.8.x/reference/configuration.md'

// Parsers of the sources, pure so that tests can feed them small inputs -------------------------------------

/** One default as the docs site's generator writes it (string, list split at commas, or null), as a string. */
export function normaliseDefault(value) {
  if (value === null || value === undefined) return null
  const text = (Array.isArray(value) ? value.join(',') : String(value))
    .split(',')
    .map((part) => part.trim())
    .join(', ')
  return text === '' || text === 'none' ? null : text
}

/** `Deprecated: use `x` instead` in a setting's description, as the 3.x reference marks an alias. */
export function deprecationReplacement(description) {
  return /Deprecated:\s*use\s+`?([a-z][a-z0-9_]*)`?\s+instead/i.exec(description ?? '')?.[1]
}

/**
 * Settings, defaults and aliases of one `app/_data/kong-conf/<line>.json`, and the namespaces of injected
 * Nginx directives its "NGINX injected directives" section lists (`nginx_http_<directive>`, …).
 */
export function parseConfJson(text) {
  const conf = JSON.parse(text)
  const params = conf.params ?? {}
  const settings = {}
  const aliases = {}
  for (const [name, param] of Object.entries(params)) {
    settings[name] = normaliseDefault(param.defaultValue)
    const replacement = deprecationReplacement(param.description)
    if (replacement && replacement !== name) aliases[name] = replacement
  }
  const injected = (conf.sections ?? []).find((s) => /injected directives/i.test(s.title ?? ''))
  const dynamicPrefixes = [
    ...new Set([...(injected?.description ?? '').matchAll(/`(nginx_[a-z]+_)<directive>`/g)].map((m) => m[1])),
  ].sort()
  return { settings, aliases, dynamicPrefixes }
}

/**
 * Settings and defaults of the old docs site's configuration reference: a `#### name` heading followed by
 * `**Default:** `value`` (or `none`), and the datastore tables' rows `**name** | description | `default``.
 */
export function parseLegacyReference(text) {
  const settings = {}
  let current
  for (const line of text.split('\n')) {
    const heading = /^#### ([a-z][a-z0-9_]*)\s*$/.exec(line)
    if (heading) {
      current = heading[1]
      settings[current] = null
      continue
    }
    if (/^#{1,4} /.test(line)) current = undefined
    const dflt = /^\*\*Default:\*\*\s*(.*)$/.exec(line)
    if (dflt && current) {
      settings[current] = normaliseDefault(dflt[1].replace(/^`(.*)`$/, '$1'))
      current = undefined
      continue
    }
    const row = /^\*\*([a-z][a-z0-9_]*)\*\*\s*\|.*\|\s*(.*?)\s*$/.exec(line)
    if (row) settings[row[1]] = normaliseDefault(row[2].replace(/^`(.*)`$/, '$1'))
  }
  return settings
}

/** Settings and defaults of a `kong.conf.default`: `#name = value  # comment`, as the docs site reads it. */
export function parseConfDefault(text) {
  const settings = {}
  for (const line of text.split('\n')) {
    const m = /^#([a-z][a-z0-9_]*) =(\s[^#\n]*|)(#.*)?$/.exec(line)
    if (m) settings[m[1]] = normaliseDefault(m[2].trim())
  }
  return settings
}

/** Names set in `kong_defaults.lua` (one `name = value` a line inside the returned long string). */
export function parseKongDefaults(text) {
  return [...text.matchAll(/^([a-z][a-z0-9_]*)\s*=/gm)].map((m) => m[1])
}

/** CONF_PARSERS entries with an `alias` or `deprecated` table naming a `replacement`. */
export function parseConfParsers(text) {
  const aliases = {}
  let key
  for (const line of text.split('\n')) {
    const entry = /^ {2}([a-z][a-z0-9_]*) = \{/.exec(line)
    if (entry) key = entry[1]
    const replacement = /^\s+replacement = "([a-z][a-z0-9_]*)"/.exec(line)
    if (replacement && key) aliases[key] = replacement[1]
  }
  return aliases
}

/** Prefixes of DYNAMIC_KEY_NAMESPACES (`nginx_http_`, …): any name under them is a setting. */
export function parseDynamicPrefixes(text) {
  const start = text.indexOf('DYNAMIC_KEY_NAMESPACES = {')
  if (start === -1) return []
  const block = text.slice(start, text.indexOf('\n}', start))
  return [...new Set([...block.matchAll(/prefix = "([a-z0-9_]+)"/g)].map((m) => m[1]))].sort()
}

/**
 * Names under a dynamic prefix that Kong does not inject (a namespace's `ignore` table, such as
 * `nginx_http_upstream_keepalive`): Kong reads them as nothing.
 */
export function parseDynamicIgnored(text) {
  const start = text.indexOf('DYNAMIC_KEY_NAMESPACES = {')
  if (start === -1) return []
  const ignored = []
  let prefix
  let inIgnore = false
  for (const line of text.slice(start, text.indexOf('\n}', start)).split('\n')) {
    prefix = /prefix = "([a-z0-9_]+)"/.exec(line)?.[1] ?? prefix
    if (/ignore = \{/.test(line)) inIgnore = true
    else if (inIgnore && /^\s*\},?\s*$/.test(line)) inIgnore = false
    const name = inIgnore && /^\s+([a-z][a-z0-9_]*)\s*= true/.exec(line)?.[1]
    if (name && prefix) ignored.push(prefix + name)
  }
  return ignored
}

/** Names in CONF_SENSITIVE: settings whose values Kong itself never logs. */
export function parseSensitive(text) {
  const start = text.indexOf('CONF_SENSITIVE = {')
  if (start === -1) return []
  const block = text.slice(start, text.indexOf('\n}', start))
  return [...block.matchAll(/^\s+([a-z][a-z0-9_]*) = true/gm)].map((m) => m[1])
}

/** Whether `name` is a setting of a line: documented, an alias, or under a dynamic prefix Kong injects. */
export function knownIn(line, name) {
  if (name in line.settings || name in line.aliases) return true
  return (
    !(line.dynamicIgnored ?? []).includes(name) &&
    line.dynamicPrefixes.some((prefix) => name.startsWith(prefix))
  )
}

/** The changes from one line to the next. */
export function hopChanges(from, to, fromName, toName) {
  const ref = (line, name) => line.refs[name] ?? line.refs.settings
  const removed = []
  for (const name of [...Object.keys(from.settings), ...Object.keys(from.aliases)].sort()) {
    if (knownIn(to, name) || removed.some((r) => r.name === name)) continue
    removed.push({ name, source: `${ref(from, name)} → ${to.refs.settings}` })
  }
  const renamed = Object.keys(to.aliases)
    .filter((name) => from.aliases[name] !== to.aliases[name])
    .sort()
    .map((name) => ({ name, replacement: to.aliases[name], source: to.refs[name] ?? to.refs.settings }))
  const defaultChanged = Object.keys(to.settings)
    .filter((name) => name in from.settings && from.settings[name] !== to.settings[name])
    .sort()
    .map((name) => ({
      name,
      from: from.settings[name],
      to: to.settings[name],
      source: `${from.refs.settings} → ${to.refs.settings}`,
    }))
  return { from: fromName, to: toName, removed, renamed, defaultChanged }
}

// Reading the checkouts -------------------------------------------------------------------------------------

function git(dir, ...args) {
  return execFileSync('git', ['-C', dir, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'ignore'],
  })
}
const show = (dir, rev, path) => git(dir, 'show', `${rev}:${path}`)
const short = (commit) => commit.slice(0, 10)
const byVersion = (a, b) =>
  a
    .split('.')
    .map(Number)
    .reduce((d, n, i) => d || n - Number(b.split('.')[i] ?? 0), 0)

function main() {
  const args = process.argv.slice(2)
  const option = (name) => {
    const i = args.indexOf(name)
    return i === -1 ? undefined : args[i + 1]
  }
  const kongDir = option('--kong')
  const docsDir = option('--docs')
  const legacyDir = option('--legacy-docs')
  const check = args.includes('--check')
  if (!kongDir || !docsDir || !legacyDir) {
    console.error(
      'usage: node script/kong-conf-changes.mjs --kong <Kong/kong> --docs <Kong/developer.konghq.com> --legacy-docs <Kong/docs.konghq.com> [--check]',
    )
    process.exit(2)
  }
  const docsCommit = git(docsDir, 'rev-parse', 'HEAD').trim()
  const kongHead = git(kongDir, 'rev-parse', 'HEAD').trim()
  const tags = git(kongDir, 'tag', '--list').split('\n').filter(Boolean)
  const changelog = Object.keys(JSON.parse(show(docsDir, docsCommit, 'app/_data/changelogs/gateway.json')))
  const metaVersion = (() => {
    const meta = show(kongDir, kongHead, 'kong/meta.lua')
    const part = (n) => meta.match(new RegExp(`${n}\\s*=\\s*(\\d+)`))?.[1]
    return `${part('major')}.${part('minor')}`
  })()

  /** The newest open-source tag of a line, or the default branch when it is that line. */
  function kongRef(line) {
    const lineTags = tags.filter((t) => t.startsWith(`${line}.`) && /^\d+\.\d+\.\d+$/.test(t)).sort(byVersion)
    if (lineTags.length > 0) return { rev: lineTags.at(-1), label: lineTags.at(-1) }
    return metaVersion === line ? { rev: kongHead, label: short(kongHead) } : undefined
  }

  /** What Kong's open-source loader of a line accepts: aliases, dynamic prefixes, undocumented names. */
  function readLoader(kong) {
    const loader = {
      aliases: {},
      refs: {},
      dynamicPrefixes: [],
      dynamicIgnored: [],
      undocumented: [],
      sources: [],
    }
    for (const file of ['kong/conf_loader/init.lua', 'kong/conf_loader/constants.lua']) {
      if (!git(kongDir, 'ls-tree', '--name-only', kong.rev, '--', file).trim()) continue
      const text = show(kongDir, kong.rev, file)
      const found = parseConfParsers(text)
      for (const [name, replacement] of Object.entries(found)) {
        loader.aliases[name] = replacement
        loader.refs[name] = `${file}@${kong.label}`
      }
      if (Object.keys(found).length > 0) loader.sources.push(`${file}@${kong.label}`)
      loader.dynamicPrefixes = loader.dynamicPrefixes.concat(parseDynamicPrefixes(text))
      loader.dynamicIgnored = loader.dynamicIgnored.concat(parseDynamicIgnored(text))
      for (const name of parseSensitive(text)) sensitive.add(name)
    }
    loader.undocumented = parseKongDefaults(show(kongDir, kong.rev, 'kong/templates/kong_defaults.lua'))
    loader.sources.push(`kong/templates/kong_defaults.lua@${kong.label}`)
    return loader
  }

  const sensitive = new Set()
  const lines = {}
  let previousLoader
  for (const line of LINES) {
    const refs = {}
    let settings
    let aliases = {}
    let dynamicPrefixes = []
    let dynamicIgnored = []
    const sources = []
    if (line === '2.8') {
      const legacyCommit = git(legacyDir, 'rev-list', '-1', 'HEAD', '--', LEGACY_REFERENCE).trim()
      // The old site has been retired: the last commit touching the reference deletes it, so read its parent.
      const legacyRev = git(legacyDir, 'ls-tree', '--name-only', legacyCommit, '--', LEGACY_REFERENCE).trim()
        ? legacyCommit
        : `${legacyCommit}^`
      const legacyAt = short(git(legacyDir, 'rev-parse', legacyRev).trim())
      settings = parseLegacyReference(show(legacyDir, legacyRev, LEGACY_REFERENCE))
      refs.settings = `${LEGACY_REFERENCE}@${legacyAt}`
    } else {
      const path = `app/_data/kong-conf/${line}.json`
      ;({ settings, aliases, dynamicPrefixes } = parseConfJson(show(docsDir, docsCommit, path)))
      refs.settings = `${path}@${short(docsCommit)}`
      for (const name of Object.keys(aliases)) refs[name] = refs.settings
    }
    sources.push(refs.settings)
    const kong = kongRef(line)
    if (kong && line === '2.8') {
      const path = 'kong.conf.default'
      for (const [name, value] of Object.entries(parseConfDefault(show(kongDir, kong.rev, path)))) {
        if (name in settings) continue
        settings[name] = value
        refs[name] = `${path}@${kong.label}`
      }
      sources.push(`${path}@${kong.label}`)
    }
    // A line without an open-source tree (3.14) keeps the aliases of the line before it: Kong's reference
    // does not list them all, so their absence there says nothing of their removal.
    const loader = kong ? readLoader(kong) : undefined
    const aliasesFrom = loader ?? previousLoader
    if (aliasesFrom) {
      const inherited = loader ? '' : ` (aliases, as for ${previousLoader.line})`
      for (const [name, replacement] of Object.entries(aliasesFrom.aliases)) {
        aliases[name] ??= replacement
        refs[name] ??= aliasesFrom.refs[name] + inherited
      }
      for (const source of aliasesFrom.sources)
        if (loader || !source.includes('kong_defaults')) sources.push(source + inherited)
    }
    if (loader) {
      dynamicPrefixes = [...new Set([...dynamicPrefixes, ...loader.dynamicPrefixes])].sort()
      dynamicIgnored = [...new Set(loader.dynamicIgnored)].sort()
      previousLoader = { ...loader, line }
    }
    const undocumented = (loader?.undocumented ?? []).filter(
      (name) => !(name in settings) && !(name in aliases),
    )
    const releases = [
      ...new Set([
        ...tags.filter((t) => t.startsWith(`${line}.`) && /^\d+\.\d+\.\d+$/.test(t)),
        ...changelog.filter((v) => v.startsWith(`${line}.`)),
      ]),
    ].sort(byVersion)
    lines[line] = {
      releases,
      sources,
      settings: Object.fromEntries(
        Object.keys(settings)
          .sort()
          .map((k) => [k, settings[k]]),
      ),
      aliases: Object.fromEntries(
        Object.keys(aliases)
          .sort()
          .map((k) => [k, aliases[k]]),
      ),
      aliasSources: Object.fromEntries(
        Object.keys(aliases)
          .sort()
          .map((k) => [k, refs[k] ?? refs.settings]),
      ),
      dynamicPrefixes,
      dynamicIgnored,
      undocumented: [...new Set(undocumented)].sort(),
      refs,
    }
  }

  const hops = LINES.slice(1).map((to, i) => hopChanges(lines[LINES[i]], lines[to], LINES[i], to))
  for (const line of Object.values(lines)) delete line.refs
  const result = {
    $comment: "Generated by script/kong-conf-changes.mjs from Kong's sources; regenerate, do not edit.",
    sources: { kong: kongHead, docs: docsCommit, legacyDocs: git(legacyDir, 'rev-parse', 'HEAD').trim() },
    sensitive: [...sensitive].sort(),
    lines,
    hops,
  }
  const text = `${JSON.stringify(result, null, 2)}\n`
  if (check) {
    const current = existsSync(output) ? readFileSync(output, 'utf8') : ''
    if (current !== text) {
      console.error(`${output} is out of date: run this script without --check`)
      process.exit(1)
    }
  } else writeFileSync(output, text)
  console.log(
    `kong-conf-changes.json: ${LINES.map((l) => `${l} ${Object.keys(lines[l].settings).length} settings`).join(', ')}; ` +
      hops
        .map(
          (h) =>
            `${h.from}→${h.to} ${h.removed.length} removed, ${h.renamed.length} renamed, ${h.defaultChanged.length} defaults`,
        )
        .join('; '),
  )
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main()
