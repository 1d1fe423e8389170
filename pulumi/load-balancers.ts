// Two application load balancers: the proxy faces clients; the Admin API one is internal unless adminAllowedCidrs
// opens it, over TLS, to listed addresses. Kong's status listener answers both health checks.
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'

import { KONG_PORTS, listenerPorts, type Firewall } from './firewall.js'
import { atLeast } from './kong-image.js'
import type { GatewayNetwork } from './network.js'
import type { Settings } from './settings.js'

// TLS 1.2 and 1.3 only, forward-secret ciphers.
export const TLS_POLICY = 'ELBSecurityPolicy-TLS13-1-2-2021-06'

export interface LoadBalancers {
  proxy: aws.lb.LoadBalancer
  admin: aws.lb.LoadBalancer
  proxyTargets: aws.lb.TargetGroup
  adminTargets: aws.lb.TargetGroup
  listeners: aws.lb.Listener[]
  proxyUrl: pulumi.Output<string>
  adminUrl: pulumi.Output<string>
}

/**
 * `/status/ready` (Kong 3.3+) answers 200 only once Kong has a configuration and a database it can reach. A DB-less
 * node started without configuration stays "not ready" until one is posted, so it is checked on `/status`.
 */
export function healthCheckPath(settings: Settings): pulumi.Output<string> {
  const emptyDbless = !settings.database && settings.declarativeConfig === undefined
  return pulumi
    .output(settings.image.parsed)
    .apply((image) => (atLeast(image, 3, 3) && !emptyDbless ? '/status/ready' : '/status'))
}

export function loadBalancers(
  settings: Settings,
  network: GatewayNetwork,
  firewall: Firewall,
  parent: pulumi.Resource,
): LoadBalancers {
  const { name, region, tags } = settings
  const opts = { parent }
  const ports = listenerPorts(settings)
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
  }
  const balancer = (suffix: string, internal: boolean, securityGroup: aws.ec2.SecurityGroup) =>
    new aws.lb.LoadBalancer(
      `${name}-${suffix}`,
      {
        region,
        loadBalancerType: 'application',
        internal,
        subnets: internal ? network.privateSubnetIds : network.publicSubnetIds,
        securityGroups: [securityGroup.id],
        dropInvalidHeaderFields: true,
        desyncMitigationMode: 'defensive',
        tags,
      },
      opts,
    )
  const targets = (suffix: string, port: number, protocol: 'HTTP' | 'HTTPS') =>
    new aws.lb.TargetGroup(
      `${name}-${suffix}`,
      {
        region,
        vpcId: network.vpcId,
        targetType: 'ip',
        port,
        protocol,
        deregistrationDelay: 30,
        healthCheck,
        tags,
      },
      opts,
    )

  const proxy = balancer('proxy', false, firewall.proxyLoadBalancer)
  const proxyTargets = targets('proxy', KONG_PORTS.proxy, 'HTTP')
  // Internal unless addresses outside the VPC are allowed in.
  const admin = balancer('admin', settings.adminAllowedCidrs === undefined, firewall.adminLoadBalancer)
  // The load balancer talks TLS to Kong's admin listener (Kong's own certificate; targets are not verified by ALB).
  const adminTargets = targets('admin', KONG_PORTS.admin, 'HTTPS')

  const forward = (targetGroup: aws.lb.TargetGroup) => [{ type: 'forward', targetGroupArn: targetGroup.arn }]
  const listener = (
    suffix: string,
    balancer: aws.lb.LoadBalancer,
    port: number,
    tls: boolean,
    defaultActions: pulumi.Input<aws.types.input.lb.ListenerDefaultAction>[],
  ) =>
    new aws.lb.Listener(
      `${name}-${suffix}`,
      {
        region,
        loadBalancerArn: balancer.arn,
        port,
        protocol: tls ? 'HTTPS' : 'HTTP',
        ...(tls ? { sslPolicy: TLS_POLICY, certificateArn: settings.certificateArn } : {}),
        defaultActions,
        tags,
      },
      opts,
    )
  const redirectToHttps = {
    type: 'redirect',
    redirect: { protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' },
  }
  const listeners = ports.tls
    ? [
        listener('proxy-https', proxy, 443, true, forward(proxyTargets)),
        listener('proxy-http', proxy, 80, false, [redirectToHttps]),
        listener('admin-https', admin, ports.admin, true, forward(adminTargets)),
      ]
    : [
        listener('proxy-http', proxy, 80, false, forward(proxyTargets)),
        // Plain HTTP only on an internal load balancer (settings refuse adminAllowedCidrs without a certificate).
        listener('admin-http', admin, ports.admin, false, forward(adminTargets)),
      ]

  return {
    proxy,
    admin,
    proxyTargets,
    adminTargets,
    listeners,
    proxyUrl: ports.tls
      ? pulumi.interpolate`https://${proxy.dnsName}`
      : pulumi.interpolate`http://${proxy.dnsName}`,
    adminUrl: ports.tls
      ? pulumi.interpolate`https://${admin.dnsName}:${ports.admin}`
      : pulumi.interpolate`http://${admin.dnsName}:${ports.admin}`,
  }
}
