// The bucket the backup actions write to: a private bucket (private-bucket.ts) encrypted with the gateway's key,
// its server access logged, optionally locked.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { privateBucket } from './private-bucket.js';
export function backupBucket(options, settings, kmsKeyArn, parent, accessLogs) {
    const { name, region, tags } = settings;
    const opts = { parent };
    const { bucket, versioning } = privateBucket(`${name}-backups`, {
        region,
        tags,
        objectLockEnabled: options.objectLock !== undefined,
        encryption: {
            applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: kmsKeyArn },
            // One data key per bucket rather than per object: far fewer KMS calls for the same protection.
            bucketKeyEnabled: true,
        },
        lifecycle: {
            id: 'expire-backups',
            status: 'Enabled',
            filter: { prefix: '' },
            expiration: { days: options.expireAfterDays },
            noncurrentVersionExpiration: { noncurrentDays: options.noncurrentVersionDays },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
        },
    }, parent);
    // S3.9: every request on the backups is recorded in the log bucket.
    new aws.s3.BucketLogging(`${name}-backups`, { region, bucket: bucket.id, targetBucket: accessLogs.bucket, targetPrefix: `${accessLogs.prefix}/` }, opts);
    if (options.objectLock) {
        new aws.s3.BucketObjectLockConfiguration(`${name}-backups`, {
            region,
            bucket: bucket.id,
            rule: { defaultRetention: { mode: options.objectLock.mode, days: options.objectLock.days } },
        }, { parent, dependsOn: [versioning] });
    }
    return { bucket, versioning };
}
