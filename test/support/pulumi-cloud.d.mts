// Types for pulumi-cloud.mjs: a pretend AWS account for Pulumi programs under pulumi.runtime.setMocks.
import type * as pulumi from '@pulumi/pulumi'

export interface Cloud {
  /** Answered to aws.ec2.getSubnet. */
  subnets?: Record<string, { availabilityZone: string; vpcId: string }>
  /** Answered to aws.ec2.getVpc. */
  vpcs?: Record<string, { cidrBlock: string }>
  /** RDS snapshots by identifier or ARN: the key a restore from them is encrypted with. */
  snapshots?: Record<string, { kmsKeyId: string }>
  /** RDS instances by identifier: the key a point-in-time restore from them is encrypted with. */
  instances?: Record<string, { kmsKeyId: string }>
  /** Answered to aws.getAvailabilityZones. Default three zones of eu-west-1. */
  zones?: string[]
}

export interface Registered {
  type: string
  name: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  inputs: Record<string, any>
  /** What the provider records for it: the inputs and what AWS computed. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  state?: Record<string, any>
}

export interface Invoked {
  token: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  inputs: Record<string, any>
}

export declare function mockCloud(
  cloud: Cloud,
  registered: Registered[],
  invoked?: Invoked[],
): pulumi.runtime.Mocks
