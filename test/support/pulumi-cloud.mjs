// A pretend AWS account for Pulumi programs run under pulumi.runtime.setMocks: no engine, no cloud. Every resource
// is recorded with its inputs and answered with the outputs AWS or the providers would compute (only those the
// component reads); invokes are answered from a small description of the account. Plain JavaScript, so that both
// the Jest suites and a child `node` process running the built dist/pulumi can share it.

// A resource lives in the region its `region` input names, else the provider's (eu-west-1 here).
function arnOf(type, name, region = 'eu-west-1') {
  const [service, kind = 'component'] = type.split(':')[1].split('/')
  // Secrets Manager appends six random characters to a secret's name.
  if (type === 'aws:secretsmanager/secret:Secret')
    return `arn:aws:secretsmanager:${region}:123456789012:secret:${name}-AbCdEf`
  // Bucket ARNs name neither region nor account (Amazon S3 User Guide, "Policy resources").
  if (type === 'aws:s3/bucket:Bucket') return `arn:aws:s3:::${name}-generated`
  return `arn:aws:${service}:${region}:123456789012:${kind.toLowerCase()}/${name}`
}

// The provider's id of a resource, where the component reads it: most are the logical name here. Replicated
// automated backups are known by their DBInstanceAutomatedBackupsArn (terraform-provider-aws
// internal/service/rds/instance_automated_backups_replication.go; the import example of its documentation reads
// arn:aws:rds:us-east-1:123456789012:auto-backup:ab-…), created in the destination region.
function idOf(type, name, inputs) {
  if (type === 'aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication')
    return `arn:aws:rds:${inputs.region}:123456789012:auto-backup:ab-${name}`
  return `${name}-id`
}

// What RDS records as a restored instance's key: the key of the snapshot it came from, or of the instance a
// point-in-time restore read. RestoreDBInstanceFromDBSnapshot and RestoreDBInstanceToPointInTime take no KmsKeyId,
// and terraform-provider-aws (internal/service/rds/instance.go) reads kms_key_id back from DescribeDBInstances.
const SNAPSHOT_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/snapshot-key'
const SOURCE_INSTANCE_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/source-instance-key'
const RDS_DEFAULT_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/aws-rds-default'

function snapshotKey(cloud, registered, id) {
  const copy = registered.find(
    (r) => r.type === 'aws:rds/snapshotCopy:SnapshotCopy' && r.state?.targetDbSnapshotIdentifier === id,
  )
  return copy?.state.kmsKeyId ?? cloud.snapshots?.[id]?.kmsKeyId ?? SNAPSHOT_KEY
}

function restoredKey(cloud, registered, inputs) {
  if (inputs.snapshotIdentifier !== undefined)
    return snapshotKey(cloud, registered, inputs.snapshotIdentifier)
  if (inputs.restoreToPointInTime !== undefined) {
    const source = inputs.restoreToPointInTime.sourceDbInstanceIdentifier
    return cloud.instances?.[source]?.kmsKeyId ?? SOURCE_INSTANCE_KEY
  }
  return undefined
}

// Pulumi's auto-naming of a resource given no `name`: the logical name, `-` and 7 random characters. AWS caps these
// names at 32 characters; pulumi's resource.NewUniqueName refuses a longer one rather than cutting it.
const AUTO_NAMED = { 'aws:lb/loadBalancer:LoadBalancer': 32, 'aws:lb/targetGroup:TargetGroup': 32 }

function autoName(type, name) {
  const maxlen = AUTO_NAMED[type]
  if (maxlen === undefined) return `${name}-generated`
  const prefix = `${name}-`
  if (prefix.length + 7 > maxlen)
    throw new Error(`name '${prefix}' plus 7 random chars is longer than maximum length ${maxlen}`)
  return `${prefix}a1b2c3d`
}

