// Turns one decoded Kafka record into one bulk operation: anything with a value is mapped (transform)
// and written under its id, to the index its template names (or its data stream), with the action
// configured or named by the record (index, create, update, upsert, delete); a Debezium change event
// writes its after image or deletes its row; a tombstone (null value) follows document.nullValues:
// deletes the document its key names, is skipped without a write, or fails.
import type { Config } from '../config/schema.js';
import { topicSettings } from '../config/topic-settings.js';
import { unwrapDebezium } from '../decode/debezium.js';
import { decodeJson } from '../decode/json.js';
import type { DecodedKey, DecodedRecord } from '../decode/keys.js';
import type { BulkOperation } from '../sink/encoder.js';
import type { SourceRecord } from '../source/record.js';
import { documentId, type IdStrategy, tombstoneId } from './document-id.js';
import { documentVersion, type VersionStrategy } from './document-version.js';
import { mayHaveKey, updateSource, withFirstMember } from './json-splice.js';
import { applyMapping, type Mapping, mappingUsesKey } from './mapping.js';
import { readPath } from '../config/name-template.js';
import { compileTarget, fixedIndex, resolveDeleteIndex, resolveTarget, type Target } from './target.js';

import { type NullValues, WRITE_ACTIONS, type WriteAction } from '../config/vocabulary.js';

/** What a record's action field may say. */
const RECORD_ACTIONS: ReadonlySet<string> = new Set([...WRITE_ACTIONS, 'delete']);

/**
 * - `{ ok: true, op }`: send this operation.
 * - `{ ok: true, skip }`: nothing to write, acknowledge the record: a tombstone (document.nullValues:
 *   ignore, or one in a data stream or after a Debezium delete), or a Debezium event that changes no
 *   row (truncate, message); the pipeline counts these apart from indexed and failed records.
 * - `{ ok: false, ... }`: the record can never be indexed; errors.policy decides (dlq, fail, skip).
 */
export type Transformed =
  | { ok: true; op: BulkOperation; skip?: undefined }
  | { ok: true; skip: 'tombstone' | 'change_event'; op?: undefined }
  | { ok: false; errorClass: 'decode' | 'transform'; errorType: string; reason: string };

export interface TransformOptions {
  /** The index of every record when `target` is absent (a fixed name). */
  index: string;
  /** Per-record targets: index templates, a data stream, a pipeline (absent: `index`). */
  target?: Target | undefined;
  id: IdStrategy;
  action: WriteAction;
  /** A path in the value naming each record's action (index, create, update, upsert, delete). */
  actionField?: readonly string[] | undefined;
  /** Shard routing: `key`, or a path in the value. */
  routing?: 'key' | readonly string[] | undefined;
  retryOnConflict?: number | undefined;
  envelope?: 'debezium' | undefined;
  mapping?: Mapping | undefined;
  /** What a tombstone does; default `delete`. */
  nullValues?: NullValues | undefined;
  /** External version strategy, resolved (never `auto`); absent = none. */
  version?: VersionStrategy | undefined;
  versionEpoch?: number | undefined;
}

/** The transform settings of one topic's records (global settings with its overrides). */
export function transformOptions(config: Pick<Config, 'elastic' | 'document' | 'transform' | 'kafka' | 'decode' | 'topicOverrides'>, topic = config.kafka.topics[0] ?? ''): TransformOptions {
  const s = topicSettings(config, topic);
  const target = compileTarget({ index: s.index, fallbackIndex: config.elastic.fallbackIndex, dataStream: s.dataStream, pipeline: s.pipeline, allowedIndices: config.elastic.allowedIndices });
  const fixed = fixedIndex(target);
  const options: TransformOptions = {
    index: fixed ?? '',
    id: s.id,
    action: s.action,
    mapping: config.transform,
    nullValues: s.nullValues,
    version: s.version,
    versionEpoch: config.document.versionEpoch,
  };
  // The common case stays lean: a fixed index without a pipeline needs no per-record resolution.
  if (fixed === undefined || target.pipeline) options.target = target;
  if (s.actionField !== undefined) options.actionField = s.actionField.split('.');
  if (s.routing !== undefined) options.routing = s.routing === 'key' ? 'key' : s.routing.slice('field:'.length).split('.');
  if (s.action === 'update' || s.action === 'upsert' || s.actionField !== undefined) options.retryOnConflict = config.document.retryOnConflict;
  if (s.envelope === 'debezium') options.envelope = 'debezium';
  return options;
}

