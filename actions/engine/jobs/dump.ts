import { COMMANDS } from '../../spec.js'
import { checkOutputDirectory } from '../output-paths.js'
import type { JobContext, JobResult } from './context.js'
import { Inputs, type InputSource } from './inputs.js'
import { DEFAULT_OUTPUT_DIR, gatewayKind } from './gateway.js'
import { GATEWAYS } from './gateways.js'

export async function dumpJob(source: InputSource, ctx: JobContext): Promise<JobResult> {
  const inputs = new Inputs(COMMANDS.dump!.inputs, source)
  const kind = gatewayKind(inputs)
  const outputDir = inputs.string('output-dir') ?? DEFAULT_OUTPUT_DIR[kind]
  await checkOutputDirectory('output-dir', outputDir)
  return GATEWAYS[kind].dump(inputs, ctx)
}
