import type { GatewayJobs, GatewayKind } from './gateway.js'
import { deckDumpJob } from './deck-dump.js'
import { planDeckJob } from './deck-plan.js'
import { kongRestoreJob } from './kong-restore.js'
import { konnectRestoreJob } from './konnect-restore.js'
import { tykDumpJob, tykPlanned, tykRestoreJob } from './tyk.js'

// A new gateway is one module implementing GatewayJobs, plus its entry here.
export const GATEWAYS: Record<GatewayKind, GatewayJobs> = {
  kong: {
    dump: (inputs, ctx) => deckDumpJob('kong', inputs, ctx),
    plan: (mode, inputs, ctx) => planDeckJob('kong', mode, inputs, ctx),
    restore: kongRestoreJob,
  },
  konnect: {
    dump: (inputs, ctx) => deckDumpJob('konnect', inputs, ctx),
    plan: (mode, inputs, ctx) => planDeckJob('konnect', mode, inputs, ctx),
    restore: konnectRestoreJob,
  },
  tyk: { dump: tykDumpJob, plan: tykPlanned, restore: tykRestoreJob },
}
