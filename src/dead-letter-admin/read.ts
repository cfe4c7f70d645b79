// Reads a dead-letter topic from its beginning up to the end offsets it has when the read starts:
// a snapshot, so `dlq summary` and `dlq show` terminate while the service keeps dead-lettering.
// Reading uses a throwaway consumer group that never commits (the broker drops it once empty).
import { Admin, Consumer } from '@platformatic/kafka';
import { randomUUID } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { endOffsets } from '../admin/group-offsets.js';
import { kafkaClientOptions } from '../source/connection.js';
import { type DeadLetterRecord, parseDeadLetter } from './records.js';

/** ListOffsets' special timestamp for "the earliest offset". */
const EARLIEST = -2n;

export class DlqReadError extends Error {
  override name = 'DlqReadError';
}

/** Client timeouts: how long to wait for a broker (connect and each request), one retry. */
const clientTimeouts = (timeoutMs: number) => ({ timeout: timeoutMs, connectTimeout: timeoutMs, requestTimeout: timeoutMs, retries: 1, retryDelay: 250 });

/**
 * Earliest and end offset of each partition ("topic:partition" keys); the topic must exist. A broker
 * that does not answer is an error of the client (reported as unreachable), never "does not exist".
 */
export async function offsetRange(kafka: Config['kafka'], topic: string, timeoutMs = 5000): Promise<Map<string, { start: bigint; end: bigint }>> {
  const admin = new Admin({ ...kafkaClientOptions(kafka, '-dlq'), ...clientTimeouts(timeoutMs) });
  try {
    // The topic list first: an unreachable broker throws here, a missing topic is simply not listed.
    const exists = (await admin.listTopics({ includeInternals: true })).includes(topic);
    const count = exists ? ((await admin.metadata({ topics: [topic] })).topics.get(topic)?.partitionsCount ?? 0) : 0;
    if (count === 0) throw new DlqReadError(`dead-letter topic "${topic}" does not exist (nothing was dead-lettered yet, or another errors.dlqTopic is configured)`);
    const ends = await endOffsets(admin, [topic]);
    const listed = await admin.listOffsets({ topics: [{ name: topic, partitions: Array.from({ length: count }, (_, partitionIndex) => ({ partitionIndex, timestamp: EARLIEST })) }] });
    const range = new Map<string, { start: bigint; end: bigint }>();
    for (const p of listed[0]?.partitions ?? []) range.set(`${topic}:${p.partitionIndex}`, { start: p.offset, end: ends.get(`${topic}:${p.partitionIndex}`) ?? p.offset });
    return range;
  } finally {
    await admin.close().catch(() => undefined);
  }
}

export interface ReadOptions {
  /** Return false to stop reading early (e.g. --limit reached). */
  onRecord(record: DeadLetterRecord): boolean | void;
  /** Give up waiting for the last records after this long without any (transaction markers, gaps). */
  idleMs?: number;
  /** How long to wait for a broker (connect and each request). */
  timeoutMs?: number;
}

/** Reads every record below the end offsets seen at the start; returns those offsets. */
export async function readDeadLetters(kafka: Config['kafka'], topic: string, options: ReadOptions): Promise<Map<string, { start: bigint; end: bigint }>> {
  const range = await offsetRange(kafka, topic, options.timeoutMs);
  // Next offset still to be read, per partition that has anything below its end.
  const pending = new Map([...range].filter(([, r]) => r.end > r.start).map(([key, r]) => [key, r.start]));
  if (pending.size === 0) return range;
  // (A join may wait for the group's initial rebalance delay: requests of the reader get longer. The
  // broker answered offsetRange above, so a dead one is already reported.)
  const consumer = new Consumer({ ...kafkaClientOptions(kafka, '-dlq'), groupId: `${kafka.clientId}-dlq-reader-${randomUUID()}`, maxWaitTime: 200, ...clientTimeouts(options.timeoutMs ?? 5000), requestTimeout: Math.max(options.timeoutMs ?? 5000, 30_000) });
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, highWaterMark: 256 });
    const idleMs = options.idleMs ?? 10_000;
    let idle: NodeJS.Timeout | undefined;
    const armIdle = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => void stream.close(), idleMs);
    };
    armIdle();
    try {
      for await (const message of stream) {
        armIdle();
        const key = `${message.topic}:${message.partition}`;
        const next = pending.get(key);
        if (next === undefined || message.offset < next) continue;
        const end = range.get(key)!.end;
        if (message.offset >= end) {
          pending.delete(key);
        } else {
          const wanted = options.onRecord(parseDeadLetter({ ...message, key: message.key as Buffer | null, value: message.value as Buffer | null }));
          if (message.offset + 1n >= end) pending.delete(key);
          else pending.set(key, message.offset + 1n);
          if (wanted === false) break;
        }
        if (pending.size === 0) break;
      }
    } finally {
      clearTimeout(idle);
      await stream.close().catch(() => undefined);
    }
  } finally {
    try {
      await consumer.close(true);
    } catch {
      // leaving a throwaway group: nothing to keep
    }
  }
  return range;
}
