// The classic consumer-group requests (FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
// OffsetCommit, OffsetFetch) as one small interface, and its implementation over @platformatic/kafka's
// own request writers and response parsers (the versions it negotiates with the brokers). Errors come
// back as GroupRequestError with the Kafka error code, or as whatever the connection threw (a network
// error): the member (group-member.ts) decides what each means. Nothing here retries or caches.
import { type Connection, ConnectionPool, type ConnectionOptions, type Consumer, kGetApi, kGetBootstrapConnection } from '@platformatic/kafka';

export interface CoordinatorAddress {
  nodeId: number;
  host: string;
  port: number;
}

export interface JoinedGroup {
  generationId: number;
  memberId: string;
  leader: string;
  protocolName: string | null;
  /** Every member's subscription: filled for the leader only. */
  members: { memberId: string; metadata: Buffer | null }[];
}

export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: bigint;
}

export interface GroupProtocol {
  findCoordinator(groupId: string): Promise<CoordinatorAddress>;
  joinGroup(at: CoordinatorAddress, args: { groupId: string; sessionTimeoutMs: number; rebalanceTimeoutMs: number; memberId: string; protocols: { name: string; metadata: Buffer }[]; reason: string }): Promise<JoinedGroup>;
  /** Returns this member's assignment, encoded (ConsumerProtocolAssignment). */
  syncGroup(at: CoordinatorAddress, args: { groupId: string; generationId: number; memberId: string; protocolName: string | null; assignments: { memberId: string; assignment: Buffer }[] }): Promise<Buffer>;
  heartbeat(at: CoordinatorAddress, args: { groupId: string; generationId: number; memberId: string }): Promise<void>;
  leaveGroup(at: CoordinatorAddress, args: { groupId: string; memberId: string; reason: string }): Promise<void>;
  offsetCommit(at: CoordinatorAddress, args: { groupId: string; generationId: number; memberId: string; offsets: readonly OffsetToCommit[] }): Promise<void>;
  /** The committed offset of each asked partition ("topic:partition" → offset; -1 when none). */
  offsetFetch(at: CoordinatorAddress, args: { groupId: string; topics: { topic: string; partitions: number[] }[] }): Promise<Map<string, bigint>>;
  close(): Promise<void>;
}

/** A group request answered with a Kafka error code. */
export class GroupRequestError extends Error {
  override name = 'GroupRequestError';
  constructor(
    readonly api: string,
    readonly code: number,
    /** JoinGroup's MEMBER_ID_REQUIRED carries the member id to join with. */
    readonly memberId?: string,
  ) {
    super(`${api} answered ${ERROR_NAMES[code] ?? 'error'} (${code})`);
  }
}

/** The codes the member acts on. */
export const GroupErrorCode = {
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  ILLEGAL_GENERATION: 22,
  UNKNOWN_MEMBER_ID: 25,
  REBALANCE_IN_PROGRESS: 27,
  MEMBER_ID_REQUIRED: 79,
  FENCED_INSTANCE_ID: 82,
} as const;

const ERROR_NAMES: Record<number, string> = Object.fromEntries(Object.entries(GroupErrorCode).map(([name, code]) => [code, name]));

/** The first Kafka error code in the client's ResponseError (or any error carrying one). */
function errorCodeOf(error: unknown): { code: number; memberId?: string } | undefined {
  const e = error as { apiCode?: unknown; errors?: unknown[]; response?: { memberId?: string } } | null;
  if (e === null || typeof e !== 'object') return undefined;
  if (typeof e.apiCode === 'number') return { code: e.apiCode, memberId: e.response?.memberId ?? undefined };
  for (const inner of e.errors ?? []) {
    const found = errorCodeOf(inner);
    if (found) return { ...found, memberId: found.memberId ?? e.response?.memberId ?? undefined };
  }
  return undefined;
}

type Callback<T> = (error: Error | null, result?: T) => void;
type Api = ((connection: Connection, ...args: unknown[]) => void) & { version: number };

/**
 * Over the client's request writers and parsers. `client` is a Consumer that never joins: it gives
 * the negotiated API versions and a connection to any broker (FindCoordinator); requests to the
 * coordinator go over this protocol's own connections, whose request timeout covers a JoinGroup the
 * coordinator holds for the whole rebalance timeout.
 */
export class KafkaGroupProtocol implements GroupProtocol {
  readonly #pool: ConnectionPool;
  readonly #clientId: string;
  readonly #options: ConnectionOptions;

  constructor(
    private readonly client: Consumer,
    connection: ConnectionOptions & { clientId: string },
    requestTimeoutMs: number,
  ) {
    const { clientId, ...options } = connection;
    this.#clientId = clientId;
    this.#options = options;
    this.#pool = new ConnectionPool(clientId, { ...options, requestTimeout: requestTimeoutMs } as ConnectionOptions);
  }

