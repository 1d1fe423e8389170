import * as pulumi from '@pulumi/pulumi';
import type { Settings } from './settings.js';
export interface Account {
    accountId: pulumi.Output<string>;
    partition: pulumi.Output<string>;
    region: pulumi.Output<string>;
}
export declare function account(settings: Settings, parent: pulumi.Resource): Account;
/**
 * The caller's key, or a new one with yearly rotation. A new key is retained when the stack is destroyed:
 * snapshots and backups encrypted with it would be unreadable without it, and a disaster recovery needs them.
 */
export declare function encryptionKey(settings: Settings, account: Account, parent: pulumi.Resource): pulumi.Output<string>;
export interface RetainedKeyOptions {
    region?: pulumi.Input<string>;
    description: string;
    /** Its alias: alias/deckhand/<project>/<stack>/<alias>. */
    alias: string;
    tags: Record<string, string>;
    /** Key policy statements beside the account's administration of the key. */
    statements?: pulumi.Input<object[]>;
}
/**
 * A new key with yearly rotation, retained when the stack is destroyed. The account administers it: its IAM
 * policies decide who else may use it (the task execution role, RDS through the caller's grants, S3 replication).
 */
export declare function retainedKey(name: string, options: RetainedKeyOptions, account: Account, parent: pulumi.Resource): pulumi.Output<string>;
