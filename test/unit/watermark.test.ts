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

describe('PartitionWatermark across a revocation', () => {
  it('hands the next owner the first unacknowledged offset, however far fetching went', () => {
    const before = new PartitionWatermark();
    for (let o = 100n; o < 110n; o++) before.track(o);
    for (const o of [100n, 101n, 102n, 105n, 106n]) before.ack(o); // 103 still in a bulk when revoked
    const handedOver = before.committableOffset();
    assert.equal(handedOver, 103n, 'acks after the gap (105, 106) must not be committed');

    // The next owner (another instance, or this one after the rejoin) resumes at the committed offset
    // and re-reads 103..109: 105 and 106 are written again, never skipped.
    const after = new PartitionWatermark();
    for (let o = handedOver; o < 110n; o++) after.track(o);
    assert.equal(after.committableOffset(), 103n);
    for (let o = handedOver; o < 110n; o++) after.ack(o);
    assert.equal(after.committableOffset(), 110n);
  });
});
