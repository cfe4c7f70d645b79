// One /status and one /metrics for all members of `workers: N`, from what each member reports.
// /status: totals summed, partitions and stalled partitions concatenated (each partition has exactly
// one owner in the group), the worst sink state and reachability, and a per-member section.
// /metrics: prom-client's AggregatorRegistry, as for a Node cluster; members label their series
// `worker`, so nothing is summed away and PromQL `sum without (worker)` gives the process's totals.
import { AggregatorRegistry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValue, Registry } from 'prom-client';

/** The fields of a member's /status this merge reads (all optional: a member may not have started). */
export interface MemberSnapshot {
  instance?: string;
  ready?: boolean;
  reachable?: { kafka: boolean | null; searchEngine: boolean | null; since: number };
  phase?: string;
  uptimeSec?: number;
  memory?: { heapUsed: number; heapTotal?: number; external?: number; arrayBuffers?: number };
  paused?: boolean;
  rebalancing?: boolean;
  generation?: number;
  assigned?: string[];
  sink?: { state: string; lastError: string | null; lastErrorAt: number | null };
  deadLetterQueue?: { state: string; lastError: string | null; lastErrorAt: number | null };
  lag?: number | null;
  stalled?: unknown[];
  partitions?: { topic: string; partition: number }[];
  history?: { t: number; indexedPerSec: number; lag: number | null }[];
  [counter: string]: unknown;
}

export interface MemberReport {
  worker: string;
  /** The thread runs (false once it exited). */
  alive: boolean;
  /** Its /status; undefined when it did not answer in time. */
  status?: MemberSnapshot;
}

const SUMMED = ['consumed', 'duplicates', 'indexed', 'superseded', 'retries', 'failed', 'deadLettered', 'buffered', 'bufferedBytes'] as const;
const SINK_SEVERITY = ['ok', 'retrying', 'unreachable', 'refused'];

/** false when any member cannot reach it, null (unknown) when any member does not know yet, else true. */
function worstReach(values: (boolean | null | undefined)[], complete: boolean): boolean | null {
  if (values.some((v) => v === false)) return false;
  return complete && values.length > 0 && values.every((v) => v === true) ? true : null;
}

/** @param own what the main thread knows itself: configuration, process memory, uptime. */
export function mergeStatus(own: Record<string, unknown>, members: MemberReport[]): Record<string, unknown> {
  const statuses = members.map((m) => m.status).filter((s): s is MemberSnapshot => s !== undefined);
  const complete = statuses.length === members.length;
  const totals = Object.fromEntries(SUMMED.map((key) => [key, statuses.reduce((sum, s) => sum + (typeof s[key] === 'number' ? s[key] : 0), 0)]));
  const sinks = statuses.map((s) => s.sink).filter((s) => s !== undefined);
  const worstSink = sinks.reduce<MemberSnapshot['sink']>((worst, s) => (worst === undefined || SINK_SEVERITY.indexOf(s.state) > SINK_SEVERITY.indexOf(worst.state) ? s : worst), undefined);
  const reach = statuses.map((s) => s.reachable).filter((r) => r !== undefined);
  const lags = statuses.map((s) => s.lag);
  return {
    ...own,
    ...(own.memory ? { memory: processMemory(own.memory as Record<string, number>, statuses) } : {}),
    workers: members.length,
    ready: complete && members.every((m) => m.alive && m.status?.ready === true),
    reachable: {
      kafka: worstReach(reach.map((r) => r.kafka), complete),
      searchEngine: worstReach(reach.map((r) => r.searchEngine), complete),
      since: reach.reduce((latest, r) => Math.max(latest, r.since), 0),
    },
    phase: own.phase === 'stopping' ? 'stopping' : complete && statuses.every((s) => s.phase === 'running') ? 'running' : statuses.some((s) => s.phase === 'stopping') ? 'stopping' : 'initializing',
    ...totals,
    paused: statuses.some((s) => s.paused === true),
    rebalancing: statuses.some((s) => s.rebalancing === true),
    generation: statuses.reduce((max, s) => Math.max(max, s.generation ?? 0), 0),
    assigned: statuses.flatMap((s) => s.assigned ?? []).sort(),
    sink: worstSink ?? { state: 'ok', lastError: null, lastErrorAt: null },
    deadLetterQueue: statuses.find((s) => s.deadLetterQueue?.state === 'unavailable')?.deadLetterQueue ?? { state: 'ok', lastError: null, lastErrorAt: null },
    // Unknown when any member's is (or a member did not answer).
    lag: complete && lags.every((l) => typeof l === 'number') ? lags.reduce((sum: number, l) => sum + l, 0) : null,
    stalled: statuses.flatMap((s) => s.stalled ?? []),
    partitions: members
      .flatMap((m) => (m.status?.partitions ?? []).map((p) => ({ ...p, worker: m.worker })))
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1)),
    history: mergeHistory(statuses.map((s) => s.history ?? [])),
    members: members.map((m) => ({
      worker: m.worker,
      instance: m.status?.instance ?? null,
      alive: m.alive,
      answered: m.status !== undefined,
      ready: m.status?.ready ?? false,
      assigned: m.status?.assigned ?? [],
      consumed: m.status?.consumed ?? 0,
      indexed: m.status?.indexed ?? 0,
      lag: m.status?.lag ?? null,
      sink: m.status?.sink?.state ?? null,
      heapUsed: m.status?.memory?.heapUsed ?? null,
    })),
  };
}

