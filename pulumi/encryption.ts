// One customer-managed KMS key for everything the gateway stores: database, secrets, logs and backups.
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'

import type { Settings } from './settings.js'

export interface Account {
  accountId: pulumi.Output<string>
  partition: pulumi.Output<string>
  region: pulumi.Output<string>
}

export function account(settings: Settings, parent: pulumi.Resource): Account {
  const opts = { parent }
  return {
    accountId: aws.getCallerIdentityOutput({}, opts).accountId,
    partition: aws.getPartitionOutput({}, opts).partition,
    region: aws.getRegionOutput({ region: settings.region }, opts).region,
  }
}

/**
 * The caller's key, or a new one with yearly rotation. A new key is retained when the stack is destroyed:
 * snapshots and backups encrypted with it would be unreadable without it, and a disaster recovery needs them.
 */
export function encryptionKey(
  settings: Settings,
  account: Account,
  parent: pulumi.Resource,
): pulumi.Output<string> {
  if (settings.kmsKeyArn !== undefined) return pulumi.output(settings.kmsKeyArn)
  const { name, region, tags } = settings
  const policy = pulumi
    .all([account.accountId, account.partition, account.region])
    .apply(([accountId, partition, keyRegion]) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            // IAM policies of the account decide who else may use the key (the task execution role, operators).
            Sid: 'AccountAdministers',
            Effect: 'Allow',
            Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
            Action: 'kms:*',
            Resource: '*',
          },
          {
            // CloudWatch Logs cannot use a key through IAM; it needs the key policy, scoped to this account's groups.
            Sid: 'CloudWatchLogsEncrypts',
            Effect: 'Allow',
            Principal: { Service: `logs.${keyRegion}.amazonaws.com` },
            Action: [
              'kms:Encrypt*',
              'kms:Decrypt*',
              'kms:ReEncrypt*',
              'kms:GenerateDataKey*',
              'kms:Describe*',
            ],
            Resource: '*',
            Condition: {
              ArnLike: {
                'kms:EncryptionContext:aws:logs:arn': `arn:${partition}:logs:${keyRegion}:${accountId}:log-group:*`,
              },
            },
          },
        ],
      }),
    )
  const key = new aws.kms.Key(
    `${name}-key`,
    {
      region,
      description: `deckhand Kong gateway ${name}: database, secrets, logs and backups`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy,
      tags,
    },
    { parent, retainOnDelete: true },
  )
  new aws.kms.Alias(
    `${name}-key`,
    {
      region,
      name: `alias/deckhand/${pulumi.getProject()}/${pulumi.getStack()}/${name}`,
      targetKeyId: key.keyId,
    },
    { parent },
  )
  return key.arn
}
