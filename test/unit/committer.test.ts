import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Committer } from '../../src/offsets/committer.js';
import { PartitionWatermark } from '../../src/offsets/watermark.js';
import type { CommitRequest } from '../../src/source/record.js';
import type { CommitTarget } from '../../src/offsets/committer.js';

const targets = (...list: CommitTarget[]) => ({ committable: () => list });
const commits = (send: (offsets: readonly CommitRequest[]) => Promise<void>) => ({ commit: send });

/** One partition tracking offsets 0..records-1, a committer spaced by `intervalMs`, and the offsets it sent. */
function spacedCommitter(records: bigint, intervalMs: number) {
  const watermark = new PartitionWatermark();
  for (let o = 0n; o < records; o++) watermark.track(o);
  const sent: bigint[] = [];
  const committer = new Committer(
    commits(async (offsets) => void sent.push(offsets[0]!.offset)),
    targets({ topic: 't', partition: 0, watermark }),
    { onError: (e) => assert.fail(e), minIntervalMs: intervalMs },
  );
  return { watermark, sent, committer };
}

describe('Committer', () => {
  it('commits only changed watermarks, one request at a time, folding acks that arrive meanwhile', async () => {
    const watermark = new PartitionWatermark();
    for (const o of [0n, 1n, 2n]) watermark.track(o);
    const sent: CommitRequest[][] = [];
    let release!: () => void;
    const committer = new Committer(
      commits(async (offsets) => {
        sent.push([...offsets]);
        if (sent.length === 1) await new Promise<void>((r) => (release = r));
      }),
      targets({ topic: 't', partition: 0, watermark }),
      { onError: (e) => assert.fail(e) },
    );
    watermark.ack(0n);
    const first = committer.request();
    watermark.ack(1n);
    void committer.request(); // folded: a commit is in flight
    watermark.ack(2n);
    void committer.request();
    release();
    await first;
    await committer.flush();
    assert.deepEqual(sent, [[{ topic: 't', partition: 0, offset: 1n }], [{ topic: 't', partition: 0, offset: 3n }]]);
    assert.equal(committer.committed.get('t:0'), 3n);
  });

  it('spaces commits by minIntervalMs, folding the acks in between into one; flush() and the final commit do not wait', async () => {
    const { watermark, sent, committer } = spacedCommitter(6n, 60_000);
    watermark.ack(0n);
    await committer.request(); // the first commit goes at once
    watermark.ack(1n);
    const spaced = committer.request();
    watermark.ack(2n);
    void committer.request();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(sent, [1n], 'within the interval nothing more is committed');
    await committer.flush(); // hurries the waiting commit: both acks in one
    await spaced;
    assert.deepEqual(sent, [1n, 3n]);
    watermark.ack(3n);
    void committer.request();
    await committer.finalCommit({ initialDelayMs: 1, maxDelayMs: 1 }, 1);
    assert.deepEqual(sent, [1n, 3n, 4n]);
    assert.equal(committer.committed.get('t:0'), 4n);
  });

  it('commits the folded acks once the interval is over, with no further request', async () => {
    const { watermark, sent, committer } = spacedCommitter(3n, 100);
    watermark.ack(0n);
    await committer.request();
    watermark.ack(1n);
    watermark.ack(2n);
    const started = performance.now();
    await committer.request();
    assert.deepEqual(sent, [1n, 3n]);
    assert.ok(performance.now() - started >= 90, 'the second commit waited for the interval');
  });
});
