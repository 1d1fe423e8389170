// An IAM role an AWS service assumes to act for the gateway (monitoring, flow logs, replication).
import * as aws from '@pulumi/aws'
import type * as pulumi from '@pulumi/pulumi'

export interface ServiceRoleOptions {
  description: pulumi.Input<string>
  tags: Record<string, string>
  /**
   * The account the service may act for: with it, the trust policy holds `aws:SourceAccount`, so that the service
   * cannot be made to use the role on behalf of another account (IAM user guide, "The confused deputy problem").
   */
  sourceAccount?: pulumi.Output<string>
}

/** The trust policy of a role `service` (its principal, `monitoring.rds.amazonaws.com`) may assume. */
export function serviceTrustPolicy(service: string, sourceAccount?: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: service },
        Action: 'sts:AssumeRole',
        ...(sourceAccount !== undefined
          ? { Condition: { StringEquals: { 'aws:SourceAccount': sourceAccount } } }
          : {}),
      },
    ],
  })
}

export function serviceRole(
  resourceName: string,
  service: string,
  options: ServiceRoleOptions,
  parent: pulumi.Resource,
): aws.iam.Role {
  const { description, tags, sourceAccount } = options
  return new aws.iam.Role(
    resourceName,
    {
      description,
      assumeRolePolicy: sourceAccount
        ? sourceAccount.apply((accountId) => serviceTrustPolicy(service, accountId))
        : serviceTrustPolicy(service),
      tags,
    },
    { parent },
  )
}
