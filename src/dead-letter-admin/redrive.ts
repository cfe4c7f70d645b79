// `dlq redrive`: the service itself, run on the dead-letter topic of one source topic, into the same
// index, with its own consumer group, and stopped once it has committed the end offsets the topic had
// when the re-drive started. Nothing here indexes: the pipeline does, with the same decoding,
// mapping, ids, versions and error handling as `run`. Documents keep their original identity:
// versions (document.version offset) come from the k2e.source.offset header and coordinate ids from
// the k2e.source.* headers, so a re-driven record never overwrites a newer document.
import { Admin } from '@platformatic/kafka';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/schema.js';
import { Metrics } from '../metrics/metrics.js';
import { committedOffsets } from '../admin/group-offsets.js';
import { dlqTopicFor } from '../dead-letter/failure.js';
import { kafkaClientOptions } from '../source/connection.js';
import { KafkaSource } from '../source/kafka-source.js';
import { topicSettings } from '../config/topic-settings.js';
import { compileTopicPattern } from '../source/topic-pattern.js';
import { dataStreamPart } from '../config/index-name.js';
import { runService } from '../service/run.js';
import { BoundedSource } from './bounded-source.js';
import { offsetRange } from './read.js';

export class RedriveError extends Error {
  override name = 'RedriveError';
}

export interface RedrivePlan {
  sourceTopic: string;
  dlqTopic: string;
  groupId: string;
  /** Per "dlqTopic:partition": where the group resumes and the end the re-drive stops at. */
  partitions: Map<string, { from: bigint; end: bigint }>;
  records: bigint;
}

/**
 * The service configuration of a re-drive: the dead-letter topic as the only topic, decoded like its
 * source topic, read from the beginning by its own group, at-least-once. The version strategy is the
 * one the source configuration resolves to (with several source topics `auto` means none, and it must
 * not turn into offsets just because the re-drive reads one topic).
 */
export function redriveConfig(config: Config, sourceTopic: string, groupId: string, httpPort: number): Config {
  const dlqTopic = dlqTopicFor(config.errors.dlqTopic, sourceTopic);
  const source = topicSettings(config, sourceTopic);
  // The dead-letter topic takes the source topic's settings; {topic} in its templates still names the
  // source topic, so a re-driven record lands in the index its first attempt was meant for.
  const named = (text: string | undefined): string | undefined => text?.replaceAll('{topic}', sourceTopic.toLowerCase());
  const own = { ...config.topicOverrides?.[sourceTopic], format: source.format, index: named(source.index), pipeline: named(source.pipeline) };
  // The same for a data stream's dataset and namespace, with the topic shaped as a data stream part.
  const stream = source.dataStream;
  const streamNamed = (text: string): string => text.replaceAll('{topic}', dataStreamPart(sourceTopic));
  return {
    ...config,
    kafka: { ...config.kafka, topics: [dlqTopic], topicPattern: undefined, groupId, autoOffsetReset: 'earliest', createTopics: undefined },
    delivery: 'at-least-once',
    elastic: stream ? { ...config.elastic, dataStream: { ...stream, dataset: streamNamed(stream.dataset), namespace: streamNamed(stream.namespace) } } : config.elastic,
    decode: { ...config.decode, topics: { ...config.decode.topics, [dlqTopic]: source.format } },
    document: { ...config.document, version: source.version },
    topicOverrides: { ...config.topicOverrides, [dlqTopic]: Object.fromEntries(Object.entries(own).filter(([, v]) => v !== undefined)) },
    http: { ...config.http, port: httpPort },
    // The main thread: the bounded source cannot be handed to a worker thread.
    maxHeapMb: 0,
  };
}

/** Which source topic to re-drive: --topic, or the only configured one. */
export function chooseSourceTopic(config: Config, topic: string | undefined): string {
  if (topic !== undefined) {
    const pattern = config.kafka.topicPattern;
    if (pattern !== undefined) {
      if (!compileTopicPattern(pattern).test(topic)) throw new RedriveError(`--topic ${topic} does not match kafka.topicPattern ${pattern}`);
      return topic;
    }
    if (!config.kafka.topics.includes(topic)) throw new RedriveError(`--topic ${topic} is not one of the configured topics (${config.kafka.topics.join(', ')})`);
    return topic;
  }
  if (config.kafka.topicPattern !== undefined) throw new RedriveError(`topics come from kafka.topicPattern: choose the one whose dead letters to re-drive with --topic`);
  if (config.kafka.topics.length === 1) return config.kafka.topics[0]!;
  throw new RedriveError(`several topics are configured (${config.kafka.topics.join(', ')}): choose the one whose dead letters to re-drive with --topic`);
}

