import { readFile } from 'node:fs/promises'

import { connectionSecrets } from '../deck/connection.js'
import { DeckhandError, InputError } from '../errors.js'
import { readCaCert } from '../http.js'
import { KongAdmin } from '../kong/admin.js'
import { parsePgTarget } from '../postgres/connection.js'
import { LiveRules } from '../secrets/live-rules.js'
import { addSchemaProblems } from '../secrets/report.js'
import { restoreGateway, STRATEGIES, type Strategy } from '../restore/restore.js'
import { parseSmokeRequests } from '../restore/smoke.js'
import { resolveBackupInput } from './artifacts.js'
import { fetchFromStore, namesStoredBackup } from './store.js'
import { type JobContext, type JobResult, openDeck, readConnection } from './context.js'
import { inputName, type Inputs, requiredInput } from './inputs.js'
import { deckVariables } from './secret-bundle.js'
import { maskSmokeQueries, restoreResult } from './restore-result.js'

/** gateway: kong: a self-managed Kong from its declarative state or a database dump, proved by checks. */
export async function kongRestoreJob(inputs: Inputs, ctx: JobContext): Promise<JobResult> {
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
