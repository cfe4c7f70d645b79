// What /status shows of the pipeline: totals, and each owned partition's progress.
import type { DeadLetterState } from '../dead-letter/failure.js';
import { splitPartitionKey } from '../source/record.js';
import type { MemberPartitions } from './assignment.js';
import type { PartitionWorker } from './partition-worker.js';
import type { PipelineTally, SinkState } from './tally.js';

export interface PipelineStats {
  consumed: number;
  /** Records received again that a worker already held (none expected; a guard). */
  duplicates: number;
  indexed: number;
  /** Records a newer version in the index made unnecessary (external versioning). */
  superseded: number;
  retries: number;
  /** Records that could not be indexed (dead-lettered or skipped). */
  failed: number;
  deadLettered: number;
  buffered: number;
  bufferedBytes: number;
  paused: boolean;
  rebalancing: boolean;
  generation: number;
  assigned: string[];
  sink: SinkState;
  deadLetterQueue: DeadLetterState;
  partitions: PartitionStats[];
}

interface PartitionStats {
  topic: string;
  partition: number;
  owner: string;
  /** Where the group resumes this partition: the last commit, or the start position of this assignment. */
  committed: string | null;
  pending: number;
  /** Next offset after the highest record received; null before the first. */
  fetched: string | null;
  indexed: number;
  superseded: number;
  retries: number;
  deadLettered: number;
  /** Last record received or acknowledged (epoch ms). */
  lastProgressAt: number;
}

export interface StatsInput {
  instanceId: string;
  partitions: MemberPartitions<PartitionWorker>;
  tally: PipelineTally;
  /** The group's last commit per partition key. */
  committed: ReadonlyMap<string, bigint>;
  buffered: { records: number; bytes: number };
  paused: boolean;
  deadLetterQueue: DeadLetterState;
}

export function pipelineStats({ instanceId, partitions: member, tally, committed, buffered, paused, deadLetterQueue }: StatsInput): PipelineStats {
  const partitions: PartitionStats[] = [...member.owned].map(([key, assignedAt]) => {
    const w = member.worker(key);
    const { topic, partition } = splitPartitionKey(key);
    const resumesAt = committed.get(key) ?? member.startPosition(key);
    return {
      topic,
      partition,
      owner: instanceId,
      committed: resumesAt?.toString() ?? null,
      pending: w?.watermark.pendingCount ?? 0,
      fetched: w?.position?.toString() ?? null,
      indexed: w?.indexedRecords ?? 0,
      superseded: w?.supersededRecords ?? 0,
      retries: w?.retriedItems ?? 0,
      deadLettered: w?.failedRecords ?? 0,
      lastProgressAt: Math.max(assignedAt, w?.lastProgressAt ?? 0),
    };
  });
  let indexed = tally.indexedBefore;
  let superseded = tally.supersededBefore;
  for (const w of member.workers.values()) {
    indexed += w.indexedRecords;
    superseded += w.supersededRecords;
  }
  return {
    consumed: tally.consumed,
    duplicates: tally.duplicates,
    indexed,
    superseded,
    retries: tally.retries,
    failed: tally.failed,
    deadLettered: tally.deadLettered,
    buffered: buffered.records,
    bufferedBytes: buffered.bytes,
    paused,
    rebalancing: member.rebalancing,
    generation: member.generation,
    assigned: [...member.owned.keys()].sort(),
    sink: tally.sink,
    deadLetterQueue,
    partitions,
  };
}
