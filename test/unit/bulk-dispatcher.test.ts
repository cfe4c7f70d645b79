import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BulkDispatcher, type BulkTransport, SLOW_REQUEST_MS } from '../../src/sink/bulk-dispatcher.js';
import type { ItemOutcome } from '../../src/sink/bulk-response.js';
import { encode, type EncodedOperation } from '../../src/sink/encoder.js';
import { ConcurrencyLimit } from '../../src/sink/concurrency-limit.js';
import { SearchHttpError } from '../../src/sink/search-client.js';

const batch = (partition: number, n: number): EncodedOperation[] =>
  Array.from({ length: n }, (_, i) => encode({ action: 'index', index: 'i', id: `p${partition}-${i}`, source: '{"a":1}' }));

/** Records every request; answers each item `acked` unless `answer` says otherwise; can hold answers. */
class RecordingTransport implements BulkTransport {
  readonly requests: string[][] = [];
  hold: Promise<void> | undefined;
  answer: ((ids: string[]) => ItemOutcome[] | Error) | undefined;
  inFlight = 0;
  maxInFlight = 0;
  async bulk(ops: readonly EncodedOperation[]): Promise<ItemOutcome[]> {
    const ids = ops.map((e) => e.op.id!);
    this.requests.push(ids);
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      await this.hold;
      const answer = this.answer?.(ids);
      if (answer instanceof Error) throw answer;
      return answer ?? ids.map(() => ({ kind: 'acked' }));
    } finally {
      this.inFlight--;
    }
  }
}

