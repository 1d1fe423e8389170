import { COMMANDS } from '../../spec.js'
import type { Connection } from '../deck/connection.js'
import { emptyReport } from '../report.js'
import { expandState } from '../state/files.js'
import { validate, type ValidateResult } from '../validate.js'
import { type JobContext, type JobResult, openDeck, readConnection } from './context.js'
import { InputError } from '../errors.js'
import { refuseInputs } from './gateway.js'
import { inputName, Inputs, type InputSource } from './inputs.js'
import { addProblems } from './problems.js'
import { deckVariables } from './secret-bundle.js'

export async function validateJob(source: InputSource, ctx: JobContext): Promise<JobResult> {
  const inputs = new Inputs(COMMANDS.validate!.inputs, source)
  const online = inputs.boolean('online')
  const konnect = inputs.oneOf<'kong' | 'konnect'>('gateway', ['kong', 'konnect']) === 'konnect'
  if (!konnect) refuseInputs(inputs, ['konnect-control-plane'], `for ${inputName('gateway')} konnect`)
  if (konnect && online) {
    throw new InputError(
      `${inputName('online')} validation against Konnect is not supported yet: validate offline with ${inputName('gateway')} konnect (the Konnect checks run), then diff against the control plane.`,
    )
  }
  // Offline validation needs no gateway; only read (and require) the address when going online.
  const connection: Connection | undefined = online ? readConnection(inputs, ctx) : undefined
  const parallelism = inputs.integer('parallelism')
  // Every local check runs before deck is looked up (and perhaps downloaded): a runner that cannot get
  // deck still hears about each problem in its files.
  const state = await expandState(inputs.list('state'))
  const variables = await deckVariables(inputs, ctx, state)
  const result = await validate({
    state,
    online,
    workspace: inputs.string('workspace'),
    konnect: konnect ? { controlPlane: inputs.string('konnect-control-plane') } : undefined,
    parallelism,
    deck: () => openDeck(inputs, ctx, connection),
    logger: ctx.logger,
    env: ctx.env,
    variables,
    scanSecrets: true,
  })

  const report = emptyReport('deckhand validate')
  const where = online ? `online against ${connection!.kongAddr}` : 'offline'
  report.lines.push(headline(result, where))
  const bundleLine = variables.describe()
  if (bundleLine) report.lines.push(bundleLine)
  if (result.problems.length > 0) addProblems(report, result.problems, 'validate')
  const secrets = result.secrets
  if (secrets.length > 0) {
    report.lines.push(
      `${secrets.length} secret value(s) in plain text: fine for a private backup, but redact them ` +
        '(deckhand redact FILE) before the files go into git.',
    )
    for (const s of secrets.slice(0, MAX_SECRET_ANNOTATIONS)) {
      report.annotations.push({
        level: 'warning',
        title: 'deckhand validate: plaintext secret',
        file: s.file,
        line: s.line,
        message: `${s.location} holds a secret value in plain text.`,
      })
    }
  }
  return {
    ok: result.valid,
    report,
    outputs: {
      valid: String(result.valid),
      problems: String(result.problems.length),
      'plaintext-secrets': String(secrets.length),
    },
  }
}

function headline(result: ValidateResult, where: string): string {
  const files = `${result.files.length} file(s)`
  if (result.valid) return `${files} valid (${where}).`
  if (result.deckUnavailable !== undefined) {
    return `The local checks of ${files} passed, but deck's own validation could not run: ${result.deckUnavailable}`
  }
  const problems = `${result.problems.length} problem(s) in ${files}`
  // deck does not run on files with local problems (validate.ts): say so, an air-gapped runner may wonder.
  return result.problems.some((p) => p.check === 'deck')
    ? `${problems}.`
    : `${problems}; deck's own validation runs once they are fixed.`
}

/** Annotations beyond this many are summed up in the report's line (GitHub shows only a few per step). */
const MAX_SECRET_ANNOTATIONS = 50
