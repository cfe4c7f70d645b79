// `kafka-to-elastic run`: initialization check, then the pipeline until SIGTERM/SIGINT or a fatal error.
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/schema.js';
import { boundPort, startHttpServer } from '../http/server.js';
import { InitCheckError, waitUntilReady } from '../pipeline/init-check.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { HealthMonitor } from '../pipeline/health-monitor.js';
import { Metrics } from '../http/metrics.js';
import { StatusReporter } from '../http/status.js';
import { Progress } from './progress.js';
import { createLogger } from '../util/logger.js';

/**
 * @param shutdown aborted (with the signal's name) to stop gracefully; without it, the process's own
 *   SIGTERM/SIGINT do (when running in the main thread).
 */
export async function runService(config: Config, shutdown?: AbortSignal): Promise<number> {
  const logger = createLogger(config.logLevel, config.logFormat === 'pretty');
  let pipeline: Pipeline | undefined;
  let consuming = false;
  let progress: Progress | undefined;
  const health = new HealthMonitor(config, logger, config.http.healthIntervalMs);
  // Ready: initialized, consuming, and both the broker and the search engine answer.
  const ready = (): boolean => consuming && health.healthy;
  const metrics = new Metrics();
  const reporter = new StatusReporter(config, health, metrics, () => pipeline, ready);
  const http = await startHttpServer(config.http.port, {
    ready,
    status: () => reporter.snapshot(),
    metrics: async () => ({ contentType: metrics.contentType, body: await metrics.render() }),
  });
  logger.info({ port: boundPort(http) }, 'http endpoints listening');

  const signals = new AbortController();
  const onSignal = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    signals.abort();
  };
  if (shutdown) {
    if (shutdown.aborted) onSignal(String(shutdown.reason));
    else shutdown.addEventListener('abort', () => onSignal(String(shutdown.reason)), { once: true });
  } else {
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  try {
    if (config.document.id === 'none') {
      logger.warn('document.id is "none": the search engine generates ids, so every redelivered record (after a crash or rebalance) adds a duplicate document');
    }
    if (config.delivery !== 'at-least-once') logger.warn({ delivery: config.delivery }, 'delivery is not at-least-once: a crash can lose records (see README, delivery modes)');
    await waitUntilReady(config, logger, signals.signal);
    if (signals.signal.aborted) return 0;
    pipeline = new Pipeline(config, logger, metrics);
    await pipeline.start();
    consuming = true;
    health.start();
    reporter.start();
    if (config.progress === 'tty' || config.progress === 'lines') {
      progress = new Progress(() => reporter.progress(), config.progress === 'tty', logger);
      progress.start();
    }
    logger.info({ topics: config.kafka.topics, groupId: config.kafka.groupId, index: config.elastic.index }, 'consuming');
    const outcome = await Promise.race([pipeline.failed, once(signals.signal, 'abort').then(() => undefined)]);
    consuming = false;
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
    progress?.stop();
    reporter.stop();
    await health.stop();
  }
}
