import { basename, join } from 'node:path'

import type { AgeRecipient } from '../age.js'
import type { TableDifference } from '../database/pg-restore.js'
import { restorePostgres } from '../database/pg-restore.js'
import { type DbDumpResult, dumpPostgres } from '../database/pg-dump.js'
import { validateArgs } from '../deck/commands.js'
import type { DeckRunner } from '../deck/runner.js'
import type { LtsLine } from '../deck/version.js'
import { compareStateFiles } from '../drift/compare.js'
import { type DumpResult, dump } from '../dump.js'
import { DeckhandError, isDeckhandError } from '../errors.js'
import type { TlsOptions } from '../http.js'
import type { KongAdmin, NodeInfo } from '../kong/admin.js'
import type { Logger } from '../log.js'
import type { PgTarget } from '../postgres/connection.js'
import { runUserCommand } from '../restore/command.js'
import { buildDeclarativeConfig } from '../restore/declarative-config.js'
import { checkNodes, loadNode, type NodeCheck } from '../restore/dbless.js'
import { restoreGateway } from '../restore/restore.js'
import { smokePhase, type SmokeRequest, type SmokeResult } from '../restore/smoke.js'
import { type Check, type Phase, Timeline } from '../restore/timeline.js'
import { type ReadyNode, waitForGateway } from '../restore/wait.js'
import { convertState, type ConvertReport, planConversion } from './convert.js'
import { entityDifferences, readStateFiles } from './dumps.js'
import { backUpUpgradeFiles, type UpgradeFiles } from './files.js'
import { claimUpgradeFolder } from './folder.js'
import { exportKeyring } from './keyring.js'
import { checkUpgradePath, ltsLineOf, sideLine } from './lines.js'
import { compareRowCounts } from './row-counts.js'

/**
 * An upgrade of Kong from one LTS line to a later one, after Kong's LTS upgrade guide
 * (developer.konghq.com/gateway/upgrade/lts-upgrade and its dual-cluster, in-place and rolling pages): cluster X
 * is the gateway on the old line, Y the one on the new line.
 *
 * - dual-cluster (traditional mode): Y was built beside X from X's database backup and migrated; deckhand proves
 *   Y holds what X holds, converted, before traffic moves from X to Y.
 * - in-place: X's own database is migrated (by the user's migrate command) and X becomes Y; on failure the
 *   database backup is restored first, as the guide's rollback does, and the declarative state only when that
 *   is not possible.
 * - rolling (DB-less nodes, hybrid data planes): the new nodes are loaded with X's configuration, converted.
 *
 * Every mode first records X's configuration and backs up what the guide says to back up before upgrading (the
 * keyring, the files, the database, each when asked for), and proves at the end that nobody wrote to X
 * meanwhile: the guide freezes Admin API writes for the whole upgrade.
 */

export type UpgradeMode = 'dual-cluster' | 'in-place' | 'rolling'
export const UPGRADE_MODES: readonly UpgradeMode[] = ['dual-cluster', 'in-place', 'rolling']

export interface UpgradeDatabase {
  target: PgTarget
  /** Restore as the connecting user (pg_restore --no-owner), when the backup's roles do not exist. */
  noOwner: boolean
  binDir?: string
}

export interface UpgradeCluster {
  /** One client per Admin API address; the first is the one deck talks to. */
  admins: readonly KongAdmin[]
  /** deck, connected to the first address. */
  deck: DeckRunner
  /** Its Kong LTS line (2.8, 3.4, 3.10, 3.14); default: read from the version the first node reports. */
  line?: string
  /** Its PostgreSQL database (traditional mode). */
  database?: UpgradeDatabase
}

