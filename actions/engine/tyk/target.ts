import type { Logger } from '../log.js'
import { type TykConnection, TykGateway } from './gateway-api.js'
import { applySteps, type TykWriter } from './sync.js'
import { locateTykSync, TykSync } from './tyk-sync.js'

/** The Tyk deckhand talks to: an open-source gateway through its API, or a Dashboard through tyk-sync. */
export interface TykTarget {
  /** The address, for reports. */
  address: string
  /** e.g. `Tyk Gateway v5.8.1`, or `Tyk Dashboard (tyk-sync)`. */
  description: string
  writer: TykWriter
  /** Present for a gateway: liveness probes for restore's wait. */
  gateway?: TykGateway
}

export type TykEndpoint =
  | { kind: 'gateway'; connection: TykConnection }
  | { kind: 'dashboard'; url: string; secret: string; tykSyncPath?: string; pathEnv: string }

/** Opens the target; for a gateway, `probe` says whether to ask `/hello` for its version first. */
export async function openTykTarget(endpoint: TykEndpoint, logger: Logger, probe = true): Promise<TykTarget> {
  if (endpoint.kind === 'dashboard') {
    const program = await locateTykSync(endpoint.tykSyncPath, endpoint.pathEnv)
    return {
      address: endpoint.url,
      description: `Tyk Dashboard at ${endpoint.url} (tyk-sync)`,
      writer: new TykSync(program, endpoint.url, endpoint.secret, logger),
    }
  }
  const gateway = await TykGateway.open(endpoint.connection)
  const version = probe ? (await gateway.hello()).version : undefined
  const secrets = [endpoint.connection.secret]
  return {
    address: gateway.address,
    description: `Tyk Gateway${version ? ` ${version}` : ''} at ${gateway.address}`,
    gateway,
    writer: {
      dashboard: false,
      read: () => gateway.list(),
      apply: (plan) => applySteps(plan, gateway, logger, secrets),
    },
  }
}
