import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterMetadata, ExtendedGroupProtocolSubscription, GroupPartitionsAssignments } from '@platformatic/kafka';
import { decodeMemberData, encodeMemberData, stickyAssigner, type MemberData } from '../../src/source/sticky-assignor.js';
import { seededRandom } from '../helpers/random.js';

// Random cases come from fixed seeds (seededRandom), so every run checks the same ones.

// ---- helpers ------------------------------------------------------------------------------------

function clusterMetadata(counts: Record<string, number>): ClusterMetadata {
  const topics = new Map(
    Object.entries(counts).map(([topic, partitionsCount]) => [
      topic,
      { id: `id-${topic}`, partitions: [], partitionsCount, lastUpdate: 0 },
    ]),
  );
  return { id: 'cluster', brokers: new Map(), controllerId: 1, topics, lastUpdate: 0 };
}

interface Spec {
  id: string;
  topics: string[];
  /** MemberData is encoded; a Buffer or null is passed as is (garbage, other clients, none). */
  data?: MemberData | Buffer | null;
}

function membersMap(specs: Spec[]): Map<string, ExtendedGroupProtocolSubscription> {
  return new Map(
    specs.map((s) => {
      const metadata = s.data === undefined || s.data === null ? Buffer.alloc(0) : Buffer.isBuffer(s.data) ? s.data : encodeMemberData(s.data);
      return [s.id, { memberId: s.id, version: 1, topics: s.topics, metadata }];
    }),
  );
}

function assign(specs: Spec[], counts: Record<string, number>, leaderTopics?: string[]): GroupPartitionsAssignments[] {
  return stickyAssigner(specs[0]!.id, membersMap(specs), new Set(leaderTopics ?? specs[0]!.topics), clusterMetadata(counts));
}

/** member id -> topic -> partitions */
type Layout = Record<string, Record<string, number[]>>;

function layout(result: GroupPartitionsAssignments[]): Layout {
  const out: Layout = {};
  for (const { memberId, assignments } of result) {
    out[memberId] = {};
    for (const [topic, a] of assignments) {
      assert.equal(a.topic, topic);
      out[memberId][topic] = a.partitions;
    }
  }
  return out;
}

function loadOf(l: Layout, id: string): number {
  return Object.values(l[id] ?? {}).reduce((n, ps) => n + ps.length, 0);
}

/** The member data a member would advertise after receiving `l` at `generation`. */
function dataFrom(l: Layout, id: string, generation: number, partitionCounts: Record<string, number> = {}): MemberData {
  return { generation, owned: Object.entries(l[id] ?? {}).map(([topic, partitions]) => ({ topic, partitions })), partitionCounts };
}

