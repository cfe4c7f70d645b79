// The benchmark's results, and the one table that shows every figure beside its ceiling.
import type { CpuReport } from './proc.js';
import type { CatchUp, Latency } from './service.js';
import type { ProduceResult, ConsumeResult } from './kafka.js';
import type { ProfileSummary } from './profile.js';
import type { PeerCatchUp } from './peer.js';

export interface LoaderRun {
  bulk: number;
  concurrency: number;
  docs: number;
  bytes: number;
  seconds: number;
  docsPerSec: number;
  mbPerSec: number;
  cpuSeconds: number;
}

export interface CeilingRun extends LoaderRun {
  loaderCpuPer100k: number;
  engineCpuPer100k: number;
  cpu: CpuReport;
}

export interface E2eRun {
  label: string;
  flags: string[];
  repeat: number;
  catchUp: CatchUp;
  engineCpuPer100k: number;
  /** Documents in the index afterwards (after a refresh). */
  indexCount: number;
  exitCode: number | null;
  logFile: string;
}

/** The reference peer (bench/peer/python_consumer.py) over the same backlog, into its own index. */
export interface PeerRun {
  catchUp: PeerCatchUp;
  engineCpuPer100k: number;
  indexCount: number;
  logFile: string;
  /** docs/s of the first e2e catch-up ÷ the peer's (issue 12's target: ≥ 1.5). */
  e2eOverPeer: number | undefined;
}

export interface Results {
  startedAt: string;
  durationSeconds: number;
  machine: { cpus: number; loadavgStart: number[]; loadavgEnd: number[]; node: string };
  /** otherIndices: indices already on the engine when the run began (not its own). */
  engine: { name: string; url: string; product: string; version: string; otherIndices?: number };
  argv: string[];
  serviceFlags: string[];
  data: { count: number; partitions: number; avgValueBytes: number; generateSeconds: number; compression: string };
  produce?: ProduceResult;
  warmup?: LoaderRun;
  sweep: LoaderRun[];
  bulkCeiling: { before?: CeilingRun; after?: CeilingRun };
  consumeCeiling: {
    kcat?: ConsumeResult & { cpuPer100k: number };
    platformatic?: ConsumeResult & { cpuPer100k: number };
    /** The same client's Consumer.fetch alone, no MessagesStream (bench/workers/consume-fetch.ts). */
    platformaticFetch?: ConsumeResult & { cpuPer100k: number };
  };
  e2e: E2eRun[];
  steady?: Latency & { label: string };
  /** The engine alone at the steady state's rate (bench/workers/latency-floor.ts). */
  floor?: LatencyFloor;
  peer?: PeerRun;
  /** Why the peer did not run (its venv could not be set up). */
  peerSkipped?: string;
  naive?: { docs: number; seconds: number; docsPerSec: number; cpuSeconds: number };
  profile?: { label: string; catchUp: CatchUp; summaries: ProfileSummary[] };
  errors: string[];
}

const int = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? 'n/a' : Math.round(n).toLocaleString('en-US'));
const fixed = (n: number | undefined, digits = 2): string => (n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(digits));
const mib = (bytes: number | undefined): string => (bytes === undefined ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(0)} MiB`);
const ms = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? 'n/a' : n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${n.toFixed(0)} ms`);
const others = (cpu: CpuReport | undefined): string => (cpu ? fixed(cpu.cores.others, 2) : 'n/a');

/** The bulk ceiling used for ratios: the better of the runs before and after the service runs. */
export function bulkCeiling(r: Results): number | undefined {
  const runs = [r.bulkCeiling.before?.docsPerSec, r.bulkCeiling.after?.docsPerSec].filter((x): x is number => x !== undefined);
  return runs.length ? Math.max(...runs) : undefined;
}

export function minCeiling(r: Results): { name: string; docsPerSec: number } | undefined {
  const candidates: [string, number | undefined][] = [
    ['search-engine bulk', bulkCeiling(r)],
    ['kcat consume', r.consumeCeiling.kcat?.recordsPerSec],
    ['@platformatic/kafka consume', r.consumeCeiling.platformatic?.recordsPerSec],
  ];
  const known = candidates.filter((c): c is [string, number] => c[1] !== undefined);
  if (known.length === 0) return undefined;
  const [name, docsPerSec] = known.reduce((a, b) => (b[1] < a[1] ? b : a));
  return { name, docsPerSec };
}

export interface LatencyFloor {
  rate: number;
  seconds: number;
  events: number;
  probes: number;
  probe: { p50: number; p90: number; p99: number; max: number };
  bulk: { count: number; p50: number; p99: number };
  refresh: { count: number; perSecond: number; meanMs: number };
}

