// Every topic a real producer writes is read (issue 24): Kafka's own Java producer, librdkafka (kcat)
// and our client, each with every codec (snappy in Java's xerial framing, zstd on every Node), a topic
// the broker recompresses, and Java transactions committed and aborted, interleaved from two
// producers with markers split across fetches: read_committed indexes exactly the committed records,
// read_uncommitted all of them. The member never leaves the group while doing it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTopic, produce, untilCommittedToEnd } from '../helpers/kafka.js';
import { CODECS, javaProduce, type JavaProducedValue, logBatches } from '../helpers/kafka-tools.js';
import { kcat, kcatProduce } from '../helpers/kcat.js';
import { allDocuments } from '../helpers/search.js';
import { startService } from '../helpers/service.js';
import { allBrokers, stack, uniqueName } from '../helpers/stack.js';

const engine = stack.engines[0]!;

/** Runs the service over `topic` until the group committed its end; returns the documents. */
async function indexTopic(topic: string, flags: string[] = []): Promise<Map<string, Record<string, unknown>>> {
  const groupId = uniqueName('producers-group');
  const service = startService({ K2E_BROKERS: allBrokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic }, flags);
  try {
    assert.ok(await untilCommittedToEnd(groupId, topic, 90_000), `not committed to the end:\n${service.output().slice(-3000)}`);
  } finally {
    assert.equal(await service.stop(), 0, service.output().slice(-3000));
  }
  assert.doesNotMatch(service.output(), /lost the Kafka consumer|"msg":"dead-lettered/, 'no rejoin, no dead letter');
  return allDocuments(engine.url, topic);
}

describe(`topics written by real producers, indexed into ${engine.name}`, () => {
  for (const codec of CODECS) {
    it(`Kafka's Java producer, ${codec}`, async () => {
      const topic = uniqueName(`java-${codec}`);
      await createTopic(topic, 2);
      const written = await javaProduce({ topic, count: 400, keys: 300, compression: codec, batchRecords: 50, valueBytes: 300 });
      assert.equal(written.committedCount, 400);
      const onDisk = await logBatches(topic, 0);
      assert.ok(onDisk.some((b) => b.codec === codec), `the log holds ${codec} batches (${[...new Set(onDisk.map((b) => b.codec))].join(', ')})`);
      const docs = await indexTopic(topic);
      assert.equal(docs.size, 300, 'one document per key');
      // Each key's document is its last record.
      const last = new Map<string, number>();
      for (const r of written.committed!) last.set(r.key, Math.max(last.get(r.key) ?? -1, r.seq));
      for (const [key, seq] of last) assert.equal((docs.get(key) as unknown as JavaProducedValue | undefined)?.seq, seq, key);
    });
  }

  for (const codec of CODECS) {
    it(`librdkafka (kcat), ${codec}`, { skip: kcat ? false : 'kcat is not installed (apt-get install kcat)' }, async () => {
      const topic = uniqueName(`kcat-${codec}`);
      await createTopic(topic, 2);
      const records = Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ i, text: `record ${i} grüße` }) }));
      await kcatProduce(topic, records, { compression: codec, config: { 'linger.ms': 20 } });
      const docs = await indexTopic(topic);
      assert.equal(docs.size, 300);
      assert.deepEqual(docs.get('k123'), { i: 123, text: 'record 123 grüße' });
    });
  }

  it('our own client, and a topic the broker recompresses (compression.type zstd)', async () => {
    const topic = uniqueName('recompressed');
    await createTopic(topic, 2, { config: { 'compression.type': 'zstd' } });
    await produce(topic, Array.from({ length: 500 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ i }) })));
    const onDisk = await logBatches(topic, 0);
    assert.ok(onDisk.length > 0 && onDisk.every((b) => b.codec === 'zstd'), 'the broker wrote zstd');
    const docs = await indexTopic(topic);
    assert.equal(docs.size, 500);
    assert.deepEqual(docs.get('k7'), { i: 7 });
  });
});

describe('transactions written by Kafka\'s Java producer', () => {
  it('read_committed indexes exactly the committed records; read_uncommitted all of them', async () => {
    const topic = uniqueName('java-txn');
    await createTopic(topic, 1);
    // Two transactional producers taking turns, every record its own key; small batches so that
    // markers and data of different transactions interleave and span several fetches.
    const written = await javaProduce({
      topic,
      transactions: 'commit:30,abort:20,abort:25,commit:40,abort:10,commit:15,abort:30,commit:20',
      producers: 2,
      batchRecords: 5,
      compression: 'lz4',
      partition: 0,
    });
    assert.equal(written.committedCount, 105);
    assert.equal(written.abortedCount, 85);
    const onDisk = await logBatches(topic, 0);
    assert.ok(onDisk.filter((b) => b.control).length >= 8, 'a marker per transaction');
    // Fetches of at most ~2 KiB: markers fall in other fetches than their transactions' data.
    const small = ['--kafka.maxBytesPerPartition=2048', '--kafka.maxBytes=4096', '--kafka.minBytes=1'];
    const committed = await indexTopic(topic, small);
    assert.deepEqual([...committed.keys()].sort(), written.committed!.map((r) => r.key).sort(), 'exactly the committed records');
    for (const doc of committed.values()) assert.equal((doc as unknown as JavaProducedValue).outcome, 'commit');

    const everyTopic = `${topic}-all`;
    const groupId = uniqueName('producers-group');
    const service = startService({ K2E_BROKERS: allBrokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: everyTopic }, [...small, '--kafka.isolationLevel=read_uncommitted']);
    try {
      assert.ok(await untilCommittedToEnd(groupId, topic, 90_000), service.output().slice(-3000));
    } finally {
      assert.equal(await service.stop(), 0, service.output().slice(-3000));
    }
    const all = await allDocuments(engine.url, everyTopic);
    assert.equal(all.size, 190, 'read_uncommitted: aborted records too');
  });
});