export interface UpgradeOptions {
  mode: UpgradeMode
  /** The gateway on the old line. In-place: also the one upgraded. */
  x: UpgradeCluster
  /** dual-cluster: the new cluster; rolling: the new (DB-less) nodes. Not used in-place. */
  y?: UpgradeCluster
  /** In-place: the LTS line X is upgraded to (X reports its old version until the migrations ran). */
  toLine?: string
  /** Where deckhand claims its folder for this upgrade (`upgrade-<UTC time>`): nothing else in it is touched. */
  outputDir: string
  /** In-place: the shell command that migrates X's database and starts the new version (kong migrations up/finish). */
  migrateCommand?: string
  /** In-place: restarts X's nodes after a database rollback (Kong caches its configuration). */
  restartCommand?: string
  /** Export X's Enterprise keyring (POST /keyring/export) into the upgrade's folder. */
  exportKeyring?: boolean
  /**
   * age recipients: X's configuration is also backed up redacted, its secrets encrypted to them in secrets.age
   * (what dump writes with age-recipients), a copy that may leave the machine unlike the private record.
   */
  recipients?: readonly AgeRecipient[]
  /** Files X runs with (kong.conf, certificates), archived into the upgrade's folder. */
  files?: UpgradeFiles
  /** A throwaway database to restore X's database backup into, to prove the rollback works before migrating. */
  rehearseRollback?: PgTarget
  /** Rolling: the declarative configuration to convert and load; default: X's dump. */
  state?: readonly string[]
  smoke: readonly SmokeRequest[]
  /** How long smoke requests are retried while Kong rebuilds its router. */
  smokeWindowMs?: number
  /** TLS trust of the smoke requests: the Admin API connection's (ca-cert, tls-skip-verify). */
  smokeTls?: TlsOptions
  waitTimeoutSeconds: number
  env: NodeJS.ProcessEnv
  /** Values never to show (admin tokens, header values, DECK_ values): scrubbed from commands' output. */
  secrets: readonly string[]
  /** Called with a secret learnt during the upgrade (the keyring export), so the host masks it. */
  secret: (value: string) => void
  logger: Logger
}

/** A dump deckhand took and kept in its folder. */
export interface RecordedDump {
  folder: string
  files: string[]
  digest: string
  entities: number
}

export interface UpgradeOutcome {
  mode: UpgradeMode
  from?: LtsLine
  to?: LtsLine
  /** What the first node of each cluster reported at GET /. */
  x?: NodeInfo
  y?: NodeInfo
  /** The folder deckhand wrote this upgrade's files into. */
  folder?: string
  /** X's configuration when the upgrade started. */
  record?: RecordedDump
  databaseBackup?: { folder: string; manifest: string; tables: number; rows: number }
  /** The file holding X's keyring export (its path only: the export is key material). */
  keyringExport?: string
  /** X's configuration, redacted, with its secret bundle: a backup that restore reads as it reads dump's. */
  stateBackup?: { folder: string; files: number; secretsRedacted: number; bundle?: string }
  /** The archive of X's files, its manifest, and the private keys and certificates left out of it. */
  filesBackup?: { archive: string; manifest: string; files: number; secretsExcluded: string[] }
  /** The backup restored into the throwaway database and checked against its manifest. */
  rehearsal?: { database: string; tables: number; rows: number; verified: boolean }
  /** Each workspace file's conversion, hop by hop. */
  conversions: ConvertReport[]
  converted: string[]
  /** Whether X's configuration stayed what it was when recorded, and the entities that changed. */
  freeze?: { unchanged: boolean; changes: string[] }
  /** Rolling: each new node's configuration hash and entities. */
  nodes: NodeCheck[]
  /** Y is verified and holds X's configuration, converted (dual-cluster, rolling), or X was upgraded (in-place). */
  upgraded: boolean
  /** In-place: the upgrade failed and X was brought back to, and proved to hold, what it held before. */
  rolledBack: boolean
  /** In-place: why the upgrade was rolled back. */
  rollbackReason?: string
  /** What to do next: where to move traffic, and how. */
  next: string[]
  /** How to go back. */
  rollback: string[]
  verified: boolean
  seconds: number
  phases: Phase[]
  checks: Check[]
  smoke: SmokeResult[]
  warnings: string[]
  /** Why the upgrade stopped, when it did. */
  error?: { message: string; details: readonly string[] }
}

/**
 * Runs an upgrade in phases and returns what happened. Errors the user can act on end it and are returned in
 * the outcome, with the phases up to them; anything else is a bug and is thrown.
 */
