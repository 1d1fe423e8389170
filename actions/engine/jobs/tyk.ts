import { append } from '../arrays.js'
import { parseAddress } from '../deck/connection.js'
import { DeckhandError, InputError } from '../errors.js'
import type { SyncResult } from '../reconcile.js'
import { describeCounts } from '../reconcile.js'
import { emptyReport } from '../report.js'
import { restoreTyk } from '../tyk/restore.js'
import { STRATEGIES, type Strategy } from '../restore/restore.js'
import { parseSmokeRequests } from '../restore/smoke.js'
import type { TargetPlan } from '../plan/model.js'
import { readTykState, writeTykDump } from '../tyk/folder.js'
import { TYK_SCOPE, type TykObject } from '../tyk/objects.js'
import { planTyk } from '../tyk/plan.js'
import { fillEnv, referencedEnv } from '../tyk/redact.js'
import { confirmGatewayWrites, waitForConvergence } from '../tyk/sync.js'
import { openTykTarget, type TykEndpoint, type TykTarget } from '../tyk/target.js'
import type { JobContext, JobResult } from './context.js'
import { type Planned, refuseInputs } from './gateway.js'
import { type Inputs, inputName, requiredInput } from './inputs.js'
import { maskSmokeQueries, restoreResult } from './restore-result.js'

/**
 * The Tyk side of dump, diff, sync and restore (`gateway: tyk`). The jobs read the same inputs as for
 * Kong where they mean the same (output-dir, state, max-deletes, overwrite…); Kong-only ones are
 * refused rather than silently ignored.
 */

/**
 * converge-timeout in milliseconds: how long a gateway may take to serve what was written (a reload
 * runs in the background). Diff writes nothing and has no such input.
 */
export function convergeMs(inputs: Inputs): number {
  return ((inputs.has('converge-timeout') ? inputs.integer('converge-timeout') : undefined) ?? 60) * 1000
}

/** Inputs that only mean something to Kong (and deck): set with gateway: tyk, they are a usage error. */
export function refuseKongInputs(inputs: Inputs, names: readonly string[]): void {
  refuseInputs(inputs, names, `for Kong and cannot be used with ${inputName('gateway')} tyk`)
}

/** Reads tyk-addr or tyk-dashboard, and the secret, which is masked at once. */
export function readTykEndpoint(inputs: Inputs, ctx: JobContext): TykEndpoint {
  const secret = inputs.string('tyk-secret')
  if (!secret) {
    throw requiredInput(
      'tyk-secret',
      `the Tyk Gateway API secret (secret in tyk.conf), or the Dashboard API key with ${inputName('tyk-dashboard')}, for ${inputName('gateway')} tyk.`,
    )
  }
  ctx.secret(secret)
  const addr = inputs.string('tyk-addr')
  const dashboard = inputs.string('tyk-dashboard')
  if (addr && dashboard)
    throw new InputError(
      `Set ${inputName('tyk-addr')} (the Gateway API) or ${inputName('tyk-dashboard')} (tyk-sync), not both.`,
    )
  if (dashboard) {
    return {
      kind: 'dashboard',
      url: parseAddress(
        dashboard,
        'tyk-dashboard',
        'the Tyk Dashboard',
        'http://tyk-dashboard:3000',
        'tyk-secret',
      ),
      secret,
      tykSyncPath: inputs.string('tyk-sync-path'),
      pathEnv: ctx.env.PATH ?? '',
    }
  }
  if (!addr) {
    throw new InputError(
      `For ${inputName('gateway')} tyk, set ${inputName('tyk-addr')} (the Gateway API, e.g. http://tyk-gateway:8080) or ${inputName('tyk-dashboard')} (a Tyk Dashboard, through tyk-sync).`,
    )
  }
  return {
    kind: 'gateway',
    connection: {
      addr: parseAddress(addr, 'tyk-addr', 'the Tyk Gateway', 'http://tyk-gateway:8080', 'tyk-secret'),
      secret,
      caCert: inputs.string('ca-cert'),
      tlsSkipVerify: inputs.boolean('tls-skip-verify'),
      tlsServerName: inputs.string('tls-server-name'),
      timeoutSeconds: inputs.integer('timeout'),
    },
  }
}

export async function tykDumpJob(inputs: Inputs, ctx: JobContext): Promise<JobResult> {
  if (inputs.string('store'))
    throw new DeckhandError(
      `${inputName('store')} is not supported for ${inputName('gateway')} tyk yet: keep the dump in git (commit) or as an artifact.`,
    )
  refuseKongInputs(inputs, [
    'workspace',
    'all-workspaces',
    'select-tags',
    'skip-consumers',
    'with-id',
    'age-recipients',
  ])
  const target = await openTykTarget(readTykEndpoint(inputs, ctx), ctx.logger)
  const redactSecrets = inputs.boolean('redact-secrets')
  if (!redactSecrets) {
    ctx.logger.warn(
      `${inputName('redact-secrets')} is false: the files hold plaintext secrets. Keep them out of git and artifacts.`,
    )
  }
  const objects = await target.writer.read()
  const result = await writeTykDump({
    objects,
    outputDir: inputs.string('output-dir') ?? 'tyk',
    redactSecrets,
    allowEmpty: inputs.boolean('allow-empty'),
    logger: ctx.logger,
  })
  const report = emptyReport('deckhand dump')
  report.lines.push(
    `${result.counts.api} API(s) and ${result.counts.policy} polic${result.counts.policy === 1 ? 'y' : 'ies'} from ` +
      `${target.description}; ${result.changed ? 'changed' : 'unchanged'} since the last dump.`,
    `Digest ${result.digest}; ${result.secretsRedacted} secret value(s) replaced by environment references.`,
  )
  if (result.referencesKept > 0) {
    report.lines.push(
      `${result.referencesKept} value(s) the gateway resolved from env://, secrets://, vault:// or consul:// ` +
        'references kept as the references the previous dump held.',
    )
  }
  for (const warning of targetWarnings(target)) {
    ctx.logger.warn(warning)
    report.lines.push(`Warning: ${warning}`)
  }
  if (result.requiredEnv.length > 0) {
    report.lines.push(
      `Set ${result.requiredEnv.length} DECKHAND_TYK_ variable(s) listed in required-env.txt before syncing these files.`,
    )
  }
  for (const removed of result.removed) report.lines.push(`Removed ${removed}: no longer on the gateway.`)
  return {
    ok: true,
    report,
    outputs: {
      files: result.files.join('\n'),
      workspaces: '',
      'entity-count': String(result.entityCount),
      digest: result.digest,
      'secrets-redacted': String(result.secretsRedacted),
      'required-env': result.requiredEnv.join('\n'),
      changed: String(result.changed),
    },
  }
}

