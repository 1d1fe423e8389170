import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { type KongConnection } from './containers.js';
import type { Account } from './encryption.js';
import type { LoadBalancers } from './load-balancers.js';
import { type StoredSecret } from './secrets.js';
import type { Settings } from './settings.js';
export interface ServiceInputs {
    account: Account;
    kmsKeyArn: pulumi.Input<string>;
    privateSubnetIds: pulumi.Input<string[]>;
    securityGroupId: pulumi.Input<string>;
    loadBalancers: LoadBalancers;
    connection: pulumi.Input<KongConnection>;
    /** KONG_* name → secret the component stored (database password, admin token, declarative config). */
    storedSecrets: Record<string, StoredSecret>;
}
export interface KongService {
    cluster: aws.ecs.Cluster;
    service: aws.ecs.Service;
    taskDefinition: aws.ecs.TaskDefinition;
    logGroup: aws.cloudwatch.LogGroup;
    taskRole: aws.iam.Role;
    executionRole: aws.iam.Role;
}
/**
 * What the execution role may read: exactly the task's secrets, the gateway's key, and the keys of secrets stored
 * under other customer managed keys, those only when Secrets Manager asks KMS on the role's behalf.
 */
export declare function secretsPolicy(valueFroms: string[], kmsKeyArn: string, secretsKmsKeyArns?: string[]): string;
export declare function kongService(settings: Settings, inputs: ServiceInputs, parent: pulumi.Resource): KongService;
