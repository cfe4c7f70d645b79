// Record batches for the wire tests, written by the Kafka client's own writer (createRecordsBatch)
// and then patched where that writer has no option: the base offset, the LogAppendTime and control
// attribute bits (CRC-32C recomputed), a xerial-framed snappy payload.
import { createRecordsBatch, crc32c, type MessageRecord } from '@platformatic/kafka';
import { snappyCompress } from '@platformatic/wasm-utils';
import zlib from 'node:zlib';

export type Codec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface TestRecord {
  key: Buffer | null;
  value: Buffer | null;
  /** In order; null key or value allowed; repeated keys allowed. */
  headers: [Buffer | null, Buffer | null][];
  timestamp: bigint;
}

export interface BatchOptions {
  compression?: Codec;
  baseOffset?: bigint;
  producerId?: bigint;
  producerEpoch?: number;
  transactional?: boolean;
  logAppendTime?: boolean;
  /** Written into maxTimestamp when logAppendTime is set (the broker's append time). */
  appendTime?: bigint;
  partitionLeaderEpoch?: number;
}

/** The bytes of one v2 batch holding `records`. */
export function writeBatch(records: readonly TestRecord[], options: BatchOptions = {}): Buffer {
  const messages = records.map((r) => {
    const headers = writtenHeaders(r.headers);
    return { key: r.key, value: r.value, headers, topic: 't', partition: 0, timestamp: r.timestamp } as unknown as MessageRecord;
  });
  // Node 20 has no zstd encoder: the client writes those uncompressed and zstdFrame compresses them.
  const zstd = options.compression === 'zstd';
  const writer = createRecordsBatch(messages, {
    compression: zstd ? 'none' : (options.compression ?? 'none'),
    producerId: options.producerId ?? -1n,
    producerEpoch: options.producerEpoch ?? -1,
    partitionLeaderEpoch: options.partitionLeaderEpoch ?? 0,
    transactionalId: options.transactional ? 'tx' : undefined,
  } as Parameters<typeof createRecordsBatch>[1]);
  let batch: Buffer = Buffer.from(writer.buffer);
  if (zstd) batch = recompress(batch, 4, zstdFrame);
  batch.writeBigInt64BE(options.baseOffset ?? 0n, 0);
  if (options.logAppendTime) {
    batch.writeInt16BE(batch.readInt16BE(21) | 0x08, 21);
    if (options.appendTime !== undefined) batch.writeBigInt64BE(options.appendTime, 35);
    fixCrc(batch);
  }
  return batch;
}

/**
 * The headers as the client's writer takes them (a Map), in the order it writes them: distinct Buffer
 * objects make repeated keys possible, but a Map has one null key (at its first place, last value).
 */
export function writtenHeaders(headers: TestRecord['headers']): Map<Buffer, Buffer> {
  const map = new Map<Buffer | null, Buffer | null>();
  for (const [k, v] of headers) map.set(k === null ? null : Buffer.from(k), v);
  return map as Map<Buffer, Buffer>;
}

/** A control batch (transaction marker) of `producerId`: type 0 ABORT, 1 COMMIT. */
export function controlBatch(type: number, options: { baseOffset: bigint; producerId: bigint; producerEpoch?: number }): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0); // version
  key.writeInt16BE(type, 2);
  const value = Buffer.alloc(6); // version int16 + coordinator epoch int32
  const batch = writeBatch([{ key, value, headers: [], timestamp: 1_700_000_000_000n }], {
    baseOffset: options.baseOffset,
    producerId: options.producerId,
    producerEpoch: options.producerEpoch ?? 0,
    transactional: true,
  });
  batch.writeInt16BE(batch.readInt16BE(21) | 0x20, 21);
  fixCrc(batch);
  return batch;
}

/** Recomputes a batch's CRC-32C (attributes to the end) after a patch. */
export function fixCrc(batch: Buffer): void {
  batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
}

type ZstdSync = (input: Buffer) => Buffer;
const zlibZstd = (zlib as unknown as { zstdCompressSync?: ZstdSync }).zstdCompressSync;

/**
 * A zstd frame of `input`: compressed by node:zlib where Node has zstd, else (Node 20) a valid frame
 * of raw blocks, which still takes every decoder through zstd's framing.
 */
export function zstdFrame(input: Buffer): Buffer {
  if (zlibZstd) return zlibZstd(input);
  const header = Buffer.alloc(13);
  header.writeUInt32LE(0xfd2fb528, 0);
  header[4] = 0xe0; // single segment, frame content size in 8 bytes, no checksum, no dictionary
  header.writeBigUInt64LE(BigInt(input.length), 5);
  const parts: Buffer[] = [header];
  const max = 128 * 1024;
  for (let i = 0; i === 0 || i < input.length; i += max) {
    const block = input.subarray(i, i + max);
    const last = i + max >= input.length ? 1 : 0;
    const blockHeader = Buffer.alloc(3);
    blockHeader.writeUIntLE((block.length << 3) | last, 0, 3); // type 0: raw
    parts.push(blockHeader, block);
  }
  return Buffer.concat(parts);
}

/** An uncompressed batch rewritten with its records region compressed by `compress` as `codec`. */
export function recompress(uncompressed: Buffer, codec: number, compress: (records: Buffer) => Buffer): Buffer {
  const head = Buffer.from(uncompressed.subarray(0, 61));
  head.writeInt16BE((head.readInt16BE(21) & ~0x07) | codec, 21);
  const batch = Buffer.concat([head, compress(uncompressed.subarray(61))]);
  batch.writeInt32BE(batch.length - 12, 8);
  fixCrc(batch);
  return batch;
}

/** snappy-java's framing (what Kafka's Java producer writes) around raw snappy blocks. */
export function xerialFrame(chunks: readonly Buffer[]): Buffer {
  const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
  const parts: Buffer[] = [header];
  for (const chunk of chunks) {
    const block = snappyCompress(chunk);
    const length = Buffer.alloc(4);
    length.writeInt32BE(block.length, 0);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}

/**
 * Rewrites an uncompressed batch as a snappy one whose payload is xerial-framed in chunks of
 * `chunkSize` bytes (as snappy-java does with its 32 KiB blocks).
 */
export function toXerialSnappy(uncompressed: Buffer, chunkSize = 32 * 1024): Buffer {
  return recompress(uncompressed, 2, (records) => {
    const chunks: Buffer[] = [];
    for (let i = 0; i < records.length; i += chunkSize) chunks.push(records.subarray(i, i + chunkSize));
    return xerialFrame(chunks);
  });
}

/** Record i as test/fixtures/java/WireProduce.java writes it (and the integration test's other producers). */
export function wireRecord(i: number, codec: string): { key: string | null; value: string | null; headers: [string, string | null][] } {
  const headers: [string, string | null][] = [['seq', String(i)]];
  if (i % 3 === 0) headers.push(['dup', 'a'], ['dup', 'b'], ['nul', null]);
  return {
    key: i % 5 === 4 ? null : `k${i}`,
    value: i % 7 === 6 ? null : `{"i":${i},"codec":"${codec}","pad":"${'x'.repeat(i % 40)}..."}`,
    headers,
  };
}
