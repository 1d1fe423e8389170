// The gateway's network: the caller's VPC and subnets, checked, or a small VPC over two availability zones.
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'

import { subnetCidr } from './cidr.js'
import { KongGatewayArgumentError } from './errors.js'
import type { Network, Settings } from './settings.js'

export interface GatewayNetwork {
  vpcId: pulumi.Output<string>
  /** The component made the VPC, and so owns its default security group and its flow logs. */
  created: boolean
  vpcCidrBlock: pulumi.Output<string>
  /** Load balancers that face the internet. */
  publicSubnetIds: pulumi.Output<string[]>
  /** Tasks, database, internal load balancers. */
  privateSubnetIds: pulumi.Output<string[]>
}

type Existing = Extract<Network, { kind: 'existing' }>
type Create = Extract<Network, { kind: 'create' }>

/**
 * The caller's subnets, once AWS confirms that they belong to the VPC and span two zones: RDS subnet groups and
 * load balancers refuse anything less, but only when `pulumi up` is already half done.
 */
function checkedSubnets(
  argument: string,
  ids: pulumi.Input<string[]>,
  vpcId: pulumi.Input<string>,
  settings: Settings,
  parent: pulumi.Resource,
): pulumi.Output<string[]> {
  const subnets = pulumi
    .output(ids)
    .apply((known) =>
      pulumi.all(known.map((id) => aws.ec2.getSubnetOutput({ id, region: settings.region }, { parent }))),
    )
  return pulumi.all([subnets, vpcId]).apply(([found, vpc]) => {
    const stray = found.filter((subnet) => subnet.vpcId !== vpc)
    if (stray.length > 0) {
      throw new KongGatewayArgumentError(
        argument,
        `${stray.map((subnet) => subnet.id).join(', ')} ${stray.length === 1 ? 'is' : 'are'} not in ${vpc}`,
      )
    }
    const zones = new Set(found.map((subnet) => subnet.availabilityZone))
    if (zones.size < 2) {
      throw new KongGatewayArgumentError(
        argument,
        `every subnet is in ${[...zones].join('')}: the database and the load balancers need subnets in at ` +
          'least two availability zones',
      )
    }
    return found.map((subnet) => subnet.id)
  })
}

function existingNetwork(network: Existing, settings: Settings, parent: pulumi.Resource): GatewayNetwork {
  const vpc = aws.ec2.getVpcOutput({ id: network.vpcId, region: settings.region }, { parent })
  return {
    vpcId: vpc.id,
    created: false,
    vpcCidrBlock: vpc.cidrBlock,
    publicSubnetIds: checkedSubnets(
      'publicSubnetIds',
      network.publicSubnetIds,
      network.vpcId,
      settings,
      parent,
    ),
    privateSubnetIds: checkedSubnets(
      'privateSubnetIds',
      network.privateSubnetIds,
      network.vpcId,
      settings,
      parent,
    ),
  }
}

