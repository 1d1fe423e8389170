import { lstat } from 'node:fs/promises'
import { dirname, join } from 'node:path'

import { DeckhandError, errorMessage, isDeckhandError } from '../errors.js'
import type { Logger } from '../log.js'
import type { TargetPlan } from '../plan/model.js'
import { readTargets, type StateTarget } from '../plan/targets.js'
import { describeCounts, planTargets, type ReconcileOptions, syncTargets, totalCounts } from '../reconcile.js'
import { type RestoreOutcome, startOutcome } from '../restore/restore.js'
import { Timeline } from '../restore/timeline.js'
import type { ControlPlane, KonnectApi } from './api.js'
import { type ControlPlaneRecord, createRequest, KONNECT_METADATA, readMetadata } from './metadata.js'

/**
 * Restores Konnect control planes from a dump: each control plane the files name is found in Konnect, or
 * created again as `.konnect.json` recorded it when it is gone; then deck syncs the files into it and a
 * second plan must be empty. Without `overwrite`, only a new or empty control plane is written to (a plan
 * that would update or delete anything is refused), as a restore of a self-managed Kong only fills an empty
 * gateway. Every phase is timed; the RTO runs from the start to the verified end.
 */
export interface KonnectRestoreOptions {
  api: KonnectApi
  /** Konnect's address, for the report. */
  address: string
  /** The dump's files or folders. */
  state: readonly string[]
  overwrite: boolean
  env: NodeJS.ProcessEnv
  /** Where values of unset DECK_ variables may come from, for the message about them. */
  hint?: string
  /** How to plan and sync, once the files are read and the DECK_ variables they reference are known. */
  reconcile: (envNames: readonly string[]) => ReconcileOptions
  logger: Logger
}

export async function restoreKonnect(options: KonnectRestoreOptions): Promise<RestoreOutcome> {
  const timeline = new Timeline()
  const outcome: RestoreOutcome = { ...startOutcome('declarative', timeline), strategyUsed: 'declarative' }
  try {
    const targets = await timeline.phase(
      'read the backup',
      () => readBackup(options),
      (t) => `${t.targets.length} control plane(s)`,
    )
    const reconcile = options.reconcile(targets.envNames)
    outcome.gateway = {
      version: '',
      edition: 'konnect',
      database: 'konnect',
      nodes: targets.targets.map((t) => t.controlPlane!),
    }
    const created = await timeline.phase(
      'find or create the control planes',
      () => ensureControlPlanes(targets.targets, targets.records, options),
      (c) => (c.length > 0 ? `created ${c.join(', ')}` : 'all there'),
    )
    const plans = await timeline.phase(
      'plan',
      () => planTargets(targets.targets, reconcile),
      (p) => describeCounts(totalCounts(p)),
    )
    if (!options.overwrite) refuseOverwrite(plans, created)
    await timeline.phase('sync', async () => {
      const synced = await syncTargets(plans, { ...reconcile, concurrency: 1 })
      const failures: string[] = []
      for (const plan of plans) {
        const result = synced.get(plan)!
        if (result.status === 'error') failures.push(`${plan.controlPlane}: ${result.message}`)
        else if (result.status === 'synced') {
          const o = result.outcome
          outcome.entitiesRestored += o.applied.filter((c) => c.action === 'create').length
          for (const f of o.failed)
            failures.push(
              `${plan.controlPlane}: ${f.change.action} ${f.change.kind} ${f.change.name}: ${f.error}`,
            )
          for (const e of o.otherErrors) failures.push(`${plan.controlPlane}: ${e}`)
        }
      }
      if (failures.length > 0)
        throw new DeckhandError('the sync into Konnect failed; sync again once the cause is fixed', failures)
    })
    const again = await timeline.phase(
      'verify',
      () => planTargets(targets.targets, reconcile),
      (p) => describeCounts(totalCounts(p)),
    )
    for (const plan of again) {
      const ok = plan.counts.total === 0 && plan.errors.length === 0
      timeline.check(
        `control plane ${plan.controlPlane} matches the backup`,
        ok,
        ok
          ? 'a second plan is empty'
          : `still ${describeCounts(plan.counts)}${plan.errors.length ? `; ${plan.errors.join('; ')}` : ''}`,
      )
    }
    outcome.verified = timeline.checks.every((c) => c.ok)
    outcome.restored = targets.targets.map(
      (t) =>
        `control plane ${t.controlPlane}${created.includes(t.controlPlane!) ? `, created again from ${KONNECT_METADATA}` : ''} (${t.files.join(', ')})`,
    )
  } catch (err) {
    if (!isDeckhandError(err)) throw err
    outcome.error = { message: errorMessage(err), details: err.details }
  }
  outcome.rtoSeconds = timeline.elapsed()
  return outcome
}

async function readBackup(
  options: KonnectRestoreOptions,
): Promise<{ targets: StateTarget[]; envNames: string[]; records: Map<string, ControlPlaneRecord> }> {
  const read = await readTargets({
    state: options.state,
    konnect: {},
    env: options.env,
    purpose: 'restore',
    hint: options.hint,
  })
  if (read.problems.length > 0) {
    throw new DeckhandError(
      `${read.problems.length} problem(s) in the backup's files; nothing was sent to Konnect`,
      read.problems.map((p) => `${p.file ?? ''}${p.line ? `:${p.line}` : ''}: ${p.message}`),
    )
  }
  const records = new Map<string, ControlPlaneRecord>()
  for (const dir of new Set(read.files.map((f) => dirname(f)))) {
    const path = join(dir, KONNECT_METADATA)
    const info = await lstat(path).catch(() => undefined)
    if (!info) continue
    if (!info.isFile())
      throw new DeckhandError(`${path} is not a file: it cannot be the backup's Konnect record`)
    for (const record of await readMetadata(path)) records.set(record.name, record)
  }
  return { targets: read.targets, envNames: read.envNames, records }
}

/** The control planes the files name: found, or created again from their record. Returns those created. */
async function ensureControlPlanes(
  targets: readonly StateTarget[],
  records: ReadonlyMap<string, ControlPlaneRecord>,
  options: KonnectRestoreOptions,
): Promise<string[]> {
  const created: string[] = []
  for (const name of new Set(targets.map((t) => t.controlPlane!))) {
    const found: ControlPlane | undefined = await options.api.findControlPlane(name)
    if (found) continue
    const record = records.get(name)
    if (!record) {
      throw new DeckhandError(
        `Konnect has no control plane named "${name}", and the backup has no ${KONNECT_METADATA} recording it: ` +
          'create it in Konnect with its name, cluster type and labels, then restore again.',
      )
    }
    options.logger.info(`Control plane ${name} is gone: creating it again as ${KONNECT_METADATA} recorded it`)
    await options.api.createControlPlane(createRequest(record))
    created.push(name)
  }
  return created
}

/** Without overwrite, only creates are restored: a plan that updates or deletes would change what is there. */
function refuseOverwrite(plans: readonly TargetPlan[], created: readonly string[]): void {
  const busy = plans.filter(
    (p) => !created.includes(p.controlPlane!) && (p.counts.updating > 0 || p.counts.deleting > 0),
  )
  if (busy.length > 0) {
    throw new DeckhandError(
      `Not restored: ${busy.map((p) => `control plane ${p.controlPlane} (${describeCounts(p.counts)})`).join(', ')} ` +
        'holds configuration the backup would change or delete. Set overwrite: true to make it match the backup; nothing was sent.',
    )
  }
}
