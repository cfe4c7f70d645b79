// Turns one Kafka record into one bulk operation: a tombstone (null value) deletes the document,
// anything else is decoded and indexed (or created) under its id.
import { decodeJson } from '../decode/json.js';
import type { BulkOperation } from '../sink/bulk-request.js';
import type { SourceRecord } from '../source/record.js';
import { documentId, type IdStrategy } from './document-id.js';

export type Transformed =
  | { ok: true; op: BulkOperation }
  | { ok: false; errorClass: 'decode' | 'transform'; errorType: string; reason: string };

export interface TransformOptions {
  index: string;
  id: IdStrategy;
  action: 'index' | 'create';
}

export function toOperation(record: SourceRecord, options: TransformOptions): Transformed {
  if (record.value === null) {
    const id = documentId(record, undefined, options.id);
    if (!id.ok) return { ok: false, errorClass: 'transform', errorType: 'no_document_id', reason: id.reason };
    if (id.id === undefined) return { ok: false, errorClass: 'transform', errorType: 'no_document_id', reason: 'tombstone with document.id "none": there is no document to delete' };
    return { ok: true, op: { action: 'delete', index: options.index, id: id.id } };
  }
  const decoded = decodeJson(record.value);
  if (!decoded.ok) return { ok: false, errorClass: 'decode', errorType: decoded.errorType, reason: decoded.reason };
  const id = documentId(record, decoded.value, options.id);
  if (!id.ok) return { ok: false, errorClass: 'transform', errorType: 'no_document_id', reason: id.reason };
  // The original text is valid JSON: send it as is (no re-serialization), unless it spans lines,
  // which NDJSON cannot carry.
  const text = record.value.toString('utf8');
  const source = /[\r\n]/.test(text) ? JSON.stringify(decoded.value) : text;
  return { ok: true, op: { action: options.action, index: options.index, ...(id.id === undefined ? {} : { id: id.id }), source } };
}
