// Bad input loses nothing: good events interleaved with invalid JSON, an empty value, documents that
// conflict with a strict mapping, an oversized document and tombstones. Good ones are indexed, deleted
// ones are gone, the dead-letter topic holds exactly the bad ones with the reasons, and every offset
// is committed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTopic, produce, readTopic, topicEndOffsets, type TestMessage, untilCommittedToEnd } from '../helpers/kafka.js';
import { allDocuments, withSearch } from '../helpers/search.js';
import { startService } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

for (const engine of stack.engines) {
  describe(`poison records on ${engine.name}`, () => {
    it('dead-letters exactly the bad records with their reasons and commits to the end', async () => {
      const topic = uniqueName('poison');
      const groupId = uniqueName('poison-group');
      await createTopic(topic, 2);
      await withSearch(engine.url, (c) => c.createIndex(topic, { mappings: { dynamic: 'strict', properties: { n: { type: 'integer' }, text: { type: 'keyword' } } } }));

      const messages: (TestMessage & { bad?: string })[] = [];
      for (let i = 0; i < 200; i++) messages.push({ key: `good-${i}`, value: JSON.stringify({ n: i, text: 'ok' }), partition: i % 2 });
      messages.push({ key: 'bad-json', value: '{"n": 1,', partition: 0, bad: 'decode/invalid_json' });
      messages.push({ key: 'bad-empty', value: '', partition: 1, bad: 'decode/empty_value' });
      messages.push({ key: 'bad-array', value: '[1,2]', partition: 1, bad: 'decode/not_an_object' });
      messages.push({ key: 'bad-strict', value: JSON.stringify({ n: 1, unexpected: true }), partition: 0, bad: 'rejected/strict_dynamic_mapping_exception' });
      messages.push({ key: 'bad-type', value: JSON.stringify({ n: 'not a number' }), partition: 1, bad: 'rejected/document_parsing_exception|mapper_parsing_exception' });
      messages.push({ key: 'bad-big', value: JSON.stringify({ n: 2, text: 'x'.repeat(300_000) }), partition: 0, bad: 'oversize/document_too_large' });
      for (let i = 0; i < 20; i++) messages.push({ key: `good-${i * 10}`, value: null, partition: (i * 10) % 2 }); // tombstones
      messages.push({ key: 'never-existed', value: null, partition: 0 }); // delete of a missing document: fine
      for (let i = 200; i < 250; i++) messages.push({ key: `good-${i}`, value: JSON.stringify({ n: i, text: 'ok' }), partition: i % 2 });
      await produce(topic, messages, 50);

      const service = startService(
        { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic, K2E_BATCH_MAX_DOCS: '40' },
        ['--batch.maxBytes=200000'],
      );
      const done = await untilCommittedToEnd(groupId, topic, 60_000);
      const status = await service.status();
      assert.equal(await service.stop(), 0, service.output().slice(-3000));
      assert.ok(done, service.output().slice(-3000));
      assert.equal(status?.deadLettered, 6, service.output().split("\n").filter((l) => l.includes("dead-lettered")).map((l) => l.slice(0, 300)).join("\n"));

      const docs = await allDocuments(engine.url, topic);
      const deleted = new Set(Array.from({ length: 20 }, (_, i) => `good-${i * 10}`));
      const expected = Array.from({ length: 250 }, (_, i) => `good-${i}`).filter((k) => !deleted.has(k));
      assert.deepEqual([...docs.keys()].sort(), expected.sort());

      const bad = messages.filter((m) => m.bad);
      const dlqEnds = await topicEndOffsets(`${topic}.dlq`);
      assert.equal([...dlqEnds.values()].reduce((a, b) => a + b, 0n), BigInt(bad.length), 'exactly the bad records, nothing else');
      const dlq = await readTopic(`${topic}.dlq`, bad.length, 30_000);
      assert.equal(dlq.length, bad.length);
      for (const original of bad) {
        const dead = dlq.find((d) => d.key === original.key);
        assert.ok(dead, `${original.key} missing from the dead-letter topic`);
        assert.equal(dead.value, original.value, 'the original value, unchanged');
        const [errorClass, errorTypes] = original.bad!.split('/');
        assert.equal(dead.headers['k2e.error.class'], errorClass, original.key!);
        assert.match(dead.headers['k2e.error.type']!, new RegExp(`^(${errorTypes})$`), original.key!);
        assert.ok(dead.headers['k2e.error.reason']!.length > 5);
        assert.equal(dead.headers['k2e.source.topic'], topic);
        assert.equal(dead.headers['k2e.source.partition'], String(original.partition));
        assert.match(dead.headers['k2e.source.offset']!, /^\d+$/);
        assert.match(dead.headers['k2e.source.timestamp']!, /^\d+$/);
        assert.ok(dead.headers['k2e.instance']);
      }
    });
  });
}
