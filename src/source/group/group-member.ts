// This instance as a member of its consumer group (the classic, eager protocol): join, sync, heartbeat,
// commit, leave. Ours since issue 24, over the client's request writers (group-protocol.ts), because
// what @platformatic/kafka 1.35 does with a real cluster cost a group-wide rebalance at every turn
// (docs/decisions.md, "Group membership"):
// - it looks the coordinator up once and never again, so a coordinator that moves (a broker restart,
//   a leader election of __consumer_offsets) fails every heartbeat and commit until the member is
//   dropped; here NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE and a lost connection make the member
//   find the coordinator again and go on with the same member id and generation: no rejoin;
// - a heartbeat that failed for another reason could end its heartbeats without a word, and a
//   rejoin that failed left the member believing it owned its partitions; here a member the group
//   has not answered for a session timeout holds its partitions (onRebalance: nothing sent, nothing
//   committed, /ready false) until the group answers: the same generation goes on (a coordinator
//   failing over restarts every session), a rebalance or a drop rejoins;
// - its LeaveGroup waited behind a JoinGroup the coordinator held; here leaving uses a connection of
//   its own, and a join in progress is abandoned.
// What each group error means (Kafka's AbstractCoordinator does the same):
//   REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION → the partitions may move: onRebalance, join again (same id)
//   UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID   → the group dropped this member: onLost, join as a new one
//   MEMBER_ID_REQUIRED                      → join again with the id the coordinator gave
//   NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, a network error → find the coordinator again, retry
//   COORDINATOR_LOAD_IN_PROGRESS            → retry the same coordinator after a pause
import { Reader, Writer, type ClusterMetadata, type GroupPartitionsAssigner } from '@platformatic/kafka';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from '../../util/backoff.js';
import type { Logger } from '../../util/logger.js';
import { type CoordinatorAddress, GroupErrorCode, type GroupProtocol, GroupRequestError, type OffsetToCommit } from './group-protocol.js';

export interface GroupMemberOptions {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** The protocol (assignor) this member supports; its metadata is read at every join. */
  protocol: () => { name: string; metadata: Buffer };
  /** The topics subscribed (sent in the subscription, and what the leader assigns). */
  topics: () => readonly string[];
  assignor: GroupPartitionsAssigner;
  /** Cluster metadata for the leader's assignment. */
  metadata: (topics: string[]) => Promise<ClusterMetadata>;
  retry: { initialDelayMs: number; maxDelayMs: number };
  logger: Logger;
}

export interface GroupAssignment {
  generation: number;
  memberId: string;
  /** This member's partitions, by topic. */
  assignments: { topic: string; partitions: number[] }[];
}

export interface GroupMemberEvents {
  /** The group started rebalancing: this member's partitions may move (eager protocol). */
  onRebalance(): void;
  /** Joined (again): this member's assignment for the generation. */
  onJoin(assignment: GroupAssignment): void;
  /** The group dropped this member (or stopped answering it): it owns nothing until the next join. */
  onLost(error: Error): void;
}

/** A commit the group refused because its generation is over: the rebalance that follows says more. */
export class RebalanceNeededError extends Error {
  override name = 'RebalanceNeededError';
}

type State = 'idle' | 'joining' | 'stable' | 'leaving' | 'closed';

const COORDINATOR_GONE: ReadonlySet<number> = new Set([GroupErrorCode.NOT_COORDINATOR, GroupErrorCode.COORDINATOR_NOT_AVAILABLE]);
const REJOIN: ReadonlySet<number> = new Set([GroupErrorCode.REBALANCE_IN_PROGRESS, GroupErrorCode.ILLEGAL_GENERATION]);
const DROPPED: ReadonlySet<number> = new Set([GroupErrorCode.UNKNOWN_MEMBER_ID, GroupErrorCode.FENCED_INSTANCE_ID]);

/** A Kafka error code of a group request, or undefined for a network error (or anything else). */
const codeOf = (error: unknown): number | undefined => (error instanceof GroupRequestError ? error.code : undefined);

export class GroupMember {
  #state: State = 'idle';
  #memberId = '';
  #generation = -1;
  #coordinator: CoordinatorAddress | undefined;
  #finding: Promise<CoordinatorAddress> | undefined;
  /** The node id of the last coordinator found (to log moves only). */
  #lastCoordinator = -1;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  /** When the group last answered this member (a heartbeat, a join). */
  #answeredAt = Date.now();
  /** The join loop running now (one at a time). */
  #joining: Promise<void> | undefined;
  /** Resolves the first join (start). */
  readonly #stop = new AbortController();
  /** Rejoin with a reason (partitions added) once the current join ends. */
  #rejoinReason: string | undefined;
  /** This generation's assignment (handed over again when the group answers after a silence). */
  #assignment: GroupAssignment | undefined;
  /** No heartbeat answered for a session: the partitions are held until the group answers. */
  #silent = false;

