// Debezium change events → what to write. An event's value is an envelope: `op` (c create, r read
// during a snapshot, u update, d delete, t truncate, m message), the row's `before` and `after`
// images, and metadata (source, ts_ms, transaction). The JSON converter with schemas enabled wraps it
// as {"schema": …, "payload": <envelope>}; Avro (decoded with its writer schema) and JSON without
// schemas carry the envelope itself. The record key holds the table's primary key, the same way.
import { canonicalJson } from './keys.js';

type ChangeEvent =
  /** c, r, u: the row as it is now. */
  | { kind: 'write'; after: Record<string, unknown> }
  /** d: the row is gone; `before` is its last image when the connector sends one. */
  | { kind: 'delete'; before: Record<string, unknown> | undefined }
  /** t (truncate), m (message): nothing to write per document. */
  | { kind: 'skip'; op: string };

export type Unwrapped = { ok: true; event: ChangeEvent } | { ok: false; errorType: string; reason: string };

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** {"schema": …, "payload": …} as the JSON converter writes it with schemas.enable=true. */
const payloadOf = (value: Record<string, unknown>): unknown => ('payload' in value && 'schema' in value ? value.payload : value);

export function unwrapDebezium(value: Record<string, unknown>): Unwrapped {
  const envelope = payloadOf(value);
  if (!isObject(envelope) || typeof envelope.op !== 'string') {
    return { ok: false, errorType: 'not_a_change_event', reason: `decode.envelope is debezium but the value has no "op" field${'payload' in value ? ' in its payload' : ''}: expected a Debezium change event` };
  }
  const { op } = envelope;
  switch (op) {
    case 'c':
    case 'r':
    case 'u':
      if (!isObject(envelope.after)) return { ok: false, errorType: 'change_event_without_after', reason: `Debezium "${op}" event without an "after" image (${JSON.stringify(envelope.after ?? null)})` };
      return { ok: true, event: { kind: 'write', after: envelope.after } };
    case 'd':
      return { ok: true, event: { kind: 'delete', before: isObject(envelope.before) ? envelope.before : undefined } };
    case 't':
    case 'm':
      return { ok: true, event: { kind: 'skip', op } };
    default:
      return { ok: false, errorType: 'unknown_change_op', reason: `Debezium event with op "${op.slice(0, 20)}" (expected c, r, u, d, t or m)` };
  }
}

/**
 * The document id a Debezium key stands for: the table's primary key. One column: its value as text
 * ("1001"); several: canonical JSON with sorted names ({"order_id":7,"line":2}), the same whatever the
 * column order. A key that is no object (a plain string key) is taken as it is.
 */
export function changeKeyText(key: unknown): string | null {
  const columns = isObject(key) ? payloadOf(key) : key;
  if (columns === null || columns === undefined) return null;
  if (!isObject(columns)) return scalarText(columns);
  const entries = Object.entries(columns).filter(([, v]) => v !== undefined);
  if (entries.length === 1) return scalarText(entries[0]![1]);
  return canonicalJson(columns);
}

const scalarText = (value: unknown): string | null =>
  value === null || value === undefined ? null : typeof value === 'string' ? value : typeof value === 'object' ? canonicalJson(value) : String(value);

/**
 * A Debezium key written by the JSON converter (document.keyFormat string) → its id. JSON numbers past
 * 2^53 (BIGINT keys) lose digits in JSON.parse, which would merge distinct rows into one document:
 * such a column's digits are read back from the text.
 */
export function changeKeyFromJson(text: string): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text; // not JSON: a plain key
  }
  if (!isObject(parsed)) return changeKeyText(parsed);
  const columns = payloadOf(parsed);
  if (isObject(columns)) {
    for (const [name, value] of Object.entries(columns)) {
      if (typeof value !== 'number' || Number.isSafeInteger(value) || !Number.isInteger(value)) continue;
      const exact = [...text.matchAll(new RegExp(`${escapeRegExp(JSON.stringify(name))}\\s*:\\s*(-?\\d+)`, 'g'))].at(-1)?.[1];
      if (exact !== undefined) columns[name] = BigInt(exact);
    }
  }
  return changeKeyText(parsed);
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