/**
 * Whether building the operation of a record reads its key: the `key` id strategy or routing, `{key}`
 * in the mapping or a template, a tombstone to delete, a Debezium delete. Keys are decoded only then,
 * so a key that does not fit document.keyFormat fails only the records that use it.
 */
export function keyNeeded(options: TransformOptions, tombstone: boolean): boolean {
  if (tombstone) return (options.nullValues ?? 'delete') === 'delete' && (options.id === 'key' || options.routing === 'key' || options.target?.usesKey === true);
  return options.id === 'key' || options.routing === 'key' || mappingUsesKey(options.mapping) || options.target?.usesKey === true;
}

type RecordAction = WriteAction | 'delete';

/** Builds the operation from the decoded record (RecordDecoders.decodeRecordSync/Async). */
export function buildOperation(record: SourceRecord, decoded: DecodedRecord, options: TransformOptions): Transformed {
  if (decoded.value === null) return tombstone(record, decoded, options);
  if (!decoded.value.ok) return { ok: false, errorClass: 'decode', errorType: decoded.value.errorType, reason: decoded.value.reason };
  let value = decoded.value.value;
  let raw = decoded.raw;
  let action: RecordAction = options.action;
  if (options.envelope === 'debezium') {
    const change = unwrapDebezium(value);
    if (!change.ok) return { ok: false, errorClass: 'decode', errorType: change.errorType, reason: change.reason };
    if (change.event.kind === 'skip') return { ok: true, skip: 'change_event' };
    raw = undefined; // the document is the after image, not the envelope
    if (change.event.kind === 'delete') return deletion(record, decoded, change.event.before, options, 'Debezium delete');
    value = change.event.after;
  } else if (options.actionField) {
    const named = readPath(value, options.actionField);
    if (named !== undefined && named !== null) {
      if (typeof named !== 'string' || !RECORD_ACTIONS.has(named)) {
        return { ok: false, errorClass: 'transform', errorType: 'invalid_action', reason: `action field "${options.actionField.join('.')}" is ${JSON.stringify(named)?.slice(0, 40)}: expected index, create, update, upsert or delete` };
      }
      action = named as RecordAction;
      if (action === 'delete') return deletion(record, decoded, value, options, 'a delete named by the action field');
    }
  }
  let key: string | null = null;
  if (keyNeeded(options, false)) {
    const known = requireKey(decoded.key);
    if (!known.ok) return keyFailure(known);
    key = known.text;
  }
  const mapped = options.mapping ? applyMapping(value, options.mapping, { topic: record.topic, partition: record.partition, offset: record.offset, timestamp: record.timestamp, key, headers: record.headers }) : { ok: true as const, value };
  if (!mapped.ok) return { ok: false, errorClass: 'transform', errorType: 'conversion_failed', reason: mapped.reason };
  const id = documentId(record, key, mapped.value, options.id);
  if (!id.ok) return { ok: false, errorClass: 'transform', errorType: id.errorType, reason: id.reason };
  const version = documentVersion(record, mapped.value, options.version ?? 'none', options.versionEpoch);
  if (!version.ok) return { ok: false, errorClass: 'transform', errorType: 'invalid_version', reason: version.reason };
  if (version.version !== undefined && action !== 'index') {
    return { ok: false, errorClass: 'transform', errorType: 'action_not_versionable', reason: `the record asks for ${action}, which cannot carry an external version (document.version ${options.version}): only index and delete can` };
  }
  // Valid JSON that the mapping did not touch is sent as is (no re-serialization), unless it spans
  // lines, which NDJSON cannot carry.
  let source: Buffer | string = raw ?? JSON.stringify(mapped.value);
  let index = options.index;
  let pipeline: string | undefined;
  const target = options.target;
  if (target) {
    const resolved = resolveTarget(target, { record, key, value });
    if (!resolved.ok) return { ok: false, errorClass: 'transform', errorType: resolved.errorType, reason: resolved.reason };
    index = resolved.index;
    if (action === 'index' || action === 'create') pipeline = resolved.pipeline;
    if (target.dataStream) {
      const stamped = withTimestamp(record, value, mapped.value, raw, target.dataStream.timestampField);
      if (!stamped.ok) return stamped;
      source = stamped.source;
    }
  }
  const op: BulkOperation = { action: action === 'upsert' ? 'update' : action, index };
  if (id.id !== undefined) op.id = id.id;
  if (action === 'update' || action === 'upsert') {
    op.source = updateSource(source, action === 'upsert');
    if (options.retryOnConflict !== undefined) op.retryOnConflict = options.retryOnConflict;
  } else {
    op.source = source;
  }
  if (version.version !== undefined) op.version = version.version;
  if (options.routing !== undefined) {
    const routing = routingOf(options.routing, key, value);
    if (!routing.ok) return routing;
    if (routing.value !== undefined) op.routing = routing.value;
  }
  if (pipeline !== undefined) {
    op.pipeline = pipeline;
    if (target!.pipelineFromRecord) op.pipelineFromRecord = true;
  }
  return { ok: true, op };
}

