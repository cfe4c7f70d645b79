// Sticky partition assignor for the classic consumer-group protocol. The protocol is eager: every
// rebalance revokes all partitions, so each partition that changes owner means redelivered records and
// a restarted partition worker. This assignor keeps partitions where they were as far as balance allows.
//
// Each member advertises, in its JoinGroup userData, what it owned and at which generation, plus the
// partition counts it has seen. The leader (and only the leader) runs `stickyAssigner`, which solves
// one small min-cost flow with a lexicographic objective:
//   1. balance: minimise Σ load(m)² over all valid assignments (each partition to exactly one member
//      subscribed to its topic). Equivalently: there is no chain m0 -> m1 -> ... -> mk in which each
//      member could hand one of its partitions to the next (the next subscribes to its topic) and
//      load(mk) <= load(m0) - 2. So members with the same subscriptions differ by at most 1 partition,
//      and when all members subscribe to the same topics, max - min <= 1. With different subscriptions
//      the loads are as even as the subscriptions permit (lowest possible maximum, highest possible
//      minimum), which can still be far apart: a topic only one member subscribes to goes entirely to it.
//   2. stickiness: among those, move as few partitions as possible. A partition moves when its
//      (winning) previous owner is still a member, still subscribes to the topic and no longer gets it.
//   3. spread: among those, minimise Σ count(topic, m)², so each topic is spread evenly over its
//      subscribers (a fresh group whose members share one subscription gets per-topic counts that differ
//      by at most 1, like round robin). Per topic this is a preference, not a guarantee.
// The result depends only on the content of the inputs (everything is sorted first, member ids by UTF-16
// code units, never by locale), so any leader computes the same assignment.
//
// Why one file of ~500 lines: it is one algorithm (keep, balance, place, order), each phase leaning on
// the invariants the one before established; split, the invariants would lose their place. Pure, and
// table-tested in test/unit/sticky-assignor.test.ts.
import type {
  ClusterMetadata,
  ExtendedGroupProtocolSubscription,
  GroupAssignment,
  GroupPartitionsAssigner,
  GroupPartitionsAssignments,
} from '@platformatic/kafka';

/** What a member advertises in its JoinGroup userData. */
export interface MemberData {
  /** Group generation at which the member received `owned`; the higher one wins conflicting claims. */
  generation: number;
  /** Partitions the member owned before this rebalance. */
  owned: { topic: string; partitions: number[] }[];
  /** Partition counts the member has seen, so a leader with stale metadata still assigns new partitions. */
  partitionCounts: Record<string, number>;
}

// "K2ES" + format version. The prefix lets other clients' userData (or none) decode to undefined.
const MAGIC = Buffer.from('K2ES', 'latin1');
const VERSION = 1;
const HEADER_BYTES = MAGIC.length + 1;
const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Encodes member data as magic + version byte + JSON. Throws on data that would not decode. */
export function encodeMemberData(data: MemberData): Buffer {
  const normalized = normalizeMemberData(data);
  if (normalized === undefined) throw new TypeError('invalid sticky assignor member data');
  const json = Buffer.from(JSON.stringify(normalized), 'utf8');
  return Buffer.concat([MAGIC, Buffer.of(VERSION), json]);
}

/** Decodes userData written by `encodeMemberData`; anything else (garbage, empty, other formats) is undefined. */
export function decodeMemberData(buffer: Buffer | null | undefined): MemberData | undefined {
  if (!buffer || buffer.length < HEADER_BYTES) return undefined;
  if (!buffer.subarray(0, MAGIC.length).equals(MAGIC) || buffer[MAGIC.length] !== VERSION) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(buffer.subarray(HEADER_BYTES)));
  } catch {
    return undefined;
  }
  return normalizeMemberData(parsed);
}

