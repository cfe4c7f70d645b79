// Where each assigned partition starts reading after a join, and where it goes on when its position
// left the log. The rules (Kafka's own consumers follow the same ones):
// - a partition the pipeline keeps working continues where the pipeline is;
// - otherwise it starts at the group's committed offset;
// - without one, at kafka.autoOffsetReset, unless the group is known to run already (it committed
//   other partitions of the topic, or, with a pattern, any topic; or the topic appeared while this
//   member ran): then the partition or topic was added later and starts at its beginning, so nothing
//   written to it before it was picked up is skipped;
// - a committed offset outside the log is reset: below the log start to the earliest record left,
//   past the end (topic re-created or truncated) where kafka.autoOffsetReset says.
// The Kafka requests are behind `PartitionLog`, so the rules are unit-tested with a scripted log.
import type { Logger } from '../util/logger.js';
import { partitionKey, splitPartitionKey } from './record.js';

/** ListOffsets' special timestamps. */
export const EARLIEST = -2n;
export const LATEST = -1n;

export interface LogBounds {
  /** The earliest offset still in the log. */
  start?: bigint;
  /** The next offset to be written. */
  end?: bigint;
}

/** What the rules need to ask Kafka. */
export interface PartitionLog {
  /** Partition count of each subscribed topic (metadata; may be cached). */
  partitionCounts(): Promise<ReadonlyMap<string, number>>;
  /** The group's committed offsets ("topic:partition" → offset; absent or negative: none). */
  committed(topics: { topic: string; partitions: number[] }[]): Promise<ReadonlyMap<string, bigint>>;
  /** Earliest and next offset of each partition's log ("topic:partition" keys). */
  bounds(keys: string[]): Promise<ReadonlyMap<string, LogBounds>>;
}

export interface StartRules {
  autoOffsetReset: 'earliest' | 'latest';
  /** With kafka.topicPattern, commits on any subscribed topic tell a running group from a new one. */
  pattern: boolean;
  /** The topics subscribed now. */
  topics(): readonly string[];
  /** Topics the pattern matched after this member started: they start at their beginning. */
  addedLater(): ReadonlySet<string>;
}

export class StartPositions {
  constructor(
    private readonly log: PartitionLog,
    private readonly rules: StartRules,
    private readonly logger: Logger,
  ) {}

  /** The offset each of `partitions` starts at; `continued` are those whose work the pipeline continues. */
  async choose(partitions: readonly string[], continued: ReadonlyMap<string, bigint>): Promise<Map<string, bigint>> {
    const positions = new Map<string, bigint>();
    const unknown = new Map<string, number[]>();
    for (const key of partitions) {
      const known = continued.get(key);
      if (known !== undefined) {
        positions.set(key, known);
        continue;
      }
      const { topic, partition } = splitPartitionKey(key);
      unknown.set(topic, [...(unknown.get(topic) ?? []), partition]);
    }
    if (unknown.size === 0) return positions;
    const committed = await this.#committedByTopic(unknown);
    const hasCommits = (topic: string): boolean => (committed.get(topic) ?? []).some((o) => o !== undefined && o >= 0n);
    const groupRuns = this.rules.pattern && [...committed.keys()].some(hasCommits);
    const fallback = new Map<string, bigint>(); // key → EARLIEST | LATEST
    for (const [topic, list] of unknown) {
      const offsets = committed.get(topic) ?? [];
      const groupKnowsTopic = hasCommits(topic) || groupRuns || this.rules.addedLater().has(topic);
      for (const partition of list) {
        const offset = offsets[partition];
        if (offset !== undefined && offset >= 0n) positions.set(partitionKey(topic, partition), offset);
        else fallback.set(partitionKey(topic, partition), groupKnowsTopic || this.rules.autoOffsetReset === 'earliest' ? EARLIEST : LATEST);
      }
    }
    // One pair of requests serves both: committed offsets checked against the log, and the fallbacks.
    const committedKeys = [...positions.keys()].filter((key) => !continued.has(key));
    const bounds = await this.log.bounds([...committedKeys, ...fallback.keys()]);
    for (const key of committedKeys) {
      const reset = this.#outsideLog(key, positions.get(key)!, bounds.get(key));
      if (reset === undefined) continue;
      positions.delete(key);
      fallback.set(key, reset);
    }
    for (const [key, timestamp] of fallback) positions.set(key, resolved(key, timestamp, bounds.get(key)));
    return positions;
  }

  /**
   * Where a partition goes on when its position left the log while it was being read (retention
   * deleted the records, the topic was truncated or re-created): the same rule as at the start.
   */
  async resolveOutOfRange(key: string, position: bigint): Promise<bigint> {
    const bounds = (await this.log.bounds([key])).get(key);
    const reset = this.#outsideLog(key, position, bounds);
    return reset === undefined ? position : resolved(key, reset, bounds); // in range again: a leader that had not caught up
  }

  /** Committed offsets per topic, indexed by partition; every partition of the topics asked. */
  async #committedByTopic(unknown: ReadonlyMap<string, number[]>): Promise<Map<string, (bigint | undefined)[]>> {
    const counts = await this.log.partitionCounts();
    const asked = this.rules.pattern ? [...new Set([...unknown.keys(), ...this.rules.topics()])] : [...unknown.keys()];
    const byKey = await this.log.committed(
      asked.map((topic) => ({ topic, partitions: Array.from({ length: Math.max(counts.get(topic) ?? 0, ...(unknown.get(topic) ?? []).map((p) => p + 1)) }, (_, i) => i) })),
    );
    const committed = new Map<string, (bigint | undefined)[]>(asked.map((topic) => [topic, []]));
    for (const [key, offset] of byKey) {
      const { topic, partition } = splitPartitionKey(key);
      let list = committed.get(topic);
      if (!list) committed.set(topic, (list = []));
      list[partition] = offset;
    }
    return committed;
  }

  /** EARLIEST | LATEST when `offset` is outside the log (logged), undefined when it is in it. */
  #outsideLog(key: string, offset: bigint, bounds: LogBounds | undefined): bigint | undefined {
    const { start, end } = bounds ?? {};
    if (start !== undefined && offset < start) {
      this.logger.warn({ partition: key, committed: offset.toString(), logStart: start.toString() }, 'the committed offset is below the log start (records deleted by retention): starting at the earliest record left');
      return EARLIEST;
    }
    if (end !== undefined && offset > end) {
      this.logger.warn({ partition: key, committed: offset.toString(), end: end.toString(), autoOffsetReset: this.rules.autoOffsetReset }, 'the committed offset is past the log end (topic re-created or truncated): starting where kafka.autoOffsetReset says');
      return this.rules.autoOffsetReset === 'earliest' ? EARLIEST : LATEST;
    }
    return undefined;
  }
}

function resolved(key: string, timestamp: bigint, bounds: LogBounds | undefined): bigint {
  const offset = timestamp === EARLIEST ? bounds?.start : bounds?.end;
  if (offset === undefined) throw new Error(`no ${timestamp === EARLIEST ? 'earliest' : 'latest'} offset for ${key}`);
  return offset;
}
