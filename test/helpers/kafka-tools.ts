// Kafka's own Java tooling, for tests: the Java producer (test/fixtures/java/TestProducer.java, run in
// single-file source mode) and Kafka's admin commands (org.apache.kafka.tools.*), both from the jars
// `npm run stack -- up` keeps under <STACK_HOME>/kafka/lib. Tests use them for what our client cannot
// do: write what Java clients write (xerial snappy, zstd, transactions), move leaders, reassign.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findJava } from '../../scripts/stack/java.js';
import { kafkaLibDir } from '../../scripts/stack/kafka.js';
import { readLayout, repoRoot } from '../../scripts/stack/layout.js';
import { withAdmin } from './kafka.js';
import { allBrokers } from './stack.js';
import { type RunOptions, type RunningTool, runTool } from './tools.js';

export type Codec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
export const CODECS: readonly Codec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

const JAVA_PRODUCER = path.join(repoRoot, 'test', 'fixtures', 'java', 'TestProducer.java');
const classpath = (): string => `${kafkaLibDir(readLayout())}/*`;
let java: string | undefined;
const javaBin = (): string => (java ??= findJava(17));

/** Runs `java -cp <kafka lib>/* <main> args` (a class name or a .java source file). */
export const runJava = (main: string, args: readonly string[], options: RunOptions = {}): RunningTool => runTool(javaBin(), ['-cp', classpath(), main, ...args], options);

export interface JavaProduceOptions {
  topic: string;
  /** Records without transactions (default 100). */
  count?: number;
  /** Distinct keys: record i has key `${keyPrefix}${i % keys}` (default: one key per record). */
  keys?: number;
  keyPrefix?: string;
  compression?: Codec;
  /** Pads each JSON value to about this many bytes. */
  valueBytes?: number;
  /** Flush every N records per producer: each flush is its own batch, and transactional producers take turns. */
  batchRecords?: number;
  /** All records to this partition (default: by key, Kafka's murmur2 partitioner). */
  partition?: number;
  /** Records per second (default: as fast as the producer goes). */
  rate?: number;
  /** Transactions in order, e.g. 'commit:10,abort:10,commit:10'; replaces `count`. */
  transactions?: string | readonly { outcome: 'commit' | 'abort'; records: number }[];
  /** Transactional producers taking turns (each takes the next transaction when it has none open). */
  producers?: number;
  /** Producer configs, e.g. { 'batch.size': 16384, 'linger.ms': 50 }. */
  config?: Record<string, string | number>;
  /** 'counts' leaves out the per-record lists (large runs). */
  summary?: 'full' | 'counts';
  /** Default: every broker of the stack. */
  bootstrap?: string;
  timeoutMs?: number;
}

export interface JavaProducedRecord {
  key: string;
  partition: number;
  offset: number;
  /** Record number in write order; the value's `seq`. */
  seq: number;
}

export interface JavaProduceSummary {
  topic: string;
  compression: Codec;
  records: number;
  ms: number;
  transactions: { index: number; outcome: 'commit' | 'abort'; records: number }[];
  committedCount: number;
  abortedCount: number;
  /** Without transactions: every record. Absent with summary 'counts'. */
  committed?: JavaProducedRecord[];
  aborted?: JavaProducedRecord[];
}

/** The value each record carries: JSON with its key, sequence number and transaction. */
export interface JavaProducedValue {
  key: string;
  seq: number;
  txn: number | null;
  outcome: 'commit' | 'abort' | null;
  pad: string;
}

function javaProduceArgs(options: JavaProduceOptions): string[] {
  const args = ['--bootstrap', options.bootstrap ?? allBrokers, '--topic', options.topic];
  const add = (flag: string, value: string | number | undefined): void => {
    if (value !== undefined) args.push(flag, String(value));
  };
  add('--count', options.count);
  add('--keys', options.keys);
  add('--key-prefix', options.keyPrefix);
  add('--compression', options.compression);
  add('--value-bytes', options.valueBytes);
  add('--batch-records', options.batchRecords);
  add('--partition', options.partition);
  add('--rate', options.rate);
  const txns = options.transactions;
  add('--transactions', typeof txns === 'string' || txns === undefined ? txns : txns.map((t) => `${t.outcome}:${t.records}`).join(','));
  add('--producers', options.producers);
  add('--summary', options.summary);
  for (const [key, value] of Object.entries(options.config ?? {})) add('--config', `${key}=${value}`);
  return args;
}

/**
 * Starts Kafka's Java producer in the background (records flowing while a test moves brokers).
 * `stop()` (SIGTERM) ends it early: no new records or transactions, open ones complete, and `done`
 * resolves with the summary of what was written.
 */
export function startJavaProducer(options: JavaProduceOptions): RunningTool<JavaProduceSummary> {
  // A JVM that ran its shutdown hooks after SIGTERM exits 143.
  const run = runJava(JAVA_PRODUCER, javaProduceArgs(options), { timeoutMs: options.timeoutMs ?? 300_000, okExitCodes: [143] });
  const done = run.done.then((stdout) => {
    const last = stdout.trim().split('\n').pop() ?? '';
    try {
      return JSON.parse(last) as JavaProduceSummary;
    } catch {
      throw new Error(`the Java producer printed no summary:\n${stdout.slice(-2000)}`);
    }
  });
  return { done, stop: run.stop };
}

/** Produces with Kafka's Java producer and returns what it committed and aborted (keys, partitions, offsets). */
export const javaProduce = (options: JavaProduceOptions): Promise<JavaProduceSummary> => startJavaProducer(options).done;

