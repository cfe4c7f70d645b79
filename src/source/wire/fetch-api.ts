// Our own Fetch (API key 1, versions 12-17, the ones @platformatic/kafka implements). The request is
// the client's own (fetchV12..V17.createRequest); the response parser is ours:
// - per-partition error codes are returned with their partition (NOT_LEADER_OR_FOLLOWER,
//   OFFSET_OUT_OF_RANGE, FENCED_LEADER_EPOCH... are the caller's to handle for that partition); only a
//   top-level error_code fails the call, with the client's ResponseError;
// - `records` stay raw bytes (parse them with record-batch-parser.ts, partition by partition, so one
//   bad batch fails only its partition);
// - the tagged fields a consumer acts on are read: current_leader (partition tag 1), diverging_epoch
//   (partition tag 0) and node_endpoints (response tag 0, v16+), per FetchResponse.json.
// Requests are sessionless full fetches (session_id 0, session_epoch -1, KIP-227's FINAL_EPOCH): the
// broker creates no fetch session for them (docs/decisions.md, "Fetch requests").
import {
  type API,
  type Connection,
  type Consumer,
  createAPI,
  fetchV12,
  fetchV13,
  fetchV14,
  fetchV15,
  fetchV16,
  fetchV17,
  kGetApi,
  type Reader,
  ResponseError,
  type Writer,
} from '@platformatic/kafka';
import { FetchResponseFormatError } from './errors.js';
import type { AbortedTransaction } from './transactions.js';

const FETCH_API_KEY = 1;
export const MIN_FETCH_VERSION = 12;
export const MAX_FETCH_VERSION = 17;
/** KIP-227: no fetch session (INVALID_SESSION_ID) and FINAL_EPOCH, a sessionless full fetch. */
const SESSIONLESS = { sessionId: 0, sessionEpoch: -1 } as const;

export const IsolationLevel = { READ_UNCOMMITTED: 0, READ_COMMITTED: 1 } as const;

interface FetchPartitionArgs {
  partition: number;
  fetchOffset: bigint;
  partitionMaxBytes: number;
  /** The leader epoch the consumer knows (-1: unknown, the broker skips its fencing check). */
  currentLeaderEpoch?: number;
  /** The epoch of the last record fetched (-1: none), for the broker's divergence check. */
  lastFetchedEpoch?: number;
}

interface FetchTopicArgs {
  /** The topic's name: sent by v12. */
  topic: string;
  /** The topic's id (as the client's metadata gives it): sent by v13+. */
  topicId: string;
  partitions: FetchPartitionArgs[];
}

export interface FetchArgs {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  isolationLevel: 0 | 1;
  topics: FetchTopicArgs[];
  rackId?: string;
}

interface LeaderIdAndEpoch {
  leaderId: number;
  leaderEpoch: number;
}

interface EpochEndOffset {
  epoch: number;
  endOffset: bigint;
}

export interface RawFetchPartition {
  partition: number;
  /** 0, or the partition's error (its records are then empty). */
  errorCode: number;
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
  /** Under read_committed, the aborted transactions overlapping the records; null otherwise. */
  abortedTransactions: AbortedTransaction[] | null;
  preferredReadReplica: number;
  /** The record batches, unparsed (the last one may be partial); null or empty when none. */
  records: Buffer | null;
  /** Tag 1: the leader the broker knows, sent with NOT_LEADER_OR_FOLLOWER / FENCED_LEADER_EPOCH. */
  currentLeader: LeaderIdAndEpoch | null;
  /** Tag 0: set when the broker detected log divergence from lastFetchedEpoch. */
  divergingEpoch: EpochEndOffset | null;
}

interface RawFetchTopic {
  /** v12: the topic's name (null in v13+). */
  topic: string | null;
  /** v13+: the topic's id (null in v12). */
  topicId: string | null;
  partitions: RawFetchPartition[];
}

