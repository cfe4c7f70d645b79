import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJson, looksLikeOneLineObject } from '../../src/decode/json.js';
import { type BytesKeyFormat, decodeKeyBytes } from '../../src/decode/keys.js';
import type { SourceRecord } from '../../src/source/record.js';
import { documentId, MAX_ID_BYTES } from '../../src/transform/document-id.js';
import { buildOperation, type TransformOptions, type Transformed } from '../../src/transform/to-operation.js';
import { backoffDelay } from '../../src/util/backoff.js';

const record = (key: string | Buffer | null, value: string | null) => ({
  topic: 't',
  partition: 2,
  offset: 41n,
  timestamp: 0n,
  key: key === null ? null : Buffer.isBuffer(key) ? key : Buffer.from(key),
  value: value === null ? null : Buffer.from(value),
  headers: new Map<string, Buffer>(),
});
const coord = record(null, null);

/** A JSON record decoded as the service's decoders do (a one-line object untouched travels as its bytes), then built. */
function toOperation(record: SourceRecord, options: TransformOptions & { keyFormat?: BytesKeyFormat }): Transformed {
  const key = decodeKeyBytes(record.key, options.keyFormat ?? 'string');
  if (record.value === null) return buildOperation(record, { value: null, key }, options);
  const value = decodeJson(record.value);
  const asIs = value.ok && !options.mapping && options.envelope === undefined && looksLikeOneLineObject(record.value);
  return buildOperation(record, { value, key, raw: asIs ? record.value : undefined }, options);
}

describe('documentId', () => {
  it('uses the key, else topic-partition-offset', () => {
    assert.deepEqual(documentId(coord, 'user-7', {}), { ok: true, id: 'user-7' });
    assert.deepEqual(documentId(coord, null, {}), { ok: true, id: 't-2-41' });
  });

  it('supports coordinate, none and field:<path>', () => {
    const value = { user: { id: 42, name: 'x' }, empty: '' };
    assert.deepEqual(documentId(coord, 'k', value, 'coordinate'), { ok: true, id: 't-2-41' });
    assert.deepEqual(documentId(coord, 'k', value, 'none'), { ok: true, id: undefined });
    assert.deepEqual(documentId(coord, 'k', value, 'field:user.id'), { ok: true, id: '42' });
    assert.deepEqual(documentId(coord, 'k', value, 'field:user'), { ok: false, errorType: 'no_document_id', reason: 'document id field "user" is not a string or number ({"id":42,"name":"x"})' });
    assert.deepEqual(documentId(coord, 'k', value, 'field:nope'), { ok: false, errorType: 'no_document_id', reason: 'document id field "nope" is missing' });
  });

  it('accepts ids up to 512 bytes of UTF-8 and fails longer ones, whatever the strategy', () => {
    assert.equal(MAX_ID_BYTES, 512);
    assert.deepEqual(documentId(coord, 'a'.repeat(512), {}), { ok: true, id: 'a'.repeat(512) });
    const long = documentId(coord, 'a'.repeat(513), {});
    assert.equal(long.ok, false);
    assert.equal(!long.ok && long.errorType, 'id_too_long');
    assert.match(!long.ok ? long.reason : '', /document id is 513 bytes \(UTF-8\), over the 512-byte limit of Elasticsearch and OpenSearch/);
    // Bytes, not characters: 256 × "é" is 512 bytes, 257 is 514.
    assert.deepEqual(documentId(coord, 'é'.repeat(256), {}), { ok: true, id: 'é'.repeat(256) });
    assert.match(JSON.stringify(documentId(coord, 'é'.repeat(257), {})), /"errorType":"id_too_long".*514 bytes/);
    // field: ids too.
    const field = documentId(coord, 'k', { id: 'x'.repeat(600) }, 'field:id');
    assert.deepEqual(field.ok ? undefined : [field.errorType, /600 bytes .*512-byte limit/.test(field.reason)], ['id_too_long', true]);
    assert.deepEqual(documentId(coord, 'k', { id: 'x'.repeat(512) }, 'field:id'), { ok: true, id: 'x'.repeat(512) });
  });
});

