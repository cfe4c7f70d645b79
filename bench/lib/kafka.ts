// Kafka side of the benchmark: topics and groups (created and deleted by exact name), producing the
// data file with kcat, and the kcat consume ceiling.
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { Admin } from '@platformatic/kafka';
import { endOffsets } from '../../src/admin/group-offsets.js';

export async function withAdmin<T>(brokers: string, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({ clientId: 'k2e-bench-admin', bootstrapBrokers: brokers.split(',') });
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}

export async function createTopic(brokers: string, topic: string, partitions: number): Promise<void> {
  await withAdmin(brokers, (admin) => admin.createTopics({ topics: [topic], partitions, replicas: 1 }));
}

/** Total records in the topic (sum of end offsets; the topic is fresh, so they start at 0). */
export const topicRecords = (brokers: string, topic: string): Promise<number> =>
  withAdmin(brokers, async (admin) => [...(await endOffsets(admin, [topic])).values()].reduce((sum, o) => sum + Number(o), 0));

export async function deleteTopics(brokers: string, topics: string[]): Promise<void> {
  for (const topic of topics) {
    if (!topic.startsWith('k2e-bench-')) throw new Error(`refusing to delete topic ${topic}`);
    await withAdmin(brokers, (admin) => admin.deleteTopics({ topics: [topic] })).catch(() => undefined);
  }
}

export async function deleteGroups(brokers: string, groups: string[]): Promise<void> {
  for (const group of groups) {
    if (!group.startsWith('k2e-bench-')) throw new Error(`refusing to delete group ${group}`);
    await withAdmin(brokers, (admin) => admin.deleteGroups({ groups: [group] })).catch(() => undefined);
  }
}

export interface ShellRun {
  code: number | null;
  stdoutBytes: number;
  /** performance.now() of the first stdout byte, and of the exit. */
  firstOutputAt: number | undefined;
  startedAt: number;
  endedAt: number;
  /** user+sys CPU-seconds of the command (the shell's `times` for its children). */
  cpuSeconds: number | undefined;
  stderr: string;
}

/** Runs `command` in sh, stdin from a file (or none), counting stdout bytes; reports its CPU via `times`. */
export function shell(command: string, stdinFile?: string): Promise<ShellRun> {
  const fd = stdinFile ? openSync(stdinFile, 'r') : undefined;
  const startedAt = performance.now();
  const child = spawn('sh', ['-c', `${command}; status=$?; times >&2; exit $status`], { stdio: [fd ?? 'ignore', 'pipe', 'pipe'] });
  if (fd !== undefined) closeSync(fd);
  let stdoutBytes = 0;
  let firstOutputAt: number | undefined;
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    firstOutputAt ??= performance.now();
    stdoutBytes += chunk.length;
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const endedAt = performance.now();
      // `times` prints two lines: the shell's user/sys, then its children's ("0m1.234s 0m0.567s").
      const lines = stderr.trim().split('\n');
      const children = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s/.exec(lines.at(-1) ?? '');
      const cpuSeconds = children ? Number(children[1]) * 60 + Number(children[2]) + Number(children[3]) * 60 + Number(children[4]) : undefined;
      resolve({ code, stdoutBytes, firstOutputAt, startedAt, endedAt, cpuSeconds, stderr: lines.slice(0, -2).join('\n') });
    });
  });
}

export interface ProduceResult {
  records: number;
  seconds: number;
  recordsPerSec: number;
  mbPerSec: number;
  cpuSeconds: number | undefined;
}

/** Produces the "key\tvalue" file with kcat (librdkafka): big batches, many in flight. */
export async function produceFile(brokers: string, topic: string, file: string, count: number, valueBytes: number, compression: string): Promise<ProduceResult> {
  const command =
    `kcat -P -b ${brokers} -t ${topic} -K '\\t' -z ${compression} -X linger.ms=20 -X batch.num.messages=10000 ` +
    `-X batch.size=1000000 -X queue.buffering.max.kbytes=1048576 -X queue.buffering.max.messages=1000000`;
  const run = await shell(command, file);
  if (run.code !== 0) throw new Error(`kcat -P exited ${run.code}: ${run.stderr}`);
  const records = await topicRecords(brokers, topic);
  if (records !== count) throw new Error(`produced ${records} records, expected ${count}`);
  const seconds = (run.endedAt - run.startedAt) / 1000;
  return { records, seconds, recordsPerSec: records / seconds, mbPerSec: valueBytes / seconds / 1e6, cpuSeconds: run.cpuSeconds };
}

export interface ConsumeResult {
  records: number;
  seconds: number;
  recordsPerSec: number;
  cpuSeconds: number | undefined;
  peakRss?: number | undefined;
}

/**
 * kcat -C -e: all partitions from the beginning to their end, one byte of output per record. `-c N`
 * too: with -e alone kcat spends ~0.5 s after the last record waiting for every partition's EOF.
 */
export async function kcatConsume(brokers: string, topic: string, count: number): Promise<ConsumeResult> {
  const run = await shell(`kcat -C -b ${brokers} -t ${topic} -o beginning -e -c ${count} -q -f '.'`);
  if (run.code !== 0) throw new Error(`kcat -C exited ${run.code}: ${run.stderr}`);
  if (run.stdoutBytes !== count) throw new Error(`kcat -C read ${run.stdoutBytes} records, expected ${count}`);
  // From the first record to the last (connection and metadata set-up excluded).
  const seconds = (run.endedAt - (run.firstOutputAt ?? run.startedAt)) / 1000;
  return { records: count, seconds, recordsPerSec: count / seconds, cpuSeconds: run.cpuSeconds };
}
