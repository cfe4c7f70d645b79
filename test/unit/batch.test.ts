import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prepare, takeBatch } from '../../src/pipeline/batch.js';
import type { BulkOperation } from '../../src/sink/encoder.js';

const indexOp = (id: string, seq: number): BulkOperation => ({ action: 'index', index: 'i', id, source: JSON.stringify({ seq }) });
const rec = (offset: bigint) => ({ topic: 't', partition: 0, offset, timestamp: 0n, key: null, value: Buffer.from('{}'), headers: new Map<string, Buffer>() });
const at = (offset: bigint, op: BulkOperation) => prepare(rec(offset), { op }, 1_000_000);

describe('takeBatch', () => {
  it('sends one operation per id: the newest index/delete first, older versions behind it as fallbacks', () => {
    const queue = [at(0n, indexOp('a', 0)), at(1n, indexOp('b', 1)), at(2n, indexOp('a', 2)), at(3n, { action: 'delete', index: 'i', id: 'b' })];
    const batch = takeBatch(queue, 100, 1_000_000);
    assert.equal(queue.length, 0);
    assert.equal(batch.records, 4);
    assert.equal(batch.lastOffset, 3n);
    assert.deepEqual(batch.slots.map((s) => s.candidates[0]!.op), [indexOp('a', 2), { action: 'delete', index: 'i', id: 'b' }]);
    assert.deepEqual(batch.slots.map((s) => s.candidates.map((r) => r.offset)), [[2n, 0n], [3n, 1n]]);
  });

  it('for create, keeps the first record of an id and cuts the batch at a create after a delete', () => {
    const create = (id: string, seq: number): BulkOperation => ({ action: 'create', index: 'i', id, source: JSON.stringify({ seq }) });
    const batch = takeBatch([at(0n, create('a', 0)), at(1n, create('a', 1)), at(2n, create('b', 2))], 100, 1_000_000);
    assert.deepEqual(batch.slots.map((s) => s.candidates.map((r) => r.offset)), [[0n, 1n], [2n]]);
    const queue = [at(0n, create('a', 0)), at(1n, { action: 'delete', index: 'i', id: 'a' }), at(2n, create('a', 2)), at(3n, create('b', 3))];
    const first = takeBatch(queue, 100, 1_000_000);
    assert.deepEqual(first.slots.map((s) => s.candidates.map((r) => r.offset)), [[1n, 0n]]);
    assert.equal(first.lastOffset, 1n);
    assert.deepEqual(queue.map((r) => r.offset), [2n, 3n]);
  });

  it('never merges engine-generated ids', () => {
    const noId: BulkOperation = { action: 'index', index: 'i', source: '{}' };
    assert.equal(takeBatch([at(0n, noId), at(1n, noId)], 10, 1_000_000).slots.length, 2);
  });

  it('is bounded by documents and bytes, but always takes one record', () => {
    const queue = Array.from({ length: 10 }, (_, i) => at(BigInt(i), indexOp(`k${i}`, i)));
    const one = queue[0]!.bytes;
    assert.equal(takeBatch(queue, 3, 1_000_000).records, 3);
    assert.equal(takeBatch(queue, 100, one * 2).records, 2);
    assert.equal(takeBatch(queue, 100, 1).records, 1, 'an oversized record still leaves the queue');
    assert.equal(queue.length, 4);
  });

  it('carries failed records apart, and turns a document over the byte limit into a failure', () => {
    const big = prepare(rec(1n), { op: { action: 'index', index: 'i', id: 'big', source: JSON.stringify({ x: 'y'.repeat(500) }) } }, 200);
    assert.equal(big.op, undefined);
    assert.equal(big.failure?.errorClass, 'oversize');
    assert.match(big.failure!.reason, /document of \d+ bytes exceeds batch.maxBytes \(200\)/);
    const bad = prepare(rec(2n), { failure: { errorClass: 'decode', errorType: 'invalid_json', reason: 'x' } }, 200);
    const batch = takeBatch([at(0n, indexOp('a', 0)), big, bad, at(3n, indexOp('b', 3))], 100, 1_000_000);
    assert.deepEqual(batch.failed.map((r) => r.offset), [1n, 2n]);
    assert.deepEqual(batch.slots.map((s) => s.candidates.map((r) => r.offset)), [[0n], [3n]]);
  });
});

import { formatDuration, formatProgress } from '../../src/service/progress.js';

describe('progress line', () => {
  it('shows rate, lag and an ETA', () => {
    assert.equal(formatDuration(42), '42s');
    assert.equal(formatDuration(125), '2m05s');
    assert.equal(formatDuration(3 * 3600 + 120), '3h02m');
    assert.equal(formatDuration(Infinity), '--');
    assert.equal(formatProgress(1000, 30_000, 10_000, 8), '[##......] 1,000 docs/s  lag 30,000  ETA 30s');
  });
});
