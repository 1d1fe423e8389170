import type * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { KongGatewayArgs } from './args.js';
export { DECLARATIVE_CONFIG_LIMIT } from './settings.js';
/**
 * A Kong gateway on AWS, secure by default: Kong on ECS Fargate behind an application load balancer, PostgreSQL
 * on RDS (or DB-less, or data planes of a Kong Konnect control plane), the Admin API reachable only inside the VPC
 * unless listed addresses are allowed over TLS, secrets in Secrets Manager, and a bucket for backups. Built empty,
 * or from a database snapshot, for disaster recovery and for the new cluster of a dual-cluster upgrade.
 */
export declare class KongGateway extends pulumi.ComponentResource {
    /** The proxy's URL (https). */
    readonly proxyUrl: pulumi.Output<string>;
    /** The Admin API's URL: inside the VPC unless adminAllowedCidrs are given; undefined in Konnect mode. */
    readonly adminUrl: pulumi.Output<string | undefined>;
    /** `host:port` of the database; undefined in DB-less and Konnect modes. */
    readonly databaseEndpoint: pulumi.Output<string | undefined>;
    /** RDS identifier of the database: the source of a later point-in-time restore. */
    readonly databaseInstanceIdentifier: pulumi.Output<string | undefined>;
    /** Secrets Manager ARN of the master user's password (Kong's, unless `database.passwordSecretArn` names another). */
    readonly databasePasswordSecretArn: pulumi.Output<string | undefined>;
    /** Secrets Manager ARN of the admin token (Kong Enterprise: the super admin's RBAC token). */
    readonly adminTokenSecretArn: pulumi.Output<string | undefined>;
    /** Secrets Manager ARN of the declarative configuration (DB-less mode). */
    readonly declarativeConfigSecretArn: pulumi.Output<string | undefined>;
    /** The bucket for the backup actions. */
    readonly backupBucketName: pulumi.Output<string | undefined>;
    readonly backupBucketArn: pulumi.Output<string | undefined>;
    /** The bucket as deckhand's `store` input: s3://<bucket>/kong (db-dump, files-backup and dump write there). */
    readonly backupStore: pulumi.Output<string | undefined>;
    readonly clusterName: pulumi.Output<string>;
    readonly serviceName: pulumi.Output<string>;
    readonly logGroupName: pulumi.Output<string>;
    readonly vpcId: pulumi.Output<string>;
    /** ARN of the automated backups replicated to `disasterRecovery.region`: a restoreToPointInTime source there. */
    readonly disasterRecoveryAutomatedBackupsArn: pulumi.Output<string | undefined>;
    /** The backup bucket's replica in `disasterRecovery.region`, and its `store` (s3://<bucket>/kong). */
    readonly disasterRecoveryBucketName: pulumi.Output<string | undefined>;
    readonly disasterRecoveryBackupStore: pulumi.Output<string | undefined>;
    /** The key of the copies in `disasterRecovery.region`. */
    readonly disasterRecoveryKmsKeyArn: pulumi.Output<string | undefined>;
    /** The generated certificate both load balancers present (PEM), for clients to trust; undefined with certificateArn. */
    readonly certificatePem: pulumi.Output<string | undefined>;
    /** The bucket of the load balancers' access logs and the backup bucket's server access logs. */
    readonly logBucketName: pulumi.Output<string>;
    /** The key of the database, secrets, logs and backups. */
    readonly kmsKeyArn: pulumi.Output<string>;
    /** The role of the Kong containers, for callers that grant Kong AWS permissions. */
    readonly taskRoleArn: pulumi.Output<string>;
    /** The Kong tasks' security group, for callers that let Kong reach more (an upstream's group, say). */
    readonly taskSecurityGroupId: pulumi.Output<string>;
    /** The Kong image the tasks run. */
    readonly kongImage: pulumi.Output<string>;
    /** Children that callers commonly extend (alarms, DNS records, WAF). */
    readonly database?: aws.rds.Instance;
    readonly service: aws.ecs.Service;
    readonly proxyLoadBalancer: aws.lb.LoadBalancer;
    /** Undefined in Konnect mode: data planes have no Admin API. */
    readonly adminLoadBalancer?: aws.lb.LoadBalancer;
    readonly backupBucket?: aws.s3.Bucket;
    constructor(name: string, args?: KongGatewayArgs, opts?: pulumi.ComponentResourceOptions);
}
