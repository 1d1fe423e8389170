// The KongGateway component under Pulumi's mocks: what it creates, and the security properties a rebuilt gateway
// must have whatever the arguments. No cloud and no Pulumi CLI are involved.
import { describe, expect, test } from '@jest/globals'
import * as pulumi from '@pulumi/pulumi'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { parse } from 'yaml'

import { KongGateway, KongGatewayArgumentError, NatGateways, type KongGatewayArgs } from '../pulumi/index.js'
import { parseKongImage } from '../pulumi/kong-image.js'
import { MAX_NAME_LENGTH } from '../pulumi/settings.js'
import { parseIpv4Cidr, subnetCidr } from '../pulumi/cidr.js'
import { secretsPolicy } from '../pulumi/service.js'
import { secretResourceArn } from '../pulumi/secrets.js'
import { ROOT } from './support/action.js'
import { deployGateway, T } from './support/kong-gateway.js'
import { runProgram, valueOf, type Cloud, type Registered } from './support/pulumi-mocks.js'

const CERTIFICATE = 'arn:aws:acm:eu-west-1:123456789012:certificate/0f0e0d0c-1111-2222-3333-444455556666'
const LICENSE = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kong-license-AbCdEf'
/** Every port the Admin API can be reached on: Kong's listeners and the admin load balancer's. */
const ADMIN_PORTS = [8001, 8444]

const EXISTING: Cloud = {
  vpcs: { 'vpc-0a1': { cidrBlock: '172.31.0.0/16' } },
  subnets: {
    'subnet-pub-a': { availabilityZone: 'eu-west-1a', vpcId: 'vpc-0a1' },
    'subnet-pub-b': { availabilityZone: 'eu-west-1b', vpcId: 'vpc-0a1' },
    'subnet-priv-a': { availabilityZone: 'eu-west-1a', vpcId: 'vpc-0a1' },
    'subnet-priv-b': { availabilityZone: 'eu-west-1b', vpcId: 'vpc-0a1' },
    'subnet-priv-a2': { availabilityZone: 'eu-west-1a', vpcId: 'vpc-0a1' },
    'subnet-other': { availabilityZone: 'eu-west-1b', vpcId: 'vpc-other' },
  },
}
const EXISTING_ARGS: KongGatewayArgs = {
  vpcId: 'vpc-0a1',
  publicSubnetIds: ['subnet-pub-a', 'subnet-pub-b'],
  privateSubnetIds: ['subnet-priv-a', 'subnet-priv-b'],
}

const deploy = deployGateway

