import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRecordsBatch, type KafkaRecord, Reader, readRecordsBatches, type RecordsBatch } from '@platformatic/kafka';
import { emitBatchRecords } from '../../src/source/record-batches.js';
import type { SourceRecord } from '../../src/source/record.js';

const record = (offsetDelta: number, value: string, extra: Partial<KafkaRecord> = {}): KafkaRecord => ({
  length: 0,
  attributes: 0,
  timestampDelta: BigInt(offsetDelta * 10),
  offsetDelta,
  key: Buffer.from(`k${offsetDelta}`),
  value: Buffer.from(value),
  headers: [],
  ...extra,
});

const batch = (firstOffset: bigint, records: KafkaRecord[], attributes = 0, lastOffsetDelta = records.at(-1)?.offsetDelta ?? 0): RecordsBatch => ({
  firstOffset,
  length: 0,
  partitionLeaderEpoch: 0,
  magic: 2,
  crc: 0,
  attributes,
  lastOffsetDelta,
  firstTimestamp: 1_700_000_000_000n,
  maxTimestamp: 1_700_000_000_000n,
  producerId: -1n,
  producerEpoch: -1,
  firstSequence: -1,
  records,
});

function collect(batches: RecordsBatch[], from: bigint): { records: SourceRecord[]; next: bigint | undefined } {
  const records: SourceRecord[] = [];
  const next = emitBatchRecords('orders', 3, batches, from, (r) => records.push(r));
  return { records, next };
}

describe('emitBatchRecords', () => {
  it('hands over every record with its offset and timestamp; the next position follows the last batch', () => {
    const { records, next } = collect([batch(10n, [record(0, 'a'), record(1, 'b')]), batch(12n, [record(0, 'c')])], 10n);
    assert.deepEqual(
      records.map((r) => [r.topic, r.partition, r.offset, r.timestamp, r.key?.toString(), r.value?.toString()]),
      [
        ['orders', 3, 10n, 1_700_000_000_000n, 'k0', 'a'],
        ['orders', 3, 11n, 1_700_000_000_010n, 'k1', 'b'],
        ['orders', 3, 12n, 1_700_000_000_000n, 'k0', 'c'],
      ],
    );
    assert.equal(next, 13n);
  });

  it('drops the records of a batch that starts before the offset asked for (a compressed batch comes whole)', () => {
    const { records, next } = collect([batch(100n, [0, 1, 2, 3, 4].map((d) => record(d, `v${d}`)))], 103n);
    assert.deepEqual(records.map((r) => r.offset), [103n, 104n]);
    assert.equal(next, 105n);
  });

  it('skips control batches (transaction markers), but moves past them', () => {
    const control = batch(7n, [record(0, 'marker')], 0x20 | 0x10);
    const { records, next } = collect([batch(5n, [record(0, 'a'), record(1, 'b')], 0x10), control, batch(8n, [record(0, 'c')])], 5n);
    assert.deepEqual(records.map((r) => [r.offset, r.value?.toString()]), [[5n, 'a'], [6n, 'b'], [8n, 'c']]);
    assert.equal(next, 9n);
    assert.equal(collect([control], 7n).next, 8n, 'a response of markers only still advances the position');
  });

  it('takes the next position from lastOffsetDelta, not the last record left (compaction gaps)', () => {
    const { records, next } = collect([batch(20n, [record(0, 'a'), record(4, 'e')], 0, 9)], 20n);
    assert.deepEqual(records.map((r) => r.offset), [20n, 24n]);
    assert.equal(next, 30n);
  });

  it('moves nothing without batches', () => {
    assert.deepEqual(collect([], 42n), { records: [], next: undefined });
  });

  it('keys: empty or null become null; values: null stays null', () => {
    const { records } = collect([batch(0n, [record(0, 'a', { key: Buffer.alloc(0) }), record(1, 'b', { key: null, value: null })])], 0n);
    assert.deepEqual(records.map((r) => [r.key, r.value]), [[null, Buffer.from('a')], [null, null]]);
  });

  it('headers: keys as UTF-8 strings, the last of a repeated key wins, no Map allocated without headers', () => {
    const { records } = collect(
      [
        batch(0n, [
          record(0, 'a', { headers: [[Buffer.from('trace-id'), Buffer.from('t1')], [Buffer.from('zürich'), Buffer.from('z')], [Buffer.from('trace-id'), Buffer.from('t2')]] }),
          record(1, 'b'),
          record(2, 'c'),
        ]),
      ],
      0n,
    );
    assert.deepEqual([...records[0]!.headers].map(([k, v]) => [k, v.toString()]), [['trace-id', 't2'], ['zürich', 'z']]);
    assert.equal(records[1]!.headers.size, 0);
    assert.equal(records[1]!.headers, records[2]!.headers, 'records without headers share one empty Map');
  });

  it('reads what the client decodes from an lz4 batch, fetched from inside it', () => {
    const messages = Array.from({ length: 6 }, (_, i) => ({ topic: 'orders', partition: 3, key: Buffer.from(`key-${i}`), value: Buffer.from(JSON.stringify({ i })), timestamp: 1_700_000_000_000n + BigInt(i), headers: new Map([[Buffer.from('h'), Buffer.from(String(i))]]) }));
    const [decoded] = readRecordsBatches(Reader.from(createRecordsBatch(messages, { compression: 'lz4' }).buffer));
    decoded!.firstOffset = 1000n; // the broker assigns offsets; a producer's batch starts at 0
    const { records, next } = collect([decoded!], 1002n);
    assert.deepEqual(
      records.map((r) => [r.offset, r.timestamp, r.key?.toString(), r.value?.toString(), r.headers.get('h')?.toString()]),
      [2, 3, 4, 5].map((i) => [1000n + BigInt(i), 1_700_000_000_000n + BigInt(i), `key-${i}`, JSON.stringify({ i }), String(i)]),
    );
    assert.equal(next, 1006n);
  });
});
