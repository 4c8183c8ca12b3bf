/** The JSON shapes of the native REST API that the CLI reads (see the REST API routes under src/protocols/rest). */

export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';

export interface KeyView {
  keyId: string;
  arn: string;
  description: string;
  keySpec: string;
  keyUsage: string;
  state: KeyState | string;
  createdAt: string;
  currentVersion: number;
  currentKeyMaterialId?: string | null;
  rotation: { enabled: boolean; periodInDays: number | null; nextRotationAt: string | null };
  deletionAt: string | null;
  tags: Record<string, string>;
}

export interface KeyResponse {
  key: KeyView;
}

export interface KeyListResponse {
  keys: KeyView[];
  nextMarker?: string;
}

export interface EncryptResponse {
  ciphertext: string;
  keyId: string;
  keyVersion: number;
}

export interface DecryptResponse {
  plaintext: string;
  keyId: string;
  keyVersion: number;
}

export interface DataKeyResponse {
  ciphertext: string;
  plaintext?: string;
  keyId: string;
  keyVersion?: number;
}

export interface WhoamiResponse {
  principal: { name?: string; arn: string; roles: string[]; policies?: string[]; tags?: Record<string, string>; credential?: string };
}

export interface PrincipalView {
  name: string;
  kind: 'user' | 'service' | string;
  arn: string;
  roles: string[];
  policies: string[];
  tags: Record<string, string>;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface PrincipalResponse {
  principal: PrincipalView;
}

export interface PrincipalListResponse {
  principals: PrincipalView[];
  nextMarker?: string;
}

export interface AccessKeyView {
  accessKeyId: string;
  principal: string;
  status: 'Active' | 'Inactive' | string;
  createdAt: string;
  expiresAt: string | null;
}

/** Only the answer to `access-key create` carries the secret, and only once. */
export interface CreatedAccessKeyResponse {
  accessKey: AccessKeyView & { secretAccessKey: string };
}

export interface AccessKeyResponse {
  accessKey: AccessKeyView;
}

export interface AccessKeyListResponse {
  accessKeys: AccessKeyView[];
}

export interface TokenView {
  accessor: string;
  principal: string;
  createdAt: string;
  expiresAt: string;
}

/** Only the answer to `token create` carries the token, and only once. */
export interface CreatedTokenResponse {
  token: TokenView & { token: string };
}

export interface TokenListResponse {
  tokens: TokenView[];
}

export interface CertificateView {
  /** SHA-256 of the certificate's DER, 64 lower-case hex digits. */
  fingerprint: string;
  principal: string;
  subject: string;
  notAfter: string;
  createdAt: string;
}

export interface CertificateResponse {
  certificate: CertificateView;
}

export interface CertificateListResponse {
  certificates: CertificateView[];
}

export interface PolicyView {
  name: string;
  arn: string;
  description: string | null;
  /** The policy document's JSON text. */
  document: string;
  createdAt: string;
  updatedAt: string;
}

export interface PolicyResponse {
  policy: PolicyView;
}

export interface PolicyListResponse {
  policies: PolicyView[];
  nextMarker?: string;
}

export interface RoleView {
  name: string;
  description: string;
  /** The role's policy document as JSON text. */
  document: string;
}

export interface RoleResponse {
  role: RoleView;
}

export interface RoleListResponse {
  roles: RoleView[];
}

export type ApprovalStatus = 'Pending' | 'Approved' | 'Rejected' | 'Consumed';

export interface ApprovalView {
  id: string;
  /** The action awaiting approval, e.g. `kms:ScheduleKeyDeletion`. */
  operation: string;
  resource: string | null;
  /** A non-secret description of the request for the approver, e.g. `{ keyId, pendingWindowInDays }`. */
  summary: Record<string, unknown>;
  status: ApprovalStatus | string;
  requestedBy: string;
  decidedBy: string | null;
  createdAt: string;
  expiresAt: string;
  decidedAt: string | null;
  consumedAt: string | null;
}

export interface ApprovalResponse {
  approval: ApprovalView;
}

export interface ApprovalListResponse {
  approvals: ApprovalView[];
  nextMarker?: string;
}

/** The body of GET /v1/status, as the server types it. */
export type { StatusReport as StatusResponse } from '../../protocols/rest/routes/system.js';
