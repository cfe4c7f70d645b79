// Wires the stages: Kafka source → decode/transform → per-partition workers → bulk sink → commit.
//
// Group membership, as this instance sees it (the eager classic protocol):
// - rebalance starts: every worker is suspended (no new bulk, no retry after the request in flight)
//   and nothing is committed until the join;
// - join: a partition that stays with the same member in the next generation keeps its worker, which
//   goes on with everything it holds (the source resumes fetching right after it); every other worker
//   is retired, and a later worker of that partition waits for its last bulk before sending;
// - a member that lost its membership (fenced after a session timeout, broker gone) keeps nothing.
// Memory is bounded by a gate that pauses fetching (BufferGate), re-decided on every change.
import type { Config } from '../config/schema.js';
import type { IndexAdmin, IndexRegistry } from '../sink/index-registry.js';
import { Committer } from '../offsets/committer.js';
import type { Assignment, RecordSource } from '../source/kafka-source.js';
import { partitionKey, type SourceRecord, splitPartitionKey } from '../source/record.js';
import { type TransformOptions, transformOptions } from '../transform/to-operation.js';
import type { RecordDecoders } from '../decode/decoders.js';
import type { Logger } from '../util/logger.js';
import { BulkDispatcher, type BulkTransport } from '../sink/bulk-dispatcher.js';
import { MemberPartitions } from './assignment.js';
import { prepare } from './batch.js';
import { RecordPreparer } from './prepare-record.js';
import { BufferGate } from './buffer-gate.js';
import type { PipelineMetrics } from './pipeline-metrics.js';
import type { DeadLetterSink, DeadLetterState } from '../dead-letter/failure.js';
import { defaultInstanceId } from '../util/instance-id.js';
import { type BulkSink, PartitionWorker } from './partition-worker.js';
import { describeFailure, FailurePolicy, PermanentFailure } from './failure-policy.js';
import { PipelineTally, type SinkState } from './tally.js';

export interface PipelineStats {
  consumed: number;
  /** Records received again that a worker already held (none expected; a guard). */
  duplicates: number;
  indexed: number;
  /** Records a newer version in the index made unnecessary (external versioning). */
  superseded: number;
  retries: number;
  /** Records that could not be indexed (dead-lettered or skipped). */
  failed: number;
  deadLettered: number;
  buffered: number;
  bufferedBytes: number;
  paused: boolean;
  rebalancing: boolean;
  generation: number;
  assigned: string[];
  sink: SinkState;
  deadLetterQueue: DeadLetterState;
  partitions: PartitionStats[];
}

export interface PartitionStats {
  topic: string;
  partition: number;
  owner: string;
  /** Where the group resumes this partition: the last commit, or the start position of this assignment. */
  committed: string | null;
  pending: number;
  /** Next offset after the highest record received; null before the first. */
  fetched: string | null;
  indexed: number;
  superseded: number;
  retries: number;
  deadLettered: number;
  /** Last record received or acknowledged (epoch ms). */
  lastProgressAt: number;
}

/** What the pipeline talks to: build.ts makes the real ones; tests, the benchmark and re-drives replace some. */
export interface PipelineDeps {
  source: RecordSource;
  /** Sends one `_bulk` request (the dispatcher in front of it combines partitions' batches). */
  sink: BulkTransport & { close(): Promise<void> };
  deadLetters: DeadLetterSink;
  /** Creates indices named by templates on first use (production: the SearchClient). */
  indices: IndexAdmin;
}

/** Everything a pipeline is made of (see build.ts). */
export interface PipelineParts {
  source: RecordSource;
  sink: BulkTransport & { close(): Promise<void> };
  deadLetters: DeadLetterSink;
  decoders: RecordDecoders;
  /** Indices created on first use, and again when deleted while running; none for data streams. */
  indices: IndexRegistry | undefined;
  /** Aborted when the pipeline stops (the parts made with its signal end their waits). */
  stop: AbortController;
}

