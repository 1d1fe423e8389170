import type { JobContext, JobResult } from '../../actions/engine/jobs/context.js'
import type { ToolStore } from '../../actions/engine/deck/install.js'
import { JOBS } from '../../actions/jobs.js'

/**
 * Runs a job from source, in this process, as the CLI would: `env` is the job's environment and, while the
 * job runs, the children's too (deck reads DECK_DOUBLE_* from its own). The bundled actions under dist/
 * run the last build; these run the code as it is now.
 */
export async function runJob(
  name: string,
  inputs: Record<string, string>,
  env: Record<string, string>,
): Promise<{ result?: JobResult; error?: unknown; logs: string[] }> {
  const logs: string[] = []
  const log = (level: string) => (message: string) => logs.push(`${level}: ${message}`)
  const ctx: JobContext = {
    logger: { info: log('info'), warn: log('warn'), debug: log('debug') },
    store: {} as ToolStore,
    env: { ...process.env, ...env },
    secret: () => undefined,
  }
  const saved = { ...process.env }
  Object.assign(process.env, env)
  try {
    return { result: await JOBS[name]!((input) => inputs[input], ctx), logs }
  } catch (error) {
    return { error, logs }
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
    Object.assign(process.env, saved)
  }
}