function owned(generation: number, owned: Record<string, number[]>, partitionCounts: Record<string, number> = {}): MemberData {
  return { generation, owned: Object.entries(owned).map(([topic, partitions]) => ({ topic, partitions })), partitionCounts };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/**
 * Written independently of the module: the previous owner of each partition (valid claims only, higher
 * generation wins, then the smaller member id), as "topic/partition" -> member id.
 */
function winningClaims(specs: Spec[], counts: Map<string, number>): Map<string, string> {
  const best = new Map<string, { id: string; generation: number }>();
  for (const s of specs) {
    const data = s.data && !Buffer.isBuffer(s.data) ? s.data : undefined;
    if (!data) continue;
    for (const { topic, partitions } of data.owned) {
      if (!s.topics.includes(topic)) continue;
      for (const p of partitions) {
        if (p >= (counts.get(topic) ?? 0)) continue;
        const key = `${topic}/${p}`;
        const cur = best.get(key);
        if (!cur || data.generation > cur.generation || (data.generation === cur.generation && s.id < cur.id)) {
          best.set(key, { id: s.id, generation: data.generation });
        }
      }
    }
  }
  return new Map([...best].map(([k, v]) => [k, v.id]));
}

function effectiveCounts(specs: Spec[], metaCounts: Record<string, number>): Map<string, number> {
  const topics = new Set(specs.flatMap((s) => s.topics));
  const counts = new Map<string, number>();
  for (const t of topics) {
    let c = metaCounts[t] ?? 0;
    for (const s of specs) {
      const data = s.data && !Buffer.isBuffer(s.data) ? s.data : undefined;
      if (data && Object.hasOwn(data.partitionCounts, t)) c = Math.max(c, data.partitionCounts[t]!);
    }
    counts.set(t, c);
  }
  return counts;
}

function ownerMap(l: Layout): Map<string, string> {
  const m = new Map<string, string>();
  for (const [id, topics] of Object.entries(l)) {
    for (const [t, ps] of Object.entries(topics)) {
      for (const p of ps) {
        assert.ok(!m.has(`${t}/${p}`), `${t}/${p} assigned twice`);
        m.set(`${t}/${p}`, id);
      }
    }
  }
  return m;
}

function movedCount(claims: Map<string, string>, l: Layout): number {
  const owners = ownerMap(l);
  let moved = 0;
  for (const [key, id] of claims) if (owners.get(key) !== id) moved++;
  return moved;
}

/** Every partition of every subscribed topic exactly once, to a subscriber, nothing beyond the counts. */
function assertValid(specs: Spec[], counts: Map<string, number>, result: GroupPartitionsAssignments[]): Layout {
  assert.deepEqual(
    result.map((r) => r.memberId),
    specs.map((s) => s.id).sort(),
    'one entry per member, sorted by id',
  );
  const l = layout(result);
  const owners = ownerMap(l);
  const subs = new Map(specs.map((s) => [s.id, new Set(s.topics)]));
  for (const [id, topics] of Object.entries(l)) {
    for (const [t, ps] of Object.entries(topics)) {
      assert.ok(subs.get(id)!.has(t), `${id} got ${t} without subscribing`);
      assert.ok(ps.length > 0, 'no empty topic entries');
      assert.deepEqual(ps, [...ps].sort((a, b) => a - b), 'partitions ascending');
    }
  }
  let expected = 0;
  for (const [t, n] of counts) {
    for (let p = 0; p < n; p++) assert.ok(owners.has(`${t}/${p}`), `${t}/${p} unassigned`);
    expected += n;
  }
  assert.equal(owners.size, expected, 'no partition beyond the partition counts');
  return l;
}

/** No chain of single-partition moves can shift load from a member to one with >= 2 fewer partitions. */
function assertNoImprovingChain(specs: Spec[], l: Layout): void {
  const subs = new Map(specs.map((s) => [s.id, new Set(s.topics)]));
  for (const start of specs) {
    const seen = new Set([start.id]);
    const queue = [start.id];
    while (queue.length > 0) {
      const u = queue.shift()!;
      for (const t of Object.keys(l[u] ?? {})) {
        for (const v of specs) {
          if (seen.has(v.id) || !subs.get(v.id)!.has(t)) continue;
          seen.add(v.id);
          queue.push(v.id);
          assert.ok(
            loadOf(l, v.id) >= loadOf(l, start.id) - 1,
            `load could move from ${start.id} (${loadOf(l, start.id)}) to ${v.id} (${loadOf(l, v.id)})`,
          );
        }
      }
    }
  }
}

// ---- tests --------------------------------------------------------------------------------------

describe('sticky assignor member data', () => {
  it('round-trips and normalises (merged topics, sorted unique partitions)', () => {
    const data: MemberData = {
      generation: 7,
      owned: [
        { topic: 'orders', partitions: [0, 2, 5] },
        { topic: 'users', partitions: [1] },
      ],
      partitionCounts: { orders: 6, users: 3 },
    };
    assert.deepEqual(decodeMemberData(encodeMemberData(data)), data);
    const messy: MemberData = {
      generation: 1,
      owned: [
        { topic: 'b', partitions: [3, 1, 3] },
        { topic: 'a', partitions: [] },
        { topic: 'b', partitions: [0] },
      ],
      partitionCounts: { b: 4, __proto__x: 1 },
    };
    assert.deepEqual(decodeMemberData(encodeMemberData(messy)), {
      generation: 1,
      owned: [
        { topic: 'a', partitions: [] },
        { topic: 'b', partitions: [0, 1, 3] },
      ],
      partitionCounts: { __proto__x: 1, b: 4 },
    });
    // "__proto__" is a legal Kafka topic name and must stay a plain key.
    const proto = decodeMemberData(encodeMemberData({ generation: 0, owned: [], partitionCounts: JSON.parse('{"__proto__": 3}') as Record<string, number> }));
    assert.equal(Object.getPrototypeOf(proto?.partitionCounts), Object.prototype);
    assert.ok(proto && Object.hasOwn(proto.partitionCounts, '__proto__'));
    assert.equal(proto.partitionCounts['__proto__'], 3);
  });

  it('decodes garbage, empty and foreign userData to undefined, never throws', () => {
    const valid = encodeMemberData({ generation: 3, owned: [{ topic: 't', partitions: [0, 1] }], partitionCounts: { t: 2 } });
    const header = valid.subarray(0, 5);
    const withHeader = (json: string) => Buffer.concat([header, Buffer.from(json)]);
    const bad: (Buffer | null | undefined)[] = [
      undefined,
      null,
      Buffer.alloc(0),
      Buffer.from('K2ES'),
      header,
      Buffer.from('{"generation":1,"owned":[],"partitionCounts":{}}'), // no magic
      Buffer.concat([Buffer.from('K2ES'), Buffer.of(2), valid.subarray(5)]), // unknown version
      Buffer.of(0, 0, 0, 1, 0, 1, 0x74, 0, 0, 0, 1, 0, 0, 0, 0), // Java StickyAssignor-style userData
      withHeader('{'),
      withHeader('null'),
      withHeader('[]'),
      withHeader('{"generation":1}'),
      withHeader('{"generation":1.5,"owned":[],"partitionCounts":{}}'),
      withHeader('{"generation":"1","owned":[],"partitionCounts":{}}'),
      withHeader('{"generation":1,"owned":[{"topic":"t","partitions":[-1]}],"partitionCounts":{}}'),
      withHeader('{"generation":1,"owned":[{"topic":"t","partitions":[2147483648]}],"partitionCounts":{}}'),
      withHeader('{"generation":1,"owned":[{"topic":"","partitions":[]}],"partitionCounts":{}}'),
      withHeader('{"generation":1,"owned":[{"topic":"t"}],"partitionCounts":{}}'),
      withHeader('{"generation":1,"owned":[],"partitionCounts":{"t":-1}}'),
      withHeader('{"generation":1,"owned":[],"partitionCounts":[]}'),
      Buffer.concat([header, Buffer.of(0xff, 0xfe)]), // invalid UTF-8
    ];
    for (const b of bad) assert.equal(decodeMemberData(b), undefined, String(b?.toString('hex')));
    // Every truncation of a valid encoding is rejected.
    for (let n = 0; n < valid.length; n++) assert.equal(decodeMemberData(valid.subarray(0, n)), undefined);
    // Random bytes, with and without a valid header.
    const random = seededRandom(42);
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.from(Array.from({ length: random.int(0, 63) }, () => random.int(0, 255)));
      assert.equal(decodeMemberData(bytes), undefined);
      assert.doesNotThrow(() => decodeMemberData(Buffer.concat([header, bytes])));
    }
  });

  it('refuses to encode data it could not decode', () => {
    assert.throws(() => encodeMemberData({ generation: 1, owned: [{ topic: 't', partitions: [-1] }], partitionCounts: {} }), TypeError);
    assert.throws(() => encodeMemberData({ generation: 1.5, owned: [], partitionCounts: {} }), TypeError);
  });
});

