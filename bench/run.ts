// `npm run bench`: end-to-end throughput, memory, CPU and latency of the service on the local stack,
// every figure beside the ceilings measured in the same run (other jobs share these 2 cores).
//
//   1. data: N tweet-like JSON events (default 1,000,000; --quick 100,000), keyed, produced with kcat
//      into a fresh 6-partition topic
//   2. ceilings: the engine's bulk ceiling (undici loader, bulk size × concurrency swept on a sample,
//      the best run over all N, before and after the service runs) and the Kafka consume ceiling
//      (kcat -C -e and @platformatic/kafka, no indexing; the latter also with Consumer.fetch alone)
//   3. end to end: the service catches up the backlog into an empty index (docs/s, peak RSS, CPU);
//      then marker events at half that rate for 30 s, event→searchable latency by search probes and
//      by the service's k2e_event_to_indexed_seconds histogram, and the engine's own floor: the same
//      rate bulk-indexed straight from memory every 100 ms, the same probe (no Kafka, no service)
//   4. reference peer: a hand-written Python consumer (bench/peer/) over the same backlog; e2e / peer
//   5. naive baseline: one document per PUT, sequentially
//   6. one table + bench/results/<timestamp>.json; everything it created is deleted
//
// Service settings are passed through (--batch.maxDocs=2000); --variants compares more settings in the
// same run; --profile adds a catch-up under `node --cpu-prof` and summarizes where its time went.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { repoRoot } from '../scripts/stack/layout.js';
import { configSchema } from '../src/config/schema.js';
import { readState } from '../scripts/stack/state.js';
import { spawnSync } from 'node:child_process';
import { parseArgs, USAGE, type BenchArgs } from './lib/args.js';
import { writeDataFile } from './lib/data.js';
import { Engine } from './lib/engine.js';
import { createTopic, deleteGroups, deleteTopics, kcatConsume, produceFile } from './lib/kafka.js';
import { CpuMeter, cpuCount, stackPid } from './lib/proc.js';
import { formatSummary, summarizeProfile } from './lib/profile.js';
import { bulkCeiling, type CeilingRun, type E2eRun, type LatencyFloor, type LoaderRun, minCeiling, type Results, sweepTable, table } from './lib/report.js';
import { measureCatchUp, measureLatency, Service } from './lib/service.js';
import { measurePeer, setupPeerVenv } from './lib/peer.js';

const log = (message: string): void => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

let args: BenchArgs;
try {
  const parsed = parseArgs(process.argv.slice(2));
  if (parsed === 'help') {
    console.log(USAGE);
    process.exit(0);
  }
  args = parsed;
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}

// kcat (Debian's librdkafka CLI) produces the data and is the consume ceiling.
if (spawnSync('kcat', ['-V'], { stdio: 'ignore' }).status !== 0) {
  console.error('npm run bench needs kcat (librdkafka): apt-get install -y kcat');
  process.exit(2);
}

const state = readState();
const engineInfo = args.engine ? state.engines.find((e) => e.name === args.engine) : state.engines[0];
if (!engineInfo) {
  console.error(`engine ${args.engine} is not in the stack (${state.engines.map((e) => e.name).join(', ')}); start it with npm run stack -- up`);
  process.exit(2);
}
const brokers = state.brokers;
const stamp = Date.now().toString(36);
const prefix = `k2e-bench-${stamp}`;
const topic = prefix;
const resultsDir = path.join(repoRoot, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const startedAt = new Date();
const fileStamp = startedAt.toISOString().replace(/[:.]/g, '-');
const dataFile = path.join(tmpdir(), `${prefix}.tsv`);
const engine = new Engine(engineInfo.url);
const pids = { engine: stackPid(engineInfo.name), kafka: stackPid('kafka') };

// What this run created, deleted at the end whatever happens.
const created = { topics: [topic, `${topic}.dlq`], groups: [] as string[], indices: [] as string[] };
const services = new Set<Service>();
const peerAbort = new AbortController();
let interrupted = false;
const onSignal = (): void => {
  interrupted = true;
  log('interrupted: stopping and cleaning up');
  for (const s of services) s.child.kill('SIGTERM');
  peerAbort.abort();
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

const results: Results = {
  startedAt: startedAt.toISOString(),
  durationSeconds: 0,
  machine: { cpus: cpuCount(), loadavgStart: loadavg(), loadavgEnd: [], node: process.version },
  engine: { name: engineInfo.name, url: engineInfo.url, product: '?', version: '?' },
  argv: process.argv.slice(2),
  serviceFlags: args.serviceFlags,
  data: { count: args.count, partitions: args.partitions, avgValueBytes: 0, generateSeconds: 0, compression: args.compression },
  sweep: [],
  bulkCeiling: {},
  consumeCeiling: {},
  e2e: [],
  errors: [],
};

/** Runs a compiled worker of bench/workers/ in its own process; resolves to its JSON line. */
function worker<T>(name: string, workerArgs: string[]): Promise<T> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'bench', 'workers', `${name}.js`), ...workerArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !last.startsWith('{')) reject(new Error(`worker ${name} exited ${code}: ${out.slice(-2000)}`));
      else resolve(JSON.parse(last) as T);
    });
  });
}

