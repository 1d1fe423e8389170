import type * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'

import type { KongGatewayArgs } from './args.js'
import { backupBucket } from './backup-bucket.js'
import type { KongConnection } from './containers.js'
import { gatewayDatabase } from './database.js'
import { disasterRecovery } from './disaster-recovery.js'
import { monitoringRole } from './database-monitoring.js'
import { account, encryptionKey } from './encryption.js'
import { firewall } from './firewall.js'
import { vpcFlowLogs } from './flow-logs.js'
import { loadBalancers } from './load-balancers.js'
import { kongLogin } from './restore-role.js'
import { LOG_PREFIXES, logBucket } from './log-bucket.js'
import { gatewayNetwork } from './network.js'
import { generatedSecret, storedSecret, type StoredSecret } from './secrets.js'
import { kongService } from './service.js'
import { settings as checkedSettings, declarativeConfigJson } from './settings.js'

export { DECLARATIVE_CONFIG_LIMIT } from './settings.js'

/**
 * A Kong gateway on AWS, secure by default: Kong on ECS Fargate behind an application load balancer, PostgreSQL
 * on RDS (or DB-less, or data planes of a Kong Konnect control plane), the Admin API reachable only inside the VPC
 * unless listed addresses are allowed over TLS, secrets in Secrets Manager, and a bucket for backups. Built empty,
 * or from a database snapshot, for disaster recovery and for the new cluster of a dual-cluster upgrade.
 */
export class KongGateway extends pulumi.ComponentResource {
  /** The proxy's URL (https). */
  readonly proxyUrl: pulumi.Output<string>
  /** The Admin API's URL: inside the VPC unless adminAllowedCidrs are given; undefined in Konnect mode. */
  readonly adminUrl: pulumi.Output<string | undefined>
  /** `host:port` of the database; undefined in DB-less and Konnect modes. */
  readonly databaseEndpoint: pulumi.Output<string | undefined>
  /** RDS identifier of the database: the source of a later point-in-time restore. */
  readonly databaseInstanceIdentifier: pulumi.Output<string | undefined>
  /** Secrets Manager ARN of the master user's password (Kong's, unless `database.passwordSecretArn` names another). */
  readonly databasePasswordSecretArn: pulumi.Output<string | undefined>
  /** Secrets Manager ARN of the admin token (Kong Enterprise: the super admin's RBAC token). */
  readonly adminTokenSecretArn: pulumi.Output<string | undefined>
  /** Secrets Manager ARN of the declarative configuration (DB-less mode). */
  readonly declarativeConfigSecretArn: pulumi.Output<string | undefined>
  /** The bucket for the backup actions. */
  readonly backupBucketName: pulumi.Output<string | undefined>
  readonly backupBucketArn: pulumi.Output<string | undefined>
  /** The bucket as deckhand's `store` input: s3://<bucket>/kong (db-dump, files-backup and dump write there). */
  readonly backupStore: pulumi.Output<string | undefined>
  readonly clusterName: pulumi.Output<string>
  readonly serviceName: pulumi.Output<string>
  readonly logGroupName: pulumi.Output<string>
  readonly vpcId: pulumi.Output<string>
  /** ARN of the automated backups replicated to `disasterRecovery.region`: a restoreToPointInTime source there. */
  readonly disasterRecoveryAutomatedBackupsArn: pulumi.Output<string | undefined>
  /** The backup bucket's replica in `disasterRecovery.region`, and its `store` (s3://<bucket>/kong). */
  readonly disasterRecoveryBucketName: pulumi.Output<string | undefined>
  readonly disasterRecoveryBackupStore: pulumi.Output<string | undefined>
  /** The key of the copies in `disasterRecovery.region`. */
  readonly disasterRecoveryKmsKeyArn: pulumi.Output<string | undefined>
  /** The generated certificate both load balancers present (PEM), for clients to trust; undefined with certificateArn. */
  readonly certificatePem: pulumi.Output<string | undefined>
  /** The bucket of the load balancers' access logs and the backup bucket's server access logs. */
  readonly logBucketName: pulumi.Output<string>
  /** The key of the database, secrets, logs and backups. */
  readonly kmsKeyArn: pulumi.Output<string>
  /** The role of the Kong containers, for callers that grant Kong AWS permissions. */
  readonly taskRoleArn: pulumi.Output<string>
  /** The Kong tasks' security group, for callers that let Kong reach more (an upstream's group, say). */
  readonly taskSecurityGroupId: pulumi.Output<string>
  /** The Kong image the tasks run. */
  readonly kongImage: pulumi.Output<string>

