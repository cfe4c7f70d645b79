// The consumer-group member and the records it fetches.
//
// - Membership is ours (group/group-member.ts): a coordinator that moves is found again without a
//   rejoin, a member the group stopped answering knows it, leaving never waits behind a held join.
//   The client (@platformatic/kafka) is used for metadata, offsets and its request writers only; it
//   never joins a group itself.
// - Fetching is ours too (fetch-loop.ts over wire/), one loop per generation: every rebalance and join
//   retires the loop (its records are dropped from then on) and starts a new one at positions
//   start-positions.ts chooses. Nothing that happens while fetching makes the member rejoin.
// - Partitions added to a topic are never announced: a timer asks subscription.ts to look; when it
//   found some (or new topics for kafka.topicPattern), this member joins again with changed
//   subscription metadata, which makes the coordinator rebalance.
// - A throw while handing a record to the pipeline (a bug) makes every partition start over from the
//   committed offsets, without touching the group; errors.poisonAfter ends a loop of those.
//
// Why one file of ~400 lines: the membership events all move the same generation's state (epoch,
// loop, owned partitions); the protocol, the fetching, start positions, discovery and the assignor
// are apart (group/, fetch-loop.ts, start-positions.ts, subscription.ts, sticky-assignor.ts).
import { Admin, Consumer } from '@platformatic/kafka';
import type { Config } from '../config/schema.js';
import { retryWithBackoff } from '../util/backoff.js';
import type { Logger } from '../util/logger.js';
import { kafkaClientOptions } from './connection.js';
import { FetchLoop, RecordHandlingError } from './fetch-loop.js';
import { negotiatedFetchVersion } from './wire/fetch-api.js';
import { type GroupAssignment, GroupMember } from './group/group-member.js';
import { KafkaGroupProtocol } from './group/group-protocol.js';
import { PoisonStrikes } from './poison-strikes.js';
import { type CommitRequest, partitionKey, type SourceRecord, splitPartitionKey } from './record.js';
import { encodeMemberData, stickyAssigner } from './sticky-assignor.js';
import { EARLIEST, LATEST, type LogBounds, StartPositions } from './start-positions.js';
import { Subscription } from './subscription.js';

export type { CommitRequest } from './record.js';

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
  /** The group has not answered this member for a session timeout (its partitions are held). */
  readonly silent?: boolean;
}

export interface SourceOptions {
  /** errors.dlqTopic: dead-letter topics never match kafka.topicPattern. */
  dlqTopic?: string;
  /** Topics kafka.topicPattern newly matches, before this member rejoins to consume them. */
  onTopicsAdded?: (topics: string[]) => Promise<void>;
  /** errors.poisonAfter (default 3). */
  poisonAfter?: number;
}

export class KafkaSource implements RecordSource {
  /** Metadata, offsets, API versions and connections; it never joins a group itself. */
  #client: Consumer | undefined;
  #member: GroupMember | undefined;
  /** This generation's fetching (none between a rebalance and the positions of the next join). */
  #loop: FetchLoop | undefined;
  /** Bumped at every rebalance and join: records of an older loop are dropped. */
  #epoch = 0;
  #joined = false;
  /** The assignment of the current generation (to start over from after a handling throw). */
  #assignment: GroupAssignment | undefined;
  #handlers: SourceHandlers | undefined;
  #paused = false;
  #closing = false;
  #discovery: NodeJS.Timeout | undefined;
  /** This member's last assignment, advertised at the next join so the leader can keep it here. */
  #owned: { generation: number; partitions: string[] } = { generation: -1, partitions: [] };
  /**
   * The protocol this member joins with; its metadata is ours to update. The name stays the one
   * older releases (on the client's round robin) used, so members of both can share a group during a
   * rolling upgrade: whichever member leads runs its own assigner.
   */
  readonly #protocol: { name: string; metadata: Buffer } = { name: 'roundrobin', metadata: Buffer.alloc(0) };
  readonly #stopSignal = new AbortController();
  /** The topics subscribed and the partition counts told to the group. */
  readonly #subscription: Subscription;
  readonly #starts: StartPositions;
  /** Lists topics for the pattern (the consumer's metadata requests name their topics). */
  #admin: Admin | undefined;
  readonly #strikes: PoisonStrikes;
  /** The Fetch version negotiated with the brokers. */
  #fetchVersion: number | undefined;

