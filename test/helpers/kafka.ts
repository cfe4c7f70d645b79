// Test-side Kafka helpers over the real broker: topics, producing, and reading the group's offsets.
import { Admin, Producer } from '@platformatic/kafka';
import { committedOffsets, endOffsets } from '../../src/offsets/group-offsets.js';
import { brokers } from './stack.js';

export async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({ clientId: 'k2e-test-admin', bootstrapBrokers: [brokers] });
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}

export async function createTopic(topic: string, partitions: number): Promise<void> {
  await withAdmin((admin) => admin.createTopics({ topics: [topic], partitions, replicas: 1 }));
}

export interface TestMessage {
  key: string | null;
  value: string | null;
  partition?: number;
}

export async function produce(topic: string, messages: TestMessage[], chunk = 500): Promise<void> {
  // Idempotent: a retried send after a slow broker answer must not write a record twice.
  const producer = new Producer({ clientId: 'k2e-test-producer', bootstrapBrokers: [brokers], idempotent: true });
  try {
    for (let i = 0; i < messages.length; i += chunk) {
      await producer.send({
        messages: messages.slice(i, i + chunk).map((m) => ({
          topic,
          key: m.key === null ? undefined : Buffer.from(m.key),
          value: (m.value === null ? null : Buffer.from(m.value)) as Buffer,
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
