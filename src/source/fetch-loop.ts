// One generation's fetching: the assigned partitions from given positions, records handed over as
// SourceRecords. It replaces the client's MessagesStream, whose per-message objects (a spread copy
// of each record, a bound commit function, a headers Map, a diagnostics context, Readable push and
// 'data' events) cost about as much CPU as fetching and decoding itself (docs/decisions.md, "Our own
// fetch loop"). What it keeps of the stream:
// - One fetch in flight per partition leader (its partitions listed from a different one each
//   round, so an oversized batch cannot hold the others back), over its own connections (a fetch long-polls for
//   maxWaitTime, and must not queue the group's heartbeats and commits behind it). Leaders come from
//   the consumer's metadata (cached by the client), read again every round so a moved leader is
//   followed.
// - A yield to the event loop between rounds; an empty answer already waited maxWaitTime on the
//   broker, so the loop never spins.
// - Pause: no new fetch (one in flight still delivers). Close: no new fetch, nothing delivered, the
//   fetches in flight awaited (bounded), then its connections closed.
// - Any failed fetch (after the client's own retries) ends the loop and is reported once.
// - With `autocommit` (delivery: auto-commit) the positions fetched are committed on a timer and
//   once at close, whatever the pipeline did with the records: the stream's failure window.
import { ConnectionPool, type Consumer, type ConnectionOptions } from '@platformatic/kafka';
import { setTimeout as sleep } from 'node:timers/promises';
import { emitBatchRecords } from './record-batches.js';
import { partitionKey, type SourceRecord, splitPartitionKey } from './record.js';

export interface FetchLoopOptions {
  consumer: Consumer;
  /** The client id and connection settings (TLS, SASL) of the loop's own connections. */
  connection: ConnectionOptions & { clientId: string };
  topics: readonly string[];
  /** "topic:partition" → the next offset to fetch, for every partition of this generation. */
  positions: ReadonlyMap<string, bigint>;
  maxBytes: number;
  maxBytesPerPartition: number;
  maxWaitTime: number;
  /**
   * While records flow from a leader (its last answer had some), its next fetch waits for this many
   * bytes, at most minBytesWaitTime; after an empty answer it asks for 1 byte and long-polls
   * maxWaitTime, so the first record after a quiet spell is not held back.
   */
  minBytes: number;
  minBytesWaitTime: number;
  /** false, or the interval in ms at which fetched positions are committed (delivery: auto-commit). */
  autocommit: number | false;
  onRecord(record: SourceRecord): void;
  /** The loop stopped: a fetch (or a commit the group refused) failed. Called at most once. */
  onError(error: Error): void;
}

type FetchResponse = Awaited<ReturnType<Consumer['fetch']>>;

interface Partition {
  key: string;
  topic: string;
  partition: number;
}

/** A partition none of whose leaders is known is retried after this long (metadata refreshed). */
const NO_LEADER_RETRY_MS = 500;
/** How long close() waits for a commit at close beyond the fetches in flight. */
const CLOSE_COMMIT_MS = 5000;

export class FetchLoop {
  readonly #options: FetchLoopOptions;
  readonly #consumer: Consumer;
  readonly #pool: ConnectionPool;
  readonly #partitions: Partition[];
  readonly #positions: Map<string, bigint>;
  /** Fetches in flight by leader node; each settles (never rejects) when its answer is handled. */
  readonly #inFlight = new Map<number, Promise<void>>();
  readonly #fetching = new Set<string>();
  /** Leaders whose last answer carried records: their next fetch gathers minBytes. */
  readonly #flowing = new Set<number>();
  /** Positions fetched since the last auto-commit. */
  readonly #toCommit = new Map<string, bigint>();
  #commitTimer: NodeJS.Timeout | undefined;
  #committing: Promise<void> | undefined;
  #next: NodeJS.Immediate | NodeJS.Timeout | undefined;
  #planning = false;
  #planAgain = false;
  #forceMetadata = false;
  #forcedAt = 0;
  #rotation = 0;
  #paused = false;
  #stopped = false;
  #closing: Promise<void> | undefined;

  constructor(options: FetchLoopOptions) {
    this.#options = options;
    this.#consumer = options.consumer;
    this.#positions = new Map(options.positions);
    this.#partitions = [...this.#positions.keys()].map((key) => ({ key, ...splitPartitionKey(key) }));
    const { clientId, ...connection } = options.connection;
    this.#pool = new ConnectionPool(clientId, connection);
    if (typeof options.autocommit === 'number' && options.autocommit > 0) {
      this.#commitTimer = setInterval(() => void this.#commitFetched(), options.autocommit);
    }
  }

  start(): void {
    this.#schedule();
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** No new fetch until resume(); a fetch in flight still delivers. */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#schedule();
  }

