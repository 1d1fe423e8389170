// KongGateway's recovery options under Pulumi's mocks: Kong's own database role on a restored database, and copies
// of the backups in a second region for losing the gateway's region.
import { describe, expect, test } from '@jest/globals'

import { KongGateway, type KongGatewayArgs } from '../pulumi/index.js'
import { replicationPolicy } from '../pulumi/disaster-recovery.js'
import { deployGateway, refusal, T } from './support/kong-gateway.js'
import { runProgram, valueOf, type Cloud } from './support/pulumi-mocks.js'

const KONG_PASSWORD = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kong-app-password-AbCdEf'
const GATEWAY_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/kong-key'
const DR_KEY = 'arn:aws:kms:us-east-1:123456789012:key/kong-dr-key'

const deploy = deployGateway

describe("a restore connects Kong with Kong's own role and database", () => {
  const restored: KongGatewayArgs = {
    restoreFromSnapshot: 'kong-nightly-2026-11-20',
    database: { username: 'kong_app', databaseName: 'kong_prod', passwordSecretArn: KONG_PASSWORD },
  }

  test('a snapshot restore with a role other than the master user passes that role, database and password', async () => {
    const d = await deploy('dr', restored)
    expect(d.environment()).toMatchObject({ KONG_PG_USER: 'kong_app', KONG_PG_DATABASE: 'kong_prod' })
    expect(d.secrets().KONG_PG_PASSWORD).toBe(KONG_PASSWORD)
    // The master user keeps its generated password, reset on the restored instance; Kong does not receive it.
    const db = d.one(T.db).inputs
    expect(db.username).toBeUndefined()
    expect(db.dbName).toBeUndefined()
    expect(db.password).toBeDefined()
    const master = await valueOf(d.gateway.databasePasswordSecretArn)
    expect(master).toMatch(/:secret:dr-db-password-/)
    expect(Object.values(d.secrets())).not.toContain(master)
    // The execution role may read the caller's secret (and, as before, no other).
    const policy = JSON.parse(d.one(T.rolePolicy, 'dr-read-secrets').inputs.policy)
    const readable = policy.Statement.filter(
      (s: { Action: string }) => s.Action === 'secretsmanager:GetSecretValue',
    ).flatMap((s: { Resource: string[] }) => s.Resource)
    expect(readable).toContain(KONG_PASSWORD)
    expect(readable).not.toContain(master)
  })

  test("a JSON secret's key and a secret under another key reach the task and the execution role", async () => {
    const key = 'arn:aws:kms:eu-west-1:123456789012:key/app-secrets'
    const d = await deploy('dr', {
      restoreToPointInTime: { sourceDbInstanceIdentifier: 'kong-db-1a2b3c4', useLatestRestorableTime: true },
      database: { username: 'kong_app', passwordSecretArn: `${KONG_PASSWORD}:password::` },
      secretsKmsKeyArns: [key],
    })
    expect(d.secrets().KONG_PG_PASSWORD).toBe(`${KONG_PASSWORD}:password::`)
    // A database left unnamed is the restored instance's initial one.
    expect(d.environment()).toMatchObject({ KONG_PG_USER: 'kong_app', KONG_PG_DATABASE: 'snapshot_db' })
    const policy = JSON.parse(d.one(T.rolePolicy, 'dr-read-secrets').inputs.policy)
    expect(JSON.stringify(policy)).toContain(KONG_PASSWORD)
    expect(policy.Statement).toContainEqual(
      expect.objectContaining({ Action: 'kms:Decrypt', Resource: [key] }),
    )
  })

  test('by default a restore connects as the restored master user, to its initial database, with the reset password', async () => {
    const d = await deploy('dr', { restoreFromSnapshot: 'kong-nightly-2026-11-20' })
    expect(d.environment()).toMatchObject({ KONG_PG_USER: 'snapshot_user', KONG_PG_DATABASE: 'snapshot_db' })
    expect(d.secrets().KONG_PG_PASSWORD).toBe(await valueOf(d.gateway.databasePasswordSecretArn))
  })

  test('only the database is named: the master user connects to it', async () => {
    const d = await deploy('dr', { restoreFromSnapshot: 'snap', database: { databaseName: 'kong_prod' } })
    expect(d.environment()).toMatchObject({ KONG_PG_USER: 'snapshot_user', KONG_PG_DATABASE: 'kong_prod' })
    expect(d.secrets().KONG_PG_PASSWORD).toBe(await valueOf(d.gateway.databasePasswordSecretArn))
  })

  test("a new database is unchanged: its master user and database are Kong's", async () => {
    const d = await deploy('kong', { database: { username: 'kong_owner', databaseName: 'gateway' } })
    expect(d.one(T.db).inputs).toMatchObject({ username: 'kong_owner', dbName: 'gateway' })
    expect(d.environment()).toMatchObject({ KONG_PG_USER: 'kong_owner', KONG_PG_DATABASE: 'gateway' })
  })

  test.each([
    [
      { database: { passwordSecretArn: KONG_PASSWORD } },
      "KongGateway database.passwordSecretArn: is the password of Kong's role in a restored database",
    ],
    [
      { restoreFromSnapshot: 'snap', database: { username: 'kong_app' } },
      'KongGateway database.passwordSecretArn: is missing: on a restore Kong would connect as "kong_app"',
    ],
    [
      { restoreFromSnapshot: 'snap', database: { passwordSecretArn: KONG_PASSWORD } },
      'KongGateway database.username: is missing: database.passwordSecretArn is the password of a role other',
    ],
    [
      {
        restoreFromSnapshot: 'snap',
        database: { username: 'kong_app', passwordSecretArn: 'kong-app-password' },
      },
      'KongGateway database.passwordSecretArn: "kong-app-password" is not an ARN of the right kind',
    ],
    [
      {
        restoreFromSnapshot: 'snap',
        database: {
          username: 'kong_app',
          passwordSecretArn: 'arn:aws:ssm:eu-west-1:123456789012:parameter/kong-app-password',
        },
      },
      'KongGateway database.passwordSecretArn: "arn:aws:ssm:',
    ],
  ] as [KongGatewayArgs, string][])('refused before anything registers: %j', async (args, message) => {
    expect(await refusal(args)).toContain(message)
  })
})

