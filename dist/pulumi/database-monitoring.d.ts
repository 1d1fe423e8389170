import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { Account } from './encryption.js';
import type { Settings } from './settings.js';
/** Seconds between enhanced monitoring samples; 60 is the cheapest interval that turns it on. */
export declare const MONITORING_INTERVAL = 60;
/** RDS user guide, "Setting up and enabling Enhanced Monitoring": trusted by monitoring.rds, with the managed policy. */
export declare function monitoringRole(settings: Settings, account: Account, parent: pulumi.Resource): aws.iam.Role;