export const defaultRedriveGroup = (config: Config, sourceTopic: string): string => `${config.kafka.groupId}-redrive-${sourceTopic}`;

/** What is left to re-drive: the group's position and the topic's end, per partition. */
export async function planRedrive(config: Config, sourceTopic: string, groupId: string): Promise<RedrivePlan> {
  const dlqTopic = dlqTopicFor(config.errors.dlqTopic, sourceTopic);
  const range = await offsetRange(config.kafka, dlqTopic);
  const admin = new Admin({ ...kafkaClientOptions(config.kafka, '-redrive'), retries: 2 });
  let committed: Map<string, bigint>;
  try {
    committed = await committedOffsets(admin, groupId, [dlqTopic]);
  } finally {
    await admin.close().catch(() => undefined);
  }
  const partitions = new Map<string, { from: bigint; end: bigint }>();
  let records = 0n;
  for (const [key, { start, end }] of range) {
    const position = committed.get(key);
    const from = position === undefined || position < start ? start : position;
    partitions.set(key, { from, end });
    if (end > from) records += end - from;
  }
  return { sourceTopic, dlqTopic, groupId, partitions, records };
}

export interface RedriveResult {
  code: number;
  /** True when the group committed every end offset. */
  complete: boolean;
  indexed: number;
  superseded: number;
  failedAgain: number;
}

/**
 * Runs the service on the plan's dead-letter topic until its group committed every end offset (or
 * `signal` aborts, or the service stops on its own). Records past the ends are left for the next run.
 */
export async function executeRedrive(config: Config, plan: RedrivePlan, signal: AbortSignal, pollMs = 1000, logColor = false): Promise<RedriveResult> {
  const ends = new Map([...plan.partitions].map(([key, p]) => [key, p.end]));
  const stop = new AbortController();
  const forward = (): void => stop.abort(String(signal.reason ?? 'SIGTERM'));
  if (signal.aborted) forward();
  else signal.addEventListener('abort', forward, { once: true });
  const metrics = new Metrics();
  const service = runService(config, stop.signal, {
    metrics,
    logColor,
    pipelineDeps: (c, logger) => ({ source: new BoundedSource(new KafkaSource(c.kafka, logger, false, c.retry), ends, plan.sourceTopic) }),
  });
  let complete = false;
  let finished = false;
  const settled = (): void => void (finished = true);
  service.then(settled, settled);
  const admin = new Admin({ ...kafkaClientOptions(config.kafka, '-redrive'), retries: 2 });
  try {
    while (!finished && !stop.signal.aborted) {
      await Promise.race([sleep(pollMs), service]);
      const committed = await committedOffsets(admin, plan.groupId, [plan.dlqTopic]).catch(() => undefined);
      if (committed && [...ends].every(([key, end]) => (committed.get(key) ?? -1n) >= end || plan.partitions.get(key)!.from >= end)) {
        complete = true;
        stop.abort('re-drive complete');
      }
    }
    const code = await service;
    const [indexed, superseded, failedAgain] = await Promise.all(['k2e_records_indexed_total', 'k2e_records_superseded_total', 'k2e_records_failed_total'].map((name) => counterSum(metrics, name)));
    return { code, complete, indexed: indexed!, superseded: superseded!, failedAgain: failedAgain! };
  } finally {
    signal.removeEventListener('abort', forward);
    await admin.close().catch(() => undefined);
  }
}

async function counterSum(metrics: Metrics, name: string): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  return (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
}

/** Versions as the re-drive will write them, for the plan printed before it starts. */
export function versionNote(config: Config): string {
  const version = config.document.version;
  if (version === 'offset') return 'versions: the original offsets (k2e.source.offset): a document the index holds in a newer version is left alone (superseded)';
  if (version === 'none') return 'versions: none (document.version resolves to none): a re-driven record overwrites its document, even a newer one';
  return `versions: ${version} (as configured)`;
}
