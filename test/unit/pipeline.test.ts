// The pipeline's hand-over, skip and acknowledge logic, with the Kafka source, the search engine and
// the dead-letter topic injected as scripted fakes that behave like the real ones where it matters:
// the source delivers only what the test says (a real one delivers a generation's records from the
// positions the pipeline returns), the sink applies external versions like the engines do.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../src/config/load.js';
import { buildPipeline } from '../../src/pipeline/build.js';
import type { BulkOperation, EncodedOperation } from '../../src/sink/encoder.js';
import type { ItemOutcome } from '../../src/sink/bulk-response.js';
import { SearchHttpError } from '../../src/sink/search-client.js';
import type { DeadLetter } from '../../src/dead-letter/failure.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { CommitRequest } from '../../src/source/kafka-source.js';
import type { SourceRecord } from '../../src/source/record.js';
import { createLogger } from '../../src/util/logger.js';
import { FakeSource } from '../helpers/fake-source.js';
import { PoisonStrikes } from '../../src/source/poison-strikes.js';

const logger = createLogger(process.env.TEST_LOG ?? 'silent');

class ScriptedSource extends FakeSource {
  readonly commits: CommitRequest[][] = [];
  /** Commits sent while the pipeline said it was rebalancing (must stay empty). */
  readonly commitsWhileRebalancing: CommitRequest[][] = [];
  rebalancing = false;
  failCommits = 0;

  async commit(offsets: readonly CommitRequest[]): Promise<void> {
    if (this.failCommits > 0) {
      this.failCommits--;
      throw new Error('coordinator not available');
    }
    (this.rebalancing ? this.commitsWhileRebalancing : this.commits).push([...offsets]);
  }

  revoke(): void {
    this.rebalancing = true;
    this.handlers.onRevoking();
  }
  assign(partitions: number[], generation: number, memberId = 'member-1'): ReadonlyMap<string, bigint> {
    this.rebalancing = false;
    const positions = this.handlers.onAssigned({ partitions: partitions.map((p) => `t:${p}`), generation, memberId });
    this.handlers.onPositioned(new Map(partitions.map((p) => [`t:${p}`, positions.get(`t:${p}`) ?? 0n])));
    return positions;
  }
  deliver(partition: number, from: number, to: number, value: (offset: number) => object | null = (o) => ({ key: `k${o}`, offset: o })): void {
    for (let offset = from; offset <= to; offset++) {
      const v = value(offset);
      const key = v && 'key' in v ? String((v as { key: unknown }).key) : `k${offset}`;
      this.handlers.onRecord(record(partition, offset, key, v));
    }
  }
  committed(partition: number): bigint | undefined {
    let last: bigint | undefined;
    for (const batch of this.commits) for (const c of batch) if (c.partition === partition) last = c.offset;
    return last;
  }
}

const record = (partition: number, offset: number, key: string, value: object | null): SourceRecord => ({
  topic: 't',
  partition,
  offset: BigInt(offset),
  timestamp: 0n,
  key: Buffer.from(key),
  value: value === null ? null : Buffer.from(JSON.stringify(value)),
  headers: new Map(),
});

/** A search engine in memory: index/create/delete with `external_gte` versions, like the real ones. */
class ScriptedSink {
  readonly requests: BulkOperation[][] = [];
  readonly docs = new Map<string, { source: string; version: bigint | undefined }>();
  static text = (source: Buffer | string | undefined): string => (source === undefined ? '' : source.toString());
  /** Responses wait for this while set. */
  hold: Promise<void> | undefined;
  /** Decide an item's outcome instead of the engine (undefined: apply it). */
  respond: ((op: BulkOperation) => ItemOutcome | undefined) | undefined;
  closed = false;

  /** When each request was sent (ms), beside `requests`. */
  readonly sentAt: number[] = [];
  /** Throw this (once each) instead of answering. */
  readonly failures: Error[] = [];

