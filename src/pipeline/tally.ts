// What flows through the pipeline, counted once for /status and once for /metrics: records consumed,
// indexed, superseded, retried, failed; and the search engine's state as the writes see it. The
// workers report here (WorkerEvents); the pipeline reads the totals for its stats.
import type { DeadLetter } from '../dead-letter/failure.js';
import type { Logger } from '../util/logger.js';
import type { PreparedRecord } from './batch.js';
import type { PipelineMetrics } from './pipeline-metrics.js';

export type RetryKind = 'unreachable' | 'retriable' | 'systemic';

export interface SinkState {
  /** refused: the engine answers but refuses writes for a cluster-side reason (privileges, write block). */
  state: 'ok' | 'retrying' | 'unreachable' | 'refused';
  lastError: string | null;
  lastErrorAt: number | null;
}

/** What a partition's worker reports as it goes. */
export interface WorkerEvents {
  /** Records written, and how many were already superseded by a newer version in the index. */
  indexed(topic: string, records: readonly PreparedRecord[], superseded: number): void;
  /** A failure that is retried: the engine is unreachable, overloaded, or refuses for a cluster-side reason (systemic). */
  retried(topic: string, partition: number, items: number, reason: string, kind: RetryKind): void;
  /** Tombstones acknowledged without a write (other skipped records, Debezium truncates, are not counted here). */
  tombstonesIgnored(topic: string, records: number): void;
}

export class PipelineTally implements WorkerEvents {
  consumed = 0;
  /** Records received again that a worker already held (none expected; a guard). */
  duplicates = 0;
  /** Indexed and superseded by workers that retired (the live ones count their own). */
  indexedBefore = 0;
  supersededBefore = 0;
  retries = 0;
  failed = 0;
  deadLettered = 0;
  #sink: SinkState = { state: 'ok', lastError: null, lastErrorAt: null };
  readonly #consumedByTopic = new Map<string, { inc(count: number): void }>();
  readonly #uncounted = { topic: '', count: 0 };

  constructor(
    private readonly metrics: PipelineMetrics,
    private readonly logger: Logger,
  ) {}

  get sink(): SinkState {
    return this.#sink;
  }

  /**
   * One record consumed. Counted into the metric once per run of one topic's records, not per record:
   * prom-client builds a label hash string on every increment. The count reaches the counter before
   * the next fetch round at the latest.
   */
  consumedOne(topic: string): void {
    this.consumed++;
    const uncounted = this.#uncounted;
    if (uncounted.count > 0 && uncounted.topic !== topic) this.#flushConsumed();
    if (uncounted.count++ === 0) {
      uncounted.topic = topic;
      setImmediate(() => this.#flushConsumed());
    }
  }

  #flushConsumed(): void {
    const { topic, count } = this.#uncounted;
    if (count === 0) return;
    this.#uncounted.count = 0;
    let child = this.#consumedByTopic.get(topic);
    if (!child) this.#consumedByTopic.set(topic, (child = this.metrics.consumed.labels({ topic })));
    child.inc(count);
  }

  /** A bulk request got an answer: the engine is reachable again (a cluster-side refusal stays until writes succeed). */
  requestAnswered(seconds: number, documents: number, bytes: number): void {
    this.metrics.bulkDuration.observe(seconds);
    this.metrics.bulkDocuments.observe(documents);
    this.metrics.bulkBytes.observe(bytes);
    if (this.#sink.state !== 'ok' && this.#sink.state !== 'refused') this.#sink = { ...this.#sink, state: 'ok' };
  }

  indexed(topic: string, records: readonly PreparedRecord[], superseded: number): void {
    if (this.#sink.state !== 'ok') this.#sink = { ...this.#sink, state: 'ok' };
    this.metrics.indexed.inc({ topic }, records.length);
    if (superseded > 0) this.metrics.superseded.inc({ topic }, superseded);
    // Once per bulk, not per record: the oldest record's delay (the bulk's worst case).
    let oldest: bigint | undefined;
    for (const r of records) if (oldest === undefined || r.record.timestamp < oldest) oldest = r.record.timestamp;
    if (oldest !== undefined) this.metrics.eventToIndexed.observe(Math.max(0, Date.now() - Number(oldest)) / 1000);
  }

  retried(topic: string, partition: number, items: number, reason: string, kind: RetryKind): void {
    this.retries += items;
    this.metrics.retried.inc({ topic }, items);
    if (kind === 'systemic') {
      this.metrics.systemicErrors.inc({ topic }, items);
      this.logger.error({ topic, partition, reason }, 'writes refused by the cluster (not the documents): the partition is held and retried; fix the cause (privileges, write block, closed or missing index)');
    }
    this.#sink = { state: kind === 'systemic' ? 'refused' : kind === 'unreachable' ? 'unreachable' : 'retrying', lastError: reason.slice(0, 500), lastErrorAt: Date.now() };
  }

  tombstonesIgnored(topic: string, records: number): void {
    this.metrics.tombstonesIgnored.inc({ topic }, records);
  }

  /** Records the errors policy took (dead-lettered, or skipped). */
  failures(failures: readonly DeadLetter[], outcome: 'dead_lettered' | 'skipped'): void {
    this.failed += failures.length;
    if (outcome === 'dead_lettered') this.deadLettered += failures.length;
    for (const { record, failure } of failures) this.metrics.countFailure(record.topic, failure.errorClass, outcome);
  }

  /** A worker retired: what it counted stays in the totals. */
  retired(indexed: number, superseded: number): void {
    this.indexedBefore += indexed;
    this.supersededBefore += superseded;
  }
}