describe('stickyAssigner', () => {
  it('fresh group: balanced in total and per topic', () => {
    const specs: Spec[] = ['c', 'a', 'b'].map((id) => ({ id, topics: ['orders', 'users'] }));
    const counts = { orders: 6, users: 4 };
    const l = assertValid(specs, effectiveCounts(specs, counts), assign(specs, counts));
    assert.deepEqual(['a', 'b', 'c'].map((id) => loadOf(l, id)).sort(), [3, 3, 4]);
    assert.deepEqual(['a', 'b', 'c'].map((id) => l[id]!['orders']!.length), [2, 2, 2]);
    assert.deepEqual(['a', 'b', 'c'].map((id) => l[id]!['users']!.length).sort(), [1, 1, 2]);

    // Any size: totals and every topic's per-member counts differ by at most 1.
    const random = seededRandom(3);
    for (let c = 0; c < 100; c++) {
      const topics = range(0, random.int(1, 4)).map((i) => `t${i}`);
      const sizes = Object.fromEntries(topics.map((t) => [t, random.int(0, 19)]));
      const group: Spec[] = range(0, random.int(2, 9)).map((i) => ({ id: `m${i}`, topics }));
      const fresh = assertValid(group, effectiveCounts(group, sizes), assign(group, sizes));
      const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
      assert.ok(spread(group.map((m) => loadOf(fresh, m.id))) <= 1);
      for (const t of topics) assert.ok(spread(group.map((m) => fresh[m.id]![t]?.length ?? 0)) <= 1, `case ${c}, ${t}`);
    }
  });

  it('a member joins: only the partitions balance needs move', () => {
    const before: Layout = { a: { t: [0, 1, 2, 3] }, b: { t: [4, 5, 6, 7] }, c: { t: [8, 9, 10, 11] } };
    const specs: Spec[] = [
      ...['a', 'b', 'c'].map((id) => ({ id, topics: ['t'], data: dataFrom(before, id, 5) })),
      { id: 'd', topics: ['t'] },
    ];
    const l = assertValid(specs, new Map([['t', 12]]), assign(specs, { t: 12 }));
    assert.equal(movedCount(winningClaims(specs, new Map([['t', 12]])), l), 3, 'each old member gives up one');
    for (const id of ['a', 'b', 'c']) {
      assert.equal(loadOf(l, id), 3);
      assert.ok(l[id]!['t']!.every((p) => before[id]!['t']!.includes(p)), `${id} keeps only its own`);
    }
    assert.equal(loadOf(l, 'd'), 3);

    // Two topics, the old members hold uneven per-topic shares: still exactly the necessary moves.
    const before2: Layout = { a: { x: [0, 1, 2], y: [0, 1, 2] }, b: { x: [3, 4, 5], y: [3, 4, 5] } };
    const specs2: Spec[] = [
      { id: 'a', topics: ['x', 'y'], data: dataFrom(before2, 'a', 9) },
      { id: 'b', topics: ['x', 'y'], data: dataFrom(before2, 'b', 9) },
      { id: 'c', topics: ['x', 'y'], data: null },
    ];
    const counts2 = new Map([['x', 6], ['y', 6]]);
    const l2 = assertValid(specs2, counts2, assign(specs2, { x: 6, y: 6 }));
    assert.equal(movedCount(winningClaims(specs2, counts2), l2), 4);
    assert.deepEqual(['a', 'b', 'c'].map((id) => loadOf(l2, id)), [4, 4, 4]);
    // The spread objective hands the newcomer 2 of each topic.
    assert.deepEqual([l2['c']!['x']!.length, l2['c']!['y']!.length], [2, 2]);
  });

  it('a member leaves: the others keep everything and split its partitions', () => {
    const before: Layout = { a: { t: [0, 3, 6, 9] }, b: { t: [1, 4, 7, 10] }, c: { t: [2, 5, 8, 11] } };
    const specs: Spec[] = ['a', 'b'].map((id) => ({ id, topics: ['t'], data: dataFrom(before, id, 4) }));
    const l = assertValid(specs, new Map([['t', 12]]), assign(specs, { t: 12 }));
    assert.equal(movedCount(winningClaims(specs, new Map([['t', 12]])), l), 0);
    for (const id of ['a', 'b']) {
      assert.equal(loadOf(l, id), 6);
      assert.ok(before[id]!['t']!.every((p) => l[id]!['t']!.includes(p)));
    }
  });

  it('partitions added at runtime: the highest count anyone saw, never more', () => {
    // The leader's metadata still says 4; member b already saw 6.
    const specs: Spec[] = [
      { id: 'a', topics: ['t'], data: owned(2, { t: [0, 1] }, { t: 4 }) },
      { id: 'b', topics: ['t'], data: owned(2, { t: [2, 3] }, { t: 6 }) },
    ];
    const l = assertValid(specs, new Map([['t', 6]]), assign(specs, { t: 4 }));
    assert.deepEqual(l, { a: { t: [0, 1, 4] }, b: { t: [2, 3, 5] } });

    // Metadata fresher than every member: metadata wins.
    const l2 = assertValid(specs, new Map([['t', 8]]), assign(specs, { t: 8 }));
    assert.deepEqual(l2, { a: { t: [0, 1, 4, 6] }, b: { t: [2, 3, 5, 7] } });

    // A topic missing from the leader's metadata is assigned from what members saw; one nobody saw is not.
    const specs3: Spec[] = [
      { id: 'a', topics: ['t', 'new', 'unknown'], data: owned(1, {}, { new: 2 }) },
      { id: 'b', topics: ['t', 'new', 'unknown'] },
    ];
    const l3 = assertValid(specs3, new Map([['t', 2], ['new', 2], ['unknown', 0]]), assign(specs3, { t: 2 }));
    assert.deepEqual(l3, { a: { new: [0], t: [0] }, b: { new: [1], t: [1] } });

    // Claims beyond the count (a topic recreated with fewer partitions) are ignored.
    const specs4: Spec[] = [
      { id: 'a', topics: ['t'], data: owned(1, { t: [5, 6, 7] }) },
      { id: 'b', topics: ['t'], data: owned(1, { t: [0, 1] }) },
    ];
    assert.deepEqual(assertValid(specs4, new Map([['t', 4]]), assign(specs4, { t: 4 })), { a: { t: [2, 3] }, b: { t: [0, 1] } });
  });

  it('conflicting claims: the higher generation wins, then the smaller member id', () => {
    // b was fenced at generation 6 and rejoins with its old claims on everything.
    const specs: Spec[] = [
      { id: 'a', topics: ['t'], data: owned(7, { t: [0, 1, 2] }) },
      { id: 'b', topics: ['t'], data: owned(6, { t: range(0, 9) }) },
      { id: 'c', topics: ['t'], data: owned(7, { t: [3, 4, 5] }) },
    ];
    assert.deepEqual(assertValid(specs, new Map([['t', 9]]), assign(specs, { t: 9 })), {
      a: { t: [0, 1, 2] },
      b: { t: [6, 7, 8] },
      c: { t: [3, 4, 5] },
    });

    const m3: Spec = { id: 'm3', topics: ['t'] };
    const tie: Spec[] = [
      { id: 'm1', topics: ['t'], data: owned(3, { t: [0, 1] }) },
      { id: 'm2', topics: ['t'], data: owned(3, { t: [1, 2] }) },
      m3,
    ];
    assert.deepEqual(layout(assign(tie, { t: 4 })), { m1: { t: [0, 1] }, m2: { t: [2] }, m3: { t: [3] } });
    const tieReversed: Spec[] = [
      { id: 'm1', topics: ['t'], data: owned(3, { t: [1, 2] }) },
      { id: 'm2', topics: ['t'], data: owned(3, { t: [0, 1] }) },
      m3,
    ];
    assert.deepEqual(layout(assign(tieReversed, { t: 4 })), { m1: { t: [1, 2] }, m2: { t: [0] }, m3: { t: [3] } });
    const newer: Spec[] = [
      { id: 'm1', topics: ['t'], data: owned(3, { t: [1, 2] }) },
      { id: 'm2', topics: ['t'], data: owned(4, { t: [0, 1] }) },
      m3,
    ];
    assert.deepEqual(layout(assign(newer, { t: 4 })), { m1: { t: [2] }, m2: { t: [0, 1] }, m3: { t: [3] } });
  });

  it('members without decodable userData are treated as new members', () => {
    const specs: Spec[] = [
      { id: 'a', topics: ['t'], data: owned(2, { t: range(0, 6) }) },
      { id: 'b', topics: ['t'], data: Buffer.from('not ours') },
      { id: 'c', topics: ['t'], data: null },
      { id: 'd', topics: ['t'], data: Buffer.of(0, 0, 0, 0) },
    ];
    const counts = new Map([['t', 6]]);
    const l = assertValid(specs, counts, assign(specs, { t: 6 }));
    assert.deepEqual(['a', 'b', 'c', 'd'].map((id) => loadOf(l, id)).sort(), [1, 1, 2, 2]);
    assert.equal(loadOf(l, 'a'), 2, 'a keeps one of the two larger shares');
    assert.equal(movedCount(winningClaims(specs, counts), l), 4);
  });

  it('different subscriptions: only subscribed topics, as balanced as the subscriptions allow', () => {
    const specs: Spec[] = [
      { id: 'a', topics: ['orders'] },
      { id: 'b', topics: ['orders', 'users'] },
      { id: 'c', topics: ['users'] },
    ];
    const counts = { orders: 4, users: 4 };
    const l = assertValid(specs, effectiveCounts(specs, counts), assign(specs, counts, ['orders']));
    assert.deepEqual(['a', 'b', 'c'].map((id) => loadOf(l, id)).sort(), [2, 3, 3]);
    assertNoImprovingChain(specs, l);

    // The bound is the subscriptions': only a can take "big".
    const skewed: Spec[] = [
      { id: 'a', topics: ['big', 'small'] },
      { id: 'b', topics: ['small'] },
    ];
    assert.deepEqual(layout(assign(skewed, { big: 10, small: 1 })), { a: { big: range(0, 10) }, b: { small: [0] } });

    // A topic only a non-leader subscribes to is assigned too (the leader's `topics` set lacks it).
    const mixed: Spec[] = [
      { id: 'leader', topics: ['orders'] },
      { id: 'other', topics: ['orders', 'audit'] },
    ];
    const l3 = assertValid(mixed, new Map([['orders', 2], ['audit', 2]]), assign(mixed, { orders: 2, audit: 2 }));
    assert.deepEqual(l3, { leader: { orders: [0, 1] }, other: { audit: [0, 1] } });
  });

  it('is deterministic: the members Map order does not matter', () => {
    const random = seededRandom(7);
    const specs: Spec[] = [];
    for (let i = 0; i < 9; i++) {
      const topics = ['x', 'y', 'z'].filter(() => random.next() < 0.8);
      const data = random.next() < 0.7 ? owned(random.int(1, 3), { x: [i, i + 9], y: [i % 5], z: [] }) : null;
      specs.push({ id: `member-${(i * 7919) % 23}`, topics: topics.length > 0 ? topics : ['x'], data });
    }
    const counts = { x: 20, y: 7, z: 13 };
    const expected = assign(specs, counts);
    for (let i = 0; i < 20; i++) {
      const shuffled = random.shuffle(specs);
      assert.deepEqual(assign(shuffled, counts), expected);
    }
  });

  it('is stable: feeding an assignment back moves nothing', () => {
    const specs: Spec[] = ['a', 'b', 'c'].map((id) => ({ id, topics: ['x', 'y'] }));
    const first = layout(assign(specs, { x: 5, y: 3 }));
    const again = specs.map((s) => ({ ...s, data: dataFrom(first, s.id, 2) }));
    assert.deepEqual(layout(assign(again, { x: 5, y: 3 })), first);
  });

  it('handles a large group', (t) => {
    const topics = range(0, 8).map((i) => `topic-${i}`);
    const counts = Object.fromEntries(topics.map((tp) => [tp, 128]));
    const ids = range(0, 40).map((i) => `consumer-${i}`);
    const started = performance.now();
    const first = layout(assign(ids.map((id) => ({ id, topics })), counts));
    const fresh = performance.now() - started;
    const specs: Spec[] = [...ids.map((id) => ({ id, topics, data: dataFrom(first, id, 1) })), { id: 'consumer-new', topics }];
    const started2 = performance.now();
    const result = assign(specs, counts);
    const rejoin = performance.now() - started2;
    const effective = effectiveCounts(specs, counts);
    const l = assertValid(specs, effective, result);
    // 1024 partitions over 41 members: 40 members keep 25 each, the newcomer takes 24 (one from 24 members).
    assert.equal(movedCount(winningClaims(specs, effective), l), 24);
    t.diagnostic(`1024 partitions, 40 members: fresh ${fresh.toFixed(0)} ms; 41 members, one new: ${rejoin.toFixed(0)} ms`);
  });

  it('random groups: each partition once, balanced, and no more moves than needed', (t) => {
    const random = seededRandom(20240601);
    const int = random.int;
    let oracleChecked = 0;
    let homogeneousChecked = 0;
    for (let c = 0; c < 500; c++) {
      const homogeneous = c % 2 === 0;
      const topicNames = range(0, homogeneous ? int(1, 4) : int(2, 3)).map((i) => `t${i}`);
      const metaCounts: Record<string, number> = {};
      for (const t of topicNames) metaCounts[t] = homogeneous ? int(1, 12) : int(1, 3);
      const memberCount = homogeneous ? int(2, 7) : int(2, 4);
      const pool = range(0, memberCount + 3).map((i) => `m${int(0, 99)}-${i}`);
      const ids = random.shuffle(pool).slice(0, memberCount);
      const departed = pool.filter((id) => !ids.includes(id));
      const allTopicsOf = () => (homogeneous ? topicNames : topicNames.filter(() => random.next() < 0.6));

      // Previous state: an earlier assignment of a partly different group, some members stale or
      // without userData, some claims invalid (unsubscribed topic, partition beyond the count).
      const prevIds = [...ids.filter(() => random.next() < 0.8), ...departed.filter(() => random.next() < 0.5)];
      const prevCounts = Object.fromEntries(topicNames.map((t) => [t, Math.max(1, metaCounts[t]! - int(0, 1))]));
      const prevSpecs: Spec[] = (prevIds.length > 0 ? prevIds : [ids[0]!]).map((id) => ({ id, topics: topicNames }));
      const prev = prevSpecs.length > 1 ? layout(assign(prevSpecs, prevCounts)) : { [prevSpecs[0]!.id]: Object.fromEntries(topicNames.map((t) => [t, range(0, prevCounts[t]!)])) };
      const generation = int(2, 20);
      const subscriptions = ids.map(() => {
        const topics = allTopicsOf();
        return topics.length > 0 ? topics : [topicNames[int(0, topicNames.length - 1)]!];
      });
      // Odd cases have at least two different subscriptions.
      if (!homogeneous && subscriptions.every((t) => t.join() === subscriptions[0]!.join())) {
        subscriptions[0] = subscriptions[0]!.length > 1 ? subscriptions[0]!.slice(1) : topicNames.filter((t) => t !== subscriptions[0]![0]);
      }
      const specs: Spec[] = ids.map((id, i) => {
        const topics = subscriptions[i]!;
        const roll = random.next();
        const advertised = Object.fromEntries(topicNames.filter(() => random.next() < 0.3).map((t) => [t, metaCounts[t]! + int(0, 2)]));
        let data: Spec['data'];
        if (roll < 0.1) data = null;
        else if (roll < 0.15) data = Buffer.from([int(0, 255), int(0, 255), int(0, 255)]);
        else if (roll < 0.3) {
          // Stale or arbitrary claims, possibly overlapping others.
          const claims = Object.fromEntries(topicNames.map((t) => [t, range(0, metaCounts[t]! + 2).filter(() => random.next() < 0.4)]));
          data = owned(generation - int(0, 2), claims, advertised);
        } else data = dataFrom(prev, id, generation, advertised);
        return { id, topics, data };
      });

      const counts = effectiveCounts(specs, metaCounts);
      const result = assign(random.shuffle(specs), metaCounts);
      const l = assertValid(specs, counts, result);
      assertNoImprovingChain(specs, l);
      const claims = winningClaims(specs, counts);
      const moved = movedCount(claims, l);
      const sameSubs = specs.every((s) => s.topics.join() === specs[0]!.topics.join());

      if (sameSubs) {
        // Closed form: loads q or q+1; a member can keep min(claims, q), and r members one more.
        const loads = specs.map((s) => loadOf(l, s.id));
        assert.ok(Math.max(...loads) - Math.min(...loads) <= 1, `case ${c}: loads ${loads.join()}`);
        const total = [...counts.values()].reduce((a, b) => a + b, 0);
        const q = Math.floor(total / specs.length);
        const r = total % specs.length;
        const claimsOf = specs.map((s) => [...claims.values()].filter((id) => id === s.id).length);
        const keepMax = claimsOf.reduce((n, k) => n + Math.min(k, q), 0) + Math.min(r, claimsOf.filter((k) => k > q).length);
        assert.equal(moved, claims.size - keepMax, `case ${c}: moved ${moved}, needed ${claims.size - keepMax}`);
        homogeneousChecked++;
      } else {
        // Brute force over every valid assignment: (Σ load², moves) must be the minimum, and the
        // largest (smallest) load the lowest (highest) possible.
        const best = bruteForce(specs, counts, claims);
        if (best) {
          const loads = specs.map((s) => loadOf(l, s.id));
          const sumSq = loads.reduce((n, x) => n + x * x, 0);
          assert.deepEqual([sumSq, moved, Math.max(...loads), Math.min(...loads)], best, `case ${c}`);
          oracleChecked++;
        }
      }

      // Feeding the result back moves nothing.
      const again = specs.map((s) => ({ ...s, data: dataFrom(l, s.id, generation + 1, Object.fromEntries(counts)) }));
      assert.deepEqual(layout(assign(again, metaCounts)), l, `case ${c}: not stable`);
    }
    t.diagnostic(`${homogeneousChecked} cases with one subscription, ${oracleChecked} with several checked by brute force`);
    assert.equal(homogeneousChecked, 250);
    assert.ok(oracleChecked >= 225, `${oracleChecked} cases checked by brute force`);
  });
});

