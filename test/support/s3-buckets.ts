// Bucket operations answered from the configuration given at start (Amazon S3 API Reference: HeadBucket,
// GetBucketEncryption, GetBucketVersioning, GetObjectLockConfiguration).
import { type Call, reply } from './s3-request.js'
import { S3Error, tag, xmlDocument } from './s3-xml.js'

export function headBucket(call: Call): void {
  call.store.authorize(call.accessKeyId, call.bucket.name, 's3:ListBucket')
  reply(call, 200, { 'x-amz-bucket-region': call.store.region, 'x-amz-access-point-alias': 'false' })
}

export function getBucketEncryption(call: Call): void {
  const { store, bucket } = call
  store.authorize(call.accessKeyId, bucket.name, 's3:GetEncryptionConfiguration')
  const encryption = bucket.encryption
  if (!encryption) {
    throw new S3Error(
      404,
      'ServerSideEncryptionConfigurationNotFoundError',
      'The server side encryption configuration was not found',
      {
        BucketName: bucket.name,
      },
    )
  }
  const byDefault =
    tag('SSEAlgorithm', encryption.algorithm) +
    (encryption.algorithm === 'aws:kms' && encryption.kmsKeyId !== undefined
      ? tag('KMSMasterKeyID', store.kmsKeyArn(encryption.kmsKeyId))
      : '')
  reply(
    call,
    200,
    {},
    xmlDocument(
      'ServerSideEncryptionConfiguration',
      `<Rule><ApplyServerSideEncryptionByDefault>${byDefault}</ApplyServerSideEncryptionByDefault>${tag('BucketKeyEnabled', encryption.bucketKeyEnabled ?? false)}</Rule>`,
    ),
  )
}

export function getBucketVersioning(call: Call): void {
  call.store.authorize(call.accessKeyId, call.bucket.name, 's3:GetBucketVersioning')
  // A bucket that never had versioning answers an empty configuration, without Status.
  reply(
    call,
    200,
    {},
    xmlDocument('VersioningConfiguration', call.bucket.versioning ? tag('Status', 'Enabled') : ''),
  )
}

export function getObjectLockConfiguration(call: Call): void {
  const { store, bucket } = call
  store.authorize(call.accessKeyId, bucket.name, 's3:GetBucketObjectLockConfiguration')
  const lock = bucket.objectLock
  if (!lock) {
    throw new S3Error(
      404,
      'ObjectLockConfigurationNotFoundError',
      'Object Lock configuration does not exist for this bucket',
      {
        BucketName: bucket.name,
      },
    )
  }
  const rule =
    lock === 'enabled'
      ? ''
      : `<Rule><DefaultRetention>${tag('Mode', lock.mode)}${tag('Days', lock.days)}</DefaultRetention></Rule>`
  reply(
    call,
    200,
    {},
    xmlDocument('ObjectLockConfiguration', `${tag('ObjectLockEnabled', 'Enabled')}${rule}`),
  )
}
