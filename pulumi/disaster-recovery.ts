// Copies of the gateway's backups in a second region, so that losing the gateway's region loses no backup: the
// database's automated backups (a point-in-time restore there reads them) and the backup bucket's objects.
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'

import { backupBucket, type BackupBucket } from './backup-bucket.js'
import type { DisasterRecoverySettings } from './disaster-recovery-settings.js'
import { retainedKey, type Account } from './encryption.js'
import { KongGatewayArgumentError } from './errors.js'
import { LOG_PREFIXES, logBucket } from './log-bucket.js'
import { serviceRole } from './service-role.js'
import type { Settings } from './settings.js'

export interface DisasterRecovery {
  /** The key of the copies, in the second region. */
  kmsKeyArn: pulumi.Output<string>
  /** Database mode: the replicated automated backups. */
  automatedBackups?: aws.rds.InstanceAutomatedBackupsReplication
  /** With a backup bucket: its replica in the second region. */
  bucket?: aws.s3.Bucket
}

export interface DisasterRecoverySources {
  database?: aws.rds.Instance
  backups?: BackupBucket
  /** The gateway's key: the source bucket's objects are encrypted with it. */
  kmsKeyArn: pulumi.Input<string>
}

export function disasterRecovery(
  dr: DisasterRecoverySettings,
  settings: Settings,
  account: Account,
  sources: DisasterRecoverySources,
  parent: pulumi.Resource,
): DisasterRecovery {
  const { name } = settings
  // The gateway's region is known here only once the provider answers, when no region argument named it.
  const region = account.region.apply((here) => {
    if (here === dr.region) {
      throw new KongGatewayArgumentError(
        'disasterRecovery.region',
        `is the gateway's own region (${here}); copies there are lost with it: choose another region`,
      )
    }
    return dr.region
  })
  const kmsKeyArn =
    dr.kmsKeyArn !== undefined ? pulumi.output(dr.kmsKeyArn) : drKey(region, settings, account, parent)

  // Created in the destination region, with a key of that region (StartDBInstanceAutomatedBackupsReplication, AWS
  // RDS API reference: SourceDBInstanceArn, KmsKeyId, BackupRetentionPeriod). The provider's id is the replicated
  // backups' DBInstanceAutomatedBackupsArn (terraform-provider-aws
  // internal/service/rds/instance_automated_backups_replication.go), what RestoreDBInstanceToPointInTime takes as
  // SourceDBInstanceAutomatedBackupsArn in that region.
  const automatedBackups = sources.database
    ? new aws.rds.InstanceAutomatedBackupsReplication(
        `${name}-db-backups`,
        {
          region,
          sourceDbInstanceArn: sources.database.arn,
          kmsKeyId: kmsKeyArn,
          retentionPeriod: dr.backupRetentionDays,
        },
        { parent },
      )
    : undefined

  const bucket = sources.backups
    ? replicatedBucket(sources.backups, region, kmsKeyArn, settings, account, sources.kmsKeyArn, parent)
    : undefined
  return { kmsKeyArn, ...(automatedBackups ? { automatedBackups } : {}), ...(bucket ? { bucket } : {}) }
}

/** A key for the copies in the second region, kept when the stack is destroyed, like the gateway's. */
function drKey(
  region: pulumi.Output<string>,
  settings: Settings,
  account: Account,
  parent: pulumi.Resource,
): pulumi.Output<string> {
  const { name, tags } = settings
  return retainedKey(
    `${name}-dr-key`,
    {
      region,
      description: `deckhand Kong gateway ${name}: copies of its backups for a cross-region recovery`,
      alias: `${name}-dr`,
      tags,
    },
    account,
    parent,
  )
}

/**
 * The backup bucket's replica: built like the backup bucket (versioned, encrypted, public access blocked,
 * TLS-only, owner-enforced, kept on delete, Object Lock when the source has it: S3 refuses to replicate locked
 * objects to a bucket without Object Lock, failure DstBucketObjectLockConfigMissing in "Amazon S3 replication
 * failure reasons"), and a replication rule for every object.
 */
