import * as pulumi from '@pulumi/pulumi';
import type { KongGatewayArgs } from './args.js';
import { type GatewayImage } from './settings.js';
/** A Konnect endpoint: `host:port` as Konnect shows it, and the host, which is also its TLS server name. */
export interface KonnectEndpoint {
    address: string;
    host: string;
}
export interface KonnectSettings {
    controlPlane: KonnectEndpoint;
    telemetry: KonnectEndpoint;
    certificateSecretArn: pulumi.Input<string>;
    keySecretArn: pulumi.Input<string>;
}
/** Settings the component sets on a data plane: a caller overriding one would cut it off from Konnect. */
export declare const KONNECT_KONG_SETTINGS: Set<string>;
/** Validates Konnect mode (or refuses `konnect` in another mode) and returns its settings. */
export declare function konnectSettings(args: KongGatewayArgs, mode: string, image: GatewayImage): KonnectSettings | undefined;
