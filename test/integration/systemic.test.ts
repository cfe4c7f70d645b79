// A cluster-side refusal (a write block on the index) is not the documents' fault: the partition is
// held and retried, nothing is dead-lettered or committed past the refused records, /ready turns
// false and /status says "refused"; once the block is lifted everything is indexed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTopic, groupCommittedOffsets, produce, readTopic, type TestMessage, topicEndOffsets, untilCommittedToEnd } from '../helpers/kafka.js';
import { allDocuments, refreshAndCount, withSearch } from '../helpers/search.js';
import { type RunningService, type ServiceStatus, startService, waitFor } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

interface FullStatus extends ServiceStatus {
  sink: { state: string; lastError: string | null };
  lag: number | null;
  partitions: (ServiceStatus['partitions'][number] & { lag: string | null; end: string | null })[];
}

const portOf = (service: RunningService): string => /"port":(\d+),"msg":"http endpoints listening"/.exec(service.output())![1]!;
const readyCode = async (service: RunningService): Promise<number> => (await fetch(`http://127.0.0.1:${portOf(service)}/ready`)).status;
const fullStatus = async (service: RunningService): Promise<FullStatus | undefined> => (await service.status()) as FullStatus | undefined;

async function metric(service: RunningService, name: string, labels: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${portOf(service)}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

async function setWriteBlock(url: string, index: string, blocked: boolean): Promise<void> {
  await withSearch(url, async (client) => {
    const { status } = await client.request('PUT', `/${index}/_settings`, JSON.stringify({ 'index.blocks.write': blocked ? true : null }));
    assert.equal(status, 200);
  });
}

const records = (prefix: string, count: number): TestMessage[] => Array.from({ length: count }, (_, i) => ({ key: `${prefix}-${i}`, value: JSON.stringify({ prefix, i }) }));

for (const engine of stack.engines) {
  describe(`systemic refusals on ${engine.name}`, () => {
    it('cluster-side refusals hold the partition instead of dead-lettering', async () => {
      const topic = uniqueName('systemic');
      const groupId = uniqueName('systemic-group');
      const dlq = `${topic}.dlq`;
      await createTopic(topic, 3);
      const service = startService({ K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic }, [
        '--retry.initialDelayMs=100',
        '--retry.maxDelayMs=1000',
        '--http.healthIntervalMs=500',
      ]);
      let blocked = false;
      try {
        assert.ok(await service.consuming(), service.output().slice(-2000));
        const before = records('before', 30);
        await produce(topic, before);
        assert.ok(await untilCommittedToEnd(groupId, topic, 30_000), service.output().slice(-2000));
        const committedBefore = await groupCommittedOffsets(groupId, topic);
        assert.equal([...committedBefore.values()].reduce((sum, o) => sum + o, 0n), 30n);
        assert.ok(await waitFor(async () => (await readyCode(service)) === 200, 20_000), 'ready before the block');

        await setWriteBlock(engine.url, topic, true);
        blocked = true;
        const held = records('held', 200);
        await produce(topic, held);

        // All 200 consumed and held, the sink reported refused, not ready.
        let status: FullStatus | undefined;
        const refused = await waitFor(async () => {
          status = await fullStatus(service);
          return status?.sink.state === 'refused' && status.consumed === 230 && status.partitions.reduce((sum, p) => sum + p.pending, 0) === 200;
        }, 30_000);
        assert.ok(refused, `status: ${JSON.stringify({ sink: status?.sink, consumed: status?.consumed, partitions: status?.partitions })}\n${service.output().slice(-2000)}`);
        assert.match(status!.sink.lastError ?? '', /cluster_block_exception/);
        assert.equal(await readyCode(service), 503);
        assert.equal(status!.ready, false);
        assert.equal(status!.deadLettered, 0);
        assert.ok(((await metric(service, 'k2e_systemic_errors_total', `topic="${topic}"`)) ?? 0) > 0, 'k2e_systemic_errors_total counts the refusals');
        assert.equal((await metric(service, 'k2e_records_dead_lettered_total', `topic="${topic}",error_class="rejected"`)) ?? 0, 0);

        // Nothing dead-lettered (a few seconds of retries later), nothing committed past the held records.
        assert.deepEqual(await readTopic(dlq, 1, 4000), []);
        assert.deepEqual(await groupCommittedOffsets(groupId, topic), committedBefore);
        assert.equal(await refreshAndCount(engine.url, topic), 30);
        assert.match(service.output(), /writes refused by the cluster/);
        assert.doesNotMatch(service.output(), /dead-lettered/);

        await setWriteBlock(engine.url, topic, false);
        blocked = false;
        assert.ok(await untilCommittedToEnd(groupId, topic, 30_000), service.output().slice(-2000));
        assert.deepEqual(await groupCommittedOffsets(groupId, topic), await topicEndOffsets(topic));
        const docs = await allDocuments(engine.url, topic);
        assert.deepEqual([...docs.keys()].sort(), [...before, ...held].map((m) => m.key!).sort());
        for (const m of held) assert.deepEqual(docs.get(m.key!), JSON.parse(m.value as string));
        assert.ok(await waitFor(async () => (await readyCode(service)) === 200, 20_000), 'ready again once the block is lifted');
        assert.ok(
          await waitFor(async () => {
            status = await fullStatus(service);
            return status?.sink.state === 'ok' && status.lag === 0 && status.partitions.every((p) => p.lag === '0' && p.pending === 0);
          }, 20_000),
          JSON.stringify(status),
        );
        assert.equal(status!.indexed, 230);
        assert.equal(status!.deadLettered, 0);
        assert.deepEqual(await readTopic(dlq, 1, 1500), []);
      } finally {
        if (blocked) await setWriteBlock(engine.url, topic, false).catch(() => undefined);
        assert.equal(await service.stop(), 0, service.output().slice(-2000));
      }
    });
  });
}
