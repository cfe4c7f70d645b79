// Zstandard: node:zlib's zstdDecompressSync where Node has it (>= 22.15 / 24), else zstddec (the
// reference decoder compiled to WebAssembly, as fast as zlib's here), so Node 20 reads zstd topics too.
// Not fzstd (pure JS): it loops forever on some corrupt frames (docs/decisions.md, "Decompression").
// The frame and block headers are walked first (no decompression): that bounds the output before
// anything is allocated, the same way on every Node version, and sizes zstddec's output buffer.
import zlib from 'node:zlib';
import { ZSTDDecoder } from 'zstddec';
import { DecompressionError, needBytes } from './errors.js';

type ZstdSync = (input: Buffer, options?: { maxOutputLength?: number }) => Buffer;
/** Undefined on Node 20 (and before 22.15). */
const zlibZstd = (zlib as unknown as { zstdDecompressSync?: ZstdSync }).zstdDecompressSync;

export type ZstdImplementation = 'node:zlib' | 'zstddec';
export const zstdImplementation: ZstdImplementation = zlibZstd ? 'node:zlib' : 'zstddec';

// zstddec compiles its WebAssembly asynchronously, once; decoding is synchronous after that.
const wasmDecoder = new ZSTDDecoder();
await wasmDecoder.init();

const FRAME_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const BLOCK_MAX = 128 << 10;
/** The window every decoder should support (RFC 8878); a larger one must also fit under the limit. */
const MIN_WINDOW_LIMIT = 8 << 20;

export function zstdDecompress(input: Buffer, maxSize: number, implementation: ZstdImplementation = zstdImplementation): Buffer {
  const bound = zstdFrameBound(input, Math.max(maxSize, MIN_WINDOW_LIMIT));
  if (bound > maxSize) throw new DecompressionError('zstd', 'too-large', `its frames can decode to up to ${bound} bytes > ${maxSize}`);
  let out: Buffer;
  try {
    if (implementation === 'node:zlib' && zlibZstd) {
      out = zlibZstd(input, { maxOutputLength: Math.max(1, maxSize) });
    } else {
      // Output capacity = the bound. zstddec does not check ZSTD_decompress's result: an error code
      // (negative in wasm32) comes back as an empty array, which no frame with content can decode to.
      const u8 = wasmDecoder.decode(input, bound);
      if (u8.length === 0 && bound > 0) throw new Error('zstd reference decoder refused the frame');
      out = Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
    }
  } catch (error) {
    throw new DecompressionError('zstd', 'corrupt', (error as Error).message, error);
  }
  if (out.length > bound) throw new DecompressionError('zstd', 'corrupt', `decoded ${out.length} bytes, more than its frames allow (${bound})`);
  return out;
}

/**
 * The most bytes the zstd frame(s) in `input` can decode to, from the headers alone: per frame its
 * declared content size when present, else the sum of its raw and RLE block sizes and, per compressed
 * block, the block maximum (min(window, 128 KiB)). Throws a DecompressionError on a malformed frame or
 * one whose window is over `windowLimit`.
 */
export function zstdFrameBound(input: Buffer, windowLimit: number): number {
  if (input.length === 0) throw corrupt('empty input');
  let pos = 0;
  let total = 0;
  while (pos < input.length) {
    need(input, pos, 4, 'frame magic');
    const magic = input.readUInt32LE(pos);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      need(input, pos + 4, 4, 'skippable frame size');
      const size = input.readUInt32LE(pos + 4);
      need(input, pos + 8, size, 'skippable frame');
      pos += 8 + size;
      continue;
    }
    if (magic !== FRAME_MAGIC) throw corrupt(`bad frame magic 0x${magic.toString(16)} at byte ${pos}`);
    pos += 4;
    need(input, pos, 1, 'frame header');
    const fhd = input[pos++]!;
    const fcsFlag = fhd >> 6;
    const singleSegment = (fhd & 0x20) !== 0;
    const checksum = (fhd & 0x04) !== 0;
    if ((fhd & 0x08) !== 0) throw corrupt('reserved frame header bit set');
    let window = 0;
    if (!singleSegment) {
      need(input, pos, 1, 'window descriptor');
      const wd = input[pos++]!;
      const base = 2 ** (10 + (wd >> 3));
      window = base + (base / 8) * (wd & 7);
    }
    pos += [0, 1, 2, 4][fhd & 3]!; // dictionary id
    const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : 2 ** fcsFlag;
    need(input, pos, fcsBytes, 'frame content size');
    let contentSize = -1;
    if (fcsBytes === 1) contentSize = input[pos]!;
    else if (fcsBytes === 2) contentSize = input.readUInt16LE(pos) + 256;
    else if (fcsBytes === 4) contentSize = input.readUInt32LE(pos);
    else if (fcsBytes === 8) contentSize = Number(input.readBigUInt64LE(pos));
    pos += fcsBytes;
    if (singleSegment) window = contentSize;
    if (window > windowLimit) throw new DecompressionError('zstd', 'too-large', `window of ${window} bytes > ${windowLimit}`);
    const blockMax = Math.min(window, BLOCK_MAX);
    let frameBound = 0;
    for (let last = false; !last; ) {
      need(input, pos, 3, 'block header');
      const header = input.readUIntLE(pos, 3);
      pos += 3;
      last = (header & 1) === 1;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (type === 3) throw corrupt(`reserved block type at byte ${pos - 3}`);
      if (size > BLOCK_MAX) throw corrupt(`block of ${size} bytes over 128 KiB`);
      const stored = type === 1 ? 1 : size; // an RLE block stores one byte, repeated `size` times
      need(input, pos, stored, 'block');
      pos += stored;
      frameBound += type === 2 ? blockMax : size;
    }
    if (checksum) {
      need(input, pos, 4, 'content checksum');
      pos += 4;
    }
    total += contentSize >= 0 ? Math.min(contentSize, frameBound) : frameBound;
  }
  return total;
}

const need = (input: Buffer, pos: number, bytes: number, what: string): void => needBytes('zstd', input, pos, bytes, what);

const corrupt = (detail: string) => new DecompressionError('zstd', 'corrupt', detail);
