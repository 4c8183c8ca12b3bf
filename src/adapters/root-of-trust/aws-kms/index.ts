// The public face of the aws-kms root of trust.
export { openAwsKmsRootOfTrust, type AwsKmsHealth, type AwsKmsRootOfTrust } from './aws-kms-root-of-trust.js';
export type { AwsKmsCredentials, AwsKmsRootOfTrustOptions } from './aws-kms-options.js';
