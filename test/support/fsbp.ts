// An evaluation of AWS Foundational Security Best Practices (FSBP) controls over what a Pulumi program registered
// under mocks: each control is the rule Security Hub documents for it (Security Hub user guide, "Security Hub CSPM
// controls for <service>", the control's section), applied to the recorded inputs. CloudWatch.16 is a NIST
// 800-53 control, evaluated because a year of logs is asked for. What cannot be decided from configuration is
// not applicable, with the reason.
import type { Registered } from './pulumi-mocks.js'

export type Outcome =
  { status: 'pass' } | { status: 'fail'; findings: string[] } | { status: 'not-applicable'; reason: string }

export interface Control {
  id: string
  title: string
  /** Where AWS documents the rule. */
  source: string
  check: (resources: Resources) => Outcome
}

export type Result = Outcome & { id: string; title: string }

const TYPES = {
  listener: 'aws:lb/listener:Listener',
  loadBalancer: 'aws:lb/loadBalancer:LoadBalancer',
  classicLoadBalancer: 'aws:elb/loadBalancer:LoadBalancer',
  service: 'aws:ecs/service:Service',
  cluster: 'aws:ecs/cluster:Cluster',
  task: 'aws:ecs/taskDefinition:TaskDefinition',
  taskSet: 'aws:ecs/taskSet:TaskSet',
  vpc: 'aws:ec2/vpc:Vpc',
  defaultSecurityGroup: 'aws:ec2/defaultSecurityGroup:DefaultSecurityGroup',
  flowLog: 'aws:ec2/flowLog:FlowLog',
  defaultNetworkAcl: 'aws:ec2/defaultNetworkAcl:DefaultNetworkAcl',
  subnet: 'aws:ec2/subnet:Subnet',
  ingress: 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule',
  db: 'aws:rds/instance:Instance',
  snapshotCopy: 'aws:rds/snapshotCopy:SnapshotCopy',
  bucket: 'aws:s3/bucket:Bucket',
  bucketPolicy: 'aws:s3/bucketPolicy:BucketPolicy',
  publicAccess: 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock',
  logging: 'aws:s3/bucketLogging:BucketLogging',
  ownership: 'aws:s3/bucketOwnershipControls:BucketOwnershipControls',
  acl: 'aws:s3/bucketAcl:BucketAcl',
  lifecycle: 'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration',
  encryption: 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
  key: 'aws:kms/key:Key',
  secret: 'aws:secretsmanager/secret:Secret',
  certificate: 'aws:acm/certificate:Certificate',
  selfSigned: 'tls:index/selfSignedCert:SelfSignedCert',
  privateKey: 'tls:index/privateKey:PrivateKey',
  logGroup: 'aws:cloudwatch/logGroup:LogGroup',
  rolePolicy: 'aws:iam/rolePolicy:RolePolicy',
  policy: 'aws:iam/policy:Policy',
} as const

/** What a program registered, looked up as the controls need it. Ids are the mocks' `<name>-id`. */
export class Resources {
  constructor(readonly all: Registered[]) {}
  of(type: string) {
    return this.all.filter((resource) => resource.type === type)
  }
  id(resource: Registered) {
    return `${resource.name}-id`
  }
  /** The configuration resources (policy, logging, …) of one bucket. */
  ofBucket(type: string, bucket: Registered) {
    return this.of(type).filter((r) => r.inputs.bucket === this.id(bucket))
  }
}

const label = (resource: Registered) => `${resource.type.split(':')[1]} ${resource.name}`

