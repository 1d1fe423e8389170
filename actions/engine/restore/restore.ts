import { append } from '../arrays.js'
import { KONG_ENTITY_TABLES, isUnmanagedEnterpriseTable } from '../backup/kong-profile.js'
import { type DbManifest, readManifest } from '../backup/manifest.js'
import { ConfiguredGatewayError, type DbRestoreResult, restorePostgres } from '../database/pg-restore.js'
import type { DeckRunner } from '../deck/runner.js'
import { DeckhandError, isDeckhandError } from '../errors.js'
import type { TlsOptions } from '../http.js'
import { describeAnswer, formBody, type KongAdmin, parseJson } from '../kong/admin.js'
import type { Logger } from '../log.js'
import type { PlannedChange, TargetPlan } from '../plan/model.js'
import { readTargets, targetLabel } from '../plan/targets.js'
import type { PgTarget } from '../postgres/connection.js'
import { planTargets, type ReconcileOptions, syncTargets, totalCounts } from '../reconcile.js'
import { DeckVariables } from '../secrets/variables.js'
import { totalEntities } from '../state/entities.js'
import { expandState } from '../state/files.js'
import { runUserCommand } from './command.js'
import { buildDeclarativeConfig } from './declarative-config.js'
import { checkNodes, loadNode, nodeEntityCounts } from './dbless.js'
import { smokePhase, type SmokeRequest, type SmokeResult } from './smoke.js'
import { type Check, type Phase, Timeline } from './timeline.js'
import { type ReadyNode, waitForGateway } from './wait.js'
import { inputName } from '../jobs/inputs.js'

export type Strategy = 'auto' | 'database' | 'declarative' | 'dbless'
export const STRATEGIES: readonly Strategy[] = ['auto', 'database', 'declarative', 'dbless']

export interface RestoreOptions {
  strategy: Strategy
  /** One client per Admin API address; the first is the one deck talks to. */
  admins: readonly KongAdmin[]
  state: readonly string[]
  /** A db-dump backup folder or manifest, already downloaded. */
  dbDump?: string
  database?: { target: PgTarget; jobs?: number; noOwner: boolean; binDir?: string }
  restartCommand?: string
  keyringExport?: string
  overwrite: boolean
  waitTimeoutSeconds: number
  smoke: readonly SmokeRequest[]
  /** TLS trust of the smoke requests: the Admin API connection's (ca-cert, tls-skip-verify). */
  smokeTls?: TlsOptions
  /** deck, opened only when a declarative restore needs it. */
  deck: () => Promise<DeckRunner>
  /** What planning and syncing share with diff and sync: secrets to mask, parallelism. */
  reconcile: Omit<ReconcileOptions, 'deck'>
  env: NodeJS.ProcessEnv
  /**
   * The values of the state files' DECK_ variables: the environment's, with the secret bundle's beneath them
   * (read only when the state is restored). Default: the environment alone.
   */
  variables?: (stateFiles: readonly string[]) => Promise<DeckVariables>
  /** Called with every secret value found on the way (the DECK_ variables the state uses), for masking. */
  secret: (value: string) => void
  logger: Logger
  /** How long smoke requests are retried while Kong rebuilds its router. */
  smokeWindowMs?: number
}

export interface RestoreOutcome {
  strategy: Strategy
  strategyUsed?: 'database' | 'declarative' | 'dbless'
  /** Why auto left the database backup for the declarative state. */
  fallback?: string
  verified: boolean
  /** Seconds from the start until the gateway was restored and verified (or the restore stopped). */
  rtoSeconds: number
  entitiesRestored: number
  gateway?: { version: string; edition: string; database: string; nodes: string[] }
  phases: Phase[]
  checks: Check[]
  smoke: SmokeResult[]
  restored: string[]
  notRestored: string[]
  warnings: string[]
  /** Why the restore stopped, when it did. */
  error?: { message: string; details: readonly string[] }
  /** Where the DECK_ variables' values came from, when a secret bundle gave some. */
  secretBundle?: string
}

/** An outcome that has achieved nothing yet, recording into `timeline`. */
export function startOutcome(strategy: Strategy, timeline: Timeline): RestoreOutcome {
  return {
    strategy,
    verified: false,
    rtoSeconds: 0,
    entitiesRestored: 0,
    phases: timeline.phases,
    checks: timeline.checks,
    smoke: [],
    restored: [],
    notRestored: [],
    warnings: [],
  }
}

