// Consumes the configured topics as a member of the consumer group (@platformatic/kafka) and hands
// each record to the pipeline. Offsets are committed only when the pipeline says so.
import { Consumer, type Message, type MessagesStream } from '@platformatic/kafka';
import type { Config } from '../config/schema.js';
import type { Logger } from '../util/logger.js';
import { kafkaClientOptions } from './connection.js';
import type { SourceRecord } from './record.js';

export interface CommitRequest {
  topic: string;
  partition: number;
  /** The next offset to consume (Kafka commit semantics). */
  offset: bigint;
}

export class KafkaSource {
  readonly #consumer: Consumer;
  #stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;

  /** @param autocommit false, or the client's commit interval in ms (delivery: auto-commit) */
  constructor(
    private readonly config: Config['kafka'],
    private readonly logger: Logger,
    private readonly autocommit: number | false = false,
  ) {
    this.#consumer = new Consumer({
      ...kafkaClientOptions(config),
      groupId: config.groupId,
      rebalanceTimeout: config.rebalanceTimeoutMs,
      sessionTimeout: config.sessionTimeoutMs,
      heartbeatInterval: config.heartbeatIntervalMs,
      maxWaitTime: config.maxWaitMs,
      maxBytes: config.maxBytes,
      autocommit,
      // Bounded read-ahead inside the client; the pipeline adds its own bound on top.
      highWaterMark: 1024,
    });
  }

  /**
   * Group membership events. `onRebalance`: the group is rebalancing (classic protocol), stop work;
   * `onAssigned`: this member's partitions ("topic:partition") after a join.
   */
  onGroupChange(onRebalance: () => void, onAssigned: (partitions: string[], generation: number, memberId: string) => void): void {
    this.#consumer.on('consumer:group:rebalance', onRebalance);
    this.#consumer.on('consumer:group:join', (payload) => {
      const partitions = (this.#consumer.assignments ?? []).flatMap((a) => a.partitions.map((p) => `${a.topic}:${p}`));
      onAssigned(partitions, payload.generationId ?? this.#consumer.generationId, payload.memberId);
    });
  }

  async start(onRecord: (record: SourceRecord) => void, onError: (error: Error) => void): Promise<void> {
    const stream = await this.#consumer.consume({
      topics: this.config.topics,
      mode: 'committed',
      fallbackMode: this.config.autoOffsetReset,
    });
    this.#stream = stream;
    stream.on('data', (message: Message<Buffer, Buffer, Buffer, Buffer>) => onRecord(toSourceRecord(message)));
    stream.on('error', onError);
  }

  /** Stops fetching (backpressure); records already fetched may still arrive. */
  pause(): void {
    this.#stream?.pause();
  }

  resume(): void {
    this.#stream?.resume();
  }

  /** Partitions this member owns now, as "topic[p,q]". */
  assigned(): string[] {
    return describeAssignments(this.#consumer.assignments);
  }

  get paused(): boolean {
    return this.#stream?.isPaused() ?? false;
  }

  async commit(offsets: readonly CommitRequest[]): Promise<void> {
    if (offsets.length === 0) return;
    // leaderEpoch -1: "unknown", accepted by the broker's OffsetCommit.
    await this.#consumer.commit({ offsets: offsets.map((o) => ({ ...o, leaderEpoch: -1 })) });
  }

  /** Closes the stream and leaves the group. */
  async close(): Promise<void> {
    await this.#stream?.close().catch((error: unknown) => this.logger.warn({ err: error }, 'closing the stream failed'));
    await this.#consumer.close(true);
  }
}

function describeAssignments(assignments: { topic: string; partitions: number[] }[] | null): string[] {
  return (assignments ?? []).map((a) => `${a.topic}[${a.partitions.join(',')}]`);
}

function toSourceRecord(message: Message<Buffer, Buffer, Buffer, Buffer>): SourceRecord {
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
