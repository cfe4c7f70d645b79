// The dead-letter producer: a record that can never be indexed is produced to its dead-letter topic
// unchanged (key, value, and the headers errors.dlqHeaders lets through) with headers saying why, so
// nothing is lost and it can be re-driven.
//
// Sends are independent: each caller (a partition's worker) waits only for its own records, cut into
// produce requests that fit the topic's max.message.bytes, retried with backoff for at most
// errors.dlqTimeoutMs and then refused with DeadLetterUnavailableError (the caller holds the records).
// The producer is not idempotent (docs/decisions.md, "Dead letters that always get out"): acks=all and
// at-least-once, so a retried request can write a record twice but never acknowledges one unwritten.
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin, Producer } from '@platformatic/kafka';
import type { Config } from '../config/schema.js';
import { kafkaClientOptions } from '../source/connection.js';
import type { SourceRecord } from '../source/record.js';
import { anySignal } from '../util/abort.js';
import { defaultInstanceId } from '../util/instance-id.js';
import type { Logger } from '../util/logger.js';
import { batchBudget, recordBytes, splitIntoGroups, truncateToFit } from './batching.js';
import {
  type DeadLetter,
  DeadLetterAbandonedError,
  type DeadLetterSink,
  type DeadLetterState,
  DeadLetterUnavailableError,
  DLQ_HEADERS,
  dlqTopicFor,
  type Failure,
} from './failure.js';
import { AttemptTimeoutError, nextStep } from './send-policy.js';
import { describeBatchLimit, TopicLimits } from './topic-limits.js';
import { dlqHeaderFilter, headersReadBy } from './header-filter.js';

const OUR_HEADERS: ReadonlySet<string> = new Set(Object.values(DLQ_HEADERS));
const TRUNCATED = Buffer.from(DLQ_HEADERS.valueTruncated);
const REASON = Buffer.from(DLQ_HEADERS.reason);
/**
 * How long one produce request gets before the client counts as stuck (and is replaced): a third of
 * errors.dlqTimeoutMs, so a stuck client leaves room for attempts with a new one, between 1 and 30 s.
 */
const attemptTimeoutMs = (dlqTimeoutMs: number): number => Math.min(30_000, Math.max(1000, Math.floor(dlqTimeoutMs / 3)));
/** A close that does not finish (a broker that never answers) must not hold up a shutdown. */
const CLOSE_TIMEOUT_MS = 2_000;

interface Message {
  topic: string;
  key: Buffer | undefined;
  value: Buffer | null;
  headers: Map<Buffer, Buffer>;
  timestamp: bigint;
}

interface Item {
  deadLetter: DeadLetter;
  message: Message;
}

/** What the producer reports, for the metrics (k2e_dead_letter_failures_total, k2e_dead_letter_unavailable). */
export interface DeadLetterHooks {
  onFailedAttempt?(): void;
  onUnavailable?(unavailable: boolean): void;
}

/** The Kafka clients behind the queue; tests may pass their own. */
export interface DeadLetterClients {
  producer(): Producer;
  /** The topic's max.message.bytes (and segment.bytes, should it be smaller). */
  describeLimit(topic: string): Promise<number>;
  close(): Promise<void>;
}

export class DeadLetterQueue implements DeadLetterSink {
  readonly #clients: DeadLetterClients;
  #producer: Producer;
  readonly #limits: TopicLimits;
  readonly #instance: string;
  readonly #copyHeader: (name: string) => boolean;
  /** Records the dead-letter topic acknowledged: a send tried again after giving up skips them. */
  readonly #delivered = new WeakSet<SourceRecord>();
  /** Dead-letter topics whose last send gave up, and why. */
  readonly #unavailable = new Map<string, { error: string; at: number }>();
  readonly #forgetAfterMs: number;

