// Scale out and in with the same group id: one instance, then three, then two. Kafka's group
// protocol moves partitions between them; no key may be lost, every final document must be the
// latest, and no partition may be worked by two instances at once (checked from their logs): once a
// rebalance starts, a partition's owner starts no bulk, so its last bulk started before the next
// owner's first. Its request already on the wire may still land after that (the client rejoins
// without waiting for it); external versions keep the newer write, which assertLatestPerKey checks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sequencedEvents } from '../helpers/events.js';
import { createTopic, produce, untilCommittedToEnd } from '../helpers/kafka.js';
import { assertLatestPerKey } from '../helpers/search.js';
import { FAST_GROUP_FLAGS, type RunningService, startService, waitFor } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

const engine = stack.engines[0]!;

interface Ownership {
  instance: number;
  partition: string;
  /** Its first bulk request for the partition. */
  startedAt: number;
  /** Its last one. */
  lastBulkAt: number;
  /** Its last request answered and its records released. */
  releasedAt: number;
}

/** When an instance started bulks for a partition, from its "partition released" lines. */
function ownershipFromLogs(instances: RunningService[]): Ownership[] {
  const result: Ownership[] = [];
  instances.forEach((service, instance) => {
    for (const line of service.output().split('\n')) {
      if (!line.includes('"msg":"partition released"')) continue;
      const entry = JSON.parse(line) as { partition: string; startedAt?: number; lastBulkAt?: number; releasedAt: number };
      if (entry.startedAt === undefined) continue;
      result.push({ instance, partition: entry.partition, startedAt: entry.startedAt, lastBulkAt: entry.lastBulkAt ?? entry.startedAt, releasedAt: entry.releasedAt });
    }
  });
  return result;
}

describe(`scale out and in on ${engine.name}`, () => {
  it('shares partitions among instances without losing a key or overlapping work', async () => {
    const topic = uniqueName('scale');
    const groupId = uniqueName('scale-group');
    await createTopic(topic, 6);
    const { messages, lastSeq } = sequencedEvents(30_000, 3_000);
    const env = { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic, K2E_BATCH_MAX_DOCS: '100', K2E_LOG_LEVEL: 'info' };
    const producing = (async () => {
      for (let i = 0; i < messages.length; i += 1000) {
        await produce(topic, messages.slice(i, i + 1000));
        await sleep(500);
      }
    })();

    const a = startService(env, FAST_GROUP_FLAGS);
    assert.ok(await waitFor(async () => ((await a.status())?.indexed ?? 0) > 2000, 60_000), a.output().slice(-2000));
    const b = startService(env, FAST_GROUP_FLAGS);
    const c = startService(env, FAST_GROUP_FLAGS);
    const sharedByThree = await waitFor(async () => {
      const statuses = await Promise.all([a, b, c].map((s) => s.status()));
      return statuses.every((s) => s?.assigned.length === 2);
    }, 60_000, 200);
    assert.ok(sharedByThree, 'three instances should own two partitions each');
    await sleep(2000);
    assert.equal(await b.stop(), 0, b.output().slice(-2000));
    const sharedByTwo = await waitFor(async () => {
      const statuses = await Promise.all([a, c].map((s) => s.status()));
      return statuses.every((s) => s?.assigned.length === 3);
    }, 60_000, 200);
    assert.ok(sharedByTwo, 'after one stops, the other two should own three partitions each');
    await producing;

    const caughtUp = await untilCommittedToEnd(groupId, topic, 120_000);
    const codes = await Promise.all([a.stop(), c.stop()]);
    assert.ok(caughtUp, a.output().slice(-1500) + c.output().slice(-1500));
    assert.deepEqual(codes, [0, 0]);

    await assertLatestPerKey(engine.url, topic, lastSeq);

    // Ownership intervals of the same partition in different instances must not overlap.
    const ownership = ownershipFromLogs([a, b, c]);
    assert.ok(ownership.length >= 6, `expected ownership records from the logs, got ${ownership.length}`);
    for (const x of ownership) {
      for (const y of ownership) {
        if (x.instance >= y.instance || x.partition !== y.partition) continue;
        const overlap = x.startedAt <= y.lastBulkAt && y.startedAt <= x.lastBulkAt;
        assert.ok(!overlap, `partition ${x.partition}: instances ${x.instance} and ${y.instance} both started bulks for it in the same period: ${JSON.stringify([x, y])}`);
      }
    }
    const idleLine = [a, b, c].some((s) => /this instance is idle/.test(s.output()));
    assert.equal(idleLine, false, 'with 6 partitions and at most 3 instances nobody is idle');
  });

  it('an instance beyond the partition count sits idle and says so', async () => {
    const topic = uniqueName('idle');
    const groupId = uniqueName('idle-group');
    await createTopic(topic, 1);
    const env = { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic };
    const first = startService(env, FAST_GROUP_FLAGS);
    assert.ok(await waitFor(async () => (await first.status())?.assigned.length === 1, 30_000));
    const second = startService(env, FAST_GROUP_FLAGS);
    try {
      assert.ok(await waitFor(async () => /this instance is idle/.test(second.output()) || /this instance is idle/.test(first.output()), 30_000), second.output());
      const statuses = await Promise.all([first.status(), second.status()]);
      assert.deepEqual(statuses.map((s) => s?.assigned.length).sort(), [0, 1]);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });
});
