import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { Settings } from './settings.js';
export interface StoredSecret {
    arn: pulumi.Output<string>;
    /** The value, marked secret in the Pulumi state (the database needs the password itself). */
    value: pulumi.Output<string>;
    /** Tasks must not start before the value exists. */
    version: aws.secretsmanager.SecretVersion;
}
/** Stores a value in a new Secrets Manager secret. */
export declare function storedSecret(resourceName: string, description: string, value: pulumi.Input<string>, settings: Settings, kmsKeyArn: pulumi.Input<string>, parent: pulumi.Resource): StoredSecret;
/** A random password of letters and digits, long enough not to need symbols (which RDS restricts). */
export declare function generatedSecret(resourceName: string, description: string, settings: Settings, kmsKeyArn: pulumi.Input<string>, parent: pulumi.Resource): StoredSecret;
/**
 * The IAM resource of an ECS `valueFrom`: a secret's ARN without a JSON key or version selector
 * (`…:secret:name-AbCdEf:password::`), and `-??????` in place of the suffix a partial ARN leaves out.
 */
export declare function secretResourceArn(valueFrom: string): string;
