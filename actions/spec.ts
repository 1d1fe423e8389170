/**
 * Every command's inputs and outputs, in one place. The action.yml files, the docs' tables and the
 * CLI's options and help are generated from this (`npm run docs`), and a test fails when they drift.
 * Input names are the action input names and the CLI option names alike.
 */

import { ACTIONS_BOT, DEFAULT_DRIFT_BRANCH, DEFAULT_MESSAGE, PLACEHOLDERS } from './engine/commit/defaults.js'
import { DEFAULT_DECK_VERSION } from './engine/deck/version.js'
import { DEFAULT_LIMITS, mebibytes } from './engine/files/limits.js'

export type InputType = 'string' | 'boolean' | 'integer' | 'list'

export interface InputSpec {
  description: string
  type: InputType
  required?: boolean
  /** Default as the action sees it; the code applies the same default when the input is empty. */
  default?: string
  /** Masked in logs and never echoed. */
  secret?: boolean
  /** Only meaningful inside GitHub Actions (pull request comments): the CLI does not offer it. */
  actionOnly?: boolean
  /**
   * integer inputs: the accepted range, checked before any work. Default minimum 1 (0 for counts read with
   * Inputs.count); every integer input names its maximum, so no value reaches a tool as 1e+23.
   */
  min?: number
  max?: number
  /** integer inputs: what the number counts (`seconds`), for error messages. */
  unit?: string
}

export interface CommandSpec {
  name: string
  /** One line for action.yml and `deckhand --help`. */
  summary: string
  inputs: Record<string, InputSpec>
  outputs: Record<string, string>
}

const deckInputs: Record<string, InputSpec> = {
  'deck-version': {
    type: 'string',
    description: `deck release to use when deck is not on PATH (or to insist on one): a version like ${DEFAULT_DECK_VERSION}, or latest. Downloads are verified against the release's checksums.`,
  },
  'deck-path': { type: 'string', description: 'Path to a deck binary to use as it is (no download).' },
  'deck-timeout': {
    type: 'integer',
    default: '1800',
    max: 86_400,
    unit: 'seconds',
    description:
      'Seconds one deck run (a dump, or the diff or sync of one workspace) may take in all; past it deck and every process it started are stopped and the step fails.',
  },
}

/** How requests reach the Admin API (or Tyk's): TLS and the per-request timeout. */
const transportInputs: Record<string, InputSpec> = {
  'tls-skip-verify': {
    type: 'boolean',
    default: 'false',
    description:
      "Skip verification of the gateway's Admin API certificate (and the smoke requests of restore and upgrade).",
  },
  'ca-cert': {
    type: 'string',
    description:
      "CA certificate for the gateway's Admin API (and the smoke requests of restore and upgrade): PEM content or a path to a PEM file.",
  },
  'tls-server-name': {
    type: 'string',
    description: 'Server name to verify the Admin API certificate against.',
  },
  timeout: {
    type: 'integer',
    default: '30',
    max: 3600,
    unit: 'seconds',
    description: 'Seconds deck waits for each Admin API request.',
  },
}

/** Secrets of in-house plugins where no gateway serves their schema (redact, validate, the commit scan). */
const secretFieldsInput: Record<string, InputSpec> = {
  'secret-fields': {
    type: 'list',
    description:
      "More fields that hold secrets, one per line as KIND/NAME PATH (KIND: plugins, entities, partials or vaults; PATH dotted, [] for list elements, * for map values), e.g. plugins/acme-signer config.signing_material. Kong's schemas (bundled, and read from the gateway where there is one) already cover Kong's own plugins and any custom plugin whose schema marks its fields encrypted or referenceable.",
  },
}

/** The encrypted secret bundle a dump with age-recipients writes: where commands that need the values read it. */
const bundleInputs: Record<string, InputSpec> = {
  'age-identity': {
    type: 'string',
    secret: true,
    description:
      'age identity that opens the encrypted secret bundle: the content of an age key file (AGE-SECRET-KEY-1… lines, as age-keygen writes), or the path of one. Its values fill the DECK_ variables the state files reference; a variable set in the environment wins. They reach deck through its environment only. Store the key file as one CI secret.',
  },
  'secrets-bundle': {
    type: 'list',
    description:
      'Encrypted secret bundles to open with age-identity, one per line. Default: secrets.age in each folder holding the state files, where there is one.',
  },
}

const connectionInputs: Record<string, InputSpec> = {
  'kong-addr': {
    type: 'string',
    description: 'Kong Admin API address, e.g. http://kong-admin.internal:8001.',
  },
  'kong-admin-token': {
    type: 'string',
    secret: true,
    description:
      'Admin token (Kong Enterprise RBAC), sent as the Kong-Admin-Token header. Never put on a command line.',
  },
  headers: {
    type: 'list',
    secret: true,
    description: 'Extra request headers, one "Name: value" per line. Values are treated as secrets.',
  },
  ...transportInputs,
}

/** Tyk instead of Kong: the open-source Gateway API, or a Dashboard through tyk-sync. */
const tykInputs: Record<string, InputSpec> = {
  gateway: {
    type: 'string',
    default: 'kong',
    description:
      'The gateway: kong (a self-managed Kong at kong-addr), konnect (Kong Konnect control planes, with konnect-token), or tyk (the Tyk Gateway API at tyk-addr, or a Tyk Dashboard through tyk-sync at tyk-dashboard).',
  },
  'tyk-addr': {
    type: 'string',
    description:
      'Tyk Gateway address for gateway: tyk, e.g. http://tyk-gateway:8080 (its control API port when one is configured).',
  },
  'tyk-secret': {
    type: 'string',
    secret: true,
    description:
      'The Tyk Gateway API secret (secret in tyk.conf), sent as the x-tyk-authorization header; with tyk-dashboard, the Dashboard API key, given to tyk-sync in its environment. Never put on a command line.',
  },
  'tyk-dashboard': {
    type: 'string',
    description:
      'Tyk Dashboard URL, instead of tyk-addr: dump, diff and sync go through tyk-sync (dump, sync), planned first like a Kong sync.',
  },
  'tyk-sync-path': {
    type: 'string',
    description: 'Path to the tyk-sync binary for tyk-dashboard. Default: tyk-sync on PATH.',
  },
}