export async function upgradeGateway(options: UpgradeOptions): Promise<UpgradeOutcome> {
  const upgrade = new Upgrade(options)
  try {
    await upgrade.run()
  } catch (err) {
    if (!isDeckhandError(err)) throw err
    upgrade.outcome.error = { message: err.message, details: err.details }
  }
  // Every outcome after the record, failures included, says whether someone wrote to X meanwhile.
  if (upgrade.outcome.record && !upgrade.outcome.freeze) {
    try {
      await upgrade.checkFreeze()
    } catch (err) {
      if (!isDeckhandError(err)) throw err
      if (upgrade.outcome.error) upgrade.outcome.warnings.push(err.message)
      else upgrade.outcome.error = { message: err.message, details: err.details }
    }
  }
  return upgrade.finish()
}

class Upgrade {
  readonly timeline = new Timeline()
  readonly outcome: UpgradeOutcome
  private readonly logger: Logger
  private readonly started = new Date()
  private folder = ''
  private backup?: DbDumpResult
  private xEdition: NodeInfo['edition'] = 'community'

  constructor(private readonly options: UpgradeOptions) {
    this.logger = options.logger
    this.outcome = {
      mode: options.mode,
      conversions: [],
      converted: [],
      nodes: [],
      upgraded: false,
      rolledBack: false,
      next: [],
      rollback: [],
      verified: false,
      seconds: 0,
      phases: this.timeline.phases,
      checks: this.timeline.checks,
      smoke: [],
      warnings: [],
    }
  }

  finish(): UpgradeOutcome {
    this.outcome.seconds = this.timeline.elapsed()
    if (this.outcome.error) this.outcome.upgraded = false
    this.outcome.verified =
      !this.outcome.error && this.timeline.checks.length > 0 && this.timeline.checks.every((c) => c.ok)
    return this.outcome
  }

  async run(): Promise<void> {
    const { mode, x, y } = this.options
    if ((mode === 'dual-cluster' || mode === 'rolling') && !y) {
      throw new DeckhandError(
        `A ${mode} upgrade needs cluster Y: the Admin API of the new ${mode === 'rolling' ? 'nodes' : 'cluster'}.`,
      )
    }
    if (mode === 'in-place' && !this.options.migrateCommand) {
      throw new DeckhandError(
        'An in-place upgrade needs migrate-command: the command that migrates the database and starts the new version.',
      )
    }
    const [xNode] = await this.waitPhase('wait for cluster X', x.admins)
    this.outcome.x = xNode!.info
    this.xEdition = xNode!.info.edition
    const from = sideLine('X', x.line, xNode!.info.version)
    let to: LtsLine
    if (mode === 'in-place') {
      if (this.options.toLine === undefined)
        throw new DeckhandError('An in-place upgrade needs the line X is upgraded to (to-line).')
      to = sideLine('Y', this.options.toLine, undefined)
    } else {
      const yNodes = await this.waitPhase('wait for cluster Y', y!.admins)
      this.outcome.y = yNodes[0]!.info
      to = sideLine('Y', y!.line, yNodes[0]!.info.version)
      if (mode === 'rolling') {
        const stateful = yNodes.filter((n) => n.info.database !== 'off')
        if (stateful.length > 0) {
          throw new DeckhandError(
            `A rolling upgrade is for DB-less nodes and hybrid data planes; ${stateful.map((n) => n.admin.address).join(', ')} run with a database: use dual-cluster or in-place.`,
          )
        }
      }
    }
    checkUpgradePath(from, to)
    // A deck that cannot convert every hop, or converts one wrongly, is refused before X is recorded.
    planConversion(x.deck.deck.features, from, to)
    this.outcome.from = from
    this.outcome.to = to

    this.folder = await claimUpgradeFolder(this.options.outputDir, this.started)
    this.outcome.folder = this.folder
    this.outcome.record = await this.timeline.phase(
      'record the configuration',
      () => this.dumpCluster(x.deck, 'x-before'),
      (r) =>
        `${r.entities} entities in ${r.files.length} file(s), ${r.digest.slice(0, 'sha256:'.length + 12)}`,
    )
    if (this.options.recipients) await this.backUpState(x.deck, this.options.recipients)
    if (this.options.exportKeyring) await this.exportKeyring(x.admins[0]!)
    if (this.options.files) await this.backUpFiles(this.options.files)
    if (x.database) await this.backUpDatabase(x.database)
    if (this.options.rehearseRollback) await this.rehearseRollback(this.options.rehearseRollback)

    const source =
      mode === 'rolling' && this.options.state ? [...this.options.state] : this.outcome.record.files
    await this.convert(source, from, to)

    if (mode === 'dual-cluster') await this.verifyY(y!)
    else if (mode === 'in-place') await this.inPlace()
    else await this.rolling(y!)
  }

