#!/usr/bin/env node
// What does an @platformatic/kafka MessagesStream do when partitions are revoked?
//
//   node bench/clients/rebalance-probe.mjs [--protocol classic|consumer] [--records 60000] [--max-bytes-per-partition 65536]
//
// Member A consumes a 6-partition topic slowly (app-level pause 50 ms every 200 records, commits what it
// processed every 1000 records and from the 'consumer:group:rebalance' handler). After 3 s member B joins
// the same group. The probe logs every group event of A with a timestamp, and counts records A receives for
// partitions that are no longer in `consumer.assignments` at delivery time, records both members receive
// (same topic/partition/offset), and whether an application pause() survives the revocation.
import { parseArgs } from 'node:util';
import { Admin, Consumer } from '@platformatic/kafka';
import { spawn } from 'node:child_process';
import { tweet, tweetKey } from './tweets.mjs';

const { values: args } = parseArgs({
  options: {
    protocol: { type: 'string', default: 'classic' },
    records: { type: 'string', default: '60000' },
    // Default: the library's (= maxBytes, 1 MiB here), which drains partitions one after another.
    'max-bytes-per-partition': { type: 'string' },
    brokers: { type: 'string', default: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092' },
  },
});
const N = Number(args.records);
const brokers = args.brokers;
const stamp = Date.now().toString(36);
const topic = `bench-clients-${stamp}-rebalance-${args.protocol}`;
const groupId = topic;
const t0 = performance.now();
const ts = () => `${((performance.now() - t0) / 1000).toFixed(3)}s`;
const log = (...a) => console.log(ts(), ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const admin = new Admin({ clientId: 'bench-clients-admin', bootstrapBrokers: [brokers] });
await admin.createTopics({ topics: [topic], partitions: 6, replicas: 1 });
await produce();
log(`produced ${N} records into ${topic}`);

const owned = (c, partition) => (c.assignments ?? []).some((a) => a.topic === topic && a.partitions.includes(partition));
const describe = (c) => (c.assignments ?? []).map((a) => `[${a.partitions.join(',')}]`).join('') || '[]';

function member(name, { slow }) {
  const consumer = new Consumer({
    clientId: `probe-${name}`,
    groupId,
    bootstrapBrokers: [brokers],
    autocommit: false,
    maxBytes: 1024 * 1024,
    highWaterMark: 1024,
    maxWaitTime: 500,
    groupProtocol: args.protocol,
    ...(args.protocol === 'classic' ? { sessionTimeout: 10_000, heartbeatInterval: 500, rebalanceTimeout: 20_000 } : {}),
  });
  const state = {
    name,
    consumer,
    stream: null,
    seen: new Set(),
    delivered: 0,
    notOwnedAtDelivery: 0,
    notOwnedByPartition: {},
    staleGeneration: 0,
    processed: new Map(), // partition -> next offset
    appPaused: false,
    deliveredWhileAppPaused: 0,
    revokedAt: null,
  };
  for (const event of ['consumer:group:join', 'consumer:group:leave', 'consumer:group:rebalance', 'consumer:rejoin', 'consumer:group:rejoin']) {
    consumer.on(event, (payload) => {
      log(`${name} event ${event} generation=${consumer.generationId} assignments=${describe(consumer)}${payload?.assignments ? ' payload.assignments=' + JSON.stringify(payload.assignments) : ''}`);
      if (event === 'consumer:group:rebalance' && name === 'A') {
        // The only pre-revocation signal: try to commit what A processed so far.
        commitProcessed(state, 'from rebalance handler');
      }
    });
  }
  state.start = async () => {
    state.stream = await consumer.consume({
      topics: [topic],
      mode: 'committed',
      fallbackMode: 'earliest',
      autocommit: false,
      ...(args['max-bytes-per-partition'] ? { maxBytesPerPartition: Number(args['max-bytes-per-partition']) } : {}),
    });
    log(`${name} consuming, assignments=${describe(consumer)}`);
    let sincePause = 0;
    let sinceCommit = 0;
    state.stream.on('data', (m) => {
      state.delivered++;
      if (state.appPaused) state.deliveredWhileAppPaused++;
      state.seen.add(`${m.partition}:${m.offset}`);
      if (!owned(consumer, m.partition)) {
        state.notOwnedAtDelivery++;
        state.notOwnedByPartition[m.partition] = (state.notOwnedByPartition[m.partition] ?? 0) + 1;
      }
      if (m.metadata?.consumer?.generationId !== undefined && m.metadata.consumer.generationId !== consumer.generationId) state.staleGeneration++;
      state.processed.set(m.partition, m.offset + 1n);
      if (slow && ++sincePause >= 200) {
        sincePause = 0;
        state.stream.pause();
        setTimeout(() => {
          if (!state.appPaused) state.stream.resume();
        }, 50);
      }
      if (++sinceCommit >= 1000) {
        sinceCommit = 0;
        commitProcessed(state, 'periodic');
      }
    });
    state.stream.on('error', (e) => log(`${name} stream error: ${e.message}`));
  };
  return state;
}

let commitLog = [];
function commitProcessed(state, why) {
  const offsets = [...state.processed.entries()].map(([partition, offset]) => ({ topic, partition, offset, leaderEpoch: -1 }));
  if (!offsets.length) return;
  const at = ts();
  state.consumer
    .commit({ offsets })
    .then(() => why !== 'periodic' && log(`${state.name} commit ${why} (sent ${at}) OK: ${offsets.map((o) => `${o.partition}@${o.offset}`).join(' ')}`))
    .catch((e) => {
      commitLog.push(`${at} ${why}: ${e.message}`);
      log(`${state.name} commit ${why} (sent ${at}) FAILED: ${e.message} ${e.errors?.map((x) => x.message).join('; ') ?? ''}`);
    });
}

const A = member('A', { slow: true });
await A.start();
await sleep(3000);
log(`A delivered ${A.delivered} so far; A pauses its stream (app backpressure) just before B joins`);
A.appPaused = true;
A.stream.pause();
const B = member('B', { slow: false });
const bStarted = B.start();
// Watch A's assignment for the revocation and its stream's paused state right after it.
const before = describe(A.consumer);
const watch = setInterval(() => {
  if (describe(A.consumer) !== before && A.revokedAt === null) {
    A.revokedAt = ts();
    log(`A assignment changed ${before} -> ${describe(A.consumer)}; A stream isPaused()=${A.stream.isPaused()} (app still wants it paused)`);
  }
}, 5);
await bStarted;
await sleep(4000);
log(`A: app resumes its stream; delivered while app-paused: ${A.deliveredWhileAppPaused}`);
A.appPaused = false;
A.stream.resume();
// Let both finish the topic.
const deadline = performance.now() + 60_000;
while (A.seen.size + B.seen.size < N && performance.now() < deadline) await sleep(200);
await sleep(2000);
clearInterval(watch);

let both = 0;
for (const k of A.seen) if (B.seen.has(k)) both++;
const union = new Set([...A.seen, ...B.seen]).size;
const summary = {
  protocol: args.protocol,
  records: N,
  aDelivered: A.delivered,
  bDelivered: B.delivered,
  distinctDelivered: union,
  deliveredToBoth: both,
  aDeliveredForPartitionsNotInItsAssignment: A.notOwnedAtDelivery,
  aNotOwnedByPartition: A.notOwnedByPartition,
  aDeliveredWhileAppPaused: A.deliveredWhileAppPaused,
  aMessagesWithOldGenerationId: A.staleGeneration,
  aFinalAssignment: describe(A.consumer),
  bFinalAssignment: describe(B.consumer),
  failedCommits: commitLog,
};
console.log(JSON.stringify(summary, null, 2));

await Promise.allSettled([A.stream.close(), B.stream.close()]);
await Promise.allSettled([A.consumer.close(true), B.consumer.close(true)]);
await admin.deleteTopics({ topics: [topic] });
await admin.deleteGroups({ groups: [groupId] }).catch(() => {});
await admin.close();
log(`deleted ${topic}`);
process.exit(0);

async function produce() {
  // Small batches (~16 KiB, like the Java producer's default batch.size) so that every fetch response carries
  // records of all partitions: with 1 MB batches the broker fills a fetch from the first partition only.
  const child = spawn('kcat', ['-P', '-b', brokers, '-t', topic, '-K', '\t', '-X', 'batch.num.messages=50'], { stdio: ['pipe', 'inherit', 'inherit'] });
  const done = new Promise((resolve, reject) => child.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`kcat ${c}`)))));
  let chunk = '';
  for (let i = 0; i < N; i++) chunk += `${tweetKey(i)}\t${tweet(i)}\n`;
  child.stdin.end(chunk);
  await done;
}
