import { type Connection, connectionSecrets, type KonnectConnection } from '../deck/connection.js'
import { InputError } from '../errors.js'
import { konnectAddress } from '../konnect/address.js'
import { KonnectApi } from '../konnect/api.js'
import { KonnectSchemas } from '../konnect/schemas.js'
import { LiveRules } from '../secrets/live-rules.js'
import { readCaCert } from '../http.js'
import type { TargetPlan } from '../plan/model.js'
import type { SyncResult } from '../reconcile.js'
import type { Report } from '../report.js'
import { type JobContext, type JobResult, readConnection } from './context.js'
import { type Inputs, inputName, requiredInput } from './inputs.js'

/**
 * The gateway a job works on, from the `gateway` input: a self-managed Kong (its Admin API, through deck), a
 * Kong Konnect control plane (deck's Konnect mode, and Konnect's own API for what deck cannot do), or Tyk.
 * Inputs that belong to another gateway are refused, never silently ignored.
 */
export type GatewayKind = 'kong' | 'konnect' | 'tyk'

/** Where a dump goes when output-dir is not given: named for the gateway. */
export const DEFAULT_OUTPUT_DIR = { kong: 'kong', konnect: 'konnect', tyk: 'tyk' } as const

/**
 * What diff and sync share once a gateway has planned: the plans, what to call the gateway and what was planned
 * (`scope`, when not Kong's workspaces), the secret bundle's line, the tool recorded in the plan file, and how
 * to carry the plans out. A plan that failed before reaching the gateway carries its report alone.
 */
export type Planned =
  | {
      failed: false
      report: Report
      plans: TargetPlan[]
      gateway: string
      scope: string | undefined
      bundleLine: string | undefined
      tool: Record<string, string>
      sync: () => Promise<Map<TargetPlan, SyncResult>>
    }
  | { failed: true; report: Report }

/** The jobs a gateway carries out once the entry points have read and checked their inputs. */
export interface GatewayJobs {
  dump(inputs: Inputs, ctx: JobContext): Promise<JobResult>
  plan(mode: 'diff' | 'sync', inputs: Inputs, ctx: JobContext): Promise<Planned>
  restore(inputs: Inputs, ctx: JobContext): Promise<JobResult>
}

const KONNECT_ONLY = ['konnect-token', 'konnect-region', 'konnect-addr', 'konnect-control-plane']
/** What only a self-managed Kong's Admin API takes. */
const KONG_ONLY = ['kong-addr', 'kong-admin-token', 'headers', 'workspace', 'all-workspaces']

export function gatewayKind(inputs: Inputs): GatewayKind {
  const kind = inputs.oneOf<GatewayKind>('gateway', ['kong', 'konnect', 'tyk'])
  if (kind !== 'konnect') refuseInputs(inputs, KONNECT_ONLY, `for ${inputName('gateway')} konnect`)
  return kind
}

/** Refuses inputs that were given but mean nothing here: "<inputs> is/are <purpose>." */
export function refuseInputs(inputs: Inputs, names: readonly string[], purpose: string): void {
  const set = names.filter(
    (name) => inputs.has(name) && inputs.given(name) && inputs.string(name) !== 'false',
  )
  if (set.length > 0) {
    throw new InputError(`${set.map(inputName).join(', ')} ${set.length === 1 ? 'is' : 'are'} ${purpose}.`)
  }
}

/** A self-managed Kong's Admin API, with what reports call it. */
export interface KongTarget {
  kind: 'kong'
  connection: Connection
  address: string
}

/** A Konnect organization's region: deck's Konnect mode, and Konnect's own API for what deck cannot do. */
export interface KonnectTarget {
  kind: 'konnect'
  connection: KonnectConnection
  address: string
  api: KonnectApi
}

export type DeckGateway = KongTarget | KonnectTarget

/** The connection inputs of a deck-driven gateway, its secrets masked at once. */
export async function readDeckGateway(
  kind: 'konnect',
  inputs: Inputs,
  ctx: JobContext,
): Promise<KonnectTarget>
export async function readDeckGateway(
  kind: 'kong' | 'konnect',
  inputs: Inputs,
  ctx: JobContext,
): Promise<DeckGateway>
export async function readDeckGateway(
  kind: 'kong' | 'konnect',
  inputs: Inputs,
  ctx: JobContext,
): Promise<DeckGateway> {
  if (kind === 'kong') {
    const connection = readConnection(inputs, ctx)
    return { kind, connection, address: connection.kongAddr }
  }
  refuseInputs(inputs, KONG_ONLY, `for a self-managed Kong's Admin API, not ${inputName('gateway')} konnect`)
  const token = inputs.string('konnect-token')
  if (!token) {
    throw requiredInput(
      'konnect-token',
      'a Konnect personal access token (kpat_…) or system account token (spat_…) for gateway: konnect',
    )
  }
  const connection: KonnectConnection = {
    kind: 'konnect',
    konnectAddr: konnectAddress(inputs.string('konnect-region'), inputs.string('konnect-addr')),
    token,
    tlsSkipVerify: inputs.boolean('tls-skip-verify'),
    caCert: inputs.string('ca-cert'),
    tlsServerName: inputs.string('tls-server-name'),
    timeoutSeconds: inputs.integer('timeout'),
  }
  for (const secret of connectionSecrets(connection)) ctx.secret(secret)
  const api = new KonnectApi({
    address: connection.konnectAddr,
    token,
    logger: ctx.logger,
    tls: {
      ca: await readCaCert(connection.caCert),
      skipVerify: connection.tlsSkipVerify,
      serverName: connection.tlsServerName,
    },
    timeoutMs: connection.timeoutSeconds === undefined ? undefined : connection.timeoutSeconds * 1000,
  })
  return { kind, connection, address: connection.konnectAddr, api }
}

/**
 * The gateway's own schemas beside the bundled catalogue, for redaction and plan masking: Kong's Admin API,
 * or each Konnect control plane's plugin schemas. `problems` says why some could not be read.
 */
export interface GatewaySchemas {
  liveRules?: LiveRules
  liveRulesFor?: (controlPlane: string) => Promise<LiveRules | undefined>
  problems(): readonly string[]
}

export function gatewaySchemas(gateway: DeckGateway): GatewaySchemas {
  if (gateway.kind === 'kong') {
    const liveRules = new LiveRules(gateway.connection)
    return { liveRules, problems: () => liveRules.problems }
  }
  const schemas = new KonnectSchemas(gateway.connection, gateway.api)
  return { liveRulesFor: (controlPlane) => schemas.for(controlPlane), problems: () => schemas.problems }
}
