import { checkOutputFile } from '../output-paths.js'
import { COMMANDS } from '../../spec.js'
import type { JobContext, JobResult } from './context.js'
import { Inputs, type InputSource } from './inputs.js'
import { gatewayKind } from './gateway.js'
import { GATEWAYS } from './gateways.js'

export async function restoreJob(source: InputSource, ctx: JobContext): Promise<JobResult> {
  const inputs = new Inputs(COMMANDS.restore!.inputs, source)
  // The report is written once the gateway is restored: a place it cannot go must fail first.
  const reportFile = inputs.string('report-file')
  if (reportFile !== undefined) await checkOutputFile('report-file', reportFile, 'restore-report.json')
  const kind = gatewayKind(inputs)
  return GATEWAYS[kind].restore(inputs, ctx)
}
