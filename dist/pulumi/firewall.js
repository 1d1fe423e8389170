// Every security group and rule of the gateway, in one place so that its exposure can be read at a glance:
//   proxy load balancer  ← proxyAllowedCidrs on 80 (redirect only) and 443
//   admin load balancer  ← the VPC, or adminAllowedCidrs over TLS, on the admin listener only (none in Konnect mode)
//   Kong tasks           ← each load balancer on its own port and the status port; egress anywhere (image, upstreams,
//                          and in Konnect mode the control plane and telemetry endpoints)
//   database             ← Kong tasks on 5432; no egress
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { cidrFamily } from './cidr.js';
/**
 * Container ports of Kong. Proxy and Admin API listen with TLS even inside the VPC, so requests and tokens never
 * cross in clear; the status listener answers only the load balancers' health checks, inside the security group.
 */
export const KONG_PORTS = { proxy: 8443, admin: 8444, status: 8100 };
export const POSTGRES_PORT = 5432;
/** Where each load balancer listens, always with TLS (a generated certificate when none is given). */
export const LISTENER_PORTS = { proxy: [80, 443], admin: 8444 };
function cidrRule(cidr) {
    return cidrFamily(cidr) === 'ipv6' ? { cidrIpv6: cidr } : { cidrIpv4: cidr };
}
export function firewall(settings, vpc, parent) {
    const { name, region, tags } = settings;
    const opts = { parent };
    const group = (suffix, description) => new aws.ec2.SecurityGroup(`${name}-${suffix}`, {
        region,
        vpcId: vpc.vpcId,
        description,
        revokeRulesOnDelete: true,
        tags: { ...tags, Name: `${name}-${suffix}` },
    }, opts);
    /** One TCP port between a group and a peer (an address block or another group). */
    const rule = (direction, ruleName, securityGroupId, port, peer, description) => {
        const Rule = direction === 'ingress' ? aws.vpc.SecurityGroupIngressRule : aws.vpc.SecurityGroupEgressRule;
        return new Rule(`${name}-${ruleName}`, {
            region,
            securityGroupId,
            ipProtocol: 'tcp',
            fromPort: port,
            toPort: port,
            description,
            ...peer,
            tags,
        }, opts);
    };
    const listeners = LISTENER_PORTS;
    const proxyLoadBalancer = group('proxy-lb', `Kong proxy load balancer of ${name}`);
    const adminLoadBalancer = settings.konnect
        ? undefined
        : group('admin-lb', `Kong Admin API load balancer of ${name}`);
    const tasks = group('kong', `Kong tasks of ${name}`);
    for (const port of listeners.proxy) {
        settings.proxyAllowedCidrs.forEach((cidr, index) => rule('ingress', `proxy-lb-in-${port}-${index + 1}`, proxyLoadBalancer.id, port, cidrRule(cidr), `Proxy clients on ${port}`));
    }
    // Konnect mode has no Admin API to reach.
    if (adminLoadBalancer) {
        if (settings.adminAllowedCidrs) {
            settings.adminAllowedCidrs.forEach((cidr, index) => rule('ingress', `admin-lb-in-${index + 1}`, adminLoadBalancer.id, listeners.admin, cidrRule(cidr), 'Admin API clients allowed by adminAllowedCidrs'));
        }
        else {
            rule('ingress', 'admin-lb-in-vpc', adminLoadBalancer.id, listeners.admin, { cidrIpv4: vpc.vpcCidrBlock }, 'Admin API clients inside the VPC');
        }
    }
    const routes = [
        ['proxy', proxyLoadBalancer, KONG_PORTS.proxy],
        ['proxy-status', proxyLoadBalancer, KONG_PORTS.status],
    ];
    if (adminLoadBalancer) {
        routes.push(['admin', adminLoadBalancer, KONG_PORTS.admin], ['admin-status', adminLoadBalancer, KONG_PORTS.status]);
    }
    for (const [route, balancer, port] of routes) {
        rule('egress', `${route}-lb-out`, balancer.id, port, { referencedSecurityGroupId: tasks.id }, `To Kong on ${port}`);
        rule('ingress', `kong-in-${route}`, tasks.id, port, { referencedSecurityGroupId: balancer.id }, `From the ${route} load balancer`);
    }
    new aws.vpc.SecurityGroupEgressRule(`${name}-kong-out`, {
        region,
        securityGroupId: tasks.id,
        ipProtocol: '-1',
        cidrIpv4: '0.0.0.0/0',
        // A data plane dials Konnect's control plane and telemetry endpoints (`host:port`, 443 as Konnect shows them),
        // whose addresses are Konnect's to change: no narrower rule would hold.
        description: settings.konnect
            ? 'Konnect control plane and telemetry, image registry, upstream services, AWS APIs'
            : 'Image registry, upstream services, AWS APIs',
        tags,
    }, opts);
    const groups = { proxyLoadBalancer, ...(adminLoadBalancer ? { adminLoadBalancer } : {}), tasks };
    if (!settings.database)
        return groups;
    const database = group('db', `Kong database of ${name}`);
    rule('ingress', 'db-in-kong', database.id, POSTGRES_PORT, { referencedSecurityGroupId: tasks.id }, 'From Kong tasks');
    return { ...groups, database };
}