type WorkerRun = LoaderRun & { processCpuSeconds: number };

async function ceilingRun(label: string, bulk: number, concurrency: number): Promise<CeilingRun> {
  const index = `${prefix}-ceiling-${label}`;
  created.indices.push(index);
  await engine.createIndex(index);
  const meter = new CpuMeter({ ...pids });
  const run = await worker<WorkerRun>('bulk-loader', ['full', '--file', dataFile, '--url', engineInfo!.url, '--prefix', index, '--bulk', String(bulk), '--concurrency', String(concurrency)]);
  const cpu = meter.report({ loader: run.processCpuSeconds });
  const count = await engine.count(index);
  if (count !== args.count) results.errors.push(`ceiling ${label}: index holds ${count} documents, expected ${args.count}`);
  await engine.deleteIndex(index);
  return { ...run, loaderCpuPer100k: (run.cpuSeconds / run.docs) * 1e5, engineCpuPer100k: ((cpu.seconds.engine ?? NaN) / run.docs) * 1e5, cpu };
}

let e2eCounter = 0;

/** Starts the service on `serviceTopic` into a fresh index with a fresh group; `--node:<opt>` flags go to node itself. */
async function startService(kind: string, flags: string[], serviceTopic: string, extraNodeArgs: string[] = []): Promise<{ service: Service; index: string; logFile: string }> {
  const id = e2eCounter++;
  const index = `${prefix}-${kind}-${id}`;
  created.indices.push(index);
  created.groups.push(index);
  await engine.createIndex(index);
  const logFile = path.join(resultsDir, `${fileStamp}-service-${id}.log`);
  const nodeArgs = [...flags.filter((f) => f.startsWith('--node:')).map((f) => f.slice('--node:'.length)), ...extraNodeArgs];
  const serviceFlags = flags.filter((f) => !f.startsWith('--node:'));
  const service = new Service({ brokers, topic: serviceTopic, group: index, url: engineInfo!.url, index, flags: serviceFlags, nodeArgs, logFile });
  services.add(service);
  return { service, index, logFile };
}

async function stopService(service: Service): Promise<number | null> {
  const code = await service.stop();
  services.delete(service);
  return code;
}

/** One catch-up of the whole backlog by the service, into a fresh index with a fresh group. */
async function catchUp(label: string, flags: string[], repeat: number, nodeArgs: string[] = []): Promise<E2eRun> {
  const { service, index, logFile } = await startService('e2e', flags, topic, nodeArgs);
  const timeoutMs = Math.max(120_000, (args.count / 2000) * 1000);
  const result = await measureCatchUp(service, args.count, timeoutMs, { ...pids });
  const exitCode = await stopService(service);
  const indexCount = await engine.count(index);
  await engine.deleteIndex(index);
  const run: E2eRun = { label, flags, repeat, catchUp: result, engineCpuPer100k: ((result.cpu.seconds.engine ?? NaN) / Math.max(1, result.docs)) * 1e5, indexCount, exitCode, logFile: path.relative(repoRoot, logFile) };
  if (!result.complete) results.errors.push(`e2e ${label}: only ${result.docs} of ${args.count} documents indexed before the timeout; see ${run.logFile}`);
  if (indexCount !== args.count && result.complete) results.errors.push(`e2e ${label}: index holds ${indexCount} documents, expected ${args.count}`);
  if (exitCode !== 0) results.errors.push(`e2e ${label}: the service exited with ${exitCode}; see ${run.logFile}`);
  log(`e2e ${label}: ${fmt(result.docsPerSec)} docs/s, peak RSS ${(result.peakRss / 1048576).toFixed(0)} MiB, ${result.cpuPer100k.toFixed(2)} CPU-s/100k (GC ${result.gcPer100k.toFixed(2)})`);
  return run;
}

