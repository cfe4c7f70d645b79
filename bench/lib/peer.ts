// The reference peer (issue 12): bench/peer/python_consumer.py, a consumer of the kind a team writes by
// hand (confluent-kafka + opensearch-py parallel_bulk), run over the same backlog as the service into
// its own empty index, and timed the way the service's catch-up is (see peerRate).
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from '../../scripts/stack/layout.js';
import { CpuMeter, type CpuReport } from './proc.js';

/** What the peer prints once a batch's bulks are acknowledged (its own clock and its own CPU/RSS). */
export interface PeerProgress {
  /** time.monotonic(), seconds. */
  t: number;
  /** Records acknowledged by the engine so far. */
  indexed: number;
  /** time.process_time(): user+system CPU of all its threads (librdkafka's too), seconds. */
  cpu: number;
  /** ru_maxrss in bytes: the same figure as /proc/<pid>/status VmHWM. */
  rss: number;
}

export interface PeerCatchUp {
  complete: boolean;
  /** Records acknowledged by the end (the last progress line). */
  docs: number;
  seconds: number;
  docsPerSec: number;
  /** From the spawn to the first acknowledged batch (interpreter, imports, group join, first bulk). */
  startupSeconds: number;
  cpuPer100k: number;
  peakRss: number;
  batches: number;
  exitCode: number | null;
  cpu: CpuReport;
}

/**
 * The catch-up rate from the peer's progress lines, with the estimator of the service's catch-up
 * (bench/lib/service.ts measureCatchUp): the documents acknowledged after the first acknowledgement
 * seen, over the time from that one to the N-th document. The service's figures come from /status
 * polled every 100 ms (the first poll with documents, the last one interpolated); the peer's from the
 * instants it reports itself, so they carry no polling error.
 */
export function peerRate(progress: PeerProgress[], count: number): { complete: boolean; docs: number; seconds: number; docsPerSec: number; cpuPer100k: number; peakRss: number } {
  const first = progress[0];
  const last = progress.find((p) => p.indexed >= count) ?? progress.at(-1);
  if (!first || !last) return { complete: false, docs: 0, seconds: 0, docsPerSec: 0, cpuPer100k: NaN, peakRss: 0 };
  const docs = last.indexed - first.indexed;
  const seconds = last.t - first.t;
  return {
    complete: last.indexed >= count,
    docs: last.indexed,
    seconds,
    // A backlog of one batch has no interval to measure.
    docsPerSec: seconds > 0 ? docs / seconds : NaN,
    cpuPer100k: docs > 0 ? ((last.cpu - first.cpu) / docs) * 1e5 : NaN,
    peakRss: Math.max(...progress.map((p) => p.rss)),
  };
}

/** Creates (or finds) the peer's venv with scripts/bench/setup-peer-venv.sh: its python, or why not. */
export function setupPeerVenv(): { python: string } | { error: string } {
  const script = path.join(repoRoot, 'scripts', 'bench', 'setup-peer-venv.sh');
  const run = spawnSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
  const python = run.stdout?.trim().split('\n').at(-1);
  if (run.status === 0 && python) return { python };
  const why = run.error?.message ?? (run.stderr || `exit ${run.status}`).trim().split('\n').slice(-3).join(' / ');
  return { error: `${path.relative(repoRoot, script)} failed: ${why}` };
}

export interface PeerOptions {
  python: string;
  brokers: string;
  topic: string;
  group: string;
  url: string;
  index: string;
  count: number;
  timeoutMs: number;
  logFile: string;
  /** Aborting (Ctrl-C) terminates the peer. */
  signal: AbortSignal;
}

/** Runs the peer until it has indexed `count` records and exits; CPU of the machine split over the same window. */
export async function measurePeer(o: PeerOptions, named: Record<string, number | undefined>): Promise<PeerCatchUp> {
  const spawnedAt = performance.now();
  const log = createWriteStream(o.logFile);
  const child = spawn(o.python, [path.join(repoRoot, 'bench', 'peer', 'python_consumer.py'), '--brokers', o.brokers, '--topic', o.topic, '--group', o.group, '--url', o.url, '--index', o.index, '--count', String(o.count)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    signal: o.signal,
  });
  // 'close' gives the exit code (also after an abort, which emits 'error' first); a python that never
  // started has none.
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', () => child.pid === undefined && resolve(null));
    child.once('close', (code) => resolve(code));
  });
  child.stderr.pipe(log, { end: false });
  const progress: PeerProgress[] = [];
  let meter: CpuMeter | undefined;
  let report: CpuReport | undefined;
  let startupSeconds = NaN;
  const timer = setTimeout(() => child.kill('SIGTERM'), o.timeoutMs);
  // The machine's CPU is split over the same window as the rate: first acknowledged batch to the N-th record.
  for await (const line of createInterface({ input: child.stdout })) {
    log.write(`${line}\n`);
    const p = line.startsWith('{') ? (JSON.parse(line) as PeerProgress) : undefined;
    if (!p) continue;
    if (!meter) {
      meter = new CpuMeter({ ...named, peer: child.pid });
      startupSeconds = (performance.now() - spawnedAt) / 1000;
    }
    progress.push(p);
    if (p.indexed >= o.count) report ??= meter.report();
  }
  const exitCode = await exited;
  clearTimeout(timer);
  log.end();
  const rate = peerRate(progress, o.count);
  return { ...rate, startupSeconds, batches: progress.length, exitCode, cpu: report ?? (meter ?? new CpuMeter({})).report() };
}
