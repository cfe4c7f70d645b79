// librdkafka through Debian's kcat (`apt-get install kcat`; 1.7.1 on librdkafka 2.0.2, built with
// gzip, snappy, lz4 and zstd): what C, Go (confluent-kafka-go), Python and .NET producers write.
import type { Codec } from './kafka-tools.js';
import { allBrokers } from './stack.js';
import { runTool, which } from './tools.js';

/** kcat's path, or undefined when it is not installed (tests skip with skipUnless). */
export const kcat = which('kcat');

// Fields of one record on kcat's stdin: key and value split by this byte, records by newline.
// JSON.stringify never leaves either raw in a value; keys are checked.
const KEY_DELIMITER = '\u001f';

export interface KcatProduceOptions {
  /** -z: the producer's compression.codec (default none). */
  compression?: Codec;
  /** All records to this partition (default: by key with murmur2, as Java clients place them). */
  partition?: number;
  /** librdkafka properties, e.g. { 'linger.ms': 50, 'batch.num.messages': 100 }. */
  config?: Record<string, string | number>;
  bootstrap?: string;
  timeoutMs?: number;
}

/** Produces keyed records with librdkafka (idempotent, acks=all); resolves once all were delivered. */
export async function kcatProduce(topic: string, records: readonly { key: string; value: string }[], options: KcatProduceOptions = {}): Promise<void> {
  if (!kcat) throw new Error('kcat is not installed (apt-get install kcat)');
  const lines = records.map(({ key, value }) => {
    if ([key, value].some((s) => s.includes('\n') || s.includes(KEY_DELIMITER))) throw new Error(`kcatProduce: a newline or \\x1f in record ${key}`);
    return `${key}${KEY_DELIMITER}${value}\n`;
  });
  const config = { 'enable.idempotence': 'true', 'topic.partitioner': 'murmur2_random', ...options.config };
  const args = ['-P', '-q', '-b', options.bootstrap ?? allBrokers, '-t', topic, '-K', KEY_DELIMITER, '-z', options.compression ?? 'none'];
  if (options.partition !== undefined) args.push('-p', String(options.partition));
  for (const [key, value] of Object.entries(config)) args.push('-X', `${key}=${value}`);
  // kcat reports failed deliveries on stderr and exits non-zero.
  await runTool(kcat, args, { input: lines.join(''), timeoutMs: options.timeoutMs ?? 60_000 }).done;
}

export interface KcatRecord {
  key: string | null;
  value: string | null;
  partition: number;
  offset: number;
}

/**
 * Reads a topic from the beginning to its end with librdkafka (an independent reader: it decodes
 * every codec and honours transactions). read_committed (librdkafka's default) skips aborted records.
 */
export async function kcatConsume(topic: string, options: { isolation?: 'read_committed' | 'read_uncommitted'; bootstrap?: string; timeoutMs?: number } = {}): Promise<KcatRecord[]> {
  if (!kcat) throw new Error('kcat is not installed (apt-get install kcat)');
  const args = ['-C', '-q', '-e', '-J', '-o', 'beginning', '-b', options.bootstrap ?? allBrokers, '-t', topic, '-X', `isolation.level=${options.isolation ?? 'read_committed'}`];
  const stdout = await runTool(kcat, args, { timeoutMs: options.timeoutMs ?? 60_000 }).done;
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => {
      const r = JSON.parse(line) as { partition: number; offset: number; key: string | null; payload: string | null };
      return { key: r.key, value: r.payload, partition: r.partition, offset: r.offset };
    });
}
