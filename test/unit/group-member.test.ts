// The group member's state machine against a scripted coordinator: what each group error means, and
// that a coordinator that moves costs no rejoin.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterMetadata } from '@platformatic/kafka';
import { type GroupAssignment, GroupMember, RebalanceNeededError } from '../../src/source/group/group-member.js';
import { type CoordinatorAddress, GroupErrorCode, type GroupProtocol, GroupRequestError, type JoinedGroup, type OffsetToCommit } from '../../src/source/group/group-protocol.js';
import { stickyAssigner } from '../../src/source/sticky-assignor.js';
import { createLogger } from '../../src/util/logger.js';

type Answer<T> = T | Error | undefined | (() => T | Error | undefined | Promise<T | Error>);

/** A coordinator that answers from scripts (queues); with no script left, it answers normally. */
class ScriptedGroup implements GroupProtocol {
  readonly calls: string[] = [];
  coordinator: CoordinatorAddress = { nodeId: 1, host: 'b1', port: 1 };
  generation = 1;
  readonly find: Answer<CoordinatorAddress>[] = [];
  readonly joins: Answer<JoinedGroup>[] = [];
  readonly heartbeats: Answer<void>[] = [];
  readonly commits: Answer<void>[] = [];
  readonly committedOffsets: OffsetToCommit[][] = [];
  joinedWith: string[] = [];

  async #answer<T>(queue: Answer<T>[], otherwise: () => T | Error | undefined): Promise<T> {
    const next = queue.shift();
    const value = next === undefined ? otherwise() : typeof next === 'function' ? await (next as () => T | Error | undefined | Promise<T | Error>)() : next;
    if (value instanceof Error) throw value;
    return value as T;
  }

  findCoordinator(): Promise<CoordinatorAddress> {
    this.calls.push('find');
    return this.#answer(this.find, () => this.coordinator);
  }

  joinGroup(at: CoordinatorAddress, a: { memberId: string }): Promise<JoinedGroup> {
    this.calls.push(`join@${at.nodeId}`);
    this.joinedWith.push(a.memberId);
    return this.#answer(this.joins, () => {
      const memberId = a.memberId || 'member-new';
      return { generationId: this.generation, memberId, leader: memberId, protocolName: 'roundrobin', members: [{ memberId, metadata: subscription(['t']) }] };
    });
  }

  async syncGroup(at: CoordinatorAddress, a: { assignments: { memberId: string; assignment: Buffer }[]; memberId: string }): Promise<Buffer> {
    this.calls.push(`sync@${at.nodeId}`);
    return a.assignments.find((x) => x.memberId === a.memberId)?.assignment ?? Buffer.alloc(0);
  }

  heartbeat(at: CoordinatorAddress): Promise<void> {
    this.calls.push(`heartbeat@${at.nodeId}`);
    return this.#answer(this.heartbeats, () => (at.nodeId === this.coordinator.nodeId ? undefined : new GroupRequestError('Heartbeat', GroupErrorCode.NOT_COORDINATOR)));
  }

  async leaveGroup(at: CoordinatorAddress, a: { memberId: string }): Promise<void> {
    this.calls.push(`leave:${a.memberId}@${at.nodeId}`);
  }

  offsetCommit(at: CoordinatorAddress, a: { offsets: readonly OffsetToCommit[] }): Promise<void> {
    this.calls.push(`commit@${at.nodeId}`);
    return this.#answer(this.commits, () => {
      if (at.nodeId !== this.coordinator.nodeId) return new GroupRequestError('OffsetCommit', GroupErrorCode.NOT_COORDINATOR);
      this.committedOffsets.push([...a.offsets]);
      return undefined;
    });
  }

  async offsetFetch(): Promise<Map<string, bigint>> {
    return new Map();
  }

  async close(): Promise<void> {}
}

/** ConsumerProtocolSubscription v0 with these topics and no user data. */
function subscription(topics: string[]): Buffer {
  const parts = [Buffer.from([0, 0]), int32(topics.length)];
  for (const t of topics) parts.push(Buffer.from([0, t.length]), Buffer.from(t));
  parts.push(int32(0));
  return Buffer.concat(parts);
}
const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

const metadata = (): Promise<ClusterMetadata> =>
  Promise.resolve({ id: 'c', brokers: new Map(), controllerId: 1, lastUpdate: 0, topics: new Map([['t', { id: 'x', partitionsCount: 2, lastUpdate: 0, partitions: [0, 1].map(() => ({ leader: 1, leaderEpoch: 0, replicas: [1], isr: [1], offlineReplicas: [] })) }]]) } as ClusterMetadata);

function setup() {
  const group = new ScriptedGroup();
  const events: string[] = [];
  const joins: GroupAssignment[] = [];
  const member = new GroupMember(
    group,
    {
      groupId: 'g',
      sessionTimeoutMs: 300,
      rebalanceTimeoutMs: 1000,
      heartbeatIntervalMs: 20,
      protocol: () => ({ name: 'roundrobin', metadata: Buffer.alloc(0) }),
      topics: () => ['t'],
      assignor: stickyAssigner,
      metadata,
      retry: { initialDelayMs: 5, maxDelayMs: 20 },
      logger: createLogger(process.env.TEST_LOG ?? 'silent'),
    },
    {
      onRebalance: () => events.push('rebalance'),
      onJoin: (a) => {
        events.push(`join:${a.memberId}:${a.generation}`);
        joins.push(a);
      },
      onLost: (e) => events.push(`lost:${e.message.slice(0, 40)}`),
    },
  );
  return { group, events, joins, member };
}

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await sleep(2);
  }
}

