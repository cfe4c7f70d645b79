// What @platformatic/kafka costs below its MessagesStream: read all N records of the topic from the
// beginning with `Consumer.fetch` alone (one request per broker at a time, every partition in it),
// counting the records of the parsed batches and creating no per-message objects. Compared with the
// `consume` phase (the stream the service uses), it bounds what a leaner fetch path could save.
//
//   node dist/bench/workers/consume-fetch.js --brokers B --topic T --count N [--max-bytes X] [--max-bytes-per-partition Y] [--max-wait-ms W]
//
// Prints one JSON line like bench/workers/consume.ts: records/s from the first record to the N-th, CPU and peak RSS.
import { parseArgs } from 'node:util';
import { Consumer } from '@platformatic/kafka';
import { memoryField } from '../lib/proc.js';

const { values } = parseArgs({
  options: {
    brokers: { type: 'string' },
    topic: { type: 'string' },
    count: { type: 'string' },
    'max-bytes': { type: 'string', default: String(1024 * 1024) },
    'max-bytes-per-partition': { type: 'string', default: String(256 * 1024) },
    'max-wait-ms': { type: 'string', default: '500' },
  },
});
const topic = values.topic!;
const count = Number(values.count);
const maxBytesPerPartition = Number(values['max-bytes-per-partition']);
const consumer = new Consumer({
  clientId: 'k2e-bench-consume-fetch',
  groupId: 'k2e-bench-consume-fetch', // never joined: fetch needs no group
  bootstrapBrokers: values.brokers!.split(','),
  maxBytes: Number(values['max-bytes']),
  maxWaitTime: Number(values['max-wait-ms']),
});
const metadata = await consumer.metadata({ topics: [topic] });
const info = metadata.topics.get(topic)!;
const next = info.partitions.map(() => 0n);
const byLeader = new Map<number, number[]>();
info.partitions.forEach((p, partition) => byLeader.set(p.leader, [...(byLeader.get(p.leader) ?? []), partition]));

let seen = 0;
let bytes = 0;
let first = 0;
let last = 0;
const cpu0 = process.cpuUsage();
await Promise.all(
  [...byLeader].map(async ([node, partitions]) => {
    while (seen < count) {
      const response = await consumer.fetch({
        node,
        topics: [{ topicId: info.id, partitions: partitions.map((partition) => ({ partition, fetchOffset: next[partition]!, partitionMaxBytes: maxBytesPerPartition, currentLeaderEpoch: -1, lastFetchedEpoch: -1 })) }],
      });
      for (const topicResponse of response.responses) {
        for (const { partitionIndex, records } of topicResponse.partitions) {
          for (const batch of records ?? []) {
            if (seen === 0) first = performance.now();
            for (const record of batch.records) bytes += record.value?.length ?? 0;
            seen += batch.records.length;
            next[partitionIndex] = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
          }
        }
      }
    }
    last ||= performance.now();
  }),
);
const cpu = process.cpuUsage(cpu0);
const seconds = (last - first) / 1000;
await consumer.close(true);
console.log(JSON.stringify({ records: seen, seconds, recordsPerSec: (seen - 1) / seconds, mbPerSec: bytes / seconds / 1e6, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRss: memoryField(process.pid, 'VmHWM') }));
