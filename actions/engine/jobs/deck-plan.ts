import { connectionSecrets } from '../deck/connection.js'
import type { TargetPlan } from '../plan/model.js'
import { readTargets } from '../plan/targets.js'
import { planTargets, type ReconcileOptions, syncTargets } from '../reconcile.js'
import { emptyReport } from '../report.js'
import { addSchemaProblems } from '../secrets/report.js'
import { expandState } from '../state/files.js'
import { type JobContext, openDeck } from './context.js'
import type { Inputs } from './inputs.js'
import { addProblems } from './problems.js'
import { deckVariables } from './secret-bundle.js'
import { gatewaySchemas, type Planned, readDeckGateway } from './gateway.js'

/** deck's parallelism against Konnect unless the job sets one. */
export const KONNECT_PARALLELISM = 4

/** What a Konnect plan covers, for its headline. */
function controlPlaneScope(plans: readonly TargetPlan[]): string {
  const count = new Set(plans.map((p) => p.controlPlane)).size
  return `${count} Konnect control plane${count === 1 ? '' : 's'}`
}

/** The plan of a deck-driven gateway (Kong's workspaces or Konnect control planes), and how to sync it. */
export async function planDeckJob(
  kind: 'kong' | 'konnect',
  mode: 'diff' | 'sync',
  inputs: Inputs,
  ctx: JobContext,
): Promise<Planned> {
  const report = emptyReport(`deckhand ${mode}`)
  const gateway = await readDeckGateway(kind, inputs, ctx)
  const konnect = gateway.kind === 'konnect'
  // Konnect rate-limits an organization: deck's 10 concurrent requests meet 429s on large syncs, so Kong's own
  // controllers lowered their Konnect concurrency to 4 (Kong/kubernetes-ingress-controller#7833).
  const parallelism = inputs.integer('parallelism') ?? (konnect ? KONNECT_PARALLELISM : undefined)
  const files = await expandState(
    inputs.list('state').length > 0 ? inputs.list('state') : [konnect ? 'konnect' : 'kong'],
  )
  // The secret bundle's values beneath the environment's: the files are checked against both.
  const variables = await deckVariables(inputs, ctx, files)
  const bundleLine = variables.describe()
  const read = await readTargets({
    state: files,
    workspace: konnect ? undefined : inputs.string('workspace'),
    konnect: konnect ? { controlPlane: inputs.string('konnect-control-plane') } : undefined,
    selectTags: inputs.list('select-tags'),
    env: variables.view(),
    hint: variables.missingHint(),
  })
  if (read.problems.length > 0) {
    // Caught before deck is even looked up: nothing has been sent anywhere.
    report.lines.push(
      `${read.problems.length} problem(s) in ${read.files.length} state file(s); nothing was planned or sent.`,
    )
    if (bundleLine) report.lines.push(bundleLine)
    addProblems(report, read.problems, mode)
    return { failed: true, report }
  }
  const deck = await openDeck(inputs, ctx, gateway.connection)
  deck.useVariables(variables.forDeck(read.envNames))
  // Values of the DECK_ variables the files use are secrets by construction (the dump put them there).
  const envValues = variables.values(read.envNames)
  for (const value of envValues) if (value.length >= 3) ctx.secret(value)
  const schemas = gatewaySchemas(gateway)
  const options: ReconcileOptions = {
    deck,
    logger: ctx.logger,
    secrets: [...connectionSecrets(gateway.connection), ...envValues],
    skipConsumers: inputs.boolean('skip-consumers'),
    parallelism,
    liveRules: schemas.liveRules,
    liveRulesFor: schemas.liveRulesFor,
  }
  const plans = await planTargets(read.targets, options)
  addSchemaProblems(report, schemas.problems())
  return {
    failed: false,
    report,
    plans,
    gateway: gateway.address,
    scope: konnect ? controlPlaneScope(plans) : undefined,
    bundleLine,
    tool: { deck: deck.deck.features.version },
    // Only sync has workspace-concurrency.
    sync: () => syncTargets(plans, { ...options, concurrency: inputs.integer('workspace-concurrency') ?? 1 }),
  }
}