  // ----- freeze and back up -------------------------------------------------------------------

  /** Dumps a cluster, every workspace when it has them, into a folder of this upgrade's own. */
  private async dumpCluster(deck: DeckRunner, name: string): Promise<RecordedDump> {
    const folder = join(this.folder, name)
    const result: DumpResult = await dump({
      deck,
      logger: this.logger,
      outputDir: folder,
      allWorkspaces: this.xEdition === 'enterprise',
      // deck file convert renders DECK_ references with values the environment may not hold, and the converted
      // state must load into DB-less nodes as it is: the dumps keep their secrets, in this private folder beside
      // the database backup, which holds the same ones.
      redactSecrets: false,
      allowEmpty: true,
    })
    return { folder, files: result.files, digest: result.digest, entities: result.entityCount }
  }

  /** X's configuration as dump keeps it: redacted, its secrets in secrets.age, encrypted to the recipients. */
  private async backUpState(deck: DeckRunner, recipients: readonly AgeRecipient[]): Promise<void> {
    const folder = join(this.folder, 'state')
    const result = await this.timeline.phase(
      'back up the declarative state',
      () =>
        dump({
          deck,
          logger: this.logger,
          outputDir: folder,
          allWorkspaces: this.xEdition === 'enterprise',
          redactSecrets: true,
          recipients,
          allowEmpty: true,
        }),
      (r) => `${r.files.length} file(s), ${r.secretsRedacted} secret(s) redacted into secrets.age`,
    )
    this.outcome.stateBackup = {
      folder,
      files: result.files.length,
      secretsRedacted: result.secretsRedacted,
      ...(result.bundle ? { bundle: result.bundle.file } : {}),
    }
    this.outcome.rollback.push(
      `X's configuration is backed up redacted in ${folder}, its secrets in secrets.age: restore's state with age-identity brings it back.`,
    )
  }

  private async exportKeyring(admin: KongAdmin): Promise<void> {
    const file = await this.timeline.phase(
      'back up the keyring',
      () => exportKeyring(admin, this.folder, this.options.secret),
      (f) => basename(f),
    )
    this.outcome.keyringExport = file
    this.outcome.rollback.push(
      `X's keyring is exported to ${file}: give that file as restore's keyring-export when X's database backup is restored, or its encrypted fields cannot be read.`,
    )
  }

  private async backUpFiles(files: UpgradeFiles): Promise<void> {
    const result = await this.timeline.phase(
      'back up the files',
      () => backUpUpgradeFiles(files, this.folder, this.logger),
      (r) => `${r.files.length} file(s) in ${basename(r.archive)}`,
    )
    this.outcome.filesBackup = {
      archive: result.archive,
      manifest: result.manifest,
      files: result.files.length,
      secretsExcluded: result.secretsExcluded,
    }
    if (result.secretsExcluded.length > 0) {
      this.outcome.warnings.push(
        `${result.secretsExcluded.length} private key/certificate file(s) were left out of ${result.archive} (include-secrets: false): ${result.secretsExcluded.slice(0, 10).join(', ')}. Back them up separately, or set include-secrets.`,
      )
    }
  }

  private async backUpDatabase(database: UpgradeDatabase): Promise<void> {
    this.backup = await this.timeline.phase(
      'back up the database',
      () =>
        dumpPostgres({
          target: database.target,
          format: 'custom',
          profile: 'kong',
          excludeTableData: [],
          outputDir: join(this.folder, 'database'),
          verify: true,
          binDir: database.binDir,
          pathEnv: this.options.env.PATH,
          logger: this.logger,
        }),
      (r) => `${r.manifest.database}: ${r.manifest.totals.tables} tables, ${r.manifest.totals.rows} rows`,
    )
    const { manifest } = this.backup
    this.outcome.databaseBackup = {
      folder: this.backup.folder,
      manifest: this.backup.manifestPath,
      tables: manifest.totals.tables,
      rows: manifest.totals.rows,
    }
    for (const note of this.backup.notes) this.outcome.warnings.push(note)
  }