  constructor(
    private readonly protocol: GroupProtocol,
    private readonly options: GroupMemberOptions,
    private readonly events: GroupMemberEvents,
  ) {}

  get memberId(): string {
    return this.#memberId;
  }

  get generation(): number {
    return this.#generation;
  }

  /** Whether this member holds a current generation (joined, heartbeats answered). */
  get stable(): boolean {
    return this.#state === 'stable' && !this.#silent;
  }

  /** The group has not answered for a session timeout: the partitions are held (/ready false). */
  get silent(): boolean {
    return this.#silent;
  }

  /** Joins the group; resolves once joined, or when `signal` aborts (then without joining). */
  async start(signal?: AbortSignal): Promise<void> {
    this.#state = 'joining';
    const joined = this.#joinLoop('starting');
    if (!signal) return joined;
    const aborted = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await Promise.race([joined, aborted]);
  }

  /**
   * Joins again now (this member's subscription changed: partitions or topics were added), which
   * makes the coordinator rebalance the group. The partitions may move: onRebalance first.
   */
  rejoin(reason: string): void {
    if (this.#state === 'stable') {
      this.#toJoining(reason, false);
    } else if (this.#state === 'joining') {
      this.#rejoinReason = reason;
    }
  }

  /** Commits offsets for the current generation; RebalanceNeededError when the generation is over. */
  async commit(offsets: readonly OffsetToCommit[]): Promise<void> {
    if (this.#state !== 'stable') throw new RebalanceNeededError(`not a group member right now (${this.#state})`);
    const generationId = this.#generation;
    const memberId = this.#memberId;
    try {
      await this.#withCoordinator('committing offsets', (at) => this.protocol.offsetCommit(at, { groupId: this.options.groupId, generationId, memberId, offsets }), 3);
    } catch (error) {
      const code = codeOf(error);
      if (code !== undefined && (REJOIN.has(code) || DROPPED.has(code))) {
        // The heartbeat finds out at once what to do: rebalance, or join as a new member.
        this.#heartbeatNow();
        throw new RebalanceNeededError(`the group refused the commit: ${(error as Error).message}`, { cause: error });
      }
      throw error;
    }
  }

  /** The group's committed offsets ("topic:partition" → offset; absent or -1: none). */
  committed(topics: { topic: string; partitions: number[] }[]): Promise<Map<string, bigint>> {
    return this.#withCoordinator('reading committed offsets', (at) => this.protocol.offsetFetch(at, { groupId: this.options.groupId, topics }), 5);
  }

  /**
   * Leaves the group (at most `timeoutMs`), stopping heartbeats and any join in progress. A broker
   * that is down makes this best-effort: the coordinator drops the member after its session timeout.
   */
  async leave(timeoutMs = 5000): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'leaving') return;
    const memberId = this.#memberId;
    this.#state = 'leaving';
    this.#stop.abort();
    clearTimeout(this.#heartbeatTimer);
    if (memberId !== '' && this.#coordinator) {
      const left = this.protocol.leaveGroup(this.#coordinator, { groupId: this.options.groupId, memberId, reason: 'shutting down' });
      const outcome = await Promise.race([left.then(() => 'left' as const, (error: unknown) => error), sleep(timeoutMs, 'timeout' as const)]);
      if (outcome === 'left') this.options.logger.info({ memberId }, 'left the group');
      else this.options.logger.warn({ memberId, err: outcome === 'timeout' ? undefined : outcome }, 'leaving the group failed (the coordinator drops this member after its session timeout)');
    }
    this.#state = 'closed';
    await this.protocol.close();
  }

  // ---- joining ----

  /** Joins until joined or stopped (errors are retried with backoff: a group is worth waiting for). */
  #joinLoop(reason: string): Promise<void> {
    this.#joining ??= this.#join(reason).finally(() => {
      this.#joining = undefined;
      const again = this.#rejoinReason;
      this.#rejoinReason = undefined;
      if (again !== undefined && this.#state === 'stable') this.#toJoining(again, false);
    });
    return this.#joining;
  }

  async #join(reason: string): Promise<void> {
    for (let attempt = 0; this.#state === 'joining'; ) {
      try {
        const joined = await this.#joinOnce(reason);
        if (this.#state !== 'joining') return;
        this.#generation = joined.generation;
        this.#memberId = joined.memberId;
        this.#assignment = joined;
        this.#silent = false;
        this.#state = 'stable';
        this.#answeredAt = Date.now();
        this.#scheduleHeartbeat(this.options.heartbeatIntervalMs);
        this.events.onJoin(joined);
        return;
      } catch (error) {
        if (this.#state !== 'joining') return;
        const code = codeOf(error);
        if (code === GroupErrorCode.MEMBER_ID_REQUIRED && error instanceof GroupRequestError && error.memberId) {
          this.#memberId = error.memberId; // KIP-394: join again with the id the coordinator handed out
          continue;
        }
        if (code !== undefined && DROPPED.has(code)) {
          this.#memberId = '';
          continue;
        }
        if (code !== undefined && REJOIN.has(code)) continue; // a rebalance started meanwhile: join it
        if (code === undefined || COORDINATOR_GONE.has(code)) this.#coordinator = undefined;
        const delayMs = backoffDelay(attempt++, this.options.retry);
        this.options.logger.warn({ err: error, attempt, retryInMs: delayMs }, 'joining the group failed; retrying');
        await sleep(delayMs, undefined, { signal: this.#stop.signal }).catch(() => undefined);
      }
    }
  }

  /** One JoinGroup + SyncGroup; the leader assigns every member's partitions. */
  async #joinOnce(reason: string): Promise<GroupAssignment> {
    const at = await this.#findCoordinator();
    const protocol = this.options.protocol();
    const topics = [...this.options.topics()];
    const metadata = encodeSubscription(topics, protocol.metadata);
    const joined = await this.protocol.joinGroup(at, {
      groupId: this.options.groupId,
      sessionTimeoutMs: this.options.sessionTimeoutMs,
      rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
      memberId: this.#memberId,
      protocols: [{ name: protocol.name, metadata }],
      reason,
    });
    if (this.#state !== 'joining') throw new Error('no longer joining');
    let assignments: { memberId: string; assignment: Buffer }[] = [];
    if (joined.leader === joined.memberId) assignments = await this.#assign(joined);
    if (this.#state !== 'joining') throw new Error('no longer joining');
    const mine = await this.protocol.syncGroup(at, { groupId: this.options.groupId, generationId: joined.generationId, memberId: joined.memberId, protocolName: joined.protocolName, assignments });
    return { generation: joined.generationId, memberId: joined.memberId, assignments: decodeAssignment(mine) };
  }

  /** The leader's part: every member's partitions, from the assignor, over the topics any member subscribed. */
  async #assign(joined: Awaited<ReturnType<GroupProtocol['joinGroup']>>): Promise<{ memberId: string; assignment: Buffer }[]> {
    const members = new Map<string, { memberId: string; version: number; topics: string[]; metadata: Buffer }>();
    for (const m of joined.members) members.set(m.memberId, { memberId: m.memberId, ...decodeSubscription(m.metadata ?? Buffer.alloc(0)) });
    const topics = new Set<string>();
    for (const m of members.values()) for (const t of m.topics) topics.add(t);
    const metadata = await this.options.metadata([...topics]);
    const plan = this.options.assignor(joined.memberId, members as never, topics, metadata);
    const byMember = new Map(plan.map((p) => [p.memberId, [...p.assignments.values()]]));
    // Every member gets an answer, an empty one when the assignor gave it nothing.
    return [...members.keys()].map((memberId) => ({ memberId, assignment: encodeAssignment(byMember.get(memberId) ?? []) }));
  }

  /**
   * From stable to joining: the partitions may move (onRebalance), or this member was dropped
   * (onLost, and a new member id).
   */
  #toJoining(reason: string, dropped: boolean, error?: Error): void {
    if (this.#state !== 'stable') return;
    clearTimeout(this.#heartbeatTimer);
    this.#state = 'joining';
    if (dropped) {
      this.#memberId = '';
      this.events.onLost(error ?? new Error(reason));
    } else {
      this.events.onRebalance();
    }
    void this.#joinLoop(reason);
  }

  // ---- heartbeats ----

  #scheduleHeartbeat(delayMs: number): void {
    clearTimeout(this.#heartbeatTimer);
    if (this.#state !== 'stable') return;
    this.#heartbeatTimer = setTimeout(() => void this.#heartbeat(), delayMs);
  }

  /** A commit was refused: the heartbeat says at once whether to rebalance or join anew. */
  #heartbeatNow(): void {
    if (this.#state === 'stable') this.#scheduleHeartbeat(0);
  }

  async #heartbeat(): Promise<void> {
    if (this.#state !== 'stable') return;
    const generationId = this.#generation;
    try {
      const at = await this.#findCoordinator();
      await this.protocol.heartbeat(at, { groupId: this.options.groupId, generationId, memberId: this.#memberId });
      if (this.#state !== 'stable' || generationId !== this.#generation) return;
      this.#answeredAt = Date.now();
      this.#scheduleHeartbeat(this.options.heartbeatIntervalMs);
      if (this.#silent) {
        // Still a member of the same generation: its partitions are its own again.
        this.#silent = false;
        this.options.logger.info({ generation: generationId }, 'the group answers again: same generation, going on');
        this.events.onJoin(this.#assignment!);
      }
    } catch (error) {
      if (this.#state !== 'stable' || generationId !== this.#generation) return;
      const code = codeOf(error);
      if (code !== undefined && REJOIN.has(code)) {
        this.options.logger.info({ generation: generationId, reason: (error as Error).message }, 'the group is rebalancing');
        this.#toJoining('rebalancing', false);
        return;
      }
      if (code !== undefined && DROPPED.has(code)) {
        this.options.logger.warn({ generation: generationId, memberId: this.#memberId, reason: (error as Error).message }, 'the group dropped this member; joining as a new one');
        this.#toJoining('dropped by the group', true, error as Error);
        return;
      }
      // The coordinator moved or cannot be reached: find it again; the membership stays.
      if (code === undefined || COORDINATOR_GONE.has(code)) this.#coordinator = undefined;
      const silentMs = Date.now() - this.#answeredAt;
      if (silentMs > this.options.sessionTimeoutMs && !this.#silent) {
        // The group may have dropped this member (or its coordinator is failing over, which restarts
        // every session): stop working the partitions (nothing sent, nothing committed) until the
        // group answers. Its answer decides: the same generation goes on, a rebalance or a drop rejoins.
        this.#silent = true;
        this.options.logger.warn({ silentMs, sessionTimeoutMs: this.options.sessionTimeoutMs, err: error }, 'the group has not answered this member for a session: holding its partitions until it does');
        this.events.onRebalance();
      }
      this.options.logger.debug({ err: error, silentMs }, 'heartbeat failed; finding the coordinator again');
      this.#scheduleHeartbeat(Math.min(this.options.heartbeatIntervalMs, 500));
    }
  }

  // ---- the coordinator ----

  /** The coordinator, looked up when unknown (one lookup at a time). */
  async #findCoordinator(): Promise<CoordinatorAddress> {
    if (this.#coordinator) return this.#coordinator;
    this.#finding ??= this.protocol.findCoordinator(this.options.groupId).finally(() => (this.#finding = undefined));
    const found = await this.#finding;
    if (found.nodeId !== this.#lastCoordinator) this.options.logger.info({ coordinator: found.nodeId, at: `${found.host}:${found.port}` }, 'group coordinator found');
    this.#lastCoordinator = found.nodeId;
    this.#coordinator = found;
    return found;
  }

  /** A request to the coordinator, finding it again (and retrying) when it moved or did not answer. */
  async #withCoordinator<T>(what: string, request: (at: CoordinatorAddress) => Promise<T>, attempts: number): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await request(await this.#findCoordinator());
      } catch (error) {
        const code = codeOf(error);
        const coordinatorIssue = code === undefined || COORDINATOR_GONE.has(code) || code === GroupErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
        if (!coordinatorIssue || attempt + 1 >= attempts || this.#stop.signal.aborted) throw error;
        if (code !== GroupErrorCode.COORDINATOR_LOAD_IN_PROGRESS) this.#coordinator = undefined;
        this.options.logger.debug({ err: error, attempt }, `${what}: the coordinator moved or did not answer; trying again`);
        await sleep(backoffDelay(attempt, { initialDelayMs: 100, maxDelayMs: 2000 }), undefined, { signal: this.#stop.signal }).catch(() => undefined);
      }
    }
  }
}

// ConsumerProtocolSubscription and ConsumerProtocolAssignment (version 0): what members send.

function encodeSubscription(topics: readonly string[], userData: Buffer): Buffer {
  return Writer.create()
    .appendInt16(0)
    .appendArray(topics as string[], (w, t) => w.appendString(t, false), false, false)
    .appendBytes(userData, false).buffer;
}

function decodeSubscription(buffer: Buffer): { version: number; topics: string[]; metadata: Buffer } {
  const reader = Reader.from(buffer);
  return { version: reader.readInt16(), topics: reader.readArray((r) => r.readString(false), false, false), metadata: reader.readBytes(false) };
}

function encodeAssignment(assignments: readonly { topic: string; partitions: number[] }[]): Buffer {
  return Writer.create()
    .appendInt16(0)
    .appendArray(assignments as { topic: string; partitions: number[] }[], (w, a) => w.appendString(a.topic, false).appendArray(a.partitions, (w2, p) => w2.appendInt32(p), false, false), false, false)
    .appendInt32(0).buffer;
}

function decodeAssignment(buffer: Buffer): { topic: string; partitions: number[] }[] {
  if (buffer.length < 6) return [];
  const reader = Reader.from(buffer);
  reader.skip(2);
  return reader.readArray((r) => ({ topic: r.readString(false), partitions: r.readArray((r2) => r2.readInt32(), false, false) }), false, false);
}
