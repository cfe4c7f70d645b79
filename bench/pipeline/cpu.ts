// `npm run bench:cpu`: the service's own CPU per record on the pass-through path, without Kafka and
// without a real engine: the real Pipeline (decode, transform, batching, bulk bodies, response
// handling, commits) fed by a scripted source that behaves like the client (pausable), writing to a
// fake engine in another process (its CPU is not counted). Figures: CPU µs per record, ops/s, heap.
// Stable on a busy machine in a way the end-to-end benchmark is not, so it is the one to compare
// hot-path changes with (several repeats; the minimum is the figure).
import { fork } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { CommitRequest } from '../../src/source/kafka-source.js';
import type { SourceRecord } from '../../src/source/record.js';
import { createLogger } from '../../src/util/logger.js';
import { FakeSource } from '../../test/helpers/fake-source.js';
import { tweet, tweetKey } from '../lib/data.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const count = Number(args.get('count') ?? 200_000);
const repeats = Number(args.get('repeat') ?? 3);
const partitions = 6;
const flags = [...args].filter(([k]) => k.includes('.')).map(([k, v]) => `--${k}=${v}`);

/** Delivers pre-built records partition by partition in fetch-sized runs, honouring pause(). */
class ReplaySource extends FakeSource {
  committed = new Map<number, bigint>();
  #wake: (() => void) | undefined;
  constructor(private readonly records: SourceRecord[][]) {
    super();
  }
  override resume(): void {
    super.resume();
    this.#wake?.();
  }
  async commit(offsets: readonly CommitRequest[]): Promise<void> {
    for (const o of offsets) this.committed.set(o.partition, o.offset);
  }
  /** Like a fetch loop: runs of ~1,000 records per partition, round robin, yielding between runs. */
  async replay(): Promise<void> {
    this.handlers.onAssigned({ partitions: this.records.map((_, p) => `t:${p}`), generation: 1, memberId: 'bench' });
    const next = this.records.map(() => 0);
    for (let more = true; more; ) {
      more = false;
      for (let p = 0; p < this.records.length; p++) {
        const list = this.records[p]!;
        const end = Math.min(list.length, next[p]! + 1000);
        for (let i = next[p]!; i < end; i++) this.handlers.onRecord(list[i]!);
        next[p] = end;
        if (end < list.length) more = true;
        while (this.paused) await new Promise<void>((resolve) => (this.#wake = resolve));
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }
}

function buildRecords(): SourceRecord[][] {
  const byPartition: SourceRecord[][] = Array.from({ length: partitions }, () => []);
  for (let i = 0; i < count; i++) {
    const partition = i % partitions;
    const list = byPartition[partition]!;
    list.push({ topic: 't', partition, offset: BigInt(list.length), timestamp: BigInt(Date.now()), key: Buffer.from(tweetKey(i)), value: Buffer.from(tweet(i)), headers: new Map() });
  }
  return byPartition;
}

async function runOnce(url: string, records: SourceRecord[][]): Promise<{ cpuMicros: number; seconds: number; heapMb: number }> {
  const config = loadConfig({ env: { K2E_TOPICS: 't', K2E_INDEX: 'bench', K2E_ELASTIC_URL: url }, flags });
  const source = new ReplaySource(records);
  const pipeline = new Pipeline(config, createLogger('warn'), new Metrics(), { source });
  await pipeline.start();
  const ends = records.map((list) => BigInt(list.length));
  const started = performance.now();
  const cpu = process.cpuUsage();
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

const engine = fork(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fake-engine.js'), { stdio: 'inherit' });
const [{ port }] = (await once(engine, 'message')) as [{ port: number }];
try {
  const records = buildRecords();
  const runs = [];
  for (let r = 0; r < repeats; r++) {
    const run = await runOnce(`http://127.0.0.1:${port}`, records);
    runs.push(run);
    console.log(`run ${r + 1}: ${(run.cpuMicros / count).toFixed(2)} CPU-µs/record, ${Math.round(count / run.seconds).toLocaleString('en')} records/s, heap peak ${run.heapMb.toFixed(0)} MiB`);
  }
  const best = Math.min(...runs.map((r) => r.cpuMicros / count));
  console.log(`pipeline CPU (best of ${repeats}, ${count.toLocaleString('en')} records${flags.length ? `, ${flags.join(' ')}` : ''}): ${best.toFixed(2)} µs/record = ${((best * 100_000) / 1e6).toFixed(2)} CPU-s per 100k`);
} finally {
  engine.kill();
}
