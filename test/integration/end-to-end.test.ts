// First end-to-end path against the real broker and every search engine the stack runs:
// 1,000 keyed JSON events on 3 partitions → exactly 1,000 documents, right ids and contents, and
// committed offsets equal to the end offsets; commits never run ahead of what the index holds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTopic, groupCommittedOffsets, produce, topicEndOffsets } from '../helpers/kafka.js';
import { allDocuments, refreshAndCount, withSearch } from '../helpers/search.js';
import { startService, waitFor } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

const sum = (m: Map<string, bigint>): bigint => [...m.values()].reduce((a, b) => a + b, 0n);

for (const engine of stack.engines) {
  describe(`end to end on ${engine.name}`, () => {
    it('indexes 1,000 keyed events exactly once and commits every partition to its end', async () => {
      const topic = uniqueName('e2e');
      const index = topic;
      const groupId = uniqueName('e2e-group');
      await createTopic(topic, 3);
      const events = Array.from({ length: 1000 }, (_, i) => ({
        key: `user-${i}`,
        value: JSON.stringify({ user: `user-${i}`, seq: i, text: `hello ${i}`, nested: { even: i % 2 === 0 } }),
      }));
      await produce(topic, events);
      const ends = await topicEndOffsets(topic);
      assert.equal(sum(ends), 1000n);

      const service = startService({
        K2E_BROKERS: brokers,
        K2E_TOPICS: topic,
        K2E_GROUP_ID: groupId,
        K2E_ELASTIC_URL: engine.url,
        K2E_INDEX: index,
        // Small batches spread the run over many commits, so the sampling below sees several.
        K2E_BATCH_MAX_DOCS: '25',
        K2E_BATCH_MAX_IN_FLIGHT: '2',
      });
      try {
        // While it runs: the index must always hold at least as many documents as the group committed
        // (ids are distinct), or an offset was committed before the search engine acknowledged it.
        let samples = 0;
        const done = await waitFor(async () => {
          const committed = await groupCommittedOffsets(groupId, topic);
          const count = await refreshAndCount(engine.url, index).catch(() => 0);
          if (committed.size > 0) {
            samples++;
            assert.ok(BigInt(count) >= sum(committed), `committed ${sum(committed)} offsets but only ${count} documents are indexed`);
          }
          return count === 1000 && sum(committed) === 1000n;
        }, 90_000, 100);
        assert.ok(done, `did not finish; service output:\n${service.output().slice(-3000)}`);
        assert.ok(samples > 0, 'no commit was observed while running');
      } finally {
        assert.equal(await service.stop(), 0, `service did not exit cleanly:\n${service.output().slice(-3000)}`);
      }

      const committed = await groupCommittedOffsets(groupId, topic);
      assert.deepEqual(committed, ends, 'committed offsets must equal each partition end offset');
      assert.equal(await refreshAndCount(engine.url, index), 1000);
      const docs = await allDocuments(engine.url, index);
      assert.equal(docs.size, 1000);
      for (let i = 0; i < 1000; i++) {
        assert.deepEqual(docs.get(`user-${i}`), { user: `user-${i}`, seq: i, text: `hello ${i}`, nested: { even: i % 2 === 0 } });
      }
    });

    it('with errors.policy "fail", stops at a document the engine rejects without committing past it', async () => {
      const topic = uniqueName('reject');
      const groupId = uniqueName('reject-group');
      await createTopic(topic, 1);
      // A strict mapping: a document with an unknown field is rejected (mapping error, not retriable).
      await withSearch(engine.url, (c) => c.createIndex(topic, { mappings: { dynamic: 'strict', properties: { seq: { type: 'integer' } } } }));
      const events = Array.from({ length: 100 }, (_, i) => ({ key: `k-${i}`, value: JSON.stringify(i === 60 ? { seq: i, extra: true } : { seq: i }) }));
      await produce(topic, events);

      const service = startService({ K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic, K2E_BATCH_MAX_DOCS: '10', K2E_ERROR_POLICY: 'fail' });
      const code = await Promise.race([service.exited, sleep(60_000, undefined, { ref: false }).then(() => 'timeout' as const)]);
      if (code === 'timeout') await service.stop();
      assert.equal(code, 1, `expected exit 1:\n${service.output().slice(-3000)}`);
      assert.match(service.output(), /offset 60: rejected by the search engine \(strict_dynamic_mapping_exception\): 400/);
      const committed = (await groupCommittedOffsets(groupId, topic)).get(`${topic}:0`) ?? 0n;
      assert.ok(committed <= 60n, `committed ${committed}, past the rejected offset 60`);
      assert.ok(committed >= 50n, `records 0..59 were acknowledged, but only ${committed} committed`);
    });
  });
}