/** Kong Konnect instead of a self-managed Kong: control planes through deck's Konnect mode. */
const konnectInputs: Record<string, InputSpec> = {
  'konnect-token': {
    type: 'string',
    secret: true,
    description:
      "gateway: konnect: a Konnect personal access token (kpat_…) or system account token (spat_…), given to deck in its environment, never on a command line. Its account needs Konnect's Viewer role on the control planes for dump and diff, and Admin for sync.",
  },
  'konnect-region': {
    type: 'string',
    description:
      'gateway: konnect: the Konnect region (geo) of the control planes: us (default), eu, au, me, in or sg.',
  },
  'konnect-addr': {
    type: 'string',
    description:
      'gateway: konnect: the Konnect API address, instead of konnect-region, for an endpoint that is not a region, e.g. https://eu.api.konghq.com.',
  },
}

/** The smoke requests of restore and upgrade. */
const smokeTimeout: InputSpec = {
  type: 'integer',
  max: 3600,
  unit: 'seconds',
  default: '30',
  description:
    'Seconds each smoke request is retried (with backoff) until it answers as expected: Kong applies new configuration to its router a few seconds after it is written.',
}

/** Only where something is written to Tyk: sync and restore. */
const convergeTimeout: InputSpec = {
  type: 'integer',
  max: 3600,
  unit: 'seconds',
  default: '60',
  description:
    'gateway: tyk: seconds to wait after writing (and the reload) until the gateway serves what the files hold, re-reading with backoff; still different then, the step fails.',
}

const planInputs: Record<string, InputSpec> = {
  ...secretFieldsInput,
  state: {
    type: 'list',
    description:
      'State files or directories, one per line. Files of one workspace are planned together; each workspace (and select-tags set) is its own deck run. Tyk: folders of API and policy files, planned as one. Default: kong, or tyk for gateway: tyk.',
  },
  ...bundleInputs,
  'kong-addr': connectionInputs['kong-addr']!,
  'kong-admin-token': connectionInputs['kong-admin-token']!,
  headers: connectionInputs.headers!,
  workspace: {
    type: 'string',
    description: 'Workspace to plan against; overrides _workspace in every file.',
  },
  'select-tags': {
    type: 'list',
    description:
      'Only entities carrying all of these tags (one per line); overrides _info.select_tags in the files.',
  },
  'skip-consumers': {
    type: 'boolean',
    default: 'false',
    description: 'Leave consumers, consumer groups and their credentials out of the plan (and the sync).',
  },
  parallelism: {
    type: 'integer',
    max: 256,
    description: 'Concurrent Admin API requests deck makes per workspace (deck default 10).',
  },
  'plan-file': {
    type: 'string',
    description:
      "Where to write the plan as JSON (secrets masked). Default: a new file in the runner's temporary directory.",
  },
  'comment-on-pr': {
    type: 'boolean',
    actionOnly: true,
    description:
      'Post the plan on the pull request, one comment per workflow and workspace, updated in place. Default: true on pull_request events.',
  },
  'github-token': {
    type: 'string',
    secret: true,
    actionOnly: true,
    default: '${{ github.token }}',
    description: 'Token for the pull request comment; needs pull-requests: write.',
  },
  ...tykInputs,
  ...konnectInputs,
  'konnect-control-plane': {
    type: 'string',
    description:
      'gateway: konnect: the control plane to plan against; overrides _konnect.control_plane_name in every file (as workspace overrides _workspace for Kong).',
  },
  ...deckInputs,
  ...transportInputs,
}

const planOutputs: Record<string, string> = {
  creating: 'Entities the plan creates.',
  updating: 'Entities the plan updates.',
  deleting: 'Entities the plan deletes.',
  total: 'All planned changes.',
  'has-changes': 'true when the gateway differs from the state files.',
  plan: 'Path of the plan as JSON: every change per workspace, secrets masked.',
}

