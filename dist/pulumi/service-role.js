// An IAM role an AWS service assumes to act for the gateway (monitoring, flow logs, replication).
import * as aws from '@pulumi/aws';
/** The trust policy of a role `service` (its principal, `monitoring.rds.amazonaws.com`) may assume. */
export function serviceTrustPolicy(service, sourceAccount) {
    return JSON.stringify({
        Version: '2012-10-17',
        Statement: [
            {
                Effect: 'Allow',
                Principal: { Service: service },
                Action: 'sts:AssumeRole',
                ...(sourceAccount !== undefined
                    ? { Condition: { StringEquals: { 'aws:SourceAccount': sourceAccount } } }
                    : {}),
            },
        ],
    });
}
export function serviceRole(resourceName, service, options, parent) {
    const { description, tags, sourceAccount } = options;
    return new aws.iam.Role(resourceName, {
        description,
        assumeRolePolicy: sourceAccount
            ? sourceAccount.apply((accountId) => serviceTrustPolicy(service, accountId))
            : serviceTrustPolicy(service),
        tags,
    }, { parent });
}
