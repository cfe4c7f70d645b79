// Snappy as Kafka producers write it: a raw snappy block (librdkafka, our client), or the xerial
// framing of snappy-java that Kafka's Java producer, Connect, Streams and the broker itself use:
//   magic 0x82 'SNAPPY' 0x00, int32 BE version, int32 BE compatible version,
//   then chunks of [int32 BE compressed length][raw snappy block].
// Kafka's Java consumer (through snappy-java's SnappyInputStream) reads a payload without the magic as
// one raw block; so do we. Blocks are decoded by `snappy` (napi-rs, prebuilt per platform), the fastest
// decoder measured here (docs/decisions.md, "Decompression").
import { uncompressSync } from 'snappy';
import { DecompressionError } from './errors.js';

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER = 16;

export function isXerialFramed(input: Buffer): boolean {
  return input.length >= XERIAL_MAGIC.length && input.compare(XERIAL_MAGIC, 0, XERIAL_MAGIC.length, 0, XERIAL_MAGIC.length) === 0;
}

/** Decodes a raw block or a xerial-framed stream, refusing more than `maxSize` bytes of output. */
export function snappyDecompress(input: Buffer, maxSize: number): Buffer {
  if (!isXerialFramed(input)) return decodeBlock(input, maxSize);
  if (input.length < XERIAL_HEADER) throw corrupt('xerial header truncated');
  // The block sizes are all known before decoding anything: check the total first.
  const blocks: Buffer[] = [];
  let total = 0;
  let pos = XERIAL_HEADER;
  while (pos < input.length) {
    if (input.length - pos < 4) throw corrupt(`xerial chunk length truncated at byte ${pos}`);
    const length = input.readInt32BE(pos);
    pos += 4;
    if (length < 0 || length > input.length - pos) throw corrupt(`xerial chunk of ${length} bytes at byte ${pos - 4} runs past the end (${input.length} bytes)`);
    const block = input.subarray(pos, pos + length);
    total += blockLength(block);
    if (total > maxSize) throw tooLarge(total, maxSize);
    blocks.push(block);
    pos += length;
  }
  if (blocks.length === 1) return decodeBlock(blocks[0]!, maxSize);
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const block of blocks) {
    const decoded = decodeBlock(block, maxSize);
    decoded.copy(out, at);
    at += decoded.length;
  }
  return out;
}

function decodeBlock(block: Buffer, maxSize: number): Buffer {
  const expected = blockLength(block);
  if (expected > maxSize) throw tooLarge(expected, maxSize);
  let out: Buffer;
  try {
    // copyOutputData: a V8-owned copy; the external buffer it otherwise makes costs ~5x more (GC).
    out = uncompressSync(block, { asBuffer: true, copyOutputData: true }) as Buffer;
  } catch (error) {
    throw corrupt((error as Error).message, error);
  }
  if (out.length !== expected) throw corrupt(`block decoded to ${out.length} bytes, its header says ${expected}`);
  return out;
}

/** A raw block's uncompressed length: its leading unsigned varint (at most 32 bits). */
function blockLength(block: Buffer): number {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    if (i >= block.length) throw corrupt('block length header truncated');
    const byte = block[i]!;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) {
      if (value > 0xffffffff) break;
      return value;
    }
  }
  throw corrupt('block length header is not a 32-bit varint');
}

const corrupt = (detail: string, cause?: unknown) => new DecompressionError('snappy', 'corrupt', detail, cause);
const tooLarge = (size: number, maxSize: number) => new DecompressionError('snappy', 'too-large', `${size} bytes > ${maxSize}`);
