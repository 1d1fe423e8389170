// GitHub's action metadata (action.yml) schema from @actions/workflow-parser; see github-workflow-schema.mjs.
import { readFileSync } from 'node:fs'

export default JSON.parse(
  readFileSync(
    new URL('../../node_modules/@actions/workflow-parser/dist/action-v1.0.min.json', import.meta.url),
    'utf8',
  ),
)
