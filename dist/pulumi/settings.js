// Checks a KongGateway's arguments and fills in the defaults, before any resource exists. Everything here is
// plain data, so a mistake stops `pulumi preview` with the argument's name and what to write instead. Arguments
// that may come from other resources (Inputs) are checked the same way once their values are known.
import * as pulumi from '@pulumi/pulumi';
import { isMap, LineCounter, parseDocument } from 'yaml';
import { CpuArchitecture, GatewayMode, NatGateways, ObjectLockMode, } from './args.js';
import { disasterRecoverySettings } from './disaster-recovery-settings.js';
import { cidrFamily, isAnywhere, parseIpv4Cidr } from './cidr.js';
import { KongGatewayArgumentError } from './errors.js';
import { DEFAULT_KONG_IMAGE, KongEdition, parseKongImage } from './kong-image.js';
import { KONNECT_KONG_SETTINGS, konnectSettings } from './konnect-settings.js';
import { restoredLogin } from './restore-role.js';
export const DEFAULT_VPC_CIDR = '10.42.0.0/16';
export const LOG_RETENTION_DAYS = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];
// Fargate task sizes: CPU units → memory range in MiB and its step.
const FARGATE_MEMORY = {
    256: [512, 2048, 512],
    512: [1024, 4096, 1024],
    1024: [2048, 8192, 1024],
    2048: [4096, 16384, 1024],
    4096: [8192, 30720, 1024],
    8192: [16384, 61440, 4096],
    16384: [32768, 122880, 8192],
};
/** Settings the component wires itself: a caller overriding them would break the gateway. */
export const MANAGED_KONG_SETTINGS = new Set([
    'KONG_DATABASE',
    'KONG_PG_HOST',
    'KONG_PG_PORT',
    'KONG_PG_USER',
    'KONG_PG_PASSWORD',
    'KONG_PG_DATABASE',
    'KONG_PASSWORD',
    'KONG_LICENSE_DATA',
    'KONG_DECLARATIVE_CONFIG',
    'KONG_DECLARATIVE_CONFIG_STRING',
    'KONG_PROXY_LISTEN',
    'KONG_ADMIN_LISTEN',
    'KONG_STATUS_LISTEN',
    'KONG_PREFIX',
]);
// A plain task environment is readable by anyone who may describe the task definition.
const SECRET_SETTING = /PASSWORD|SECRET|TOKEN|PRIVATE|_KEY$|_KEY_|LICENSE_DATA|CREDENTIAL/;
export function fail(argument, message) {
    throw new KongGatewayArgumentError(argument, message);
}
export function integer(argument, value, fallback, min, max) {
    const result = value ?? fallback;
    if (!Number.isInteger(result) || result < min || result > max) {
        fail(argument, `${result} is not a whole number from ${min} to ${max}`);
    }
    return result;
}
function oneOf(argument, value, allowed, fallback) {
    const result = value ?? fallback;
    if (!allowed.includes(result))
        fail(argument, `"${result}" is not one of ${allowed.join(', ')}`);
    return result;
}
/** Checks a string that is already known; Outputs are checked by AWS. */
export function known(value) {
    return typeof value === 'string';
}
/** A list checked now when it is one, or once its value is known (an Output or a Promise of a list). */
function checkedList(list, check) {
    if (Array.isArray(list)) {
        check(list);
        return list;
    }
    return pulumi.output(list).apply((items) => {
        check(items);
        return items;
    });
}
export function checkArn(argument, value, services, example) {
    if (known(value) && !(value.startsWith('arn:') && services.test(value.split(':')[2] ?? ''))) {
        fail(argument, `"${value}" is not an ARN of the right kind, such as ${example}`);
    }
}
/** Secrets Manager's limit on a secret value, and so on a declarative configuration passed through one. */
export const DECLARATIVE_CONFIG_LIMIT = 65536;
/** Text read as a declarative configuration at most: comments and indentation may make it larger than the JSON. */
const DECLARATIVE_CONFIG_TEXT_LIMIT = 1024 * 1024;
/**
 * The declarative configuration as one line of JSON, Kong's KONG_DECLARATIVE_CONFIG_STRING. `kong start` writes
 * every setting to the prefix's `.kong_env` as `key = value` lines (kong/cmd/utils/prefix_handler.lua,
 * prepare_prefix) and nginx's Kong reads that file back line by line with Penlight's config reader
 * (kong/conf_loader/init.lua, load_config; Kong 3.9.3): a value with a newline arrives cut after its first line,
 * and Kong starts with a broken or empty configuration. declarative_config_string accepts JSON as well as YAML
 * (kong/db/declarative/init.lua, parse_string), so JSON on one line survives the round trip. Errors name a
 * position, never the text, which may hold credentials.
 */
