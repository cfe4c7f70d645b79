#!/usr/bin/env node
// Kafka consumer client comparison: consume-all-from-earliest throughput, CPU and peak RSS.
//
//   node bench/clients/kafka-consume.mjs [--records 500000] [--runs 3] [--only kcat,platformatic-default,...]
//        [--compression none|gzip|lz4] [--topic <existing topic>] [--keep]
//
// Produces N keyed tweet-like records (~330 bytes key+value, 6 partitions) once with kcat, then runs every
// configuration `--runs` times, interleaved, each in its own process (so peak RSS is per client), and prints
// min/median records/s. Node clients that are not project dependencies are loaded from a scratch directory
// ($KCLIENTS, default /tmp/kclients: `npm install kafkajs@2.2.4`; @confluentinc/kafka-javascript from
// $KCLIENTS/cfk, built with CKJS_LINKING=dynamic). A missing client is reported and skipped.
// Default compression is none because kafkajs has no built-in lz4/snappy/zstd codec.
//
// Internal: `--worker <config> --topic T --records N` runs one measurement and prints one JSON line.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { tweet, tweetKey } from './tweets.mjs';

const here = fileURLToPath(import.meta.url);
const KCLIENTS = process.env.KCLIENTS ?? '/tmp/kclients';
const brokers = process.env.KAFKA_BROKERS ?? readBrokers();
const MiB = 1024 * 1024;

function readBrokers() {
  try {
    return JSON.parse(readFileSync(new URL('../../.stack/state.json', import.meta.url), 'utf8')).brokers;
  } catch {
    return '127.0.0.1:9092';
  }
}

// name -> how the worker consumes. `mode` data = flowing 'data' listener (what src/source does),
// iter = `for await` (pull: the Readable buffer fills up to highWaterMark).
const CONFIGS = {
  kcat: { kind: 'kcat' },
  'platformatic-default': { kind: 'platformatic', mode: 'data', highWaterMark: 1024, maxBytes: 10 * MiB },
  'platformatic-1MiB': { kind: 'platformatic', mode: 'data', highWaterMark: 1024, maxBytes: 1 * MiB },
  'platformatic-50MiB': { kind: 'platformatic', mode: 'data', highWaterMark: 1024, maxBytes: 50 * MiB },
  'platformatic-1MiB-64KiBpp': { kind: 'platformatic', mode: 'data', highWaterMark: 1024, maxBytes: 1 * MiB, maxBytesPerPartition: 64 * 1024 },
  'platformatic-1MiB-kip848': { kind: 'platformatic', mode: 'data', highWaterMark: 1024, maxBytes: 1 * MiB, groupProtocol: 'consumer' },
  'platformatic-iter-hwm16-1MiB': { kind: 'platformatic', mode: 'iter', highWaterMark: 16, maxBytes: 1 * MiB },
  'platformatic-iter-hwm1024-10MiB': { kind: 'platformatic', mode: 'iter', highWaterMark: 1024, maxBytes: 10 * MiB },
  'platformatic-iter-hwm65536-50MiB': { kind: 'platformatic', mode: 'iter', highWaterMark: 65536, maxBytes: 50 * MiB },
  'kafkajs-eachBatch': { kind: 'kafkajs' },
  'confluent-kafkajs-eachBatch': { kind: 'confluent-kjs', maxBatchSize: -1 },
  'confluent-kafkajs-eachBatch-32': { kind: 'confluent-kjs', maxBatchSize: 32 },
  'confluent-rdkafka-flowing': { kind: 'confluent-native', flowing: true },
  'confluent-rdkafka-consume1000': { kind: 'confluent-native' },
};

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '500000' },
    runs: { type: 'string', default: '3' },
    only: { type: 'string' },
    compression: { type: 'string', default: 'none' },
    topic: { type: 'string' },
    keep: { type: 'boolean', default: false },
    worker: { type: 'string' },
    group: { type: 'string' },
    'group-protocol': { type: 'string', default: 'classic' },
  },
});
const N = Number(args.records);


// ---------------------------------------------------------------- driver