/**
 * Brings a fresh gateway back: waits for it, restores its database or its declarative state (or loads
 * DB-less nodes), proves the result and times every phase. Follows Kong's guidance: the database first
 * when there is a backup of it, the declarative state otherwise or when that restore fails. Only ever
 * fills an empty gateway unless overwrite is set. Errors the user can act on end the restore and are
 * returned in the outcome, with the phases up to them.
 */
export async function restoreGateway(options: RestoreOptions): Promise<RestoreOutcome> {
  const recovery = new Recovery(options)
  try {
    await recovery.run()
  } catch (err) {
    if (!isDeckhandError(err)) throw err
    recovery.outcome.error = { message: err.message, details: err.details }
  }
  return recovery.finish()
}

class Recovery {
  readonly timeline = new Timeline()
  readonly outcome: RestoreOutcome
  private readonly logger: Logger
  private manifest?: DbManifest
  /** Set when the database check found the gateway unconfigured: a fallback sync may then delete what a failed restore left. */
  private foundEmpty = false
  /** Set once pg_restore succeeded: from then on a failure is not a reason to fall back. */
  private databaseRestored = false

  constructor(private readonly options: RestoreOptions) {
    this.logger = options.logger
    this.outcome = startOutcome(options.strategy, this.timeline)
  }

  async run(): Promise<void> {
    const nodes = await this.waitPhase('wait for the gateway')
    const first = nodes[0]!.info
    this.outcome.gateway = {
      version: first.version,
      edition: first.edition,
      database: first.database,
      nodes: nodes.map((n) => n.admin.address),
    }
    const dbless = nodes.filter((n) => n.info.database === 'off')
    if (dbless.length > 0 && dbless.length < nodes.length) {
      throw new DeckhandError(
        `Some nodes run DB-less (${dbless.map((n) => n.admin.address).join(', ')}) and others with a database: restore them in separate steps.`,
      )
    }
    const strategy = this.options.strategy
    if (dbless.length > 0 && strategy !== 'auto' && strategy !== 'dbless') {
      throw new DeckhandError(
        `The gateway runs DB-less (database = off): it has no database to restore and decK cannot write to it. Use strategy dbless (or auto).`,
      )
    }
    if (dbless.length === 0 && strategy === 'dbless') {
      throw new DeckhandError(
        `The gateway runs with a database (${first.database}), not DB-less: POST /config is only for DB-less nodes. Use strategy declarative, database or auto.`,
      )
    }

    if (dbless.length > 0) await this.dbless()
    else if (strategy === 'database') await this.database()
    else if (strategy === 'declarative') await this.declarative()
    else if (this.options.dbDump) {
      try {
        await this.database()
      } catch (err) {
        // Only a restore that did not happen is a reason to try the other way. A configured gateway must not be
        // overwritten, and a restored database that fails later (restart, keyring) is not a failed restore.
        if (!isDeckhandError(err) || err instanceof ConfiguredGatewayError || this.databaseRestored) throw err
        this.outcome.fallback = err.message
        this.outcome.warnings.push(
          `The database restore failed, so the declarative state was restored instead: ${err.message}`,
        )
        this.logger.warn(`Database restore failed; restoring the declarative state instead. ${err.message}`)
        await this.declarative()
      }
    } else await this.declarative()

    await this.smoke()
    this.outcome.verified = this.timeline.checks.length > 0 && this.timeline.checks.every((c) => c.ok)
  }

  finish(): RestoreOutcome {
    this.outcome.rtoSeconds = this.timeline.elapsed()
    if (this.outcome.error) this.outcome.verified = false
    return this.outcome
  }

  /** Each wait (for the gateway, a restart, a busy node) gets the whole wait-timeout from when it starts. */
  private deadline(): number {
    return performance.now() + this.options.waitTimeoutSeconds * 1000
  }

  private waitPhase(name: string): Promise<ReadyNode[]> {
    return this.timeline.phase(
      name,
      () =>
        waitForGateway(this.options.admins, {
          deadline: this.deadline(),
          timeoutSeconds: this.options.waitTimeoutSeconds,
          logger: this.logger,
        }),
      (nodes) => `${nodes.length} node(s) up, Kong ${nodes[0]!.info.version} (${nodes[0]!.info.edition})`,
    )
  }

  // ----- database -----------------------------------------------------------------------------

