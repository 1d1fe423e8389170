import type { ArtifactStore } from '../artifacts.js'
import {
  type Connection,
  connectionSecrets,
  type GatewayConnection,
  isKonnect,
  parseHeaders,
  parseKongAddr,
} from '../deck/connection.js'
import { type ToolStore, locateDeck } from '../deck/install.js'
import { DeckRunner } from '../deck/runner.js'
import { checkKonnectSupport, deckFeatures } from '../deck/version.js'
import type { Logger } from '../log.js'
import type { PullRequestHost } from '../pull-requests.js'
import type { Report, Review } from '../report.js'
import type { Inputs } from './inputs.js'

/** What a job needs from the place it runs in. */
export interface JobContext {
  logger: Logger
  /** Where downloaded deck releases are cached. */
  store: ToolStore
  env: NodeJS.ProcessEnv
  /** Called with every secret value as soon as it is known, so the host can mask it. */
  secret: (value: string) => void
  /** Workflow artifacts, where the host has them (GitHub Actions); absent elsewhere. */
  artifacts?: ArtifactStore
  /** Opens pull requests for the repository behind a git remote, where the host can (GitHub). */
  pullRequests?: (options: { remoteUrl: string; token?: string }) => Promise<PullRequestHost>
}

export interface JobResult {
  outputs: Record<string, string>
  report: Report
  /** False when the job ran but found the subject failing (e.g. invalid files): exit non-zero. */
  ok: boolean
  /** Reports for reviewers of a change (plans), posted by adapters that can (pull request comments). */
  reviews?: Review[]
}

/** Reads the connection inputs; the address is required only where the command talks to Kong. */
export function readConnection(inputs: Inputs, ctx: JobContext): Connection {
  const connection = connectionFromInputs(inputs)
  for (const secret of connectionSecrets(connection)) ctx.secret(secret)
  return connection
}

/** The connection the inputs describe, without registering its secrets (callers that log must, as readConnection does). */
export function connectionFromInputs(inputs: Inputs): Connection {
  return {
    kongAddr: parseKongAddr(inputs.string('kong-addr')),
    adminToken: inputs.string('kong-admin-token'),
    headers: parseHeaders(inputs.list('headers')),
    tlsSkipVerify: inputs.boolean('tls-skip-verify'),
    caCert: inputs.string('ca-cert'),
    tlsServerName: inputs.string('tls-server-name'),
    timeoutSeconds: inputs.integer('timeout'),
  }
}

/** Finds or installs deck per the deck-path / deck-version inputs and wraps it with the connection. */
export async function openDeck(
  inputs: Inputs,
  ctx: JobContext,
  connection: GatewayConnection | undefined,
): Promise<DeckRunner> {
  const located = await locateDeck({
    deckPath: inputs.string('deck-path'),
    version: inputs.string('deck-version'),
    releaseBaseUrl: ctx.env.DECKHAND_DECK_RELEASES_URL || undefined,
    store: ctx.store,
    logger: ctx.logger,
    pathEnv: ctx.env.PATH,
  })
  const features = deckFeatures(located.version)
  if (isKonnect(connection)) checkKonnectSupport(features)
  const timeoutSeconds = inputs.has('deck-timeout') ? inputs.integer('deck-timeout') : undefined
  return new DeckRunner({ path: located.path, features }, connection, ctx.logger, {
    timeoutMs: timeoutSeconds === undefined ? undefined : timeoutSeconds * 1000,
  })
}
