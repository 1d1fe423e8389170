import * as core from '@actions/core'

import { runAction } from './github/run-action.js'
import { JOBS } from './jobs.js'

// The root action: `uses: owner/deckhand@v1` with `command: dump` runs the same code as `…/actions/dump@v1`.
const command = core.getInput('command').trim()
const job = JOBS[command]
if (job) await runAction(command, job)
else core.setFailed(`command must be one of ${Object.keys(JOBS).join(', ')}; got "${command}"`)