  async bulk(encoded: readonly EncodedOperation[]): Promise<ItemOutcome[]> {
    const ops = encoded.map((e) => e.op);
    this.requests.push(ops);
    this.sentAt.push(Date.now());
    const failure = this.failures.shift();
    if (failure) throw failure;
    await this.hold;
    return ops.map((op) => this.respond?.(op) ?? this.#apply(op));
  }

  #apply(op: BulkOperation): ItemOutcome {
    const current = this.docs.get(op.id!);
    if (op.version !== undefined && current?.version !== undefined && op.version < current.version) {
      return { kind: 'superseded', status: 409, errorType: 'version_conflict_engine_exception', reason: 'newer version indexed' };
    }
    if (op.action === 'create' && current) return { kind: 'acked' };
    if (op.action === 'delete') this.docs.delete(op.id!);
    else this.docs.set(op.id!, { source: ScriptedSink.text(op.source), version: op.version });
    return { kind: 'acked' };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Offsets of every record sent (from the documents' `offset` field), in order. */
  sentOffsets(): number[] {
    return this.requests.flat().map((op) => (op.source ? (JSON.parse(ScriptedSink.text(op.source)) as { offset: number }).offset : -1));
  }
}

class ScriptedDeadLetters {
  readonly sends: DeadLetter[][] = [];
  async send(failures: readonly DeadLetter[]): Promise<void> {
    this.sends.push([...failures]);
  }
  async close(): Promise<void> {}
}

function setup(flags: string[] = []) {
  const config = loadConfig({ env: { K2E_TOPICS: 't', K2E_INDEX: 'i' }, flags: ['--batch.lingerMs=0', '--retry.initialDelayMs=1', '--retry.maxDelayMs=5', ...flags] });
  const source = new ScriptedSource();
  const sink = new ScriptedSink();
  const deadLetters = new ScriptedDeadLetters();
  const pipeline = buildPipeline(config, logger, new Metrics(), { source, sink, deadLetters });
  return { config, source, sink, deadLetters, pipeline };
}

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await sleep(2);
  }
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('Pipeline across rebalances', () => {
  it('a partition that stays keeps its worker: the source resumes at its position, nothing is re-read or skipped', async () => {
    const { source, sink, pipeline } = setup();
    await pipeline.start();
    source.assign([0, 1], 1);
    source.deliver(0, 0, 9);
    await until(() => source.committed(0) === 10n, 'first commit');
    const held = gate();
    sink.hold = held.promise;
    source.deliver(0, 10, 19);
    await until(() => sink.requests.length === 2, 'second bulk in flight');
    source.revoke();
    const positions = source.assign([0], 2);
    assert.deepEqual([...positions], [['t:0', 20n]], 'the source must resume partition 0 at 20, where this worker is');
    held.open();
    sink.hold = undefined;
    source.deliver(0, 20, 24);
    await until(() => source.committed(0) === 25n, 'commit to 25');
    assert.deepEqual(sink.sentOffsets(), Array.from({ length: 25 }, (_, i) => i), 'every record sent exactly once, in order');
    assert.deepEqual(source.commitsWhileRebalancing, [], 'nothing committed during the rebalance');
    assert.equal(pipeline.stats().duplicates, 0);
    await pipeline.stop();
  });

  it('a join reported twice for one generation keeps the workers', async () => {
    const { source, sink, pipeline } = setup();
    await pipeline.start();
    source.assign([0], 1);
    source.deliver(0, 0, 4);
    await until(() => source.committed(0) === 5n, 'commit to 5');
    source.revoke();
    assert.deepEqual([...source.assign([0], 2)], [['t:0', 5n]]);
    assert.deepEqual([...source.assign([0], 2)], [['t:0', 5n]], 'the same generation again: nothing restarts');
    assert.deepEqual([...source.assign([0], 4)], [], 'a skipped generation: the worker is not trusted to continue');
    source.deliver(0, 5, 9);
    await until(() => source.committed(0) === 10n, 'commit to 10');
    assert.deepEqual(sink.sentOffsets(), Array.from({ length: 10 }, (_, i) => i));
    await pipeline.stop();
  });

  it('records delivered again below a continuing worker`s position are dropped, not sent twice', async () => {
    const { source, sink, pipeline } = setup();
    await pipeline.start();
    source.assign([0], 1);
    source.deliver(0, 0, 9);
    await until(() => source.committed(0) === 10n, 'commit to 10');
    source.revoke();
    source.assign([0], 2);
    source.deliver(0, 5, 14);
    await until(() => source.committed(0) === 15n, 'commit to 15');
    assert.equal(pipeline.stats().duplicates, 5);
    assert.deepEqual(sink.sentOffsets(), Array.from({ length: 15 }, (_, i) => i));
    await pipeline.stop();
  });

  it('the old-generation records a continuing worker already holds are sent; the commit never passes an unsent one', async () => {
    // The lost-batch scenario: records above the committed offset reached this instance before the
    // rebalance; the worker keeps them, so they are neither dropped nor committed unsent.
    const { source, sink, pipeline } = setup(['--batch.maxDocs=5']);
    await pipeline.start();
    source.assign([0], 1);
    const held = gate();
    sink.hold = held.promise;
    source.deliver(0, 0, 14);
    await until(() => sink.requests.length >= 1, 'first bulk in flight');
    source.revoke();
    const positions = source.assign([0], 2);
    assert.equal(positions.get('t:0'), 15n);
    assert.equal(source.committed(0) ?? 0n, 0n, 'nothing is acknowledged yet, so nothing past offset 0 is committed');
    held.open();
    sink.hold = undefined;
    await until(() => source.committed(0) === 15n, 'commit to 15');
    assert.deepEqual(sink.sentOffsets(), Array.from({ length: 15 }, (_, i) => i));
    for (const batch of source.commits) for (const c of batch) assert.ok(c.offset <= BigInt(sink.sentOffsets().length), 'never committed past what was sent');
    await pipeline.stop();
  });

  it('a member fenced out (new member id) starts afresh, and its new worker waits for the old bulk in flight', async () => {
    const { source, sink, pipeline } = setup();
    await pipeline.start();
    source.assign([0], 1);
    const held = gate();
    sink.hold = held.promise;
    source.deliver(0, 0, 9, (o) => ({ key: 'same', offset: o }));
    await until(() => sink.requests.length === 1, 'old bulk in flight');
    const positions = source.assign([0], 5, 'member-2');
    assert.equal(positions.size, 0, 'nothing continues after a new member id: the source reads the committed offset');
    source.deliver(0, 0, 12, (o) => ({ key: 'same', offset: o }));
    await sleep(30);
    assert.equal(sink.requests.length, 1, 'the new worker sends nothing while the old bulk is in flight');
    held.open();
    sink.hold = undefined;
    await until(() => source.committed(0) === 13n, 'commit to 13');
    assert.equal(JSON.parse(sink.docs.get('same')!.source).offset, 12, 'the newest value wins');
    assert.equal(sink.docs.get('same')!.version, 12n, 'versioned by offset');
    await pipeline.stop();
  });

  it('a rebalance during backpressure releases a revoked partition`s buffer and fetching resumes', async () => {
    const { source, sink, pipeline } = setup(['--batch.maxBufferedRecords=10', '--batch.maxDocs=4']);
    await pipeline.start();
    source.assign([0, 1], 1);
    const held = gate();
    sink.hold = held.promise;
    source.deliver(1, 0, 11);
    await until(() => source.paused, 'paused by the buffer bound');
    source.revoke();
    source.assign([0], 2);
    held.open();
    sink.hold = undefined;
    await until(() => !source.paused, 'fetching resumed after the revoked partition was released');
    assert.equal(pipeline.stats().buffered, 0);
    assert.equal(source.committed(1), undefined, 'a revoked partition is never committed after the rebalance');
    source.deliver(0, 0, 29);
    await until(() => source.committed(0) === 30n, 'partition 0 flows through the bound');
    await pipeline.stop();
  });

  it('reports an assigned partition with lag and no progress as stalled', async () => {
    const { source, sink, pipeline } = setup(['--stallTimeoutMs=1000']);
    await pipeline.start();
    source.assign([0, 1], 1);
    source.deliver(0, 0, 4);
    await until(() => source.committed(0) === 5n, 'commit');
    const ends = new Map([
      ['t:0', 5n],
      ['t:1', 7n],
    ]);
    assert.deepEqual(pipeline.stalledPartitions(ends), [], 'not before the timeout');
    assert.deepEqual(pipeline.stalledPartitions(ends, Date.now() + 1500), ['t:1'], 'partition 1 has 7 records and no progress; partition 0 has no lag');
    // Records fetched but held (the engine refuses them) are lag too, even before any commit.
    sink.respond = () => ({ kind: 'systemic', status: 403, errorType: 'cluster_block_exception', reason: 'blocked' });
    source.deliver(1, 0, 6);
    await until(() => sink.requests.length >= 3, 'held and retried');
    assert.deepEqual(pipeline.stalledPartitions(ends, Date.now() + 1500), ['t:1']);
    sink.respond = undefined;
    await pipeline.stop();
  });
});

describe('Pipeline bulks per partition', () => {
  it('sends two bulks of one partition at once when versions keep them in order, one without', async () => {
    for (const [flags, expected] of [[[], 2], [['--document.version=none'], 1]] as const) {
      const { source, sink, pipeline } = setup(['--batch.maxDocs=5', ...flags]);
      await pipeline.start();
      source.assign([0], 1);
      const held = gate();
      sink.hold = held.promise;
      source.deliver(0, 0, 19, (o) => ({ key: `k${o % 3}`, offset: o }));
      await until(() => sink.requests.length >= 1, 'first bulk');
      await sleep(30);
      assert.equal(sink.requests.length, expected, `bulks in flight with ${flags.join(' ') || 'defaults'}`);
      held.open();
      sink.hold = undefined;
      await until(() => source.committed(0) === 20n, 'commit to 20');
      for (const k of [0, 1, 2]) {
        const newest = [...Array(20).keys()].filter((o) => o % 3 === k).at(-1)!;
        assert.equal(JSON.parse(sink.docs.get(`k${k}`)!.source).offset, newest, `k${k} holds its newest value`);
      }
      await pipeline.stop();
    }
  });

  it('refuses more than one bulk per partition without versioning', () => {
    assert.throws(() => setup(['--document.version=none', '--batch.maxInFlightPerPartition=2']), /needs external versioning/);
  });
});

describe('Pipeline acknowledgements', () => {
  it('when the newest version of an id is rejected, it is dead-lettered and the version before it is indexed', async () => {
    const { source, sink, deadLetters, pipeline } = setup();
    sink.respond = (op) => (ScriptedSink.text(op.source).includes('"bad":true') ? { kind: 'rejected', status: 400, errorType: 'mapper_parsing_exception', reason: 'failed to parse' } : undefined);
    await pipeline.start();
    source.assign([0], 1);
    source.deliver(0, 0, 1, (o) => ({ key: 'k', offset: o, ...(o === 1 ? { bad: true } : {}) }));
    await until(() => source.committed(0) === 2n, 'commit to 2');
    assert.deepEqual(deadLetters.sends.flat().map((d) => [d.record.offset, d.failure.errorType]), [[1n, 'mapper_parsing_exception']]);
    assert.equal(JSON.parse(sink.docs.get('k')!.source).offset, 0, 'the older valid version is in the index');
    await pipeline.stop();
  });

  it('create keeps the first record of an id', async () => {
    const { source, sink, pipeline } = setup(['--document.action=create']);
    await pipeline.start();
    source.assign([0], 1);
    source.deliver(0, 0, 2, (o) => ({ key: 'k', offset: o }));
    await until(() => source.committed(0) === 3n, 'commit to 3');
    assert.deepEqual(sink.requests.flat().map((op) => [op.action, JSON.parse(ScriptedSink.text(op.source)).offset, op.version]), [['create', 0, undefined]]);
    await pipeline.stop();
  });

  it('dead-letters a bulk`s rejected items in one send', async () => {
    const { source, sink, deadLetters, pipeline } = setup();
    sink.respond = () => ({ kind: 'rejected', status: 400, errorType: 'mapper_parsing_exception', reason: 'no' });
    await pipeline.start();
    source.assign([0], 1);
    source.deliver(0, 0, 4);
    await until(() => source.committed(0) === 5n, 'commit to 5');
    assert.equal(deadLetters.sends.length, 1);
    assert.deepEqual(deadLetters.sends[0]!.map((d) => d.record.offset), [0n, 1n, 2n, 3n, 4n]);
    await pipeline.stop();
  });

  it('holds a partition on systemic refusals: retried, never dead-lettered, sink state refused until it passes', async () => {
    const { source, sink, deadLetters, pipeline } = setup();
    let refusals = 3;
    sink.respond = () => (refusals > 0 ? { kind: 'systemic', status: 403, errorType: 'cluster_block_exception', reason: 'index write blocked' } : undefined);
    await pipeline.start();
    source.assign([0], 1);
    source.deliver(0, 0, 2);
    await until(() => sink.requests.length >= 2, 'retried');
    assert.equal(pipeline.stats().sink.state, 'refused');
    assert.equal(source.committed(0), undefined);
    refusals = 0;
    await until(() => source.committed(0) === 3n, 'indexed once the block is lifted');
    assert.equal(deadLetters.sends.length, 0);
    assert.equal(pipeline.stats().sink.state, 'ok');
    await pipeline.stop();
  });

  it('ignores tombstones with nullValues ignore: acknowledged without a write', async () => {
    const { source, sink, pipeline } = setup(['--document.nullValues=ignore']);
    await pipeline.start();
    source.assign([0], 1);
    source.deliver(0, 0, 3, (o) => (o % 2 === 1 ? null : { key: `k${o}`, offset: o }));
    await until(() => source.committed(0) === 4n, 'commit to 4');
    assert.deepEqual(sink.requests.flat().map((op) => op.action), ['index', 'index']);
    await pipeline.stop();
  });
});

describe('Pipeline delivery modes and shutdown', () => {
  it('at-most-once: a batch committed while waiting for a request slot is still sent when the service stops', async () => {
    const { source, sink, pipeline } = setup(['--delivery=at-most-once', '--batch.maxInFlight=1']);
    await pipeline.start();
    source.assign([0, 1], 1);
    const held = gate();
    sink.hold = held.promise;
    source.deliver(0, 0, 4);
    await until(() => sink.requests.length === 1, 'partition 0 holds the only request slot');
    source.deliver(1, 0, 4);
    await until(() => source.committed(1) === 5n, 'partition 1 committed its batch before sending it');
    const stopping = pipeline.stop();
    held.open();
    await stopping;
    assert.equal(sink.requests.length, 2, 'the committed batch went out after all');
    assert.deepEqual(sink.requests[1]!.map((op) => op.id), ['k0', 'k1', 'k2', 'k3', 'k4']);
    assert.equal(source.committed(0), 5n);
  });

  it('at-most-once: records not yet taken into a batch when the service stops are not committed', async () => {
    const { source, sink, pipeline } = setup(['--delivery=at-most-once', '--batch.lingerMs=10000', '--batch.maxDocs=100']);
    await pipeline.start();
    source.assign([0], 1);
    source.deliver(0, 0, 4);
    await sleep(20);
    await pipeline.stop();
    assert.equal(source.committed(0), undefined, 'still lingering: nothing committed, so they are read again');
    assert.equal(sink.requests.length, 0);
  });

  it('at-most-once sends a committed batch even when a rebalance comes before it succeeded', async () => {
    const { source, sink, pipeline } = setup(['--delivery=at-most-once']);
    let failures = 3;
    sink.respond = () => (failures-- > 0 ? { kind: 'retriable', status: 503, errorType: 'unavailable_shards_exception', reason: 'busy' } : undefined);
    await pipeline.start();
    source.assign([0], 1);
    source.deliver(0, 0, 2, (o) => ({ key: `k${o}`, offset: o }));
    await until(() => source.committed(0) === 3n, 'committed before sending');
    source.revoke();
    source.assign([1], 2);
    await until(() => sink.docs.size === 3, 'the committed batch is sent anyway');
    await pipeline.stop();
  });

  it('a final commit that fails is reported by stop()', async () => {
    const { source, sink, pipeline } = setup();
    await pipeline.start();
    source.assign([0], 1);
    const held = gate();
    sink.hold = held.promise;
    source.deliver(0, 0, 4);
    await until(() => sink.requests.length === 1, 'bulk in flight');
    source.failCommits = 100;
    const stopping = pipeline.stop();
    held.open();
    await assert.rejects(stopping, /final offset commit failed/);
    assert.equal(sink.closed, true, 'everything is closed anyway');
  });
});

describe('a record the member keeps failing at (errors.poisonAfter)', () => {
  it('the source counts strikes in a row per record and hands the N-th meeting over as poison, once', () => {
    const strikes = new PoisonStrikes(3);
    const at = { topic: 't', partition: 0, offset: 7n };
    assert.equal(strikes.poison(at), undefined);
    assert.equal(strikes.strike(at, 'boom'), 1);
    assert.equal(strikes.strike({ ...at, offset: 8n }, 'boom'), 1, 'another record starts the count over');
    assert.equal(strikes.strike(at, 'boom'), 1);
    assert.equal(strikes.strike(at, 'boom'), 2);
    assert.equal(strikes.poison(at), undefined, 'two strikes are not enough');
    assert.equal(strikes.strike(at, 'boom'), 3);
    assert.equal(strikes.poison({ ...at, partition: 1 }), undefined, 'only that record');
    assert.match(strikes.poison(at) ?? '', /failed 3 time\(s\) in a row at this record: boom/);
    assert.equal(strikes.poison(at), undefined, 'handed over once');
  });

  it('the pipeline dead-letters a poison record (type poison) and commits past it', async () => {
    const { source, sink, deadLetters, pipeline } = setup();
    await pipeline.start();
    source.assign([0], 1);
    source.deliver(0, 0, 1);
    source.handlers.onPoison(record(0, 2, 'k2', { key: 'k2', offset: 2 }), 'the member failed 3 time(s) in a row at this record: boom');
    source.deliver(0, 3, 4);
    await until(() => source.committed(0) === 5n, 'committed past the poison record');
    assert.deepEqual(sink.sentOffsets().sort(), [0, 1, 3, 4]);
    const dead = deadLetters.sends.flat();
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.record.offset, 2n);
    assert.deepEqual({ ...dead[0]!.failure, reason: undefined }, { errorClass: 'transform', errorType: 'poison', reason: undefined });
    await pipeline.stop();
  });

  it('with errors.policy fail, a poison record stops the pipeline naming it', async () => {
    const { source, pipeline } = setup(['--errors.policy=fail']);
    await pipeline.start();
    source.assign([0], 1);
    source.handlers.onPoison(record(0, 2, 'k2', { key: 'k2', offset: 2 }), 'boom');
    const error = await pipeline.failed;
    assert.match(error.message, /t\[0\] offset 2: transform \(poison\): boom/);
    await pipeline.stop();
  });
});

