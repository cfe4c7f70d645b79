// What a partition's error code in a Fetch answer means for that partition (and only for it).
import { protocolErrorsCodesById } from '@platformatic/kafka';

export const FetchErrorKind = {
  /** The broker is not (or no longer) the partition's leader, or leadership is moving: fresh metadata, fetch from the leader. */
  leaderMoved: 'leader-moved',
  /** The position is outside the log (retention deleted records; the topic was truncated or re-created). */
  outOfRange: 'out-of-range',
  /** The topic is unknown here or was re-created (a new id): fresh metadata, with backoff. */
  metadata: 'metadata',
  /** Anything else (authorization, corrupt data on the broker, ...): backoff, and it is said. */
  other: 'other',
} as const;
export type FetchErrorKind = (typeof FetchErrorKind)[keyof typeof FetchErrorKind];

const LEADER_MOVED: ReadonlySet<number> = new Set([
  5, // LEADER_NOT_AVAILABLE
  6, // NOT_LEADER_OR_FOLLOWER
  9, // REPLICA_NOT_AVAILABLE
  56, // KAFKA_STORAGE_ERROR (the leader's log dir failed: leadership moves)
  74, // FENCED_LEADER_EPOCH (our metadata is older than the broker's)
  75, // UNKNOWN_LEADER_EPOCH (the broker has not caught up with our metadata yet)
  78, // OFFSET_NOT_AVAILABLE (a new leader not yet caught up)
]);
const METADATA: ReadonlySet<number> = new Set([
  3, // UNKNOWN_TOPIC_OR_PARTITION
  100, // UNKNOWN_TOPIC_ID
  103, // INCONSISTENT_TOPIC_ID
]);
const OUT_OF_RANGE = 1;

export function fetchErrorKind(code: number): FetchErrorKind {
  if (LEADER_MOVED.has(code)) return FetchErrorKind.leaderMoved;
  if (code === OUT_OF_RANGE) return FetchErrorKind.outOfRange;
  if (METADATA.has(code)) return FetchErrorKind.metadata;
  return FetchErrorKind.other;
}

/** "NOT_LEADER_OR_FOLLOWER (6)". */
export function describeFetchError(code: number): string {
  const name = (protocolErrorsCodesById as Record<number, string | undefined>)[code];
  return `${name ?? 'UNKNOWN_ERROR'} (${code})`;
}
