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
  principal: { name?: string; arn: string; roles: string[]; credential?: string };
}
