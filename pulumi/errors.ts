/**
 * A KongGateway argument that cannot work. Thrown while the component is constructed (or, for facts only AWS
 * knows, such as a subnet's zone, when the lookup answers), so `pulumi preview` stops before anything changes.
 */
export class KongGatewayArgumentError extends Error {
  constructor(
    /** The argument at fault, as the caller wrote it (`database.instanceClass`, `adminAllowedCidrs[1]`). */
    readonly argument: string,
    message: string,
  ) {
    super(`KongGateway ${argument}: ${message}`)
    this.name = 'KongGatewayArgumentError'
  }
}