/** A value as Pulumi records a secret: encrypted in the state, masked in every display. */
function secret(value: string) {
  return { [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value }
}

/** Rules that let the whole internet in, with the ports they open. */
function openToTheWorld(rules: Registered[]) {
  return rules.filter((rule) => rule.inputs.cidrIpv4 === '0.0.0.0/0' || rule.inputs.cidrIpv6 === '::/0')
}

function opens(rule: Registered, port: number): boolean {
  const { ipProtocol, fromPort, toPort } = rule.inputs
  return ipProtocol === '-1' || (fromPort <= port && port <= toPort)
}

describe('a gateway with the defaults', () => {
  test('creates a two-zone network, the database, Kong on Fargate behind two load balancers, and a backup bucket', async () => {
    const d = await deploy('kong')
    expect(d.all(T.gateway).map((r) => r.name)).toEqual(['kong'])
    expect(d.all(T.vpc)).toHaveLength(1)
    const subnets = d.all(T.subnet)
    expect(subnets.map((s) => s.name).sort()).toEqual([
      'kong-private-1',
      'kong-private-2',
      'kong-public-1',
      'kong-public-2',
    ])
    expect(new Set(subnets.map((s) => s.inputs.availabilityZone))).toEqual(
      new Set(['eu-west-1a', 'eu-west-1b']),
    )
    expect(subnets.map((s) => s.inputs.cidrBlock).sort()).toEqual([
      '10.42.0.0/20',
      '10.42.128.0/19',
      '10.42.16.0/20',
      '10.42.160.0/19',
    ])
    expect(subnets.every((s) => s.inputs.mapPublicIpOnLaunch === false)).toBe(true)
    expect(d.all(T.nat)).toHaveLength(1)
    expect(d.all(T.db)).toHaveLength(1)
    expect(d.all(T.service)).toHaveLength(1)
    expect(
      d
        .all(T.loadBalancer)
        .map((r) => r.name)
        .sort(),
    ).toEqual(['kong-admin', 'kong-proxy'])
    expect(d.all(T.bucket).map((b) => b.name)).toEqual(['kong-logs', 'kong-backups'])
    expect(d.all(T.key)).toHaveLength(1)
  })

  test('every child is parented to the component and named after it', async () => {
    const d = await deploy('edge')
    const children = d.resources.filter((r) => r.type !== T.gateway)
    expect(children.length).toBeGreaterThan(50)
    const label = (child: Registered) => `${child.type} ${child.name}`
    expect(
      children.filter((child) => !child.name.startsWith('edge-') && child.name !== 'edge').map(label),
    ).toEqual([])
    const orphans = children.filter((child) => d.parents.get(`${child.type}::${child.name}`) !== d.gateway)
    expect(orphans.map(label)).toEqual([])
  })

  test('the database is private, encrypted, protected from deletion and keeps its backups and a final snapshot', async () => {
    const d = await deploy('kong')
    const db = d.one(T.db).inputs
    const keyArn = await valueOf(d.gateway.kmsKeyArn)
    expect(db).toMatchObject({
      engine: 'postgres',
      engineVersion: '16',
      storageEncrypted: true,
      kmsKeyId: keyArn,
      publiclyAccessible: false,
      deletionProtection: true,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: 'kong-final-a1b2c3d4',
      deleteAutomatedBackups: false,
      backupRetentionPeriod: 14,
      copyTagsToSnapshot: true,
      multiAz: true,
      username: 'kong',
      dbName: 'kong',
    })
    expect(db.snapshotIdentifier).toBeUndefined()
    // In the private subnets, behind a group that admits only the Kong tasks, on 5432.
    const privateIds = d
      .all(T.subnet)
      .filter((s) => s.name.includes('private'))
      .map((s) => `${s.name}-id`)
    expect(d.one(T.subnetGroup).inputs.subnetIds.sort()).toEqual(privateIds.sort())
    expect(db.vpcSecurityGroupIds).toEqual(['kong-db-id'])
    const dbRules = d.all(T.ingress).filter((r) => r.inputs.securityGroupId === 'kong-db-id')
    expect(dbRules.map((r) => r.inputs)).toEqual([
      expect.objectContaining({ fromPort: 5432, toPort: 5432, referencedSecurityGroupId: 'kong-kong-id' }),
    ])
    expect(d.all(T.egress).filter((r) => r.inputs.securityGroupId === 'kong-db-id')).toEqual([])
    // The key that encrypts snapshots outlives the stack (retainOnDelete is not visible to mocks; the key is
    // created with rotation and the longest deletion window).
    expect(d.one(T.key).inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 })
  })

  test('the Admin API is internal: no rule opens it to the internet, its load balancer admits only the VPC', async () => {
    const d = await deploy('kong')
    for (const rule of openToTheWorld(d.all(T.ingress))) {
      for (const port of ADMIN_PORTS) expect(opens(rule, port)).toBe(false)
    }
    expect(d.one(T.loadBalancer, 'kong-admin').inputs).toMatchObject({ internal: true })
    const privateIds = d
      .all(T.subnet)
      .filter((s) => s.name.includes('private'))
      .map((s) => `${s.name}-id`)
    expect(d.one(T.loadBalancer, 'kong-admin').inputs.subnets.sort()).toEqual(privateIds.sort())
    const adminRules = d.all(T.ingress).filter((r) => r.inputs.securityGroupId === 'kong-admin-lb-id')
    expect(adminRules.map((r) => [r.inputs.cidrIpv4, r.inputs.fromPort])).toEqual([['10.42.0.0/16', 8444]])
    // The tasks admit the admin port only from the admin load balancer.
    const taskAdmin = d
      .all(T.ingress)
      .filter((r) => r.inputs.securityGroupId === 'kong-kong-id' && r.inputs.fromPort === 8444)
    expect(taskAdmin.map((r) => r.inputs.referencedSecurityGroupId)).toEqual(['kong-admin-lb-id'])
    expect(await valueOf(d.gateway.adminUrl)).toBe('https://kong-admin.eu-west-1.elb.amazonaws.com:8444')
    expect(await valueOf(d.gateway.proxyUrl)).toBe('https://kong-proxy.eu-west-1.elb.amazonaws.com')
    // The proxy is what the internet reaches: 443, and 80 that only redirects there.
    expect(
      openToTheWorld(d.all(T.ingress)).map((r) => [r.inputs.securityGroupId, r.inputs.fromPort]),
    ).toEqual([
      ['kong-proxy-lb-id', 80],
      ['kong-proxy-lb-id', 443],
    ])
  })

  test('passwords and tokens reach the containers only as ECS secrets, readable by the execution role alone', async () => {
    const d = await deploy('kong')
    const passwordArn = await valueOf(d.gateway.databasePasswordSecretArn)
    const tokenArn = await valueOf(d.gateway.adminTokenSecretArn)
    for (const name of ['kong', 'migrations-bootstrap', 'migrations-up', 'migrations-finish']) {
      expect(d.secrets(name)).toEqual({ KONG_PG_PASSWORD: passwordArn, KONG_PASSWORD: tokenArn })
      expect(Object.keys(d.environment(name)).filter((key) => /PASSWORD|TOKEN|SECRET/.test(key))).toEqual([])
    }
    // The generated values appear only where they are stored or used, never in a task definition or a policy.
    for (const value of ['generated-kong-db-password-password', 'generated-kong-admin-token-password']) {
      const holders = d.resources
        .filter((r) => JSON.stringify(r.inputs).includes(value))
        .map((r) => `${r.type} ${r.name}`)
      const expected = [
        `${T.secretVersion} ${value.includes('db') ? 'kong-db-password' : 'kong-admin-token'}`,
      ]
      if (value.includes('db')) expected.push(`${T.db} kong-db`)
      expect(holders.sort()).toEqual(expected.sort())
    }
    // Marked secret, so the Pulumi state encrypts them and no preview shows them.
    expect(d.one(T.secretVersion, 'kong-db-password').inputs.secretString).toEqual(
      secret('generated-kong-db-password-password'),
    )
    expect(d.one(T.db).inputs.password).toEqual(secret('generated-kong-db-password-password'))
    // Stored under the gateway's key.
    const keyArn = await valueOf(d.gateway.kmsKeyArn)
    expect(d.all(T.secret).map((s) => s.inputs.kmsKeyId)).toEqual([keyArn, keyArn])
    const policy = JSON.parse(d.one(T.rolePolicy, 'kong-read-secrets').inputs.policy)
    expect(policy.Statement).toEqual([
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: [tokenArn, passwordArn].sort() },
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: keyArn },
    ])
  })

  test('migrations run bootstrap, up and finish, each after the previous succeeded, and Kong starts after them', async () => {
    const d = await deploy('kong')
    const containers = d.containers()
    expect(containers.map((c) => c.name)).toEqual([
      'volume-permissions',
      'migrations-bootstrap',
      'migrations-up',
      'migrations-finish',
      'kong',
    ])
    expect(containers.map((c) => c.command)).toEqual([
      ['1777', '/kong-prefix', '/tmp'],
      ['kong', 'migrations', 'bootstrap'],
      ['kong', 'migrations', 'up'],
      ['kong', 'migrations', 'finish'],
      undefined,
    ])
    expect(containers.map((c) => c.essential)).toEqual([false, false, false, false, true])
    expect(containers.map((c) => c.dependsOn)).toEqual([
      undefined,
      [{ containerName: 'volume-permissions', condition: 'SUCCESS' }],
      [{ containerName: 'migrations-bootstrap', condition: 'SUCCESS' }],
      [{ containerName: 'migrations-up', condition: 'SUCCESS' }],
      [{ containerName: 'migrations-finish', condition: 'SUCCESS' }],
    ])
    expect(new Set(containers.map((c) => c.image))).toEqual(new Set(['kong/kong-gateway:3.10']))
    const kong = d.container('kong')
    expect(kong.healthCheck.command).toEqual(['CMD', 'kong', 'health'])
    expect(kong.portMappings.map((p: { containerPort: number }) => p.containerPort)).toEqual([
      8443, 8444, 8100,
    ])
    expect(d.environment()).toMatchObject({
      KONG_DATABASE: 'postgres',
      KONG_PG_HOST: 'kong-db.abc.eu-west-1.rds.amazonaws.com',
      KONG_PG_PORT: '5432',
      KONG_PG_USER: 'kong',
      KONG_PG_DATABASE: 'kong',
      KONG_PG_SSL: 'on',
      KONG_PG_SSL_REQUIRED: 'on',
      KONG_PROXY_LISTEN: '0.0.0.0:8443 ssl',
      KONG_ADMIN_LISTEN: '0.0.0.0:8444 ssl',
      KONG_STATUS_LISTEN: '0.0.0.0:8100',
      KONG_TRUSTED_IPS: '10.42.0.0/16',
    })
    expect(d.environment().KONG_ENFORCE_RBAC).toBeUndefined()
    // Load balancers check Kong's readiness on the status listener.
    for (const group of d.all(T.targetGroup)) {
      expect(group.inputs.healthCheck).toMatchObject({
        port: '8100',
        path: '/status/ready',
        protocol: 'HTTP',
        matcher: '200',
      })
      expect(group.inputs.targetType).toBe('ip')
    }
    const logGroup = d.one(T.logGroup, 'kong').inputs
    expect(logGroup).toMatchObject({ retentionInDays: 365, kmsKeyId: await valueOf(d.gateway.kmsKeyArn) })
    expect(kong.logConfiguration.options['awslogs-group']).toBe(await valueOf(d.gateway.logGroupName))
    const service = d.one(T.service).inputs
    expect(service).toMatchObject({
      launchType: 'FARGATE',
      desiredCount: 2,
      waitForSteadyState: true,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      networkConfiguration: { assignPublicIp: false, securityGroups: ['kong-kong-id'] },
    })
  })

  test('the backup bucket is private, encrypted with the key, versioned, owner-enforced, expiring, and TLS-only', async () => {
    const d = await deploy('kong')
    const keyArn = await valueOf(d.gateway.kmsKeyArn)
    expect(d.one(T.bucket, 'kong-backups').inputs.forceDestroy).toBe(false)
    expect(d.one(T.bucket, 'kong-backups').inputs.objectLockEnabled).toBeUndefined()
    expect(d.one(T.publicAccess, 'kong-backups').inputs).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    })
    expect(d.one(T.encryption, 'kong-backups').inputs.rules).toEqual([
      {
        applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: keyArn },
        bucketKeyEnabled: true,
      },
    ])
    expect(d.one(T.versioning, 'kong-backups').inputs.versioningConfiguration).toEqual({ status: 'Enabled' })
    expect(d.one(T.ownership, 'kong-backups').inputs.rule).toEqual({ objectOwnership: 'BucketOwnerEnforced' })
    expect(d.one(T.lifecycle, 'kong-backups').inputs.rules).toEqual([
      expect.objectContaining({
        status: 'Enabled',
        expiration: { days: 365 },
        noncurrentVersionExpiration: { noncurrentDays: 90 },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
      }),
    ])
    expect(d.all(T.objectLock)).toEqual([])
    const policy = JSON.parse(d.one(T.bucketPolicy, 'kong-backups').inputs.policy)
    expect(policy.Statement).toEqual([
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ])
    for (const resource of [
      T.publicAccess,
      T.encryption,
      T.versioning,
      T.ownership,
      T.lifecycle,
      T.bucketPolicy,
    ]) {
      expect(d.one(resource, 'kong-backups').inputs.bucket).toBe('kong-backups-id')
    }
    expect(await valueOf(d.gateway.backupBucketName)).toBe('kong-backups-generated')
  })

  test('outputs name everything a DR pipeline needs next', async () => {
    const d = await deploy('kong')
    const g = d.gateway
    expect({
      proxyUrl: await valueOf(g.proxyUrl),
      adminUrl: await valueOf(g.adminUrl),
      databaseEndpoint: await valueOf(g.databaseEndpoint),
      databaseInstanceIdentifier: await valueOf(g.databaseInstanceIdentifier),
      databasePasswordSecretArn: await valueOf(g.databasePasswordSecretArn),
      adminTokenSecretArn: await valueOf(g.adminTokenSecretArn),
      declarativeConfigSecretArn: await valueOf(g.declarativeConfigSecretArn),
      backupBucketName: await valueOf(g.backupBucketName),
      backupStore: await valueOf(g.backupStore),
      clusterName: await valueOf(g.clusterName),
      serviceName: await valueOf(g.serviceName),
      kongImage: await valueOf(g.kongImage),
    }).toEqual({
      proxyUrl: 'https://kong-proxy.eu-west-1.elb.amazonaws.com',
      adminUrl: 'https://kong-admin.eu-west-1.elb.amazonaws.com:8444',
      databaseEndpoint: 'kong-db.abc.eu-west-1.rds.amazonaws.com:5432',
      databaseInstanceIdentifier: 'kong-db-generated',
      databasePasswordSecretArn:
        'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kong-db-password-AbCdEf',
      adminTokenSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kong-admin-token-AbCdEf',
      declarativeConfigSecretArn: undefined,
      backupBucketName: 'kong-backups-generated',
      backupStore: 's3://kong-backups-generated/kong',
      clusterName: 'kong-generated',
      serviceName: 'kong-generated',
      kongImage: 'kong/kong-gateway:3.10',
    })
  })
})

