import { commitJob } from './engine/jobs/commit.js'
import { dbDumpJob, dbRestoreJob } from './engine/jobs/database.js'
import { dumpJob } from './engine/jobs/dump.js'
import type { JobContext, JobResult } from './engine/jobs/context.js'
import { filesBackupJob, filesRestoreJob } from './engine/jobs/files.js'
import type { InputSource } from './engine/jobs/inputs.js'
import { diffJob, syncJob } from './engine/jobs/reconcile.js'
import { restoreJob } from './engine/jobs/restore.js'
import { upgradeJob } from './engine/jobs/upgrade.js'
import { validateJob } from './engine/jobs/validate.js'

/** Every command's job, by name: what the root action and the CLI dispatch on. */
export const JOBS: Record<string, (source: InputSource, ctx: JobContext) => Promise<JobResult>> = {
  dump: dumpJob,
  validate: validateJob,
  diff: diffJob,
  sync: syncJob,
  'db-dump': dbDumpJob,
  'db-restore': dbRestoreJob,
  'files-backup': filesBackupJob,
  'files-restore': filesRestoreJob,
  commit: commitJob,
  restore: restoreJob,
  upgrade: upgradeJob,
}
