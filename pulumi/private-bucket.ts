// What every bucket of the gateway is: private (public access blocked, owner-enforced), versioned, encrypted by
// default, expiring by a lifecycle rule, reachable over TLS only, and kept when the stack is destroyed.
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'

export interface PrivateBucketOptions {
  region?: pulumi.Input<string>
  tags: Record<string, string>
  /** Object Lock can only be chosen when a bucket is created. */
  objectLockEnabled?: boolean
  encryption: aws.types.input.s3.BucketServerSideEncryptionConfigurationRule
  lifecycle: aws.types.input.s3.BucketLifecycleConfigurationRule
  /** The bucket policy's statements beside TLS-only, given the bucket's ARN. */
  statements?: (arn: string) => pulumi.Input<object[]>
}

export interface PrivateBucket {
  bucket: aws.s3.Bucket
  /** Lifecycle rules, Object Lock and replication need versioning on first. */
  versioning: aws.s3.BucketVersioning
  policy: aws.s3.BucketPolicy
}

export function privateBucket(
  name: string,
  options: PrivateBucketOptions,
  parent: pulumi.Resource,
): PrivateBucket {
  const { region, tags } = options
  const opts = { parent }
  // No forceDestroy, and retained: what a bucket of the gateway holds outlives the stack.
  const bucket = new aws.s3.Bucket(
    name,
    { region, objectLockEnabled: options.objectLockEnabled || undefined, forceDestroy: false, tags },
    { parent, retainOnDelete: true },
  )
  const publicAccess = new aws.s3.BucketPublicAccessBlock(
    name,
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
    name,
    { region, bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } },
    opts,
  )
  const versioning = new aws.s3.BucketVersioning(
    name,
    { region, bucket: bucket.id, versioningConfiguration: { status: 'Enabled' } },
    opts,
  )
  new aws.s3.BucketServerSideEncryptionConfiguration(
    name,
    { region, bucket: bucket.id, rules: [options.encryption] },
    opts,
  )
  new aws.s3.BucketLifecycleConfiguration(
    name,
    { region, bucket: bucket.id, rules: [options.lifecycle] },
    // Lifecycle rules on a versioned bucket act on versions: versioning first.
    { parent, dependsOn: [versioning] },
  )
  const policy = new aws.s3.BucketPolicy(
    name,
    {
      region,
      bucket: bucket.id,
      policy: bucket.arn.apply((arn) =>
        pulumi.output(options.statements?.(arn) ?? []).apply((statements) =>
          JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'DenyInsecureTransport',
                Effect: 'Deny',
                Principal: '*',
                Action: 's3:*',
                Resource: [arn, `${arn}/*`],
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              },
              ...statements,
            ],
          }),
        ),
      ),
    },
    // A policy written before the public access block could briefly be judged on its own.
    { parent, dependsOn: [publicAccess] },
  )
  return { bucket, versioning, policy }
}
