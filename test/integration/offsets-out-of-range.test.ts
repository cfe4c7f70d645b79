// A group's committed offset outside the partition's log: below the log start (retention or
// deleteRecords removed the records; it happens to records dated in the past, which retention deletes
// at once) the service starts at the earliest record left; past the end (a re-created topic) it
// starts where kafka.autoOffsetReset says. Before, the fetch answered OFFSET_OUT_OF_RANGE and the
// member rejoined the group endlessly without consuming.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTopic, produce, untilCommittedToEnd, withAdmin } from '../helpers/kafka.js';
import { dropIndices } from '../helpers/records.js';
import { allDocuments } from '../helpers/search.js';
import { startService } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

const engine = stack.engines[0]!;

async function setCommitted(groupId: string, topic: string, offset: bigint): Promise<void> {
  await withAdmin((admin) => admin.alterConsumerGroupOffsets({ groupId, topics: [{ name: topic, partitionOffsets: [{ partition: 0, offset }] }] }));
}

async function consumeAll(topic: string, groupId: string): Promise<{ docs: Map<string, Record<string, unknown>>; output: string }> {
  const service = startService({ K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic });
  try {
    assert.ok(await service.consuming(), service.output());
    assert.ok(await untilCommittedToEnd(groupId, topic, 60_000), service.output().slice(-3000));
  } finally {
    assert.equal(await service.stop(), 0, service.output().slice(-3000));
  }
  return { docs: await allDocuments(engine.url, topic), output: service.output() };
}

describe(`committed offsets outside the log on ${engine.name}`, () => {
  it('starts at the log start when the records before it were deleted', async () => {
    const topic = uniqueName('oor-start');
    const groupId = uniqueName('oor-start-group');
    await createTopic(topic, 1);
    await produce(topic, Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ i }) })));
    await setCommitted(groupId, topic, 50n);
    await withAdmin((admin) => admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 0, offset: 80n }] }] }));
    const { docs, output } = await consumeAll(topic, groupId);
    assert.deepEqual([...docs.keys()].sort(), Array.from({ length: 20 }, (_, i) => `k${80 + i}`).sort());
    assert.match(output, /the committed offset is below the log start/);
    await dropIndices(engine.url, topic);
  });

  it('starts where autoOffsetReset says when the committed offset is past the end', async () => {
    const topic = uniqueName('oor-end');
    const groupId = uniqueName('oor-end-group');
    await createTopic(topic, 1);
    await produce(topic, Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ i }) })));
    await setCommitted(groupId, topic, 500n);
    const { docs, output } = await consumeAll(topic, groupId);
    assert.equal(docs.size, 10);
    assert.match(output, /the committed offset is past the log end/);
    await dropIndices(engine.url, topic);
  });
});
