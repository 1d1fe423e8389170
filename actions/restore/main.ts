import { restoreJob } from '../engine/jobs/restore.js'
import { runAction } from '../github/run-action.js'

await runAction('restore', restoreJob)
