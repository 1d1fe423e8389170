import type { KonnectConnection } from '../deck/connection.js'
import { LiveRules } from '../secrets/live-rules.js'
import type { KonnectApi } from './api.js'

/**
 * The plugin schemas each control plane serves, for redaction and plan masking beside the bundled catalogue:
 * Konnect's Config API answers `GET /v2/control-planes/{id}/core-entities/schemas/plugins/{name}` as Kong's
 * Admin API answers `/schemas/plugins/{name}` (`{fields: [...]}`; control-planes-config v2 openapi.yaml,
 * fetch-plugin-schema), custom plugins included. It has no node information (`GET /`) and no entity or vault
 * schema reads, so only plugins are asked for, keyed by the control plane's address.
 */
export class KonnectSchemas {
  private readonly byName = new Map<string, Promise<LiveRules | undefined>>()
  private readonly made: LiveRules[] = []

  constructor(
    private readonly connection: KonnectConnection,
    private readonly api: KonnectApi,
  ) {}

  /** The rules of one control plane, or undefined when Konnect does not know it (yet). */
  for(controlPlane: string): Promise<LiveRules | undefined> {
    let rules = this.byName.get(controlPlane)
    if (!rules) {
      rules = this.open(controlPlane)
      this.byName.set(controlPlane, rules)
    }
    return rules
  }

  /** Why schemas were not read, over every control plane; never a value. */
  get problems(): string[] {
    return this.made.flatMap((rules) => rules.problems)
  }

  private async open(controlPlane: string): Promise<LiveRules | undefined> {
    const plane = await this.api.findControlPlane(controlPlane)
    if (!plane) {
      this.byName.delete(controlPlane)
      return undefined
    }
    const c = this.connection
    const rules = new LiveRules(
      {
        kongAddr: `${c.konnectAddr}/v2/control-planes/${encodeURIComponent(plane.id)}/core-entities`,
        headers: [`Authorization:Bearer ${c.token}`],
        caCert: c.caCert,
        tlsSkipVerify: c.tlsSkipVerify,
        tlsServerName: c.tlsServerName,
        timeoutSeconds: c.timeoutSeconds,
      },
      { version: 'konnect', kinds: ['plugins'] },
    )
    this.made.push(rules)
    return rules
  }
}
