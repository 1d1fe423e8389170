import { parseAddress } from '../deck/connection.js'
import { InputError } from '../errors.js'
import { inputName } from '../jobs/inputs.js'

/**
 * Konnect's geographic regions and their API addresses: the `servers` of Konnect's Control Planes API v2
 * (developer.konghq.com api-specs/konnect/control-planes/v2/openapi.yaml): https://<geo>.api.konghq.com.
 */
export const KONNECT_REGIONS = ['us', 'eu', 'au', 'me', 'in', 'sg'] as const
export type KonnectRegion = (typeof KONNECT_REGIONS)[number]

/** deck's own default (cmd/root.go defaultKonnectURL): the US region. */
export const DEFAULT_KONNECT_REGION: KonnectRegion = 'us'

/**
 * The Konnect API address from `konnect-region` or `konnect-addr` (one of them; the region by default is
 * deck's, us). An address is for private or test endpoints; a region is what almost everyone wants.
 */
export function konnectAddress(region: string | undefined, addr: string | undefined): string {
  if (region !== undefined && addr !== undefined) {
    throw new InputError(
      `${inputName('konnect-region')} and ${inputName('konnect-addr')} exclude each other: set the region, ` +
        'or the address for an endpoint that is not a Konnect region.',
    )
  }
  if (addr !== undefined) {
    return parseAddress(
      addr,
      'konnect-addr',
      'the Konnect API',
      'https://eu.api.konghq.com',
      inputName('konnect-token'),
    )
  }
  const geo = (region ?? DEFAULT_KONNECT_REGION).trim().toLowerCase()
  if (!(KONNECT_REGIONS as readonly string[]).includes(geo)) {
    throw new InputError(
      `${inputName('konnect-region')} "${region}" is not a Konnect region: use one of ${KONNECT_REGIONS.join(', ')} ` +
        '(the geo in the address Konnect shows, e.g. eu for https://eu.api.konghq.com).',
    )
  }
  return `https://${geo}.api.konghq.com`
}