export class Pipeline {
  /** This member's partitions and their workers across rebalances (created at their first record). */
  readonly #partitions = new MemberPartitions<PartitionWorker>();
  /** Retired workers still finishing their last bulk, by partition. */
  readonly #retiring = new Map<string, Promise<void>>();
  readonly #source: RecordSource;
  readonly #sink: BulkTransport & { close(): Promise<void> };
  readonly #dispatcher: BulkSink;
  readonly #deadLetters: DeadLetterSink;
  readonly #committer: Committer;
  readonly #gate: BufferGate;
  readonly #failed: Promise<Error>;
  #fail!: (error: Error) => void;
  /** What flows through, for /status and /metrics. */
  readonly #tally: PipelineTally;
  readonly #failurePolicy: FailurePolicy;
  #stopping = false;
  readonly #stopSignal: AbortController;
  readonly #decoders: RecordDecoders;
  readonly #transform: TransformOptions;
  /** Decode + transform of each record, contained: whatever one record makes throw is its own failure. */
  readonly #preparer: RecordPreparer;
  /** The partition of the last record and its key (see #onRecord). */
  readonly #recentPartition = { topic: '', partition: -1, key: '' };
  /** Indices named per record, created on first use; undefined when every record goes to the one fixed index. */
  readonly #indices: IndexRegistry | undefined;
  /** Whether batches name indices other than the fixed one (each batch's are made sure of before it is sent). */
  readonly #routesIndices: boolean;
  readonly #instanceId: string;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly metrics: PipelineMetrics,
    parts: PipelineParts,
  ) {
    this.#instanceId = config.instanceId ?? defaultInstanceId();
    this.#source = parts.source;
    this.#sink = parts.sink;
    this.#deadLetters = parts.deadLetters;
    this.#decoders = parts.decoders;
    this.#indices = parts.indices;
    this.#stopSignal = parts.stop;
    this.#routesIndices = parts.indices !== undefined && routesIndices(config);
    this.#tally = new PipelineTally(metrics, logger);
    this.#failurePolicy = new FailurePolicy(config.errors.policy, parts.deadLetters, this.#tally, logger);
    this.#dispatcher = new BulkDispatcher(this.#sink, {
      maxDocs: config.batch.maxDocs,
      maxBytes: config.batch.maxBytes,
      maxInFlight: config.batch.maxInFlight,
      compression: config.elastic.compression === 'gzip',
      onRequest: (seconds, documents, bytes) => this.#tally.requestAnswered(seconds, documents, bytes),
    });
    this.#gate = new BufferGate(
      { maxRecords: config.batch.maxBufferedRecords, maxBytes: config.batch.maxBufferedBytes },
      {
        pause: () => {
          this.logger.debug({ buffered: this.#gate.records, bufferedBytes: this.#gate.bytes }, 'buffer full: pausing fetch');
          this.#source.pause();
        },
        resume: () => this.#source.resume(),
      },
    );
    this.#committer = new Committer(this.#source, this.#partitions, {
      minIntervalMs: config.commitIntervalMs,
      onError: (error) => this.logger.warn({ err: error }, 'offset commit failed; will retry with the next acknowledgement'),
      onCommitted: (offsets, seconds) => {
        this.metrics.commitDuration.observe(seconds);
        for (const o of offsets) this.metrics.committedOffset.set({ topic: o.topic, partition: String(o.partition) }, Number(o.offset));
      },
    });
    this.#failed = new Promise((resolve) => (this.#fail = resolve));
    this.#transform = transformOptions(config);
    this.#preparer = new RecordPreparer(config, this.#decoders, this.#stopSignal.signal);
  }

  /**
   * Bulks of one partition in flight at once: 2 when the topic's documents carry external versions
   * (the engine keeps their order), else 1, which is what keeps unversioned writes (partial updates
   * above all) in offset order. The config check refuses an explicit value above 1 without versions.
   */
  #bulksPerPartition(topic: string): number {
    const perPartition = this.config.batch.maxInFlightPerPartition;
    if (perPartition !== 'auto') return perPartition;
    return this.#decoders.optionsFor(topic).version !== 'none' && this.config.delivery !== 'at-most-once' ? 2 : 1;
  }

  /** The resolved transform settings of the first configured topic (e.g. which version strategy `auto` chose). */
  get transform(): Readonly<TransformOptions> {
    return this.#transform;
  }

  /** The topics consumed now (kafka.topics, or what kafka.topicPattern matched so far). */
  get topics(): readonly string[] {
    return this.#source.topics ?? this.config.kafka.topics;
  }

  /** Joins the group and starts consuming; resolves early, without consuming, when `signal` aborts. */
  async start(signal?: AbortSignal): Promise<void> {
    await this.#source.start(
      {
        onRecord: (record) => this.#onRecord(record),
        onRevoking: () => this.#onRevoking(),
        onAssigned: (assignment) => this.#onAssigned(assignment),
        onPositioned: (positions) => this.#partitions.positioned(positions),
        onLost: () => this.#onLost(),
        onPoison: (record, reason) => this.#onPoison(record, reason),
        onSkipped: (topic, partition, next) => this.#onSkipped(topic, partition, next),
      },
      signal,
    );
  }

  /** The member lost its membership, or the group has not answered it for a session, and it has not joined (or been answered) again. */
  get memberLost(): boolean {
    return this.#partitions.isLost || this.#source.silent === true;
  }

  /** Settles if the pipeline must stop (a record that may not be skipped failed, or a bug). */
  get failed(): Promise<Error> {
    return this.#failed;
  }

  #onRevoking(): void {
    if (this.#partitions.rebalancing) return;
    this.#partitions.revoking();
    this.logger.info({ generation: this.#partitions.generation }, 'group rebalancing: suspending work on all partitions');
  }

  /** Decides which workers continue; returns their positions (the source starts them there). */
  #onAssigned(join: Assignment): ReadonlyMap<string, bigint> {
    const { continued, retired } = this.#partitions.assigned(join, Date.now());
    this.#afterJoin(retired);
    const { partitions, generation, memberId } = join;
    if (partitions.length === 0) this.logger.warn({ generation, memberId }, 'no partitions assigned: this instance is idle (the group has more instances than partitions)');
    else this.logger.info({ generation, memberId, partitions, continued: [...continued.keys()] }, 'partitions assigned');
    return continued;
  }

  /** The membership is gone: every partition is released until the group is joined again. */
  #onLost(): void {
    const { retired } = this.#partitions.lost();
    this.#afterJoin(retired);
    this.logger.warn({ generation: this.#partitions.generation }, 'membership lost: released every partition until the group is joined again');
  }

  #afterJoin(retired: [string, PartitionWorker][]): void {
    for (const [key, worker] of retired) this.#retire(key, worker, this.#partitions.generation);
    // Remembered commits may be stale (another member may have committed meanwhile): commit afresh.
    this.#committer.forget(() => true);
    if (this.config.delivery === 'at-least-once') void this.#committer.request();
  }

  /** Stops a worker for good: its unacknowledged records are redelivered to whoever owns the partition next. */
  #retire(key: string, worker: PartitionWorker, generation: number): void {
    const done = worker.retire().then(() => {
      this.#gate.release(worker.watermark.pendingCount, worker.pendingBytes);
      this.#tally.retired(worker.indexedRecords, worker.supersededRecords);
      this.logger.info({ partition: key, generation, startedAt: worker.firstBulkAt, lastBulkAt: worker.lastBulkAt, releasedAt: Date.now() }, 'partition released');
      // Its owner now reports it; a series left here would show a stale offset for ever.
      if (!this.#partitions.worker(key)) this.metrics.committedOffset.remove({ topic: worker.topic, partition: String(worker.partition) });
    });
    this.#retiring.set(key, done);
    void done.finally(() => {
      if (this.#retiring.get(key) === done) this.#retiring.delete(key);
    });
  }

  #onRecord(record: SourceRecord): void {
    if (this.#stopping) return;
    // Records come in runs of one partition: its key is built once per run, not per record.
    const recent = this.#recentPartition;
    if (record.partition !== recent.partition || record.topic !== recent.topic) {
      recent.topic = record.topic;
      recent.partition = record.partition;
      recent.key = partitionKey(record.topic, record.partition);
    }
    const key = recent.key;
    // The source only delivers the current generation's records; this guards against anything else.
    if (!this.#partitions.owns(key)) return;
    const worker = this.#worker(key, record.topic, record.partition);
    if (record.offset <= worker.watermark.highest) {
      this.#tally.duplicates++;
      return;
    }
    const prepared = this.#preparer.prepare(record);
    worker.push(prepared);
    this.#tally.consumedOne(record.topic);
    this.#gate.add(1, prepared.bytes);
  }

  /** Offsets up to `next` held no record for us (transaction markers): the commit may pass them. */
  #onSkipped(topic: string, partition: number, next: bigint): void {
    const key = partitionKey(topic, partition);
    if (this.#stopping || !this.#partitions.owns(key)) return;
    const worker = this.#worker(key, topic, partition);
    worker.skipTo(next);
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
    const key = partitionKey(record.topic, record.partition);
    if (this.#stopping || !this.#partitions.owns(key)) return;
    const worker = this.#worker(key, record.topic, record.partition);
    if (record.offset <= worker.watermark.highest) return;
    const prepared = prepare(record, { failure }, this.config.batch.maxBytes);
    worker.push(prepared);
    this.#tally.consumed++;
    this.#gate.add(1, prepared.bytes);
  }

  #worker(key: string, topic: string, partition: number): PartitionWorker {
    let worker = this.#partitions.worker(key);
    if (worker) return worker;
    worker = new PartitionWorker(
      topic,
      partition,
      {
        config: this.config,
        bulksPerPartition: this.#bulksPerPartition(topic),
        ambiguousWaitMs: this.config.elastic.ambiguousWriteWaitMs ?? this.config.elastic.requestTimeoutMs,
        strictlyOrderedVersions: this.#decoders.optionsFor(topic).version === 'offset',
        sink: this.#dispatcher,
        logger: this.logger,
        stopSignal: this.#stopSignal.signal,
        indices: this.#indices ? { ensure: this.#routesIndices ? (names) => this.#indices!.ensure(names) : undefined, recreate: (names) => this.#recreateIndices(names) } : undefined,
        events: this.#tally,
        failures: this.#failurePolicy,
        onAcked: (w, records, bytes) => this.#onAcked(w, records, bytes),
        onFatal: (error) => this.#fail(error),
        // at-most-once: the batch's offsets are committed before it is sent.
        commitBeforeSend: this.config.delivery === 'at-most-once' ? (w, offset) => this.#source.commit([{ topic: w.topic, partition: w.partition, offset }]) : undefined,
      },
      this.#retiring.get(key),
    );
    this.#partitions.add(key, worker);
    return worker;
  }

  /**
   * Indices deleted while running (writes answered index_not_found_exception): created again from the
   * index definition, as the initialization check would at the next start, instead of holding their
   * partitions until a restart. Another instance may do the same at once: "already exists" is fine.
   */
  async #recreateIndices(names: ReadonlySet<string>): Promise<void> {
    this.logger.warn({ indices: [...names] }, 'index missing (deleted while running?): creating it again');
    await this.#indices!.recreate(names);
  }

  #onAcked(worker: PartitionWorker, records: number, bytes: number): void {
    this.#gate.release(records, bytes);
    if (this.config.delivery === 'at-least-once' && this.#partitions.worker(partitionKey(worker.topic, worker.partition)) === worker) void this.#committer.request();
  }

  /** Assigned partitions with lag that made no progress for `stallTimeoutMs` ("topic:partition"). */
  stalledPartitions(endOffsets: ReadonlyMap<string, bigint>, now = Date.now()): string[] {
    if (this.#stopping) return [];
    return this.#partitions.stalled(endOffsets, now, this.config.stallTimeoutMs, (key) => this.#committer.committed.get(key));
  }

  /** unavailable: a dead-letter topic has not acknowledged a send for errors.dlqTimeoutMs (/ready is false). */
  get deadLetterState(): DeadLetterState {
    return this.#deadLetters.state ?? { state: 'ok', lastError: null, lastErrorAt: null };
  }

  stats(): PipelineStats {
    const partitions: PartitionStats[] = [...this.#partitions.owned].map(([key, assignedAt]) => {
      const w = this.#partitions.worker(key);
      const { topic, partition } = splitPartitionKey(key);
      const committed = this.#committer.committed.get(key) ?? this.#partitions.startPosition(key);
      return {
        topic,
        partition,
        owner: this.#instanceId,
        committed: committed?.toString() ?? null,
        pending: w?.watermark.pendingCount ?? 0,
        fetched: w?.position?.toString() ?? null,
        indexed: w?.indexedRecords ?? 0,
        superseded: w?.supersededRecords ?? 0,
        retries: w?.retriedItems ?? 0,
        deadLettered: w?.failedRecords ?? 0,
        lastProgressAt: Math.max(assignedAt, w?.lastProgressAt ?? 0),
      };
    });
    const tally = this.#tally;
    let indexed = tally.indexedBefore;
    let superseded = tally.supersededBefore;
    for (const w of this.#partitions.workers.values()) {
      indexed += w.indexedRecords;
      superseded += w.supersededRecords;
    }
    return {
      consumed: tally.consumed,
      duplicates: tally.duplicates,
      indexed,
      superseded,
      retries: tally.retries,
      failed: tally.failed,
      deadLettered: tally.deadLettered,
      buffered: this.#gate.records,
      bufferedBytes: this.#gate.bytes,
      paused: this.#source.paused,
      rebalancing: this.#partitions.rebalancing,
      generation: this.#partitions.generation,
      assigned: [...this.#partitions.owned.keys()].sort(),
      sink: tally.sink,
      deadLetterQueue: this.deadLetterState,
      partitions,
    };
  }

  /**
   * Stops fetching, lets bulks in flight finish, commits what they acknowledged, leaves the group.
   * Rejects when the final commit failed (the acknowledged records will be redelivered).
   */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#gate.freeze();
    this.#source.pause();
    let commitError: Error | undefined;
    try {
      // Workers stay in the map: their watermarks are what the final commit sends.
      await Promise.all(
        [...this.#partitions.workers].map(([key, w]) =>
          w.retire().then(() => this.logger.info({ partition: key, generation: this.#partitions.generation, startedAt: w.firstBulkAt, lastBulkAt: w.lastBulkAt, releasedAt: Date.now() }, 'partition released')),
        ),
      );
      await Promise.all(this.#retiring.values());
      if (this.config.delivery === 'at-least-once' && !this.#partitions.rebalancing) await this.#committer.finalCommit(this.config.retry).catch((error: Error) => (commitError = error));
    } finally {
      this.#stopSignal.abort();
      await this.#source.close();
      await this.#deadLetters.close();
      await this.#decoders.close();
      await this.#sink.close();
    }
    if (commitError) throw commitError;
  }
}

/** Whether records can go to an index other than the fixed elastic.index (templates, per topic, fallback). */
function routesIndices(config: Config): boolean {
  const { elastic } = config;
  return (
    (elastic.index?.includes('{') ?? false) ||
    Object.keys(elastic.indexByTopic ?? {}).length > 0 ||
    Object.values(config.topicOverrides ?? {}).some((o) => o.index !== undefined) ||
    elastic.fallbackIndex !== undefined
  );
}