export const COMMANDS: Record<string, CommandSpec> = {
  dump: {
    name: 'dump',
    summary:
      'Back up Kong declaratively: normalized, byte-stable deck files per workspace (or Konnect control plane) with secrets redacted.',
    inputs: {
      'kong-addr': connectionInputs['kong-addr']!,
      'kong-admin-token': connectionInputs['kong-admin-token']!,
      headers: connectionInputs.headers!,
      workspace: {
        type: 'string',
        description: 'Workspace to dump (Kong Enterprise). Default: the default workspace.',
      },
      'all-workspaces': {
        type: 'boolean',
        default: 'false',
        description: 'Dump every workspace, one file each.',
      },
      'select-tags': {
        type: 'list',
        description: 'Only entities carrying all of these tags (one per line).',
      },
      'skip-consumers': {
        type: 'boolean',
        default: 'false',
        description: 'Leave consumers, consumer groups and their credentials out.',
      },
      'with-id': { type: 'boolean', default: 'false', description: 'Keep entity IDs in the files.' },
      'output-dir': {
        type: 'string',
        description:
          'Directory that receives <workspace>.yaml (Tyk: one api-, oas- or policy-<id>.json per object and .tyk.json), required-env.txt and SHA256SUMS. Default: kong, or tyk for gateway: tyk.',
      },
      'redact-secrets': {
        type: 'boolean',
        default: 'true',
        description:
          'Replace every credential, private key and secret config value with an environment reference: to a DECK_ variable (deck fills it), or for Tyk a DECKHAND_TYK_ variable (deckhand fills it).',
      },
      'allow-empty': {
        type: 'boolean',
        default: 'false',
        description: 'Accept a dump with no entities even when the previous dump had some.',
      },
      'age-recipients': {
        type: 'list',
        description:
          'age public keys (age1…, from age-keygen -y), one per line: every redacted value is also written, encrypted to them, into secrets.age beside the files (kept byte for byte while nothing changed), so that a restore needs one CI secret, the age identity, instead of one per variable. Public keys only: the dump needs no identity. Needs redact-secrets: true.',
      },
      ...secretFieldsInput,
      ...tykInputs,
      ...konnectInputs,
      'konnect-control-plane': {
        type: 'list',
        description:
          'gateway: konnect: the control planes to dump, one name per line: one state file each, named for it and holding it in _konnect.control_plane_name.',
      },
      ...deckInputs,
      ...transportInputs,
    },
    outputs: {
      files: 'Written state files, one path per line.',
      workspaces: 'Dumped workspaces, one per line.',
      'control-planes': 'gateway: konnect: the dumped control planes, one per line.',
      'entity-count': 'Number of entities dumped, nested ones included.',
      digest: 'sha256 over the normalized files: equal digests mean an unchanged configuration.',
      'secrets-redacted': 'Number of secret values replaced by environment references.',
      'secrets-by-rule':
        "JSON object: how many values each rule redacted (schema: the gateway's own schemas; catalogue: Kong's schemas bundled with deckhand; name: credential field or header names; detector: the value itself, such as a private key, a JWT or credentials in a URL).",
      'required-env': 'Environment variables the files reference, one per line (names only).',
      changed: 'true when the files differ from what output-dir held before.',
      'secrets-bundle':
        'Path of the encrypted secret bundle (secrets.age) with age-recipients; empty without.',
    },
  },
  validate: {
    name: 'validate',
    summary:
      'Check deck state files: YAML, duplicates, unset DECK_ variables, then deck file/gateway validate.',
    inputs: {
      ...secretFieldsInput,
      state: { type: 'list', default: 'kong', description: 'State files or directories, one per line.' },
      ...bundleInputs,
      online: {
        type: 'boolean',
        default: 'false',
        description: 'Validate against a live gateway (deck gateway validate); needs kong-addr.',
      },
      workspace: {
        type: 'string',
        description: 'Workspace to validate against; overrides _workspace in the files.',
      },
      parallelism: {
        type: 'integer',
        max: 256,
        description: 'Number of concurrent requests deck makes when online (deck default 10).',
      },
      gateway: {
        type: 'string',
        default: 'kong',
        description:
          'kong, or konnect: the files are also checked for what a Konnect control plane refuses (plugins Konnect does not run, cluster rate-limiting, a format before 3.0), each with file and line; offline only.',
      },
      'konnect-control-plane': {
        type: 'string',
        description:
          'gateway: konnect: the control plane the files are meant for; overrides _konnect.control_plane_name in every file (a self-managed dump on its way to Konnect has none).',
      },
      ...connectionInputs,
      ...deckInputs,
    },
    outputs: {
      valid: 'true when every check passed.',
      problems: 'Number of problems found.',
      'plaintext-secrets':
        'Number of secret values the files hold in plain text (by the rules a dump redacts with); each is a warning naming file and line, never the value. Not a failure: unredacted files are valid, but must not be committed.',
    },
  },
}

COMMANDS.diff = {
  name: 'diff',
  summary:
    'Plan: what syncing the state files would change on Kong, per workspace, in the job summary and on the pull request.',
  inputs: planInputs,
  outputs: planOutputs,
}

COMMANDS.sync = {
  name: 'sync',
  summary:
    'Apply the state files to Kong after planning: deletions over the limit are refused before anything is sent, failed entities fail the step.',
  inputs: {
    ...planInputs,
    'max-deletes': {
      type: 'integer',
      min: 0,
      max: 1_000_000,
      default: '0',
      description:
        'Most entities the sync may delete, across all workspaces; a plan that deletes more is refused before anything is sent.',
    },
    'allow-deletes': {
      type: 'boolean',
      default: 'false',
      description: 'Allow any number of deletions (they are still planned, counted and reported).',
    },
    'dry-run': {
      type: 'boolean',
      default: 'false',
      description: 'Plan and check the guard rails, send nothing.',
    },
    'workspace-concurrency': {
      type: 'integer',
      max: 64,
      default: '1',
      description: 'How many workspaces sync at the same time (never two syncs of one workspace).',
    },
    'converge-timeout': convergeTimeout,
  },
  outputs: {
    ...planOutputs,
    applied: 'true when changes were sent to the gateway and Kong accepted at least one.',
  },
}

const artifactInputs: Record<string, InputSpec> = {
  'upload-artifact': {
    type: 'boolean',
    default: 'true',
    actionOnly: true,
    description:
      'Upload the backup and its manifest as a workflow artifact. On GitHub Enterprise Server, which the artifact service does not support, the step says so and keeps the files.',
  },
  'artifact-name': {
    type: 'string',
    actionOnly: true,
    description: 'Artifact name. Default: the backup file or folder name.',
  },
  'retention-days': {
    type: 'integer',
    max: 90,
    unit: 'days',
    actionOnly: true,
    description: "Days GitHub keeps the artifact (1 to 90). Default: the repository's setting.",
  },
}

const artifactDownloadInputs: Record<string, InputSpec> = {
  'artifact-run-id': {
    type: 'string',
    actionOnly: true,
    description:
      'When input names an artifact of another workflow run: that run id (needs github-token with actions: read). Default: this run.',
  },
  'github-token': {
    type: 'string',
    secret: true,
    actionOnly: true,
    default: '${{ github.token }}',
    description: 'Token to download an artifact of another workflow run.',
  },
}