/** The record's @timestamp for a data stream, set first in the document unless it already has one. */
function withTimestamp(
  record: SourceRecord,
  value: Record<string, unknown>,
  mapped: Record<string, unknown>,
  raw: Buffer | undefined,
  field: readonly string[] | undefined,
): { ok: true; source: Buffer | string } | (Transformed & { ok: false }) {
  let stamp: string;
  if (field) {
    const found = timestampText(readPath(value, field));
    if (found === undefined) return { ok: false, errorClass: 'transform', errorType: 'no_timestamp', reason: `data stream timestamp field "${field.join('.')}" is ${JSON.stringify(readPath(value, field))?.slice(0, 40) ?? 'missing'}: expected epoch millis or a date` };
    stamp = found;
  } else {
    const found = Number(record.timestamp) >= 0 ? isoDate(Number(record.timestamp)) : undefined;
    if (found === undefined) return { ok: false, errorClass: 'transform', errorType: 'no_timestamp', reason: `the record has no usable timestamp (${record.timestamp}) for @timestamp; set elastic.dataStream.timestampField` };
    stamp = found;
  }
  if (raw === undefined) {
    // A document the service serializes: a timestamp field decides; else the document's own @timestamp stays.
    if (!field && '@timestamp' in mapped) return { ok: true, source: JSON.stringify(mapped) };
    const doc: Record<string, unknown> = { '@timestamp': stamp, ...mapped };
    doc['@timestamp'] = stamp;
    return { ok: true, source: JSON.stringify(doc) };
  }
  // Bytes sent as they came (no mapping: `value` is that object when a field was read).
  if (field) {
    if ('@timestamp' in value) return { ok: true, source: JSON.stringify({ ...value, '@timestamp': stamp }) };
  } else if (mayHaveKey(raw, '@timestamp')) {
    const parsed = decodeJson(raw);
    if (parsed.ok && '@timestamp' in parsed.value) return { ok: true, source: raw }; // the document's own
  }
  return { ok: true, source: withFirstMember(raw, '@timestamp', JSON.stringify(stamp)) };
}

/** Epoch millis (number or digits) → ISO; other text as it is (the engine parses dates). */
function timestampText(field: unknown): string | undefined {
  if (typeof field === 'number') return isoDate(field);
  if (typeof field === 'bigint') return isoDate(Number(field));
  if (typeof field !== 'string' || field === '') return undefined;
  if (/^-?\d+$/.test(field)) return isoDate(Number(field));
  return field;
}

