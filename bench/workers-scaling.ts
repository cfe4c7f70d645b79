// `npm run bench:workers`: does `workers: N` turn free cores into throughput when the service itself
// is the bottleneck? The real service and the real Kafka, but the stand-in engine of bench/pipeline
// (its own process, answers every bulk at once), so no search engine competes with the service for
// the cores. Catch-ups of one backlog with each worker count, interleaved, each with a fresh group.
// On a shared machine the figures move with the load: compare within one run.
//   npm run bench:workers -- [--count 200000] [--workers 1,2] [--repeat 2] [--<config.key>=<value>...]
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDataFile } from './lib/data.js';
import { createTopic, deleteGroups, deleteTopics, produceFile } from './lib/kafka.js';
import { cpuSeconds } from './lib/proc.js';
import { measureCatchUp, Service } from './lib/service.js';

const options = new Map<string, string>();
const serviceFlags: string[] = [];
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i]!;
  if (arg.includes('=') && arg.slice(2).includes('.')) serviceFlags.push(arg);
  else options.set(arg.replace(/^--/, ''), process.argv[++i] ?? '');
}
const count = Number(options.get('count') ?? 200_000);
const counts = (options.get('workers') ?? '1,2').split(',').map(Number);
const repeat = Number(options.get('repeat') ?? 2);
const brokers = process.env.K2E_BROKERS ?? '127.0.0.1:9092';
const here = path.dirname(fileURLToPath(import.meta.url));

const engine = fork(path.join(here, 'pipeline', 'fake-engine.js'), { stdio: 'ignore' });
const [{ port }] = (await once(engine, 'message')) as [{ port: number }];
const topic = `k2e-bench-workers-${Date.now().toString(36)}`;
const groups: string[] = [];
const dataFile = path.join(tmpdir(), `${topic}.tsv`);
try {
  await createTopic(brokers, topic, 6);
  const data = await writeDataFile(dataFile, count);
  await produceFile(brokers, topic, dataFile, count, data.valueBytes, 'lz4');
  console.log(`${count.toLocaleString('en-US')} events in ${topic} (6 partitions); stand-in engine on port ${port}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log('| workers | docs/s | service cores | service CPU-s/100k | peak RSS | stand-in engine cores | load (1 min) |');
  console.log('|---|---|---|---|---|---|---|');
  for (let r = 0; r < repeat; r++) {
    for (const workers of counts) {
      const group = `${topic}-${r}-${workers}`;
      groups.push(group);
      const service = new Service({ brokers, topic, group, url: `http://127.0.0.1:${port}`, index: 'stand-in', flags: [`--workers=${workers}`, ...serviceFlags], nodeArgs: [], logFile: path.join(tmpdir(), `${group}.log`) });
      const engineBefore = cpuSeconds(engine.pid!) ?? NaN;
      const run = await measureCatchUp(service, count, 300_000, {});
      const engineCores = ((cpuSeconds(engine.pid!) ?? NaN) - engineBefore) / run.seconds;
      await service.stop();
      const cores = (run.cpuPer100k * run.docs) / 1e5 / run.seconds;
      console.log(`| ${workers} | ${Math.round(run.docsPerSec).toLocaleString('en-US')} | ${cores.toFixed(2)} | ${run.cpuPer100k.toFixed(2)} | ${(run.peakRss / 1048576).toFixed(0)} MiB | ${engineCores.toFixed(2)} | ${loadavg()[0]!.toFixed(2)} |`);
    }
  }
} finally {
  engine.kill();
  rmSync(dataFile, { force: true });
  await deleteGroups(brokers, groups).catch(() => undefined);
  await deleteTopics(brokers, [topic]).catch(() => undefined);
}