/** Where a backup is kept beyond the machine that took it, and how many are kept. */
const storeInputs = (fallback: string, source: string): Record<string, InputSpec> => ({
  store: {
    type: 'string',
    ...(fallback ? { default: fallback } : {}),
    description:
      (fallback === 'artifact'
        ? 'Where the backup is kept: artifact (a workflow artifact, as before), '
        : 'Also keep the dump in a store: ') +
      'a local or mounted folder, or s3://bucket/prefix (AWS S3, or any S3-compatible service with store-endpoint). ' +
      'In a folder or bucket each backup is <kind>/<source>/<UTC time>-<id>/, its manifest written last.',
  },
  'store-endpoint': {
    type: 'string',
    description:
      "URL of an S3-compatible service (MinIO, Ceph, R2…), addressed path-style. Default: AWS's endpoint for the region. Credentials always come from the AWS credential chain (in GitHub Actions: aws-actions/configure-aws-credentials with OIDC), never from inputs.",
  },
  'store-region': {
    type: 'string',
    description: 'AWS region of the bucket. Default: AWS_REGION, or the profile.',
  },
  'backup-source': {
    type: 'string',
    description: `Name of what is backed up: the <source> part of the store layout. Default: ${source}.`,
  },
  'age-recipients': {
    type: 'list',
    description:
      'age public keys (age1…, one per line; # comments allowed) to encrypt the backup to before it leaves the machine. The step needs no private key; restores take age-identity.',
  },
  'keep-last': retention('the n newest backups'),
  'keep-daily': retention('the newest backup of each of the last n days that have one'),
  'keep-weekly': retention('the newest backup of each of the last n ISO weeks that have one'),
  'keep-monthly': retention('the newest backup of each of the last n months that have one'),
})

function retention(what: string): InputSpec {
  return {
    type: 'integer',
    min: 0,
    max: 100_000,
    description: `Retention in the store (of this kind and source), as restic's forget: keep ${what}. Deletes only backups deckhand wrote, never the newest one nor the newest verified one. Default: keep everything.`,
  }
}

/** How a restore finds a backup in a store. */
const storeReadInputs: Record<string, InputSpec> = {
  store: {
    type: 'string',
    description:
      'The folder or s3://bucket/prefix db-dump or files-backup stored to: then name the backup latest, by its name (20261206T071500Z-3f9a1c) or by an ISO time (the newest at or before it). Only complete backups (manifest present) are picked; every object is checked against the manifest before anything is restored.',
  },
  'store-endpoint': {
    type: 'string',
    description:
      'URL of an S3-compatible service (path-style). Default: AWS. Credentials come from the AWS credential chain.',
  },
  'store-region': {
    type: 'string',
    description: 'AWS region of the bucket. Default: AWS_REGION, or the profile.',
  },
  'backup-source': {
    type: 'string',
    description: 'Which source to pick from, when the store holds backups of several.',
  },
}

/** The key that opens backups a store holds encrypted. */
const backupIdentityInput: Record<string, InputSpec> = {
  'age-identity': {
    type: 'string',
    secret: true,
    description:
      'Content of an age key file (AGE-SECRET-KEY-1… lines), or the path of one, to decrypt backups encrypted with age-recipients.',
  },
}

// dump keeps its folder in a store too (age-recipients of dump is the secret bundle's, defined with dump).
for (const [name, spec] of Object.entries(storeInputs('', 'the output folder name')))
  if (name !== 'age-recipients') COMMANDS.dump!.inputs[name] = spec

const storeOutputs: Record<string, string> = {
  stored: 'Where the backup went in a folder or S3 store (empty for artifact).',
  'backup-name': 'Its name in the store: <UTC time>-<id>.',
  encrypted: 'true when the stored files are encrypted with age.',
  pruned: 'Backups retention removed, one name per line.',
}
Object.assign(COMMANDS.dump!.outputs, storeOutputs, {
  'artifact-id': 'Id of the uploaded artifact, when store is artifact.',
})

const postgresInputs: Record<string, InputSpec> = {
  'database-url': {
    type: 'string',
    secret: true,
    description:
      'postgres://user:password@host:5432/kong?sslmode=require (or redis://:password@host:6379 for engine redis). Empty: the standard PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE variables. The password is handed to the tools in a private file, never on a command line.',
  },
  'postgres-bin': {
    type: 'string',
    description:
      'Directory holding pg_dump, pg_restore and psql. Default: the newest PostgreSQL client found on PATH or in the usual install folders (it must be at least the server version).',
  },
}

COMMANDS['db-dump'] = {
  name: 'db-dump',
  summary:
    "Back up the gateway's database natively: pg_dump (or Redis's RDB) with a checksummed manifest written last, verified after the dump.",
  inputs: {
    engine: { type: 'string', default: 'postgres', description: 'postgres or redis.' },
    'database-url': postgresInputs['database-url']!,
    format: {
      type: 'string',
      default: 'directory',
      description:
        'pg_dump format: directory (parallel), custom, tar or plain. Ignored for redis (always an RDB file).',
    },
    jobs: {
      type: 'integer',
      max: 128,
      description: 'Parallel pg_dump jobs, directory format only. Default: the number of CPUs.',
    },
    compress: {
      type: 'string',
      description:
        "pg_dump compression: a level 0-9 or method[:level] such as gzip:6, lz4 or zstd (PostgreSQL 16 clients), none. Default: pg_dump's (gzip for directory and custom).",
    },
    profile: {
      type: 'string',
      default: 'kong',
      description:
        "kong: keep every table's schema but skip the data of tables that only hold short-lived runtime state (cluster events, rate-limiting counters, locks, data-plane registrations); never configuration or credentials. none: dump everything.",
    },
    'exclude-table-data': {
      type: 'list',
      description:
        'More tables whose data to skip (schema kept), one pg_dump pattern per line, e.g. public.my_audit_log.',
    },
    'output-dir': {
      type: 'string',
      default: 'db-backup',
      description:
        'Directory that receives the backup, in a new folder <database>-<UTC time> holding the dump and manifest.json (-2, -3… when another dump of the same second has that name). Earlier backups are never touched.',
    },
    verify: {
      type: 'boolean',
      default: 'true',
      description:
        'Read the dump back before the manifest is written: pg_restore --list must list the rows of exactly the tables dumped (redis-check-rdb for Redis).',
    },
    'postgres-bin': postgresInputs['postgres-bin']!,
    ...storeInputs('artifact', 'the database name'),
    ...artifactInputs,
  },
  outputs: {
    path: 'The backup folder (dump and manifest.json).',
    'size-bytes': 'Size of the dump in bytes.',
    manifest:
      'Path of manifest.json: versions, database, format, profile, per-table row counts, sha256 of every file.',
    tables: 'Tables dumped (Redis: databases holding keys).',
    rows: 'Rows dumped (Redis: keys), as counted in the snapshot the dump was taken from.',
    'duration-ms': 'How long the dump and its verification took.',
    'artifact-id': 'Id of the uploaded artifact, when one was uploaded.',
    ...storeOutputs,
  },
}