  /** The backup restored where it can do no harm, and checked against its manifest: the rollback, proven. */
  private async rehearseRollback(target: PgTarget): Promise<void> {
    if (!this.backup) {
      throw new DeckhandError('rehearse-rollback needs a database backup of cluster X: give X its database.')
    }
    const backup = this.backup
    const database = this.options.x.database!
    const result = await this.timeline.phase(
      'rehearse the rollback',
      () =>
        restorePostgres({
          input: backup.folder,
          target,
          // A throwaway database: replaced when it holds anything.
          create: false,
          clean: true,
          verify: true,
          noOwner: database.noOwner,
          keepPrevious: false,
          binDir: database.binDir,
          pathEnv: this.options.env.PATH,
          logger: this.logger,
        }),
      (r) => `${r.database}: ${r.tablesChecked} tables, ${r.rowsChecked} rows`,
    )
    this.outcome.rehearsal = {
      database: result.database,
      tables: result.tablesChecked,
      rows: result.rowsChecked,
      verified: result.verified,
    }
    this.timeline.check("rehearsed rollback's row counts", result.verified, describeTables(result))
    if (!result.verified) {
      throw new DeckhandError(
        `The database backup restored into ${result.database} differs from its manifest: the rollback would not bring X back. Nothing was changed on X.`,
        result.differences.map((d) => `${d.table}: expected ${d.expected}, found ${d.actual}`),
      )
    }
  }

  /** Proves that X's configuration is what it was when recorded: nobody wrote to it during the freeze. */
  async checkFreeze(): Promise<void> {
    const record = this.outcome.record!
    await this.timeline.phase('check the freeze', async () => {
      const now = await this.dumpCluster(this.options.x.deck, 'x-freeze')
      const drift = compareStateFiles(await readStateFiles(record.files), await readStateFiles(now.files))
      const changes = entityDifferences(drift)
      this.outcome.freeze = { unchanged: changes.length === 0, changes }
      this.timeline.check(
        "X's configuration unchanged during the freeze",
        changes.length === 0,
        changes.length === 0
          ? 'same entities as when recorded'
          : `${changes.length} change(s): ${changes.slice(0, 10).join('; ')}`,
      )
      if (changes.length > 0) {
        throw new DeckhandError(
          `Cluster X's configuration changed during the upgrade (${changes.length} entit${changes.length === 1 ? 'y' : 'ies'}): someone wrote to X's Admin API during the freeze, so the upgraded gateway may lack it. Stop the writes and upgrade again.`,
          changes,
        )
      }
    })
  }

  // ----- convert ------------------------------------------------------------------------------

  private async convert(files: readonly string[], from: LtsLine, to: LtsLine): Promise<void> {
    const folder = join(this.folder, `converted-${to}`)
    await this.timeline.phase(
      'convert',
      async () => {
        for (const input of files) {
          const report = await convertState({
            runner: this.options.x.deck,
            logger: this.logger,
            from,
            to,
            input,
            output: join(folder, basename(input)),
          })
          this.outcome.conversions.push(report)
          this.outcome.converted.push(report.output)
        }
        for (const warning of this.outcome.conversions.flatMap((c) => c.hops.flatMap((h) => h.warnings))) {
          this.logger.info(`deck file convert: ${warning}`)
        }
      },
      () => `${files.length} file(s) from Kong ${from} to ${to}`,
    )
  }

  // ----- dual-cluster -------------------------------------------------------------------------

  private async verifyY(y: UpgradeCluster): Promise<void> {
    await this.timeline.phase('verify Y', async () => {
      await this.waitNodes(y.admins)
      await this.compareWithConverted(y.deck, 'y-after', 'Y')
      if (y.database && this.backup) {
        const counts = await compareRowCounts(y.database.target, this.backup.manifest, {
          binDir: y.database.binDir,
          pathEnv: this.options.env.PATH,
        })
        const details = counts.differences.map(
          (d) => `${d.table}: X's backup holds ${d.expected}, Y ${d.actual}`,
        )
        this.timeline.check(
          "Y's configuration tables against X's backup",
          details.length === 0,
          details.length === 0 ? `${counts.tables} tables, ${counts.rows} rows match` : details.join('; '),
        )
        if (details.length > 0) {
          throw new DeckhandError(
            `Y's database holds other configuration rows than X's backup in ${details.length} table(s): was Y built from this backup?`,
            details,
          )
        }
      } else if (y.database) {
        this.outcome.warnings.push("Y's database was given, but not X's: the row counts were not compared.")
      }
    })
    await this.smoke()
    this.outcome.upgraded = true
    this.outcome.next.push(
      "Move traffic from X's proxy to Y's (DNS or the load balancer), gradually as Kong's dual-cluster guide does, watching the business metrics.",
      'Keep the Admin API writes frozen on both clusters until X is retired.',
    )
    this.outcome.rollback.push(
      "Keep X running until Y has served all traffic for long enough: to roll back, move the traffic back to X's proxy.",
    )
  }

