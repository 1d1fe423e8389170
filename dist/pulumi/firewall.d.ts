import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { Settings } from './settings.js';
/** Container ports of Kong. The Admin API listens with TLS even inside the VPC, so tokens never cross in clear. */
export declare const KONG_PORTS: {
    readonly proxy: 8000;
    readonly admin: 8444;
    readonly status: 8100;
};
export declare const POSTGRES_PORT = 5432;
/** Where each load balancer listens. */
export declare function listenerPorts(settings: Settings): {
    proxy: number[];
    admin: number;
    tls: boolean;
};
export interface Firewall {
    proxyLoadBalancer: aws.ec2.SecurityGroup;
    adminLoadBalancer: aws.ec2.SecurityGroup;
    tasks: aws.ec2.SecurityGroup;
    database?: aws.ec2.SecurityGroup;
}
export declare function firewall(settings: Settings, vpc: {
    vpcId: pulumi.Input<string>;
    vpcCidrBlock: pulumi.Input<string>;
}, parent: pulumi.Resource): Firewall;
