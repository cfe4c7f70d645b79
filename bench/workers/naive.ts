// The naive baseline: a simple consumer (@platformatic/kafka) that indexes one document per request
// (PUT /<index>/_doc/<key>, undici), waiting for each answer before the next, over the first N records.
//
//   node dist/bench/workers/naive.js --brokers B --topic T --group G --count N --url U --index I
//
// Prints one JSON line: documents/s from the first request to the N-th answer.
import { parseArgs } from 'node:util';
import { Consumer } from '@platformatic/kafka';
import { Pool } from 'undici';

const { values } = parseArgs({
  options: {
    brokers: { type: 'string' },
    topic: { type: 'string' },
    group: { type: 'string' },
    count: { type: 'string' },
    url: { type: 'string' },
    index: { type: 'string' },
  },
});
const count = Number(values.count);
const pool = new Pool(new URL(values.url!).origin, { connections: 1 });
const consumer = new Consumer({ clientId: 'k2e-bench-naive', groupId: values.group!, bootstrapBrokers: values.brokers!.split(','), autocommit: false, maxWaitTime: 500 });
const stream = await consumer.consume({ topics: [values.topic!], mode: 'earliest', autocommit: false });
let done = 0;
let first = 0;
const cpu0 = process.cpuUsage();
for await (const message of stream) {
  if (done === 0) first = performance.now();
  const key = (message.key as Buffer).toString();
  const response = await pool.request({
    method: 'PUT',
    path: `/${values.index}/_doc/${encodeURIComponent(key)}`,
    body: message.value as Buffer,
    headers: { 'content-type': 'application/json' },
  });
  await response.body.dump();
  if (response.statusCode >= 300) throw new Error(`PUT answered ${response.statusCode}`);
  if (++done === count) break;
}
const seconds = (performance.now() - first) / 1000;
const cpu = process.cpuUsage(cpu0);
await stream.close();
await consumer.close(true);
await pool.close();
console.log(JSON.stringify({ docs: done, seconds, docsPerSec: done / seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, processCpuSeconds: processCpu() }));

function processCpu(): number {
  const total = process.cpuUsage();
  return (total.user + total.system) / 1e6;
}
