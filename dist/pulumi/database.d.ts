import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { type StoredSecret } from './secrets.js';
import type { DatabaseSettings, Settings } from './settings.js';
export interface GatewayDatabase {
    instance: aws.rds.Instance;
    password: StoredSecret;
    /** The user and database Kong connects with (a restore keeps the snapshot's). */
    username: pulumi.Output<string>;
    databaseName: pulumi.Output<string>;
}
export declare function gatewayDatabase(database: DatabaseSettings, settings: Settings, network: {
    privateSubnetIds: pulumi.Input<string[]>;
}, securityGroupId: pulumi.Input<string>, kmsKeyArn: pulumi.Input<string>, parent: pulumi.Resource, monitoringRoleArn: pulumi.Input<string>): GatewayDatabase;
