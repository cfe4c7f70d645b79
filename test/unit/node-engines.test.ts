// package.json `engines` against what the production dependencies declare (docs/decisions.md, "Node.js
// versions"), and the two declared exceptions checked where it matters: on the Node.js running the
// tests (CI runs these on 24 and on 20), the Kafka client's @platformatic/dynamic-buffer and
// @platformatic/wasm-utils do what our code paths use them for, although they declare node >= 22.19.
import { DynamicBuffer } from '@platformatic/dynamic-buffer';
import { crc32c, lz4Compress, lz4Decompress, snappyCompress, snappyDecompress } from '@platformatic/wasm-utils';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import semver from 'semver';
import { compressSync, uncompressSync } from 'snappy';
import { repoRoot } from '../../scripts/stack/layout.js';

const readJson = <T>(file: string): T => JSON.parse(readFileSync(path.join(repoRoot, file), 'utf8')) as T;
const ours = readJson<{ engines: { node: string } }>('package.json').engines.node;
const lock = readJson<{ packages: Record<string, { dev?: boolean; engines?: { node?: string } | string[] }> }>('package-lock.json');

/** Dependencies that declare a newer Node.js than we support, checked below to work on it anyway. */
const ALLOWED_BELOW_DECLARED: Record<string, string> = {
  '@platformatic/dynamic-buffer': '20.19.4',
  '@platformatic/wasm-utils': '20.19.4',
};

/** The first version of each release line `engines` allows: 20.19.4, 22.19.0, 24.6.0. */
const floors = ours.split('||').map((part) => semver.minVersion(part.trim())!.version);

/** Text with every byte value, repetitive enough to compress, longer than wasm-utils' first 4 KiB buffer. */
const sample = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `${i % 97} kafka ${String.fromCharCode(i % 256)}`).join(' '), 'latin1');

describe('Node.js versions', () => {
  it('engines allows the running Node.js and starts each release line where its dependencies do', () => {
    assert.ok(semver.satisfies(process.version, ours), `${process.version} is outside engines ${ours}`);
    const unmet: string[] = [];
    for (const [location, entry] of Object.entries(lock.packages)) {
      const declared = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      if (!location || entry.dev || !declared) continue;
      const name = location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length);
      for (const floor of floors) {
        if (semver.satisfies(floor, declared) || ALLOWED_BELOW_DECLARED[name] === floor) continue;
        unmet.push(`${name} declares node ${declared}, engines allows ${floor}`);
      }
    }
    assert.deepEqual(unmet, [], 'a dependency no longer supports a Node.js version engines allows: check it and update engines, docs/decisions.md and the README');
  });

  it('@platformatic/wasm-utils: crc32c, lz4 and snappy give the right bytes', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283); // the CRC-32C check value
    const lz4 = lz4Compress(sample);
    assert.ok(lz4.length < sample.length);
    assert.ok(lz4Decompress(lz4).equals(sample));
    // Raw snappy blocks, interchangeable with the native `snappy` package our fetch path decodes with.
    const snappy = snappyCompress(sample);
    assert.ok((uncompressSync(snappy, { asBuffer: true }) as Buffer).equals(sample));
    assert.ok(snappyDecompress(compressSync(sample)).equals(sample));
  });

  it('@platformatic/dynamic-buffer: writes and reads across chunks as the Kafka protocol does', () => {
    const out = new DynamicBuffer();
    out.writeInt32BE(-7);
    out.writeUnsignedVarInt(300);
    // A record's timestamp delta (varlong). Its 64-bit varints are right within 32 bits only (zigzag
    // shifts by 31, not 63; the write loop masks bits 7-31), on every Node.js version: a delta beyond
    // ±2^31 ms (~24.8 days) comes out wrong, which is the library's limit, not Node's.
    out.writeVarInt64(-1234567890n);
    out.writeUnsignedVarInt64(2n ** 32n - 1n);
    out.writeBigInt64BE(2n ** 62n);
    out.append(Buffer.from('payload'));
    // Re-read from chunks split at every position: values straddle the chunk boundaries.
    const bytes = out.buffer;
    for (let cut = 1; cut < bytes.length; cut++) {
      const input = new DynamicBuffer([bytes.subarray(0, cut), bytes.subarray(cut)]);
      assert.equal(input.readInt32BE(0), -7);
      const [varint, varintSize] = input.readUnsignedVarInt(4);
      assert.equal(varint, 300);
      const [big, bigSize] = input.readVarInt64(4 + varintSize);
      assert.equal(big, -1234567890n);
      const [unsigned, unsignedSize] = input.readUnsignedVarInt64(4 + varintSize + bigSize);
      assert.equal(unsigned, 2n ** 32n - 1n);
      const at = 4 + varintSize + bigSize + unsignedSize;
      assert.equal(input.readBigInt64BE(at), 2n ** 62n);
      assert.equal(input.subarray(at + 8).toString(), 'payload');
      assert.ok(input.slice(0, bytes.length).equals(bytes));
    }
  });
});
