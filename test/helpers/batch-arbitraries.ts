// fast-check arbitraries of record batches for the property tests: random record sets written by the
// client's writer with every codec (and xerial snappy), and what reading one back must give. Shared by
// test/unit/record-batch-properties.test.ts and the mutation worker (test/helpers/batch-mutations.ts).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { RecordBatch } from '../../src/source/wire/record-batch.js';
import { type Codec, type TestRecord, toXerialSnappy, writeBatch, writtenHeaders } from './wire-batches.js';

export type Variant = Codec | 'snappy-xerial';
const VARIANTS: Variant[] = ['none', 'gzip', 'snappy', 'snappy-xerial', 'lz4', 'zstd'];
const CODEC_IDS: Record<Variant, number> = { none: 0, gzip: 1, snappy: 2, 'snappy-xerial': 2, lz4: 3, zstd: 4 };

const bytes = (maxLength: number) => fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));
const nullable = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null, freq: 4 });
// Header keys: a small alphabet, so repeated keys are common.
const headerKey = fc.oneof(fc.constantFrom('a', 'b', 'trace-id', 'ü', ''), fc.string({ maxLength: 12 })).map((s) => Buffer.from(s));

const recordArb = (base: bigint) =>
  fc.record({
    key: nullable(bytes(40)),
    value: nullable(bytes(400)),
    headers: fc.array(fc.tuple(nullable(headerKey), nullable(bytes(20))), { maxLength: 4 }),
    // Within ±2^30 ms of `base`: the client's writer encodes a timestamp delta of 2^31 or more wrongly
    // (its zigzag is 32-bit); larger deltas are unit-tested with hand-encoded varlongs.
    timestamp: fc.bigInt({ min: -(2n ** 30n - 1n), max: 2n ** 30n - 1n }).map((d) => base + d),
  });

export const batchArb = fc
  .record({
    base: fc.bigInt({ min: 0n, max: 2n ** 44n }),
    baseOffset: fc.bigInt({ min: 0n, max: 2n ** 62n }),
    variant: fc.constantFrom(...VARIANTS),
    producerId: fc.oneof(fc.constant(-1n), fc.bigInt({ min: 0n, max: 2n ** 40n })),
    logAppendTime: fc.boolean(),
  })
  .chain((h) => fc.record({ h: fc.constant(h), records: fc.array(recordArb(h.base), { minLength: 1, maxLength: 25 }) }));

export function write(h: { baseOffset: bigint; variant: Variant; producerId: bigint; logAppendTime: boolean }, records: TestRecord[]): Buffer {
  const options = { baseOffset: h.baseOffset, producerId: h.producerId, producerEpoch: h.producerId < 0n ? -1 : 1, logAppendTime: h.logAppendTime };
  if (h.variant === 'snappy-xerial') return toXerialSnappy(writeBatch(records, options), 256);
  return writeBatch(records, { ...options, compression: h.variant });
}

export function check(batch: RecordBatch, h: { baseOffset: bigint; variant: Variant; logAppendTime: boolean }, records: TestRecord[]): void {
  assert.equal(batch.baseOffset, h.baseOffset);
  assert.equal(batch.compression, CODEC_IDS[h.variant]);
  assert.equal(batch.count, records.length);
  const maxTimestamp = records.reduce((m, r) => (r.timestamp > m ? r.timestamp : m), records[0]!.timestamp);
  assert.equal(batch.baseTimestamp, Number(records[0]!.timestamp));
  records.forEach((r, i) => {
    assert.equal(batch.recordOffset(i), h.baseOffset + BigInt(i));
    assert.equal(batch.recordTimestamp(i), Number(h.logAppendTime ? maxTimestamp : r.timestamp));
    assert.deepEqual(batch.key(i), r.key);
    assert.deepEqual(batch.value(i), r.value);
    const headers = new Map<string, Buffer | undefined>();
    for (const [k, v] of writtenHeaders(r.headers) as Map<Buffer | null, Buffer | null>) headers.set(k === null ? '' : k.toString('utf8'), v ?? undefined);
    assert.deepEqual(batch.headers(i), headers);
  });
}

/** Reads everything a batch offers, as a consumer would: none of it may throw. */
export function touch(batch: RecordBatch): void {
  for (let i = 0; i < batch.count; i++) {
    batch.recordOffset(i);
    batch.recordTimestamp(i);
    batch.key(i);
    batch.value(i);
    batch.headers(i);
    if (batch.isControl) batch.controlRecord(i);
  }
  void batch.isAbortMarker;
}

