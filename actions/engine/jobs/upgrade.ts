import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

import type { Connection } from '../deck/connection.js'
import { connectionSecrets } from '../deck/connection.js'
import { LTS_LINES } from '../deck/version.js'
import { InputError } from '../errors.js'
import { privateTempDir, writeFileAtomic } from '../fs-atomic.js'
import { readCaCert } from '../http.js'
import { KongAdmin } from '../kong/admin.js'
import { checkOutputFile } from '../output-paths.js'
import { parsePgTarget, type PgTarget } from '../postgres/connection.js'
import { parseSmokeRequests } from '../restore/smoke.js'
import { isLtsLine } from '../upgrade/convert.js'
import { kongConfChanges } from '../upgrade/kong-conf.js'
import { type ParsedKongConf, parseKongConf, withEnvironment } from '../upgrade/kong-conf-parse.js'
import {
  UPGRADE_MODES,
  type UpgradeCluster,
  type UpgradeDatabase,
  type UpgradeMode,
  type UpgradeOutcome,
  upgradeGateway,
} from '../upgrade/upgrade.js'
import { COMMANDS } from '../../spec.js'
import { type JobContext, type JobResult, openDeck, readConnection } from './context.js'
import { inputName, Inputs, type InputSource, requiredInput } from './inputs.js'
import { maskSmokeQueries } from './restore-result.js'
import { recipientsInput } from './secret-bundle.js'
import { describeUpgrade, type KongConfResult } from './upgrade-report.js'

export async function upgradeJob(source: InputSource, ctx: JobContext): Promise<JobResult> {
  const inputs = new Inputs(COMMANDS.upgrade!.inputs, source)
  // Everything the user can get wrong is refused here, before a cluster is asked anything or a file written.
  const mode = inputs.oneOf<UpgradeMode>('mode', UPGRADE_MODES)
  checkModeInputs(inputs, mode)
  const reportFile = inputs.string('report-file')
  if (reportFile !== undefined) await checkOutputFile('report-file', reportFile, 'upgrade-report.json')
  const kongConfFile = inputs.string('kong-conf')
  // Kong lays its KONG_* variables over the file: the step's environment stands for the gateway's (the host's).
  const kongConf =
    kongConfFile === undefined ? undefined : withEnvironment(await readKongConf(kongConfFile), ctx.env)
  const smoke = parseSmokeRequests(inputs.list('smoke-requests'))
  maskSmokeQueries(smoke, ctx)

  const xDatabase = readDatabase(inputs, 'database-url', ctx)
  const yDatabase = readDatabase(inputs, 'target-database-url', ctx)
  const rehearsal = inputs.string('rehearse-rollback')
  const x = await openCluster(inputs, ctx, inputs.list('kong-addr'), inputs.string('kong-admin-token'))
  const y =
    mode === 'in-place'
      ? undefined
      : await openCluster(
          inputs,
          ctx,
          inputs.list('target-kong-addr'),
          // A Y built from X's backup holds X's RBAC users, so X's token is Y's unless told otherwise.
          inputs.string('target-kong-admin-token') ?? inputs.string('kong-admin-token'),
        )

  const outcome = await upgradeGateway({
    mode,
    x: { ...x.cluster, line: inputs.string('from-line'), database: xDatabase?.database },
    y: y && { ...y.cluster, line: inputs.string('to-line'), database: yDatabase?.database },
    toLine: inputs.string('to-line'),
    outputDir: inputs.string('output-dir')!,
    migrateCommand: inputs.string('migrate-command'),
    restartCommand: inputs.string('restart-command'),
    exportKeyring: inputs.boolean('export-keyring'),
    recipients: recipientsInput(inputs),
    files:
      inputs.list('files').length > 0
        ? { paths: inputs.list('files'), includeSecrets: inputs.boolean('include-secrets') }
        : undefined,
    rehearseRollback: rehearsal === undefined ? undefined : readTarget(rehearsal, ctx),
    state: inputs.list('state').length > 0 ? inputs.list('state') : undefined,
    smoke,
    smokeWindowMs: inputs.integer('smoke-timeout')! * 1000,
    // The proxy presents the gateway's certificate too (KongGateway's generated one covers both).
    smokeTls: { ca: await readCaCert(x.connection.caCert), skipVerify: x.connection.tlsSkipVerify },
    waitTimeoutSeconds: inputs.integer('wait-timeout')!,
    env: ctx.env,
    secrets: [
      ...connectionSecrets(x.connection),
      ...(y ? connectionSecrets(y.connection) : []),
      ...[xDatabase, yDatabase].flatMap((d) => d?.secrets ?? []),
    ],
    secret: (value) => ctx.secret(value),
    logger: ctx.logger,
  })

  // The lines are known once both clusters answered (or were given): the kong.conf changes are those of this hop.
  const conf: KongConfResult | undefined =
    kongConf && outcome.from && outcome.to
      ? { file: kongConfFile!, changes: kongConfChanges(kongConf, outcome.from, outcome.to) }
      : undefined
  const written = await writeReport(reportFile, outcome, conf)
  return {
    ok: outcome.verified && !outcome.error,
    report: describeUpgrade(outcome, written, conf, kongConfFile),
    outputs: {
      upgraded: String(outcome.upgraded),
      'rolled-back': String(outcome.rolledBack),
      verified: String(outcome.verified),
      folder: outcome.folder ?? '',
      report: written,
    },
  }
}

