// `node dist/bench/record-batch.js [seconds-per-case]`: parse throughput of our record-batch parser
// (src/source/wire) against the Kafka client's readRecordsBatches on the same bytes: lz4 batches of
// the bench's ~500-byte JSON events, 1,840 records each (what kcat's 1 MB batch.size gives in
// `npm run bench`), six of them in one partition's fetched bytes. Also what decompression alone and
// the optional CRC-32C check cost. Figures only, no assertions (the machine is shared: compare rows
// of one run, not runs).
import { createRecordsBatch, crc32c, jsCRC32C, type MessageRecord, Reader, readRecordsBatches } from '@platformatic/kafka';
import { lz4Decompress } from '../src/source/wire/lz4.js';
import { parseRecordBatches } from '../src/source/wire/record-batch-parser.js';
import { tweet, tweetKey } from './lib/data.js';

const secondsPerCase = Number(process.argv[2] ?? 2);
const RECORDS_PER_BATCH = 1840;
const BATCHES = 6;

let n = 0;
const batches: Buffer[] = [];
let valueBytes = 0;
for (let b = 0; b < BATCHES; b++) {
  const messages: MessageRecord[] = [];
  for (let i = 0; i < RECORDS_PER_BATCH; i++, n++) {
    const value = Buffer.from(tweet(n));
    valueBytes += value.length;
    messages.push({ topic: 'bench', partition: 0, key: Buffer.from(tweetKey(n)), value, timestamp: BigInt(Date.UTC(2026, 10, 1) + n) });
  }
  batches.push(Buffer.from(createRecordsBatch(messages, { compression: 'lz4', producerId: -1n, producerEpoch: -1 } as Parameters<typeof createRecordsBatch>[1]).buffer));
}
const fetched = Buffer.concat(batches);
// The same records uncompressed: what the parsers cost apart from lz4.
const plain = Buffer.concat(
  parseRecordBatches(fetched).batches.map((batch, b) => {
    const head = Buffer.from(batches[b]!.subarray(0, 61));
    head.writeInt16BE(head.readInt16BE(21) & ~0x07, 21);
    head.writeInt32BE(61 - 12 + batch.data.length, 8);
    return Buffer.concat([head, batch.data]);
  }),
);
const records = RECORDS_PER_BATCH * BATCHES;
const uncompressed = parseRecordBatches(fetched).batches.reduce((sum, batch) => sum + batch.data.length, 0);

let sink = 0;
const cases: [string, () => void][] = [
  [
    'client readRecordsBatches (an object per record)',
    () => {
      for (const batch of readRecordsBatches(Reader.from(fetched))) sink += batch.records.length;
    },
  ],
  [
    'ours: parse (typed arrays, no object per record)',
    () => {
      for (const batch of parseRecordBatches(fetched).batches) sink += batch.count;
    },
  ],
  [
    'ours: parse + key(i) and value(i) Buffers',
    () => {
      for (const batch of parseRecordBatches(fetched).batches) {
        for (let i = 0; i < batch.count; i++) sink += batch.key(i)!.length + batch.value(i)!.length;
      }
    },
  ],
  [
    'ours: parse + offset, timestamp, key, value, headers per record',
    () => {
      for (const batch of parseRecordBatches(fetched).batches) {
        for (let i = 0; i < batch.count; i++) {
          sink += Number(batch.recordOffset(i) & 1n) + batch.recordTimestamp(i) + batch.key(i)!.length + batch.value(i)!.length + batch.headers(i).size;
        }
      }
    },
  ],
  [
    'uncompressed: client readRecordsBatches',
    () => {
      for (const batch of readRecordsBatches(Reader.from(plain))) sink += batch.records.length;
    },
  ],
  [
    'uncompressed: ours, parse',
    () => {
      for (const batch of parseRecordBatches(plain).batches) sink += batch.count;
    },
  ],
  [
    'uncompressed: ours, parse + key(i) and value(i) Buffers',
    () => {
      for (const batch of parseRecordBatches(plain).batches) {
        for (let i = 0; i < batch.count; i++) sink += batch.key(i)!.length + batch.value(i)!.length;
      }
    },
  ],
  [
    'ours: parse with verifyCrc (CRC-32C, wasm)',
    () => {
      for (const batch of parseRecordBatches(fetched, { verifyCrc: true }).batches) sink += batch.count;
    },
  ],
  [
    'lz4 decompression alone (wasm-utils)',
    () => {
      for (const batch of batches) sink += lz4Decompress(batch.subarray(61), 64 << 20).length;
    },
  ],
  [
    'CRC-32C alone, wasm (the client’s crc32c)',
    () => {
      for (const batch of batches) sink += crc32c(batch.subarray(21));
    },
  ],
  [
    'CRC-32C alone, JS table (the client’s jsCRC32C)',
    () => {
      for (const batch of batches) sink += jsCRC32C(batch.subarray(21));
    },
  ],
];

/** Milliseconds per run of `fn`: the median of rounds of ~100 ms after a warm-up. */
function measure(fn: () => void): number {
  const until = performance.now() + 300;
  while (performance.now() < until) fn();
  const rounds: number[] = [];
  const end = performance.now() + secondsPerCase * 1000;
  while (performance.now() < end) {
    let runs = 0;
    const start = performance.now();
    while (performance.now() - start < 100) {
      fn();
      runs++;
    }
    rounds.push((performance.now() - start) / runs);
  }
  rounds.sort((a, b) => a - b);
  return rounds[Math.floor(rounds.length / 2)]!;
}

const mb = (bytes: number) => bytes / (1 << 20);
console.log(
  `${BATCHES} lz4 batches × ${RECORDS_PER_BATCH} records = ${records} records, ${(valueBytes / records).toFixed(0)} B values; ` +
    `${mb(fetched.length).toFixed(2)} MB fetched, ${mb(uncompressed).toFixed(2)} MB of records decompressed; Node ${process.version}`,
);
console.log('');
console.log('| case | ms per fetch | records/s | MB/s (decompressed records) | vs client |');
console.log('|---|---:|---:|---:|---:|');
let client = 0;
for (const [name, fn] of cases) {
  const ms = measure(fn);
  if (client === 0) client = ms;
  const perRecord = /^(ours|client|uncompressed)/.test(name);
  console.log(
    `| ${name} | ${ms.toFixed(2)} | ${perRecord ? Math.round((records / ms) * 1000).toLocaleString('en') : ''} | ${(mb(uncompressed) / (ms / 1000)).toFixed(0)} | ${(client / ms).toFixed(2)}x |`,
  );
}
if (sink === -1) console.log(sink);
