// A KongGateway under Pulumi's mocks, with lookups of what it registered and of the Kong container's settings.
import { expect } from '@jest/globals'
import * as pulumi from '@pulumi/pulumi'

import { KongGateway, KongGatewayArgumentError, type KongGatewayArgs } from '../../pulumi/index.js'
import { mockCloud } from './pulumi-cloud.mjs'
import { runProgram, type Cloud, type Registered } from './pulumi-mocks.js'

const TASK_DEFINITION = 'aws:ecs/taskDefinition:TaskDefinition'

/** The resource types the KongGateway suites look up, by a short name. */
export const T = {
  gateway: 'deckhand:index:KongGateway',
  vpc: 'aws:ec2/vpc:Vpc',
  subnet: 'aws:ec2/subnet:Subnet',
  nat: 'aws:ec2/natGateway:NatGateway',
  igw: 'aws:ec2/internetGateway:InternetGateway',
  db: 'aws:rds/instance:Instance',
  subnetGroup: 'aws:rds/subnetGroup:SubnetGroup',
  securityGroup: 'aws:ec2/securityGroup:SecurityGroup',
  ingress: 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule',
  egress: 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule',
  loadBalancer: 'aws:lb/loadBalancer:LoadBalancer',
  targetGroup: 'aws:lb/targetGroup:TargetGroup',
  listener: 'aws:lb/listener:Listener',
  task: 'aws:ecs/taskDefinition:TaskDefinition',
  service: 'aws:ecs/service:Service',
  secret: 'aws:secretsmanager/secret:Secret',
  secretVersion: 'aws:secretsmanager/secretVersion:SecretVersion',
  rolePolicy: 'aws:iam/rolePolicy:RolePolicy',
  logGroup: 'aws:cloudwatch/logGroup:LogGroup',
  key: 'aws:kms/key:Key',
  bucket: 'aws:s3/bucket:Bucket',
  publicAccess: 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock',
  encryption: 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
  versioning: 'aws:s3/bucketVersioning:BucketVersioning',
  ownership: 'aws:s3/bucketOwnershipControls:BucketOwnershipControls',
  lifecycle: 'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration',
  objectLock: 'aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration',
  bucketPolicy: 'aws:s3/bucketPolicy:BucketPolicy',
  certificate: 'tls:index/selfSignedCert:SelfSignedCert',
  role: 'aws:iam/role:Role',
  replication: 'aws:s3/bucketReplicationConfig:BucketReplicationConfig',
  automatedBackups: 'aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication',
}

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
