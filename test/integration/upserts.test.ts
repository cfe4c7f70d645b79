// Write actions on every engine: upsert merges partial records into one document (creating it when
// missing); update merges into documents that exist and keeps each partition's order (the last
// change of a key wins, however many bulks its changes span); an update of a missing document is
// dead-lettered; the action per record from a field (index, update, delete).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTopic, produce, type ProducedMessage, readTopic, untilCommittedToEnd } from '../helpers/kafka.js';
import { dropIndices } from '../helpers/records.js';
import { allDocuments, withSearch } from '../helpers/search.js';
import { startService } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

const KEYS = 60;
const CHANGES_PER_KEY = 25;

async function runUntilCommitted(topic: string, groupId: string, env: Record<string, string>, flags: string[]): Promise<void> {
  const service = startService({ K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_BATCH_MAX_DOCS: '50', K2E_BATCH_LINGER_MS: '5', ...env }, flags);
  try {
    assert.ok(await service.consuming(), service.output());
    assert.ok(await untilCommittedToEnd(groupId, topic, 90_000), service.output().slice(-3000));
  } finally {
    assert.equal(await service.stop(), 0, service.output().slice(-3000));
  }
}

/** Per key: one record with its name, then a run of partial changes with rising seq, interleaved across keys. */
function partialChanges(): { records: ProducedMessage[]; last: Map<string, number> } {
  const records: ProducedMessage[] = [];
  const last = new Map<string, number>();
  for (let k = 0; k < KEYS; k++) records.push({ key: `k${k}`, value: JSON.stringify({ name: `name-${k}` }) });
  for (let round = 0; round < CHANGES_PER_KEY; round++) {
    for (let k = 0; k < KEYS; k++) {
      const seq = round * KEYS + k;
      records.push({ key: `k${k}`, value: JSON.stringify({ seq, [`field${round % 3}`]: round }) });
      last.set(`k${k}`, seq);
    }
  }
  return { records, last };
}

for (const engine of stack.engines) {
  describe(`write actions on ${engine.name}`, () => {
    it('upsert merges partial records into one document per key, the last change winning', async () => {
      const topic = uniqueName('up-upsert');
      await createTopic(topic, 3);
      const { records, last } = partialChanges();
      await produce(topic, records);
      await runUntilCommitted(topic, uniqueName('up-upsert-group'), { K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic }, ['--document.action=upsert']);
      const docs = await allDocuments(engine.url, topic);
      assert.equal(docs.size, KEYS);
      for (let k = 0; k < KEYS; k++) {
        // Fields of every change are kept: the name from the first record, each fieldN from the last round that set it.
        assert.deepEqual(docs.get(`k${k}`), { name: `name-${k}`, seq: last.get(`k${k}`), field0: 24, field1: 22, field2: 23 });
      }
      await dropIndices(engine.url, topic);
    });

    it('update merges into existing documents in partition order; an update of a missing document is dead-lettered', async () => {
      const topic = uniqueName('up-update');
      await createTopic(topic, 3);
      // The documents exist before (written by something else): update adds to them.
      await withSearch(engine.url, async (client) => {
        const lines = Array.from({ length: KEYS }, (_, k) => `{"index":{"_index":"${topic}","_id":"k${k}"}}\n{"origin":"seed","seq":-1}\n`).join('');
        const { status } = await client.request('POST', '/_bulk?refresh=true', lines);
        assert.equal(status, 200);
      });
      const { records, last } = partialChanges();
      const changes = records.slice(KEYS); // only the partial changes
      await produce(topic, [...changes, { key: 'missing', value: '{"seq":1}' }]);
      await runUntilCommitted(topic, uniqueName('up-update-group'), { K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic }, ['--document.action=update']);
      const docs = await allDocuments(engine.url, topic);
      assert.equal(docs.size, KEYS);
      const wrong = [...last].filter(([key, seq]) => docs.get(key)?.seq !== seq || docs.get(key)?.origin !== 'seed');
      assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} documents are not at their last change`);
      const [dead] = await readTopic(`${topic}.dlq`, 1);
      assert.equal(dead?.key, 'missing');
      assert.equal(dead?.headers['k2e.error.class'], 'rejected');
      assert.equal(dead?.headers['k2e.error.type'], 'document_missing_exception');
      await dropIndices(engine.url, topic);
    });

    it('takes the action of each record from a field (document.actionField)', async () => {
      const topic = uniqueName('up-action-field');
      await createTopic(topic, 1);
      await produce(topic, [
        { key: 'a', value: '{"op":"index","name":"a","n":1}' },
        { key: 'b', value: '{"op":"index","name":"b","n":1}' },
        { key: 'c', value: '{"op":"index","name":"c","n":1}' },
        { key: 'a', value: '{"op":"update","n":2}' },
        { key: 'b', value: '{"op":"delete"}' },
        { key: 'd', value: '{"op":"upsert","name":"d"}' },
        { key: 'c', value: '{"name":"c2"}' }, // no action: document.action (index) replaces the document
      ]);
      await runUntilCommitted(topic, uniqueName('up-action-group'), { K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic }, ['--document.actionField=op']);
      const docs = await allDocuments(engine.url, topic);
      assert.deepEqual(
        new Map([...docs].sort(([x], [y]) => x.localeCompare(y))),
        new Map<string, object>([
          ['a', { op: 'update', name: 'a', n: 2 }],
          ['c', { name: 'c2' }],
          ['d', { op: 'upsert', name: 'd' }],
        ]),
      );
      await dropIndices(engine.url, topic);
    });
  });
}
