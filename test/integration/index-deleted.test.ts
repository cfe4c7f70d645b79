// An index deleted while the service runs is created again from the index definition at the next
// write that finds it missing, instead of holding its partitions until a restart. The engine is told
// not to auto-create this test's indices (as production clusters often are), so writes to a deleted
// index answer index_not_found_exception.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTopic, produce, untilCommittedToEnd } from '../helpers/kafka.js';
import { configFile } from '../helpers/records.js';
import { allDocuments, withSearch } from '../helpers/search.js';
import { startService } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';
import { tempFile } from '../helpers/connections.js';

for (const engine of stack.engines) {
  describe(`an index deleted while running on ${engine.name}`, () => {
    it('is created again from its definition and the partition goes on', async () => {
      const topic = uniqueName('index-deleted');
      const index = `${topic}-noauto`;
      const groupId = uniqueName('index-deleted-group');
      const setting = (value: string | null) =>
        withSearch(engine.url, (c) => c.request('PUT', '/_cluster/settings', JSON.stringify({ persistent: { 'action.auto_create_index': value } })));
      const refused = await setting(`-${index},+*`);
      assert.equal(refused.status, 200, JSON.stringify(refused.body));
      try {
        await createTopic(topic, 1);
        const definition = tempFile('definition.json', JSON.stringify({ mappings: { properties: { n: { type: 'keyword' } } } }));
        const service = startService(
          { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: index },
          ['--config', configFile({ elastic: { indexDefinitionFile: definition } }), '--retry.maxDelayMs=1000'],
        );
        try {
          await produce(topic, Array.from({ length: 50 }, (_, i) => ({ key: `a-${i}`, value: JSON.stringify({ n: i }), partition: 0 })));
          assert.ok(await untilCommittedToEnd(groupId, topic, 60_000), service.output().slice(-2000));
          const deleted = await withSearch(engine.url, (c) => c.request('DELETE', `/${index}`));
          assert.equal(deleted.status, 200);
          await produce(topic, Array.from({ length: 50 }, (_, i) => ({ key: `b-${i}`, value: JSON.stringify({ n: i }), partition: 0 })));
          assert.ok(await untilCommittedToEnd(groupId, topic, 60_000), `not committed after the index was deleted:\n${service.output().slice(-3000)}`);
        } finally {
          assert.equal(await service.stop(), 0, service.output().slice(-2000));
        }
        assert.match(service.output(), /index missing \(deleted while running\?\): creating it again/);
        const docs = await allDocuments(engine.url, index);
        assert.deepEqual([...docs.keys()].sort(), Array.from({ length: 50 }, (_, i) => `b-${i}`).sort(), 'the writes after the deletion');
        const mapping = await withSearch(engine.url, (c) => c.request<Record<string, { mappings: { properties: { n: { type: string } } } }>>('GET', `/${index}/_mapping`));
        assert.equal(mapping.body[index]?.mappings.properties.n.type, 'keyword', 'created from the definition, not by dynamic mapping');
      } finally {
        await setting(null);
      }
    });
  });
}
