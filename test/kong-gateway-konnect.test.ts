// KongGateway in Konnect mode under Pulumi's mocks: the tasks are data planes of a Kong Konnect control plane, with
// no database, no Admin API and no backup bucket of their own.
import { describe, expect, test } from '@jest/globals'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

import { GatewayMode, type KongGatewayArgs, type KonnectOptions } from '../pulumi/index.js'
import { ROOT } from './support/action.js'
import { byStatus, evaluate } from './support/fsbp.js'
import { deployGateway, refusal, T } from './support/kong-gateway.js'
import { valueOf, type Registered } from './support/pulumi-mocks.js'

const CERT = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kong-dp-cert-AbCdEf'
const KEY = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kong-dp-key-GhIjKl'
const KONNECT: KonnectOptions = {
  controlPlaneEndpoint: '1234abcd56.us.cp0.konghq.com:443',
  telemetryEndpoint: '1234abcd56.us.tp0.konghq.com:443',
  clusterCertificateSecretArn: CERT,
  clusterCertificateKeySecretArn: KEY,
}
const DATA_PLANES: KongGatewayArgs = { mode: GatewayMode.Konnect, konnect: KONNECT }
const deploy = (args: KongGatewayArgs = {}) => deployGateway('kong', { ...DATA_PLANES, ...args })

describe('the tasks run Kong as a Konnect data plane', () => {
  test("Kong's data plane settings, the Admin API off and no database", async () => {
    const d = await deploy()
    const environment = d.environment()
    expect(environment).toMatchObject({
      KONG_ROLE: 'data_plane',
      KONG_DATABASE: 'off',
      KONG_KONNECT_MODE: 'on',
      KONG_CLUSTER_MTLS: 'pki',
      KONG_CLUSTER_CONTROL_PLANE: '1234abcd56.us.cp0.konghq.com:443',
      KONG_CLUSTER_SERVER_NAME: '1234abcd56.us.cp0.konghq.com',
      KONG_CLUSTER_TELEMETRY_ENDPOINT: '1234abcd56.us.tp0.konghq.com:443',
      KONG_CLUSTER_TELEMETRY_SERVER_NAME: '1234abcd56.us.tp0.konghq.com',
      KONG_LUA_SSL_TRUSTED_CERTIFICATE: 'system',
      KONG_VITALS: 'off',
      KONG_ADMIN_LISTEN: 'off',
      KONG_PROXY_LISTEN: '0.0.0.0:8443 ssl',
    })
    const names = Object.keys(environment)
    expect(names.filter((name) => /^KONG_(PG_|ADMIN_(ACCESS|ERROR)_LOG|ENFORCE_RBAC)/.test(name))).toEqual([])
    expect(d.containers().map((c) => c.name)).toEqual(['volume-permissions', 'kong'])
    expect(d.container('kong').portMappings.map((p: { containerPort: number }) => p.containerPort)).toEqual([
      8443, 8100,
    ])
  })

  test('the certificate and key reach Kong as ECS secrets only, never in the environment', async () => {
    const d = await deploy()
    expect(d.secrets()).toEqual({ KONG_CLUSTER_CERT: CERT, KONG_CLUSTER_CERT_KEY: KEY })
    expect(JSON.stringify(d.environment())).not.toContain('secretsmanager')
    // No secret of the component's own: the data plane has no password, token or configuration to store.
    expect(d.all(T.secret)).toEqual([])
  })

  test('only the execution role may read them, with the gateway key or another key through Secrets Manager', async () => {
    const otherKey = 'arn:aws:kms:eu-west-1:123456789012:key/konnect-certs'
    const d = await deploy({ secretsKmsKeyArns: [otherKey] })
    const readers = d.all(T.rolePolicy).filter((p) => p.inputs.policy.includes('secretsmanager:'))
    expect(readers.map((p) => p.name)).toEqual(['kong-read-secrets'])
    // The mocks' id of a resource is its name with `-id`.
    expect(readers[0]!.inputs.role).toBe('kong-execution-id')
    const statements = JSON.parse(readers[0]!.inputs.policy).Statement
    expect(statements).toEqual([
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: [CERT, KEY] },
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: expect.stringMatching(/^arn:aws:kms:.*kong-key/) },
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: [otherKey],
        Condition: { StringEquals: { 'kms:ViaService': ['secretsmanager.eu-west-1.amazonaws.com'] } },
      },
    ])
  })
})