/** Epoch millis → ISO 8601, or undefined outside what a date can hold (±8.64e15 ms). */
function isoDate(ms: number): string | undefined {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function routingOf(routing: 'key' | readonly string[], key: string | null, value: Record<string, unknown> | undefined): { ok: true; value: string | undefined } | (Transformed & { ok: false }) {
  if (routing === 'key') return { ok: true, value: key ?? undefined }; // no key: routed by id, the engines' default
  const field = readPath(value, routing);
  if (typeof field === 'string' && field !== '') return { ok: true, value: field };
  if (typeof field === 'number' || typeof field === 'bigint' || typeof field === 'boolean') return { ok: true, value: String(field) };
  return { ok: false, errorClass: 'transform', errorType: 'no_routing_value', reason: `routing field "${routing.join('.')}" is ${field === undefined ? 'missing' : JSON.stringify(field)?.slice(0, 40)}: a document routed without it could not be found by later updates and deletes` };
}

/**
 * A delete: of a tombstone's key (value undefined), of a Debezium delete's row (value = its before
 * image, when sent), or named by the action field (value = the record's). The index must be the one
 * the document was written to: never the fallback, and never a date from this record's timestamp.
 */
function deletion(record: SourceRecord, decoded: DecodedRecord, value: Record<string, unknown> | undefined, options: TransformOptions, what: string): Transformed {
  let key: string | null = null;
  // The decoders decoded the key by the same rule (a tombstone's, or a record with a value's).
  if (keyNeeded(options, decoded.value === null)) {
    const known = requireKey(decoded.key);
    if (!known.ok) return keyFailure(known);
    key = known.text;
  }
  const id = value !== undefined && options.id.startsWith('field:') ? documentId(record, key, value, options.id) : tombstoneId(key, options.id);
  if (!id.ok) return { ok: false, errorClass: 'transform', errorType: id.errorType, reason: value === undefined ? id.reason : `${what}: ${id.reason}` };
  if (id.id === undefined) return { ok: false, errorClass: 'transform', errorType: 'tombstone_without_id', reason: `${what} with document.id ${options.id}: nothing names the document to delete` };
  let index = options.index;
  if (options.target) {
    const resolved = resolveDeleteIndex(options.target, { record, key, value });
    if (!resolved.ok) return { ok: false, errorClass: 'transform', errorType: 'delete_index_unknown', reason: `${what}: ${resolved.reason}` };
    index = resolved.index;
  }
  const version = documentVersion(record, value, options.version ?? 'none', options.versionEpoch);
  if (!version.ok) return { ok: false, errorClass: 'transform', errorType: 'invalid_version', reason: version.reason };
  const op: BulkOperation = { action: 'delete', index, id: id.id };
  if (version.version !== undefined) op.version = version.version;
  if (options.routing !== undefined) {
    if (options.routing !== 'key' && value === undefined) {
      return { ok: false, errorClass: 'transform', errorType: 'tombstone_without_routing', reason: `${what}: document.routing reads field "${options.routing.join('.')}", which a tombstone does not have, so the delete could not reach the document's shard; set document.nullValues: ignore, or route by key` };
    }
    const routing = routingOf(options.routing, key, value);
    if (!routing.ok) return routing;
    if (routing.value !== undefined) op.routing = routing.value;
  }
  return { ok: true, op };
}

function tombstone(record: SourceRecord, decoded: DecodedRecord, options: TransformOptions): Transformed {
  switch (options.nullValues ?? 'delete') {
    case 'ignore':
      return { ok: true, skip: 'tombstone' };
    case 'fail':
      return { ok: false, errorClass: 'transform', errorType: 'tombstone_rejected', reason: 'tombstone (null value) and document.nullValues is "fail"; use delete (delete the document the key names) or ignore (acknowledge without a write)' };
    case 'delete':
      return deletion(record, decoded, undefined, options, 'tombstone');
  }
}

function requireKey(key: DecodedKey | undefined): DecodedKey {
  // The decoders decode the key whenever keyNeeded says so; a missing one is a wiring bug, not bad data.
  if (key === undefined) throw new Error('buildOperation: the record uses its key but the key was not decoded (decode it with RecordDecoders.decodeRecordSync/Async)');
  return key;
}

const keyFailure = (key: DecodedKey & { ok: false }): Transformed => ({ ok: false, errorClass: 'transform', errorType: key.errorType, reason: key.reason });
