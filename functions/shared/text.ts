/**
 * String(value) for untyped JSON fields (CloudTrail records, SDK inputs, policy statements). They are
 * strings or numbers in practice; an object renders as '[object Object]', exactly as String() always did.
 */
export function asText(value: unknown): string {
  return String(value);
}