describe('options', () => {
  test('a certificate turns on HTTPS: 443 with a TLS 1.2+ policy, 80 redirected, the Admin API on 8444', async () => {
    const d = await deploy('kong', { certificateArn: CERTIFICATE })
    const listeners = Object.fromEntries(d.all(T.listener).map((l) => [l.name, l.inputs]))
    expect(listeners['kong-proxy-https']).toMatchObject({
      port: 443,
      protocol: 'HTTPS',
      certificateArn: CERTIFICATE,
    })
    expect(listeners['kong-proxy-https']!.sslPolicy).toMatch(/^ELBSecurityPolicy-TLS13-1-2/)
    expect(listeners['kong-proxy-http']!.defaultActions).toEqual([
      expect.objectContaining({
        type: 'redirect',
        redirect: { protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' },
      }),
    ])
    expect(listeners['kong-admin-https']).toMatchObject({
      port: 8444,
      protocol: 'HTTPS',
      certificateArn: CERTIFICATE,
    })
    expect(await valueOf(d.gateway.proxyUrl)).toBe('https://kong-proxy.eu-west-1.elb.amazonaws.com')
    expect(await valueOf(d.gateway.adminUrl)).toBe('https://kong-admin.eu-west-1.elb.amazonaws.com:8444')
    // Still internal: a certificate alone does not open the Admin API.
    expect(d.one(T.loadBalancer, 'kong-admin').inputs.internal).toBe(true)
    for (const rule of openToTheWorld(d.all(T.ingress))) {
      for (const port of ADMIN_PORTS) expect(opens(rule, port)).toBe(false)
    }
  })

  test('adminAllowedCidrs open the Admin API over TLS to exactly those addresses', async () => {
    const d = await deploy('kong', {
      certificateArn: CERTIFICATE,
      adminAllowedCidrs: ['203.0.113.0/24', '2001:db8::/48'],
    })
    const admin = d.one(T.loadBalancer, 'kong-admin').inputs
    expect(admin.internal).toBe(false)
    const rules = d.all(T.ingress).filter((r) => r.inputs.securityGroupId === 'kong-admin-lb-id')
    expect(
      rules.map((r) => [r.inputs.cidrIpv4 ?? r.inputs.cidrIpv6, r.inputs.fromPort, r.inputs.toPort]),
    ).toEqual([
      ['203.0.113.0/24', 8444, 8444],
      ['2001:db8::/48', 8444, 8444],
    ])
    expect(
      d
        .all(T.listener)
        .filter((l) => l.inputs.loadBalancerArn.includes('kong-admin'))
        .map((l) => l.inputs.protocol),
    ).toEqual(['HTTPS'])
  })

  test('the whole internet on the Admin API only with the explicit override and Enterprise RBAC', async () => {
    const d = await deploy('kong', {
      certificateArn: CERTIFICATE,
      adminAllowedCidrs: ['0.0.0.0/0'],
      allowAdminFromAnywhere: true,
      licenseSecretArn: LICENSE,
    })
    expect(
      openToTheWorld(d.all(T.ingress))
        .filter((r) => opens(r, 8444))
        .map((r) => r.inputs.securityGroupId),
    ).toEqual(['kong-admin-lb-id'])
    expect(d.environment()).toMatchObject({ KONG_ENFORCE_RBAC: 'on' })
    expect(d.secrets()).toMatchObject({ KONG_LICENSE_DATA: LICENSE })
  })

  test('restoreFromSnapshot creates the database from the snapshot, once, with the snapshot user', async () => {
    const d = await deploy('dr', { restoreFromSnapshot: 'kong-nightly-2026-11-20' })
    const db = d.one(T.db).inputs
    // Restored from the gateway-key copy of the snapshot (see the restore describe block at the end).
    expect(d.one('aws:rds/snapshotCopy:SnapshotCopy').inputs.sourceDbSnapshotIdentifier).toBe(
      'kong-nightly-2026-11-20',
    )
    expect(db.snapshotIdentifier).toBe('dr-restore-a1b2c3d4')
    expect(db.username).toBeUndefined()
    expect(db.dbName).toBeUndefined()
    expect(db.engineVersion).toBeUndefined()
    // The password is still set, so the secret is right for the restored instance too.
    expect(db.password).toEqual(secret('generated-dr-db-password-password'))
    expect(db).toMatchObject({ storageEncrypted: true, publiclyAccessible: false, deletionProtection: true })
    expect(d.environment()).toMatchObject({ KONG_PG_USER: 'snapshot_user', KONG_PG_DATABASE: 'snapshot_db' })
    // Migrations bring an older snapshot up to the image's version.
    expect(d.containers().map((c) => c.name)).toContain('migrations-up')
  })

  test('restoreToPointInTime wires the source and the time', async () => {
    const restore = { sourceDbInstanceIdentifier: 'kong-db-1a2b3c4', restoreTime: '2026-11-20T23:00:00Z' }
    const d = await deploy('pitr', { restoreToPointInTime: restore, database: { engineVersion: '16.4' } })
    expect(d.one(T.db).inputs.restoreToPointInTime).toEqual(restore)
    expect(d.one(T.db).inputs.engineVersion).toBe('16.4')
    expect(d.one(T.db).inputs.snapshotIdentifier).toBeUndefined()
  })

  test('DB-less mode creates no database, runs no migrations and loads the configuration from a secret', async () => {
    const config = '_format_version: "3.0"\nservices:\n- name: orders\n  url: http://orders.internal\n'
    const d = await deploy('edge', { mode: 'dbless', declarativeConfig: config })
    expect(d.all(T.db)).toEqual([])
    expect(d.all(T.subnetGroup)).toEqual([])
    expect(
      d
        .all(T.securityGroup)
        .map((g) => g.name)
        .sort(),
    ).toEqual(['edge-admin-lb', 'edge-kong', 'edge-proxy-lb'])
    expect(d.containers().map((c) => c.name)).toEqual(['volume-permissions', 'kong'])
    expect(d.environment().KONG_DATABASE).toBe('off')
    expect(d.environment().KONG_PG_HOST).toBeUndefined()
    const configArn = await valueOf(d.gateway.declarativeConfigSecretArn)
    expect(d.secrets()).toEqual({ KONG_DECLARATIVE_CONFIG_STRING: configArn })
    expect(d.one(T.secretVersion).inputs.secretString).toEqual(secret(JSON.stringify(parse(config))))
    expect(JSON.stringify(d.one(T.task).inputs)).not.toContain('orders.internal')
    expect(await valueOf(d.gateway.databaseEndpoint)).toBeUndefined()
    expect(await valueOf(d.gateway.adminTokenSecretArn)).toBeUndefined()
    expect(d.all(T.targetGroup).map((g) => g.inputs.healthCheck.path)).toEqual([
      '/status/ready',
      '/status/ready',
    ])
  })

  test('DB-less without a configuration is checked on /status: an empty node is never "ready"', async () => {
    const d = await deploy('edge', { mode: 'dbless' })
    expect(d.all(T.targetGroup).map((g) => g.inputs.healthCheck.path)).toEqual(['/status', '/status'])
    expect(d.secrets()).toEqual({})
  })

  test('an existing VPC is used as given: no network is created, its subnets and CIDR are wired in', async () => {
    const d = await deploy('kong', EXISTING_ARGS, EXISTING)
    for (const type of [T.vpc, T.subnet, T.nat, T.igw]) expect(d.all(type)).toEqual([])
    expect(
      d.invoked
        .filter((i) => i.token === 'aws:ec2/getSubnet:getSubnet')
        .map((i) => i.inputs.id)
        .sort(),
    ).toEqual(['subnet-priv-a', 'subnet-priv-b', 'subnet-pub-a', 'subnet-pub-b'])
    expect(d.one(T.loadBalancer, 'kong-proxy').inputs.subnets).toEqual(['subnet-pub-a', 'subnet-pub-b'])
    expect(d.one(T.loadBalancer, 'kong-admin').inputs.subnets).toEqual(['subnet-priv-a', 'subnet-priv-b'])
    expect(d.one(T.subnetGroup).inputs.subnetIds).toEqual(['subnet-priv-a', 'subnet-priv-b'])
    expect(d.one(T.service).inputs.networkConfiguration.subnets).toEqual(['subnet-priv-a', 'subnet-priv-b'])
    expect(d.all(T.securityGroup).every((g) => g.inputs.vpcId === 'vpc-0a1')).toBe(true)
    expect(d.environment().KONG_TRUSTED_IPS).toBe('172.31.0.0/16')
    const adminRules = d.all(T.ingress).filter((r) => r.inputs.securityGroupId === 'kong-admin-lb-id')
    expect(adminRules.map((r) => r.inputs.cidrIpv4)).toEqual(['172.31.0.0/16'])
    expect(await valueOf(d.gateway.vpcId)).toBe('vpc-0a1')
  })

  test('a region and tags reach every regional resource', async () => {
    const d = await deploy('kong', { region: 'eu-central-1', tags: { team: 'platform' } })
    const regional = d.resources.filter((r) => r.type.startsWith('aws:') && !r.type.startsWith('aws:iam/'))
    expect(regional.length).toBeGreaterThan(40)
    expect(regional.filter((r) => r.inputs.region !== 'eu-central-1').map((r) => r.type)).toEqual([])
    for (const type of [T.vpc, T.db, T.service, T.bucket, T.loadBalancer, T.key]) {
      for (const resource of d.all(type))
        expect(resource.inputs.tags).toMatchObject({ team: 'platform', 'deckhand:gateway': 'kong' })
    }
    expect(
      d.invoked.find((i) => i.token === 'aws:index/getAvailabilityZones:getAvailabilityZones')?.inputs.region,
    ).toBe('eu-central-1')
  })

  test('object lock, retention, sizing, per-zone NAT, secrets from the caller and no bucket', async () => {
    const d = await deploy('kong', {
      natGateways: 'perAz',
      backupBucket: {
        objectLock: { mode: 'COMPLIANCE', days: 30 },
        expireAfterDays: 90,
        noncurrentVersionDays: 7,
      },
      database: {
        instanceClass: 'db.r7g.large',
        allocatedStorage: 50,
        multiAz: false,
        backupRetentionDays: 35,
      },
      cpu: 2048,
      memory: 4096,
      desiredCount: 3,
      migrationsFinish: false,
      kongEnvironment: { KONG_LOG_LEVEL: 'info' },
      kongSecrets: { KONG_SSL_CERT_KEY: 'arn:aws:ssm:eu-west-1:123456789012:parameter/kong/tls-key' },
    })
    expect(d.all(T.nat)).toHaveLength(2)
    expect(d.one(T.bucket, 'kong-backups').inputs.objectLockEnabled).toBe(true)
    expect(d.one(T.objectLock, 'kong-backups').inputs.rule).toEqual({
      defaultRetention: { mode: 'COMPLIANCE', days: 30 },
    })
    expect(d.one(T.lifecycle, 'kong-backups').inputs.rules[0]).toMatchObject({
      expiration: { days: 90 },
      noncurrentVersionExpiration: { noncurrentDays: 7 },
    })
    expect(d.one(T.db).inputs).toMatchObject({
      instanceClass: 'db.r7g.large',
      allocatedStorage: 50,
      maxAllocatedStorage: 100,
      multiAz: false,
      backupRetentionPeriod: 35,
    })
    expect(d.one(T.task).inputs).toMatchObject({ cpu: '2048', memory: '4096' })
    expect(d.one(T.service).inputs.desiredCount).toBe(3)
    expect(d.containers().map((c) => c.name)).toEqual([
      'volume-permissions',
      'migrations-bootstrap',
      'migrations-up',
      'kong',
    ])
    expect(d.environment().KONG_LOG_LEVEL).toBe('info')
    expect(d.secrets().KONG_SSL_CERT_KEY).toBe('arn:aws:ssm:eu-west-1:123456789012:parameter/kong/tls-key')
    const policy = JSON.parse(d.one(T.rolePolicy, 'kong-read-secrets').inputs.policy)
    expect(policy.Statement[0]).toEqual({
      Effect: 'Allow',
      Action: 'ssm:GetParameters',
      Resource: ['arn:aws:ssm:eu-west-1:123456789012:parameter/kong/tls-key'],
    })

    const bare = await deploy('bare', {
      backupBucket: { enabled: false },
      kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/abcd',
    })
    expect(bare.resources.filter((r) => r.type.startsWith('aws:s3/') && r.name.includes('backups'))).toEqual(
      [],
    )
    expect(bare.all(T.key)).toEqual([])
    expect(bare.one(T.db).inputs.kmsKeyId).toBe('arn:aws:kms:eu-west-1:123456789012:key/abcd')
    expect(await valueOf(bare.gateway.backupBucketName)).toBeUndefined()
  })
})

describe('bad arguments stop the program before anything is created', () => {
  const cases: [string, KongGatewayArgs, RegExp][] = [
    [
      'one availability zone',
      { availabilityZones: ['eu-west-1a'] },
      /availabilityZones: names only eu-west-1a: .*at least two availability zones/,
    ],
    [
      'too few existing subnets',
      { ...EXISTING_ARGS, privateSubnetIds: ['subnet-priv-a'] },
      /privateSubnetIds: needs at least two subnets, in different availability zones/,
    ],
    [
      'subnets without their VPC',
      { publicSubnetIds: ['a', 'b'], privateSubnetIds: ['c', 'd'] },
      /vpcId: is missing/,
    ],
    [
      'the whole internet on the Admin API',
      { certificateArn: CERTIFICATE, adminAllowedCidrs: ['10.0.0.0/8', '0.0.0.0/0'] },
      /adminAllowedCidrs: contains 0\.0\.0\.0\/0, which opens the Admin API to the whole internet/,
    ],
    ['::/0 as well', { certificateArn: CERTIFICATE, adminAllowedCidrs: ['::/0'] }, /contains ::\/0/],
    [
      'the override without RBAC',
      { certificateArn: CERTIFICATE, adminAllowedCidrs: ['0.0.0.0/0'], allowAdminFromAnywhere: true },
      /allowAdminFromAnywhere: needs Kong Enterprise with licenseSecretArn/,
    ],
    [
      'the override in DB-less mode, which has no RBAC',
      {
        mode: 'dbless',
        certificateArn: CERTIFICATE,
        adminAllowedCidrs: ['0.0.0.0/0'],
        allowAdminFromAnywhere: true,
        licenseSecretArn: LICENSE,
      },
      /allowAdminFromAnywhere: needs Kong Enterprise with licenseSecretArn in database mode/,
    ],
    [
      'a malformed CIDR',
      { certificateArn: CERTIFICATE, adminAllowedCidrs: ['203.0.113.0'] },
      /adminAllowedCidrs\[0\]: "203\.0\.113\.0" is not an IPv4 or IPv6 CIDR block/,
    ],
    [
      'an image without a tag',
      { kongImage: 'kong/kong-gateway' },
      /kongImage: "kong\/kong-gateway" is not an image reference with a version tag/,
    ],
    [
      'latest',
      { kongImage: 'kong:latest' },
      /kongImage: tag "latest" is not a Kong version .* pin a version/,
    ],
    [
      'a branch tag',
      { kongImage: 'kong/kong-gateway:master-ubuntu' },
      /tag "master-ubuntu" is not a Kong version/,
    ],
    [
      'Kong 2',
      { kongImage: 'kong:2.8.1' },
      /kongImage: Kong 2\.8\.1 is not supported; use a Kong 3\.x image/,
    ],
    [
      'a database password in the plain environment',
      { kongEnvironment: { KONG_PG_PASSWORD: 'x' } },
      /kongEnvironment\.KONG_PG_PASSWORD: is set by the component itself/,
    ],
    [
      'another prefix, outside the writable volume of a read-only container',
      { kongEnvironment: { KONG_PREFIX: '/usr/local/kong' } },
      /kongEnvironment\.KONG_PREFIX: is set by the component itself/,
    ],
    [
      'a secret in the plain environment',
      { kongEnvironment: { KONG_CLUSTER_CERT_KEY: 'x' } },
      /kongEnvironment\.KONG_CLUSTER_CERT_KEY: looks like a secret.*kongSecrets\.KONG_CLUSTER_CERT_KEY/,
    ],
    [
      "a setting that is not Kong's",
      { kongEnvironment: { LOG_LEVEL: 'debug' } },
      /kongEnvironment\.LOG_LEVEL: is not a KONG_\* setting/,
    ],
    [
      'a secret that is not an ARN',
      { kongSecrets: { KONG_SSL_CERT_KEY: 'my-key' } },
      /kongSecrets\.KONG_SSL_CERT_KEY: "my-key" is not an ARN/,
    ],
    [
      'two restores',
      {
        restoreFromSnapshot: 'snap',
        restoreToPointInTime: { sourceDbInstanceIdentifier: 'db', useLatestRestorableTime: true },
      },
      /restoreFromSnapshot: and restoreToPointInTime are alternatives/,
    ],
    [
      'a restore time that is not UTC',
      { restoreToPointInTime: { sourceDbInstanceIdentifier: 'db', restoreTime: '2026-11-20 23:00' } },
      /restoreTime: "2026-11-20 23:00" is not a UTC time/,
    ],
    [
      'a restore without a source',
      { restoreToPointInTime: { useLatestRestorableTime: true } },
      /restoreToPointInTime: needs exactly one source/,
    ],
    [
      'a snapshot in DB-less mode',
      { mode: 'dbless', restoreFromSnapshot: 'snap' },
      /restoreFromSnapshot: does not apply in DB-less mode/,
    ],
    [
      'a declarative configuration with a database',
      { declarativeConfig: '_format_version: "3.0"' },
      /declarativeConfig: is for DB-less mode/,
    ],
    [
      'a licence for the open-source image',
      { kongImage: 'kong:3.9.3', licenseSecretArn: LICENSE },
      /licenseSecretArn: is for Kong Enterprise, and kong:3\.9\.3 is the open-source image/,
    ],
    [
      'a Fargate size that does not exist',
      { cpu: 1024, memory: 1024 },
      /memory: 1024 MiB does not fit 1024 CPU units: from 2048 to 8192 in steps of 1024/,
    ],
    [
      'no automated backups',
      { database: { backupRetentionDays: 0 } },
      /database\.backupRetentionDays: 0 is not a whole number from 1 to 35/,
    ],
    [
      'an unknown log retention',
      { logRetentionDays: 10 },
      /logRetentionDays: 10 is not a CloudWatch retention/,
    ],
    [
      'a certificate that is not one',
      { certificateArn: 'arn:aws:s3:::bucket' },
      /certificateArn: "arn:aws:s3:::bucket" is not an ARN of the right kind/,
    ],
    [
      'new-VPC settings with an existing VPC',
      { ...EXISTING_ARGS, natGateways: 'perAz' },
      /vpcId: is given, so vpcCidrBlock, availabilityZones and natGateways .* do not apply/,
    ],
    [
      'retention for a backup bucket turned off',
      { backupBucket: { enabled: false, expireAfterDays: 30 } },
      /backupBucket: has enabled: false, so expireAfterDays would not apply; leave them out/,
    ],
    [
      'a VPC block too small to split',
      { vpcCidrBlock: '10.0.0.0/24' },
      /vpcCidrBlock: "10\.0\.0\.0\/24" is not an IPv4 block from \/16 to \/22/,
    ],
  ]
  test.each(cases)('%s', async (_title, args, message) => {
    const run = runProgram({}, () => new KongGateway('kong', args))
    await expect(run).rejects.toThrow(KongGatewayArgumentError)
    await expect(run).rejects.toThrow(message)
  })

  test('a name AWS cannot use', async () => {
    await expect(runProgram({}, () => new KongGateway('kong_gw', {}))).rejects.toThrow(
      /name: "kong_gw" cannot name AWS resources: use letters, digits and single hyphens/,
    )
  })

  test('nothing is registered when the arguments are refused', async () => {
    const run = await runProgram({}, () => {
      try {
        return new KongGateway('kong', { kongImage: 'kong:latest' })
      } catch (error) {
        return error
      }
    })
    expect(run.result).toBeInstanceOf(KongGatewayArgumentError)
    expect(run.resources).toEqual([])
  })
})

describe('the built component (dist/pulumi) as a program runs it', () => {
  /** Arguments named here arrive as Outputs: `whole` wraps the value, `items` each item of a list. */
  type Outputs = Record<string, 'whole' | 'items'>
  const program = (name: string, args: KongGatewayArgs, cloud: Cloud, outputs: Outputs = {}) =>
    promisify(execFile)(process.execPath, ['test/support/pulumi-program.mjs'], {
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        DECKHAND_PROGRAM: JSON.stringify({ name, args, cloud, outputs }),
      },
    })
  /** Runs a program that must fail; returns what it printed on stderr. */
  const failure = async (name: string, args: KongGatewayArgs, cloud: Cloud, outputs: Outputs = {}) => {
    const error = await program(name, args, cloud, outputs).then(
      () => undefined,
      (failed: { code: number; stderr: string }) => failed,
    )
    expect(error?.code).toBeGreaterThan(0)
    return error?.stderr ?? ''
  }

  test('builds a gateway and prints its outputs', async () => {
    const { stdout } = await program('kong', { certificateArn: CERTIFICATE }, {})
    expect(JSON.parse(stdout)).toEqual({
      proxyUrl: 'https://kong-proxy.eu-west-1.elb.amazonaws.com',
      adminUrl: 'https://kong-admin.eu-west-1.elb.amazonaws.com:8444',
      databaseEndpoint: 'kong-db.abc.eu-west-1.rds.amazonaws.com:5432',
      backupBucketName: 'kong-backups-generated',
      clusterName: 'kong-generated',
    })
  })

  test('existing subnets all in one zone fail the program with a clear error', async () => {
    const args = { ...EXISTING_ARGS, privateSubnetIds: ['subnet-priv-a', 'subnet-priv-a2'] }
    expect(await failure('kong', args, EXISTING)).toContain(
      'KongGateway privateSubnetIds: every subnet is in eu-west-1a: the database and the load balancers need subnets in at least two availability zones',
    )
  })

  test('arguments given as Outputs are checked once known, with the same messages', async () => {
    const refused = (args: KongGatewayArgs, outputs: Outputs, cloud: Cloud = {}) =>
      failure('kong', args, cloud, outputs)
    expect(
      await refused(
        { ...EXISTING_ARGS, publicSubnetIds: ['subnet-pub-a'] },
        { publicSubnetIds: 'whole' },
        EXISTING,
      ),
    ).toContain(
      'KongGateway publicSubnetIds: needs at least two subnets, in different availability zones, when vpcId is given (got 1)',
    )
    expect(
      await refused({ kongImage: 'kong:latest', edition: 'community' }, { kongImage: 'whole' }),
    ).toContain('KongGateway kongImage: tag "latest" is not a Kong version')
    expect(
      await refused(
        { availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1a'] },
        { availabilityZones: 'items' },
      ),
    ).toContain('KongGateway availabilityZones: names eu-west-1a twice')
    expect(await refused({ secretsKmsKeyArns: ['alias/kong'] }, { secretsKmsKeyArns: 'whole' })).toContain(
      'KongGateway secretsKmsKeyArns[0]: "alias/kong" is not a KMS key ARN',
    )
  })

  test('a subnet of another VPC fails the program with a clear error', async () => {
    const args = { ...EXISTING_ARGS, publicSubnetIds: ['subnet-pub-a', 'subnet-other'] }
    expect(await failure('kong', args, EXISTING)).toContain(
      'KongGateway publicSubnetIds: subnet-other is not in vpc-0a1',
    )
  })

  test('a declarative configuration over 64 KiB fails the program with a clear error', async () => {
    const declarativeConfig = `_format_version: "3.0"\n_comment: ${'x'.repeat(70_000)}\n`
    expect(await failure('edge', { mode: 'dbless', declarativeConfig }, {})).toMatch(
      /KongGateway declarativeConfig: is 70\d+ bytes as JSON; Secrets Manager holds at most 65536/,
    )
  })
})

describe('the example program (examples/pulumi-dr)', () => {
  const dir = join(ROOT, 'examples', 'pulumi-dr')

  test('reads only configuration its Pulumi.yaml declares', async () => {
    const project = parse(await readFile(join(dir, 'Pulumi.yaml'), 'utf8'))
    const program = await readFile(join(dir, 'index.ts'), 'utf8')
    const read = [...program.matchAll(/config\.get\w*(?:<[^>]+>)?\('([^']+)'\)/g)].map((m) => m[1])
    expect(read.length).toBeGreaterThan(3)
    for (const key of read) expect({ key, declared: key! in project.config }).toEqual({ key, declared: true })
    expect(project.runtime.name).toBe('nodejs')
  })

  test('builds a snapshot-restored gateway with HTTPS and the runner allowed to the Admin API', async () => {
    pulumi.runtime.setAllConfig({
      'kong-dr:restoreFromSnapshot': 'kong-nightly-2026-11-20',
      'kong-dr:certificateArn': CERTIFICATE,
      'kong-dr:adminAllowedCidrs': '["198.51.100.7/32"]',
      'kong-dr:deletionProtection': 'true',
    })
    const run = await runProgram(
      {},
      () => import('../examples/pulumi-dr/index.js') as Promise<Record<string, pulumi.Output<unknown>>>,
      'kong-dr',
    )
    const db = run.resources.find((r) => r.type === T.db)!.inputs
    expect(db).toMatchObject({ snapshotIdentifier: 'kong-restore-a1b2c3d4', deletionProtection: true })
    const copy = run.resources.find((r) => r.type === 'aws:rds/snapshotCopy:SnapshotCopy')!.inputs
    expect(copy.sourceDbSnapshotIdentifier).toBe('kong-nightly-2026-11-20')
    const admin = run.resources.filter(
      (r) => r.type === T.ingress && r.inputs.securityGroupId === 'kong-admin-lb-id',
    )
    expect(admin.map((r) => [r.inputs.cidrIpv4, r.inputs.fromPort])).toEqual([['198.51.100.7/32', 8444]])
    expect(await valueOf(run.result.adminUrl!)).toBe('https://kong-admin.eu-west-1.elb.amazonaws.com:8444')
    expect(Object.keys(run.result).sort()).toEqual([
      'adminTokenSecretArn',
      'adminUrl',
      'backupBucketName',
      'certificatePem',
      'clusterName',
      'databaseEndpoint',
      'databaseInstanceIdentifier',
      'databasePasswordSecretArn',
      'disasterRecoveryAutomatedBackupsArn',
      'disasterRecoveryBackupStore',
      'proxyUrl',
      'serviceName',
    ])
  })
})

describe('docs/pulumi.md', () => {
  test('documents every argument and output of the component', async () => {
    const section = await readFile(join(ROOT, 'docs', 'pulumi.md'), 'utf8')
    const documented = new Set([...section.matchAll(/^\| `([a-zA-Z.]+)` +\|/gm)].map((m) => m[1]))
    const args = await readFile(join(ROOT, 'pulumi', 'args.ts'), 'utf8')
    const argsInterface = args.slice(args.indexOf('export interface KongGatewayArgs'))
    const argNames = [...argsInterface.matchAll(/^ {2}(\w+)\?:/gm)].map((m) => m[1]!)
    const component = await readFile(join(ROOT, 'pulumi', 'kong-gateway.ts'), 'utf8')
    const outputs = [...component.matchAll(/^ {2}readonly (\w+): pulumi\.Output/gm)].map((m) => m[1]!)
    expect(argNames.length).toBeGreaterThan(30)
    expect(outputs.length).toBeGreaterThan(15)
    expect([...argNames, ...outputs].filter((name) => !documented.has(name))).toEqual([])
  })
})

describe('building blocks', () => {
  test('Kong image references', () => {
    expect(parseKongImage('kong/kong-gateway:3.10.0.6')).toMatchObject({
      version: [3, 10, 0, 6],
      edition: 'enterprise',
    })
    expect(parseKongImage('kong:3.9.3')).toMatchObject({ version: [3, 9, 3], edition: 'community' })
    expect(
      parseKongImage('123456789012.dkr.ecr.eu-west-1.amazonaws.com/mirror/kong-gateway:3.14.0.1-distroless'),
    ).toMatchObject({
      repository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/mirror/kong-gateway',
      edition: 'enterprise',
    })
    const digest = `kong:3.9.3@sha256:${'a'.repeat(64)}`
    expect(parseKongImage(digest)).toMatchObject({ reference: digest, tag: '3.9.3' })
    expect(parseKongImage('registry.local:5000/custom:3.10', 'enterprise').edition).toBe('enterprise')
  })

  test('subnet blocks of a new VPC do not overlap and fit four zones', () => {
    const base = parseIpv4Cidr('10.42.0.0/16')!
    const blocks = [0, 1, 2, 3].flatMap((i) => [subnetCidr(base, 4, i), subnetCidr(base, 3, 4 + i)])
    expect(blocks).toEqual([
      '10.42.0.0/20',
      '10.42.128.0/19',
      '10.42.16.0/20',
      '10.42.160.0/19',
      '10.42.32.0/20',
      '10.42.192.0/19',
      '10.42.48.0/20',
      '10.42.224.0/19',
    ])
    expect(subnetCidr(parseIpv4Cidr('192.168.4.0/22')!, 4, 1)).toBe('192.168.4.64/26')
    expect(() => subnetCidr(base, 2, 4)).toThrow(RangeError)
  })

  test('the execution role reads exactly the named secrets', () => {
    const key = 'arn:aws:kms:eu-west-1:123456789012:key/k'
    const json = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kong-AbCdEf:password::'
    expect(secretResourceArn(json)).toBe('arn:aws:secretsmanager:eu-west-1:123456789012:secret:kong-AbCdEf')
    expect(
      JSON.parse(
        secretsPolicy([json, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kong-AbCdEf'], key),
      ).Statement,
    ).toEqual([
      {
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:kong-AbCdEf'],
      },
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: key },
    ])
  })
})

describe('the execution role and secrets under other keys', () => {
  const SM = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret'
  const CUSTOMER_KEYS = [
    'arn:aws:kms:eu-west-1:123456789012:key/2b2b2b2b-0000-4000-8000-000000000002',
    'arn:aws:kms:eu-west-1:123456789012:key/1a1a1a1a-0000-4000-8000-000000000001',
  ]
  const kmsStatements = (d: Awaited<ReturnType<typeof deploy>>) =>
    JSON.parse(d.one(T.rolePolicy, 'kong-read-secrets').inputs.policy).Statement.filter(
      (s: { Action: string }) => s.Action === 'kms:Decrypt',
    )

  test('decrypts with the gateway key, and with secretsKmsKeyArns only through Secrets Manager', async () => {
    const d = await deploy('kong', {
      licenseSecretArn: LICENSE,
      kongSecrets: { KONG_PORTAL_SESSION_CONF: `${SM}:kong-session-AbCdEf` },
      secretsKmsKeyArns: CUSTOMER_KEYS,
    })
    const keyArn = await valueOf(d.gateway.kmsKeyArn)
    expect(kmsStatements(d)).toEqual([
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: keyArn },
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: [...CUSTOMER_KEYS].sort(),
        Condition: { StringEquals: { 'kms:ViaService': ['secretsmanager.eu-west-1.amazonaws.com'] } },
      },
    ])
    // Without the argument, the gateway key alone.
    expect(kmsStatements(await deploy('kong', { licenseSecretArn: LICENSE }))).toEqual([
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: keyArn },
    ])
  })

  test.each([
    ['an alias', 'arn:aws:kms:eu-west-1:123456789012:alias/kong-secrets'],
    ['a bare key id', '1a1a1a1a-0000-4000-8000-000000000001'],
    ['another service', `${SM}:kong-license-AbCdEf`],
  ])('secretsKmsKeyArns refuses %s', async (_kind, key) => {
    await expect(
      runProgram({}, () => new KongGateway('kong', { secretsKmsKeyArns: [CUSTOMER_KEYS[0]!, key] })),
    ).rejects.toThrow(`secretsKmsKeyArns[1]: "${key}" is not a KMS key ARN`)
  })

  test('partial ARNs and JSON-key selectors grant the secret itself, whatever its random suffix', async () => {
    const kongSecrets = {
      KONG_SSL_CERT_KEY: `${SM}:kong/tls-key`,
      KONG_PORTAL_SESSION_CONF: `${SM}:kong/session:conf::`,
      KONG_ADMIN_GUI_SESSION_CONF: `${SM}:kong-gui-AbCdEf:conf:AWSCURRENT:`,
      KONG_VITALS_TSDB_PASSWORD: `${SM}:kong/vitals-Zz9Yx8`,
    }
    const d = await deploy('kong', { licenseSecretArn: `${SM}:kong-license`, kongSecrets })
    // ECS receives each reference as given.
    expect(d.secrets()).toMatchObject({ ...kongSecrets, KONG_LICENSE_DATA: `${SM}:kong-license` })
    const read = JSON.parse(d.one(T.rolePolicy, 'kong-read-secrets').inputs.policy).Statement.find(
      (s: { Action: string }) => s.Action === 'secretsmanager:GetSecretValue',
    )
    expect(read.Resource).toEqual(
      [
        `${SM}:kong-admin-token-AbCdEf`,
        `${SM}:kong-db-password-AbCdEf`,
        `${SM}:kong-gui-AbCdEf`,
        `${SM}:kong-license-??????`,
        `${SM}:kong/session-??????`,
        `${SM}:kong/tls-key-??????`,
        `${SM}:kong/vitals-Zz9Yx8`,
      ].sort(),
    )
    expect(secretResourceArn(`${SM}:kong/session:conf::`)).toBe(`${SM}:kong/session-??????`)
    expect(secretResourceArn(`${SM}:kong-gui-AbCdEf:conf::`)).toBe(`${SM}:kong-gui-AbCdEf`)
  })
})

