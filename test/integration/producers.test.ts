// The producer tooling the compression and transaction tests of issue 24 build on, checked on its own
// (not the service): Kafka's Java producer with every codec and with interleaved transactions, kcat
// (librdkafka) with every codec, a topic whose broker recompresses, and Kafka's admin tools. What
// reached the log is checked on disk (kafka-dump-log) and read back by kcat, an independent reader,
// and by our test client where it can decode it.
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { describe, it } from 'node:test';
import { createTopic, produce, readTopic } from '../helpers/kafka.js';
import { alterTopicPartitions, CODECS, type Codec, describeTopic, electLeaders, javaProduce, type JavaProducedValue, logBatches, reassign, rotateLeaders } from '../helpers/kafka-tools.js';
import { kcat, kcatConsume, kcatProduce } from '../helpers/kcat.js';
import { waitFor } from '../helpers/service.js';
import { brokerList, uniqueName } from '../helpers/stack.js';
import { skipUnless } from '../helpers/tools.js';

/**
 * What @platformatic/kafka 1.35 (readTopic) decodes: not the xerial-framed snappy Java writes
 * (librdkafka's plain snappy it does), zstd only where Node has zlib.zstdDecompressSync (22.15+).
 */
function ourClientReads(writer: 'java' | 'kcat', codec: Codec): boolean {
  if (codec === 'zstd') return typeof (zlib as { zstdDecompressSync?: unknown }).zstdDecompressSync === 'function';
  return !(codec === 'snappy' && writer === 'java');
}

const dataBatches = (batches: Awaited<ReturnType<typeof logBatches>>) => batches.filter((b) => !b.control);

describe("Kafka's Java producer", () => {
  for (const codec of CODECS) {
    it(`writes keyed JSON with ${codec}`, async () => {
      const topic = uniqueName(`java-${codec}`);
      await createTopic(topic, 2);
      const summary = await javaProduce({ topic, count: 300, keys: 100, compression: codec, batchRecords: 50, valueBytes: 200 });
      assert.equal(summary.committedCount, 300);
      assert.equal(summary.abortedCount, 0);
      assert.equal(summary.committed!.length, 300);
      assert.equal(new Set(summary.committed!.map((r) => `${r.partition}:${r.offset}`)).size, 300, 'one offset per record');
      for (const partition of [0, 1]) {
        const batches = dataBatches(await logBatches(topic, partition));
        assert.ok(batches.length > 0);
        for (const batch of batches) {
          assert.equal(batch.codec, codec, `partition ${partition} batch at ${batch.baseOffset}`);
          assert.ok(batch.count <= 50, 'a flush every 50 records ends a batch');
        }
      }
      const read = await kcatConsume(topic);
      assert.equal(read.length, 300);
      const byPosition = new Map(read.map((r) => [`${r.partition}:${r.offset}`, r]));
      for (const sent of summary.committed!) {
        const got = byPosition.get(`${sent.partition}:${sent.offset}`);
        assert.equal(got?.key, sent.key);
        const value = JSON.parse(got.value!) as JavaProducedValue;
        assert.deepEqual([value.key, value.seq, value.txn, value.outcome, got.value!.length], [sent.key, sent.seq, null, null, 200]);
      }
      if (ourClientReads('java', codec)) {
        const ours = await readTopic(topic, 300);
        assert.deepEqual(ours.map((r) => r.value).sort(), read.map((r) => r.value).sort());
      }
    });
  }

  it('commits and aborts interleaved transactions of two producers, markers between batches', async () => {
    const topic = uniqueName('java-txn');
    await createTopic(topic, 1);
    const transactions = 'commit:10,abort:10,commit:10,abort:4,abort:4,commit:6';
    const summary = await javaProduce({ topic, transactions, producers: 2, batchRecords: 3, keys: 20, compression: 'lz4' });
    assert.equal(summary.committedCount, 26);
    assert.equal(summary.abortedCount, 18);
    assert.deepEqual(
      summary.transactions.map((t) => `${t.outcome}:${t.records}`),
      transactions.split(','),
    );

    // On disk: batches of at most 3 records from two producers, one marker per transaction. The
    // coordinator writes markers after commitTransaction/abortTransaction returned: wait for them.
    let batches = await logBatches(topic);
    await waitFor(async () => (batches = await logBatches(topic)).filter((b) => b.control).length >= 6, 20_000);
    const markers = batches.filter((b) => b.control);
    assert.equal(markers.length, 6);
    const data = dataBatches(batches);
    assert.ok(data.every((b) => b.transactional && b.count <= 3 && b.codec === 'lz4'));
    assert.equal(new Set(data.map((b) => b.producerId)).size, 2);
    // Interleaved: some transaction ended inside the other producer's open one (that producer's
    // nearest batches on both sides of the marker are data, not its own marker). Where the
    // coordinator puts a marker relative to the other producer's next batch is its timing, so this
    // asks for the open transaction around it, not for a particular neighbour.
    assert.ok(
      markers.some((m) => {
        const other = batches.filter((b) => b.producerId !== m.producerId);
        const before = other.filter((b) => b.lastOffset < m.baseOffset).pop();
        const after = other.find((b) => b.baseOffset > m.baseOffset);
        return before !== undefined && after !== undefined && !before.control && !after.control;
      }),
      'a transaction ended while the other producer had one open',
    );

    const offsets = (records: { offset: number }[]): number[] => records.map((r) => r.offset).sort((a, b) => a - b);
    const committed = await kcatConsume(topic, { isolation: 'read_committed' });
    assert.deepEqual(offsets(committed), offsets(summary.committed!));
    assert.ok(committed.every((r) => (JSON.parse(r.value!) as JavaProducedValue).outcome === 'commit'));
    const all = await kcatConsume(topic, { isolation: 'read_uncommitted' });
    assert.deepEqual(offsets(all), offsets([...summary.committed!, ...summary.aborted!]));
  });
});

