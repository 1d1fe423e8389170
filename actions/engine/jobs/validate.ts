import { COMMANDS } from '../../spec.js'
import type { Connection } from '../deck/connection.js'
import { emptyReport } from '../report.js'
import { expandState } from '../state/files.js'
import { validate } from '../validate.js'
import { type JobContext, type JobResult, openDeck, readConnection } from './context.js'
import { Inputs, type InputSource } from './inputs.js'
import { addProblems } from './problems.js'

export async function validateJob(source: InputSource, ctx: JobContext): Promise<JobResult> {
  const inputs = new Inputs(COMMANDS.validate!.inputs, source)
  const online = inputs.boolean('online')
  // Offline validation needs no gateway; only read (and require) the address when going online.
  const connection: Connection | undefined = online ? readConnection(inputs, ctx) : undefined
  const parallelism = inputs.integer('parallelism')
  // Bad paths fail here, before deck is looked up (and perhaps downloaded).
  const state = await expandState(inputs.list('state'))
  const deck = await openDeck(inputs, ctx, connection)
  const result = await validate({
    state,
    online,
    workspace: inputs.string('workspace'),
    parallelism,
    deck,
    logger: ctx.logger,
    env: ctx.env,
  })

  const report = emptyReport('deckhand validate')
  report.lines.push(
    result.valid
      ? `${result.files.length} file(s) valid (${online ? 'online against ' + connection!.kongAddr : 'offline'}).`
      : `${result.problems.length} problem(s) in ${result.files.length} file(s).`,
  )
  if (!result.valid) addProblems(report, result.problems, 'validate')
  return {
    ok: result.valid,
    report,
    outputs: { valid: String(result.valid), problems: String(result.problems.length) },
  }
}
