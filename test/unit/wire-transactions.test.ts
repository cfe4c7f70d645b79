import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRecordBatches } from '../../src/source/wire/record-batch-parser.js';
import { abortedBatches, type AbortedTransaction, type TransactionBatch } from '../../src/source/wire/transactions.js';
import { controlBatch, writeBatch } from '../helpers/wire-batches.js';

// A partition's batches in a table: data batches of a producer (transactional unless said), and
// its markers. `base` and `last` are offsets; a marker takes one offset.
type Row = ['data', bigint, bigint, number, boolean?] | ['abort' | 'commit', bigint, number] | ['plain', bigint, bigint];

function batches(rows: Row[]): TransactionBatch[] {
  return rows.map((row): TransactionBatch => {
    switch (row[0]) {
      case 'data':
        return { producerId: BigInt(row[3]), isTransactional: row[4] ?? true, lastOffset: row[2], isAbortMarker: false };
      case 'abort':
      case 'commit':
        return { producerId: BigInt(row[2]), isTransactional: true, lastOffset: row[1], isAbortMarker: row[0] === 'abort' };
      case 'plain':
        return { producerId: -1n, isTransactional: false, lastOffset: row[2], isAbortMarker: false };
    }
  });
}

const aborted = (...list: [number, bigint][]): AbortedTransaction[] => list.map(([producerId, firstOffset]) => ({ producerId: BigInt(producerId), firstOffset }));

const cases: { name: string; rows: Row[]; aborted: AbortedTransaction[] | null; expect: boolean[] }[] = [
  {
    name: 'no aborted transactions: nothing is skipped (read_uncommitted gives null)',
    rows: [['data', 0n, 4n, 1], ['commit', 5n, 1]],
    aborted: null,
    expect: [false, false],
  },
  {
    name: 'an aborted transaction with its marker in this response',
    rows: [['data', 0n, 4n, 1], ['data', 5n, 9n, 1], ['abort', 10n, 1], ['data', 11n, 12n, 1], ['commit', 13n, 1]],
    aborted: aborted([1, 0n]),
    expect: [true, true, false, false, false],
  },
  {
    name: 'the abort marker in a later fetch (not in this response): its data is still skipped',
    rows: [['data', 100n, 104n, 7], ['data', 105n, 109n, 7]],
    aborted: aborted([7, 100n]),
    expect: [true, true],
  },
  {
    name: 'an aborted transaction that began in an earlier fetch (firstOffset before this response)',
    rows: [['data', 50n, 54n, 7], ['abort', 55n, 7], ['data', 56n, 57n, 7], ['commit', 58n, 7]],
    aborted: aborted([7, 30n]),
    expect: [true, false, false, false],
  },
  {
    name: 'two aborts by one producer in one response (the second is added again at its firstOffset)',
    rows: [['data', 0n, 1n, 3], ['abort', 2n, 3], ['data', 3n, 4n, 3], ['commit', 5n, 3], ['data', 6n, 7n, 3], ['abort', 8n, 3], ['data', 9n, 9n, 3]],
    aborted: aborted([3, 0n], [3, 6n]),
    expect: [true, false, false, false, true, false, false],
  },
  {
    name: 'interleaved producers: only the aborting one is skipped',
    rows: [['data', 0n, 1n, 1], ['data', 2n, 3n, 2], ['data', 4n, 5n, 1], ['abort', 6n, 1], ['data', 7n, 8n, 2], ['commit', 9n, 2], ['data', 10n, 11n, 1]],
    aborted: aborted([1, 0n]),
    expect: [true, false, true, false, false, false, false],
  },
  {
    name: 'interleaved aborts of two producers, listed out of order',
    rows: [['data', 0n, 0n, 1], ['data', 1n, 1n, 2], ['abort', 2n, 2], ['data', 3n, 3n, 1], ['abort', 4n, 1], ['data', 5n, 5n, 2], ['commit', 6n, 2]],
    aborted: aborted([2, 1n], [1, 0n]),
    expect: [true, true, false, true, false, false, false],
  },
  {
    name: 'commit markers: a committed transaction of a producer that aborted before stays',
    rows: [['data', 0n, 0n, 5], ['abort', 1n, 5], ['data', 2n, 3n, 5], ['commit', 4n, 5]],
    aborted: aborted([5, 0n]),
    expect: [true, false, false, false],
  },
  {
    name: 'non-transactional batches are untouched, even of a producer id in the aborted set (idempotent)',
    rows: [['data', 0n, 1n, 9], ['plain', 2n, 3n], ['data', 4n, 5n, 9, false], ['abort', 6n, 9], ['plain', 7n, 7n]],
    aborted: aborted([9, 0n]),
    expect: [true, false, false, false, false],
  },
  {
    name: 'an aborted transaction that starts inside a batch (firstOffset <= its last offset) covers it',
    rows: [['data', 10n, 19n, 4], ['abort', 20n, 4]],
    aborted: aborted([4, 15n]),
    expect: [true, false],
  },
  {
    name: 'an aborted transaction starting after the data of the same producer leaves that data alone',
    rows: [['data', 0n, 4n, 4], ['commit', 5n, 4], ['data', 6n, 7n, 4], ['abort', 8n, 4]],
    aborted: aborted([4, 6n]),
    expect: [false, false, true, false],
  },
];

describe('abortedBatches (read_committed, as the Java consumer decides)', () => {
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(abortedBatches(batches(c.rows), c.aborted), c.expect));
  }

  it('works on parsed batches: data, marker and the parsed isAbortMarker', () => {
    const bytes = Buffer.concat([
      writeBatch([{ key: null, value: Buffer.from('x'), headers: [], timestamp: 1n }], { baseOffset: 0n, producerId: 11n, producerEpoch: 0, transactional: true }),
      writeBatch([{ key: null, value: Buffer.from('y'), headers: [], timestamp: 1n }], { baseOffset: 1n, producerId: 12n, producerEpoch: 0, transactional: true }),
      controlBatch(0, { baseOffset: 2n, producerId: 11n }),
      controlBatch(1, { baseOffset: 3n, producerId: 12n }),
      writeBatch([{ key: null, value: Buffer.from('z'), headers: [], timestamp: 1n }], { baseOffset: 4n, producerId: 11n, producerEpoch: 0, transactional: true }),
    ]);
    const parsed = parseRecordBatches(bytes).batches;
    assert.deepEqual(abortedBatches(parsed, aborted([11, 0n])), [true, false, false, false, false]);
  });
});
