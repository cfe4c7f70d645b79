// Turns one decoded Kafka record into one bulk operation: anything with a value is mapped (transform)
// and indexed (or created) under its id; a tombstone (null value) follows document.nullValues: deletes
// the document its key names, is skipped without a write, or fails.
import type { Config } from '../config/schema.js';
import { decodeJson, looksLikeOneLineObject } from '../decode/json.js';
import { type BytesKeyFormat, decodeKeyBytes, type DecodedKey, type DecodedRecord } from '../decode/keys.js';
import type { BulkOperation } from '../sink/encoder.js';
import type { SourceRecord } from '../source/record.js';
import { documentId, type IdStrategy, tombstoneId } from './document-id.js';
import { applyMapping, type Mapping, mappingUsesKey } from './mapping.js';
import { documentVersion, resolveVersionStrategy, type VersionStrategy } from './document-version.js';

export const NULL_VALUES = ['delete', 'ignore', 'fail'] as const;
export type NullValues = (typeof NULL_VALUES)[number];

/**
 * - `{ ok: true, op }`: send this operation.
 * - `{ ok: true, skip: 'tombstone' }`: nothing to write, acknowledge the record (document.nullValues:
 *   ignore); the pipeline counts these apart from indexed and failed records.
 * - `{ ok: false, ... }`: the record can never be indexed; errors.policy decides (dlq, fail, skip).
 */
export type Transformed =
  | { ok: true; op: BulkOperation; skip?: undefined }
  | { ok: true; skip: 'tombstone'; op?: undefined }
  | { ok: false; errorClass: 'decode' | 'transform'; errorType: string; reason: string };

export interface TransformOptions {
  index: string;
  id: IdStrategy;
  action: 'index' | 'create';
  mapping?: Mapping | undefined;
  /** What a tombstone does; default `delete`. */
  nullValues?: NullValues | undefined;
  /** External version strategy, resolved (never `auto`); absent = none. */
  version?: VersionStrategy | undefined;
  versionEpoch?: number | undefined;
}

export function transformOptions(config: Pick<Config, 'elastic' | 'document' | 'transform' | 'kafka'>): TransformOptions {
  const { document } = config;
  return {
    index: config.elastic.index,
    id: document.id,
    action: document.action,
    mapping: config.transform,
    nullValues: document.nullValues,
    version: resolveVersionStrategy(document.version, document.id, document.action, config.kafka.topics.length),
    versionEpoch: document.versionEpoch,
  };
}

/**
 * Whether building the operation of a record reads its key: the `key` id strategy, `{key}` in the
 * mapping, a tombstone to delete. Keys are decoded only then, so a key that does not fit
 * document.keyFormat fails only the records that use it.
 */
export function keyNeeded(options: TransformOptions, tombstone: boolean): boolean {
  if (tombstone) return (options.nullValues ?? 'delete') === 'delete' && options.id === 'key';
  return options.id === 'key' || mappingUsesKey(options.mapping);
}

/** Builds the operation from the decoded record (RecordDecoders.decodeRecordSync/Async). */
export function buildOperation(record: SourceRecord, decoded: DecodedRecord, options: TransformOptions): Transformed {
  if (decoded.value === null) return tombstone(record, decoded, options);
  if (!decoded.value.ok) return { ok: false, errorClass: 'decode', errorType: decoded.value.errorType, reason: decoded.value.reason };
  let key: string | null = null;
  if (keyNeeded(options, false)) {
    const known = requireKey(decoded.key);
    if (!known.ok) return keyFailure(known);
    key = known.text;
  }
  const mapped = applyMapping(decoded.value.value, options.mapping, { topic: record.topic, partition: record.partition, offset: record.offset, timestamp: record.timestamp, key });
  if (!mapped.ok) return { ok: false, errorClass: 'transform', errorType: 'conversion_failed', reason: mapped.reason };
  const id = documentId(record, key, mapped.value, options.id);
  if (!id.ok) return { ok: false, errorClass: 'transform', errorType: id.errorType, reason: id.reason };
  // Valid JSON that the mapping did not touch is sent as is (no re-serialization), unless it spans
  // lines, which NDJSON cannot carry.
  const source = decoded.raw ?? JSON.stringify(mapped.value);
  const version = documentVersion(record, mapped.value, options.version ?? 'none', options.versionEpoch);
  if (!version.ok) return { ok: false, errorClass: 'transform', errorType: 'invalid_version', reason: version.reason };
  return { ok: true, op: { action: options.action, index: options.index, ...(id.id === undefined ? {} : { id: id.id }), source, ...versioned(version.version) } };
}

const versioned = (version: bigint | undefined): { version?: bigint } => (version === undefined ? {} : { version });

function tombstone(record: SourceRecord, decoded: DecodedRecord, options: TransformOptions): Transformed {
  switch (options.nullValues ?? 'delete') {
    case 'ignore':
      return { ok: true, skip: 'tombstone' };
    case 'fail':
      return { ok: false, errorClass: 'transform', errorType: 'tombstone_rejected', reason: 'tombstone (null value) and document.nullValues is "fail"; use delete (delete the document the key names) or ignore (acknowledge without a write)' };
    case 'delete': {
      let key: string | null = null;
      if (keyNeeded(options, true)) {
        const known = requireKey(decoded.key);
        if (!known.ok) return keyFailure(known);
        key = known.text;
      }
      const id = tombstoneId(key, options.id);
      if (!id.ok) return { ok: false, errorClass: 'transform', errorType: id.errorType, reason: id.reason };
      const version = documentVersion(record, undefined, options.version ?? 'none', options.versionEpoch);
      if (!version.ok) return { ok: false, errorClass: 'transform', errorType: 'invalid_version', reason: version.reason };
      return { ok: true, op: { action: 'delete', index: options.index, id: id.id, ...versioned(version.version) } };
    }
  }
}

function requireKey(key: DecodedKey | undefined): DecodedKey {
  // The decoders decode the key whenever keyNeeded says so; a missing one is a wiring bug, not bad data.
  if (key === undefined) throw new Error('buildOperation: the record uses its key but the key was not decoded (decode it with RecordDecoders.decodeRecordSync/Async)');
  return key;
}

const keyFailure = (key: DecodedKey & { ok: false }): Transformed => ({ ok: false, errorClass: 'transform', errorType: key.errorType, reason: key.reason });

/** JSON records with keys in a registry-free format, decoded and built in one step (tests and simple callers). */
export function toOperation(record: SourceRecord, options: TransformOptions & { keyFormat?: BytesKeyFormat | undefined }): Transformed {
  const key = decodeKeyBytes(record.key, options.keyFormat ?? 'string');
  if (record.value === null) return buildOperation(record, { value: null, key }, options);
  const value = decodeJson(record.value);
  return buildOperation(record, { value, key, raw: value.ok && !options.mapping && looksLikeOneLineObject(record.value) ? record.value : undefined }, options);
}
