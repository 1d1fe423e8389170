import { dbRestoreJob } from '../engine/jobs/database.js'
import { runAction } from '../github/run-action.js'

await runAction('db-restore', dbRestoreJob)
