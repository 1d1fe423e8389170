// IPv4/IPv6 CIDR checks and the subnet split of a new VPC. A few lines of arithmetic, not worth a library.

export interface Ipv4Cidr {
  address: number
  prefix: number
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/
const IPV6 = /^[0-9a-f:]+\/(\d{1,3})$/i

export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
  const match = IPV4.exec(text)
  if (!match) return undefined
  const octets = match.slice(1, 5).map(Number)
  const prefix = Number(match[5])
  if (octets.some((octet) => octet > 255) || prefix > 32) return undefined
  const address = octets.reduce((value, octet) => value * 256 + octet, 0)
  return { address, prefix }
}

/** The family of a CIDR block, or undefined when it is not one. */
export function cidrFamily(text: string): 'ipv4' | 'ipv6' | undefined {
  if (parseIpv4Cidr(text)) return 'ipv4'
  const match = IPV6.exec(text)
  return match && text.includes(':') && Number(match[1]) <= 128 ? 'ipv6' : undefined
}

/** True for a block that covers the whole address space (0.0.0.0/0, ::/0). */
export function isAnywhere(text: string): boolean {
  return /\/0$/.test(text.trim())
}

function format(address: number, prefix: number): string {
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256)
  return `${octets.join('.')}/${prefix}`
}

/** The index-th block of `newBits` more prefix bits inside `base` (Terraform's cidrsubnet). */
export function subnetCidr(base: Ipv4Cidr, newBits: number, index: number): string {
  const prefix = base.prefix + newBits
  if (prefix > 28) throw new RangeError(`a /${prefix} subnet is smaller than AWS allows`)
  if (index >= 2 ** newBits) throw new RangeError(`subnet ${index} does not fit in /${base.prefix}`)
  const network = base.address - (base.address % 2 ** (32 - base.prefix))
  return format(network + index * 2 ** (32 - prefix), prefix)
}
