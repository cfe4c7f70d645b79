// The initialization check: before consuming, wait (exponential backoff, bounded budget) until the
// brokers answer, the topics exist (or are created when configured), the search engine is reachable
// and at least yellow, and the target index exists (created when missing, from the index definition
// file when given; the index template installed first when given). After the budget: fail naming
// everything that is still missing.
import { Admin } from '@platformatic/kafka';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/schema.js';
import { SchemaRegistryClient } from '../decode/schema-registry.js';
import { SearchClient } from '../sink/search-client.js';
import { kafkaClientOptions } from '../source/connection.js';
import { partitionCounts } from '../offsets/group-offsets.js';
import { dlqTopicFor } from '../sink/dead-letter.js';
import { prepareTargets } from '../sink/index-setup.js';
import { usesAvroValues } from '../config/topic-settings.js';
import { currentTopics } from '../source/topic-pattern.js';
import { backoffDelay } from '../util/backoff.js';
import { abortedPromise } from '../util/abort.js';
import type { Logger } from '../util/logger.js';

export class InitCheckError extends Error {
  override name = 'InitCheckError';
}

interface Check {
  name: string;
  /** Resolves to undefined when ready, or to a sentence saying what is missing. */
  probe(): Promise<string | undefined>;
}

export async function waitUntilReady(config: Config, logger: Logger, signal?: AbortSignal): Promise<void> {
  const { init } = config;
  const admin = new Admin({ ...kafkaClientOptions(config.kafka, '-init'), timeout: 5000, retries: 0 });
  const search = new SearchClient(config.elastic.url, { connections: 1, timeoutMs: 5000, auth: config.elastic });
  const indexDefinition = readJsonFile(config.elastic.indexDefinitionFile, 'elastic.indexDefinitionFile');
  const template = readJsonFile(config.elastic.templateFile, 'elastic.templateFile');
  const checks: Check[] = [
    { name: 'kafka', probe: () => probeKafka(admin, config, logger) },
    { name: 'search engine', probe: () => probeSearch(search, config, { definition: indexDefinition, template }, logger) },
  ];
  const avroValues = usesAvroValues(config);
  const usesAvro = avroValues || config.document.keyFormat === 'avro';
  const registry = usesAvro && config.schemaRegistry ? new SchemaRegistryClient({ ...config.schemaRegistry, timeoutMs: 5000 }) : undefined;
  if (usesAvro && !registry) throw new InitCheckError(`${avroValues ? 'a topic uses the avro format' : 'document.keyFormat is avro'} but schemaRegistry.url is not set`);
  if (registry) {
    checks.push({
      name: 'schema registry',
      probe: () => registry.ping().then(
        () => undefined,
        (error: Error) => error.message,
      ),
    });
  }
  const started = Date.now();
  try {
    for (let attempt = 0; ; attempt++) {
      const probing = Promise.all(checks.map((c) => c.probe().catch((e: unknown) => `${c.name}: ${(e as Error).message}`)));
      // A shutdown signal ends the wait at once, even in the middle of a probe.
      const results = await (signal ? Promise.race([probing, abortedPromise(signal).then(() => undefined)]) : probing);
      if (results === undefined) return;
      const missing = results.filter((m): m is string => m !== undefined);
      if (missing.length === 0) {
        if (attempt > 0) logger.info({ waitedMs: Date.now() - started }, 'dependencies ready');
        return;
      }
      const delay = Math.max(init.initialDelayMs, backoffDelay(attempt, init));
      if (Date.now() - started + delay > init.budgetMs) {
        throw new InitCheckError(`initialization check failed after ${((Date.now() - started) / 1000).toFixed(0)}s (budget ${init.budgetMs} ms):\n  - ${missing.join('\n  - ')}`);
      }
      logger.warn({ missing, retryInMs: delay, attempt }, 'waiting for dependencies');
      await sleep(delay, undefined, { signal }).catch(() => undefined);
      if (signal?.aborted) return;
    }
  } finally {
    await admin.close().catch(() => undefined);
    await search.close();
    await registry?.close();
  }
}

function readJsonFile(file: string | undefined, key: string): object | undefined {
  if (file === undefined) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as object;
  } catch (error) {
    throw new InitCheckError(`${key}: ${file} is not a readable JSON file: ${(error as Error).message}`);
  }
}

async function probeKafka(admin: Admin, config: Config, logger: Logger): Promise<string | undefined> {
  const { kafka } = config;
  let metadata;
  try {
    metadata = await admin.metadata({ topics: [], forceUpdate: true });
  } catch (error) {
    return `kafka brokers ${kafka.brokers.join(',')} not reachable: ${(error as Error).message}`;
  }
  if (metadata.brokers.size === 0) return 'kafka: no brokers in metadata';
  const listed = new Set(await admin.listTopics());
  if (kafka.topicPattern !== undefined) {
    // A pattern waits for nothing: topics that match later are picked up while running.
    const matched = currentTopics(kafka, listed, config.errors.dlqTopic);
    if (matched.length === 0) logger.warn({ topicPattern: kafka.topicPattern }, 'no topic matches kafka.topicPattern yet; matching topics are picked up when they appear');
    if (config.errors.policy === 'dlq') await ensureDeadLetterTopics(admin, config, matched, listed, logger);
    return undefined;
  }
  const absent = kafka.topics.filter((t) => !listed.has(t));
  if (absent.length > 0) {
    if (!kafka.createTopics) return `kafka topics do not exist: ${absent.join(', ')} (create them, or set kafka.createTopics)`;
    await admin.createTopics({ topics: absent, partitions: kafka.createTopics.partitions, replicas: kafka.createTopics.replicationFactor });
    logger.info({ topics: absent, partitions: kafka.createTopics.partitions }, 'created topics');
  }
  if (config.errors.policy === 'dlq') await ensureDeadLetterTopics(admin, config, kafka.topics, listed, logger);
  return undefined;
}

/** Dead-letter topics are created like their source topics (same partition count) when missing. */
export async function ensureDeadLetterTopics(admin: Admin, config: Config, topics: readonly string[], listed: ReadonlySet<string>, logger: Logger): Promise<void> {
  const missing = topics.map((t) => [t, dlqTopicFor(config.errors.dlqTopic, t)] as const).filter(([, dlq]) => !listed.has(dlq));
  if (missing.length === 0) return;
  const counts = await partitionCounts(admin, missing.map(([source]) => source));
  for (const [source, dlq] of missing) {
    try {
      await admin.createTopics({ topics: [dlq], partitions: counts.get(source) || 1, replicas: config.kafka.createTopics?.replicationFactor ?? -1 });
      logger.info({ topic: dlq, source }, 'created dead-letter topic');
    } catch (error) {
      // Another instance created it first.
      if (!/already exists/i.test(String((error as Error & { errors?: unknown[] }).errors ?? (error as Error).message))) throw error;
    }
  }
}

async function probeSearch(search: SearchClient, config: Config, files: { definition: object | undefined; template: object | undefined }, logger: Logger): Promise<string | undefined> {
  let status;
  try {
    status = await search.clusterStatus();
  } catch (error) {
    return `search engine not reachable: ${(error as Error).message}`;
  }
  if (status !== 'green' && status !== 'yellow') return `search engine cluster is ${status}`;
  await prepareTargets(search, config, files, logger);
  return undefined;
}
