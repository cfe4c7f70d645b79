// Kafka record batches (magic v2) from the `records` bytes of one partition in a Fetch response into
// RecordBatch views: one pass over each batch's records that fills typed arrays and checks every
// length against the bytes there are. A partial batch at the end (the broker cuts at max_bytes) is
// normal: parsing stops there and says where. Anything malformed is a BatchFormatError naming the
// batch's base offset; decompression failures are its cause. Layout (KIP-98):
//   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 | crc uint32 |
//   attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 |
//   producerId int64 | producerEpoch int16 | baseSequence int32 | recordCount int32 | records
// and each record: length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
//   keyLength varint | key | valueLength varint | value | headerCount varint |
//   [headerKeyLength varint | headerKey | headerValueLength varint | headerValue]*
import { crc32c } from '@platformatic/kafka';
import { decompress, DEFAULT_MAX_DECOMPRESSED_BYTES } from './compression.js';
import { BatchFormatError, DecompressionError, UnsupportedMessageFormatError } from './errors.js';
import { CONTROL_BIT, RecordBatch } from './record-batch.js';

/** baseOffset + batchLength: what precedes the bytes batchLength counts. */
const LOG_OVERHEAD = 12;
/** Up to and including the magic byte: the least needed to tell a batch's format. */
const HEADER_UP_TO_MAGIC = 17;
/** The v2 header up to the first record. */
const HEADER_V2 = 61;
/** The smallest legacy message (v0): a smaller batchLength is corrupt in any format (as in Kafka). */
const MIN_LEGACY_RECORD = 14;
/** The smallest record: seven one-byte fields. */
const MIN_RECORD = 7;
const CRC_START = 21;

export interface ParseOptions {
  /** The most bytes one batch may decompress to (a decompression bomb is refused); default 64 MiB. */
  maxDecompressedBytes?: number;
  /** Check each batch's CRC-32C (off by default, as the Java consumer's check.crcs is on: see docs/decisions.md). */
  verifyCrc?: boolean;
}

export interface ParsedRecordBatches {
  batches: RecordBatch[];
  /** Bytes of `records` the complete batches took; a partial batch (if any) starts here. */
  consumed: number;
  /** A partial batch follows the complete ones (the broker's max_bytes cut it). */
  truncated: boolean;
  /** The partial batch's full size when its header was readable: the size a fetch needs to get it. */
  partialSize: number | undefined;
}

/**
 * Every complete batch in `records` (one partition's bytes of a Fetch response). Throws a
 * BatchFormatError (or its subclass UnsupportedMessageFormatError) at the first bad batch: its
 * `position` tells where that batch starts, so the batches before it can be read with
 * `parseRecordBatches(records.subarray(0, error.position))`.
 */
export function parseRecordBatches(records: Buffer, options: ParseOptions = {}): ParsedRecordBatches {
  const batches: RecordBatch[] = [];
  let pos = 0;
  for (;;) {
    const size = completeBatchSize(records, pos);
    if (size <= 0) {
      return { batches, consumed: pos, truncated: pos < records.length, partialSize: size < 0 ? -size : undefined };
    }
    batches.push(readBatch(records, pos, size, options));
    pos += size;
  }
}

/**
 * The one batch starting at `position`, or null when it is not complete in `records`. Throws a
 * BatchFormatError when it is malformed.
 */
export function readRecordBatch(records: Buffer, position: number, options: ParseOptions = {}): RecordBatch | null {
  const size = completeBatchSize(records, position);
  return size > 0 ? readBatch(records, position, size, options) : null;
}

/**
 * The size of the batch at `pos` when all of it is there; 0 when not even its size is readable,
 * minus its size when it is readable but the batch is cut short.
 */
