#!/usr/bin/env node
// In which partition order does an @platformatic/kafka MessagesStream deliver a backlog?
//
//   node bench/clients/fetch-order.mjs [--records 60000] [--max-bytes 1048576]
//
// Produces N records into 6 partitions in small (~16 KiB) producer batches, then reads the first 20% with the
// library default maxBytesPerPartition (= maxBytes) and with 64 KiB per partition, and prints the delivery
// order as runs of consecutive records of one partition (p0x10142 = 10142 records of partition 0 in a row).
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { Admin, Consumer } from '@platformatic/kafka';
import { tweet, tweetKey } from './tweets.mjs';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '60000' },
    'max-bytes': { type: 'string', default: String(1024 * 1024) },
    brokers: { type: 'string', default: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092' },
  },
});
const N = Number(args.records);
const maxBytes = Number(args['max-bytes']);
const topic = `bench-clients-${Date.now().toString(36)}-order`;
const admin = new Admin({ clientId: 'bench-clients-admin', bootstrapBrokers: [args.brokers] });
await admin.createTopics({ topics: [topic], partitions: 6, replicas: 1 });
const child = spawn('kcat', ['-P', '-b', args.brokers, '-t', topic, '-K', '\t', '-X', 'batch.num.messages=50'], { stdio: ['pipe', 'inherit', 'inherit'] });
let lines = '';
for (let i = 0; i < N; i++) lines += `${tweetKey(i)}\t${tweet(i)}\n`;
child.stdin.end(lines);
await new Promise((resolve) => child.on('exit', resolve));

const groups = [];
for (const perPartition of [undefined, 64 * 1024]) {
  const groupId = `${topic}-${perPartition ?? 'default'}`;
  groups.push(groupId);
  const consumer = new Consumer({ clientId: 'bench-clients', groupId, bootstrapBrokers: [args.brokers], autocommit: false, maxBytes, maxWaitTime: 500 });
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, ...(perPartition ? { maxBytesPerPartition: perPartition } : {}) });
  const runs = [];
  let n = 0;
  let fetches = 0;
  stream.on('fetch', () => fetches++);
  await new Promise((resolve) =>
    stream.on('data', (m) => {
      const last = runs.at(-1);
      if (last && last[0] === m.partition) last[1]++;
      else runs.push([m.partition, 1]);
      if (++n === Math.floor(N / 5)) resolve();
    }),
  );
  const shown = runs.slice(0, 12).map(([p, k]) => `p${p}x${k}`).join(' ');
  console.log(`maxBytes ${maxBytes}, maxBytesPerPartition ${perPartition ?? 'default (= maxBytes)'}: first ${n} records in ${fetches} fetches, ${runs.length} partition runs: ${shown}${runs.length > 12 ? ' ...' : ''}`);
  await stream.close();
  await consumer.close(true);
}
await admin.deleteTopics({ topics: [topic] });
await admin.deleteGroups({ groups }).catch(() => {});
await admin.close();
