// `workers: N`: N members of the group in one process, each in its own worker thread with its own
// partitions. Every record indexed exactly once, commits at the end offsets, one /status and one
// /metrics for all members, a prompt SIGTERM; and a second process joining the group shares the
// partitions with the first (a rebalance across both processes' members) without losing a record.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sequencedEvents } from '../helpers/events.js';
import { createTopic, groupCommittedOffsets, produce, topicEndOffsets, untilCommittedToEnd } from '../helpers/kafka.js';
import { assertLatestPerKey } from '../helpers/search.js';
import { FAST_GROUP_FLAGS, type RunningService, startService, waitFor } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

const engine = stack.engines[0]!;

interface PoolStatus {
  workers: number;
  ready: boolean;
  indexed: number;
  assigned: string[];
  partitions: { topic: string; partition: number; worker: string; owner: string }[];
  members: { worker: string; instance: string; alive: boolean; assigned: string[]; indexed: number }[];
}

const portOf = (service: RunningService): string | undefined => /"port":(\d+),"msg":"http endpoints listening"/.exec(service.output())?.[1];
const get = async (service: RunningService, path: string): Promise<Response> => fetch(`http://127.0.0.1:${portOf(service)}${path}`);
const poolStatus = async (service: RunningService): Promise<PoolStatus | undefined> => (await service.status()) as unknown as PoolStatus | undefined;

async function assertCommittedToEnd(groupId: string, topic: string): Promise<void> {
  const [ends, committed] = await Promise.all([topicEndOffsets(topic), groupCommittedOffsets(groupId, topic)]);
  assert.equal(ends.size, 6);
  for (const [key, end] of ends) assert.equal(committed.get(key), end, `committed offset of ${key}`);
}

