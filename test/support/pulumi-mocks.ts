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
  /** What the program logged with pulumi.log.warn (kept from the test output; tests assert on it). */
  warnings: string[]
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
  // Without an engine, pulumi.log.warn prints to the console; the warnings are collected instead.
  const warnings: string[] = []
  const warn = pulumi.log.warn
  pulumi.log.warn = (message: string) => {
    warnings.push(message)
    return Promise.resolve()
  }
  try {
    const result = await program(record)
    // Waits until every registration and invoke the program started has finished.
    await pulumi.runtime.disconnect()
    return { result, resources, invoked, parents, warnings }
  } finally {
    pulumi.log.warn = warn
  }
}

/** The value of an Output, once known. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve))
}