  private async database(): Promise<void> {
    const { dbDump, database } = this.options
    if (!dbDump) throw new DeckhandError('strategy database needs db-dump: the db-dump backup to restore.')
    if (!database) throw new DeckhandError('strategy database needs database-url (or the PG* variables).')
    const result: DbRestoreResult = await this.timeline.phase(
      'restore the database',
      async () => {
        // The manifest alone, read first: which tables the backup holds, whatever happens next.
        this.manifest = (await readManifest(dbDump)).manifest
        return restorePostgres({
          input: dbDump,
          target: database.target,
          create: false,
          // A freshly bootstrapped gateway holds Kong's (empty) tables: they are replaced.
          clean: true,
          jobs: database.jobs,
          verify: true,
          noOwner: database.noOwner,
          // Without overwrite the database replaced held no configuration: nothing worth keeping.
          keepPrevious: this.options.overwrite,
          refuseConfigured: !this.options.overwrite,
          // From here on, whatever the database holds was put there by this restore.
          checked: () => (this.foundEmpty = true),
          binDir: database.binDir,
          pathEnv: this.options.env.PATH,
          logger: this.logger,
        })
      },
      (r) => `${r.manifest.database} from the backup of ${r.manifest.startedAt}`,
    )
    this.outcome.strategyUsed = 'database'
    this.databaseRestored = true
    const entities = result.manifest.tables.filter((t) => t.data && KONG_ENTITY_TABLES.includes(t.table))
    this.outcome.entitiesRestored = entities.reduce((sum, t) => sum + t.rows, 0)
    this.outcome.restored.push(
      `Database ${result.manifest.database} from the backup of ${result.manifest.startedAt}: ${result.tablesChecked} tables, ${result.rowsChecked} rows` +
        ` (${entities.map((t) => `${t.table} ${t.rows}`).join(', ') || 'no entities'}).`,
    )
    if (result.previous)
      this.outcome.warnings.push(
        `The database the restore replaced is kept as ${result.previous}: rename it back to roll back, or drop it.`,
      )
    for (const note of result.notes) this.outcome.warnings.push(note)
    const skipped = result.manifest.tables.filter((t) => !t.data)
    if (skipped.length > 0) {
      this.outcome.notRestored.push(
        `Rows of ${skipped.length} runtime table(s) the backup left out (${skipped.map((t) => t.table).join(', ')}): they refill as the gateway runs.`,
      )
    }
    this.timeline.check(
      "manifest's row counts",
      result.verified,
      result.verified
        ? `${result.tablesChecked} tables, ${result.rowsChecked} rows match the backup`
        : `${result.differences.length} table(s) differ: ${result.differences
            .slice(0, 5)
            .map((d) => `${d.table} (expected ${d.expected}, found ${d.actual})`)
            .join(', ')}`,
    )

    await this.restartNodes()
    await this.importKeyring()
  }

  /** Kong caches entities and its router: after a restore behind its back, its nodes must start again. */
  private async restartNodes(): Promise<void> {
    const command = this.options.restartCommand
    if (command) {
      await this.timeline.phase('restart the nodes', async () => {
        this.logger.info('Restarting the Kong nodes with restart-command.')
        const done = await runUserCommand(command, {
          env: this.options.env,
          timeoutMs: this.options.waitTimeoutSeconds * 1000,
          secrets: this.options.reconcile.secrets,
          logger: this.logger,
        })
        if (!done.ok) {
          throw new DeckhandError(
            `restart-command ${done.signal ? `was stopped (${done.signal}) when ${inputName('wait-timeout')} ran out` : `exited with ${done.exitCode}`}: the database is restored, but the nodes may still serve what they cached before. Restart them and run the verification again.`,
          )
        }
      })
    } else {
      this.outcome.warnings.push(
        'The Kong nodes were not restarted after the database restore: Kong caches entities and its router, so they may serve what they held before until they restart. Set restart-command, or restart them.',
      )
    }
    await this.waitPhase(command ? 'wait for the restarted gateway' : 'wait for the gateway again')
  }

  // ----- declarative --------------------------------------------------------------------------

  /** The values of the state files' variables: the environment's, the secret bundle's beneath them. */
  private async variables(files: readonly string[]): Promise<DeckVariables> {
    const variables = this.options.variables
      ? await this.options.variables(files)
      : DeckVariables.fromEnv(this.options.env)
    this.outcome.secretBundle = variables.describe()
    return variables
  }

