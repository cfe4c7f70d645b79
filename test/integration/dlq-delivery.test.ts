// Dead letters always get out, and never hold up anything but their own partition:
// - 5,000 rejected 1 KiB documents in one bulk reach a dead-letter topic whose max.message.bytes is
//   64 KiB (one request would be ~6 MiB), while the other partitions are indexed;
// - a dead-letter topic that disappears while running: its partition is held (nothing committed past
//   the dead letters), /ready turns false and the metrics say why, the other partitions go on; once
//   the topic is back (new topic: the broker knows nothing of any earlier producer) everything arrives;
// - a SIGTERM while a dead-letter send is stuck ends within the shutdown timeout with exit 0 and the
//   final commit; the next instance delivers the held records.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { groupCommittedOffsets, produce, readTopic, topicEndOffsets, untilCommittedToEnd, withAdmin, type TestMessage } from '../helpers/kafka.js';
import { allDocuments, withSearch } from '../helpers/search.js';
import { type RunningService, startService, waitFor } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

const DLQ_LIMIT = 65_536;
const STRICT = { mappings: { dynamic: 'strict', properties: { n: { type: 'integer' }, text: { type: 'keyword' } } } };

const createTopicWith = (topic: string, partitions: number, configs: { name: string; value: string }[] = []): Promise<unknown> =>
  withAdmin((admin) => admin.createTopics({ topics: [topic], partitions, replicas: 1, configs }));
const deleteTopic = (topic: string): Promise<unknown> => withAdmin((admin) => admin.deleteTopics({ topics: [topic] }));
/** A topic re-created right after its deletion can be refused for a moment (marked for deletion). */
async function recreateTopic(topic: string, partitions: number, configs: { name: string; value: string }[]): Promise<void> {
  assert.ok(await waitFor(async () => (await createTopicWith(topic, partitions, configs), true), 30_000, 500), `could not re-create ${topic}`);
}
const total = (ends: Map<string, bigint>): bigint => [...ends.values()].reduce((a, b) => a + b, 0n);

/** A document the strict mapping refuses (an unknown field), about 1 KiB. */
const rejected = (i: number): string => JSON.stringify({ n: i, text: 'bad', extra: 'x'.repeat(990) });
const good = (i: number): string => JSON.stringify({ n: i, text: 'ok' });

function http(service: RunningService): string {
  const port = /"port":(\d+),"msg":"http endpoints listening"/.exec(service.output())?.[1];
  assert.ok(port, 'the service listens');
  return `http://127.0.0.1:${port}`;
}
async function metric(service: RunningService, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${http(service)}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}
const ready = async (service: RunningService): Promise<boolean> => (await fetch(`${http(service)}/ready`)).status === 200;

