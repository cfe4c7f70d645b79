// The consumer-group member (@platformatic/kafka, classic protocol) and the records it fetches.
//
// What the client really does, and how this module copes (docs/decisions.md, "Reading the client"):
// - Its MessagesStream keeps the records it had fetched and buffered across a rebalance, pushes a
//   fetch response that arrives after the join too, and that late response moves its fetch position
//   past records it never re-reads; and its per-message objects cost as much CPU as the fetching. So
//   this module fetches itself (`fetch-loop.ts`, over `Consumer.fetch`), one loop per generation:
//   every rebalance and join retires the loop (its records are dropped from then on) and starts a new
//   one at positions this module chooses: the pipeline's own position for partitions it keeps
//   working, the group's committed offset for the others.
// - Its rebalance and join events are not awaited. The pipeline stops starting work at the first and
//   decides what continues at the second; nothing here waits on the client's internals.
// - It never notices partitions added to a topic. A timer re-reads partition counts; when they grew,
//   this member rejoins with changed subscription metadata, which makes the coordinator rebalance.
// - When a fetch fails for good (after the client's retries), or the client's rejoin fails, this
//   module closes that consumer and joins the group again with a new one, with backoff.
// - A heartbeat that fails for a reason other than the group's stops its heartbeats for good (a
//   member paused for backpressure would never notice the coordinator dropping it): the same.
// - With kafka.topicPattern the same timer lists the topics; when new ones match, this member tracks
//   them and rejoins the same way, and they start at their beginning (like added partitions).
import { Admin, Consumer } from '@platformatic/kafka';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/schema.js';
import { abortedPromise } from '../util/abort.js';
import { retryWithBackoff } from '../util/backoff.js';
import type { Logger } from '../util/logger.js';
import { kafkaClientOptions } from './connection.js';
import { FetchLoop, RecordHandlingError } from './fetch-loop.js';
import { negotiatedFetchVersion } from './wire/fetch-api.js';
import { MembershipWatchdog } from './membership-watchdog.js';
import { PoisonStrikes } from './poison-strikes.js';
import { partitionKey, type SourceRecord, splitPartitionKey } from './record.js';
import { encodeMemberData, stickyAssigner } from './sticky-assignor.js';
import { compileTopicPattern, matchingTopics } from './topic-pattern.js';

export interface CommitRequest {
  topic: string;
  partition: number;
  /** The next offset to consume (Kafka commit semantics). */
  offset: bigint;
}

export interface Assignment {
  /** "topic:partition" keys. */
  partitions: string[];
  generation: number;
  memberId: string;
}

export interface SourceHandlers {
  /** A record of the current generation, for a partition assigned to this member, in offset order. */
  onRecord(record: SourceRecord): void;
  /** The group started rebalancing: this member's partitions may move (eager protocol). */
  onRevoking(): void;
  /**
   * This member's partitions after a join. Returns the next offset of each partition whose work the
   * pipeline continues (it already holds everything before it); the others start at the group's
   * committed offset.
   */
  onAssigned(assignment: Assignment): ReadonlyMap<string, bigint>;
  /** Where each assigned partition's records start this generation (for lag before the first record). */
  onPositioned(positions: ReadonlyMap<string, bigint>): void;
  /**
   * A partition's records up to `next` are all delivered: the offsets after the last record handed
   * over held none (transaction markers, aborted transactions).
   */
  onSkipped(topic: string, partition: number, next: bigint): void;
  /** The consumer was lost (broker unreachable): every partition is gone until the next join. */
  onLost(error: Error): void;
  /**
   * A record at which handing over threw errors.poisonAfter times in a row (each time costing the
   * member its consumer): it is delivered here instead of onRecord, to be dead-lettered as poison.
   */
  onPoison(record: SourceRecord, reason: string): void;
}

