// A Kong gateway rebuilt on AWS from code: `pulumi up` gives a fresh, empty (or snapshot-restored) gateway, and the
// deckhand restore steps put its configuration back. The same program builds the new cluster of a dual-cluster
// upgrade: a newer kongImage, the old cluster's latest snapshot, and the migrations run on the copy.
import * as pulumi from '@pulumi/pulumi'
import { KongGateway } from 'deckhand/pulumi'

const config = new pulumi.Config()
const certificateArn = config.get('certificateArn') || undefined
const adminAllowedCidrs = config.getObject<string[]>('adminAllowedCidrs') ?? []
// Losing the region: the old stack's disasterRecoveryAutomatedBackupsArn, replicated into this stack's region.
const automatedBackupsArn = config.get('restoreFromAutomatedBackupsArn') || undefined
const disasterRecoveryRegion = config.get('disasterRecoveryRegion') || undefined
// One switch for a drill stack meant to be destroyed: the database and both load balancers.
const deletionProtection = config.getBoolean('deletionProtection') ?? true

const gateway = new KongGateway('kong', {
  kongImage: config.get('kongImage'),
  restoreFromSnapshot: config.get('restoreFromSnapshot') || undefined,
  restoreToPointInTime: automatedBackupsArn
    ? { sourceDbInstanceAutomatedBackupsArn: automatedBackupsArn, useLatestRestorableTime: true }
    : undefined,
  // Copies of the backups in a second region, for losing this one.
  disasterRecovery: disasterRecoveryRegion ? { region: disasterRecoveryRegion } : undefined,
  // Kong Enterprise: a restored database keeps the old cluster's admin token (no new one is seeded); its secret.
  adminTokenSecretArn: config.get('adminTokenSecretArn') || undefined,
  certificateArn,
  adminAllowedCidrs: adminAllowedCidrs.length > 0 ? adminAllowedCidrs : undefined,
  database: { deletionProtection },
  loadBalancerDeletionProtection: deletionProtection,
  tags: { 'deckhand:stack': pulumi.getStack() },
})

// What the restore steps need next (pulumi/actions exposes each as a step output).
export const proxyUrl = gateway.proxyUrl
export const adminUrl = gateway.adminUrl
// Without certificateArn: the generated certificate the Admin API presents, for the actions' ca-cert input.
export const certificatePem = gateway.certificatePem
export const databaseEndpoint = gateway.databaseEndpoint
export const databaseInstanceIdentifier = gateway.databaseInstanceIdentifier
export const databasePasswordSecretArn = gateway.databasePasswordSecretArn
export const adminTokenSecretArn = gateway.adminTokenSecretArn
export const backupBucketName = gateway.backupBucketName
export const disasterRecoveryAutomatedBackupsArn = gateway.disasterRecoveryAutomatedBackupsArn
export const disasterRecoveryBackupStore = gateway.disasterRecoveryBackupStore
export const clusterName = gateway.clusterName
export const serviceName = gateway.serviceName
