// The service under test: `node bin/kafka-to-elastic.js run` as a child process, its /status and
// /metrics, and the two end-to-end measurements: catching up a backlog, and event→searchable latency
// at a fixed rate.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Producer } from '@platformatic/kafka';
import { repoRoot } from '../../scripts/stack/layout.js';
import { tweet } from './data.js';
import { SearchProbe } from './search-probe.js';
import type { Engine } from './engine.js';
import { CpuMeter, type CpuReport, cpuSeconds, memoryField } from './proc.js';

export interface ServiceOptions {
  brokers: string;
  topic: string;
  group: string;
  url: string;
  index: string;
  /** Config flags, e.g. --batch.maxDocs=2000. */
  flags: string[];
  /** Node options for the service process, e.g. --cpu-prof. */
  nodeArgs: string[];
  logFile: string;
}

interface Status {
  ready: boolean;
  assigned: string[];
  indexed: number;
  consumed: number;
  lag: number | null;
  buffered: number;
  paused: boolean;
  memory: { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number };
}

export class Service {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  #port: number | undefined;
  #log: WriteStream;
  #tail = '';

  constructor(readonly options: ServiceOptions) {
    this.#log = createWriteStream(options.logFile);
    this.child = spawn(process.execPath, [...options.nodeArgs, path.join(repoRoot, 'bin', 'kafka-to-elastic.js'), 'run', '--progress=off', ...options.flags], {
      env: {
        ...process.env,
        K2E_BROKERS: options.brokers,
        K2E_TOPICS: options.topic,
        K2E_GROUP_ID: options.group,
        K2E_ELASTIC_URL: options.url,
        K2E_INDEX: options.index,
        K2E_HTTP_PORT: '0',
        K2E_LOG_FORMAT: 'json',
        K2E_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onOutput = (chunk: Buffer): void => {
      const text = chunk.toString();
      this.#log.write(text);
      if (this.#port === undefined) {
        this.#tail = (this.#tail + text).slice(-20_000);
        const port = /"port":(\d+),"msg":"http endpoints listening"/.exec(this.#tail)?.[1];
        if (port) this.#port = Number(port);
      }
    };
    this.child.stdout!.on('data', onOutput);
    this.child.stderr!.on('data', onOutput);
    this.exited = once(this.child, 'exit').then(([code]) => code as number | null);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async #get(pathname: string): Promise<string | undefined> {
    if (this.#port === undefined) return undefined;
    try {
      const response = await fetch(`http://127.0.0.1:${this.#port}${pathname}`);
      return await response.text();
    } catch {
      return undefined;
    }
  }

  async status(): Promise<Status | undefined> {
    const text = await this.#get('/status');
    return text ? (JSON.parse(text) as Status) : undefined;
  }

  metrics(): Promise<string | undefined> {
    return this.#get('/metrics');
  }

  /** SIGTERM, wait for the exit code (SIGKILL after 60 s). */
  async stop(): Promise<number | null> {
    if (this.running) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 60_000);
    const code = await this.exited;
    clearTimeout(timer);
    this.#log.end();
    return code;
  }
}

export interface CatchUp {
  /** Every record indexed before the timeout. */
  complete: boolean;
  docs: number;
  /** From the first indexed document to the last (interpolated between /status polls). */
  seconds: number;
  docsPerSec: number;
  /** From the spawn to the first indexed document (start-up, init check, group join). */
  startupSeconds: number;
  /** Service CPU-seconds per 100,000 documents over the catch-up. */
  cpuPer100k: number;
  /** Peak RSS of the service process (VmHWM), bytes; and the highest /status memory.rss seen. */
  peakRss: number;
  peakStatusRss: number;
  /** Highest values /status showed during the catch-up (the worker thread's heap; external = Buffers). */
  peakHeapUsed: number;
  peakExternal: number;
  /** Share of /status polls that found fetching paused (buffer full) and the average records buffered. */
  pausedShare: number;
  avgBuffered: number;
  /** CLOCK_MONOTONIC µs (what V8 profiles use) of the first and last document, to cut a profile to the catch-up. */
  monotonicUs: [number, number];
  /** From /metrics at the end: bulk requests, mean documents and seconds per bulk, and the mean number in flight. */
  bulks: BulkStats;
  /** V8 garbage collection over the service's life (k2e_nodejs_gc_duration_seconds), CPU-s per 100k documents. */
  gcPer100k: number;
  cpu: CpuReport;
}

/** Polls /status until `count` documents are indexed; measures the rate, the service's CPU and peak RSS. */
export async function measureCatchUp(service: Service, count: number, timeoutMs: number, named: Record<string, number | undefined>): Promise<CatchUp> {
  const spawnedAt = performance.now();
  const deadline = Date.now() + timeoutMs;
  let start: { at: number; indexed: number; cpu: number; meter: CpuMeter } | undefined;
  let previous: { at: number; indexed: number } | undefined;
  let peakStatusRss = 0;
  let peakHeapUsed = 0;
  let peakExternal = 0;
  let polls = 0;
  let pausedPolls = 0;
  let bufferedSum = 0;
  let monoStart = 0;
  let monoEnd = 0;
  const mono = (): number => Number(process.hrtime.bigint() / 1000n);
  let end: { at: number; indexed: number; cpu: number; report: CpuReport } | undefined;
  while (Date.now() < deadline && service.running) {
    const status = await service.status().catch(() => undefined);
    const at = performance.now();
    if (status) {
      peakStatusRss = Math.max(peakStatusRss, status.memory.rss);
      peakHeapUsed = Math.max(peakHeapUsed, status.memory.heapUsed);
      peakExternal = Math.max(peakExternal, status.memory.external);
      const indexed = status.indexed;
      if (start && indexed < count) {
        polls++;
        if (status.paused) pausedPolls++;
        bufferedSum += status.buffered;
      }
      if (!start && indexed > 0) monoStart = mono();
      if (!start && indexed > 0) start = { at, indexed, cpu: cpuSeconds(service.pid) ?? 0, meter: new CpuMeter({ ...named, service: service.pid }) };
      if (start && indexed >= count) {
        // The last document landed between the previous poll and this one: interpolate.
        const last = previous && indexed > previous.indexed ? previous.at + ((count - previous.indexed) / (indexed - previous.indexed)) * (at - previous.at) : at;
        end = { at: last, indexed: count, cpu: cpuSeconds(service.pid) ?? 0, report: start.meter.report() };
        monoEnd = mono();
        break;
      }
      previous = { at, indexed };
    }
    await sleep(100);
  }
  if (!end) {
    const status = await service.status().catch(() => undefined);
    const at = performance.now();
    end = { at, indexed: status?.indexed ?? previous?.indexed ?? 0, cpu: cpuSeconds(service.pid) ?? 0, report: (start?.meter ?? new CpuMeter({})).report() };
  }
  const docs = end.indexed - (start?.indexed ?? 0);
  const seconds = start ? (end.at - start.at) / 1000 : 0;
  const metrics = (await service.metrics()) ?? '';
  const metric = (name: string): number => metricSum(metrics, name);
  // Over the service's whole life, nearly all of it the catch-up.
  const bulks = bulkStats(BULKS_BEFORE_START, bulkCounters(metrics), seconds);
  return {
    complete: end.indexed >= count,
    docs: end.indexed,
    seconds,
    docsPerSec: seconds > 0 ? docs / seconds : 0,
    startupSeconds: start ? (start.at - spawnedAt) / 1000 : NaN,
    cpuPer100k: docs > 0 ? ((end.cpu - (start?.cpu ?? 0)) / docs) * 100_000 : NaN,
    peakRss: memoryField(service.pid, 'VmHWM') ?? 0,
    peakStatusRss,
    peakHeapUsed,
    peakExternal,
    pausedShare: polls ? pausedPolls / polls : NaN,
    avgBuffered: polls ? bufferedSum / polls : NaN,
    monotonicUs: [monoStart, monoEnd],
    bulks,
    gcPer100k: docs > 0 ? (metric('k2e_nodejs_gc_duration_seconds_sum') / end.indexed) * 100_000 : NaN,
    cpu: end.report,
  };
}

/** Summed over label sets: with `workers: N` each member reports its own series (label `worker`). */
function metricSum(metrics: string, name: string): number {
  const values = [...metrics.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+-]+)$`, 'gm'))].map((m) => Number(m[1]));
  return values.length === 0 ? NaN : values.reduce((sum, v) => sum + v, 0);
}

interface BulkCounters {
  count: number;
  docs: number;
  seconds: number;
}

const BULKS_BEFORE_START: BulkCounters = { count: 0, docs: 0, seconds: 0 };

const bulkCounters = (metrics: string): BulkCounters => ({
  count: metricSum(metrics, 'k2e_bulk_duration_seconds_count'),
  docs: metricSum(metrics, 'k2e_bulk_documents_sum'),
  seconds: metricSum(metrics, 'k2e_bulk_duration_seconds_sum'),
});

/** The bulks between two readings of the counters, over a window of `seconds`. */
function bulkStats(before: BulkCounters, after: BulkCounters, seconds: number): BulkStats {
  const count = after.count - before.count;
  return {
    count,
    meanDocs: (after.docs - before.docs) / count,
    meanSeconds: (after.seconds - before.seconds) / count,
    meanInFlight: seconds > 0 ? (after.seconds - before.seconds) / seconds : NaN,
  };
}

export interface BulkStats {
  count: number;
  meanDocs: number;
  meanSeconds: number;
  meanInFlight: number;
}

export interface Latency {
  rateTarget: number;
  rateAchieved: number;
  seconds: number;
  events: number;
  probes: number;
  probesFound: number;
  /** event → searchable (a search finds the marker), ms. */
  probe: { p50: number; p90: number; p99: number; max: number };
  /** k2e_event_to_indexed_seconds (record timestamp → bulk acknowledged), interpolated in its buckets, ms. */
  histogram: { p50: number; p90: number; p99: number; count: number };
  /** The index's refreshes over the run (what makes a document searchable): how many, and their mean duration. */
  refresh: Refreshes;
  /** The service's bulks during the run: how many, their mean size and duration, how many in flight. */
  bulks: BulkStats;
  serviceCpuPer100k: number;
  serviceRss: number;
  cpu: CpuReport;
}

/** Parses the cumulative buckets of one histogram from Prometheus text. */
function buckets(text: string, name: string): Map<number, number> {
  const result = new Map<number, number>();
  // Other labels (a member's `worker`) may sit beside le: the buckets of all series are summed.
  const re = new RegExp(`^${name}_bucket\\{(?:[^}]*,)?le="([^"]+)"[^}]*\\} (\\d+)`, 'gm');
  for (const m of text.matchAll(re)) {
    const bound = m[1] === '+Inf' ? Infinity : Number(m[1]);
    result.set(bound, (result.get(bound) ?? 0) + Number(m[2]));
  }
  return result;
}

/** Quantile of the difference of two cumulative histograms, linear within a bucket (as Prometheus does). */
function histogramQuantile(before: Map<number, number>, after: Map<number, number>, q: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const cumulative = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const total = cumulative.at(-1) ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [i, bound] of bounds.entries()) {
    const c = cumulative[i]!;
    if (c >= rank) {
      if (bound === Infinity) return lower;
      return lower + ((rank - below) / Math.max(1, c - below)) * (bound - lower);
    }
    lower = bound;
    below = c;
  }
  return lower;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/**
 * Produces marker events at `rate`/s for `seconds` into the service's topic (lz4, small batches every
 * 10 ms, like a live producer); ~20 of them a second are probes: their send time is noted and a search
 * (`ids` query, every 25 ms) finds when each becomes searchable.
 */
export async function measureLatency(
  service: Service,
  engine: Engine,
  o: { brokers: string; topic: string; index: string; rate: number; seconds: number; compression: string; firstId: number },
  named: Record<string, number | undefined>,
): Promise<Latency> {
  const producer = new Producer({ clientId: 'k2e-bench-markers', bootstrapBrokers: o.brokers.split(','), compression: o.compression as 'lz4' });
  const metricsBefore = (await service.metrics()) ?? '';
  const histogramBefore = buckets(metricsBefore, 'k2e_event_to_indexed_seconds');
  const probe = new SearchProbe(engine, o.index);
  const probeEvery = Math.max(1, Math.round(o.rate / 20));

  const meter = new CpuMeter({ ...named, service: service.pid });
  const cpu0 = cpuSeconds(service.pid) ?? 0;
  const refresh0 = await refreshStats(engine, o.index);
  const t0 = performance.now();
  let sent = 0;
  let inFlight = 0;
  const stamp = Date.now().toString(36);
  const sends: Promise<unknown>[] = [];
  while (performance.now() - t0 < o.seconds * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * o.rate);
    if (due > sent && inFlight < 32) {
      const messages = [];
      const now = performance.now();
      for (; sent < due; sent++) {
        const key = `m-${stamp}-${sent}`;
        if (sent % probeEvery === 0) probe.expect(key, now);
        messages.push({ topic: o.topic, key: Buffer.from(key), value: Buffer.from(tweet(o.firstId + sent, { marker: true, sentAt: Date.now() })) });
      }
      inFlight++;
      sends.push(producer.send({ messages }).finally(() => inFlight--));
    }
    await sleep(10);
  }
  const producedSeconds = (performance.now() - t0) / 1000;
  const refresh1 = await refreshStats(engine, o.index);
  await Promise.all(sends);
  const latencies = await probe.finish();
  // Let the last acknowledgements land in the histogram.
  await sleep(500);
  const cpu = meter.report();
  const serviceCpu = (cpuSeconds(service.pid) ?? 0) - cpu0;
  const metricsAfter = (await service.metrics()) ?? '';
  const histogramAfter = buckets(metricsAfter, 'k2e_event_to_indexed_seconds');
  await producer.close();
  latencies.sort((a, b) => a - b);
  const hq = (q: number): number => histogramQuantile(histogramBefore, histogramAfter, q) * 1000;
  return {
    rateTarget: o.rate,
    rateAchieved: sent / producedSeconds,
    seconds: producedSeconds,
    events: sent,
    probes: probe.probes,
    probesFound: latencies.length,
    probe: { p50: quantile(latencies, 0.5), p90: quantile(latencies, 0.9), p99: quantile(latencies, 0.99), max: latencies.at(-1) ?? NaN },
    histogram: { p50: hq(0.5), p90: hq(0.9), p99: hq(0.99), count: (histogramAfter.get(Infinity) ?? 0) - (histogramBefore.get(Infinity) ?? 0) },
    serviceCpuPer100k: (serviceCpu / Math.max(1, sent)) * 100_000,
    refresh: refreshesBetween(refresh0, refresh1, producedSeconds),
    // The whole window, the last acknowledgements included.
    bulks: bulkStats(bulkCounters(metricsBefore), bulkCounters(metricsAfter), (performance.now() - t0) / 1000),
    serviceRss: memoryField(service.pid, 'VmRSS') ?? 0,
    cpu,
  };
}

export interface Refreshes {
  count: number;
  perSecond: number;
  meanMs: number;
}

type RefreshTotals = { total: number; millis: number };

/** The index's refresh counters (_stats/refresh); zeros when the engine does not answer. */
export async function refreshStats(engine: Engine, index: string): Promise<RefreshTotals> {
  const r = await engine
    .call<{ _all?: { primaries?: { refresh?: { total?: number; total_time_in_millis?: number } } } }>('GET', `/${index}/_stats/refresh`)
    .catch(() => undefined);
  const refresh = r?.body._all?.primaries?.refresh;
  return { total: refresh?.total ?? 0, millis: refresh?.total_time_in_millis ?? 0 };
}

export function refreshesBetween(before: RefreshTotals, after: RefreshTotals, seconds: number): Refreshes {
  const count = after.total - before.total;
  return { count, perSecond: count / seconds, meanMs: count > 0 ? (after.millis - before.millis) / count : NaN };
}

