// Kong on ECS Fargate: a cluster, least-privilege roles, the task (migrations, then Kong) and a service behind both
// load balancers.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { containerDefinitions, kongEnvironment, taskVolumes } from './containers.js';
import { KONG_PORTS } from './firewall.js';
import { secretResourceArn } from './secrets.js';
const ASSUME_BY_ECS_TASKS = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
        { Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ],
});
/**
 * What the execution role may read: exactly the task's secrets, the gateway's key, and the keys of secrets stored
 * under other customer managed keys, those only when Secrets Manager asks KMS on the role's behalf.
 */
export function secretsPolicy(valueFroms, kmsKeyArn, secretsKmsKeyArns = []) {
    const arns = [...new Set(valueFroms.map(secretResourceArn))].sort();
    const secretsManager = arns.filter((arn) => arn.split(':')[2] === 'secretsmanager');
    const parameters = arns.filter((arn) => arn.split(':')[2] === 'ssm');
    const statements = [];
    if (parameters.length > 0)
        statements.push({ Effect: 'Allow', Action: 'ssm:GetParameters', Resource: parameters });
    if (secretsManager.length > 0) {
        statements.push({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secretsManager });
    }
    statements.push({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: kmsKeyArn });
    const otherKeys = [...new Set(secretsKmsKeyArns)].filter((key) => key !== kmsKeyArn).sort();
    // Secrets Manager calls KMS from the secret's region.
    const regions = [...new Set(secretsManager.map((arn) => arn.split(':')[3]))].sort();
    if (otherKeys.length > 0 && regions.length > 0) {
        statements.push({
            Effect: 'Allow',
            Action: 'kms:Decrypt',
            Resource: otherKeys,
            Condition: {
                StringEquals: { 'kms:ViaService': regions.map((region) => `secretsmanager.${region}.amazonaws.com`) },
            },
        });
    }
    return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}
export function kongService(settings, inputs, parent) {
    const { name, region, tags } = settings;
    const opts = { parent };
    const logGroup = new aws.cloudwatch.LogGroup(`${name}`, { region, retentionInDays: settings.logRetentionDays, kmsKeyId: inputs.kmsKeyArn, tags }, opts);
    const secrets = { ...settings.kongSecrets };
    for (const [variable, stored] of Object.entries(inputs.storedSecrets))
        secrets[variable] = stored.arn;
    if (settings.licenseSecretArn !== undefined)
        secrets.KONG_LICENSE_DATA = settings.licenseSecretArn;
    if (settings.konnect) {
        // Kong takes the PEM itself in these settings and writes it to files in its prefix (kong.conf.default,
        // cluster_cert: "certificate content"; kong/cmd/utils/prefix_handler.lua, prepare_prefix), so the certificate
        // and key need no file in the image or on a volume.
        secrets.KONG_CLUSTER_CERT = settings.konnect.certificateSecretArn;
        secrets.KONG_CLUSTER_CERT_KEY = settings.konnect.keySecretArn;
    }
    const secretArns = pulumi.output(secrets);
    const executionRole = new aws.iam.Role(`${name}-execution`, {
        description: `Starts the Kong tasks of ${name}: image, logs, secrets`,
        assumeRolePolicy: ASSUME_BY_ECS_TASKS,
        tags,
    }, opts);
    new aws.iam.RolePolicyAttachment(`${name}-execution`, {
        role: executionRole.name,
        policyArn: pulumi.interpolate `arn:${inputs.account.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy`,
    }, opts);
    const readSecrets = new aws.iam.RolePolicy(`${name}-read-secrets`, {
        role: executionRole.id,
        policy: pulumi
            .all([secretArns, inputs.kmsKeyArn, pulumi.output(settings.secretsKmsKeyArns)])
            .apply(([arns, key, otherKeys]) => secretsPolicy(Object.values(arns), key, otherKeys)),
    }, opts);
    // Kong itself needs no AWS permissions; callers may attach some (a vault, a log sink) to this role.
    const taskRole = new aws.iam.Role(`${name}-task`, { description: `Role of the Kong containers of ${name}`, assumeRolePolicy: ASSUME_BY_ECS_TASKS, tags }, opts);
    const cluster = new aws.ecs.Cluster(`${name}`, { region, settings: [{ name: 'containerInsights', value: 'enabled' }], tags }, opts);
    const migrations = settings.database
        ? ['bootstrap', 'up', ...(settings.migrationsFinish ? ['finish'] : [])]
        : [];
    const definitions = pulumi
        .all([
        inputs.connection,
        pulumi.output(settings.kongEnvironment),
        secretArns,
        logGroup.name,
        inputs.account.region,
        settings.image.parsed,
    ])
        .apply(([connection, extra, arns, group, logRegion, image]) => JSON.stringify(containerDefinitions({
        image: image.reference,
        region: logRegion,
        logGroup: group,
        environment: { ...kongEnvironment(connection), ...extra },
        secrets: arns,
        migrations,
        adminApi: !settings.konnect,
    })));
    const family = `${pulumi.getProject()}-${pulumi.getStack()}-${name}`
        .replace(/[^a-zA-Z0-9_-]/g, '-')
        .slice(0, 255);
    const taskDefinition = new aws.ecs.TaskDefinition(`${name}`, {
        region,
        family,
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: String(settings.cpu),
        memory: String(settings.memory),
        runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: settings.cpuArchitecture },
        executionRoleArn: executionRole.arn,
        taskRoleArn: taskRole.arn,
        containerDefinitions: definitions,
        volumes: taskVolumes(),
        tags,
    }, opts);
    const balancers = inputs.loadBalancers;
    const service = new aws.ecs.Service(`${name}`, {
        region,
        cluster: cluster.arn,
        taskDefinition: taskDefinition.arn,
        desiredCount: settings.desiredCount,
        launchType: 'FARGATE',
        platformVersion: 'LATEST',
        networkConfiguration: {
            subnets: inputs.privateSubnetIds,
            securityGroups: [inputs.securityGroupId],
            assignPublicIp: false,
        },
        loadBalancers: [
            {
                targetGroupArn: balancers.proxyTargets.arn,
                containerName: 'kong',
                containerPort: KONG_PORTS.proxy,
            },
            ...(balancers.adminTargets
                ? [
                    {
                        targetGroupArn: balancers.adminTargets.arn,
                        containerName: 'kong',
                        containerPort: KONG_PORTS.admin,
                    },
                ]
                : []),
        ],
        // Migrations of a fresh or restored database run before Kong starts; give them time before checks count.
        healthCheckGracePeriodSeconds: 300,
        deploymentMinimumHealthyPercent: 100,
        deploymentMaximumPercent: 200,
        deploymentCircuitBreaker: { enable: true, rollback: true },
        propagateTags: 'SERVICE',
        enableEcsManagedTags: true,
        waitForSteadyState: settings.waitForSteadyState,
        tags,
    }, {
        parent,
        // Tasks start only once their secrets exist and may be read, and the target groups are attached.
        dependsOn: [
            ...balancers.listeners,
            readSecrets,
            ...Object.values(inputs.storedSecrets).map((s) => s.version),
        ],
    });
    return { cluster, service, taskDefinition, logGroup, taskRole, executionRole };
}