describe('the admin token of a restored database', () => {
  const TOKEN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kong-x-admin-token-QwErTy'

  test('no token is generated, the output is undefined and a warning says why', async () => {
    const d = await deploy('dr', {
      restoreFromSnapshot: 'kong-nightly-2026-11-20',
      licenseSecretArn: LICENSE,
    })
    expect(await valueOf(d.gateway.adminTokenSecretArn)).toBeUndefined()
    expect(d.all(T.secret).map((s) => s.name)).toEqual(['dr-db-password'])
    expect(Object.keys(d.secrets()).sort()).toEqual(['KONG_LICENSE_DATA', 'KONG_PG_PASSWORD'])
    expect(d.warnings).toEqual([
      expect.stringMatching(/^adminTokenSecretArn is undefined: a restored database keeps the admin token/),
    ])
  })

  test("the old cluster's token secret, given as adminTokenSecretArn, is the output", async () => {
    const restore = { sourceDbInstanceIdentifier: 'kong-db-1a2b3c4', useLatestRestorableTime: true }
    const d = await deploy('dr', { restoreToPointInTime: restore, adminTokenSecretArn: TOKEN })
    expect(await valueOf(d.gateway.adminTokenSecretArn)).toBe(TOKEN)
    expect(d.all(T.secret).map((s) => s.name)).toEqual(['dr-db-password'])
    // Kong never reads it: the restored database holds the token's hash already.
    expect(JSON.stringify(d.one(T.task).inputs)).not.toContain(TOKEN)
    expect(d.one(T.rolePolicy, 'dr-read-secrets').inputs.policy).not.toContain('kong-x-admin-token')
    expect(d.warnings).toEqual([])
  })

  test('a new database still gets a generated token, and refuses adminTokenSecretArn', async () => {
    const d = await deploy('kong')
    expect(await valueOf(d.gateway.adminTokenSecretArn)).toBe(
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kong-admin-token-AbCdEf',
    )
    await expect(
      runProgram({}, () => new KongGateway('kong', { adminTokenSecretArn: TOKEN })),
    ).rejects.toThrow(/adminTokenSecretArn: is the admin token of a restored Kong Enterprise database/)
    await expect(
      runProgram(
        {},
        () =>
          new KongGateway('kong', {
            kongImage: 'kong:3.9.3',
            restoreFromSnapshot: 'snap',
            adminTokenSecretArn: TOKEN,
          }),
      ),
    ).rejects.toThrow(/adminTokenSecretArn: is the admin token of a restored Kong Enterprise database/)
    await expect(
      runProgram(
        {},
        () =>
          new KongGateway('kong', { restoreFromSnapshot: 'snap', adminTokenSecretArn: 'kong-admin-token' }),
      ),
    ).rejects.toThrow(/adminTokenSecretArn: "kong-admin-token" is not an ARN of the right kind/)
  })
})

