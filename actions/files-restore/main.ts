import { filesRestoreJob } from '../engine/jobs/files.js'
import { runAction } from '../github/run-action.js'

await runAction('files-restore', filesRestoreJob)