  private async declarative(): Promise<void> {
    const files = await expandState(this.options.state)
    const variables = await this.variables(files)
    const read = await readTargets({
      state: files,
      env: variables.view(),
      purpose: 'restore',
      hint: variables.missingHint(),
    })
    if (read.problems.length > 0) {
      throw new DeckhandError(
        `The state files have ${read.problems.length} problem(s); nothing was restored from them.`,
        read.problems.map((p) => `${[p.file, p.line].filter(Boolean).join(':') || 'state'}: ${p.message}`),
      )
    }
    await this.importKeyring()
    const deck = await this.options.deck()
    deck.useVariables(variables.forDeck(read.envNames))
    const reconcile: ReconcileOptions = {
      ...this.options.reconcile,
      deck,
      secrets: [...this.options.reconcile.secrets, ...this.secretsOf(read.envNames, variables)],
    }
    const plans = await this.timeline.phase(
      'plan',
      () => planTargets(read.targets, reconcile),
      (p) => `${totalCounts(p).total} change(s) in ${p.length} target(s)`,
    )
    this.refuseConfigured(plans)
    const counts = totalCounts(plans)
    if (counts.deleting > 0) {
      this.outcome.warnings.push(
        `The sync deletes ${counts.deleting} entit${counts.deleting === 1 ? 'y' : 'ies'} the state does not hold` +
          `${this.options.overwrite ? ' (overwrite is set)' : ' (left by the failed database restore)'}.`,
      )
    }
    const results = await this.timeline.phase(
      'sync the declarative state',
      async () => {
        const results = await syncTargets(plans, { ...reconcile, concurrency: 1 })
        const problems: string[] = []
        for (const [plan, result] of results) {
          if (result.status === 'error') problems.push(`${targetLabel(plan)}: ${result.message}`)
          else if (result.status === 'synced') {
            for (const f of result.outcome.failed)
              problems.push(`${f.change.action} ${f.change.kind} ${f.change.name}: ${f.error}`)
            append(problems, result.outcome.otherErrors)
          }
        }
        if (problems.length > 0) {
          throw new DeckhandError(
            `deck could not restore everything (${problems.length} failure(s)); the gateway is partly restored.`,
            problems,
          )
        }
        return results
      },
      (r) =>
        `${[...r.values()].reduce((n, x) => n + (x.status === 'synced' ? x.outcome.applied.length : 0), 0)} change(s) applied`,
    )
    this.outcome.strategyUsed = 'declarative'
    const applied = [...results.values()].flatMap((r) => (r.status === 'synced' ? r.outcome.applied : []))
    this.outcome.entitiesRestored = applied.filter((c) => c.action !== 'delete').length
    this.outcome.restored.push(
      `Declarative state of ${plans.map((p) => targetLabel(p)).join(', ')} from ${read.files.length} file(s): ${describeKinds(applied)}.`,
    )
    this.addUnmanaged()

    const after = await this.timeline.phase(
      'verify with deck diff',
      () => planTargets(read.targets, reconcile),
      (p) => `${totalCounts(p).total} difference(s)`,
    )
    const left = after.flatMap((p) =>
      p.changes.map((c) => `${c.action} ${c.kind} ${c.name} (${targetLabel(p)})`),
    )
    this.timeline.check(
      'deck diff against the state',
      left.length === 0,
      left.length === 0 ? 'no differences' : `${left.length} difference(s): ${left.slice(0, 10).join(', ')}`,
    )
  }

  /** A plan that updates or deletes means the gateway holds configuration: refused unless overwrite or known debris. */
  private refuseConfigured(plans: readonly TargetPlan[]): void {
    if (this.options.overwrite || this.foundEmpty) return
    const existing = plans.flatMap((p) =>
      p.changes
        .filter((c) => c.action !== 'create')
        .map((c) => `${c.action} ${c.kind} ${c.name} (${targetLabel(p)})`),
    )
    if (existing.length === 0) return
    throw new DeckhandError(
      `The gateway already holds configuration the restore would change or delete (${existing.length}: ${existing.slice(0, 5).join(', ')}${existing.length > 5 ? ', …' : ''}). ` +
        `restore only fills an empty or freshly bootstrapped gateway. Nothing was changed. If you mean to replace this configuration, set ${inputName('overwrite')} to true.`,
    )
  }

  /** What a declarative restore cannot bring back: Enterprise data decK does not manage. */
  private addUnmanaged(): void {
    const tables = (this.manifest?.tables ?? []).filter(
      (t) => t.rows > 0 && isUnmanagedEnterpriseTable(t.table),
    )
    if (tables.length > 0) {
      this.outcome.notRestored.push(
        `Kong Enterprise data decK does not manage, present in the database backup: ${tables.map((t) => `${t.table} (${t.rows} rows)`).join(', ')}. Recreate it, or restore the database once the backup's problem is fixed.`,
      )
    } else if (this.outcome.gateway?.edition === 'enterprise') {
      this.outcome.notRestored.push(
        'Kong Enterprise data decK does not manage (admins, RBAC users and roles, the keyring, licences, Dev Portal, event hooks) is not part of a declarative restore: recreate it or restore it from a database backup.',
      )
    }
  }

