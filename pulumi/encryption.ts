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
  const { name, region } = settings
  return retainedKey(
    `${name}-key`,
    {
      region,
      description: `deckhand Kong gateway ${name}: database, secrets, logs and backups`,
      alias: name,
      tags: settings.tags,
      statements: pulumi
        .all([account.partition, account.accountId, account.region])
        .apply(([partition, accountId, keyRegion]) => [
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
        ]),
    },
    account,
    parent,
  )
}

export interface RetainedKeyOptions {
  region?: pulumi.Input<string>
  description: string
  /** Its alias: alias/deckhand/<project>/<stack>/<alias>. */
  alias: string
  tags: Record<string, string>
  /** Key policy statements beside the account's administration of the key. */
  statements?: pulumi.Input<object[]>
}

/**
 * A new key with yearly rotation, retained when the stack is destroyed. The account administers it: its IAM
 * policies decide who else may use it (the task execution role, RDS through the caller's grants, S3 replication).
 */
export function retainedKey(
  name: string,
  options: RetainedKeyOptions,
  account: Account,
  parent: pulumi.Resource,
): pulumi.Output<string> {
  const { region, tags } = options
  const policy = pulumi
    .all([account.accountId, account.partition, pulumi.output(options.statements ?? [])])
    .apply(([accountId, partition, statements]) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'AccountAdministers',
            Effect: 'Allow',
            Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
            Action: 'kms:*',
            Resource: '*',
          },
          ...statements,
        ],
      }),
    )
  const key = new aws.kms.Key(
    name,
    {
      region,
      description: options.description,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy,
      tags,
    },
    { parent, retainOnDelete: true },
  )
  new aws.kms.Alias(
    name,
    {
      region,
      name: `alias/deckhand/${pulumi.getProject()}/${pulumi.getStack()}/${options.alias}`,
      targetKeyId: key.keyId,
    },
    { parent },
  )
  return key.arn
}
