// Worker of test/unit/record-batch-properties.test.ts: random byte mutations (and cuts) of valid batches
// (random ones of every codec, and one written by Kafka's Java producer with zstd) must parse, with
// every accessor usable, or throw a BatchFormatError; nothing else. Runs here so that a decoder that
// loops forever fails the test (the test thread terminates this worker) instead of hanging it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { BatchFormatError } from '../../src/source/wire/errors.js';
import { parseRecordBatches } from '../../src/source/wire/record-batch-parser.js';
import { batchArb, touch, write } from './batch-arbitraries.js';
import { writeBatch } from './wire-batches.js';

const { seed, numRuns } = workerData as { seed: number; numRuns: number };
const javaZstd = readFileSync(path.resolve(import.meta.dirname, '../../../test/unit/fixtures/zstd-java-batch.bin'));
const validBatches = fc.oneof(
  batchArb.map(({ h, records }) => write(h, records)),
  fc.constant(javaZstd),
);
const mutation = fc.record({
  flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
  cutFromEnd: fc.option(fc.nat({ max: 64 }), { nil: undefined }),
  verifyCrc: fc.boolean(),
});

let parsed = 0;
let refused = 0;
function parseOrRefuse(input: Buffer, verifyCrc = false): void {
  try {
    parseRecordBatches(input, { verifyCrc, maxDecompressedBytes: 4 << 20 }).batches.forEach(touch);
    parsed++;
  } catch (error) {
    if (!(error instanceof BatchFormatError)) throw error;
    refused++;
  }
}

try {
  fc.assert(
    fc.property(validBatches, mutation, (valid, m) => {
      const bytes = Buffer.from(valid);
      for (const [at, value] of m.flips) bytes[at % bytes.length] = value;
      parseOrRefuse(m.cutFromEnd === undefined ? bytes : bytes.subarray(0, Math.max(0, bytes.length - m.cutFromEnd)), m.verifyCrc);
    }),
    { seed, numRuns },
  );
  // Where the lengths live: the header and the first records of uncompressed batches.
  fc.assert(
    fc.property(batchArb, fc.array(fc.tuple(fc.nat({ max: 120 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }), ({ h, records }, flips) => {
      const bytes = writeBatch(records, { baseOffset: h.baseOffset });
      for (const [at, value] of flips) bytes[at % bytes.length] = value;
      parseOrRefuse(bytes);
    }),
    { seed, numRuns },
  );
  parentPort!.postMessage({ parsed, refused });
} catch (error) {
  parentPort!.postMessage({ error: (error as Error).stack ?? String(error) });
}
