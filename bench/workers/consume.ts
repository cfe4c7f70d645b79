// Kafka consume ceiling with @platformatic/kafka: read all N records of the topic from the beginning,
// nothing else (no decoding, no indexing), with the fetch settings the service uses. Its own process.
//
//   node dist/bench/workers/consume.js --brokers B --topic T --group G --count N [--max-bytes X] [--max-bytes-per-partition Y] [--max-wait-ms W]
//
// Prints one JSON line: records/s from the first record to the N-th, CPU and peak RSS.
import { parseArgs } from 'node:util';
import { Consumer } from '@platformatic/kafka';
import { memoryField } from '../lib/proc.js';

const { values } = parseArgs({
  options: {
    brokers: { type: 'string' },
    topic: { type: 'string' },
    group: { type: 'string' },
    count: { type: 'string' },
    'max-bytes': { type: 'string', default: String(1024 * 1024) },
    'max-bytes-per-partition': { type: 'string', default: String(256 * 1024) },
    'max-wait-ms': { type: 'string', default: '500' },
  },
});
const count = Number(values.count);
const consumer = new Consumer({
  clientId: 'k2e-bench-consume',
  groupId: values.group!,
  bootstrapBrokers: values.brokers!.split(','),
  autocommit: false,
  maxBytes: Number(values['max-bytes']),
  maxBytesPerPartition: Number(values['max-bytes-per-partition']),
  maxWaitTime: Number(values['max-wait-ms']),
  highWaterMark: 1024,
});
const stream = await consumer.consume({ topics: [values.topic!], mode: 'earliest', autocommit: false });
let seen = 0;
let bytes = 0;
let first = 0;
const cpu0 = process.cpuUsage();
const last = await new Promise<number>((resolve) => {
  stream.on('data', (message: { value?: Buffer | null }) => {
    if (seen === 0) first = performance.now();
    seen++;
    bytes += message.value?.length ?? 0;
    if (seen === count) resolve(performance.now());
  });
});
const cpu = process.cpuUsage(cpu0);
const seconds = (last - first) / 1000;
await stream.close();
await consumer.close(true);
console.log(JSON.stringify({ records: seen, seconds, recordsPerSec: (seen - 1) / seconds, mbPerSec: bytes / seconds / 1e6, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRss: memoryField(process.pid, 'VmHWM'), processCpuSeconds: processCpu() }));

function processCpu(): number {
  const total = process.cpuUsage();
  return (total.user + total.system) / 1e6;
}
