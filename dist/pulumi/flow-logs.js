// Flow logs of a VPC the gateway creates (EC2.6): every accepted and rejected connection, to a CloudWatch log group
// under the gateway's key and with the logs' retention. CloudWatch rather than the log bucket: the same key,
// retention and tooling as Kong's own logs, and no second delivery principal in the bucket policy.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { serviceRole } from './service-role.js';
export function vpcFlowLogs(settings, vpcId, account, kmsKeyArn, parent) {
    const { name, region, tags } = settings;
    const opts = { parent };
    const logGroup = new aws.cloudwatch.LogGroup(`${name}-flow-logs`, { region, retentionInDays: settings.logRetentionDays, kmsKeyId: kmsKeyArn, tags }, opts);
    // VPC user guide, "IAM role for publishing flow logs to CloudWatch Logs": trusted by the flow logs service, and
    // only on behalf of this account (confused deputy prevention).
    const role = serviceRole(`${name}-flow-logs`, 'vpc-flow-logs.amazonaws.com', { description: `Publishes the VPC flow logs of ${name}`, tags, sourceAccount: account.accountId }, parent);
    new aws.iam.RolePolicy(`${name}-flow-logs`, {
        role: role.id,
        policy: logGroup.arn.apply((arn) => JSON.stringify({
            Version: '2012-10-17',
            Statement: [
                {
                    Effect: 'Allow',
                    Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
                    Resource: [arn, `${arn}:*`],
                },
            ],
        })),
    }, opts);
    return new aws.ec2.FlowLog(`${name}-flow-logs`, {
        region,
        vpcId,
        trafficType: 'ALL',
        logDestinationType: 'cloud-watch-logs',
        logDestination: logGroup.arn,
        iamRoleArn: role.arn,
        maxAggregationInterval: 60,
        tags,
    }, opts);
}