interface NodeEndpoint {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface RawFetchResponse {
  version: number;
  throttleTimeMs: number;
  errorCode: number;
  sessionId: number;
  /**
   * As the broker wrote them: one topic can appear in several entries (Kafka 4 puts errored
   * partitions in entries of their own), so look partitions up by topic and partition index.
   */
  topics: RawFetchTopic[];
  /** v16+, tag 0: endpoints of the leaders named in currentLeader fields. */
  nodeEndpoints: NodeEndpoint[];
}

type CreateRequest = (
  maxWaitMs: number,
  minBytes: number,
  maxBytes: number,
  isolationLevel: number,
  sessionId: number,
  sessionEpoch: number,
  topics: { topicId: string; partitions: { partition: number; currentLeaderEpoch: number; fetchOffset: bigint; lastFetchedEpoch: number; partitionMaxBytes: number }[] }[],
  forgottenTopicsData: never[],
  rackId: string,
) => Writer;
type FetchApi = API<Parameters<CreateRequest>, RawFetchResponse>;

const requestCreators: Record<number, CreateRequest> = {
  12: fetchV12.createRequest,
  13: fetchV13.createRequest,
  14: fetchV14.createRequest,
  15: fetchV15.createRequest,
  16: fetchV16.createRequest,
  17: fetchV17.createRequest,
};

const apis = new Map<number, FetchApi>();
for (let version = MIN_FETCH_VERSION; version <= MAX_FETCH_VERSION; version++) {
  apis.set(
    version,
    createAPI<Parameters<CreateRequest>, RawFetchResponse>(FETCH_API_KEY, version, requestCreators[version]!, (_correlationId, _apiKey, apiVersion, reader) =>
      parseFetchResponse(reader, apiVersion),
    ),
  );
}

/** The Fetch version the consumer negotiated with its brokers (the highest both sides support). */
export function negotiatedFetchVersion(consumer: Consumer): Promise<number> {
  return new Promise((resolve, reject) => {
    consumer[kGetApi]('Fetch', (error, api) => (error || !api ? reject(error ?? new Error('no Fetch API')) : resolve(api.version)));
  });
}

/**
 * Sends one Fetch of `version` (12-17) over `connection` and returns its response with every
 * partition's records as raw bytes. Rejects on a top-level error code (ResponseError), a connection
 * failure, or a response whose framing cannot be read (FetchResponseFormatError).
 */
export function fetchRaw(connection: Connection, version: number, args: FetchArgs): Promise<RawFetchResponse> {
  const api = apis.get(version);
  if (!api) return Promise.reject(new RangeError(`Fetch v${version} is not supported (${MIN_FETCH_VERSION}-${MAX_FETCH_VERSION})`));
  // The client's v12 writer sends `topicId` as the topic's name.
  const topics = args.topics.map((t) => ({
    topicId: version >= 13 ? t.topicId : t.topic,
    partitions: t.partitions.map((p) => ({
      partition: p.partition,
      currentLeaderEpoch: p.currentLeaderEpoch ?? -1,
      fetchOffset: p.fetchOffset,
      lastFetchedEpoch: p.lastFetchedEpoch ?? -1,
      partitionMaxBytes: p.partitionMaxBytes,
    })),
  }));
  return new Promise((resolve, reject) => {
    api(
      connection,
      args.maxWaitMs,
      args.minBytes,
      args.maxBytes,
      args.isolationLevel,
      SESSIONLESS.sessionId,
      SESSIONLESS.sessionEpoch,
      topics,
      [],
      args.rackId ?? '',
      (error, response) => (error ? reject(error) : resolve(response!)),
    );
  });
}

/** A Fetch response body (after the response header) of `version` 12-17. */
export function parseFetchResponse(reader: Reader, version: number): RawFetchResponse {
  let response: RawFetchResponse;
  try {
    response = readResponse(reader, version);
  } catch (error) {
    throw new FetchResponseFormatError(`Fetch v${version} response unreadable at byte ${reader.position}: ${(error as Error).message}`, { cause: error });
  }
  if (response.errorCode !== 0) {
    throw new ResponseError(FETCH_API_KEY, version, { '': [response.errorCode, null] }, response);
  }
  return response;
}

function readResponse(r: Reader, version: number): RawFetchResponse {
  const throttleTimeMs = r.readInt32();
  const errorCode = r.readInt16();
  const sessionId = r.readInt32();
  const topics = compactArray(r, () => {
    const topic = version >= 13 ? null : r.readString();
    const topicId = version >= 13 ? r.readUUID() : null;
    const partitions = compactArray(r, () => readPartition(r));
    skipTaggedFields(r);
    return { topic, topicId, partitions };
  });
  const nodeEndpoints: NodeEndpoint[] = [];
  readTaggedFields(r, (tag) => {
    if (tag === 0 && version >= 16) {
      nodeEndpoints.push(
        ...compactArray(r, () => {
          const endpoint = { nodeId: r.readInt32(), host: r.readString(), port: r.readInt32(), rack: r.readNullableString() };
          skipTaggedFields(r);
          return endpoint;
        }),
      );
    }
  });
  return { version, throttleTimeMs, errorCode, sessionId, topics, nodeEndpoints };
}

function readPartition(r: Reader): RawFetchPartition {
  const partition = r.readInt32();
  const errorCode = r.readInt16();
  const highWatermark = r.readInt64();
  const lastStableOffset = r.readInt64();
  const logStartOffset = r.readInt64();
  const abortedTransactions = compactNullableArray(r, () => {
    const entry = { producerId: r.readInt64(), firstOffset: r.readInt64() };
    skipTaggedFields(r);
    return entry;
  });
  const preferredReadReplica = r.readInt32();
  const recordsLength = r.readUnsignedVarInt() - 1;
  let records: Buffer | null = null;
  if (recordsLength >= 0) {
    if (recordsLength > r.remaining) throw new RangeError(`records of ${recordsLength} bytes, ${r.remaining} left`);
    // A view when the bytes are in one socket chunk, else one copy (those chunks are never reused).
    records = r.buffer.slice(r.position, r.position + recordsLength);
    r.skip(recordsLength);
  }
  let currentLeader: LeaderIdAndEpoch | null = null;
  let divergingEpoch: EpochEndOffset | null = null;
  readTaggedFields(r, (tag) => {
    if (tag === 0) {
      divergingEpoch = { epoch: r.readInt32(), endOffset: r.readInt64() };
    } else if (tag === 1) {
      currentLeader = { leaderId: r.readInt32(), leaderEpoch: r.readInt32() };
    }
  });
  return { partition, errorCode, highWatermark, lastStableOffset, logStartOffset, abortedTransactions, preferredReadReplica, records, currentLeader, divergingEpoch };
}

function compactArray<T>(r: Reader, read: () => T): T[] {
  return compactNullableArray(r, read) ?? [];
}

function compactNullableArray<T>(r: Reader, read: () => T): T[] | null {
  const length = r.readUnsignedVarInt() - 1;
  if (length < 0) return null;
  // Each entry takes at least one byte: a length beyond what is left is corrupt, not an allocation.
  if (length > r.remaining) throw new RangeError(`array of ${length} entries, ${r.remaining} bytes left`);
  const out = new Array<T>(length);
  for (let i = 0; i < length; i++) out[i] = read();
  return out;
}

/** Calls `onTag` positioned at each tagged field's data; whatever it leaves unread is skipped. */
function readTaggedFields(r: Reader, onTag: (tag: number) => void): void {
  const count = r.readUnsignedVarInt();
  for (let i = 0; i < count; i++) {
    const tag = r.readUnsignedVarInt();
    const size = r.readUnsignedVarInt();
    const start = r.position;
    if (size > r.remaining) throw new RangeError(`tagged field ${tag} of ${size} bytes, ${r.remaining} left`);
    onTag(tag);
    r.position = start + size;
  }
}

function skipTaggedFields(r: Reader): void {
  readTaggedFields(r, () => undefined);
}