function computed(type, name, inputs, cloud = {}, registered = []) {
  const arn = arnOf(type, name, inputs.region)
  const state = { ...inputs, arn, name: inputs.name ?? autoName(type, name) }
  switch (type) {
    case 'random:index/randomPassword:RandomPassword':
      return { ...state, result: `generated-${name}-password` }
    case 'random:index/randomId:RandomId':
      return { ...state, hex: 'a1b2c3d4' }
    case 'aws:kms/key:Key':
      return { ...state, keyId: `${name}-key-id` }
    case 'aws:rds/snapshotCopy:SnapshotCopy':
      // CopyDBSnapshot: the copy is encrypted with KmsKeyId when given, else with the source's key.
      return {
        ...state,
        dbSnapshotArn: `arn:aws:rds:eu-west-1:123456789012:snapshot:${inputs.targetDbSnapshotIdentifier}`,
        encrypted: true,
        kmsKeyId: inputs.kmsKeyId ?? snapshotKey(cloud, registered, inputs.sourceDbSnapshotIdentifier),
      }
    case 'aws:rds/instance:Instance': {
      const address = `${name}.abc.eu-west-1.rds.amazonaws.com`
      const restored = restoredKey(cloud, registered, inputs)
      // A restore names neither user nor database: RDS takes the snapshot's.
      return {
        ...state,
        engine: inputs.engine ?? 'postgres',
        kmsKeyId: restored ?? inputs.kmsKeyId ?? (inputs.storageEncrypted ? RDS_DEFAULT_KEY : undefined),
        storageEncrypted: restored !== undefined || inputs.storageEncrypted === true,
        identifier: `${name}-generated`,
        address,
        port: 5432,
        endpoint: `${address}:5432`,
        username: inputs.username ?? 'snapshot_user',
        dbName: inputs.dbName ?? 'snapshot_db',
      }
    }
    case 'aws:lb/loadBalancer:LoadBalancer':
      return { ...state, dnsName: `${name}.eu-west-1.elb.amazonaws.com` }
    case 'aws:s3/bucket:Bucket':
      return { ...state, bucket: `${name}-generated` }
    // @pulumi/tls computes keys and certificates locally; PEM-shaped stand-ins, not real key material.
    case 'tls:index/privateKey:PrivateKey':
      return {
        ...state,
        privateKeyPem: `-----BEGIN EC PRIVATE KEY-----\n${name}\n-----END EC PRIVATE KEY-----\n`,
        publicKeyPem: `-----BEGIN PUBLIC KEY-----\n${name}\n-----END PUBLIC KEY-----\n`,
      }
    case 'tls:index/selfSignedCert:SelfSignedCert':
      return { ...state, certPem: `-----BEGIN CERTIFICATE-----\n${name}\n-----END CERTIFICATE-----\n` }
    default:
      return state
  }
}

function answer(cloud, token, inputs) {
  switch (token) {
    case 'aws:index/getCallerIdentity:getCallerIdentity':
      return { accountId: '123456789012', arn: 'arn:aws:iam::123456789012:user/ci', userId: 'AIDAEXAMPLE' }
    case 'aws:index/getPartition:getPartition':
      return { partition: 'aws', dnsSuffix: 'amazonaws.com' }
    case 'aws:index/getRegion:getRegion':
      return { region: inputs.region ?? 'eu-west-1', name: inputs.region ?? 'eu-west-1' }
    case 'aws:index/getAvailabilityZones:getAvailabilityZones':
      return { names: cloud.zones ?? ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'] }
    case 'aws:ec2/getVpc:getVpc': {
      const vpc = cloud.vpcs?.[inputs.id]
      if (!vpc) throw new Error(`InvalidVpcID.NotFound: ${inputs.id}`)
      return { id: inputs.id, cidrBlock: vpc.cidrBlock }
    }
    case 'aws:ec2/getSubnet:getSubnet': {
      const subnet = cloud.subnets?.[inputs.id]
      if (!subnet) throw new Error(`InvalidSubnetID.NotFound: ${inputs.id}`)
      return { id: inputs.id, ...subnet }
    }
    default:
      throw new Error(`the test cloud does not answer ${token}`)
  }
}

export function mockCloud(cloud, registered, invoked = []) {
  return {
    newResource(args) {
      const state = computed(args.type, args.name, args.inputs, cloud, registered)
      registered.push({ type: args.type, name: args.name, inputs: args.inputs, state })
      return { id: idOf(args.type, args.name, args.inputs), state }
    },
    call(args) {
      invoked.push({ token: args.token, inputs: args.inputs })
      return answer(cloud, args.token, args.inputs)
    },
  }
}
