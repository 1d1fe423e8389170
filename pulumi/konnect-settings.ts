// Checks the Konnect mode's arguments before anything registers: the control plane the data planes join, their
// certificate, and the arguments that mean nothing without a database or an Admin API.
import * as pulumi from '@pulumi/pulumi'

import type { KongGatewayArgs } from './args.js'
import { atLeast } from './kong-image.js'
import { checkArn, fail, type GatewayImage } from './settings.js'

/** A Konnect endpoint: `host:port` as Konnect shows it, and the host, which is also its TLS server name. */
export interface KonnectEndpoint {
  address: string
  host: string
}

export interface KonnectSettings {
  controlPlane: KonnectEndpoint
  telemetry: KonnectEndpoint
  certificateSecretArn: pulumi.Input<string>
  keySecretArn: pulumi.Input<string>
}

/** Settings the component sets on a data plane: a caller overriding one would cut it off from Konnect. */
export const KONNECT_KONG_SETTINGS = new Set([
  'KONG_ROLE',
  'KONG_KONNECT_MODE',
  'KONG_CLUSTER_MTLS',
  'KONG_CLUSTER_CONTROL_PLANE',
  'KONG_CLUSTER_SERVER_NAME',
  'KONG_CLUSTER_TELEMETRY_ENDPOINT',
  'KONG_CLUSTER_TELEMETRY_SERVER_NAME',
  'KONG_CLUSTER_CERT',
  'KONG_CLUSTER_CERT_KEY',
  'KONG_LUA_SSL_TRUSTED_CERTIFICATE',
])

const NO_DATABASE = 'Konnect keeps the configuration, and its data planes have no database'
const NO_ADMIN_API = 'data planes have no Admin API; the configuration changes in Konnect'
/** Arguments of the other modes, and why a data plane has no use for them. */
const NOT_FOR_DATA_PLANES: [keyof KongGatewayArgs, string][] = [
  ['database', NO_DATABASE],
  ['restoreFromSnapshot', NO_DATABASE],
  ['restoreToPointInTime', NO_DATABASE],
  ['migrationsFinish', NO_DATABASE],
  ['declarativeConfig', 'data planes get their configuration from the Konnect control plane'],
  ['adminAllowedCidrs', NO_ADMIN_API],
  ['allowAdminFromAnywhere', NO_ADMIN_API],
  ['adminTokenSecretArn', NO_ADMIN_API],
  // Kong's Konnect landing page (developer.konghq.com, app/_landing_pages/konnect.yaml): data planes "automatically
  // inherit the license from the Konnect control plane".
  ['licenseSecretArn', 'Konnect gives its data planes their licence'],
]

const HOST_PORT =
  /^([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+):(\d{1,5})$/

/** kong.conf's cluster_control_plane and cluster_telemetry_endpoint are `host:port` (kong.conf.default). */
function endpoint(argument: string, value: unknown, example: string): KonnectEndpoint {
  if (typeof value !== 'string') fail(argument, `is missing: give it as Konnect shows it, such as ${example}`)
  const match = HOST_PORT.exec(value)
  const port = Number(match?.[2])
  if (!match || port < 1 || port > 65535) {
    const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.exec(value)?.[0]
    fail(
      argument,
      `"${value}" is not host:port as Konnect shows it, such as ${example}` +
        (scheme ? `: leave out "${scheme}" and give the port` : ''),
    )
  }
  return { address: value, host: match[1]! }
}

/** Validates Konnect mode (or refuses `konnect` in another mode) and returns its settings. */
export function konnectSettings(
  args: KongGatewayArgs,
  mode: string,
  image: GatewayImage,
): KonnectSettings | undefined {
  if (mode !== 'konnect') {
    if (args.konnect !== undefined) {
      fail('konnect', `is for mode: "konnect" (the mode is "${mode}"); set mode: "konnect" or leave it out`)
    }
    return undefined
  }
  for (const [key, why] of NOT_FOR_DATA_PLANES) {
    if (args[key] !== undefined) fail(key, `does not apply in Konnect mode: ${why}`)
  }
  const options = args.konnect
  if (options === undefined) {
    fail(
      'konnect',
      'is missing: mode "konnect" needs the control plane endpoint, the telemetry endpoint and the data plane ' +
        'certificate and key, which Konnect shows under Add Data Plane Node',
    )
  }
  // Kong's Konnect error catalogue (developer.konghq.com, app/_data/version_errors_konnect.yml, P001): "Kong data
  // plane nodes running OSS versions are not supported on the Konnect platform and will not receive any traffic".
  if (image.edition !== 'enterprise') {
    fail(
      'kongImage',
      'is the open-source image, and Konnect gives no traffic to open-source data planes: use Kong Gateway ' +
        'Enterprise (kong/kong-gateway), or edition: "enterprise" for an image of your own',
    )
  }
  // KONG_CLUSTER_CERT and KONG_CLUSTER_CERT_KEY carry the PEM itself, which Kong accepts since 3.1.0 (Kong/kong
  // e230d0885f, "allow *_cert and *_cert_key to be stored in environment variables and vaults").
  const parsed = image.parsed
  if (!pulumi.Output.isInstance(parsed) && !(parsed instanceof Promise) && !atLeast(parsed, 3, 1)) {
    fail(
      'kongImage',
      `${parsed.reference} is older than Kong 3.1: before it, Kong reads the cluster certificate only from a file`,
    )
  }
  const certificateSecretArn = options.clusterCertificateSecretArn
  const keySecretArn = options.clusterCertificateKeySecretArn
  const secrets = [
    ['konnect.clusterCertificateSecretArn', certificateSecretArn, 'certificate', 'kong-dp-cert'],
    ['konnect.clusterCertificateKeySecretArn', keySecretArn, 'private key', 'kong-dp-key'],
  ] as const
  for (const [argument, arn, what, name] of secrets) {
    const example = `arn:aws:secretsmanager:…:secret:${name}-AbCdEf`
    if (arn === undefined) {
      fail(
        argument,
        `is missing: the Secrets Manager ARN of the data plane ${what} (PEM), such as ${example}`,
      )
    }
    checkArn(argument, arn, /^secretsmanager$/, example)
  }
  return {
    controlPlane: endpoint(
      'konnect.controlPlaneEndpoint',
      options.controlPlaneEndpoint,
      '1234abcd56.us.cp0.konghq.com:443',
    ),
    telemetry: endpoint(
      'konnect.telemetryEndpoint',
      options.telemetryEndpoint,
      '1234abcd56.us.tp0.konghq.com:443',
    ),
    certificateSecretArn,
    keySecretArn,
  }
}
