// `npm run demo`: the quick start. Starts the local stack, creates a `tweets` topic, produces
// tweet-like JSON events at a steady rate and runs the service, printing how many documents are
// searchable and how to query them. Ctrl-C stops the producer and the service (the stack stays up).
import { Admin, Producer } from '@platformatic/kafka';
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { readLayout, repoRoot } from './stack/layout.js';
import { readState } from './stack/state.js';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '50' },
    seconds: { type: 'string' },
    topic: { type: 'string', default: 'tweets' },
  },
});
const rate = Number(args.rate);
const topic = args.topic;

const up = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'scripts', 'stack', 'cli.js'), 'up'], { stdio: 'inherit' });
if (up.status !== 0) process.exit(up.status ?? 1);
const state = readState();
const engine = state.engines[0]!;

const admin = new Admin({ clientId: 'k2e-demo', bootstrapBrokers: [state.brokers] });
if (!(await admin.listTopics()).includes(topic)) await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
await admin.close();

const logFile = path.join(readLayout().home, 'logs', 'demo-service.log');
mkdirSync(path.dirname(logFile), { recursive: true });
const serviceLog = createWriteStream(logFile, { flags: 'a' });
const service = spawn(process.execPath, [path.join(repoRoot, 'bin', 'kafka-to-elastic.js'), 'run'], {
  env: { ...process.env, K2E_BROKERS: state.brokers, K2E_TOPICS: topic, K2E_INDEX: topic, K2E_ELASTIC_URL: engine.url, K2E_GROUP_ID: 'kafka-to-elastic-demo' },
  stdio: ['ignore', 'pipe', 'pipe'],
});
service.stdout.pipe(serviceLog);
service.stderr.pipe(serviceLog);

const words = ['kafka', 'elasticsearch', 'opensearch', 'stream', 'index', 'consumer', 'offset', 'partition', 'bulk', 'search'];
const pick = <T>(list: T[]): T => list[Math.floor(Math.random() * list.length)]!;
const producer = new Producer({ clientId: 'k2e-demo-producer', bootstrapBrokers: [state.brokers], idempotent: true });
let produced = 0;
let stopping = false;
const stopAt = args.seconds ? Date.now() + Number(args.seconds) * 1000 : Infinity;

console.log(`\n[demo] producing ${rate} tweets/s to topic "${topic}"; the service indexes them into ${engine.name} index "${topic}".`);
console.log(`[demo] search them:  curl '${engine.url}/${topic}/_search?q=text:kafka&size=3&pretty'`);
console.log(`[demo] service log: ${logFile}; status: curl http://127.0.0.1:${process.env.K2E_HTTP_PORT ?? 8080}/status`);
console.log('[demo] Ctrl-C stops the demo; `npm run stack -- down` stops Kafka and the search engine.\n');

async function count(): Promise<number | string> {
  try {
    const response = await fetch(`${engine.url}/${topic}/_count`);
    return ((await response.json()) as { count?: number }).count ?? '?';
  } catch {
    return '?';
  }
}

const reporter = setInterval(() => {
  void count().then((n) => console.log(`[demo] produced ${produced}, searchable ${n}`));
}, 2000);

process.once('SIGINT', () => (stopping = true));
process.once('SIGTERM', () => (stopping = true));
while (!stopping && Date.now() < stopAt && service.exitCode === null) {
  const tick = Date.now();
  const batch = Math.max(1, Math.round(rate / 10));
  await producer.send({
    messages: Array.from({ length: batch }, () => {
      const id = `${Date.now()}-${produced++}`;
      const tweet = { id, userId: Math.floor(Math.random() * 1000), text: `${pick(words)} ${pick(words)} ${pick(words)}`, createdAt: new Date().toISOString() };
      return { topic, key: Buffer.from(id), value: Buffer.from(JSON.stringify(tweet)) };
    }),
  });
  await sleep(Math.max(0, 100 - (Date.now() - tick)));
}
await producer.close();
await sleep(1500); // let the last records arrive
clearInterval(reporter);
service.kill('SIGTERM');
const code = await new Promise<number | null>((resolve) => service.once('exit', resolve));
console.log(`[demo] stopped: produced ${produced}, searchable ${await count()}; service exit code ${code}`);
process.exitCode = code === 0 ? 0 : 1;
