// One parsed record batch (magic v2) as one object: the header fields, the (decompressed) records
// region as one Buffer, and the position of every record's parts in typed arrays (the batch-shaped
// design of issue 27). No JavaScript object exists per record; the accessors below make one only for
// what a caller asks for. Built by record-batch-parser.ts.
import type { CompressionCodec } from './compression.js';

/** Attribute bits (KIP-98, KIP-32). */
const TIMESTAMP_TYPE_BIT = 0x08;
const TRANSACTIONAL_BIT = 0x10;
export const CONTROL_BIT = 0x20;

/** The type of a control record (its key's second int16). */
export const ControlType = { ABORT: 0, COMMIT: 1 } as const;

export interface ControlRecord {
  version: number;
  /** ControlType.ABORT (0), ControlType.COMMIT (1), or another type a newer broker writes. */
  type: number;
}

export interface RecordBatchFields {
  baseOffset: bigint;
  /** The batch's size on the wire (its 12-byte offset + length prefix included). */
  sizeInBytes: number;
  partitionLeaderEpoch: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  count: number;
  data: Buffer;
  offsetDelta: Int32Array;
  timestampDelta: Float64Array;
  keyStart: Int32Array;
  keyLength: Int32Array;
  valueStart: Int32Array;
  valueLength: Int32Array;
  headersStart: Int32Array;
  headerCount: Int32Array;
}

const NO_HEADERS: ReadonlyMap<string, Buffer | undefined> = new Map();

export class RecordBatch {
  readonly baseOffset: bigint;
  readonly sizeInBytes: number;
  readonly partitionLeaderEpoch: number;
  /** The CRC-32C the producer wrote (checked only when the parser was asked to). */
  readonly crc: number;
  readonly attributes: number;
  /** 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd. */
  readonly compression: CompressionCodec;
  /** Timestamp type LogAppendTime (attribute 0x08): every record's timestamp is maxTimestamp. */
  readonly logAppendTime: boolean;
  readonly isTransactional: boolean;
  /** A control batch: its records are transaction markers (see controlRecord), not data. */
  readonly isControl: boolean;
  readonly lastOffsetDelta: number;
  /** Milliseconds (int64 read as a number: exact below 2^53). */
  readonly baseTimestamp: number;
  readonly maxTimestamp: number;
  /** -1 when the producer is neither idempotent nor transactional. */
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  /** The number of records (compaction may leave fewer than lastOffsetDelta + 1). */
  readonly count: number;
  /** The records region, decompressed; every start below is an index into it. */
  readonly data: Buffer;
  readonly offsetDelta: Int32Array;
  /** Zigzag varlongs, as numbers (exact below 2^53). */
  readonly timestampDelta: Float64Array;
  readonly keyStart: Int32Array;
  /** -1: a null key. */
  readonly keyLength: Int32Array;
  readonly valueStart: Int32Array;
  /** -1: a null value (a tombstone). */
  readonly valueLength: Int32Array;
  /** Where the record's first header starts (after the header count varint). */
  readonly headersStart: Int32Array;
  readonly headerCount: Int32Array;

  constructor(f: RecordBatchFields) {
    this.baseOffset = f.baseOffset;
    this.sizeInBytes = f.sizeInBytes;
    this.partitionLeaderEpoch = f.partitionLeaderEpoch;
    this.crc = f.crc;
    this.attributes = f.attributes;
    this.compression = (f.attributes & 0x07) as CompressionCodec;
    this.logAppendTime = (f.attributes & TIMESTAMP_TYPE_BIT) !== 0;
    this.isTransactional = (f.attributes & TRANSACTIONAL_BIT) !== 0;
    this.isControl = (f.attributes & CONTROL_BIT) !== 0;
    this.lastOffsetDelta = f.lastOffsetDelta;
    this.baseTimestamp = f.baseTimestamp;
    this.maxTimestamp = f.maxTimestamp;
    this.producerId = f.producerId;
    this.producerEpoch = f.producerEpoch;
    this.baseSequence = f.baseSequence;
    this.count = f.count;
    this.data = f.data;
    this.offsetDelta = f.offsetDelta;
    this.timestampDelta = f.timestampDelta;
    this.keyStart = f.keyStart;
    this.keyLength = f.keyLength;
    this.valueStart = f.valueStart;
    this.valueLength = f.valueLength;
    this.headersStart = f.headersStart;
    this.headerCount = f.headerCount;
  }

