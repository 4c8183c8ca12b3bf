/**
 * The built-in roles: each is a managed identity policy (IAM JSON) with a name and a purpose, from the system's
 * original design. Administrators list and read them (`datadefender role list|show`) and copy one into a policy of
 * their own to adapt it.
 * Invariants:
 * - separation of duties (PCI DSS 3.6.1, fewest custodians): `administrator` manages keys, principals, roles and
 *   policies but holds no operation that uses a key on data;
 * - `application` can do nothing but use the keys it is given (a grant, or a key policy naming it): an explicit Deny
 *   of everything else, so no other role or policy can widen it;
 * - `system` belongs to DataDefender's own background jobs; no principal can be given it.
 */
import {
  AUDIT_ARCHIVE_ACTIONS,
  AUDIT_EXPORT_ACTIONS,
  AUDIT_READ_ACTIONS,
  DATA_ACTIONS,
  IDENTITY_READ_ACTIONS,
  KEY_ACCESS_READ_ACTIONS,
  KEY_METADATA_ACTIONS,
  KEY_USE_ACTIONS,
  METRICS_ACTIONS,
} from './actions.js';
import { parsePolicy, type ParsedPolicy } from './policy-document.js';
import { renderPolicy } from './render-policy.js';

export const ADMINISTRATOR_ROLE = 'administrator';
export const SYSTEM_ROLE = 'system';

interface RoleDefinition {
  readonly description: string;
  readonly statements: readonly Record<string, unknown>[];
}

const allow = (Sid: string, Action: readonly string[] | string, Condition?: Record<string, unknown>) => ({
  Sid,
  Effect: 'Allow',
  Action,
  Resource: '*',
  ...(Condition ? { Condition } : {}),
});

const ROLES = {
  [ADMINISTRATOR_ROLE]: {
    description: 'Manages keys (lifecycle, rotation, aliases, tags, key policies, deletion), principals, roles and policies; never uses a key on data.',
    statements: [{ Sid: 'ManageEverythingButKeyUse', Effect: 'Allow', NotAction: [...KEY_USE_ACTIONS], Resource: '*' }],
  },
  'data-engineer': {
    description: 'Creates and rotates keys and uses them: encryption, decryption, data keys, re-encryption, signatures and MACs.',
    statements: [
      allow('CreateAndRotateKeys', ['kms:CreateKey', 'kms:RotateKeyOnDemand', 'kms:EnableKeyRotation', 'kms:DisableKeyRotation', 'kms:GetPublicKey']),
      allow('ReadKeyMetadata', [...KEY_METADATA_ACTIONS]),
      allow('UseKeys', [...KEY_USE_ACTIONS, 'kms:GenerateRandom']),
    ],
  },
  'security-analyst': {
    description: 'Read-only on keys, rotation status, grants and policies, principals and roles; reads and verifies the audit trail and metrics.',
    statements: [
      allow('ReadKeys', [...KEY_METADATA_ACTIONS, ...KEY_ACCESS_READ_ACTIONS]),
      allow('ReadIdentities', [...IDENTITY_READ_ACTIONS]),
      allow('ReadAudit', [...AUDIT_READ_ACTIONS, ...METRICS_ACTIONS]),
    ],
  },
  developer: {
    description: 'Read-only key metadata; encrypts and decrypts only with keys tagged environment=test.',
    statements: [
      allow('ReadKeyMetadata', [...KEY_METADATA_ACTIONS]),
      allow('UseTestKeys', [...DATA_ACTIONS], { StringEquals: { 'aws:ResourceTag/environment': 'test' } }),
    ],
  },
  'compliance-officer': {
    description: 'Read-only key metadata; reads and exports the audit trail and applies its retention (archival); compliance reports.',
    statements: [allow('ReadKeyMetadata', [...KEY_METADATA_ACTIONS]), allow('AuditEvidence', [...AUDIT_READ_ACTIONS, ...AUDIT_EXPORT_ACTIONS]), allow('AuditRetention', [...AUDIT_ARCHIVE_ACTIONS])],
  },
  application: {
    description: 'A financial application at run time: data keys, encrypt and decrypt on the keys it is given (grants or key policies), nothing else.',
    statements: [{ Sid: 'NothingButDataOperations', Effect: 'Deny', NotAction: [...DATA_ACTIONS, 'kms:DescribeKey'], Resource: '*' }],
  },
  [SYSTEM_ROLE]: {
    description: "DataDefender's own background jobs (rotation, deletion). Not assignable.",
    statements: [allow('Everything', 'kms:*'), allow('ServerCertificates', ['datadefender:RenewServerCertificate', 'datadefender:InitCertificateAuthority']), allow('AuditRetention', [...AUDIT_ARCHIVE_ACTIONS])],
  },
} as const satisfies Record<string, RoleDefinition>;

export type RoleName = keyof typeof ROLES;

/** Roles a principal can be given (all but `system`). */
export const ASSIGNABLE_ROLES = Object.freeze(Object.keys(ROLES).filter((r) => r !== SYSTEM_ROLE)) as readonly RoleName[];

export interface BuiltInRole {
  readonly name: RoleName;
  readonly description: string;
  /** The role's policy as JSON text (rendered like GetKeyPolicy shows policies). */
  readonly document: string;
  readonly policy: ParsedPolicy;
}

const BUILT: Readonly<Record<string, BuiltInRole>> = Object.freeze(
  Object.fromEntries(
    Object.entries(ROLES).map(([name, role]) => {
      const json = { Version: '2012-10-17', Statement: role.statements };
      const policy = parsePolicy(JSON.stringify(json), { kind: 'identity' });
      return [name, Object.freeze({ name: name as RoleName, description: role.description, document: renderPolicy(policy.json), policy })];
    }),
  ),
);

/** The built-in role named `name`, or undefined. */
export function builtInRole(name: string): BuiltInRole | undefined {
  return Object.hasOwn(BUILT, name) ? BUILT[name] : undefined;
}

export function isAssignableRole(name: string): boolean {
  return (ASSIGNABLE_ROLES as readonly string[]).includes(name);
}