describe('writes whose order the engine cannot keep', () => {
  it('after a bulk that got no answer, a newer unversioned write of its documents waits ambiguousWriteWaitMs', async () => {
    const { source, sink, pipeline } = setup(['--document.version=none', '--batch.maxDocs=1', '--elastic.ambiguousWriteWaitMs=400']);
    // The first attempt times out: the engine may still apply it later.
    sink.failures.push(new SearchHttpError('POST /_bulk: no answer within the request timeout', undefined, true, undefined, { cause: Object.assign(new Error('Headers Timeout Error'), { code: 'UND_ERR_HEADERS_TIMEOUT' }) }));
    await pipeline.start();
    source.assign([0], 1);
    source.deliver(0, 0, 2, (o) => ({ key: o === 1 ? 'other' : 'doc', offset: o }));
    await until(() => source.committed(0) === 3n, 'all three written', 5000);
    const ids = sink.requests.map((ops) => ops.map((op) => op.id).join(','));
    assert.deepEqual(ids, ['doc', 'doc', 'other', 'doc'], 'the timed-out bulk, its retry, then the others');
    assert.ok(sink.sentAt[3]! - sink.sentAt[0]! >= 390, `the newer write of doc waited for the bound (${sink.sentAt[3]! - sink.sentAt[0]!} ms)`);
    assert.ok(sink.sentAt[2]! - sink.sentAt[0]! < 390, 'a write of another document did not wait');
    assert.equal(JSON.parse(String(sink.docs.get('doc')!.source)).offset, 2);
    await pipeline.stop();
  });

  it('a connection refused (nothing sent) makes nothing wait', async () => {
    const { source, sink, pipeline } = setup(['--document.version=none', '--batch.maxDocs=1', '--elastic.ambiguousWriteWaitMs=2000']);
    sink.failures.push(new SearchHttpError('POST /_bulk: connection refused', undefined, true, undefined, { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }));
    await pipeline.start();
    source.assign([0], 1);
    source.deliver(0, 0, 1, () => ({ key: 'doc' }));
    await until(() => source.committed(0) === 2n, 'both written', 1500);
    await pipeline.stop();
  });

  it('with timestamp versions (which may tie), a bulk sharing a document with one in flight goes after it', async () => {
    const { source, sink, pipeline } = setup(['--document.version=timestamp', '--batch.maxDocs=1', '--batch.maxInFlightPerPartition=2']);
    const held = gate();
    sink.hold = held.promise;
    await pipeline.start();
    source.assign([0], 1);
    source.deliver(0, 0, 0, () => ({ key: 'doc', offset: 0 }));
    await until(() => sink.requests.length === 1, 'the first bulk in flight');
    source.deliver(0, 1, 2, (o) => ({ key: o === 1 ? 'other' : 'doc', offset: o }));
    await until(() => sink.requests.length === 2, 'a bulk of another document alongside');
    await sleep(50);
    assert.equal(sink.requests.length, 2, 'the second write of doc waits for the bulk in flight holding doc');
    held.open();
    sink.hold = undefined;
    await until(() => source.committed(0) === 3n, 'all written');
    assert.deepEqual(sink.requests.map((ops) => ops[0]!.id), ['doc', 'other', 'doc']);
    await pipeline.stop();
  });
});
