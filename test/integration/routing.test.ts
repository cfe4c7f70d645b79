// Index routing on every engine: documents land in the index their template names, from the
// record's own timestamp ({yyyy.MM.dd}), its topic, a field, its key or a header; per-topic indices;
// a record whose index cannot be resolved is dead-lettered (class transform) or goes to the fallback
// index; shard routing from the key or a field; and kafka.topicPattern picks up a topic created
// while the service runs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTopic, produce, readTopic, untilCommittedToEnd } from '../helpers/kafka.js';
import { BASE_TIME, DAY_MS, configFile, countsByIndex, createDatedTopic, dropIndices, searchAll } from '../helpers/records.js';
import { startService, waitFor } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

for (const engine of stack.engines) {
  describe(`index routing on ${engine.name}`, () => {
    it('writes each record to the index its template names: record date, topic, field, key; per-topic indices; an unresolvable index is dead-lettered', async () => {
      const [daily, regional, keyed, plain] = [uniqueName('rt-daily'), uniqueName('rt-region'), uniqueName('rt-keyed'), uniqueName('rt-plain')];
      const groupId = uniqueName('rt-group');
      await Promise.all([createDatedTopic(daily, 2), createTopic(regional, 2), createTopic(keyed, 1), createTopic(plain, 1)]);
      const file = configFile({
        kafka: { brokers: [brokers], topics: [daily, regional, keyed, plain], groupId },
        // The key and a header into every document.
        transform: { add: { k: '{key}', src: '{header:src}' } },
        // One topic with its own index, id and format.
        topicOverrides: { [plain]: { index: '{topic}-text', id: 'coordinate', format: 'string' } },
        elastic: {
          url: engine.url,
          // Dates come from each record's timestamp: three days of records, three indices.
          index: '{topic}-{yyyy.MM.dd}',
          indexByTopic: { [regional]: '{topic}-{field:customer.region}', [keyed]: '{topic}-{key}' },
        },
      });
      // 30 records over 3 days (10 per day), keyed so each key stays on its day.
      await produce(
        daily,
        Array.from({ length: 30 }, (_, i) => ({ key: `d${i}`, value: JSON.stringify({ n: i }), timestamp: BASE_TIME + Math.floor(i / 10) * DAY_MS })),
      );
      await produce(regional, [
        ...Array.from({ length: 6 }, (_, i) => ({ key: `r${i}`, value: JSON.stringify({ customer: { region: i % 2 ? 'EU' : 'us' } }) })),
        // No region: the index cannot be named, so it is dead-lettered with class transform.
        { key: 'no-region', value: JSON.stringify({ customer: {} }) },
      ]);
      await produce(keyed, [
        { key: 'alpha', value: '{"v":1}', headers: { src: 'h1' } },
        { key: 'alpha', value: '{"v":2}', headers: { src: 'h2' } },
        { key: 'beta', value: '{"v":1}' },
      ]);
      await produce(plain, [{ key: 'p', value: 'just text' }]);

      const service = startService({ K2E_CONFIG: file });
      try {
        assert.ok(await service.consuming(), service.output());
        for (const topic of [daily, regional, keyed, plain]) assert.ok(await untilCommittedToEnd(groupId, topic, 60_000), `${topic} not committed:\n${service.output().slice(-3000)}`);
      } finally {
        assert.equal(await service.stop(), 0, service.output().slice(-3000));
      }

      assert.deepEqual(
        Object.fromEntries(await countsByIndex(engine.url, `${daily}-*`)),
        { [`${daily}-2026.01.01`]: 10, [`${daily}-2026.01.02`]: 10, [`${daily}-2026.01.03`]: 10 },
      );
      // Field values are lower-cased into index names.
      assert.deepEqual(Object.fromEntries(await countsByIndex(engine.url, `${regional}-*`)), { [`${regional}-us`]: 3, [`${regional}-eu`]: 3 });
      assert.deepEqual(Object.fromEntries(await countsByIndex(engine.url, `${keyed}-*`)), { [`${keyed}-alpha`]: 1, [`${keyed}-beta`]: 1 });
      const alpha = await searchAll(engine.url, `${keyed}-alpha`);
      assert.deepEqual(alpha.map((h) => [h._id, h._source]), [['alpha', { v: 2, k: 'alpha', src: 'h2' }]]);
      const text = await searchAll(engine.url, `${plain}-text`);
      assert.deepEqual(text.map((h) => [h._id, h._source]), [[`${plain}-0-0`, { value: 'just text', k: 'p', src: null }]]);

      const [dead] = await readTopic(`${regional}.dlq`, 1);
      assert.equal(dead?.key, 'no-region');
      assert.equal(dead?.headers['k2e.error.class'], 'transform');
      assert.equal(dead?.headers['k2e.error.type'], 'index_unresolved');
      assert.match(dead?.headers['k2e.error.reason'] ?? '', /customer\.region/);
      await dropIndices(engine.url, daily, regional, keyed, plain);
    });

    it('sends records whose index cannot be resolved to elastic.fallbackIndex instead', async () => {
      const topic = uniqueName('rt-fallback');
      const groupId = uniqueName('rt-fallback-group');
      await createTopic(topic, 1);
      await produce(topic, [
        { key: 'a', value: JSON.stringify({ tenant: 'acme' }) },
        { key: 'b', value: JSON.stringify({ other: 1 }) },
        // An index name the engines refuse ("_" may not start one) falls back too.
        { key: 'c', value: JSON.stringify({ tenant: '_bad' }) },
      ]);
      const service = startService({
        K2E_BROKERS: brokers,
        K2E_TOPICS: topic,
        K2E_GROUP_ID: groupId,
        K2E_ELASTIC_URL: engine.url,
        K2E_INDEX: `{field:tenant}${topic}`,
      }, [`--elastic.fallbackIndex={topic}-unrouted`]);
      try {
        assert.ok(await service.consuming(), service.output());
        assert.ok(await untilCommittedToEnd(groupId, topic, 60_000), service.output().slice(-3000));
      } finally {
        assert.equal(await service.stop(), 0, service.output().slice(-3000));
      }
      assert.deepEqual((await searchAll(engine.url, `acme${topic}`)).map((h) => h._id), ['a']);
      assert.deepEqual((await searchAll(engine.url, `${topic}-unrouted`)).map((h) => h._id).sort(), ['b', 'c']);
      await dropIndices(engine.url, topic, `acme${topic}`);
    });

    it('routes shards by the key or a field (document.routing); deletes carry the same routing', async () => {
      const [byKey, byField] = [uniqueName('rt-routing-key'), uniqueName('rt-routing-field')];
      const groupId = uniqueName('rt-routing-group');
      await Promise.all([createTopic(byKey, 1), createTopic(byField, 1)]);
      const file = configFile({
        kafka: { brokers: [brokers], topics: [byKey, byField], groupId },
        document: { routing: 'key' },
        elastic: { url: engine.url, index: '{topic}' },
        topicOverrides: { [byField]: { routing: 'field:tenant' } },
      });
      await produce(byKey, [
        { key: 'k1', value: '{"n":1}' },
        { key: 'k2', value: '{"n":2}' },
        { key: 'k2', value: null }, // a tombstone: the delete must reach the routed shard
      ]);
      await produce(byField, [
        { key: 'f1', value: '{"tenant":"t-7"}' },
        { key: 'f2', value: '{"tenant":"t-9"}' },
      ]);
      const service = startService({ K2E_CONFIG: file });
      try {
        assert.ok(await service.consuming(), service.output());
        for (const topic of [byKey, byField]) assert.ok(await untilCommittedToEnd(groupId, topic, 60_000), service.output().slice(-3000));
      } finally {
        assert.equal(await service.stop(), 0, service.output().slice(-3000));
      }
      assert.deepEqual((await searchAll(engine.url, byKey)).map((h) => [h._id, h._routing]), [['k1', 'k1']]);
      assert.deepEqual(
        (await searchAll(engine.url, byField)).map((h) => [h._id, h._routing]).sort(),
        [['f1', 't-7'], ['f2', 't-9']],
      );
      await dropIndices(engine.url, byKey, byField);
    });

    it('kafka.topicPattern consumes the matching topics, and a topic created while running, never the dead-letter topics', async () => {
      const prefix = uniqueName('rt-pattern');
      const groupId = uniqueName('rt-pattern-group');
      const [first, later, unrelated] = [`${prefix}-a`, `${prefix}-b`, `${uniqueName('rt-other')}`];
      await Promise.all([createTopic(first, 2), createTopic(unrelated, 1)]);
      await produce(first, Array.from({ length: 20 }, (_, i) => ({ key: `a${i}`, value: JSON.stringify({ i }) })));
      await produce(unrelated, [{ key: 'x', value: '{}' }]);
      const service = startService(
        { K2E_BROKERS: brokers, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: '{topic}' },
        [`--kafka.topicPattern=${prefix}-.*`, '--kafka.partitionDiscoveryIntervalMs=1000'],
      );
      try {
        assert.ok(await service.consuming(), service.output());
        assert.ok(await untilCommittedToEnd(groupId, first, 60_000), service.output().slice(-3000));
        // Created after the start: picked up at the next discovery and read from its beginning.
        await createTopic(later, 2);
        await produce(later, Array.from({ length: 15 }, (_, i) => ({ key: `b${i}`, value: JSON.stringify({ i }) })));
        assert.ok(await untilCommittedToEnd(groupId, later, 60_000), `the new topic was not consumed:\n${service.output().slice(-3000)}`);
        assert.ok(await waitFor(async () => /new topics match kafka.topicPattern/.test(service.output()), 5_000));
      } finally {
        assert.equal(await service.stop(), 0, service.output().slice(-3000));
      }
      assert.equal((await searchAll(engine.url, first)).length, 20);
      assert.equal((await searchAll(engine.url, later)).length, 15);
      // The dead-letter topics the service created match the pattern too, but are not consumed.
      const indices = await countsByIndex(engine.url, `${prefix}-*`);
      assert.deepEqual([...indices.keys()].sort(), [first, later]);
      assert.equal((await countsByIndex(engine.url, `${unrelated}*`)).size, 0);
      await dropIndices(engine.url, prefix);
    });
  });
}
