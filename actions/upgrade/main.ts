import { upgradeJob } from '../engine/jobs/upgrade.js'
import { runAction } from '../github/run-action.js'

await runAction('upgrade', upgradeJob)
