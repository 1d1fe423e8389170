import * as pulumi from '@pulumi/pulumi';
import type { KongGatewayArgs } from './args.js';
import { type DatabaseSettings } from './settings.js';
export interface DisasterRecoverySettings {
    region: string;
    /** Days the replicated automated backups are kept (database mode). */
    backupRetentionDays: number;
    kmsKeyArn?: pulumi.Input<string>;
}
export declare function disasterRecoverySettings(args: KongGatewayArgs, database: DatabaseSettings | undefined, backupBucket: boolean): DisasterRecoverySettings;
