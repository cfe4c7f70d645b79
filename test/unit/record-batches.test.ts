// Parsed record batches → SourceRecords: offsets, timestamps, keys, headers, control and aborted
// batches skipped, the next position, and a batch that cannot be read as one record standing for it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emitBatches, unreadableBatch } from '../../src/source/record-batches.js';
import type { SourceRecord } from '../../src/source/record.js';
import { BatchFormatError } from '../../src/source/wire/errors.js';
import { parseRecordBatches } from '../../src/source/wire/record-batch-parser.js';
import { controlBatch, type TestRecord, writeBatch } from '../helpers/wire-batches.js';

const T0 = 1_700_000_000_000n;
const rec = (i: number, value: string | null, extra: Partial<TestRecord> = {}): TestRecord => ({ key: Buffer.from(`k${i}`), value: value === null ? null : Buffer.from(value), headers: [], timestamp: T0 + BigInt(i * 10), ...extra });

function collect(buffers: Buffer[], from: bigint, aborted?: boolean[]): { records: SourceRecord[]; next: bigint | undefined } {
  const { batches } = parseRecordBatches(Buffer.concat(buffers));
  const records: SourceRecord[] = [];
  const next = emitBatches('orders', 3, batches, aborted, from, (r) => records.push(r));
  return { records, next };
}

describe('emitBatches', () => {
  it('hands over every record with its offset and timestamp; the next position follows the last batch', () => {
    const { records, next } = collect([writeBatch([rec(0, 'a'), rec(1, 'b')], { baseOffset: 10n }), writeBatch([rec(0, 'c')], { baseOffset: 12n })], 10n);
    assert.deepEqual(
      records.map((r) => [r.topic, r.partition, r.offset, r.timestamp, r.key?.toString(), r.value?.toString()]),
      [
        ['orders', 3, 10n, T0, 'k0', 'a'],
        ['orders', 3, 11n, T0 + 10n, 'k1', 'b'],
        ['orders', 3, 12n, T0, 'k0', 'c'],
      ],
    );
    assert.equal(next, 13n);
  });

  it('drops the records of a batch that starts before the offset asked for (a compressed batch comes whole)', () => {
    const { records, next } = collect([writeBatch([0, 1, 2, 3, 4].map((i) => rec(i, `v${i}`)), { baseOffset: 100n, compression: 'lz4' })], 103n);
    assert.deepEqual(records.map((r) => r.offset), [103n, 104n]);
    assert.equal(next, 105n);
  });

  it('skips control batches (transaction markers) and aborted ones, but moves past them', () => {
    const data = writeBatch([rec(0, 'a'), rec(1, 'b')], { baseOffset: 5n, producerId: 9n, producerEpoch: 0, transactional: true });
    const marker = controlBatch(1, { baseOffset: 7n, producerId: 9n });
    const after = writeBatch([rec(0, 'c')], { baseOffset: 8n });
    const { records, next } = collect([data, marker, after], 5n);
    assert.deepEqual(records.map((r) => [r.offset, r.value?.toString()]), [[5n, 'a'], [6n, 'b'], [8n, 'c']]);
    assert.equal(next, 9n);
    assert.equal(collect([marker], 7n).next, 8n, 'a response of markers only still advances the position');
    assert.deepEqual(collect([data, marker, after], 5n, [true, false, false]).records.map((r) => r.offset), [8n], 'an aborted batch is skipped');
  });

  it('moves nothing without batches', () => {
    assert.deepEqual(collect([], 42n), { records: [], next: undefined });
  });

  it('keys: empty or null become null; values: null stays null', () => {
    const { records } = collect([writeBatch([rec(0, 'a', { key: Buffer.alloc(0) }), rec(1, null, { key: null })])], 0n);
    assert.deepEqual(records.map((r) => [r.key, r.value]), [[null, Buffer.from('a')], [null, null]]);
  });

  it('headers: keys as UTF-8 strings, the last of a repeated key wins, one shared empty Map without headers', () => {
    const headers: TestRecord['headers'] = [[Buffer.from('trace-id'), Buffer.from('t1')], [Buffer.from('zürich'), Buffer.from('z')], [Buffer.from('trace-id'), Buffer.from('t2')]];
    const { records } = collect([writeBatch([rec(0, 'a', { headers }), rec(1, 'b'), rec(2, 'c')])], 0n);
    assert.deepEqual([...records[0]!.headers].map(([k, v]) => [k, v.toString()]), [['trace-id', 't2'], ['zürich', 'z']]);
    assert.equal(records[1]!.headers.size, 0);
    assert.equal(records[1]!.headers, records[2]!.headers, 'records without headers share one empty Map');
  });

  it('LogAppendTime batches: every record carries the broker\'s append time', () => {
    const { records } = collect([writeBatch([rec(0, 'a'), rec(1, 'b')], { logAppendTime: true, appendTime: T0 + 5000n })], 0n);
    assert.deepEqual(records.map((r) => r.timestamp), [T0 + 5000n, T0 + 5000n]);
  });
});

describe('unreadableBatch', () => {
  it('one record at the batch\'s base offset with its raw bytes; the partition goes on after its last offset', () => {
    const good = writeBatch([rec(0, 'a')], { baseOffset: 0n });
    const bad = writeBatch([0, 1, 2].map((i) => rec(i, `v${i}`)), { baseOffset: 1n, compression: 'gzip' });
    bad.fill(0x55, 61); // the compressed records are garbage now
    const records = Buffer.concat([good, bad]);
    let error: BatchFormatError | undefined;
    try {
      parseRecordBatches(records);
    } catch (e) {
      error = e as BatchFormatError;
    }
    assert.ok(error instanceof BatchFormatError);
    assert.equal(error.position, good.length);
    const unreadable = unreadableBatch('orders', 3, records, error);
    assert.ok(unreadable);
    assert.equal(unreadable.record.offset, 1n);
    assert.equal(unreadable.next, 4n);
    assert.deepEqual(unreadable.record.value, bad);
    assert.equal(unreadable.record.unreadable?.errorType, 'corrupt_batch');
    assert.match(unreadable.record.unreadable?.reason ?? '', /offsets 1-3: .*gzip/);
  });
});