/** The engine's own event→searchable at the steady state's rate: no Kafka, no service (bench/workers/latency-floor.ts). */
async function latencyFloor(rate: number): Promise<void> {
  const index = `${prefix}-floor`;
  created.indices.push(index);
  await engine.createIndex(index);
  try {
    results.floor = await worker<LatencyFloor>('latency-floor', ['--url', engineInfo!.url, '--index', index, '--rate', String(rate), '--seconds', String(args.steadySeconds), '--first-id', String(args.count)]);
  } finally {
    await engine.deleteIndex(index);
  }
  log(`the engine alone at ${fmt(rate)} docs/s: probe p50 ${results.floor.probe.p50.toFixed(0)} ms, p99 ${results.floor.probe.p99.toFixed(0)} ms`);
}

/**
 * Steady state: a fresh service instance on an empty "live" topic (so the backlog topic stays exactly
 * N records for every catch-up), marker events at `rate`/s.
 */
async function steadyState(label: string, flags: string[], rate: number): Promise<void> {
  const live = `${prefix}-live`;
  created.topics.push(live, `${live}.dlq`);
  await createTopic(brokers, live, args.partitions);
  const { service, index } = await startService('steady', flags, live);
  const deadline = Date.now() + 60_000;
  // Produce only once the instance owns every partition and is ready.
  for (;;) {
    const status = await service.status().catch(() => undefined);
    if (status?.ready && status.assigned.length === args.partitions) break;
    if (Date.now() > deadline || !service.running) throw new Error('steady state: the service did not become ready with all partitions within 60 s');
    await sleep(100);
  }
  log(`steady state: ${fmt(rate)} events/s for ${args.steadySeconds} s`);
  const latency = await measureLatency(service, engine, { brokers, topic: live, index, rate, seconds: args.steadySeconds, compression: args.compression, firstId: args.count }, { ...pids });
  results.steady = { ...latency, label };
  const code = await stopService(service);
  if (code !== 0) results.errors.push(`steady state: the service exited with ${code}`);
  await engine.deleteIndex(index);
  log(`steady state: probe p50 ${latency.probe.p50.toFixed(0)} ms, p99 ${latency.probe.p99.toFixed(0)} ms (${latency.probesFound}/${latency.probes})`);
}

/** The reference peer over the same backlog, with a fresh group into a fresh index (the same settings as the service's). */
async function peerRun(python: string): Promise<void> {
  const index = `${prefix}-peer`;
  created.indices.push(index);
  created.groups.push(index);
  await engine.createIndex(index);
  const logFile = path.join(resultsDir, `${fileStamp}-peer.log`);
  const timeoutMs = Math.max(120_000, (args.count / 2000) * 1000);
  const c = await measurePeer({ python, brokers, topic, group: index, url: engineInfo!.url, index, count: args.count, timeoutMs, logFile, signal: peerAbort.signal }, { ...pids });
  const indexCount = await engine.count(index);
  await engine.deleteIndex(index);
  const main = results.e2e[0]?.catchUp;
  results.peer = { catchUp: c, engineCpuPer100k: ((c.cpu.seconds.engine ?? NaN) / Math.max(1, c.docs)) * 1e5, indexCount, logFile: path.relative(repoRoot, logFile), e2eOverPeer: main?.complete && c.complete ? main.docsPerSec / c.docsPerSec : undefined };
  if (!c.complete) results.errors.push(`reference peer: only ${c.docs} of ${args.count} documents indexed; see ${results.peer.logFile}`);
  else if (indexCount !== args.count) results.errors.push(`reference peer: index holds ${indexCount} documents, expected ${args.count}`);
  if (c.exitCode !== 0 && !interrupted) results.errors.push(`reference peer exited with ${c.exitCode}; see ${results.peer.logFile}`);
  log(`reference peer: ${fmt(c.docsPerSec)} docs/s, peak RSS ${(c.peakRss / 1048576).toFixed(0)} MiB, ${c.cpuPer100k.toFixed(2)} CPU-s/100k`);
}

