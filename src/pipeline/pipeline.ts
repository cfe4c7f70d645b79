// Wires the stages: Kafka source → decode/transform → per-partition workers → bulk sink → commit.
// Fetching pauses when the records held in memory reach the configured bound, and resumes at half.
// On a rebalance every worker stops at once (no new bulks, no retries); after the join, each assigned
// partition gets a fresh worker that waits for its predecessor's last bulk before sending anything.
import type { Config } from '../config/schema.js';
import { Committer } from '../offsets/committer.js';
import { SearchClient } from '../sink/search-client.js';
import { KafkaSource } from '../source/kafka-source.js';
import { partitionKey, type SourceRecord } from '../source/record.js';
import { buildOperation, type Transformed, type TransformOptions, transformOptions } from '../transform/to-operation.js';
import { RecordDecoders } from '../decode/decoders.js';
import type { Logger } from '../util/logger.js';
import { Semaphore } from '../util/semaphore.js';
import { type Outcome, prepare, type PreparedRecord, preparePending } from './batch.js';
import { Metrics } from '../http/metrics.js';
import { DeadLetterQueue, defaultInstanceId, type Failure } from '../sink/dead-letter.js';
import { describeFailure, PartitionWorker, PermanentFailure } from './partition-worker.js';

export interface PipelineStats {
  consumed: number;
  indexed: number;
  retries: number;
  /** Records that could not be indexed (dead-lettered or skipped). */
  failed: number;
  deadLettered: number;
  buffered: number;
  bufferedBytes: number;
  paused: boolean;
  generation: number;
  assigned: string[];
  sink: SinkState;
  partitions: PartitionStats[];
}

export interface PartitionStats {
  topic: string;
  partition: number;
  owner: string;
  committed: string | null;
  pending: number;
  fetched: string | null;
  indexed: number;
  retries: number;
  deadLettered: number;
}

export interface SinkState {
  state: 'ok' | 'retrying' | 'unreachable';
  lastError: string | null;
  lastErrorAt: number | null;
}

const LOST = 'lost';

const outcomeOf = (t: Transformed): Outcome =>
  !t.ok ? { failure: { errorClass: t.errorClass, errorType: t.errorType, reason: t.reason } } : t.skip ? { skip: t.skip } : { op: t.op };

export class Pipeline {
  readonly #workers = new Map<string, PartitionWorker>();
  /** Workers of the previous generation still finishing their last bulk, by partition. */
  readonly #retiring = new Map<string, Promise<bigint | undefined>>();
  readonly #source: KafkaSource;
  readonly #client: SearchClient;
  readonly #committer: Committer;
  readonly #inFlight: Semaphore;
  readonly #failed: Promise<Error>;
  #fail!: (error: Error) => void;
  #assigned = new Set<string>();
  #generation = -1;
  #buffered = 0;
  #bufferedBytes = 0;
  #consumed = 0;
  #indexedBefore = 0;
  #retries = 0;
  #failures = 0;
  #deadLettered = 0;
  #stopping = false;
  readonly #stopSignal = new AbortController();
  readonly #deadLetters: DeadLetterQueue;
  readonly #decoders: RecordDecoders;
  readonly #transform: TransformOptions;

