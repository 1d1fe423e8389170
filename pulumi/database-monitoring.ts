// The role RDS enhanced monitoring publishes OS metrics with (RDS.6).
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'

import type { Account } from './encryption.js'
import { serviceRole } from './service-role.js'
import type { Settings } from './settings.js'

/** Seconds between enhanced monitoring samples; 60 is the cheapest interval that turns it on. */
export const MONITORING_INTERVAL = 60

/** RDS user guide, "Setting up and enabling Enhanced Monitoring": trusted by monitoring.rds, with the managed policy. */
export function monitoringRole(settings: Settings, account: Account, parent: pulumi.Resource): aws.iam.Role {
  const { name, tags } = settings
  const role = serviceRole(
    `${name}-db-monitoring`,
    'monitoring.rds.amazonaws.com',
    {
      description: `Publishes enhanced monitoring of the Kong database of ${name}`,
      tags,
      sourceAccount: account.accountId,
    },
    parent,
  )
  new aws.iam.RolePolicyAttachment(
    `${name}-db-monitoring`,
    {
      role: role.name,
      policyArn: pulumi.interpolate`arn:${account.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole`,
    },
    { parent },
  )
  return role
}