  get timestampType(): 'CreateTime' | 'LogAppendTime' {
    return this.logAppendTime ? 'LogAppendTime' : 'CreateTime';
  }

  /** The offset of the batch's last record as written (before any compaction). */
  get lastOffset(): bigint {
    return this.baseOffset + BigInt(this.lastOffsetDelta);
  }

  /** Where the next fetch continues after this batch (control batches included). */
  get nextOffset(): bigint {
    return this.baseOffset + BigInt(this.lastOffsetDelta) + 1n;
  }

  recordOffset(i: number): bigint {
    return this.baseOffset + BigInt(this.offsetDelta[i]!);
  }

  /** Milliseconds since the epoch: maxTimestamp for LogAppendTime batches. */
  recordTimestamp(i: number): number {
    return this.logAppendTime ? this.maxTimestamp : this.baseTimestamp + this.timestampDelta[i]!;
  }

  /** The index of the first record at or after `offset` (count when there is none). */
  indexOf(offset: bigint): number {
    if (offset <= this.baseOffset) return 0;
    const delta = offset - this.baseOffset;
    if (delta > BigInt(this.lastOffsetDelta)) return this.count;
    const d = Number(delta);
    let i = 0;
    while (i < this.count && this.offsetDelta[i]! < d) i++;
    return i;
  }

  key(i: number): Buffer | null {
    const length = this.keyLength[i]!;
    if (length < 0) return null;
    const start = this.keyStart[i]!;
    return this.data.subarray(start, start + length);
  }

  value(i: number): Buffer | null {
    const length = this.valueLength[i]!;
    if (length < 0) return null;
    const start = this.valueStart[i]!;
    return this.data.subarray(start, start + length);
  }

  /**
   * Header keys as UTF-8 strings. A repeated key keeps its last value; a null value is undefined;
   * a null key (Kafka's own clients never write one) is ''. Records without headers share one empty
   * map: do not mutate what this returns.
   */
  headers(i: number): ReadonlyMap<string, Buffer | undefined> {
    const count = this.headerCount[i]!;
    if (count === 0) return NO_HEADERS;
    const data = this.data;
    const headers = new Map<string, Buffer | undefined>();
    let pos = this.headersStart[i]!;
    for (let h = 0; h < count; h++) {
      const keyLength = readVarint(data, pos);
      pos = varintEnd;
      const key = keyLength < 0 ? '' : data.toString('utf8', pos, pos + keyLength);
      if (keyLength > 0) pos += keyLength;
      const valueLength = readVarint(data, pos);
      pos = varintEnd;
      headers.set(key, valueLength < 0 ? undefined : data.subarray(pos, pos + valueLength));
      if (valueLength > 0) pos += valueLength;
    }
    return headers;
  }

  /** A control record's key (version int16, type int16); the parser checked it has those 4 bytes. */
  controlRecord(i: number): ControlRecord {
    const start = this.keyStart[i]!;
    return { version: this.data.readInt16BE(start), type: this.data.readInt16BE(start + 2) };
  }

  /** A control batch whose (first) record is an ABORT marker, as Kafka's consumer tests it. */
  get isAbortMarker(): boolean {
    return this.isControl && this.count > 0 && this.data.readInt16BE(this.keyStart[0]! + 2) === ControlType.ABORT;
  }
}

/** Set by readVarint: the position after the varint it read. */
let varintEnd = 0;

/**
 * A zigzag varint at `pos`, in a region the parser already walked (so it is known to be well
 * formed).
 */
function readVarint(data: Buffer, pos: number): number {
  let raw = 0;
  let shift = 0;
  let byte: number;
  do {
    byte = data[pos++]!;
    raw |= (byte & 0x7f) << shift;
    shift += 7;
  } while (byte & 0x80);
  varintEnd = pos;
  return (raw >>> 1) ^ -(raw & 1);
}
