import { basename, join, resolve } from 'node:path'

import { COMMANDS } from '../../spec.js'
import { BUNDLE_FILE } from '../secrets/bundle.js'
import { checkBundleOptions, dump, MANIFEST, previousFiles } from '../dump.js'
import { DeckhandError } from '../errors.js'
import { checkOutputDirectory } from '../output-paths.js'
import { emptyReport } from '../report.js'
import { LiveRules } from '../secrets/live-rules.js'
import { addRedactionReport, countByRule } from '../secrets/report.js'
import { type JobContext, type JobResult, openDeck, readConnection } from './context.js'
import { inputName, Inputs, type InputSource } from './inputs.js'
import { recipientsInput } from './secret-bundle.js'
import { storeBackup, storeOutputs } from './store.js'
import { gatewayKind, tykDumpJob } from './tyk.js'

export async function dumpJob(source: InputSource, ctx: JobContext): Promise<JobResult> {
  const inputs = new Inputs(COMMANDS.dump!.inputs, source)
  const tyk = gatewayKind(inputs) === 'tyk'
  await checkOutputDirectory('output-dir', inputs.string('output-dir') ?? (tyk ? 'tyk' : 'kong'))
  if (tyk) {
    if (inputs.string('store'))
      throw new DeckhandError(
        `${inputName('store')} is not supported for ${inputName('gateway')} tyk yet: keep the dump in git (commit) or as an artifact.`,
      )
    return tykDumpJob(inputs, ctx)
  }
  const connection = readConnection(inputs, ctx)
  const options = {
    outputDir: inputs.string('output-dir') ?? 'kong',
    workspace: inputs.string('workspace'),
    allWorkspaces: inputs.boolean('all-workspaces'),
    selectTags: inputs.list('select-tags'),
    skipConsumers: inputs.boolean('skip-consumers'),
    withId: inputs.boolean('with-id'),
    redactSecrets: inputs.boolean('redact-secrets'),
    allowEmpty: inputs.boolean('allow-empty'),
    // Checked before deck runs: a bad key fails the step with nothing written.
    recipients: recipientsInput(inputs),
  }
  checkBundleOptions(options)
  const deck = await openDeck(inputs, ctx, connection)
  if (!options.redactSecrets) {
    ctx.logger.warn(
      `${inputName('redact-secrets')} is false: the files hold plaintext credentials and keys. Keep them out of git and artifacts.`,
    )
  }
  const liveRules = new LiveRules(connection)
  const started = new Date()
  const result = await dump({ ...options, deck, logger: ctx.logger, liveRules })

  const report = emptyReport('deckhand dump')
  report.lines.push(
    `${result.entityCount} entities from ${result.workspaces.length} workspace(s) of ${connection.kongAddr} ` +
      `(deck ${deck.deck.features.version}); ${result.changed ? 'changed' : 'unchanged'} since the last dump.`,
    `Digest ${result.digest}; ${result.secretsRedacted} secret value(s) replaced by environment references.`,
  )
  // Kinds down, workspaces across: there are many kinds and usually few workspaces.
  const kinds = [...new Set(result.workspaces.flatMap((w) => Object.keys(w.counts)))].sort()
  const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0)
  report.tables.push({
    caption: 'Entities per workspace',
    header: ['kind', ...result.workspaces.map((w) => w.workspace)],
    rows: [
      ...kinds.map((kind) => [kind, ...result.workspaces.map((w) => String(w.counts[kind] ?? 0))]),
      ['total', ...result.workspaces.map((w) => String(total(w.counts)))],
    ],
  })
  const bundle = result.bundle
  if (bundle) {
    report.lines.push(
      `Secret bundle ${bundle.file}: ${bundle.count} value(s) encrypted to ${bundle.recipients.length} recipient(s) ` +
        `(${bundle.recipients.join(', ')}); ${bundle.unchanged ? 'unchanged, kept byte for byte' : 'rewritten'}.`,
    )
  } else if (result.requiredEnv.length > 0) {
    report.lines.push(
      `Set ${result.requiredEnv.length} DECK_ variable(s) listed in required-env.txt before syncing these files.`,
      'Hint: set age-recipients (age public keys) to keep these values encrypted in secrets.age beside the files, ' +
        'so that a restore needs one CI secret (the age identity) instead of one per variable.',
    )
  }
  for (const removed of result.removed)
    report.lines.push(
      basename(removed) === BUNDLE_FILE
        ? `Removed ${removed}: age-recipients is not set, so it would no longer follow the gateway's secrets.`
        : `Removed ${removed}: its workspace is gone.`,
    )
  const redactions = result.workspaces.flatMap((w) => w.redactions)
  addRedactionReport(report, redactions, liveRules.problems)
  const owned = (await previousFiles(options.outputDir)) ?? []
  const stored = await storeBackup(
    inputs,
    ctx,
    {
      kind: 'state',
      source: basename(resolve(options.outputDir)),
      time: started,
      root: options.outputDir,
      files: [...owned, MANIFEST].map((name) => join(options.outputDir, name)),
      summary: { entities: result.entityCount, workspaces: result.workspaces.length, digest: result.digest },
      sensitive: !options.redactSecrets,
      artifactName: basename(resolve(options.outputDir)),
    },
    report,
    '',
  )

  return {
    ok: true,
    report,
    outputs: {
      files: result.files.join('\n'),
      workspaces: result.workspaces.map((w) => w.workspace).join('\n'),
      'entity-count': String(result.entityCount),
      digest: result.digest,
      'secrets-redacted': String(result.secretsRedacted),
      'secrets-by-rule': JSON.stringify(countByRule(redactions)),
      'required-env': result.requiredEnv.join('\n'),
      changed: String(result.changed),
      ...storeOutputs(stored),
      'secrets-bundle': bundle?.file ?? '',
    },
  }
}