describe('a data plane fleet has no database, Admin API or backup bucket', () => {
  test('one load balancer for the proxy, no admin load balancer, listener, target group or security group', async () => {
    const d = await deploy()
    expect(d.all(T.db)).toEqual([])
    expect(d.all(T.loadBalancer).map((r) => r.name)).toEqual(['kong-proxy'])
    expect(d.all(T.targetGroup).map((r) => r.name)).toEqual(['kong-proxy'])
    expect(
      d
        .all(T.listener)
        .map((r) => r.name)
        .sort(),
    ).toEqual(['kong-proxy-http', 'kong-proxy-https'])
    expect(
      d
        .all(T.securityGroup)
        .map((r) => r.name)
        .sort(),
    ).toEqual(['kong-kong', 'kong-proxy-lb'])
    const ports = [...d.all(T.ingress), ...d.all(T.egress)].map((r) => r.inputs.fromPort)
    expect(ports).not.toContain(8444)
    const service = d.one(T.service).inputs
    expect(service.loadBalancers).toEqual([
      expect.objectContaining({ containerName: 'kong', containerPort: 8443 }),
    ])
    expect(d.gateway.adminLoadBalancer).toBeUndefined()
    expect(d.gateway.database).toBeUndefined()
  })

  test('no backup bucket by default; one when asked for', async () => {
    expect((await deploy()).all(T.bucket).map((b) => b.name)).toEqual(['kong-logs'])
    const asked = await deploy({ backupBucket: { enabled: true, expireAfterDays: 30 } })
    expect(asked.all(T.bucket).map((b) => b.name)).toEqual(['kong-logs', 'kong-backups'])
    expect(await valueOf(asked.gateway.backupStore)).toMatch(/^s3:\/\/kong-backups.*\/kong$/)
  })

  test('the outputs a data plane user needs; the admin and database ones are undefined', async () => {
    const d = await deploy()
    const gateway = d.gateway
    expect(await valueOf(gateway.proxyUrl)).toMatch(/^https:\/\/kong-proxy/)
    expect(await valueOf(gateway.certificatePem)).toContain('BEGIN CERTIFICATE')
    expect(await valueOf(gateway.serviceName)).toBeDefined()
    expect(await valueOf(gateway.taskSecurityGroupId)).toBeDefined()
    for (const output of [
      gateway.adminUrl,
      gateway.adminTokenSecretArn,
      gateway.databaseEndpoint,
      gateway.databasePasswordSecretArn,
      gateway.declarativeConfigSecretArn,
      gateway.backupStore,
    ]) {
      expect(await valueOf(output)).toBeUndefined()
    }
  })

  test('the generated certificate names the proxy load balancer alone', async () => {
    const d = await deploy()
    expect(d.one(T.certificate).inputs.dnsNames).toEqual(['kong-proxy.eu-west-1.elb.amazonaws.com'])
  })

  test('the tasks may reach Konnect on 443, and are checked on /status whatever the control plane holds', async () => {
    const d = await deploy()
    const egress = d
      .all(T.egress)
      .filter((rule: Registered) => rule.inputs.securityGroupId === 'kong-kong-id')
    expect(egress).toEqual([
      expect.objectContaining({
        inputs: expect.objectContaining({
          ipProtocol: '-1',
          cidrIpv4: '0.0.0.0/0',
          description: expect.stringContaining('Konnect control plane and telemetry'),
        }),
      }),
    ])
    expect(d.one(T.targetGroup).inputs.healthCheck.path).toBe('/status')
  })
})

