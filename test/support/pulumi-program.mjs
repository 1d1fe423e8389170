// Runs the built component (dist/pulumi) as a Pulumi program would, under mocks, in its own process: the way to
// see what a user sees when a check fails while the program runs (an error, a non-zero exit). Input: the JSON of
// { name, args, cloud, outputs } in DECKHAND_PROGRAM; `outputs` names arguments given as Outputs, as another
// resource would give them: `whole` wraps the value, `items` each item of a list. Output: the component's outputs as
// JSON on stdout.
import * as pulumi from '@pulumi/pulumi'

import { mockCloud } from './pulumi-cloud.mjs'

const { name, args, cloud, outputs: given = {} } = JSON.parse(process.env.DECKHAND_PROGRAM)
for (const [key, how] of Object.entries(given)) {
  args[key] = how === 'items' ? args[key].map((item) => pulumi.output(item)) : pulumi.output(args[key])
}
await pulumi.runtime.setMocks(mockCloud(cloud, []), 'deckhand', 'test', false)
const { KongGateway } = await import('../../dist/pulumi/index.js')
const gateway = new KongGateway(name, args)
await pulumi.runtime.disconnect()
const outputs = {}
for (const key of ['proxyUrl', 'adminUrl', 'databaseEndpoint', 'backupBucketName', 'clusterName']) {
  outputs[key] = await new Promise((resolve) => gateway[key].apply(resolve))
}
console.log(JSON.stringify(outputs))