/** Validates untrusted data and returns a canonical copy (merged topics, sorted unique partitions). */
function normalizeMemberData(value: unknown): MemberData | undefined {
  if (!isPlainObject(value)) return undefined;
  const { generation, owned, partitionCounts } = value;
  if (!isInt(generation, INT32_MIN, INT32_MAX) || !Array.isArray(owned) || !isPlainObject(partitionCounts)) {
    return undefined;
  }
  const byTopic = new Map<string, Set<number>>();
  for (const entry of owned as unknown[]) {
    if (!isPlainObject(entry)) return undefined;
    const { topic, partitions } = entry;
    if (typeof topic !== 'string' || topic === '' || !Array.isArray(partitions)) return undefined;
    let set = byTopic.get(topic);
    if (!set) byTopic.set(topic, (set = new Set()));
    for (const p of partitions as unknown[]) {
      if (!isInt(p, 0, INT32_MAX)) return undefined;
      set.add(p);
    }
  }
  const counts: [string, number][] = [];
  for (const [topic, count] of Object.entries(partitionCounts)) {
    if (topic === '' || !isInt(count, 0, INT32_MAX)) return undefined;
    counts.push([topic, count]);
  }
  return {
    generation,
    owned: [...byTopic]
      .sort(([a], [b]) => compareIds(a, b))
      .map(([topic, set]) => ({ topic, partitions: [...set].sort((a, b) => a - b) })),
    // fromEntries defines own properties, so a topic named "__proto__" stays a plain key.
    partitionCounts: Object.fromEntries(counts.sort(([a], [b]) => compareIds(a, b))),
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isInt(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** Code-unit order: the same on every host, unlike localeCompare. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * `partitionAssigner` for the @platformatic/kafka consumer (classic protocol). Assigns every partition
 * of every topic some member subscribes to (the `topics` argument, the leader's own subscription, is
 * not used: it would leave topics only other members subscribe to unassigned).
 */
export const stickyAssigner: GroupPartitionsAssigner = (_currentMemberId, members, _topics, metadata) =>
  assignSticky(members, metadata);

interface MemberState {
  id: string;
  topics: Set<string>;
  data: MemberData | undefined;
}

function assignSticky(
  members: Map<string, ExtendedGroupProtocolSubscription>,
  metadata: ClusterMetadata,
): GroupPartitionsAssignments[] {
  const states: MemberState[] = [...members.entries()]
    .map(([id, m]): MemberState => {
      const userData = typeof m.metadata === 'string' ? Buffer.from(m.metadata) : m.metadata;
      return { id, topics: new Set(m.topics ?? []), data: decodeMemberData(userData) };
    })
    .sort((a, b) => compareIds(a.id, b.id));

  const topics = [...new Set(states.flatMap((s) => [...s.topics]))].sort(compareIds);

  // Partition count: the highest anyone saw. A member whose metadata is fresher than the leader's
  // cache lets the leader assign partitions added at runtime; nobody's view means nothing is assigned.
  const counts = new Map<string, number>();
  for (const topic of topics) {
    let count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    for (const s of states) {
      if (s.data && Object.hasOwn(s.data.partitionCounts, topic)) {
        count = Math.max(count, s.data.partitionCounts[topic] ?? 0);
      }
    }
    counts.set(topic, count);
  }

  // Previous owner of each partition. Only claims that are still valid count (the member subscribes to
  // the topic and the partition exists); of conflicting claims (a fenced member rejoining with old
  // userData) the higher generation wins, then the smaller member id.
  const owners = new Map<string, (number | undefined)[]>(); // topic -> partition -> member index
  for (const topic of topics) owners.set(topic, new Array<number | undefined>(counts.get(topic) ?? 0));
  for (let mi = 0; mi < states.length; mi++) {
    const s = states[mi]!;
    if (!s.data) continue;
    for (const { topic, partitions } of s.data.owned) {
      const byPartition = owners.get(topic);
      if (!byPartition || !s.topics.has(topic)) continue;
      for (const p of partitions) {
        if (p >= byPartition.length) continue;
        const current = byPartition[p];
        // States are sorted by id, so on equal generations the earlier (smaller id) claim stays.
        if (current === undefined || s.data.generation > states[current]!.data!.generation) byPartition[p] = mi;
      }
    }
  }

  const result = solve(states, topics, counts, owners);
  return states.map((s, mi) => {
    const assignments = new Map<string, GroupAssignment>();
    for (const topic of topics) {
      const partitions = result.get(topic)?.[mi];
      if (partitions && partitions.length > 0) assignments.set(topic, { topic, partitions });
    }
    return { memberId: s.id, assignments };
  });
}

// ---------------------------------------------------------------------------------------------------
// Min-cost flow. Network, per topic t with n_t partitions:
//   S -> G(t, o)        one node per previous owner o of partitions of t, capacity = how many it owns
//   G(t, o) -> TM(t, o) keep: cost 0
//   G(t, o) -> H(t)     move: cost "1 move"; H(t) is a hub, so a topic needs O(owners + subscribers)
//                       arcs instead of owners × subscribers
//   S -> H(t)           partitions nobody (still present) owned: cost 0
//   H(t) -> TM(t, m)    for every subscriber m of t: cost 0
//   TM(t, m) -> M(m)    convex: the k-th partition of t on m costs 2k-1 "spread" (sums to count²)
//   M(m) -> T           convex: the k-th partition on m costs 2k-1 "balance" (sums to load²)
// Costs are vectors [balance, move, spread] compared lexicographically, so the three objectives are
// strictly prioritised without big weights that could overflow. Every S -> T path carries one
// partition, so pushing all P partitions at minimum cost is the assignment we want.
// ---------------------------------------------------------------------------------------------------

// An arc's kind is also the cost dimension it contributes to: [balance, move, spread]. Linear arcs
// cost 0 or 1 move per unit; the other two are convex.
const BALANCE = 0;
const LINEAR = 1;
const SPREAD = 2;
type ArcKind = typeof BALANCE | typeof LINEAR | typeof SPREAD;

class FlowNetwork {
  // Arc a has residual edges 2a (forward) and 2a+1 (backward).
  readonly from: number[] = [];
  readonly to: number[] = [];
  readonly cap: number[] = [];
  readonly flow: number[] = [];
  readonly kind: ArcKind[] = [];
  readonly moveCost: number[] = [];
  readonly out: number[][] = [];

  node(): number {
    this.out.push([]);
    return this.out.length - 1;
  }

  arc(from: number, to: number, cap: number, kind: ArcKind, moveCost = 0): number {
    const a = this.to.length;
    this.from.push(from);
    this.to.push(to);
    this.cap.push(cap);
    this.flow.push(0);
    this.kind.push(kind);
    this.moveCost.push(moveCost);
    this.out[from]!.push(2 * a);
    this.out[to]!.push(2 * a + 1);
    return a;
  }

  /** Residual capacity of edge e. */
  residual(e: number): number {
    const a = e >> 1;
    return e & 1 ? this.flow[a]! : this.cap[a]! - this.flow[a]!;
  }

  head(e: number): number {
    return e & 1 ? this.from[e >> 1]! : this.to[e >> 1]!;
  }

  tail(e: number): number {
    return e & 1 ? this.to[e >> 1]! : this.from[e >> 1]!;
  }

  /** Cost of one more unit over residual edge e; it lies in dimension kind[e >> 1] only. */
  unitCost(e: number): number {
    const a = e >> 1;
    const backward = (e & 1) === 1;
    if (this.kind[a] === LINEAR) return backward ? -this.moveCost[a]! : this.moveCost[a]!;
    // Convex arcs: the next unit forward, the last unit backward.
    const f = this.flow[a]!;
    return backward ? -(2 * f - 1) : 2 * f + 1;
  }

  /**
   * Pushes `units` units from source to sink at minimum cost (primal-dual): a Dijkstra on reduced
   * costs, then as many unit paths as the zero-reduced-cost arcs allow, until all units are pushed.
   * A phase pushes about one partition per member, so there are about P / members phases.
   */
  run(source: number, sink: number, units: number): void {
    const n = this.out.length;
    // Potentials keep reduced costs non-negative (all costs start non-negative, so zero is valid).
    const pot = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
    const dist = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
    const [d0, d1, d2] = dist as [Float64Array, Float64Array, Float64Array];
    const done = new Uint8Array(n);
    const heap = new Int32Array(n);
    const heapPos = new Int32Array(n);
    let heapSize = 0;
    // Heap order: distance vector, then node id (deterministic).
    const less = (a: number, b: number): boolean =>
      d0[a] !== d0[b] ? d0[a]! < d0[b]! : d1[a] !== d1[b] ? d1[a]! < d1[b]! : d2[a] !== d2[b] ? d2[a]! < d2[b]! : a < b;
    const place = (i: number, v: number) => {
      heap[i] = v;
      heapPos[v] = i;
    };
    const siftUp = (i: number) => {
      const v = heap[i]!;
      while (i > 0) {
        const parentIndex = (i - 1) >> 1;
        const p = heap[parentIndex]!;
        if (!less(v, p)) break;
        place(i, p);
        i = parentIndex;
      }
      place(i, v);
    };
    const siftDown = (i: number) => {
      const v = heap[i]!;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heapSize) break;
        const r = l + 1;
        const c = r < heapSize && less(heap[r]!, heap[l]!) ? r : l;
        if (!less(heap[c]!, v)) break;
        place(i, heap[c]!);
        i = c;
      }
      place(i, v);
    };
    /** Reduced cost of e (u -> v) in dimension k. */
    const reduced = (k: number, kind: number, c: number, u: number, v: number): number =>
      (kind === k ? c : 0) + pot[k]![u]! - pot[k]![v]!;

    const dead = new Uint8Array(n);
    const onPath = new Uint8Array(n);
    const cursor = new Int32Array(n);
    const path: number[] = [];
    let pushed = 0;
    while (pushed < units) {
      // Dijkstra from the source, stopping once the sink is settled.
      d0.fill(Infinity);
      d1.fill(0);
      d2.fill(0);
      done.fill(0);
      heapPos.fill(-1);
      d0[source] = 0;
      heapSize = 1;
      place(0, source);
      while (heapSize > 0) {
        const u = heap[0]!;
        heapPos[u] = -1;
        if (--heapSize > 0) {
          place(0, heap[heapSize]!);
          siftDown(0);
        }
        done[u] = 1;
        if (u === sink) break;
        for (const e of this.out[u]!) {
          if (this.residual(e) <= 0) continue;
          const v = this.head(e);
          if (done[v]) continue;
          const kind = this.kind[e >> 1]!;
          const c = this.unitCost(e);
          const v0 = d0[u]! + reduced(0, kind, c, u, v);
          const v1 = d1[u]! + reduced(1, kind, c, u, v);
          const v2 = d2[u]! + reduced(2, kind, c, u, v);
          if (v0 < d0[v]! || (v0 === d0[v] && (v1 < d1[v]! || (v1 === d1[v] && v2 < d2[v]!)))) {
            d0[v] = v0;
            d1[v] = v1;
            d2[v] = v2;
            if (heapPos[v]! < 0) {
              heapPos[v] = heapSize;
              heap[heapSize++] = v;
            }
            siftUp(heapPos[v]!);
          }
        }
      }
      if (!done[sink]) throw new Error('sticky assignor: no augmenting path (bug)');
      // pot += min(dist, dist(sink)): unsettled nodes count as dist(sink). Reduced costs stay >= 0 and
      // become 0 along every shortest path.
      for (let k = 0; k < 3; k++) {
        const d = dist[k]!;
        const p = pot[k]!;
        const atSink = d[sink]!;
        for (let v = 0; v < n; v++) p[v]! += done[v] ? d[v]! : atSink;
      }

      // Push unit paths over residual arcs of zero reduced cost (depth-first, with current-arc
      // pointers; a node found without a way to the sink is skipped for the rest of the phase).
      dead.fill(0);
      cursor.fill(0);
      while (pushed < units) {
        let u = source;
        path.length = 0;
        onPath[source] = 1;
        while (u !== sink) {
          const edges = this.out[u]!;
          let next = -1;
          for (; cursor[u]! < edges.length; cursor[u]!++) {
            const e = edges[cursor[u]!]!;
            const v = this.head(e);
            if (dead[v] || onPath[v] || this.residual(e) <= 0) continue;
            const kind = this.kind[e >> 1]!;
            const c = this.unitCost(e);
            if (reduced(0, kind, c, u, v) === 0 && reduced(1, kind, c, u, v) === 0 && reduced(2, kind, c, u, v) === 0) {
              next = e;
              break;
            }
          }
          if (next >= 0) {
            path.push(next);
            u = this.head(next);
            onPath[u] = 1;
          } else {
            dead[u] = 1;
            onPath[u] = 0;
            if (u === source) break;
            const back = path.pop()!;
            u = this.tail(back);
            cursor[u]!++;
          }
        }
        if (u !== sink) break; // phase exhausted
        for (const e of path) {
          this.flow[e >> 1]! += e & 1 ? -1 : 1;
          onPath[this.head(e)] = 0;
        }
        onPath[source] = 0;
        pushed++;
      }
    }
  }
}

/** Returns topic -> member index -> assigned partitions (ascending). */
function solve(
  states: MemberState[],
  topics: string[],
  counts: Map<string, number>,
  owners: Map<string, (number | undefined)[]>,
): Map<string, number[][]> {
  const net = new FlowNetwork();
  const source = net.node();
  const sink = net.node();
  const memberNodes = states.map(() => net.node());
  let total = 0;
  for (const m of memberNodes) net.arc(m, sink, Number.MAX_SAFE_INTEGER, BALANCE);

  interface TopicPlan {
    topic: string;
    subscribers: number[]; // member indices
    spreadArcs: number[]; // TM(t, m) -> M(m), parallel to subscribers
    claimed: Map<number, number[]>; // owner index -> claimed partitions, ascending
    keepArcs: Map<number, number>; // owner index -> arc G(t, owner) -> TM(t, owner)
  }
  const plans: TopicPlan[] = [];
  for (const topic of topics) {
    const n = counts.get(topic) ?? 0;
    const subscribers = states.flatMap((s, mi) => (s.topics.has(topic) ? [mi] : []));
    if (n === 0 || subscribers.length === 0) continue;
    total += n;
    const hub = net.node();
    const tmNode = new Map<number, number>();
    const spreadArcs = subscribers.map((mi) => {
      const tm = net.node();
      tmNode.set(mi, tm);
      net.arc(hub, tm, n, LINEAR);
      return net.arc(tm, memberNodes[mi]!, Number.MAX_SAFE_INTEGER, SPREAD);
    });
    const claimed = new Map<number, number[]>();
    let unowned = 0;
    const byPartition = owners.get(topic)!;
    for (let p = 0; p < n; p++) {
      const o = byPartition[p];
      if (o === undefined) unowned++;
      else {
        let list = claimed.get(o);
        if (!list) claimed.set(o, (list = []));
        list.push(p);
      }
    }
    if (unowned > 0) net.arc(source, hub, unowned, LINEAR);
    const keepArcs = new Map<number, number>();
    for (const owner of [...claimed.keys()].sort((x, y) => x - y)) {
      const supply = claimed.get(owner)!.length;
      const g = net.node();
      net.arc(source, g, supply, LINEAR);
      keepArcs.set(owner, net.arc(g, tmNode.get(owner)!, supply, LINEAR));
      net.arc(g, hub, supply, LINEAR, 1);
    }
    plans.push({ topic, subscribers, spreadArcs, claimed, keepArcs });
  }

  net.run(source, sink, total);

  const result = new Map<string, number[][]>();
  for (const plan of plans) {
    const n = counts.get(plan.topic)!;
    const perMember: number[][] = states.map(() => []);
    const kept = new Uint8Array(n);
    const need = new Map<number, number>();
    plan.subscribers.forEach((mi, i) => {
      const keepArc = plan.keepArcs.get(mi);
      const keep = keepArc === undefined ? 0 : net.flow[keepArc]!;
      // Which claimed partitions a member keeps when it must give some up is arbitrary; lowest first.
      for (const p of (plan.claimed.get(mi) ?? []).slice(0, keep)) {
        perMember[mi]!.push(p);
        kept[p] = 1;
      }
      need.set(mi, net.flow[plan.spreadArcs[i]!]! - keep);
    });
    // Deal the remaining partitions in ascending order, round robin over members by id.
    const pool: number[] = [];
    for (let p = 0; p < n; p++) if (!kept[p]) pool.push(p);
    let next = 0;
    while (next < pool.length) {
      const before = next;
      for (const mi of plan.subscribers) {
        if (next >= pool.length) break;
        const left = need.get(mi)!;
        if (left <= 0) continue;
        perMember[mi]!.push(pool[next++]!);
        need.set(mi, left - 1);
      }
      if (next === before) throw new Error('sticky assignor: inconsistent flow (bug)');
    }
    for (const list of perMember) list.sort((a, b) => a - b);
    result.set(plan.topic, perMember);
  }
  return result;
}
