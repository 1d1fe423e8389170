import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
export interface PrivateBucketOptions {
    region?: pulumi.Input<string>;
    tags: Record<string, string>;
    /** Object Lock can only be chosen when a bucket is created. */
    objectLockEnabled?: boolean;
    encryption: aws.types.input.s3.BucketServerSideEncryptionConfigurationRule;
    lifecycle: aws.types.input.s3.BucketLifecycleConfigurationRule;
    /** The bucket policy's statements beside TLS-only, given the bucket's ARN. */
    statements?: (arn: string) => pulumi.Input<object[]>;
}
export interface PrivateBucket {
    bucket: aws.s3.Bucket;
    /** Lifecycle rules, Object Lock and replication need versioning on first. */
    versioning: aws.s3.BucketVersioning;
    policy: aws.s3.BucketPolicy;
}
export declare function privateBucket(name: string, options: PrivateBucketOptions, parent: pulumi.Resource): PrivateBucket;
