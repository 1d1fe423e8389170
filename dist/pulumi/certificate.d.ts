import * as pulumi from '@pulumi/pulumi';
import type { Settings } from './settings.js';
/** A year; a later `pulumi up` in the last 60 days replaces the certificate, before ACM.1 (30 days) flags it. */
export declare const CERTIFICATE_VALIDITY_HOURS: number;
export declare const CERTIFICATE_EARLY_RENEWAL_HOURS: number;
export interface GatewayCertificate {
    certificateArn: pulumi.Output<string>;
    /** The generated certificate; undefined when the caller gave certificateArn. */
    certificatePem: pulumi.Output<string | undefined>;
}
export declare function gatewayCertificate(settings: Settings, dnsNames: pulumi.Input<string>[], parent: pulumi.Resource): GatewayCertificate;
