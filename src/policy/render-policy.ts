/**
 * Renders a policy document as pretty JSON, the way AWS KMS GetKeyPolicy returns it (aws-kms-protocol.md §6.3:
 * "AWS returns it pretty-printed Jackson style"), e.g.
 *   {\n  "Version" : "2012-10-17",\n  "Statement" : [ {\n    "Effect" : "Allow", ... } ]\n}
 * Invariants (Jackson's DefaultPrettyPrinter):
 * - objects break lines and indent two spaces per object level; `"key" : value`; empty object `{ }`;
 * - arrays stay on one line, `[ a, b ]`, and add no indentation level; empty array `[ ]`;
 * - strings and numbers are written as JSON.stringify writes them; key order is kept;
 * - the output parses back to the same value.
 */
import type { JsonValue } from './policy-document.js';

const indent = (level: number) => '\n' + '  '.repeat(level);

function render(value: JsonValue, level: number): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return '[ ]';
    return `[ ${value.map((v) => render(v, level)).join(', ')} ]`;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{ }';
    const body = entries.map(([k, v]) => `${indent(level + 1)}${JSON.stringify(k)} : ${render(v, level + 1)}`).join(',');
    return `{${body}${indent(level)}}`;
  }
  return JSON.stringify(value);
}

/** A policy document (e.g. `ParsedPolicy.json` or the default key policy) as AWS-style pretty JSON text. */
export function renderPolicy(document: JsonValue): string {
  return render(document, 0);
}