/** The state folder's objects with their DECKHAND_TYK_ references filled; every filled value is masked. */
export async function readDesired(
  inputs: Inputs,
  ctx: JobContext,
): Promise<{ objects: TykObject[]; paths: string[] }> {
  const paths = inputs.list('state')
  const state = paths.length > 0 ? paths : ['tyk']
  const { objects, origins } = await readTykState(state)
  const filled = objects.map((object, i) => {
    for (const name of referencedEnv(object.body)) {
      const value = ctx.env[name]
      if (value !== undefined && value.length >= 3) ctx.secret(value)
    }
    return { ...object, body: fillEnv(object.body, ctx.env, origins[i]!) }
  })
  return { objects: filled, paths: state }
}

/** What diff and sync need from Tyk: the plan, and how to carry it out. */
export interface TykPlanned {
  target: TykTarget
  plans: TargetPlan[]
  sync: () => Promise<Map<TargetPlan, SyncResult>>
}

export async function planTykJob(inputs: Inputs, ctx: JobContext): Promise<TykPlanned> {
  refuseKongInputs(inputs, [
    'workspace',
    'select-tags',
    'skip-consumers',
    'parallelism',
    'workspace-concurrency',
    'age-identity',
    'secrets-bundle',
  ])
  const desired = await readDesired(inputs, ctx)
  const target = await openTykTarget(readTykEndpoint(inputs, ctx), ctx.logger)
  const planned = planTyk(desired.objects, await target.writer.read(), desired.paths, {
    dashboard: target.writer.dashboard,
  })
  planned.plan.label = TYK_SCOPE
  append(planned.plan.warnings, targetWarnings(target))
  append(planned.plan.errors, await unsupported(desired.objects, target))
  ctx.logger.info(`tyk: ${describeCounts(planned.plan.counts)}`)
  const plan = planned.plan
  const timeoutMs = convergeMs(inputs)
  return {
    target,
    plans: [plan],
    sync: async () => {
      const outcome = await target.writer.apply(planned, desired.objects)
      if (target.gateway && outcome.failed.length === 0 && outcome.otherErrors.length === 0)
        append(
          outcome.otherErrors,
          await confirmGatewayWrites(planned, outcome.applied, target.gateway, timeoutMs),
        )
      if (outcome.failed.length === 0 && outcome.otherErrors.length === 0) {
        const after = await waitForConvergence(
          desired.objects,
          target.writer,
          desired.paths,
          timeoutMs,
          ctx.logger,
        )
        if (after.plan.counts.total > 0) {
          outcome.otherErrors.push(
            `the gateway still differs from the files ${timeoutMs / 1000} s after writing (converge-timeout): ${describeCounts(after.plan.counts)}`,
          )
        }
      }
      return new Map<TargetPlan, SyncResult>([[plan, { status: 'synced', outcome, unplanned: [] }]])
    },
  }
}

/** The Tyk plan as diff and sync take every gateway's. */
export async function tykPlanned(mode: 'diff' | 'sync', inputs: Inputs, ctx: JobContext): Promise<Planned> {
  const tyk = await planTykJob(inputs, ctx)
  return {
    failed: false,
    report: emptyReport(`deckhand ${mode}`),
    plans: tyk.plans,
    gateway: tyk.target.address,
    scope: 'the APIs and policies',
    bundleLine: undefined,
    tool: { tyk: tyk.target.description },
    sync: tyk.sync,
  }
}

/** gateway: tyk: the API and policy files into a Tyk gateway (or Dashboard), proved by a re-plan. */
export async function tykRestoreJob(inputs: Inputs, ctx: JobContext): Promise<JobResult> {
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

/** What the target could not read, for reports (policies the Gateway API cannot address). */
export function targetWarnings(target: TykTarget): string[] {
  return target.gateway ? [...target.gateway.warnings] : []
}

/** Objects of the files the target cannot hold: MCP proxies on a gateway before Tyk 5.12, or a Dashboard. */
export async function unsupported(desired: readonly TykObject[], target: TykTarget): Promise<string[]> {
  const mcps = desired.filter((o) => o.format === 'mcp').map((o) => o.id)
  if (mcps.length === 0) return []
  if (target.gateway && (await target.gateway.supportsMcp())) return []
  return [
    `the files hold MCP proxies (${mcps.join(', ')}), which ${target.description} cannot hold: the Gateway ` +
      'API has them from Tyk 5.12 (/tyk/mcps), tyk-sync not at all',
  ]
}
