import { diffJob } from '../engine/jobs/reconcile.js'
import { runAction } from '../github/run-action.js'

await runAction('diff', diffJob)
