// Wires the stages: Kafka source → prepare (decode, transform) → the partition's worker → the bulk
// dispatcher → the engine; acknowledgements flow back one way: worker → watermark → the member's
// partitions → committer → source. Every part is made by build.ts. Which workers go on across a
// rebalance is assignment.ts's to decide (a retired worker's successor waits for its last bulk);
// memory is bounded by a gate that pauses fetching (BufferGate), re-decided on every change.
import type { Config } from '../config/schema.js';
import type { DeadLetterState } from '../dead-letter/failure.js';
import type { Assignment } from '../source/kafka-source.js';
import { partitionKey, type SourceRecord } from '../source/record.js';
import { type TransformOptions, transformOptions } from '../transform/to-operation.js';
import { defaultInstanceId } from '../util/instance-id.js';
import type { Logger } from '../util/logger.js';
import { prepare } from './batch.js';
import { describeFailure, PermanentFailure } from './failure-policy.js';
import type { PartitionWorker } from './partition-worker.js';
import type { PipelineMetrics } from './pipeline-metrics.js';
import type { PipelineParts } from './parts.js';
import { type PipelineStats, pipelineStats } from './stats.js';
import { WorkerFactory } from './workers.js';

export type { PipelineStats } from './stats.js';
export type { PipelineParts } from './parts.js';