async function main() {
  const { Admin } = await import('@platformatic/kafka');
  const admin = new Admin({ clientId: 'bench-clients-admin', bootstrapBrokers: [brokers] });
  const names = args.only ? args.only.split(',') : Object.keys(CONFIGS);
  for (const name of names) if (!CONFIGS[name]) throw new Error(`unknown config ${name}; known: ${Object.keys(CONFIGS).join(', ')}`);
  const stamp = Date.now().toString(36);
  const topic = args.topic ?? `bench-clients-${stamp}-consume`;
  const groups = [];
  try {
    let recordBytes;
    if (args.topic) {
      recordBytes = averageRecordBytes();
      console.log(`# reusing topic ${topic}`);
    } else {
      await admin.createTopics({ topics: [topic], partitions: 6, replicas: 1 });
      const t0 = performance.now();
      recordBytes = await produce(topic, N, args.compression);
      console.log(`# produced ${N} records (${(recordBytes).toFixed(0)} bytes key+value avg, ${args.compression}) with kcat in ${((performance.now() - t0) / 1000).toFixed(1)} s into ${topic}`);
    }
    const ends = await endOffsets(admin, topic);
    const total = [...ends.values()].reduce((a, b) => a + b, 0n);
    console.log(`# end offsets ${[...ends.values()].join(',')} (sum ${total})`);
    if (total < BigInt(N)) throw new Error(`topic holds ${total} records, fewer than ${N}`);
    await checkKcatCount(topic, N);

    const available = names.filter((name) => clientAvailable(CONFIGS[name].kind));
    const results = Object.fromEntries(available.map((n) => [n, []]));
    const failures = {};
    const runs = Number(args.runs);
    for (let run = 0; run < runs; run++) {
      // Rotate the order each round so no configuration always runs first (cache/JIT/noise).
      const order = available.map((_, i) => available[(i + run) % available.length]);
      for (const name of order) {
        const group = `bench-clients-${stamp}-${name}-${run}`;
        groups.push(group);
        let r;
        try {
          r = await measure(name, topic, group);
        } catch (error) {
          r = { failure: error.message.split('\n')[0] };
        }
        if (r.failure) {
          failures[name] = `${failures[name] ? failures[name] + '; ' : ''}run ${run + 1}: ${r.failure}${r.records !== undefined ? ` (${r.records} records)` : ''}`;
          console.log(`  run ${run + 1} ${name.padEnd(34)} FAILED: ${r.failure}`);
          continue;
        }
        results[name].push(r);
        console.log(`  run ${run + 1} ${name.padEnd(34)} ${fmt(r.records / r.wallSeconds)} rec/s  wall ${r.wallSeconds.toFixed(2)} s  cpu ${r.cpuSeconds.toFixed(2)} s  rss ${r.maxRssMiB.toFixed(0)} MiB`);
      }
    }
    printTable(results, recordBytes);
    for (const [name, why] of Object.entries(failures)) console.log(`FAILED ${name}: ${why}`);
  } finally {
    if (!args.keep && !args.topic) {
      await admin.deleteTopics({ topics: [topic] }).catch((e) => console.error('delete topic failed', e.message));
      console.log(`# deleted topic ${topic}`);
    }
    if (groups.length) {
      const existing = await admin.listGroups().catch(() => new Map());
      const mine = groups.filter((g) => existing.has(g));
      if (mine.length) await admin.deleteGroups({ groups: mine }).catch((e) => console.error('delete groups failed', e.message));
    }
    await admin.close();
  }
}

function clientAvailable(kind) {
  try {
    if (kind === 'kafkajs') createRequire(`${KCLIENTS}/package.json`).resolve('kafkajs');
    if (kind.startsWith('confluent')) createRequire(`${KCLIENTS}/cfk/package.json`)('@confluentinc/kafka-javascript');
    return true;
  } catch (error) {
    console.log(`# skipping ${kind}: ${error.message.split('\n')[0]}`);
    return false;
  }
}

const averageRecordBytes = (n = 10_000) => {
  let s = 0;
  for (let i = 0; i < n; i++) s += Buffer.byteLength(tweet(i)) + Buffer.byteLength(tweetKey(i));
  return s / n;
};

/** Produces N records with kcat (key<TAB>value lines on stdin); returns the average key+value bytes. */
async function produce(topic, n, compression) {
  const child = spawn('kcat', ['-P', '-b', brokers, '-t', topic, '-K', '\t', '-z', compression,
    '-X', 'linger.ms=20', '-X', 'batch.size=1000000'], { stdio: ['pipe', 'inherit', 'inherit'] });
  const done = new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kcat -P exited ${code}`)))));
  let bytes = 0;
  let chunk = '';
  for (let i = 0; i < n; i++) {
    const key = tweetKey(i);
    const value = tweet(i);
    bytes += key.length + value.length;
    chunk += `${key}\t${value}\n`;
    if (chunk.length > 1 << 20) {
      if (!child.stdin.write(chunk)) await new Promise((r) => child.stdin.once('drain', r));
      chunk = '';
    }
  }
  child.stdin.end(chunk);
  await done;
  return bytes / n;
}

async function endOffsets(admin, topic) {
  const listed = await admin.listOffsets({
    topics: [{ name: topic, partitions: Array.from({ length: 6 }, (_, partitionIndex) => ({ partitionIndex, timestamp: -1n })) }],
  });
  return new Map(listed[0].partitions.map((p) => [p.partitionIndex, p.offset]));
}

/** One untimed kcat pass piped to wc -l: checks that `-e` really stops after all N records. */
async function checkKcatCount(topic, n) {
  const out = await run('bash', ['-c', `kcat -C -b ${brokers} -t ${topic} -o beginning -e -q -f '%k %s\\n' | wc -l`]);
  console.log(`# kcat check: read ${out.trim()} lines (expected ${n})`);
}

