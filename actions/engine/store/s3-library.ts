// The entry of dist/s3/index.js: the AWS SDK's S3 client and multipart uploader, bundled once and imported on
// demand by the steps whose store is s3:// (the SDK is large; most runs never load it).
export {
  DeleteObjectCommand,
  GetBucketEncryptionCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3'
export { Upload } from '@aws-sdk/lib-storage'