/** Passes when the predicate finds nothing wrong with any resource of the type; not applicable without one. */
function each(
  type: string,
  none: string,
  problem: (resource: Registered, all: Resources) => string | undefined,
) {
  return (resources: Resources): Outcome => {
    const found = resources.of(type)
    if (found.length === 0) return { status: 'not-applicable', reason: none }
    const findings = found.flatMap((resource) => {
      const wrong = problem(resource, resources)
      return wrong === undefined ? [] : [`${label(resource)}: ${wrong}`]
    })
    return findings.length === 0 ? { status: 'pass' } : { status: 'fail', findings }
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Container = Record<string, any>
const containers = (task: Registered): Container[] => JSON.parse(task.inputs.containerDefinitions)
function eachContainer(problem: (container: Container) => string | undefined) {
  return (task: Registered) => {
    const wrong = containers(task).flatMap((c) => {
      const p = problem(c)
      return p === undefined ? [] : [`${c.name} ${p}`]
    })
    return wrong.length > 0 ? wrong.join('; ') : undefined
  }
}

const ANYWHERE = (rule: Registered) => rule.inputs.cidrIpv4 === '0.0.0.0/0' || rule.inputs.cidrIpv6 === '::/0'
function opensPort(rule: Registered, port: number) {
  const { ipProtocol, fromPort, toPort } = rule.inputs
  return ipProtocol === '-1' || (fromPort <= port && port <= toPort)
}
function openPorts(resources: Resources, ports: number[], family?: 'ipv4' | 'ipv6') {
  return (): Outcome => {
    const findings = resources
      .of(TYPES.ingress)
      .filter((rule) =>
        family === 'ipv4'
          ? rule.inputs.cidrIpv4 === '0.0.0.0/0'
          : family === 'ipv6'
            ? rule.inputs.cidrIpv6 === '::/0'
            : ANYWHERE(rule),
      )
      .flatMap((rule) => {
        const open = ports.filter((port) => opensPort(rule, port))
        return open.length > 0 ? [`${label(rule)}: opens ${open.join(', ')} to the internet`] : []
      })
    return findings.length === 0 ? { status: 'pass' } : { status: 'fail', findings }
  }
}

/** EC2.19's high-risk ports (Security Hub user guide, EC2 controls, EC2.19). */
const HIGH_RISK_PORTS = [
  20, 21, 22, 23, 25, 110, 135, 143, 445, 1433, 1434, 3000, 3306, 3389, 4333, 5000, 5432, 5500, 5601, 8080,
  8088, 8888, 9200, 9300,
]
interface AclEntry {
  action: string
  protocol: string
  cidrBlock?: string
  fromPort: number
  toPort: number
}

/** ELB.17's recommended policies for HTTPS listeners. */
const RECOMMENDED_TLS_POLICIES = [
  'ELBSecurityPolicy-TLS13-1-2-2021-06',
  'ELBSecurityPolicy-TLS13-1-2-Res-2021-06',
  'ELBSecurityPolicy-TLS13-1-3-2021-06',
]
/** EC2.18's default authorizedTcpPorts. */
const AUTHORIZED_PORTS = [80, 443]

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function statements(policy: string): any[] {
  const document = JSON.parse(policy)
  return [document.Statement].flat()
}
const list = (value: unknown): string[] => (value === undefined ? [] : [value as string | string[]].flat())

/** The bucket other buckets log to, which S3.9 does not ask to log into itself. */
function isLogTarget(bucket: Registered, resources: Resources) {
  const name = bucket.state?.bucket ?? bucket.inputs.bucket
  return (
    resources.of(TYPES.logging).some((l) => l.inputs.targetBucket === name) ||
    resources.of(TYPES.loadBalancer).some((lb) => lb.inputs.accessLogs?.bucket === name)
  )
}

const ELB = 'Security Hub user guide, Elastic Load Balancing controls'
const ECS = 'Security Hub user guide, Amazon ECS controls'
const EC2 = 'Security Hub user guide, Amazon EC2 controls'
const RDS = 'Security Hub user guide, Amazon RDS controls'
const S3 = 'Security Hub user guide, Amazon S3 controls'
const SM = 'Security Hub user guide, Secrets Manager controls'

const noLoadBalancer = 'the program creates no load balancer'
const noTask = 'the program creates no task definition'
const noDatabase = 'no database: DB-less mode'
const noBucket = 'the program creates no bucket'
const callerVpc =
  "the VPC is the caller's: its default security group and flow logs are the caller's to manage"
const rotation =
  'Kong reads the generated database password, admin token and declarative configuration only when it starts, ' +
  'and the database password is also set on the RDS instance by the program: Secrets Manager rotation would ' +
  'leave running tasks with stale values. Rotated by hand (docs/pulumi.md, Security controls)'

export const CONTROLS: Control[] = [
  {
    id: 'ELB.1',
    title: 'Application Load Balancer should be configured to redirect all HTTP requests to HTTPS',
    source: `${ELB}, ELB.1`,
    check: each(TYPES.listener, noLoadBalancer, (listener) =>
      listener.inputs.protocol === 'HTTP' &&
      !listener.inputs.defaultActions.every(
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        (action: any) => action.type === 'redirect' && action.redirect?.protocol === 'HTTPS',
      )
        ? 'serves HTTP instead of redirecting to HTTPS'
        : undefined,
    ),
  },
  {
    id: 'ELB.4',
    title: 'Application Load Balancer should be configured to drop invalid http headers',
    source: `${ELB}, ELB.4`,
    check: each(TYPES.loadBalancer, noLoadBalancer, (lb) =>
      lb.inputs.dropInvalidHeaderFields === true ? undefined : 'keeps invalid header fields',
    ),
  },
  {
    id: 'ELB.5',
    title: 'Application and Classic Load Balancers logging should be enabled',
    source: `${ELB}, ELB.5`,
    check: each(TYPES.loadBalancer, noLoadBalancer, (lb) =>
      lb.inputs.accessLogs?.enabled === true && lb.inputs.accessLogs.bucket
        ? undefined
        : 'has no access logs',
    ),
  },
  {
    id: 'ELB.6',
    title: 'Application, Gateway, and Network Load Balancers should have deletion protection enabled',
    source: `${ELB}, ELB.6`,
    check: each(TYPES.loadBalancer, noLoadBalancer, (lb) =>
      lb.inputs.enableDeletionProtection === true ? undefined : 'can be deleted',
    ),
  },
  {
    id: 'ELB.8',
    title: 'Classic Load Balancers with SSL listeners should use a predefined security policy',
    source: `${ELB}, ELB.8`,
    check: each(
      TYPES.classicLoadBalancer,
      'Classic Load Balancers only; the gateway uses application load balancers',
      () => 'is a Classic Load Balancer',
    ),
  },
  {
    id: 'ELB.12',
    title:
      'Application Load Balancer should be configured with defensive or strictest desync mitigation mode',
    source: `${ELB}, ELB.12`,
    check: each(TYPES.loadBalancer, noLoadBalancer, (lb) =>
      ['defensive', 'strictest'].includes(lb.inputs.desyncMitigationMode) ? undefined : 'monitor mode',
    ),
  },
  {
    id: 'ELB.13',
    title: 'Application, Network and Gateway Load Balancers should span multiple Availability Zones',
    source: `${ELB}, ELB.13`,
    // The program gives subnets; network.ts checks at preview that they span two zones at least.
    check: each(TYPES.loadBalancer, noLoadBalancer, (lb) =>
      (lb.inputs.subnets ?? []).length >= 2 ? undefined : 'is in one subnet',
    ),
  },
  {
    id: 'ELB.17',
    title: 'Application and Network Load Balancers with listeners should use recommended security policies',
    source: `${ELB}, ELB.17`,
    check: each(TYPES.listener, noLoadBalancer, (listener) =>
      listener.inputs.protocol !== 'HTTPS' || RECOMMENDED_TLS_POLICIES.includes(listener.inputs.sslPolicy)
        ? undefined
        : `security policy ${listener.inputs.sslPolicy}`,
    ),
  },
  {
    id: 'ELB.18',
    title:
      'Application and Network Load Balancer listeners should use secure protocols to encrypt data in transit',
    source: `${ELB}, ELB.18`,
    check: each(TYPES.listener, noLoadBalancer, (listener) => {
      if (['HTTPS', 'TLS'].includes(listener.inputs.protocol)) return undefined
      // A listener that only redirects to HTTPS carries no data in clear; it is what ELB.1 asks for, and the control
      // text does not say how such a listener is judged.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const redirects = listener.inputs.defaultActions.every((a: any) => a.redirect?.protocol === 'HTTPS')
      return redirects ? undefined : `plain ${listener.inputs.protocol}`
    }),
  },
  {
    id: 'ECS.2',
    title: 'ECS services should not have public IP addresses assigned to them automatically',
    source: `${ECS}, ECS.2`,
    check: each(TYPES.service, 'the program creates no ECS service', (service) =>
      service.inputs.networkConfiguration?.assignPublicIp === true ? 'assigns public IPs' : undefined,
    ),
  },
  {
    id: 'ECS.3',
    title: "ECS task definitions should not share the host's process namespace",
    source: `${ECS}, ECS.3`,
    check: each(TYPES.task, noTask, (task) => (task.inputs.pidMode === 'host' ? 'pidMode host' : undefined)),
  },
  {
    id: 'ECS.4',
    title: 'ECS containers should run as non-privileged',
    source: `${ECS}, ECS.4`,
    check: each(
      TYPES.task,
      noTask,
      eachContainer((c) => (c.privileged === true ? 'is privileged' : undefined)),
    ),
  },
  {
    id: 'ECS.5',
    title: 'ECS containers should be limited to read-only access to root filesystems',
    source: `${ECS}, ECS.5`,
    check: each(
      TYPES.task,
      noTask,
      eachContainer((c) =>
        c.readonlyRootFilesystem === true ? undefined : 'has a writable root filesystem',
      ),
    ),
  },
  {
    id: 'ECS.8',
    title: 'Secrets should not be passed as container environment variables',
    source: `${ECS}, ECS.8`,
    check: each(
      TYPES.task,
      noTask,
      eachContainer((c) => {
        const names = (c.environment ?? []).map((e: { name: string }) => e.name)
        const found = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'ECS_ENGINE_AUTH_DATA'].filter((n) =>
          names.includes(n),
        )
        return found.length > 0 ? `has ${found.join(', ')} in its environment` : undefined
      }),
    ),
  },
  {
    id: 'ECS.9',
    title: 'ECS task definitions should have a logging configuration',
    source: `${ECS}, ECS.9`,
    check: each(
      TYPES.task,
      noTask,
      eachContainer((c) => (c.logConfiguration?.logDriver ? undefined : 'logs nowhere')),
    ),
  },
  {
    id: 'ECS.10',
    title: 'ECS Fargate services should run on the latest Fargate platform version',
    source: `${ECS}, ECS.10`,
    check: each(TYPES.service, 'the program creates no ECS service', (service) =>
      service.inputs.launchType === 'FARGATE' && (service.inputs.platformVersion ?? 'LATEST') !== 'LATEST'
        ? `platform ${service.inputs.platformVersion}`
        : undefined,
    ),
  },
  {
    id: 'ECS.12',
    title: 'ECS clusters should use Container Insights',
    source: `${ECS}, ECS.12`,
    check: each(TYPES.cluster, 'the program creates no ECS cluster', (cluster) =>
      (cluster.inputs.settings ?? []).some(
        (s: { name: string; value: string }) =>
          s.name === 'containerInsights' && ['enabled', 'enhanced'].includes(s.value),
      )
        ? undefined
        : 'without Container Insights',
    ),
  },
  {
    id: 'ECS.16',
    title: 'ECS task sets should not automatically assign public IP addresses',
    source: `${ECS}, ECS.16`,
    check: each(
      TYPES.taskSet,
      'no task sets: the service deploys with the ECS deployment controller',
      (set) => (set.inputs.networkConfiguration?.assignPublicIp === true ? 'assigns public IPs' : undefined),
    ),
  },
  {
    id: 'ECS.17',
    title: 'ECS task definitions should not use host network mode',
    source: `${ECS}, ECS.17`,
    check: each(TYPES.task, noTask, (task) =>
      task.inputs.networkMode === 'host' ? 'host network mode' : undefined,
    ),
  },
  {
    id: 'ECS.20',
    title: 'ECS Task Definitions should configure non-root users in Linux container definitions',
    source: `${ECS}, ECS.20`,
    check: each(
      TYPES.task,
      noTask,
      eachContainer((c) =>
        c.user === undefined || ['root', '0'].includes(String(c.user).split(':')[0]!)
          ? 'runs as root'
          : undefined,
      ),
    ),
  },
  {
    id: 'EC2.2',
    title: 'VPC default security groups should not allow inbound or outbound traffic',
    source: `${EC2}, EC2.2`,
    check: each(TYPES.vpc, callerVpc, (vpc, resources) => {
      const group = resources.of(TYPES.defaultSecurityGroup).find((g) => g.inputs.vpcId === resources.id(vpc))
      if (!group)
        return 'its default security group keeps the rules AWS gives it (all traffic within the group)'
      const rules = [...(group.inputs.ingress ?? []), ...(group.inputs.egress ?? [])]
      return rules.length > 0 ? 'its default security group has rules' : undefined
    }),
  },
  {
    id: 'EC2.6',
    title: 'VPC flow logging should be enabled in all VPCs',
    source: `${EC2}, EC2.6`,
    check: each(TYPES.vpc, callerVpc, (vpc, resources) =>
      resources
        .of(TYPES.flowLog)
        .some(
          (log) =>
            log.inputs.vpcId === resources.id(vpc) && ['REJECT', 'ALL'].includes(log.inputs.trafficType),
        )
        ? undefined
        : 'has no flow log of rejected traffic',
    ),
  },
  {
    id: 'EC2.15',
    title: 'EC2 subnets should not automatically assign public IP addresses',
    source: `${EC2}, EC2.15`,
    check: each(TYPES.subnet, "the subnets are the caller's", (subnet) =>
      subnet.inputs.mapPublicIpOnLaunch === true ? 'assigns public IPs on launch' : undefined,
    ),
  },
  {
    id: 'EC2.18',
    title: 'Security groups should only allow unrestricted incoming traffic for authorized ports',
    source: `${EC2}, EC2.18 (authorizedTcpPorts default 80, 443)`,
    check: (resources) => {
      const findings = resources
        .of(TYPES.ingress)
        .filter(ANYWHERE)
        .filter(
          (rule) =>
            rule.inputs.ipProtocol !== 'tcp' ||
            rule.inputs.fromPort !== rule.inputs.toPort ||
            !AUTHORIZED_PORTS.includes(rule.inputs.fromPort),
        )
        .map(
          (rule) => `${label(rule)}: ${rule.inputs.ipProtocol} ${rule.inputs.fromPort}-${rule.inputs.toPort}`,
        )
      return findings.length === 0 ? { status: 'pass' } : { status: 'fail', findings }
    },
  },
  {
    id: 'EC2.19',
    title: 'Security groups should not allow unrestricted access to ports with high risk',
    source: `${EC2}, EC2.19`,
    check: (resources) => openPorts(resources, HIGH_RISK_PORTS)(),
  },
  {
    id: 'EC2.21',
    title: 'Network ACLs should not allow ingress from 0.0.0.0/0 to port 22 or port 3389',
    source: `${EC2}, EC2.21; AWS Config rule nacl-no-unrestricted-ssh-rdp`,
    // A created VPC comes with a default network ACL that allows all traffic in, from anywhere (VPC user guide,
    // "Default network ACL"), whether or not the program registers it.
    check: each(TYPES.vpc, callerVpc, (_vpc, resources) => {
      const acls = resources.of(TYPES.defaultNetworkAcl)
      if (acls.length === 0) return 'its default network ACL allows all inbound traffic from 0.0.0.0/0'
      // The Config rule's wording: an inbound entry that allows 0.0.0.0/0 to 22 or 3389, whatever precedes it.
      const open = acls
        .flatMap((acl): AclEntry[] => acl.inputs.ingress ?? [])
        .filter(
          (entry) =>
            entry.action === 'allow' &&
            entry.cidrBlock === '0.0.0.0/0' &&
            [22, 3389].some(
              (port) => entry.protocol === '-1' || (entry.fromPort <= port && port <= entry.toPort),
            ),
        )
      return open.length > 0 ? 'its network ACL allows 22 or 3389 from 0.0.0.0/0' : undefined
    }),
  },
  {
    id: 'EC2.53',
    title:
      'EC2 security groups should not allow ingress from 0.0.0.0/0 to remote server administration ports',
    source: `${EC2}, EC2.53`,
    check: (resources) => openPorts(resources, [22, 3389], 'ipv4')(),
  },
  {
    id: 'EC2.54',
    title: 'EC2 security groups should not allow ingress from ::/0 to remote server administration ports',
    source: `${EC2}, EC2.54`,
    check: (resources) => openPorts(resources, [22, 3389], 'ipv6')(),
  },
  ...(
    [
      [
        'RDS.2',
        'RDS DB Instances should prohibit public access',
        (db: Registered) => (db.inputs.publiclyAccessible === false ? undefined : 'publicly accessible'),
      ],
      [
        'RDS.3',
        'RDS DB instances should have encryption at-rest enabled',
        (db: Registered) => (db.inputs.storageEncrypted === true ? undefined : 'unencrypted'),
      ],
      [
        'RDS.5',
        'RDS DB instances should be configured with multiple Availability Zones',
        (db: Registered) => (db.inputs.multiAz === true ? undefined : 'single-AZ'),
      ],
      [
        'RDS.6',
        'Enhanced monitoring should be configured for RDS DB instances',
        (db: Registered) =>
          db.inputs.monitoringInterval > 0 && db.inputs.monitoringRoleArn
            ? undefined
            : 'no enhanced monitoring',
      ],
      [
        'RDS.8',
        'RDS DB instances should have deletion protection enabled',
        (db: Registered) => (db.inputs.deletionProtection === true ? undefined : 'can be deleted'),
      ],
      [
        'RDS.9',
        'RDS DB instances should publish logs to CloudWatch Logs',
        (db: Registered) =>
          ['postgresql', 'upgrade'].every((l) => (db.inputs.enabledCloudwatchLogsExports ?? []).includes(l))
            ? undefined
            : 'does not export postgresql and upgrade logs',
      ],
      [
        'RDS.10',
        'IAM authentication should be configured for RDS instances',
        (db: Registered) =>
          db.inputs.iamDatabaseAuthenticationEnabled === true ? undefined : 'no IAM authentication',
      ],
      [
        'RDS.11',
        'RDS instances should have automatic backups enabled',
        (db: Registered) =>
          db.inputs.backupRetentionPeriod >= 7
            ? undefined
            : `backups kept ${db.inputs.backupRetentionPeriod} days`,
      ],
      [
        'RDS.13',
        'RDS automatic minor version upgrades should be enabled',
        (db: Registered) => (db.inputs.autoMinorVersionUpgrade === false ? 'no minor upgrades' : undefined),
      ],
      [
        'RDS.17',
        'RDS DB instances should be configured to copy tags to snapshots',
        (db: Registered) => (db.inputs.copyTagsToSnapshot === true ? undefined : 'tags not copied'),
      ],
    ] as const
  ).map(([id, title, problem]): Control => ({
    id,
    title,
    source: `${RDS}, ${id}`,
    check: each(TYPES.db, noDatabase, problem),
  })),
  {
    id: 'RDS.4',
    title: 'RDS cluster snapshots and database snapshots should be encrypted at rest',
    source: `${RDS}, RDS.4`,
    check: each(TYPES.snapshotCopy, 'the program copies no snapshot', (copy) =>
      copy.inputs.kmsKeyId ? undefined : 'copy keeps the source encryption, which may be none',
    ),
  },
  {
    id: 'RDS.23',
    title: 'RDS instances should not use a database engine default port',
    source: `${RDS}, RDS.23`,
    check: (resources) =>
      resources.of(TYPES.db).length === 0
        ? { status: 'not-applicable', reason: noDatabase }
        : {
            status: 'not-applicable',
            reason:
              'accepted: the database admits only the Kong tasks security group, in private subnets, with TLS and ' +
              'a 40-character password; another port would hide nothing from a client already in that group',
          },
  },
  {
    id: 'RDS.25',
    title: 'RDS database instances should use a custom administrator username',
    source: `${RDS}, RDS.25`,
    check: (resources) => {
      const dbs = resources.of(TYPES.db)
      if (dbs.length === 0) return { status: 'not-applicable', reason: noDatabase }
      if (dbs.every((db) => db.inputs.username === undefined)) {
        return { status: 'not-applicable', reason: 'a restore keeps the master user of its source' }
      }
      const findings = dbs
        .filter((db) => ['postgres', 'admin'].includes(db.inputs.username))
        .map((db) => `${label(db)}: master user ${db.inputs.username}`)
      return findings.length === 0 ? { status: 'pass' } : { status: 'fail', findings }
    },
  },
  {
    id: 'S3.5',
    title: 'S3 general purpose buckets should require requests to use SSL',
    source: `${S3}, S3.5`,
    check: each(TYPES.bucket, noBucket, (bucket, resources) =>
      resources
        .ofBucket(TYPES.bucketPolicy, bucket)
        .some((p) =>
          statements(p.inputs.policy).some(
            (s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false',
          ),
        )
        ? undefined
        : 'accepts plain HTTP',
    ),
  },
  {
    id: 'S3.8',
    title: 'S3 general purpose buckets should block public access',
    source: `${S3}, S3.8`,
    check: each(TYPES.bucket, noBucket, (bucket, resources) => {
      const block = resources.ofBucket(TYPES.publicAccess, bucket)[0]?.inputs
      const all = ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets']
      return block && all.every((k) => block[k] === true) ? undefined : 'public access not blocked'
    }),
  },
  {
    id: 'S3.9',
    title: 'S3 general purpose buckets should have server access logging enabled',
    source: `${S3}, S3.9; S3 user guide, "Enabling Amazon S3 server access logging" (a bucket logging to itself loops)`,
    check: (resources) => {
      const buckets = resources.of(TYPES.bucket).filter((b) => !isLogTarget(b, resources))
      if (resources.of(TYPES.bucket).length === 0) return { status: 'not-applicable', reason: noBucket }
      const findings = buckets
        .filter((b) => resources.ofBucket(TYPES.logging, b).length === 0)
        .map((b) => `${label(b)}: no server access logs`)
      if (findings.length > 0) return { status: 'fail', findings }
      return buckets.length === 0
        ? { status: 'not-applicable', reason: 'only the log bucket, which would log into itself' }
        : { status: 'pass' }
    },
  },
  {
    id: 'S3.12',
    title: 'ACLs should not be used to manage user access to S3 general purpose buckets',
    source: `${S3}, S3.12`,
    check: each(TYPES.bucket, noBucket, (bucket, resources) =>
      resources.ofBucket(TYPES.ownership, bucket)[0]?.inputs.rule?.objectOwnership ===
        'BucketOwnerEnforced' && resources.ofBucket(TYPES.acl, bucket).length === 0
        ? undefined
        : 'ACLs enabled',
    ),
  },
  {
    id: 'S3.13',
    title: 'S3 general purpose buckets should have Lifecycle configurations',
    source: `${S3}, S3.13`,
    check: each(TYPES.bucket, noBucket, (bucket, resources) =>
      resources
        .ofBucket(TYPES.lifecycle, bucket)
        .some((l) => l.inputs.rules.some((r: { status: string }) => r.status === 'Enabled'))
        ? undefined
        : 'no lifecycle rule',
    ),
  },
  {
    id: 'S3.17',
    title: 'S3 general purpose buckets should be encrypted at rest with AWS KMS keys',
    source: `${S3}, S3.17; ELB user guide, "Enable access logs for your Application Load Balancer" (SSE-S3 only)`,
    check: (resources) => {
      const buckets = resources.of(TYPES.bucket).filter((b) => !isLogTarget(b, resources))
      if (resources.of(TYPES.bucket).length === 0) return { status: 'not-applicable', reason: noBucket }
      const findings = buckets
        .filter(
          (b) =>
            !resources
              .ofBucket(TYPES.encryption, b)
              .some((e) =>
                e.inputs.rules.some((r: { applyServerSideEncryptionByDefault: { sseAlgorithm: string } }) =>
                  r.applyServerSideEncryptionByDefault.sseAlgorithm.startsWith('aws:kms'),
                ),
              ),
        )
        .map((b) => `${label(b)}: not under a KMS key`)
      if (findings.length > 0) return { status: 'fail', findings }
      return buckets.length === 0
        ? {
            status: 'not-applicable',
            reason: 'only the log bucket: load balancers deliver access logs to SSE-S3 buckets only',
          }
        : { status: 'pass' }
    },
  },
  {
    id: 'KMS.4',
    title: 'AWS KMS key rotation should be enabled',
    source: 'Security Hub user guide, AWS KMS controls, KMS.4',
    check: each(TYPES.key, "the key is the caller's (kmsKeyArn)", (key) =>
      key.inputs.enableKeyRotation === true ? undefined : 'no rotation',
    ),
  },
  ...(
    [
      ['SecretsManager.1', 'Secrets Manager secrets should have automatic rotation enabled'],
      [
        'SecretsManager.2',
        'Secrets Manager secrets configured with automatic rotation should rotate successfully',
      ],
      ['SecretsManager.4', 'Secrets Manager secrets should be rotated within a specified number of days'],
    ] as const
  ).map(([id, title]): Control => ({
    id,
    title,
    source: `${SM}, ${id}`,
    check: (resources) => ({
      status: 'not-applicable',
      reason: resources.of(TYPES.secret).length === 0 ? 'the program stores no secret' : rotation,
    }),
  })),
  {
    id: 'SecretsManager.3',
    title: 'Remove unused Secrets Manager secrets',
    source: `${SM}, SecretsManager.3`,
    check: (resources) => ({
      status: 'not-applicable',
      reason:
        resources.of(TYPES.secret).length === 0
          ? 'the program stores no secret'
          : 'decided by last access, not by configuration: every task start reads each secret',
    }),
  },
  {
    id: 'ACM.1',
    title: 'Imported and ACM-issued certificates should be renewed after a specified time period',
    source: 'Security Hub user guide, ACM controls, ACM.1 (daysToExpiration default 30)',
    check: (resources) => {
      const generated = resources.of(TYPES.selfSigned)
      if (resources.of(TYPES.certificate).length === 0) {
        return { status: 'not-applicable', reason: "the certificate is the caller's (certificateArn)" }
      }
      const findings = generated
        .filter((c) => !(c.inputs.earlyRenewalHours >= 30 * 24))
        .map((c) => `${label(c)}: renewed less than 30 days before it expires`)
      return findings.length === 0 && generated.length > 0 ? { status: 'pass' } : { status: 'fail', findings }
    },
  },
  {
    id: 'ACM.2',
    title: 'RSA certificates managed by ACM should use a key length of at least 2,048 bits',
    source: 'Security Hub user guide, ACM controls, ACM.2',
    check: (resources) => {
      if (resources.of(TYPES.certificate).length === 0) {
        return { status: 'not-applicable', reason: "the certificate is the caller's (certificateArn)" }
      }
      const rsa = resources.of(TYPES.privateKey).filter((k) => k.inputs.algorithm === 'RSA')
      if (rsa.length === 0)
        return { status: 'not-applicable', reason: 'an ECDSA P-256 key; the control checks RSA keys' }
      const findings = rsa
        .filter((k) => (k.inputs.rsaBits ?? 2048) < 2048)
        .map((k) => `${label(k)}: short RSA key`)
      return findings.length === 0 ? { status: 'pass' } : { status: 'fail', findings }
    },
  },
  {
    id: 'CloudWatch.16',
    title: 'CloudWatch log groups should be retained for a specified time period (NIST 800-53, not FSBP)',
    source: 'Security Hub user guide, CloudWatch controls, CloudWatch.16 (minRetentionTime default 365)',
    check: each(TYPES.logGroup, 'the program creates no log group', (group) =>
      group.inputs.retentionInDays === undefined || group.inputs.retentionInDays >= 365
        ? undefined
        : `kept ${group.inputs.retentionInDays} days`,
    ),
  },
  {
    id: 'IAM.1',
    title: 'IAM policies should not allow full "*" administrative privileges',
    source: 'Security Hub user guide, IAM controls, IAM.1 (applied here to inline policies too)',
    check: each(TYPES.rolePolicy, 'the program writes no IAM policy', (policy) =>
      statements(policy.inputs.policy).some(
        (s) => s.Effect === 'Allow' && list(s.Action).includes('*') && list(s.Resource).includes('*'),
      )
        ? 'allows * on *'
        : undefined,
    ),
  },
  {
    id: 'IAM.21',
    title: 'IAM customer managed policies that you create should not allow wildcard actions for services',
    source: 'Security Hub user guide, IAM controls, IAM.21 (applied here to inline policies too)',
    check: each(TYPES.rolePolicy, 'the program writes no IAM policy', (policy) => {
      const wild = statements(policy.inputs.policy)
        .filter((s) => s.Effect === 'Allow')
        .flatMap((s) => list(s.Action))
        .filter((action) => action === '*' || action.endsWith(':*'))
      return wild.length > 0 ? `allows ${wild.join(', ')}` : undefined
    }),
  },
]

/** Every control's result over what a program registered. */
export function evaluate(registered: Registered[], controls: Control[] = CONTROLS): Result[] {
  const resources = new Resources(registered)
  return controls.map((control) => ({ id: control.id, title: control.title, ...control.check(resources) }))
}

export function byStatus(results: Result[], status: Outcome['status']) {
  return results.filter((result) => result.status === status)
}
