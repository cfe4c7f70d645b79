import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { lz4Compress, snappyCompress } from '@platformatic/wasm-utils';
import { Compression, decompress } from '../../src/source/wire/compression.js';
import { DecompressionError } from '../../src/source/wire/errors.js';
import { lz4FrameBound } from '../../src/source/wire/lz4.js';
import { snappyDecompress } from '../../src/source/wire/snappy.js';
import { zstdDecompress, zstdFrameBound, zstdImplementation } from '../../src/source/wire/zstd.js';
import { xerialFrame, zstdFrame } from '../helpers/wire-batches.js';

/** A batch written by test/fixtures/java/WireProduce.java with compression.type=zstd (records 3-49). */
const javaZstdBatch = readFileSync(path.resolve(import.meta.dirname, '../../../test/unit/fixtures/zstd-java-batch.bin'));

const text = Buffer.from(Array.from({ length: 2000 }, (_, i) => `{"id":${i},"text":"record number ${i}"}`).join('\n'));

const isError = (codec: string, reason: 'corrupt' | 'too-large', detail?: RegExp) => (e: unknown) =>
  e instanceof DecompressionError && e.codec === codec && e.reason === reason && (!detail || detail.test(e.message));

/** A zstd frame header without a content size: magic, descriptor, window descriptor. */
function zstdHeader(windowDescriptor: number): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt32LE(0xfd2fb528, 0);
  header[4] = 0x00; // no content size, not single segment, no checksum, no dictionary
  header[5] = windowDescriptor;
  return header;
}

/** A zstd block header (3 bytes): last flag, type (0 raw, 1 RLE, 2 compressed), size. */
function zstdBlock(type: number, size: number, last: boolean, payload: Buffer): Buffer {
  const header = Buffer.alloc(3);
  header.writeUIntLE((size << 3) | (type << 1) | (last ? 1 : 0), 0, 3);
  return Buffer.concat([header, payload]);
}

describe('decompress', () => {
  it('round-trips every codec', () => {
    const compressed: [number, Buffer][] = [
      [Compression.none, text],
      [Compression.gzip, zlib.gzipSync(text)],
      [Compression.snappy, snappyCompress(text)],
      [Compression.snappy, xerialFrame([text.subarray(0, 30_000), text.subarray(30_000)])],
      [Compression.lz4, lz4Compress(text)],
      [Compression.zstd, zstdFrame(text)],
    ];
    for (const [codec, input] of compressed) assert.deepEqual(decompress(codec, input, 1 << 20), text, `codec ${codec}`);
  });

  it('zstd decodes with zstddec as on Node 20, whatever this Node has', () => {
    assert.deepEqual(zstdDecompress(zstdFrame(text), 1 << 20, 'zstddec'), text);
    assert.ok(['node:zlib', 'zstddec'].includes(zstdImplementation));
  });

  it('zstd: a real frame of Kafka’s Java producer (zstd-jni: no content size, 2 MiB window) decodes', () => {
    const frame = javaZstdBatch.subarray(61);
    assert.equal(frame[4], 0x00, 'no content size, not single segment');
    const out = zstdDecompress(frame, 1 << 20, 'zstddec');
    assert.equal(out.length, 3198);
    assert.deepEqual(decompress(Compression.zstd, frame, 1 << 20), out);
  });
});

