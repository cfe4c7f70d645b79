// `npm run bench:cpu`: the service's own CPU per record on the pass-through path, without Kafka and
// without a real engine: the real Pipeline (decode, transform, batching, bulk bodies, response
// handling, commits) fed by a scripted source that behaves like the client (pausable), writing to a
// fake engine in another process (its CPU is not counted). Figures: CPU µs per record, ops/s, heap.
// Like the service, the pipeline runs in a worker thread with the service's V8 limits (maxHeapMb,
// maxYoungGenerationMb), and every record is a fresh object over a shared buffer, as the fetch loop
// makes them: so garbage collection costs what it costs in the service. The CPU counted is the whole
// process's (V8's helper threads do most of the collecting). Stable on a busy machine in a way the
// end-to-end benchmark is not, so it is the one to compare hot-path changes with (several repeats;
// the minimum is the figure).
import { fork } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { setHeapGrowth, threadResourceLimits } from '../../src/service/thread-limits.js';
import { loadConfig } from '../../src/config/load.js';
import { buildPipeline } from '../../src/pipeline/build.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { createLogger } from '../../src/util/logger.js';
import { tweet, tweetKey } from '../lib/data.js';
import { type PartitionData, ReplaySource } from './replay-source.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const count = Number(args.get('count') ?? 200_000);
const repeats = Number(args.get('repeat') ?? 3);
const partitions = 6;
const flags = [...args].filter(([k]) => k !== 'count' && k !== 'repeat').map(([k, v]) => `--${k}=${v}`);

function buildData(): PartitionData[] {
  const lists: Buffer[][] = Array.from({ length: partitions }, () => []);
  for (let i = 0; i < count; i++) lists[i % partitions]!.push(Buffer.from(tweetKey(i)), Buffer.from(tweet(i)));
  return lists.map((list) => {
    const bounds = new Uint32Array((list.length / 2) * 3);
    let at = 0;
    for (let r = 0; r < list.length / 2; r++) {
      bounds[r * 3] = at;
      at += list[r * 2]!.length;
      bounds[r * 3 + 1] = at;
      at += list[r * 2 + 1]!.length;
      bounds[r * 3 + 2] = at;
    }
    return { bytes: Buffer.concat(list), bounds, count: list.length / 2 };
  });
}

type Run = { cpuMicros: number; seconds: number; heapMb: number };

async function runOnce(url: string, data: PartitionData[]): Promise<Run> {
  const config = loadConfig({ env: { K2E_TOPICS: 't', K2E_INDEX: 'bench', K2E_ELASTIC_URL: url }, flags });
  const source = new ReplaySource('t', data);
  const pipeline = buildPipeline(config, createLogger('warn'), new Metrics(), { source });
  await pipeline.start();
  const ends = data.map((d) => BigInt(d.count));
  const started = performance.now();
  const cpu = process.cpuUsage(); // the whole process: this thread, V8's helper threads, the idle main thread
  let heap = 0;
  const sampler = setInterval(() => (heap = Math.max(heap, process.memoryUsage().heapUsed)), 50);
  await source.replay();
  while (!ends.every((end, p) => source.committed.get(p) === end)) await new Promise((resolve) => setTimeout(resolve, 5));
  const used = process.cpuUsage(cpu);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  await pipeline.stop();
  return { cpuMicros: used.user + used.system, seconds, heapMb: heap / 2 ** 20 };
}

if (isMainThread) {
  const engine = fork(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fake-engine.js'), { stdio: 'inherit' });
  const [{ port }] = (await once(engine, 'message')) as [{ port: number }];
  try {
    // The service's thread limits, from the same settings (and flags: --maxYoungGenerationMb=0).
    const config = loadConfig({ env: { K2E_TOPICS: 't', K2E_INDEX: 'bench', K2E_ELASTIC_URL: 'http://127.0.0.1:1' }, flags });
    const resourceLimits = threadResourceLimits(config.maxHeapMb, config.maxYoungGenerationMb);
    setHeapGrowth(config.heapGrowthPercent);
    const thread = new Worker(fileURLToPath(import.meta.url), { argv: process.argv.slice(2), workerData: { url: `http://127.0.0.1:${port}` }, ...(resourceLimits ? { resourceLimits } : {}) });
    const runs: Run[] = [];
    thread.on('message', (run: Run) => {
      runs.push(run);
      console.log(`run ${runs.length}: ${(run.cpuMicros / count).toFixed(2)} CPU-µs/record, ${Math.round(count / run.seconds).toLocaleString('en')} records/s, heap peak ${run.heapMb.toFixed(0)} MiB`);
    });
    await once(thread, 'exit');
    const best = Math.min(...runs.map((r) => r.cpuMicros / count));
    const growth = config.heapGrowthPercent > 0 ? `, heap growth ${config.heapGrowthPercent}%` : '';
    const limits = resourceLimits ? `young ${resourceLimits.maxYoungGenerationSizeMb ?? 'V8 default'} MiB, heap cap ${resourceLimits.maxOldGenerationSizeMb} MiB${growth}` : 'no heap cap';
    console.log(`pipeline CPU (best of ${repeats}, ${count.toLocaleString('en')} records, ${limits}${flags.length ? `, ${flags.join(' ')}` : ''}): ${best.toFixed(2)} µs/record = ${((best * 100_000) / 1e6).toFixed(2)} CPU-s per 100k`);
  } finally {
    engine.kill();
  }
} else {
  const data = buildData();
  for (let r = 0; r < repeats; r++) parentPort!.postMessage(await runOnce((workerData as { url: string }).url, data));
}
