// Resets a consumer group's committed offsets so the next run re-reads from there. Refuses while the
// group has members: Kafka would reject it, and a running instance would overwrite the reset anyway.
import type { Admin } from '@platformatic/kafka';
import { endOffsets, partitionCounts } from './group-offsets.js';
import { partitionKey, splitPartitionKey } from '../source/record.js';

export type ReplayTarget =
  | { kind: 'earliest' }
  | { kind: 'timestamp'; timestampMs: number }
  /** topic:partition → offset */
  | { kind: 'offsets'; offsets: Map<string, bigint> };

export class ReplayError extends Error {
  override name = 'ReplayError';
}

/** ListOffsets' special timestamp for "the earliest offset". */
const EARLIEST = -2n;

/** Parses `P:O` (single topic) or `topic:P:O`, comma-separated. */
export function parseOffsetList(text: string, topics: string[]): Map<string, bigint> {
  const result = new Map<string, bigint>();
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const parts = item.split(':');
    const [topic, partition, offset] = parts.length === 2 && topics.length === 1 ? [topics[0]!, parts[0]!, parts[1]!] : [parts.slice(0, -2).join(':'), parts.at(-2), parts.at(-1)];
    if (!topic || !/^\d+$/.test(partition ?? '') || !/^\d+$/.test(offset ?? '')) {
      throw new ReplayError(`--to-offset "${item}": expected partition:offset${topics.length === 1 ? '' : ' prefixed by topic: (several topics are configured)'}`);
    }
    result.set(partitionKey(topic, Number(partition)), BigInt(offset!));
  }
  return result;
}

export async function resetGroupOffsets(admin: Admin, groupId: string, topics: string[], target: ReplayTarget): Promise<Map<string, bigint>> {
  const group = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
  if (group && group.members.size > 0) {
    throw new ReplayError(`group "${groupId}" is active (${group.state}, ${group.members.size} member(s)): stop its instances first, then replay`);
  }
  const offsets = await targetOffsets(admin, topics, target);
  const byTopic = new Map<string, { partition: number; offset: bigint }[]>();
  for (const [key, offset] of offsets) {
    const { topic, partition } = splitPartitionKey(key);
    if (!topics.includes(topic)) throw new ReplayError(`--to-offset names topic "${topic}", which is not among ${topics.join(', ')}`);
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), { partition, offset }]);
  }
  await admin.alterConsumerGroupOffsets({ groupId, topics: [...byTopic].map(([name, partitionOffsets]) => ({ name, partitionOffsets })) });
  return offsets;
}

async function targetOffsets(admin: Admin, topics: string[], target: ReplayTarget): Promise<Map<string, bigint>> {
  if (target.kind === 'offsets') return target.offsets;
  const counts = await partitionCounts(admin, topics);
  const missing = topics.filter((t) => (counts.get(t) ?? 0) === 0);
  if (missing.length > 0) throw new ReplayError(`topic(s) not found: ${missing.join(', ')}`);
  const timestamp = target.kind === 'earliest' ? EARLIEST : BigInt(target.timestampMs);
  const listed = await admin.listOffsets({
    topics: topics.map((name) => ({ name, partitions: Array.from({ length: counts.get(name)! }, (_, partitionIndex) => ({ partitionIndex, timestamp })) })),
  });
  const ends = await endOffsets(admin, topics);
  const result = new Map<string, bigint>();
  for (const topic of listed) {
    for (const p of topic.partitions) {
      const key = partitionKey(topic.name, p.partitionIndex);
      // No record at or after the timestamp: start at the end.
      result.set(key, p.offset >= 0n ? p.offset : ends.get(key)!);
    }
  }
  return result;
}
