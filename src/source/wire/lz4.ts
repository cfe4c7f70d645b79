// LZ4 as Kafka writes it (record batch v2): the LZ4 frame format. Decoded by @platformatic/wasm-utils
// (lz4_flex in WebAssembly), which the Kafka client already ships and which measured 3x faster here
// than lz4-napi (docs/decisions.md, "Decompression"). The decoder has no output limit and wasm memory
// never shrinks, so the frame's block headers are walked first (no decompression) to bound what it
// can produce; a frame that could exceed the limit is refused before any byte is decoded.
import { lz4Decompress as wasmLz4Decompress } from '@platformatic/wasm-utils';
import { DecompressionError, needBytes } from './errors.js';

const FRAME_MAGIC = 0x184d2204;
/** 0x184D2A50-0x184D2A5F: skippable frames (any content, skipped). */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const BLOCK_MAX_SIZES: Record<number, number> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };
/** An LZ4 sequence can expand at most ~255:1 (each 255 byte of a length adds 255 bytes of output). */
const MAX_RATIO = 255;

export function lz4Decompress(input: Buffer, maxSize: number): Buffer {
  const bound = lz4FrameBound(input);
  if (bound > maxSize) throw new DecompressionError('lz4', 'too-large', `its frame can decode to up to ${bound} bytes > ${maxSize}`);
  let out: Buffer;
  try {
    out = wasmLz4Decompress(input);
  } catch (error) {
    // A wasm trap ("unreachable") on bad input; the module stays usable.
    throw new DecompressionError('lz4', 'corrupt', (error as Error).message, error);
  }
  if (out.length > bound) throw new DecompressionError('lz4', 'corrupt', `decoded ${out.length} bytes, more than its frame allows (${bound})`);
  return out;
}

/**
 * The most bytes the LZ4 frame(s) in `input` can decode to, from their headers alone: the declared
 * content size when present, else per block its stored size (uncompressed blocks) or the least of the
 * block maximum and 255 times its compressed size. Throws a DecompressionError on a malformed frame.
 */
export function lz4FrameBound(input: Buffer): number {
  let pos = 0;
  let total = 0;
  if (input.length === 0) throw corrupt('empty input');
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
    need(input, pos, 2, 'frame descriptor');
    const flg = input[pos]!;
    const bd = input[pos + 1]!;
    if (flg >> 6 !== 1) throw corrupt(`unsupported frame version ${flg >> 6}`);
    const blockChecksum = (flg & 0x10) !== 0;
    const hasContentSize = (flg & 0x08) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    const hasDictId = (flg & 0x01) !== 0;
    const blockMax = BLOCK_MAX_SIZES[(bd >> 4) & 7];
    if (blockMax === undefined) throw corrupt(`bad block maximum size id ${(bd >> 4) & 7}`);
    pos += 2;
    let contentSize = -1;
    if (hasContentSize) {
      need(input, pos, 8, 'content size');
      contentSize = Number(input.readBigUInt64LE(pos));
      pos += 8;
    }
    if (hasDictId) pos += 4;
    pos += 1; // header checksum (the decoder checks it)
    let frameBound = 0;
    for (;;) {
      need(input, pos, 4, 'block size');
      const word = input.readUInt32LE(pos);
      pos += 4;
      if (word === 0) break; // end mark
      const size = word & 0x7fffffff;
      const stored = word >>> 31 === 1;
      if (size > blockMax) throw corrupt(`block of ${size} bytes over the frame's maximum ${blockMax}`);
      need(input, pos, size + (blockChecksum ? 4 : 0), 'block');
      frameBound += stored ? size : Math.min(blockMax, size * MAX_RATIO);
      pos += size + (blockChecksum ? 4 : 0);
    }
    if (contentChecksum) {
      need(input, pos, 4, 'content checksum');
      pos += 4;
    }
    total += contentSize >= 0 ? Math.min(contentSize, frameBound) : frameBound;
  }
  return total;
}

const need = (input: Buffer, pos: number, bytes: number, what: string): void => needBytes('lz4', input, pos, bytes, what);

const corrupt = (detail: string) => new DecompressionError('lz4', 'corrupt', detail);