  /**
   * Stops fetching and delivers nothing from now on; resolves once the fetches in flight ended (at
   * most maxWaitTime + 2 s: a broker that is down cannot hold shutdown) and the loop's connections
   * are closed. With auto-commit, the positions fetched are committed first.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#stop();
    await bounded(Promise.all(this.#inFlight.values()), this.#options.maxWaitTime + 2000);
    if (this.#toCommit.size > 0 || this.#committing) await bounded(this.#commitFetched(true), CLOSE_COMMIT_MS);
    await this.#pool.close().catch(() => undefined);
  }

  #stop(): void {
    this.#stopped = true;
    clearInterval(this.#commitTimer);
    if (this.#next) {
      clearImmediate(this.#next as NodeJS.Immediate);
      clearTimeout(this.#next as NodeJS.Timeout);
      this.#next = undefined;
    }
  }

  #fail(error: Error): void {
    if (this.#stopped) return;
    this.#stop();
    this.#options.onError(error);
  }

  /** The next round, after the event loop had its turn (heartbeats, commits, timers). */
  #schedule(delayMs = 0): void {
    if (this.#stopped || this.#paused || this.#next) return;
    const run = () => {
      this.#next = undefined;
      void this.#round();
    };
    this.#next = delayMs > 0 ? setTimeout(run, delayMs) : setImmediate(run);
  }