  /** Dumps a cluster and fails unless it holds exactly X's converted configuration. */
  private async compareWithConverted(deck: DeckRunner, name: string, side: string): Promise<void> {
    const after = await this.dumpCluster(deck, name)
    const drift = compareStateFiles(
      await readStateFiles(this.outcome.converted),
      await readStateFiles(after.files),
    )
    const differences = entityDifferences(drift)
    this.timeline.check(
      `${side} against X's converted configuration`,
      differences.length === 0,
      differences.length === 0
        ? `${after.entities} entities, no differences`
        : `${differences.length} difference(s): ${differences.slice(0, 10).join('; ')}`,
    )
    if (differences.length > 0) {
      throw new DeckhandError(
        `${side} does not hold X's configuration converted to Kong ${this.outcome.to} (${differences.length} entit${differences.length === 1 ? 'y differs' : 'ies differ'}).`,
        differences,
      )
    }
  }

  // ----- in-place -----------------------------------------------------------------------------

  private async inPlace(): Promise<void> {
    // X is about to change: what it holds now must still be what was recorded.
    await this.checkFreeze()
    try {
      await this.timeline.phase('migrate', async () => {
        this.logger.info('Migrating cluster X with migrate-command.')
        await this.userCommand('migrate-command', this.options.migrateCommand!, {
          stopped: ' when wait-timeout ran out',
          consequence: '',
        })
      })
      const [node] = await this.waitPhase('wait for the migrated gateway', this.options.x.admins)
      this.checkMigratedVersion(node!.info)
      await this.timeline.phase('verify', () =>
        this.compareWithConverted(this.options.x.deck, 'x-after', 'The migrated X'),
      )
      await this.smoke()
    } catch (err) {
      if (!isDeckhandError(err)) throw err
      await this.rollBack(err)
      return
    }
    this.outcome.upgraded = true
    this.outcome.rollback.push(
      `X's database before the upgrade is backed up in ${this.backup?.folder ?? '(no database backup)'}; its configuration in ${this.outcome.record!.folder}.`,
    )
  }

  /** The migrated gateway must run a release of the line it was upgraded to: else the migrate command left the old image. */
  private checkMigratedVersion(info: NodeInfo): void {
    this.outcome.y = info
    const ok = ltsLineOf(info.version) === this.outcome.to
    this.timeline.check(`X runs Kong ${this.outcome.to}`, ok, `Kong ${info.version}`)
    if (!ok) {
      throw new DeckhandError(
        `After migrate-command, X runs Kong ${info.version}, not a ${this.outcome.to} release: its nodes were not started on the new version.`,
      )
    }
  }