  /** @param signal the service stops: every send in progress is abandoned. */
  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly signal: AbortSignal,
    private readonly hooks: DeadLetterHooks = {},
    clients?: DeadLetterClients,
  ) {
    this.#clients = clients ?? kafkaClients(config);
    this.#producer = this.#clients.producer();
    this.#limits = new TopicLimits((topic) => this.#clients.describeLimit(topic), logger);
    this.#instance = config.instanceId ?? defaultInstanceId();
    this.#copyHeader = dlqHeaderFilter(config.errors.dlqHeaders, headersReadBy(config));
    this.#forgetAfterMs = config.errors.dlqTimeoutMs + config.retry.maxDelayMs + 60_000;
  }

  /**
   * Unavailable from a send that gave up until a send to that topic succeeds, or until nobody tried
   * again for longer than a held partition takes to (its backoff, then a whole send): the partitions
   * that waited for it moved away.
   */
  get state(): DeadLetterState {
    return stateOf(this.#unavailable.values(), Date.now() - this.#forgetAfterMs);
  }

  /**
   * Produces the records to their dead-letter topics, in order, in as few requests as their topic's
   * max.message.bytes allows. Resolves when all are acknowledged; see DeadLetterSink for the rejections.
   */
  async send(failures: readonly DeadLetter[], signal?: AbortSignal): Promise<void> {
    const abort = anySignal(signal ? [signal, this.signal] : [this.signal]);
    try {
      await this.#send(failures, abort.signal);
    } finally {
      abort.dispose();
    }
  }

  async #send(failures: readonly DeadLetter[], abort: AbortSignal): Promise<void> {
    const byTopic = new Map<string, Item[]>();
    for (const deadLetter of failures) {
      if (this.#delivered.has(deadLetter.record)) continue;
      const message = this.#message(deadLetter.record, deadLetter.failure);
      let items = byTopic.get(message.topic);
      if (!items) byTopic.set(message.topic, (items = []));
      items.push({ deadLetter, message });
    }
    for (const [topic, items] of byTopic) await this.#sendTopic(topic, items, abort);
  }

  async #sendTopic(topic: string, items: readonly Item[], abort: AbortSignal): Promise<void> {
    // The bound is on going without any acknowledgement: each acknowledged request renews it.
    let deadline = Date.now() + this.config.errors.dlqTimeoutMs;
    let queue = items;
    let failures = 0;
    let shrinks = 0;
    while (queue.length > 0) {
      if (abort.aborted) throw abandoned(topic, queue.length);
      const limit = await this.#limits.limit(topic);
      // After a too-large answer, each shrink halves what one request may carry.
      const budget = Math.floor(batchBudget(limit) / 2 ** shrinks);
      const groups = splitIntoGroups(
        queue.map((item) => fitted(item, budget)),
        budget,
        (item) => item.message,
      );
      for (let g = 0; g < groups.length; ) {
        if (abort.aborted) throw abandoned(topic, queue.length);
        const group = groups[g]!;
        const producer = this.#producer;
        try {
          await attempt(
            // A null value (a tombstone that failed) is written as null, as the client does with it.
            producer.send({ messages: group.map(({ message }) => ({ ...message, value: message.value as Buffer })) }),
            // The last attempt may end up to a second past the deadline, no more.
            Math.min(attemptTimeoutMs(this.config.errors.dlqTimeoutMs), Math.max(1000, deadline - Date.now())),
            abort,
          );
        } catch (error) {
          if (abort.aborted) throw abandoned(topic, queue.length);
          failures++;
          this.hooks.onFailedAttempt?.();
          const step = nextStep(error, { failures, shrinks, now: Date.now(), deadline, backoff: this.config.retry });
          if (step.kind === 'give-up') throw this.#gaveUp(topic, queue.length, error);
          this.logger.warn(
            { err: error, dlqTopic: topic, records: group.length, attempt: failures, retryInMs: step.delayMs, smaller: step.shrink, newProducer: step.recreateProducer },
            'dead-letter produce failed; retrying',
          );
          if (step.recreateProducer) this.#replace(producer);
          if (step.delayMs > 0) await sleep(step.delayMs, undefined, { signal: abort }).catch(() => undefined);
          if (!step.shrink) continue;
          // Cut what is left again, smaller (after re-reading the topic's limit).
          shrinks++;
          this.#limits.forget(topic);
          break;
        }
        for (const item of group) {
          this.#delivered.add(item.deadLetter.record);
          if (item.truncatedFrom !== undefined) this.#logTruncated(item, limit);
        }
        queue = queue.slice(group.length);
        failures = 0;
        deadline = Date.now() + this.config.errors.dlqTimeoutMs;
        g++;
        if (this.#unavailable.delete(topic)) this.#report();
      }
    }
  }

  /** The bound passed: the topic counts as unavailable until a send to it succeeds. */
  #gaveUp(topic: string, records: number, error: unknown): DeadLetterUnavailableError {
    const reason = describeError(error);
    this.#unavailable.set(topic, { error: reason.slice(0, 500), at: Date.now() });
    this.#report();
    // Looked at again once this give-up is too old to count, unless renewed meanwhile.
    setTimeout(() => this.#report(), this.#forgetAfterMs + 100).unref();
    return new DeadLetterUnavailableError(
      `dead-letter topic ${topic} did not acknowledge ${records} record(s) within errors.dlqTimeoutMs (${this.config.errors.dlqTimeoutMs} ms): ${reason}`,
      { cause: error },
    );
  }

  #report(): void {
    this.hooks.onUnavailable?.(this.state.state === 'unavailable');
  }

  /** The producer failed in a way that leaves its client state suspect: later attempts use a new one. */
  #replace(failed: Producer): void {
    if (this.#producer !== failed) return; // another send replaced it already
    this.#producer = this.#clients.producer();
    this.logger.info('dead-letter producer replaced');
    void closeWithin(failed);
  }

  #logTruncated(item: FittedItem, limit: number): void {
    const { record } = item.deadLetter;
    this.logger.error(
      { topic: record.topic, partition: record.partition, offset: String(record.offset), dlqTopic: item.message.topic, maxMessageBytes: limit, valueBytes: item.truncatedFrom, sentBytes: item.message.value?.length ?? 0 },
      `dead letter larger than its dead-letter topic accepts: sent with its value truncated (header ${DLQ_HEADERS.valueTruncated} holds the original size); the rest of the value is lost`,
    );
  }

  #message(record: SourceRecord, failure: Failure): Message {
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
    // A value truncated once stays marked with its first size.
    const truncated = record.headers.get(DLQ_HEADERS.valueTruncated);
    if (truncated !== undefined) ours[DLQ_HEADERS.valueTruncated] = truncated.toString('utf8');
    for (const [key, value] of Object.entries(ours)) headers.set(Buffer.from(key), Buffer.from(value));
    return { topic, key: record.key ?? undefined, value: record.value, headers, timestamp: record.timestamp };
  }

  async close(): Promise<void> {
    await Promise.all([closeWithin(this.#producer), this.#clients.close()]);
  }
}

/** Unavailable while a give-up newer than `since` stands (its error is the latest one's). */
export function stateOf(gaveUp: Iterable<{ error: string; at: number }>, since: number): DeadLetterState {
  let last: { error: string; at: number } | undefined;
  for (const entry of gaveUp) if (entry.at > since && (!last || entry.at > last.at)) last = entry;
  return last ? { state: 'unavailable', lastError: last.error, lastErrorAt: last.at } : { state: 'ok', lastError: null, lastErrorAt: null };
}

interface FittedItem extends Item {
  /** The original value size when the value was cut to fit. */
  truncatedFrom?: number;
}

/** The item as it can be sent under `budget`: unchanged, or with its value truncated. */
function fitted(item: Item, budget: number): FittedItem {
  if (recordBytes(item.message) <= budget) return item;
  const message = truncateToFit(item.message, budget, TRUNCATED, REASON);
  return message ? { ...item, message, truncatedFrom: item.message.value?.length ?? 0 } : item;
}

/** Waits for the send, at most `timeoutMs`, and not past an abort; the send itself may go on (its outcome is then ignored). */
async function attempt(send: Promise<unknown>, timeoutMs: number, abort: AbortSignal): Promise<void> {
  send.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AttemptTimeoutError(`no answer to the dead-letter produce request within ${timeoutMs} ms`)), timeoutMs);
    onAbort = () => reject(new DeadLetterAbandonedError('abandoned'));
    if (abort.aborted) onAbort();
    else abort.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([send, bound]);
  } finally {
    clearTimeout(timer);
    abort.removeEventListener('abort', onAbort!);
  }
}

