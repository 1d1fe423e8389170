import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { Settings } from './settings.js';
/**
 * Container ports of Kong. Proxy and Admin API listen with TLS even inside the VPC, so requests and tokens never
 * cross in clear; the status listener answers only the load balancers' health checks, inside the security group.
 */
export declare const KONG_PORTS: {
    readonly proxy: 8443;
    readonly admin: 8444;
    readonly status: 8100;
};
export declare const POSTGRES_PORT = 5432;
/** Where each load balancer listens, always with TLS (a generated certificate when none is given). */
export declare const LISTENER_PORTS: {
    readonly proxy: readonly [80, 443];
    readonly admin: 8444;
};
export interface Firewall {
    proxyLoadBalancer: aws.ec2.SecurityGroup;
    /** Undefined in Konnect mode: data planes have no Admin API. */
    adminLoadBalancer?: aws.ec2.SecurityGroup;
    tasks: aws.ec2.SecurityGroup;
    database?: aws.ec2.SecurityGroup;
}
export declare function firewall(settings: Settings, vpc: {
    vpcId: pulumi.Input<string>;
    vpcCidrBlock: pulumi.Input<string>;
}, parent: pulumi.Resource): Firewall;
