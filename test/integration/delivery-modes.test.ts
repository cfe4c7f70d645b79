// The two weaker delivery modes, against the real broker and search engine:
// at-most-once commits before indexing (a crash loses at most the batch in flight, never doubles),
// auto-commit commits on the client's timer whatever was indexed (its documented window).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isBulk, startFaultProxy } from '../helpers/fault-proxy.js';
import { createTopic, groupCommittedOffsets, produce, topicEndOffsets } from '../helpers/kafka.js';
import { refreshAndCount } from '../helpers/search.js';
import { FAST_GROUP_FLAGS, startService, waitFor } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

const engine = stack.engines[0]!;
const events = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k-${i}`, value: JSON.stringify({ i }) }));

describe(`delivery modes on ${engine.name}`, () => {
  it('at-most-once: a crash mid-stream loses at most one batch and doubles nothing', async () => {
    const topic = uniqueName('amo');
    const groupId = uniqueName('amo-group');
    await createTopic(topic, 1);
    await produce(topic, events(3000));
    const batch = 100;
    // Engine-generated ids: any record indexed twice would show up as an extra document.
    const env = { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic, K2E_DELIVERY: 'at-most-once', K2E_DOCUMENT_ID: 'none', K2E_BATCH_MAX_DOCS: String(batch), K2E_BATCH_MAX_IN_FLIGHT: '1' };

    const first = startService(env, FAST_GROUP_FLAGS);
    assert.ok(await first.consuming(), first.output());
    const busy = await waitFor(async () => ((await first.status())?.indexed ?? 0) >= 500, 60_000, 10);
    assert.ok(busy, first.output().slice(-2000));
    await first.kill();

    const second = startService(env, FAST_GROUP_FLAGS);
    const ends = await topicEndOffsets(topic);
    assert.ok(await waitFor(async () => (await groupCommittedOffsets(groupId, topic)).get(`${topic}:0`) === ends.get(`${topic}:0`), 60_000, 200));
    await sleep(1000); // the last committed batch is sent after its commit
    assert.equal(await second.stop(), 0, second.output().slice(-2000));

    const count = await refreshAndCount(engine.url, topic);
    assert.ok(count <= 3000, `${count} documents: a record was indexed twice`);
    assert.ok(count >= 3000 - batch, `${count} documents: more than one batch (${batch}) was lost`);
  });

  it('auto-commit: offsets are committed on the timer even when nothing was indexed (the failure window)', async () => {
    const topic = uniqueName('autocommit');
    const groupId = uniqueName('autocommit-group');
    await createTopic(topic, 1);
    await produce(topic, events(500));
    const proxy = await startFaultProxy(engine.url);
    try {
      proxy.set({ kind: 'hang' }, isBulk); // the sink accepts nothing
      const env = { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: proxy.url, K2E_INDEX: topic, K2E_DELIVERY: 'auto-commit' };
      const service = startService(env, [...FAST_GROUP_FLAGS, '--autoCommitIntervalMs=500']);
      const committedAll = await waitFor(async () => (await groupCommittedOffsets(groupId, topic)).get(`${topic}:0`) === 500n, 30_000, 200);
      await service.kill();
      assert.ok(committedAll, `the client's timer should have committed all 500 fetched records:\n${service.output().slice(-2000)}`);
      assert.equal(await refreshAndCount(engine.url, topic), 0, 'nothing reached the index');

      // Restart with a healthy sink: the group resumes after the committed offsets, so the 500
      // records fetched before the crash are never indexed. That is the auto-commit window.
      proxy.set({ kind: 'pass' });
      const restarted = startService(env, FAST_GROUP_FLAGS);
      assert.ok(await restarted.consuming(), restarted.output());
      await sleep(3000);
      assert.equal(await restarted.stop(), 0);
      assert.equal(await refreshAndCount(engine.url, topic), 0, 'records inside the window are lost');
    } finally {
      await proxy.close();
    }
  });
});
