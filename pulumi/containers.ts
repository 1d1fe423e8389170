// The task's containers, as plain data: the migration steps, then Kong once they have succeeded. Built from resolved
// values so that the definitions can be read (and tested) without any AWS resource.
import { KONG_PORTS } from './firewall.js'
import type { KonnectEndpoint } from './konnect-settings.js'

export interface KongConnection {
  /** Undefined in DB-less and Konnect modes. */
  database?: { host: string; port: number; user: string; name: string }
  /** Konnect mode: the control plane whose data plane this is. */
  konnect?: { controlPlane: KonnectEndpoint; telemetry: KonnectEndpoint }
  /** Addresses whose X-Forwarded-For Kong believes: the VPC, where the load balancers are. */
  trustedIps: string
  enforceRbac: boolean
}

/**
 * Where Kong writes: its prefix (nginx configuration, sockets, pid, its own TLS files) and /tmp (resty's temporary
 * files). Kong's documentation on read-only containers ("Install Kong Gateway in read-only mode", and the support
 * note on readOnlyRootFilesystem) asks for exactly these two writable paths. The image's default prefix,
 * /usr/local/kong, also holds Kong's libraries (docker-kong ubuntu/Dockerfile installs there), so the prefix moves
 * to a path of its own instead of hiding them under an empty volume.
 */
export const KONG_PREFIX = '/kong-prefix'
export const WRITABLE_VOLUMES = [
  { name: 'kong-prefix', containerPath: KONG_PREFIX },
  { name: 'tmp', containerPath: '/tmp' },
] as const
/** The Kong images run as this user (docker-kong ubuntu/Dockerfile: `USER kong`); named so it is never root. */
export const KONG_USER = 'kong'

export interface ContainerInputs {
  image: string
  region: string
  logGroup: string
  /** KONG_* values: the component's, then the caller's kongEnvironment. */
  environment: Record<string, string>
  /** KONG_* name → Secrets Manager or SSM ARN. */
  secrets: Record<string, string>
  /** Migration steps to run before Kong, in order (none without a database). */
  migrations: ('bootstrap' | 'up' | 'finish')[]
  /** False on a Konnect data plane: the Admin API's port is not published. */
  adminApi: boolean
}

/**
 * A Kong Konnect data plane, as Kong's "Install Kong Gateway in Konnect with Helm" how-to configures one
 * (developer.konghq.com, app/_how-tos/gateway/gateway-install-helm-konnect.md) and kong.conf.default describes each
 * setting. The certificate and key are ECS secrets (KONG_CLUSTER_CERT, KONG_CLUSTER_CERT_KEY), set in the service.
 */
export function konnectEnvironment(konnect: NonNullable<KongConnection['konnect']>): Record<string, string> {
  return {
    KONG_ROLE: 'data_plane',
    // A data plane runs DB-less (kong/conf_loader/parse.lua refuses any other database for role = data_plane).
    KONG_DATABASE: 'off',
    KONG_KONNECT_MODE: 'on',
    // Each data plane presents a certificate registered with the control plane; Konnect's is checked against the
    // system's CAs: with pki and no cluster_ca_cert, "set lua_ssl_trusted_certificate=system on the data plane"
    // (kong.conf.default, cluster_ca_cert).
    KONG_CLUSTER_MTLS: 'pki',
    KONG_LUA_SSL_TRUSTED_CERTIFICATE: 'system',
    // Both are `host:port`; each server name, the SNI, is the endpoint's host (Konnect's certificate names it).
    KONG_CLUSTER_CONTROL_PLANE: konnect.controlPlane.address,
    KONG_CLUSTER_SERVER_NAME: konnect.controlPlane.host,
    KONG_CLUSTER_TELEMETRY_ENDPOINT: konnect.telemetry.address,
    KONG_CLUSTER_TELEMETRY_SERVER_NAME: konnect.telemetry.host,
    // Kong Gateway 3.5.0.0 removed Vitals (developer.konghq.com, app/_data/changelogs/gateway.json); Kong reads
    // KONG_<SETTING> only for settings it has (kong/conf_loader/parse.lua, overrides), so a newer Kong ignores it.
    KONG_VITALS: 'off',
  }
}

