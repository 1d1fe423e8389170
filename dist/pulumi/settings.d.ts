import * as pulumi from '@pulumi/pulumi';
import { CpuArchitecture, NatGateways, type KongGatewayArgs, type ObjectLock, type PointInTimeRestore } from './args.js';
import { type DisasterRecoverySettings } from './disaster-recovery-settings.js';
import { type Ipv4Cidr } from './cidr.js';
import { KongEdition, type KongImage } from './kong-image.js';
import { type KonnectSettings } from './konnect-settings.js';
import { type RestoredLogin } from './restore-role.js';
export type Network = {
    kind: 'existing';
    vpcId: pulumi.Input<string>;
    publicSubnetIds: pulumi.Input<string[]>;
    privateSubnetIds: pulumi.Input<string[]>;
} | {
    kind: 'create';
    cidr: Ipv4Cidr;
    cidrBlock: string;
    /** Each zone gets a public and a private subnet: the count is plain, the names may be Outputs. */
    availabilityZones?: {
        names: pulumi.Input<string[]>;
        count: number;
    };
    natGateways: NatGateways;
};
/** The Kong image: its reference as given, and the reference read, at once when known or once it resolves. */
export interface GatewayImage {
    reference: pulumi.Input<string>;
    edition: KongEdition;
    parsed: pulumi.Input<KongImage>;
}
export interface DatabaseSettings {
    instanceClass: pulumi.Input<string>;
    allocatedStorage: number;
    maxAllocatedStorage: number;
    /** Undefined on a restore without an explicit version: the snapshot's version stays. */
    engineVersion?: string;
    multiAz: boolean;
    backupRetentionDays: number;
    deletionProtection: boolean;
    skipFinalSnapshot: boolean;
    username: string;
    databaseName: string;
    restoreFromSnapshot?: pulumi.Input<string>;
    restoreToPointInTime?: PointInTimeRestore;
    /** A restore's login for Kong other than the master user's. */
    restoredLogin?: RestoredLogin;
}
export interface BucketSettings {
    expireAfterDays: number;
    noncurrentVersionDays: number;
    objectLock?: ObjectLock;
}
export interface Settings {
    name: string;
    region?: pulumi.Input<string>;
    tags: Record<string, string>;
    network: Network;
    image: GatewayImage;
    /** Undefined in DB-less and Konnect modes. */
    database?: DatabaseSettings;
    /** Konnect mode: the tasks are data planes of this control plane, with no Admin API. */
    konnect?: KonnectSettings;
    declarativeConfig?: pulumi.Input<string>;
    kongEnvironment: Record<string, pulumi.Input<string>>;
    kongSecrets: Record<string, pulumi.Input<string>>;
    licenseSecretArn?: pulumi.Input<string>;
    secretsKmsKeyArns: pulumi.Input<pulumi.Input<string>[]>;
    /** Enterprise on a new database: Kong's bootstrap seeds the super admin with a generated token. */
    generateAdminToken: boolean;
    /** Enterprise on a restored database: the token that database already has, when the caller gives it. */
    adminTokenSecretArn?: pulumi.Input<string>;
    /** RBAC needs Enterprise and a licence; then the generated admin token is the super admin's. */
    enforceRbac: boolean;
    desiredCount: number;
    cpu: number;
    memory: number;
    cpuArchitecture: CpuArchitecture;
    migrationsFinish: boolean;
    logRetentionDays: number;
    logBucketExpireAfterDays: number;
    waitForSteadyState: boolean;
    certificateArn?: pulumi.Input<string>;
    loadBalancerDeletionProtection: boolean;
    proxyAllowedCidrs: string[];
    /** Undefined: only inside the VPC, through an internal load balancer. */
    adminAllowedCidrs?: string[];
    kmsKeyArn?: pulumi.Input<string>;
    backupBucket?: BucketSettings;
    disasterRecovery?: DisasterRecoverySettings;
}
export declare const DEFAULT_VPC_CIDR = "10.42.0.0/16";
export declare const LOG_RETENTION_DAYS: number[];
/** Settings the component wires itself: a caller overriding them would break the gateway. */
export declare const MANAGED_KONG_SETTINGS: Set<string>;
export declare function fail(argument: string, message: string): never;
export declare function integer(argument: string, value: number | undefined, fallback: number, min: number, max: number): number;
/** Checks a string that is already known; Outputs are checked by AWS. */
export declare function known(value: pulumi.Input<string> | undefined): value is string;
export declare function checkArn(argument: string, value: pulumi.Input<string> | undefined, services: RegExp, example: string): void;
/** Secrets Manager's limit on a secret value, and so on a declarative configuration passed through one. */
export declare const DECLARATIVE_CONFIG_LIMIT = 65536;
/**
 * The declarative configuration as one line of JSON, Kong's KONG_DECLARATIVE_CONFIG_STRING. `kong start` writes
 * every setting to the prefix's `.kong_env` as `key = value` lines (kong/cmd/utils/prefix_handler.lua,
 * prepare_prefix) and nginx's Kong reads that file back line by line with Penlight's config reader
 * (kong/conf_loader/init.lua, load_config; Kong 3.9.3): a value with a newline arrives cut after its first line,
 * and Kong starts with a broken or empty configuration. declarative_config_string accepts JSON as well as YAML
 * (kong/db/declarative/init.lua, parse_string), so JSON on one line survives the round trip. Errors name a
 * position, never the text, which may hold credentials.
 */
export declare function declarativeConfigJson(text: string): string;
/**
 * The longest gateway name: load balancers and target groups are named `<name>-proxy` and `<name>-admin`, and
 * Pulumi's auto-naming appends `-` and 7 random characters; AWS allows 32 characters (CreateLoadBalancer,
 * CreateTargetGroup), and the provider refuses a longer name at preview.
 */
export declare const MAX_NAME_LENGTH: number;
/** Validates the arguments and returns them with every default filled in. */
export declare function settings(name: string, args: KongGatewayArgs): Settings;
