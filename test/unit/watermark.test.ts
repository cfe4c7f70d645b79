import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PartitionWatermark } from '../../src/offsets/watermark.js';
import { seededRandom } from '../helpers/random.js';

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

describe('PartitionWatermark against a model', () => {
  it('agrees with "the lowest offset not acknowledged" over random tracks and acks, in and out of order', () => {
    const random = seededRandom(7); // fixed: every run checks the same cases
    for (let round = 0; round < 20; round++) {
      const w = new PartitionWatermark();
      const pending = new Set<bigint>();
      const acked = new Set<bigint>();
      let next = BigInt(random.int(0, 999));
      let highest = -1n;
      for (let step = 0; step < 5000; step++) {
        if (random.next() < 0.55) {
          next += BigInt(random.int(1, 3)); // gaps, as compaction leaves them
          w.track(next);
          pending.add(next);
          highest = next;
        } else if (pending.size > 0) {
          // Mostly the oldest first (a batch in order), sometimes any one (a retried or fallback item).
          const list = [...pending];
          const offset = random.next() < 0.7 ? list[0]! : random.pick(list);
          w.ack(offset);
          pending.delete(offset);
          acked.add(offset);
        }
        const lowest = [...pending].reduce<bigint | undefined>((min, o) => (min === undefined || o < min ? o : min), undefined);
        assert.equal(w.committableOffset(), highest < 0n ? undefined : (lowest ?? highest + 1n));
        assert.equal(w.pendingCount, pending.size);
      }
      const someAcked = [...acked][0];
      if (someAcked !== undefined) assert.throws(() => w.ack(someAcked), /acked but not pending/, 'an offset acknowledged twice');
    }
  });

  it('keeps working across the compaction of a long acknowledged prefix', () => {
    const w = new PartitionWatermark();
    for (let o = 0n; o < 5000n; o++) w.track(o);
    w.ack(4000n); // one late ack pins nothing: the prefix moves past it once reached
    for (let o = 0n; o < 3000n; o++) w.ack(o);
    assert.equal(w.committableOffset(), 3000n);
    for (let o = 3000n; o < 4000n; o++) w.ack(o);
    assert.equal(w.committableOffset(), 4001n);
    assert.throws(() => w.ack(4000n));
    for (let o = 4001n; o < 5000n; o++) w.ack(o);
    assert.equal(w.committableOffset(), 5000n);
    assert.equal(w.pendingCount, 0);
    w.track(5000n);
    assert.equal(w.committableOffset(), 5000n);
  });
});

describe('offsets that hold no record (transaction markers)', () => {
  it('skipTo lets the commit reach past them once everything tracked is acknowledged', () => {
    const w = new PartitionWatermark();
    w.track(5n);
    w.track(6n);
    w.skipTo(9n); // 7 and 8: a commit marker and an aborted batch
    assert.equal(w.committableOffset(), 5n, 'still waiting for 5');
    w.ack(5n);
    w.ack(6n);
    assert.equal(w.committableOffset(), 9n);
    w.track(9n);
    assert.equal(w.committableOffset(), 9n);
    w.skipTo(3n);
    assert.equal(w.highest, 9n, 'never backwards');
    const fresh = new PartitionWatermark();
    fresh.skipTo(4n);
    assert.equal(fresh.committableOffset(), 4n, 'a partition of markers only');
  });
});