describe('disasterRecovery copies the backups to a second region', () => {
  const DR = { region: 'us-east-1' }

  test('replicates the automated backups there, under a new key of that region, and names them as an output', async () => {
    const d = await deploy('kong', { disasterRecovery: DR })
    const key = d.one(T.key, 'kong-dr-key')
    expect(key.inputs).toMatchObject({ region: 'us-east-1', enableKeyRotation: true })
    const drKey = key.state!.arn
    expect(drKey).toMatch(/^arn:aws:kms:us-east-1:/)
    expect(d.one(T.automatedBackups).inputs).toEqual({
      region: 'us-east-1',
      sourceDbInstanceArn: d.one(T.db).state!.arn,
      kmsKeyId: drKey,
      // The database's own retention unless told otherwise.
      retentionPeriod: 14,
    })
    expect(await valueOf(d.gateway.disasterRecoveryAutomatedBackupsArn)).toBe(
      'arn:aws:rds:us-east-1:123456789012:auto-backup:ab-kong-db-backups',
    )
    expect(await valueOf(d.gateway.disasterRecoveryKmsKeyArn)).toBe(drKey)
  })

  test('the key in the second region is retained when the stack is destroyed', async () => {
    const retained: string[] = []
    await runProgram(
      {},
      () =>
        new KongGateway(
          'kong',
          { disasterRecovery: DR },
          {
            transformations: [
              (args) => {
                if (args.opts.retainOnDelete) retained.push(args.name)
                return undefined
              },
            ],
          },
        ),
    )
    expect(retained).toEqual(
      expect.arrayContaining(['kong-key', 'kong-dr-key', 'kong-backups', 'kong-dr-backups']),
    )
  })

  test('replicates the backup bucket to a private, versioned, encrypted, TLS-only bucket there', async () => {
    const d = await deploy('kong', { disasterRecovery: { ...DR, backupRetentionDays: 7 } })
    const drKey = d.one(T.key, 'kong-dr-key').state!.arn
    const replica = d.one(T.bucket, 'kong-dr-backups')
    expect(replica.inputs.region).toBe('us-east-1')
    expect(d.one(T.automatedBackups).inputs.retentionPeriod).toBe(7)
    for (const type of [T.publicAccess, T.versioning, T.encryption, T.ownership, T.bucketPolicy])
      expect(d.one(type, 'kong-dr-backups').inputs.region).toBe('us-east-1')
    expect(d.one(T.publicAccess, 'kong-dr-backups').inputs).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    })
    expect(d.one(T.versioning, 'kong-dr-backups').inputs.versioningConfiguration).toEqual({
      status: 'Enabled',
    })
    expect(d.one(T.ownership, 'kong-dr-backups').inputs.rule).toEqual({
      objectOwnership: 'BucketOwnerEnforced',
    })
    expect(d.one(T.encryption, 'kong-dr-backups').inputs.rules[0].applyServerSideEncryptionByDefault).toEqual(
      {
        sseAlgorithm: 'aws:kms',
        kmsMasterKeyId: drKey,
      },
    )
    expect(JSON.parse(d.one(T.bucketPolicy, 'kong-dr-backups').inputs.policy).Statement[0]).toMatchObject({
      Effect: 'Deny',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    })

    const source = d.one(T.bucket, 'kong-backups')
    const replication = d.one(T.replication).inputs
    expect(replication.bucket).toBe('kong-backups-id')
    expect(replication.region).toBeUndefined()
    expect(replication.rules).toEqual([
      {
        id: 'disaster-recovery',
        status: 'Enabled',
        filter: {},
        deleteMarkerReplication: { status: 'Disabled' },
        sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: 'Enabled' } },
        destination: { bucket: replica.state!.arn, encryptionConfiguration: { replicaKmsKeyId: drKey } },
      },
    ])
    const role = d.one(T.role, 'kong-backups-replication')
    expect(replication.role).toBe(role.state!.arn)
    expect(JSON.parse(role.inputs.assumeRolePolicy).Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ])
    const policy = JSON.parse(d.one(T.rolePolicy, 'kong-backups-replication').inputs.policy)
    expect(policy).toEqual(
      JSON.parse(
        replicationPolicy({
          from: source.state!.arn,
          to: replica.state!.arn,
          fromKey: await valueOf(d.gateway.kmsKeyArn),
          toKey: drKey,
          fromRegion: 'eu-west-1',
          toRegion: 'us-east-1',
          locked: false,
        }),
      ),
    )
    expect(await valueOf(d.gateway.disasterRecoveryBucketName)).toBe('kong-dr-backups-generated')
    expect(await valueOf(d.gateway.disasterRecoveryBackupStore)).toBe('s3://kong-dr-backups-generated/kong')
  })

  test('the replication role may do only what replication needs, on these buckets and keys', () => {
    const from = 'arn:aws:s3:::kong-backups'
    const to = 'arn:aws:s3:::kong-dr-backups'
    const statements = JSON.parse(
      replicationPolicy({
        from,
        to,
        fromKey: GATEWAY_KEY,
        toKey: DR_KEY,
        fromRegion: 'eu-west-1',
        toRegion: 'us-east-1',
        locked: false,
      }),
    ).Statement
    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'], Resource: from },
      {
        Effect: 'Allow',
        Action: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'],
        Resource: `${from}/*`,
      },
      // No s3:ReplicateDelete: delete markers are not replicated.
      { Effect: 'Allow', Action: ['s3:ReplicateObject', 's3:ReplicateTags'], Resource: `${to}/*` },
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: GATEWAY_KEY,
        Condition: {
          StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' },
          StringLike: { 'kms:EncryptionContext:aws:s3:arn': [from, `${from}/*`] },
        },
      },
      {
        Effect: 'Allow',
        Action: ['kms:Encrypt', 'kms:GenerateDataKey'],
        Resource: DR_KEY,
        Condition: {
          StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' },
          StringLike: { 'kms:EncryptionContext:aws:s3:arn': [to, `${to}/*`] },
        },
      },
    ])
  })

  test('a locked backup bucket has a locked replica, and the role reads retention and legal holds', async () => {
    const d = await deploy('kong', {
      backupBucket: { objectLock: { mode: 'COMPLIANCE', days: 30 } },
      disasterRecovery: DR,
    })
    expect(d.one(T.bucket, 'kong-dr-backups').inputs.objectLockEnabled).toBe(true)
    expect(d.one(T.objectLock, 'kong-dr-backups').inputs).toMatchObject({
      region: 'us-east-1',
      rule: { defaultRetention: { mode: 'COMPLIANCE', days: 30 } },
    })
    const policy = JSON.parse(d.one(T.rolePolicy, 'kong-backups-replication').inputs.policy)
    expect(policy.Statement[1].Action).toEqual(
      expect.arrayContaining(['s3:GetObjectRetention', 's3:GetObjectLegalHold']),
    )
  })

  test("the caller's key of the second region is used, and no key is created", async () => {
    const d = await deploy('kong', { kmsKeyArn: GATEWAY_KEY, disasterRecovery: { ...DR, kmsKeyArn: DR_KEY } })
    expect(d.all(T.key)).toEqual([])
    expect(d.one(T.automatedBackups).inputs.kmsKeyId).toBe(DR_KEY)
    expect(
      d.one(T.encryption, 'kong-dr-backups').inputs.rules[0].applyServerSideEncryptionByDefault
        .kmsMasterKeyId,
    ).toBe(DR_KEY)
    expect(d.one(T.replication).inputs.rules[0].destination.encryptionConfiguration).toEqual({
      replicaKmsKeyId: DR_KEY,
    })
  })

  test('DB-less: only the bucket is replicated', async () => {
    const d = await deploy('edge', { mode: 'dbless', disasterRecovery: DR })
    expect(d.all(T.automatedBackups)).toEqual([])
    expect(d.all(T.replication)).toHaveLength(1)
    expect(await valueOf(d.gateway.disasterRecoveryAutomatedBackupsArn)).toBeUndefined()
    expect(await valueOf(d.gateway.disasterRecoveryBucketName)).toBe('edge-dr-backups-generated')
  })

  test("the replica's server access logs go to a log bucket of its own region", async () => {
    const d = await deploy('kong', { disasterRecovery: DR })
    // S3 delivers server access logs only into a bucket of the source bucket's region.
    const logs = d.one(T.bucket, 'kong-dr-logs')
    expect(logs.inputs.region).toBe('us-east-1')
    const logging = d.all('aws:s3/bucketLogging:BucketLogging').find((r) => r.name === 'kong-dr-backups')!
    expect(logging.inputs).toMatchObject({
      region: 'us-east-1',
      targetBucket: logs.state!.bucket,
      targetPrefix: 'backup-bucket/',
    })
  })

  test('no backup bucket: only the automated backups are replicated', async () => {
    const d = await deploy('kong', { backupBucket: { enabled: false }, disasterRecovery: DR })
    expect(d.all(T.automatedBackups)).toHaveLength(1)
    expect(d.all(T.replication)).toEqual([])
    // Only the gateway's log bucket: no backup bucket, no replica, no log bucket in the second region.
    expect(d.all(T.bucket).map((bucket) => bucket.name)).toEqual(['kong-logs'])
    expect(await valueOf(d.gateway.disasterRecoveryBucketName)).toBeUndefined()
  })

  test('without the option nothing is copied', async () => {
    const d = await deploy('kong')
    expect(d.all(T.automatedBackups)).toEqual([])
    expect(d.all(T.replication)).toEqual([])
    expect(await valueOf(d.gateway.disasterRecoveryBackupStore)).toBeUndefined()
  })

  test.each([
    [
      { region: 'eu-west-1', disasterRecovery: { region: 'eu-west-1' } },
      "disasterRecovery.region: is the gateway's own region (eu-west-1)",
    ],
    [
      { disasterRecovery: { region: 'virginia' } },
      'disasterRecovery.region: "virginia" is not an AWS region',
    ],
    [
      { disasterRecovery: { region: 'us-east-1', kmsKeyArn: GATEWAY_KEY } },
      'disasterRecovery.kmsKeyArn: is a key of eu-west-1; the copies in us-east-1 need a key of us-east-1',
    ],
    [
      { disasterRecovery: { region: 'us-east-1', kmsKeyArn: 'alias/kong' } },
      'disasterRecovery.kmsKeyArn: "alias/kong" is not an ARN of the right kind',
    ],
    [
      { disasterRecovery: { region: 'us-east-1', backupRetentionDays: 36 } },
      'disasterRecovery.backupRetentionDays: 36 is not',
    ],
    [
      { mode: 'dbless', backupBucket: { enabled: false }, disasterRecovery: { region: 'us-east-1' } },
      'disasterRecovery: has nothing to copy',
    ],
    [
      { mode: 'dbless', disasterRecovery: { region: 'us-east-1', backupRetentionDays: 7 } },
      'disasterRecovery.backupRetentionDays: is for the automated backups of a database',
    ],
  ] as [KongGatewayArgs, string][])('refused before anything registers: %j', async (args, message) => {
    expect(await refusal(args)).toContain(`KongGateway ${message}`)
  })
})