/** More indices than this, left by earlier runs, and the run warns that its figures are not a fresh stack's. */
const CROWDED_ENGINE = 50;

const labelOf = (flags: string[]): string => (flags.length ? flags.join(' ') : 'defaults');

async function main(): Promise<void> {
  const info = await engine.info();
  results.engine = { ...results.engine, ...info };
  log(`${args.count.toLocaleString('en-US')} events, ${info.product} ${info.version} at ${engineInfo!.url}, Kafka ${brokers}; ${results.machine.cpus} CPUs, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  // A dev stack collects every test run's indices (the tests keep theirs for inspection); with ~300 of
  // them the engine took far more CPU per document in one before/after pair (docs/benchmarks.md,
  // "A crowded engine").
  const indices = await engine.userIndexCount();
  if (indices !== undefined) results.engine.otherIndices = indices;
  if (indices !== undefined && indices > CROWDED_ENGINE) log(`warning: the engine holds ${indices} indices from earlier runs and tests; figures are slower than on a fresh stack (npm run stack -- clean deletes them, for comparable ones)`);

  // The peer's venv first, so that an install (once, ~76 MB) runs before anything is measured; without
  // it the peer is skipped, not the run.
  let peerPython: string | undefined;
  if (!args.skip.has('peer')) {
    const venv = setupPeerVenv();
    if ('python' in venv) peerPython = venv.python;
    else {
      results.peerSkipped = venv.error;
      log(`reference peer skipped: ${venv.error}`);
    }
  }

  // 1. data
  const data = await writeDataFile(dataFile, args.count);
  results.data.avgValueBytes = data.valueBytes / data.count;
  results.data.generateSeconds = data.generateSeconds;
  await createTopic(brokers, topic, args.partitions);
  results.produce = await produceFile(brokers, topic, dataFile, args.count, data.valueBytes, args.compression);
  log(`produced ${fmt(args.count)} events (avg ${results.data.avgValueBytes.toFixed(0)} bytes) at ${fmt(results.produce.recordsPerSec)}/s into ${topic}`);

  // 2a. engine warm-up, sweep, bulk ceiling
  const warmIndex = `${prefix}-warmup`;
  created.indices.push(warmIndex);
  await engine.createIndex(warmIndex);
  results.warmup = await worker<WorkerRun>('bulk-loader', ['warmup', '--file', dataFile, '--url', engineInfo!.url, '--prefix', warmIndex, '--docs', String(args.warmupDocs), '--bulk', '2000', '--concurrency', '4']);
  await engine.deleteIndex(warmIndex);
  log(`engine warmed up: ${fmt(results.warmup.docsPerSec)} docs/s`);
  let best = { bulk: 5000, concurrency: 4 };
  if (!args.skip.has('sweep')) {
    const specs = [1000, 2000, 5000].flatMap((b) => [2, 4, 8].map((c) => `${b}x${c}`));
    const sweep = await worker<{ runs: LoaderRun[] }>('bulk-loader', ['sweep', '--file', dataFile, '--url', engineInfo!.url, '--prefix', `${prefix}-sweep`, '--docs', String(args.sweepSample), '--sweep', specs.join(',')]);
    results.sweep = sweep.runs;
    const top = sweep.runs.reduce((a, b) => (b.docsPerSec > a.docsPerSec ? b : a));
    best = { bulk: top.bulk, concurrency: top.concurrency };
    log(`sweep best: ${best.bulk} × ${best.concurrency} (${fmt(top.docsPerSec)} docs/s on ${fmt(top.docs)})`);
  }
  results.bulkCeiling.before = await ceilingRun('before', best.bulk, best.concurrency);
  log(`bulk ceiling: ${fmt(results.bulkCeiling.before.docsPerSec)} docs/s`);

  // 2b. consume ceilings
  if (!args.skip.has('kcat')) {
    const meter = new CpuMeter({ ...pids });
    const k = await kcatConsume(brokers, topic, args.count);
    meter.report();
    results.consumeCeiling.kcat = { ...k, cpuPer100k: ((k.cpuSeconds ?? NaN) / k.records) * 1e5 };
    log(`kcat consume: ${fmt(k.recordsPerSec)} records/s`);
  }
  if (!args.skip.has('consume')) {
    const group = `${prefix}-consume`;
    created.groups.push(group);
    // The service's own fetch settings: its defaults, or what the run passes to it.
    const defaults = configSchema.shape.kafka.parse({ brokers: ['x:1'], topics: ['x'] });
    const flag = (key: string, fallback: number): string => args.serviceFlags.find((f) => f.startsWith(`--${key}=`))?.split('=')[1] ?? String(fallback);
    const fetchSettings = [
      '--brokers', brokers, '--topic', topic, '--count', String(args.count),
      '--max-bytes', flag('kafka.maxBytes', defaults.maxBytes),
      '--max-bytes-per-partition', flag('kafka.maxBytesPerPartition', defaults.maxBytesPerPartition),
      '--max-wait-ms', flag('kafka.maxWaitMs', defaults.maxWaitMs),
    ];
    type Consumed = { records: number; seconds: number; recordsPerSec: number; cpuSeconds: number; peakRss: number };
    const p = await worker<Consumed>('consume', [...fetchSettings, '--group', group]);
    results.consumeCeiling.platformatic = { ...p, cpuPer100k: (p.cpuSeconds / p.records) * 1e5 };
    log(`@platformatic/kafka consume: ${fmt(p.recordsPerSec)} records/s`);
    const f = await worker<Consumed>('consume-fetch', fetchSettings);
    results.consumeCeiling.platformaticFetch = { ...f, cpuPer100k: (f.cpuSeconds / f.records) * 1e5 };
    log(`@platformatic/kafka Consumer.fetch only: ${fmt(f.recordsPerSec)} records/s`);
  }

  // 3. end to end: the defaults (+ global flags) first, then each variant; repeated, interleaved
  const configs = [args.serviceFlags, ...args.variants.map((v) => [...args.serviceFlags, ...v])];
  for (let repeat = 0; repeat < args.repeat && !interrupted; repeat++) {
    for (const flags of configs) {
      if (interrupted) break;
      results.e2e.push(await catchUp(labelOf(flags), flags, repeat));
    }
  }

  // 4. the reference peer, right after the service's catch-ups (the machine in the same state)
  if (peerPython && !interrupted) await peerRun(peerPython);

  if (args.profile && !interrupted) {
    const dir = path.join(resultsDir, `${fileStamp}-profile`);
    mkdirSync(dir, { recursive: true });
    const label = labelOf(args.serviceFlags);
    const run = await catchUp(`${label} (profiled)`, args.serviceFlags, 0, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(dir, f));
    // Only the catch-up: start-up (module loading, schema compilation) and shutdown are cut off.
    const summaries = files.map((f) => summarizeProfile(f, 30, run.catchUp.monotonicUs)).sort((a, b) => b.sampledSeconds - a.sampledSeconds);
    results.profile = { label, catchUp: run.catchUp, summaries };
    for (const s of summaries) console.error(formatSummary({ ...s, file: path.relative(repoRoot, s.file) }));
  }

  const main = results.e2e[0];
  if (!args.skip.has('steady') && !interrupted && main?.catchUp.complete) {
    const rate = args.rate ?? Math.max(100, Math.round(main.catchUp.docsPerSec / 2));
    await steadyState(main.label, main.flags, rate);
    if (!args.skip.has('floor') && !interrupted) await latencyFloor(rate);
  }

  if (!args.skip.has('after') && !interrupted) {
    results.bulkCeiling.after = await ceilingRun('after', best.bulk, best.concurrency);
    log(`bulk ceiling (after): ${fmt(results.bulkCeiling.after.docsPerSec)} docs/s`);
  }

  // 5. naive baseline
  if (!args.skip.has('naive') && !interrupted) {
    const index = `${prefix}-naive`;
    const group = `${prefix}-naive`;
    created.indices.push(index);
    created.groups.push(group);
    await engine.createIndex(index);
    results.naive = await worker('naive', ['--brokers', brokers, '--topic', topic, '--group', group, '--count', String(args.naiveCount), '--url', engineInfo!.url, '--index', index]);
    await engine.deleteIndex(index);
    log(`naive: ${fmt(results.naive!.docsPerSec)} docs/s`);
  }
}

async function cleanup(): Promise<void> {
  for (const s of services) await s.stop().catch(() => undefined);
  for (const index of created.indices) await engine.deleteIndex(index);
  await deleteGroups(brokers, created.groups);
  await deleteTopics(brokers, created.topics);
  rmSync(dataFile, { force: true });
  await engine.close();
}

let failed = false;
try {
  await main();
} catch (error) {
  failed = true;
  results.errors.push((error as Error).stack ?? String(error));
  console.error(error);
} finally {
  await cleanup().catch((error: unknown) => console.error('cleanup failed:', error));
}
results.machine.loadavgEnd = loadavg();
results.durationSeconds = (Date.now() - startedAt.getTime()) / 1000;
const jsonFile = path.join(resultsDir, `${fileStamp}.json`);
writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`);

const min = minCeiling(results);
console.log(`\n## kafka-to-elastic benchmark, ${results.startedAt.slice(0, 19)}Z: ${results.data.count.toLocaleString('en-US')} events (avg ${results.data.avgValueBytes.toFixed(0)} B, ${results.data.partitions} partitions, ${results.data.compression}), ${results.engine.product} ${results.engine.version}${results.engine.otherIndices ? ` holding ${results.engine.otherIndices} other ${results.engine.otherIndices === 1 ? 'index' : 'indices'}` : ''}, ${results.machine.cpus} CPUs\n`);
console.log(table(results));
if (results.sweep.length) console.log(`\nBulk ceiling sweep (${results.engine.product}):\n\n${sweepTable(results.sweep)}`);
const main0 = results.e2e[0];
if (min && main0) {
  const bulk = bulkCeiling(results);
  console.log(
    `\ne2e / min(ceilings) = ${(main0.catchUp.docsPerSec / min.docsPerSec).toFixed(2)} (target ≥ 0.85)` +
      (results.peer?.e2eOverPeer ? `, e2e / peer = ${results.peer.e2eOverPeer.toFixed(2)}× (target ≥ 1.5×)` : '') +
      (results.naive ? `, e2e / naive = ${(main0.catchUp.docsPerSec / results.naive.docsPerSec).toFixed(1)}× (target ≥ 3×)` : '') +
      `, peak RSS ${(main0.catchUp.peakRss / 1048576).toFixed(0)} MiB (target < 200), service ${main0.catchUp.cpuPer100k.toFixed(2)} CPU-s/100k (target ≤ 0.7)` +
      (results.steady ? `, p99 event→searchable ${results.steady.probe.p99.toFixed(0)} ms at half load (target < 1500)` : '') +
      (bulk ? `; the bulk ceiling was ${bulk === min.docsPerSec ? 'the lowest' : 'not the lowest'}` : ''),
  );
}
if (results.errors.length) console.log(`\nerrors:\n${results.errors.map((e) => `- ${e}`).join('\n')}`);
console.log(`\nload average ${results.machine.loadavgStart.map((l) => l.toFixed(2)).join(' ')} → ${results.machine.loadavgEnd.map((l) => l.toFixed(2)).join(' ')}; ${results.durationSeconds.toFixed(0)} s; results: ${path.relative(repoRoot, jsonFile)}`);
process.exitCode = failed || interrupted ? 1 : 0;
