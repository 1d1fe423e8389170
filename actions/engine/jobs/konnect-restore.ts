import { connectionSecrets } from '../deck/connection.js'
import { InputError } from '../errors.js'
import { restoreKonnect } from '../konnect/restore.js'
import { STRATEGIES, type Strategy } from '../restore/restore.js'
import { addSchemaProblems } from '../secrets/report.js'
import { expandState } from '../state/files.js'
import { fetchFromStore, namesStoredBackup } from './store.js'
import { type JobContext, type JobResult, openDeck } from './context.js'
import { inputName, type Inputs } from './inputs.js'
import { deckVariables } from './secret-bundle.js'
import { gatewaySchemas, readDeckGateway, refuseInputs } from './gateway.js'
import { KONNECT_PARALLELISM } from './deck-plan.js'
import { restoreResult } from './restore-result.js'

/**
 * gateway: konnect: the control planes of a dump, each created again when it is gone, synced and proved by a
 * second plan.
 */
export async function konnectRestoreJob(inputs: Inputs, ctx: JobContext): Promise<JobResult> {
  refuseInputs(
    inputs,
    ['db-dump', 'database-url', 'keyring-export', 'restart-command', 'smoke-requests'],
    `not used by ${inputName('gateway')} konnect: Konnect keeps its own database, and data planes take their configuration from it`,
  )
  const strategy = inputs.oneOf<Strategy>('strategy', STRATEGIES)
  if (strategy !== 'auto' && strategy !== 'declarative')
    throw new InputError(
      `${inputName('strategy')} ${strategy} is for a self-managed Kong: a Konnect control plane is restored from its dump (auto or declarative).`,
    )
  const gateway = await readDeckGateway('konnect', inputs, ctx)
  const stateList = inputs.list('state')
  const storedState =
    stateList.length === 1 && namesStoredBackup(inputs, stateList[0]!)
      ? await fetchFromStore(inputs, ctx, 'state', stateList[0]!)
      : undefined
  try {
    const state = storedState ? [storedState.path] : stateList.length > 0 ? stateList : ['konnect']
    const files = await expandState(state)
    const variables = await deckVariables(inputs, ctx, files)
    const deck = await openDeck(inputs, ctx, gateway.connection)
    const schemas = gatewaySchemas(gateway)
    const outcome = await restoreKonnect({
      api: gateway.api,
      address: gateway.address,
      state: files,
      overwrite: inputs.boolean('overwrite'),
      env: variables.view(),
      hint: variables.missingHint(),
      reconcile: (envNames) => {
        deck.useVariables(variables.forDeck(envNames))
        // Values of the DECK_ variables the files use are secrets by construction (the dump put them there).
        const envValues = variables.values(envNames)
        for (const value of envValues) if (value.length >= 3) ctx.secret(value)
        return {
          deck,
          logger: ctx.logger,
          secrets: [...connectionSecrets(gateway.connection), ...envValues],
          parallelism: inputs.integer('parallelism') ?? KONNECT_PARALLELISM,
          liveRulesFor: schemas.liveRulesFor,
        }
      },
      logger: ctx.logger,
    })
    outcome.secretBundle = variables.describe()
    const result = await restoreResult(inputs, outcome)
    addSchemaProblems(result.report, schemas.problems())
    return result
  } finally {
    await storedState?.cleanup()
  }
}
