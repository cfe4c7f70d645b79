// Property tests of the record-batch parser: random record sets written as batches by the client's
// writer with every codec (and xerial snappy) read back field by field; random byte mutations of
// valid batches either parse or fail with a BatchFormatError, never anything else. The seed is
// printed first (and by fast-check on a failure); FC_SEED=<n> replays one run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BatchFormatError } from '../../src/source/wire/errors.js';
import { parseRecordBatches } from '../../src/source/wire/record-batch-parser.js';
import type { RecordBatch } from '../../src/source/wire/record-batch.js';
import { type Codec, type TestRecord, toXerialSnappy, writeBatch, writtenHeaders } from '../helpers/wire-batches.js';

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : Date.now() % 2 ** 31;
console.log(`fast-check seed ${seed} (FC_SEED=${seed} replays it)`);

type Variant = Codec | 'snappy-xerial';
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

const batchArb = fc
  .record({
    base: fc.bigInt({ min: 0n, max: 2n ** 44n }),
    baseOffset: fc.bigInt({ min: 0n, max: 2n ** 62n }),
    variant: fc.constantFrom(...VARIANTS),
    producerId: fc.oneof(fc.constant(-1n), fc.bigInt({ min: 0n, max: 2n ** 40n })),
    logAppendTime: fc.boolean(),
  })
  .chain((h) => fc.record({ h: fc.constant(h), records: fc.array(recordArb(h.base), { minLength: 1, maxLength: 25 }) }));

function write(h: { baseOffset: bigint; variant: Variant; producerId: bigint; logAppendTime: boolean }, records: TestRecord[]): Buffer {
  const options = { baseOffset: h.baseOffset, producerId: h.producerId, producerEpoch: h.producerId < 0n ? -1 : 1, logAppendTime: h.logAppendTime };
  if (h.variant === 'snappy-xerial') return toXerialSnappy(writeBatch(records, options), 256);
  return writeBatch(records, { ...options, compression: h.variant });
}

function check(batch: RecordBatch, h: { baseOffset: bigint; variant: Variant; logAppendTime: boolean }, records: TestRecord[]): void {
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
function touch(batch: RecordBatch): void {
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

describe('record batches: properties', () => {
  it('random records written with every codec read back field by field', { timeout: 30_000 }, () => {
    fc.assert(
      fc.property(fc.array(batchArb, { minLength: 1, maxLength: 3 }), (specs) => {
        const buffers = specs.map(({ h, records }) => write(h, records));
        const all = Buffer.concat(buffers);
        const result = parseRecordBatches(all, { verifyCrc: true });
        assert.equal(result.batches.length, specs.length);
        assert.equal(result.consumed, all.length);
        assert.equal(result.truncated, false);
        specs.forEach(({ h, records }, n) => check(result.batches[n]!, h, records));
        // Cut anywhere in the last batch: the ones before it are read, the cut one is reported.
        const cut = all.length - 1 - ((specs.length * 7919) % (buffers.at(-1)!.length - 1));
        const partial = parseRecordBatches(all.subarray(0, cut));
        assert.equal(partial.batches.length, specs.length - 1);
        assert.equal(partial.truncated, true);
      }),
      { seed, numRuns: 120 },
    );
  });

  const javaZstd = readFileSync(path.resolve(import.meta.dirname, '../../../test/unit/fixtures/zstd-java-batch.bin'));
  const validBatches = fc.oneof(
    batchArb.map(({ h, records }) => write(h, records)),
    fc.constant(javaZstd),
  );
  const mutation = fc.record({
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
    cutFromEnd: fc.option(fc.nat({ max: 64 }), { nil: undefined }),
    verifyCrc: fc.boolean(),
  });

  it('random byte mutations of valid batches parse or throw BatchFormatError, nothing else', { timeout: 30_000 }, () => {
    let parsed = 0;
    let refused = 0;
    fc.assert(
      fc.property(validBatches, mutation, (valid, m) => {
        const bytes = Buffer.from(valid);
        for (const [at, value] of m.flips) bytes[at % bytes.length] = value;
        const input = m.cutFromEnd === undefined ? bytes : bytes.subarray(0, Math.max(0, bytes.length - m.cutFromEnd));
        try {
          const result = parseRecordBatches(input, { verifyCrc: m.verifyCrc, maxDecompressedBytes: 4 << 20 });
          result.batches.forEach(touch);
          parsed++;
        } catch (error) {
          if (!(error instanceof BatchFormatError)) throw error;
          refused++;
        }
      }),
      { seed, numRuns: 400 },
    );
    console.log(`mutations: ${parsed} parsed, ${refused} refused with a BatchFormatError`);
  });

  it('mutations in the header and the first records of uncompressed batches (where lengths live)', { timeout: 30_000 }, () => {
    fc.assert(
      fc.property(batchArb, fc.array(fc.tuple(fc.nat({ max: 120 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }), ({ h, records }, flips) => {
        const bytes = writeBatch(records, { baseOffset: h.baseOffset });
        for (const [at, value] of flips) bytes[at % bytes.length] = value;
        try {
          parseRecordBatches(bytes).batches.forEach(touch);
        } catch (error) {
          if (!(error instanceof BatchFormatError)) throw error;
        }
      }),
      { seed, numRuns: 400 },
    );
  });
});
