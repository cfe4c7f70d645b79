import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Reader, readRecordsBatches } from '@platformatic/kafka';
import { BatchFormatError, DecompressionError, UnsupportedMessageFormatError } from '../../src/source/wire/errors.js';
import { parseRecordBatches, readRecordBatch } from '../../src/source/wire/record-batch-parser.js';
import { ControlType, type RecordBatch } from '../../src/source/wire/record-batch.js';
import { type Codec, controlBatch, fixCrc, type TestRecord, recompress, toXerialSnappy, wireRecord, writeBatch } from '../helpers/wire-batches.js';

const CODECS: Codec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const T0 = 1_700_000_000_000n;
const b = (s: string) => Buffer.from(s);

const RECORDS: TestRecord[] = [
  { key: b('k0'), value: b('{"a":1}'), headers: [], timestamp: T0 },
  { key: null, value: b('no key'), headers: [[b('trace'), b('abc')]], timestamp: T0 + 5n },
  { key: b('tombstone'), value: null, headers: [], timestamp: T0 + 3n },
  { key: b(''), value: b(''), headers: [[b('h'), b('first')], [b('h'), b('last')], [b('n'), null], [null, b('nk')]], timestamp: T0 - 10n },
  { key: b('ü'), value: Buffer.alloc(3000, 0x61), headers: [[b('ключ'), b('значение')]], timestamp: T0 + 1000n },
];

/** Every record of `batch` as plain values, to compare with what was written. */
function records(batch: RecordBatch) {
  const out = [];
  for (let i = 0; i < batch.count; i++) {
    out.push({
      offset: batch.recordOffset(i),
      timestamp: batch.recordTimestamp(i),
      key: batch.key(i)?.toString('latin1') ?? null,
      value: batch.value(i)?.toString('latin1') ?? null,
      headers: [...batch.headers(i)].map(([k, v]) => [k, v?.toString() ?? null]),
    });
  }
  return out;
}

function expected(written: TestRecord[], baseOffset: bigint) {
  return written.map((r, i) => {
    const headers = new Map<string, string | null>();
    for (const [k, v] of r.headers) headers.set(k === null ? '' : k.toString(), v === null ? null : v.toString());
    return {
      offset: baseOffset + BigInt(i),
      timestamp: Number(r.timestamp),
      key: r.key?.toString('latin1') ?? null,
      value: r.value?.toString('latin1') ?? null,
      headers: [...headers],
    };
  });
}

