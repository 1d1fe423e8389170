import { validateJob } from '../engine/jobs/validate.js'
import { runAction } from '../github/run-action.js'

await runAction('validate', validateJob)