  #sink: SinkState = { state: 'ok', lastError: null, lastErrorAt: null };
  readonly #instanceId: string;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly metrics: Metrics = new Metrics(),
  ) {
    this.#instanceId = config.instanceId ?? defaultInstanceId();
    this.#source = new KafkaSource(config.kafka, logger, config.delivery === 'auto-commit' ? config.autoCommitIntervalMs : false, config.retry);
    this.#client = new SearchClient(config.elastic.url, { connections: config.batch.maxInFlight * 2, timeoutMs: config.elastic.requestTimeoutMs, auth: config.elastic });
    this.#inFlight = new Semaphore(config.batch.maxInFlight);
    this.#committer = new Committer(
      () => this.#workers.values(),
      async (offsets) => {
        const end = this.metrics.commitDuration.startTimer();
        await this.#source.commit(offsets);
        end();
        for (const o of offsets) this.metrics.committedOffset.set({ topic: o.topic, partition: String(o.partition) }, Number(o.offset));
      },
      (error) => this.logger.warn({ err: error }, 'offset commit failed; will retry with the next acknowledgement'),
    );
    this.#failed = new Promise((resolve) => (this.#fail = resolve));
    this.#deadLetters = new DeadLetterQueue(config, logger, this.#stopSignal.signal);
    this.#decoders = new RecordDecoders(config, logger, this.#stopSignal.signal);
    this.#transform = transformOptions(config);
  }

  /** Starts consuming; the promise returned by `failed` settles if the pipeline must stop. */
  async start(): Promise<void> {
    await this.#source.start({
      onRecord: (record) => this.#onRecord(record),
      onRebalance: () => this.#onRebalance(),
      onAssigned: (partitions, generation, memberId) => this.#onAssigned(partitions, generation, memberId),
      // Like a rebalance that takes every partition away; the next join hands them out again.
      onLost: () => this.#onAssigned([], this.#generation, LOST),
    });
  }

  get failed(): Promise<Error> {
    return this.#failed;
  }

  #onRebalance(): void {
    this.logger.info({ generation: this.#generation }, 'group rebalancing: stopping work on all partitions');
    for (const worker of this.#workers.values()) void worker.stop();
  }

  #onAssigned(partitions: string[], generation: number, memberId: string): void {
    const previous = [...this.#workers.entries()];
    this.#workers.clear();
    this.#assigned = new Set(partitions);
    this.#generation = generation;
    for (const [key, worker] of previous) {
      // Only this instance may still own the partition: hand its progress to the next worker.
      const handOver = worker.stop().then(async () => {
        this.#buffered -= worker.watermark.pendingCount;
        this.#bufferedBytes -= worker.pendingBytes;
        this.#indexedBefore += worker.indexedRecords;
        this.logger.info({ partition: key, generation, startedAt: worker.firstBulkAt, releasedAt: Date.now() }, 'partition released');
        if (!this.#assigned.has(key)) return undefined;
        await this.#committer.commitTargets([worker]);
        return worker.watermark.committableOffset();
      });
      this.#retiring.set(key, handOver);
      void handOver.finally(() => {
        if (this.#retiring.get(key) === handOver) this.#retiring.delete(key);
      });
    }
    this.#committer.forget((key) => !this.#assigned.has(key));
    if (memberId === LOST) {
      this.logger.warn({ generation }, 'consumer lost: released every partition until the group is joined again');
    } else if (partitions.length === 0) {
      this.logger.warn({ generation, memberId }, 'no partitions assigned: this instance is idle (the group has more instances than partitions)');
    } else {
      this.logger.info({ generation, memberId, partitions }, 'partitions assigned');
    }
  }

  #onRecord(record: SourceRecord): void {
    if (this.#stopping) return;
    const key = partitionKey(record.topic, record.partition);
    // Records fetched before a rebalance for partitions this member no longer owns.
    if (!this.#assigned.has(key)) return;
    const prepared = this.#prepare(record);
    if (!this.#worker(record.topic, record.partition).push(prepared)) return; // redelivered
    this.#consumed++;
    this.metrics.consumed.inc({ topic: record.topic });
    this.#buffered++;
    this.#bufferedBytes += prepared.bytes;
    if ((this.#buffered >= this.config.batch.maxBufferedRecords || this.#bufferedBytes >= this.config.batch.maxBufferedBytes) && !this.#source.paused) {
      this.logger.debug({ buffered: this.#buffered, bufferedBytes: this.#bufferedBytes }, 'buffer full: pausing fetch');
      this.#source.pause();
    }
  }

  /** Decode + transform, synchronously when possible (JSON, cached Avro schemas), else pending. */
  #prepare(record: SourceRecord): PreparedRecord {
    const { maxBytes } = this.config.batch;
    const decoded = this.#decoders.decodeRecordSync(record);
    if (decoded) return prepare(record, outcomeOf(buildOperation(record, decoded, this.#transform)), maxBytes);
    return preparePending(record, this.#decoders.decodeRecordAsync(record).then((d) => outcomeOf(buildOperation(record, d, this.#transform))), maxBytes);
  }

  #worker(topic: string, partition: number): PartitionWorker {
    const key = partitionKey(topic, partition);
    let worker = this.#workers.get(key);
    if (!worker) {
      worker = new PartitionWorker(
        topic,
        partition,
        {
          config: this.config,
          client: this.#client,
          inFlight: this.#inFlight,
          logger: this.logger,
          onAcked: (_worker, records, bytes) => this.#onAcked(records, bytes),
          onRetry: (w, items, reason, wholeRequest) => this.#onRetry(w, items, reason, wholeRequest),
          onBulk: (seconds, operations, bytes) => {
            this.metrics.bulkDuration.observe(seconds);
            this.metrics.bulkDocuments.observe(operations);
            this.metrics.bulkBytes.observe(bytes);
            if (this.#sink.state !== 'ok') this.#sink = { ...this.#sink, state: 'ok' };
          },
          onIndexed: (w, records) => {
            this.metrics.indexed.inc({ topic: w.topic }, records.length);
            const now = Date.now();
            for (const r of records) this.metrics.eventToIndexed.observe(Math.max(0, now - Number(r.record.timestamp)) / 1000);
          },
          onFailure: (record, failure) => this.#onFailure(record, failure),
          onFatal: (error) => this.#fail(error),
          // at-most-once: the batch's offsets are committed before it is sent.
          commitBeforeSend: this.config.delivery === 'at-most-once' ? (offset) => this.#source.commit([{ topic, partition, offset }]) : undefined,
        },
        this.#retiring.get(key),
      );
      this.#workers.set(key, worker);
    }
    return worker;
  }

  #onRetry(worker: PartitionWorker, items: number, reason: string, wholeRequest: boolean): void {
    this.#retries += items;
    this.metrics.retried.inc({ topic: worker.topic }, items);
    const unreachable = wholeRequest && /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|socket|timeout|other side closed/i.test(reason);
    this.#sink = { state: unreachable ? 'unreachable' : 'retrying', lastError: reason.slice(0, 500), lastErrorAt: Date.now() };
  }

  /** A record that can never be indexed, handled by errors.policy. */
  async #onFailure(record: SourceRecord, failure: Failure): Promise<void> {
    const description = describeFailure(record, failure);
    if (this.config.errors.policy === 'fail') throw new PermanentFailure(description);
    this.#failures++;
    this.metrics.deadLettered.inc({ topic: record.topic, error_class: failure.errorClass });
    if (this.config.errors.policy === 'skip') {
      this.logger.error({ topic: record.topic, partition: record.partition, offset: String(record.offset), ...failure }, `skipped: ${description}`);
      return;
    }
    await this.#deadLetters.send(record, failure);
    this.#deadLettered++;
    this.logger.warn({ topic: record.topic, partition: record.partition, offset: String(record.offset), ...failure }, `dead-lettered: ${description}`);
  }

  #onAcked(records: number, bytes: number): void {
    this.#buffered -= records;
    this.#bufferedBytes -= bytes;
    const { maxBufferedRecords, maxBufferedBytes } = this.config.batch;
    if (this.#source.paused && !this.#stopping && this.#buffered <= maxBufferedRecords / 2 && this.#bufferedBytes <= maxBufferedBytes / 2) this.#source.resume();
    if (this.config.delivery === 'at-least-once') void this.#committer.request();
  }

  stats(): PipelineStats {
    const partitions = [...this.#workers.values()].map((w) => ({
      topic: w.topic,
      partition: w.partition,
      owner: this.#instanceId,
      committed: this.#committer.committed.get(partitionKey(w.topic, w.partition))?.toString() ?? null,
      pending: w.watermark.pendingCount,
      /** Next offset after the highest record fetched; null before the first. */
      fetched: w.watermark.highest >= 0n ? (w.watermark.highest + 1n).toString() : null,
      indexed: w.indexedRecords,
      retries: w.retriedItems,
      deadLettered: w.failedRecords,
    }));
    let indexed = this.#indexedBefore;
    for (const p of partitions) indexed += p.indexed;
    return {
      consumed: this.#consumed,
      indexed,
      retries: this.#retries,
      failed: this.#failures,
      deadLettered: this.#deadLettered,
      buffered: this.#buffered,
      bufferedBytes: this.#bufferedBytes,
      paused: this.#source.paused,
      generation: this.#generation,
      assigned: [...this.#assigned].sort(),
      sink: this.#sink,
      partitions,
    };
  }

  /** Stops fetching, lets bulks in flight finish, commits what they acknowledged, leaves the group. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#stopSignal.abort();
    this.#source.pause();
    await Promise.all([...this.#workers.values()].map((w) => w.stop()));
    await Promise.all(this.#retiring.values());
    if (this.config.delivery === 'at-least-once') await this.#committer.flush();
    await this.#source.close();
    await this.#deadLetters.close();
    await this.#decoders.close();
    await this.#client.close();
  }
}