// The provider replaces an aws_db_instance when a ForceNew field of the program differs from what it recorded
// (terraform-provider-aws internal/service/rds/instance.go). A field left out of the program differs only when the
// provider does not compute it. The pretend account records what RDS does: a restored instance keeps its source's
// key, whatever the program asked for.
const FORCE_NEW: Record<string, { computed: boolean }> = {
  availabilityZone: { computed: true },
  characterSetName: { computed: true },
  customIamInstanceProfile: { computed: false },
  dbName: { computed: true },
  engine: { computed: true },
  identifier: { computed: true },
  identifierPrefix: { computed: true },
  kmsKeyId: { computed: true },
  ncharCharacterSetName: { computed: true },
  restoreToPointInTime: { computed: false },
  snapshotIdentifier: { computed: true },
  storageEncrypted: { computed: false },
  timezone: { computed: true },
  username: { computed: true },
}

/** The ForceNew fields the next `up` of the same program would change on the database: each means a replacement. */
async function replacementsOfTheNextUp(name: string, args: KongGatewayArgs, cloud: Cloud = {}) {
  const first = await deploy(name, args, cloud)
  const recorded = first.one(T.db).state!
  const planned = (await deploy(name, args, cloud)).one(T.db).inputs
  return {
    first,
    recorded,
    replaced: Object.entries(FORCE_NEW)
      .filter(([field, { computed }]) =>
        planned[field] === undefined
          ? !computed && recorded[field] !== undefined
          : JSON.stringify(planned[field]) !== JSON.stringify(recorded[field]),
      )
      .map(([field]) => ({ field, planned: planned[field], recorded: recorded[field] })),
  }
}

