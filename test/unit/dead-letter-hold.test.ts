// What the pipeline does when the dead-letter topic does not take its dead letters: the partition is
// held (nothing acknowledged, nothing committed past them) and tries again, other partitions go on,
// and a rebalance or a stop abandons the send without losing or acknowledging the records.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../src/config/load.js';
import { type DeadLetter, DeadLetterAbandonedError, type DeadLetterState, DeadLetterUnavailableError } from '../../src/dead-letter/failure.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { buildPipeline } from '../../src/pipeline/build.js';
import type { EncodedOperation } from '../../src/sink/bulk-request.js';
import type { ItemOutcome } from '../../src/sink/bulk-response.js';
import type { CommitRequest } from '../../src/source/kafka-source.js';
import { createLogger } from '../../src/util/logger.js';
import { FakeSource } from '../helpers/fake-source.js';

const logger = createLogger(process.env.TEST_LOG ?? 'silent');

class Source extends FakeSource {
  readonly commits: CommitRequest[] = [];
  async commit(offsets: readonly CommitRequest[]): Promise<void> {
    this.commits.push(...offsets);
  }
  assign(partitions: number[], generation: number): void {
    const positions = this.handlers.onAssigned({ partitions: partitions.map((p) => `t:${p}`), generation, memberId: 'm' });
    this.handlers.onPositioned(new Map(partitions.map((p) => [`t:${p}`, positions.get(`t:${p}`) ?? 0n])));
  }
  deliver(partition: number, from: number, to: number, bad: (offset: number) => boolean): void {
    for (let offset = from; offset <= to; offset++) {
      const value = Buffer.from(JSON.stringify({ offset, ...(bad(offset) ? { bad: true } : {}) }));
      this.handlers.onRecord({ topic: 't', partition, offset: BigInt(offset), timestamp: 0n, key: Buffer.from(`k${partition}-${offset}`), value, headers: new Map() });
    }
  }
  committed(partition: number): bigint | undefined {
    return this.commits.filter((c) => c.partition === partition).at(-1)?.offset;
  }
}

/** Rejects every document marked bad, indexes the others. */
class Sink {
  async bulk(ops: readonly EncodedOperation[]): Promise<ItemOutcome[]> {
    return ops.map((e) => (String(e.op.source).includes('"bad":true') ? { kind: 'rejected', status: 400, errorType: 'strict_dynamic_mapping_exception', reason: 'strict' } : { kind: 'acked' }));
  }
  async close(): Promise<void> {}
}

/** The dead-letter topic, scripted per send: deliver, refuse (as after errors.dlqTimeoutMs), or hang until abandoned. */
class DeadLetters {
  readonly delivered: DeadLetter[] = [];
  calls = 0;
  behaviour: 'deliver' | 'refuse' | 'hang' = 'deliver';
  state: DeadLetterState = { state: 'ok', lastError: null, lastErrorAt: null };
  async send(failures: readonly DeadLetter[], signal?: AbortSignal): Promise<void> {
    this.calls++;
    if (this.behaviour === 'refuse') {
      this.state = { state: 'unavailable', lastError: 'NOT_ENOUGH_REPLICAS', lastErrorAt: Date.now() };
      throw new DeadLetterUnavailableError('dead-letter topic t.dlq did not acknowledge');
    }
    if (this.behaviour === 'hang') {
      await new Promise((resolve) => signal!.addEventListener('abort', resolve, { once: true }));
      throw new DeadLetterAbandonedError('abandoned');
    }
    this.state = { state: 'ok', lastError: null, lastErrorAt: null };
    this.delivered.push(...failures);
  }
  async close(): Promise<void> {}
}

function setup() {
  const config = loadConfig({ env: { K2E_TOPICS: 't', K2E_INDEX: 'i' }, flags: ['--batch.lingerMs=0', '--retry.initialDelayMs=1', '--retry.maxDelayMs=5'] });
  const source = new Source();
  const deadLetters = new DeadLetters();
  const pipeline = buildPipeline(config, logger, new Metrics(), { source, sink: new Sink(), deadLetters });
  return { source, deadLetters, pipeline };
}

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await sleep(2);
  }
}

describe('dead letters the topic does not take', () => {
  it('hold their partition, unacknowledged, until the topic takes them; other partitions go on', async () => {
    const { source, deadLetters, pipeline } = setup();
    deadLetters.behaviour = 'refuse';
    await pipeline.start();
    source.assign([0, 1], 1);
    source.deliver(0, 0, 5, (o) => o === 2);
    source.deliver(1, 0, 5, () => false);
    await until(() => source.committed(1) === 6n, 'the other partition committed to its end');
    await until(() => deadLetters.calls >= 3, 'the send tried again');
    assert.ok((source.committed(0) ?? 0n) <= 2n, 'nothing committed past the dead letter');
    assert.equal(pipeline.deadLetterState.state, 'unavailable');
    assert.equal(pipeline.stats().deadLettered, 0, 'not counted before delivered');
    deadLetters.behaviour = 'deliver';
    await until(() => source.committed(0) === 6n, 'committed once delivered');
    assert.deepEqual(
      deadLetters.delivered.map((d) => d.record.offset),
      [2n],
    );
    assert.equal(pipeline.stats().deadLettered, 1);
    assert.equal(pipeline.deadLetterState.state, 'ok');
    await pipeline.stop();
  });

  it('are abandoned at a stop: the stop ends, the final commit stays before them', async () => {
    const { source, deadLetters, pipeline } = setup();
    deadLetters.behaviour = 'hang';
    await pipeline.start();
    source.assign([0], 1);
    source.deliver(0, 0, 5, (o) => o === 3);
    await until(() => deadLetters.calls === 1, 'the send started');
    const started = Date.now();
    await pipeline.stop();
    assert.ok(Date.now() - started < 1000, 'the stop did not wait for the send');
    assert.equal(source.committed(0), 3n, 'the dead letter and what follows are redelivered');
    assert.equal(deadLetters.delivered.length, 0);
  });

  it('are put back when a rebalance interrupts the send, and sent again when the partition stays', async () => {
    const { source, deadLetters, pipeline } = setup();
    deadLetters.behaviour = 'hang';
    await pipeline.start();
    source.assign([0], 1);
    source.deliver(0, 0, 5, (o) => o === 1 || o === 4);
    await until(() => deadLetters.calls === 1, 'the send started');
    source.handlers.onRevoking();
    deadLetters.behaviour = 'deliver';
    source.assign([0], 2);
    await until(() => source.committed(0) === 6n, 'committed to the end after the rebalance');
    assert.deepEqual(
      deadLetters.delivered.map((d) => d.record.offset),
      [1n, 4n],
    );
    await pipeline.stop();
  });
});
