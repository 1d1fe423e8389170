// deckhand/pulumi: a Kong gateway on AWS, rebuilt from code for disaster recovery and dual-cluster upgrades.
export {
  CpuArchitecture,
  GatewayMode,
  NatGateways,
  ObjectLockMode,
  type BackupBucketOptions,
  type DatabaseOptions,
  type DisasterRecoveryOptions,
  type KongGatewayArgs,
  type KonnectOptions,
  type ObjectLock,
  type PointInTimeRestore,
} from './args.js'
export { KongGatewayArgumentError } from './errors.js'
export { DECLARATIVE_CONFIG_LIMIT, KongGateway } from './kong-gateway.js'
export { DEFAULT_KONG_IMAGE, KongEdition } from './kong-image.js'