function abandoned(topic: string, records: number): DeadLetterAbandonedError {
  return new DeadLetterAbandonedError(`stopped before dead-letter topic ${topic} acknowledged ${records} record(s); they stay unacknowledged`);
}

/** The innermost messages of the client's nested errors (MultipleErrors → ResponseError → ProtocolError). */
function describeError(error: unknown): string {
  const parts: string[] = [];
  const walk = (e: unknown, depth: number): void => {
    if (depth > 6 || typeof e !== 'object' || e === null) return;
    const { errors, apiId, message } = e as { errors?: unknown; apiId?: unknown; message?: unknown };
    if (Array.isArray(errors) && errors.length > 0) for (const inner of errors) walk(inner, depth + 1);
    else parts.push(typeof apiId === 'string' ? apiId : String(message));
  };
  walk(error, 0);
  return [...new Set(parts)].join('; ') || String(error);
}

async function closeWithin(producer: Producer): Promise<void> {
  await Promise.race([producer.close().catch(() => undefined), sleep(CLOSE_TIMEOUT_MS, undefined, { ref: false })]);
}

function kafkaClients(config: Config): DeadLetterClients {
  let admin: Admin | undefined;
  return {
    // Not idempotent: 1.35's idempotent producer loses records (see docs/decisions.md). Retries are ours.
    producer: () => new Producer({ ...kafkaClientOptions(config.kafka, '-dlq'), idempotent: false, acks: -1, retries: 0 }),
    describeLimit: (topic) => {
      admin ??= new Admin({ ...kafkaClientOptions(config.kafka, '-dlq-admin'), timeout: 5000, retries: 1 });
      return describeBatchLimit(admin, topic);
    },
    close: async () => {
      if (admin) await Promise.race([admin.close().catch(() => undefined), sleep(CLOSE_TIMEOUT_MS, undefined, { ref: false })]);
    },
  };
}