function replicatedBucket(
  source: BackupBucket,
  region: pulumi.Output<string>,
  kmsKeyArn: pulumi.Output<string>,
  settings: Settings,
  account: Account,
  sourceKmsKeyArn: pulumi.Input<string>,
  parent: pulumi.Resource,
): aws.s3.Bucket {
  const { name, tags } = settings
  // S3 delivers server access logs only to a bucket of the same region: the replica gets its own log bucket.
  const drSettings = { ...settings, name: `${name}-dr`, region }
  const logs = logBucket(drSettings, { ...account, region }, parent)
  const replica = backupBucket(settings.backupBucket!, drSettings, kmsKeyArn, parent, {
    bucket: logs.bucket.bucket,
    prefix: LOG_PREFIXES.backupBucket,
  })
  const locked = settings.backupBucket!.objectLock !== undefined
  const role = serviceRole(
    `${name}-backups-replication`,
    's3.amazonaws.com',
    { description: `Replicates the backups of ${name} to ${settings.disasterRecovery!.region}`, tags },
    parent,
  )
  const policy = new aws.iam.RolePolicy(
    `${name}-backups-replication`,
    {
      role: role.id,
      policy: pulumi
        .all([source.bucket.arn, replica.bucket.arn, sourceKmsKeyArn, kmsKeyArn, account.region, region])
        .apply(([from, to, fromKey, toKey, fromRegion, toRegion]) =>
          replicationPolicy({ from, to, fromKey, toKey, fromRegion, toRegion, locked }),
        ),
    },
    { parent },
  )
  new aws.s3.BucketReplicationConfig(
    `${name}-backups`,
    {
      region: settings.region,
      bucket: source.bucket.id,
      role: role.arn,
      rules: [
        {
          id: 'disaster-recovery',
          status: 'Enabled',
          // A filter makes this a V2 rule, which decides delete markers explicitly.
          filter: {},
          // A delete in the gateway's region (by mistake or by an intruder) must not hide the copy. Expiry there
          // writes delete markers that S3 never replicates anyway; the replica's own lifecycle expires it alike.
          deleteMarkerReplication: { status: 'Disabled' },
          // Every backup object is SSE-KMS: without this S3 skips them ("Replicating encrypted objects").
          sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: 'Enabled' } },
          destination: {
            bucket: replica.bucket.arn,
            encryptionConfiguration: { replicaKmsKeyId: kmsKeyArn },
          },
        },
      ],
    },
    // S3 requires versioning on both buckets before it accepts the configuration; the role must be able to act.
    { parent, dependsOn: [source.versioning, replica.versioning, policy] },
  )
  return replica.bucket
}

export interface ReplicationPolicyInputs {
  from: string
  to: string
  fromKey: string
  toKey: string
  fromRegion: string
  toRegion: string
  locked: boolean
}

/**
 * What S3 needs to replicate the backups, and nothing more ("Setting up permissions for live replication" and
 * "Replicating encrypted objects", Amazon S3 User Guide): read the source's configuration and object versions,
 * write replicas and their tags (not deletes: delete markers are not replicated), decrypt with the source key and
 * encrypt with the replica key only through S3 of each region and for these buckets. With S3 Bucket Keys the
 * encryption context is the bucket's ARN rather than the object's; both are allowed. Object Lock adds reading an
 * object's retention and legal hold ("Using Object Lock with S3 Replication").
 */
export function replicationPolicy(inputs: ReplicationPolicyInputs): string {
  const { from, to, fromKey, toKey, fromRegion, toRegion, locked } = inputs
  const through = (region: string, bucket: string) => ({
    StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` },
    StringLike: { 'kms:EncryptionContext:aws:s3:arn': [bucket, `${bucket}/*`] },
  })
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'], Resource: from },
      {
        Effect: 'Allow',
        Action: [
          's3:GetObjectVersionForReplication',
          's3:GetObjectVersionAcl',
          's3:GetObjectVersionTagging',
          ...(locked ? ['s3:GetObjectRetention', 's3:GetObjectLegalHold'] : []),
        ],
        Resource: `${from}/*`,
      },
      { Effect: 'Allow', Action: ['s3:ReplicateObject', 's3:ReplicateTags'], Resource: `${to}/*` },
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: fromKey, Condition: through(fromRegion, from) },
      {
        Effect: 'Allow',
        Action: ['kms:Encrypt', 'kms:GenerateDataKey'],
        Resource: toKey,
        Condition: through(toRegion, to),
      },
    ],
  })
}
