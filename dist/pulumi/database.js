// Kong's PostgreSQL on RDS: private, encrypted, protected from deletion, and restorable from a snapshot or to a
// point in time, which is what a disaster recovery starts from.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import { MONITORING_INTERVAL } from './database-monitoring.js';
import { generatedSecret } from './secrets.js';
export function gatewayDatabase(database, settings, network, securityGroupId, kmsKeyArn, parent, monitoringRoleArn) {
    const { name, region, tags } = settings;
    const opts = { parent };
    const password = generatedSecret(`${name}-db-password`, `Password of the Kong database of ${name}`, settings, kmsKeyArn, parent);
    const subnetGroup = new aws.rds.SubnetGroup(`${name}-db`, { region, subnetIds: network.privateSubnetIds, description: `Kong database of ${name}`, tags }, opts);
    // A fixed final snapshot name would make the second delete of a rebuilt stack fail; a stable suffix does not.
    const suffix = new random.RandomId(`${name}-final-snapshot`, { byteLength: 4 }, opts);
    const restoring = database.restoreFromSnapshot !== undefined || database.restoreToPointInTime !== undefined;
    const source = database.restoreFromSnapshot !== undefined
        ? reencryptedSnapshot(database.restoreFromSnapshot, name, region, suffix.hex, kmsKeyArn, tags, parent)
        : undefined;
    const instance = new aws.rds.Instance(`${name}-db`, {
        region,
        engine: 'postgres',
        engineVersion: database.engineVersion,
        instanceClass: database.instanceClass,
        allocatedStorage: database.allocatedStorage,
        maxAllocatedStorage: database.maxAllocatedStorage,
        storageType: 'gp3',
        // RestoreDBInstanceFromDBSnapshot and RestoreDBInstanceToPointInTime (AWS RDS API reference) take no KmsKeyId:
        // the instance keeps its
        // source's key and the provider records that key (kms_key_id is ForceNew in terraform-provider-aws
        // internal/service/rds/instance.go). A snapshot restore starts from a copy under the gateway's key, so the
        // key asked for is the key recorded; a point-in-time restore names none and keeps the source instance's.
        // Every source this component makes is encrypted, and storage_encrypted (ForceNew, not computed) must match.
        storageEncrypted: true,
        kmsKeyId: database.restoreToPointInTime !== undefined ? undefined : kmsKeyArn,
        // A restore takes user and database from its source; naming them again is refused by RDS.
        username: restoring ? undefined : database.username,
        dbName: restoring ? undefined : database.databaseName,
        // Also resets the master password of a restored instance, so the secret is right in every case.
        password: password.value,
        snapshotIdentifier: source?.targetDbSnapshotIdentifier,
        restoreToPointInTime: database.restoreToPointInTime,
        dbSubnetGroupName: subnetGroup.name,
        vpcSecurityGroupIds: [securityGroupId],
        publiclyAccessible: false,
        multiAz: database.multiAz,
        backupRetentionPeriod: database.backupRetentionDays,
        // Backups outlive the instance: they are what the next recovery restores from.
        deleteAutomatedBackups: false,
        copyTagsToSnapshot: true,
        deletionProtection: database.deletionProtection,
        skipFinalSnapshot: database.skipFinalSnapshot,
        finalSnapshotIdentifier: database.skipFinalSnapshot
            ? undefined
            : pulumi.interpolate `${name.toLowerCase()}-final-${suffix.hex}`,
        autoMinorVersionUpgrade: true,
        enabledCloudwatchLogsExports: ['postgresql', 'upgrade'],
        // RDS.6 and RDS.10; neither is ForceNew (terraform-provider-aws internal/service/rds/instance.go), so a
        // restored instance takes them in place.
        monitoringInterval: MONITORING_INTERVAL,
        monitoringRoleArn,
        iamDatabaseAuthenticationEnabled: true,
        tags,
    }, {
        parent,
        // The restore source is used once, when the instance is created; later edits must not replace the database.
        ignoreChanges: ['snapshotIdentifier', 'restoreToPointInTime'],
    });
    return {
        instance,
        password,
        username: restoring ? instance.username : pulumi.output(database.username),
        databaseName: restoring ? instance.dbName : pulumi.output(database.databaseName),
    };
}
/**
 * A copy of the snapshot under the gateway's key (CopyDBSnapshot, AWS RDS API reference: KmsKeyId re-encrypts the
 * copy, and a snapshot in another region is named by its ARN). It stays while the instance restored from it exists.
 * A source in another region also needs destinationRegion, from which terraform-provider-aws
 * internal/service/rds/snapshot_copy.go presigns the cross-region request.
 */
function reencryptedSnapshot(snapshot, name, region, suffix, kmsKeyArn, tags, parent) {
    const here = aws.getRegionOutput({ region }, { parent }).region;
    return new aws.rds.SnapshotCopy(`${name}-db-restore`, {
        region,
        sourceDbSnapshotIdentifier: snapshot,
        targetDbSnapshotIdentifier: pulumi.interpolate `${name.toLowerCase()}-restore-${suffix}`,
        kmsKeyId: kmsKeyArn,
        destinationRegion: pulumi.all([snapshot, here]).apply(([id, current]) => {
            const from = id.startsWith('arn:') ? id.split(':')[3] : undefined;
            return from !== undefined && from !== current ? current : undefined;
        }),
        tags,
    }, 
    // Like the instance's snapshotIdentifier, the source is read once: a later change must not copy again.
    { parent, ignoreChanges: ['sourceDbSnapshotIdentifier', 'destinationRegion'] });
}
