import { dumpJob } from '../engine/jobs/dump.js'
import { runAction } from '../github/run-action.js'

await runAction('dump', dumpJob)
