import { readFileSync } from 'node:fs';
import { ZSTDDecoder } from 'zstddec';
import { decompress as fz } from 'fzstd';
import zlib from 'node:zlib';
import { zstdFrameBound } from './dist/src/source/wire/zstd.js';
const d = new ZSTDDecoder(); await d.init();
const raw = readFileSync('/tmp/raw1mb.bin');
for (const f of ['/tmp/zstd1mb.bin', '/tmp/zstd1mb-stream.bin']) {
  const z = readFileSync(f); const bound = zstdFrameBound(z, 64 << 20);
  console.log(f, 'FHD', z[4].toString(16), 'bound', bound);
  const cases = [['zstddec', () => d.decode(z, bound)], ['fzstd', () => fz(z)]];
  if (zlib.zstdDecompressSync) cases.push(['zlib', () => zlib.zstdDecompressSync(z)]);
  for (const [n, fn] of cases) { if (!Buffer.from(fn()).equals(raw)) throw n; const res = [];
    for (let round = 0; round < 5; round++) { const t = performance.now(); for (let k = 0; k < 40; k++) fn(); res.push((performance.now() - t) / 40); }
    res.sort((a, b) => a - b); console.log(' ', n.padEnd(8), res[2].toFixed(2), 'ms/MB'); }
}
