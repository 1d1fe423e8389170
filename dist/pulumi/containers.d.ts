export interface KongConnection {
    /** Undefined in DB-less mode. */
    database?: {
        host: string;
        port: number;
        user: string;
        name: string;
    };
    /** Addresses whose X-Forwarded-For Kong believes: the VPC, where the load balancers are. */
    trustedIps: string;
    enforceRbac: boolean;
}
export interface ContainerInputs {
    image: string;
    region: string;
    logGroup: string;
    /** KONG_* values: the component's, then the caller's kongEnvironment. */
    environment: Record<string, string>;
    /** KONG_* name → Secrets Manager or SSM ARN. */
    secrets: Record<string, string>;
    /** Migration steps to run before Kong, in order (none in DB-less mode). */
    migrations: ('bootstrap' | 'up' | 'finish')[];
}
/** Kong's settings for running behind the load balancers, in a container, without exposing more than needed. */
export declare function kongEnvironment(connection: KongConnection): Record<string, string>;
export declare function containerDefinitions(inputs: ContainerInputs): object[];