COMMANDS['db-restore'] = {
  name: 'db-restore',
  summary:
    'Restore a db-dump backup: checksums verified before the database is touched, row counts and configuration checksums compared afterwards.',
  inputs: {
    input: {
      type: 'string',
      required: true,
      description:
        'The backup: its folder, its manifest.json, the output-dir db-dump wrote into (the newest complete backup there is picked), latest or a time with store, or (in GitHub Actions) the name of an artifact uploaded by db-dump.',
    },
    'database-url': {
      ...postgresInputs['database-url']!,
      description:
        "Where to restore: postgres://user:password@host:5432/kong, or with create, a maintenance database such as postgres. Empty: the PG* variables. The password goes in a private file, never on a command line. Without create, clean replaces the database from the same server's postgres database (template1 where there is none).",
    },
    create: {
      type: 'boolean',
      default: 'false',
      description:
        'Create the database named in the backup (pg_restore --create), connecting to the maintenance database of database-url. One that exists is refused, or with clean replaced as clean describes.',
    },
    clean: {
      type: 'boolean',
      default: 'false',
      description:
        "Replace a database that already holds tables: the backup is restored into a new database beside it (same owner, encoding, locale, privileges and settings), verified, and swapped in by renaming only then, so a failure leaves the database as it was. The swap ends the sessions connected to it (Kong reconnects). Needs the CREATEDB privilege and the database's ownership. Without clean, a database that holds tables is refused.",
    },
    'keep-previous': {
      type: 'boolean',
      default: 'true',
      description:
        'When clean replaced a database, keep the replaced one, renamed <database>_deckhand_previous_<UTC time> (rename it back to roll back; drop it when done). false: drop it once the restored database is in its place.',
    },
    jobs: {
      type: 'integer',
      max: 128,
      description: 'Parallel pg_restore jobs (directory and custom formats). Default: the number of CPUs.',
    },
    verify: {
      type: 'boolean',
      default: 'true',
      description:
        'After restoring, compare the row count of every table and the checksum of every configuration table with the manifest; any difference fails the step.',
    },
    'no-owner': {
      type: 'boolean',
      default: 'false',
      description:
        'Do not restore object ownership: everything belongs to the connecting user (for a server without the original roles, such as a fresh RDS instance).',
    },
    'postgres-bin': postgresInputs['postgres-bin']!,
    ...storeReadInputs,
    ...backupIdentityInput,
    'mark-verified': {
      type: 'boolean',
      default: 'false',
      description:
        'When the backup came from a store and the restore verified it: record that beside it (deckhand-verified.json), as a restore drill does. Retention never deletes the newest verified backup.',
    },
    ...artifactDownloadInputs,
  },
  outputs: {
    database: 'The database restored into.',
    backup: 'The backup restored: its folder, or its store and name.',
    'previous-database':
      'The database clean replaced, kept under this name (keep-previous); empty when none was replaced or it was dropped.',
    tables: 'Tables checked after the restore.',
    rows: 'Rows checked after the restore.',
    verified: 'true when every row count and checksum matched the manifest.',
    'duration-ms': 'How long the verification of the backup, the restore and the comparison took.',
  },
}

COMMANDS['files-backup'] = {
  name: 'files-backup',
  summary:
    "Back up the gateway's files (kong.conf, certificates, Tyk and Kestra files) into a tar.gz with a sha256 manifest; private keys only when asked.",
  inputs: {
    paths: {
      type: 'list',
      required: true,
      description:
        'Files, directories or globs, one per line (**, *, ?, and !pattern to exclude), e.g. /etc/kong/kong.conf, /opt/tyk-gateway/apps, /app/storage.',
    },
    root: {
      type: 'string',
      default: '.',
      description:
        'Files are stored relative to this directory, and every match must lie inside it (use / for system paths).',
    },
    output: {
      type: 'string',
      default: 'files-backup.tar.gz',
      description:
        'The archive to write (tar.gz); its manifest goes beside it as <output>.manifest.json. Replaced only once the new archive is complete.',
    },
    'include-secrets': {
      type: 'boolean',
      default: 'false',
      description:
        'Include private keys and certificates (PEM, DER, PKCS#12, keystores). Off: they are left out and listed in the summary.',
    },
    ...storeInputs('artifact', 'files'),
    ...artifactInputs,
  },
  outputs: {
    path: 'The archive.',
    manifest: 'Path of the manifest: sha256, size and mode of every file.',
    files: 'Number of files in the archive.',
    'size-bytes': 'Size of the archive in bytes.',
    'secrets-excluded':
      'Private key and certificate files left out (include-secrets false), one path per line.',
    'artifact-id': 'Id of the uploaded artifact, when one was uploaded.',
    ...storeOutputs,
  },
}