  /**
   * Brings X back after a failed migration or verification: the database backup first (Kong's guide restores
   * the database), then the nodes restarted, since they cache; the recorded declarative state only when there is
   * no database backup or its restore failed. Then X must hold what it held before.
   */
  private async rollBack(cause: DeckhandError): Promise<void> {
    this.outcome.rollbackReason = cause.message
    this.logger.warn(`The upgrade failed (${cause.message}); rolling back.`)
    const record = this.outcome.record!
    let databaseRestored = false
    const database = this.options.x.database
    if (this.backup && database) {
      const backup = this.backup
      try {
        const result = await this.timeline.phase(
          'roll back the database',
          () =>
            restorePostgres({
              input: backup.folder,
              target: database.target,
              create: false,
              clean: true,
              verify: true,
              noOwner: database.noOwner,
              // The migrated database is kept aside: what went wrong can be looked into.
              keepPrevious: true,
              binDir: database.binDir,
              pathEnv: this.options.env.PATH,
              logger: this.logger,
            }),
          (r) => describeTables(r),
        )
        this.timeline.check("rolled-back database's row counts", result.verified, describeTables(result))
        databaseRestored = result.verified
        if (result.previous) {
          this.outcome.warnings.push(
            `The migrated database is kept as ${result.previous}: drop it once it is no longer needed.`,
          )
        }
      } catch (err) {
        if (!isDeckhandError(err)) throw err
        this.outcome.warnings.push(
          `The database rollback failed, so the declarative state was restored instead: ${err.message}`,
        )
      }
    }
    try {
      if (databaseRestored) await this.restartNodes()
      else await this.restoreDeclarative(record.files)
      await this.timeline.phase('verify the rollback', async () => {
        await this.waitNodes(this.options.x.admins)
        const now = await this.dumpCluster(this.options.x.deck, 'x-rolled-back')
        const drift = compareStateFiles(await readStateFiles(record.files), await readStateFiles(now.files))
        const differences = entityDifferences(drift)
        this.timeline.check(
          'X against its configuration before the upgrade',
          differences.length === 0,
          differences.length === 0 ? 'no differences' : differences.slice(0, 10).join('; '),
        )
        if (differences.length > 0) {
          throw new DeckhandError(
            `X was rolled back but does not hold its configuration from before the upgrade (${differences.length} difference(s)).`,
            differences,
          )
        }
      })
    } catch (err) {
      if (!isDeckhandError(err)) throw err
      throw new DeckhandError(
        `The upgrade failed (${cause.message}), and so did the rollback: ${err.message}`,
        [...cause.details, ...err.details],
      )
    }
    this.outcome.rolledBack = true
    this.outcome.rollback.push(`X was rolled back to the configuration recorded in ${record.folder}.`)
    throw new DeckhandError(
      `The upgrade failed and X was rolled back to what it held before: ${cause.message}`,
      cause.details,
    )
  }

  private async restartNodes(): Promise<void> {
    const command = this.options.restartCommand
    if (!command) {
      this.outcome.warnings.push(
        "X's nodes were not restarted after the database rollback: Kong caches its configuration, so they may serve the migrated one until they restart. Set restart-command, or restart them.",
      )
      return
    }
    await this.timeline.phase('restart the nodes', () =>
      this.userCommand('restart-command', command, {
        stopped: '',
        consequence: ': the database is rolled back, but the nodes may still serve what they cached',
      }),
    )
  }

  /**
   * Runs one of the user's commands on X for at most wait-timeout, deckhand's secrets kept from it; a failure
   * throws, naming the setting, how the command ended and what that leaves behind.
   */
  private async userCommand(
    setting: 'migrate-command' | 'restart-command',
    command: string,
    failure: { stopped: string; consequence: string },
  ): Promise<void> {
    const done = await runUserCommand(command, {
      env: commandEnv(this.options.env),
      timeoutMs: this.options.waitTimeoutSeconds * 1000,
      secrets: this.options.secrets,
      logger: this.logger,
    })
    if (!done.ok) {
      throw new DeckhandError(
        `${setting} ${done.signal ? `was stopped (${done.signal})${failure.stopped}` : `exited with ${done.exitCode}`}${failure.consequence}.`,
      )
    }
  }

  /** The recorded state synced back onto X, by the restore engine (overwriting what the migration left). */
  private async restoreDeclarative(files: readonly string[]): Promise<void> {
    const restored = await this.timeline.phase(
      'roll back the declarative state',
      async () => {
        const outcome = await restoreGateway({
          strategy: 'declarative',
          admins: this.options.x.admins,
          state: files,
          overwrite: true,
          waitTimeoutSeconds: this.options.waitTimeoutSeconds,
          smoke: [],
          deck: () => Promise.resolve(this.options.x.deck),
          reconcile: { logger: this.logger, secrets: this.options.secrets },
          env: this.options.env,
          secret: () => undefined,
          logger: this.logger,
        })
        if (outcome.error) throw new DeckhandError(outcome.error.message, outcome.error.details)
        return outcome
      },
      (o) => `${o.entitiesRestored} entities restored`,
    )
    for (const w of restored.warnings) this.outcome.warnings.push(w)
  }

  // ----- rolling ------------------------------------------------------------------------------