describe('parseRecordBatches', () => {
  for (const codec of CODECS) {
    it(`reads a ${codec} batch written by the client: header fields, keys, values, headers`, () => {
      const bytes = writeBatch(RECORDS, { compression: codec, baseOffset: 1000n, partitionLeaderEpoch: 7 });
      const { batches, consumed, truncated, partialSize } = parseRecordBatches(bytes);
      assert.equal(batches.length, 1);
      assert.equal(consumed, bytes.length);
      assert.equal(truncated, false);
      assert.equal(partialSize, undefined);
      const batch = batches[0]!;
      assert.equal(batch.baseOffset, 1000n);
      assert.equal(batch.sizeInBytes, bytes.length);
      assert.equal(batch.compression, CODECS.indexOf(codec));
      assert.equal(batch.partitionLeaderEpoch, 7);
      assert.equal(batch.count, RECORDS.length);
      assert.equal(batch.lastOffsetDelta, RECORDS.length - 1);
      assert.equal(batch.lastOffset, 1004n);
      assert.equal(batch.nextOffset, 1005n);
      assert.equal(batch.baseTimestamp, Number(T0));
      assert.equal(batch.maxTimestamp, Number(T0 + 1000n));
      assert.equal(batch.timestampType, 'CreateTime');
      assert.equal(batch.isTransactional, false);
      assert.equal(batch.isControl, false);
      assert.equal(batch.producerId, -1n);
      assert.deepEqual(records(batch), expected(RECORDS, 1000n));
      // -1 lengths mark null keys and values; the typed arrays are what the batch path reads.
      assert.deepEqual([...batch.keyLength], [2, -1, 9, 0, 2]);
      assert.deepEqual([...batch.valueLength], [7, 6, -1, 0, 3000]);
      assert.deepEqual([...batch.headerCount], [0, 1, 0, 4, 1]);
      assert.deepEqual([...batch.offsetDelta], [0, 1, 2, 3, 4]);
      assert.deepEqual([...batch.timestampDelta], [0, 5, 3, -10, 1000]);
    });
  }

  it('reads snappy in the xerial framing of the Java producer (several chunks and one)', () => {
    const plain = writeBatch(RECORDS, { baseOffset: 42n });
    for (const chunk of [100, 1 << 20]) {
      const batch = parseRecordBatches(toXerialSnappy(plain, chunk)).batches[0]!;
      assert.equal(batch.compression, 2);
      assert.deepEqual(records(batch), expected(RECORDS, 42n));
    }
  });

  it('agrees with the client parser on the same bytes', () => {
    const bytes = Buffer.concat([writeBatch(RECORDS, { baseOffset: 10n, compression: 'lz4' }), writeBatch(RECORDS.slice(0, 2), { baseOffset: 15n, compression: 'gzip' })]);
    const theirs = readRecordsBatches(Reader.from(bytes));
    const ours = parseRecordBatches(bytes).batches;
    assert.equal(ours.length, theirs.length);
    ours.forEach((batch, n) => {
      const their = theirs[n]!;
      assert.equal(batch.baseOffset, their.firstOffset);
      assert.equal(batch.crc, their.crc);
      assert.equal(batch.count, their.records.length);
      their.records.forEach((r, i) => {
        assert.equal(batch.offsetDelta[i], r.offsetDelta);
        assert.equal(batch.timestampDelta[i], Number(r.timestampDelta));
        assert.deepEqual(batch.key(i), r.key);
        assert.deepEqual(batch.value(i), r.value);
        assert.equal(batch.headerCount[i], r.headers.length);
      });
    });
  });

  it('reads several batches in a row and stops before a partial trailing batch, saying where', () => {
    const first = writeBatch(RECORDS, { baseOffset: 0n, compression: 'lz4' });
    const second = writeBatch(RECORDS, { baseOffset: 5n });
    const third = writeBatch(RECORDS, { baseOffset: 10n, compression: 'zstd' });
    const all = Buffer.concat([first, second, third]);
    for (const cut of [0, 1, 11, 12, 16, 17, 60, third.length - 1]) {
      const result = parseRecordBatches(all.subarray(0, first.length + second.length + cut));
      assert.deepEqual(result.batches.map((x) => x.baseOffset), [0n, 5n], `cut ${cut}`);
      assert.equal(result.consumed, first.length + second.length);
      assert.equal(result.truncated, cut > 0);
      // Once the 12-byte offset + length prefix is there, the size the fetch needs is known.
      assert.equal(result.partialSize, cut >= 12 ? third.length : undefined);
    }
    assert.equal(readRecordBatch(all, first.length, {})?.baseOffset, 5n);
    assert.equal(readRecordBatch(all.subarray(0, all.length - 1), first.length + second.length, {}), null);
  });

  it('an empty records buffer has no batch', () => {
    assert.deepEqual(parseRecordBatches(Buffer.alloc(0)), { batches: [], consumed: 0, truncated: false, partialSize: undefined });
  });

  it('LogAppendTime: every record is stamped with the batch maxTimestamp', () => {
    const bytes = writeBatch(RECORDS, { logAppendTime: true, appendTime: T0 + 99_999n, compression: 'snappy' });
    const batch = parseRecordBatches(bytes).batches[0]!;
    assert.equal(batch.timestampType, 'LogAppendTime');
    assert.equal(batch.logAppendTime, true);
    for (let i = 0; i < batch.count; i++) assert.equal(batch.recordTimestamp(i), Number(T0 + 99_999n));
  });

  it('transactional data batches and control batches (ABORT and COMMIT markers)', () => {
    const data = writeBatch(RECORDS.slice(0, 2), { baseOffset: 20n, producerId: 4242n, producerEpoch: 3, transactional: true, compression: 'gzip' });
    const abort = controlBatch(ControlType.ABORT, { baseOffset: 22n, producerId: 4242n, producerEpoch: 3 });
    const commit = controlBatch(ControlType.COMMIT, { baseOffset: 23n, producerId: 4242n, producerEpoch: 3 });
    const [d, a, c] = parseRecordBatches(Buffer.concat([data, abort, commit]), { verifyCrc: true }).batches;
    assert.equal(d!.isTransactional, true);
    assert.equal(d!.isControl, false);
    assert.equal(d!.producerId, 4242n);
    assert.equal(d!.producerEpoch, 3);
    assert.equal(d!.isAbortMarker, false);
    assert.equal(a!.isControl, true);
    assert.equal(a!.isTransactional, true);
    assert.equal(a!.isAbortMarker, true);
    assert.deepEqual(a!.controlRecord(0), { version: 0, type: ControlType.ABORT });
    assert.equal(c!.isAbortMarker, false);
    assert.deepEqual(c!.controlRecord(0), { version: 0, type: ControlType.COMMIT });
    assert.equal(c!.nextOffset, 24n);
  });

  it('timestamp deltas beyond ±2^31 (hand-encoded: the client writer cannot write them)', () => {
    const varlong = (v: bigint): number[] => {
      let u = v >= 0n ? v << 1n : ((-v) << 1n) - 1n;
      const out: number[] = [];
      while (u >= 0x80n) {
        out.push(Number(u & 0x7fn) | 0x80);
        u >>= 7n;
      }
      return [...out, Number(u)];
    };
    const deltas = [2n ** 31n, -(2n ** 31n) - 1n, 2n ** 40n + 3n, -(2n ** 50n), 2n ** 52n];
    const region = Buffer.from(
      deltas.flatMap((d, i) => {
        const body = [0, ...varlong(d), ...varlong(BigInt(i)), 1, 1, 0]; // attributes, ts, offset, null key, null value, no headers
        return [...varlong(BigInt(body.length)), ...body];
      }),
    );
    const template = writeBatch(deltas.map(() => ({ key: null, value: null, headers: [], timestamp: 0n })), { baseOffset: 0n });
    const batch = parseRecordBatches(recompress(template, 0, () => region)).batches[0]!;
    assert.deepEqual([...batch.timestampDelta], deltas.map(Number));
    assert.deepEqual(deltas.map((_, i) => batch.recordTimestamp(i)), deltas.map(Number));
  });

  it('indexOf: the first record at or after an offset (a compressed batch can start before the fetch offset)', () => {
    const batch = parseRecordBatches(writeBatch(RECORDS, { baseOffset: 100n, compression: 'lz4' })).batches[0]!;
    assert.deepEqual([0n, 100n, 102n, 104n, 105n, 900n].map((o) => batch.indexOf(o)), [0, 0, 2, 4, 5, 5]);
  });

  it('verifyCrc: a flipped bit is a BatchFormatError; without the check it is not noticed in a value', () => {
    const bytes = writeBatch(RECORDS, { baseOffset: 77n });
    const at = bytes.indexOf('{"a":1}') + 2;
    bytes[at] = bytes[at]! ^ 0x01; // 'a' → '`'
    assert.throws(() => parseRecordBatches(bytes, { verifyCrc: true }), (e: unknown) => e instanceof BatchFormatError && e.baseOffset === 77n && /CRC-32C mismatch/.test(e.message));
    assert.equal(parseRecordBatches(bytes).batches[0]!.value(0)!.toString(), '{"`":1}');
  });
});