export function declarativeConfigJson(text) {
    const argument = 'declarativeConfig';
    const textSize = Buffer.byteLength(text);
    if (textSize > DECLARATIVE_CONFIG_TEXT_LIMIT) {
        fail(argument, `is ${textSize} bytes; it is read up to ${DECLARATIVE_CONFIG_TEXT_LIMIT}`);
    }
    const lines = new LineCounter();
    // YAML 1.2 core schema, which JSON is a subset of; aliases are limited when the data is built (no alias bomb).
    const document = parseDocument(text, {
        lineCounter: lines,
        uniqueKeys: true,
        prettyErrors: false,
    });
    const [error] = document.errors;
    if (error) {
        const { line, col } = lines.linePos(error.pos[0]);
        fail(argument, `is neither YAML nor JSON Kong can read (${error.code} at line ${line}, column ${col})`);
    }
    let data;
    try {
        data = document.toJS({ maxAliasCount: 100 });
    }
    catch (failure) {
        fail(argument, `cannot be read: ${failure.message}`);
    }
    if (!isMap(document.contents) || data === null || typeof data !== 'object' || Array.isArray(data)) {
        fail(argument, 'is not a mapping: Kong expects one with `_format_version` ("3.0") and its entities');
    }
    if (!Object.hasOwn(data, '_format_version')) {
        fail(argument, 'has no `_format_version`: Kong refuses a declarative configuration without one (write "3.0")');
    }
    // JSON.stringify escapes every line break inside strings, so the result has none.
    const json = JSON.stringify(data);
    const size = Buffer.byteLength(json);
    if (size > DECLARATIVE_CONFIG_LIMIT) {
        fail(argument, `is ${size} bytes as JSON; Secrets Manager holds at most ${DECLARATIVE_CONFIG_LIMIT}. Start with a smaller ` +
            "configuration (or none) and post the full one to each node's /config (deck gateway sync does)");
    }
    return json;
}
/**
 * The longest gateway name: load balancers and target groups are named `<name>-proxy` and `<name>-admin`, and
 * Pulumi's auto-naming appends `-` and 7 random characters; AWS allows 32 characters (CreateLoadBalancer,
 * CreateTargetGroup), and the provider refuses a longer name at preview.
 */
