import type { KonnectEndpoint } from './konnect-settings.js';
export interface KongConnection {
    /** Undefined in DB-less and Konnect modes. */
    database?: {
        host: string;
        port: number;
        user: string;
        name: string;
    };
    /** Konnect mode: the control plane whose data plane this is. */
    konnect?: {
        controlPlane: KonnectEndpoint;
        telemetry: KonnectEndpoint;
    };
    /** Addresses whose X-Forwarded-For Kong believes: the VPC, where the load balancers are. */
    trustedIps: string;
    enforceRbac: boolean;
}
/**
 * Where Kong writes: its prefix (nginx configuration, sockets, pid, its own TLS files) and /tmp (resty's temporary
 * files). Kong's documentation on read-only containers ("Install Kong Gateway in read-only mode", and the support
 * note on readOnlyRootFilesystem) asks for exactly these two writable paths. The image's default prefix,
 * /usr/local/kong, also holds Kong's libraries (docker-kong ubuntu/Dockerfile installs there), so the prefix moves
 * to a path of its own instead of hiding them under an empty volume.
 */
export declare const KONG_PREFIX = "/kong-prefix";
export declare const WRITABLE_VOLUMES: readonly [{
    readonly name: "kong-prefix";
    readonly containerPath: "/kong-prefix";
}, {
    readonly name: "tmp";
    readonly containerPath: "/tmp";
}];
/** The Kong images run as this user (docker-kong ubuntu/Dockerfile: `USER kong`); named so it is never root. */
export declare const KONG_USER = "kong";
export interface ContainerInputs {
    image: string;
    region: string;
    logGroup: string;
    /** KONG_* values: the component's, then the caller's kongEnvironment. */
    environment: Record<string, string>;
    /** KONG_* name → Secrets Manager or SSM ARN. */
    secrets: Record<string, string>;
    /** Migration steps to run before Kong, in order (none without a database). */
    migrations: ('bootstrap' | 'up' | 'finish')[];
    /** False on a Konnect data plane: the Admin API's port is not published. */
    adminApi: boolean;
}
/**
 * A Kong Konnect data plane, as Kong's "Install Kong Gateway in Konnect with Helm" how-to configures one
 * (developer.konghq.com, app/_how-tos/gateway/gateway-install-helm-konnect.md) and kong.conf.default describes each
 * setting. The certificate and key are ECS secrets (KONG_CLUSTER_CERT, KONG_CLUSTER_CERT_KEY), set in the service.
 */
export declare function konnectEnvironment(konnect: NonNullable<KongConnection['konnect']>): Record<string, string>;
/** Kong's settings for running behind the load balancers, in a container, without exposing more than needed. */
export declare function kongEnvironment(connection: KongConnection): Record<string, string>;
/** The volumes of the task: Fargate bind mounts, which live as long as the task. */
export declare function taskVolumes(): {
    name: "kong-prefix" | "tmp";
}[];
export declare function containerDefinitions(inputs: ContainerInputs): object[];
