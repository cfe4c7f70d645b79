// `kafka-to-elastic run`: initialization check, then the pipeline until SIGTERM/SIGINT or a fatal error.
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/schema.js';
import { boundPort, startHttpServer } from '../http/server.js';
import { InitCheckError, waitUntilReady } from '../pipeline/init-check.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { createLogger } from '../util/logger.js';

export async function runService(config: Config): Promise<number> {
  const logger = createLogger(config.logLevel);
  let pipeline: Pipeline | undefined;
  let ready = false;
  const http = await startHttpServer(config.http.port, {
    ready: () => ready,
    status: () => ({ groupId: config.kafka.groupId, topics: config.kafka.topics, index: config.elastic.index, ready, ...pipeline?.stats() }),
  });
  logger.info({ port: boundPort(http) }, 'http endpoints listening');

  const signals = new AbortController();
  const onSignal = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    signals.abort();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);

  try {
    if (config.document.id === 'none') {
      logger.warn('document.id is "none": the search engine generates ids, so every redelivered record (after a crash or rebalance) adds a duplicate document');
    }
    if (config.delivery !== 'at-least-once') logger.warn({ delivery: config.delivery }, 'delivery is not at-least-once: a crash can lose records (see README, delivery modes)');
    await waitUntilReady(config, logger, signals.signal);
    if (signals.signal.aborted) return 0;
    pipeline = new Pipeline(config, logger);
    await pipeline.start();
    ready = true;
    logger.info({ topics: config.kafka.topics, groupId: config.kafka.groupId, index: config.elastic.index }, 'consuming');
    const outcome = await Promise.race([pipeline.failed, once(signals.signal, 'abort').then(() => undefined)]);
    ready = false;
    // Bounded shutdown: a search engine that never answers must not keep the process alive forever.
    const stopped = await Promise.race([pipeline.stop().then(() => true), sleep(config.shutdownTimeoutMs, false, { ref: false })]);
    if (!stopped) {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; unacknowledged records will be redelivered');
      return 1;
    }
    if (outcome instanceof Error) {
      logger.fatal({ err: outcome }, 'stopped: nothing past the failing record was committed');
      return 1;
    }
    logger.info(pipeline.stats(), 'stopped cleanly');
    return 0;
  } catch (error) {
    if (error instanceof InitCheckError) {
      logger.fatal(error.message);
      return 1;
    }
    throw error;
  } finally {
    http.close();
  }
}