describe('parseRecordBatches refuses malformed batches with a BatchFormatError naming the batch', () => {
  const good = () => writeBatch(RECORDS, { baseOffset: 500n });
  /** The first record starts at byte 61: length, attributes, timestamp, offset delta, key length (65). */
  const hugeLength = (x: Buffer) => x.set([0xfe, 0xff, 0x7f], 61);
  const cases: [string, (bytes: Buffer) => void, RegExp][] = [
    ['a record length past the end', hugeLength, /record 0 of 5: length 1048575/],
    ['a negative record length', (x) => (x[61] = 0x03), /record 0 of 5: length -2/],
    ['a key length past its record', (x) => (x[61 + 4] = 0x40), /record 0 of 5: key length 32/],
    ['a key length below -1', (x) => (x[61 + 4] = 0x05), /record 0 of 5: key length -3/],
    ['a record count that does not fit', (x) => x.writeInt32BE(1_000_000, 57), /record count 1000000 does not fit in \d+ bytes/],
    ['a negative record count', (x) => x.writeInt32BE(-5, 57), /negative record count -5/],
    ['fewer records than the region holds', (x) => x.writeInt32BE(4, 57), /bytes after the last of 4 records/],
    ['more records than the region holds', (x) => x.writeInt32BE(6, 57), /record 5 of 6: varint runs past/],
    ['an unknown codec', (x) => x.writeInt16BE(x.readInt16BE(21) | 0x07, 21), /unknown compression codec 7/],
    ['an unknown magic', (x) => (x[16] = 3), /unknown magic 3/],
    ['a batch length under the v2 header', (x) => x.writeInt32BE(20, 8), /less than the v2 header/],
    ['a batch length under any record', (x) => x.writeInt32BE(13, 8), /less than the minimum record overhead/],
    ['a negative batch length', (x) => x.writeInt32BE(-1, 8), /less than the minimum record overhead/],
  ];
  for (const [name, corrupt, message] of cases) {
    it(name, () => {
      const bytes = good();
      corrupt(bytes);
      assert.throws(
        () => parseRecordBatches(bytes),
        (e: unknown) => e instanceof BatchFormatError && e.baseOffset === 500n && e.position === 0 && message.test(e.message),
      );
    });
  }

  it('a varint longer than five bytes', () => {
    const bytes = good();
    bytes.fill(0xff, 64, 69); // the offset delta
    assert.throws(() => parseRecordBatches(bytes), (e: unknown) => e instanceof BatchFormatError && /varint longer than 5 bytes/.test(e.message));
  });

  it('a control batch whose marker key is shorter than version + type', () => {
    const bytes = controlBatch(0, { baseOffset: 9n, producerId: 1n });
    // Key length 4 → 2 (varint 4 → 2 zigzag): the rest of the record then no longer adds up either.
    const keyAt = 61 + 1 + 1 + 1 + 1;
    assert.equal(bytes[keyAt], 8);
    bytes[keyAt] = 4;
    assert.throws(() => parseRecordBatches(bytes), (e: unknown) => e instanceof BatchFormatError && /control record key of 2 bytes/.test(e.message));
  });

  it('the error of a later batch says where it starts, so the batches before it can still be read', () => {
    const first = writeBatch(RECORDS, { baseOffset: 0n });
    const second = good();
    second.writeInt32BE(-5, 57);
    const all = Buffer.concat([first, second]);
    const error = (() => {
      try {
        parseRecordBatches(all);
      } catch (e) {
        return e as BatchFormatError;
      }
      throw new Error('no error');
    })();
    assert.equal(error.position, first.length);
    assert.equal(error.baseOffset, 500n);
    assert.deepEqual(parseRecordBatches(all.subarray(0, error.position)).batches.map((x) => x.baseOffset), [0n]);
  });

  it('legacy message sets (magic 0 and 1) are an UnsupportedMessageFormatError', () => {
    for (const magic of [0, 1]) {
      const bytes = good();
      bytes[16] = magic;
      assert.throws(
        () => parseRecordBatches(bytes),
        (e: unknown) => e instanceof UnsupportedMessageFormatError && e instanceof BatchFormatError && e.magic === magic && new RegExp(`unsupported message format v${magic}`).test(e.message),
      );
    }
  });

  it('corrupt compressed data: the DecompressionError is the cause', () => {
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      const bytes = writeBatch(RECORDS, { compression: codec, baseOffset: 3n });
      bytes.fill(0x5a, 61, 70);
      assert.throws(
        () => parseRecordBatches(bytes),
        (e: unknown) => e instanceof BatchFormatError && e.baseOffset === 3n && e.cause instanceof DecompressionError && e.cause.codec === codec,
        codec,
      );
    }
  });

  it('a batch that decompresses to more than maxDecompressedBytes is refused', () => {
    const big: TestRecord[] = [{ key: null, value: Buffer.alloc(200_000), headers: [], timestamp: T0 }];
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      const bytes = writeBatch(big, { compression: codec });
      assert.equal(parseRecordBatches(bytes, { maxDecompressedBytes: 300_000 }).batches[0]!.valueLength[0], 200_000);
      assert.throws(
        () => parseRecordBatches(bytes, { maxDecompressedBytes: 100_000 }),
        (e: unknown) => e instanceof BatchFormatError && e.cause instanceof DecompressionError && e.cause.reason === 'too-large',
        codec,
      );
    }
  });

  it('a batch whose CRC is fixed after corruption is still checked field by field', () => {
    const bytes = good();
    hugeLength(bytes);
    fixCrc(bytes);
    assert.throws(() => parseRecordBatches(bytes, { verifyCrc: true }), /record 0 of 5: length 1048575/);
  });
});

describe('a batch written by Kafka’s Java producer', () => {
  it('zstd (zstd-jni), headers with a repeated key and a null value, null keys and values', () => {
    const bytes = readFileSync(path.resolve(import.meta.dirname, '../../../test/unit/fixtures/zstd-java-batch.bin'));
    const batch = parseRecordBatches(bytes, { verifyCrc: true }).batches[0]!;
    assert.equal(batch.baseOffset, 3n);
    assert.equal(batch.count, 47);
    assert.equal(batch.compression, 4);
    assert.ok(batch.producerId >= 0n, 'idempotent by default');
    for (let i = 0; i < batch.count; i++) {
      const n = Number(batch.recordOffset(i));
      const want = wireRecord(n, 'zstd');
      assert.equal(batch.key(i)?.toString() ?? null, want.key, `key of ${n}`);
      assert.equal(batch.value(i)?.toString() ?? null, want.value, `value of ${n}`);
      const headers = new Map(want.headers);
      assert.deepEqual([...batch.headers(i)].map(([k, v]) => [k, v?.toString() ?? null]), [...headers]);
    }
  });
});