describe('decoders refuse bad input with a DecompressionError', () => {
  const garbage = Buffer.from('this is not compressed data at all, not in any codec');
  for (const [codec, name] of [
    [Compression.gzip, 'gzip'],
    [Compression.snappy, 'snappy'],
    [Compression.lz4, 'lz4'],
    [Compression.zstd, 'zstd'],
  ] as const) {
    it(`${name}: garbage, empty and truncated input`, () => {
      assert.throws(() => decompress(codec, garbage, 1 << 20), isError(name, 'corrupt'));
      assert.throws(() => decompress(codec, Buffer.alloc(0), 1 << 20), isError(name, 'corrupt'));
      const good = { gzip: zlib.gzipSync(text), snappy: xerialFrame([text]), lz4: lz4Compress(text), zstd: zstdFrame(text) }[name];
      for (const cut of [1, 5, 17, Math.floor(good.length / 2), good.length - 1]) {
        assert.throws(() => decompress(codec, good.subarray(0, cut), 1 << 20), isError(name, 'corrupt'), `cut at ${cut}`);
      }
    });
  }

  it('snappy: a corrupt raw block, a bad xerial chunk length', () => {
    const block = snappyCompress(text);
    const bad = Buffer.from(block);
    bad.fill(0xff, 10, 40);
    assert.throws(() => snappyDecompress(bad, 1 << 20), isError('snappy', 'corrupt'));
    const framed = xerialFrame([text]);
    framed.writeInt32BE(-1, 16);
    assert.throws(() => snappyDecompress(framed, 1 << 20), isError('snappy', 'corrupt', /chunk of -1 bytes/));
    framed.writeInt32BE(framed.length, 16);
    assert.throws(() => snappyDecompress(framed, 1 << 20), isError('snappy', 'corrupt', /runs past the end/));
  });

  it('zstd: a corrupt Java frame on which fzstd loops forever is refused at once, by both decoders', () => {
    const corrupt = readFileSync(path.resolve(import.meta.dirname, '../../../test/unit/fixtures/zstd-corrupt-frame.bin'));
    for (const implementation of ['zstddec', zstdImplementation] as const) {
      assert.throws(() => zstdDecompress(corrupt, 1 << 20, implementation), isError('zstd', 'corrupt'), implementation);
    }
    assert.deepEqual(zstdDecompress(zstdFrame(text), 1 << 20, 'zstddec'), text, 'still decodes after an error');
  });

  it('lz4: the wasm decoder keeps working after it trapped on bad input', () => {
    const bad = lz4Compress(text);
    bad.fill(0x11, 20, 60);
    for (let i = 0; i < 50; i++) assert.throws(() => decompress(Compression.lz4, bad, 1 << 20), isError('lz4', 'corrupt'));
    assert.deepEqual(decompress(Compression.lz4, lz4Compress(text), 1 << 20), text);
  });
});

describe('decompression bombs are refused before they are decoded', () => {
  const zeros = Buffer.alloc(8 << 20);

  it('gzip: stops at maxSize', () => {
    const bomb = zlib.gzipSync(zeros);
    assert.ok(bomb.length < 10_000);
    assert.throws(() => decompress(Compression.gzip, bomb, 1 << 20), isError('gzip', 'too-large'));
  });

  it('snappy: the block header (raw or in every xerial chunk) says the size', () => {
    assert.throws(() => decompress(Compression.snappy, snappyCompress(zeros), 1 << 20), isError('snappy', 'too-large', /8388608 bytes > 1048576/));
    const chunks = Array.from({ length: 40 }, () => zeros.subarray(0, 32 << 10));
    assert.throws(() => decompress(Compression.snappy, xerialFrame(chunks), 1 << 20), isError('snappy', 'too-large'));
    // A header that lies (a 4 GiB block of a few bytes) is refused without an allocation.
    const liar = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
    assert.throws(() => decompress(Compression.snappy, liar, 64 << 20), isError('snappy', 'too-large'));
  });

  it('lz4: bounded by the frame block sizes', () => {
    const bomb = lz4Compress(zeros);
    assert.ok(lz4FrameBound(bomb) >= zeros.length);
    assert.throws(() => decompress(Compression.lz4, bomb, 1 << 20), isError('lz4', 'too-large'));
    assert.deepEqual(decompress(Compression.lz4, bomb, 16 << 20), zeros);
  });

  it('zstd: a content size over the limit, a window over the limit, too many RLE blocks', () => {
    assert.throws(() => decompress(Compression.zstd, zstdFrame(zeros), 1 << 20), isError('zstd', 'too-large'));
    // A 2 GiB window (exponent 21) with one small raw block: refused on every Node version alike.
    const hugeWindow = Buffer.concat([zstdHeader(21 << 3), zstdBlock(0, 3, true, Buffer.from('abc'))]);
    assert.throws(() => decompress(Compression.zstd, hugeWindow, 64 << 20), isError('zstd', 'too-large', /window/));
    // 1 MiB window, each RLE block 128 KiB of one byte: 4 bytes each on the wire.
    const rle = Array.from({ length: 100 }, (_, i) => zstdBlock(1, 128 << 10, i === 99, Buffer.from([0x41])));
    const rleBomb = Buffer.concat([zstdHeader(10 << 3), ...rle]);
    assert.equal(zstdFrameBound(rleBomb, 1 << 30), 100 * (128 << 10));
    assert.throws(() => decompress(Compression.zstd, rleBomb, 1 << 20), isError('zstd', 'too-large'));
    const small = Buffer.concat([zstdHeader(10 << 3), ...rle.slice(0, 2).map((_, i) => zstdBlock(1, 128 << 10, i === 1, Buffer.from([0x41])))]);
    for (const implementation of ['zstddec', zstdImplementation] as const) {
      assert.deepEqual(zstdDecompress(small, 1 << 20, implementation), Buffer.alloc(256 << 10, 0x41));
    }
  });

  it('none: a region over the limit too', () => {
    assert.throws(() => decompress(Compression.none, zeros, 1 << 20), isError('none', 'too-large'));
  });
});
