// Wires the stages: Kafka source → decode/transform → per-partition workers → bulk sink → commit.
// Fetching pauses when the records held in memory reach the configured bound, and resumes at half.
import type { Config } from '../config/schema.js';
import { Committer } from '../offsets/committer.js';
import { SearchClient } from '../sink/search-client.js';
import { KafkaSource } from '../source/kafka-source.js';
import { partitionKey, type SourceRecord } from '../source/record.js';
import { toOperation } from '../transform/to-operation.js';
import type { Logger } from '../util/logger.js';
import { Semaphore } from '../util/semaphore.js';
import { prepare } from './batch.js';
import { PartitionWorker, PermanentFailure } from './partition-worker.js';

export interface PipelineStats {
  consumed: number;
  indexed: number;
  retries: number;
  buffered: number;
  paused: boolean;
  assigned: string[];
  partitions: { topic: string; partition: number; committed: string | null; pending: number; indexed: number }[];
}

export class Pipeline {
  readonly #workers = new Map<string, PartitionWorker>();
  readonly #source: KafkaSource;
  readonly #client: SearchClient;
  readonly #committer: Committer;
  readonly #inFlight: Semaphore;
  readonly #failed: Promise<Error>;
  #fail!: (error: Error) => void;
  #buffered = 0;
  #consumed = 0;
  #retries = 0;
  #stopping = false;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
  ) {
    this.#source = new KafkaSource(config.kafka, logger, config.delivery === 'auto-commit' ? config.autoCommitIntervalMs : false);
    this.#client = new SearchClient(config.elastic.url, { connections: config.batch.maxInFlight * 2, timeoutMs: config.elastic.requestTimeoutMs, auth: config.elastic });
    this.#inFlight = new Semaphore(config.batch.maxInFlight);
    this.#committer = new Committer(
      () => this.#workers.values(),
      (offsets) => this.#source.commit(offsets),
      (error) => this.logger.warn({ err: error }, 'offset commit failed; will retry with the next acknowledgement'),
    );
    this.#failed = new Promise((resolve) => (this.#fail = resolve));
  }

  /** Starts consuming; the promise returned by `failed` settles if the pipeline must stop. */
  async start(): Promise<void> {
    await this.#source.start(
      (record) => this.#onRecord(record),
      (error) => this.#fail(error),
    );
  }

  get failed(): Promise<Error> {
    return this.#failed;
  }

  #onRecord(record: SourceRecord): void {
    if (this.#stopping) return;
    this.#consumed++;
    const transformed = toOperation(record, { index: this.config.elastic.index, id: this.config.document.id, action: this.config.document.action });
    if (!transformed.ok) {
      this.#fail(new PermanentFailure(`${record.topic}[${record.partition}] offset ${record.offset}: ${transformed.reason}`));
      return;
    }
    this.#worker(record.topic, record.partition).push(prepare(record.offset, transformed.op));
    if (++this.#buffered >= this.config.batch.maxBufferedRecords && !this.#source.paused) {
      this.logger.debug({ buffered: this.#buffered }, 'buffer full: pausing fetch');
      this.#source.pause();
    }
  }

  #worker(topic: string, partition: number): PartitionWorker {
    const key = partitionKey(topic, partition);
    let worker = this.#workers.get(key);
    if (!worker) {
      worker = new PartitionWorker(topic, partition, {
        config: this.config,
        client: this.#client,
        inFlight: this.#inFlight,
        logger: this.logger,
        onAcked: (_worker, records) => this.#onAcked(records),
        // at-most-once: the batch's offsets are committed before it is sent.
        commitBeforeSend:
          this.config.delivery === 'at-most-once' ? (offset) => this.#source.commit([{ topic, partition, offset }]) : undefined,
        onRetry: () => this.#retries++,
        onFatal: (error) => this.#fail(error),
      });
      this.#workers.set(key, worker);
    }
    return worker;
  }

  #onAcked(records: number): void {
    this.#buffered -= records;
    if (this.#source.paused && !this.#stopping && this.#buffered <= this.config.batch.maxBufferedRecords / 2) this.#source.resume();
    if (this.config.delivery === 'at-least-once') void this.#committer.request();
  }

  stats(): PipelineStats {
    const partitions = [...this.#workers.values()].map((w) => ({
      topic: w.topic,
      partition: w.partition,
      committed: this.#committer.committed.get(partitionKey(w.topic, w.partition))?.toString() ?? null,
      pending: w.watermark.pendingCount,
      indexed: w.indexedRecords,
    }));
    let indexed = 0;
    for (const p of partitions) indexed += p.indexed;
    return { consumed: this.#consumed, indexed, retries: this.#retries, buffered: this.#buffered, paused: this.#source.paused, assigned: this.#source.assigned(), partitions };
  }

  /** Stops fetching, lets bulks in flight finish, commits what they acknowledged, leaves the group. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#source.pause();
    await Promise.all([...this.#workers.values()].map((w) => w.stop()));
    if (this.config.delivery === 'at-least-once') await this.#committer.flush();
    await this.#source.close();
    await this.#client.close();
  }
}