/** What the pipeline needs from Kafka; unit tests inject a scripted one. */
export interface RecordSource {
  /** Joins the group; resolves once joined, or early (without joining) when `signal` aborts. */
  start(handlers: SourceHandlers, signal?: AbortSignal): Promise<void>;
  /** Stops fetching (backpressure); records already fetched may still arrive. */
  pause(): void;
  resume(): void;
  readonly paused: boolean;
  commit(offsets: readonly CommitRequest[]): Promise<void>;
  /** Leaves the group. */
  close(): Promise<void>;
  /** The topics consumed now (with a pattern, those it matched so far). */
  readonly topics?: readonly string[];
}

export interface SourceOptions {
  /** errors.dlqTopic: dead-letter topics never match kafka.topicPattern. */
  dlqTopic?: string;
  /** Topics kafka.topicPattern newly matches, before this member rejoins to consume them. */
  onTopicsAdded?: (topics: string[]) => Promise<void>;
  /** errors.poisonAfter (default 3). */
  poisonAfter?: number;
}

/** ListOffsets' special timestamps. */
const EARLIEST = -2n;
const LATEST = -1n;

export class KafkaSource implements RecordSource {
  #consumer: Consumer | undefined;
  /** This generation's fetching (none between a rebalance and the positions of the next join). */
  #loop: FetchLoop | undefined;
  /** Bumped at every rebalance and join: records of an older loop are dropped. */
  #epoch = 0;
  #joined = false;
  #handlers: SourceHandlers | undefined;
  #paused = false;
  #closing = false;
  #reconnecting: Promise<void> | undefined;
  #discovery: NodeJS.Timeout | undefined;
  /** Partition counts this member last told the group about (in its subscription metadata). */
  #knownCounts = new Map<string, number>();
  /** This member's last assignment, advertised at the next join so the leader can keep it here. */
  #owned: { generation: number; partitions: string[] } = { generation: -1, partitions: [] };
  /**
   * The subscription the client sends at every (re)join; its metadata is ours to update. The name
   * stays the client's default, so members of older releases (round robin) can share a group with
   * this one during a rolling upgrade: whichever member leads runs its own assigner.
   */
  readonly #protocol: { name: string; version: number; metadata: Buffer } = { name: 'roundrobin', version: 1, metadata: Buffer.alloc(0) };
  readonly #stopSignal = new AbortController();
  /** The topics subscribed: kafka.topics, or what kafka.topicPattern matched so far (it only grows). */
  #topics: string[];
  readonly #pattern: RegExp | undefined;
  /** Lists topics for the pattern (the consumer's metadata requests name their topics). */
  #admin: Admin | undefined;
  /** Topics the pattern matched after this member started: they start at their beginning. */
  readonly #addedLater = new Set<string>();
  readonly #strikes: PoisonStrikes;
  /** The Fetch version negotiated by the current consumer. */
  #fetchVersion: number | undefined;
  readonly #watchdog: MembershipWatchdog;
  #watchdogTimer: NodeJS.Timeout | undefined;

  /** @param autocommit false, or the client's commit interval in ms (delivery: auto-commit) */
  constructor(
    private readonly config: Config['kafka'],
    private readonly logger: Logger,
    private readonly autocommit: number | false = false,
    private readonly retry: { initialDelayMs: number; maxDelayMs: number } = { initialDelayMs: 500, maxDelayMs: 10_000 },
    private readonly options: SourceOptions = {},
  ) {
    this.#topics = [...config.topics];
    this.#strikes = new PoisonStrikes(options.poisonAfter ?? 3);
    this.#watchdog = new MembershipWatchdog(config);
    this.#pattern = config.topicPattern === undefined ? undefined : compileTopicPattern(config.topicPattern);
  }

  get topics(): readonly string[] {
    return this.#topics;
  }

