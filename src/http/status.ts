// Builds /status and keeps the numbers that need time: per-partition rates and a 10-minute history
// of throughput and lag, sampled every 2 s. Also refreshes the lag gauges of /metrics.
import type { Config } from '../config/schema.js';
import type { HealthMonitor } from '../health/health-monitor.js';
import type { Pipeline, PipelineStats } from '../pipeline/pipeline.js';
import { defaultInstanceId } from '../util/instance-id.js';
import type { Metrics } from '../metrics/metrics.js';
import { partitionKey } from '../source/record.js';
import { VERSION } from '../util/version.js';

const SAMPLE_MS = 2000;

/** initializing: waiting for the dependencies and joining the group; running: consuming; stopping: after a signal or a failure. */
export type Phase = 'initializing' | 'running' | 'stopping';
const HISTORY_POINTS = 300; // 10 minutes

export interface HistoryPoint {
  t: number;
  indexedPerSec: number;
  lag: number | null;
}

export class StatusReporter {
  readonly #history: HistoryPoint[] = [];
  readonly #rates = new Map<string, number>();
  #lastIndexed = new Map<string, number>();
  #lastTotal = 0;
  #lastSampleAt = Date.now();
  #timer: NodeJS.Timeout | undefined;
  readonly #startedAt = Date.now();

  constructor(
    private readonly config: Config,
    private readonly health: HealthMonitor,
    private readonly metrics: Metrics,
    private readonly pipeline: () => Pipeline | undefined,
    private readonly ready: () => boolean,
    private readonly phase: () => Phase = () => 'running',
  ) {}

  start(): void {
    this.#timer = setInterval(() => this.#sample(), SAMPLE_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #sample(): void {
    const stats = this.pipeline()?.stats();
    const now = Date.now();
    const seconds = (now - this.#lastSampleAt) / 1000;
    this.#lastSampleAt = now;
    if (!stats) return;
    const indexed = new Map(stats.partitions.map((p) => [partitionKey(p.topic, p.partition), p.indexed]));
    for (const [key, count] of indexed) this.#rates.set(key, Math.max(0, (count - (this.#lastIndexed.get(key) ?? count)) / seconds));
    this.#lastIndexed = indexed;
    const total = stats.indexed;
    this.#history.push({ t: now, indexedPerSec: Math.max(0, (total - this.#lastTotal) / seconds), lag: this.#totalLag(stats) });
    this.#lastTotal = total;
    if (this.#history.length > HISTORY_POINTS) this.#history.shift();
    this.metrics.ready.set(this.ready() ? 1 : 0);
    this.metrics.assignedPartitions.set(stats.assigned.length);
    this.metrics.pausedPartitions.set(stats.paused ? stats.assigned.length : 0);
    this.metrics.setBuffered(stats.buffered, stats.bufferedBytes);
    this.metrics.stalledPartitions.set(this.pipeline()?.stalledPartitions(this.health.endOffsets).length ?? 0);
    this.metrics.lag.reset();
    for (const p of this.#partitionLags(stats)) if (p.lag !== null) this.metrics.lag.set({ topic: p.topic, partition: String(p.partition) }, Number(p.lag));
  }

  /** Lag of each assigned partition: end offset (from the health monitor) minus committed offset. */
  #partitionLags(stats: PipelineStats | undefined): { topic: string; partition: number; end: bigint | null; lag: bigint | null }[] {
    if (!stats) return [];
    return stats.partitions.map((p) => {
      // Before its first commit, a partition's lag counts from where this assignment started reading.
      const committed = p.committed === null ? null : BigInt(p.committed);
      // End offsets are re-read every http.healthIntervalMs; what this instance already fetched or
      // committed is a fresher lower bound, so the end never shows below them.
      let end = this.health.endOffsets.get(partitionKey(p.topic, p.partition)) ?? null;
      for (const bound of [committed, p.fetched === null ? null : BigInt(p.fetched)]) if (end !== null && bound !== null && bound > end) end = bound;
      return { topic: p.topic, partition: p.partition, end, lag: end === null || committed === null ? null : end > committed ? end - committed : 0n };
    });
  }

  #totalLag(stats: PipelineStats | undefined): number | null {
    const lags = this.#partitionLags(stats);
    if (lags.length === 0 || lags.some((l) => l.lag === null)) return lags.length === 0 ? 0 : null;
    return lags.reduce((sum, l) => sum + Number(l.lag), 0);
  }

  /** Indexed so far and the current total lag, for the catch-up progress line. */
  progress(): { indexed: number; lag: number | null } | undefined {
    const stats = this.pipeline()?.stats();
    return stats ? { indexed: stats.indexed, lag: this.#totalLag(stats) } : undefined;
  }

  snapshot(): object {
    const stats = this.pipeline()?.stats();
    const lags = new Map(this.#partitionLags(stats).map((l) => [partitionKey(l.topic, l.partition), l]));
    return {
      instance: this.config.instanceId ?? defaultInstanceId(),
      version: VERSION,
      phase: this.phase(),
      groupId: this.config.kafka.groupId,
      topics: this.pipeline()?.topics ?? this.config.kafka.topics,
      topicPattern: this.config.kafka.topicPattern,
      index: this.config.elastic.index,
      delivery: this.config.delivery,
      ready: this.ready(),
      reachable: this.health.state,
      uptimeSec: Math.round((Date.now() - this.#startedAt) / 1000),
      memory: process.memoryUsage(),
      ...stats,
      lag: this.#totalLag(stats),
      stalled: this.pipeline()?.stalledPartitions(this.health.endOffsets) ?? [],
      partitions: stats?.partitions.map((p) => {
        const key = partitionKey(p.topic, p.partition);
        const lag = lags.get(key);
        return { ...p, end: lag?.end?.toString() ?? null, lag: lag?.lag?.toString() ?? null, ratePerSec: Math.round((this.#rates.get(key) ?? 0) * 10) / 10 };
      }),
      history: this.#history,
    };
  }
}
