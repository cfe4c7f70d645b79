// A three-broker cluster's real failures while records flow (issue 24): a rolling restart of all three
// brokers, a controlled leader move of every partition, and the group coordinator's broker killed with
// -9 and restarted. Two instances of the service consume 300,000 keyed records written by Kafka's Java
// producer meanwhile. Afterwards every key is at its last value, the group committed to the end, no
// member lost its membership, and the group's generation never moved after both members joined:
// leader and coordinator moves are handled where they happen, not by rebalancing the group.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { committedOffsets, endOffsets } from '../../src/admin/group-offsets.js';
import { type Cluster, groupCoordinator, leaders, rotateClusterLeaders, startCluster, stopCluster, withClusterAdmin } from '../helpers/cluster.js';
import { startJavaProducer } from '../helpers/kafka-tools.js';
import { assertLatestPerKey } from '../helpers/search.js';
import { FAST_GROUP_FLAGS, type RunningService, startService, waitFor } from '../helpers/service.js';
import { stack, uniqueName } from '../helpers/stack.js';

const engine = stack.engines[0]!;
const RECORDS = Number(process.env.CLUSTER_RECORDS ?? 300_000);
const KEYS = 20_000;

/** Polls each instance's /status: the generations it reported, and whether it ever reported none. */
function watchGenerations(services: RunningService[]): { stop(): void; seen: Set<number>[] } {
  const seen = services.map(() => new Set<number>());
  let stopped = false;
  void (async () => {
    while (!stopped) {
      await Promise.all(
        services.map(async (s, i) => {
          const status = (await s.status().catch(() => undefined)) as { generation?: number } | undefined;
          if (status?.generation !== undefined && status.generation >= 0) seen[i]!.add(status.generation);
        }),
      );
      await sleep(500);
    }
  })();
  return { stop: () => void (stopped = true), seen };
}

describe('a three-broker cluster: rolling restart, leader moves, the coordinator killed', () => {
  let cluster: Cluster;
  before(() => {
    cluster = startCluster();
  });
  after(() => stopCluster());

  it('indexes every key at its last value with no member lost and no rebalance', { timeout: 20 * 60_000 }, async () => {
    const topic = uniqueName('cluster');
    const groupId = uniqueName('cluster-group');
    await withClusterAdmin(cluster, (admin) => admin.createTopics({ topics: [topic], partitions: 6, replicas: 3, configs: [{ name: 'min.insync.replicas', value: '2' }] }));
    const env = { K2E_BROKERS: cluster.bootstrap, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic };
    const services = [startService(env, FAST_GROUP_FLAGS), startService(env, FAST_GROUP_FLAGS)];
    const log = (what: string): void => console.log(`[cluster ${new Date().toISOString()}] ${what}`);
    try {
      // Both members joined one generation (each with partitions) before anything moves.
      assert.ok(
        await waitFor(async () => {
          const statuses = (await Promise.all(services.map((s) => s.status()))) as ({ generation?: number; assigned?: string[] } | undefined)[];
          return statuses.every((s) => (s?.assigned?.length ?? 0) > 0) && new Set(statuses.map((s) => s?.generation)).size === 1;
        }, 90_000),
        services.map((s) => s.output().slice(-1500)).join('\n---\n'),
      );
      const generations = watchGenerations(services);
      const producer = startJavaProducer({ topic, bootstrap: cluster.bootstrap, count: RECORDS, keys: KEYS, rate: Math.round(RECORDS / 120), compression: 'lz4', config: { acks: 'all', 'delivery.timeout.ms': 300000 } });

      await sleep(10_000);
      for (const node of cluster.nodes) {
        log(`rolling restart: ${node.name}`);
        cluster.command('stop', node.name);
        await sleep(2_000);
        cluster.command('start', node.name);
        await sleep(5_000);
      }
      log(`leaders before the move: ${(await leaders(cluster, topic)).join(',')}`);
      await rotateClusterLeaders(cluster, topic);
      log(`leaders after the move: ${(await leaders(cluster, topic)).join(',')}`);
      const coordinator = await groupCoordinator(cluster, groupId);
      const victim = cluster.nodes.find((n) => n.id === coordinator)!;
      log(`killing the coordinator's broker: ${victim.name}`);
      cluster.command('kill', victim.name);
      await sleep(15_000);
      cluster.command('start', victim.name);
      log(`restarted ${victim.name}`);

      const written = await producer.done;
      log(`produced ${written.committedCount}`);
      assert.equal(written.committedCount, RECORDS);
      // Caught up: the group committed every partition's end.
      const ends = await withClusterAdmin(cluster, (admin) => endOffsets(admin, [topic]));
      const caughtUp = await waitFor(async () => {
        const committed = await withClusterAdmin(cluster, (admin) => committedOffsets(admin, groupId, [topic]));
        return [...ends].every(([key, end]) => committed.get(key) === end);
      }, 300_000, 2000);
      generations.stop();
      assert.ok(caughtUp, services.map((s) => s.output().slice(-3000)).join('\n---\n'));

      const lastSeq = new Map<string, number>();
      for (const r of written.committed!) if ((lastSeq.get(r.key) ?? -1) < r.seq) lastSeq.set(r.key, r.seq);
      await assertLatestPerKey(engine.url, topic, lastSeq);
      const membership = (s: RunningService): string =>
        s
          .output()
          .split('\n')
          .filter((line) => /rebalanc|coordinator|holding its partitions|answers again|partitions assigned|lost|joining/.test(line))
          .map((line) => line.slice(0, 400))
          .join('\n');
      for (const [i, seen] of generations.seen.entries()) assert.equal(seen.size, 1, `instance ${i} saw generations ${[...seen].join(', ')}:\n${membership(services[i]!)}`);
      for (const s of services) assert.doesNotMatch(s.output(), /lost the group membership|the group dropped this member/, 'no member lost');
    } finally {
      for (const s of services) assert.equal(await s.stop(), 0, s.output().slice(-2000));
    }
  });
});
