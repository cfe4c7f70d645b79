// Our Fetch (fetchRaw) and record-batch parser against the real broker, on batches written by every
// producer we meet in practice: our client, librdkafka (kcat) and Kafka's own Java producer (snappy in
// the xerial framing, zstd-jni), each with every codec, plus a topic the broker recompresses, and a
// Java transactional producer whose aborted transactions read_committed must drop (with the markers
// split across fetches). Keys, values, headers and offsets are compared with what each producer wrote.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { type Connection, ConnectionPool, Consumer, Producer } from '@platformatic/kafka';
import { findJava } from '../../scripts/stack/java.js';
import { readLayout, repoRoot } from '../../scripts/stack/layout.js';
import { fetchRaw, IsolationLevel, MAX_FETCH_VERSION, MIN_FETCH_VERSION, negotiatedFetchVersion } from '../../src/source/wire/fetch-api.js';
import { parseRecordBatches } from '../../src/source/wire/record-batch-parser.js';
import { isXerialFramed } from '../../src/source/wire/snappy.js';
import { abortedBatches } from '../../src/source/wire/transactions.js';
import { withAdmin } from '../helpers/kafka.js';
import { brokers, uniqueName } from '../helpers/stack.js';
import { which } from '../helpers/tools.js';
import { wireRecord } from '../helpers/wire-batches.js';

const COUNT = 300;
const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
const CODEC_ID = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
type CodecName = (typeof CODECS)[number];

interface ReadRecord {
  offset: bigint;
  key: string | null;
  value: string | null;
  headers: [string, string | null][];
}

interface ReadResult {
  records: ReadRecord[];
  codecs: Set<number>;
  /** Compressed snappy batches whose payload was in the xerial framing. */
  xerialBatches: number;
  snappyBatches: number;
  controlBatches: number;
  abortedBatches: number;
  fetches: number;
  /** Fetch responses that listed aborted transactions. */
  withAbortedList: number;
}

let consumer: Consumer;
let pool: ConnectionPool;
let version: number;

async function topicId(topic: string): Promise<{ id: string; connection: Connection }> {
  const metadata = await consumer.metadata({ topics: [topic], forceUpdate: true });
  const t = metadata.topics.get(topic)!;
  const connection = await pool.get(metadata.brokers.get(t.partitions[0]!.leader)!);
  return { id: t.id, connection };
}

/** Reads partition 0 of `topic` from offset 0 to its end with fetchRaw + parseRecordBatches. */
async function readAll(topic: string, options: { isolation?: 0 | 1; partitionMaxBytes?: number; fetchVersion?: number } = {}): Promise<ReadResult> {
  const isolation = options.isolation ?? IsolationLevel.READ_UNCOMMITTED;
  const partitionMaxBytes = options.partitionMaxBytes ?? 1 << 20;
  const { id, connection } = await topicId(topic);
  const result: ReadResult = { records: [], codecs: new Set(), xerialBatches: 0, snappyBatches: 0, controlBatches: 0, abortedBatches: 0, fetches: 0, withAbortedList: 0 };
  let offset = 0n;
  for (;;) {
    const response = await fetchRaw(connection, options.fetchVersion ?? version, {
      maxWaitMs: 100,
      minBytes: 1,
      maxBytes: partitionMaxBytes,
      isolationLevel: isolation,
      topics: [{ topic, topicId: id, partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes }] }],
    });
    result.fetches++;
    assert.equal(response.sessionId, 0, 'a sessionless fetch');
    const p = response.topics[0]!.partitions[0]!;
    assert.equal(p.errorCode, 0);
    const end = isolation === IsolationLevel.READ_COMMITTED ? p.lastStableOffset : p.highWatermark;
    if (offset >= end) return result;
    const bytes = p.records ?? Buffer.alloc(0);
    const { batches } = parseRecordBatches(bytes, { verifyCrc: true });
    assert.ok(batches.length > 0, `a fetch at ${offset} below ${end} returned no complete batch`);
    if (p.abortedTransactions && p.abortedTransactions.length > 0) result.withAbortedList++;
    const aborted = isolation === IsolationLevel.READ_COMMITTED ? abortedBatches(batches, p.abortedTransactions) : batches.map(() => false);
    let at = 0;
    batches.forEach((batch, n) => {
      result.codecs.add(batch.compression);
      if (batch.compression === 2) {
        result.snappyBatches++;
        if (isXerialFramed(bytes.subarray(at + 61, at + batch.sizeInBytes))) result.xerialBatches++;
      }
      at += batch.sizeInBytes;
      if (batch.isControl) return void result.controlBatches++;
      if (aborted[n]) return void result.abortedBatches++;
      for (let i = batch.indexOf(offset); i < batch.count; i++) {
        result.records.push({
          offset: batch.recordOffset(i),
          key: batch.key(i)?.toString() ?? null,
          value: batch.value(i)?.toString() ?? null,
          headers: [...batch.headers(i)].map(([k, v]) => [k, v?.toString() ?? null]),
        });
      }
    });
    offset = batches.at(-1)!.nextOffset;
  }
}

