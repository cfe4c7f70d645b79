// Decodes a record value as JSON. A decoding failure is a value, not an exception: the pipeline
// decides what to do with bad input (fail now, dead-letter later).
export type Decoded = { ok: true; value: Record<string, unknown> } | { ok: false; errorType: string; reason: string };

export function decodeJson(value: Buffer): Decoded {
  // An empty value is not a tombstone (that is null): it is bad input.
  if (value.length === 0) return { ok: false, errorType: 'empty_value', reason: 'empty value (a tombstone has a null value, not an empty one)' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (error) {
    return { ok: false, errorType: 'invalid_json', reason: `invalid JSON: ${(error as Error).message}` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { ok: false, errorType: 'not_an_object', reason: `expected a JSON object, got ${Array.isArray(parsed) ? 'an array' : typeof parsed}` };
  }
  return { ok: true, value: parsed as Record<string, unknown> };
}
