import { InputError } from '../errors.js'
import { inputName, inputSubject, requiredInput } from '../jobs/inputs.js'

/** How to reach the Kong Admin API. Secret values (token, header values) never go on a command line. */
export interface Connection {
  kongAddr: string
  adminToken?: string
  /** Extra request headers, `Name: value` each. Values may be secret (e.g. an Authorization header). */
  headers?: string[]
  tlsSkipVerify?: boolean
  /** CA certificate: PEM content or a path to a PEM file. */
  caCert?: string
  tlsServerName?: string
  /** Per-request timeout in seconds (deck's default, 10, is too short for large gateways). */
  timeoutSeconds?: number
}

/**
 * How to reach one Konnect control plane through deck's Konnect mode (Kong/deck cmd/common_konnect.go). The
 * token reaches deck as DECK_KONNECT_TOKEN (viper binds every flag to DECK_<FLAG>, cmd/root.go), never argv.
 */
export interface KonnectConnection {
  kind: 'konnect'
  /** The Konnect API, e.g. https://eu.api.konghq.com. */
  konnectAddr: string
  /** A personal (kpat_) or system account (spat_) access token. */
  token: string
  /** The control plane deck runs against; each control plane gets its own runner. */
  controlPlane?: string
  tlsSkipVerify?: boolean
  caCert?: string
  tlsServerName?: string
  timeoutSeconds?: number
}

/** A self-managed Kong's Admin API, or a Konnect control plane. */
export type GatewayConnection = Connection | KonnectConnection

export function isKonnect(connection: GatewayConnection | undefined): connection is KonnectConnection {
  return (connection as KonnectConnection | undefined)?.kind === 'konnect'
}

/** Checks the Admin API address and returns it normalized; errors say how to fix the value. */
export function parseKongAddr(value: string | undefined): string {
  return parseAddress(
    value,
    'kong-addr',
    'the Kong Admin API',
    'http://kong-admin.internal:8001',
    `${inputName('kong-admin-token')} or ${inputName('headers')}`,
  )
}

/**
 * Checks a gateway address input (`what` it is, an `example`) and returns it as a URL without trailing
 * slashes. `host` and `host:port` mean http://host:port, as deck's own default (http://localhost:8001) does;
 * https must be written out. Credentials in a URL would end up on command lines and in logs: they go in
 * `credentialInputs`.
 */
export function parseAddress(
  value: string | undefined,
  input: string,
  what: string,
  example: string,
  credentialInputs: string,
): string {
  const raw = (value ?? '').trim()
  if (raw === '') throw requiredInput(input, `${what} address, e.g. ${example}`)
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(raw)
  if (scheme && !['http', 'https'].includes(scheme[1]!.toLowerCase()))
    throw new InputError(
      `${inputSubject(input)} "${raw}" must use http:// or https://, not ${scheme[1]}://, e.g. ${example}`,
    )
  const address = scheme ? raw : `http://${raw}`
  const notUrl = () =>
    new InputError(
      `${inputSubject(input)} "${raw}" is not a URL: give host:port (http is assumed) or a full URL, e.g. ${example}`,
    )
  // `http//host` or `https:host` is a mistyped scheme, not a host named http.
  if (!scheme && /^https?(:|\/)/i.test(raw)) throw notUrl()
  let url: URL
  try {
    url = new URL(address)
  } catch {
    throw notUrl()
  }
  if (url.username || url.password) {
    throw new InputError(
      `${inputSubject(input)} must not contain credentials: pass them with ${credentialInputs} instead`,
    )
  }
  if (url.search || url.hash)
    throw new InputError(`${inputSubject(input)} "${raw}" must not have a query string or fragment`)
  return address.replace(/\/+$/, '')
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** Parses `Name: value` lines (blank lines ignored) into deck's `Name:value` form. */
export function parseHeaders(lines: readonly string[]): string[] {
  return lines
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const colon = line.indexOf(':')
      const name = line.slice(0, colon).trim()
      if (colon <= 0 || !HEADER_NAME.test(name)) {
        // The line may hold a secret: name only its position.
        throw new InputError(
          `${inputSubject('headers')}: each line must be "Name: value" with a valid header name (a line does not match)`,
        )
      }
      return `${name}:${line.slice(colon + 1).trim()}`
    })
}

/** Values that must never appear in output: the token and every header value. */
export function connectionSecrets(connection: GatewayConnection | undefined): string[] {
  if (!connection) return []
  if (isKonnect(connection)) return connection.token.length >= 3 ? [connection.token] : []
  const secrets = [connection.adminToken ?? '']
  for (const header of connection.headers ?? []) secrets.push(header.slice(header.indexOf(':') + 1))
  return secrets.filter((s) => s.length >= 3)
}
