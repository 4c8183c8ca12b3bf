/**
 * Custom key store operations (AWS CloudHSM key stores, each backed by a PKCS#11 token): CreateCustomKeyStore,
 * DescribeCustomKeyStores, ConnectCustomKeyStore, DisconnectCustomKeyStore, UpdateCustomKeyStore,
 * DeleteCustomKeyStore. Shapes from the service model (CustomKeyStoreName 1-256, CloudHsmClusterId 19-24 in AWS but
 * here any token label of 1-32 bytes, KeyStorePassword 7-32, TrustAnchorCertificate 1-5000, CustomKeyStoreId 1-64).
 * EXTERNAL_KEY_STORE (XKS) stores answer UnsupportedOperationException. Outputs: CreateCustomKeyStore returns the
 * id; the other mutations return `{}`; DescribeCustomKeyStores lists CustomKeyStoresListEntry items with
 * ConnectionErrorCode only while FAILED, and never the password.
 */
import type { CustomKeyStoreDescription } from '../../../core/custom-key-stores.js';
import { operation, optionalField } from '../operation.js';
import { int, optional, required, str } from '../shapes.js';
import { epochSeconds, pageOf, truncation } from '../wire.js';

const STORE_ID = str({ min: 1, max: 64 });
const STORE_NAME = str({ min: 1, max: 256 });
const CLUSTER_ID = str({ min: 1, max: 32 });
const PASSWORD = str({ min: 7, max: 32 });

function entry(s: CustomKeyStoreDescription) {
  return {
    CustomKeyStoreId: s.id,
    CustomKeyStoreName: s.name,
    CustomKeyStoreType: s.type,
    CloudHsmClusterId: s.clusterId,
    TrustAnchorCertificate: s.trustAnchorCertificate,
    ConnectionState: s.connectionState,
    ...(s.connectionErrorCode === null ? {} : { ConnectionErrorCode: s.connectionErrorCode }),
    CreationDate: epochSeconds(s.createdAt),
  };
}

export const CUSTOM_KEY_STORE_OPERATIONS = {
  CreateCustomKeyStore: operation<{
    CustomKeyStoreName: string;
    CloudHsmClusterId?: string;
    TrustAnchorCertificate?: string;
    KeyStorePassword?: string;
    CustomKeyStoreType?: string;
  }>(
    {
      CustomKeyStoreName: required(STORE_NAME),
      CloudHsmClusterId: optional(CLUSTER_ID),
      TrustAnchorCertificate: optional(str({ min: 1, max: 5000 })),
      KeyStorePassword: optional(PASSWORD),
      CustomKeyStoreType: optional(str({ values: ['AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE'] })),
    },
    async (service, ctx, i) => {
      const store = await service.customKeyStores.create(ctx, {
        name: i.CustomKeyStoreName,
        // AWS requires all three for AWS_CLOUDHSM; the core refuses empty ones with ValidationException.
        clusterId: i.CloudHsmClusterId ?? '',
        trustAnchorCertificate: i.TrustAnchorCertificate ?? '',
        keyStorePassword: i.KeyStorePassword ?? '',
        ...optionalField('type', i.CustomKeyStoreType),
      });
      return { CustomKeyStoreId: store.id };
    },
  ),

  DescribeCustomKeyStores: operation<{ CustomKeyStoreId?: string; CustomKeyStoreName?: string; Limit?: number; Marker?: string }>(
    {
      CustomKeyStoreId: optional(STORE_ID),
      CustomKeyStoreName: optional(STORE_NAME),
      Limit: optional(int(1, 1000)),
      Marker: optional(str({ min: 1, max: 1024 })),
    },
    async (service, ctx, i) => {
      const stores = await service.customKeyStores.describe(ctx, { ...optionalField('id', i.CustomKeyStoreId), ...optionalField('name', i.CustomKeyStoreName) });
      const page = pageOf(stores, i.Limit ?? 100, i.Marker);
      return { CustomKeyStores: page.items.map(entry), ...truncation(page.nextMarker) };
    },
  ),

  ConnectCustomKeyStore: operation<{ CustomKeyStoreId: string }>({ CustomKeyStoreId: required(STORE_ID) }, async (service, ctx, i) => {
    await service.customKeyStores.connect(ctx, i.CustomKeyStoreId);
    return {};
  }),

  DisconnectCustomKeyStore: operation<{ CustomKeyStoreId: string }>({ CustomKeyStoreId: required(STORE_ID) }, async (service, ctx, i) => {
    await service.customKeyStores.disconnect(ctx, i.CustomKeyStoreId);
    return {};
  }),

  UpdateCustomKeyStore: operation<{ CustomKeyStoreId: string; NewCustomKeyStoreName?: string; KeyStorePassword?: string; CloudHsmClusterId?: string }>(
    {
      CustomKeyStoreId: required(STORE_ID),
      NewCustomKeyStoreName: optional(STORE_NAME),
      KeyStorePassword: optional(PASSWORD),
      CloudHsmClusterId: optional(CLUSTER_ID),
    },
    async (service, ctx, i) => {
      await service.customKeyStores.update(ctx, {
        id: i.CustomKeyStoreId,
        ...optionalField('newName', i.NewCustomKeyStoreName),
        ...optionalField('keyStorePassword', i.KeyStorePassword),
        ...optionalField('clusterId', i.CloudHsmClusterId),
      });
      return {};
    },
  ),

  DeleteCustomKeyStore: operation<{ CustomKeyStoreId: string }>({ CustomKeyStoreId: required(STORE_ID) }, async (service, ctx, i) => {
    await service.customKeyStores.delete(ctx, i.CustomKeyStoreId);
    return {};
  }),
};