describe('bad combinations are refused before anything registers', () => {
  test.each([
    [{ mode: 'konnect' }, 'KongGateway konnect: is missing: mode "konnect" needs the control plane endpoint'],
    [{ konnect: KONNECT }, 'KongGateway konnect: is for mode: "konnect" (the mode is "database")'],
    [
      { mode: 'dbless', konnect: KONNECT },
      'KongGateway konnect: is for mode: "konnect" (the mode is "dbless")',
    ],
    [
      { ...DATA_PLANES, database: { multiAz: false } },
      'KongGateway database: does not apply in Konnect mode: Konnect keeps the configuration',
    ],
    [
      { ...DATA_PLANES, restoreFromSnapshot: 'kong-nightly-2026-11-20' },
      'KongGateway restoreFromSnapshot: does not apply in Konnect mode',
    ],
    [
      {
        ...DATA_PLANES,
        restoreToPointInTime: { sourceDbInstanceIdentifier: 'kong-db', useLatestRestorableTime: true },
      },
      'KongGateway restoreToPointInTime: does not apply in Konnect mode',
    ],
    [
      { ...DATA_PLANES, migrationsFinish: false },
      'KongGateway migrationsFinish: does not apply in Konnect mode',
    ],
    [
      { ...DATA_PLANES, declarativeConfig: '_format_version: "3.0"\n' },
      'KongGateway declarativeConfig: does not apply in Konnect mode: data planes get their configuration from',
    ],
    [
      { ...DATA_PLANES, adminAllowedCidrs: ['203.0.113.0/24'] },
      'KongGateway adminAllowedCidrs: does not apply in Konnect mode: data planes have no Admin API',
    ],
    [
      {
        ...DATA_PLANES,
        licenseSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kong-license-AbCdEf',
      },
      'KongGateway licenseSecretArn: does not apply in Konnect mode: Konnect gives its data planes their licence',
    ],
    [
      { ...DATA_PLANES, kongImage: 'kong:3.9' },
      'KongGateway kongImage: is the open-source image, and Konnect gives no traffic to open-source data planes',
    ],
    [
      { ...DATA_PLANES, kongImage: 'kong/kong-gateway:3.0.1.0' },
      'KongGateway kongImage: kong/kong-gateway:3.0.1.0 is older than Kong 3.1',
    ],
    [
      {
        ...DATA_PLANES,
        konnect: { ...KONNECT, controlPlaneEndpoint: 'https://1234abcd56.us.cp0.konghq.com' },
      },
      'KongGateway konnect.controlPlaneEndpoint: "https://1234abcd56.us.cp0.konghq.com" is not host:port as ' +
        'Konnect shows it, such as 1234abcd56.us.cp0.konghq.com:443: leave out "https://" and give the port',
    ],
    [
      { ...DATA_PLANES, konnect: { ...KONNECT, telemetryEndpoint: '1234abcd56.us.tp0.konghq.com' } },
      'KongGateway konnect.telemetryEndpoint: "1234abcd56.us.tp0.konghq.com" is not host:port',
    ],
    [
      { ...DATA_PLANES, konnect: { ...KONNECT, telemetryEndpoint: 'tp.konghq.com:70000' } },
      'KongGateway konnect.telemetryEndpoint: "tp.konghq.com:70000" is not host:port',
    ],
    [
      { ...DATA_PLANES, konnect: { ...KONNECT, clusterCertificateKeySecretArn: undefined } },
      'KongGateway konnect.clusterCertificateKeySecretArn: is missing: the Secrets Manager ARN of the data plane ' +
        'private key (PEM)',
    ],
    [
      {
        ...DATA_PLANES,
        konnect: {
          ...KONNECT,
          clusterCertificateSecretArn: 'arn:aws:ssm:eu-west-1:123456789012:parameter/cert',
        },
      },
      'KongGateway konnect.clusterCertificateSecretArn: "arn:aws:ssm:eu-west-1:123456789012:parameter/cert" is not ' +
        'an ARN of the right kind',
    ],
    [
      { ...DATA_PLANES, kongEnvironment: { KONG_CLUSTER_CONTROL_PLANE: 'elsewhere:443' } },
      'KongGateway kongEnvironment.KONG_CLUSTER_CONTROL_PLANE: is set by the component itself',
    ],
    [
      { ...DATA_PLANES, kongSecrets: { KONG_CLUSTER_CERT: CERT } },
      'KongGateway kongSecrets.KONG_CLUSTER_CERT: is set by the component itself',
    ],
    [
      { ...DATA_PLANES, backupBucket: { expireAfterDays: 30 } },
      'KongGateway backupBucket: is off in Konnect mode, so expireAfterDays would not apply; add enabled: true',
    ],
    [
      { ...DATA_PLANES, disasterRecovery: { region: 'us-east-1' } },
      'KongGateway disasterRecovery: has nothing to copy: a gateway without a database (DB-less or Konnect)',
    ],
  ] as [KongGatewayArgs, string][])('%j', async (args, message) => {
    expect(await refusal(args)).toContain(message)
  })

  test('the cluster settings stay open to callers in the other modes', async () => {
    const d = await deployGateway('kong', { kongEnvironment: { KONG_LUA_SSL_TRUSTED_CERTIFICATE: 'system' } })
    expect(d.environment().KONG_LUA_SSL_TRUSTED_CERTIFICATE).toBe('system')
  })
})

describe('FSBP controls', () => {
  test('every applicable control passes but the accepted two; the database ones do not apply', async () => {
    const d = await deploy()
    const results = evaluate(d.resources)
    expect(
      byStatus(results, 'fail')
        .map((r) => r.id)
        .sort(),
    ).toEqual(['EC2.21', 'ECS.20'])
    const notApplicable = byStatus(results, 'not-applicable').map((r) => r.id)
    // Every database control: there is no database.
    const database = results.map((r) => r.id).filter((id) => id.startsWith('RDS.'))
    expect(notApplicable.filter((id) => id.startsWith('RDS.'))).toEqual(database)
    expect(notApplicable.filter((id) => !id.startsWith('RDS.')).sort()).toEqual(
      [
        'ACM.2',
        'ECS.16',
        'ELB.8',
        // The backup bucket's logging and lifecycle: there is none; the log bucket's are documented exceptions.
        'S3.9',
        'S3.17',
        'SecretsManager.1',
        'SecretsManager.2',
        'SecretsManager.3',
        'SecretsManager.4',
      ].sort(),
    )
  })
})

describe('the package schema', () => {
  test('offers the mode and its options to other languages', async () => {
    const schema = JSON.parse(await readFile(join(ROOT, 'pulumi', 'schema.json'), 'utf8'))
    const modes = schema.types['deckhand:index:GatewayMode'].enum.map((e: { value: string }) => e.value)
    expect(modes).toContain('konnect')
    const options = schema.types['deckhand:index:KonnectOptions']
    expect(options.required.sort()).toEqual([
      'clusterCertificateKeySecretArn',
      'clusterCertificateSecretArn',
      'controlPlaneEndpoint',
      'telemetryEndpoint',
    ])
    const konnect = schema.resources['deckhand:index:KongGateway'].inputProperties.konnect
    expect(konnect.$ref).toBe('#/types/deckhand:index:KonnectOptions')
    expect(schema.resources['deckhand:index:KongGateway'].required).not.toContain('adminUrl')
  })
})
