// Every type here becomes part of the package schema that Pulumi's analyzer reads from this source for other
// languages: no union types, so choices are `as const` objects (the analyzer's enums; plain strings still type-check).
import type * as pulumi from '@pulumi/pulumi'

import type { KongEdition } from './kong-image.js'

/** NAT gateways of a created VPC. */
export const NatGateways = {
  /** One NAT gateway: cheaper, but private subnets lose the internet if its zone fails. */
  Single: 'single',
  /** One per zone: survives a zone outage. */
  PerAz: 'perAz',
} as const
export type NatGateways = (typeof NatGateways)[keyof typeof NatGateways]

/** Where Kong keeps its configuration. */
export const GatewayMode = {
  /** PostgreSQL on RDS. */
  Database: 'database',
  /** No database: the configuration comes from `declarativeConfig`. */
  Dbless: 'dbless',
  /** Kong Konnect is the control plane: the tasks are its data planes, configured from Konnect (`konnect`). */
  Konnect: 'konnect',
} as const
export type GatewayMode = (typeof GatewayMode)[keyof typeof GatewayMode]

/** CPU architecture of the Kong tasks (Kong images are multi-architecture). */
export const CpuArchitecture = {
  X86_64: 'X86_64',
  /** Graviton. */
  ARM64: 'ARM64',
} as const
export type CpuArchitecture = (typeof CpuArchitecture)[keyof typeof CpuArchitecture]

/** S3 Object Lock retention mode. */
export const ObjectLockMode = {
  /** Users with s3:BypassGovernanceRetention may still delete versions. */
  Governance: 'GOVERNANCE',
  /** Nobody can delete a version before its retention ends, not even the account root. */
  Compliance: 'COMPLIANCE',
} as const
export type ObjectLockMode = (typeof ObjectLockMode)[keyof typeof ObjectLockMode]

/**
 * S3 Object Lock default retention: versions cannot be deleted or overwritten for `days`, not even by the account
 * root in COMPLIANCE mode. Can only be chosen when the bucket is created.
 */
export interface ObjectLock {
  mode: ObjectLockMode
  /** Days each version is locked (1 to 36500). */
  days: number
}

/** Database sizing and protection. Every field has a production default. */
export interface DatabaseOptions {
  /** RDS instance class. Default `db.t4g.medium`. */
  instanceClass?: pulumi.Input<string>
  /** Initial storage in GiB (gp3). Default 20. */
  allocatedStorage?: number
  /** Storage autoscaling ceiling in GiB. Default 100; equal to `allocatedStorage` turns autoscaling off. */
  maxAllocatedStorage?: number
  /** PostgreSQL version, major or major.minor. Default `16`; on a restore, the snapshot's version unless set. */
  engineVersion?: string
  /** A standby in a second zone. Default true. */
  multiAz?: boolean
  /** Days of automated backups, which bound point-in-time recovery. Default 14 (1 to 35). */
  backupRetentionDays?: number
  /** Default true: the instance cannot be deleted until this is turned off. */
  deletionProtection?: boolean
  /** Default false: deleting the instance first takes a final snapshot. */
  skipFinalSnapshot?: boolean
  /**
   * Kong's database role. A new database: its master user, default `kong`. A restore keeps the source's master
   * user; by default Kong connects as it, or as the role named here, with `passwordSecretArn`.
   */
  username?: string
  /**
   * Kong's database. A new database: its initial database, default `kong`. A restore keeps the source's databases;
   * by default Kong uses its initial one, or the one named here.
   */
  databaseName?: string
  /**
   * On a restore where Kong's role (`username`) is not the master user: the Secrets Manager ARN of that role's
   * password (`…:secret:name-AbCdEf`, or `…:secret:name-AbCdEf:password::` for a JSON key). The component resets
   * only the master user's password. A key of the secret other than the gateway's goes in `secretsKmsKeyArns`.
   */
  passwordSecretArn?: pulumi.Input<string>
}

/** Point-in-time recovery of an RDS instance (`aws.rds.Instance.restoreToPointInTime`). */
export interface PointInTimeRestore {
  /** Identifier of the instance to restore from (one of the three sources). */
  sourceDbInstanceIdentifier?: pulumi.Input<string>
  /** ARN of retained automated backups, for an instance that no longer exists. */
  sourceDbInstanceAutomatedBackupsArn?: pulumi.Input<string>
  /** Resource id (`db-…`) of the source instance. */
  sourceDbiResourceId?: pulumi.Input<string>
  /** UTC time to restore to, ISO 8601 (`2026-11-20T23:00:00Z`). Exactly one of this and useLatestRestorableTime. */
  restoreTime?: string
  /** Restore to the latest restorable time. */
  useLatestRestorableTime?: boolean
}