function run(cmd, argv, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(out + (options.stderr ? err : '')) : reject(new Error(`${cmd} exited ${code}: ${err.slice(-2000)}`))));
  });
}

async function measure(name, topic, group) {
  const config = CONFIGS[name];
  if (config.kind === 'kcat') {
    // -C without -G: assigns all 6 partitions from the beginning, -e exits at the end of each partition.
    const t0 = performance.now();
    const timing = await run('/usr/bin/time', ['-f', 'TIME %e %U %S %M', 'bash', '-c',
      `exec kcat -C -b ${brokers} -t ${topic} -o beginning -e -q -f '%k %s\\n' > /dev/null`], { stderr: true });
    const wall = (performance.now() - t0) / 1000;
    const [, , user, sys, rssKb] = timing.trim().split('\n').pop().split(' ');
    return { records: N, wallSeconds: wall, steadySeconds: null, cpuSeconds: Number(user) + Number(sys), maxRssMiB: Number(rssKb) / 1024 };
  }
  const out = await run(process.execPath, [here, '--worker', name, '--topic', topic, '--records', String(N), '--group', group]);
  return JSON.parse(out.trim().split('\n').pop());
}

function printTable(results, recordBytes) {
  console.log(`\n| client / configuration | records/s min | records/s median | MB/s median | first→last median rec/s | CPU s median | peak RSS MiB median (max) |`);
  console.log(`|---|---:|---:|---:|---:|---:|---:|`);
  for (const [name, rs] of Object.entries(results)) {
    if (!rs.length) continue;
    const rates = rs.map((r) => r.records / r.wallSeconds);
    const steady = rs.filter((r) => r.steadySeconds).map((r) => r.records / r.steadySeconds);
    const rss = rs.map((r) => r.maxRssMiB);
    console.log(`| ${name} | ${fmt(Math.min(...rates))} | ${fmt(median(rates))} | ${((median(rates) * recordBytes) / 1e6).toFixed(1)} | ${steady.length ? fmt(median(steady)) : 'n/a'} | ${median(rs.map((r) => r.cpuSeconds)).toFixed(2)} | ${median(rss).toFixed(0)} (${Math.max(...rss).toFixed(0)}) |`);
  }
  console.log(`\nrecords/s = N / (wall time from client construction to the N-th record), includes connect + group join;`);
  console.log(`first→last excludes them. kcat wall time includes process start. CPU = user+sys of the consumer process.`);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x) => Math.round(x).toLocaleString('en-US');

// ---------------------------------------------------------------- workers