describe('toOperation', () => {
  const options = { index: 'i', id: 'key', action: 'index' as const };

  it('indexes objects, deletes on tombstones, and reports undecodable values', () => {
    // A one-line JSON object goes to the engine as the bytes it came in.
    assert.deepEqual(toOperation(record('k', '{"a":1}'), options), { ok: true, op: { action: 'index', index: 'i', id: 'k', source: Buffer.from('{"a":1}') } });
    assert.deepEqual(toOperation(record('k', '{"a":1}'), { ...options, action: 'create', id: 'none' }), { ok: true, op: { action: 'create', index: 'i', source: Buffer.from('{"a":1}') } });
    // One spanning lines is re-serialized: NDJSON carries a document on one line.
    assert.deepEqual(toOperation(record('k', '{\n"a": 1\n}'), options), { ok: true, op: { action: 'index', index: 'i', id: 'k', source: '{"a":1}' } });
    assert.deepEqual(toOperation(record('k', null), options), { ok: true, op: { action: 'delete', index: 'i', id: 'k' } });
    const bad = toOperation(record('k', '{"a":'), options);
    assert.equal(bad.ok, false);
  });

  it('a key or field id over 512 bytes is a transform failure, for documents and deletes', () => {
    for (const result of [toOperation(record('k'.repeat(513), '{}'), options), toOperation(record('k'.repeat(513), null), options), toOperation(record('k', JSON.stringify({ id: 'f'.repeat(513) })), { ...options, id: 'field:id' })]) {
      assert.equal(result.ok, false);
      assert.deepEqual(result.ok ? undefined : [result.errorClass, result.errorType], ['transform', 'id_too_long']);
    }
  });
});

describe('tombstones: document.nullValues × document.id', () => {
  const strategies = ['key', 'field:user.id', 'coordinate', 'none'] as const;
  const run = (strategy: string, nullValues: 'delete' | 'ignore' | 'fail' | undefined, key: string | Buffer | null = 'user-7') =>
    toOperation(record(key, null), { index: 'i', id: strategy, action: 'index', ...(nullValues ? { nullValues } : {}) });
  const failure = (t: Transformed) => (t.ok ? undefined : { errorClass: t.errorClass, errorType: t.errorType });

  it('delete (the default): key deletes the document the key names', () => {
    assert.deepEqual(run('key', 'delete'), { ok: true, op: { action: 'delete', index: 'i', id: 'user-7' } });
    assert.deepEqual(run('key', undefined), { ok: true, op: { action: 'delete', index: 'i', id: 'user-7' } });
  });

  it('delete: key without a key is tombstone_without_key, with what to do', () => {
    for (const key of [null, Buffer.alloc(0)]) {
      const result = run('key', 'delete', key);
      assert.deepEqual(failure(result), { errorClass: 'transform', errorType: 'tombstone_without_key' });
      assert.match(result.ok ? '' : result.reason, /without a key.*document.nullValues: ignore/);
    }
  });

  it('delete: field ids cannot name the document (the key is not its id): tombstone_without_id', () => {
    const result = run('field:user.id', 'delete');
    assert.deepEqual(failure(result), { errorClass: 'transform', errorType: 'tombstone_without_id' });
    assert.match(result.ok ? '' : result.reason, /no field \(user\.id\) can name the document.*document\.nullValues: ignore.*document\.id: key/);
  });

  it('delete: coordinate and none name no existing document: tombstone_without_id', () => {
    const coordinate = run('coordinate', 'delete');
    assert.deepEqual(failure(coordinate), { errorClass: 'transform', errorType: 'tombstone_without_id' });
    assert.match(coordinate.ok ? '' : coordinate.reason, /topic-partition-offset names no document.*document\.nullValues: ignore/);
    const none = run('none', 'delete');
    assert.deepEqual(failure(none), { errorClass: 'transform', errorType: 'tombstone_without_id' });
    assert.match(none.ok ? '' : none.reason, /generated by the engine.*document\.nullValues: ignore/);
  });

  it('ignore: every strategy skips the tombstone without a write, with or without a key', () => {
    for (const strategy of strategies) {
      assert.deepEqual(run(strategy, 'ignore'), { ok: true, skip: 'tombstone' }, strategy);
      assert.deepEqual(run(strategy, 'ignore', null), { ok: true, skip: 'tombstone' }, strategy);
      assert.deepEqual(run(strategy, 'ignore', Buffer.from([0xff])), { ok: true, skip: 'tombstone' }, `${strategy}: the key is not even read`);
    }
  });

  it('fail: every strategy fails the tombstone (errors.policy decides)', () => {
    for (const strategy of strategies) {
      const result = run(strategy, 'fail');
      assert.deepEqual(failure(result), { errorClass: 'transform', errorType: 'tombstone_rejected' }, strategy);
      assert.match(result.ok ? '' : result.reason, /document\.nullValues is "fail"/);
    }
  });

  it('delete by a key that does not fit document.keyFormat is that key failure', () => {
    assert.deepEqual(failure(run('key', 'delete', Buffer.from([0xff, 0x01]))), { errorClass: 'transform', errorType: 'invalid_key_encoding' });
    assert.deepEqual(toOperation(record(Buffer.from([0xff, 0x01]), null), { index: 'i', id: 'key', action: 'index', keyFormat: 'hex' }), { ok: true, op: { action: 'delete', index: 'i', id: 'ff01' } });
  });
});

