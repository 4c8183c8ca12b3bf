/** Query-string integers arrive as digit strings (schemas check the pattern); this turns them into numbers. */
export function queryInteger(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}