/** One Markdown table: every figure, the ceiling it is compared with, the ratio, the target. */
export function table(r: Results): string {
  const min = minCeiling(r);
  const ceiling = min?.docsPerSec;
  const rows: string[][] = [];
  const row = (what: string, value: string, against = '', ratio = '', target = '', note = ''): void => {
    rows.push([what, value, against, ratio, target, note]);
  };
  const ratio = (x: number | undefined, of: number | undefined): string => (x === undefined || of === undefined || of === 0 ? 'n/a' : fixed(x / of, 2));
  if (r.produce) row(`produce (kcat -P, ${r.data.compression})`, `${int(r.produce.recordsPerSec)} docs/s`, '', '', '', `${fixed(r.produce.mbPerSec, 0)} MB/s of JSON`);
  for (const [when, run] of [['before', r.bulkCeiling.before], ['after', r.bulkCeiling.after]] as const) {
    if (!run) continue;
    row(
      `ceiling: bulk from memory, undici ${run.bulk} docs × ${run.concurrency} in flight (${when} the service runs)`,
      `${int(run.docsPerSec)} docs/s`,
      ceiling ? `${int(ceiling)}` : '',
      ratio(run.docsPerSec, ceiling),
      '',
      `engine ${fixed(run.engineCpuPer100k)} CPU-s/100k, loader ${fixed(run.loaderCpuPer100k)}; engine ${fixed((run.cpu.seconds.engine ?? NaN) / run.seconds, 2)} cores while sending; others ${others(run.cpu)} cores`,
    );
  }
  if (r.consumeCeiling.kcat) {
    const k = r.consumeCeiling.kcat;
    row('ceiling: consume, kcat -C -e (librdkafka)', `${int(k.recordsPerSec)} rec/s`, ceiling ? int(ceiling) : '', ratio(k.recordsPerSec, ceiling), '', `${fixed(k.cpuPer100k)} CPU-s/100k`);
  }
  if (r.consumeCeiling.platformatic) {
    const p = r.consumeCeiling.platformatic;
    row('ceiling: consume, @platformatic/kafka (service fetch settings)', `${int(p.recordsPerSec)} rec/s`, ceiling ? int(ceiling) : '', ratio(p.recordsPerSec, ceiling), '', `${fixed(p.cpuPer100k)} CPU-s/100k, peak RSS ${mib(p.peakRss)}`);
  }
  if (r.consumeCeiling.platformaticFetch) {
    const p = r.consumeCeiling.platformaticFetch;
    row('  the same, Consumer.fetch only (no MessagesStream, no per-message objects)', `${int(p.recordsPerSec)} rec/s`, ceiling ? int(ceiling) : '', ratio(p.recordsPerSec, ceiling), '', `${fixed(p.cpuPer100k)} CPU-s/100k, peak RSS ${mib(p.peakRss)}`);
  }
  if (min) row('**min(ceilings)**', `**${int(min.docsPerSec)} docs/s**`, '', '', '', min.name);
  for (const e of r.e2e) {
    const c = e.catchUp;
    const rate = c.complete ? `${int(c.docsPerSec)} docs/s` : `INCOMPLETE ${int(c.docs)}/${int(r.data.count)}`;
    row(`**e2e catch-up** ${e.label}${r.e2e.some((x) => x.repeat > 0) ? ` #${e.repeat + 1}` : ''}`, `**${rate}**`, ceiling ? int(ceiling) : '', `**${ratio(c.docsPerSec, ceiling)}**`, '≥ 0.85; service ≤ 0.7 CPU-s/100k', `service ${fixed(c.cpuPer100k)} CPU-s/100k (GC ${fixed(c.gcPer100k)}), engine ${fixed(e.engineCpuPer100k)} CPU-s/100k; ${int(c.bulks.count)} bulks of ${int(c.bulks.meanDocs)} docs, ${fixed(c.bulks.meanSeconds * 1000, 0)} ms each, ${fixed(c.bulks.meanInFlight, 1)} in flight on average; fetch paused in ${fixed(c.pausedShare * 100, 0)}% of polls, ${int(c.avgBuffered)} records buffered on average; machine ${fixed(c.cpu.cores.machine, 2)} of ${r.machine.cpus} cores busy (service ${fixed(c.cpu.cores.service, 2)}, engine ${fixed(c.cpu.cores.engine, 2)}, kafka ${fixed(c.cpu.cores.kafka, 2)}, others ${others(c.cpu)})`);
    row(`  service peak RSS (VmHWM) ${e.label}`, mib(c.peakRss), '200 MiB', ratio(c.peakRss, 200 * 1024 * 1024), '< 1 (< 200 MiB)', `worker heap ≤ ${mib(c.peakHeapUsed)}, external ≤ ${mib(c.peakExternal)}; start-up ${fixed(c.startupSeconds, 1)} s`);
  }
  const main = r.e2e[0];
  if (r.peer) {
    const c = r.peer.catchUp;
    const rate = c.complete ? `${int(c.docsPerSec)} docs/s` : `INCOMPLETE ${int(c.docs)}/${int(r.data.count)}`;
    row('reference peer: Python, confluent-kafka + opensearch-py parallel_bulk (2 threads, 5,000-record batches)', rate, ceiling ? int(ceiling) : '', ratio(c.docsPerSec, ceiling), '', `peer ${fixed(c.cpuPer100k)} CPU-s/100k, engine ${fixed(r.peer.engineCpuPer100k)} CPU-s/100k; peak RSS ${mib(c.peakRss)}; start-up ${fixed(c.startupSeconds, 1)} s; machine ${fixed(c.cpu.cores.machine, 2)} of ${r.machine.cpus} cores busy (peer ${fixed(c.cpu.cores.peer, 2)}, engine ${fixed(c.cpu.cores.engine, 2)}, kafka ${fixed(c.cpu.cores.kafka, 2)}, others ${others(c.cpu)})`);
    if (main) row(`  e2e / reference peer`, `e2e ${int(main.catchUp.docsPerSec)} docs/s`, `peer ${int(c.docsPerSec)}`, `**e2e/peer ${fixed(r.peer.e2eOverPeer)}×**`, '≥ 1.5×', `e2e ${main.label}`);
  } else if (r.peerSkipped) row('reference peer', 'skipped', '', '', '', r.peerSkipped);
  if (r.naive) {
    row('naive: 1 doc per PUT, sequential', `${int(r.naive.docsPerSec)} docs/s`, main ? `e2e ${int(main.catchUp.docsPerSec)}` : '', main ? `e2e/naive ${fixed(main.catchUp.docsPerSec / r.naive.docsPerSec, 1)}×` : '', '≥ 3×', `${int(r.naive.docs)} docs`);
  }
  if (r.steady) {
    const s = r.steady;
    const e2eRate = main?.catchUp.docsPerSec;
    row(`steady state ${s.label}: marker rate`, `${int(s.rateAchieved)} docs/s`, e2eRate ? `e2e ${int(e2eRate)}` : '', ratio(s.rateAchieved, e2eRate), '≈ 0.5', `${s.seconds.toFixed(0)} s, ${int(s.events)} events; others ${others(s.cpu)} cores`);
    row('  event→searchable p50 / p99 (search probe)', `${ms(s.probe.p50)} / ${ms(s.probe.p99)}`, '1.5 s', ratio(s.probe.p99, 1500), 'p99 < 1.5 s', `${s.probesFound}/${s.probes} probes, max ${ms(s.probe.max)}`);
    row('  event→acknowledged p50 / p99 (k2e_event_to_indexed_seconds)', `${ms(s.histogram.p50)} / ${ms(s.histogram.p99)}`, '1.5 s', ratio(s.histogram.p99, 1500), '', `${int(s.histogram.count)} records, interpolated in buckets`);
    row('  service at half load', `${fixed(s.serviceCpuPer100k)} CPU-s/100k`, '', '', '', `RSS ${mib(s.serviceRss)}; ${int(s.bulks.count)} bulks of ${int(s.bulks.meanDocs)} docs, ${fixed(s.bulks.meanSeconds * 1000, 0)} ms each, ${fixed(s.bulks.meanInFlight, 1)} in flight on average; the engine refreshed the index ${fixed(s.refresh.perSecond, 2)} times a second, ${fixed(s.refresh.meanMs, 0)} ms each`);
  }
  if (r.floor) {
    const f = r.floor;
    row(
      '  the engine alone at the same rate: event→searchable p50 / p99',
      `${ms(f.probe.p50)} / ${ms(f.probe.p99)}`,
      '1.5 s',
      ratio(f.probe.p99, 1500),
      '',
      `no Kafka, no service: a bulk every 100 ms (p50 ${ms(f.bulk.p50)}), the same probe; ${f.probes} probes; refreshed ${fixed(f.refresh.perSecond, 2)} times a second, ${fixed(f.refresh.meanMs, 0)} ms each`,
    );
  }
  if (r.profile) row(`profiled catch-up ${r.profile.label} (--cpu-prof, not used for ratios)`, `${int(r.profile.catchUp.docsPerSec)} docs/s`, ceiling ? int(ceiling) : '', ratio(r.profile.catchUp.docsPerSec, ceiling));
  const header = ['measurement', 'value', 'ceiling / reference', 'ratio', 'target', 'notes'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((cells) => `| ${cells.join(' | ')} |`)];
  return lines.join('\n');
}

export function sweepTable(runs: LoaderRun[]): string {
  if (runs.length === 0) return '';
  const sizes = [...new Set(runs.map((r) => r.bulk))].sort((a, b) => a - b);
  const lanes = [...new Set(runs.map((r) => r.concurrency))].sort((a, b) => a - b);
  const lines = [`| docs/s (sample of ${int(runs[0]!.docs)}) | ${lanes.map((c) => `${c} in flight`).join(' | ')} |`, `|---|${lanes.map(() => '---').join('|')}|`];
  for (const b of sizes) lines.push(`| bulk ${b} | ${lanes.map((c) => int(runs.find((r) => r.bulk === b && r.concurrency === c)?.docsPerSec)).join(' | ')} |`);
  return lines.join('\n');
}