  private async rolling(y: UpgradeCluster): Promise<void> {
    await this.timeline.phase('validate on Y', () =>
      y.deck.run(validateArgs(y.deck.deck.features, { files: this.outcome.converted, online: true }), {
        online: true,
      }),
    )
    const config = await buildDeclarativeConfig(this.outcome.converted, this.options.env)
    await this.timeline.phase(
      'load the nodes',
      () =>
        Promise.all(
          y.admins.map((admin) =>
            loadNode(admin, config, {
              deadline: performance.now() + this.options.waitTimeoutSeconds * 1000,
              logger: this.logger,
            }),
          ),
        ),
      (loads) => `${loads.filter((l) => l.reloaded).length} of ${loads.length} node(s) loaded`,
    )
    const checked = await this.timeline.phase('verify the nodes', () => checkNodes(y.admins, config))
    this.outcome.nodes = checked.checks
    for (const node of checked.checks) {
      this.timeline.check(
        `configuration of ${node.address}`,
        node.problems.length === 0,
        node.problems.length === 0 ? `hash ${node.hash}` : node.problems.join('; '),
      )
    }
    if (!checked.ok) {
      throw new DeckhandError(
        `${checked.checks.filter((c) => c.problems.length > 0).length} new node(s) do not hold the converted configuration.`,
        checked.checks.flatMap((c) => c.problems.map((p) => `${c.address}: ${p}`)),
      )
    }
    await this.smoke()
    this.outcome.upgraded = true
    const old = this.options.state ? [...this.options.state] : this.outcome.record!.files
    this.outcome.next.push(
      "Move traffic to the new nodes gradually (the load balancer), then shut the old nodes down, as in Kong's rolling upgrade guide.",
    )
    this.outcome.rollback.push(
      `The configuration of the old nodes is kept in ${old.join(', ')}: to roll back, move the traffic back to the old nodes (or start nodes of the old version with it).`,
    )
  }

  // ----- waiting and smoke --------------------------------------------------------------------

  private waitNodes(admins: readonly KongAdmin[]): Promise<ReadyNode[]> {
    return waitForGateway(admins, {
      deadline: performance.now() + this.options.waitTimeoutSeconds * 1000,
      timeoutSeconds: this.options.waitTimeoutSeconds,
      logger: this.logger,
    })
  }

  private waitPhase(name: string, admins: readonly KongAdmin[]): Promise<ReadyNode[]> {
    return this.timeline.phase(
      name,
      () => this.waitNodes(admins),
      (nodes) => `${nodes.length} node(s) up, Kong ${nodes[0]!.info.version} (${nodes[0]!.info.edition})`,
    )
  }

  /** Smoke requests through the new gateway's proxy; any that fails ends the upgrade. */
  private async smoke(): Promise<void> {
    if (this.options.smoke.length === 0) return
    const results = await smokePhase(this.timeline, this.options.smoke, {
      logger: this.logger,
      windowMs: this.options.smokeWindowMs,
      ...(this.options.smokeTls ? { tls: this.options.smokeTls } : {}),
    })
    this.outcome.smoke = results
    const failed = results.filter((r) => !r.ok)
    if (failed.length > 0) {
      throw new DeckhandError(
        `${failed.length} smoke request(s) did not answer as expected.`,
        failed.map((r) => `${r.method} ${r.url}: ${r.status || r.error} (expected ${r.expected})`),
      )
    }
  }
}

function describeTables(r: {
  tablesChecked: number
  rowsChecked: number
  differences: readonly TableDifference[]
}): string {
  return r.differences.length === 0
    ? `${r.tablesChecked} tables, ${r.rowsChecked} rows match the backup`
    : `${r.differences.length} table(s) differ: ${r.differences
        .slice(0, 5)
        .map((d) => `${d.table} (expected ${d.expected}, found ${d.actual})`)
        .join(', ')}`
}

/**
 * The environment of the user's commands: deckhand's secrets left out (the DECK_ values the state uses, the
 * database password). Variables deckhand keeps from every child (INPUT_, DECKHAND_, ...) are left out by run.
 */
function commandEnv(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const secret = (name: string) => /^DECK_|^PGPASSWORD$/i.test(name)
  const out: Record<string, string | undefined> = {}
  for (const [name, value] of Object.entries(env)) out[name] = secret(name) ? undefined : value
  for (const name of Object.keys(process.env)) if (secret(name)) out[name] = undefined
  return out
}