describe('BulkDispatcher', () => {
  it('sends a batch at once while a slot is free, and combines the batches that wait into one request', async () => {
    const transport = new RecordingTransport();
    const dispatcher = new BulkDispatcher(transport, { maxDocs: 100, maxBytes: 1_000_000, maxInFlight: 1, compression: false });
    let open!: () => void;
    transport.hold = new Promise((resolve) => (open = resolve));
    const first = dispatcher.bulk(batch(0, 3));
    await sleep(5);
    const waiting = [dispatcher.bulk(batch(1, 2)), dispatcher.bulk(batch(2, 4)), dispatcher.bulk(batch(3, 1))];
    transport.hold = undefined;
    open();
    const outcomes = await Promise.all([first, ...waiting]);
    assert.deepEqual(transport.requests.map((r) => r.length), [3, 7], 'the three waiting batches left as one request');
    assert.deepEqual(outcomes.map((o) => o.length), [3, 2, 4, 1], 'each batch gets its own slice of the answer');
    assert.deepEqual(transport.requests[1], ['p1-0', 'p1-1', 'p2-0', 'p2-1', 'p2-2', 'p2-3', 'p3-0'], 'batches keep their order inside the request');
  });

  it('never splits a batch and respects maxDocs and maxBytes per request', async () => {
    const transport = new RecordingTransport();
    const dispatcher = new BulkDispatcher(transport, { maxDocs: 5, maxBytes: 1_000_000, maxInFlight: 1, compression: false });
    let open!: () => void;
    transport.hold = new Promise((resolve) => (open = resolve));
    const all = [dispatcher.bulk(batch(0, 1)), dispatcher.bulk(batch(1, 3)), dispatcher.bulk(batch(2, 3)), dispatcher.bulk(batch(3, 2)), dispatcher.bulk(batch(4, 9))];
    await sleep(5);
    transport.hold = undefined;
    open();
    await Promise.all(all);
    assert.deepEqual(transport.requests.map((r) => r.length), [1, 3, 5, 9], '3 | 3+2 | a batch over maxDocs goes alone');
    const bytes = batch(0, 1)[0]!.opBytes;
    const byBytes = new RecordingTransport();
    const small = new BulkDispatcher(byBytes, { maxDocs: 100, maxBytes: bytes * 2, maxInFlight: 1, compression: false });
    await Promise.all([small.bulk(batch(0, 1)), small.bulk(batch(1, 1)), small.bulk(batch(2, 1)), small.bulk(batch(3, 1))]);
    assert.deepEqual(byBytes.requests.map((r) => r.length), [1, 2, 1]);
  });

  it('opens a request beside one in flight only for half a bulk: below capacity, batches combine', async () => {
    const transport = new RecordingTransport();
    const dispatcher = new BulkDispatcher(transport, { maxDocs: 100, maxBytes: 1_000_000, maxInFlight: 4, compression: false });
    let open!: () => void;
    transport.hold = new Promise((resolve) => (open = resolve));
    const first = dispatcher.bulk(batch(0, 10));
    await sleep(5);
    const small = [dispatcher.bulk(batch(1, 10)), dispatcher.bulk(batch(2, 10)), dispatcher.bulk(batch(3, 10))];
    await sleep(5);
    assert.deepEqual(transport.requests.map((r) => r.length), [10], '30 waiting documents (< 50) wait for the request in flight, though 3 slots are free');
    const more = dispatcher.bulk(batch(4, 25));
    await sleep(5);
    assert.deepEqual(transport.requests.map((r) => r.length), [10, 55], 'half a bulk waiting (55 documents): a second request opens at once');
    const slow = dispatcher.bulk(batch(5, 10));
    await sleep(SLOW_REQUEST_MS / 2);
    assert.equal(transport.requests.length, 2, 'a small batch waits for the requests in flight...');
    await sleep(SLOW_REQUEST_MS / 2 + 100);
    assert.deepEqual(transport.requests.map((r) => r.length), [10, 55, 10], '...until the oldest has been out SLOW_REQUEST_MS: a stuck request does not hold it');
    transport.hold = undefined;
    open();
    await Promise.all([first, ...small, more, slow]);
    const late = [dispatcher.bulk(batch(6, 10)), dispatcher.bulk(batch(7, 10))];
    await Promise.all(late);
    assert.deepEqual(transport.requests.map((r) => r.length), [10, 55, 10, 10, 10], 'nothing in flight: a batch leaves at once (the next one then waits for it)');
    assert.ok(transport.requests.at(-1)!.every((id) => id.startsWith('p7-')));
  });

  it('bounds the requests in flight', async () => {
    const transport = new RecordingTransport();
    const dispatcher = new BulkDispatcher(transport, { maxDocs: 2, maxBytes: 1_000_000, maxInFlight: 3, compression: false });
    await Promise.all(Array.from({ length: 20 }, (_, p) => dispatcher.bulk(batch(p, 2))));
    assert.equal(transport.maxInFlight, 3);
    assert.equal(transport.requests.length, 20);
  });

  it('after a 413 on a combined request, sends each batch on its own; a whole-request error reaches every batch', async () => {
    const transport = new RecordingTransport();
    const dispatcher = new BulkDispatcher(transport, { maxDocs: 100, maxBytes: 1_000_000, maxInFlight: 1, compression: false });
    transport.answer = (ids) => (ids.length > 3 ? new SearchHttpError('too large', 413, false) : undefined!);
    let open!: () => void;
    transport.hold = new Promise((resolve) => (open = resolve));
    const first = dispatcher.bulk(batch(9, 1));
    await sleep(5);
    const combined = [dispatcher.bulk(batch(0, 2)), dispatcher.bulk(batch(1, 3))];
    transport.hold = undefined;
    open();
    const outcomes = await Promise.all([first, ...combined]);
    assert.deepEqual(transport.requests.map((r) => r.length), [1, 5, 2, 3]);
    assert.deepEqual(outcomes.map((o) => o.length), [1, 2, 3]);
    transport.answer = () => new SearchHttpError('down', undefined, true);
    await assert.rejects(dispatcher.bulk(batch(5, 2)), /down/);
  });
});

describe('ConcurrencyLimit', () => {
  it('a number is fixed', () => {
    const limit = new ConcurrencyLimit(6);
    limit.onResponse(0.001, true, 6);
    assert.equal(limit.current, 6);
  });

  it('auto grows while the engine keeps up, halves on push-back, and backs off when latency per document climbs', () => {
    const limit = new ConcurrencyLimit('auto');
    assert.equal(limit.current, 2);
    for (let i = 0; i < 40; i++) limit.onResponse(0.0001, false, limit.current);
    const grown = limit.current;
    assert.ok(grown >= 6, `grew to ${grown}`);
    limit.onResponse(0.0001, true, grown);
    assert.equal(limit.current, Math.floor(grown / 2));
    const before = limit.current;
    limit.onResponse(0.01, false, before);
    assert.ok(limit.current <= before, 'a latency spike never grows the limit');
    for (let i = 0; i < 500; i++) limit.onResponse(0.0001, false, limit.current);
    assert.equal(limit.current, 16, 'capped');
    for (let i = 0; i < 20; i++) limit.onFailure(true);
    assert.equal(limit.current, 1, 'never below one');
  });

  it('auto does not grow while the limit is not in use', () => {
    const limit = new ConcurrencyLimit('auto');
    for (let i = 0; i < 100; i++) limit.onResponse(0.0001, false, 0);
    assert.equal(limit.current, 2);
  });
});
