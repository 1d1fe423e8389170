import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { Account } from './encryption.js';
import type { Settings } from './settings.js';
export declare function vpcFlowLogs(settings: Settings, vpcId: pulumi.Input<string>, account: Account, kmsKeyArn: pulumi.Input<string>, parent: pulumi.Resource): aws.ec2.FlowLog;
