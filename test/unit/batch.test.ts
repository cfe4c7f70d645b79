import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prepare, takeBatch } from '../../src/pipeline/batch.js';

const indexOp = (id: string, seq: number) => ({ action: 'index' as const, index: 'i', id, source: JSON.stringify({ seq }) });

describe('takeBatch', () => {
  it('keeps only the last operation per id and remembers every offset it stands for', () => {
    const queue = [prepare(0n, indexOp('a', 0)), prepare(1n, indexOp('b', 1)), prepare(2n, indexOp('a', 2)), prepare(3n, { action: 'delete' as const, index: 'i', id: 'b' })];
    const batch = takeBatch(queue, 100, 1_000_000);
    assert.equal(queue.length, 0);
    assert.equal(batch.records, 4);
    assert.deepEqual(batch.ops, [indexOp('a', 2), { action: 'delete', index: 'i', id: 'b' }]);
    assert.deepEqual(batch.offsets, [[0n, 2n], [1n, 3n]]);
  });

  it('is bounded by documents and bytes, but always takes one record', () => {
    const queue = Array.from({ length: 10 }, (_, i) => prepare(BigInt(i), indexOp(`k${i}`, i)));
    const one = queue[0]!.bytes;
    assert.equal(takeBatch(queue, 3, 1_000_000).records, 3);
    assert.equal(takeBatch(queue, 100, one * 2).records, 2);
    assert.equal(takeBatch(queue, 100, 1).records, 1, 'an oversized record still leaves the queue');
    assert.equal(queue.length, 4);
  });
});
