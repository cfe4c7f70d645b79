// `npm run bench [-- --quick | --count N | --engine elasticsearch|opensearch]`
// Throughput and latency of the service against ceilings measured in the same run (this machine is
// shared and noisy, so only the ratios mean much): the search engine's bulk ceiling, Kafka consume
// ceilings (kcat/librdkafka and our client), the service catching up a backlog, a steady-state run at
// half that rate (event → indexed latency), and a naive one-document-per-request consumer.
import { Admin, Consumer, Producer } from '@platformatic/kafka';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { repoRoot } from '../scripts/stack/layout.js';
import { readState } from '../scripts/stack/state.js';
import { cpuSeconds, peakRssBytes, rate } from './measure.js';
import { tweet } from './tweets.js';

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false }, count: { type: 'string' }, engine: { type: 'string' } } });
const N = Number(args.count ?? (args.quick ? 100_000 : 1_000_000));
const state = readState();
const engine = state.engines.find((e) => e.name === args.engine) ?? state.engines[0]!;
const broker = state.brokers;
const run = `bench-${Date.now().toString(36)}`;
const topic = run;
const log = (line: string): void => console.log(`[bench] ${line}`);
const results: Record<string, number | string | null> = { count: N, engine: `${engine.name}`, date: new Date().toISOString() };
const pool = new Pool(engine.url, { connections: 16 });
const admin = new Admin({ clientId: 'k2e-bench', bootstrapBrokers: [broker] });
const indices: string[] = [];

async function es<T = unknown>(method: string, p: string, body?: string, contentType = 'application/json'): Promise<{ status: number; body: T }> {
  const response = await pool.request({ method: method as 'GET', path: p, body, headers: body ? { 'content-type': contentType } : {} });
  const text = await response.body.text();
  return { status: response.statusCode, body: (text ? JSON.parse(text) : {}) as T };
}

async function freshIndex(name: string): Promise<void> {
  indices.push(name);
  await es('DELETE', `/${name}`);
  // One shard, no replica: what a single-node benchmark can compare fairly across loaders.
  await es('PUT', `/${name}`, JSON.stringify({ settings: { number_of_shards: 1, number_of_replicas: 0, refresh_interval: '1s' } }));
}

// 1. Data
async function produceBacklog(): Promise<void> {
  await admin.createTopics({ topics: [topic], partitions: 6, replicas: 1 });
  const producer = new Producer({ clientId: 'k2e-bench-producer', bootstrapBrokers: [broker], acks: 1 });
  const started = performance.now();
  const chunk = 5000;
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < N; i += chunk) {
    const messages = Array.from({ length: Math.min(chunk, N - i) }, (_, j) => {
      const t = tweet(i + j);
      return { topic, key: Buffer.from(t.key), value: Buffer.from(t.value) };
    });
    inFlight.push(producer.send({ messages }));
    if (inFlight.length >= 4) await inFlight.shift();
  }
  await Promise.all(inFlight);
  const ms = performance.now() - started;
  await producer.close();
  results.produce_docs_per_s = Math.round(rate(N, ms));
  log(`produced ${N} tweets (${Buffer.byteLength(tweet(N - 1).value)} bytes each, approx.) at ${results.produce_docs_per_s}/s`);
}

// 2a. Search-engine bulk ceiling: documents from memory, best of a small sweep.
async function bulkLoad(index: string, docs: number, from: number, size: number, concurrency: number): Promise<number> {
  let next = from;
  const end = from + docs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < end) {
        const first = next;
        next = Math.min(end, next + size);
        let body = '';
        for (let i = first; i < next; i++) {
          const t = tweet(i);
          body += `{"index":{"_index":"${index}","_id":"${t.key}"}}\n${t.value}\n`;
        }
        const { status } = await es('POST', '/_bulk', body, 'application/x-ndjson');
        if (status >= 300) throw new Error(`bulk answered ${status}`);
      }
    }),
  );
  return rate(docs, performance.now() - started);
}

async function bulkCeiling(): Promise<void> {
  const warm = `${run}-warmup`;
  await freshIndex(warm);
  await bulkLoad(warm, Math.min(50_000, N), 0, 2000, 4); // JIT warm-up of the engine
  const sample = Math.min(N, args.quick ? 30_000 : 100_000);
  let best = { size: 1000, concurrency: 4, docsPerSec: 0 };
  for (const size of [1000, 2500, 5000]) {
    for (const concurrency of [2, 4]) {
      const index = `${run}-sweep`;
      await freshIndex(index);
      const docsPerSec = await bulkLoad(index, sample, 0, size, concurrency);
      log(`bulk sweep: ${size} docs x ${concurrency} in flight: ${Math.round(docsPerSec)} docs/s`);
      if (docsPerSec > best.docsPerSec) best = { size, concurrency, docsPerSec };
    }
  }
  const index = `${run}-ceiling`;
  await freshIndex(index);
  const full = await bulkLoad(index, N, 0, best.size, best.concurrency);
  results.bulk_ceiling_docs_per_s = Math.round(full);
  results.bulk_ceiling_setting = `${best.size} x ${best.concurrency}`;
  log(`bulk ceiling: ${Math.round(full)} docs/s (${best.size} docs x ${best.concurrency} in flight)`);
}

