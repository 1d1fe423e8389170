// Kong's login on a restored database. A restore keeps its source's master user and databases: the RDS API's
// RestoreDBInstanceFromDBSnapshot and RestoreDBInstanceToPointInTime take no MasterUsername, and their DBName "doesn't
// apply to PostgreSQL" (AWS RDS API reference). terraform-provider-aws (internal/service/rds/instance.go) leaves
// username and db_name out of both restores and sends `password` afterwards as ModifyDBInstance's
// MasterUserPassword, so the only password this component can set on a restore is the master user's. A Kong that
// owned its tables under another role needs that role's password from the caller.
import * as pulumi from '@pulumi/pulumi';
import { checkArn, fail } from './settings.js';
/** Checks the login options of a restore; on a new database, the master user is Kong's and its password generated. */
export function restoredLogin(options, restoring) {
    const { username, databaseName, passwordSecretArn } = options;
    if (!restoring) {
        if (passwordSecretArn !== undefined) {
            fail('database.passwordSecretArn', "is the password of Kong's role in a restored database (restoreFromSnapshot or restoreToPointInTime); " +
                "a new database's master user is Kong's, and its password is generated");
        }
        return undefined;
    }
    if (username !== undefined && passwordSecretArn === undefined) {
        fail('database.passwordSecretArn', `is missing: on a restore Kong would connect as "${username}", and the component can reset only the master ` +
            "user's password (the source's master user keeps its name). Give that role's password secret, or leave " +
            'database.username out so that Kong connects as the master user');
    }
    if (passwordSecretArn !== undefined && username === undefined) {
        fail('database.username', 'is missing: database.passwordSecretArn is the password of a role other than the master user; name that role');
    }
    checkArn('database.passwordSecretArn', passwordSecretArn, /^secretsmanager$/, 'arn:aws:secretsmanager:…:secret:kong-db-password-AbCdEf');
    if (username === undefined && databaseName === undefined)
        return undefined;
    return {
        ...(username !== undefined ? { username } : {}),
        ...(databaseName !== undefined ? { databaseName } : {}),
        ...(passwordSecretArn !== undefined ? { passwordSecretArn } : {}),
    };
}
/** The role, database and password Kong connects with: the database's own, unless a restore names Kong's. */
export function kongLogin(database, restored) {
    return {
        username: restored?.username !== undefined ? pulumi.output(restored.username) : database.username,
        databaseName: restored?.databaseName !== undefined ? pulumi.output(restored.databaseName) : database.databaseName,
        ...(restored?.passwordSecretArn !== undefined ? { passwordSecretArn: restored.passwordSecretArn } : {}),
    };
}
