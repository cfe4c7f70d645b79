// `npm run demo`: the quick start, the course's flow end to end. Starts the local stack, produces
// tweets (TwitterAvroModel, Avro with the schema in the registry; JSON when the stack runs no
// registry) at a steady rate, and runs the service with examples/twitter/config.yaml, which maps them
// to TwitterIndexModel documents. Prints how many are searchable and how to query them. Ctrl-C stops
// the producer and the service (the stack stays up).
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { demoProduce } from '../src/cli/demo-produce.js';
import { readLayout, repoRoot } from './stack/layout.js';
import { readState } from './stack/state.js';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '50' },
    seconds: { type: 'string' },
    topic: { type: 'string', default: 'twitter-topic' },
    format: { type: 'string' },
  },
});
const topic = args.topic;
const index = topic === 'twitter-topic' ? 'twitter-index' : topic;

const up = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'scripts', 'stack', 'cli.js'), 'up'], { stdio: 'inherit' });
if (up.status !== 0) process.exit(up.status ?? 1);
const state = readState() as ReturnType<typeof readState> & { registry?: string };
const engine = state.engines[0]!;
const format = (args.format ?? (state.registry ? 'avro' : 'json')) as 'avro' | 'json';

const logFile = path.join(readLayout().home, 'logs', 'demo-service.log');
mkdirSync(path.dirname(logFile), { recursive: true });
const serviceLog = createWriteStream(logFile, { flags: 'a' });
const service = spawn(
  process.execPath,
  [
    path.join(repoRoot, 'bin', 'kafka-to-elastic.js'),
    'run',
    '--config',
    path.join(repoRoot, 'examples', 'twitter', 'config.yaml'),
    `--decode.format=${format}`,
    `--decode.readerSchemaFile=${path.join(repoRoot, 'examples', 'twitter', 'twitter-avro-model.avsc')}`,
    `--elastic.indexDefinitionFile=${path.join(repoRoot, 'examples', 'twitter', 'twitter-index-model.json')}`,
    ...(state.registry ? [`--schemaRegistry.url=${state.registry}`] : []),
  ],
  {
    env: { ...process.env, K2E_BROKERS: state.brokers, K2E_TOPICS: topic, K2E_INDEX: index, K2E_ELASTIC_URL: engine.url, K2E_GROUP_ID: `${topic}-demo` },
    stdio: ['ignore', 'pipe', 'pipe'],
  },
);
service.stdout.pipe(serviceLog);
service.stderr.pipe(serviceLog);
// Whatever happens to the demo (an error, Ctrl-C twice), the service must not outlive it.
process.once('exit', () => service.kill('SIGTERM'));
let serviceOutput = '';
service.stdout.on('data', (chunk: Buffer) => (serviceOutput += chunk.toString()));

async function count(): Promise<number | string> {
  try {
    const response = await fetch(`${engine.url}/${index}/_count`);
    return ((await response.json()) as { count?: number }).count ?? '?';
  } catch {
    return '?';
  }
}

// The service creates the topic (kafka.createTopics in the example config); wait until it consumes.
const deadline = Date.now() + 60_000;
while (!/"msg":"consuming"/.test(serviceOutput) && Date.now() < deadline && service.exitCode === null) await new Promise((r) => setTimeout(r, 300));

console.log(`\n[demo] producing ${args.rate} ${format} tweets/s (TwitterAvroModel) to topic "${topic}"; the service indexes them as TwitterIndexModel into ${engine.name} index "${index}".`);
console.log(`[demo] search them:  curl '${engine.url}/${index}/_search?q=text:kafka&size=3&pretty'`);
console.log(`[demo] service log: ${logFile}; status page: http://127.0.0.1:${process.env.K2E_HTTP_PORT ?? 8080}/`);
console.log('[demo] Ctrl-C stops the demo; `npm run stack -- down` stops Kafka, the registry and the search engine.\n');

const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
process.once('SIGTERM', () => stop.abort());
if (args.seconds) setTimeout(() => stop.abort(), Number(args.seconds) * 1000);
service.once('exit', () => stop.abort());
let produced = 0;
const reporter = setInterval(() => {
  void count().then((n) => console.log(`[demo] produced ${produced}, searchable ${n}`));
}, 2000);
await demoProduce({
  brokers: [state.brokers],
  topic,
  format,
  rate: Number(args.rate),
  registryUrl: state.registry,
  signal: stop.signal,
  onProgress: (n) => (produced = n),
});
await new Promise((r) => setTimeout(r, 2500)); // let the last records arrive
clearInterval(reporter);
service.kill('SIGTERM');
const code = service.exitCode ?? (await new Promise<number | null>((resolve) => service.once('exit', resolve)));
await fetch(`${engine.url}/${index}/_refresh`, { method: 'POST' }).catch(() => undefined);
console.log(`[demo] stopped: produced ${produced}, searchable ${await count()}; service exit code ${code}`);
process.exitCode = code === 0 ? 0 : 1;
