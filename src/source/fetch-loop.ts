// One generation's fetching: the assigned partitions from given positions, records handed over as
// SourceRecords. The Fetch requests and responses are ours (wire/fetch-api.ts), and so is reading
// the record batches (wire/record-batch-parser.ts: every codec Kafka's producers write, snappy in
// Java's framing included; read_committed filtering as the Java consumer does it). The client
// (@platformatic/kafka) gives the metadata, the negotiated Fetch version and the connections.
//
// Every failure is handled where it belongs (docs/decisions.md, "Our own fetch path"):
// - a partition's error in an answer (a leader that moved, an epoch that changed, an offset outside
//   the log, a topic being re-created) holds that partition only: fresh metadata, then it is fetched
//   again, from the new leader; OFFSET_OUT_OF_RANGE asks `resolveOutOfRange` where to go on;
// - a batch that cannot be read is one dead letter standing for its records (its raw bytes kept), and
//   the partition goes on after it;
// - a broker that cannot be reached or answers with an error holds the partitions it leads, with
//   backoff, and metadata is read again (a leader elsewhere is fetched from at once);
// - nothing in fetching ends the loop: only a throw while handing a record over (onError with a
//   RecordHandlingError: the pipeline's state is then not to be trusted). Losing the group is the
//   membership's business (group/group-member.ts).
// What it keeps of the client's stream: one fetch in flight per leader (partitions listed from a
// different one each round, so an oversized batch cannot hold the others back) over its own
// connections (a fetch long-polls and must not queue heartbeats behind it); a yield to the event loop
// between rounds (an empty answer already waited maxWaitTime on the broker, so it never spins); pause
// (no new fetch), close (nothing delivered, fetches in flight awaited, connections closed).
//
// Why one file of ~500 lines: the round, the fetch, and each answer's per-partition outcome share one
// loop's state (positions, holds, leaders in flight); the wire format, the error classes and the
// records are apart (wire/, fetch-errors.ts, record-batches.ts).
import { ConnectionPool, type Consumer, type ConnectionOptions } from '@platformatic/kafka';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../util/logger.js';
import { backoffDelay } from '../util/backoff.js';
import { partitionKey, type SourceRecord, splitPartitionKey } from './record.js';
import { emitBatches, unreadableBatch } from './record-batches.js';
import { type FetchArgs, fetchRaw, IsolationLevel, type RawFetchPartition } from './wire/fetch-api.js';
import { BatchFormatError } from './wire/errors.js';
import { parseRecordBatches } from './wire/record-batch-parser.js';
import { abortedBatches } from './wire/transactions.js';
import { describeFetchError, FetchErrorKind, fetchErrorKind } from './fetch-errors.js';

export interface FetchLoopOptions {
  /** Metadata (leaders, topic ids) and nothing else. */
  consumer: Consumer;
  /** Commits offsets for the group (delivery: auto-commit). */
  commit(offsets: { topic: string; partition: number; offset: bigint }[]): Promise<void>;
  /** The client id and connection settings (TLS, SASL) of the loop's own connections. */
  connection: ConnectionOptions & { clientId: string };
  /** The Fetch version the consumer negotiated (12-17). */
  fetchVersion: number;
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
  isolationLevel: 'read_committed' | 'read_uncommitted';
  /** false, or the interval in ms at which fetched positions are committed (delivery: auto-commit). */
  autocommit: number | false;
  /** Backoff of partitions held after an error. */
  retry: { initialDelayMs: number; maxDelayMs: number };
  logger: Logger;
  onRecord(record: SourceRecord): void;
  /**
   * A partition's position moved past offsets that held no record to hand over (transaction markers,
   * aborted transactions): everything before `next` is delivered.
   */
  onSkipped(topic: string, partition: number, next: bigint): void;
  /**
   * The partition's position is outside its log (OFFSET_OUT_OF_RANGE: records deleted by retention,
   * or the topic truncated or re-created): where to go on. Rejections are retried with backoff.
   */
  resolveOutOfRange(key: string, position: bigint): Promise<bigint>;
  /** The loop stopped: handing a record over threw. At most once. */
  onError(error: Error): void;
}

