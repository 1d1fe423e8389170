import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { type Firewall } from './firewall.js';
import { type LogBucket } from './log-bucket.js';
import type { GatewayNetwork } from './network.js';
import type { Settings } from './settings.js';
export declare const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";
export interface LoadBalancers {
    proxy: aws.lb.LoadBalancer;
    /** The Admin API's; undefined in Konnect mode. */
    admin?: aws.lb.LoadBalancer;
    proxyTargets: aws.lb.TargetGroup;
    adminTargets?: aws.lb.TargetGroup;
    listeners: aws.lb.Listener[];
    /** The generated certificate the listeners present; undefined when the caller gave certificateArn. */
    certificatePem: pulumi.Output<string | undefined>;
    proxyUrl: pulumi.Output<string>;
    adminUrl: pulumi.Output<string | undefined>;
}
/**
 * `/status/ready` (Kong 3.3+) answers 200 only once Kong has a configuration and a database it can reach. A DB-less
 * node started without configuration stays "not ready" until one is posted, so it is checked on `/status`; so is a
 * Konnect data plane, whose configuration is Konnect's: an empty control plane would keep it "not ready"
 * (kong/status/ready.lua, is_dbless_ready: "no configuration available").
 */
export declare function healthCheckPath(settings: Settings): pulumi.Output<string>;
export declare function loadBalancers(settings: Settings, network: GatewayNetwork, firewall: Firewall, logs: LogBucket, parent: pulumi.Resource): LoadBalancers;
