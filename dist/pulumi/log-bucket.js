import * as pulumi from '@pulumi/pulumi';
import { privateBucket } from './private-bucket.js';
/** Prefixes of the bucket: one per kind of log. */
export const LOG_PREFIXES = { loadBalancers: 'load-balancers', backupBucket: 'backup-bucket' };
/**
 * The Elastic Load Balancing account that delivers access logs in Regions available before August 2022; newer
 * Regions deliver as the logdelivery.elasticloadbalancing.amazonaws.com service principal. ELB user guide,
 * "Enable access logs for your Application Load Balancer", step 2 (attach a policy to your S3 bucket).
 */
export const ELB_LOG_ACCOUNTS = {
    'us-east-1': '127311923021',
    'us-east-2': '033677994240',
    'us-west-1': '027434742980',
    'us-west-2': '797873946194',
    'af-south-1': '098369216593',
    'ap-east-1': '754344448648',
    'ap-southeast-3': '589379963580',
    'ap-south-1': '718504428378',
    'ap-northeast-3': '383597477331',
    'ap-northeast-2': '600734575887',
    'ap-southeast-1': '114774131450',
    'ap-southeast-2': '783225319266',
    'ap-northeast-1': '582318560864',
    'ca-central-1': '985666609251',
    'eu-central-1': '054676820928',
    'eu-west-1': '156460612806',
    'eu-west-2': '652711504416',
    'eu-south-1': '635631232127',
    'eu-west-3': '009996457667',
    'eu-north-1': '897822967062',
    'me-south-1': '076674570225',
    'sa-east-1': '507241528517',
    'us-gov-west-1': '048591011584',
    'us-gov-east-1': '190560391635',
    'cn-north-1': '638102146993',
    'cn-northwest-1': '037604701340',
};
/** Who writes a Region's load balancer access logs into a bucket policy's Principal. */
export function elbLogPrincipal(region, partition) {
    const account = ELB_LOG_ACCOUNTS[region];
    return account !== undefined
        ? { AWS: `arn:${partition}:iam::${account}:root` }
        : { Service: 'logdelivery.elasticloadbalancing.amazonaws.com' };
}
export function logBucket(settings, account, parent) {
    const { name, region, tags } = settings;
    const { bucket, policy } = privateBucket(`${name}-logs`, {
        region,
        tags,
        // SSE-S3: "The only server-side encryption option that's supported is Amazon S3-managed keys (SSE-S3)" (ELB
        // user guide, Enable access logs for your Application Load Balancer, bucket requirements). S3 server access
        // logging also delivers only into SSE-S3 buckets (S3 user guide, Enabling Amazon S3 server access logging).
        encryption: { applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } },
        lifecycle: {
            id: 'expire-logs',
            status: 'Enabled',
            filter: { prefix: '' },
            expiration: { days: settings.logBucketExpireAfterDays },
            // Logs are written once: a noncurrent version exists only after a deletion, kept briefly against mistakes.
            noncurrentVersionExpiration: { noncurrentDays: 30 },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
        },
        // Both ELB and S3 server access logging deliver into owner-enforced buckets through the bucket policy.
        statements: (arn) => pulumi
            .all([account.region, account.partition, account.accountId])
            .apply(([logRegion, partition, accountId]) => [
            {
                Sid: 'LoadBalancerAccessLogs',
                Effect: 'Allow',
                Principal: elbLogPrincipal(logRegion, partition),
                Action: 's3:PutObject',
                Resource: `${arn}/${LOG_PREFIXES.loadBalancers}/AWSLogs/${accountId}/*`,
            },
            {
                // S3 user guide, "Enabling Amazon S3 server access logging" (permissions for log delivery): the
                // logging service principal, on behalf of this account's buckets only.
                Sid: 'S3ServerAccessLogs',
                Effect: 'Allow',
                Principal: { Service: 'logging.s3.amazonaws.com' },
                Action: 's3:PutObject',
                Resource: `${arn}/${LOG_PREFIXES.backupBucket}/*`,
                Condition: { StringEquals: { 'aws:SourceAccount': accountId } },
            },
        ]),
    }, parent);
    return { bucket, policy };
}