/** Kong's settings for running behind the load balancers, in a container, without exposing more than needed. */
export function kongEnvironment(connection: KongConnection): Record<string, string> {
  // A data plane has no Admin API of its own: Konnect is where its configuration changes.
  const admin: Record<string, string> = connection.konnect
    ? { KONG_ADMIN_LISTEN: 'off' }
    : {
        KONG_ADMIN_LISTEN: `0.0.0.0:${KONG_PORTS.admin} ssl`,
        KONG_ADMIN_ACCESS_LOG: '/dev/stdout',
        KONG_ADMIN_ERROR_LOG: '/dev/stderr',
      }
  const environment: Record<string, string> = {
    // TLS to the proxy targets too, so traffic is encrypted end to end (Kong's own certificate; ALB does not verify
    // target certificates).
    KONG_PROXY_LISTEN: `0.0.0.0:${KONG_PORTS.proxy} ssl`,
    ...admin,
    KONG_STATUS_LISTEN: `0.0.0.0:${KONG_PORTS.status}`,
    // Kong Manager is not published by the load balancers; do not run it.
    KONG_ADMIN_GUI_LISTEN: 'off',
    KONG_PROXY_ACCESS_LOG: '/dev/stdout',
    KONG_PROXY_ERROR_LOG: '/dev/stderr',
    KONG_TRUSTED_IPS: connection.trustedIps,
    KONG_REAL_IP_HEADER: 'X-Forwarded-For',
    KONG_REAL_IP_RECURSIVE: 'on',
    KONG_ANONYMOUS_REPORTS: 'off',
    KONG_PREFIX,
  }
  if (connection.enforceRbac) environment.KONG_ENFORCE_RBAC = 'on'
  if (connection.konnect) return { ...environment, ...konnectEnvironment(connection.konnect) }
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

/** The volumes of the task: Fargate bind mounts, which live as long as the task. */
export function taskVolumes() {
  return WRITABLE_VOLUMES.map(({ name }) => ({ name }))
}

/**
 * Makes the task's bind mounts writable by Kong's user. Fargate creates them owned by root with mode 0755 (ECS
 * developer guide, "Use bind mounts with Amazon ECS": only a VOLUME directive of the image changes that, and the
 * Kong images declare none) and supports neither tmpfs mounts (ContainerDefinition linuxParameters.tmpfs: "not
 * supported for tasks run on Fargate") nor Docker volumes. This step runs as root without any capability: chmod on
 * a directory it owns needs none. Sticky and world-writable, like any /tmp. It needs the image's chmod, which the
 * Kong images have and distroless variants lack.
 */
function volumePermissions(image: string, logConfiguration: object) {
  return {
    name: 'volume-permissions',
    image,
    essential: false,
    user: '0',
    readonlyRootFilesystem: true,
    entryPoint: ['chmod'],
    command: ['1777', ...WRITABLE_VOLUMES.map(({ containerPath }) => containerPath)],
    mountPoints: mounts(),
    linuxParameters: { capabilities: { drop: ['ALL'] } },
    logConfiguration,
  }
}

function mounts() {
  return WRITABLE_VOLUMES.map(({ name, containerPath }) => ({
    sourceVolume: name,
    containerPath,
    readOnly: false,
  }))
}

export function containerDefinitions(inputs: ContainerInputs): object[] {
  const shared = {
    image: inputs.image,
    environment: sorted(inputs.environment, 'value'),
    secrets: sorted(inputs.secrets, 'valueFrom'),
    user: KONG_USER,
    // ECS.5: nothing outside the two volumes can be changed, by Kong or by an attacker inside it.
    readonlyRootFilesystem: true,
    mountPoints: mounts(),
  }
  const logs = (prefix: string) => ({
    logDriver: 'awslogs',
    options: {
      'awslogs-group': inputs.logGroup,
      'awslogs-region': inputs.region,
      'awslogs-stream-prefix': prefix,
    },
  })
  const prepare = volumePermissions(inputs.image, logs('prepare'))
  // One container per step, chained on success: no shell is needed, and a failed step stops the task before Kong
  // starts on a half-migrated database.
  const steps = inputs.migrations.map((step, index) => ({
    name: `migrations-${step}`,
    ...shared,
    essential: false,
    command: ['kong', 'migrations', step],
    logConfiguration: logs('migrations'),
    dependsOn: [
      {
        containerName: index > 0 ? `migrations-${inputs.migrations[index - 1]}` : prepare.name,
        condition: 'SUCCESS',
      },
    ],
  }))
  const last = steps[steps.length - 1]
  const kong = {
    name: 'kong',
    ...shared,
    essential: true,
    portMappings: Object.entries(KONG_PORTS)
      .filter(([name]) => inputs.adminApi || name !== 'admin')
      .map(([name, port]) => ({
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
    dependsOn: [{ containerName: last?.name ?? prepare.name, condition: 'SUCCESS' }],
  }
  return [prepare, ...steps, kong]
}
