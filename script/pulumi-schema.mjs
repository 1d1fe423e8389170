// Writes pulumi/schema.json: the package schema Pulumi's component provider host serves for KongGateway, made by
// the same code (ComponentProvider.getSchema, which runs Pulumi's analyzer over pulumi/*.ts). Programs in other
// languages get their SDK from it; the committed copy shows a change of the arguments in review. `--check` fails
// when the committed file differs.
import { readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { ComponentProvider } from '@pulumi/pulumi/provider/experimental/index.js'

import '../pulumi/source-hooks.js'

const folder = join(dirname(fileURLToPath(import.meta.url)), '..', 'pulumi')
const file = join(folder, 'schema.json')

/** The schema as the host serves it, indented for review. */
export async function packageSchema() {
  const { KongGateway } = await import('../pulumi/index.ts')
  const provider = new ComponentProvider({ name: 'deckhand', dirname: folder, components: [KongGateway] })
  return `${JSON.stringify(JSON.parse(await provider.getSchema()), null, 2)}\n`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const schema = await packageSchema()
  if (process.argv.includes('--check')) {
    const committed = await readFile(file, 'utf8').catch(() => '')
    if (committed !== schema) {
      console.error("pulumi/schema.json is stale: run 'node script/pulumi-schema.mjs' and commit it.")
      process.exit(1)
    }
    console.log('pulumi/schema.json is up to date')
  } else {
    await writeFile(file, schema)
    console.log('wrote pulumi/schema.json')
  }
}