  /** @param autocommit false, or the client's commit interval in ms (delivery: auto-commit) */
  constructor(
    private readonly config: Config['kafka'],
    private readonly logger: Logger,
    private readonly autocommit: number | false = false,
    private readonly retry: { initialDelayMs: number; maxDelayMs: number } = { initialDelayMs: 500, maxDelayMs: 10_000 },
    private readonly options: SourceOptions = {},
  ) {
    this.#strikes = new PoisonStrikes(options.poisonAfter ?? 3);
    this.#subscription = new Subscription(
      {
        listTopics: () => (this.#admin ??= new Admin({ ...kafkaClientOptions(this.config, '-topics'), timeout: 5000, retries: 1 })).listTopics(),
        partitionCounts: (topics, fresh) => this.#partitionCounts(topics, fresh),
      },
      { topics: config.topics, topicPattern: config.topicPattern, dlqTopic: options.dlqTopic, onTopicsAdded: options.onTopicsAdded, logger },
    );
    const subscription = this.#subscription;
    this.#starts = new StartPositions(
      {
        partitionCounts: () => subscription.partitionCounts(false),
        committed: (topics) => this.#member!.committed(topics),
        bounds: (keys) => this.#logBounds(keys),
      },
      { autoOffsetReset: config.autoOffsetReset, pattern: subscription.pattern, topics: () => subscription.topics, addedLater: () => subscription.addedLater },
      logger,
    );
  }

  get topics(): readonly string[] {
    return this.#subscription.topics;
  }

  async start(handlers: SourceHandlers, signal?: AbortSignal): Promise<void> {
    this.#handlers = handlers;
    const client = new Consumer({
      ...kafkaClientOptions(this.config),
      groupId: this.config.groupId,
      maxWaitTime: this.config.maxWaitMs,
      maxBytes: this.config.maxBytes,
      maxBytesPerPartition: this.config.maxBytesPerPartition,
    });
    this.#client = client;
    await this.#subscription.start();
    this.#updateSubscription();
    // The coordinator may hold a JoinGroup for the whole rebalance timeout: the requests to it wait as long.
    const protocol = new KafkaGroupProtocol(client, kafkaClientOptions(this.config, '-group'), Math.max(30_000, this.config.rebalanceTimeoutMs + 5_000));
    this.#member = new GroupMember(
      protocol,
      {
        groupId: this.config.groupId,
        sessionTimeoutMs: this.config.sessionTimeoutMs,
        rebalanceTimeoutMs: this.config.rebalanceTimeoutMs,
        heartbeatIntervalMs: this.config.heartbeatIntervalMs,
        protocol: () => this.#protocol,
        topics: () => this.#subscription.topics,
        // Sticky: a rebalance moves only what balance needs, so fewer partitions restart and re-read.
        assignor: stickyAssigner,
        metadata: (topics) => client.metadata({ topics }),
        retry: this.retry,
        logger: this.logger,
      },
      {
        onRebalance: () => this.#onRebalance(),
        onJoin: (assignment) => this.#onJoin(assignment),
        onLost: (error) => this.#onLost(error),
      },
    );
    await this.#member.start(signal);
    if (signal?.aborted) return;
    this.#discovery = setInterval(() => void this.#discoverPartitions(), this.config.partitionDiscoveryIntervalMs);
    this.#discovery.unref();
  }

  #onRebalance(): void {
    if (this.#closing) return;
    this.#epoch++;
    this.#retireLoop();
    this.#handlers!.onRevoking();
  }

  #onJoin(joined: GroupAssignment): void {
    if (this.#closing) return;
    const epoch = ++this.#epoch;
    this.#retireLoop();
    this.#joined = true;
    this.#assignment = joined;
    const assignment: Assignment = { partitions: describeAssignments(joined.assignments), generation: joined.generation, memberId: joined.memberId };
    this.#owned = { generation: joined.generation, partitions: assignment.partitions };
    this.#updateSubscription();
    const continued = this.#handlers!.onAssigned(assignment);
    void this.#startLoop(epoch, assignment, continued).catch((error: unknown) => {
      if (epoch === this.#epoch && !this.#closing) this.logger.error({ err: error }, 'starting to fetch failed');
    });
  }

  /** The group dropped this member (or stopped answering it): it owns nothing until it joined again. */
  #onLost(error: Error): void {
    if (this.#closing) return;
    this.logger.warn({ err: error }, 'lost the group membership; joining again');
    this.#epoch++;
    this.#retireLoop();
    this.#joined = false;
    this.#assignment = undefined;
    this.#owned = { generation: -1, partitions: [] };
    this.#handlers!.onLost(error);
  }

  /**
   * Handing a record over threw (a bug the pipeline did not contain): the pipeline's state is not to
   * be trusted, so every partition starts over from the group's committed offsets, as after a lost
   * membership, but without leaving the group: the same assignment is handed over again.
   */
  #startOver(error: RecordHandlingError): void {
    const { topic, partition, offset } = error.record;
    const count = this.#strikes.strike(error.record, error.message);
    this.logger.error({ topic, partition, offset: String(offset), strikes: count, poisonAfter: this.#strikes.poisonAfter, err: error.error }, 'handing a record to the pipeline threw; starting over from the committed offsets');
    const assignment = this.#assignment;
    this.#onLost(error);
    if (assignment && this.#member?.stable) this.#onJoin(assignment);
  }

  /** Starts this generation's fetch loop at the positions chosen for each assigned partition. */
  async #startLoop(epoch: number, assignment: Assignment, continued: ReadonlyMap<string, bigint>): Promise<void> {
    const client = this.#client!;
    if (assignment.partitions.length === 0) return;
    // A broker that does not answer is waited for here, for as long as this generation lasts (the
    // membership notices when the group itself is gone): not a reason to rejoin.
    const superseded = (): boolean => epoch !== this.#epoch || this.#closing;
    const untilAnswered = <T>(what: string, attempt: () => Promise<T>): Promise<T | undefined> =>
      retryWithBackoff(async () => (superseded() ? undefined : attempt()), {
        ...this.retry,
        signal: this.#stopSignal.signal,
        retryable: () => !superseded(),
        onRetry: (error, n) => this.logger.warn({ err: error, attempt: n }, `${what} failed; retrying`),
      });
    const positions = await untilAnswered('reading start offsets', () => this.#starts.choose(assignment.partitions, continued));
    if (positions === undefined || epoch !== this.#epoch) return; // another rebalance began meanwhile
    this.#handlers!.onPositioned(positions);
    if (this.#closing) return;
    const handlers = this.#handlers!;
    // The Fetch version the client negotiated with the brokers (asked once).
    this.#fetchVersion ??= await untilAnswered('negotiating the Fetch version', () => negotiatedFetchVersion(client));
    if (this.#fetchVersion === undefined || superseded()) return;
    const loop: FetchLoop = new FetchLoop({
      consumer: client,
      commit: (offsets) => this.#member!.commit(offsets),
      connection: kafkaClientOptions(this.config),
      fetchVersion: this.#fetchVersion,
      isolationLevel: this.config.isolationLevel,
      retry: this.retry,
      logger: this.logger,
      resolveOutOfRange: (key, position) => this.#starts.resolveOutOfRange(key, position),
      topics: [...this.#subscription.topics],
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
        if (error instanceof RecordHandlingError) this.#startOver(error);
        else this.logger.error({ err: error }, 'fetching stopped');
      },
    });
    this.#loop = loop;
    if (this.#paused) loop.pause();
    loop.start();
  }

  /** Stops the current loop; it delivers nothing more (and its epoch is over anyway). */
  #retireLoop(): void {
    const loop = this.#loop;
    this.#loop = undefined;
    if (!loop) return;
    void loop.close().catch((error: unknown) => this.logger.debug({ err: error }, 'closing a retired fetch loop failed'));
  }

  /** The earliest and the next (latest) offset of each partition's log: one pair of requests for all. */
  async #logBounds(keys: string[]): Promise<Map<string, LogBounds>> {
    const consumer = this.#client!;
    const bounds = new Map<string, LogBounds>();
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

  async #partitionCounts(topics: string[], fresh: boolean): Promise<Map<string, number>> {
    if (!this.#client) return new Map();
    const metadata = await this.#client.metadata({ topics, forceUpdate: fresh });
    return new Map(topics.map((t) => [t, metadata.topics.get(t)?.partitionsCount ?? 0]));
  }

  /** Partitions added at runtime, and with a pattern new matching topics: join again, which rebalances. */
  async #discoverPartitions(): Promise<void> {
    if (!this.#joined || this.#closing) return;
    const reason = await this.#subscription.discover(() => this.#closing);
    if (reason === undefined || this.#closing) return;
    this.#updateSubscription();
    this.#member?.rejoin(reason);
  }

  /**
   * The subscription metadata sent at every (re)join: what this member owns (for the sticky assignor)
   * and the partition counts it knows. A member whose metadata changed makes the coordinator
   * rebalance even when it is not the leader, which is how a member that saw partitions being added
   * gets them assigned; the leader assigns up to the highest count any member saw.
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
      partitionCounts: Object.fromEntries(this.#subscription.knownCounts),
    });
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

  get silent(): boolean {
    return this.#member?.silent ?? false;
  }

  async commit(offsets: readonly CommitRequest[]): Promise<void> {
    if (offsets.length === 0) return;
    if (!this.#member || !this.#joined) throw new Error('not a group member right now (rejoining)');
    await this.#member.commit(offsets);
  }

  /**
   * Stops fetching and leaves the group (over a connection of its own, so a JoinGroup the coordinator
   * holds cannot hold the leave); a broker that is down makes this best-effort.
   */
  async close(): Promise<void> {
    this.#closing = true;
    this.#stopSignal.abort();
    clearInterval(this.#discovery);
    await this.#admin?.close().catch(() => undefined);
    const loop = this.#loop;
    this.#loop = undefined;
    await loop?.close().catch((error: unknown) => this.logger.warn({ err: error }, 'closing the fetch loop failed'));
    await this.#member?.leave();
    const client = this.#client;
    if (client) await new Promise<void>((resolve) => client.close(true, () => resolve()));
  }
}

function describeAssignments(assignments: readonly { topic: string; partitions: number[] }[]): string[] {
  return assignments.flatMap((a) => a.partitions.map((p) => partitionKey(a.topic, p))).sort();
}
