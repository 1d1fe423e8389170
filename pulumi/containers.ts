// The task's containers, as plain data: the migration steps, then Kong once they have succeeded. Built from resolved
// values so that the definitions can be read (and tested) without any AWS resource.
import { KONG_PORTS } from './firewall.js'

export interface KongConnection {
  /** Undefined in DB-less mode. */
  database?: { host: string; port: number; user: string; name: string }
  /** Addresses whose X-Forwarded-For Kong believes: the VPC, where the load balancers are. */
  trustedIps: string
  enforceRbac: boolean
}

export interface ContainerInputs {
  image: string
  region: string
  logGroup: string
  /** KONG_* values: the component's, then the caller's kongEnvironment. */
  environment: Record<string, string>
  /** KONG_* name → Secrets Manager or SSM ARN. */
  secrets: Record<string, string>
  /** Migration steps to run before Kong, in order (none in DB-less mode). */
  migrations: ('bootstrap' | 'up' | 'finish')[]
}

/** Kong's settings for running behind the load balancers, in a container, without exposing more than needed. */
export function kongEnvironment(connection: KongConnection): Record<string, string> {
  const environment: Record<string, string> = {
    KONG_PROXY_LISTEN: `0.0.0.0:${KONG_PORTS.proxy}`,
    KONG_ADMIN_LISTEN: `0.0.0.0:${KONG_PORTS.admin} ssl`,
    KONG_STATUS_LISTEN: `0.0.0.0:${KONG_PORTS.status}`,
    // Kong Manager is not published by the load balancers; do not run it.
    KONG_ADMIN_GUI_LISTEN: 'off',
    KONG_PROXY_ACCESS_LOG: '/dev/stdout',
    KONG_ADMIN_ACCESS_LOG: '/dev/stdout',
    KONG_PROXY_ERROR_LOG: '/dev/stderr',
    KONG_ADMIN_ERROR_LOG: '/dev/stderr',
    KONG_TRUSTED_IPS: connection.trustedIps,
    KONG_REAL_IP_HEADER: 'X-Forwarded-For',
    KONG_REAL_IP_RECURSIVE: 'on',
    KONG_ANONYMOUS_REPORTS: 'off',
  }
  if (connection.enforceRbac) environment.KONG_ENFORCE_RBAC = 'on'
  const database = connection.database
  if (!database) return { ...environment, KONG_DATABASE: 'off' }
  return {
    ...environment,
    KONG_DATABASE: 'postgres',
    KONG_PG_HOST: database.host,
    KONG_PG_PORT: String(database.port),
    KONG_PG_USER: database.user,
    KONG_PG_DATABASE: database.name,
    // RDS accepts TLS; requiring it means a misrouted connection fails instead of sending the password in clear.
    KONG_PG_SSL: 'on',
    KONG_PG_SSL_REQUIRED: 'on',
  }
}

function sorted(values: Record<string, string>, key: 'value' | 'valueFrom') {
  return Object.keys(values)
    .sort()
    .map((name) => ({ name, [key]: values[name]! }))
}

export function containerDefinitions(inputs: ContainerInputs): object[] {
  const shared = {
    image: inputs.image,
    environment: sorted(inputs.environment, 'value'),
    secrets: sorted(inputs.secrets, 'valueFrom'),
  }
  const logs = (prefix: string) => ({
    logDriver: 'awslogs',
    options: {
      'awslogs-group': inputs.logGroup,
      'awslogs-region': inputs.region,
      'awslogs-stream-prefix': prefix,
    },
  })
  // One container per step, chained on success: no shell is needed, so distroless images work too, and a failed
  // step stops the task before Kong starts on a half-migrated database.
  const steps = inputs.migrations.map((step, index) => ({
    name: `migrations-${step}`,
    ...shared,
    essential: false,
    command: ['kong', 'migrations', step],
    logConfiguration: logs('migrations'),
    ...(index > 0
      ? { dependsOn: [{ containerName: `migrations-${inputs.migrations[index - 1]}`, condition: 'SUCCESS' }] }
      : {}),
  }))
  const last = steps[steps.length - 1]
  const kong = {
    name: 'kong',
    ...shared,
    essential: true,
    portMappings: Object.entries(KONG_PORTS).map(([name, port]) => ({
      name,
      containerPort: port,
      protocol: 'tcp',
    })),
    healthCheck: {
      command: ['CMD', 'kong', 'health'],
      interval: 15,
      timeout: 10,
      retries: 3,
      startPeriod: 60,
    },
    // Kong stops on SIGQUIT after finishing requests in flight; give it the time to.
    stopTimeout: 30,
    linuxParameters: { initProcessEnabled: true },
    logConfiguration: logs('kong'),
    ...(last ? { dependsOn: [{ containerName: last.name, condition: 'SUCCESS' }] } : {}),
  }
  return [...steps, kong]
}
