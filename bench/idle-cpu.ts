// `npm run bench:idle`: CPU the service uses while it has nothing to do. Starts it on an empty topic
// of the local stack, waits until it consumes, then reads its CPU time from /proc over 30 s.
import { Admin } from '@platformatic/kafka';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../scripts/stack/layout.js';
import { readState } from '../scripts/stack/state.js';

const seconds = Number(process.argv[2] ?? 30);
const state = readState();
const topic = `bench-idle-${Date.now().toString(36)}`;
const admin = new Admin({ clientId: 'k2e-bench', bootstrapBrokers: [state.brokers] });
await admin.createTopics({ topics: [topic], partitions: 6, replicas: 1 });

const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'kafka-to-elastic.js'), 'run'], {
  env: { ...process.env, K2E_BROKERS: state.brokers, K2E_TOPICS: topic, K2E_INDEX: topic, K2E_ELASTIC_URL: state.engines[0]!.url, K2E_GROUP_ID: topic, K2E_HTTP_PORT: '0' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let output = '';
child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
while (!output.includes('"msg":"partitions assigned"')) await sleep(100);
await sleep(2000); // let start-up work settle

/** utime + stime of the process in seconds (/proc/<pid>/stat fields 14 and 15, in clock ticks). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const before = cpuSeconds(child.pid!);
await sleep(seconds * 1000);
const used = cpuSeconds(child.pid!) - before;
child.kill('SIGTERM');
await new Promise((resolve) => child.once('exit', resolve));
await admin.deleteTopics({ topics: [topic] });
await admin.close();
console.log(`idle service (6 partitions, no records): ${used.toFixed(2)} CPU-seconds over ${seconds} s = ${((used / seconds) * 100).toFixed(2)}% of one core`);
