import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Committer } from '../../src/offsets/committer.js';
import { PartitionWatermark } from '../../src/offsets/watermark.js';
import type { CommitRequest } from '../../src/source/kafka-source.js';

describe('Committer', () => {
  it('commits only changed watermarks, one request at a time, folding acks that arrive meanwhile', async () => {
    const watermark = new PartitionWatermark();
    for (const o of [0n, 1n, 2n]) watermark.track(o);
    const sent: CommitRequest[][] = [];
    let release!: () => void;
    const committer = new Committer(
      () => [{ topic: 't', partition: 0, watermark }],
      async (offsets) => {
        sent.push(offsets);
        if (sent.length === 1) await new Promise<void>((r) => (release = r));
      },
      (e) => assert.fail(e),
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
});
