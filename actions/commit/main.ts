import { commitJob } from '../engine/jobs/commit.js'
import { runAction } from '../github/run-action.js'

await runAction('commit', commitJob)