/** What each mode needs, and what it would ignore: both are usage errors. */
function checkModeInputs(inputs: Inputs, mode: UpgradeMode): void {
  if (inputs.list('kong-addr').length === 0)
    throw requiredInput('kong-addr', "cluster X's Admin API, the gateway on the old line.")
  for (const name of ['from-line', 'to-line']) {
    const line = inputs.string(name)
    if (line !== undefined && !isLtsLine(line))
      throw new InputError(`${inputName(name)} ${line} is not a Kong LTS line: ${LTS_LINES.join(', ')}.`)
  }
  const notFor = (name: string, why: string) => {
    if (inputs.given(name)) throw new InputError(`${inputName(name)} is not used by mode ${mode}: ${why}`)
  }
  if (mode === 'in-place') {
    if (!inputs.given('migrate-command'))
      throw requiredInput(
        'migrate-command',
        'an in-place upgrade runs it to migrate the database and start the new version.',
      )
    if (!inputs.given('to-line'))
      throw requiredInput('to-line', 'X reports its old version until it is migrated.')
    notFor('target-kong-addr', 'an in-place upgrade upgrades X itself.')
  } else {
    if (inputs.list('target-kong-addr').length === 0)
      throw requiredInput(
        'target-kong-addr',
        `the Admin API of the new ${mode === 'rolling' ? 'nodes' : 'cluster'} (Y).`,
      )
    notFor('migrate-command', 'only an in-place upgrade migrates.')
    notFor('restart-command', 'only an in-place upgrade restarts X after a rollback.')
  }
  if (mode !== 'dual-cluster')
    notFor('target-database-url', "only a dual-cluster upgrade compares Y's database with X's backup.")
  if (mode !== 'rolling') notFor('state', "the configuration upgraded is X's, as recorded.")
  const needBackup: [string, string][] = [
    ['rehearse-rollback', "restores X's database backup"],
    ['target-database-url', "is compared with X's database backup"],
  ]
  for (const [name, why] of needBackup) {
    if (inputs.given(name) && !inputs.given('database-url'))
      throw new InputError(`${inputName(name)} ${why}: set ${inputName('database-url')} too.`)
  }
  if (inputs.given('include-secrets') && inputs.list('files').length === 0)
    throw new InputError(
      `${inputName('include-secrets')} is about the files backed up: set ${inputName('files')} too, or leave it out.`,
    )
}

/** A kong.conf read whole and parsed as Kong reads it; errors name the file (and line). */
async function readKongConf(file: string): Promise<ParsedKongConf> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new InputError(`${inputName('kong-conf')}: cannot read ${file} (${err.code ?? err.message}).`)
  })
  return parseKongConf(text, file)
}

function readTarget(url: string, ctx: JobContext): PgTarget {
  ctx.secret(url)
  const target = parsePgTarget(url, ctx.env)
  if (target.password) ctx.secret(target.password)
  return target
}

/** A database given by URL, its secrets masked; none when the input is empty. */
function readDatabase(
  inputs: Inputs,
  name: 'database-url' | 'target-database-url',
  ctx: JobContext,
): { database: UpgradeDatabase; secrets: string[] } | undefined {
  const url = inputs.string(name)
  if (url === undefined) return undefined
  const target = readTarget(url, ctx)
  return {
    database: { target, noOwner: inputs.boolean('no-owner'), binDir: inputs.string('postgres-bin') },
    secrets: target.password ? [target.password] : [],
  }
}

/**
 * A cluster's clients: every address gets the checks a single one does (its own token), deck talks to the first.
 */
async function openCluster(
  inputs: Inputs,
  ctx: JobContext,
  addresses: readonly string[],
  token: string | undefined,
): Promise<{ cluster: Pick<UpgradeCluster, 'admins' | 'deck'>; connection: Connection }> {
  const connections = addresses.map((address) =>
    readConnection(inputs.with({ 'kong-addr': address, 'kong-admin-token': token }), ctx),
  )
  const connection = connections[0]!
  const admins = await Promise.all(connections.map((c) => KongAdmin.open(c.kongAddr, c)))
  return { cluster: { admins, deck: await openDeck(inputs, ctx, connection) }, connection }
}

async function writeReport(
  path: string | undefined,
  outcome: UpgradeOutcome,
  conf: KongConfResult | undefined,
): Promise<string> {
  const file = path ?? join((await privateTempDir('deckhand-upgrade-')).path, 'upgrade-report.json')
  const document = {
    format: 'deckhand-upgrade/1',
    generatedAt: new Date().toISOString(),
    ...outcome,
    // Unknown settings are named, never valued: a misspelt pg_password is still a password.
    ...(conf && {
      kongConf: {
        file: conf.file,
        changes: {
          ...conf.changes,
          unknown: conf.changes.unknown.map(({ name, origin }) => ({ name, origin })),
        },
      },
    }),
  }
  await writeFileAtomic(file, JSON.stringify(document, null, 2) + '\n')
  return file
}