export class Pipeline {
  /** Retired workers still finishing their last bulk, by partition. */
  readonly #retiring = new Map<string, Promise<void>>();
  readonly #parts: PipelineParts;
  readonly #workers: WorkerFactory;
  readonly #failed: Promise<Error>;
  #fail!: (error: Error) => void;
  #stopping = false;
  /** The partition of the last record and its key (see #workerFor). */
  readonly #recentPartition = { topic: '', partition: -1, key: '' };

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly metrics: PipelineMetrics,
    parts: PipelineParts,
  ) {
    this.#parts = parts;
    this.#workers = new WorkerFactory({
      config,
      plans: parts.plans,
      sink: parts.dispatcher,
      events: parts.tally,
      failures: parts.failures,
      indices: parts.indices,
      logger,
      stopSignal: parts.stop.signal,
      onAcked: (worker, records, bytes) => this.#onAcked(worker, records, bytes),
      onFatal: (error) => this.#fail(error),
      // at-most-once: the batch's offsets are committed before it is sent.
      commitBeforeSend: config.delivery === 'at-most-once' ? (w, offset) => parts.source.commit([{ topic: w.topic, partition: w.partition, offset }]) : undefined,
    });
    this.#failed = new Promise((resolve) => (this.#fail = resolve));
  }

  /** The resolved transform settings of the first configured topic (e.g. which version strategy `auto` chose). */
  get transform(): Readonly<TransformOptions> {
    return transformOptions(this.config);
  }

  /** The topics consumed now (kafka.topics, or what kafka.topicPattern matched so far). */
  get topics(): readonly string[] {
    return this.#parts.source.topics ?? this.config.kafka.topics;
  }

  /** Joins the group and starts consuming; resolves early, without consuming, when `signal` aborts. */
  async start(signal?: AbortSignal): Promise<void> {
    await this.#parts.source.start(
      {
        onRecord: (record) => this.#onRecord(record),
        onRevoking: () => this.#onRevoking(),
        onAssigned: (assignment) => this.#onAssigned(assignment),
        onPositioned: (positions) => this.#parts.partitions.positioned(positions),
        onLost: () => this.#onLost(),
        onPoison: (record, reason) => this.#onPoison(record, reason),
        onSkipped: (topic, partition, next) => this.#workerFor(topic, partition)?.skipTo(next),
      },
      signal,
    );
  }

  /** The member lost its membership, or the group has not answered it for a session, and it has not joined (or been answered) again. */
  get memberLost(): boolean {
    return this.#parts.partitions.isLost || this.#parts.source.silent === true;
  }

  /** Settles if the pipeline must stop (a record that may not be skipped failed, or a bug). */
  get failed(): Promise<Error> {
    return this.#failed;
  }

  #onRevoking(): void {
    if (this.#parts.partitions.rebalancing) return;
    this.#parts.partitions.revoking();
    this.logger.info({ generation: this.#parts.partitions.generation }, 'group rebalancing: suspending work on all partitions');
  }

  /** Decides which workers continue; returns their positions (the source starts them there). */
  #onAssigned(join: Assignment): ReadonlyMap<string, bigint> {
    const { continued, retired } = this.#parts.partitions.assigned(join, Date.now());
    this.#afterJoin(retired);
    const { partitions, generation, memberId } = join;
    if (partitions.length === 0) this.logger.warn({ generation, memberId }, 'no partitions assigned: this instance is idle (the group has more instances than partitions)');
    else this.logger.info({ generation, memberId, partitions, continued: [...continued.keys()] }, 'partitions assigned');
    return continued;
  }

  /** The membership is gone: every partition is released until the group is joined again. */
  #onLost(): void {
    this.#afterJoin(this.#parts.partitions.lost().retired);
    this.logger.warn({ generation: this.#parts.partitions.generation }, 'membership lost: released every partition until the group is joined again');
  }

  #afterJoin(retired: [string, PartitionWorker][]): void {
    for (const [key, worker] of retired) this.#retire(key, worker);
    // Remembered commits may be stale (another member may have committed meanwhile): commit afresh.
    this.#parts.committer.forget(() => true);
    if (this.config.delivery === 'at-least-once') void this.#parts.committer.request();
  }

  /** Stops a worker for good: its unacknowledged records are redelivered to whoever owns the partition next. */
  #retire(key: string, worker: PartitionWorker): void {
    const generation = this.#parts.partitions.generation;
    const done = worker.retire().then(() => {
      this.#parts.gate.release(worker.watermark.pendingCount, worker.pendingBytes);
      this.#parts.tally.retired(worker.indexedRecords, worker.supersededRecords);
      this.logger.info({ partition: key, generation, startedAt: worker.firstBulkAt, lastBulkAt: worker.lastBulkAt, releasedAt: Date.now() }, 'partition released');
      // Its owner now reports it; a series left here would show a stale offset for ever.
      if (!this.#parts.partitions.worker(key)) this.metrics.committedOffset.remove({ topic: worker.topic, partition: String(worker.partition) });
    });
    this.#retiring.set(key, done);
    void done.finally(() => {
      if (this.#retiring.get(key) === done) this.#retiring.delete(key);
    });
  }

  #onRecord(record: SourceRecord): void {
    const worker = this.#workerFor(record.topic, record.partition);
    if (!worker) return;
    if (record.offset <= worker.watermark.highest) {
      this.#parts.tally.duplicates++;
      return;
    }
    const prepared = this.#parts.preparer.prepare(record);
    worker.push(prepared);
    this.#parts.tally.consumedOne(record.topic);
    this.#parts.gate.add(1, prepared.bytes);
  }

  /**
   * A record at which the member failed errors.poisonAfter times in a row: dead-lettered (type poison)
   * without being handled again, or, with errors.policy fail, the service stops naming it.
   */
  #onPoison(record: SourceRecord, reason: string): void {
    const failure = { errorClass: 'transform', errorType: 'poison', reason } as const;
    if (this.config.errors.policy === 'fail') {
      this.#fail(new PermanentFailure(describeFailure(record, failure)));
      return;
    }
    const worker = this.#workerFor(record.topic, record.partition);
    if (!worker || record.offset <= worker.watermark.highest) return;
    const prepared = prepare(record, { failure }, this.config.batch.maxBytes);
    worker.push(prepared);
    this.#parts.tally.consumed++;
    this.#parts.gate.add(1, prepared.bytes);
  }

  /**
   * The worker of an owned partition (made at its first record), or undefined when this member does
   * not own it (the source delivers only the current generation's records; a guard) or stops.
   */
  #workerFor(topic: string, partition: number): PartitionWorker | undefined {
    if (this.#stopping) return undefined;
    // Records come in runs of one partition: its key is built once per run, not per record.
    const recent = this.#recentPartition;
    if (partition !== recent.partition || topic !== recent.topic) {
      recent.topic = topic;
      recent.partition = partition;
      recent.key = partitionKey(topic, partition);
    }
    const key = recent.key;
    if (!this.#parts.partitions.owns(key)) return undefined;
    let worker = this.#parts.partitions.worker(key);
    if (!worker) this.#parts.partitions.add(key, (worker = this.#workers.create(topic, partition, this.#retiring.get(key))));
    return worker;
  }

  #onAcked(worker: PartitionWorker, records: number, bytes: number): void {
    this.#parts.gate.release(records, bytes);
    if (this.config.delivery === 'at-least-once' && this.#parts.partitions.worker(partitionKey(worker.topic, worker.partition)) === worker) void this.#parts.committer.request();
  }

  /** Assigned partitions with lag that made no progress for `stallTimeoutMs` ("topic:partition"). */
  stalledPartitions(endOffsets: ReadonlyMap<string, bigint>, now = Date.now()): string[] {
    if (this.#stopping) return [];
    return this.#parts.partitions.stalled(endOffsets, now, this.config.stallTimeoutMs, (key) => this.#parts.committer.committed.get(key));
  }

  /** unavailable: a dead-letter topic has not acknowledged a send for errors.dlqTimeoutMs (/ready is false). */
  get deadLetterState(): DeadLetterState {
    return this.#parts.deadLetters.state ?? { state: 'ok', lastError: null, lastErrorAt: null };
  }

  stats(): PipelineStats {
    return pipelineStats({
      instanceId: this.config.instanceId ?? defaultInstanceId(),
      partitions: this.#parts.partitions,
      tally: this.#parts.tally,
      committed: this.#parts.committer.committed,
      buffered: { records: this.#parts.gate.records, bytes: this.#parts.gate.bytes },
      paused: this.#parts.source.paused,
      deadLetterQueue: this.deadLetterState,
    });
  }

  /**
   * Stops fetching, lets bulks in flight finish, commits what they acknowledged, leaves the group.
   * Rejects when the final commit failed (the acknowledged records will be redelivered).
   */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#parts.gate.freeze();
    this.#parts.source.pause();
    let commitError: Error | undefined;
    try {
      // Workers stay in the map: their watermarks are what the final commit sends.
      await Promise.all(
        [...this.#parts.partitions.workers].map(([key, w]) =>
          w.retire().then(() => this.logger.info({ partition: key, generation: this.#parts.partitions.generation, startedAt: w.firstBulkAt, lastBulkAt: w.lastBulkAt, releasedAt: Date.now() }, 'partition released')),
        ),
      );
      await Promise.all(this.#retiring.values());
      if (this.config.delivery === 'at-least-once' && !this.#parts.partitions.rebalancing) await this.#parts.committer.finalCommit(this.config.retry).catch((error: Error) => (commitError = error));
    } finally {
      this.#parts.stop.abort();
      await this.#parts.source.close();
      await this.#parts.deadLetters.close();
      await this.#parts.decoders.close();
      await this.#parts.sink.close();
    }
    if (commitError) throw commitError;
  }
}