/** The backup bucket and its retention. */
export interface BackupBucketOptions {
  /** Default true (false in Konnect mode); false for no bucket. */
  enabled?: boolean
  /** Days after which a backup object expires (becomes a noncurrent version). Default 365. */
  expireAfterDays?: number
  /** Days a noncurrent version is kept before it is deleted. Default 90. */
  noncurrentVersionDays?: number
  /** Object Lock default retention of a new bucket. */
  objectLock?: ObjectLock
}

/** Where and how long the gateway's backups are copied for a cross-region recovery. */
export interface DisasterRecoveryOptions {
  /** The second region (`us-east-1`); not the gateway's. */
  region: string
  /** Days the replicated automated backups are kept there (1 to 35). Default: `database.backupRetentionDays`. */
  backupRetentionDays?: number
  /** A KMS key in that region for the copies. Default: a new key with rotation, kept on delete. */
  kmsKeyArn?: pulumi.Input<string>
}

/**
 * A Kong Konnect control plane and the certificate its data planes present. Konnect shows the endpoints and
 * generates the certificate under "Add Data Plane Node" on the control plane's page.
 */
export interface KonnectOptions {
  /** The control plane endpoint, `host:port` as Konnect shows it (`1234abcd56.us.cp0.konghq.com:443`). */
  controlPlaneEndpoint: string
  /** The telemetry endpoint, `host:port` (`1234abcd56.us.tp0.konghq.com:443`). */
  telemetryEndpoint: string
  /** Secrets Manager ARN of the data plane certificate (PEM) registered with the control plane. */
  clusterCertificateSecretArn: pulumi.Input<string>
  /** Secrets Manager ARN of that certificate's private key (PEM). */
  clusterCertificateKeySecretArn: pulumi.Input<string>
}

export interface KongGatewayArgs {
  /** AWS region of every regional resource. Default: the provider's region. Set it to rebuild in another region. */
  region?: pulumi.Input<string>
  /** Tags added to every resource that takes tags. */
  tags?: Record<string, string>

  /** An existing VPC. With it, give `publicSubnetIds` and `privateSubnetIds`; without it, a VPC is created. */
  vpcId?: pulumi.Input<string>
  /** Subnets for the internet-facing load balancers, in at least two availability zones. */
  publicSubnetIds?: pulumi.Input<pulumi.Input<string>[]>
  /** Subnets for the Kong tasks, the database and internal load balancers, in at least two availability zones. */
  privateSubnetIds?: pulumi.Input<pulumi.Input<string>[]>
  /** CIDR block of a created VPC. Default `10.42.0.0/16`. Plain: the subnets' blocks are computed from it. */
  vpcCidrBlock?: string
  /**
   * Two to four zones for a created VPC. Default: the region's first two available zones. The list is plain (each
   * zone gets its subnets), its names may come from other resources.
   */
  availabilityZones?: pulumi.Input<string>[]
  /** NAT gateways of a created VPC: `single` (default, cheaper) or `perAz` (survives a zone outage). */
  natGateways?: NatGateways