  // ----- DB-less ------------------------------------------------------------------------------

  private async dbless(): Promise<void> {
    const variables = await this.variables(await expandState(this.options.state))
    // Rendered here, in deckhand's own memory: no child sees the values.
    const config = await buildDeclarativeConfig(this.options.state, variables.view(), variables.missingHint())
    this.secretsOf(config.envNames, variables)
    const total = totalEntities(config.counts)
    if (!this.options.overwrite) {
      for (const admin of this.options.admins) {
        const held = await nodeEntityCounts(admin)
        const differs = Object.keys({ ...held, ...config.counts }).some(
          (k) => (held[k] ?? 0) !== (config.counts[k] ?? 0),
        )
        if (totalEntities(held) > 0 && differs) {
          throw new DeckhandError(
            `${admin.address} already runs a different configuration (${totalEntities(held)} entities): restore only fills an empty node. Nothing was changed. If you mean to replace it, set ${inputName('overwrite')} to true.`,
          )
        }
      }
    }
    await this.importKeyring()
    const loads = await this.timeline.phase(
      'load DB-less nodes',
      () =>
        Promise.all(
          this.options.admins.map((admin) =>
            loadNode(admin, config, { deadline: this.deadline(), logger: this.logger }),
          ),
        ),
      (l) =>
        `${l.filter((x) => x.reloaded).length} of ${l.length} node(s) loaded, ${l.reduce((n, x) => n + x.busy, 0)} busy answer(s) waited out`,
    )
    this.outcome.strategyUsed = 'dbless'
    this.outcome.entitiesRestored = total
    this.outcome.restored.push(
      `Declarative configuration from ${config.files.length} file(s), ${total} entities, into ${loads.length} DB-less node(s)` +
        `${loads.some((l) => !l.reloaded) ? ` (${loads.filter((l) => !l.reloaded).length} already held it)` : ''}.`,
    )
    this.addUnmanaged()
    const checked = await this.timeline.phase('verify the nodes', () =>
      checkNodes(this.options.admins, config),
    )
    for (const node of checked.checks) {
      this.timeline.check(
        `configuration of ${node.address}`,
        node.problems.length === 0,
        node.problems.length === 0 ? `${total} entities, hash ${node.hash}` : node.problems.join('; '),
      )
    }
  }

  /** Values of the DECK_ variables the state uses: the secrets the dump redacted, masked from here on. */
  private secretsOf(names: readonly string[], variables: DeckVariables): string[] {
    const values = variables.values(names).filter((v) => v.length >= 3)
    for (const value of values) this.options.secret(value)
    return values
  }

  // ----- keyring and smoke --------------------------------------------------------------------

  /** Imports the Enterprise keyring on every node, before anything encrypted is written or read back. */
  private async importKeyring(): Promise<void> {
    const data = this.options.keyringExport
    if (!data) return
    await this.timeline.phase('import the keyring', async () => {
      for (const admin of this.options.admins) {
        const res = await admin.request('POST', '/keyring/import', formBody({ data }))
        if (res.status === 404) {
          throw new DeckhandError(
            `keyring-export is set, but ${admin.address} has no keyring (${describeAnswer(res)}): it needs Kong Enterprise with keyring_enabled and keyring_strategy cluster.`,
          )
        }
        if (res.status !== 201 && res.status !== 200 && res.status !== 204) {
          throw new DeckhandError(`${admin.address} refused the keyring import: ${describeAnswer(res)}`)
        }
        const keyring = parseJson(await admin.expect('GET', '/keyring', 200)) as { active?: string | null }
        if (!keyring.active)
          throw new DeckhandError(`${admin.address} has no active keyring key after the import.`)
      }
    })
    this.outcome.restored.push(`Keyring imported on ${this.options.admins.length} node(s).`)
  }

  private async smoke(): Promise<void> {
    if (this.options.smoke.length === 0) return
    const results = await smokePhase(this.timeline, this.options.smoke, {
      logger: this.logger,
      windowMs: this.options.smokeWindowMs,
      ...(this.options.smokeTls ? { tls: this.options.smokeTls } : {}),
    })
    this.outcome.smoke = results
  }
}

/** "3 services, 4 routes" from applied changes. */
function describeKinds(changes: readonly PlannedChange[]): string {
  const kinds = new Map<string, number>()
  for (const c of changes) if (c.action !== 'delete') kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1)
  return kinds.size === 0
    ? 'nothing to create'
    : [...kinds].map(([k, n]) => `${n} ${k}${n === 1 ? '' : 's'}`).join(', ')
}
