import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

import { append } from '../arrays.js'
import { connectionSecrets } from '../deck/connection.js'
import { DeckhandError, InputError } from '../errors.js'
import { readCaCert } from '../http.js'
import { privateTempDir, writeFileAtomic } from '../fs-atomic.js'
import { KongAdmin } from '../kong/admin.js'
import { parsePgTarget } from '../postgres/connection.js'
import { checkOutputFile } from '../output-paths.js'
import { emptyReport, type Report } from '../report.js'
import { LiveRules } from '../secrets/live-rules.js'
import { addSchemaProblems } from '../secrets/report.js'
import { type RestoreOutcome, restoreGateway, STRATEGIES, type Strategy } from '../restore/restore.js'
import { parseSmokeRequests, type SmokeRequest } from '../restore/smoke.js'
import { timelineTables } from '../restore/timeline.js'
import { restoreTyk } from '../tyk/restore.js'
import { openTykTarget } from '../tyk/target.js'
import { COMMANDS } from '../../spec.js'
import { resolveBackupInput } from './artifacts.js'
import { fetchFromStore, namesStoredBackup } from './store.js'
import { type JobContext, type JobResult, openDeck, readConnection } from './context.js'
import { inputName, Inputs, type InputSource, requiredInput } from './inputs.js'
import { deckVariables } from './secret-bundle.js'
import { checkKonnectDeck, gatewayKind, gatewaySchemas, readDeckGateway, refuseInputs } from './gateway.js'
import { KONNECT_PARALLELISM } from './reconcile.js'
import { restoreKonnect } from '../konnect/restore.js'
import { expandState } from '../state/files.js'
import { convergeMs, readDesired, readTykEndpoint, refuseKongInputs } from './tyk.js'

export async function restoreJob(source: InputSource, ctx: JobContext): Promise<JobResult> {
  const inputs = new Inputs(COMMANDS.restore!.inputs, source)
  // The report is written once the gateway is restored: a place it cannot go must fail first.
  const reportFile = inputs.string('report-file')
  if (reportFile !== undefined) await checkOutputFile('report-file', reportFile, 'restore-report.json')
  const kind = gatewayKind(inputs)
  if (kind === 'tyk') return tykRestoreJob(inputs, ctx)
  if (kind === 'konnect') return konnectRestoreJob(inputs, ctx)
  const strategy = inputs.oneOf<Strategy>('strategy', STRATEGIES)
  const addresses = inputs.list('kong-addr')
  if (addresses.length === 0) throw requiredInput('kong-addr', 'the Kong Admin API address(es).')
  // Every address gets the checks deck's does; the first is the one deck talks to.
  const connections = addresses.map((address) => readConnection(inputs.with({ 'kong-addr': address }), ctx))
  const connection = connections[0]!
  // The restored gateway's own schemas decide what plans mask (it may be empty, but its schemas are there).
  const liveRules = new LiveRules(connection)
  const admins = await Promise.all(connections.map((c) => KongAdmin.open(c.kongAddr, c)))
  const smoke = parseSmokeRequests(inputs.list('smoke-requests'))
  maskSmokeQueries(smoke, ctx)
  const keyringExport = await readKeyring(inputs.string('keyring-export'))
  if (keyringExport) ctx.secret(keyringExport)

  const dumpInput = inputs.string('db-dump')
  const url = inputs.string('database-url')
  if (url) ctx.secret(url)
  const usesDatabase = dumpInput !== undefined && strategy !== 'declarative' && strategy !== 'dbless'
  if (strategy === 'database' && dumpInput === undefined)
    throw new InputError(
      `${inputName('strategy')} database needs ${inputName('db-dump')}: the folder, manifest or artifact name of a db-dump backup.`,
    )
  const target = usesDatabase ? parsePgTarget(url, ctx.env) : undefined
  if (target?.password) ctx.secret(target.password)
  const dump = !usesDatabase
    ? undefined
    : namesStoredBackup(inputs, dumpInput!)
      ? await fetchFromStore(inputs, ctx, 'db', dumpInput!)
      : await resolveBackupInput(inputs, ctx, dumpInput!, 'db-dump')
  // The declarative state from a store: what dump stored there (with its secret bundle), latest or at a time.
  const stateList = inputs.list('state')
  let storedState: Awaited<ReturnType<typeof fetchFromStore>> | undefined
  try {
    if (stateList.length === 1 && namesStoredBackup(inputs, stateList[0]!))
      storedState = await fetchFromStore(inputs, ctx, 'state', stateList[0]!)
  } catch (err) {
    await dump?.cleanup()
    throw err
  }

  try {
    const outcome = await restoreGateway({
      strategy,
      admins,
      state: storedState ? [storedState.path] : stateList.length > 0 ? stateList : ['kong'],
      dbDump: dump?.path,
      database: target && {
        target,
        jobs: inputs.integer('jobs'),
        noOwner: inputs.boolean('no-owner'),
        binDir: inputs.string('postgres-bin'),
      },
      restartCommand: inputs.string('restart-command'),
      keyringExport,
      overwrite: inputs.boolean('overwrite'),
      waitTimeoutSeconds: inputs.integer('wait-timeout')!,
      smoke,
      smokeWindowMs: inputs.integer('smoke-timeout')! * 1000,
      // The proxy presents the gateway's certificate too (KongGateway's generated one covers both).
      smokeTls: { ca: await readCaCert(connection.caCert), skipVerify: connection.tlsSkipVerify },
      deck: () => openDeck(inputs, ctx, connection),
      reconcile: {
        logger: ctx.logger,
        secrets: [...connectionSecrets(connection), ...(keyringExport ? [keyringExport] : [])],
        parallelism: inputs.integer('parallelism'),
        liveRules,
      },
      env: ctx.env,
      variables: (files) => deckVariables(inputs, ctx, files),
      secret: ctx.secret,
      logger: ctx.logger,
    })
    const result = await restoreResult(inputs, outcome)
    addSchemaProblems(result.report, liveRules.problems)
    return result
  } finally {
    await dump?.cleanup()
    await storedState?.cleanup()
  }
}

