// Turns one Kafka record into one bulk operation: a tombstone (null value) deletes the document,
// anything else is decoded and indexed under its deterministic id.
import { decodeJson } from '../decode/json.js';
import type { BulkOperation } from '../sink/bulk-request.js';
import type { SourceRecord } from '../source/record.js';
import { documentId } from './document-id.js';

export type Transformed = { ok: true; op: BulkOperation } | { ok: false; reason: string };

export function toOperation(record: SourceRecord, index: string): Transformed {
  const id = documentId(record);
  if (record.value === null) return { ok: true, op: { action: 'delete', index, id } };
  const decoded = decodeJson(record.value);
  if (!decoded.ok) return decoded;
  return { ok: true, op: { action: 'index', index, id, source: JSON.stringify(decoded.value) } };
}