/** What record i of a WireProduce-shaped topic reads back as (a repeated header key keeps its last value). */
function expectedWire(i: number, codec: string, offset = BigInt(i)): ReadRecord {
  const r = wireRecord(i, codec);
  return { offset, key: r.key, value: r.value, headers: [...new Map(r.headers)] };
}

async function createTopics(topics: string[], configs: { name: string; value: string }[] = []): Promise<void> {
  await withAdmin((admin) => admin.createTopics({ topics, partitions: 1, replicas: 1, configs }));
}

/** Produces the WireProduce records with our client (the same shape as the Java program's). */
async function produceWithClient(topic: string, codec: CodecName | 'none'): Promise<void> {
  const producer = new Producer({ clientId: 'k2e-test-wire', bootstrapBrokers: [brokers], compression: codec, idempotent: true });
  try {
    for (let from = 0; from < COUNT; from += 100) {
      await producer.send({
        messages: Array.from({ length: 100 }, (_, k) => {
          const r = wireRecord(from + k, codec);
          const headers = new Map<Buffer, Buffer>(r.headers.map(([name, value]) => [Buffer.from(name), (value === null ? null : Buffer.from(value)) as Buffer]));
          return { topic, partition: 0, key: (r.key === null ? undefined : Buffer.from(r.key)) as Buffer, value: (r.value === null ? null : Buffer.from(r.value)) as Buffer, headers };
        }),
      });
    }
  } finally {
    await producer.close();
  }
}

const kcat = which('kcat') ?? which('kafkacat');
const java = (() => {
  try {
    return findJava(17);
  } catch {
    return undefined;
  }
})();
const kafkaLib = path.join(readLayout().home, 'kafka', 'lib');

before(async () => {
  consumer = new Consumer({ clientId: 'k2e-test-wire', groupId: uniqueName('wire'), bootstrapBrokers: [brokers] });
  pool = new ConnectionPool('k2e-test-wire', {});
  version = await negotiatedFetchVersion(consumer);
});

after(async () => {
  await pool.close();
  await consumer.close();
});

