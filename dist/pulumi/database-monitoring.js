// The role RDS enhanced monitoring publishes OS metrics with (RDS.6).
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
/** Seconds between enhanced monitoring samples; 60 is the cheapest interval that turns it on. */
export const MONITORING_INTERVAL = 60;
/** RDS user guide, "Setting up and enabling Enhanced Monitoring": trusted by monitoring.rds, with the managed policy. */
export function monitoringRole(settings, account, parent) {
    const { name, tags } = settings;
    const role = new aws.iam.Role(`${name}-db-monitoring`, {
        description: `Publishes enhanced monitoring of the Kong database of ${name}`,
        assumeRolePolicy: account.accountId.apply((accountId) => JSON.stringify({
            Version: '2012-10-17',
            Statement: [
                {
                    Effect: 'Allow',
                    Principal: { Service: 'monitoring.rds.amazonaws.com' },
                    Action: 'sts:AssumeRole',
                    Condition: { StringEquals: { 'aws:SourceAccount': accountId } },
                },
            ],
        })),
        tags,
    }, { parent });
    new aws.iam.RolePolicyAttachment(`${name}-db-monitoring`, {
        role: role.name,
        policyArn: pulumi.interpolate `arn:${account.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole`,
    }, { parent });
    return role;
}