async function runWorker(name, config, topic, n, group) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let first = 0;
  let count = 0;
  let bytes = 0;
  let finish;
  const finished = new Promise((r) => (finish = r));
  const onRecord = (key, value) => {
    if (count === 0) first = performance.now();
    count++;
    bytes += (key?.length ?? 0) + (value?.length ?? 0);
    if (count === n) finish(performance.now());
  };

  // Watchdog: a client that stops delivering (stalled fetch loop, crashed consumer) must not hang the run,
  // and an empty event loop would otherwise end the process with exit code 13 and no report.
  const timeoutMs = Number(process.env.BENCH_TIMEOUT_MS ?? 90_000);
  let failure = null;
  const fail = (why) => {
    failure ??= why;
    finish(performance.now());
  };
  process.on('uncaughtException', (e) => fail(`uncaught: ${e.message}`));
  process.on('unhandledRejection', (e) => fail(`unhandled rejection: ${e?.message ?? e}`));
  let lastCount = -1;
  let idleTicks = 0;
  const watchdog = setInterval(() => {
    idleTicks = count === lastCount ? idleTicks + 1 : 0;
    lastCount = count;
    if (idleTicks * 1000 >= 30_000) fail(`stalled: no record for 30 s after ${count} records`);
    if (performance.now() - t0 > timeoutMs) fail(`timeout after ${timeoutMs} ms at ${count} records`);
  }, 1000);

  let close = async () => {};
  const starting = (async () => {
    if (config.kind === 'platformatic') close = await platformatic(config, topic, group, onRecord, fail);
    else if (config.kind === 'kafkajs') close = await kafkajs(topic, group, onRecord, () => count >= n, fail);
    else if (config.kind === 'confluent-kjs') close = await confluentKjs(config, topic, group, onRecord, () => count >= n);
    else if (config.kind === 'confluent-native') close = await confluentNative(config, topic, group, onRecord, () => count >= n);
    else throw new Error(`no worker for ${config.kind}`);
  })();
  // Starting (connect, join) may itself hang; the watchdog ends the run either way.
  starting.catch((e) => fail(`start failed: ${e.message}`));

  const tEnd = await finished;
  clearInterval(watchdog);
  const cpu = process.cpuUsage(cpu0);
  const result = {
    ...(failure ? { failure } : {}),
    records: count,
    bytes,
    wallSeconds: (tEnd - t0) / 1000,
    steadySeconds: (tEnd - first) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  };
  await Promise.race([close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
  return result;
}

async function platformatic(config, topic, group, onRecord, fail) {
  const { Consumer } = await import('@platformatic/kafka');
  const consumer = new Consumer({
    clientId: 'bench-clients',
    groupId: group,
    bootstrapBrokers: [brokers],
    autocommit: false,
    maxBytes: config.maxBytes,
    highWaterMark: config.highWaterMark,
    maxWaitTime: 500,
    groupProtocol: config.groupProtocol ?? args['group-protocol'],
  });
  // No deserializers: keys and values stay Buffers (the library's default noop deserializer).
  const stream = await consumer.consume({
    topics: [topic],
    mode: 'earliest',
    autocommit: false,
    // Library default: maxBytesPerPartition = maxBytes.
    ...(config.maxBytesPerPartition ? { maxBytesPerPartition: config.maxBytesPerPartition } : {}),
  });
  stream.on('error', (e) => fail(`stream error: ${e.message}`));
  if (config.mode === 'data') {
    stream.on('data', (m) => onRecord(m.key, m.value));
  } else {
    (async () => {
      for await (const m of stream) onRecord(m.key, m.value);
    })().catch(() => {});
  }
  return async () => {
    await stream.close();
    await consumer.close(true);
  };
}

async function kafkajs(topic, group, onRecord, done, fail) {
  const { Kafka, logLevel } = createRequire(`${KCLIENTS}/package.json`)('kafkajs');
  const kafka = new Kafka({ clientId: 'bench-clients', brokers: [brokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: group }); // defaults: maxBytes 10 MiB, maxBytesPerPartition 1 MiB
  consumer.on(consumer.events.CRASH, (e) => fail(`consumer crashed: ${e.payload?.error?.message ?? 'unknown'}`));
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      if (done()) return;
      for (const m of batch.messages) onRecord(m.key, m.value);
    },
  });
  return () => consumer.disconnect();
}

async function confluentKjs(config, topic, group, onRecord, done) {
  const { KafkaJS } = createRequire(`${KCLIENTS}/cfk/package.json`)('@confluentinc/kafka-javascript');
  const kafka = new KafkaJS.Kafka({ kafkaJS: { brokers: [brokers], logLevel: KafkaJS.logLevel.NOTHING } });
  const consumer = kafka.consumer({ kafkaJS: { groupId: group, fromBeginning: true, autoCommit: false }, 'js.consumer.max.batch.size': config.maxBatchSize });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      if (done()) return;
      for (const m of batch.messages) onRecord(m.key, m.value);
    },
  });
  return () => consumer.disconnect();
}

async function confluentNative(config, topic, group, onRecord, done) {
  const Kafka = createRequire(`${KCLIENTS}/cfk/package.json`)('@confluentinc/kafka-javascript');
  const consumer = new Kafka.KafkaConsumer(
    { 'bootstrap.servers': brokers, 'group.id': group, 'enable.auto.commit': false },
    // auto.offset.reset must go into the topic config: an empty topic config here silently means "latest".
    { 'auto.offset.reset': 'earliest' },
  );
  await new Promise((resolve, reject) => consumer.connect({}, (err) => (err ? reject(err) : resolve())));
  consumer.subscribe([topic]);
  if (config.flowing) {
    consumer.on('data', (m) => onRecord(m.key, m.value));
    consumer.consume();
    return () => new Promise((resolve) => consumer.disconnect(() => resolve()));
  }
  const loop = () =>
    consumer.consume(1000, (err, messages) => {
      if (err) return setImmediate(loop);
      for (const m of messages) onRecord(m.key, m.value);
      if (!done()) setImmediate(loop);
    });
  loop();
  return () => new Promise((resolve) => consumer.disconnect(() => resolve()));
}

// ---------------------------------------------------------------- entry point (last: helpers above are initialized)

if (args.worker) {
  const result = await runWorker(args.worker, CONFIGS[args.worker], args.topic, N, args.group);
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
} else {
  await main();
}
