// SIGTERM under load: the service stops fetching, finishes the bulks in flight, commits what they
// acknowledged and exits 0; after a restart, at most one batch per partition is indexed again.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTopic, produce, untilCommittedToEnd } from '../helpers/kafka.js';
import { refreshAndCount, rewrittenDocuments } from '../helpers/search.js';
import { FAST_GROUP_FLAGS, startService, waitFor } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

const engine = stack.engines[0]!;

describe(`graceful shutdown on ${engine.name}`, () => {
  it('exits 0 under load and redelivers at most one batch per partition', async () => {
    const topic = uniqueName('shutdown');
    const groupId = uniqueName('shutdown-group');
    const partitions = 3;
    const batch = 100;
    await createTopic(topic, partitions);
    await produce(topic, Array.from({ length: 15_000 }, (_, i) => ({ key: `k-${i}`, value: JSON.stringify({ i, pad: 'y'.repeat(200) }) })));
    const env = { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic, K2E_BATCH_MAX_DOCS: String(batch), K2E_BATCH_MAX_IN_FLIGHT: '2' };

    const first = startService(env, FAST_GROUP_FLAGS);
    assert.ok(await waitFor(async () => ((await first.status())?.indexed ?? 0) > 3000, 60_000, 20), first.output().slice(-2000));
    const signalled = Date.now();
    assert.equal(await first.stop(), 0, first.output().slice(-2000));
    const stopMs = Date.now() - signalled;
    assert.ok(stopMs < 15_000, `shutdown took ${stopMs} ms`);
    assert.match(first.output(), /"msg":"stopped cleanly"/);
    const indexedBefore = await refreshAndCount(engine.url, topic);
    assert.ok(indexedBefore < 15_000, 'it must have stopped mid-stream for this test to mean anything');

    const second = startService(env, FAST_GROUP_FLAGS);
    const done = await untilCommittedToEnd(groupId, topic, 90_000);
    assert.equal(await second.stop(), 0);
    assert.ok(done, second.output().slice(-2000));

    assert.equal(await refreshAndCount(engine.url, topic), 15_000);
    const redelivered = await rewrittenDocuments(engine.url, topic);
    assert.ok(redelivered <= batch * partitions, `${redelivered} records were indexed twice; at most ${batch * partitions} allowed`);
  });
});
