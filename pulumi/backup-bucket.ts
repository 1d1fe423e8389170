// The bucket the backup actions write to: private, encrypted, versioned, optionally locked, and kept when the
// stack is destroyed (the backups are the point).
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'

import type { BucketSettings, Settings } from './settings.js'

export interface BackupBucket {
  bucket: aws.s3.Bucket
  /** Replication needs versioning on first. */
  versioning: aws.s3.BucketVersioning
}

export function backupBucket(
  options: BucketSettings,
  settings: Settings,
  kmsKeyArn: pulumi.Input<string>,
  parent: pulumi.Resource,
  accessLogs: { bucket: pulumi.Input<string>; prefix: string },
): BackupBucket {
  const { name, region, tags } = settings
  const opts = { parent }
  const bucket = new aws.s3.Bucket(
    `${name}-backups`,
    // Object Lock can only be chosen when a bucket is created. No forceDestroy: a bucket with backups stays.
    { region, objectLockEnabled: options.objectLock ? true : undefined, forceDestroy: false, tags },
    { parent, retainOnDelete: true },
  )
  const publicAccess = new aws.s3.BucketPublicAccessBlock(
    `${name}-backups`,
    {
      region,
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    opts,
  )
  new aws.s3.BucketOwnershipControls(
    `${name}-backups`,
    { region, bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } },
    opts,
  )
  const versioning = new aws.s3.BucketVersioning(
    `${name}-backups`,
    { region, bucket: bucket.id, versioningConfiguration: { status: 'Enabled' } },
    opts,
  )
  new aws.s3.BucketServerSideEncryptionConfiguration(
    `${name}-backups`,
    {
      region,
      bucket: bucket.id,
      rules: [
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: kmsKeyArn },
          // One data key per bucket rather than per object: far fewer KMS calls for the same protection.
          bucketKeyEnabled: true,
        },
      ],
    },
    opts,
  )
  new aws.s3.BucketLifecycleConfiguration(
    `${name}-backups`,
    {
      region,
      bucket: bucket.id,
      rules: [
        {
          id: 'expire-backups',
          status: 'Enabled',
          filter: { prefix: '' },
          expiration: { days: options.expireAfterDays },
          noncurrentVersionExpiration: { noncurrentDays: options.noncurrentVersionDays },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
        },
      ],
    },
    // Lifecycle rules on a versioned bucket act on versions: versioning first.
    { parent, dependsOn: [versioning] },
  )
  // S3.9: every request on the backups is recorded in the log bucket.
  new aws.s3.BucketLogging(
    `${name}-backups`,
    { region, bucket: bucket.id, targetBucket: accessLogs.bucket, targetPrefix: `${accessLogs.prefix}/` },
    opts,
  )
  if (options.objectLock) {
    new aws.s3.BucketObjectLockConfiguration(
      `${name}-backups`,
      {
        region,
        bucket: bucket.id,
        rule: { defaultRetention: { mode: options.objectLock.mode, days: options.objectLock.days } },
      },
      { parent, dependsOn: [versioning] },
    )
  }
  new aws.s3.BucketPolicy(
    `${name}-backups`,
    {
      region,
      bucket: bucket.id,
      policy: pulumi.jsonStringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'DenyInsecureTransport',
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:*',
            Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ],
      }),
    },
    // A policy written before the public access block could briefly be judged on its own.
    { parent, dependsOn: [publicAccess] },
  )
  return { bucket, versioning }
}