describe('document.keyFormat', () => {
  const options = { index: 'i', id: 'key', action: 'index' as const };
  const idOf = (t: Transformed) => (t.ok ? t.op?.id : `${t.errorClass}/${t.errorType}`);
  // Two 8-byte longs whose bytes are not UTF-8: read as text they were the same id.
  const a = Buffer.from('ff00000000000001', 'hex');
  const b = Buffer.from('fe00000000000001', 'hex');

  it('binary keys that used to collide now give distinct ids, or fail loudly', () => {
    assert.equal(a.toString('utf8'), b.toString('utf8'), 'the old UTF-8 reading maps both to one id');
    assert.equal(idOf(toOperation(record(a, '{}'), options)), 'transform/invalid_key_encoding');
    assert.equal(idOf(toOperation(record(b, '{}'), options)), 'transform/invalid_key_encoding');
    assert.equal(idOf(toOperation(record(a, '{}'), { ...options, keyFormat: 'long' })), '-72057594037927935');
    assert.equal(idOf(toOperation(record(b, '{}'), { ...options, keyFormat: 'long' })), '-144115188075855871');
    assert.equal(idOf(toOperation(record(a, '{}'), { ...options, keyFormat: 'hex' })), 'ff00000000000001');
    assert.equal(idOf(toOperation(record(b, '{}'), { ...options, keyFormat: 'hex' })), 'fe00000000000001');
    assert.equal(idOf(toOperation(record(a, '{}'), { ...options, keyFormat: 'base64' })), '/wAAAAAAAAE=');
    assert.equal(idOf(toOperation(record(b, '{}'), { ...options, keyFormat: 'base64' })), '/gAAAAAAAAE=');
  });

  it('string: valid UTF-8 as is, invalid UTF-8 is invalid_key_encoding naming the formats', () => {
    assert.deepEqual(decodeKeyBytes(Buffer.from('clé-7'), 'string'), { ok: true, text: 'clé-7' });
    const invalid = decodeKeyBytes(Buffer.from([0x61, 0xc3]), 'string');
    assert.equal(invalid.ok, false);
    assert.equal(!invalid.ok && invalid.errorType, 'invalid_key_encoding');
    assert.match(!invalid.ok ? invalid.reason : '', /not valid UTF-8 \(2 bytes: 61c3\).*document\.keyFormat to base64, hex, long .* or avro/);
    // A BOM is kept: the key with one and the key without one are two ids.
    assert.deepEqual(decodeKeyBytes(Buffer.from([0xef, 0xbb, 0xbf, 0x6b]), 'string'), { ok: true, text: '\ufeffk' });
  });

  it('long: 8 bytes big-endian signed, any other length fails', () => {
    const long = (hex: string) => decodeKeyBytes(Buffer.from(hex, 'hex'), 'long');
    assert.deepEqual(long('0000000000000001'), { ok: true, text: '1' });
    assert.deepEqual(long('7fffffffffffffff'), { ok: true, text: '9223372036854775807' });
    assert.deepEqual(long('ffffffffffffffff'), { ok: true, text: '-1' });
    assert.deepEqual(long('0020000000000001'), { ok: true, text: '9007199254740993' }, 'past 2^53, exact');
    const short = long('00000001');
    assert.deepEqual(short.ok ? undefined : short.errorType, 'invalid_key_encoding');
    assert.match(short.ok ? '' : short.reason, /key of 4 bytes is not an 8-byte big-endian long/);
  });

  it('hex and base64 encode the bytes; an empty key is no key in every format', () => {
    assert.deepEqual(decodeKeyBytes(Buffer.from([0, 1, 0xab]), 'hex'), { ok: true, text: '0001ab' });
    assert.deepEqual(decodeKeyBytes(Buffer.from([0, 1, 0xab]), 'base64'), { ok: true, text: 'AAGr' });
    for (const format of ['string', 'base64', 'hex', 'long'] as const) {
      assert.deepEqual(decodeKeyBytes(Buffer.alloc(0), format), { ok: true, text: null });
      assert.deepEqual(decodeKeyBytes(null, format), { ok: true, text: null });
    }
    // A record with a value and no key still falls back to its coordinate.
    assert.equal(idOf(toOperation(record(Buffer.alloc(0), '{}'), { ...options, keyFormat: 'long' })), 't-2-41');
  });

  it('a key that is not used is not decoded: coordinate, field and none ids ignore a bad key', () => {
    for (const id of ['coordinate', 'none', 'field:n']) assert.equal(toOperation(record(a, '{"n":1}'), { ...options, id }).ok, true, id);
  });

  it('{key} in transform.add uses the key format, so the document and its id agree', () => {
    const mapping = { add: { sourceKey: '{key}' } };
    const hex = toOperation(record(a, '{"n":1}'), { ...options, keyFormat: 'hex', mapping });
    assert.deepEqual(hex, { ok: true, op: { action: 'index', index: 'i', id: 'ff00000000000001', source: '{"n":1,"sourceKey":"ff00000000000001"}' } });
    const long = toOperation(record(a, '{"n":1}'), { ...options, id: 'coordinate', keyFormat: 'long', mapping });
    assert.equal(long.ok && long.op?.source, '{"n":1,"sourceKey":"-72057594037927935"}');
    // With a coordinate id the key is read only for {key}: a bad key fails through the mapping.
    assert.equal(idOf(toOperation(record(a, '{"n":1}'), { ...options, id: 'coordinate', mapping })), 'transform/invalid_key_encoding');
    assert.equal(toOperation(record(null, '{"n":1}'), { ...options, mapping }).ok && 'ok', 'ok');
  });
});

describe('decodeJson', () => {
  it('accepts objects only', () => {
    assert.equal(decodeJson(Buffer.from('[1]')).ok, false);
    assert.deepEqual(decodeJson(Buffer.alloc(0)), { ok: false, errorType: 'empty_value', reason: 'empty value (a tombstone has a null value, not an empty one)' });
    assert.equal(decodeJson(Buffer.from('"s"')).ok, false);
    assert.deepEqual(decodeJson(Buffer.from('{"x":{"y":2}}')), { ok: true, value: { x: { y: 2 } } });
  });
});

describe('backoffDelay', () => {
  it('grows exponentially up to the maximum, with jitter below the ceiling', () => {
    const options = { initialDelayMs: 100, maxDelayMs: 1000 };
    assert.equal(backoffDelay(0, options, () => 1), 100);
    assert.equal(backoffDelay(3, options, () => 1), 800);
    assert.equal(backoffDelay(10, options, () => 1), 1000);
    assert.equal(backoffDelay(10, options, () => 0.5), 500);
  });
});
