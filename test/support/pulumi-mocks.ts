// Runs a Pulumi program in this process under pulumi.runtime.setMocks and returns what it registered.
import * as pulumi from '@pulumi/pulumi'

import { mockCloud, type Cloud, type Invoked, type Registered } from './pulumi-cloud.mjs'

export type { Cloud, Registered } from './pulumi-cloud.mjs'

export interface Run<T> {
  result: T
  resources: Registered[]
  invoked: Invoked[]
  /** Each registered resource's parent, as the transformation recorder saw it (undefined: none). */
  parents: Map<string, pulumi.Resource | undefined>
}

export async function runProgram<T>(
  cloud: Cloud,
  program: (record: pulumi.ResourceTransformation) => T | Promise<T>,
  project = 'deckhand',
): Promise<Run<T>> {
  const resources: Registered[] = []
  const invoked: Invoked[] = []
  const parents = new Map<string, pulumi.Resource | undefined>()
  await pulumi.runtime.setMocks(mockCloud(cloud, resources, invoked), project, 'test', false)
  // Transformations given to a component run for every resource beneath it, with the options it was given.
  const record: pulumi.ResourceTransformation = (args) => {
    parents.set(`${args.type}::${args.name}`, args.opts.parent)
    return undefined
  }
  const result = await program(record)
  // Waits until every registration and invoke the program started has finished.
  await pulumi.runtime.disconnect()
  return { result, resources, invoked, parents }
}

/** The value of an Output, once known. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve))
}
