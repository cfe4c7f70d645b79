import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Reader, ResponseError, Writer } from '@platformatic/kafka';
import { FetchResponseFormatError } from '../../src/source/wire/errors.js';
import { MAX_FETCH_VERSION, MIN_FETCH_VERSION, parseFetchResponse } from '../../src/source/wire/fetch-api.js';
import { parseRecordBatches } from '../../src/source/wire/record-batch-parser.js';
import { writeBatch } from '../helpers/wire-batches.js';

const TOPIC_ID = '0123456789abcdef0123456789abcdef';
const records = Buffer.concat([
  writeBatch([{ key: Buffer.from('a'), value: Buffer.from('1'), headers: [], timestamp: 5n }], { baseOffset: 40n, compression: 'lz4' }),
  writeBatch([{ key: Buffer.from('b'), value: Buffer.from('2'), headers: [], timestamp: 6n }], { baseOffset: 41n }),
]);

interface PartitionSpec {
  partition: number;
  errorCode?: number;
  aborted?: [bigint, bigint][] | null;
  records?: Buffer | null;
  /** [tag, bytes] in the partition's tagged fields. */
  tags?: [number, Buffer][];
}

/** A tagged-field section: count, then per field its tag, size and bytes. */
function tagged(w: Writer, fields: [number, Buffer][]): void {
  w.appendUnsignedVarInt(fields.length);
  for (const [tag, bytes] of fields) w.appendUnsignedVarInt(tag).appendUnsignedVarInt(bytes.length).append(bytes);
}

const struct = (fill: (w: Writer) => void): Buffer => {
  const w = Writer.create();
  fill(w);
  return w.buffer;
};
const leader = (id: number, epoch: number) => struct((w) => w.appendInt32(id).appendInt32(epoch).appendTaggedFields());
const diverging = (epoch: number, endOffset: bigint) => struct((w) => w.appendInt32(epoch).appendInt64(endOffset).appendTaggedFields());

/** A Fetch response body as a broker writes it (FetchResponse.json, flexible versions). */
function response(version: number, partitions: PartitionSpec[], opts: { errorCode?: number; responseTags?: [number, Buffer][] } = {}): Writer {
  const w = Writer.create().appendInt32(3).appendInt16(opts.errorCode ?? 0).appendInt32(0);
  w.appendArray(
    [0],
    (w) => {
      if (version >= 13) w.appendUUID(TOPIC_ID);
      else w.appendString('orders');
      w.appendArray(
        partitions,
        (w, p) => {
          w.appendInt32(p.partition).appendInt16(p.errorCode ?? 0).appendInt64(100n).appendInt64(90n).appendInt64(7n);
          const aborted = p.aborted === undefined ? [] : p.aborted;
          w.appendArray(aborted, (w, [producerId, firstOffset]) => w.appendInt64(producerId).appendInt64(firstOffset));
          w.appendInt32(-1);
          const bytes = p.records === undefined ? records : p.records;
          if (bytes === null) w.appendUnsignedVarInt(0);
          // No empty chunk: the client's DynamicBuffer misreads at one (sockets never deliver one).
          else if (bytes.length === 0) w.appendUnsignedVarInt(1);
          else w.appendUnsignedVarInt(bytes.length + 1).append(bytes);
          tagged(w, p.tags ?? []);
        },
        true,
        false,
      );
    },
    true,
    true,
  );
  tagged(w, opts.responseTags ?? []);
  return w;
}

const nodeEndpoints = struct((w) =>
  w.appendArray(
    [
      [2, 'broker-2', 9092, 'rack-a'],
      [3, 'broker-3', 9093, null],
    ] as [number, string, number, string | null][],
    (w, [id, host, port, rack]) => w.appendInt32(id).appendString(host).appendInt32(port).appendString(rack),
  ),
);