// 2b. Kafka consume ceilings.
function kcatCeiling(): void {
  if (spawnSync('which', ['kcat']).status !== 0) {
    results.kcat_docs_per_s = null;
    return log('kcat not installed (apt-get install kcat): skipped');
  }
  const started = performance.now();
  const out = spawnSync('kcat', ['-C', '-b', broker, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%o\n'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const records = out.stdout.split('\n').filter(Boolean).length;
  results.kcat_docs_per_s = Math.round(rate(records, performance.now() - started));
  log(`kcat consumed ${records} at ${results.kcat_docs_per_s}/s`);
}

async function clientCeiling(): Promise<void> {
  const consumer = new Consumer({ clientId: 'k2e-bench-consumer', groupId: `${run}-client`, bootstrapBrokers: [broker], maxBytes: 1024 * 1024, maxBytesPerPartition: 256 * 1024 });
  const started = performance.now();
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
  let seen = 0;
  for await (const message of stream) {
    void message;
    if (++seen >= N) break;
  }
  results.client_consume_docs_per_s = Math.round(rate(seen, performance.now() - started));
  await stream.close();
  await consumer.close(true);
  log(`@platformatic/kafka consumed ${seen} at ${results.client_consume_docs_per_s}/s`);
}

// 3. End to end: the service catches up the backlog, then a steady state at half its rate.
async function endToEnd(): Promise<void> {
  const index = `${run}-e2e`;
  await freshIndex(index);
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'kafka-to-elastic.js'), 'run'], {
    env: { ...process.env, K2E_BROKERS: broker, K2E_TOPICS: topic, K2E_GROUP_ID: `${run}-e2e`, K2E_ELASTIC_URL: engine.url, K2E_INDEX: index, K2E_HTTP_PORT: '0', K2E_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  const status = async (): Promise<{ indexed: number } | undefined> => {
    const port = /"port":(\d+)/.exec(output)?.[1];
    if (!port) return undefined;
    return (await fetch(`http://127.0.0.1:${port}/status`).then((r) => r.json()).catch(() => undefined)) as { indexed: number } | undefined;
  };
  const metrics = async (): Promise<string> => {
    const port = /"port":(\d+)/.exec(output)?.[1];
    return fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
  };
  try {
    while (!/"port":\d+/.test(output)) await sleep(50);
    let firstAt = 0;
    let cpuAtFirst = 0;
    for (;;) {
      const s = await status();
      if (s && s.indexed > 0 && !firstAt) {
        firstAt = performance.now();
        cpuAtFirst = cpuSeconds(child.pid!);
      }
      if (s && s.indexed >= N) break;
      await sleep(100);
    }
    const ms = performance.now() - firstAt;
    const cpu = cpuSeconds(child.pid!) - cpuAtFirst;
    results.e2e_docs_per_s = Math.round(rate(N, ms));
    results.service_cpu_s_per_100k = Number(((cpu * 100_000) / N).toFixed(2));
    log(`service caught up ${N} at ${results.e2e_docs_per_s} docs/s (${results.service_cpu_s_per_100k} CPU-s per 100k docs)`);

    // Steady state at ~50% of the catch-up rate for a while; latency from the service's own
    // event→indexed histogram (record timestamp → acknowledged by the engine).
    const steadyRate = Math.max(100, Math.round((results.e2e_docs_per_s as number) / 2));
    const before = parseHistogram(await metrics());
    const producer = new Producer({ clientId: 'k2e-bench-steady', bootstrapBrokers: [broker], acks: 1 });
    const durationMs = args.quick ? 10_000 : 30_000;
    const end = performance.now() + durationMs;
    let i = N;
    while (performance.now() < end) {
      const tick = performance.now();
      const batch = Math.round(steadyRate / 20);
      await producer.send({ messages: Array.from({ length: batch }, () => ({ topic, key: Buffer.from(String(i)), value: Buffer.from(tweet(i++).value) })) });
      await sleep(Math.max(0, 50 - (performance.now() - tick)));
    }
    await producer.close();
    for (let waited = 0; waited < 20_000 && ((await status())?.indexed ?? 0) < i; waited += 200) await sleep(200);
    const after = parseHistogram(await metrics());
    const delta = after.map((b, k) => ({ le: b.le, count: b.count - (before[k]?.count ?? 0) }));
    results.steady_rate_docs_per_s = steadyRate;
    results.steady_p50_s = quantile(delta, 0.5);
    results.steady_p99_s = quantile(delta, 0.99);
    results.service_peak_rss_mib = Math.round(peakRssBytes(child.pid!) / 1024 / 1024);
    log(`steady state at ${steadyRate}/s: event→indexed p50 ≤ ${results.steady_p50_s} s, p99 ≤ ${results.steady_p99_s} s; peak RSS ${results.service_peak_rss_mib} MiB`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

/** Cumulative buckets of k2e_event_to_indexed_seconds from the Prometheus text. */
function parseHistogram(text: string): { le: number; count: number }[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('k2e_event_to_indexed_seconds_bucket'))
    .map((l) => ({ le: /le="([^"]+)"/.exec(l)![1] === '+Inf' ? Infinity : Number(/le="([^"]+)"/.exec(l)![1]), count: Number(l.split(' ').at(-1)) }));
}

/** The upper bound of the bucket holding quantile q (histograms only know bucket bounds). */
function quantile(buckets: { le: number; count: number }[], q: number): number | null {
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return null;
  return buckets.find((b) => b.count >= q * total)?.le ?? null;
}

// 4. Naive baseline: one document per request, same clients.
async function naive(): Promise<void> {
  const sample = Math.min(N, args.quick ? 5000 : 20_000);
  const index = `${run}-naive`;
  await freshIndex(index);
  const consumer = new Consumer({ clientId: 'k2e-bench-naive', groupId: `${run}-naive`, bootstrapBrokers: [broker] });
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
  const started = performance.now();
  let done = 0;
  for await (const message of stream) {
    await es('PUT', `/${index}/_doc/${(message.key as Buffer).toString()}`, (message.value as Buffer).toString());
    if (++done >= sample) break;
  }
  results.naive_docs_per_s = Math.round(rate(done, performance.now() - started));
  await stream.close();
  await consumer.close(true);
  log(`naive (one document per request): ${results.naive_docs_per_s} docs/s over ${done}`);
}

try {
  log(`${N} events, engine ${engine.name} ${engine.url}, broker ${broker}`);
  await produceBacklog();
  await bulkCeiling();
  kcatCeiling();
  await clientCeiling();
  await endToEnd();
  await naive();
  const ceiling = Math.min(results.bulk_ceiling_docs_per_s as number, (results.kcat_docs_per_s as number) ?? Infinity, results.client_consume_docs_per_s as number);
  results.e2e_over_min_ceiling = Number(((results.e2e_docs_per_s as number) / ceiling).toFixed(2));
  results.e2e_over_naive = Number(((results.e2e_docs_per_s as number) / (results.naive_docs_per_s as number)).toFixed(1));
  const rows: [string, string, string][] = [
    ['produce (tweets/s)', String(results.produce_docs_per_s), ''],
    ['search-engine bulk ceiling (docs/s)', String(results.bulk_ceiling_docs_per_s), String(results.bulk_ceiling_setting)],
    ['kcat consume ceiling (docs/s)', String(results.kcat_docs_per_s), 'librdkafka'],
    ['@platformatic/kafka consume (docs/s)', String(results.client_consume_docs_per_s), 'no indexing'],
    ['service catch-up, end to end (docs/s)', String(results.e2e_docs_per_s), 'empty index'],
    ['naive one-doc-per-request (docs/s)', String(results.naive_docs_per_s), 'same clients'],
    ['e2e / min(ceilings)', String(results.e2e_over_min_ceiling), 'target >= 0.9'],
    ['e2e / naive', String(results.e2e_over_naive), 'target >= 3'],
    ['steady state rate (docs/s)', String(results.steady_rate_docs_per_s), '~50% of e2e'],
    ['event->indexed p50 / p99 (s)', `${results.steady_p50_s} / ${results.steady_p99_s}`, 'histogram bucket bounds; target p99 < 2'],
    ['service peak RSS (MiB)', String(results.service_peak_rss_mib), 'target < 256'],
    ['service CPU-s per 100k docs', String(results.service_cpu_s_per_100k), 'catch-up'],
  ];
  console.log(`\n| figure | value | note |\n|---|---|---|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n`);
  mkdirSync(path.join(repoRoot, 'bench', 'results'), { recursive: true });
  const file = path.join(repoRoot, 'bench', 'results', `${run}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  log(`results written to ${path.relative(repoRoot, file)}`);
} finally {
  for (const index of indices) await es('DELETE', `/${index}`).catch(() => undefined);
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.close();
  await pool.close();
}
