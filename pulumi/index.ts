// deckhand/pulumi: a Kong gateway on AWS, rebuilt from code for disaster recovery and dual-cluster upgrades.
export type {
  BackupBucketOptions,
  DatabaseOptions,
  DisasterRecoveryOptions,
  KongGatewayArgs,
  PointInTimeRestore,
} from './args.js'
export { KongGatewayArgumentError } from './errors.js'
export { DECLARATIVE_CONFIG_LIMIT, KongGateway } from './kong-gateway.js'
export { DEFAULT_KONG_IMAGE, type KongEdition } from './kong-image.js'
