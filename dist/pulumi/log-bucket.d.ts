import type * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { Account } from './encryption.js';
import type { Settings } from './settings.js';
/** Prefixes of the bucket: one per kind of log. */
export declare const LOG_PREFIXES: {
    readonly loadBalancers: "load-balancers";
    readonly backupBucket: "backup-bucket";
};
/**
 * The Elastic Load Balancing account that delivers access logs in Regions available before August 2022; newer
 * Regions deliver as the logdelivery.elasticloadbalancing.amazonaws.com service principal. ELB user guide,
 * "Enable access logs for your Application Load Balancer", step 2 (attach a policy to your S3 bucket).
 */
export declare const ELB_LOG_ACCOUNTS: Record<string, string>;
/** Who writes a Region's load balancer access logs into a bucket policy's Principal. */
export declare function elbLogPrincipal(region: string, partition: string): object;
export interface LogBucket {
    bucket: aws.s3.Bucket;
    /** Load balancers must not be told to log before the policy lets them: ELB checks it when logging is enabled. */
    policy: aws.s3.BucketPolicy;
}
export declare function logBucket(settings: Settings, account: Account, parent: pulumi.Resource): LogBucket;
