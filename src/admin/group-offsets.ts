// Reads a group's committed offsets and the topics' end offsets from the broker, without joining
// the group: used by `kafka-to-elastic lag`, the status page and the tests.
import type { Admin } from '@platformatic/kafka';
import { partitionKey, splitPartitionKey } from '../source/record.js';

export interface PartitionLag {
  topic: string;
  partition: number;
  /** Next offset the group will read; null when it never committed. */
  committed: bigint | null;
  /** Next offset to be written. */
  end: bigint;
  lag: bigint;
}

/** ListOffsets' special timestamp for "the latest offset". */
const LATEST = -1n;

export async function partitionCounts(admin: Admin, topics: string[]): Promise<Map<string, number>> {
  const metadata = await admin.metadata({ topics, forceUpdate: true });
  return new Map(topics.map((t) => [t, metadata.topics.get(t)?.partitionsCount ?? 0]));
}

export async function endOffsets(admin: Admin, topics: string[]): Promise<Map<string, bigint>> {
  const counts = await partitionCounts(admin, topics);
  const listed = await admin.listOffsets({
    topics: topics.map((name) => ({
      name,
      partitions: Array.from({ length: counts.get(name) ?? 0 }, (_, partitionIndex) => ({ partitionIndex, timestamp: LATEST })),
    })),
  });
  const result = new Map<string, bigint>();
  for (const topic of listed) for (const p of topic.partitions) result.set(partitionKey(topic.name, p.partitionIndex), p.offset);
  return result;
}

export async function committedOffsets(admin: Admin, groupId: string, topics: string[]): Promise<Map<string, bigint>> {
  const counts = await partitionCounts(admin, topics);
  const [group] = await admin.listConsumerGroupOffsets({
    groups: [{ groupId, topics: topics.map((name) => ({ name, partitionIndexes: Array.from({ length: counts.get(name) ?? 0 }, (_, i) => i) })) }],
  });
  const result = new Map<string, bigint>();
  for (const topic of group?.topics ?? []) {
    // -1 means "no committed offset" for that partition.
    for (const p of topic.partitions) if (p.committedOffset >= 0n) result.set(partitionKey(topic.name, p.partitionIndex), p.committedOffset);
  }
  return result;
}

export async function groupLag(admin: Admin, groupId: string, topics: string[]): Promise<PartitionLag[]> {
  const [ends, committed] = await Promise.all([endOffsets(admin, topics), committedOffsets(admin, groupId, topics)]);
  return [...ends.entries()].map(([key, end]) => {
    const { topic, partition } = splitPartitionKey(key);
    const offset = committed.get(key) ?? null;
    return { topic, partition, committed: offset, end, lag: end - (offset ?? 0n) };
  });
}