  /** Topics the pattern matches now that are not subscribed yet. */
  async #newlyMatched(): Promise<string[]> {
    if (!this.#pattern) return [];
    this.#admin ??= new Admin({ ...kafkaClientOptions(this.config, '-topics'), timeout: 5000, retries: 1 });
    const known = new Set(this.#topics);
    return matchingTopics(await this.#admin.listTopics(), this.#pattern, this.options.dlqTopic ?? '{topic}.dlq').filter((t) => !known.has(t));
  }

  async start(handlers: SourceHandlers, signal?: AbortSignal): Promise<void> {
    this.#handlers = handlers;
    await this.#open(signal);
    this.#discovery = setInterval(() => void this.#discoverPartitions(), this.config.partitionDiscoveryIntervalMs);
    this.#discovery.unref();
    this.#watchdogTimer = setInterval(() => this.#checkMembership(), Math.max(1000, this.config.heartbeatIntervalMs));
    this.#watchdogTimer.unref();
  }

  /** A member the group stopped hearing from is lost (heartbeats can stop without an event). */
  #checkMembership(): void {
    const consumer = this.#consumer;
    if (!consumer || !this.#joined || this.#closing || this.#reconnecting) return;
    const overdue = this.#watchdog.overdue();
    if (overdue) this.#onLost(consumer, new Error(overdue));
  }

  async #open(signal?: AbortSignal): Promise<void> {
    const consumer = new Consumer({
      ...kafkaClientOptions(this.config),
      groupId: this.config.groupId,
      rebalanceTimeout: this.config.rebalanceTimeoutMs,
      sessionTimeout: this.config.sessionTimeoutMs,
      heartbeatInterval: this.config.heartbeatIntervalMs,
      maxWaitTime: this.config.maxWaitMs,
      maxBytes: this.config.maxBytes,
      maxBytesPerPartition: this.config.maxBytesPerPartition,
      autocommit: this.autocommit,
      // The coordinator may hold a JoinGroup for the whole rebalance timeout; the client's 30 s request
      // timeout would give up on it first and rejoin into the same wait (docs/decisions.md).
      requestTimeout: Math.max(30_000, this.config.rebalanceTimeoutMs + 5_000),
      protocols: [this.#protocol],
      // Sticky: a rebalance moves only what balance needs, so fewer partitions restart and re-read.
      partitionAssigner: stickyAssigner,
    });
    consumer.on('consumer:group:rebalance', () => this.#onRebalance(consumer));
    consumer.on('consumer:group:join', (payload) => this.#onJoin(consumer, payload.generationId ?? consumer.generationId, payload.memberId));
    // A rejoin that fails for good is reported as the client's 'error' event.
    consumer.on('error', (error: Error) => this.#onLost(consumer, error));
    // A heartbeat that fails for a reason other than the group's (broker gone, connection refused)
    // ends the client's heartbeats for good in 1.35: it clears its timer before the line meant to
    // re-arm it. The coordinator then drops the member, which still believes it owns its partitions,
    // and a member whose fetching is paused for backpressure makes no fetch that would notice. So a
    // member left without heartbeats is a lost consumer. Checked after the client's own handling of
    // the error, so a client that does re-arm its heartbeat keeps its membership.
    consumer.on('consumer:heartbeat:end', () => {
      if (consumer === this.#consumer) this.#watchdog.alive();
    });
    consumer.on('consumer:heartbeat:error', (payload: { error?: Error }) => {
      setImmediate(() => {
        if (!consumer.isActive()) this.#onLost(consumer, payload.error ?? new Error('heartbeat failed'));
      });
    });
    this.#consumer = consumer;
    this.#fetchVersion = undefined;
    this.#joined = false;
    if (this.#pattern) {
      const first = this.#topics.length === 0 && this.#addedLater.size === 0;
      const matched = await this.#newlyMatched();
      if (!first && matched.length > 0) await this.#topicsAdded(matched);
      else this.#topics.push(...matched);
    }
    // The subscription is held here, not by what fetches, so replacing fetch loops never changes it.
    if (this.#topics.length > 0) consumer.topics.trackAll(...this.#topics);
    this.#knownCounts = await this.#partitionCounts(consumer, false).catch(() => new Map<string, number>());
    this.#updateSubscription();
    try {
      const joined = consumer.joinGroup(this.#groupOptions());
      await (signal ? Promise.race([joined, abortedPromise(signal)]) : joined);
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
    } catch (error) {
      this.#consumer = undefined;
      await (signal?.aborted ? this.#leave(consumer) : closeConsumer(consumer));
      if (signal?.aborted) return;
      throw error;
    }
  }

  #groupOptions() {
    return { sessionTimeout: this.config.sessionTimeoutMs, rebalanceTimeout: this.config.rebalanceTimeoutMs, heartbeatInterval: this.config.heartbeatIntervalMs };
  }

  #onRebalance(consumer: Consumer): void {
    if (consumer !== this.#consumer || this.#closing) return;
    this.#watchdog.rebalancing();
    this.#epoch++;
    this.#retireLoop();
    this.#handlers!.onRevoking();
  }

  #onJoin(consumer: Consumer, generation: number, memberId: string): void {
    if (consumer !== this.#consumer || this.#closing) return;
    this.#watchdog.alive();
    const epoch = ++this.#epoch;
    this.#retireLoop();
    this.#joined = true;
    const assignment: Assignment = { partitions: describeAssignments(consumer.assignments), generation, memberId };
    this.#owned = { generation, partitions: assignment.partitions };
    this.#updateSubscription();
    const continued = this.#handlers!.onAssigned(assignment);
    void this.#startLoop(consumer, epoch, assignment, continued).catch((error: Error) => {
      if (epoch === this.#epoch) this.#onLost(consumer, error);
    });
  }

  /** Starts this generation's fetch loop at the positions chosen for each assigned partition. */
  async #startLoop(consumer: Consumer, epoch: number, assignment: Assignment, continued: ReadonlyMap<string, bigint>): Promise<void> {
    if (assignment.partitions.length === 0) return;
    // A broker that does not answer is waited for here, for as long as this generation lasts (the
    // membership watchdog notices when the group itself is gone): not a reason to rejoin.
    const superseded = (): boolean => epoch !== this.#epoch || this.#closing;
    const untilAnswered = <T>(what: string, attempt: () => Promise<T>): Promise<T | undefined> =>
      retryWithBackoff(async () => (superseded() ? undefined : attempt()), {
        ...this.retry,
        signal: this.#stopSignal.signal,
        retryable: () => !superseded(),
        onRetry: (error, n) => this.logger.warn({ err: error, attempt: n }, `${what} failed; retrying`),
      });
    const positions = await untilAnswered('reading start offsets', () => this.#startPositions(consumer, assignment.partitions, continued));
    if (positions === undefined || epoch !== this.#epoch) return; // another rebalance began meanwhile
    this.#handlers!.onPositioned(positions);
    if (this.#closing) return;
    const handlers = this.#handlers!;
    // The Fetch version the consumer negotiated with its brokers (asked once per consumer).
    this.#fetchVersion ??= await untilAnswered('negotiating the Fetch version', () => negotiatedFetchVersion(consumer));
    if (this.#fetchVersion === undefined || superseded()) return;
    const loop: FetchLoop = new FetchLoop({
      consumer,
      connection: kafkaClientOptions(this.config),
      fetchVersion: this.#fetchVersion,
      isolationLevel: this.config.isolationLevel,
      retry: this.retry,
      logger: this.logger,
      resolveOutOfRange: (key, position) => this.#resolveOutOfRange(consumer, key, position),
      topics: [...this.#topics],
      positions,
      maxBytes: this.config.maxBytes,
      maxBytesPerPartition: this.config.maxBytesPerPartition,
      maxWaitTime: this.config.maxWaitMs,
      minBytes: this.config.minBytes,
      minBytesWaitTime: this.config.minBytesWaitMs,
      autocommit: this.autocommit,
      onRecord: (record) => {
        if (epoch !== this.#epoch) return;
        const poison = this.#strikes.poison(record);
        if (poison === undefined) handlers.onRecord(record);
        else handlers.onPoison(record, poison);
      },
      onSkipped: (topic, partition, next) => {
        if (epoch === this.#epoch) handlers.onSkipped(topic, partition, next);
      },
      onError: (error) => {
        if (loop !== this.#loop) return;
        if (error instanceof RecordHandlingError) this.#strike(error);
        this.#onLost(consumer, error);
      },
    });
    this.#loop = loop;
    if (this.#paused) loop.pause();
    loop.start();
  }

  /**
   * Continued partitions start where the pipeline is; the others at the group's committed offset.
   * A partition without one starts at `autoOffsetReset`, unless the group has committed other
   * partitions of its topic: then the partition was added later and starts at its beginning, so
   * nothing written to it before this member picked it up is skipped.
   */
  async #startPositions(consumer: Consumer, partitions: string[], continued: ReadonlyMap<string, bigint>): Promise<Map<string, bigint>> {
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
    const counts = await this.#partitionCounts(consumer, false);
    // With a pattern, commits on any topic tell a running group from a new one (below).
    const asked = this.#pattern ? [...new Set([...unknown.keys(), ...this.#topics])] : [...unknown.keys()];
    const committed = await consumer.listCommittedOffsets({
      topics: asked.map((topic) => ({ topic, partitions: Array.from({ length: Math.max(counts.get(topic) ?? 0, ...(unknown.get(topic) ?? []).map((p) => p + 1)) }, (_, i) => i) })),
    });
    const hasCommits = (topic: string): boolean => (committed.get(topic) ?? []).some((o) => o !== undefined && o >= 0n);
    // A topic the group never committed, while it committed others of the pattern, appeared after the
    // group started: it starts at its beginning, like a topic this member saw appear.
    const groupRuns = this.#pattern !== undefined && asked.some(hasCommits);
    const fallback = new Map<string, bigint>(); // key → EARLIEST | LATEST
    for (const [topic, list] of unknown) {
      const offsets = committed.get(topic) ?? [];
      const groupKnowsTopic = hasCommits(topic) || groupRuns || this.#addedLater.has(topic);
      for (const partition of list) {
        const offset = offsets[partition];
        if (offset !== undefined && offset >= 0n) positions.set(partitionKey(topic, partition), offset);
        else fallback.set(partitionKey(topic, partition), groupKnowsTopic || this.config.autoOffsetReset === 'earliest' ? EARLIEST : LATEST);
      }
    }
    // One pair of requests serves both: committed offsets checked against the log, and the fallbacks.
    const committedKeys = [...positions.keys()].filter((key) => !continued.has(key));
    const bounds = await this.#logBounds(consumer, [...committedKeys, ...fallback.keys()]);
    for (const key of committedKeys) {
      const reset = this.#withinLog(key, positions.get(key)!, bounds.get(key));
      if (reset === undefined) continue;
      positions.delete(key);
      fallback.set(key, reset);
    }
    for (const [key, timestamp] of fallback) {
      const offset = timestamp === EARLIEST ? bounds.get(key)?.start : bounds.get(key)?.end;
      if (offset === undefined) throw new Error(`no ${timestamp === EARLIEST ? 'earliest' : 'latest'} offset for ${key}`);
      positions.set(key, offset);
    }
    return positions;
  }

  /**
   * Handing a record over threw, and the member starts over from the group's offsets (the pipeline's
   * state after a throw is not to be trusted). The same record failing errors.poisonAfter times in a
   * row is poison: it goes to onPoison instead, so no bug can make the member loop for ever.
   */
  #strike(error: RecordHandlingError): void {
    const { topic, partition, offset } = error.record;
    const count = this.#strikes.strike(error.record, error.message);
    this.logger.error({ topic, partition, offset: String(offset), strikes: count, poisonAfter: this.#strikes.poisonAfter, err: error.error }, 'handing a record to the pipeline threw; starting over from the committed offsets');
  }

  /**
   * Where a partition goes on when its position left the log while it was being read (retention
   * deleted the records, the topic was truncated or re-created): the same rule as at the start.
   */
  async #resolveOutOfRange(consumer: Consumer, key: string, position: bigint): Promise<bigint> {
    const bounds = (await this.#logBounds(consumer, [key])).get(key);
    const reset = this.#withinLog(key, position, bounds);
    if (reset === undefined) return position; // back in range (a leader that had not caught up)
    const offset = reset === EARLIEST ? bounds?.start : bounds?.end;
    if (offset === undefined) throw new Error(`no ${reset === EARLIEST ? 'earliest' : 'latest'} offset for ${key}`);
    return offset;
  }

  /** Stops the current loop; it delivers nothing more (and its epoch is over anyway). */
  #retireLoop(): void {
    const loop = this.#loop;
    this.#loop = undefined;
    if (!loop) return;
    void loop.close().catch((error: unknown) => this.logger.debug({ err: error }, 'closing a retired fetch loop failed'));
  }

  /** The earliest and the next (latest) offset of each partition's log: one pair of requests for all. */
  async #logBounds(consumer: Consumer, keys: string[]): Promise<Map<string, { start?: bigint; end?: bigint }>> {
    const bounds = new Map<string, { start?: bigint; end?: bigint }>();
    if (keys.length === 0) return bounds;
    const byTopic: Record<string, number[]> = {};
    for (const key of keys) {
      const { topic, partition } = splitPartitionKey(key);
      (byTopic[topic] ??= []).push(partition);
    }
    const [earliest, latest] = await Promise.all(
      [EARLIEST, LATEST].map((timestamp) => consumer.listOffsets({ topics: Object.keys(byTopic), partitions: byTopic, timestamp })),
    );
    for (const key of keys) {
      const { topic, partition } = splitPartitionKey(key);
      bounds.set(key, { start: earliest!.get(topic)?.[partition], end: latest!.get(topic)?.[partition] });
    }
    return bounds;
  }

  /**
   * A committed offset outside the partition's log cannot be fetched (OFFSET_OUT_OF_RANGE, and the
   * client gives up on the consumer): below the log start, retention or deleteRecords removed those
   * records, and the partition starts at the earliest one left; past the end, the topic was re-created
   * or truncated, and kafka.autoOffsetReset decides, as Kafka's own consumers do. Logged, once per start.
   * Returns where to start instead (EARLIEST | LATEST), or undefined when the offset is in the log.
   */
  #withinLog(key: string, offset: bigint, bounds: { start?: bigint; end?: bigint } | undefined): bigint | undefined {
    const { start, end } = bounds ?? {};
    if (start !== undefined && offset < start) {
      this.logger.warn({ partition: key, committed: offset.toString(), logStart: start.toString() }, 'the committed offset is below the log start (records deleted by retention): starting at the earliest record left');
      return EARLIEST;
    }
    if (end !== undefined && offset > end) {
      this.logger.warn({ partition: key, committed: offset.toString(), end: end.toString(), autoOffsetReset: this.config.autoOffsetReset }, 'the committed offset is past the log end (topic re-created or truncated): starting where kafka.autoOffsetReset says');
      return this.config.autoOffsetReset === 'earliest' ? EARLIEST : LATEST;
    }
    return undefined;
  }

  async #partitionCounts(consumer: Consumer, fresh: boolean): Promise<Map<string, number>> {
    if (this.#topics.length === 0) return new Map();
    const topics = [...this.#topics];
    const metadata = await consumer.metadata({ topics, forceUpdate: fresh });
    return new Map(topics.map((t) => [t, metadata.topics.get(t)?.partitionsCount ?? 0]));
  }

  /** Topics the pattern newly matched join the subscription (the caller rejoins). */
  async #topicsAdded(added: string[]): Promise<void> {
    this.logger.info({ topics: added, topicPattern: this.config.topicPattern }, 'new topics match kafka.topicPattern: subscribing (read from their beginning)');
    // Their dead-letter topics first, so a failure in their first records has somewhere to go.
    await this.options.onTopicsAdded?.(added).catch((error: unknown) => this.logger.warn({ err: error, topics: added }, 'preparing newly matched topics failed; going on'));
    for (const topic of added) this.#addedLater.add(topic);
    this.#topics.push(...added);
  }

  /**
   * Partitions added at runtime, and with a pattern new matching topics: rejoin with the new counts
   * (and subscription), which makes the group rebalance.
   */
  async #discoverPartitions(): Promise<void> {
    const consumer = this.#consumer;
    if (!consumer || !this.#joined || this.#closing) return;
    let counts;
    let added: string[] = [];
    try {
      added = await this.#newlyMatched();
      if (added.length > 0 && consumer === this.#consumer && !this.#closing) {
        await this.#topicsAdded(added);
        consumer.topics.trackAll(...added);
      }
      counts = await this.#partitionCounts(consumer, true);
    } catch (error) {
      this.logger.debug({ err: error }, 'partition discovery: metadata request failed');
      if (added.length === 0) return;
      counts = new Map<string, number>();
    }
    const grown = [...counts].filter(([topic, count]) => count > (this.#knownCounts.get(topic) ?? 0));
    if ((grown.length === 0 && added.length === 0) || consumer !== this.#consumer || this.#closing) return;
    if (grown.length > 0) this.logger.info({ partitions: Object.fromEntries(grown), before: Object.fromEntries(this.#knownCounts) }, 'partitions added to a topic: rejoining the group so they get assigned');
    for (const [topic, count] of grown) this.#knownCounts.set(topic, count);
    this.#updateSubscription();
    consumer.joinGroup(this.#groupOptions()).catch((error: Error) => {
      this.logger.warn({ err: error }, 'rejoining after partitions or topics were added failed; the next discovery retries');
      for (const [topic] of grown) this.#knownCounts.delete(topic);
    });
  }

  /**
   * The subscription metadata the client sends at every (re)join: what this member owns (for the
   * sticky assignor) and the partition counts it knows. A member whose metadata changed makes the
   * coordinator rebalance even when it is not the leader, which is how a member that saw partitions
   * being added gets them assigned; the leader assigns up to the highest count any member saw.
   */
  #updateSubscription(): void {
    const owned = new Map<string, number[]>();
    for (const key of this.#owned.partitions) {
      const { topic, partition } = splitPartitionKey(key);
      owned.set(topic, [...(owned.get(topic) ?? []), partition]);
    }
    this.#protocol.metadata = encodeMemberData({
      generation: this.#owned.generation,
      owned: [...owned].map(([topic, partitions]) => ({ topic, partitions })),
      partitionCounts: Object.fromEntries(this.#knownCounts),
    });
  }

  #onLost(consumer: Consumer, error: Error): void {
    if (this.#closing || consumer !== this.#consumer || this.#reconnecting) return;
    this.logger.warn({ err: error }, 'lost the Kafka consumer; rejoining the group with a new one');
    this.#epoch++;
    this.#retireLoop();
    this.#joined = false;
    this.#owned = { generation: -1, partitions: [] };
    this.#handlers!.onLost(error);
    this.#reconnecting = this.#reconnect(consumer).finally(() => (this.#reconnecting = undefined));
  }

  async #reconnect(lost: Consumer): Promise<void> {
    this.#consumer = undefined;
    await closeConsumer(lost);
    // The broker just went away: give it a moment before the first attempt too.
    await sleep(this.retry.initialDelayMs, undefined, { signal: this.#stopSignal.signal }).catch(() => undefined);
    await retryWithBackoff(
      async (attempt) => {
        if (this.#closing) return;
        await this.#open(this.#stopSignal.signal);
        if (!this.#closing) this.logger.info({ attempt }, 'Kafka consumer re-created');
      },
      {
        ...this.retry,
        minDelayMs: this.retry.initialDelayMs,
        signal: this.#stopSignal.signal,
        onRetry: (error, attempt) => this.logger.warn({ err: error, attempt }, 'rejoining the group failed; retrying'),
      },
    ).catch(() => undefined); // only when closing

  }

  pause(): void {
    this.#paused = true;
    this.#loop?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#loop?.resume();
  }

  get paused(): boolean {
    return this.#paused;
  }

  async commit(offsets: readonly CommitRequest[]): Promise<void> {
    if (offsets.length === 0) return;
    if (!this.#consumer || !this.#joined) throw new Error('not a group member right now (rejoining)');
    // leaderEpoch -1: "unknown", accepted by the broker's OffsetCommit.
    await this.#consumer.commit({ offsets: offsets.map((o) => ({ ...o, leaderEpoch: -1 })) });
  }

  /** Stops fetching and leaves the group; a broker that is down makes this best-effort. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#stopSignal.abort();
    clearInterval(this.#discovery);
    clearInterval(this.#watchdogTimer);
    await this.#reconnecting;
    await this.#admin?.close().catch(() => undefined);
    const loop = this.#loop;
    this.#loop = undefined;
    await loop?.close().catch((error: unknown) => this.logger.warn({ err: error }, 'closing the fetch loop failed'));
    if (this.#consumer) await this.#leave(this.#consumer);
  }

  /**
   * Leaves the group and closes the consumer. Its LeaveGroup goes over the coordinator connection, where
   * the broker answers requests in order: behind a JoinGroup the coordinator holds until every member
   * rejoined (a crashed one: until its session ends, 30 s by default), it waited that long, so a SIGTERM
   * while joining took 23 s to obey (measured). When the leave has not finished in a moment, the same
   * member is removed over another connection (an admin LeaveGroup): the held JoinGroup ends at once,
   * and the group does not wait a session for a member that is gone.
   */
  async #leave(consumer: Consumer): Promise<void> {
    // leaveGroup before close: it marks the membership inactive at once, so a held JoinGroup that then
    // fails (its member removed) is not retried with a new member id, which would leave a ghost member.
    const left = new Promise<Error | null>((resolve) => consumer.leaveGroup(true, (error) => resolve(error ?? null)));
    if (!(await Promise.race([left.then(() => true), sleep(LEAVE_PATIENCE_MS, false)]))) {
      const memberId = consumer.memberId;
      // Never without a member id: an admin LeaveGroup with no members removes every member of the group.
      if (memberId) await this.#removeMember(memberId);
    }
    const error = await left;
    if (error) {
      // The broker is unreachable. Closing would try to leave once more, with the same retries (seconds):
      // not awaited, since the process exits next; the broker times this member out.
      this.logger.warn({ err: error }, 'leaving the group failed (the broker will time this member out)');
      void closeConsumer(consumer);
      return;
    }
    await closeConsumer(consumer);
  }

  async #removeMember(memberId: string): Promise<void> {
    const admin = new Admin({ ...kafkaClientOptions(this.config, '-leave'), timeout: 5000, retries: 1 });
    try {
      await admin.removeMembersFromConsumerGroup({ groupId: this.config.groupId, members: [{ memberId, reason: 'shutting down while joining' }] });
      this.logger.info({ memberId }, 'left the group over a second connection (the first was waiting for a join to end)');
    } catch (error) {
      this.logger.debug({ err: error }, 'leaving over a second connection failed; waiting for the join to end');
    } finally {
      await admin.close().catch(() => undefined);
    }
  }
}

/** How long a LeaveGroup may take before the member is removed over a second connection. */
const LEAVE_PATIENCE_MS = 1_000;

/**
 * Closes a consumer, never failing: an error means a broker that is down, and a leave that failed was
 * already reported by #leave.
 */
function closeConsumer(consumer: Consumer): Promise<void> {
  return new Promise((resolve) => consumer.close(true, () => resolve()));
}

function describeAssignments(assignments: { topic: string; partitions: number[] }[] | null): string[] {
  return (assignments ?? []).flatMap((a) => a.partitions.map((p) => partitionKey(a.topic, p))).sort();
}