describe('fetchRaw + parseRecordBatches against the broker', () => {
  const ourCodecs = CODECS.filter((c) => c !== 'zstd' || typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function');

  it(`reads what our client wrote, with ${ourCodecs.join(', ')}`, async () => {
    const topics = ourCodecs.map((codec) => [uniqueName(`wire-ours-${codec}`), codec] as const);
    await createTopics(topics.map(([t]) => t));
    for (const [topic, codec] of topics) await produceWithClient(topic, codec);
    for (const [topic, codec] of topics) {
      const read = await readAll(topic);
      assert.deepEqual([...read.codecs], [CODEC_ID[codec]], codec);
      assert.equal(read.xerialBatches, 0);
      assert.deepEqual(read.records, Array.from({ length: COUNT }, (_, i) => expectedWire(i, codec)), codec);
    }
  });

  it('reads what the broker recompressed (topic compression.type=snappy: snappy-java, xerial-framed)', async () => {
    const topic = uniqueName('wire-broker-snappy');
    await createTopics([topic], [{ name: 'compression.type', value: 'snappy' }]);
    await produceWithClient(topic, 'none');
    const read = await readAll(topic);
    assert.deepEqual([...read.codecs], [2]);
    assert.equal(read.xerialBatches, read.snappyBatches);
    assert.deepEqual(read.records, Array.from({ length: COUNT }, (_, i) => expectedWire(i, 'none')));
  });

  it('reads what librdkafka (kcat) wrote, with every codec', { skip: kcat ? false : 'kcat is not installed (apt-get install kcat)' }, async () => {
    const topics = CODECS.map((codec) => [uniqueName(`wire-kcat-${codec}`), codec] as const);
    await createTopics(topics.map(([t]) => t));
    const value = (i: number, codec: string) => `{"i":${i},"codec":"${codec}","src":"kcat","pad":"${'y'.repeat(i % 50)}"}`;
    for (const [topic, codec] of topics) {
      const input = Array.from({ length: COUNT }, (_, i) => `k${i}\t${value(i, codec)}\n`).join('');
      const run = spawnSync(kcat!, ['-P', '-b', brokers, '-t', topic, '-p', '0', '-z', codec, '-K', '\t', '-H', 'src=kcat', '-H', 'dup=a', '-H', 'dup=b', '-X', 'linger.ms=20'], {
        input,
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(run.status, 0, `kcat ${codec}: ${run.stderr}`);
    }
    for (const [topic, codec] of topics) {
      const read = await readAll(topic);
      assert.deepEqual([...read.codecs], [CODEC_ID[codec]], codec);
      if (codec === 'snappy') assert.equal(read.xerialBatches, 0, 'librdkafka writes raw snappy blocks');
      assert.deepEqual(
        read.records,
        Array.from({ length: COUNT }, (_, i) => ({ offset: BigInt(i), key: `k${i}`, value: value(i, codec), headers: [['src', 'kcat'], ['dup', 'b']] })),
        codec,
      );
    }
  });

  describe("Kafka's Java producer", { skip: java ? false : 'no Java 17+ for test/fixtures/java/WireProduce.java' }, () => {
    const topics = CODECS.map((codec) => [uniqueName(`wire-java-${codec}`), codec] as const);
    const txnTopic = uniqueName('wire-java-txn');

    before(async () => {
      await createTopics([...topics.map(([t]) => t), txnTopic]);
      const specs = [...topics.map(([t, c]) => `${t}=${c}`), `${txnTopic}=snappy+txn`];
      const run = spawnSync(java!, ['-cp', `${kafkaLib}/*`, path.join(repoRoot, 'test', 'fixtures', 'java', 'WireProduce.java'), brokers, String(COUNT), ...specs], {
        encoding: 'utf8',
        timeout: 240_000,
      });
      assert.equal(run.status, 0, `WireProduce: ${run.stdout}\n${run.stderr}`);
    });

    it('every codec, snappy in the xerial framing', async () => {
      for (const [topic, codec] of topics) {
        const read = await readAll(topic);
        assert.deepEqual([...read.codecs], [CODEC_ID[codec]], codec);
        if (codec === 'snappy') {
          assert.ok(read.snappyBatches > 0);
          assert.equal(read.xerialBatches, read.snappyBatches, 'the Java producer frames snappy (snappy-java)');
        }
        assert.deepEqual(read.records, Array.from({ length: COUNT }, (_, i) => expectedWire(i, codec)), codec);
      }
    });

    it('read_committed drops exactly the aborted transactions, also with the markers split across fetches', async () => {
      // Each transaction of 10 records is followed by its marker: offsets advance by 11 per transaction.
      const committed: ReadRecord[] = [];
      const all: ReadRecord[] = [];
      for (let i = 0; i < COUNT; i++) {
        const offset = BigInt(i + Math.floor(i / 10));
        all.push(expectedWire(i, 'snappy', offset));
        if (Math.floor(i / 10) % 3 !== 2) committed.push(expectedWire(i, 'snappy', offset));
      }
      const uncommitted = await readAll(txnTopic);
      assert.deepEqual(uncommitted.records, all, 'read_uncommitted: every record');
      assert.equal(uncommitted.controlBatches, COUNT / 10);
      for (const partitionMaxBytes of [1 << 20, 600]) {
        const read = await readAll(txnTopic, { isolation: IsolationLevel.READ_COMMITTED, partitionMaxBytes });
        assert.deepEqual(read.records, committed, `read_committed, ${partitionMaxBytes} bytes a fetch`);
        assert.ok(read.abortedBatches >= COUNT / 30, `${read.abortedBatches} aborted batches skipped`);
        assert.ok(read.withAbortedList > 0);
        if (partitionMaxBytes === 600) assert.ok(read.fetches > COUNT / 10, `${read.fetches} fetches`);
      }
    });
  });

  it(`every Fetch version ${MIN_FETCH_VERSION}-${MAX_FETCH_VERSION} reads the same records; the negotiated one is among them`, async () => {
    const topic = uniqueName('wire-versions');
    await createTopics([topic]);
    await produceWithClient(topic, 'lz4');
    assert.ok(version >= MIN_FETCH_VERSION && version <= MAX_FETCH_VERSION, `negotiated v${version}`);
    const reference = (await readAll(topic)).records;
    assert.equal(reference.length, COUNT);
    for (let v = MIN_FETCH_VERSION; v <= MAX_FETCH_VERSION; v++) assert.deepEqual((await readAll(topic, { fetchVersion: v })).records, reference, `v${v}`);
  });

  it('a partition error comes back with its partition; the other partitions of the response still have their records', async () => {
    const good = uniqueName('wire-good');
    const other = uniqueName('wire-other');
    await createTopics([good, other]);
    await produceWithClient(good, 'gzip');
    const a = await topicId(good);
    const b = await topicId(other);
    const response = await fetchRaw(a.connection, version, {
      maxWaitMs: 100,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: IsolationLevel.READ_UNCOMMITTED,
      topics: [
        { topic: other, topicId: b.id, partitions: [{ partition: 0, fetchOffset: 12_345n, partitionMaxBytes: 1 << 20 }, { partition: 7, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] },
        { topic: good, topicId: a.id, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] },
      ],
    });
    // The broker may list a topic more than once (here: its errored partitions in their own entry).
    const partition = (topic: string, id: string, index: number) =>
      response.topics.filter((t) => (version >= 13 ? t.topicId === id : t.topic === topic)).flatMap((t) => t.partitions).find((p) => p.partition === index);
    assert.equal(partition(other, b.id, 0)!.errorCode, 1, 'OFFSET_OUT_OF_RANGE');
    assert.equal(partition(other, b.id, 7)!.errorCode, 3, 'UNKNOWN_TOPIC_OR_PARTITION');
    const ok = partition(good, a.id, 0);
    assert.equal(ok!.errorCode, 0);
    assert.equal(ok!.highWatermark, BigInt(COUNT));
    assert.equal(parseRecordBatches(ok!.records!).batches.reduce((n, batch) => n + batch.count, 0), COUNT);
  });
});
