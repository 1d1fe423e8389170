// Checks the cross-region disaster recovery option before anything registers.
import * as pulumi from '@pulumi/pulumi'

import type { KongGatewayArgs } from './args.js'
import { checkArn, fail, integer, known, type DatabaseSettings } from './settings.js'

export interface DisasterRecoverySettings {
  region: string
  /** Days the replicated automated backups are kept (database mode). */
  backupRetentionDays: number
  kmsKeyArn?: pulumi.Input<string>
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/

/** The gateway's region when it is known now: the argument, else the provider's configured `aws:region`. */
function gatewayRegion(args: KongGatewayArgs): string | undefined {
  if (args.region !== undefined) return known(args.region) ? args.region : undefined
  return new pulumi.Config('aws').get('region')
}

export function disasterRecoverySettings(
  args: KongGatewayArgs,
  database: DatabaseSettings | undefined,
  backupBucket: boolean,
): DisasterRecoverySettings {
  const options = args.disasterRecovery!
  const region = options.region
  if (typeof region !== 'string' || !REGION.test(region)) {
    fail('disasterRecovery.region', `"${region}" is not an AWS region such as us-east-1`)
  }
  const here = gatewayRegion(args)
  if (region === here) {
    fail(
      'disasterRecovery.region',
      `is the gateway's own region (${region}); copies there are lost with it: choose another region`,
    )
  }
  if (!database && !backupBucket) {
    fail(
      'disasterRecovery',
      'has nothing to copy: a gateway without a database (DB-less or Konnect) or a backup bucket keeps no ' +
        'backups; turn the bucket on',
    )
  }
  if (!database && options.backupRetentionDays !== undefined) {
    fail(
      'disasterRecovery.backupRetentionDays',
      'is for the automated backups of a database; DB-less and Konnect gateways have none',
    )
  }
  checkArn(
    'disasterRecovery.kmsKeyArn',
    options.kmsKeyArn,
    /^kms$/,
    `arn:aws:kms:${region}:123456789012:key/…`,
  )
  // StartDBInstanceAutomatedBackupsReplication: KmsKeyId is a key "in the destination AWS Region" (AWS RDS API
  // reference), and S3 encrypts replicas with ReplicaKmsKeyID in the destination bucket's region.
  if (known(options.kmsKeyArn) && options.kmsKeyArn.split(':')[3] !== region) {
    fail(
      'disasterRecovery.kmsKeyArn',
      `is a key of ${options.kmsKeyArn.split(':')[3]}; the copies in ${region} need a key of ${region}`,
    )
  }
  return {
    region,
    // RDS keeps replicated automated backups for 1 to 35 days, like the source's (BackupRetentionPeriod).
    backupRetentionDays: integer(
      'disasterRecovery.backupRetentionDays',
      options.backupRetentionDays,
      database?.backupRetentionDays ?? 1,
      1,
      35,
    ),
    ...(options.kmsKeyArn !== undefined ? { kmsKeyArn: options.kmsKeyArn } : {}),
  }
}
