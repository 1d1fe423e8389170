import * as pulumi from '@pulumi/pulumi';
import type { Settings } from './settings.js';
export interface GatewayNetwork {
    vpcId: pulumi.Output<string>;
    /** The component made the VPC, and so owns its default security group and its flow logs. */
    created: boolean;
    vpcCidrBlock: pulumi.Output<string>;
    /** Load balancers that face the internet. */
    publicSubnetIds: pulumi.Output<string[]>;
    /** Tasks, database, internal load balancers. */
    privateSubnetIds: pulumi.Output<string[]>;
}
export declare function gatewayNetwork(settings: Settings, parent: pulumi.Resource): GatewayNetwork;