  /** Children that callers commonly extend (alarms, DNS records, WAF). */
  readonly database?: aws.rds.Instance
  readonly service: aws.ecs.Service
  readonly proxyLoadBalancer: aws.lb.LoadBalancer
  /** Undefined in Konnect mode: data planes have no Admin API. */
  readonly adminLoadBalancer?: aws.lb.LoadBalancer
  readonly backupBucket?: aws.s3.Bucket

  constructor(name: string, args: KongGatewayArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    // Arguments are checked before anything registers: a mistake stops the preview, not a half-done update.
    const settings = checkedSettings(name, args)
    // `index` is the module Pulumi's component provider host serves (ComponentProvider.validateResourceType). The
    // old type stays an alias, so stacks made before keep the gateway, and every child too: the engine adds each
    // parent alias to its children (pulumi/pulumi pkg/resource/deploy/step_generator.go, generateAliases), as the
    // SDK does for engines without alias specs (sdk/nodejs/resource.ts, allAliases).
    super(
      'deckhand:index:KongGateway',
      name,
      {},
      pulumi.mergeOptions(opts, { aliases: [{ type: 'deckhand:aws:KongGateway' }] }),
    )

    const awsAccount = account(settings, this)
    const kmsKeyArn = encryptionKey(settings, awsAccount, this)
    const network = gatewayNetwork(settings, this)
    const groups = firewall(settings, network, this)
    if (network.created) vpcFlowLogs(settings, network.vpcId, awsAccount, kmsKeyArn, this)
    const logs = logBucket(settings, awsAccount, this)

    const storedSecrets: Record<string, StoredSecret> = {}
    const database = settings.database
      ? gatewayDatabase(
          settings.database,
          settings,
          network,
          groups.database!.id,
          kmsKeyArn,
          this,
          monitoringRole(settings, awsAccount, this).arn,
        )
      : undefined
    const login = database ? kongLogin(database, settings.database!.restoredLogin) : undefined
    // Kong's own role on a restore has the caller's password; otherwise Kong is the master user.
    if (database && login?.passwordSecretArn === undefined) storedSecrets.KONG_PG_PASSWORD = database.password
    // Enterprise seeds its super admin with KONG_PASSWORD at bootstrap, which a restored database has had already.
    if (database && settings.generateAdminToken) {
      storedSecrets.KONG_PASSWORD = generatedSecret(
        `${name}-admin-token`,
        `Kong Admin API token (super admin) of ${name}`,
        settings,
        kmsKeyArn,
        this,
      )
    }
    if (settings.declarativeConfig !== undefined) {
      const config = pulumi.output(settings.declarativeConfig).apply(declarativeConfigJson)
      storedSecrets.KONG_DECLARATIVE_CONFIG_STRING = storedSecret(
        `${name}-declarative-config`,
        `Kong declarative configuration of ${name}`,
        config,
        settings,
        kmsKeyArn,
        this,
      )
    }

    const balancers = loadBalancers(settings, network, groups, logs, this)
    const connection: pulumi.Output<KongConnection> = pulumi
      .all([
        network.vpcCidrBlock,
        database?.instance.address,
        database?.instance.port,
        login?.username,
        login?.databaseName,
      ])
      .apply(([trustedIps, host, port, user, databaseName]) => ({
        trustedIps,
        enforceRbac: settings.enforceRbac,
        ...(settings.konnect
          ? {
              konnect: { controlPlane: settings.konnect.controlPlane, telemetry: settings.konnect.telemetry },
            }
          : {}),
        ...(host !== undefined ? { database: { host, port: port!, user: user!, name: databaseName! } } : {}),
      }))
    const kong = kongService(
      login?.passwordSecretArn !== undefined
        ? { ...settings, kongSecrets: { ...settings.kongSecrets, KONG_PG_PASSWORD: login.passwordSecretArn } }
        : settings,
      {
        account: awsAccount,
        kmsKeyArn,
        privateSubnetIds: network.privateSubnetIds,
        securityGroupId: groups.tasks.id,
        loadBalancers: balancers,
        connection,
        storedSecrets,
      },
      this,
    )
    const backups = settings.backupBucket
      ? backupBucket(settings.backupBucket, settings, kmsKeyArn, this, {
          bucket: logs.bucket.bucket,
          prefix: LOG_PREFIXES.backupBucket,
        })
      : undefined
    const bucket = backups?.bucket
    const dr = settings.disasterRecovery
      ? disasterRecovery(
          settings.disasterRecovery,
          settings,
          awsAccount,
          {
            ...(database ? { database: database.instance } : {}),
            ...(backups ? { backups } : {}),
            kmsKeyArn,
          },
          this,
        )
      : undefined

    const none = pulumi.output<string | undefined>(undefined)
    this.proxyUrl = balancers.proxyUrl
    this.adminUrl = balancers.adminUrl
    this.databaseEndpoint = database ? database.instance.endpoint : none
    this.databaseInstanceIdentifier = database ? database.instance.identifier : none
    this.databasePasswordSecretArn = database?.password.arn ?? none
    this.adminTokenSecretArn =
      storedSecrets.KONG_PASSWORD?.arn ??
      (settings.adminTokenSecretArn !== undefined ? pulumi.output(settings.adminTokenSecretArn) : none)
    const restoredEnterprise =
      database && settings.image.edition === 'enterprise' && !settings.generateAdminToken
    if (restoredEnterprise && settings.adminTokenSecretArn === undefined) {
      pulumi.log.warn(
        'adminTokenSecretArn is undefined: a restored database keeps the admin token it had, which this ' +
          "component cannot know; give the old cluster's token secret as the adminTokenSecretArn argument",
        this,
      )
    }
    this.declarativeConfigSecretArn = storedSecrets.KONG_DECLARATIVE_CONFIG_STRING?.arn ?? none
    this.backupBucketName = bucket ? bucket.bucket : none
    this.backupBucketArn = bucket ? bucket.arn : none
    this.backupStore = bucket ? pulumi.interpolate`s3://${bucket.bucket}/kong` : none
    this.disasterRecoveryAutomatedBackupsArn = dr?.automatedBackups?.id ?? none
    this.disasterRecoveryBucketName = dr?.bucket?.bucket ?? none
    this.disasterRecoveryBackupStore = dr?.bucket ? pulumi.interpolate`s3://${dr.bucket.bucket}/kong` : none
    this.disasterRecoveryKmsKeyArn = dr?.kmsKeyArn ?? none
    this.clusterName = kong.cluster.name
    this.serviceName = kong.service.name
    this.logGroupName = kong.logGroup.name
    this.vpcId = network.vpcId
    this.certificatePem = balancers.certificatePem
    this.logBucketName = logs.bucket.bucket
    this.kmsKeyArn = kmsKeyArn
    this.taskRoleArn = kong.taskRole.arn
    this.taskSecurityGroupId = groups.tasks.id
    this.kongImage = pulumi.output(settings.image.parsed).apply((image) => image.reference)
    this.database = database?.instance
    this.service = kong.service
    this.proxyLoadBalancer = balancers.proxy
    this.adminLoadBalancer = balancers.admin
    this.backupBucket = bucket

    this.registerOutputs({
      proxyUrl: this.proxyUrl,
      adminUrl: this.adminUrl,
      databaseEndpoint: this.databaseEndpoint,
      databaseInstanceIdentifier: this.databaseInstanceIdentifier,
      databasePasswordSecretArn: this.databasePasswordSecretArn,
      adminTokenSecretArn: this.adminTokenSecretArn,
      declarativeConfigSecretArn: this.declarativeConfigSecretArn,
      backupBucketName: this.backupBucketName,
      backupBucketArn: this.backupBucketArn,
      backupStore: this.backupStore,
      disasterRecoveryAutomatedBackupsArn: this.disasterRecoveryAutomatedBackupsArn,
      disasterRecoveryBucketName: this.disasterRecoveryBucketName,
      disasterRecoveryBackupStore: this.disasterRecoveryBackupStore,
      disasterRecoveryKmsKeyArn: this.disasterRecoveryKmsKeyArn,
      clusterName: this.clusterName,
      serviceName: this.serviceName,
      logGroupName: this.logGroupName,
      vpcId: this.vpcId,
      certificatePem: this.certificatePem,
      logBucketName: this.logBucketName,
      kmsKeyArn: this.kmsKeyArn,
      taskRoleArn: this.taskRoleArn,
      taskSecurityGroupId: this.taskSecurityGroupId,
      kongImage: this.kongImage,
    })
  }
}
