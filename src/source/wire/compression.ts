// One entry point for the record-batch codecs (attributes bits 0-2): gzip through node:zlib, and the
// codec modules for snappy, lz4 and zstd. Every decoder is bounded by `maxSize` (a decompression
// bomb is refused, not allocated) and throws only DecompressionError.
import zlib from 'node:zlib';
import { DecompressionError } from './errors.js';
import { lz4Decompress } from './lz4.js';
import { snappyDecompress } from './snappy.js';
import { zstdDecompress } from './zstd.js';

/** Codec ids as in a record batch's attributes (bits 0-2). */
export const Compression = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CompressionCodec = (typeof Compression)[keyof typeof Compression];

/** The default bound on one batch's decompressed records (64 MiB: 64x Kafka's default max.message.bytes). */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 << 20;

/**
 * Decompresses a record batch's records region written with `codec` (1-4; 0 returns `input`), to at
 * most `maxSize` bytes.
 */
export function decompress(codec: number, input: Buffer, maxSize = DEFAULT_MAX_DECOMPRESSED_BYTES): Buffer {
  switch (codec) {
    case Compression.none:
      if (input.length > maxSize) throw new DecompressionError('none', 'too-large', `${input.length} bytes > ${maxSize}`);
      return input;
    case Compression.gzip:
      return gunzip(input, maxSize);
    case Compression.snappy:
      return snappyDecompress(input, maxSize);
    case Compression.lz4:
      return lz4Decompress(input, maxSize);
    case Compression.zstd:
      return zstdDecompress(input, maxSize);
    default:
      // The batch parser reports an unknown codec itself; reaching this is a caller's bug.
      throw new RangeError(`unknown compression codec ${codec}`);
  }
}

function gunzip(input: Buffer, maxSize: number): Buffer {
  let out: Buffer;
  try {
    out = zlib.gunzipSync(input, { maxOutputLength: Math.max(1, maxSize) });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new DecompressionError('gzip', 'too-large', `more than ${maxSize} bytes`, error);
    throw new DecompressionError('gzip', 'corrupt', (error as Error).message, error);
  }
  if (out.length > maxSize) throw new DecompressionError('gzip', 'too-large', `${out.length} bytes > ${maxSize}`);
  return out;
}