for (const engine of stack.engines) {
  describe(`dead-letter delivery on ${engine.name}`, () => {
    it('delivers 5,000 rejected 1 KiB documents of one bulk under a 64 KiB max.message.bytes, the other partitions indexed', async () => {
      const topic = uniqueName('dlq-delivery');
      const groupId = uniqueName('dlq-delivery-group');
      await createTopicWith(topic, 3);
      await createTopicWith(`${topic}.dlq`, 3, [{ name: 'max.message.bytes', value: String(DLQ_LIMIT) }]);
      await withSearch(engine.url, (c) => c.createIndex(topic, STRICT));
      const bad: TestMessage[] = Array.from({ length: 5000 }, (_, i) => ({ key: `bad-${i}`, value: rejected(i), partition: 0 }));
      const fine: TestMessage[] = Array.from({ length: 2000 }, (_, i) => ({ key: `good-${i}`, value: good(i), partition: 1 + (i % 2) }));
      await produce(topic, [...bad, ...fine]);

      // One bulk for partition 0's 5,000 records: maxDocs and maxBytes both let them through together.
      const service = startService({ K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic, K2E_BATCH_MAX_DOCS: '5000' }, [
        '--batch.maxBytes=16000000',
        '--batch.maxBufferedRecords=20000',
        '--batch.maxBufferedBytes=32000000',
        '--http.healthIntervalMs=500',
      ]);
      try {
        assert.ok(await untilCommittedToEnd(groupId, topic, 120_000), service.output().slice(-3000));
        const status = await service.status();
        assert.equal(status?.deadLettered, 5000);
        assert.ok(await waitFor(async () => (await fetch(`${http(service)}/status`).then((r) => r.json() as Promise<{ lag: number | null }>)).lag === 0, 20_000), 'lag 0');
        assert.equal(await metric(service, 'k2e_dead_letter_unavailable'), 0);
        assert.equal(await metric(service, 'k2e_dead_letter_failures_total'), 0, 'no request refused: each fitted the first time');
      } finally {
        assert.equal(await service.stop(), 0, service.output().slice(-3000));
      }
      assert.doesNotMatch(service.output(), /dead-letter produce failed|MESSAGE_TOO_LARGE/);
      assert.doesNotMatch(service.output(), /truncated/, 'each record fits alone');

      const docs = await allDocuments(engine.url, topic);
      assert.deepEqual([...docs.keys()].sort(), fine.map((m) => m.key!).sort());
      assert.equal(total(await topicEndOffsets(`${topic}.dlq`)), 5000n, 'every dead letter once');
      const dlq = await readTopic(`${topic}.dlq`, 5000, 60_000);
      assert.equal(dlq.length, 5000);
      const byKey = new Map(dlq.map((d) => [d.key, d]));
      for (const original of bad) {
        const dead = byKey.get(original.key);
        assert.ok(dead, `${original.key} missing from the dead-letter topic`);
        assert.equal(dead.value, original.value, 'the original value, whole');
        assert.equal(dead.headers['k2e.error.type'], 'strict_dynamic_mapping_exception');
        assert.equal(dead.headers['k2e.source.partition'], '0');
        assert.equal(dead.headers['k2e.value.truncated'], undefined);
      }
    });
  });
}

const engine = stack.engines[0]!;