  async findCoordinator(groupId: string): Promise<CoordinatorAddress> {
    const connection = await new Promise<Connection>((resolve, reject) =>
      (this.client as unknown as { [kGetBootstrapConnection]: (cb: Callback<Connection>) => void })[kGetBootstrapConnection]((error, c) => (error || !c ? reject(error ?? new Error('no connection')) : resolve(c))),
    );
    const response = await this.#call<{ coordinators: { key: string; nodeId: number; host: string; port: number }[] }>('FindCoordinator', connection, 0, [groupId]);
    const found = response.coordinators.find((c) => c.key === groupId);
    if (!found || found.nodeId < 0) throw new GroupRequestError('FindCoordinator', GroupErrorCode.COORDINATOR_NOT_AVAILABLE);
    return { nodeId: found.nodeId, host: found.host, port: found.port };
  }

  async joinGroup(at: CoordinatorAddress, a: Parameters<GroupProtocol['joinGroup']>[1]): Promise<JoinedGroup> {
    const response = await this.#at<{ generationId: number; memberId: string | null; leader: string; protocolName: string | null; members: { memberId: string; metadata: Buffer | null }[] }>(
      at,
      'JoinGroup',
      a.groupId,
      a.sessionTimeoutMs,
      a.rebalanceTimeoutMs,
      a.memberId,
      null,
      'consumer',
      a.protocols,
      a.reason,
    );
    return { generationId: response.generationId, memberId: response.memberId ?? a.memberId, leader: response.leader, protocolName: response.protocolName, members: response.members };
  }

  async syncGroup(at: CoordinatorAddress, a: Parameters<GroupProtocol['syncGroup']>[1]): Promise<Buffer> {
    const response = await this.#at<{ assignment: Buffer }>(at, 'SyncGroup', a.groupId, a.generationId, a.memberId, null, 'consumer', a.protocolName, a.assignments);
    return response.assignment;
  }

  async heartbeat(at: CoordinatorAddress, a: Parameters<GroupProtocol['heartbeat']>[1]): Promise<void> {
    await this.#at(at, 'Heartbeat', a.groupId, a.generationId, a.memberId, null);
  }

  /**
   * Over a connection of its own: the broker answers one connection's requests in order, and a
   * JoinGroup the coordinator holds until every member rejoined (a crashed one: a whole session) would
   * hold the leave behind it. Leaving ends that JoinGroup too.
   */
  async leaveGroup(at: CoordinatorAddress, a: Parameters<GroupProtocol['leaveGroup']>[1]): Promise<void> {
    const pool = new ConnectionPool(`${this.#clientId}-leave`, this.#options);
    try {
      const connection = await new Promise<Connection>((resolve, reject) => pool.get({ host: at.host, port: at.port }, (error, c) => (error || !c ? reject(error ?? new Error('no connection')) : resolve(c))));
      await this.#call('LeaveGroup', connection, a.groupId, [{ memberId: a.memberId, groupInstanceId: null, reason: a.reason }]);
    } finally {
      await pool.close().catch(() => undefined);
    }
  }

  async offsetCommit(at: CoordinatorAddress, a: Parameters<GroupProtocol['offsetCommit']>[1]): Promise<void> {
    const topics = new Map<string, { name: string; partitions: { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; committedMetadata: null }[] }>();
    for (const o of a.offsets) {
      let entry = topics.get(o.topic);
      if (!entry) topics.set(o.topic, (entry = { name: o.topic, partitions: [] }));
      entry.partitions.push({ partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: -1, committedMetadata: null });
    }
    await this.#at(at, 'OffsetCommit', a.groupId, a.generationId, a.memberId, null, [...topics.values()]);
  }

  async offsetFetch(at: CoordinatorAddress, a: Parameters<GroupProtocol['offsetFetch']>[1]): Promise<Map<string, bigint>> {
    const topics = a.topics.map((t) => ({ name: t.topic, partitionIndexes: t.partitions }));
    const response = await this.#at<{ groups: { topics: { name: string; partitions: { partitionIndex: number; committedOffset: bigint }[] }[] }[] }>(
      at,
      'OffsetFetch',
      [{ groupId: a.groupId, memberId: null, memberEpoch: -1, topics }],
      false,
    );
    const offsets = new Map<string, bigint>();
    for (const group of response.groups) for (const t of group.topics) for (const p of t.partitions) offsets.set(`${t.name}:${p.partitionIndex}`, p.committedOffset);
    return offsets;
  }

  async close(): Promise<void> {
    await this.#pool.close().catch(() => undefined);
  }

  /** One request to the coordinator, over this protocol's own connection to it. */
  async #at<T>(at: CoordinatorAddress, api: string, ...args: unknown[]): Promise<T> {
    const connection = await new Promise<Connection>((resolve, reject) => this.#pool.get({ host: at.host, port: at.port }, (error, c) => (error || !c ? reject(error ?? new Error('no connection')) : resolve(c))));
    return this.#call<T>(api, connection, ...args);
  }

  #call<T>(name: string, connection: Connection, ...args: unknown[]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      (this.client as unknown as { [kGetApi]: (name: string, cb: Callback<Api>) => void })[kGetApi](name, (error, api) => {
        if (error || !api) {
          reject(error ?? new Error(`no ${name} API`));
          return;
        }
        api(connection, ...args, (requestError: Error | null, response?: T) => {
          if (requestError) {
            const coded = errorCodeOf(requestError);
            reject(coded ? new GroupRequestError(name, coded.code, coded.memberId) : requestError);
          } else resolve(response as T);
        });
      });
    });
  }
}
