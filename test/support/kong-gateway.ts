// A KongGateway under Pulumi's mocks, with lookups of what it registered and of the Kong container's settings.
import { expect } from '@jest/globals'
import * as pulumi from '@pulumi/pulumi'

import { KongGateway, KongGatewayArgumentError, type KongGatewayArgs } from '../../pulumi/index.js'
import { mockCloud } from './pulumi-cloud.mjs'
import { runProgram, type Cloud, type Registered } from './pulumi-mocks.js'

const TASK_DEFINITION = 'aws:ecs/taskDefinition:TaskDefinition'

export async function deployGateway(name: string, args: KongGatewayArgs = {}, cloud: Cloud = {}) {
  const run = await runProgram(cloud, (record) => new KongGateway(name, args, { transformations: [record] }))
  const all = (type: string) => run.resources.filter((resource) => resource.type === type)
  const one = (type: string, resourceName?: string): Registered => {
    const found = all(type).filter((resource) => resourceName === undefined || resource.name === resourceName)
    if (found.length !== 1)
      throw new Error(`expected one ${type} ${resourceName ?? ''}, found ${found.length}`)
    return found[0]!
  }
  const containers = (): Record<string, any>[] => JSON.parse(one(TASK_DEFINITION).inputs.containerDefinitions) // eslint-disable-line @typescript-eslint/no-explicit-any
  const container = (containerName: string) => containers().find((c) => c.name === containerName)!
  const environment = (containerName = 'kong'): Record<string, string> =>
    Object.fromEntries(
      container(containerName).environment.map((e: { name: string; value: string }) => [e.name, e.value]),
    )
  const secrets = (containerName = 'kong'): Record<string, string> =>
    Object.fromEntries(
      container(containerName).secrets.map((s: { name: string; valueFrom: string }) => [s.name, s.valueFrom]),
    )
  return { ...run, gateway: run.result, all, one, containers, container, environment, secrets }
}

/** The error a KongGateway throws for these arguments, checked to come before any resource registered. */
export async function refusal(args: KongGatewayArgs): Promise<string> {
  const resources: Registered[] = []
  await pulumi.runtime.setMocks(mockCloud({}, resources), 'deckhand', 'test', false)
  let error: unknown
  try {
    new KongGateway('kong', args)
  } catch (thrown) {
    error = thrown
  }
  await pulumi.runtime.disconnect()
  expect(error).toBeInstanceOf(KongGatewayArgumentError)
  expect(resources).toEqual([])
  return (error as Error).message
}