describe('group member', () => {
  it('joins (MEMBER_ID_REQUIRED first, as KIP-394 asks), leads, and gets every partition', async () => {
    const { group, events, joins, member } = setup();
    group.joins.push(Object.assign(new GroupRequestError('JoinGroup', GroupErrorCode.MEMBER_ID_REQUIRED, 'member-a')));
    await member.start();
    assert.deepEqual(group.joinedWith, ['', 'member-a']);
    assert.deepEqual(events, ['join:member-a:1']);
    assert.deepEqual(joins[0]!.assignments, [{ topic: 't', partitions: [0, 1] }]);
    await member.leave();
    assert.ok(group.calls.includes('leave:member-a@1'));
  });

  it('a coordinator that moved is found again: heartbeats and commits go on with no rejoin', async () => {
    const { group, events, member } = setup();
    await member.start();
    await until(() => group.calls.filter((c) => c === 'heartbeat@1').length >= 2, 'heartbeats');
    group.coordinator = { nodeId: 2, host: 'b2', port: 2 };
    await until(() => group.calls.includes('heartbeat@2'), 'heartbeats at the new coordinator');
    await member.commit([{ topic: 't', partition: 0, offset: 5n }]);
    assert.equal(group.committedOffsets.length, 1);
    assert.deepEqual(events, ['join:member-new:1'], 'no rebalance, no lost membership');
    assert.equal(group.calls.filter((c) => c.startsWith('join')).length, 1);
    await member.leave();
  });

  it('REBALANCE_IN_PROGRESS: onRebalance, then join again with the same member id', async () => {
    const { group, events, member } = setup();
    await member.start();
    group.generation = 2;
    group.heartbeats.push(new GroupRequestError('Heartbeat', GroupErrorCode.REBALANCE_IN_PROGRESS));
    await until(() => events.length === 3, 'the rejoin');
    assert.deepEqual(events, ['join:member-new:1', 'rebalance', 'join:member-new:2']);
    assert.deepEqual(group.joinedWith, ['', 'member-new']);
    await member.leave();
  });

  it('UNKNOWN_MEMBER_ID: onLost, then join as a new member', async () => {
    const { group, events, member } = setup();
    await member.start();
    group.heartbeats.push(new GroupRequestError('Heartbeat', GroupErrorCode.UNKNOWN_MEMBER_ID));
    await until(() => events.length === 3, 'the new join');
    assert.match(events[1]!, /^lost:/);
    assert.deepEqual(group.joinedWith, ['', '']);
    await member.leave();
  });

  it('heartbeats unanswered for a session timeout: the partitions are held (onRebalance) until the group answers; the same generation goes on, no rejoin', async () => {
    const { group, events, member } = setup();
    await member.start();
    const down = (): Error => new Error('connect ECONNREFUSED');
    for (let i = 0; i < 1000; i++) group.heartbeats.push(down);
    await until(() => events.includes('rebalance'), 'the partitions held', 5000);
    assert.equal(member.silent, true);
    assert.equal(member.stable, false);
    group.heartbeats.length = 0; // the coordinator answers again (a failover restarted the sessions)
    await until(() => events.filter((e) => e.startsWith('join')).length === 2, 'the same generation handed over again');
    assert.deepEqual(events, ['join:member-new:1', 'rebalance', 'join:member-new:1']);
    assert.equal(group.calls.filter((c) => c.startsWith('join')).length, 1, 'no JoinGroup sent');
    assert.equal(member.silent, false);
    await member.leave();
  });

  it('after a silence, the group saying the member was dropped makes it join as a new one', async () => {
    const { group, events, member } = setup();
    await member.start();
    for (let i = 0; i < 1000; i++) group.heartbeats.push(() => new Error('connect ECONNREFUSED'));
    await until(() => member.silent, 'silent', 5000);
    group.heartbeats.length = 0;
    group.heartbeats.push(new GroupRequestError('Heartbeat', GroupErrorCode.UNKNOWN_MEMBER_ID));
    await until(() => events.some((e) => e.startsWith('lost:')) && events.at(-1)!.startsWith('join'), 'joined anew');
    assert.deepEqual(group.joinedWith, ['', '']);
    await member.leave();
  });

  it('a commit the group refuses for its generation is RebalanceNeededError, and the heartbeat learns why at once', async () => {
    const { group, events, member } = setup();
    await member.start();
    group.commits.push(new GroupRequestError('OffsetCommit', GroupErrorCode.ILLEGAL_GENERATION));
    group.heartbeats.push(new GroupRequestError('Heartbeat', GroupErrorCode.ILLEGAL_GENERATION));
    await assert.rejects(member.commit([{ topic: 't', partition: 0, offset: 1n }]), RebalanceNeededError);
    await until(() => events.includes('rebalance'), 'the rebalance');
    await member.leave();
  });

  it('leaving while the coordinator holds the join: the leave is sent and start() gives up', async () => {
    const { group, member } = setup();
    let release!: () => void;
    group.joins.push(Object.assign(new GroupRequestError('JoinGroup', GroupErrorCode.MEMBER_ID_REQUIRED, 'member-b')));
    group.joins.push(() => new Promise<JoinedGroup>((resolve) => (release = () => resolve({ generationId: 1, memberId: 'member-b', leader: 'other', protocolName: 'roundrobin', members: [] }))));
    const stop = new AbortController();
    const started = member.start(stop.signal);
    await until(() => group.joinedWith.length === 2, 'the held join');
    stop.abort();
    await started;
    await member.leave();
    assert.ok(group.calls.includes('leave:member-b@1'));
    release();
    await sleep(10);
    assert.ok(!group.calls.includes('sync@1'), 'a join answered after leaving goes no further');
  });
});
