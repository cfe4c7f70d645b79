// Property tests of the record-batch parser: random record sets written as batches by the client's
// writer with every codec (and xerial snappy) read back field by field; random byte mutations of
// valid batches either parse or fail with a BatchFormatError, never anything else. The seed is
// printed first (and by fast-check on a failure); FC_SEED=<n> replays one run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { parseRecordBatches } from '../../src/source/wire/record-batch-parser.js';
import { batchArb, check, write } from '../helpers/batch-arbitraries.js';
import { testSeed } from '../helpers/random.js';

const seed = testSeed('record-batch properties (fast-check)', ['FC_SEED']);

describe('record batches: properties', () => {
  it('random records written with every codec read back field by field', { timeout: 30_000 }, () => {
    fc.assert(
      fc.property(fc.array(batchArb, { minLength: 1, maxLength: 3 }), (specs) => {
        const buffers = specs.map(({ h, records }) => write(h, records));
        const all = Buffer.concat(buffers);
        const result = parseRecordBatches(all, { verifyCrc: true });
        assert.equal(result.batches.length, specs.length);
        assert.equal(result.consumed, all.length);
        assert.equal(result.truncated, false);
        specs.forEach(({ h, records }, n) => check(result.batches[n]!, h, records));
        // Cut anywhere in the last batch: the ones before it are read, the cut one is reported.
        const cut = all.length - 1 - ((specs.length * 7919) % (buffers.at(-1)!.length - 1));
        const partial = parseRecordBatches(all.subarray(0, cut));
        assert.equal(partial.batches.length, specs.length - 1);
        assert.equal(partial.truncated, true);
      }),
      { seed, numRuns: 100 },
    );
  });

  it('random byte mutations of valid batches parse or throw BatchFormatError, nothing else, and never hang', { timeout: 120_000 }, async () => {
    // In a worker: a decoder stuck in a loop (fzstd did) cannot be interrupted on this thread.
    const worker = new Worker(new URL('../helpers/batch-mutations.js', import.meta.url), { workerData: { seed, numRuns: 300 } });
    const outcome = await new Promise<{ error?: string; parsed?: number; refused?: number }>((resolve) => {
      const timer = setTimeout(() => resolve({ error: `no answer in 60 s: a hang (FC_SEED=${seed} replays it)` }), 60_000);
      worker.once('message', (message: { error?: string; parsed?: number; refused?: number }) => {
        clearTimeout(timer);
        resolve(message);
      });
      worker.once('error', (error) => {
        clearTimeout(timer);
        resolve({ error: error.stack ?? String(error) });
      });
    });
    await worker.terminate();
    assert.equal(outcome.error, undefined, outcome.error);
    console.log(`mutations: ${outcome.parsed} parsed, ${outcome.refused} refused with a BatchFormatError`);
  });
});