COMMANDS['files-restore'] = {
  name: 'files-restore',
  summary:
    'Restore a files-backup archive: every checksum is verified before any file is written, and existing files are replaced only when allowed.',
  inputs: {
    input: {
      type: 'string',
      required: true,
      description:
        'The archive (its manifest beside it as <archive>.manifest.json), latest or a time with store, or (in GitHub Actions) the name of an artifact uploaded by files-backup.',
    },
    target: {
      type: 'string',
      default: '.',
      description: "Directory to restore into (the backup's root; / for system paths).",
    },
    overwrite: {
      type: 'boolean',
      default: 'false',
      description:
        'Replace existing files whose content differs. Off: such files are listed and the step fails before writing anything.',
    },
    'dry-run': {
      type: 'boolean',
      default: 'false',
      description: 'Verify the archive and report what would be written; write nothing.',
    },
    'max-size-mib': {
      type: 'integer',
      default: String(mebibytes(DEFAULT_LIMITS.maxBytes)),
      min: 1,
      max: 16 * 1024 * 1024,
      unit: 'MiB',
      description:
        'Most the archive may unpack to, in MiB, all files together. A larger one is refused as it streams, and nothing is restored; raise it for a backup that large.',
    },
    'max-file-size-mib': {
      type: 'integer',
      default: String(mebibytes(DEFAULT_LIMITS.maxFileBytes)),
      min: 1,
      max: 16 * 1024 * 1024,
      unit: 'MiB',
      description: 'Largest file the archive may hold, in MiB; an archive with a larger one is refused.',
    },
    'max-files': {
      type: 'integer',
      default: String(DEFAULT_LIMITS.maxEntries),
      min: 1,
      max: 10_000_000,
      description: 'Most files and directories the archive may hold; an archive with more is refused.',
    },
    ...storeReadInputs,
    ...backupIdentityInput,
    ...artifactDownloadInputs,
  },
  outputs: {
    files: 'Number of files written (in a dry run: that would be written).',
    unchanged: 'Number of files already present with the same content.',
    verified: 'true when the archive and every file matched the manifest.',
  },
}

COMMANDS.commit = {
  name: 'commit',
  summary:
    'Commit the dumped configuration to git when it drifted, with an entity-level report; push race-safe or open a pull request.',
  inputs: {
    ...secretFieldsInput,
    path: {
      type: 'list',
      default: 'kong',
      description:
        'What to commit: the folder the dump wrote (its output-dir), or several files or folders of one repository, one per line.',
    },
    mode: {
      type: 'string',
      default: 'push',
      description:
        'push: commit to branch and push, retrying when another run or a person pushed first. pull-request: keep the drift on its own branch with one open pull request.',
    },
    branch: {
      type: 'string',
      description: `push: the branch to push to (default the checked-out branch, or the run's branch on a detached checkout). pull-request: deckhand's branch for the drift (default ${DEFAULT_DRIFT_BRANCH}), replaced on every run.`,
    },
    base: {
      type: 'string',
      description:
        "pull-request: the branch the pull request goes into (default the checked-out branch, else the repository's default branch).",
    },
    message: {
      type: 'string',
      default: DEFAULT_MESSAGE,
      description: `Commit subject (and pull request title). Placeholders: ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}. The drift report and the dump time follow in the body.`,
    },
    'author-name': {
      type: 'string',
      description: `Author and committer name. Default: git's user.name, else ${ACTIONS_BOT.name}.`,
    },
    'author-email': {
      type: 'string',
      description: `Author and committer email. Default: git's user.email, else ${ACTIONS_BOT.email}.`,
    },
    'push-retries': {
      type: 'integer',
      min: 0,
      max: 10,
      default: '5',
      description:
        'Times to fetch, merge and push again when the branch moved meanwhile, waiting 1, 2, 4… seconds (with jitter) in between. 0: fail on the first rejection.',
    },
    'github-token': {
      type: 'string',
      secret: true,
      default: '${{ github.token }}',
      description:
        "Token for pushing to GitHub and for the pull request (contents: write; pull-requests: write in pull-request mode). Replaces the credentials the checkout persisted; remotes elsewhere keep git's own.",
    },
    'sign-off': {
      type: 'boolean',
      default: 'false',
      description: 'Add a Signed-off-by trailer for the committer (DCO).',
    },
  },
  outputs: {
    changed: 'true when a commit was pushed (push) or the drift pull request holds changes (pull-request).',
    'commit-sha': "The commit pushed, or the drift branch's commit; empty when nothing changed.",
    branch: 'The branch pushed to.',
    'pull-request-number': 'Number of the drift pull request (pull-request mode).',
    'pull-request-url': 'Web address of the drift pull request (pull-request mode).',
    added: 'Entities the commit adds.',
    'changed-entities': 'Entities the commit changes.',
    removed: 'Entities the commit removes.',
  },
}

