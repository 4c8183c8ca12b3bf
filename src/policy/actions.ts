/**
 * The action catalogue: the IAM action names policies speak. AWS KMS operations are `kms:<Operation>` (ReEncrypt is
 * two actions, `kms:ReEncryptFrom` and `kms:ReEncryptTo`); DataDefender's own operations (principals, credentials,
 * identity policies, approvals, the audit trail) are `datadefender:<Operation>`.
 * The groups below are the vocabulary of the built-in roles (built-in-roles.ts) and of dual control.
 */

/** `kms:Encrypt` for an AWS KMS operation name; names that already carry a vendor prefix are returned as they are. */
export function iamAction(operation: string): string {
  return operation.includes(':') ? operation : `kms:${operation}`;
}

/**
 * Every AWS KMS action (AWS KMS Developer Guide, "AWS KMS permissions"): the API operations, with ReEncrypt split
 * into ReEncryptFrom and ReEncryptTo. Includes operations DataDefender does not offer, so policies written for AWS
 * KMS still validate. (A test keeps it in step with the AWS API's operation table.)
 */
export const KMS_ACTIONS = [
  'CancelKeyDeletion', 'ConnectCustomKeyStore', 'CreateAlias', 'CreateCustomKeyStore', 'CreateGrant', 'CreateKey', 'Decapsulate', 'Decrypt',
  'DeleteAlias', 'DeleteCustomKeyStore', 'DeleteImportedKeyMaterial', 'DeriveSharedSecret', 'DescribeCustomKeyStores',
  'DescribeKey', 'DisableKey', 'DisableKeyRotation', 'DisconnectCustomKeyStore', 'EnableKey', 'EnableKeyRotation', 'Encapsulate', 'Encrypt',
  'GenerateDataKey', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext', 'GenerateDataKeyWithoutPlaintext',
  'GenerateMac', 'GenerateRandom', 'GetKeyLastUsage', 'GetKeyPolicy', 'GetKeyRotationStatus', 'GetParametersForImport',
  'GetPublicKey', 'ImportKeyMaterial', 'ListAliases', 'ListGrants', 'ListKeyPolicies', 'ListKeyRotations', 'ListKeys',
  'ListResourceTags', 'ListRetirableGrants', 'PutKeyPolicy', 'ReEncryptFrom', 'ReEncryptTo', 'ReplicateKey', 'RetireGrant',
  'RevokeGrant', 'RotateKeyOnDemand', 'ScheduleKeyDeletion', 'Sign', 'SynchronizeMultiRegionKey', 'TagResource',
  'UntagResource', 'UpdateAlias', 'UpdateCustomKeyStore', 'UpdateKeyDescription', 'UpdatePrimaryRegion', 'Verify', 'VerifyMac',
].map((name) => `kms:${name}`);

/** DataDefender's own actions: principals, credentials, identity policies, roles, approvals, audit, status. */
export const DATADEFENDER_ACTIONS = [
  'CreatePrincipal', 'GetPrincipal', 'ListPrincipals', 'UpdatePrincipal', 'EnablePrincipal', 'DisablePrincipal', 'DeletePrincipal',
  'AddPrincipalRole', 'RemovePrincipalRole', 'AttachPrincipalPolicy', 'DetachPrincipalPolicy',
  'CreateAccessKey', 'ListAccessKeys', 'UpdateAccessKey', 'DeleteAccessKey', 'CreateToken', 'ListTokens', 'RevokeToken',
  'MapClientCertificate', 'ListClientCertificates', 'UnmapClientCertificate',
  'InitCertificateAuthority', 'IssueCertificate', 'RevokeCertificate', 'ListCertificates', 'GetPkiStatus', 'RenewServerCertificate',
  'CreatePolicy', 'GetPolicy', 'ListPolicies', 'UpdatePolicy', 'DeletePolicy', 'ListRoles', 'GetRole',
  'ListApprovals', 'GetApproval', 'ApproveRequest', 'RejectRequest',
  'LookupEvents', 'VerifyAuditTrail', 'ExportAuditTrail', 'ArchiveAuditTrail', 'GetComplianceReport', 'GetMetrics', 'GetStatus',
  'UnsealRoot', 'ResetUnseal', 'SealRoot', 'RekeyRoot', 'RotateRoot', 'MigrateRoot', 'RecoverRoot',
].map((name) => `datadefender:${name}`);

/** Every action a policy can name, lower-cased (policy matching is case-insensitive). */
export const KNOWN_ACTIONS: readonly string[] = Object.freeze([...KMS_ACTIONS, ...DATADEFENDER_ACTIONS].map((a) => a.toLowerCase()));

/** Encrypt and decrypt data, directly or through data keys (what developers and applications use). */
export const DATA_ACTIONS = [
  'kms:Encrypt',
  'kms:Decrypt',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
] as const;

/** Operations that use a key's material on data (separation of duties: administrators hold none of them). */
export const KEY_USE_ACTIONS = [
  ...DATA_ACTIONS,
  'kms:GenerateDataKeyPair',
  'kms:GenerateDataKeyPairWithoutPlaintext',
  'kms:Sign',
  'kms:Verify',
  'kms:GenerateMac',
  'kms:VerifyMac',
  'kms:DeriveSharedSecret',
] as const;

/**
 * Operations whose answer holds plaintext or secret material, or can be made to (ReEncryptFrom, into a key the
 * caller may decrypt with): a policy allowing one of them grants decryption.
 */
export const DECRYPTION_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKeyPair', 'kms:DeriveSharedSecret', 'kms:ReEncryptFrom'] as const;

/** Key metadata: what a key is, its aliases, tags and rotation status. */
export const KEY_METADATA_ACTIONS = [
  'kms:DescribeKey',
  'kms:ListKeys',
  'kms:ListAliases',
  'kms:ListResourceTags',
  'kms:GetKeyRotationStatus',
  'kms:ListKeyRotations',
] as const;

/** Who may use a key: its policy and grants, and its public key. */
export const KEY_ACCESS_READ_ACTIONS = ['kms:GetKeyPolicy', 'kms:ListKeyPolicies', 'kms:ListGrants', 'kms:ListRetirableGrants', 'kms:GetPublicKey'] as const;

/** Reading principals, credentials (never secrets), identity policies and roles. */
export const IDENTITY_READ_ACTIONS = [
  'datadefender:GetPrincipal',
  'datadefender:ListPrincipals',
  'datadefender:ListAccessKeys',
  'datadefender:ListTokens',
  'datadefender:ListClientCertificates',
  'datadefender:GetPolicy',
  'datadefender:ListPolicies',
  'datadefender:GetRole',
  'datadefender:ListRoles',
  'datadefender:ListApprovals',
  'datadefender:GetApproval',
] as const;

/** Reading and verifying the audit trail. */
export const AUDIT_READ_ACTIONS = ['datadefender:LookupEvents', 'datadefender:VerifyAuditTrail'] as const;

/** Taking the audit trail and compliance evidence out of the system. */
export const AUDIT_EXPORT_ACTIONS = ['datadefender:ExportAuditTrail', 'datadefender:GetComplianceReport'] as const;

/** Applying the audit retention: archiving old segments to files that still verify, then deleting them. */
export const AUDIT_ARCHIVE_ACTIONS = ['datadefender:ArchiveAuditTrail'] as const;

/** Reading operational metrics. */
export const METRICS_ACTIONS = ['datadefender:GetMetrics'] as const;