describe(`workers: N on ${engine.name}`, () => {
  // The engine is shared by every suite and has a shard limit: leave no index behind.
  const indices: string[] = [];
  after(async () => {
    for (const index of indices) await fetch(`${engine.url}/${index}`, { method: 'DELETE' }).catch(() => undefined);
  });

  it('three members in one process index every record once and report as one service', async () => {
    const topic = uniqueName('workers');
    indices.push(topic);
    const groupId = uniqueName('workers-group');
    await createTopic(topic, 6);
    // One record per key: the document count is the record count.
    const { messages, lastSeq } = sequencedEvents(12_000, 12_000);
    await produce(topic, messages);
    const env = { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic, K2E_BATCH_MAX_DOCS: '500', K2E_WORKERS: '3' };
    const service = startService(env, FAST_GROUP_FLAGS);
    try {
      // The group gives each of the three members two of the six partitions.
      const shared = await waitFor(async () => {
        const status = await poolStatus(service);
        return status?.partitions.length === 6 && status.members.every((m) => m.assigned.length === 2);
      }, 60_000, 200);
      assert.ok(shared, `six partitions over three members: ${JSON.stringify((await poolStatus(service))?.members)}\n${service.output().slice(-2000)}`);
      assert.ok(await untilCommittedToEnd(groupId, topic, 120_000), service.output().slice(-2000));
      await assertCommittedToEnd(groupId, topic);
      await assertLatestPerKey(engine.url, topic, lastSeq);

      const status = (await poolStatus(service))!;
      assert.equal(status.workers, 3);
      assert.deepEqual(status.members.map((m) => m.worker), ['w1', 'w2', 'w3']);
      assert.ok(status.members.every((m) => m.alive && m.instance.endsWith(`-${m.worker}`)), JSON.stringify(status.members));
      assert.equal(new Set(status.partitions.map((p) => p.worker)).size, 3);
      assert.deepEqual(status.partitions.map((p) => p.partition), [0, 1, 2, 3, 4, 5]);
      // A partition that moved while the members joined may have been indexed again from its last commit.
      assert.ok(status.indexed >= 12_000, `indexed ${status.indexed}`);
      assert.equal(status.members.reduce((sum, m) => sum + m.indexed, 0), status.indexed, 'the totals are the members\' sums');
      assert.ok(await waitFor(async () => (await get(service, '/ready')).status === 200, 15_000), 'ready once every member is');
      assert.equal((await get(service, '/health')).status, 200);

      const metrics = await (await get(service, '/metrics')).text();
      const indexed = metrics.split('\n').filter((l) => l.startsWith('k2e_records_indexed_total{'));
      // The first member to join may index the whole backlog before the others get partitions, so
      // not every member has indexed something; every member reports its assignment.
      assert.ok(indexed.length > 0 && indexed.every((l) => /worker="w[123]"/.test(l)), indexed.join('\n'));
      const assigned = metrics.split('\n').filter((l) => l.startsWith('k2e_assigned_partitions{'));
      assert.deepEqual(assigned.map((l) => /worker="(w\d)"/.exec(l)?.[1]).sort(), ['w1', 'w2', 'w3'], assigned.join('\n'));
      assert.equal(indexed.reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0), status.indexed);
      // Process-wide numbers once (from the main thread), per-thread runtime numbers per member.
      assert.equal(metrics.split('\n').filter((l) => l.startsWith('k2e_process_resident_memory_bytes')).length, 1);
      assert.equal(metrics.split('\n').filter((l) => l.startsWith('# TYPE k2e_records_indexed_total')).length, 1, 'one HELP/TYPE per metric');
      assert.equal((await get(service, '/')).status, 200, 'the status page');
    } finally {
      const stopped = await service.stopWithin(20_000);
      assert.ok(stopped.exited, 'SIGTERM stops all members');
      assert.equal(stopped.code, 0, service.output().slice(-2000));
      assert.ok(stopped.ms < 15_000, `stopped in ${stopped.ms} ms`);
    }
    assert.equal((service.output().match(/"msg":"stopped cleanly"/g) ?? []).length, 3, 'each member stopped cleanly (flushed and committed)');
    await assertCommittedToEnd(groupId, topic);
  });

  it('a second process joining the group shares the partitions without losing a record', async () => {
    const topic = uniqueName('workers-join');
    indices.push(topic);
    const groupId = uniqueName('workers-join-group');
    await createTopic(topic, 6);
    const { messages, lastSeq } = sequencedEvents(24_000, 6_000);
    const env = { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic, K2E_BATCH_MAX_DOCS: '200' };
    const producing = (async () => {
      for (let i = 0; i < messages.length; i += 1000) {
        await produce(topic, messages.slice(i, i + 1000));
        await sleep(300);
      }
    })();
    const a = startService({ ...env, K2E_WORKERS: '3' }, FAST_GROUP_FLAGS);
    let b: RunningService | undefined;
    let failed = false;
    try {
      assert.ok(await waitFor(async () => ((await poolStatus(a))?.indexed ?? 0) > 2000, 60_000), `not 2,000 indexed in 60 s; status ${JSON.stringify(await poolStatus(a))}\n${a.output().slice(-2000)}`);
      b = startService({ ...env, K2E_WORKERS: '2' }, FAST_GROUP_FLAGS);
      const joined = b;
      // Five members over six partitions: both processes own some, together all six.
      const shared = await waitFor(async () => {
        const [sa, sb] = await Promise.all([poolStatus(a), poolStatus(joined)]);
        if (!sa || !sb) return false;
        const all = [...sa.assigned, ...sb.assigned];
        return sb.assigned.length >= 2 && all.length === 6 && new Set(all).size === 6 && [...sa.members, ...sb.members].every((m) => m.assigned.length >= 1);
      }, 60_000, 200);
      assert.ok(shared, `partitions shared by both processes: ${JSON.stringify((await poolStatus(a))?.assigned)} / ${JSON.stringify((await poolStatus(joined))?.assigned)}`);
      await producing;
      assert.ok(await untilCommittedToEnd(groupId, topic, 120_000), a.output().slice(-1500) + joined.output().slice(-1500));
      await assertCommittedToEnd(groupId, topic);
      await assertLatestPerKey(engine.url, topic, lastSeq);
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      await producing.catch(() => undefined);
      const results = await Promise.all([a, ...(b ? [b] : [])].map((s) => s.stopWithin(20_000)));
      // After a failure, the stop is reported beside it rather than in place of it.
      const stops = `exit codes ${JSON.stringify(results.map((r) => r.code))} after SIGTERM`;
      if (failed) console.log(`workers: ${stops}; first process's output:\n${a.output().slice(-6000)}`);
      else assert.deepEqual(results.map((r) => r.code), b ? [0, 0] : [0], `${stops}\n${a.output().slice(-1500)}${b?.output().slice(-1500) ?? ''}`);
    }
  });

  it('a member that fails stops the whole process with exit 1, nothing committed past the failing record', async () => {
    const topic = uniqueName('workers-fail');
    indices.push(topic);
    const groupId = uniqueName('workers-fail-group');
    await createTopic(topic, 6);
    // 500 good records per partition, then on partition 3 one that is not JSON: errors.policy fail stops its member.
    const good = Array.from({ length: 3000 }, (_, i) => ({ key: `k-${i}`, value: JSON.stringify({ i }), partition: i % 6 }));
    await produce(topic, [...good, { key: 'poison', value: 'not json', partition: 3 }]);
    const env = { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic, K2E_ERROR_POLICY: 'fail', K2E_WORKERS: '3' };
    const service = startService(env, FAST_GROUP_FLAGS);
    const stopped = await Promise.race([service.exited, sleep(90_000, 'timeout' as const)]);
    if (stopped === 'timeout') await service.kill();
    assert.equal(stopped, 1, service.output().slice(-3000));
    assert.match(service.output(), /"worker":"w\d","code":1,"msg":"worker exited unexpectedly/);
    // The other two are stopped and report their exit. One of them may have been given partition 3 in
    // the rebalance when the first left, and failed on the same record: the same exit 1, nothing committed past it.
    const output = service.output();
    const stoppedCodes = [...output.matchAll(/"code":(\d+),"msg":"worker stopped"/g)].map((m) => Number(m[1]));
    assert.equal(stoppedCodes.length, 2, output.slice(-3000));
    const failures = (output.match(/"msg":"stopped: nothing past the failing record was committed"/g) ?? []).length;
    assert.equal(failures, 1 + stoppedCodes.filter((code) => code === 1).length, 'every member that exited 1 failed on the poison record');
    assert.ok(stoppedCodes.every((code) => code === 0 || code === 1), `exit codes ${stoppedCodes.join(', ')}`);
    const committed = await groupCommittedOffsets(groupId, topic);
    assert.ok((committed.get(`${topic}:3`) ?? 0n) <= 500n, `partition 3 committed ${committed.get(`${topic}:3`)}, past the failing record at 500`);
  });
});
