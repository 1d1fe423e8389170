export { KongGatewayArgumentError } from './errors.js';
export { DECLARATIVE_CONFIG_LIMIT, KongGateway } from './kong-gateway.js';
export { DEFAULT_KONG_IMAGE } from './kong-image.js';