describe(`an unavailable dead-letter topic on ${engine.name}`, () => {
  it('holds only its partition, turns /ready false, and delivers everything once the topic is back', async () => {
    const topic = uniqueName('dlq-gone');
    const groupId = uniqueName('dlq-gone-group');
    const dlqTopic = `${topic}.dlq`;
    await createTopicWith(topic, 3);
    await createTopicWith(dlqTopic, 3, [{ name: 'max.message.bytes', value: String(DLQ_LIMIT) }]);
    await withSearch(engine.url, (c) => c.createIndex(topic, STRICT));
    const service = startService({ K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic }, [
      '--errors.dlqTimeoutMs=2000',
      '--http.healthIntervalMs=500',
      '--retry.maxDelayMs=1000',
    ]);
    try {
      // Dead letters flow: the producer has written to the topic before it disappears.
      await produce(topic, [
        { key: 'bad-a', value: rejected(0), partition: 0 },
        ...Array.from({ length: 100 }, (_, i) => ({ key: `good-a${i}`, value: good(i), partition: i % 3 })),
      ]);
      assert.ok(await untilCommittedToEnd(groupId, topic, 60_000), service.output().slice(-3000));
      assert.equal(total(await topicEndOffsets(dlqTopic)), 1n);

      await deleteTopic(dlqTopic);
      const heldAt = (await topicEndOffsets(topic)).get(`${topic}:0`)!;
      await produce(topic, [
        ...Array.from({ length: 50 }, (_, i) => ({ key: `bad-b${i}`, value: rejected(i), partition: 0 })),
        ...Array.from({ length: 300 }, (_, i) => ({ key: `good-b${i}`, value: good(i), partition: 1 + (i % 2) })),
      ]);
      // The other partitions are indexed and committed while partition 0 waits.
      const ends = await topicEndOffsets(topic);
      assert.ok(
        await waitFor(async () => {
          const committed = await groupCommittedOffsets(groupId, topic);
          return committed.get(`${topic}:1`) === ends.get(`${topic}:1`) && committed.get(`${topic}:2`) === ends.get(`${topic}:2`);
        }, 60_000),
        service.output().slice(-3000),
      );
      assert.ok(await waitFor(async () => (await metric(service, 'k2e_dead_letter_unavailable')) === 1, 30_000), service.output().slice(-3000));
      assert.ok(await waitFor(async () => !(await ready(service)), 10_000), '/ready false while the dead letters cannot be delivered');
      assert.ok(((await metric(service, 'k2e_dead_letter_failures_total')) ?? 0) > 0);
      const status = (await (await fetch(`${http(service)}/status`)).json()) as { deadLetterQueue: { state: string; lastError: string } };
      assert.equal(status.deadLetterQueue.state, 'unavailable');
      assert.match(status.deadLetterQueue.lastError, /UNKNOWN_TOPIC_OR_PARTITION|not acknowledge|topic/i);
      assert.equal((await groupCommittedOffsets(groupId, topic)).get(`${topic}:0`), heldAt, 'nothing committed past the dead letters');
      assert.match(service.output(), /dead letters not delivered: holding the partition/);

      // The topic is back (a new topic: no producer state on the broker), and the held records arrive.
      await recreateTopic(dlqTopic, 3, [{ name: 'max.message.bytes', value: String(DLQ_LIMIT) }]);
      assert.ok(await untilCommittedToEnd(groupId, topic, 90_000), service.output().slice(-3000));
      assert.ok(await waitFor(async () => (await metric(service, 'k2e_dead_letter_unavailable')) === 0 && (await ready(service)), 20_000), '/ready again');
      // And later dead letters through the same producer too.
      await produce(topic, Array.from({ length: 20 }, (_, i) => ({ key: `bad-c${i}`, value: rejected(i), partition: 0 })));
      assert.ok(await untilCommittedToEnd(groupId, topic, 60_000), service.output().slice(-3000));
    } finally {
      assert.equal(await service.stop(), 0, service.output().slice(-3000));
    }
    const dlq = await readTopic(dlqTopic, Number(total(await topicEndOffsets(dlqTopic))), 30_000);
    const keys = new Set(dlq.map((d) => d.key));
    for (let i = 0; i < 50; i++) assert.ok(keys.has(`bad-b${i}`), `bad-b${i}`);
    for (let i = 0; i < 20; i++) assert.ok(keys.has(`bad-c${i}`), `bad-c${i}`);
    const docs = await allDocuments(engine.url, topic);
    assert.equal([...docs.keys()].filter((k) => k.startsWith('good-')).length, 400);
  });

  it('stops within the shutdown timeout, exit 0 with the final commit, while a dead-letter send is stuck', async () => {
    const topic = uniqueName('dlq-stop');
    const groupId = uniqueName('dlq-stop-group');
    const dlqTopic = `${topic}.dlq`;
    await createTopicWith(topic, 1);
    await createTopicWith(dlqTopic, 1);
    await withSearch(engine.url, (c) => c.createIndex(topic, STRICT));
    const env = { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic };
    // The default errors.dlqTimeoutMs (5 minutes): the send is still retrying when SIGTERM comes.
    const first = startService(env, ['--shutdownTimeoutMs=10000']);
    assert.ok(await first.consuming(), first.output().slice(-2000));
    await deleteTopic(dlqTopic);
    await produce(topic, [
      ...Array.from({ length: 30 }, (_, i) => ({ key: `good-${i}`, value: good(i) })),
      { key: 'bad', value: rejected(0) },
      ...Array.from({ length: 30 }, (_, i) => ({ key: `good-${30 + i}`, value: good(30 + i) })),
    ]);
    assert.ok(await waitFor(async () => /dead-letter produce failed; retrying/.test(first.output()), 30_000), first.output().slice(-3000));
    await sleep(500);
    const stopped = await first.stopWithin(15_000);
    assert.ok(stopped.exited, 'it exits');
    assert.equal(stopped.code, 0, first.output().slice(-3000));
    assert.ok(stopped.ms < 10_000, `stopped in ${stopped.ms} ms`);
    assert.match(first.output(), /"msg":"stopped cleanly"/);
    // The final commit: everything before the dead letter; it and what follows are read again.
    assert.equal((await groupCommittedOffsets(groupId, topic)).get(`${topic}:0`), 30n);

    await recreateTopic(dlqTopic, 1, []);
    const second = startService(env);
    try {
      assert.ok(await untilCommittedToEnd(groupId, topic, 60_000), second.output().slice(-3000));
    } finally {
      assert.equal(await second.stop(), 0, second.output().slice(-3000));
    }
    const dlq = await readTopic(dlqTopic, 1, 20_000);
    assert.deepEqual(
      dlq.map((d) => d.key),
      ['bad'],
    );
    assert.equal((await allDocuments(engine.url, topic)).size, 60);
  });
});
