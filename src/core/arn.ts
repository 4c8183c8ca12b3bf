/** Key and alias identifiers in AWS form: `arn:<partition>:kms:<region>:<account>:key/<id>`. */

export interface AccountScope {
  region: string;
  accountId: string;
}

/** AWS partition of a region: aws-cn for cn-*, aws-us-gov for us-gov-*, else aws. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

export function keyArn(scope: AccountScope, keyId: string): string {
  return `arn:${partitionOf(scope.region)}:kms:${scope.region}:${scope.accountId}:key/${keyId}`;
}

export function aliasArn(scope: AccountScope, aliasName: string): string {
  return `arn:${partitionOf(scope.region)}:kms:${scope.region}:${scope.accountId}:${aliasName}`;
}

const ARN = /^arn:([a-z-]+):kms:([a-z0-9-]+):(\d{12}):(key\/.+|alias\/.+)$/;

export interface ParsedArn {
  partition: string;
  region: string;
  accountId: string;
  /** `key/<id>` or `alias/<name>`. */
  resource: string;
}

export function parseKmsArn(arn: string): ParsedArn | undefined {
  const m = ARN.exec(arn);
  if (!m) return undefined;
  return { partition: m[1]!, region: m[2]!, accountId: m[3]!, resource: m[4]! };
}

/** The alias a key identifier names (`alias/x`, or the alias part of an alias ARN), for `kms:RequestAlias`. */
export function requestAliasOf(identifier: string): string | undefined {
  if (identifier.startsWith('alias/')) return identifier;
  const at = identifier.indexOf(':alias/');
  return identifier.startsWith('arn:') && at > 0 ? identifier.slice(at + 1) : undefined;
}

/** `{ requestAlias }` when the identifier names an alias. */
export function aliasCondition(identifier: string): { requestAlias?: string } {
  const requestAlias = requestAliasOf(identifier);
  return requestAlias === undefined ? {} : { requestAlias };
}
