import * as pulumi from '@pulumi/pulumi';
import type { DatabaseOptions } from './args.js';
import type { GatewayDatabase } from './database.js';
/** What the caller said of Kong's login on a restore; every field unset means the master user's. */
export interface RestoredLogin {
    /** Kong's role, not the master user (which needs no naming). */
    username?: string;
    /** Kong's database; unset: the instance's initial database. */
    databaseName?: string;
    /** Secrets Manager ARN of `username`'s password. */
    passwordSecretArn?: pulumi.Input<string>;
}
/** Checks the login options of a restore; on a new database, the master user is Kong's and its password generated. */
export declare function restoredLogin(options: DatabaseOptions, restoring: boolean): RestoredLogin | undefined;
export interface KongLogin {
    username: pulumi.Output<string>;
    databaseName: pulumi.Output<string>;
    /** Secrets Manager ARN of the caller's password for `username`; unset: the master password the component keeps. */
    passwordSecretArn?: pulumi.Input<string>;
}
/** The role, database and password Kong connects with: the database's own, unless a restore names Kong's. */
export declare function kongLogin(database: GatewayDatabase, restored: RestoredLogin | undefined): KongLogin;
