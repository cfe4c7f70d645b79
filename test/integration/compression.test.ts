// gzip bulk bodies and adaptive request concurrency against each real engine: the engines accept
// `content-encoding: gzip`, every document arrives intact (multi-byte text too), and the group
// commits to the end; the metrics show requests combining several partitions' batches.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTopic, produce, untilCommittedToEnd } from '../helpers/kafka.js';
import { allDocuments } from '../helpers/search.js';
import { startService } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

for (const engine of stack.engines) {
  describe(`gzip bodies and adaptive concurrency on ${engine.name}`, () => {
    it('indexes every document intact with elastic.compression gzip and batch.maxInFlight auto', async () => {
      const topic = uniqueName('gzip');
      const groupId = uniqueName('gzip-group');
      await createTopic(topic, 4);
      const events = Array.from({ length: 3000 }, (_, i) => ({ key: `k-${i}`, value: JSON.stringify({ i, text: `grüße ${i} 日本 ${'x'.repeat(i % 50)}` }) }));
      await produce(topic, events);
      const service = startService(
        { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic },
        ['--elastic.compression=gzip', '--batch.maxInFlight=auto', '--batch.maxDocs=200'],
      );
      try {
        assert.ok(await untilCommittedToEnd(groupId, topic, 60_000), service.output().slice(-2000));
        const port = /"port":(\d+),"msg":"http endpoints listening"/.exec(service.output())![1];
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        const count = Number(/^k2e_bulk_documents_count (\d+)/m.exec(metrics)?.[1]);
        const sum = Number(/^k2e_bulk_documents_sum (\d+)/m.exec(metrics)?.[1]);
        assert.equal(sum, 3000, 'every document went through a bulk request once');
        assert.ok(count > 0 && count <= 3000 / 50, `${count} requests for 3,000 documents`);
      } finally {
        assert.equal(await service.stop(), 0);
      }
      const docs = await allDocuments(engine.url, topic);
      assert.equal(docs.size, 3000);
      for (const i of [0, 1, 1234, 2999]) assert.deepEqual(docs.get(`k-${i}`), JSON.parse(events[i]!.value));
    });
  });
}
