// Two application load balancers, TLS on every listener: the proxy faces clients; the Admin API one is internal
// unless adminAllowedCidrs opens it to listed addresses, and absent in Konnect mode (data planes have no Admin API).
// Kong's status listener answers the health checks. Both log every request to the log bucket and are protected from
// deletion.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { gatewayCertificate } from './certificate.js';
import { KONG_PORTS, LISTENER_PORTS } from './firewall.js';
import { atLeast } from './kong-image.js';
import { LOG_PREFIXES } from './log-bucket.js';
// TLS 1.2 and 1.3 only, forward-secret ciphers.
export const TLS_POLICY = 'ELBSecurityPolicy-TLS13-1-2-2021-06';
/**
 * `/status/ready` (Kong 3.3+) answers 200 only once Kong has a configuration and a database it can reach. A DB-less
 * node started without configuration stays "not ready" until one is posted, so it is checked on `/status`; so is a
 * Konnect data plane, whose configuration is Konnect's: an empty control plane would keep it "not ready"
 * (kong/status/ready.lua, is_dbless_ready: "no configuration available").
 */
export function healthCheckPath(settings) {
    // No database and no declarative configuration: an empty DB-less node, or a Konnect data plane.
    const emptyDbless = !settings.database && settings.declarativeConfig === undefined;
    return pulumi
        .output(settings.image.parsed)
        .apply((image) => (atLeast(image, 3, 3) && !emptyDbless ? '/status/ready' : '/status'));
}
export function loadBalancers(settings, network, firewall, logs, parent) {
    const { name, region, tags } = settings;
    const opts = { parent };
    const ports = LISTENER_PORTS;
    const healthCheck = {
        enabled: true,
        port: String(KONG_PORTS.status),
        protocol: 'HTTP',
        path: healthCheckPath(settings),
        matcher: '200',
        interval: 15,
        timeout: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
    };
    const balancer = (suffix, internal, securityGroup) => new aws.lb.LoadBalancer(`${name}-${suffix}`, {
        region,
        loadBalancerType: 'application',
        internal,
        subnets: internal ? network.privateSubnetIds : network.publicSubnetIds,
        securityGroups: [securityGroup.id],
        dropInvalidHeaderFields: true,
        desyncMitigationMode: 'defensive',
        enableDeletionProtection: settings.loadBalancerDeletionProtection,
        accessLogs: { enabled: true, bucket: logs.bucket.bucket, prefix: LOG_PREFIXES.loadBalancers },
        tags,
    }, 
    // ELB tests its write access to the bucket when access logs are turned on.
    { parent, dependsOn: [logs.policy] });
    const targets = (suffix, port, protocol) => new aws.lb.TargetGroup(`${name}-${suffix}`, {
        region,
        vpcId: network.vpcId,
        targetType: 'ip',
        port,
        protocol,
        deregistrationDelay: 30,
        healthCheck,
        tags,
    }, opts);
    const proxy = balancer('proxy', false, firewall.proxyLoadBalancer);
    // The load balancers talk TLS to Kong's listeners (Kong's own certificate; targets are not verified by ALB).
    const proxyTargets = targets('proxy', KONG_PORTS.proxy, 'HTTPS');
    // Internal unless addresses outside the VPC are allowed in.
    const admin = firewall.adminLoadBalancer
        ? balancer('admin', settings.adminAllowedCidrs === undefined, firewall.adminLoadBalancer)
        : undefined;
    const adminTargets = admin ? targets('admin', KONG_PORTS.admin, 'HTTPS') : undefined;
    const certificate = gatewayCertificate(settings, [proxy.dnsName, ...(admin ? [admin.dnsName] : [])], parent);
    const forward = (targetGroup) => [{ type: 'forward', targetGroupArn: targetGroup.arn }];
    const listener = (suffix, balancer, port, tls, defaultActions) => new aws.lb.Listener(`${name}-${suffix}`, {
        region,
        loadBalancerArn: balancer.arn,
        port,
        protocol: tls ? 'HTTPS' : 'HTTP',
        ...(tls ? { sslPolicy: TLS_POLICY, certificateArn: certificate.certificateArn } : {}),
        defaultActions,
        tags,
    }, opts);
    const redirectToHttps = {
        type: 'redirect',
        redirect: { protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' },
    };
    // Port 80 only redirects (ELB.1); nothing is served in clear.
    const listeners = [
        listener('proxy-https', proxy, 443, true, forward(proxyTargets)),
        listener('proxy-http', proxy, 80, false, [redirectToHttps]),
        ...(admin && adminTargets
            ? [listener('admin-https', admin, ports.admin, true, forward(adminTargets))]
            : []),
    ];
    return {
        proxy,
        ...(admin && adminTargets ? { admin, adminTargets } : {}),
        proxyTargets,
        listeners,
        certificatePem: certificate.certificatePem,
        proxyUrl: pulumi.interpolate `https://${proxy.dnsName}`,
        adminUrl: admin
            ? pulumi.interpolate `https://${admin.dnsName}:${ports.admin}`
            : pulumi.output(undefined),
    };
}
