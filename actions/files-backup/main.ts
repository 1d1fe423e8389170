import { filesBackupJob } from '../engine/jobs/files.js'
import { runAction } from '../github/run-action.js'

await runAction('files-backup', filesBackupJob)
