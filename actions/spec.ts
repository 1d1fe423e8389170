/**
 * Every command's inputs and outputs, in one place. The action.yml files, the README tables and the
 * CLI's options and help are generated from this (`npm run docs`), and a test fails when they drift.
 * Input names are the action input names and the CLI option names alike.
 */

import { DEFAULT_DECK_VERSION } from './engine/deck/version.js'

export type InputType = 'string' | 'boolean' | 'integer' | 'list'

export interface InputSpec {
  description: string
  type: InputType
  required?: boolean
  /** Default as the action sees it; the code applies the same default when the input is empty. */
  default?: string
  /** Masked in logs and never echoed. */
  secret?: boolean
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
  'tls-skip-verify': {
    type: 'boolean',
    default: 'false',
    description: 'Skip verification of the Admin API certificate.',
  },
  'ca-cert': {
    type: 'string',
    description: 'CA certificate for the Admin API: PEM content or a path to a PEM file.',
  },
  'tls-server-name': {
    type: 'string',
    description: 'Server name to verify the Admin API certificate against.',
  },
  timeout: { type: 'integer', default: '30', description: 'Seconds deck waits for each Admin API request.' },
}

export const COMMANDS: Record<string, CommandSpec> = {
  dump: {
    name: 'dump',
    summary:
      'Back up Kong declaratively: normalized, byte-stable deck files per workspace with secrets redacted.',
    inputs: {
      'kong-addr': { ...connectionInputs['kong-addr']!, required: true },
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
        default: 'kong',
        description: 'Directory that receives <workspace>.yaml, required-env.txt and SHA256SUMS.',
      },
      'redact-secrets': {
        type: 'boolean',
        default: 'true',
        description:
          'Replace every credential, private key and secret config value with a deck environment reference to a DECK_ variable.',
      },
      'allow-empty': {
        type: 'boolean',
        default: 'false',
        description: 'Accept a dump with no entities even when the previous dump had some.',
      },
      ...deckInputs,
      'tls-skip-verify': connectionInputs['tls-skip-verify']!,
      'ca-cert': connectionInputs['ca-cert']!,
      'tls-server-name': connectionInputs['tls-server-name']!,
      timeout: connectionInputs.timeout!,
    },
    outputs: {
      files: 'Written state files, one path per line.',
      workspaces: 'Dumped workspaces, one per line.',
      'entity-count': 'Number of entities dumped, nested ones included.',
      digest: 'sha256 over the normalized files: equal digests mean an unchanged configuration.',
      'secrets-redacted': 'Number of secret values replaced by environment references.',
      'required-env': 'Environment variables the files reference, one per line (names only).',
      changed: 'true when the files differ from what output-dir held before.',
    },
  },
  validate: {
    name: 'validate',
    summary:
      'Check deck state files: YAML, duplicates, unset DECK_ variables, then deck file/gateway validate.',
    inputs: {
      state: { type: 'list', default: 'kong', description: 'State files or directories, one per line.' },
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
        description: 'Number of concurrent requests deck makes when online (deck default 10).',
      },
      ...connectionInputs,
      ...deckInputs,
    },
    outputs: {
      valid: 'true when every check passed.',
      problems: 'Number of problems found.',
    },
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
  for (const spec of Object.values(COMMANDS)) {
    for (const [name, input] of Object.entries(spec.inputs)) {
      const existing = union[name]
      // Required-ness and defaults depend on the command; the code applies them.
      if (!existing) union[name] = { ...input, required: false, default: undefined }
    }
  }
  return union
}
