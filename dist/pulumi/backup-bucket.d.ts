import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { BucketSettings, Settings } from './settings.js';
export interface BackupBucket {
    bucket: aws.s3.Bucket;
    /** Replication needs versioning on first. */
    versioning: aws.s3.BucketVersioning;
}
export declare function backupBucket(options: BucketSettings, settings: Settings, kmsKeyArn: pulumi.Input<string>, parent: pulumi.Resource, accessLogs: {
    bucket: pulumi.Input<string>;
    prefix: string;
}): BackupBucket;