COMMANDS.restore = {
  name: 'restore',
  summary:
    'Disaster recovery in one step: wait for a fresh gateway, restore its database or its declarative state (or load DB-less nodes), prove it, and report the recovery time.',
  inputs: {
    ...secretFieldsInput,
    strategy: {
      type: 'string',
      default: 'auto',
      description:
        "auto: the database backup when db-dump is given and verifies, else (or when that restore fails) the declarative state. database: db-dump only. declarative: deck sync of state. dbless: POST state to every node's /config.",
    },
    'kong-addr': {
      type: 'list',
      description:
        'Kong Admin API address, e.g. http://kong-admin.internal:8001. Several (one per line) for dbless, where each node is loaded, or to wait for every node of a cluster. Required for gateway: kong.',
    },
    'kong-admin-token': connectionInputs['kong-admin-token']!,
    headers: connectionInputs.headers!,
    state: {
      type: 'list',
      description:
        'Declarative state files or directories (what dump wrote, usually checked out from the repository), one per line. Used by declarative and dbless, by auto without a usable db-dump, and to verify. Default: kong, or tyk for gateway: tyk.',
    },
    ...bundleInputs,
    'db-dump': {
      type: 'string',
      description:
        'A db-dump backup: its folder, its manifest.json, latest or a time with store, or (in GitHub Actions) the name of the artifact db-dump uploaded.',
    },
    'database-url': {
      ...postgresInputs['database-url']!,
      description:
        "The gateway's database, to restore db-dump into: postgres://user:password@host:5432/kong. Empty: the PG* variables. The password goes in a private file, never on a command line.",
    },
    'restart-command': {
      type: 'string',
      description:
        'Shell command that restarts the Kong nodes after a database restore, so they drop what they cached, e.g. aws ecs update-service --force-new-deployment … && aws ecs wait services-stable …. deckhand then waits for the gateway again.',
    },
    'keyring-export': {
      type: 'string',
      secret: true,
      description:
        'Kong Enterprise keyring export (the data of POST /keyring/export), or a path to a file holding it: imported on every node before encrypted data is restored or verified.',
    },
    overwrite: {
      type: 'boolean',
      default: 'false',
      description:
        'Restore onto a gateway that already holds configuration. Off: restore checks first and refuses a gateway (or database) with services, routes, consumers or plugins, so a wrong address cannot replace a live gateway.',
    },
    'wait-timeout': {
      type: 'integer',
      max: 86_400,
      unit: 'seconds',
      default: '600',
      description:
        'Seconds to wait for the gateway to answer (Admin API root and /status), at the start and again after a restart, retrying with backoff.',
    },
    'smoke-requests': {
      type: 'list',
      description:
        'Requests that prove the proxy serves traffic, one "METHOD URL STATUS" per line, e.g. GET https://api.example.com/health 200 (STATUS may be 2xx). Query values (API keys) are masked in logs and reports.',
    },
    'smoke-timeout': smokeTimeout,
    'report-file': {
      type: 'string',
      description:
        "Where to write the recovery report as JSON. Default: a new file in the runner's temporary directory.",
    },
    parallelism: {
      type: 'integer',
      max: 256,
      description: 'Concurrent Admin API requests deck makes per workspace (deck default 10).',
    },
    jobs: {
      type: 'integer',
      max: 128,
      description:
        'Parallel pg_restore jobs. Default: one transaction, so a failed restore leaves the database as it was.',
    },
    'no-owner': {
      type: 'boolean',
      default: 'false',
      description:
        'Do not restore object ownership: everything belongs to the connecting user (for a server without the original roles).',
    },
    'postgres-bin': postgresInputs['postgres-bin']!,
    ...tykInputs,
    ...konnectInputs,
    'converge-timeout': convergeTimeout,
    ...deckInputs,
    ...transportInputs,
    ...storeReadInputs,
    'age-identity': {
      ...bundleInputs['age-identity']!,
      description: `${bundleInputs['age-identity']!.description} It also decrypts backups named from store (db-dump or state latest).`,
    },
    ...artifactDownloadInputs,
  },
  outputs: {
    'strategy-used': 'What restored the gateway: database, declarative or dbless.',
    'rto-seconds': 'Seconds from the start of the step until the gateway was restored and verified.',
    'entities-restored':
      'Entities restored: configuration rows for database, entities created or updated for declarative, entities loaded per node for dbless.',
    verified:
      "true only when every check passed: zero diff (or the manifest's row counts) and every smoke request.",
    report:
      'Path of the recovery report as JSON: phases and their durations, what was restored, what was not.',
  },
}

COMMANDS.upgrade = {
  name: 'upgrade',
  summary:
    "An LTS upgrade of Kong after Kong's guide: record and back up cluster X, convert its configuration, then prove the new gateway holds it (dual-cluster, in-place with a rollback, or rolling), and that nobody wrote to X meanwhile.",
  inputs: {
    mode: {
      type: 'string',
      required: true,
      description:
        "dual-cluster: Y was built beside X from X's database backup and migrated; deckhand proves it holds X's configuration, converted. in-place: migrate-command migrates X's own database and starts the new version; on failure X is rolled back (its database first). rolling: the new DB-less nodes or hybrid data planes are loaded with X's configuration, converted.",
    },
    'kong-addr': {
      type: 'list',
      description:
        "Cluster X's Admin API, the gateway on the old line (in-place: the one upgraded), one address per line; the first is the one deck talks to. Required.",
    },
    'kong-admin-token': connectionInputs['kong-admin-token']!,
    headers: {
      ...connectionInputs.headers!,
      description:
        'Extra request headers for both clusters, one "Name: value" per line. Values are treated as secrets.',
    },
    'target-kong-addr': {
      type: 'list',
      description:
        "Cluster Y's Admin API, one address per line: the new cluster (dual-cluster) or every new node (rolling). Not used in-place.",
    },
    'target-kong-admin-token': {
      type: 'string',
      secret: true,
      description:
        "Cluster Y's admin token (Kong Enterprise RBAC). Default: kong-admin-token, which a Y built from X's backup accepts.",
    },
    'from-line': {
      type: 'string',
      description: "X's LTS line (2.8, 3.4, 3.10, 3.14). Default: read from the version X reports.",
    },
    'to-line': {
      type: 'string',
      description:
        'The LTS line upgraded to. Default: read from the version Y reports. Required in-place, where X reports its old version until migrated.',
    },
    'output-dir': {
      type: 'string',
      default: 'upgrade',
      description:
        "Directory in which the upgrade claims a new folder upgrade-<UTC time> for X's recorded configuration, its backups (keyring, files, database), the conversion and the later dumps. Nothing else in it is touched.",
    },
    'database-url': {
      ...postgresInputs['database-url']!,
      description:
        "X's database, postgres://user:password@host:5432/kong: backed up (and checked) before anything changes; in-place, restored first on a rollback. Empty: no database backup. The password goes in a private file, never on a command line.",
    },
    'target-database-url': {
      type: 'string',
      secret: true,
      description:
        "dual-cluster: Y's database, whose configuration tables' row counts must match X's backup (was Y built from it?). Needs database-url.",
    },
    'migrate-command': {
      type: 'string',
      description:
        "in-place (required): shell command that migrates the database and starts the new version, e.g. kong migrations up && kong migrations finish and a restart of the nodes on the new image. It runs without deckhand's secrets in its environment.",
    },
    'restart-command': {
      type: 'string',
      description:
        "in-place: shell command that restarts X's nodes after a database rollback, so they drop what they cached.",
    },
    'age-recipients': {
      type: 'list',
      description:
        "age public keys (age1…), one per line: X's configuration is also backed up as dump writes it, redacted, its secrets encrypted to them in secrets.age, into state/ of the upgrade's folder: the copy that may leave the machine (the record beside it keeps its secrets).",
    },
    'export-keyring': {
      type: 'boolean',
      default: 'false',
      description:
        "Kong Enterprise: export X's keyring (POST /keyring/export, cluster strategy) into the upgrade's folder, private, as keyring-export: what restore's keyring-export takes with X's database backup. Fails when X has no keyring to export.",
    },
    files: {
      type: 'list',
      description:
        "Files X runs with, backed up into the upgrade's folder as files.tar.gz with a checksum manifest (files-backup's format, stored from /): kong.conf, certificates, one path, directory or glob per line. A path that does not exist fails the upgrade before anything changes.",
    },
    'include-secrets': {
      ...COMMANDS['files-backup']!.inputs['include-secrets']!,
      description:
        'Include the private keys and certificates that files names in its archive. Off: they are left out and listed in the summary.',
    },
    'rehearse-rollback': {
      type: 'string',
      secret: true,
      description:
        "URL of a throwaway database (postgres://…) on X's server: X's backup is restored into it and checked against its manifest before anything changes, proving the rollback. Anything in it is replaced. Needs database-url.",
    },
    state: {
      type: 'list',
      description:
        "rolling: the declarative state to convert and load into the new nodes, files or directories one per line. Default: X's configuration as recorded.",
    },
    'kong-conf': {
      type: 'string',
      description:
        "Path of the kong.conf X runs with, the step's KONG_* variables laid over it as Kong does: the report lists the settings it sets that X's line to Y's removes or renames, the defaults that change under it, and names no Kong line knows. Secret values are never shown.",
    },
    'smoke-requests': {
      type: 'list',
      description:
        'Requests through the upgraded gateway\'s proxy, one "METHOD URL STATUS" per line, e.g. GET https://api.example.com/health 200 (STATUS may be 2xx). Query values (API keys) are masked in logs and reports.',
    },
    'smoke-timeout': smokeTimeout,
    'wait-timeout': {
      type: 'integer',
      max: 86_400,
      unit: 'seconds',
      default: '600',
      description:
        'Seconds to wait for each cluster to answer (Admin API root and /status), and for migrate-command and restart-command to finish.',
    },
    'report-file': {
      type: 'string',
      description:
        "Where to write the upgrade report as JSON (no secrets). Default: a new file in the runner's temporary directory.",
    },
    'no-owner': {
      type: 'boolean',
      default: 'false',
      description:
        'Restore the backup (rehearsal, rollback) without object ownership: everything belongs to the connecting user.',
    },
    'postgres-bin': postgresInputs['postgres-bin']!,
    ...deckInputs,
    ...transportInputs,
  },
  outputs: {
    upgraded:
      "true when the new gateway is verified and holds X's configuration, converted (in-place: X was upgraded).",
    'rolled-back':
      'in-place: true when the upgrade failed and X was rolled back to, and proved to hold, what it held before.',
    verified: 'true only when every check passed, the freeze included.',
    folder:
      "The upgrade's folder: X's recorded configuration, its database backup, the conversion and the later dumps.",
    report:
      'Path of the upgrade report as JSON: phases and their durations, checks, conversions, the freeze.',
  },
}

