// Secrets the gateway generates or is given, kept in Secrets Manager under the gateway's key. Tasks receive them as
// ECS secrets, so their values never appear in a task definition, an environment listing or a log.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
/** Stores a value in a new Secrets Manager secret. */
export function storedSecret(resourceName, description, value, settings, kmsKeyArn, parent) {
    const { region, tags } = settings;
    const secret = new aws.secretsmanager.Secret(resourceName, { region, description, kmsKeyId: kmsKeyArn, recoveryWindowInDays: 30, tags }, { parent });
    const secretValue = pulumi.secret(value);
    const version = new aws.secretsmanager.SecretVersion(resourceName, { region, secretId: secret.id, secretString: secretValue }, { parent });
    return { arn: secret.arn, value: secretValue, version };
}
/** A random password of letters and digits, long enough not to need symbols (which RDS restricts). */
export function generatedSecret(resourceName, description, settings, kmsKeyArn, parent) {
    const password = new random.RandomPassword(resourceName, { length: 40, special: false }, { parent });
    return storedSecret(resourceName, description, password.result, settings, kmsKeyArn, parent);
}
/** The secret ARN without a JSON key or version suffix (`…:secret:name-AbCdEf:password::`), for IAM. */
export function secretResourceArn(valueFrom) {
    const parts = valueFrom.split(':');
    return parts[2] === 'secretsmanager' ? parts.slice(0, 7).join(':') : valueFrom;
}
