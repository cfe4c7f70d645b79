// Partitions added to a topic while the service runs: the discovery timer notices the new count,
// the group rebalances, and the new partitions are consumed from their beginning (records written to
// them before anyone picked them up are not skipped), committed to their end offsets and reported.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../scripts/stack/layout.js';
import { createTopic, groupCommittedOffsets, produce, type TestMessage, topicEndOffsets, untilCommittedToEnd, withAdmin } from '../helpers/kafka.js';
import { allDocuments } from '../helpers/search.js';
import { FAST_GROUP_FLAGS, type RunningService, startService, waitFor } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

const engine = stack.engines[0]!;
const bin = path.join(repoRoot, 'bin', 'kafka-to-elastic.js');
const DISCOVERY_FLAGS = ['--kafka.partitionDiscoveryIntervalMs=2000'];

interface LagRow {
  topic: string;
  partition: number;
  committed: string | null;
  end: string;
  lag: string;
}

/** `kafka-to-elastic lag --json`, run as users run it. */
function lagCli(groupId: string, topic: string): LagRow[] {
  const result = spawnSync(process.execPath, [bin, 'lag', '--group', groupId, '--topics', topic, '--brokers', brokers, '--json'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.status, 0, `lag exited ${result.status}: ${result.stderr}`);
  return (JSON.parse(result.stdout) as LagRow[]).sort((a, b) => a.partition - b.partition);
}

/** `count` records with distinct keys `<prefix>-<i>`, all to one partition. */
function keyed(prefix: string, count: number, partition: number): TestMessage[] {
  return Array.from({ length: count }, (_, i) => ({ key: `${prefix}-${i}`, value: JSON.stringify({ prefix, i, partition }), partition }));
}

const addPartitions = (topic: string, count: number): Promise<void> => withAdmin((admin) => admin.createPartitions({ topics: [{ name: topic, count }] }));

/** Waits until the index holds exactly `ids` (compares the sorted id lists), returning the last seen list. */
async function untilIndexed(index: string, ids: string[], timeoutMs: number): Promise<{ ok: boolean; seen: string[] }> {
  const expected = [...ids].sort();
  let seen: string[] = [];
  const ok = await waitFor(async () => {
    seen = [...(await allDocuments(engine.url, index)).keys()].sort();
    return seen.length === expected.length && seen.every((id, i) => id === expected[i]);
  }, timeoutMs, 500);
  return { ok, seen };
}

async function assertCaughtUp(groupId: string, topic: string, partitions: number): Promise<void> {
  const ends = await topicEndOffsets(topic);
  assert.equal(ends.size, partitions);
  assert.ok(await untilCommittedToEnd(groupId, topic, 30_000), 'the group must commit every partition to its end offset');
  assert.deepEqual(await groupCommittedOffsets(groupId, topic), ends);
  const rows = lagCli(groupId, topic);
  assert.deepEqual(
    rows.map((r) => [r.partition, r.committed, r.end, r.lag]),
    [...Array(partitions).keys()].map((p) => [p, String(ends.get(`${topic}:${p}`)), String(ends.get(`${topic}:${p}`)), '0']),
  );
}

describe(`partitions added at runtime on ${engine.name}`, () => {
  it('partitions added while the service runs are consumed', async () => {
    const topic = uniqueName('grow');
    const groupId = uniqueName('grow-group');
    await createTopic(topic, 2);
    // autoOffsetReset latest: only the rule for partitions added later (the group has commits on the
    // topic, so they start at their beginning) keeps the records written to them before the service
    // picked them up.
    const env = { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic, K2E_AUTO_OFFSET_RESET: 'latest' };
    const service = startService(env, [...FAST_GROUP_FLAGS, ...DISCOVERY_FLAGS]);
    const before = [...keyed('old0', 30, 0), ...keyed('old1', 30, 1)];
    try {
      assert.ok(await service.consuming(), service.output().slice(-2000));
      // Positioned (at the latest offset, 0) before anything is produced.
      assert.ok(await waitFor(async () => (await service.status())?.partitions.filter((p) => p.committed === '0').length === 2, 20_000, 100), JSON.stringify(await service.status()));
      await produce(topic, before);
      assert.ok(await untilCommittedToEnd(groupId, topic, 30_000), service.output().slice(-2000));
      assert.deepEqual((await service.status())?.assigned, [`${topic}:0`, `${topic}:1`]);

      await addPartitions(topic, 4);
      const added = [...keyed('new2', 50, 2), ...keyed('new3', 50, 3)];
      const addedAt = Date.now();
      await produce(topic, added);
      const producedAt = Date.now();

      const ids = [...before, ...added].map((m) => m.key!);
      const { ok, seen } = await untilIndexed(topic, ids, 60_000);
      assert.ok(ok, `expected ${ids.length} documents, saw ${seen.length}; missing ${ids.filter((id) => !seen.includes(id)).slice(0, 5).join(',')}\n${service.output().slice(-3000)}`);
      const discovered = /"time":(\d+),[^\n]*"msg":"partitions added to a topic: rejoining the group/.exec(service.output());
      assert.ok(discovered, 'the discovery timer noticed the new partitions');
      console.log(`partitions-added: indexed ${Date.now() - addedAt} ms after the partitions were added; records produced ${Number(discovered[1]) - producedAt} ms before the discovery`);

      const docs = await allDocuments(engine.url, topic);
      for (const m of added) assert.deepEqual(docs.get(m.key!), JSON.parse(m.value as string));
      await assertCaughtUp(groupId, topic, 4);
      const ends = await topicEndOffsets(topic);
      assert.equal(ends.get(`${topic}:2`), 50n);
      assert.equal(ends.get(`${topic}:3`), 50n);

      const status = await service.status();
      assert.deepEqual(status?.assigned, [0, 1, 2, 3].map((p) => `${topic}:${p}`));
      assert.deepEqual(
        status?.partitions.map((p) => [p.partition, p.committed]).sort((a, b) => Number(a[0]) - Number(b[0])),
        [0, 1, 2, 3].map((p) => [p, String(ends.get(`${topic}:${p}`))]),
      );
      assert.equal(status?.consumed, 160, 'every record consumed exactly once');
    } finally {
      assert.equal(await service.stop(), 0, service.output().slice(-2000));
    }
  });

  it('with two instances, each new partition goes to exactly one of them', async () => {
    const topic = uniqueName('grow2');
    const groupId = uniqueName('grow2-group');
    await createTopic(topic, 2);
    const env = { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic };
    const instances: RunningService[] = [startService(env, [...FAST_GROUP_FLAGS, ...DISCOVERY_FLAGS]), startService(env, [...FAST_GROUP_FLAGS, ...DISCOVERY_FLAGS])];
    const assignedOf = async (): Promise<string[][]> => Promise.all(instances.map(async (s) => (await s.status())?.assigned ?? []));
    try {
      const shared = await waitFor(async () => (await assignedOf()).every((a) => a.length === 1), 60_000);
      assert.ok(shared, `two instances should own one partition each: ${JSON.stringify(await assignedOf())}`);
      // Produced once the group settled, so no partition moves after being read: each record is consumed once.
      const before = [...keyed('old0', 20, 0), ...keyed('old1', 20, 1)];
      await produce(topic, before);
      assert.ok(await untilCommittedToEnd(groupId, topic, 30_000));

      await addPartitions(topic, 4);
      const added = [...keyed('new2', 50, 2), ...keyed('new3', 50, 3)];
      await produce(topic, added);
      const ids = [...before, ...added].map((m) => m.key!);
      const { ok, seen } = await untilIndexed(topic, ids, 60_000);
      assert.ok(ok, `expected ${ids.length} documents, saw ${seen.length}\n${instances.map((s) => s.output().slice(-2000)).join('\n---\n')}`);
      await assertCaughtUp(groupId, topic, 4);

      // Settled: each partition owned by exactly one instance, two each (balance).
      let assigned: string[][] = [];
      const balanced = await waitFor(async () => {
        assigned = await assignedOf();
        return assigned.every((a) => a.length === 2);
      }, 20_000);
      assert.ok(balanced, `expected two partitions each: ${JSON.stringify(assigned)}`);
      assert.deepEqual(assigned.flat().sort(), [0, 1, 2, 3].map((p) => `${topic}:${p}`), 'no partition owned twice, none unowned');
      const statuses = await Promise.all(instances.map((s) => s.status()));
      assert.equal(statuses.reduce((sum, s) => sum + (s?.consumed ?? 0), 0), 140, 'every record consumed once across the instances');
    } finally {
      const codes = await Promise.all(instances.map((s) => s.stop()));
      assert.deepEqual(codes, [0, 0], instances.map((s) => s.output().slice(-1500)).join('\n---\n'));
    }
  });
});
