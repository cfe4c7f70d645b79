// Consumes the configured topics as a member of the consumer group (@platformatic/kafka) and hands
// each record to the pipeline. Offsets are committed only when the pipeline says so.
// When the client gives up on the broker (its stream errors, e.g. during a broker restart), the
// source closes that consumer and joins the group again with a new one, with backoff: the service
// keeps running and resumes from the committed offsets.
import { Consumer, type Message, type MessagesStream } from '@platformatic/kafka';
import type { Config } from '../config/schema.js';
import { backoffDelay } from '../util/backoff.js';
import type { Logger } from '../util/logger.js';
import { kafkaClientOptions } from './connection.js';
import type { SourceRecord } from './record.js';

export interface CommitRequest {
  topic: string;
  partition: number;
  /** The next offset to consume (Kafka commit semantics). */
  offset: bigint;
}

export interface SourceHandlers {
  onRecord(record: SourceRecord): void;
  /** The group is rebalancing (classic protocol): stop work on every partition. */
  onRebalance(): void;
  /** This member's partitions ("topic:partition") after a join. */
  onAssigned(partitions: string[], generation: number, memberId: string): void;
  /** The consumer was lost (broker unreachable): every partition is gone until the next join. */
  onLost(error: Error): void;
}

type BufferMessage = Message<Buffer, Buffer, Buffer, Buffer>;

export class KafkaSource {
  #consumer: Consumer | undefined;
  #stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  #handlers: SourceHandlers | undefined;
  #paused = false;
  #closing = false;
  #reconnecting: Promise<void> | undefined;

  /** @param autocommit false, or the client's commit interval in ms (delivery: auto-commit) */
  constructor(
    private readonly config: Config['kafka'],
    private readonly logger: Logger,
    private readonly autocommit: number | false = false,
    private readonly retry: { initialDelayMs: number; maxDelayMs: number } = { initialDelayMs: 500, maxDelayMs: 10_000 },
  ) {}

  async start(handlers: SourceHandlers): Promise<void> {
    this.#handlers = handlers;
    await this.#open();
  }

  async #open(): Promise<void> {
    const handlers = this.#handlers!;
    const consumer = new Consumer({
      ...kafkaClientOptions(this.config),
      groupId: this.config.groupId,
      rebalanceTimeout: this.config.rebalanceTimeoutMs,
      sessionTimeout: this.config.sessionTimeoutMs,
      heartbeatInterval: this.config.heartbeatIntervalMs,
      maxWaitTime: this.config.maxWaitMs,
      maxBytes: this.config.maxBytes,
      maxBytesPerPartition: this.config.maxBytesPerPartition,
      autocommit: this.autocommit,
      // Bounded read-ahead inside the client; the pipeline adds its own bound on top.
      highWaterMark: 1024,
    });
    consumer.on('consumer:group:rebalance', () => handlers.onRebalance());
    consumer.on('consumer:group:join', (payload) => {
      const partitions = (consumer.assignments ?? []).flatMap((a) => a.partitions.map((p) => `${a.topic}:${p}`));
      handlers.onAssigned(partitions, payload.generationId ?? consumer.generationId, payload.memberId);
    });
    this.#consumer = consumer;
    try {
      const stream = await consumer.consume({ topics: this.config.topics, mode: 'committed', fallbackMode: this.config.autoOffsetReset });
      this.#stream = stream;
      stream.on('data', (message: BufferMessage) => handlers.onRecord(toSourceRecord(message)));
      stream.on('error', (error: Error) => this.#onLost(consumer, error));
      if (this.#paused) stream.pause();
    } catch (error) {
      await closeConsumer(consumer);
      throw error;
    }
  }

  #onLost(consumer: Consumer, error: Error): void {
    if (this.#closing || consumer !== this.#consumer || this.#reconnecting) return;
    this.logger.warn({ err: error }, 'lost the Kafka consumer; rejoining the group with a new one');
    this.#handlers!.onLost(error);
    this.#stream = undefined;
    this.#reconnecting = this.#reconnect(consumer).finally(() => (this.#reconnecting = undefined));
  }

  async #reconnect(lost: Consumer): Promise<void> {
    await closeConsumer(lost);
    for (let attempt = 0; !this.#closing; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(this.retry.initialDelayMs, backoffDelay(attempt, this.retry))));
      if (this.#closing) return;
      try {
        await this.#open();
        this.logger.info({ attempt }, 'Kafka consumer re-created');
        return;
      } catch (error) {
        this.logger.warn({ err: error, attempt }, 'rejoining the group failed; retrying');
      }
    }
  }

  /** Stops fetching (backpressure); records already fetched may still arrive. */
  pause(): void {
    this.#paused = true;
    this.#stream?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#stream?.resume();
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Partitions this member owns now, as "topic[p,q]". */
  assigned(): string[] {
    return describeAssignments(this.#stream ? (this.#consumer?.assignments ?? null) : null);
  }

  async commit(offsets: readonly CommitRequest[]): Promise<void> {
    if (offsets.length === 0) return;
    if (!this.#consumer || !this.#stream) throw new Error('not a group member right now (rejoining)');
    // leaderEpoch -1: "unknown", accepted by the broker's OffsetCommit.
    await this.#consumer.commit({ offsets: offsets.map((o) => ({ ...o, leaderEpoch: -1 })) });
  }

  /** Closes the stream and leaves the group; a broker that is down makes this best-effort. */
  async close(): Promise<void> {
    this.#closing = true;
    await this.#reconnecting;
    await this.#stream?.close().catch((error: unknown) => this.logger.warn({ err: error }, 'closing the stream failed'));
    if (this.#consumer) await closeConsumer(this.#consumer, (error) => this.logger.warn({ err: error }, 'leaving the group failed (the broker will time this member out)'));
  }
}

/** Closes a consumer (force: its streams too); errors (a broker that is down) only get reported. */
function closeConsumer(consumer: Consumer, onError: (error: Error) => void = () => undefined): Promise<void> {
  return new Promise((resolve) =>
    consumer.close(true, (error) => {
      if (error) onError(error);
      resolve();
    }),
  );
}

function describeAssignments(assignments: { topic: string; partitions: number[] }[] | null): string[] {
  return (assignments ?? []).flatMap((a) => a.partitions.map((p) => `${a.topic}:${p}`)).sort();
}

function toSourceRecord(message: BufferMessage): SourceRecord {
  const headers = new Map<string, Buffer>();
  for (const [key, value] of message.headers) headers.set(key.toString('utf8'), value);
  const key = message.key as Buffer | null | undefined;
  const value = message.value as Buffer | null | undefined;
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    timestamp: message.timestamp,
    key: key && key.length > 0 ? key : null,
    value: value ?? null,
    headers,
  };
}