function createdNetwork(network: Create, settings: Settings, parent: pulumi.Resource): GatewayNetwork {
  const { name, region, tags } = settings
  const opts = { parent }
  const zones = network.availabilityZones
    ? pulumi.output(network.availabilityZones.names)
    : aws.getAvailabilityZonesOutput({ state: 'available', region }, opts).names.apply((names) => {
        if (names.length < 2) {
          throw new KongGatewayArgumentError(
            'region',
            `offers ${names.length} availability zone; two are needed`,
          )
        }
        return names.slice(0, 2)
      })
  const zoneCount = network.availabilityZones?.count ?? 2

  const vpc = new aws.ec2.Vpc(
    `${name}-vpc`,
    {
      region,
      cidrBlock: network.cidrBlock,
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: { ...tags, Name: name },
    },
    opts,
  )
  // EC2.2: the default security group of a created VPC is adopted with no rules, so nothing placed in it by
  // mistake can talk to anything.
  new aws.ec2.DefaultSecurityGroup(
    `${name}-default`,
    { region, vpcId: vpc.id, ingress: [], egress: [], tags: { ...tags, Name: `${name}-default` } },
    opts,
  )
  const internetGateway = new aws.ec2.InternetGateway(
    `${name}-igw`,
    { region, vpcId: vpc.id, tags: { ...tags, Name: name } },
    opts,
  )
  const publicRoutes = new aws.ec2.RouteTable(
    `${name}-public`,
    {
      region,
      vpcId: vpc.id,
      routes: [{ cidrBlock: '0.0.0.0/0', gatewayId: internetGateway.id }],
      tags: { ...tags, Name: `${name}-public` },
    },
    opts,
  )

  /** A subnet in one zone, with its route table association. */
  const subnet = (
    kind: 'public' | 'private',
    suffix: string,
    zone: pulumi.Input<string>,
    cidrBlock: string,
    routeTable: aws.ec2.RouteTable,
  ) => {
    const created = new aws.ec2.Subnet(
      `${name}-${kind}-${suffix}`,
      {
        region,
        vpcId: vpc.id,
        availabilityZone: zone,
        cidrBlock,
        // Only the load balancers have public addresses, and AWS gives them their own.
        mapPublicIpOnLaunch: false,
        tags: { ...tags, Name: `${name}-${kind}-${suffix}` },
      },
      opts,
    )
    new aws.ec2.RouteTableAssociation(
      `${name}-${kind}-${suffix}`,
      { region, subnetId: created.id, routeTableId: routeTable.id },
      opts,
    )
    return created
  }

  const publicSubnets: aws.ec2.Subnet[] = []
  const privateSubnets: aws.ec2.Subnet[] = []
  const natGateways: aws.ec2.NatGateway[] = []
  // Public subnets are small (a sixteenth of the VPC each, in the first quarter); private ones get an eighth each
  // (in the second half), for up to four zones.
  for (let index = 0; index < zoneCount; index++) {
    const zone = zones.apply((names) => names[index]!)
    const suffix = `${index + 1}`
    const publicSubnet = subnet('public', suffix, zone, subnetCidr(network.cidr, 4, index), publicRoutes)
    publicSubnets.push(publicSubnet)

    if (index === 0 || network.natGateways === 'perAz') {
      const address = new aws.ec2.Eip(`${name}-nat-${suffix}`, { region, domain: 'vpc', tags }, opts)
      natGateways.push(
        new aws.ec2.NatGateway(
          `${name}-nat-${suffix}`,
          {
            region,
            allocationId: address.id,
            subnetId: publicSubnet.id,
            tags: { ...tags, Name: `${name}-${suffix}` },
          },
          { parent, dependsOn: [internetGateway] },
        ),
      )
    }
    const privateRoutes = new aws.ec2.RouteTable(
      `${name}-private-${suffix}`,
      {
        region,
        vpcId: vpc.id,
        // Tasks reach the image registry and upstream services through NAT; they have no public address.
        routes: [{ cidrBlock: '0.0.0.0/0', natGatewayId: natGateways[natGateways.length - 1]!.id }],
        tags: { ...tags, Name: `${name}-private-${suffix}` },
      },
      opts,
    )
    privateSubnets.push(
      subnet('private', suffix, zone, subnetCidr(network.cidr, 3, 4 + index), privateRoutes),
    )
  }

  return {
    vpcId: vpc.id,
    created: true,
    vpcCidrBlock: vpc.cidrBlock,
    publicSubnetIds: pulumi.all(publicSubnets.map((subnet) => subnet.id)),
    privateSubnetIds: pulumi.all(privateSubnets.map((subnet) => subnet.id)),
  }
}

export function gatewayNetwork(settings: Settings, parent: pulumi.Resource): GatewayNetwork {
  return settings.network.kind === 'existing'
    ? existingNetwork(settings.network, settings, parent)
    : createdNetwork(settings.network, settings, parent)
}
