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
import type { CommitRequest } from '../../src/source/kafka-source.js';
import { NO_HEADERS } from '../../src/source/record-batches.js';
import type { SourceRecord } from '../../src/source/record.js';
import { createLogger } from '../../src/util/logger.js';
import { FakeSource } from '../../test/helpers/fake-source.js';
import { tweet, tweetKey } from '../lib/data.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const count = Number(args.get('count') ?? 200_000);
const repeats = Number(args.get('repeat') ?? 3);
const partitions = 6;
const flags = [...args].filter(([k]) => k !== 'count' && k !== 'repeat').map(([k, v]) => `--${k}=${v}`);

/** One partition's keys and values, back to back in one buffer (as a fetched batch holds them). */
interface PartitionData {
  bytes: Buffer;
  /** Per record: key start, key end (= value start), value end. */
  bounds: Uint32Array;
  count: number;
}

/** Delivers fresh records partition by partition in fetch-sized runs, honouring pause(). */
class ReplaySource extends FakeSource {
  committed = new Map<number, bigint>();
  #wake: (() => void) | undefined;
  constructor(private readonly data: PartitionData[]) {
    super();
  }
  override resume(): void {
    super.resume();
    this.#wake?.();
  }
  async commit(offsets: readonly CommitRequest[]): Promise<void> {
    for (const o of offsets) this.committed.set(o.partition, o.offset);
  }
  /** Like the fetch loop: runs of ~1,000 records per partition, round robin, yielding between runs. */
  async replay(): Promise<void> {
    this.handlers.onAssigned({ partitions: this.data.map((_, p) => `t:${p}`), generation: 1, memberId: 'bench' });
    const next = this.data.map(() => 0);
    const timestamp = BigInt(Date.now());
    for (let more = true; more; ) {
      more = false;
      for (let partition = 0; partition < this.data.length; partition++) {
        const { bytes, bounds, count } = this.data[partition]!;
        const end = Math.min(count, next[partition]! + 1000);
        for (let i = next[partition]!; i < end; i++) {
          const at = i * 3;
          const record: SourceRecord = { topic: 't', partition, offset: BigInt(i), timestamp, key: bytes.subarray(bounds[at], bounds[at + 1]), value: bytes.subarray(bounds[at + 1], bounds[at + 2]), headers: NO_HEADERS as Map<string, Buffer> };
          this.handlers.onRecord(record);
        }
        next[partition] = end;
        if (end < count) more = true;
        while (this.paused) await new Promise<void>((resolve) => (this.#wake = resolve));
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }
}

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
  const source = new ReplaySource(data);
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
