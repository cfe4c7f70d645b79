// The initialization check: before consuming, wait (exponential backoff, bounded budget) until the
// brokers answer, the topics exist (or are created when configured), the search engine is reachable
// and takes our credentials, and the target index exists (created when missing, from the index
// definition file when given; the index template installed first when given). After the budget: fail
// naming everything that is still missing. A configuration error that waiting cannot fix (an untrusted
// certificate, refused credentials) fails at once, in one line naming the endpoint and the cause.
// Only requests a least-privilege writer may make are needed (docs/configuration.md).
import { Admin } from '@platformatic/kafka';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/schema.js';
import { SchemaRegistryClient } from '../decode/schema-registry.js';
import { SearchClient, SearchHttpError } from '../sink/search-client.js';
import { EngineProbe } from '../sink/engine-probe.js';
import { describeStatus, errorReason } from '../sink/transport-errors.js';
import { kafkaClientOptions } from '../source/connection.js';
import { describeKafkaError } from '../source/connection-errors.js';
import { partitionCounts } from '../admin/group-offsets.js';
import { dlqTopicFor } from '../dead-letter/failure.js';
import { backoffDelay } from '../util/backoff.js';
import { abortedPromise } from '../util/abort.js';
import type { Logger } from '../util/logger.js';

export class InitCheckError extends Error {
  override name = 'InitCheckError';
}

/** A problem waiting will not fix: the check stops at once. */
class PermanentProblem extends Error {}

interface Check {
  name: string;
  /** Resolves to undefined when ready, or to a sentence saying what is missing. */
  probe(): Promise<string | undefined>;
}

export async function waitUntilReady(config: Config, logger: Logger, signal?: AbortSignal): Promise<void> {
  const { init } = config;
  let admin: Admin;
  let search: SearchClient;
  try {
    admin = new Admin({ ...kafkaClientOptions(config.kafka, '-init'), timeout: 5000, retries: 0 });
    search = new SearchClient(config.elastic.url, { connections: 1, timeoutMs: 5000, auth: config.elastic });
  } catch (error) {
    // An unreadable certificate or key file.
    throw new InitCheckError(`initialization check failed: ${(error as Error).message}`);
  }
  const engine = new EngineProbe(search, config.elastic.index, logger);
  const indexDefinition = readJsonFile(config.elastic.indexDefinitionFile, 'elastic.indexDefinitionFile');
  const template = readJsonFile(config.elastic.templateFile, 'elastic.templateFile');
  const checks: Check[] = [
    { name: 'kafka', probe: () => probeKafka(admin, config, logger) },
    { name: 'search engine', probe: () => probeSearch(engine, search, config.elastic.index, indexDefinition, template, logger) },
  ];
  const avroValues = config.decode.format === 'avro' || Object.values(config.decode.topics ?? {}).includes('avro');
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
      const probing = Promise.all(
        checks.map((c) =>
          c.probe().catch((e: unknown) => {
            if (e instanceof PermanentProblem) return e;
            return `${c.name}: ${(e as Error).message}`;
          }),
        ),
      );
      // A shutdown signal ends the wait at once, even in the middle of a probe.
      const results = await (signal ? Promise.race([probing, abortedPromise(signal).then(() => undefined)]) : probing);
      if (results === undefined) return;
      const permanent = results.find((r): r is PermanentProblem => r instanceof PermanentProblem);
      if (permanent) throw new InitCheckError(`initialization check failed: ${permanent.message}`);
      const missing = results.filter((m): m is string => typeof m === 'string');
      if (missing.length === 0) {
        if (attempt > 0) logger.info({ waitedMs: Date.now() - started }, 'dependencies ready');
        return;
      }
      const delay = Math.max(init.initialDelayMs, backoffDelay(attempt, init));
      if (Date.now() - started + delay > init.budgetMs) {
        // One cause: one line; several: one line each.
        const list = missing.length === 1 ? ` ${missing[0]}` : `\n  - ${missing.join('\n  - ')}`;
        throw new InitCheckError(`initialization check failed after ${((Date.now() - started) / 1000).toFixed(0)}s (budget ${init.budgetMs} ms):${list}`);
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
    const { broker, text, permanent } = describeKafkaError(error, kafka);
    const line = `kafka brokers ${broker} not reachable: ${text}`;
    if (permanent) throw new PermanentProblem(line);
    return line;
  }
  if (metadata.brokers.size === 0) return 'kafka: no brokers in metadata';
  const listed = new Set(await admin.listTopics());
  const absent = kafka.topics.filter((t) => !listed.has(t));
  if (absent.length > 0) {
    if (!kafka.createTopics) return `kafka topics do not exist: ${absent.join(', ')} (create them, or set kafka.createTopics)`;
    await admin.createTopics({ topics: absent, partitions: kafka.createTopics.partitions, replicas: kafka.createTopics.replicationFactor });
    logger.info({ topics: absent, partitions: kafka.createTopics.partitions }, 'created topics');
  }
  if (config.errors.policy === 'dlq') await ensureDeadLetterTopics(admin, config, listed, logger);
  return undefined;
}

/** Dead-letter topics are created like their source topics (same partition count) when missing. */
async function ensureDeadLetterTopics(admin: Admin, config: Config, listed: Set<string>, logger: Logger): Promise<void> {
  const missing = config.kafka.topics.map((t) => [t, dlqTopicFor(config.errors.dlqTopic, t)] as const).filter(([, dlq]) => !listed.has(dlq));
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

async function probeSearch(engine: EngineProbe, search: SearchClient, index: string, definition: object | undefined, template: object | undefined, logger: Logger): Promise<string | undefined> {
  const probe = await engine.probe();
  if (probe.problem) {
    if (probe.permanent) throw new PermanentProblem(probe.problem);
    return probe.problem;
  }
  if (template) {
    try {
      await search.putIndexTemplate(index, template);
    } catch (error) {
      if (forbidden(error)) throw new PermanentProblem(`search engine ${engine.where}: the account may not install index templates (elastic.templateFile; needs the manage_index_templates privilege): ${(error as Error).message.slice(0, 300)}`);
      throw error;
    }
  }
  if (probe.index === 'exists') {
    if (definition) logger.info({ index }, 'index exists: elastic.indexDefinitionFile is not applied');
    return undefined;
  }
  // Missing, or unknown to an account that may not view it: try to create it.
  const created = await search.request<{ error?: { type?: string } }>('PUT', `/${encodeURIComponent(index)}`, JSON.stringify(definition ?? {}));
  if (created.status < 300) {
    logger.info({ index, endpoint: engine.where, fromDefinition: definition !== undefined }, 'created index');
    return undefined;
  }
  // Another instance may have created it a moment ago.
  if (created.body.error?.type === 'resource_already_exists_exception') return undefined;
  if (created.status === 403 || created.status === 401) {
    if (probe.index === 'missing') {
      return `search engine ${engine.where}: index ${index} does not exist and the account may not create it (${describeStatus(created.status, created.body)}): create it, or grant create_index`;
    }
    // Neither viewing nor creating is allowed: the index is presumably there; bulk answers will tell
    // (a missing index is a systemic error, held and reported, never dead-lettered).
    logger.warn({ index, reason: errorReason(created.body) }, 'index creation skipped: the account may neither view nor create the index; assuming it exists');
    return undefined;
  }
  return `search engine ${engine.where}: creating index ${index} answered ${describeStatus(created.status, created.body)}`;
}

function forbidden(error: unknown): boolean {
  return error instanceof SearchHttpError && (error.status === 403 || error.status === 401);
}
