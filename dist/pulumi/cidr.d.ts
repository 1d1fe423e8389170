export interface Ipv4Cidr {
    address: number;
    prefix: number;
}
export declare function parseIpv4Cidr(text: string): Ipv4Cidr | undefined;
/** The family of a CIDR block, or undefined when it is not one. */
export declare function cidrFamily(text: string): 'ipv4' | 'ipv6' | undefined;
/** True for a block that covers the whole address space (0.0.0.0/0, ::/0). */
export declare function isAnywhere(text: string): boolean;
/** The index-th block of `newBits` more prefix bits inside `base` (Terraform's cidrsubnet). */
export declare function subnetCidr(base: Ipv4Cidr, newBits: number, index: number): string;