describe('the next up after a restore plans no replacement', () => {
  const SNAPSHOT_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/old-gateway'
  const CLOUD: Cloud = {
    snapshots: { 'kong-nightly-2026-11-20': { kmsKeyId: SNAPSHOT_KEY } },
    instances: { 'kong-db-1a2b3c4': { kmsKeyId: SNAPSHOT_KEY } },
  }

  test('a new database: the key asked for is the key recorded', async () => {
    const { replaced, recorded, first } = await replacementsOfTheNextUp('kong', {}, CLOUD)
    expect(replaced).toEqual([])
    expect(recorded.kmsKeyId).toBe(await valueOf(first.gateway.kmsKeyArn))
  })

  test('restoreFromSnapshot restores a copy under the gateway key, so the instance has the key its inputs name', async () => {
    const args = { restoreFromSnapshot: 'kong-nightly-2026-11-20' }
    const { replaced, recorded, first } = await replacementsOfTheNextUp('dr', args, CLOUD)
    expect(replaced).toEqual([])
    const key = await valueOf(first.gateway.kmsKeyArn)
    expect(recorded).toMatchObject({ kmsKeyId: key, storageEncrypted: true })
    const copy = first.one('aws:rds/snapshotCopy:SnapshotCopy').inputs
    expect(copy).toMatchObject({
      sourceDbSnapshotIdentifier: 'kong-nightly-2026-11-20',
      targetDbSnapshotIdentifier: 'dr-restore-a1b2c3d4',
      kmsKeyId: key,
    })
    expect(copy.destinationRegion).toBeUndefined()
    expect(recorded.snapshotIdentifier).toBe('dr-restore-a1b2c3d4')
  })

  test('a snapshot ARN from another region is copied into the gateway region', async () => {
    const arn = 'arn:aws:rds:us-east-1:123456789012:snapshot:kong-nightly-2026-11-20'
    const { replaced, first } = await replacementsOfTheNextUp('dr', { restoreFromSnapshot: arn }, CLOUD)
    expect(replaced).toEqual([])
    expect(first.one('aws:rds/snapshotCopy:SnapshotCopy').inputs).toMatchObject({
      sourceDbSnapshotIdentifier: arn,
      destinationRegion: 'eu-west-1',
    })
    const sameRegion = await deploy('dr', {
      restoreFromSnapshot: 'arn:aws:rds:eu-west-1:123456789012:snapshot:kong-nightly-2026-11-20',
    })
    expect(sameRegion.one('aws:rds/snapshotCopy:SnapshotCopy').inputs.destinationRegion).toBeUndefined()
  })

  test("restoreToPointInTime keeps the source's key, which RDS cannot change on that restore", async () => {
    const args = {
      restoreToPointInTime: { sourceDbInstanceIdentifier: 'kong-db-1a2b3c4', useLatestRestorableTime: true },
    }
    const { replaced, recorded, first } = await replacementsOfTheNextUp('pitr', args, CLOUD)
    expect(replaced).toEqual([])
    expect(recorded).toMatchObject({ kmsKeyId: SNAPSHOT_KEY, storageEncrypted: true })
    expect(first.all('aws:rds/snapshotCopy:SnapshotCopy')).toEqual([])
  })
})

