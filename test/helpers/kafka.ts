// Test-side Kafka helpers over the real broker: topics, producing, and reading the group's offsets.
import { Admin, Consumer, Producer } from '@platformatic/kafka';
import { committedOffsets, endOffsets } from '../../src/admin/group-offsets.js';
import { brokerList } from './stack.js';

export async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({ clientId: 'k2e-test-admin', bootstrapBrokers: brokerList });
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}

export interface TopicOptions {
  /** Replication factor; default: the broker's default.replication.factor (1, or 3 on `up --brokers 3`). */
  replicas?: number;
  /** Topic configs, e.g. { 'compression.type': 'zstd' } (the broker recompresses what it is sent). */
  config?: Record<string, string>;
}

export async function createTopic(topic: string, partitions: number, options: TopicOptions = {}): Promise<void> {
  const configs = Object.entries(options.config ?? {}).map(([name, value]) => ({ name, value }));
  await withAdmin((admin) => admin.createTopics({ topics: [topic], partitions, replicas: options.replicas ?? -1, configs }));
}

export interface TestMessage {
  key: string | null;
  /** Text, raw bytes (Avro), or null (a tombstone). */
  value: string | Buffer | null;
  partition?: number;
}

/**
 * What `produce` writes: a TestMessage whose key may be raw bytes (binary keys), with the record's own
 * timestamp and headers when a test needs them (routing reads both).
 */
export interface ProducedMessage extends Omit<TestMessage, 'key'> {
  key: string | Buffer | null;
  /** Epoch milliseconds: the record's own timestamp, which daily indices are named by (default: the broker's clock). */
  timestamp?: number;
  headers?: Record<string, string>;
}

export async function produce(topic: string, messages: readonly ProducedMessage[], chunk = 500): Promise<void> {
  // Idempotent: a retried send after a slow broker answer must not write a record twice.
  const producer = new Producer({ clientId: 'k2e-test-producer', bootstrapBrokers: brokerList, idempotent: true });
  try {
    for (let i = 0; i < messages.length; i += chunk) {
      await producer.send({
        messages: messages.slice(i, i + chunk).map((m) => ({
          topic,
          key: m.key === null ? undefined : Buffer.isBuffer(m.key) ? m.key : Buffer.from(m.key),
          value: (m.value === null ? null : Buffer.isBuffer(m.value) ? m.value : Buffer.from(m.value)) as Buffer,
          ...(m.timestamp === undefined ? {} : { timestamp: BigInt(m.timestamp) }),
          ...(m.headers === undefined ? {} : { headers: new Map(Object.entries(m.headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)])) }),
          ...(m.partition === undefined ? {} : { partition: m.partition }),
        })),
      });
    }
  } finally {
    await producer.close();
  }
}

/** End offset (next offset to be written) per partition, keyed "topic:partition". */
export const topicEndOffsets = (topic: string): Promise<Map<string, bigint>> => withAdmin((admin) => endOffsets(admin, [topic]));

/** The offsets the group committed on the topic, keyed "topic:partition" (absent when none). */
export const groupCommittedOffsets = (groupId: string, topic: string): Promise<Map<string, bigint>> =>
  withAdmin((admin) => committedOffsets(admin, groupId, [topic]));

export interface ConsumedRecord {
  key: string | null;
  value: string | null;
  offset: bigint;
  headers: Record<string, string>;
}

/** Reads a topic from the beginning until `expected` records arrived (or the timeout passed). */
export async function readTopic(topic: string, expected: number, timeoutMs = 20_000): Promise<ConsumedRecord[]> {
  const consumer = new Consumer({ clientId: 'k2e-test-reader', groupId: `k2e-test-reader-${Date.now()}-${Math.random()}`, bootstrapBrokers: brokerList, maxWaitTime: 200 });
  const records: ConsumedRecord[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    const deadline = setTimeout(() => void stream.close(), timeoutMs);
    for await (const message of stream) {
      const headers: Record<string, string> = {};
      for (const [k, v] of message.headers) headers[k.toString()] = v.toString();
      const key = message.key as Buffer | undefined;
      const value = message.value as Buffer | null | undefined;
      records.push({ key: key && key.length > 0 ? key.toString() : null, value: value ? value.toString() : null, offset: message.offset, headers });
      if (records.length >= expected) break;
    }
    clearTimeout(deadline);
    await stream.close();
  } finally {
    await consumer.close(true);
  }
  return records;
}

/** Waits until the group committed every partition of the topic to its end offset (as of now). */
export async function untilCommittedToEnd(groupId: string, topic: string, timeoutMs = 60_000): Promise<boolean> {
  const ends = await topicEndOffsets(topic);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const committed = await groupCommittedOffsets(groupId, topic).catch(() => new Map<string, bigint>());
    if ([...ends].every(([key, end]) => committed.get(key) === end)) return true;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return false;
}
