// Partition and topic discovery against a scripted catalog (no Kafka).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Subscription, type TopicCatalog } from '../../src/source/subscription.js';
import { createLogger } from '../../src/util/logger.js';

const logger = createLogger(process.env.TEST_LOG ?? 'silent');

/** A cluster whose topics and counts the test changes between calls. */
function scriptedCatalog(counts: Record<string, number>) {
  const calls: string[] = [];
  let failing = false;
  const catalog: TopicCatalog = {
    listTopics: async () => {
      calls.push('list');
      if (failing) throw new Error('broker down');
      return Object.keys(counts);
    },
    partitionCounts: async (topics, fresh) => {
      calls.push(`counts ${topics.join(',')}${fresh ? ' fresh' : ''}`);
      if (failing) throw new Error('broker down');
      return new Map(topics.map((t) => [t, counts[t] ?? 0]));
    },
  };
  return { catalog, calls, counts, fail: (on: boolean) => (failing = on) };
}

describe('Subscription', () => {
  it('partitions added to a subscribed topic: rejoin once, then quiet until it grows again', async () => {
    const cluster = scriptedCatalog({ a: 2, other: 5 });
    const subscription = new Subscription(cluster.catalog, { topics: ['a'], logger });
    await subscription.start();
    assert.deepEqual(Object.fromEntries(subscription.knownCounts), { a: 2 });
    assert.equal(await subscription.discover(), undefined);
    cluster.counts.a = 4;
    assert.equal(await subscription.discover(), 'partitions added');
    assert.deepEqual(Object.fromEntries(subscription.knownCounts), { a: 4 });
    assert.equal(await subscription.discover(), undefined);
    assert.ok(!cluster.calls.includes('list'), 'no topic listing without a pattern');
    assert.deepEqual(cluster.calls.slice(-1), ['counts a fresh']);
  });

  it('a pattern: matching topics at the start, new ones later (not dead-letter topics), prepared before the rejoin', async () => {
    const cluster = scriptedCatalog({ 'orders-eu': 1, 'orders-eu.dlq': 1, users: 1 });
    const prepared: string[][] = [];
    const subscription = new Subscription(cluster.catalog, { topics: [], topicPattern: 'orders-.*', onTopicsAdded: async (t) => void prepared.push(t), logger });
    await subscription.start();
    assert.deepEqual(subscription.topics, ['orders-eu']);
    assert.equal(subscription.addedLater.size, 0, 'topics matched at the start are not "added later"');
    cluster.counts['orders-us'] = 3;
    cluster.counts['orders-us.dlq'] = 1;
    assert.equal(await subscription.discover(), 'partitions added', 'the new topic brings partitions');
    assert.deepEqual(subscription.topics, ['orders-eu', 'orders-us']);
    assert.deepEqual([...subscription.addedLater], ['orders-us']);
    assert.deepEqual(prepared, [['orders-us']]);
  });

  it('a failing broker: no rejoin, nothing forgotten; a newly matched topic still rejoins when the counts fail', async () => {
    const cluster = scriptedCatalog({ a: 1 });
    const subscription = new Subscription(cluster.catalog, { topics: ['a'], logger });
    await subscription.start();
    cluster.counts.a = 2;
    cluster.fail(true);
    assert.equal(await subscription.discover(), undefined);
    cluster.fail(false);
    assert.equal(await subscription.discover(), 'partitions added');

    const patterned = scriptedCatalog({ t1: 1 });
    const s2 = new Subscription({ ...patterned.catalog, partitionCounts: async () => { throw new Error('metadata timeout'); } }, { topics: [], topicPattern: 't.*', logger });
    await s2.start();
    patterned.counts.t2 = 1;
    assert.equal(await s2.discover(), 'topics added');
    assert.deepEqual(s2.topics, ['t1', 't2']);
  });

  it('stops early when the member is closing', async () => {
    const cluster = scriptedCatalog({ a: 1 });
    const subscription = new Subscription(cluster.catalog, { topics: ['a'], logger });
    await subscription.start();
    cluster.counts.a = 3;
    assert.equal(await subscription.discover(() => true), undefined);
  });
});