/** Runs one of Kafka's command-line tools against the stack, e.g. kafkaTool('TopicCommand', ['--describe']). */
export async function kafkaTool(tool: 'TopicCommand' | 'LeaderElectionCommand' | 'reassign.ReassignPartitionsCommand', args: readonly string[]): Promise<string> {
  return runJava(`org.apache.kafka.tools.${tool}`, ['--bootstrap-server', allBrokers, ...args]).done;
}

export interface PartitionState {
  partition: number;
  leader: number;
  leaderEpoch: number;
  /** The first replica is the preferred leader. */
  replicas: number[];
  isr: number[];
}

/** Leader, replicas and in-sync replicas of each partition, fresh from the cluster. */
export async function describeTopic(topic: string): Promise<PartitionState[]> {
  const metadata = await withAdmin((admin) => admin.metadata({ topics: [topic], forceUpdate: true }));
  const found = metadata.topics.get(topic);
  if (!found) throw new Error(`topic ${topic} not found`);
  return found.partitions.map((p, partition) => ({ partition, leader: p.leader, leaderEpoch: p.leaderEpoch, replicas: [...p.replicas], isr: [...p.isr] }));
}

/** kafka-leader-election: moves leadership to each partition's preferred replica (all partitions of the topic, or the given ones). */
export async function electLeaders(topic: string, partitions?: readonly number[], type: 'preferred' | 'unclean' = 'preferred'): Promise<string> {
  const targets = partitions ?? (await describeTopic(topic)).map((p) => p.partition);
  const dir = mkdtempSync(path.join(tmpdir(), 'k2e-elect-'));
  try {
    const file = path.join(dir, 'partitions.json');
    writeFileSync(file, JSON.stringify({ partitions: targets.map((partition) => ({ topic, partition })) }));
    return await kafkaTool('LeaderElectionCommand', ['--election-type', type.toUpperCase(), '--path-to-json-file', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * kafka-reassign-partitions: gives each listed partition the replicas of the plan (partition →
 * broker ids, the first preferred), and waits until the reassignment completed.
 */
export async function reassign(topic: string, plan: Readonly<Record<number, readonly number[]>>, timeoutMs = 120_000): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'k2e-reassign-'));
  try {
    const file = path.join(dir, 'plan.json');
    const partitions = Object.entries(plan).map(([partition, replicas]) => ({ topic, partition: Number(partition), replicas: [...replicas] }));
    writeFileSync(file, JSON.stringify({ version: 1, partitions }));
    await kafkaTool('reassign.ReassignPartitionsCommand', ['--execute', '--reassignment-json-file', file]);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await kafkaTool('reassign.ReassignPartitionsCommand', ['--verify', '--reassignment-json-file', file]);
      if (!/is still in progress/.test(status)) return;
      if (Date.now() > deadline) throw new Error(`reassignment of ${topic} not done after ${timeoutMs} ms:\n${status}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A controlled leader move of every partition: rotates each replica list by one (the next replica
 * becomes preferred), then runs a preferred election. Returns the partitions' state afterwards.
 */
export async function rotateLeaders(topic: string): Promise<PartitionState[]> {
  const before = await describeTopic(topic);
  const plan: Record<number, number[]> = {};
  for (const p of before) plan[p.partition] = [...p.replicas.slice(1), ...p.replicas.slice(0, 1)];
  await reassign(topic, plan);
  await electLeaders(topic);
  return describeTopic(topic);
}

/** kafka-topics --alter: raises the topic's partition count. */
export async function alterTopicPartitions(topic: string, partitions: number): Promise<void> {
  await kafkaTool('TopicCommand', ['--alter', '--topic', topic, '--partitions', String(partitions)]);
}

export interface LogBatch {
  baseOffset: number;
  lastOffset: number;
  count: number;
  /** none, gzip, snappy, lz4 or zstd: as the broker stored it. */
  codec: string;
  transactional: boolean;
  /** A transaction marker (commit or abort). */
  control: boolean;
  producerId: number;
}

/**
 * The record batches of a partition as stored on disk (kafka-dump-log on a replica's segments under
 * STACK_HOME): which codec the broker kept, where transactions and their markers sit. Local stack only.
 */
export async function logBatches(topic: string, partition = 0): Promise<LogBatch[]> {
  const home = readLayout().home;
  const dirs = readdirSync(home)
    .filter((d) => /^kafka(-\d+)?$/.test(d))
    .map((d) => path.join(home, d, 'data', `${topic}-${partition}`))
    .filter((d) => existsSync(d));
  if (dirs.length === 0) throw new Error(`no replica of ${topic}-${partition} under ${home}`);
  const segments = readdirSync(dirs[0]!).filter((f) => f.endsWith('.log')).sort();
  const out = await runJava('org.apache.kafka.tools.DumpLogSegments', ['--files', segments.map((f) => path.join(dirs[0]!, f)).join(',')]).done;
  const batches: LogBatch[] = [];
  for (const line of out.split('\n')) {
    if (!line.startsWith('baseOffset:')) continue;
    const field = (name: string): string => new RegExp(`(?:^| )${name}: (\\S+)`).exec(line)?.[1] ?? '';
    batches.push({
      baseOffset: Number(field('baseOffset')),
      lastOffset: Number(field('lastOffset')),
      count: Number(field('count')),
      codec: field('compresscodec').toLowerCase(),
      transactional: field('isTransactional') === 'true',
      control: field('isControl') === 'true',
      producerId: Number(field('producerId')),
    });
  }
  return batches;
}
