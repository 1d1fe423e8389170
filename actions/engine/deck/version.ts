import semver from 'semver'

import { DeckhandError } from '../errors.js'
import { inputName } from '../jobs/inputs.js'

/** The deck release deckhand is tested against and installs when no version is asked for. */
export const DEFAULT_DECK_VERSION = '1.65.1'
/** Oldest deck deckhand drives; older releases lack flags the product relies on. */
export const MIN_DECK_VERSION = '1.20.0'

/** What a given deck release can do, derived from its version (see deck's changelog). */
export interface DeckFeatures {
  version: string
  /** `deck gateway …` / `deck file …` exist (v1.28.0); older releases only have the legacy top-level commands. */
  gatewayCommands: boolean
  /** `--kong-admin-token` / DECK_KONG_ADMIN_TOKEN exist (v1.64.0); older releases need a Kong-Admin-Token header. */
  adminTokenEnv: boolean
  /** `diff`/`sync --json-output` exist (v1.24.0): deckhand reads plans and results only as JSON. */
  jsonOutput: boolean
  /**
   * Konnect control planes are served well (v1.40.0): "Konnect requires decK v1.40.0 or above. Versions below
   * this will see inconsistent deck gateway diff results" (developer.konghq.com deck/gateway/konnect-configuration).
   */
  konnect: boolean
  /** The Kong LTS format pairs `deck file convert` converts (deck convert/convert.go Convert), oldest first. */
  convertPairs: readonly ConvertPair[]
  /** The pairs this release converts wrongly: deckhand refuses to convert them with it. */
  convertDefects: readonly ConvertDefect[]
}

/** Kong Gateway LTS lines, oldest first (Kong's upgrade path 2.8 → 3.4 → 3.10 → 3.14). */
export const LTS_LINES = ['2.8', '3.4', '3.10', '3.14'] as const
export type LtsLine = (typeof LTS_LINES)[number]

export interface ConvertPair {
  from: LtsLine
  to: LtsLine
}

export interface ConvertDefect extends ConvertPair {
  /** The first release without the defect. */
  fixedIn: string
  /** What goes wrong, for the refusal. */
  defect: string
}

// The release that added each pair to deck's `file convert` (its --from/--to values and Convert's cases).
const CONVERT_PAIRS: readonly (ConvertPair & { since: string })[] = [
  { from: '2.8', to: '3.4', since: '1.47.0' },
  { from: '3.4', to: '3.10', since: '1.51.0' },
  { from: '3.10', to: '3.14', since: '1.56.0' },
]

// Releases whose conversion of a pair fails or silently loses configuration, from Kong/deck's sources at each
// tag. Not listed: the pre-1.58.0 legacy-field rule in 3.4 → 3.10 (plugin_updates_310.go), as a Kong 3.4 state
// holds none of the new fields it could replace: redis.cluster_nodes/sentinel_nodes came with Kong 3.8.0.0
// (developer.konghq.com/plugins/proxy-cache-advanced/changelog) and the AI plugins with 3.6 (Kong/kong 3.4.2
// has no kong/plugins/ai-*).
const CONVERT_DEFECTS: readonly (ConvertDefect & { since: string })[] = [
  {
    from: '2.8',
    to: '3.4',
    since: '1.47.0',
    fixedIn: '1.51.0',
    // convert/convert.go and lint/lint.go at v1.47.0: lint.Lint(input, "convert/rulesets/280-to-340/entrypoint.yaml").
    defect:
      "deck 1.47.0–1.50.x read their 2.8 → 3.4 lint rules from convert/rulesets/ relative to the working directory, so outside deck's source tree the conversion fails with 'error reading ruleset file' and writes nothing",
  },
  {
    from: '2.8',
    to: '3.4',
    since: '1.47.0',
    fixedIn: '1.58.0',
    // convert/plugin_updates.go updateLegacyFieldToNewField before v1.58.0; Kong 2.8 pre-function/_schema.lua
    // gives the deprecated `functions` field a default of {}, so every 2.8 pre/post-function carries it.
    defect:
      'deck before 1.58.0 replaces a plugin field with its legacy one even when the legacy one is empty, so the `access` code of every pre-function and post-function (stored by Kong 2.8 next to an empty `functions` list) is silently dropped',
  },
  {
    from: '3.10',
    to: '3.14',
    since: '1.56.0',
    fixedIn: '1.57.3',
    // convert/plugin_updates_314.go sslVerifyPlugins at v1.56.0–v1.57.2, replaced by per-field setters in v1.57.3.
    defect:
      'deck 1.56.0–1.57.2 write `ssl_verify: false` at the top of the config of 42 plugins, including plugins that have no such field (their TLS settings are nested, e.g. redis.ssl_verify, or named https_verify or verify_ldap_host), which leaves those connections verifying certificates under 3.14 and adds a field the plugin schema does not know',
  },
]

/**
 * Reads the version out of `deck version` output, e.g. `decK v1.65.1 (d3adb33f)`.
 */
export function parseDeckVersion(output: string): string {
  const match = /\bv?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\b/.exec(output)
  const version = match?.[1]
  if (!version || !semver.valid(version)) {
    throw new DeckhandError(
      `Could not read a version from 'deck version' output: ${JSON.stringify(output.trim())}`,
    )
  }
  return version
}

export function deckFeatures(version: string): DeckFeatures {
  const v = semver.coerce(version)?.version ?? version
  if (semver.lt(v, MIN_DECK_VERSION)) {
    throw new DeckhandError(
      `deck ${version} is too old: deckhand needs deck ${MIN_DECK_VERSION} or newer. ` +
        `Set deck-version to a newer release (default ${DEFAULT_DECK_VERSION}) or put a newer deck on PATH.`,
    )
  }
  return {
    version,
    gatewayCommands: semver.gte(v, '1.28.0'),
    adminTokenEnv: semver.gte(v, '1.64.0'),
    jsonOutput: semver.gte(v, '1.24.0'),
    konnect: semver.gte(v, '1.40.0'),
    convertPairs: CONVERT_PAIRS.filter((p) => semver.gte(v, p.since)).map(({ from, to }) => ({ from, to })),
    convertDefects: CONVERT_DEFECTS.filter((d) => semver.gte(v, d.since) && semver.lt(v, d.fixedIn)).map(
      ({ from, to, fixedIn, defect }) => ({ from, to, fixedIn, defect }),
    ),
  }
}

/** Konnect needs a deck that serves it well: refused before anything runs. */
export function checkKonnectSupport(features: DeckFeatures): void {
  if (!features.konnect) {
    throw new DeckhandError(
      `deck ${features.version} is too old for Konnect: Kong requires deck 1.40.0 or newer for Konnect control ` +
        `planes (older releases give inconsistent diffs). Set ${inputName('deck-version')} to a newer release.`,
    )
  }
}