/** Inputs of the root action: `command` plus the union of all commands' inputs. */
export function rootInputs(): Record<string, InputSpec> {
  const union: Record<string, InputSpec> = {
    command: {
      type: 'string',
      required: true,
      description: `What to run: ${Object.keys(COMMANDS).join(', ')}.`,
    },
  }
  // Commands that give an input of the same name another meaning, by name and description.
  const meanings = new Map<string, Map<string, string[]>>()
  for (const spec of Object.values(COMMANDS)) {
    for (const [name, input] of Object.entries(spec.inputs)) {
      const existing = union[name]
      // Required-ness and defaults depend on the command; the code applies them. Expressions such as
      // `${{ github.token }}` only the runner can evaluate: those stay.
      const expression = input.default?.startsWith('${{') ? input.default : undefined
      if (!existing) union[name] = { ...input, required: false, default: expression }
      const byDescription = meanings.get(name) ?? new Map<string, string[]>()
      byDescription.set(input.description, [...(byDescription.get(input.description) ?? []), spec.name])
      meanings.set(name, byDescription)
    }
  }
  // An input whose meaning depends on the command says each, so the root action never describes one command's.
  for (const [name, byDescription] of meanings) {
    if (byDescription.size < 2) continue
    union[name]!.description = [...byDescription]
      .map(([description, commands]) => `${commands.join(', ')}: ${description}`)
      .join(' ')
  }
  return union
}

/**
 * How the CLI's help groups a command's options; action.yml lists inputs flat. Derived from the input sets
 * above, so an input added to a set is grouped with it.
 */
export type InputGroup = 'general' | 'kong' | 'konnect' | 'connection' | 'deck' | 'tyk' | 'store' | 'database'

const GROUPS: [InputGroup, readonly string[]][] = [
  // gateway chooses between Kong, Konnect and Tyk: a general option.
  ['tyk', [...Object.keys(tykInputs).filter((name) => name !== 'gateway'), 'converge-timeout']],
  ['konnect', [...Object.keys(konnectInputs), 'konnect-control-plane']],
  ['kong', ['kong-addr', 'kong-admin-token', 'headers', 'target-kong-addr', 'target-kong-admin-token']],
  ['connection', Object.keys(transportInputs)],
  ['deck', Object.keys(deckInputs)],
  [
    'store',
    [
      ...Object.keys(storeInputs('', '')),
      ...Object.keys(storeReadInputs),
      ...Object.keys(artifactInputs),
      ...Object.keys(artifactDownloadInputs),
    ].filter((name) => !['github-token', 'age-recipients', 'age-identity'].includes(name)),
  ],
  ['database', [...Object.keys(postgresInputs), 'target-database-url', 'rehearse-rollback']],
]

export function inputGroup(name: string): InputGroup {
  return GROUPS.find(([, names]) => names.includes(name))?.[0] ?? 'general'
}