describe('DB-less configuration reaches Kong as one line of JSON', () => {
  // Kong writes each setting to .kong_env as one `key = value` line and reads the file back line by line
  // (kong/cmd/utils/prefix_handler.lua, kong/conf_loader/init.lua, Kong 3.9.3): a multi-line value is cut.
  const yamlConfig = [
    '_format_version: "3.0"',
    '# the orders API',
    'services:',
    '  - name: orders',
    '    url: http://orders.internal',
    '    routes:',
    '      - name: orders',
    '        paths: [/orders]',
    'certificates:',
    '  - cert: |',
    '      -----BEGIN CERTIFICATE-----',
    '      MIIB',
    '      -----END CERTIFICATE-----',
    '',
  ].join('\n')

  test('a multi-line YAML configuration is stored without a newline, equal as data to the input', async () => {
    const d = await deploy('edge', { mode: 'dbless', declarativeConfig: yamlConfig })
    const stored = await valueOf(pulumi.output(d.one(T.secretVersion).inputs.secretString))
    const text = typeof stored === 'string' ? stored : stored.value
    expect(text).not.toMatch(/[\r\n\u2028\u2029]/)
    expect(JSON.parse(text)).toEqual(parse(yamlConfig))
    expect(JSON.parse(text).certificates[0].cert).toContain('MIIB\n')
  })

  test('a configuration given as an Output is converted too', async () => {
    const d = await deploy('edge', { mode: 'dbless', declarativeConfig: pulumi.output(yamlConfig) })
    const stored = await valueOf(pulumi.output(d.one(T.secretVersion).inputs.secretString))
    const text = typeof stored === 'string' ? stored : stored.value
    expect(text).not.toContain('\n')
    expect(JSON.parse(text)).toEqual(parse(yamlConfig))
  })

  const refused: [string, string, RegExp][] = [
    [
      'YAML that does not parse',
      '_format_version: "3.0"\nservices: [\n',
      /is neither YAML nor JSON Kong can read \(\w+ at line \d+, column \d+\)/,
    ],
    [
      'a duplicate key',
      '_format_version: "3.0"\n_format_version: "3.0"\n',
      /is neither YAML nor JSON Kong can read \(DUPLICATE_KEY/,
    ],
    ['a list', '- _format_version: "3.0"\n', /is not a mapping/],
    ['a scalar', 'just text', /is not a mapping/],
    ['no _format_version', 'services: []\n', /has no `_format_version`/],
    [
      'too large once JSON',
      `_format_version: "3.0"\n_comment: ${'x'.repeat(70_000)}\n`,
      /is 700\d\d bytes as JSON; Secrets Manager holds at most 65536.*\/config/,
    ],
  ]
  test.each(refused)('%s is refused before anything is created', async (_, declarativeConfig, message) => {
    const run = await runProgram({}, () => {
      try {
        return new KongGateway('edge', { mode: 'dbless', declarativeConfig })
      } catch (error) {
        return error
      }
    })
    expect(run.result).toBeInstanceOf(KongGatewayArgumentError)
    expect((run.result as Error).message).toMatch(/^KongGateway declarativeConfig: /)
    expect((run.result as Error).message).toMatch(message)
    expect(run.resources).toEqual([])
  })

  test('an error never quotes the configuration, which may hold credentials', async () => {
    const declarativeConfig = '_format_version: "3.0"\nconsumers: [{username: alice, password: hunter2\n'
    expect(() => new KongGateway('edge', { mode: 'dbless', declarativeConfig })).toThrow(
      KongGatewayArgumentError,
    )
    try {
      new KongGateway('edge', { mode: 'dbless', declarativeConfig })
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2')
    }
  })

  test('comments and indentation do not count against the limit: only the JSON is stored', async () => {
    const declarativeConfig = `_format_version: "3.0"\n# ${'x'.repeat(70_000)}\n`
    const d = await deploy('edge', { mode: 'dbless', declarativeConfig })
    expect(d.one(T.secretVersion).inputs.secretString).toEqual(secret('{"_format_version":"3.0"}'))
  })
})

describe('load balancer and target group names fit the 32 characters AWS allows', () => {
  const LONGEST = 'k'.repeat(MAX_NAME_LENGTH)

  test('the longest allowed name yields every load balancer and target group name within 32 characters', async () => {
    expect(MAX_NAME_LENGTH).toBe(18)
    const d = await deploy(LONGEST, { certificateArn: CERTIFICATE })
    const names = [...d.all(T.loadBalancer), ...d.all(T.targetGroup)].map((r) => r.name)
    expect(names.sort()).toEqual([
      `${LONGEST}-admin`,
      `${LONGEST}-admin`,
      `${LONGEST}-proxy`,
      `${LONGEST}-proxy`,
    ])
    const awsNames = await Promise.all(
      [d.gateway.proxyLoadBalancer, d.gateway.adminLoadBalancer!].map((lb) => valueOf(lb.name)),
    )
    for (const name of awsNames) expect(name.length).toBeLessThanOrEqual(32)
    expect(awsNames).toContain(`${LONGEST}-proxy-a1b2c3d`)
  })

  test('one character more is refused with the limit named', async () => {
    await expect(runProgram({}, () => new KongGateway(`${LONGEST}x`, {}))).rejects.toThrow(
      /name: "k{18}x" is 19 characters; use at most 18: load balancer and target group names .* AWS allows 32/,
    )
  })
})

describe('arguments other resources give (Inputs) are used once their values are known', () => {
  test('existing subnets as an Output', async () => {
    const d = await deploy(
      'kong',
      { ...EXISTING_ARGS, privateSubnetIds: pulumi.output(['subnet-priv-a', 'subnet-priv-b']) },
      EXISTING,
    )
    expect(d.one(T.subnetGroup).inputs.subnetIds).toEqual(['subnet-priv-a', 'subnet-priv-b'])
  })

  test('an image known only during the update needs the edition at once', async () => {
    await expect(
      runProgram({}, () => new KongGateway('kong', { kongImage: pulumi.output('kong:3.9.3') })),
    ).rejects.toThrow(/kongImage: is known only during the update \(an Output\): give edition as well/)
    const d = await deploy('kong', { kongImage: pulumi.output('kong:3.9.3'), edition: 'community' })
    expect(d.container('kong').image).toBe('kong:3.9.3')
    expect(await valueOf(d.gateway.kongImage)).toBe('kong:3.9.3')
    // Kong 3.9 answers /status/ready, read from the image once known.
    expect(d.all(T.targetGroup).map((g) => g.inputs.healthCheck.path)).toEqual([
      '/status/ready',
      '/status/ready',
    ])
  })

  test('zones known later: one subnet pair per listed zone', async () => {
    const d = await deploy('kong', {
      availabilityZones: ['eu-west-1a', pulumi.output('eu-west-1b'), 'eu-west-1c'],
    })
    expect(
      d
        .all(T.subnet)
        .map((s) => s.inputs.availabilityZone)
        .sort(),
    ).toEqual(['eu-west-1a', 'eu-west-1a', 'eu-west-1b', 'eu-west-1b', 'eu-west-1c', 'eu-west-1c'])
  })

  test('more than four zones, or one, are refused at once, even when their names are not known yet', async () => {
    const zones = ['a', 'b', 'c', 'd', 'e'].map((zone) => pulumi.output(`eu-west-1${zone}`))
    await expect(runProgram({}, () => new KongGateway('kong', { availabilityZones: zones }))).rejects.toThrow(
      /availabilityZones: names more than four zones/,
    )
    await expect(
      runProgram({}, () => new KongGateway('kong', { availabilityZones: [pulumi.output('eu-west-1a')] })),
    ).rejects.toThrow(/availabilityZones: names only one zone: .* at least two availability zones/)
  })
})

describe('the component type', () => {
  test('is deckhand:index:KongGateway, aliased to the former deckhand:aws:KongGateway, with the caller’s aliases kept', async () => {
    const seen: pulumi.ResourceTransformationArgs[] = []
    const keep: pulumi.ResourceTransformation = (args) => {
      seen.push(args)
      return undefined
    }
    await runProgram(
      {},
      () => new KongGateway('kong', {}, { transformations: [keep], aliases: [{ name: 'old' }] }),
    )
    const gateway = seen.find((args) => args.type === T.gateway)!
    expect(gateway.opts.aliases).toEqual([{ name: 'old' }, { type: 'deckhand:aws:KongGateway' }])
  })

  test('choices are exported with the strings they stand for', () => {
    expect(NatGateways).toEqual({ Single: 'single', PerAz: 'perAz' })
  })
})
