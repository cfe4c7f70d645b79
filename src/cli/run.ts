// `kafka-to-elastic run`: initialization check, then the pipeline until SIGTERM/SIGINT or a fatal error.
import { once } from 'node:events';
import type { Config } from '../config/schema.js';
import { boundPort, startHttpServer } from '../http/server.js';
import { waitUntilReady } from '../pipeline/init-check.js';
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
    await waitUntilReady(config, logger, { initialDelayMs: 500, maxDelayMs: 10_000, budgetMs: 120_000 });
    if (signals.signal.aborted) return 0;
    pipeline = new Pipeline(config, logger);
    await pipeline.start();
    ready = true;
    logger.info({ topics: config.kafka.topics, groupId: config.kafka.groupId, index: config.elastic.index }, 'consuming');
    const outcome = await Promise.race([pipeline.failed, once(signals.signal, 'abort').then(() => undefined)]);
    ready = false;
    await pipeline.stop();
    if (outcome instanceof Error) {
      logger.fatal({ err: outcome }, 'stopped: nothing past the failing record was committed');
      return 1;
    }
    logger.info(pipeline.stats(), 'stopped cleanly');
    return 0;
  } finally {
    http.close();
  }
}