/** RSS is the process's (every thread reads the same); heaps and buffers are per thread: summed. */
function processMemory(own: Record<string, number>, statuses: MemberSnapshot[]): Record<string, number> {
  const memory = { ...own };
  for (const key of ['heapUsed', 'heapTotal', 'external', 'arrayBuffers'] as const) {
    memory[key] = statuses.reduce((sum, s) => sum + (s.memory?.[key] ?? 0), own[key] ?? 0);
  }
  return memory;
}

/**
 * Members sample every 2 s from about the same start, so their histories are aligned from the newest
 * point back: the i-th newest points are summed (times: the newest of them).
 */
export function mergeHistory(histories: NonNullable<MemberSnapshot['history']>[]): NonNullable<MemberSnapshot['history']> {
  const length = Math.max(0, ...histories.map((h) => h.length));
  const merged: NonNullable<MemberSnapshot['history']> = [];
  for (let back = length; back >= 1; back--) {
    const points = histories.map((h) => h[h.length - back]).filter((p) => p !== undefined);
    merged.push({
      t: Math.max(...points.map((p) => p.t)),
      indexedPerSec: points.reduce((sum, p) => sum + p.indexedPerSec, 0),
      lag: points.every((p) => p.lag !== null) ? points.reduce((sum, p) => sum + (p.lag ?? 0), 0) : null,
    });
  }
  return merged;
}

/** Process-wide metrics: every thread would report the same numbers, so only the main thread's count. */
const PROCESS_WIDE = /^k2e_process_/;

/**
 * @param processMetrics the main thread's registry with the process-wide default metrics
 * @param members each member's `getMetricsAsJSON()` (series labelled with its `worker`)
 */
export async function mergeMetrics(processMetrics: Registry, members: MetricObjectWithValues<MetricValue<string>>[][]): Promise<string> {
  const perMember = members.map((metrics) => metrics.filter((m) => !PROCESS_WIDE.test(m.name)));
  const merged = AggregatorRegistry.aggregate(perMember);
  return `${await processMetrics.metrics()}\n${await merged.metrics()}`;
}

/** The main thread's registry: prom-client's default metrics, only the process-wide ones. */
export function processMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'k2e_' });
  for (const { name } of registry.getMetricsAsArray()) if (!PROCESS_WIDE.test(name)) registry.removeSingleMetric(name);
  return registry;
}
