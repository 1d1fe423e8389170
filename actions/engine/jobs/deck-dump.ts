import { basename, join, resolve } from 'node:path'

import { BUNDLE_FILE } from '../secrets/bundle.js'
import { checkBundleOptions, controlPlaneFiles, dump, MANIFEST, previousFiles } from '../dump.js'
import { InputError } from '../errors.js'
import type { ControlPlane, KonnectApi } from '../konnect/api.js'
import { KONNECT_METADATA, metadataText } from '../konnect/metadata.js'
import { emptyReport } from '../report.js'
import { addRedactionReport, countByRule } from '../secrets/report.js'
import { type JobContext, type JobResult, openDeck } from './context.js'
import { inputName, type Inputs, requiredInput } from './inputs.js'
import { recipientsInput } from './secret-bundle.js'
import { storeBackup, storeOutputs } from './store.js'
import { DEFAULT_OUTPUT_DIR, gatewaySchemas, readDeckGateway } from './gateway.js'

/** The dump of a deck-driven gateway: a self-managed Kong's workspaces, or Konnect control planes. */
export async function deckDumpJob(
  kind: 'kong' | 'konnect',
  inputs: Inputs,
  ctx: JobContext,
): Promise<JobResult> {
  const outputDir = inputs.string('output-dir') ?? DEFAULT_OUTPUT_DIR[kind]
  const gateway = await readDeckGateway(kind, inputs, ctx)
  const planes = gateway.kind === 'konnect' ? await konnectControlPlanes(inputs, gateway.api) : undefined
  const controlPlanes = planes?.map((p) => p.name)
  const options = {
    outputDir,
    workspace: inputs.string('workspace'),
    allWorkspaces: inputs.boolean('all-workspaces'),
    controlPlanes,
    // What a restore needs to create a lost control plane again, beside its state.
    sidecars: planes && new Map([[KONNECT_METADATA, konnectMetadata(planes)]]),
    selectTags: inputs.list('select-tags'),
    skipConsumers: inputs.boolean('skip-consumers'),
    withId: inputs.boolean('with-id'),
    redactSecrets: inputs.boolean('redact-secrets'),
    allowEmpty: inputs.boolean('allow-empty'),
    // Checked before deck runs: a bad key fails the step with nothing written.
    recipients: recipientsInput(inputs),
  }
  checkBundleOptions(options)
  const deck = await openDeck(inputs, ctx, gateway.connection)
  if (!options.redactSecrets) {
    ctx.logger.warn(
      `${inputName('redact-secrets')} is false: the files hold plaintext credentials and keys. Keep them out of git and artifacts.`,
    )
  }
  const schemas = gatewaySchemas(gateway)
  const started = new Date()
  const result = await dump({
    ...options,
    deck,
    logger: ctx.logger,
    liveRules: schemas.liveRules,
    liveRulesFor: schemas.liveRulesFor,
  })

  const report = emptyReport('deckhand dump')
  const scope = gateway.kind === 'konnect' ? 'control plane' : 'workspace'
  const where = gateway.kind === 'konnect' ? `Konnect at ${gateway.address}` : gateway.address
  report.lines.push(
    `${result.entityCount} entities from ${result.workspaces.length} ${scope}(s) of ${where} ` +
      `(deck ${deck.deck.features.version}); ${result.changed ? 'changed' : 'unchanged'} since the last dump.`,
    `Digest ${result.digest}; ${result.secretsRedacted} secret value(s) replaced by environment references.`,
  )
  // Kinds down, workspaces across: there are many kinds and usually few workspaces.
  const kinds = [...new Set(result.workspaces.flatMap((w) => Object.keys(w.counts)))].sort()
  const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0)
  report.tables.push({
    caption: `Entities per ${scope}`,
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
        : `Removed ${removed}: its ${scope} is ${gateway.kind === 'konnect' ? 'no longer dumped' : 'gone'}.`,
    )
  const redactions = result.workspaces.flatMap((w) => w.redactions)
  addRedactionReport(report, redactions, schemas.problems())
  if (gateway.kind === 'konnect') {
    const waits = gateway.api.waits
    if (waits.length > 0) {
      const seconds = waits.reduce((sum, w) => sum + w.ms, 0) / 1000
      report.lines.push(
        `Konnect's rate limit held ${waits.length} request(s) of deckhand's for ${seconds} s in all (429, waited as Retry-After asked).`,
      )
    }
  }
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
      workspaces: controlPlanes ? '' : result.workspaces.map((w) => w.workspace).join('\n'),
      'control-planes': controlPlanes ? controlPlanes.join('\n') : '',
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

/**
 * The control planes to dump, each checked in Konnect first: a name that is not there fails the step before
 * deck runs, naming the control planes the token can see.
 */
async function konnectControlPlanes(inputs: Inputs, api: KonnectApi): Promise<ControlPlane[]> {
  const names = [...new Set(inputs.list('konnect-control-plane'))]
  if (names.length === 0) {
    throw requiredInput('konnect-control-plane', 'the Konnect control planes to dump, one name per line')
  }
  const found: ControlPlane[] = []
  const missing: string[] = []
  for (const name of names) {
    const plane = await api.findControlPlane(name)
    if (plane) found.push(plane)
    else missing.push(name)
  }
  if (missing.length > 0) {
    const seen = (await api.listControlPlanes()).map((cp) => cp.name)
    throw new InputError(
      `Konnect has no control plane named ${missing.map((n) => `"${n}"`).join(', ')} that ${inputName('konnect-token')} can see ` +
        `(it sees ${seen.length === 0 ? 'none' : shortList(seen)}). Check the names, konnect-region and the token's roles.`,
    )
  }
  return found
}

function shortList(items: readonly string[], max = 10): string {
  const shown = items
    .slice(0, max)
    .map((n) => `"${n}"`)
    .join(', ')
  return items.length > max ? `${shown} and ${items.length - max} more` : shown
}

/** `.konnect.json` for the dumped control planes, each with the file dump writes it into. */
function konnectMetadata(planes: readonly ControlPlane[]): string {
  const files = controlPlaneFiles(planes.map((p) => p.name))
  return metadataText(planes.map((plane) => ({ plane, file: `${files.get(plane.name)!}.yaml` })))
}