function completeBatchSize(records: Buffer, pos: number): number {
  const remaining = records.length - pos;
  if (remaining < LOG_OVERHEAD) return 0;
  const batchLength = records.readInt32BE(pos + 8);
  // Too short to tell its format: a partial batch whatever its length says (as Kafka reads it).
  if (remaining < HEADER_UP_TO_MAGIC) return batchLength >= MIN_LEGACY_RECORD ? -(LOG_OVERHEAD + batchLength) : 0;
  if (batchLength < MIN_LEGACY_RECORD) {
    throw new BatchFormatError(records.readBigInt64BE(pos), pos, `batch length ${batchLength} is less than the minimum record overhead (${MIN_LEGACY_RECORD})`);
  }
  const size = LOG_OVERHEAD + batchLength;
  return remaining < size ? -size : size;
}

/** An error inside a batch, before the batch's context is added. */
class Malformed extends Error {}

function readBatch(records: Buffer, start: number, size: number, options: ParseOptions): RecordBatch {
  const baseOffset = records.readBigInt64BE(start);
  const magic = records.readInt8(start + 16);
  if (magic === 0 || magic === 1) throw new UnsupportedMessageFormatError(baseOffset, start, magic);
  if (magic !== 2) throw new BatchFormatError(baseOffset, start, `unknown magic ${magic}`);
  if (size < HEADER_V2) throw new BatchFormatError(baseOffset, start, `batch length ${size - LOG_OVERHEAD} is less than the v2 header (${HEADER_V2 - LOG_OVERHEAD})`);
  const end = start + size;
  const crc = records.readUInt32BE(start + 17);
  if (options.verifyCrc) {
    const actual = crc32c(records.subarray(start + CRC_START, end));
    if (actual !== crc) throw new BatchFormatError(baseOffset, start, `CRC-32C mismatch: stored ${crc}, computed ${actual}`);
  }
  const attributes = records.readInt16BE(start + 21);
  const codec = attributes & 0x07;
  if (codec > 4) throw new BatchFormatError(baseOffset, start, `unknown compression codec ${codec}`);
  const count = records.readInt32BE(start + 57);
  if (count < 0) throw new BatchFormatError(baseOffset, start, `negative record count ${count}`);

  let data = records.subarray(start + HEADER_V2, end);
  if (count === 0) {
    data = data.subarray(0, 0); // nothing to read (a batch emptied by compaction): not even decompressed
  } else if (codec !== 0) {
    try {
      data = decompress(codec, data, options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES);
    } catch (error) {
      if (error instanceof DecompressionError) throw new BatchFormatError(baseOffset, start, error.message, error);
      throw error;
    }
  }
  if (count > data.length / MIN_RECORD) {
    throw new BatchFormatError(baseOffset, start, `record count ${count} does not fit in ${data.length} bytes of records`);
  }

  const ints = new Int32Array(count * 7);
  const offsetDelta = ints.subarray(0, count);
  const keyStart = ints.subarray(count, 2 * count);
  const keyLength = ints.subarray(2 * count, 3 * count);
  const valueStart = ints.subarray(3 * count, 4 * count);
  const valueLength = ints.subarray(4 * count, 5 * count);
  const headersStart = ints.subarray(5 * count, 6 * count);
  const headerCount = ints.subarray(6 * count, 7 * count);
  const timestampDelta = new Float64Array(count);
  const control = (attributes & CONTROL_BIT) !== 0;
  let i = 0;
  try {
    let pos = 0;
    for (; i < count; i++) {
      const length = varint(data, pos, data.length);
      pos = cursor;
      if (length <= 0 || length > data.length - pos) throw new Malformed(`length ${length} (${data.length - pos} bytes left)`);
      const recordEnd = pos + length;
      pos += 1; // attributes: unused in v2
      timestampDelta[i] = varlong(data, pos, recordEnd);
      offsetDelta[i] = varint(data, cursor, recordEnd);
      pos = cursor;
      const kLength = varint(data, pos, recordEnd);
      pos = cursor;
      if (kLength < -1 || kLength > recordEnd - pos) throw new Malformed(`key length ${kLength} (${recordEnd - pos} bytes left in the record)`);
      keyStart[i] = pos;
      keyLength[i] = kLength;
      if (kLength > 0) pos += kLength;
      if (control && kLength < 4) throw new Malformed(`control record key of ${kLength} bytes (needs version and type, 4 bytes)`);
      const vLength = varint(data, pos, recordEnd);
      pos = cursor;
      if (vLength < -1 || vLength > recordEnd - pos) throw new Malformed(`value length ${vLength} (${recordEnd - pos} bytes left in the record)`);
      valueStart[i] = pos;
      valueLength[i] = vLength;
      if (vLength > 0) pos += vLength;
      const hCount = varint(data, pos, recordEnd);
      pos = cursor;
      if (hCount < 0) throw new Malformed(`negative header count ${hCount}`);
      headersStart[i] = pos;
      headerCount[i] = hCount;
      for (let h = 0; h < hCount; h++) {
        const hkLength = varint(data, pos, recordEnd);
        pos = cursor;
        if (hkLength < -1 || hkLength > recordEnd - pos) throw new Malformed(`header ${h} key length ${hkLength} (${recordEnd - pos} bytes left in the record)`);
        if (hkLength > 0) pos += hkLength;
        const hvLength = varint(data, pos, recordEnd);
        pos = cursor;
        if (hvLength < -1 || hvLength > recordEnd - pos) throw new Malformed(`header ${h} value length ${hvLength} (${recordEnd - pos} bytes left in the record)`);
        if (hvLength > 0) pos += hvLength;
      }
      if (pos !== recordEnd) throw new Malformed(`${recordEnd - pos} bytes left over after its headers`);
    }
    if (pos !== data.length) throw new Malformed(`${data.length - pos} bytes after the last of ${count} records`);
  } catch (error) {
    if (!(error instanceof Malformed)) throw error;
    const where = i < count ? `record ${i} of ${count}: ` : '';
    throw new BatchFormatError(baseOffset, start, `${where}${error.message}`);
  }

  return new RecordBatch({
    baseOffset,
    sizeInBytes: size,
    partitionLeaderEpoch: records.readInt32BE(start + 12),
    crc,
    attributes,
    lastOffsetDelta: records.readInt32BE(start + 23),
    baseTimestamp: int64(records, start + 27),
    maxTimestamp: int64(records, start + 35),
    producerId: records.readBigInt64BE(start + 43),
    producerEpoch: records.readInt16BE(start + 51),
    baseSequence: records.readInt32BE(start + 53),
    count,
    data,
    offsetDelta,
    timestampDelta,
    keyStart,
    keyLength,
    valueStart,
    valueLength,
    headersStart,
    headerCount,
  });
}

