// Deterministic document ids: redelivery of a record overwrites its document instead of adding one,
// which makes at-least-once delivery exactly-once in the index.
import type { SourceRecord } from '../source/record.js';

/** `key` (falls back to the coordinate when a record has no key), `coordinate`, `none`, `field:<path>`. */
export type IdStrategy = string;

export type IdResult = { ok: true; id: string | undefined } | { ok: false; reason: string };

export function coordinateId(record: Pick<SourceRecord, 'topic' | 'partition' | 'offset'>): string {
  return `${record.topic}-${record.partition}-${record.offset}`;
}

export function documentId(
  record: Pick<SourceRecord, 'topic' | 'partition' | 'offset' | 'key'>,
  value: Record<string, unknown> | undefined,
  strategy: IdStrategy = 'key',
): IdResult {
  if (strategy === 'none') return { ok: true, id: undefined };
  if (strategy === 'coordinate') return { ok: true, id: coordinateId(record) };
  if (strategy.startsWith('field:')) {
    const path = strategy.slice('field:'.length);
    // A tombstone has no value: its id can only come from the key.
    if (value === undefined) return record.key ? { ok: true, id: record.key.toString('utf8') } : { ok: false, reason: `tombstone without a key cannot name the document (id: ${strategy})` };
    const field = path.split('.').reduce<unknown>((node, k) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[k] : undefined), value);
    if (typeof field === 'string' && field !== '') return { ok: true, id: field };
    if (typeof field === 'number' || typeof field === 'bigint') return { ok: true, id: String(field) };
    return { ok: false, reason: `document id field "${path}" is ${field === undefined ? 'missing' : `not a string or number (${JSON.stringify(field)})`}` };
  }
  if (record.key !== null && record.key.length > 0) return { ok: true, id: record.key.toString('utf8') };
  return { ok: true, id: coordinateId(record) };
}
