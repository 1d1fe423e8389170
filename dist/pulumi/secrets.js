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
// Secrets Manager ends every secret's ARN with `-` and six random characters. ECS also accepts a partial ARN (the
// name without them), which IAM would compare literally and never match.
const SECRET_SUFFIX = /-[a-zA-Z0-9]{6}$/;
/**
 * The IAM resource of an ECS `valueFrom`: a secret's ARN without a JSON key or version selector
 * (`…:secret:name-AbCdEf:password::`), and `-??????` in place of the suffix a partial ARN leaves out.
 */
export function secretResourceArn(valueFrom) {
    const parts = valueFrom.split(':');
    if (parts[2] !== 'secretsmanager')
        return valueFrom;
    const arn = parts.slice(0, 7).join(':');
    return SECRET_SUFFIX.test(parts[6] ?? '') ? arn : `${arn}-??????`;
}
