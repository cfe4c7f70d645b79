// `node dist/bench/decompression.js [seconds-per-case]`: the record-batch codecs on a realistic 1 MB
// records region (the bench's ~500-byte JSON events): the decoders src/source/wire uses, and the
// alternatives that are installed. Figures only (docs/decisions.md, "Decompression").
import zlib from 'node:zlib';
import { lz4Compress, snappyCompress, snappyDecompress as wasmSnappy } from '@platformatic/wasm-utils';
import { uncompressSync } from 'snappy';
import { decompress } from '../src/source/wire/compression.js';
import { snappyDecompress } from '../src/source/wire/snappy.js';
import { zstdDecompress } from '../src/source/wire/zstd.js';
import { tweet, tweetKey } from './lib/data.js';

const secondsPerCase = Number(process.argv[2] ?? 1.5);
const parts: Buffer[] = [];
for (let size = 0, i = 0; size < 1 << 20; i++) {
  const record = Buffer.from(tweetKey(i) + tweet(i));
  parts.push(record);
  size += record.length;
}
const raw = Buffer.concat(parts);
const MAX = 64 << 20;

/** snappy-java's framing: 32 KiB chunks, as Kafka's Java producer writes snappy. */
function xerial(input: Buffer): Buffer {
  const out: Buffer[] = [Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1])];
  for (let i = 0; i < input.length; i += 32 << 10) {
    const block = snappyCompress(input.subarray(i, i + (32 << 10)));
    const length = Buffer.alloc(4);
    length.writeInt32BE(block.length);
    out.push(length, block);
  }
  return Buffer.concat(out);
}

// A zstd frame needs an encoder: node:zlib has one from Node 22.15; on Node 20 zstd is measured on the
// Java producer's frames only in the unit tests.
const zstdCompressSync = (zlib as unknown as { zstdCompressSync?: (b: Buffer) => Buffer }).zstdCompressSync;
const snappyBlock = snappyCompress(raw);
const gzip = zlib.gzipSync(raw);
const lz4 = lz4Compress(raw);
const snappyFramed = xerial(raw);
const zstd = zstdCompressSync?.(raw);

const cases: [string, Buffer, () => Buffer | Uint8Array][] = [
  ['gzip: node:zlib (used)', gzip, () => decompress(1, gzip, MAX)],
  ['snappy block: snappy napi-rs, copyOutputData (used)', snappyBlock, () => decompress(2, snappyBlock, MAX)],
  ['snappy block: snappy napi-rs, external buffer', snappyBlock, () => uncompressSync(snappyBlock, { asBuffer: true }) as Buffer],
  ['snappy block: @platformatic/wasm-utils', snappyBlock, () => wasmSnappy(snappyBlock)],
  ['snappy xerial 32 KiB chunks (used)', snappyFramed, () => snappyDecompress(snappyFramed, MAX)],
  ['lz4 frame: @platformatic/wasm-utils + frame bound (used)', lz4, () => decompress(3, lz4, MAX)],
];
if (zstd) {
  cases.push(['zstd: node:zlib (used on Node >= 22.15)', zstd, () => zstdDecompress(zstd, MAX, 'node:zlib')]);
  cases.push(['zstd: zstddec wasm (used on Node 20)', zstd, () => zstdDecompress(zstd, MAX, 'zstddec')]);
}

function measure(fn: () => unknown): number {
  const until = performance.now() + 200;
  while (performance.now() < until) fn();
  const rounds: number[] = [];
  const end = performance.now() + secondsPerCase * 1000;
  while (performance.now() < end) {
    let runs = 0;
    const start = performance.now();
    while (performance.now() - start < 50) {
      fn();
      runs++;
    }
    rounds.push((performance.now() - start) / runs);
  }
  rounds.sort((a, b) => a - b);
  return rounds[Math.floor(rounds.length / 2)]!;
}

console.log(`${(raw.length / (1 << 20)).toFixed(2)} MB of records (${parts.length} events); Node ${process.version}${zstd ? '' : ' (no zstd encoder here: run on Node >= 22.15 for zstd)'}`);
console.log('');
console.log('| decoder | ratio | ms per MB | MB/s |');
console.log('|---|---:|---:|---:|');
for (const [name, input, fn] of cases) {
  const out = fn();
  if (Buffer.compare(Buffer.from(out.buffer, out.byteOffset, out.byteLength), raw) !== 0) throw new Error(`${name}: wrong output`);
  const ms = measure(fn) / (raw.length / (1 << 20));
  console.log(`| ${name} | ${(raw.length / input.length).toFixed(2)} | ${ms.toFixed(2)} | ${(1000 / ms).toFixed(0)} |`);
}