describe('parseFetchResponse', () => {
  for (let version = MIN_FETCH_VERSION; version <= MAX_FETCH_VERSION; version++) {
    it(`v${version}: topics, partitions, offsets, aborted transactions, raw records, tagged fields`, () => {
      const w = response(
        version,
        [
          { partition: 0, aborted: [[11n, 40n]], tags: [[1, leader(5, 12)]] },
          { partition: 1, errorCode: 6, records: Buffer.alloc(0), aborted: null, tags: [[0, diverging(3, 77n)], [1, leader(2, 13)], [2, Buffer.from('snapshot')], [9, Buffer.from('future')]] },
          { partition: 2, records: null },
        ],
        { responseTags: [[0, nodeEndpoints], [5, Buffer.from('unknown')]] },
      );
      // The client’s Reader over one buffer (records are a view) and over the writer's many small ones (a copy).
      for (const reader of [Reader.from(w.buffer), Reader.from(w)]) {
        const res = parseFetchResponse(reader, version);
        assert.equal(res.version, version);
        assert.equal(res.throttleTimeMs, 3);
        assert.equal(res.errorCode, 0);
        assert.equal(res.sessionId, 0);
        assert.equal(res.topics.length, 1);
        const topic = res.topics[0]!;
        assert.equal(topic.topic, version >= 13 ? null : 'orders');
        assert.equal(topic.topicId, version >= 13 ? '01234567-89ab-cdef-0123-456789abcdef' : null);
        const [p0, p1, p2] = topic.partitions;
        assert.deepEqual(
          { ...p0!, records: undefined },
          {
            partition: 0,
            errorCode: 0,
            highWatermark: 100n,
            lastStableOffset: 90n,
            logStartOffset: 7n,
            abortedTransactions: [{ producerId: 11n, firstOffset: 40n }],
            preferredReadReplica: -1,
            records: undefined,
            currentLeader: { leaderId: 5, leaderEpoch: 12 },
            divergingEpoch: null,
          },
        );
        assert.deepEqual(p0!.records, records);
        assert.deepEqual(parseRecordBatches(p0!.records!).batches.map((b) => b.baseOffset), [40n, 41n]);
        // A partition's error is its own: the response as a whole does not fail.
        assert.equal(p1!.errorCode, 6);
        assert.equal(p1!.abortedTransactions, null);
        assert.equal(p1!.records!.length, 0);
        assert.deepEqual(p1!.currentLeader, { leaderId: 2, leaderEpoch: 13 });
        assert.deepEqual(p1!.divergingEpoch, { epoch: 3, endOffset: 77n });
        assert.equal(p2!.records, null);
        assert.deepEqual(res.nodeEndpoints, version >= 16 ? [{ nodeId: 2, host: 'broker-2', port: 9092, rack: 'rack-a' }, { nodeId: 3, host: 'broker-3', port: 9093, rack: null }] : []);
        assert.equal(reader.remaining, 0);
      }
    });
  }

  it('a top-level error code fails the call with the client’s ResponseError', () => {
    const w = response(17, [{ partition: 0 }], { errorCode: 70 });
    assert.throws(
      () => parseFetchResponse(Reader.from(w.buffer), 17),
      (e: unknown) => e instanceof ResponseError && (e as ResponseError & { findBy(k: string, v: unknown): unknown }).findBy('apiId', 'FETCH_SESSION_ID_NOT_FOUND') !== undefined,
    );
  });

  it('a truncated or mangled response is a FetchResponseFormatError', () => {
    const bytes = response(17, [{ partition: 0 }, { partition: 1 }]).buffer;
    for (const cut of [0, 3, 12, 30, bytes.length - records.length, bytes.length - 1]) {
      assert.throws(() => parseFetchResponse(Reader.from(bytes.subarray(0, cut)), 17), FetchResponseFormatError, `cut at ${cut}`);
    }
    const huge = Buffer.from(bytes);
    huge[10] = 0x7f; // the topics array length: 126 topics in a few bytes
    assert.throws(() => parseFetchResponse(Reader.from(huge), 17), FetchResponseFormatError);
  });
});
