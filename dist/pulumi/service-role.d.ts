import * as aws from '@pulumi/aws';
import type * as pulumi from '@pulumi/pulumi';
export interface ServiceRoleOptions {
    description: pulumi.Input<string>;
    tags: Record<string, string>;
    /**
     * The account the service may act for: with it, the trust policy holds `aws:SourceAccount`, so that the service
     * cannot be made to use the role on behalf of another account (IAM user guide, "The confused deputy problem").
     */
    sourceAccount?: pulumi.Output<string>;
}
/** The trust policy of a role `service` (its principal, `monitoring.rds.amazonaws.com`) may assume. */
export declare function serviceTrustPolicy(service: string, sourceAccount?: string): string;
export declare function serviceRole(resourceName: string, service: string, options: ServiceRoleOptions, parent: pulumi.Resource): aws.iam.Role;