/** An int64 as a number (exact below 2^53), without a BigInt. */
function int64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * 4294967296 + buf.readUInt32BE(pos + 4);
}

/** Set by varint and varlong: the position after what they read. */
let cursor = 0;

/** A zigzag varint (Kafka's int32 varint, at most 5 bytes) at `pos`, not reading at or past `end`. */
function varint(buf: Buffer, pos: number, end: number): number {
  let raw = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= end) throw new Malformed(`varint runs past its record (at byte ${pos})`);
    const byte = buf[pos++]!;
    raw |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      cursor = pos;
      return (raw >>> 1) ^ -(raw & 1);
    }
  }
  throw new Malformed(`varint longer than 5 bytes (at byte ${pos - 5})`);
}

/** A zigzag varlong (at most 10 bytes) as a number: exact while |value| < 2^53. */
function varlong(buf: Buffer, pos: number, end: number): number {
  // The common case (|delta| < 2^27, four bytes or fewer) stays in int32 arithmetic.
  let raw = 0;
  let shift = 0;
  for (; shift < 28; shift += 7) {
    if (pos >= end) throw new Malformed(`varlong runs past its record (at byte ${pos})`);
    const byte = buf[pos++]!;
    raw |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      cursor = pos;
      return (raw >>> 1) ^ -(raw & 1);
    }
  }
  let value = raw; // 28 bits, non-negative
  for (; shift < 70; shift += 7) {
    if (pos >= end) throw new Malformed(`varlong runs past its record (at byte ${pos})`);
    const byte = buf[pos++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) {
      cursor = pos;
      // Zigzag without 64-bit integers: even → value / 2, odd → -(value + 1) / 2.
      return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
    }
  }
  throw new Malformed(`varlong longer than 10 bytes (at byte ${pos - 10})`);
}