describe('kcat (librdkafka)', { skip: skipUnless(kcat, 'apt-get install kcat') }, () => {
  for (const codec of CODECS) {
    it(`writes keyed records with -z ${codec}`, async () => {
      const topic = uniqueName(`kcat-${codec}`);
      await createTopic(topic, 2);
      const records = Array.from({ length: 300 }, (_, i) => ({ key: `k-${i % 100}`, value: JSON.stringify({ i, text: `grüße ${'x'.repeat(i % 40)}` }) }));
      await kcatProduce(topic, records, { compression: codec, config: { 'linger.ms': 20 } });
      const batches = [...dataBatches(await logBatches(topic, 0)), ...dataBatches(await logBatches(topic, 1))];
      assert.ok(batches.length > 0 && batches.every((b) => b.codec === codec), JSON.stringify(batches.map((b) => b.codec)));
      const read = await kcatConsume(topic);
      assert.deepEqual(read.map((r) => `${r.key} ${r.value}`).sort(), records.map((r) => `${r.key} ${r.value}`).sort());
      if (ourClientReads('kcat', codec)) {
        const ours = await readTopic(topic, 300);
        assert.deepEqual(ours.map((r) => `${r.key} ${r.value}`).sort(), records.map((r) => `${r.key} ${r.value}`).sort());
      }
    });
  }
});

describe('a topic with compression.type', { skip: skipUnless(kcat, 'apt-get install kcat') }, () => {
  it('stores what it is sent recompressed with its own codec', async () => {
    const topic = uniqueName('broker-zstd');
    await createTopic(topic, 1, { config: { 'compression.type': 'zstd' } });
    const records = Array.from({ length: 100 }, (_, i) => ({ key: `k-${i}`, value: JSON.stringify({ i }) }));
    await produce(topic, records.slice(0, 50)); // our client, uncompressed
    await kcatProduce(topic, records.slice(50), { compression: 'gzip' });
    const batches = dataBatches(await logBatches(topic));
    assert.ok(batches.length >= 2 && batches.every((b) => b.codec === 'zstd'), JSON.stringify(batches.map((b) => b.codec)));
    const read = await kcatConsume(topic);
    assert.deepEqual(
      read.map((r) => `${r.key} ${r.value}`),
      records.map((r) => `${r.key} ${r.value}`),
    );
  });
});

describe("Kafka's admin tools", () => {
  it('describe, preferred election, reassignment and more partitions', async () => {
    const topic = uniqueName('tools');
    await createTopic(topic, 2);
    const before = await describeTopic(topic);
    assert.equal(before.length, 2);
    for (const p of before) {
      assert.equal(p.replicas.length, Math.min(brokerList.length, 3));
      assert.ok(p.replicas.includes(p.leader));
    }
    await electLeaders(topic);
    assert.deepEqual(
      (await describeTopic(topic)).map((p) => p.leader),
      before.map((p) => p.replicas[0]),
      'each leader is its preferred replica',
    );
    if (brokerList.length >= 3) {
      // A controlled move of every leader: the next replica becomes preferred and leads.
      const after = await rotateLeaders(topic);
      for (const [i, p] of after.entries()) {
        assert.equal(p.leader, before[i]!.replicas[1]);
        assert.notEqual(p.leader, before[i]!.leader);
      }
    } else {
      await reassign(topic, { 0: before[0]!.replicas });
    }
    await alterTopicPartitions(topic, 3);
    assert.equal((await describeTopic(topic)).length, 3);
  });
});
