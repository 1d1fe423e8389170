import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { type BackupBucket } from './backup-bucket.js';
import type { DisasterRecoverySettings } from './disaster-recovery-settings.js';
import { type Account } from './encryption.js';
import type { Settings } from './settings.js';
export interface DisasterRecovery {
    /** The key of the copies, in the second region. */
    kmsKeyArn: pulumi.Output<string>;
    /** Database mode: the replicated automated backups. */
    automatedBackups?: aws.rds.InstanceAutomatedBackupsReplication;
    /** With a backup bucket: its replica in the second region. */
    bucket?: aws.s3.Bucket;
}
export interface DisasterRecoverySources {
    database?: aws.rds.Instance;
    backups?: BackupBucket;
    /** The gateway's key: the source bucket's objects are encrypted with it. */
    kmsKeyArn: pulumi.Input<string>;
}
export declare function disasterRecovery(dr: DisasterRecoverySettings, settings: Settings, account: Account, sources: DisasterRecoverySources, parent: pulumi.Resource): DisasterRecovery;
export interface ReplicationPolicyInputs {
    from: string;
    to: string;
    fromKey: string;
    toKey: string;
    fromRegion: string;
    toRegion: string;
    locked: boolean;
}
/**
 * What S3 needs to replicate the backups, and nothing more ("Setting up permissions for live replication" and
 * "Replicating encrypted objects", Amazon S3 User Guide): read the source's configuration and object versions,
 * write replicas and their tags (not deletes: delete markers are not replicated), decrypt with the source key and
 * encrypt with the replica key only through S3 of each region and for these buckets. With S3 Bucket Keys the
 * encryption context is the bucket's ARN rather than the object's; both are allowed. Object Lock adds reading an
 * object's retention and legal hold ("Using Object Lock with S3 Replication").
 */
export declare function replicationPolicy(inputs: ReplicationPolicyInputs): string;
