/**
 * Input shapes of the AWS KMS JSON 1.1 API, declared as data (from the service model,
 * ../shared/reference/aws-kms-protocol.md §2.3), and one validator that reads them.
 * Invariants: members not declared are ignored (new SDKs add members such as DryRunModifiers or Recipient);
 * a declared member of the wrong JSON type, out of range, or outside its enum fails with ValidationException
 * in AWS's words, naming the member in camelCase (`Value at 'plaintext' failed to satisfy constraint: ...`);
 * blob lengths apply to the decoded bytes; nothing is coerced.
 */
import { ValidationError } from '../../errors/index.js';

export type Shape =
  | { kind: 'string'; min?: number; max?: number; values?: readonly string[]; pattern?: RegExp }
  | { kind: 'blob'; min?: number; max?: number }
  | { kind: 'integer'; min?: number; max?: number }
  | { kind: 'boolean' }
  | { kind: 'map'; maxEntries?: number }
  | { kind: 'list'; member: Shape; min?: number; max?: number }
  | { kind: 'structure'; members: Members };

export type Members = Readonly<Record<string, { shape: Shape; required?: boolean }>>;

export const str = (opts: { min?: number; max?: number; values?: readonly string[]; pattern?: RegExp } = {}): Shape => ({ kind: 'string', ...opts });
export const blob = (min: number, max: number): Shape => ({ kind: 'blob', min, max });
export const int = (min?: number, max?: number): Shape => ({
  kind: 'integer',
  ...(min === undefined ? {} : { min }),
  ...(max === undefined ? {} : { max }),
});
export const bool: Shape = { kind: 'boolean' };
export const stringMap: Shape = { kind: 'map' };
export const list = (member: Shape, min?: number, max?: number): Shape => ({
  kind: 'list',
  member,
  ...(min === undefined ? {} : { min }),
  ...(max === undefined ? {} : { max }),
});
export const structure = (members: Members): Shape => ({ kind: 'structure', members });

/** Shorthands for members. */
export const required = (shape: Shape) => ({ shape, required: true });
export const optional = (shape: Shape) => ({ shape });

/** Commonly used member shapes. */
export const KEY_ID = str({ min: 1, max: 2048 });
export const GRANT_TOKENS = list(str({ min: 1, max: 8192 }), 0, 10);

const camel = (name: string) => name.charAt(0).toLowerCase() + name.slice(1);

class Violations {
  readonly messages: string[] = [];
  add(path: string, value: unknown, constraint: string) {
    const shown = typeof value === 'string' || typeof value === 'number' ? `Value '${String(value).slice(0, 64)}' at` : 'Value at';
    this.messages.push(`${shown} '${path}' failed to satisfy constraint: ${constraint}`);
  }
}

/** Strict canonical base64 (node's decoder skips unknown characters, so the round trip proves the input). */
function decodeBase64(value: string): Buffer | undefined {
  const bytes = Buffer.from(value, 'base64');
  return bytes.toString('base64') === value ? bytes : undefined;
}

function typeError(path: string, expected: string): never {
  throw new ValidationError(`1 validation error detected: Value at '${path}' must be ${expected}.`);
}

function read(shape: Shape, value: unknown, path: string, v: Violations): unknown {
  switch (shape.kind) {
    case 'string': {
      if (typeof value !== 'string') typeError(path, 'a string');
      if (shape.min !== undefined && value.length < shape.min) v.add(path, value, `Member must have length greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && value.length > shape.max) v.add(path, value, `Member must have length less than or equal to ${shape.max}`);
      if (shape.values && !shape.values.includes(value)) v.add(path, value, `Member must satisfy enum value set: [${shape.values.join(', ')}]`);
      if (shape.pattern && !shape.pattern.test(value)) v.add(path, value, `Member must satisfy regular expression pattern: ${shape.pattern.source}`);
      return value;
    }
    case 'blob': {
      if (typeof value !== 'string') typeError(path, 'a base64-encoded string');
      const bytes = decodeBase64(value);
      if (!bytes) typeError(path, 'valid standard base64');
      if (shape.min !== undefined && bytes.length < shape.min) v.add(path, undefined, `Member must have length greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && bytes.length > shape.max) v.add(path, undefined, `Member must have length less than or equal to ${shape.max}`);
      return bytes;
    }
    case 'integer': {
      if (typeof value !== 'number' || !Number.isInteger(value)) typeError(path, 'an integer');
      if (shape.min !== undefined && value < shape.min) v.add(path, value, `Member must have value greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && value > shape.max) v.add(path, value, `Member must have value less than or equal to ${shape.max}`);
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean') typeError(path, 'a boolean');
      return value;
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) typeError(path, 'an object of strings');
      for (const [k, item] of Object.entries(value)) if (typeof item !== 'string') typeError(`${path}.${k}`, 'a string');
      return { ...(value as Record<string, string>) };
    }
    case 'list': {
      if (!Array.isArray(value)) typeError(path, 'a list');
      if (shape.min !== undefined && value.length < shape.min) v.add(path, undefined, `Member must have length greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && value.length > shape.max) v.add(path, undefined, `Member must have length less than or equal to ${shape.max}`);
      return value.map((item, i) => read(shape.member, item, `${path}.${i + 1}.member`, v));
    }
    case 'structure':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) typeError(path, 'an object');
      return readMembers(shape.members, value as Record<string, unknown>, path, v);
  }
}

function readMembers(members: Members, input: Record<string, unknown>, prefix: string, v: Violations): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, { shape, required: isRequired }] of Object.entries(members)) {
    const path = prefix === '' ? camel(name) : `${prefix}.${camel(name)}`;
    const value = Object.hasOwn(input, name) ? input[name] : undefined;
    if (value === undefined || value === null) {
      if (isRequired) v.add(path, undefined, 'Member must not be null');
      continue;
    }
    out[name] = read(shape, value, path, v);
  }
  return out;
}

/**
 * Validates a parsed JSON request body against an operation's members.
 * @throws ValidationError (ERR_VALIDATION) with AWS's "N validation error(s) detected: ..." text.
 */
export function validateInput(members: Members, body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError('The request body must be a JSON object.');
  const violations = new Violations();
  const out = readMembers(members, body as Record<string, unknown>, '', violations);
  const n = violations.messages.length;
  if (n > 0) throw new ValidationError(`${n} validation error${n === 1 ? '' : 's'} detected: ${violations.messages.join('; ')}`);
  return out;
}