export const MAX_NAME_LENGTH = 32 - '-proxy'.length - '-1234567'.length;
function checkName(name) {
    // Load balancer, target group and database names allow only letters, digits and single hyphens.
    if (!/^[a-zA-Z](?:[a-zA-Z0-9]|-(?=[a-zA-Z0-9]))*$/.test(name)) {
        fail('name', `"${name}" cannot name AWS resources: use letters, digits and single hyphens, starting with a letter`);
    }
    if (name.length > MAX_NAME_LENGTH) {
        fail('name', `"${name}" is ${name.length} characters; use at most ${MAX_NAME_LENGTH}: load balancer and target group ` +
            `names are "<name>-proxy" and "<name>-admin" plus an 8-character random suffix, and AWS allows 32`);
    }
}
function checkCidrs(argument, cidrs) {
    if (cidrs.length === 0)
        fail(argument, 'is empty; leave it out for the default');
    cidrs.forEach((cidr, index) => {
        if (!cidrFamily(cidr))
            fail(`${argument}[${index}]`, `"${cidr}" is not an IPv4 or IPv6 CIDR block`);
    });
}
function network(args) {
    if (args.vpcId === undefined) {
        if (args.publicSubnetIds || args.privateSubnetIds) {
            fail('vpcId', 'is missing: subnets can only be used together with the VPC they belong to');
        }
        const cidrBlock = args.vpcCidrBlock ?? DEFAULT_VPC_CIDR;
        const cidr = parseIpv4Cidr(cidrBlock);
        if (!cidr || cidr.prefix < 16 || cidr.prefix > 22) {
            fail('vpcCidrBlock', `"${cidrBlock}" is not an IPv4 block from /16 to /22`);
        }
        return {
            kind: 'create',
            cidr,
            cidrBlock,
            ...(args.availabilityZones ? { availabilityZones: availabilityZones(args.availabilityZones) } : {}),
            natGateways: oneOf('natGateways', args.natGateways, Object.values(NatGateways), 'single'),
        };
    }
    if (args.vpcCidrBlock || args.availabilityZones || args.natGateways) {
        fail('vpcId', 'is given, so vpcCidrBlock, availabilityZones and natGateways (for a new VPC) do not apply');
    }
    const subnets = (key) => pulumi.output(checkedList(args[key] ?? [], (ids) => {
        if (ids.length < 2) {
            fail(key, `needs at least two subnets, in different availability zones, when vpcId is given (got ${ids.length})`);
        }
    }));
    return {
        kind: 'existing',
        vpcId: args.vpcId,
        publicSubnetIds: subnets('publicSubnetIds'),
        privateSubnetIds: subnets('privateSubnetIds'),
    };
}
function availabilityZones(zones) {
    const check = (names) => {
        if (new Set(names).size > 4)
            fail('availabilityZones', 'names more than four zones');
        if (new Set(names).size < 2) {
            fail('availabilityZones', `${names.length === 0 ? 'is empty' : `names only ${names[0]}`}: the database and the load balancers ` +
                'need subnets in at least two availability zones');
        }
    };
    if (zones.every(known)) {
        check(zones);
        const names = [...new Set(zones)];
        return { names, count: names.length };
    }
    // Zones known only later: the count is the list's length, so a zone named twice cannot be merged, only refused.
    if (zones.length > 4)
        fail('availabilityZones', 'names more than four zones');
    if (zones.length < 2) {
        fail('availabilityZones', 'names only one zone: the database and the load balancers need subnets in at least two availability zones');
    }
    const names = pulumi.all(zones).apply((resolved) => {
        check(resolved);
        const twice = resolved.find((zone, index) => resolved.indexOf(zone) !== index);
        if (twice !== undefined)
            fail('availabilityZones', `names ${twice} twice; each zone gets its own subnets`);
        return resolved;
    });
    return { names, count: zones.length };
}
function pointInTime(restore) {
    const sources = [
        restore.sourceDbInstanceIdentifier,
        restore.sourceDbInstanceAutomatedBackupsArn,
        restore.sourceDbiResourceId,
    ].filter((source) => source !== undefined);
    if (sources.length !== 1) {
        fail('restoreToPointInTime', 'needs exactly one source: sourceDbInstanceIdentifier, sourceDbInstanceAutomatedBackupsArn or sourceDbiResourceId');
    }
    const latest = restore.useLatestRestorableTime === true;
    if (latest === (restore.restoreTime !== undefined)) {
        fail('restoreToPointInTime', 'needs exactly one of restoreTime and useLatestRestorableTime: true');
    }
    if (restore.restoreTime !== undefined &&
        (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(restore.restoreTime) ||
            Number.isNaN(Date.parse(restore.restoreTime)))) {
        fail('restoreToPointInTime.restoreTime', `"${restore.restoreTime}" is not a UTC time like 2026-11-20T23:00:00Z`);
    }
    return restore;
}
function database(args) {
    const options = args.database ?? {};
    if (args.restoreFromSnapshot !== undefined && args.restoreToPointInTime !== undefined) {
        fail('restoreFromSnapshot', 'and restoreToPointInTime are alternatives: give one');
    }
    if (known(args.restoreFromSnapshot) &&
        !/^(arn:\S+|[a-zA-Z][a-zA-Z0-9-:]{0,254})$/.test(args.restoreFromSnapshot)) {
        fail('restoreFromSnapshot', `"${args.restoreFromSnapshot}" is not an RDS snapshot identifier or ARN`);
    }
    const restoring = args.restoreFromSnapshot !== undefined || args.restoreToPointInTime !== undefined;
    const engineVersion = options.engineVersion ?? (restoring ? undefined : '16');
    if (engineVersion !== undefined && !/^\d{2,}(\.\d+)?$/.test(engineVersion)) {
        fail('database.engineVersion', `"${engineVersion}" is not a PostgreSQL version such as 16 or 16.4`);
    }
    const allocatedStorage = integer('database.allocatedStorage', options.allocatedStorage, 20, 20, 65536);
    const identifier = /^[a-zA-Z][a-zA-Z0-9_]{0,62}$/;
    const username = options.username ?? 'kong';
    const databaseName = options.databaseName ?? 'kong';
    if (!identifier.test(username) || ['postgres', 'rdsadmin'].includes(username.toLowerCase())) {
        fail('database.username', `"${username}" cannot be an RDS master user`);
    }
    if (!identifier.test(databaseName))
        fail('database.databaseName', `"${databaseName}" is not a database name`);
    const login = restoredLogin(options, restoring);
    return {
        instanceClass: options.instanceClass ?? 'db.t4g.medium',
        allocatedStorage,
        maxAllocatedStorage: integer('database.maxAllocatedStorage', options.maxAllocatedStorage, Math.max(100, allocatedStorage), allocatedStorage, 65536),
        ...(engineVersion !== undefined ? { engineVersion } : {}),
        multiAz: options.multiAz ?? true,
        // Zero would turn automated backups, and so point-in-time recovery, off.
        backupRetentionDays: integer('database.backupRetentionDays', options.backupRetentionDays, 14, 1, 35),
        deletionProtection: options.deletionProtection ?? true,
        skipFinalSnapshot: options.skipFinalSnapshot ?? false,
        username,
        databaseName,
        ...(args.restoreFromSnapshot !== undefined ? { restoreFromSnapshot: args.restoreFromSnapshot } : {}),
        ...(args.restoreToPointInTime !== undefined
            ? { restoreToPointInTime: pointInTime(args.restoreToPointInTime) }
            : {}),
        ...(login ? { restoredLogin: login } : {}),
    };
}
/** A setting the component wires itself, in every mode or on a Konnect data plane. */
function managed(key, konnect) {
    return MANAGED_KONG_SETTINGS.has(key) || (konnect && KONNECT_KONG_SETTINGS.has(key));
}
function kongEnvironment(values = {}, konnect) {
    for (const key of Object.keys(values)) {
        if (!/^KONG_[A-Z0-9_]+$/.test(key))
            fail(`kongEnvironment.${key}`, 'is not a KONG_* setting');
        if (managed(key, konnect))
            fail(`kongEnvironment.${key}`, 'is set by the component itself');
        if (SECRET_SETTING.test(key)) {
            fail(`kongEnvironment.${key}`, 'looks like a secret, and the task environment is visible to anyone who may read the task definition; ' +
                `put its Secrets Manager or SSM ARN in kongSecrets.${key} instead`);
        }
    }
    return values;
}
function kongSecrets(values = {}, konnect) {
    for (const [key, arn] of Object.entries(values)) {
        if (!/^KONG_[A-Z0-9_]+$/.test(key))
            fail(`kongSecrets.${key}`, 'is not a KONG_* setting');
        if (managed(key, konnect))
            fail(`kongSecrets.${key}`, 'is set by the component itself');
        checkArn(`kongSecrets.${key}`, arn, /^(secretsmanager|ssm)$/, 'arn:aws:secretsmanager:…:secret:kong-cert-AbCdEf');
    }
    return values;
}
function secretsKmsKeyArns(keys = []) {
    return checkedList(keys, (items) => items.forEach((key, index) => {
        // IAM matches a key by its key ARN; an alias or a bare key id would never match.
        if (known(key) && !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[a-zA-Z0-9-]+$/.test(key)) {
            fail(`secretsKmsKeyArns[${index}]`, `"${key}" is not a KMS key ARN such as arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab`);
        }
    }));
}
function adminToken(args, edition, mode) {
    const restoring = args.restoreFromSnapshot !== undefined || args.restoreToPointInTime !== undefined;
    const enterpriseDatabase = edition === 'enterprise' && mode === 'database';
    if (args.adminTokenSecretArn !== undefined) {
        if (!enterpriseDatabase || !restoring) {
            fail('adminTokenSecretArn', 'is the admin token of a restored Kong Enterprise database (with restoreFromSnapshot or ' +
                'restoreToPointInTime); a new database gets a generated one');
        }
        checkArn('adminTokenSecretArn', args.adminTokenSecretArn, /^secretsmanager$/, 'arn:aws:secretsmanager:…:secret:kong-admin-token-AbCdEf');
    }
    return {
        generateAdminToken: enterpriseDatabase && !restoring,
        ...(args.adminTokenSecretArn !== undefined ? { adminTokenSecretArn: args.adminTokenSecretArn } : {}),
    };
}
function fargateSize(args) {
    const cpu = args.cpu ?? 1024;
    const range = FARGATE_MEMORY[cpu];
    if (!range)
        fail('cpu', `${cpu} is not a Fargate size: ${Object.keys(FARGATE_MEMORY).join(', ')}`);
    const [min, max, step] = range;
    const memory = args.memory ?? Math.max(2048, min);
    if (memory < min || memory > max || (memory - min) % step !== 0) {
        fail('memory', `${memory} MiB does not fit ${cpu} CPU units: from ${min} to ${max} in steps of ${step}`);
    }
    return { cpu, memory };
}
/** `byDefault`: whether the mode has a bucket unless told otherwise. */
function bucket(options = {}, byDefault) {
    const { enabled = byDefault, ...retention } = options;
    if (!enabled) {
        const ignored = Object.keys(retention).filter((key) => retention[key] !== undefined);
        if (ignored.length > 0) {
            fail('backupBucket', options.enabled === false
                ? `has enabled: false, so ${ignored.join(', ')} would not apply; leave them out`
                : `is off in Konnect mode, so ${ignored.join(', ')} would not apply; add enabled: true for a bucket`);
        }
        return undefined;
    }
    const lock = options.objectLock;
    if (lock) {
        oneOf('backupBucket.objectLock.mode', lock.mode, Object.values(ObjectLockMode), 'GOVERNANCE');
        integer('backupBucket.objectLock.days', lock.days, 0, 1, 36500);
    }
    return {
        expireAfterDays: integer('backupBucket.expireAfterDays', options.expireAfterDays, 365, 1, 36500),
        noncurrentVersionDays: integer('backupBucket.noncurrentVersionDays', options.noncurrentVersionDays, 90, 1, 36500),
        ...(lock ? { objectLock: { mode: lock.mode, days: lock.days } } : {}),
    };
}
function gatewayImage(args) {
    if (args.edition !== undefined)
        oneOf('edition', args.edition, Object.values(KongEdition), 'community');
    const reference = args.kongImage ?? DEFAULT_KONG_IMAGE;
    if (known(reference)) {
        const parsed = parseKongImage(reference, args.edition);
        return { reference, edition: parsed.edition, parsed };
    }
    // The edition decides resources (the admin token, RBAC) before the image is known.
    if (args.edition === undefined) {
        fail('kongImage', 'is known only during the update (an Output): give edition as well');
    }
    const edition = args.edition;
    return {
        reference,
        edition,
        parsed: pulumi.output(reference).apply((known) => parseKongImage(known, edition)),
    };
}
/** Validates the arguments and returns them with every default filled in. */
export function settings(name, args) {
    checkName(name);
    const image = gatewayImage(args);
    const mode = oneOf('mode', args.mode, Object.values(GatewayMode), 'database');
    const konnect = konnectSettings(args, mode, image);
    if (mode === 'dbless') {
        for (const key of ['database', 'restoreFromSnapshot', 'restoreToPointInTime']) {
            if (args[key] !== undefined)
                fail(key, 'does not apply in DB-less mode, which has no database');
        }
    }
    else if (args.declarativeConfig !== undefined) {
        fail('declarativeConfig', 'is for DB-less mode (mode: "dbless"); a database gateway is restored with deck');
    }
    if (args.licenseSecretArn !== undefined && image.edition !== 'enterprise') {
        fail('licenseSecretArn', `is for Kong Enterprise, and ${known(image.reference) ? `${image.reference} is the open-source image` : 'edition is community'}`);
    }
    checkArn('licenseSecretArn', args.licenseSecretArn, /^secretsmanager$/, 'arn:aws:secretsmanager:…:secret:kong-license-AbCdEf');
    checkArn('certificateArn', args.certificateArn, /^(acm|iam)$/, 'arn:aws:acm:eu-west-1:123456789012:certificate/…');
    checkArn('kmsKeyArn', args.kmsKeyArn, /^kms$/, 'arn:aws:kms:eu-west-1:123456789012:key/…');
    // RBAC lives in the database: a DB-less node has none, whatever the licence.
    const enforceRbac = image.edition === 'enterprise' && args.licenseSecretArn !== undefined && mode === 'database';
    const proxyAllowedCidrs = args.proxyAllowedCidrs ?? ['0.0.0.0/0'];
    checkCidrs('proxyAllowedCidrs', proxyAllowedCidrs);
    const admin = args.adminAllowedCidrs;
    if (admin !== undefined) {
        checkCidrs('adminAllowedCidrs', admin);
        const anywhere = admin.find(isAnywhere);
        if (anywhere && !args.allowAdminFromAnywhere) {
            fail('adminAllowedCidrs', `contains ${anywhere}, which opens the Admin API to the whole internet; list your runners' and ` +
                "operators' addresses instead, or set allowAdminFromAnywhere with Kong Enterprise RBAC");
        }
        if (anywhere && !enforceRbac) {
            fail('allowAdminFromAnywhere', 'needs Kong Enterprise with licenseSecretArn in database mode, so that RBAC guards the Admin API; ' +
                "without it anyone on the internet could rewrite the gateway's configuration");
        }
    }
    else if (args.allowAdminFromAnywhere) {
        fail('allowAdminFromAnywhere', 'has no effect without adminAllowedCidrs; leave it out');
    }
    // Konnect keeps a data plane's configuration, and deckhand's backup actions reach Kong through its Admin API or
    // its database, neither of which a data plane has: nothing would write to a bucket.
    const backupBucket = bucket(args.backupBucket, !konnect);
    // A year: what incident investigations and most audit regimes ask of logs (NIST 800-53 AU-11, CloudWatch.16).
    const logRetentionDays = args.logRetentionDays ?? 365;
    if (!LOG_RETENTION_DAYS.includes(logRetentionDays)) {
        fail('logRetentionDays', `${logRetentionDays} is not a CloudWatch retention: ${LOG_RETENTION_DAYS.join(', ')}`);
    }
    const databaseSettings = mode === 'database' ? database(args) : undefined;
    const disasterRecovery = args.disasterRecovery !== undefined
        ? disasterRecoverySettings(args, databaseSettings, backupBucket !== undefined)
        : undefined;
    return {
        name,
        ...(args.region !== undefined ? { region: args.region } : {}),
        tags: { ...args.tags, 'deckhand:gateway': name },
        network: network(args),
        image,
        ...(databaseSettings ? { database: databaseSettings } : {}),
        ...(konnect ? { konnect } : {}),
        ...(args.declarativeConfig !== undefined
            ? {
                // Text is checked now; an Output when its value is known (the component converts it again: a no-op).
                declarativeConfig: typeof args.declarativeConfig === 'string'
                    ? declarativeConfigJson(args.declarativeConfig)
                    : args.declarativeConfig,
            }
            : {}),
        kongEnvironment: kongEnvironment(args.kongEnvironment, konnect !== undefined),
        kongSecrets: kongSecrets(args.kongSecrets, konnect !== undefined),
        ...(args.licenseSecretArn !== undefined ? { licenseSecretArn: args.licenseSecretArn } : {}),
        secretsKmsKeyArns: secretsKmsKeyArns(args.secretsKmsKeyArns),
        ...adminToken(args, image.edition, mode),
        enforceRbac,
        desiredCount: integer('desiredCount', args.desiredCount, 2, 0, 1000),
        ...fargateSize(args),
        cpuArchitecture: oneOf('cpuArchitecture', args.cpuArchitecture, Object.values(CpuArchitecture), 'X86_64'),
        migrationsFinish: args.migrationsFinish ?? true,
        logRetentionDays,
        logBucketExpireAfterDays: integer('logBucketExpireAfterDays', args.logBucketExpireAfterDays, 365, 1, 36500),
        waitForSteadyState: args.waitForSteadyState ?? true,
        ...(args.certificateArn !== undefined ? { certificateArn: args.certificateArn } : {}),
        loadBalancerDeletionProtection: args.loadBalancerDeletionProtection ?? true,
        proxyAllowedCidrs,
        ...(admin !== undefined ? { adminAllowedCidrs: admin } : {}),
        ...(args.kmsKeyArn !== undefined ? { kmsKeyArn: args.kmsKeyArn } : {}),
        ...(backupBucket ? { backupBucket } : {}),
        ...(disasterRecovery ? { disasterRecovery } : {}),
    };
}
