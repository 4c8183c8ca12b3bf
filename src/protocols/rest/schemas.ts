/**
 * JSON schemas of the native API's request bodies and queries. Every object is closed
 * (additionalProperties: false), so unknown fields are rejected, not ignored.
 */
const closed = (properties: Record<string, object>, required: string[] = []) => ({
  type: 'object',
  additionalProperties: false,
  properties,
  required,
});

const keyIdentifier = { type: 'string', minLength: 1, maxLength: 2048 };
const base64 = { type: 'string', maxLength: 16_384 };
const encryptionContext = {
  type: 'object',
  additionalProperties: { type: 'string', maxLength: 8192 },
  maxProperties: 64,
};
const tags = { type: 'object', additionalProperties: { type: 'string' }, maxProperties: 50 };
const marker = { type: 'string', minLength: 1, maxLength: 1024 };
/** Query strings are not type-coerced (coercion would also turn JSON numbers into strings in bodies). */
const integerString = { type: 'string', pattern: '^[0-9]{1,9}$' };

const name = { type: 'string', minLength: 1, maxLength: 128 };
const names = { type: 'array', items: name, maxItems: 50 };
const policyDocument = { type: 'string', minLength: 1, maxLength: 65_536 };

export const SCHEMAS = {
  keyParams: closed({ keyId: keyIdentifier }, ['keyId']),
  aliasParams: closed({ '*': { type: 'string', minLength: 1, maxLength: 512 } }, ['*']),
  listQuery: closed({ limit: integerString, marker, keyId: keyIdentifier }),
  auditQuery: closed({ after: integerString, limit: integerString }),
  createKey: closed({
    description: { type: 'string' },
    keySpec: { type: 'string' },
    keyUsage: { type: 'string' },
    tags,
    rotationPeriodInDays: { type: 'integer' },
    automaticRotation: { type: 'boolean' },
  }),
  updateKey: closed({ description: { type: 'string' } }, ['description']),
  setRotation: closed({ enabled: { type: 'boolean' }, periodInDays: { type: 'integer' } }, ['enabled']),
  scheduleDeletion: closed({ pendingWindowInDays: { type: 'integer' } }),
  tags: closed({ tags }, ['tags']),
  untag: closed({ tagKeys: { type: 'array', items: { type: 'string' }, maxItems: 50 } }, ['tagKeys']),
  encrypt: closed({ keyId: keyIdentifier, plaintext: base64, encryptionContext }, ['keyId', 'plaintext']),
  decrypt: closed({ ciphertext: base64, encryptionContext, keyId: keyIdentifier }, ['ciphertext']),
  reEncrypt: closed(
    {
      ciphertext: base64,
      sourceEncryptionContext: encryptionContext,
      sourceKeyId: keyIdentifier,
      destinationKeyId: keyIdentifier,
      destinationEncryptionContext: encryptionContext,
    },
    ['ciphertext', 'destinationKeyId'],
  ),
  dataKey: closed(
    {
      keyId: keyIdentifier,
      keySpec: { type: 'string', enum: ['AES_128', 'AES_256'] },
      numberOfBytes: { type: 'integer' },
      encryptionContext,
      includePlaintext: { type: 'boolean' },
    },
    ['keyId'],
  ),
  random: closed({ numberOfBytes: { type: 'integer' } }, ['numberOfBytes']),
  createAlias: closed({ aliasName: { type: 'string', minLength: 1, maxLength: 512 }, keyId: keyIdentifier }, ['aliasName', 'keyId']),
  updateAlias: closed({ keyId: keyIdentifier }, ['keyId']),
  nameParams: closed({ name }, ['name']),
  principalRoleParams: closed({ name, role: name }, ['name', 'role']),
  principalPolicyParams: closed({ name, policy: name }, ['name', 'policy']),
  idParams: closed({ id: { type: 'string', minLength: 1, maxLength: 128 } }, ['id']),
  pageQuery: closed({ limit: integerString, marker }),
  approvalQuery: closed({ limit: integerString, marker, status: { type: 'string', maxLength: 16 } }),
  createPrincipal: closed({ name, kind: { type: 'string', enum: ['user', 'service'] }, roles: names, policies: names, tags }, ['name']),
  principalTags: closed({ tags }, ['tags']),
  createAccessKey: closed({ expiresInDays: { type: 'integer' } }),
  updateAccessKey: closed({ status: { type: 'string', enum: ['Active', 'Inactive'] } }, ['status']),
  createToken: closed({ ttlSeconds: { type: 'integer' } }),
  mapCertificate: closed({ certificatePem: { type: 'string', minLength: 1, maxLength: 16_384 } }, ['certificatePem']),
  createPolicy: closed({ name, document: policyDocument, description: { type: 'string' } }, ['name', 'document']),
  updatePolicy: closed({ document: policyDocument, description: { type: 'string' } }, ['document']),
  unseal: {
    oneOf: [
      closed({ share: { type: 'string', minLength: 1, maxLength: 1024 }, nonce: { type: 'string', minLength: 1, maxLength: 128 } }, ['share']),
      closed({ reset: { type: 'boolean', const: true } }, ['reset']),
    ],
  },
  rekey: closed(
    {
      shares: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 1024 }, minItems: 1, maxItems: 255 },
      newShares: { type: 'integer', minimum: 1, maximum: 255 },
      newThreshold: { type: 'integer', minimum: 1, maximum: 255 },
    },
    ['shares', 'newShares', 'newThreshold'],
  ),
} as const;

/** Response schemas of the hottest routes: they let Fastify serialize with a compiled serializer. */
const cryptoResult = (blob: 'ciphertext' | 'plaintext') => ({
  type: 'object',
  required: [blob, 'keyId', 'keyVersion', 'keyMaterialId'],
  properties: { [blob]: { type: 'string' }, keyId: { type: 'string' }, keyVersion: { type: 'integer' }, keyMaterialId: { type: 'string' } },
});

export const RESPONSES = {
  encrypt: cryptoResult('ciphertext'),
  decrypt: cryptoResult('plaintext'),
} as const;
