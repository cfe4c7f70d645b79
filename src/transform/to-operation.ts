// Turns one decoded Kafka record into one bulk operation: a tombstone (null value) deletes the
// document, anything else is mapped (transform) and indexed (or created) under its id.
import { type Decoded, decodeJson } from '../decode/json.js';
import type { BulkOperation } from '../sink/bulk-request.js';
import type { SourceRecord } from '../source/record.js';
import { documentId, type IdStrategy } from './document-id.js';
import { applyMapping, type Mapping } from './mapping.js';
import { documentVersion, type VersionStrategy } from './document-version.js';

export type Transformed =
  | { ok: true; op: BulkOperation }
  | { ok: false; errorClass: 'decode' | 'transform'; errorType: string; reason: string };

export interface TransformOptions {
  index: string;
  id: IdStrategy;
  action: 'index' | 'create';
  mapping?: Mapping | undefined;
  /** Resolved strategy (never `auto`); absent = none. */
  version?: VersionStrategy | undefined;
  versionEpoch?: number | undefined;
}

/**
 * @param decoded the decoded value; null for a tombstone
 * @param rawJson the value's original text when it is JSON and needs no mapping: sent as is
 */
export function buildOperation(record: SourceRecord, decoded: Decoded | null, options: TransformOptions, rawJson?: string): Transformed {
  if (decoded === null) {
    const id = documentId(record, undefined, options.id);
    if (!id.ok) return { ok: false, errorClass: 'transform', errorType: 'no_document_id', reason: id.reason };
    if (id.id === undefined) return { ok: false, errorClass: 'transform', errorType: 'no_document_id', reason: 'tombstone with document.id "none": there is no document to delete' };
    const version = documentVersion(record, undefined, options.version ?? 'none', options.versionEpoch);
    if (!version.ok) return { ok: false, errorClass: 'transform', errorType: 'invalid_version', reason: version.reason };
    return { ok: true, op: { action: 'delete', index: options.index, id: id.id, ...(version.version === undefined ? {} : { version: version.version }) } };
  }
  if (!decoded.ok) return { ok: false, errorClass: 'decode', errorType: decoded.errorType, reason: decoded.reason };
  const mapped = applyMapping(decoded.value, options.mapping, record);
  if (!mapped.ok) return { ok: false, errorClass: 'transform', errorType: 'conversion_failed', reason: mapped.reason };
  const id = documentId(record, mapped.value, options.id);
  if (!id.ok) return { ok: false, errorClass: 'transform', errorType: 'no_document_id', reason: id.reason };
  // Valid JSON that the mapping did not touch is sent as is (no re-serialization), unless it spans
  // lines, which NDJSON cannot carry.
  const source = rawJson !== undefined && !options.mapping && !/[\r\n]/.test(rawJson) ? rawJson : JSON.stringify(mapped.value);
  const version = documentVersion(record, mapped.value, options.version ?? 'none', options.versionEpoch);
  if (!version.ok) return { ok: false, errorClass: 'transform', errorType: 'invalid_version', reason: version.reason };
  return {
    ok: true,
    op: { action: options.action, index: options.index, ...(id.id === undefined ? {} : { id: id.id }), source, ...(version.version === undefined ? {} : { version: version.version }) },
  };
}

/** JSON records, decoded and built in one step (tests and simple callers). */
export function toOperation(record: SourceRecord, options: TransformOptions): Transformed {
  if (record.value === null) return buildOperation(record, null, options);
  const decoded = decodeJson(record.value);
  return buildOperation(record, decoded, options, decoded.ok ? record.value.toString('utf8') : undefined);
}
