// The dead-letter producer: a record that can never be indexed is produced to its dead-letter topic
// unchanged (key, value, and the headers errors.dlqHeaders lets through) with headers saying why, so
// nothing is lost and it can be re-driven.
import { Producer } from '@platformatic/kafka';
import type { Config } from '../config/schema.js';
import { kafkaClientOptions } from '../source/connection.js';
import type { SourceRecord } from '../source/record.js';
import { retryWithBackoff } from '../util/backoff.js';
import { defaultInstanceId } from '../util/instance-id.js';
import type { Logger } from '../util/logger.js';
import { type DeadLetter, type DeadLetterSink, DLQ_HEADERS, dlqTopicFor, type Failure } from './failure.js';
import { dlqHeaderFilter, headersReadBy } from './header-filter.js';

const OUR_HEADERS: ReadonlySet<string> = new Set(Object.values(DLQ_HEADERS));

export class DeadLetterQueue implements DeadLetterSink {
  readonly #producer: Producer;
  readonly #instance: string;
  readonly #copyHeader: (name: string) => boolean;
  /** One send at a time: concurrent sends through @platformatic/kafka's idempotent producer were
   *  seen to lose a record (acknowledged, never written). Each send carries many records instead. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly signal: AbortSignal,
  ) {
    this.#producer = new Producer({ ...kafkaClientOptions(config.kafka, '-dlq'), idempotent: true, acks: -1 });
    this.#instance = config.instanceId ?? defaultInstanceId();
    this.#copyHeader = dlqHeaderFilter(config.errors.dlqHeaders, headersReadBy(config));
  }

  /**
   * Produces the records to their dead-letter topics in one produce request (a bulk's failures go
   * together: one record at a time made a mapping change that rejects everything crawl); retries
   * until the broker acknowledges all of them (never drops). Calls are serialized.
   */
  send(failures: readonly DeadLetter[]): Promise<void> {
    if (failures.length === 0) return Promise.resolve();
    const sent = this.#queue.then(() => this.#send(failures));
    this.#queue = sent.catch(() => undefined);
    return sent;
  }

  async #send(failures: readonly DeadLetter[]): Promise<void> {
    const messages = failures.map(({ record, failure }) => this.#message(record, failure));
    await retryWithBackoff(
      async () => {
        if (this.signal.aborted) throw new Error('stopped before the dead-letter records were acknowledged');
        await this.#producer.send({ messages });
      },
      { ...this.config.retry, signal: this.signal, onRetry: (error, attempt) => this.logger.warn({ err: error, records: messages.length, attempt }, 'dead-letter produce failed; retrying') },
    );
  }

  #message(record: SourceRecord, failure: Failure) {
    const topic = dlqTopicFor(this.config.errors.dlqTopic, record.topic);
    const headers = new Map<Buffer, Buffer>();
    for (const [key, value] of record.headers) if (!OUR_HEADERS.has(key) && this.#copyHeader(key)) headers.set(Buffer.from(key), value);
    // A re-driven dead letter that fails again keeps naming its original record (record.origin, set
    // by `dlq redrive` only: k2e.source.* headers of ordinary records are a producer's, never trusted).
    const source = record.origin ?? record;
    const ours: Record<string, string> = {
      [DLQ_HEADERS.errorClass]: failure.errorClass,
      [DLQ_HEADERS.errorType]: failure.errorType,
      [DLQ_HEADERS.reason]: failure.reason.slice(0, 4000),
      [DLQ_HEADERS.topic]: source.topic,
      [DLQ_HEADERS.partition]: String(source.partition),
      [DLQ_HEADERS.offset]: String(source.offset),
      [DLQ_HEADERS.timestamp]: String(record.origin?.timestamp ?? record.timestamp),
      [DLQ_HEADERS.instance]: this.#instance,
    };
    for (const [key, value] of Object.entries(ours)) headers.set(Buffer.from(key), Buffer.from(value));
    return { topic, key: record.key ?? undefined, value: record.value as Buffer, headers, timestamp: record.timestamp };
  }

  async close(): Promise<void> {
    await this.#producer.close().catch(() => undefined);
  }
}