  /**
   * Kong image with a version tag. Default `kong/kong-gateway:3.10`, the current LTS line. When it is only known
   * during the update (another resource's output), give `edition` as well.
   */
  kongImage?: pulumi.Input<string>
  /** Edition of the image, when its repository name does not tell (`kong-gateway` is Enterprise). */
  edition?: KongEdition
  /**
   * `database` (default): PostgreSQL on RDS. `dbless`: no database, configuration from `declarativeConfig`.
   * `konnect`: data planes of a Kong Konnect control plane (`konnect`), with no database and no Admin API.
   */
  mode?: GatewayMode
  /** Konnect mode: the control plane the data planes join, and their certificate. */
  konnect?: KonnectOptions
  /**
   * DB-less mode: the declarative configuration (YAML or JSON) Kong loads at start. Stored in Secrets Manager and
   * passed as an ECS secret, so it may hold credentials; at most 64 KiB. Without it Kong starts empty.
   */
  declarativeConfig?: pulumi.Input<string>
  /** More `KONG_*` settings for the Kong containers. Secrets do not belong here: see `kongSecrets`. */
  kongEnvironment?: Record<string, pulumi.Input<string>>
  /** `KONG_*` settings taken from Secrets Manager or SSM Parameter Store: variable name → secret or parameter ARN. */
  kongSecrets?: Record<string, pulumi.Input<string>>
  /** Secrets Manager ARN of a Kong Enterprise licence. With it, RBAC is enforced on the Admin API. */
  licenseSecretArn?: pulumi.Input<string>
  /**
   * Customer managed KMS keys (key ARNs) of secrets in `kongSecrets` or `licenseSecretArn` that are not under the
   * gateway's key. The execution role may decrypt with them only through Secrets Manager.
   */
  secretsKmsKeyArns?: pulumi.Input<pulumi.Input<string>[]>
  /**
   * On a restore with Kong Enterprise: the Secrets Manager ARN of the restored database's admin token (the old
   * cluster's super admin RBAC token), published as the `adminTokenSecretArn` output. Kong seeds a token only when
   * it bootstraps an empty database, so a restore generates none.
   */
  adminTokenSecretArn?: pulumi.Input<string>
  /** Kong tasks. Default 2. */
  desiredCount?: number
  /** Task CPU units. Default 1024. */
  cpu?: number
  /** Task memory in MiB. Default 2048. */
  memory?: number
  /** Default `X86_64`; `ARM64` runs on Graviton (Kong images are multi-architecture). */
  cpuArchitecture?: CpuArchitecture
  /**
   * Default true: each task runs `kong migrations bootstrap`, `up` and `finish` before Kong starts. Turn off
   * during a rolling upgrade inside one cluster, where `finish` must wait until no old Kong uses the database.
   */
  migrationsFinish?: boolean
  /** Days the CloudWatch logs (Kong, VPC flow logs) are kept. Default 365. */
  logRetentionDays?: number
  /** Days after which load balancer and bucket access logs expire from the log bucket. Default 365. */
  logBucketExpireAfterDays?: number
  /** Default true: `pulumi up` returns once the Kong service is healthy, so a restore can follow at once. */
  waitForSteadyState?: boolean

  /**
   * ACM certificate for HTTPS on the proxy (443, with 80 redirected) and the Admin API (8444). Default: a generated
   * self-signed certificate for both load balancers' DNS names, published as the `certificatePem` output.
   */
  certificateArn?: pulumi.Input<string>
  /** Default true: the load balancers cannot be deleted until this is turned off (for throwaway stacks). */
  loadBalancerDeletionProtection?: boolean
  /** Who may reach the proxy. Default `0.0.0.0/0`. Plain: each block is a security group rule of its own. */
  proxyAllowedCidrs?: string[]
  /**
   * Who may reach the Admin API from outside the VPC, over TLS. Default: nobody; the
   * Admin API load balancer is internal and answers only inside the VPC.
   */
  adminAllowedCidrs?: string[]
  /**
   * Lets `adminAllowedCidrs` contain 0.0.0.0/0 or ::/0. Only with Kong Enterprise and a licence, so that RBAC
   * tokens guard the Admin API; refused otherwise, as Kong's Admin API has no authentication of its own.
   */
  allowAdminFromAnywhere?: boolean

  /** Database sizing and protection (database mode). */
  database?: DatabaseOptions
  /**
   * Create the database from this RDS snapshot (identifier or ARN, also of another region), restored from a copy
   * encrypted with the gateway's key. Used at creation only.
   */
  restoreFromSnapshot?: pulumi.Input<string>
  /** Create the database as a point-in-time copy of another instance. Used at creation only. */
  restoreToPointInTime?: PointInTimeRestore

  /** A KMS key for the database, secrets, logs and backups. Default: a new key with rotation, kept on delete. */
  kmsKeyArn?: pulumi.Input<string>
  /**
   * The backup bucket: default on; `{ enabled: false }` for none. In Konnect mode default off (Konnect keeps the
   * configuration); `{ enabled: true }` for one.
   */
  backupBucket?: BackupBucketOptions
  /**
   * Copies in a second region, for losing the gateway's region: the database's automated backups (point-in-time
   * restore there) and the backup bucket's objects.
   */
  disasterRecovery?: DisasterRecoveryOptions
}
