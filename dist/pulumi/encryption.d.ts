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
