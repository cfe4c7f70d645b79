// Decodes a record value as JSON. A decoding failure is a value, not an exception: the pipeline
// decides what to do with bad input (fail now, dead-letter later).
export type Decoded = { ok: true; value: Record<string, unknown> } | { ok: false; errorType: string; reason: string };

/** decode.maxDepth's default: far deeper than any real document, far shallower than the stack. */
const DEFAULT_MAX_DEPTH = 256;

export function decodeJson(value: Buffer, maxDepth = DEFAULT_MAX_DEPTH): Decoded {
  // An empty value is not a tombstone (that is null): it is bad input.
  if (value.length === 0) return { ok: false, errorType: 'empty_value', reason: 'empty value (a tombstone has a null value, not an empty one)' };
  // V8 parses any depth, but what walks the result recursively (JSON.stringify, the mapping) would
  // overflow the stack: a document nested deeper than maxDepth is refused before it is parsed.
  const depth = nestingBeyond(value, maxDepth);
  if (depth !== undefined) return { ok: false, errorType: 'too_deep', reason: `JSON nested deeper than decode.maxDepth (${maxDepth}) at byte ${depth}` };
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

/**
 * A cheap look at a JSON value that may go to the engine as its original bytes: after optional spaces
 * it starts with `{` and ends with `}`, and holds no CR/LF (NDJSON frames a document as one line).
 * Not a validation: a value that looks right but is not valid JSON is refused by the engine, item by
 * item, and dead-lettered with the engine's reason.
 */
export function looksLikeOneLineObject(bytes: Buffer): boolean {
  let start = 0;
  let end = bytes.length - 1;
  while (start < end && (bytes[start] === 0x20 || bytes[start] === 0x09)) start++;
  while (end > start && (bytes[end] === 0x20 || bytes[end] === 0x09)) end--;
  return start < end && bytes[start] === 0x7b && bytes[end] === 0x7d && bytes.indexOf(0x0a) === -1 && bytes.indexOf(0x0d) === -1;
}

/** The decoded value of a record whose fields nobody reads (its bytes go to the engine as they are). */
export const UNREAD: Decoded = Object.freeze({ ok: true, value: Object.freeze({}) as Record<string, unknown> });

/**
 * Where (byte index) the nesting of objects and arrays first exceeds `maxDepth`, or undefined. Only
 * valid JSON can hurt (invalid JSON fails to parse, iteratively), and valid JSON needs two bytes per
 * level, so short values are not scanned.
 */
export function nestingBeyond(bytes: Uint8Array, maxDepth: number): number | undefined {
  if (bytes.length < 2 * (maxDepth + 1)) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return i;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return undefined;
}
