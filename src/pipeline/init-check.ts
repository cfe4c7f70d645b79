// The initialization check: before consuming, wait (exponential backoff, bounded budget) until the
// brokers answer, the topics exist, the search engine is reachable and at least yellow, and the
// target index exists (created when missing). After the budget, fail naming what is missing.
import { Admin } from '@platformatic/kafka';
import type { Config } from '../config/schema.js';
import { SearchClient } from '../sink/search-client.js';
import { backoffDelay } from '../util/backoff.js';
import type { Logger } from '../util/logger.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface InitCheckOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  budgetMs: number;
}

export class InitCheckError extends Error {
  override name = 'InitCheckError';
}

interface Check {
  name: string;
  /** Resolves to undefined when ready, or to a sentence saying what is missing. */
  probe(): Promise<string | undefined>;
}

export async function waitUntilReady(config: Config, logger: Logger, options: InitCheckOptions): Promise<void> {
  const admin = new Admin({ clientId: `${config.kafka.clientId}-init`, bootstrapBrokers: config.kafka.brokers, timeout: 5000, retries: 0 });
  const search = new SearchClient(config.elastic.url, { connections: 1, timeoutMs: 5000 });
  const checks: Check[] = [
    { name: 'kafka', probe: () => probeKafka(admin, config.kafka.topics) },
    { name: 'search engine', probe: () => probeSearch(search, config.elastic.index, logger) },
  ];
  const deadline = Date.now() + options.budgetMs;
  try {
    for (let attempt = 0; ; attempt++) {
      const missing = (await Promise.all(checks.map(async (c) => c.probe().catch((e: unknown) => `${c.name}: ${(e as Error).message}`)))).filter(
        (m): m is string => m !== undefined,
      );
      if (missing.length === 0) return;
      const delay = Math.max(options.initialDelayMs, backoffDelay(attempt, { initialDelayMs: options.initialDelayMs, maxDelayMs: options.maxDelayMs }));
      if (Date.now() + delay > deadline) {
        throw new InitCheckError(`not ready after ${Math.round(options.budgetMs / 1000)}s:\n  - ${missing.join('\n  - ')}`);
      }
      logger.warn({ missing, retryInMs: delay, attempt }, 'waiting for dependencies');
      await sleep(delay);
    }
  } finally {
    await admin.close().catch(() => undefined);
    await search.close();
  }
}

async function probeKafka(admin: Admin, topics: string[]): Promise<string | undefined> {
  let metadata;
  try {
    metadata = await admin.metadata({ topics: [], forceUpdate: true });
  } catch (error) {
    return `kafka brokers not reachable: ${(error as Error).message}`;
  }
  if (metadata.brokers.size === 0) return 'kafka: no brokers in metadata';
  const listed = new Set(await admin.listTopics());
  const absent = topics.filter((t) => !listed.has(t));
  return absent.length > 0 ? `kafka topics do not exist: ${absent.join(', ')}` : undefined;
}

async function probeSearch(search: SearchClient, index: string, logger: Logger): Promise<string | undefined> {
  let status;
  try {
    status = await search.clusterStatus();
  } catch (error) {
    return `search engine not reachable: ${(error as Error).message}`;
  }
  if (status !== 'green' && status !== 'yellow') return `search engine cluster is ${status}`;
  if (!(await search.indexExists(index))) {
    await search.createIndex(index);
    const info = await search.info();
    logger.info({ index, engine: info.product, version: info.version }, 'created index');
  }
  return undefined;
}