/**
 * Over all valid assignments: the minimum [Σ load², moves] (moves counted among the Σ load² minima),
 * the lowest maximum load and the highest minimum load. Undefined when there are too many to try.
 */
function bruteForce(specs: Spec[], counts: Map<string, number>, claims: Map<string, string>): [number, number, number, number] | undefined {
  const partitions: { key: string; subscribers: number[] }[] = [];
  for (const [t, n] of counts) {
    const subscribers = specs.flatMap((s, i) => (s.topics.includes(t) ? [i] : []));
    if (subscribers.length === 0) continue;
    for (let p = 0; p < n; p++) partitions.push({ key: `${t}/${p}`, subscribers });
  }
  if (partitions.reduce((n, p) => n * p.subscribers.length, 1) > 50_000) return undefined;
  const loads = specs.map(() => 0);
  let best: [number, number] = [Infinity, Infinity];
  let lowestMax = Infinity;
  let highestMin = -Infinity;
  const visit = (i: number, moves: number) => {
    if (i === partitions.length) {
      const sumSq = loads.reduce((n, x) => n + x * x, 0);
      if (sumSq < best[0] || (sumSq === best[0] && moves < best[1])) best = [sumSq, moves];
      lowestMax = Math.min(lowestMax, Math.max(...loads));
      highestMin = Math.max(highestMin, Math.min(...loads));
      return;
    }
    const { key, subscribers } = partitions[i]!;
    const owner = claims.get(key);
    for (const m of subscribers) {
      loads[m]!++;
      visit(i + 1, moves + (owner !== undefined && owner !== specs[m]!.id ? 1 : 0));
      loads[m]!--;
    }
  };
  visit(0, 0);
  return [...best, lowestMax, highestMin];
}