  /** One fetch for each leader that has none in flight, for its partitions that are in none. */
  async #round(): Promise<void> {
    if (this.#planning) {
      this.#planAgain = true;
      return;
    }
    this.#planning = true;
    try {
      do {
        this.#planAgain = false;
        if (this.#stopped || this.#paused) return;
        // Fresh metadata when a leader was missing, at most every NO_LEADER_RETRY_MS.
        const forceUpdate = this.#forceMetadata && Date.now() - this.#forcedAt >= NO_LEADER_RETRY_MS;
        if (forceUpdate) {
          this.#forceMetadata = false;
          this.#forcedAt = Date.now();
        }
        const metadata = await this.#consumer.metadata({ topics: [...this.#options.topics], forceUpdate });
        if (this.#stopped || this.#paused) return;
        const byLeader = new Map<number, Partition[]>();
        let leaderless = false;
        // Each round lists the partitions from a different one: the broker returns a batch larger
        // than maxBytesPerPartition only for the first partition with data in the request.
        const count = this.#partitions.length;
        const first = this.#rotation++ % count;
        for (let i = 0; i < count; i++) {
          const p = this.#partitions[(first + i) % count]!;
          if (this.#fetching.has(p.key)) continue;
          const leader = metadata.topics.get(p.topic)?.partitions[p.partition]?.leader;
          if (leader === undefined || leader < 0) {
            leaderless = true;
            continue;
          }
          if (this.#inFlight.has(leader)) continue;
          let list = byLeader.get(leader);
          if (!list) byLeader.set(leader, (list = []));
          list.push(p);
        }
        for (const [leader, partitions] of byLeader) this.#fetch(leader, partitions, metadata.topics);
        if (leaderless) {
          // A leader election in progress: ask again soon, with fresh metadata.
          this.#forceMetadata = true;
          if (this.#inFlight.size === 0) this.#schedule(NO_LEADER_RETRY_MS);
        }
      } while (this.#planAgain);
    } catch (error) {
      this.#fail(error as Error);
    } finally {
      this.#planning = false;
    }
  }

  #fetch(node: number, partitions: Partition[], topics: Map<string, { id: string }>): void {
    const requested = new Map<string, bigint>();
    const byTopic = new Map<string, { topicId: string; partitions: { partition: number; fetchOffset: bigint; partitionMaxBytes: number; currentLeaderEpoch: number; lastFetchedEpoch: number }[] }>();
    const topicOf = new Map<string, string>(); // topic id → name
    for (const p of partitions) {
      const fetchOffset = this.#positions.get(p.key)!;
      requested.set(p.key, fetchOffset);
      this.#fetching.add(p.key);
      let entry = byTopic.get(p.topic);
      if (!entry) {
        const topicId = topics.get(p.topic)!.id;
        topicOf.set(topicId, p.topic);
        byTopic.set(p.topic, (entry = { topicId, partitions: [] }));
      }
      // Leader epochs unknown (-1): the broker skips its fencing check, as for the stream's first fetch.
      entry.partitions.push({ partition: p.partition, fetchOffset, partitionMaxBytes: this.#options.maxBytesPerPartition, currentLeaderEpoch: -1, lastFetchedEpoch: -1 });
    }
    const done = this.#consumer
      .fetch({ node, topics: [...byTopic.values()], maxBytes: this.#options.maxBytes, ...fetchWait(this.#flowing.has(node), this.#options), connectionPool: this.#pool })
      .then(
        (response) => this.#deliver(node, response, topicOf, requested),
        (error: unknown) => this.#fail(error as Error),
      )
      .catch((error: unknown) => this.#fail(error as Error)) // thrown by onRecord
      .finally(() => {
        this.#inFlight.delete(node);
        for (const key of requested.keys()) this.#fetching.delete(key);
        this.#schedule();
      });
    this.#inFlight.set(node, done);
  }

  #deliver(node: number, response: FetchResponse, topicOf: Map<string, string>, requested: Map<string, bigint>): void {
    if (this.#stopped) return;
    // The record being handed over, so that a throw names it (RecordHandlingError).
    let current: SourceRecord | undefined;
    const deliver = this.#options.onRecord;
    const onRecord = (record: SourceRecord): void => {
      current = record;
      deliver(record);
    };
    try {
      this.#deliverRecords(node, response, topicOf, requested, onRecord);
    } catch (error) {
      throw current ? new RecordHandlingError(current, error) : error;
    }
  }

  #deliverRecords(node: number, response: FetchResponse, topicOf: Map<string, string>, requested: Map<string, bigint>, onRecord: (record: SourceRecord) => void): void {
    this.#flowing.delete(node);
    for (const topicResponse of response.responses) {
      const topic = topicOf.get(topicResponse.topicId);
      if (topic === undefined) continue;
      for (const { partitionIndex: partition, records } of topicResponse.partitions) {
        if (!records || records.length === 0) continue;
        this.#flowing.add(node);
        const key = partitionKey(topic, partition);
        const from = requested.get(key);
        if (from === undefined || this.#positions.get(key) !== from) continue;
        const next = emitBatchRecords(topic, partition, records, from, onRecord);
        if (next === undefined) continue;
        this.#positions.set(key, next);
        if (this.#commitTimer) this.#toCommit.set(key, next);
        // onRecord may have closed this loop (a rebalance): deliver nothing more.
        if (this.#stopped) return;
      }
    }
  }

  /**
   * Commits the positions fetched since the last commit (auto-commit). A commit the group refuses
   * (a rejoin is needed) stops the loop, as it destroyed the stream; other failures are left to the
   * next interval, which commits newer positions anyway.
   */
  #commitFetched(closing = false): Promise<void> {
    if (this.#committing) return closing ? this.#committing.then(() => this.#commitFetched(true)) : this.#committing;
    if (this.#toCommit.size === 0) return Promise.resolve();
    const offsets = [...this.#toCommit].map(([key, offset]) => ({ ...splitPartitionKey(key), offset, leaderEpoch: -1 }));
    this.#toCommit.clear();
    this.#committing = this.#consumer
      .commit({ offsets })
      .catch((error: Error & { findBy?: (property: string, value: unknown) => unknown }) => {
        if (error.findBy?.('needsRejoin', true)) this.#fail(error);
      })
      .finally(() => (this.#committing = undefined));
    return this.#committing;
  }
}

/**
 * What a fetch asks the broker to wait for. While records flow it gathers `minBytes` for at most
 * `minBytesWaitTime`: fewer, fuller answers (at 9,000 records/s, answering every produce request at
 * once cost the broker a third more CPU, and us a few percent). After an empty answer it long-polls
 * for the first byte, so a record after a quiet spell is handed over the moment it arrives.
 */
export function fetchWait(flowing: boolean, o: Pick<FetchLoopOptions, 'minBytes' | 'minBytesWaitTime' | 'maxWaitTime'>): { minBytes: number; maxWaitTime: number } {
  if (!flowing || o.minBytes <= 1) return { minBytes: 1, maxWaitTime: o.maxWaitTime };
  return { minBytes: o.minBytes, maxWaitTime: Math.min(o.minBytesWaitTime, o.maxWaitTime) };
}

/** Waits for `promise`, at most `ms`. */
async function bounded(promise: Promise<unknown>, ms: number): Promise<void> {
  const timeout = new AbortController();
  await Promise.race([promise.catch(() => undefined), sleep(ms, undefined, { signal: timeout.signal }).catch(() => undefined)]);
  timeout.abort();
}

/**
 * Handing a record to the pipeline threw: a bug the pipeline did not contain (a record's own failures
 * are dead-lettered there). The source counts these per record (errors.poisonAfter).
 */
export class RecordHandlingError extends Error {
  override name = 'RecordHandlingError';
  constructor(
    readonly record: SourceRecord,
    readonly error: unknown,
  ) {
    super(`handling ${record.topic}[${record.partition}] offset ${record.offset} threw: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, { cause: error });
  }
}
