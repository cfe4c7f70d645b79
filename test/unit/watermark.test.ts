import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PartitionWatermark } from '../../src/offsets/watermark.js';

describe('PartitionWatermark', () => {
  it('has nothing to commit before any record', () => {
    assert.equal(new PartitionWatermark().committableOffset(), undefined);
  });

  it('commits the first unacknowledged offset, never past a gap', () => {
    const w = new PartitionWatermark();
    for (const o of [10n, 11n, 12n, 13n]) w.track(o);
    assert.equal(w.committableOffset(), 10n); // nothing acked: resume at 10
    w.ack(12n);
    w.ack(13n);
    assert.equal(w.committableOffset(), 10n, 'later acks must not move the watermark past 10');
    w.ack(10n);
    assert.equal(w.committableOffset(), 11n);
    w.ack(11n);
    assert.equal(w.committableOffset(), 14n, 'all acked: next offset after the highest');
    assert.equal(w.pendingCount, 0);
  });

  it('handles offset gaps (compaction, transaction markers)', () => {
    const w = new PartitionWatermark();
    w.track(5n);
    w.track(9n);
    w.ack(5n);
    assert.equal(w.committableOffset(), 9n);
    w.ack(9n);
    assert.equal(w.committableOffset(), 10n);
  });

  it('rejects out-of-order tracking and unknown acks', () => {
    const w = new PartitionWatermark();
    w.track(3n);
    assert.throws(() => w.track(3n));
    assert.throws(() => w.ack(4n));
  });
});
