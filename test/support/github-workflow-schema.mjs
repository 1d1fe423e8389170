// GitHub's workflow schema from @actions/workflow-parser, which imports it as `import … from '….json'` without
// an import attribute: Jest 30 warns about that and its next major refuses it. jest.config.js maps that import
// here, and this module reads the same file.
import { readFileSync } from 'node:fs'

export default JSON.parse(
  readFileSync(
    new URL('../../node_modules/@actions/workflow-parser/dist/workflow-v1.0.min.json', import.meta.url),
    'utf8',
  ),
)
