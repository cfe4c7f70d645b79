// The composition root: every part of a running pipeline is made here, from the configuration, and
// handed to the Pipeline, which only wires them. Tests, the CPU benchmark and `dlq redrive` replace
// parts (a scripted source and engine, a source bounded at fixed end offsets) through `overrides`.
import { readFileSync } from 'node:fs';
import { Admin } from '@platformatic/kafka';
import type { Config } from '../config/schema.js';
import { DeadLetterQueue } from '../dead-letter/producer.js';
import { RecordDecoders } from '../decode/decoders.js';
import { TopicPlans } from '../transform/topic-plan.js';
import { ensureDeadLetterTopics } from '../setup/init-check.js';
import { AUTO_MAX } from '../sink/concurrency-limit.js';
import { type IndexAdmin, IndexRegistry } from '../sink/index-registry.js';
import type { BulkTransport } from '../sink/bulk-dispatcher.js';
import type { DeadLetterSink } from '../dead-letter/failure.js';
import type { RecordSource } from '../source/kafka-source.js';
import { fixedIndex } from '../sink/index-setup.js';
import { SearchClient } from '../sink/search-client.js';
import { kafkaClientOptions } from '../source/connection.js';
import { KafkaSource } from '../source/kafka-source.js';
import type { Logger } from '../util/logger.js';
import { Committer } from '../offsets/committer.js';
import { BulkDispatcher } from '../sink/bulk-dispatcher.js';
import { MemberPartitions } from './assignment.js';
import { BufferGate } from './buffer-gate.js';
import { FailurePolicy } from './failure-policy.js';
import type { PartitionWorker } from './partition-worker.js';
import { Pipeline } from './pipeline.js';
import { RecordPreparer } from './prepare-record.js';
import { PipelineTally } from './tally.js';
import type { PipelineMetrics } from './pipeline-metrics.js';

/** What the pipeline talks to: the real ones unless replaced (tests, the CPU benchmark, re-drives). */
export interface PipelineDeps {
  source: RecordSource;
  /** Sends one `_bulk` request (the dispatcher in front of it combines partitions' batches). */
  sink: BulkTransport & { close(): Promise<void> };
  deadLetters: DeadLetterSink;
  /** Creates indices named by templates on first use (production: the SearchClient). */
  indices: IndexAdmin;
}

/** Builds a pipeline with the real Kafka source, search engine and dead-letter topic, except what `overrides` replaces. */
export function buildPipeline(config: Config, logger: Logger, metrics: PipelineMetrics, overrides: Partial<PipelineDeps> = {}): Pipeline {
  // Aborted when the pipeline stops: ends the waits of the parts made here (registry, dead letters).
  const stop = new AbortController();
  const source =
    overrides.source ??
    new KafkaSource(config.kafka, logger, config.delivery === 'auto-commit' ? config.autoCommitIntervalMs : false, config.retry, {
      dlqTopic: config.errors.dlqTopic,
      onTopicsAdded: (topics) => createDeadLetterTopics(config, topics, logger),
      poisonAfter: config.errors.poisonAfter,
    });
  const maxInFlight = config.batch.maxInFlight;
  const connections = (maxInFlight === 'auto' ? AUTO_MAX : maxInFlight) + 2;
  const sink = overrides.sink ?? new SearchClient(config.elastic.url, { connections, timeoutMs: config.elastic.requestTimeoutMs, auth: config.elastic, classify: config.errors.classify });
  const deadLetters =
    overrides.deadLetters ??
    new DeadLetterQueue(config, logger, stop.signal, {
      onFailedAttempt: () => metrics.deadLetterFailures.inc(),
      onUnavailable: (unavailable) => metrics.deadLetterUnavailable.set(unavailable ? 1 : 0),
    });
  const indexAdmin = overrides.indices ?? (sink instanceof SearchClient ? sink : undefined);
  const registry = indexAdmin === undefined ? undefined : indexRegistry(config, indexAdmin, logger);
  const plans = new TopicPlans(config);
  const decoders = new RecordDecoders(config, logger, stop.signal, plans);
  const tally = new PipelineTally(metrics, logger);
  const partitions = new MemberPartitions<PartitionWorker>();
  const gate: BufferGate = new BufferGate(
    { maxRecords: config.batch.maxBufferedRecords, maxBytes: config.batch.maxBufferedBytes },
    {
      pause: () => {
        logger.debug({ buffered: gate.records, bufferedBytes: gate.bytes }, 'buffer full: pausing fetch');
        source.pause();
      },
      resume: () => source.resume(),
    },
  );
  return new Pipeline(config, logger, metrics, {
    source,
    sink,
    deadLetters,
    decoders,
    plans,
    indices: registry === undefined ? undefined : { registry, routed: routesIndices(config) },
    stop,
    partitions,
    tally,
    dispatcher: new BulkDispatcher(sink, {
      maxDocs: config.batch.maxDocs,
      maxBytes: config.batch.maxBytes,
      maxInFlight: config.batch.maxInFlight,
      compression: config.elastic.compression === 'gzip',
      onRequest: (seconds, documents, bytes) => tally.requestAnswered(seconds, documents, bytes),
    }),
    failures: new FailurePolicy(config.errors.policy, deadLetters, tally, logger),
    committer: new Committer(source, partitions, {
      minIntervalMs: config.commitIntervalMs,
      onError: (error) => logger.warn({ err: error }, 'offset commit failed; will retry with the next acknowledgement'),
      onCommitted: (offsets, seconds) => {
        metrics.commitDuration.observe(seconds);
        for (const o of offsets) metrics.committedOffset.set({ topic: o.topic, partition: String(o.partition) }, Number(o.offset));
      },
    }),
    gate,
    preparer: new RecordPreparer(config, decoders, plans, stop.signal),
  });
}

/**
 * Indices created on first use (templated names), and created again when deleted while running.
 * None for data streams: the engine makes those from their template.
 */
function indexRegistry(config: Config, admin: IndexAdmin, logger: Logger): IndexRegistry | undefined {
  if (config.elastic.dataStream) return undefined;
  const file = config.elastic.indexDefinitionFile;
  const definition = file === undefined ? undefined : (JSON.parse(readFileSync(file, 'utf8')) as object);
  const registry = new IndexRegistry(admin, definition, (index) => logger.info({ index, fromDefinition: definition !== undefined }, 'created index'));
  // The initialization check created the fixed elastic.index, if there is one.
  const fixed = fixedIndex(config);
  if (fixed !== undefined) registry.know(fixed);
  return registry;
}

/** Topics kafka.topicPattern matched while running get their dead-letter topics, as at start. */
async function createDeadLetterTopics(config: Config, topics: string[], logger: Logger): Promise<void> {
  if (config.errors.policy !== 'dlq') return;
  const admin = new Admin({ ...kafkaClientOptions(config.kafka, '-dlq-admin'), timeout: 5000, retries: 2 });
  try {
    await ensureDeadLetterTopics(admin, config, topics, new Set(await admin.listTopics()), logger);
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** Whether records can go to an index other than the fixed elastic.index (templates, per topic, fallback). */
function routesIndices(config: Config): boolean {
  const { elastic } = config;
  return (
    (elastic.index?.includes('{') ?? false) ||
    Object.keys(elastic.indexByTopic ?? {}).length > 0 ||
    Object.values(config.topicOverrides ?? {}).some((o) => o.index !== undefined) ||
    elastic.fallbackIndex !== undefined
  );
}
