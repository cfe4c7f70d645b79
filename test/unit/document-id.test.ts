import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJson } from '../../src/decode/json.js';
import { documentId } from '../../src/transform/document-id.js';
import { toOperation } from '../../src/transform/to-operation.js';
import { backoffDelay } from '../../src/util/backoff.js';

const record = (key: string | null, value: string | null) => ({
  topic: 't',
  partition: 2,
  offset: 41n,
  timestamp: 0n,
  key: key === null ? null : Buffer.from(key),
  value: value === null ? null : Buffer.from(value),
  headers: new Map<string, Buffer>(),
});

describe('documentId', () => {
  it('uses the key, else topic-partition-offset', () => {
    assert.deepEqual(documentId(record('user-7', '{}'), {}), { ok: true, id: 'user-7' });
    assert.deepEqual(documentId(record(null, '{}'), {}), { ok: true, id: 't-2-41' });
  });

  it('supports coordinate, none and field:<path>', () => {
    const value = { user: { id: 42, name: 'x' }, empty: '' };
    assert.deepEqual(documentId(record('k', '{}'), value, 'coordinate'), { ok: true, id: 't-2-41' });
    assert.deepEqual(documentId(record('k', '{}'), value, 'none'), { ok: true, id: undefined });
    assert.deepEqual(documentId(record('k', '{}'), value, 'field:user.id'), { ok: true, id: '42' });
    assert.deepEqual(documentId(record('k', '{}'), value, 'field:user'), { ok: false, reason: 'document id field "user" is not a string or number ({"id":42,"name":"x"})' });
    assert.deepEqual(documentId(record('k', '{}'), value, 'field:nope'), { ok: false, reason: 'document id field "nope" is missing' });
    assert.deepEqual(documentId(record('k', null), undefined, 'field:user.id'), { ok: true, id: 'k' }, 'tombstones are deleted by key');
  });
});

describe('toOperation', () => {
  it('indexes objects, deletes on tombstones, and reports undecodable values', () => {
    const options = { index: 'i', id: 'key', action: 'index' as const };
    assert.deepEqual(toOperation(record('k', '{"a":1}'), options), { ok: true, op: { action: 'index', index: 'i', id: 'k', source: '{"a":1}' } });
    assert.deepEqual(toOperation(record('k', '{"a":1}'), { ...options, action: 'create', id: 'none' }), { ok: true, op: { action: 'create', index: 'i', source: '{"a":1}' } });
    assert.deepEqual(toOperation(record('k', null), options), { ok: true, op: { action: 'delete', index: 'i', id: 'k' } });
    const bad = toOperation(record('k', '{"a":'), options);
    assert.equal(bad.ok, false);
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