// The provider replaces an aws_db_instance, and an aws_db_instance_automated_backups_replication, when a ForceNew
// field differs from what it recorded (terraform-provider-aws internal/service/rds/instance.go and
// instance_automated_backups_replication.go: source_db_instance_arn, kms_key_id, retention_period are ForceNew).
const FORCE_NEW: Record<string, string[]> = {
  [T.db]: [
    'dbName',
    'identifier',
    'kmsKeyId',
    'restoreToPointInTime',
    'snapshotIdentifier',
    'storageEncrypted',
    'username',
  ],
  [T.automatedBackups]: ['sourceDbInstanceArn', 'kmsKeyId', 'retentionPeriod', 'region'],
}

describe('the next up after a restore with disasterRecovery plans no replacement', () => {
  const CLOUD: Cloud = {
    snapshots: { 'kong-nightly-2026-11-20': { kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/old' } },
  }

  test.each([
    ['a snapshot restore', { restoreFromSnapshot: 'kong-nightly-2026-11-20' }],
    [
      'a point-in-time restore from replicated backups',
      {
        restoreToPointInTime: {
          sourceDbInstanceAutomatedBackupsArn: 'arn:aws:rds:eu-west-1:123456789012:auto-backup:ab-old',
          useLatestRestorableTime: true,
        },
        database: { username: 'kong_app', passwordSecretArn: KONG_PASSWORD },
      },
    ],
  ] as [string, KongGatewayArgs][])('%s', async (_, restore) => {
    const args: KongGatewayArgs = { ...restore, disasterRecovery: { region: 'us-east-1' } }
    const first = await deploy('dr', args, CLOUD)
    const next = await deploy('dr', args, CLOUD)
    for (const [type, fields] of Object.entries(FORCE_NEW)) {
      const recorded = first.one(type).state!
      const planned = next.one(type).inputs
      const changed = fields.filter(
        (field) =>
          planned[field] !== undefined && JSON.stringify(planned[field]) !== JSON.stringify(recorded[field]),
      )
      expect({ type, changed }).toEqual({ type, changed: [] })
    }
    expect(first.one(T.automatedBackups).inputs.sourceDbInstanceArn).toBe(first.one(T.db).state!.arn)
  })
})