/**
 * gateway: konnect: the control planes of a dump, each created again when it is gone, synced and proved by a
 * second plan.
 */
async function konnectRestoreJob(inputs: Inputs, ctx: JobContext): Promise<JobResult> {
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
    checkKonnectDeck(deck.deck.features)
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

async function restoreResult(inputs: Inputs, outcome: RestoreOutcome): Promise<JobResult> {
  const reportFile = await writeReport(inputs.string('report-file'), outcome)
  return {
    ok: outcome.verified,
    report: describe(outcome, reportFile),
    outputs: {
      'strategy-used': outcome.strategyUsed ?? '',
      'rto-seconds': String(outcome.rtoSeconds),
      'entities-restored': String(outcome.entitiesRestored),
      verified: String(outcome.verified),
      report: reportFile,
    },
  }
}

/** gateway: tyk: the API and policy files into a Tyk gateway (or Dashboard), proved by a re-plan. */
async function tykRestoreJob(inputs: Inputs, ctx: JobContext): Promise<JobResult> {
  refuseKongInputs(inputs, [
    'kong-addr',
    'kong-admin-token',
    'db-dump',
    'restart-command',
    'keyring-export',
    'age-identity',
    'secrets-bundle',
  ])
  const strategy = inputs.oneOf<Strategy>('strategy', STRATEGIES)
  if (strategy !== 'auto' && strategy !== 'declarative') {
    throw new DeckhandError(
      `strategy ${strategy} is for Kong: a Tyk gateway is restored from its API and policy files (auto or declarative); restore its Redis with db-restore.`,
    )
  }
  const smoke = parseSmokeRequests(inputs.list('smoke-requests'))
  maskSmokeQueries(smoke, ctx)
  const desired = await readDesired(inputs, ctx)
  const target = await openTykTarget(readTykEndpoint(inputs, ctx), ctx.logger, false)
  const outcome = await restoreTyk({
    target,
    desired: desired.objects,
    files: desired.paths,
    overwrite: inputs.boolean('overwrite'),
    waitTimeoutSeconds: inputs.integer('wait-timeout')!,
    convergeMs: convergeMs(inputs),
    smoke,
    smokeWindowMs: inputs.integer('smoke-timeout')! * 1000,
    logger: ctx.logger,
  })
  return restoreResult(inputs, outcome)
}

/** Query values of smoke URLs often carry API keys. */
export function maskSmokeQueries(smoke: readonly SmokeRequest[], ctx: JobContext): void {
  for (const { url } of smoke)
    for (const value of new URL(url).searchParams.values()) if (value.length >= 3) ctx.secret(value)
}

/** keyring-export holds the export itself, or names a file holding it. */
async function readKeyring(value: string | undefined): Promise<string | undefined> {
  if (!value) return undefined
  const text = value.includes('\n') ? undefined : await readFile(value, 'utf8').catch(() => undefined)
  if (text === undefined) {
    if (/^[A-Za-z0-9+/=\s]+$/.test(value)) return value.replace(/\s+/g, '')
    throw new DeckhandError(
      'keyring-export is neither a keyring export (the base64 data of POST /keyring/export) nor a readable file.',
    )
  }
  const trimmed = text.trim()
  // A file may hold the whole answer of /keyring/export: {"data": "…"}.
  if (trimmed.startsWith('{')) {
    const data = (JSON.parse(trimmed) as { data?: unknown }).data
    if (typeof data === 'string') return data
  }
  return trimmed
}

async function writeReport(path: string | undefined, outcome: RestoreOutcome): Promise<string> {
  const file = path ?? join((await privateTempDir('deckhand-restore-')).path, 'restore-report.json')
  const document = { format: 'deckhand-restore/1', generatedAt: new Date().toISOString(), ...outcome }
  await writeFileAtomic(file, JSON.stringify(document, null, 2) + '\n')
  return file
}

/** The job summary: the verdict and RTO first, then the phases, checks and what was (not) restored. */
function describe(outcome: RestoreOutcome, reportFile: string): Report {
  const report = emptyReport('deckhand restore')
  const gateway =
    outcome.gateway?.edition === 'tyk'
      ? `Tyk ${outcome.gateway.version} at ${outcome.gateway.nodes.join(', ')}`
      : outcome.gateway?.edition === 'konnect'
        ? `Konnect control plane(s) ${outcome.gateway.nodes.join(', ')}`
        : outcome.gateway
          ? `Kong ${outcome.gateway.version} (${outcome.gateway.edition}, ${outcome.gateway.database === 'off' ? 'DB-less' : outcome.gateway.database}) at ${outcome.gateway.nodes.join(', ')}`
          : 'the gateway'
  if (outcome.error) {
    report.lines.push(`Restore of ${gateway} failed after ${outcome.rtoSeconds} s: ${outcome.error.message}`)
    report.annotations.push({ level: 'error', title: 'deckhand restore', message: outcome.error.message })
    for (const detail of outcome.error.details.slice(0, 10))
      report.annotations.push({ level: 'error', title: 'deckhand restore', message: detail })
  } else if (outcome.verified) {
    report.lines.push(
      `Restored ${gateway} with the ${outcome.strategyUsed} strategy and verified it: RTO ${outcome.rtoSeconds} s, ${outcome.entitiesRestored} entities restored.`,
    )
  } else {
    const failed = outcome.checks.filter((c) => !c.ok)
    report.lines.push(
      `Restored ${gateway} with the ${outcome.strategyUsed} strategy, but ${failed.length} check(s) failed: not verified (${outcome.rtoSeconds} s).`,
    )
    for (const check of failed)
      report.annotations.push({
        level: 'error',
        title: `deckhand restore: ${check.name}`,
        message: check.detail,
      })
  }
  if (outcome.secretBundle) report.lines.push(outcome.secretBundle)
  if (outcome.fallback)
    report.lines.push(
      `The database restore failed, so the declarative state was restored: ${outcome.fallback}`,
    )
  append(
    report.lines,
    outcome.restored.map((r) => `Restored: ${r}`),
  )
  for (const item of outcome.notRestored) {
    report.lines.push(`Not restored: ${item}`)
    report.annotations.push({ level: 'warning', title: 'deckhand restore: not restored', message: item })
  }
  for (const warning of outcome.warnings)
    report.annotations.push({ level: 'warning', title: 'deckhand restore', message: warning })
  append(
    report.tables,
    timelineTables(`Recovery timeline (RTO ${outcome.rtoSeconds} s)`, outcome.phases, outcome.checks),
  )
  report.lines.push(`Report: ${reportFile}`)
  return report
}