interface Partition {
  key: string;
  topic: string;
  partition: number;
}

/** How soon a partition whose leader moved (or is being elected) is fetched again, with fresh metadata. */
const LEADER_RETRY_MS = 200;
/** Fresh metadata at most this often. */
const METADATA_REFRESH_MS = 200;
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
  /** Partitions held after an error, until this time (ms); their failed attempts in a row. */
  readonly #heldUntil = new Map<string, number>();
  readonly #attempts = new Map<string, number>();
  /** Partitions whose OFFSET_OUT_OF_RANGE is being resolved. */
  readonly #resolving = new Set<string>();
  /** Positions fetched since the last auto-commit. */
  readonly #toCommit = new Map<string, bigint>();
  #commitTimer: NodeJS.Timeout | undefined;
  #committing: Promise<void> | undefined;
  #next: NodeJS.Immediate | NodeJS.Timeout | undefined;
  #nextAt = 0;
  #planning = false;
  #planAgain = false;
  #metadataStale = false;
  #refreshedAt = 0;
  #rotation = 0;
  #paused = false;
  #stopped = false;
  #closing: Promise<void> | undefined;
  /** Last time each kind of fetch failure was logged at warn (the rest go to debug). */
  readonly #loggedAt = new Map<string, number>();

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
    this.#clearNext();
  }

  #clearNext(): void {
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

  /** The next round, after the event loop had its turn (heartbeats, commits, timers); an earlier one replaces a later. */
  #schedule(delayMs = 0): void {
    if (this.#stopped || this.#paused) return;
    const at = Date.now() + delayMs;
    if (this.#next) {
      if (this.#nextAt <= at) return;
      this.#clearNext();
    }
    const run = () => {
      this.#next = undefined;
      void this.#round();
    };
    this.#nextAt = at;
    this.#next = delayMs > 0 ? setTimeout(run, delayMs) : setImmediate(run);
  }

  /** One fetch for each leader that has none in flight, for its partitions that are in none and not held. */
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
        const forceUpdate = this.#metadataStale && Date.now() - this.#refreshedAt >= METADATA_REFRESH_MS;
        if (forceUpdate) {
          this.#metadataStale = false;
          this.#refreshedAt = Date.now();
        }
        let metadata;
        try {
          metadata = await this.#consumer.metadata({ topics: [...this.#options.topics], forceUpdate });
        } catch (error) {
          // No broker answers: every partition waits; the membership notices a lost group by itself.
          this.#warn('metadata', error, 'reading metadata for fetching failed; retrying');
          this.#metadataStale = true;
          this.#schedule(this.#options.retry.initialDelayMs * 5);
          return;
        }
        if (this.#stopped || this.#paused) return;
        const now = Date.now();
        const byLeader = new Map<number, Partition[]>();
        let wakeAt = Number.POSITIVE_INFINITY;
        // Each round lists the partitions from a different one: the broker returns a batch larger
        // than maxBytesPerPartition only for the first partition with data in the request.
        const count = this.#partitions.length;
        const first = this.#rotation++ % count;
        for (let i = 0; i < count; i++) {
          const p = this.#partitions[(first + i) % count]!;
          if (this.#fetching.has(p.key) || this.#resolving.has(p.key)) continue;
          const held = this.#heldUntil.get(p.key);
          if (held !== undefined) {
            if (held > now) {
              wakeAt = Math.min(wakeAt, held);
              continue;
            }
            this.#heldUntil.delete(p.key);
          }
          const leader = metadata.topics.get(p.topic)?.partitions[p.partition]?.leader;
          if (leader === undefined || leader < 0) {
            // A leader election in progress: ask again soon, with fresh metadata.
            this.#hold(p.key, LEADER_RETRY_MS, true);
            wakeAt = Math.min(wakeAt, now + LEADER_RETRY_MS);
            continue;
          }
          if (this.#inFlight.has(leader)) continue;
          let list = byLeader.get(leader);
          if (!list) byLeader.set(leader, (list = []));
          list.push(p);
        }
        for (const [leader, partitions] of byLeader) this.#fetch(leader, partitions, metadata);
        // Nothing in flight to wake the loop: the earliest held partition does.
        if (this.#inFlight.size === 0 && wakeAt !== Number.POSITIVE_INFINITY) this.#schedule(Math.max(1, wakeAt - Date.now()));
      } while (this.#planAgain);
    } catch (error) {
      // A bug in planning: not the member's fault either; retried after a pause, and said loudly.
      this.#options.logger.error({ err: error }, 'planning a fetch failed; retrying');
      this.#schedule(this.#options.retry.maxDelayMs);
    } finally {
      this.#planning = false;
    }
  }

  /** Holds a partition for `ms` (after an error); with `refresh`, the next round reads fresh metadata. */
  #hold(key: string, ms: number, refresh: boolean): void {
    this.#heldUntil.set(key, Date.now() + ms);
    if (refresh) this.#metadataStale = true;
  }

  /** Holds a partition with growing backoff (an error that may last). */
  #backOff(key: string, refresh: boolean): number {
    const attempt = this.#attempts.get(key) ?? 0;
    this.#attempts.set(key, attempt + 1);
    const ms = Math.max(LEADER_RETRY_MS, backoffDelay(attempt, this.#options.retry));
    this.#hold(key, ms, refresh);
    return ms;
  }

  #fetch(node: number, partitions: Partition[], metadata: Awaited<ReturnType<Consumer['metadata']>>): void {
    const requested = new Map<string, bigint>();
    const byTopic = new Map<string, FetchArgs['topics'][number]>();
    for (const p of partitions) {
      const fetchOffset = this.#positions.get(p.key)!;
      requested.set(p.key, fetchOffset);
      this.#fetching.add(p.key);
      const topic = metadata.topics.get(p.topic)!;
      let entry = byTopic.get(p.topic);
      if (!entry) byTopic.set(p.topic, (entry = { topic: p.topic, topicId: topic.id, partitions: [] }));
      // The leader epoch we know: a broker that is no longer the leader, or knows a newer epoch, says so.
      entry.partitions.push({ partition: p.partition, fetchOffset, partitionMaxBytes: this.#options.maxBytesPerPartition, currentLeaderEpoch: topic.partitions[p.partition]?.leaderEpoch ?? -1 });
    }
    const topicOf = new Map<string, string>(); // topic id (or name for v12) → name
    for (const entry of byTopic.values()) topicOf.set(this.#options.fetchVersion >= 13 ? entry.topicId : entry.topic, entry.topic);
    const broker = metadata.brokers.get(node);
    const done = (broker ? this.#connection(broker) : Promise.reject(new Error(`no address for broker ${node} in the metadata`)))
      .then((connection) =>
        fetchRaw(connection, this.#options.fetchVersion, {
          maxBytes: this.#options.maxBytes,
          isolationLevel: this.#options.isolationLevel === 'read_committed' ? IsolationLevel.READ_COMMITTED : IsolationLevel.READ_UNCOMMITTED,
          topics: [...byTopic.values()],
          ...fetchWait(this.#flowing.has(node), this.#options),
        }),
      )
      .then(
        (response) => {
          if (response.throttleTimeMs > 0) this.#options.logger.debug({ node, throttleTimeMs: response.throttleTimeMs }, 'fetch throttled by the broker (quota)');
          this.#deliver(node, response.topics, topicOf, requested);
        },
        (error: unknown) => this.#leaderFailed(node, requested, error),
      )
      .catch((error: unknown) => this.#fail(error as Error)) // thrown while handing records over
      .finally(() => {
        this.#inFlight.delete(node);
        for (const key of requested.keys()) this.#fetching.delete(key);
        this.#schedule();
      });
    this.#inFlight.set(node, done);
  }

  #connection(broker: { host: string; port: number }): Promise<Parameters<typeof fetchRaw>[0]> {
    return new Promise((resolve, reject) => this.#pool.get(broker, (error, connection) => (error || !connection ? reject(error ?? new Error('no connection')) : resolve(connection))));
  }

  /** A broker that could not be reached or failed the whole request: its partitions wait, metadata is read again. */
  #leaderFailed(node: number, requested: ReadonlyMap<string, bigint>, error: unknown): void {
    if (this.#stopped) return;
    let ms = 0;
    for (const key of requested.keys()) ms = Math.max(ms, this.#backOff(key, true));
    this.#warn(`node-${node}`, error, `fetching from broker ${node} failed; its partitions wait and are fetched again (from their leader then)`, { node, partitions: [...requested.keys()], retryInMs: ms });
  }

  #deliver(node: number, topics: readonly { topic: string | null; topicId: string | null; partitions: RawFetchPartition[] }[], topicOf: Map<string, string>, requested: Map<string, bigint>): void {
    if (this.#stopped) return;
    this.#flowing.delete(node);
    for (const topicResponse of topics) {
      const topic = topicOf.get(topicResponse.topicId ?? topicResponse.topic ?? '');
      if (topic === undefined) continue;
      for (const answer of topicResponse.partitions) {
        const key = partitionKey(topic, answer.partition);
        const from = requested.get(key);
        // A partition this fetch did not ask for, or one whose position moved meanwhile.
        if (from === undefined || this.#positions.get(key) !== from) continue;
        if (answer.errorCode !== 0) {
          this.#partitionError(key, from, answer);
          continue;
        }
        this.#attempts.delete(key);
        const records = answer.records;
        if (!records || records.length === 0) continue;
        this.#flowing.add(node);
        const next = this.#partitionRecords(topic, answer, records, from);
        if (next === undefined || next <= from) continue;
        this.#positions.set(key, next);
        if (this.#commitTimer) this.#toCommit.set(key, next);
        // onRecord may have closed this loop (a rebalance): deliver nothing more.
        if (this.#stopped) return;
      }
    }
  }

  /**
   * Reads one partition's batches and hands their records over; returns the next position. A batch
   * that cannot be read becomes one dead letter and the partition goes on after it.
   */
  #partitionRecords(topic: string, answer: RawFetchPartition, records: Buffer, from: bigint): bigint | undefined {
    let parsed;
    let bad: BatchFormatError | undefined;
    try {
      parsed = parseRecordBatches(records);
    } catch (error) {
      if (!(error instanceof BatchFormatError)) throw error;
      bad = error;
      parsed = parseRecordBatches(records.subarray(0, error.position));
    }
    const aborted = this.#options.isolationLevel === 'read_committed' ? abortedBatches(parsed.batches, answer.abortedTransactions) : undefined;
    let next = emitBatches(topic, answer.partition, parsed.batches, aborted, from, this.#options.onRecord);
    // The last batches held no record to hand over (markers, aborted data): say how far it got.
    const last = parsed.batches.at(-1);
    if (next !== undefined && last !== undefined && (last.isControl || aborted?.at(-1) === true) && !this.#stopped) this.#options.onSkipped(topic, answer.partition, next);
    if (bad === undefined || this.#stopped) return next;
    const unreadable = unreadableBatch(topic, answer.partition, records, bad);
    if (unreadable === undefined) {
      // Not even the batch's offsets can be read: the partition cannot go past it. Held and retried
      // (a broker returning garbage may recover); an operator can skip it with `replay --to-offset`.
      this.#warn(`corrupt-${topic}:${answer.partition}`, bad, 'a record batch is unreadable, and so are its offsets: holding the partition', { topic, partition: answer.partition });
      this.#backOff(partitionKey(topic, answer.partition), false);
      return next;
    }
    if (unreadable.record.offset >= from) {
      this.#options.logger.error({ topic, partition: answer.partition, offset: String(unreadable.record.offset), lastOffset: String(unreadable.next - 1n), err: bad }, 'a record batch cannot be read: dead-lettering it as one record (its raw bytes), going on after it');
      this.#options.onRecord(unreadable.record);
    }
    if (next === undefined || unreadable.next > next) next = unreadable.next;
    return next;
  }

  /** An error for one partition in an answer: that partition waits, the others go on. */
  #partitionError(key: string, position: bigint, answer: RawFetchPartition): void {
    const kind = fetchErrorKind(answer.errorCode);
    const what = describeFetchError(answer.errorCode);
    switch (kind) {
      case FetchErrorKind.leaderMoved: {
        // Metadata is read again and the partition is fetched from whoever leads it now.
        const attempt = this.#attempts.get(key) ?? 0;
        this.#attempts.set(key, attempt + 1);
        this.#hold(key, attempt === 0 ? 0 : Math.min(LEADER_RETRY_MS * attempt, 2000), true);
        this.#options.logger.info({ partition: key, error: what, currentLeader: answer.currentLeader ?? undefined }, 'partition leadership changed: fetching it from its leader');
        return;
      }
      case FetchErrorKind.outOfRange:
        this.#outOfRange(key, position, answer);
        return;
      default: {
        const ms = this.#backOff(key, kind === FetchErrorKind.metadata);
        this.#warn(`error-${key}-${answer.errorCode}`, new Error(what), 'fetching a partition failed; holding it and retrying', { partition: key, retryInMs: ms });
      }
    }
  }

  /** OFFSET_OUT_OF_RANGE: asks where to go on (the log start, or autoOffsetReset), then fetches from there. */
  #outOfRange(key: string, position: bigint, answer: RawFetchPartition): void {
    this.#resolving.add(key);
    this.#options
      .resolveOutOfRange(key, position)
      .then(
        (next) => {
          if (this.#stopped || this.#positions.get(key) !== position) return;
          this.#options.logger.warn({ partition: key, position: String(position), logStart: String(answer.logStartOffset), highWatermark: String(answer.highWatermark), next: String(next) }, 'the position is outside the partition\'s log: going on from the next valid offset');
          this.#positions.set(key, next);
          this.#attempts.delete(key);
        },
        (error: unknown) => {
          const ms = this.#backOff(key, true);
          this.#warn(`range-${key}`, error, 'finding a valid offset for a partition failed; retrying', { partition: key, retryInMs: ms });
        },
      )
      .finally(() => {
        this.#resolving.delete(key);
        this.#schedule();
      });
  }

  /** Warns once a minute per kind; the rest at debug (a broker down for an hour logs 60 lines, not 30,000). */
  #warn(kind: string, error: unknown, message: string, fields: object = {}): void {
    const now = Date.now();
    const last = this.#loggedAt.get(kind) ?? 0;
    const level = now - last >= 60_000 ? 'warn' : 'debug';
    if (level === 'warn') this.#loggedAt.set(kind, now);
    this.#options.logger[level]({ ...fields, err: error }, message);
  }

  /**
   * Commits the positions fetched since the last commit (auto-commit). A failure is left to the next
   * interval, which commits newer positions anyway; a commit the group refused because a rebalance
   * began is the membership's to act on (it rebalances), not this loop's.
   */
  #commitFetched(closing = false): Promise<void> {
    if (this.#committing) return closing ? this.#committing.then(() => this.#commitFetched(true)) : this.#committing;
    if (this.#toCommit.size === 0) return Promise.resolve();
    const offsets = [...this.#toCommit].map(([key, offset]) => ({ ...splitPartitionKey(key), offset }));
    this.#toCommit.clear();
    this.#committing = this.#options
      .commit(offsets)
      .catch((error: unknown) => this.#options.logger.debug({ err: error }, 'auto-commit failed; the next interval commits newer positions'))
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
export function fetchWait(flowing: boolean, o: Pick<FetchLoopOptions, 'minBytes' | 'minBytesWaitTime' | 'maxWaitTime'>): { minBytes: number; maxWaitMs: number } {
  if (!flowing || o.minBytes <= 1) return { minBytes: 1, maxWaitMs: o.maxWaitTime };
  return { minBytes: o.minBytes, maxWaitMs: Math.min(o.minBytesWaitTime, o.maxWaitTime) };
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
